//! A shard's time slices of a unit ([`SlicedUnit`]): which digests' log files it checks,
//! and its report cut down to what its slices own once the whole unit is walked.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use sha2::{Digest as _, Sha256};

use super::listing::Leftovers;
use crate::format::key_name::Location;
use crate::report::{
    clip, within, ChainReport, ChainSlice, DigestOutcome, LocationReport, SlicedUnit, Span,
};

/// How far beyond its slices a shard checks the log files of digests: the coverage that
/// classifies a log file no digest lists reaches a quarter of an hour past its name.
const MARGIN: Duration = Duration::hours(1);

/// The spans a shard holds of each sliced account and region; none for a unit held whole.
#[derive(Debug, Default)]
pub(crate) struct Held {
    spans: BTreeMap<(String, String), Vec<Span>>,
}

impl Held {
    pub(crate) fn of(units: &[SlicedUnit]) -> Self {
        let spans = units
            .iter()
            .map(|u| ((u.account_id.clone(), u.region.clone()), u.held_spans()))
            .collect();
        Self { spans }
    }

    fn at(&self, location: &Location) -> Option<&[Span]> {
        if self.spans.is_empty() {
            // Not sharded, or no unit sliced: nothing to look up per digest.
            return None;
        }
        self.spans
            .get(&(location.account_id.clone(), location.region.clone()))
            .map(Vec::as_slice)
    }

    /// Whether the log files of a digest of a chain at `location` are checked here: always
    /// for a unit held whole, else when its window comes within [`MARGIN`] of a slice held.
    pub(crate) fn checks_logs(&self, location: &Location, digest: &DigestOutcome) -> bool {
        let (Some(spans), Some(end)) = (self.at(location), digest.end_time) else {
            return true;
        };
        let start = digest
            .start_time
            .unwrap_or(end - Duration::hours(1))
            .min(end);
        spans.iter().any(|&(from, to)| {
            from.is_none_or(|f| end + MARGIN > f) && to.is_none_or(|t| start - MARGIN < t)
        })
    }
}

/// Whether a held slice owns time `t` (a time unknown is the first slice's).
fn owns(spans: &[Span], t: Option<DateTime<Utc>>) -> bool {
    match t {
        Some(t) => spans.iter().any(|s| within(*s, t)),
        None => spans.iter().any(|(from, _)| from.is_none()),
    }
}

/// Cuts the report of each sliced unit down to what the slices held own, after recording
/// in the unit what every slice's shard sees alike.
pub(crate) fn restrict(
    units: &mut [SlicedUnit],
    chains: &mut [ChainReport],
    locations: &mut [LocationReport],
    leftovers: &mut Leftovers,
) {
    for unit in units {
        let here = |l: &Location| l.account_id == unit.account_id && l.region == unit.region;
        let spans = unit.held_spans();
        let last = unit.holds_last();
        let mut seen = Sha256::new();
        for chain in chains.iter_mut().filter(|c| here(&c.chain.location)) {
            seen.update(format!("{:?}\n", walked(chain)));
            restrict_chain(chain, &spans, last);
        }
        for location in locations.iter_mut().filter(|l| here(&l.location)) {
            seen.update(format!("{:?}\n", found(location)));
            restrict_location(location, &spans, last);
        }
        unit.seen = hex::encode(seen.finalize());
        if !last {
            let under = |key: &str| {
                unit.locations.iter().any(|l| {
                    key.starts_with(&l.log_prefix()) || key.starts_with(&l.digest_prefix())
                })
            };
            leftovers.strays.retain(|s| !under(&s.key));
            leftovers.failures.retain(|f| !under(&f.prefix));
        }
    }
}

/// What every slice's shard decides alike of a chain: the walk and its notices.
fn walked(chain: &ChainReport) -> impl std::fmt::Debug + '_ {
    let digests: Vec<_> = chain
        .digests
        .iter()
        .map(|d| (&d.key, &d.status, d.start_time, d.end_time, d.backfill))
        .collect();
    (&chain.chain, chain.requested, digests, &chain.notices)
}

/// What every slice's shard finds alike at a location.
fn found(l: &LocationReport) -> impl std::fmt::Debug + '_ {
    let unlisted: Vec<_> = l.unlisted.iter().map(|u| &u.key).collect();
    (
        &l.location,
        &l.trails,
        l.listed_from,
        l.listed_to,
        l.logs_found,
        unlisted,
        l.no_digests,
        &l.deleted,
        &l.not_checked,
    )
}

fn restrict_chain(chain: &mut ChainReport, spans: &[Span], last: bool) {
    let of = chain.digests.len() as u64;
    let mut positions = Vec::new();
    let mut kept = Vec::new();
    for (i, d) in std::mem::take(&mut chain.digests).into_iter().enumerate() {
        if owns(spans, d.end_time) {
            positions.push(i as u64);
            kept.push(d);
        }
    }
    chain.digests = kept;
    chain.coverage = clip(&chain.coverage, spans);
    if !last {
        chain.notices.clear();
    }
    chain.tally();
    chain.slice = Some(ChainSlice { of, positions });
}

fn restrict_location(location: &mut LocationReport, spans: &[Span], last: bool) {
    location
        .unlisted
        .retain(|u| owns(spans, Some(u.delivery_time)));
    if !last {
        location.logs_found = 0;
        location.no_digests = false;
        location.deleted = None;
        location.not_checked = None;
    }
}
