//! What the digests do not account for, once every selected chain was walked: the log files
//! of each location that no digest lists, what follows each chain's newest digest (digests
//! proven missing, pending, not covered and why), and locations with log files but no
//! digest at all.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};

use crate::coverage::{self, CoverageState, DeletionEvidence, LocationReport, UnlistedLog};
use crate::layout::{ChainId, DigestKey, Location};
use crate::listed::ListedLogs;
use crate::listing::{Leftovers, Lister};
use crate::logscan::each_log;
use crate::record::TrailRecord;
use crate::report::{ChainReport, DigestStatus};
use crate::store::ObjectStore;
use crate::tail::{self, Facts};
use crate::verify::{Discovery, Selection};

/// A log file found: key and the delivery time in its name.
type Found = (String, DateTime<Utc>);

/// What the scan found, beside what it added to the chains.
pub(crate) struct Scan {
    pub(crate) locations: Vec<LocationReport>,
    pub(crate) leftovers: Leftovers,
}

/// A trail's identity across the chains of a bucket: its layout, name and home region, and
/// the account for a trail that is not an organization's (two accounts may each have a
/// trail of the same name).
fn trail_of(chain: &ChainId) -> (Option<&str>, Option<&str>, Option<&str>, &str, &str) {
    let loc = &chain.location;
    let account = loc.org_id.is_none().then_some(loc.account_id.as_str());
    (
        loc.prefix.as_deref(),
        loc.org_id.as_deref(),
        account,
        &chain.trail_name,
        &chain.home_region,
    )
}

/// The end of the newest standard (not backfill) digest listed, up to `limit`.
fn newest_listed(keys: &[DigestKey], limit: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    keys.iter()
        .filter(|k| !k.backfill && limit.is_none_or(|l| k.end_time <= l))
        .map(|k| k.end_time)
        .max()
}

/// The end of a chain's newest standard digest that verified.
fn newest_verified(chain: &ChainReport) -> Option<DateTime<Utc>> {
    chain
        .digests
        .iter()
        .filter(|d| !d.backfill && d.status == DigestStatus::Valid)
        .filter_map(|d| d.end_time)
        .max()
}

/// The locations whose log files are listed: those of the selected chains, and every
/// selected location with log files, except, with a trail filter, those where only other
/// trails have digests (their log files are the other trails' to account for).
fn locations(
    discovery: &Discovery,
    selection: &Selection,
    chains: &[ChainReport],
) -> BTreeSet<Location> {
    let mut out: BTreeSet<Location> = chains.iter().map(|c| c.chain.location.clone()).collect();
    let has_digests = |l: &Location| discovery.chains.keys().any(|c| c.location == *l);
    out.extend(
        discovery
            .log_locations
            .iter()
            .filter(|l| selection.matches_location(l))
            .filter(|l| selection.trail_name.is_none() || !has_digests(l))
            .cloned(),
    );
    out
}

/// Scans the log files of the run's locations, adds each chain's tail, and classifies the
/// log files no digest lists.
pub(crate) fn scan<S: ObjectStore + ?Sized>(
    store: &S,
    bucket: &str,
    discovery: &Discovery,
    selection: &Selection,
    listed: &ListedLogs,
    chains: &mut [ChainReport],
) -> Scan {
    let listing = Lister::new(store, bucket);
    let verified: Vec<Option<DateTime<Utc>>> = chains.iter().map(newest_verified).collect();
    let run_start = chains.iter().map(|c| c.requested.start).min();
    let ctx = Context {
        bucket,
        discovery,
        selection,
        verified: &verified,
    };
    let mut reports = Vec::new();
    for location in locations(discovery, selection, chains) {
        let here: Vec<usize> = (0..chains.len())
            .filter(|&i| chains[i].chain.location == location)
            .collect();
        // From the requested start, or earlier to the hour of a digest the walk reached
        // before it (one found missing through its successor's link).
        let from = here
            .iter()
            .flat_map(|&i| {
                let c = &chains[i];
                let hours = c.digests.iter().filter_map(|d| d.end_time);
                hours
                    .map(|e| e - Duration::hours(1))
                    .chain([c.requested.start])
            })
            .min()
            .or(selection.start)
            .or(run_start)
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        let mut logs_found = 0;
        let mut unlisted: Vec<Found> = Vec::new();
        each_log(&listing, &location, from, selection.end, &mut |k, t| {
            logs_found += 1;
            if !listed.contains(bucket, &k) {
                unlisted.push((k, t));
            }
        });
        let trails: BTreeSet<String> = discovery
            .chains
            .keys()
            .filter(|c| c.location == location)
            .map(|c| c.trail_name.clone())
            .collect();
        for &i in &here {
            ctx.add_tail(chains, i, &unlisted, trails.len() == 1);
            chains[i].logs_before_start(unlisted.iter().map(|(_, t)| *t));
        }
        let found = LocationFound {
            location,
            from,
            logs_found,
            unlisted,
            trails,
        };
        reports.push(ctx.report(found, &here, chains));
    }
    Scan {
        locations: reports,
        leftovers: listing.finish(),
    }
}

/// What the scan reads beside the chains.
struct Context<'a> {
    bucket: &'a str,
    discovery: &'a Discovery,
    selection: &'a Selection,
    /// The newest verified standard digest of each chain, by index, as walked.
    verified: &'a [Option<DateTime<Utc>>],
}

