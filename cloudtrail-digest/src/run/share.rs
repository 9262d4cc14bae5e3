//! A shard's share of a run: the locations the selection finds, grouped by account and
//! region (the digests of one account and region may list log files under another prefix
//! of the same account and region, never elsewhere), dealt to the shards by digest count.
//! A unit heavier than a shard's fair share is cut into time slices of about equal digest
//! counts, dealt like units (see [`SlicedUnit`]).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use sha2::{Digest as _, Sha256};

use crate::format::key_name::Location;
use crate::report::{assign, ShardInfo, SlicedUnit};
use crate::run::discovery::Discovery;
use crate::selection::Selection;

/// One unit of the plan: an account and region, its locations and its digests' end times.
struct Unit<'a> {
    place: (&'a str, &'a str),
    locations: Vec<Location>,
    ends: Vec<DateTime<Utc>>,
}

/// Shard `index` of `count`'s part of `discovery`, and the plan it is part of. `options`
/// names everything else the shards must agree on (bucket, prefix, time judged as of).
pub(crate) fn share(
    discovery: &Discovery,
    selection: &Selection,
    options: &str,
    index: u32,
    count: u32,
) -> (Discovery, ShardInfo) {
    let locations = discovery.log_locations_of(selection);
    let units = units_of(discovery, selection, &locations);
    let total: u64 = units.iter().map(|u| weight(u.ends.len())).sum();
    let fair = total.div_ceil(u64::from(count.max(1))).max(1);
    // The pieces dealt: each unit whole, or each of its slices.
    let mut pieces: Vec<(usize, u32)> = Vec::new();
    let mut weights: Vec<u64> = Vec::new();
    let mut bounds: Vec<Vec<DateTime<Utc>>> = Vec::new();
    let mut plan = Sha256::new();
    plan.update(format!("{options}\n{selection:?}\n{count}\n"));
    for (u, unit) in units.iter().enumerate() {
        let cut = slice_bounds(&unit.ends, fair);
        let slices = cut.len() + 1;
        plan.update(format!(
            "{:?} {} {cut:?}\n",
            unit.locations,
            unit.ends.len()
        ));
        for s in 0..slices {
            pieces.push((u, u32::try_from(s).unwrap_or(u32::MAX)));
            weights.push(weight(unit.ends.len()) / slices as u64);
        }
        bounds.push(cut);
    }
    let mut mine: BTreeSet<Location> = BTreeSet::new();
    let mut whole: Vec<Location> = Vec::new();
    let mut sliced: BTreeMap<usize, SlicedUnit> = BTreeMap::new();
    for (&(u, s), shard) in pieces.iter().zip(assign(&weights, count)) {
        if shard != index {
            continue;
        }
        let unit = &units[u];
        mine.extend(unit.locations.iter().cloned());
        if bounds[u].is_empty() {
            whole.extend(unit.locations.iter().cloned());
            continue;
        }
        sliced
            .entry(u)
            .or_insert_with(|| SlicedUnit {
                account_id: unit.place.0.to_owned(),
                region: unit.place.1.to_owned(),
                locations: unit.locations.clone(),
                bounds: bounds[u].clone(),
                held: Vec::new(),
                seen: String::new(),
            })
            .held
            .push(s);
    }
    let part = discovery.only(&mine);
    let info = ShardInfo {
        index,
        count,
        plan: hex::encode(plan.finalize()),
        plan_units: locations.len() as u64,
        units: whole,
        slices: sliced.into_values().collect(),
    };
    (part, info)
}

/// The plan's units, in order: each account and region with its locations and the end
/// times of its selected digests.
fn units_of<'a>(
    discovery: &'a Discovery,
    selection: &Selection,
    locations: &'a BTreeSet<Location>,
) -> Vec<Unit<'a>> {
    let mut units: BTreeMap<(&str, &str), Unit<'_>> = BTreeMap::new();
    for location in locations {
        let place = (location.account_id.as_str(), location.region.as_str());
        units
            .entry(place)
            .or_insert_with(|| Unit {
                place,
                locations: Vec::new(),
                ends: Vec::new(),
            })
            .locations
            .push(location.clone());
    }
    for (chain, keys) in discovery.selected(selection) {
        let place = (
            chain.location.account_id.as_str(),
            chain.location.region.as_str(),
        );
        if let Some(unit) = units.get_mut(&place) {
            unit.ends.extend(keys.iter().map(|k| k.end_time));
        }
    }
    units.into_values().collect()
}

/// A unit's weight: its digest count (every unit costs at least one).
fn weight(digests: usize) -> u64 {
    (digests as u64).max(1)
}

/// The boundaries cutting a unit with digests ending at `ends` into slices of about `fair`
/// digests each: none when it is not heavier than that. A boundary is a digest's end time,
/// so that every slice has digests; equal times are never split.
fn slice_bounds(ends: &[DateTime<Utc>], fair: u64) -> Vec<DateTime<Utc>> {
    let n = weight(ends.len()).div_ceil(fair);
    if n < 2 {
        return Vec::new();
    }
    let mut sorted = ends.to_vec();
    sorted.sort_unstable();
    let mut out: Vec<DateTime<Utc>> = Vec::new();
    for i in 1..n {
        let at = usize::try_from(i * sorted.len() as u64 / n).unwrap_or(usize::MAX);
        if let Some(&t) = sorted.get(at) {
            if out.last().is_none_or(|l| *l < t) && sorted.first().is_some_and(|f| *f < t) {
                out.push(t);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;

    fn hour(h: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 0).unwrap() + chrono::Duration::hours(h)
    }

    #[test]
    fn a_unit_is_cut_only_when_heavier_than_a_fair_share() {
        let ends: Vec<_> = (0..10).map(hour).collect();
        assert!(slice_bounds(&ends, 10).is_empty());
        assert!(slice_bounds(&ends, 100).is_empty());
        assert_eq!(slice_bounds(&ends, 5), vec![hour(5)]);
        assert_eq!(slice_bounds(&ends, 4), vec![hour(3), hour(6)]);
        // Every slice gets digests; equal end times (two chains) are never split.
        let doubled: Vec<_> = (0..4).flat_map(|h| [hour(h), hour(h)]).collect();
        assert_eq!(slice_bounds(&doubled, 1), vec![hour(1), hour(2), hour(3)]);
        assert!(slice_bounds(&[hour(1), hour(1)], 1).is_empty());
        assert!(slice_bounds(&[], 1).is_empty());
    }
}
