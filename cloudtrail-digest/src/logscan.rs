//! What the digests do not account for: the log files of each location that no digest
//! lists (injected, or not covered), digests missing after the newest one found, and
//! locations with log files but no digest at all.
//!
//! Runs after every selected chain was walked. Lists each location's log files folder by
//! folder (`YYYY/MM/DD/`), only the days in range.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike as _, Duration, NaiveDate, Utc};
use rayon::prelude::*;

use crate::chain::MAX_INFERRED;
use crate::coverage::{self, LocationReport, UnlistedLog};
use crate::error::{list_error, Result};
use crate::layout::{ChainId, DigestKey, Location, LogKey};
use crate::listed::ListedLogs;
use crate::report::{ChainReport, DigestOutcome, Notice, UnrecognizedKey};
use crate::store::ObjectStore;
use crate::verify::{Discovery, Selection};

/// A digest is taken as overdue, and so missing, once evidence (a log file, or a digest of
/// another region of the same trail) exists this long after its end.
const OVERDUE: Duration = Duration::hours(1);

/// A log file found: key and the delivery time in its name.
type Found = (String, DateTime<Utc>);

/// Lists the log files of `location` named from `from` to `to` (inclusive; `None`: no
/// bound), visiting only the day folders in range; returns each key with the delivery time
/// its name gives. Keys that do not follow the log key grammar, and folders that are not
/// `YYYY/MM/DD/` folders (keys ending in `/`), are returned as unrecognized.
///
/// # Errors
/// A listing failed.
pub fn list_logs<S: ObjectStore + ?Sized>(
    store: &S,
    bucket: &str,
    location: &Location,
    from: DateTime<Utc>,
    to: Option<DateTime<Utc>>,
) -> Result<(Vec<Found>, Vec<UnrecognizedKey>)> {
    let mut found = Vec::new();
    let unrecognized = each_log(store, bucket, location, from, to, &mut |key, t| {
        found.push((key, t));
    })?;
    Ok((found, unrecognized))
}

/// [`list_logs`], handing each log file to `each` one day folder at a time instead of
/// collecting them: memory stays that of a few days' listings.
fn each_log<S: ObjectStore + ?Sized>(
    store: &S,
    bucket: &str,
    location: &Location,
    from: DateTime<Utc>,
    to: Option<DateTime<Utc>>,
    each: &mut dyn FnMut(String, DateTime<Utc>),
) -> Result<Vec<UnrecognizedKey>> {
    let mut folders = day_folders(store, bucket, location, from, to)?;
    // Day folders are listed and their keys parsed in parallel, a bounded number at once,
    // and handed on in order.
    let mut unrecognized = Vec::new();
    while !folders.is_empty() {
        let chunk: Vec<_> = folders.drain(..DAYS_AT_ONCE.min(folders.len())).collect();
        let listed: Vec<Result<Vec<Entry>>> = chunk
            .into_par_iter()
            .map(|folder| match folder {
                Ok(day) => store
                    .list(bucket, &day, None)
                    .map_err(list_error(bucket, &day))
                    .map(|keys| keys.into_iter().map(|k| parse_log(k, location)).collect()),
                Err(stray) => Ok(vec![Entry::Stray(stray)]),
            })
            .collect();
        for entry in listed
            .into_iter()
            .collect::<Result<Vec<_>>>()?
            .into_iter()
            .flatten()
        {
            match entry {
                Entry::Log(key, t) if t >= from && to.is_none_or(|to| t <= to) => each(key, t),
                Entry::Log(..) => {}
                Entry::Stray(stray) => unrecognized.push(stray),
            }
        }
    }
    Ok(unrecognized)
}

