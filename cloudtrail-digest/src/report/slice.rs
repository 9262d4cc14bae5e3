//! Time slices of a unit of work too heavy for one shard: which a shard holds, and the
//! pieces of a chain's coverage timeline they own.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::coverage::{push_merged, CoverageSpan};
use crate::format::key_name::Location;

/// An account and region cut into time slices, and the slices a shard validated of it.
///
/// Slice `i` runs from `bounds[i - 1]` (from the beginning of time for the first) to
/// `bounds[i]` (to the end of time for the last). A slice owns the digests whose key ends
/// in it (with their log files), the coverage timeline within it, and the log files no
/// digest lists named in it; the shard of the last slice also reports what concerns a
/// chain or location as a whole (notices, counts of log files found). Everything a slice
/// owns is decided as a single run would decide it: the shard walks the whole chains, and
/// checks the log files of every digest whose window comes within an hour of its slices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct SlicedUnit {
    /// The account.
    pub account_id: String,
    /// The region.
    pub region: String,
    /// Its locations.
    pub locations: Vec<Location>,
    /// The boundaries between its slices, oldest first.
    pub bounds: Vec<DateTime<Utc>>,
    /// The slices this shard validated, by index from 0 (oldest).
    pub held: Vec<u32>,
    /// SHA-256 over what every slice's shard sees alike: the chains as walked, their
    /// notices, the log files found. Shards that read the same bucket agree on it.
    pub seen: String,
}

/// A time span, open at either end.
pub(crate) type Span = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

impl SlicedUnit {
    /// How many slices the unit is cut into.
    pub fn slice_count(&self) -> u32 {
        u32::try_from(self.bounds.len() + 1).unwrap_or(u32::MAX)
    }

    /// Slice `i`'s span.
    pub(crate) fn span(&self, i: u32) -> Span {
        let i = i as usize;
        let from = i.checked_sub(1).and_then(|p| self.bounds.get(p)).copied();
        (from, self.bounds.get(i).copied())
    }

    /// The spans of the slices held, oldest first.
    pub(crate) fn held_spans(&self) -> Vec<Span> {
        let mut held = self.held.clone();
        held.sort_unstable();
        held.into_iter().map(|i| self.span(i)).collect()
    }

    /// Whether the shard holds the last slice, which reports the unit's whole-chain facts.
    pub fn holds_last(&self) -> bool {
        self.held.contains(&(self.slice_count() - 1))
    }
}

/// Whether `t` lies in `span`.
pub(crate) fn within((from, to): Span, t: DateTime<Utc>) -> bool {
    from.is_none_or(|f| t >= f) && to.is_none_or(|e| t < e)
}

/// The part of `coverage` (sorted, not overlapping) within `spans` (sorted, disjoint).
pub(crate) fn clip(coverage: &[CoverageSpan], spans: &[Span]) -> Vec<CoverageSpan> {
    let mut out = Vec::new();
    for &(from, to) in spans {
        for c in coverage {
            let start = from.map_or(c.from, |f| c.from.max(f));
            let end = to.map_or(c.to, |t| c.to.min(t));
            if start < end {
                let mut piece = c.clone();
                piece.from = start;
                piece.to = end;
                out.push(piece);
            }
        }
    }
    out
}

/// Pieces of one timeline joined back: sorted, and adjacent pieces of the same state and
/// reason made one, as the timeline of a single run has them.
pub(crate) fn join(mut pieces: Vec<CoverageSpan>) -> Vec<CoverageSpan> {
    pieces.sort_by_key(|p| p.from);
    let mut out: Vec<CoverageSpan> = Vec::with_capacity(pieces.len());
    for p in pieces {
        push_merged(&mut out, p);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::CoverageState;
    use chrono::TimeZone as _;

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 3, 1, h, 0, 0).unwrap()
    }

    #[test]
    fn clipped_pieces_join_back_into_the_timeline() {
        let timeline = vec![
            CoverageSpan::new(at(0), at(5), CoverageState::Verified),
            CoverageSpan::new(at(5), at(6), CoverageState::Missing),
            CoverageSpan::new(at(6), at(9), CoverageState::Verified),
        ];
        let unit = SlicedUnit {
            account_id: "1".into(),
            region: "r".into(),
            locations: Vec::new(),
            bounds: vec![at(2), at(7)],
            held: vec![2, 0],
            seen: String::new(),
        };
        assert_eq!(unit.slice_count(), 3);
        assert!(unit.holds_last());
        let held = unit.held_spans();
        assert_eq!(held, vec![(None, Some(at(2))), (Some(at(7)), None)]);
        let mut pieces = clip(&timeline, &held);
        assert_eq!(pieces.len(), 2);
        pieces.extend(clip(&timeline, &[unit.span(1)]));
        assert_eq!(join(pieces), timeline);
        assert!(within(unit.span(1), at(2)));
        assert!(!within(unit.span(1), at(7)));
    }
}
