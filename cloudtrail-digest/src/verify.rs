//! The orchestration: discover the chains in a bucket, walk each, check the log files of
//! every verified digest in parallel, and assemble the [`Report`].

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};

use crate::chain::{ChainWalker, Listed};
use crate::error::{list_error, Error, Result};
use crate::keys::KeySource;
use crate::layout::{ChainId, DigestKey, Location, LogKey};
use crate::listed::ListedLogs;
use crate::listing::Lister;
use crate::logbatch::LogChecker;
use crate::progress::Progress;
use crate::record::TrailRecord;
use crate::report::{ChainReport, ListingFailure, Report, TimeRange, UnrecognizedKey};
use crate::store::{ObjectStore, StoreError};
use crate::unlisted;

/// Which chains and which time range to validate. Empty lists mean "all".
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Accounts to validate.
    pub account_ids: Vec<String>,
    /// Digest regions to validate.
    pub regions: Vec<String>,
    /// The trail to validate.
    pub trail_name: Option<String>,
    /// Start of the range; default: the start of the oldest digest found.
    pub start: Option<DateTime<Utc>>,
    /// End of the range; default: the end of the newest digest found.
    pub end: Option<DateTime<Utc>>,
    /// Keep only the log file verdicts that are not valid; valid ones are counted (in
    /// [`crate::report::DigestOutcome::log_counts`]) and dropped, so memory does not grow
    /// with every valid file of a long run. Default: keep every verdict.
    pub omit_valid_logs: bool,
    /// When the bucket is judged (for a live trail, now; for a copy, when it was made): a
    /// digest not due by then (see [`crate::coverage::CoverageState::Pending`]) is pending,
    /// not missing. `None`: every digest is taken as due.
    pub as_of: Option<DateTime<Utc>>,
    /// What CloudTrail records about the trails (`GetTrail`, `GetTrailStatus`): evidence of
    /// digests delivered and deleted since, or of validation turned off. Without it, a copy
    /// cannot tell deletion from validation turned off, and says so.
    pub trail_records: Vec<TrailRecord>,
}

impl Selection {
    /// Whether a location's account and region are selected.
    pub fn matches_location(&self, loc: &Location) -> bool {
        (self.account_ids.is_empty() || self.account_ids.contains(&loc.account_id))
            && (self.regions.is_empty() || self.regions.contains(&loc.region))
    }

    /// Whether a chain is selected (account, region and trail).
    pub fn matches(&self, chain: &ChainId) -> bool {
        self.matches_location(&chain.location)
            && self
                .trail_name
                .as_ref()
                .is_none_or(|t| *t == chain.trail_name)
    }
}

/// The digest keys found in a bucket, grouped by chain.
#[derive(Debug, Clone, Default)]
pub struct Discovery {
    /// Each chain's digest keys, ascending.
    pub chains: BTreeMap<ChainId, Vec<DigestKey>>,
    /// The locations (account and region) with a `CloudTrail/` log folder.
    pub log_locations: BTreeSet<Location>,
    /// Keys under a `CloudTrail-Digest/` folder that are not digest keys, and entries a
    /// listing returned outside the prefix asked for.
    pub unrecognized: Vec<UnrecognizedKey>,
    /// Listings below the top that failed: what they should have listed is unchecked.
    pub failures: Vec<ListingFailure>,
}

/// Lists every key under `prefix` in `bucket` and groups the digest keys by chain: for a
/// local copy, where listing is cheap and the trail's prefix may be unknown. For S3 use
/// [`discover_under`].
pub fn discover<S: ObjectStore + ?Sized>(
    store: &S,
    bucket: &str,
    prefix: &str,
) -> Result<Discovery> {
    let lister = Lister::new(store, bucket);
    let keys = lister
        .try_keys(prefix)
        .map_err(list_error(bucket, prefix))?;
    let mut found = Discovery {
        log_locations: keys
            .iter()
            .filter(|k| k.contains("/CloudTrail/"))
            .filter_map(|k| LogKey::parse(k).ok())
            .map(|k| k.location)
            .collect(),
        ..Discovery::default()
    };
    found.add_keys(
        keys.into_iter()
            .filter(|k| k.contains("/CloudTrail-Digest/"))
            .collect(),
    );
    found.finish(lister);
    Ok(found)
}