/// The `YYYY/MM/DD/` folders of `location` for the days from `from` to `to`, in listing
/// order, with the folders on the way that are not date folders (as `Err`).
fn day_folders<S: ObjectStore + ?Sized>(
    store: &S,
    bucket: &str,
    location: &Location,
    from: DateTime<Utc>,
    to: Option<DateTime<Utc>>,
) -> Result<Vec<std::result::Result<String, UnrecognizedKey>>> {
    let folders = |p: &str| {
        store
            .list_prefixes(bucket, p)
            .map_err(list_error(bucket, p))
    };
    let (first, last) = (from.date_naive(), to.map(|t| t.date_naive()));
    let stray = |folder: &str| {
        Err(UnrecognizedKey {
            key: folder.to_owned(),
            reason: "not a YYYY/MM/DD folder of log files".into(),
        })
    };
    // A folder the store lists that does not start with its parent is a stray, not a panic.
    let number = |folder: &str, base: &str| -> Option<u32> {
        let name = folder.strip_prefix(base)?.trim_end_matches('/');
        name.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| name.parse().ok())
            .flatten()
    };
    let in_range = |lo: NaiveDate, hi: NaiveDate| hi >= first && last.is_none_or(|l| lo <= l);
    let mut out = Vec::new();
    let base = location.log_prefix();
    for year in folders(&base)? {
        let y = number(&year, &base).and_then(|y| i32::try_from(y).ok());
        let Some((y, lo, hi)) = y.and_then(|y| {
            Some((
                y,
                NaiveDate::from_ymd_opt(y, 1, 1)?,
                NaiveDate::from_ymd_opt(y, 12, 31)?,
            ))
        }) else {
            out.push(stray(&year));
            continue;
        };
        if !in_range(lo, hi) {
            continue;
        }
        for month in folders(&year)? {
            let Some(lo) = number(&month, &year).and_then(|m| NaiveDate::from_ymd_opt(y, m, 1))
            else {
                out.push(stray(&month));
                continue;
            };
            let hi = lo
                .checked_add_months(chrono::Months::new(1))
                .and_then(|d| d.pred_opt())
                .unwrap_or(lo);
            if !in_range(lo, hi) {
                continue;
            }
            for day in folders(&month)? {
                match number(&day, &month).and_then(|d| NaiveDate::from_ymd_opt(y, lo.month(), d)) {
                    None => out.push(stray(&day)),
                    Some(d) if in_range(d, d) => out.push(Ok(day)),
                    Some(_) => {}
                }
            }
        }
    }
    Ok(out)
}

/// How many day folders are listed at once.
const DAYS_AT_ONCE: usize = 16;

/// What a day folder holds.
enum Entry {
    /// A log file and the delivery time in its name.
    Log(String, DateTime<Utc>),
    /// A key or folder that does not belong.
    Stray(UnrecognizedKey),
}

/// A key listed in a day folder of `location`: a log file of it, or a stray.
fn parse_log(key: String, location: &Location) -> Entry {
    match LogKey::parse(&key) {
        Ok(k) if k.location != *location => Entry::Stray(UnrecognizedKey {
            key,
            reason: "a log key of another account or region".into(),
        }),
        Ok(k) => Entry::Log(key, k.delivery_time),
        Err(e) => Entry::Stray(UnrecognizedKey {
            key,
            reason: e.to_string(),
        }),
    }
}

/// Same trail: same bucket layout, name and home region, in any account or region.
fn trail_of(chain: &ChainId) -> (Option<&str>, Option<&str>, &str, &str) {
    (
        chain.location.prefix.as_deref(),
        chain.location.org_id.as_deref(),
        &chain.trail_name,
        &chain.home_region,
    )
}

