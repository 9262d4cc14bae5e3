//! The merge of a sharded run's reports into the report one run would have given.

use std::collections::BTreeMap;

use super::run_report::{Parts, Report};
use super::shard::ShardInfo;
use crate::format::key_name::Location;

/// Why shard reports cannot be merged. Each names the report (as the caller named it).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MergeError {
    /// Nothing to merge.
    #[error("no reports to merge")]
    Empty,
    /// A report of a run that was not sharded.
    #[error("{0}: not a shard's report (made without a shard)")]
    NotAShard(String),
    /// Reports of different tool versions, buckets or plans.
    #[error("{name}: {what} differs from {first}'s ({theirs} against {ours})")]
    Mismatch {
        /// The report that differs.
        name: String,
        /// The first report.
        first: String,
        /// What differs.
        what: &'static str,
        /// Its value.
        theirs: String,
        /// The first report's.
        ours: String,
    },
    /// The same shard twice.
    #[error("shard {index} of {count} given twice: {a} and {b}")]
    Duplicate {
        /// The shard.
        index: u32,
        /// Of how many.
        count: u32,
        /// One report.
        a: String,
        /// The other.
        b: String,
    },
    /// Shards of the plan not given.
    #[error("shards missing (of {count}): {}", list(.missing))]
    Missing {
        /// Their indices.
        missing: Vec<u32>,
        /// Of how many.
        count: u32,
    },
    /// A report whose content does not match its shard: a unit outside its share, or
    /// units that do not add up to the plan.
    #[error("{name}: {reason}")]
    Inconsistent {
        /// The report.
        name: String,
        /// What is wrong.
        reason: String,
    },
}

fn list(indices: &[u32]) -> String {
    let shown: Vec<String> = indices.iter().take(20).map(u32::to_string).collect();
    let more = indices.len().saturating_sub(shown.len());
    if more == 0 {
        shown.join(", ")
    } else {
        format!("{} and {more} more", shown.join(", "))
    }
}

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
    if units.len() as u64 != first_shard.plan_units {
        return Err(MergeError::Inconsistent {
            name: first_name.clone(),
            reason: format!(
                "the shards hold {} units, the plan {}",
                units.len(),
                first_shard.plan_units
            ),
        });
    }
    Ok(join(reports))
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

/// Every chain and location of a shard's report is one of its units.
fn check_share(name: &str, report: &Report, shard: &ShardInfo) -> Result<(), MergeError> {
    let outside = report
        .chains
        .iter()
        .map(|c| &c.chain.location)
        .chain(report.locations.iter().map(|l| &l.location))
        .find(|l| !shard.units.contains(l));
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

fn join(reports: Vec<(String, Report)>) -> Report {
    let mut parts = Parts {
        bucket: String::new(),
        chains: Vec::new(),
        locations: Vec::new(),
        unrecognized_keys: Vec::new(),
        listing_failures: Vec::new(),
        trail_records: Vec::new(),
        inventory: None,
    };
    for (_, report) in reports {
        parts.bucket = report.bucket;
        // The same in every shard: the inventory is part of the plan's options.
        parts.inventory = report.inventory;
        parts.chains.extend(report.chains);
        parts.locations.extend(report.locations);
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
    Report::new(parts)
}

fn short(plan: &str) -> &str {
    plan.get(..12).unwrap_or(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_shards_are_listed_briefly() {
        assert_eq!(list(&[1, 3]), "1, 3");
        let many: Vec<u32> = (0..25).collect();
        assert!(list(&many).ends_with("and 5 more"));
    }
}
