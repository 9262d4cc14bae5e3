//! Merging the time slices of units cut into slices: every slice present once, all slices'
//! shards agreeing on what they saw, and each chain and location put back together as
//! one run reports it.

use std::collections::BTreeMap;

use super::chain::ChainReport;
use super::location::LocationReport;
use super::merge_error::MergeError;
use super::slice::{join, SlicedUnit};
use crate::format::key_name::{ChainId, Location};

/// The sliced units of a plan, as the shards' reports say them.
#[derive(Default)]
pub(super) struct Slices {
    units: BTreeMap<(String, String), Group>,
}

/// One sliced unit: as the first report holding some of it says it, and who holds which.
struct Group {
    first: String,
    unit: SlicedUnit,
    held: BTreeMap<u32, String>,
}

impl Slices {
    /// Records that report `name` holds `unit`'s slices `unit.held`.
    pub(super) fn add(&mut self, name: &str, unit: &SlicedUnit) -> Result<(), MergeError> {
        let inconsistent = |reason: String| MergeError::Inconsistent {
            name: name.to_owned(),
            reason,
        };
        let place = format!("{}/{}", unit.account_id, unit.region);
        let group = self
            .units
            .entry((unit.account_id.clone(), unit.region.clone()))
            .or_insert_with(|| Group {
                first: name.to_owned(),
                unit: unit.clone(),
                held: BTreeMap::new(),
            });
        if group.unit.bounds != unit.bounds || group.unit.locations != unit.locations {
            return Err(inconsistent(format!(
                "cuts {place} into other slices than {} does",
                group.first
            )));
        }
        if group.unit.seen != unit.seen {
            return Err(inconsistent(format!(
                "saw other digests or log files of {place} than {} did: the bucket changed while the shards ran (run them again)",
                group.first
            )));
        }
        for &i in &unit.held {
            if i >= unit.slice_count() {
                return Err(inconsistent(format!(
                    "holds slice {i} of {place}, which has {}",
                    unit.slice_count()
                )));
            }
            if let Some(other) = group.held.insert(i, name.to_owned()) {
                return Err(inconsistent(format!(
                    "holds slice {i} of {place}, which {other} holds too"
                )));
            }
        }
        Ok(())
    }

    /// Every slice of every sliced unit is held.
    pub(super) fn complete(&self) -> Result<(), MergeError> {
        for group in self.units.values() {
            let count = group.unit.slice_count();
            if let Some(i) = (0..count).find(|i| !group.held.contains_key(i)) {
                return Err(MergeError::Inconsistent {
                    name: group.first.clone(),
                    reason: format!(
                        "slice {i} of the {count} of {}/{} is in no report given",
                        group.unit.account_id, group.unit.region
                    ),
                });
            }
        }
        Ok(())
    }

    /// The locations of the sliced units.
    pub(super) fn locations(&self) -> impl Iterator<Item = &Location> {
        self.units.values().flat_map(|g| &g.unit.locations)
    }
}

/// The parts of sliced chains and locations, gathered from the shards' reports.
#[derive(Default)]
pub(super) struct Pieces {
    chains: BTreeMap<ChainId, Vec<(bool, String, ChainReport)>>,
    locations: BTreeMap<Location, Vec<(bool, String, LocationReport)>>,
}

impl Pieces {
    /// Adds report `name`'s part of a sliced chain; `last`: it holds the last slice.
    pub(super) fn chain(&mut self, name: &str, last: bool, chain: ChainReport) {
        let parts = self.chains.entry(chain.chain.clone()).or_default();
        parts.push((last, name.to_owned(), chain));
    }

    /// Adds report `name`'s part of a sliced location.
    pub(super) fn location(&mut self, name: &str, last: bool, location: LocationReport) {
        let parts = self.locations.entry(location.location.clone()).or_default();
        parts.push((last, name.to_owned(), location));
    }