/// Scans the log files of every location of the selected chains (and, without a trail
/// filter, of every selected location with log files), adds digests missing at the newest
/// end to the chains, and returns one report per location.
pub(crate) fn scan<S: ObjectStore + ?Sized>(
    store: &S,
    bucket: &str,
    discovery: &Discovery,
    selection: &Selection,
    listed: &ListedLogs,
    chains: &mut [ChainReport],
) -> Result<(Vec<LocationReport>, Vec<UnrecognizedKey>)> {
    let limit = selection.end.map(|e| e + Duration::hours(1));
    // The newest digest of each trail, over all its chains.
    let mut trail_newest: TrailNewest<'_> = BTreeMap::new();
    for (chain, keys) in &discovery.chains {
        if let Some(newest) = newest_standard(keys, limit) {
            let entry = trail_newest.entry(trail_of(chain)).or_insert(newest);
            *entry = (*entry).max(newest);
        }
    }
    let mut locations: BTreeSet<Location> =
        chains.iter().map(|c| c.chain.location.clone()).collect();
    if selection.trail_name.is_none() {
        locations.extend(
            discovery
                .log_locations
                .iter()
                .filter(|l| selection.matches_location(l))
                .cloned(),
        );
    }
    let run_start = chains.iter().map(|c| c.requested.start).min();
    let mut unrecognized = Vec::new();
    // First pass: what each location holds that no digest of the run lists. A log listed
    // by a digest elsewhere is listed (that digest has a finding).
    let mut scanned = Vec::new();
    for location in locations {
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
        let bad = each_log(
            store,
            bucket,
            &location,
            from,
            selection.end,
            &mut |k, t| {
                logs_found += 1;
                if !listed.contains(bucket, &k) {
                    unlisted.push((k, t));
                }
            },
        )?;
        unrecognized.extend(bad);
        let no_digests = !unlisted.is_empty() && here.iter().all(|&i| chains[i].digests.is_empty());
        let trails: BTreeSet<String> = discovery
            .chains
            .keys()
            .filter(|c| c.location == location)
            .map(|c| c.trail_name.clone())
            .collect();
        scanned.push(Scanned {
            location,
            here,
            from,
            logs_found,
            unlisted,
            no_digests,
            trails,
        });
    }
    // Second pass: digests missing at the newest end, then the classification against the
    // coverage that results.
    let ctx = Finish {
        bucket,
        discovery,
        selection,
        limit,
        trail_newest: &trail_newest,
    };
    let reports = scanned
        .into_iter()
        .map(|s| ctx.location(s, chains))
        .collect();
    Ok((reports, unrecognized))
}

/// A trail's identity across accounts and regions, with its newest digest's end.
type TrailNewest<'a> =
    BTreeMap<(Option<&'a str>, Option<&'a str>, &'a str, &'a str), DateTime<Utc>>;

/// What the second pass of [`scan`] needs.
struct Finish<'a> {
    bucket: &'a str,
    discovery: &'a Discovery,
    selection: &'a Selection,
    /// The newest digest end the request reaches, if bounded.
    limit: Option<DateTime<Utc>>,
    trail_newest: &'a TrailNewest<'a>,
}