/// Finds the digest keys under a prefix without listing any log file: finds the
/// `AWSLogs/` folders at or a few folders under `prefix`, then walks
/// `AWSLogs/[o-ORGID/]ACCOUNT/CloudTrail-Digest/REGION/` folder by folder, keeping only the
/// selected accounts and regions, and lists each region's digests.
///
/// # Errors
/// The top listing (of `prefix` itself) failed. A listing further down that fails is
/// recorded in [`Discovery::failures`] and the rest is still found.
pub fn discover_under<S: ObjectStore + ?Sized>(
    store: &S,
    bucket: &str,
    prefix: &str,
    selection: &Selection,
) -> Result<Discovery> {
    let lister = Lister::new(store, bucket);
    let start = match prefix.trim_end_matches('/') {
        "" => String::new(),
        p => format!("{p}/"),
    };
    let mut accounts = Vec::new();
    for root in find_awslogs(&lister, &start).map_err(list_error(bucket, &start))? {
        for folder in lister.folders(&root) {
            if folder
                .strip_prefix(root.as_str())
                .is_some_and(|name| name.starts_with("o-"))
            {
                accounts.extend(lister.folders(&folder));
            } else {
                accounts.push(folder);
            }
        }
    }
    // Every folder below was listed under its parent (the lister keeps no other), so its
    // name is what follows the parent.
    let name = |folder: &str, parent: &str| {
        folder
            .strip_prefix(parent)
            .map(|n| n.trim_end_matches('/').to_owned())
            .unwrap_or_default()
    };
    let wanted = |list: &[String], folder: &str, parent: &str| {
        list.is_empty() || list.contains(&name(folder, parent))
    };
    let parent = |folder: &str| {
        let trimmed = folder.trim_end_matches('/');
        trimmed
            .rfind('/')
            .map_or(String::new(), |i| trimmed[..=i].to_owned())
    };
    let mut found = Discovery::default();
    for account in accounts
        .iter()
        .filter(|a| wanted(&selection.account_ids, a, &parent(a)))
    {
        let logs = format!("{account}CloudTrail/");
        for region in lister
            .folders(&logs)
            .iter()
            .filter(|r| wanted(&selection.regions, r, &logs))
        {
            match Location::from_log_folder(region) {
                Ok(location) => {
                    found.log_locations.insert(location);
                }
                Err(e) => found.unrecognized.push(UnrecognizedKey {
                    key: region.clone(),
                    reason: e.to_string(),
                }),
            }
        }
        let digests = format!("{account}CloudTrail-Digest/");
        for region in lister
            .folders(&digests)
            .iter()
            .filter(|r| wanted(&selection.regions, r, &digests))
        {
            // The whole region is listed (about nine requests per year of hourly digests),
            // so a trail with no digest in the requested range is still reported as such.
            found.add_keys(lister.keys(region));
        }
    }
    found.finish(lister);
    Ok(found)
}

/// How deep under the given prefix discovery looks for `AWSLogs/` folders: a trail's key
/// prefix may have several segments.
const MAX_PREFIX_DEPTH: usize = 4;

/// The `AWSLogs/` folders at or under `start` (which is empty or ends in `/`), breadth
/// first, at most [`MAX_PREFIX_DEPTH`] folders down. Only the listing of `start` itself
/// fails the search.
fn find_awslogs<S: ObjectStore + ?Sized>(
    lister: &Lister<'_, S>,
    start: &str,
) -> Result<Vec<String>, StoreError> {
    let mut found = Vec::new();
    let mut level = vec![start.to_owned()];
    for depth in 0..=MAX_PREFIX_DEPTH {
        let mut next = Vec::new();
        for folder in &level {
            let children = if depth == 0 {
                lister.try_folders(folder)?
            } else {
                lister.folders(folder)
            };
            for child in children {
                if child.strip_prefix(folder.as_str()) == Some("AWSLogs/") {
                    found.push(child);
                } else {
                    next.push(child);
                }
            }
        }
        if next.is_empty() {
            break;
        }
        level = next;
    }
    Ok(found)
}

impl Discovery {
    fn add_keys(&mut self, keys: Vec<String>) {
        for key in keys {
            match DigestKey::parse(&key) {
                Ok(k) => self.chains.entry(k.chain.clone()).or_default().push(k),
                Err(e) => self.unrecognized.push(UnrecognizedKey {
                    key,
                    reason: e.to_string(),
                }),
            }
        }
    }

    /// Sorts each chain's keys and takes what the listings could not do.
    fn finish<S: ObjectStore + ?Sized>(&mut self, lister: Lister<'_, S>) {
        for keys in self.chains.values_mut() {
            keys.sort_by_key(DigestKey::to_key);
        }
        let left = lister.finish();
        self.unrecognized.extend(left.strays);
        self.failures.extend(left.failures);
    }
}

/// Validates every selected chain of a discovery.
pub fn validate<S: ObjectStore + ?Sized>(
    store: &S,
    bucket: &str,
    public_keys: &dyn KeySource,
    discovery: &Discovery,
    selection: &Selection,
) -> Result<Report> {
    validate_with_progress(store, bucket, public_keys, discovery, selection, &())
}

