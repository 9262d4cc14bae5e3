//! Step 4 of a run: walking each selected chain, newest to oldest, standard then backfill
//! digests, while the log files of the verified digests are checked in batches.

use chrono::Duration;

use super::log_batch::LogChecker;
use super::read_ahead::Listed;
use super::walk::ChainWalker;
use super::Plan;
use crate::check::chain::ChainBuilder;
use crate::check::listed::ListedLogs;
use crate::format::key_name::{ChainId, DigestKey};
use crate::report::TimeRange;
use crate::store::ObjectStore;

/// Walks every selected chain of `discovery`, sharing the record of listed log files (so
/// that a file listed twice is found across chains); returns the chains and that record.
pub(crate) fn walk_all<S: ObjectStore + ?Sized>(
    plan: &Plan<'_, S>,
    chains: &[(&ChainId, &[DigestKey])],
) -> (Vec<ChainBuilder>, ListedLogs) {
    if chains.is_empty() {
        return (Vec::new(), ListedLogs::default());
    }
    // The walk's own threads for fetching digests ahead; `None` if they could not be
    // started (the walk then shares the global pool, only slower).
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(plan.limits.walk_threads.max(1))
        .thread_name(|i| format!("digest-fetch-{i}"))
        .build()
        .ok();
    let mut listed = ListedLogs::default();
    let built = chains
        .iter()
        .map(|(chain, keys)| walk_one(plan, pool.as_ref(), chain, keys, &mut listed))
        .collect();
    (built, listed)
}

/// Walks one chain's standard then backfill digests over the selection's range.
fn walk_one<S: ObjectStore + ?Sized>(
    plan: &Plan<'_, S>,
    pool: Option<&rayon::ThreadPool>,
    chain: &ChainId,
    keys: &[DigestKey],
    listed: &mut ListedLogs,
) -> ChainBuilder {
    let requested = plan
        .selection
        .range(keys.iter().map(|k| k.end_time))
        .unwrap_or(TimeRange {
            start: chrono::DateTime::default(),
            end: chrono::DateTime::default(),
        });
    // As the reference: digests ending from the start to one hour after the end, so that
    // logs delivered in the last requested hour are covered.
    let in_range = |k: &&DigestKey| {
        k.end_time >= requested.start && k.end_time <= requested.end + Duration::hours(1)
    };
    let listed_keys = |backfill: bool| -> Vec<Listed> {
        keys.iter()
            .filter(in_range)
            .filter(|k| k.backfill == backfill)
            .map(|k| (k.to_key(), k.end_time))
            .collect()
    };
    let walker = |backfill| ChainWalker {
        store: plan.store,
        keys: plan.keys,
        chain,
        bucket: plan.bucket,
        start: requested.start,
        backfill,
        pool,
        limits: plan.limits,
    };
    let checker = LogChecker::new(plan.store, plan.progress, plan.omit_valid_logs, plan.limits);
    let (notices, digests) = checker.walk_and_check(|sink| {
        let mut notices = walker(false).walk(listed_keys(false), listed, sink);
        notices.extend(walker(true).walk(listed_keys(true), listed, sink));
        notices
    });
    ChainBuilder::new(
        chain.clone(),
        plan.bucket.to_owned(),
        requested,
        digests,
        notices,
    )
}
