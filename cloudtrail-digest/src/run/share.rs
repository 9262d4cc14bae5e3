//! A shard's share of a run: the locations the selection finds, grouped by account and
//! region (the digests of one account and region may list log files under another prefix
//! of the same account and region, never elsewhere), dealt to the shards by digest count.

use std::collections::{BTreeMap, BTreeSet};

use sha2::{Digest as _, Sha256};

use crate::format::key_name::Location;
use crate::report::{assign, ShardInfo};
use crate::run::discovery::Discovery;
use crate::selection::Selection;

/// Shard `index` of `count`'s part of `discovery`, and the plan it is part of. `options`
/// names everything else the shards must agree on (bucket, prefix, time judged as of).
pub(crate) fn share(
    discovery: &Discovery,
    selection: &Selection,
    options: &str,
    index: u32,
    count: u32,
) -> (Discovery, ShardInfo) {
    let mut units: BTreeMap<(&str, &str), Vec<Location>> = BTreeMap::new();
    let locations = discovery.log_locations_of(selection);
    for location in &locations {
        units
            .entry((&location.account_id, &location.region))
            .or_default()
            .push(location.clone());
    }
    let mut digests: BTreeMap<(&str, &str), u64> = BTreeMap::new();
    for (chain, keys) in discovery.selected(selection) {
        let unit = (
            chain.location.account_id.as_str(),
            chain.location.region.as_str(),
        );
        *digests.entry(unit).or_default() += keys.len() as u64;
    }
    let weights: Vec<u64> = units
        .keys()
        .map(|unit| digests.get(unit).copied().unwrap_or(0))
        .collect();
    let mut plan = Sha256::new();
    plan.update(format!("{options}\n{selection:?}\n{count}\n"));
    for (locations, weight) in units.values().zip(&weights) {
        plan.update(format!("{locations:?} {weight}\n"));
    }
    let mine: BTreeSet<Location> = units
        .values()
        .zip(assign(&weights, count))
        .filter(|(_, shard)| *shard == index)
        .flat_map(|(locations, _)| locations.iter().cloned())
        .collect();
    let part = discovery.only(&mine);
    let info = ShardInfo {
        index,
        count,
        plan: hex::encode(plan.finalize()),
        plan_units: locations.len() as u64,
        units: mine.into_iter().collect(),
    };
    (part, info)
}
