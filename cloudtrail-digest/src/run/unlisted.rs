//! What the digests do not account for, once every selected chain was walked: the log files
//! of each location that no digest lists, what follows each chain's newest digest (digests
//! proven missing, pending, not covered and why), and locations with log files but no
//! digest at all.

use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;

use chrono::{DateTime, Duration, Utc};

use super::discovery::Discovery;
use super::listing::{in_listing_pool, Leftovers, Lister};
use super::log_folders::each_log;
use super::Plan;
use crate::check::chain::ChainBuilder;
use crate::check::coverage;
use crate::check::listed::{ListedLogs, Scope};
use crate::check::tail::{self, Facts};
use crate::format::key_name::{ChainId, DigestKey, Location};
use crate::format::trail_record::{Bearing, TrailRecord};
use crate::report::{
    ChainReport, CoverageState, DeletionEvidence, DigestStatus, LocationReport, NotChecked,
    UnlistedLog,
};
use crate::store::{collect_each, ObjectStore, StoreErrorKind};

/// A log file found: key and the delivery time in its name.
type Found = (String, DateTime<Utc>);

/// What the scan found, beside what it added to the chains.
pub(crate) struct Scan {
    pub(crate) locations: Vec<LocationReport>,
    pub(crate) leftovers: Leftovers,
}

/// The log files found at each location, from its start, and those no digest lists: the
/// log folders are listed many at once (listing is waiting, not work).
fn list_all<S: ObjectStore + ?Sized>(
    plan: &Plan<'_, S>,
    listing: &Lister<'_, S>,
    listed: &ListedLogs,
    locations: &[Location],
    starts: &[DateTime<Utc>],
) -> Vec<(u64, Vec<Found>)> {
    let list = |(location, from): (&Location, &DateTime<Utc>)| {
        let mut logs_found = 0;
        let mut unlisted: Vec<Found> = Vec::new();
        each_log(listing, location, *from, plan.selection.end, &mut |k, t| {
            logs_found += 1;
            if !listed.contains(Scope::of(location), plan.bucket, &k) {
                unlisted.push((k, t));
            }
        });
        confirm(plan, logs_found, unlisted)
    };
    in_listing_pool(locations.len(), &|| {
        locations.par_iter().zip(starts).map(list).collect()
    })
}

/// With [`Plan::confirm_unlisted`], drops the unlisted log files that are not found when
/// read (an inventory listed them; they are gone since) from them and from the count.
fn confirm<S: ObjectStore + ?Sized>(
    plan: &Plan<'_, S>,
    logs_found: u64,
    unlisted: Vec<Found>,
) -> (u64, Vec<Found>) {
    if !plan.confirm_unlisted || unlisted.is_empty() {
        return (logs_found, unlisted);
    }
    let requests: Vec<(&str, &str)> = unlisted
        .iter()
        .map(|(key, _)| (plan.bucket, key.as_str()))
        .collect();
    let gone = collect_each(
        plan.store,
        &requests,
        |_, got| matches!(got, Err(e) if e.kind() == StoreErrorKind::NotFound),
    );
    let before = unlisted.len();
    let kept: Vec<Found> = unlisted
        .into_iter()
        .zip(gone)
        .filter(|(_, gone)| *gone != Some(true))
        .map(|(found, _)| found)
        .collect();
    (logs_found - (before - kept.len()) as u64, kept)
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

/// [`trail_of`], owned.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct TrailId {
    prefix: Option<String>,
    org_id: Option<String>,
    account: Option<String>,
    name: String,
    home_region: String,
}

impl TrailId {
    pub(crate) fn of(chain: &ChainId) -> Self {
        let (prefix, org_id, account, name, home_region) = trail_of(chain);
        Self {
            prefix: prefix.map(str::to_owned),
            org_id: org_id.map(str::to_owned),
            account: account.map(str::to_owned),
            name: name.to_owned(),
            home_region: home_region.to_owned(),
        }
    }
}