/// What one location's listing found.
struct LocationFound {
    location: Location,
    from: DateTime<Utc>,
    logs_found: u64,
    unlisted: Vec<Found>,
    /// Every trail with digests here, validated or not.
    trails: BTreeSet<String>,
}

impl Context<'_> {
    /// CloudTrail's record of a chain's trail, when one was given and bears on it.
    fn record(&self, chain: &ChainId) -> Option<(&TrailRecord, crate::record::Bearing)> {
        self.selection
            .trail_records
            .iter()
            .find_map(|r| r.bearing(chain, self.bucket).map(|b| (r, b)))
    }

    /// Adds what follows chain `i`'s newest digest. `own`: one trail alone delivers at its
    /// location, so its log files are its own.
    fn add_tail(&self, chains: &mut [ChainReport], i: usize, unlisted: &[Found], own: bool) {
        let limit = self.selection.end.map(|e| e + Duration::hours(1));
        let chain = chains[i].chain.clone();
        let Some(newest) = self
            .discovery
            .chains
            .get(&chain)
            .and_then(|keys| newest_listed(keys, limit))
        else {
            return;
        };
        let logs = unlisted
            .iter()
            .map(|(_, t)| *t)
            .filter(|t| *t > newest)
            .max();
        let trail = trail_of(&chain);
        let trail_digests = (0..chains.len())
            .filter(|&j| j != i && trail_of(&chains[j].chain) == trail)
            .filter_map(|j| self.verified[j])
            .max();
        let facts = Facts {
            newest,
            start: chains[i].requested.start,
            end: self.selection.end,
            as_of: self.selection.as_of,
            logs,
            own_logs: logs.filter(|_| own),
            trail_digests,
            record: self.record(&chain),
        };
        chains[i].add_tail(tail::tail(&facts), newest, self.selection.end.is_none());
    }

    /// The location's report: its unlisted log files classified against the coverage of
    /// the chains here.
    fn report(&self, s: LocationFound, here: &[usize], chains: &[ChainReport]) -> LocationReport {
        let unvalidated: Vec<&str> = s
            .trails
            .iter()
            .map(String::as_str)
            .filter(|t| !here.iter().any(|&i| chains[i].chain.trail_name == *t))
            .collect();
        // Digests that could not be listed leave the log files unclassified: they may well
        // be listed by those digests.
        let digest_prefix = s.location.digest_prefix();
        let unlisted_digests = self
            .discovery
            .failures
            .iter()
            .find(|f| digest_prefix.starts_with(&f.prefix));
        let not_checked = if let Some(failure) = unlisted_digests {
            Some(format!(
                "the digests here could not be listed ({}: {}), so the {} log files no digest found lists are not classified",
                failure.prefix,
                failure.reason,
                s.unlisted.len()
            ))
        } else {
            (!unvalidated.is_empty()).then(|| {
                format!(
                    "trail {} also delivers here and was not validated: validate every trail to classify the {} log files no validated digest lists",
                    unvalidated.join(", "),
                    s.unlisted.len()
                )
            })
        };
        let timelines = || here.iter().map(|&i| chains[i].coverage.as_slice());
        let mut pending: Vec<_> = here
            .iter()
            .flat_map(|&i| chains[i].pending())
            .map(|s| (s.from, s.to))
            .collect();
        pending.sort_unstable();
        let spans = coverage::Spans {
            good: coverage::spans_in(
                timelines(),
                &[CoverageState::Verified, CoverageState::Empty],
            ),
            pending,
            unchecked: coverage::spans_in(timelines(), &[CoverageState::Unchecked]),
        };
        let no_digests = unlisted_digests.is_none()
            && !s.unlisted.is_empty()
            && here.iter().all(|&i| chains[i].digests.is_empty());
        let deleted = no_digests
            .then(|| self.digests_deleted(&s.location, &s.unlisted))
            .flatten();
        let unlisted = if not_checked.is_some() {
            Vec::new()
        } else {
            s.unlisted
                .into_iter()
                .map(|(key, t)| UnlistedLog {
                    key,
                    delivery_time: t,
                    status: coverage::classify(t, &spans),
                })
                .collect()
        };
        LocationReport {
            bucket: self.bucket.to_owned(),
            location: s.location,
            trails: s.trails.into_iter().collect(),
            listed_from: s.from,
            listed_to: self.selection.end,
            logs_found: s.logs_found,
            unlisted,
            no_digests,
            deleted,
            not_checked,
        }
    }

    /// For a location with log files and no digest at all: CloudTrail's record of the
    /// trail whose own account and home region it is, saying digests were delivered
    /// since its log files, proves them deleted.
    fn digests_deleted(&self, location: &Location, logs: &[Found]) -> Option<DeletionEvidence> {
        let oldest_log = logs.iter().map(|(_, t)| *t).min()?;
        self.selection.trail_records.iter().find_map(|r| {
            let latest = r.latest_digest().filter(|l| *l >= oldest_log)?;
            r.home_of(location, self.bucket)
                .then(|| DeletionEvidence::CloudTrailRecord {
                    trail_arn: r.trail_arn.clone(),
                    latest_digest_delivery: latest,
                    read_at: r.read_at,
                })
        })
    }
}