impl Finish<'_> {
    /// Adds the digests missing at the newest end of each chain here, then classifies the
    /// log files no digest lists.
    fn location(&self, s: Scanned, chains: &mut [ChainReport]) -> LocationReport {
        let newest_log = s.unlisted.iter().map(|(_, t)| *t).max();
        for &i in &s.here {
            let chain = &chains[i].chain;
            let own = self.discovery.chains.get(chain);
            let Some(newest) = own.and_then(|k| newest_standard(k, self.limit)) else {
                continue;
            };
            // Log files are evidence only when this trail alone delivers here.
            let log_evidence = newest_log.filter(|_| s.trails.len() == 1);
            let trail = self.trail_newest.get(&trail_of(chain)).copied();
            let (missing, rest) = missing_at_end(
                chain,
                self.bucket,
                newest,
                trail.max(log_evidence),
                self.limit,
                chains[i].requested.start,
            );
            chains[i].notices.extend(rest);
            // Without a requested end, the timeline reaches the newest file found.
            chains[i].add_missing(missing, self.selection.end.is_none(), newest_log);
        }
        let unvalidated: Vec<&str> = s
            .trails
            .iter()
            .map(String::as_str)
            .filter(|t| !s.here.iter().any(|&i| chains[i].chain.trail_name == *t))
            .collect();
        let not_checked = (!unvalidated.is_empty()).then(|| {
            format!(
                "trail {} also delivers here and was not validated: validate every trail to classify the {} log files no validated digest lists",
                unvalidated.join(", "),
                s.unlisted.len()
            )
        });
        let verified =
            coverage::verified_spans(s.here.iter().map(|&i| chains[i].coverage.as_slice()));
        let unlisted = if not_checked.is_some() {
            Vec::new()
        } else {
            s.unlisted
                .into_iter()
                .map(|(key, t)| UnlistedLog {
                    key,
                    delivery_time: t,
                    status: coverage::classify(t, &verified),
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
            no_digests: s.no_digests,
            not_checked,
        }
    }
}

/// What the first pass of [`scan`] found at one location.
struct Scanned {
    location: Location,
    /// Indexes of the validated chains here.
    here: Vec<usize>,
    from: DateTime<Utc>,
    logs_found: u64,
    unlisted: Vec<Found>,
    no_digests: bool,
    /// Every trail with digests here, validated or not.
    trails: BTreeSet<String>,
}

/// The hourly digests after `newest` that must exist because `evidence` (a log file or a
/// later digest of the trail) is at least [`OVERDUE`] past their end, newest first, and
/// past [`MAX_INFERRED`] of them, one notice for the rest.
fn missing_at_end(
    chain: &ChainId,
    bucket: &str,
    newest: DateTime<Utc>,
    evidence: Option<DateTime<Utc>>,
    limit: Option<DateTime<Utc>>,
    start: DateTime<Utc>,
) -> (Vec<DigestOutcome>, Option<Notice>) {
    let Some(evidence) = evidence else {
        return (Vec::new(), None);
    };
    let mut out = Vec::new();
    let mut end = newest + Duration::hours(1);
    let due = |end: DateTime<Utc>| end + OVERDUE <= evidence && limit.is_none_or(|l| end <= l);
    while due(end) && out.len() < MAX_INFERRED {
        if end >= start {
            out.push(DigestOutcome::inferred_missing(chain, bucket, end, false));
        }
        end += Duration::hours(1);
    }
    // Too many to name one by one (a log or digest key dated far ahead, say): the rest is
    // one explicit finding, as in the walk, never dropped.
    let rest = due(end).then(|| {
        let last = limit.map_or(evidence - OVERDUE, |l| l.min(evidence - OVERDUE));
        Notice::MissingDigests {
            backfill: false,
            from: end,
            to: last,
        }
    });
    out.reverse();
    (out, rest)
}

/// The end of the newest standard (not backfill) digest listed, up to `limit`.
fn newest_standard(keys: &[DigestKey], limit: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    keys.iter()
        .filter(|k| !k.backfill && limit.is_none_or(|l| k.end_time <= l))
        .map(|k| k.end_time)
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{MemoryStore, Object};
    use chrono::TimeZone as _;

    fn location() -> Location {
        Location {
            prefix: None,
            org_id: None,
            account_id: "111122223333".into(),
            region: "us-east-1".into(),
        }
    }

    #[test]
    fn past_the_cap_missing_digests_at_the_newest_end_are_one_notice() {
        let chain = ChainId {
            location: location(),
            trail_name: "t".into(),
            home_region: "us-east-1".into(),
        };
        let newest = Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 0).unwrap();
        let evidence = newest + Duration::days(3653 + 30);
        let (missing, rest) = missing_at_end(&chain, "b", newest, Some(evidence), None, newest);
        assert_eq!(missing.len(), MAX_INFERRED);
        let end = newest + Duration::hours(i64::try_from(MAX_INFERRED).unwrap() + 1);
        assert_eq!(
            rest,
            Some(Notice::MissingDigests {
                backfill: false,
                from: end,
                to: evidence - OVERDUE,
            })
        );
        let (few, none) = missing_at_end(
            &chain,
            "b",
            newest,
            Some(newest + Duration::hours(3)),
            None,
            newest,
        );
        assert_eq!((few.len(), none), (2, None));
    }

    #[test]
    fn lists_only_the_days_in_range_and_names_strays() {
        let mut store = MemoryStore::new();
        let loc = location();
        for (day, time) in [
            ("2024/03/01", "20240301T0105Z"),
            ("2024/03/03", "20240303T0105Z"),
        ] {
            let key = format!(
                "{}{day}/111122223333_CloudTrail_us-east-1_{time}_abc.json.gz",
                loc.log_prefix()
            );
            store.insert("b", &key, Object::new(vec![], None));
        }
        let stray = format!("{}2024/xx/stray.json.gz", loc.log_prefix());
        store.insert("b", &stray, Object::new(vec![], None));
        let from = Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 0).unwrap();
        let to = Some(Utc.with_ymd_and_hms(2024, 3, 2, 0, 0, 0).unwrap());
        let (found, bad) = list_logs(&store, "b", &loc, from, to).unwrap();
        assert_eq!(found.len(), 1);
        assert!(found[0].0.contains("20240301T0105Z"));
        assert_eq!(bad.len(), 1);
        assert!(bad[0].key.ends_with("2024/xx/"));
        let (all, _) = list_logs(&store, "b", &loc, from, None).unwrap();
        assert_eq!(all.len(), 2);
    }
}