/// The end of the newest standard (not backfill) digest listed, up to `limit`.
pub(crate) fn newest_listed(
    keys: &[DigestKey],
    limit: Option<DateTime<Utc>>,
) -> Option<DateTime<Utc>> {
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

/// Scans the log files of the run's locations, adds each chain's tail, and classifies the
/// log files no digest lists.
pub(crate) fn scan<S: ObjectStore + ?Sized>(
    plan: &Plan<'_, S>,
    discovery: &Discovery,
    listed: &ListedLogs,
    foreign: &BTreeMap<TrailId, DateTime<Utc>>,
    chains: &mut [ChainBuilder],
) -> Scan {
    let listing = Lister::new(plan.store, plan.bucket);
    let verified: Vec<Option<DateTime<Utc>>> =
        chains.iter().map(|c| newest_verified(c.report())).collect();
    let ctx = Context {
        plan,
        discovery,
        verified: &verified,
        foreign,
    };
    // Each location's chains and trails, found once.
    let mut here_of: BTreeMap<Location, Vec<usize>> = BTreeMap::new();
    for (i, chain) in chains.iter().enumerate() {
        let location = chain.report().chain.location.clone();
        here_of.entry(location).or_default().push(i);
    }
    let mut trails_of: BTreeMap<&Location, BTreeSet<String>> = BTreeMap::new();
    for chain in discovery.chains.keys() {
        trails_of
            .entry(&chain.location)
            .or_default()
            .insert(chain.trail_name.clone());
    }
    let locations: Vec<Location> = discovery
        .log_locations_of(plan.selection)
        .into_iter()
        .collect();
    let nothing = Vec::new();
    let starts: Vec<DateTime<Utc>> = locations
        .iter()
        .map(|l| ctx.listed_from(here_of.get(l).unwrap_or(&nothing), chains))
        .collect();
    let listed_logs = list_all(plan, &listing, listed, &locations, &starts);
    let mut reports = Vec::new();
    for ((location, from), (logs_found, unlisted)) in locations.iter().zip(starts).zip(listed_logs)
    {
        let here = here_of.get(location).cloned().unwrap_or_default();
        let trails = trails_of.get(location).cloned().unwrap_or_default();
        for &i in &here {
            ctx.add_tail(chains, i, &unlisted, trails.len() == 1);
            chains[i].logs_before_start(unlisted.iter().map(|(_, t)| *t));
        }
        let found = LocationFound {
            location: location.clone(),
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
struct Context<'a, 'p, S: ObjectStore + ?Sized> {
    plan: &'a Plan<'p, S>,
    discovery: &'a Discovery,
    /// The newest verified standard digest of each chain, by index, as walked.
    verified: &'a [Option<DateTime<Utc>>],
    /// The same, of each trail's chains that other shards walk (where it may bear).
    foreign: &'a BTreeMap<TrailId, DateTime<Utc>>,
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

impl<S: ObjectStore + ?Sized> Context<'_, '_, S> {
    /// Where a location's listing starts: at the requested start, or earlier at the hour
    /// of a digest the walk reached before it (one found missing through its successor's
    /// link).
    fn listed_from(&self, here: &[usize], chains: &[ChainBuilder]) -> DateTime<Utc> {
        here.iter()
            .flat_map(|&i| {
                let c = chains[i].report();
                let hours = c.digests.iter().filter_map(|d| d.end_time);
                hours
                    .map(|e| e - Duration::hours(1))
                    .chain([c.requested.start])
            })
            .min()
            .or(self.plan.selection.start)
            .or(self.plan.run_start)
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    /// CloudTrail's record of a chain's trail, when one was given and bears on it.
    fn record(&self, chain: &ChainId) -> Option<(&TrailRecord, Bearing)> {
        self.plan
            .trail_records
            .iter()
            .find_map(|r| r.bearing(chain, self.plan.bucket).map(|b| (r, b)))
    }

    /// Adds what follows chain `i`'s newest digest. `own`: one trail alone delivers at its
    /// location, so its log files are its own.
    fn add_tail(&self, chains: &mut [ChainBuilder], i: usize, unlisted: &[Found], own: bool) {
        let end = self.plan.selection.end;
        let chain = chains[i].report().chain.clone();
        let Some(newest) = self
            .discovery
            .chains
            .get(&chain)
            .and_then(|keys| newest_listed(keys, end.map(|e| e + Duration::hours(1))))
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
            .filter(|&j| j != i && trail_of(&chains[j].report().chain) == trail)
            .filter_map(|j| self.verified[j])
            .max()
            .max(if self.foreign.is_empty() {
                None
            } else {
                self.foreign.get(&TrailId::of(&chain)).copied()
            });
        let facts = Facts {
            newest,
            start: chains[i].report().requested.start,
            end,
            as_of: self.plan.as_of,
            logs,
            own_logs: logs.filter(|_| own),
            trail_digests,
            record: self.record(&chain),
        };
        chains[i].add_tail(tail::tail(&facts), newest, end.is_none());
    }

    /// Why the log files no digest lists here are not classified, if they are not:
    /// digests that could not be listed may well list them, and so may another trail's.
    fn not_checked(
        &self,
        s: &LocationFound,
        here: &[usize],
        chains: &[ChainBuilder],
    ) -> Option<NotChecked> {
        let logs = s.unlisted.len() as u64;
        let digest_prefix = s.location.digest_prefix();
        if let Some(failure) = self
            .discovery
            .failures
            .iter()
            .find(|f| digest_prefix.starts_with(&f.prefix))
        {
            return Some(NotChecked::DigestsNotListed {
                prefix: failure.prefix.clone(),
                reason: failure.reason.clone(),
                logs,
            });
        }
        let unvalidated: Vec<String> = s
            .trails
            .iter()
            .filter(|t| {
                !here
                    .iter()
                    .any(|&i| chains[i].report().chain.trail_name == **t)
            })
            .cloned()
            .collect();
        (!unvalidated.is_empty()).then_some(NotChecked::TrailsNotValidated {
            trails: unvalidated,
            logs,
        })
    }

    /// The location's report: its unlisted log files classified against the coverage of
    /// the chains here.
    fn report(&self, s: LocationFound, here: &[usize], chains: &[ChainBuilder]) -> LocationReport {
        let not_checked = self.not_checked(&s, here, chains);
        let no_digests = !matches!(not_checked, Some(NotChecked::DigestsNotListed { .. }))
            && !s.unlisted.is_empty()
            && here.iter().all(|&i| chains[i].report().digests.is_empty());
        let deleted = no_digests
            .then(|| self.digests_deleted(&s.location, &s.unlisted))
            .flatten();
        let unlisted = if not_checked.is_some() {
            Vec::new()
        } else {
            let spans = spans_here(here, chains);
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
            bucket: self.plan.bucket.to_owned(),
            location: s.location,
            trails: s.trails.into_iter().collect(),
            listed_from: s.from,
            listed_to: self.plan.selection.end,
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
        self.plan.trail_records.iter().find_map(|r| {
            let latest = r.latest_digest().filter(|l| *l >= oldest_log)?;
            r.home_of(location, self.plan.bucket)
                .then(|| DeletionEvidence::CloudTrailRecord {
                    trail_arn: r.trail_arn.clone(),
                    latest_digest_delivery: latest,
                    read_at: r.read_at,
                })
        })
    }
}

/// The spans of the chains at a location that classify its unlisted log files.
fn spans_here(here: &[usize], chains: &[ChainBuilder]) -> coverage::Spans {
    let timelines = || here.iter().map(|&i| chains[i].report().coverage.as_slice());
    let mut pending: Vec<_> = here
        .iter()
        .flat_map(|&i| chains[i].pending())
        .map(|s| (s.from, s.to))
        .collect();
    pending.sort_unstable();
    coverage::Spans {
        good: coverage::spans_in(
            timelines(),
            &[CoverageState::Verified, CoverageState::Empty],
        ),
        pending,
        unchecked: coverage::spans_in(timelines(), &[CoverageState::Unchecked]),
    }
}