    /// The chains and locations put back together.
    pub(super) fn join(self) -> Result<(Vec<ChainReport>, Vec<LocationReport>), MergeError> {
        let chains = self
            .chains
            .into_values()
            .map(join_chain)
            .collect::<Result<_, _>>()?;
        let locations = self
            .locations
            .into_values()
            .map(join_location)
            .collect::<Result<_, _>>()?;
        Ok((chains, locations))
    }
}

/// One chain from its slices' parts: the digests put back where the whole walk had them,
/// the coverage pieces joined, the whole-chain facts from the part of the last slice.
fn join_chain(parts: Vec<(bool, String, ChainReport)>) -> Result<ChainReport, MergeError> {
    // Every digest of the chain is in exactly one part: their number is the chain's length
    // (never a length a report merely states).
    let total: usize = parts.iter().map(|(_, _, p)| p.digests.len()).sum();
    let first = parts.first().map(|(_, n, _)| n.clone()).unwrap_or_default();
    let mut digests: Vec<Option<_>> = Vec::new();
    digests.resize_with(total, || None);
    let mut coverage = Vec::new();
    let mut last: Option<ChainReport> = None;
    for (is_last, name, mut part) in parts {
        if let Err(reason) = place(&mut part, &mut digests) {
            return Err(MergeError::Inconsistent {
                name,
                reason: format!("{}: {reason}", part.chain.trail_arn()),
            });
        }
        coverage.append(&mut part.coverage);
        if is_last {
            last = Some(part);
        }
    }
    let Some(mut chain) = last else {
        return Err(MergeError::Inconsistent {
            name: first,
            reason: "a sliced chain without its last slice".into(),
        });
    };
    let trail = chain.chain.trail_arn();
    chain.digests = digests
        .into_iter()
        .enumerate()
        .map(|(i, d)| {
            d.ok_or_else(|| MergeError::Inconsistent {
                name: first.clone(),
                reason: format!("{trail}: no slice holds digest position {i}"),
            })
        })
        .collect::<Result<_, _>>()?;
    chain.coverage = join(coverage);
    chain.tally();
    Ok(chain)
}

/// Puts a part's digests at their positions in `digests` (as long as the whole chain).
fn place(
    part: &mut ChainReport,
    digests: &mut [Option<super::digest::DigestOutcome>],
) -> Result<(), String> {
    let Some(slice) = part.slice.take() else {
        return Err("a sliced chain's part without its slice".into());
    };
    if slice.positions.len() != part.digests.len() {
        return Err("its digests and positions differ in number".into());
    }
    if usize::try_from(slice.of).ok() != Some(digests.len()) {
        return Err(format!(
            "says the chain has {} digests, its slices hold {}",
            slice.of,
            digests.len()
        ));
    }
    for (position, digest) in slice.positions.iter().zip(part.digests.drain(..)) {
        let at = usize::try_from(*position).unwrap_or(usize::MAX);
        match digests.get_mut(at) {
            Some(place @ None) => *place = Some(digest),
            _ => {
                return Err(format!(
                    "digest position {position} twice or beyond the chain"
                ))
            }
        }
    }
    Ok(())
}

/// One location from its slices' parts: the last slice's, with every slice's log files no
/// digest lists, in key order as one listing finds them.
fn join_location(parts: Vec<(bool, String, LocationReport)>) -> Result<LocationReport, MergeError> {
    let mut unlisted = Vec::new();
    let mut last = None;
    let mut place = String::new();
    let first = parts.first().map(|(_, n, _)| n.clone()).unwrap_or_default();
    for (is_last, _, mut part) in parts {
        place = format!("{}/{}", part.location.account_id, part.location.region);
        unlisted.append(&mut part.unlisted);
        if is_last {
            last = Some(part);
        }
    }
    let Some(mut location) = last else {
        return Err(MergeError::Inconsistent {
            name: first,
            reason: format!("a location of {place} without its last slice"),
        });
    };
    unlisted.sort_by(|a, b| a.key.cmp(&b.key));
    location.unlisted = unlisted;
    Ok(location)
}
