//! What a shard must know of the chains of its trails that other shards walk: the end of
//! each one's newest verified digest, which shows until when the trail validated (the
//! evidence of [`crate::check::tail`]). A shard learns it as the whole run would have, by
//! walking only the newest digests of those chains (a digest's status depends on it and
//! the digests after it, never on older ones), and only for the chains whose digests end
//! late enough to bear on a chain of its own.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

use super::read_ahead::Listed;
use super::unlisted::{newest_listed, TrailId};
use super::walk::ChainWalker;
use super::Plan;
use crate::check::listed::ListedLogs;
use crate::check::tail::OVERDUE;
use crate::format::key_name::{ChainId, DigestKey};
use crate::report::DigestStatus;
use crate::run::discovery::Discovery;
use crate::store::ObjectStore;

/// How far back each try looks from a chain's newest digest; the last looks at all.
const WINDOWS: [Duration; 3] = [Duration::hours(6), Duration::days(2), Duration::days(30)];

/// A chain of another shard that may bear: its newest listed digest's end, its id, keys.
type Candidate<'a> = (DateTime<Utc>, &'a ChainId, &'a [DigestKey]);

/// For each trail of `part`'s selected chains: the newest verified digest's end among the
/// chains of `whole` outside `part`, where one may bear on a chain of `part`. A value
/// below a chain's newest digest plus two hours bears on nothing (see the tail's rules),
/// so chains whose newest listed digest ends sooner are not walked; the others are walked
/// newest first until none left could raise the answer.
pub(crate) fn foreign_trail_digests<S: ObjectStore + ?Sized>(
    plan: &Plan<'_, S>,
    whole: &Discovery,
    part: &Discovery,
) -> BTreeMap<TrailId, DateTime<Utc>> {
    let limit = plan.selection.end.map(|e| e + Duration::hours(1));
    let mut threshold: BTreeMap<TrailId, DateTime<Utc>> = BTreeMap::new();
    for (chain, keys) in part.selected(plan.selection) {
        if let Some(newest) = newest_listed(keys, limit) {
            let bar = newest + Duration::hours(1) + OVERDUE;
            let t = threshold.entry(TrailId::of(chain)).or_insert(bar);
            *t = (*t).min(bar);
        }
    }
    let mut foreign: BTreeMap<TrailId, Vec<Candidate<'_>>> = BTreeMap::new();
    for (chain, keys) in whole.selected(plan.selection) {
        let trail = TrailId::of(chain);
        let bar = threshold.get(&trail);
        if part.chains.contains_key(chain) || bar.is_none() {
            continue;
        }
        if let Some(n) = newest_listed(keys, limit).filter(|n| bar.is_some_and(|b| n >= b)) {
            foreign.entry(trail).or_default().push((n, chain, keys));
        }
    }
    let mut out = BTreeMap::new();
    for (trail, mut candidates) in foreign {
        candidates.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
        let mut best: Option<DateTime<Utc>> = None;
        for (newest, chain, keys) in candidates {
            if best.is_some_and(|b| b >= newest) {
                break;
            }
            best = best.max(newest_verified(plan, chain, keys));
        }
        if let Some(b) = best {
            out.insert(trail, b);
        }
    }
    out
}

/// The end of `chain`'s newest standard digest that verifies, as the whole walk would
/// find it: walks the newest digests, further back each time none verifies.
fn newest_verified<S: ObjectStore + ?Sized>(
    plan: &Plan<'_, S>,
    chain: &ChainId,
    keys: &[DigestKey],
) -> Option<DateTime<Utc>> {
    let requested = plan.selection.range(keys.iter().map(|k| k.end_time))?;
    let in_range: Vec<Listed> = keys
        .iter()
        .filter(|k| !k.backfill)
        .filter(|k| {
            k.end_time >= requested.start && k.end_time <= requested.end + Duration::hours(1)
        })
        .map(|k| (k.to_key(), k.end_time))
        .collect();
    let newest = in_range.iter().map(|(_, end)| *end).max()?;
    let starts = WINDOWS
        .iter()
        .map(|w| (newest - *w).max(requested.start))
        .chain([requested.start]);
    let mut tried = None;
    for start in starts {
        if tried == Some(start) {
            continue;
        }
        tried = Some(start);
        let window: Vec<Listed> = in_range
            .iter()
            .filter(|(_, end)| *end >= start)
            .cloned()
            .collect();
        let walker = ChainWalker {
            store: plan.store,
            keys: plan.keys,
            chain,
            bucket: plan.bucket,
            start,
            backfill: false,
            pool: None,
            limits: plan.limits,
        };
        let mut found: Option<DateTime<Utc>> = None;
        let mut sink = |outcome: crate::report::DigestOutcome, _| {
            if outcome.status == DigestStatus::Valid {
                found = found.max(outcome.end_time);
            }
        };
        walker.walk(window, &mut ListedLogs::default(), &mut sink);
        if found.is_some() {
            return found;
        }
    }
    None
}
