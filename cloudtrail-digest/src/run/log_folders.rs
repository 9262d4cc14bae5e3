//! Listing a location's log files folder by folder (`YYYY/MM/DD/`), only the days in
//! range, the folders that are not date folders named.

use chrono::{DateTime, Datelike as _, NaiveDate, Utc};
use rayon::prelude::*;

use crate::format::key_name::{Location, LogKey};
use crate::report::{ListingFailure, UnrecognizedKey};
use crate::run::listing::Lister;
use crate::store::ObjectStore;

/// The log files of a location in a time range, as listed.
#[derive(Debug, Default)]
pub struct LogListing {
    /// Each log file's key and the delivery time its name gives.
    pub logs: Vec<(String, DateTime<Utc>)>,
    /// Keys that do not follow the log key grammar, and folders that are not `YYYY/MM/DD/`
    /// folders (keys ending in `/`).
    pub unrecognized: Vec<UnrecognizedKey>,
    /// Listings that failed: the log files they should have listed are unknown.
    pub failures: Vec<ListingFailure>,
}

/// Lists the log files of `location` named from `from` to `to` (inclusive; `None`: no
/// bound), visiting only the day folders in range.
pub fn list_logs<S: ObjectStore + ?Sized>(
    store: &S,
    bucket: &str,
    location: &Location,
    from: DateTime<Utc>,
    to: Option<DateTime<Utc>>,
) -> LogListing {
    let lister = Lister::new(store, bucket);
    let mut logs = Vec::new();
    each_log(&lister, location, from, to, &mut |key, t| {
        logs.push((key, t));
    });
    let left = lister.finish();
    LogListing {
        logs,
        unrecognized: left.strays,
        failures: left.failures,
    }
}

/// [`list_logs`], handing each log file to `each` one day folder at a time instead of
/// collecting them: memory stays that of a few days' listings. Strays and failures stay
/// in the lister.
pub(crate) fn each_log<S: ObjectStore + ?Sized>(
    lister: &Lister<'_, S>,
    location: &Location,
    from: DateTime<Utc>,
    to: Option<DateTime<Utc>>,
    each: &mut dyn FnMut(String, DateTime<Utc>),
) {
    let mut folders = day_folders(lister, location, from, to);
    // Day folders are listed and their keys parsed in parallel, a bounded number at once,
    // and handed on in order.
    while !folders.is_empty() {
        let chunk: Vec<_> = folders.drain(..DAYS_AT_ONCE.min(folders.len())).collect();
        let entries: Vec<Vec<Entry>> = chunk
            .into_par_iter()
            .map(|folder| match folder {
                Ok(day) => lister
                    .keys(&day)
                    .into_iter()
                    .map(|k| parse_log(k, location))
                    .collect(),
                Err(stray) => vec![Entry::Stray(stray)],
            })
            .collect();
        for entry in entries.into_iter().flatten() {
            match entry {
                Entry::Log(key, t) if t >= from && to.is_none_or(|to| t <= to) => each(key, t),
                Entry::Log(..) => {}
                Entry::Stray(stray) => lister.push_stray(stray),
            }
        }
    }
}

/// The `YYYY/MM/DD/` folders of `location` for the days from `from` to `to`, in listing
/// order, with the folders on the way that are not date folders (as `Err`).
fn day_folders<S: ObjectStore + ?Sized>(
    lister: &Lister<'_, S>,
    location: &Location,
    from: DateTime<Utc>,
    to: Option<DateTime<Utc>>,
) -> Vec<std::result::Result<String, UnrecognizedKey>> {
    let (first, last) = (from.date_naive(), to.map(|t| t.date_naive()));
    let stray = |folder: &str| {
        Err(UnrecognizedKey {
            key: folder.to_owned(),
            reason: "not a YYYY/MM/DD folder of log files".into(),
        })
    };
    // The lister keeps only folders under their parent.
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
    for year in lister.folders(&base) {
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
        for month in lister.folders(&year) {
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
            for day in lister.folders(&month) {
                match number(&day, &month).and_then(|d| NaiveDate::from_ymd_opt(y, lo.month(), d)) {
                    None => out.push(stray(&day)),
                    Some(d) if in_range(d, d) => out.push(Ok(day)),
                    Some(_) => {}
                }
            }
        }
    }
    out
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
        let listing = list_logs(&store, "b", &loc, from, to);
        assert_eq!(listing.logs.len(), 1);
        assert!(listing.logs[0].0.contains("20240301T0105Z"));
        assert_eq!(listing.unrecognized.len(), 1);
        assert!(listing.unrecognized[0].key.ends_with("2024/xx/"));
        assert!(listing.failures.is_empty());
        let all = list_logs(&store, "b", &loc, from, None);
        assert_eq!(all.logs.len(), 2);
    }
}