/// [`validate`], reporting progress.
pub fn validate_with_progress<S: ObjectStore + ?Sized>(
    store: &S,
    bucket: &str,
    public_keys: &dyn KeySource,
    discovery: &Discovery,
    selection: &Selection,
    progress: &dyn Progress,
) -> Result<Report> {
    if let (Some(s), Some(e)) = (selection.start, selection.end) {
        if s > e {
            return Err(Error::Config(format!(
                "start time {s} is after end time {e}"
            )));
        }
    }
    let run = ChainRun::new(store, bucket, public_keys, selection, progress);
    let mut listed = ListedLogs::default();
    let mut chains: Vec<ChainReport> = discovery
        .chains
        .iter()
        .filter(|(chain, _)| selection.matches(chain))
        .map(|(chain, keys)| run.run(chain, keys, &mut listed))
        .collect();
    let scan = unlisted::scan(store, bucket, discovery, selection, &listed, &mut chains);
    let mut unrecognized = discovery.unrecognized.clone();
    unrecognized.extend(scan.leftovers.strays);
    let mut listing_failures = discovery.failures.clone();
    listing_failures.extend(scan.leftovers.failures);
    Ok(Report {
        tool_version: env!("CARGO_PKG_VERSION"),
        bucket: bucket.to_owned(),
        chains,
        locations: scan.locations,
        unrecognized_keys: unrecognized,
        listing_failures,
        trail_records: selection.trail_records.clone(),
    })
}

/// Validates one chain over the selection's time range.
pub fn validate_chain<S: ObjectStore + ?Sized>(
    store: &S,
    bucket: &str,
    public_keys: &dyn KeySource,
    chain: &ChainId,
    keys: &[DigestKey],
    selection: &Selection,
    progress: &dyn Progress,
) -> ChainReport {
    ChainRun::new(store, bucket, public_keys, selection, progress).run(
        chain,
        keys,
        &mut ListedLogs::default(),
    )
}

/// What validating a chain reads from and reports to.
struct ChainRun<'a, S: ObjectStore + ?Sized> {
    store: &'a S,
    bucket: &'a str,
    public_keys: &'a dyn KeySource,
    selection: &'a Selection,
    progress: &'a dyn Progress,
    /// The walk's own threads for fetching digests ahead; `None` if they could not be
    /// started (the walk then shares the global pool, only slower).
    walk_pool: Option<rayon::ThreadPool>,
}

/// Threads of the walk's pool: digests are small, fetching them is waiting, not work.
const WALK_THREADS: usize = 4;

impl<'a, S: ObjectStore + ?Sized> ChainRun<'a, S> {
    fn new(
        store: &'a S,
        bucket: &'a str,
        public_keys: &'a dyn KeySource,
        selection: &'a Selection,
        progress: &'a dyn Progress,
    ) -> Self {
        let walk_pool = rayon::ThreadPoolBuilder::new()
            .num_threads(WALK_THREADS)
            .thread_name(|i| format!("digest-fetch-{i}"))
            .build()
            .ok();
        Self {
            store,
            bucket,
            public_keys,
            selection,
            progress,
            walk_pool,
        }
    }

    /// Walks the chain's standard then backfill digests, recording the log files they list
    /// in `listed` (shared by the run's chains, so a file listed twice is found across them).
    fn run(&self, chain: &ChainId, keys: &[DigestKey], listed: &mut ListedLogs) -> ChainReport {
        let (store, bucket, selection) = (self.store, self.bucket, self.selection);
        let oldest = keys.iter().map(|k| k.end_time).min();
        let newest = keys.iter().map(|k| k.end_time).max();
        let start = selection
            .start
            .or(oldest.map(|t| t - Duration::hours(1)))
            .unwrap_or_default();
        let end = selection.end.or(newest).unwrap_or(start);
        // As the reference: digests ending from the start to one hour after the end, so
        // that logs delivered in the last requested hour are covered.
        let in_range =
            |k: &&DigestKey| k.end_time >= start && k.end_time <= end + Duration::hours(1);
        let listed_keys = |backfill: bool| -> Vec<Listed> {
            keys.iter()
                .filter(in_range)
                .filter(|k| k.backfill == backfill)
                .map(|k| (k.to_key(), k.end_time))
                .collect()
        };
        let walker = |backfill| ChainWalker {
            store,
            keys: self.public_keys,
            chain,
            bucket,
            start,
            backfill,
            pool: self.walk_pool.as_ref(),
        };
        let checker = LogChecker::new(store, self.progress, selection.omit_valid_logs);
        let (notices, digests) = checker.walk_and_check(|sink| {
            let mut notices = walker(false).walk(listed_keys(false), listed, sink);
            notices.extend(walker(true).walk(listed_keys(true), listed, sink));
            notices
        });
        ChainReport::new(
            chain.clone(),
            bucket.to_owned(),
            TimeRange { start, end },
            digests,
            notices,
        )
    }
}
