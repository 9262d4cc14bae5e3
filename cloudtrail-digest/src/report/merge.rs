//! The merge of a sharded run's reports into the report one run would have given.

use std::collections::BTreeMap;

use super::merge_error::MergeError;
use super::merge_slices::{Pieces, Slices};
use super::run_report::{Parts, Report};
use super::shard::ShardInfo;
use crate::format::key_name::Location;

/// Merges the reports of every shard of one plan, each named for errors, into the report
/// a single run would have given: the same chains, locations, totals, issues and
/// severity. Totals, issues and severity are recomputed, never taken from the shards.
///
/// # Errors
/// A report that is not a shard's, of another version, bucket or plan, a shard given
/// twice or missing, or a report whose content is outside its share of the plan.
pub fn merge(reports: Vec<(String, Report)>) -> Result<Report, MergeError> {
    let (first_name, first) = reports.first().ok_or(MergeError::Empty)?;
    let first_shard = first
        .shard
        .clone()
        .ok_or_else(|| MergeError::NotAShard(first_name.clone()))?;
    let mut by_index: BTreeMap<u32, &str> = BTreeMap::new();
    let mut units: BTreeMap<&Location, &str> = BTreeMap::new();
    let mut slices = Slices::default();
    for (name, report) in &reports {
        let shard = same_plan(name, report, first_name, first, &first_shard)?;
        if shard.index >= shard.count {
            return Err(MergeError::Inconsistent {
                name: name.clone(),
                reason: format!(
                    "shard {} of {} is not a shard of the plan",
                    shard.index, shard.count
                ),
            });
        }
        if let Some(a) = by_index.insert(shard.index, name) {
            return Err(MergeError::Duplicate {
                index: shard.index,
                count: shard.count,
                a: a.to_owned(),
                b: name.clone(),
            });
        }
        check_share(name, report, shard)?;
        for unit in &shard.units {
            if let Some(other) = units.insert(unit, name) {
                return Err(MergeError::Inconsistent {
                    name: name.clone(),
                    reason: format!(
                        "holds {}/{}, which {other} holds too",
                        unit.account_id, unit.region
                    ),
                });
            }
        }
        for unit in &shard.slices {
            slices.add(name, unit)?;
        }
    }
    let missing: Vec<u32> = (0..first_shard.count)
        .filter(|i| !by_index.contains_key(i))
        .collect();
    if !missing.is_empty() {
        return Err(MergeError::Missing {
            missing,
            count: first_shard.count,
        });
    }
    slices.complete()?;
    all_units(units, &slices, first_name, first_shard.plan_units)?;
    join(reports)
}

/// The units held whole and those held in slices are each held once, and are the plan's.
fn all_units<'a>(
    mut units: BTreeMap<&'a Location, &'a str>,
    slices: &'a Slices,
    first_name: &'a str,
    plan_units: u64,
) -> Result<(), MergeError> {
    for location in slices.locations() {
        if let Some(other) = units.insert(location, first_name) {
            return Err(MergeError::Inconsistent {
                name: other.to_owned(),
                reason: format!(
                    "holds {}/{} whole, which other shards hold in slices",
                    location.account_id, location.region
                ),
            });
        }
    }
    if units.len() as u64 != plan_units {
        return Err(MergeError::Inconsistent {
            name: first_name.to_owned(),
            reason: format!(
                "the shards hold {} units, the plan {plan_units}",
                units.len(),
            ),
        });
    }
    Ok(())
}

/// The shard of `report`, if it is a shard of the first report's plan.
fn same_plan<'r>(
    name: &str,
    report: &'r Report,
    first_name: &str,
    first: &Report,
    first_shard: &ShardInfo,
) -> Result<&'r ShardInfo, MergeError> {
    let shard = report
        .shard
        .as_ref()
        .ok_or_else(|| MergeError::NotAShard(name.to_owned()))?;
    let mismatch = |what, theirs: String, ours: String| MergeError::Mismatch {
        name: name.to_owned(),
        first: first_name.to_owned(),
        what,
        theirs,
        ours,
    };
    if report.tool_version != first.tool_version || report.schema_version != first.schema_version {
        return Err(mismatch(
            "tool version",
            report.tool_version.clone(),
            first.tool_version.clone(),
        ));
    }
    if report.bucket != first.bucket {
        return Err(mismatch(
            "bucket",
            report.bucket.clone(),
            first.bucket.clone(),
        ));
    }
    if shard.plan != first_shard.plan || shard.count != first_shard.count {
        return Err(mismatch(
            "plan (listing or options)",
            format!("{} of {}", short(&shard.plan), shard.count),
            format!("{} of {}", short(&first_shard.plan), first_shard.count),
        ));
    }
    Ok(shard)
}

/// Every chain and location of a shard's report is one of its units or sliced units.
fn check_share(name: &str, report: &Report, shard: &ShardInfo) -> Result<(), MergeError> {
    let sliced = |l: &Location| shard.sliced_unit(l).is_some();
    let outside = report
        .chains
        .iter()
        .map(|c| &c.chain.location)
        .chain(report.locations.iter().map(|l| &l.location))
        .find(|l| !shard.units.contains(l) && !sliced(l));
    match outside {
        Some(l) => Err(MergeError::Inconsistent {
            name: name.to_owned(),
            reason: format!(
                "reports on {}/{} outside its share of the plan",
                l.account_id, l.region
            ),
        }),
        None => Ok(()),
    }
}

fn join(reports: Vec<(String, Report)>) -> Result<Report, MergeError> {
    let mut parts = Parts {
        bucket: String::new(),
        chains: Vec::new(),
        locations: Vec::new(),
        unrecognized_keys: Vec::new(),
        listing_failures: Vec::new(),
        trail_records: Vec::new(),
        inventory: None,
    };
    let mut pieces = Pieces::default();
    for (name, report) in reports {
        parts.bucket = report.bucket;
        // The same in every shard: the inventory is part of the plan's options.
        parts.inventory = report.inventory;
        let shard = report.shard;
        // Whether the location is sliced here, and if so whether this is its last slice.
        let sliced = |l: &Location| {
            let unit = shard.as_ref().and_then(|s| s.sliced_unit(l));
            unit.map(super::slice::SlicedUnit::holds_last)
        };
        for chain in report.chains {
            match sliced(&chain.chain.location) {
                Some(last) => pieces.chain(&name, last, chain),
                None => parts.chains.push(chain),
            }
        }
        for location in report.locations {
            match sliced(&location.location) {
                Some(last) => pieces.location(&name, last, location),
                None => parts.locations.push(location),
            }
        }
        parts.unrecognized_keys.extend(report.unrecognized_keys);
        parts.listing_failures.extend(report.listing_failures);
        for record in report.trail_records {
            if !parts
                .trail_records
                .iter()
                .any(|r| r.trail_arn == record.trail_arn)
            {
                parts.trail_records.push(record);
            }
        }
    }
    let (chains, locations) = pieces.join()?;
    parts.chains.extend(chains);
    parts.locations.extend(locations);
    Ok(Report::new(parts))
}

fn short(plan: &str) -> &str {
    plan.get(..12).unwrap_or(plan)
}
