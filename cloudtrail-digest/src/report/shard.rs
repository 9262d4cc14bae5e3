//! Sharded runs: which part of the work a report is, and how the work is dealt out.
//!
//! The unit of work is an account and region: its log folders (`[PREFIX/]AWSLogs/[ORG/]
//! ACCOUNT/CloudTrail/REGION/`) with the digest chains beside them. Units are independent:
//! a chain lives in one location, and the log files no digest lists are looked for per
//! location. A unit heavier than a shard's fair share is cut into time slices: every
//! slice's shard walks the unit's whole chains and lists its log folders (one digest an
//! hour, one listing per thousand keys), and checks only the log files of its slices (a
//! dozen or more an hour, the bulk of the work); see [`SlicedUnit`].

use serde::{Deserialize, Serialize};

use super::slice::SlicedUnit;
use crate::format::key_name::Location;

/// The most shards a run may be split into (AWS Batch allows 10,000 children).
pub const MAX_SHARDS: u32 = 100_000;

/// Which part of a sharded run a report is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct ShardInfo {
    /// This shard's index, from 0.
    pub index: u32,
    /// How many shards the run was split into.
    pub count: u32,
    /// The plan's identity: SHA-256 over the run's options and every unit of work in
    /// order. Shards that listed the same bucket with the same options agree on it.
    pub plan: String,
    /// How many units the whole plan has.
    pub plan_units: u64,
    /// This shard's units: the locations it validated whole.
    pub units: Vec<Location>,
    /// The units cut into time slices of which this shard validated some.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub slices: Vec<SlicedUnit>,
}

impl ShardInfo {
    /// The unit cut into time slices that `location` belongs to, if this shard holds
    /// slices of it.
    pub fn sliced_unit(&self, location: &Location) -> Option<&SlicedUnit> {
        self.slices.iter().find(|u| u.locations.contains(location))
    }
}

/// Deals `units` (each with its weight, e.g. its digest count) to `count` shards: heaviest
/// first, each to the least loaded shard (the lowest index among equals). The same units
/// always give the same shards.
pub(crate) fn assign(weights: &[u64], count: u32) -> Vec<u32> {
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| weights[b].cmp(&weights[a]).then(a.cmp(&b)));
    let mut load = vec![0u64; count.max(1) as usize];
    let mut shard_of = vec![0u32; weights.len()];
    for unit in order {
        let (lightest, _) = load
            .iter()
            .enumerate()
            .min_by_key(|&(i, l)| (*l, i))
            .unwrap_or((0, &0));
        load[lightest] += weights[unit].max(1);
        shard_of[unit] = u32::try_from(lightest).unwrap_or(0);
    }
    shard_of
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heavy_units_are_spread_and_the_deal_is_deterministic() {
        let weights = [100, 1, 1, 1, 50, 50, 0];
        let shards = assign(&weights, 3);
        assert_eq!(shards, assign(&weights, 3));
        // The heaviest on the first shard, the two of 50 one on each other shard.
        assert_eq!(shards[0], 0);
        assert_eq!(shards[4], 1);
        assert_eq!(shards[5], 2);
        let mut load = [0u64; 3];
        for (w, s) in weights.iter().zip(&shards) {
            load[*s as usize] += w.max(&1);
        }
        assert!(load.iter().max().unwrap() - load.iter().min().unwrap() <= 100);
        assert!(assign(&weights, 1).iter().all(|s| *s == 0));
        assert!(assign(&[], 4).is_empty());
    }
}
