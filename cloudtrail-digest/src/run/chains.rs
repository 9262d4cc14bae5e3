//! Step 4 of a run: walking each selected chain, newest to oldest, standard then backfill
//! digests, while the log files of the verified digests are checked in batches.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use chrono::Duration;

use super::log_batch::LogChecker;
use super::read_ahead::Listed;
use super::walk::ChainWalker;
use super::Plan;
use crate::check::chain::ChainBuilder;
use crate::check::listed::ListedLogs;
use crate::format::key_name::{ChainId, DigestKey};
use crate::report::{DigestOutcome, TimeRange};
use crate::signature::VerifiedDigest;
use crate::store::ObjectStore;

/// Walks every selected chain, newest to oldest: the chains of one account and region one
/// after another (they share the record of listed log files, so that a file listed twice
/// is found), [`Limits::units_at_once`] accounts and regions at once. Returns the chains in
/// the order given, and the record of every listed log file.
///
/// [`Limits::units_at_once`]: crate::Limits::units_at_once
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
    let units = units(chains);
    let next = AtomicUsize::new(0);
    let done: Mutex<Vec<Option<Walked>>> = Mutex::new((0..units.len()).map(|_| None).collect());
    let walk_unit = |unit: &[usize]| {
        let mut listed = ListedLogs::default();
        let built: Vec<(usize, ChainBuilder)> = unit
            .iter()
            .map(|&i| {
                let (chain, keys) = chains[i];
                (i, walk_one(plan, pool.as_ref(), chain, keys, &mut listed))
            })
            .collect();
        (built, listed)
    };
    let workers = plan.limits.units_at_once.clamp(1, units.len());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(unit) = units.get(i) else { break };
                let walked = walk_unit(unit);
                if let Ok(mut done) = done.lock() {
                    done[i] = Some(walked);
                }
            });
        }
    });
    let mut built: Vec<(usize, ChainBuilder)> = Vec::with_capacity(chains.len());
    let mut listed = ListedLogs::default();
    for (walked, unit_listed) in done.into_inner().unwrap_or_default().into_iter().flatten() {
        built.extend(walked);
        listed.absorb(unit_listed);
    }
    built.sort_by_key(|(i, _)| *i);
    (built.into_iter().map(|(_, c)| c).collect(), listed)
}

/// A unit's chains walked, by their index in the run's, and its record of listed files.
type Walked = (Vec<(usize, ChainBuilder)>, ListedLogs);

/// The indices of the chains of each account and region, in the order given.
fn units(chains: &[(&ChainId, &[DigestKey])]) -> Vec<Vec<usize>> {
    let mut units: Vec<Vec<usize>> = Vec::new();
    let mut index: HashMap<(&str, &str), usize> = HashMap::new();
    for (i, (chain, _)) in chains.iter().enumerate() {
        let place = (
            chain.location.account_id.as_str(),
            chain.location.region.as_str(),
        );
        let unit = *index.entry(place).or_insert_with(|| {
            units.push(Vec::new());
            units.len() - 1
        });
        units[unit].push(i);
    }
    units
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
        // A shard holding time slices of the chain walks it whole, and checks the log
        // files of the digests near its slices only.
        let sink = &mut |outcome: DigestOutcome, verified: Option<VerifiedDigest>| {
            let near = plan.held.checks_logs(&chain.location, &outcome);
            sink(outcome, verified.filter(|_| near));
        };
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
