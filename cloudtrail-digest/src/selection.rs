//! What to validate: which chains (accounts, regions, trail) and which time range. How to
//! report it and what evidence to weigh are the [`crate::Validator`]'s other settings.

use chrono::{DateTime, Duration, Utc};

use crate::error::{Error, Result};
use crate::format::key_name::{ChainId, Location};
use crate::report::TimeRange;

/// Which chains and which time range to validate. Empty lists mean "all".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Selection {
    /// Accounts to validate.
    pub account_ids: Vec<String>,
    /// Digest regions to validate.
    pub regions: Vec<String>,
    /// The trail to validate.
    pub trail_name: Option<String>,
    /// Start of the range; default: the start of the oldest digest found.
    pub start: Option<DateTime<Utc>>,
    /// End of the range; default: the end of the newest digest found.
    pub end: Option<DateTime<Utc>>,
}

impl Selection {
    /// Everything: every chain, every digest.
    pub fn all() -> Self {
        Self::default()
    }

    /// Only these accounts.
    #[must_use]
    pub fn accounts(mut self, ids: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.account_ids = ids.into_iter().map(Into::into).collect();
        self
    }

    /// Only these digest regions.
    #[must_use]
    pub fn regions(mut self, regions: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.regions = regions.into_iter().map(Into::into).collect();
        self
    }

    /// Only this trail.
    #[must_use]
    pub fn trail(mut self, name: impl Into<String>) -> Self {
        self.trail_name = Some(name.into());
        self
    }

    /// From `start` (inclusive), if given, to `end`, if given.
    #[must_use]
    pub fn between(mut self, start: Option<DateTime<Utc>>, end: Option<DateTime<Utc>>) -> Self {
        self.start = start;
        self.end = end;
        self
    }

    /// Whether a location's account and region are selected.
    pub fn matches_location(&self, loc: &Location) -> bool {
        (self.account_ids.is_empty() || self.account_ids.contains(&loc.account_id))
            && (self.regions.is_empty() || self.regions.contains(&loc.region))
    }

    /// Whether a chain is selected (account, region and trail).
    pub fn matches(&self, chain: &ChainId) -> bool {
        self.matches_location(&chain.location)
            && self
                .trail_name
                .as_ref()
                .is_none_or(|t| *t == chain.trail_name)
    }

    /// The range to validate over digests ending at `ends`: the selection's bounds, else
    /// from the hour before the oldest end to the newest end (the reference's default).
    /// `None` when neither the selection nor the digests give a start.
    pub fn range(&self, ends: impl IntoIterator<Item = DateTime<Utc>>) -> Option<TimeRange> {
        let (mut oldest, mut newest) = (None, None);
        for end in ends {
            oldest = Some(oldest.map_or(end, |o: DateTime<Utc>| o.min(end)));
            newest = Some(newest.map_or(end, |n: DateTime<Utc>| n.max(end)));
        }
        let start = self.start.or(oldest.map(|t| t - Duration::hours(1)))?;
        let end = self.end.or(newest).unwrap_or(start).max(start);
        Some(TimeRange { start, end })
    }

    /// Refuses an empty or inverted range (a start at or after the end): a user's
    /// mistake, never a finding.
    ///
    /// # Errors
    /// [`Error::Config`] saying so.
    pub fn check(&self) -> Result<()> {
        match (self.start, self.end) {
            (Some(s), Some(e)) if s > e => Err(Error::Config(format!(
                "start time {s} is after end time {e}"
            ))),
            (Some(s), Some(e)) if s == e => Err(Error::Config(format!(
                "start time and end time are both {s}: an empty range (give an end after the start)"
            ))),
            _ => Ok(()),
        }
    }

    /// Refuses a start with no end after every digest and log file a run found: nothing
    /// to validate, a user's mistake rather than a finding. (A start after the newest
    /// digest alone is not refused: log files after it may show digests deleted.)
    ///
    /// # Errors
    /// [`Error::Config`] naming the newest digest's end.
    pub(crate) fn check_found(&self, newest: Option<DateTime<Utc>>, nothing: bool) -> Result<()> {
        match (self.start, self.end, newest) {
            (Some(s), None, Some(n)) if s > n && nothing => Err(Error::Config(format!(
                "start time {s} is after every digest and log file found (the newest digest ends at {n}): nothing to validate"
            ))),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 5, 1, h, 0, 0).unwrap()
    }

    #[test]
    fn empty_inverted_and_past_the_data_ranges_are_errors() {
        let mut s = Selection::all();
        (s.start, s.end) = (Some(at(3)), Some(at(3)));
        assert!(s.check().unwrap_err().to_string().contains("empty range"));
        (s.start, s.end) = (Some(at(4)), Some(at(3)));
        assert!(s
            .check()
            .unwrap_err()
            .to_string()
            .contains("is after end time"));
        (s.start, s.end) = (Some(at(4)), None);
        assert!(s.check().is_ok());
        let past = s.check_found(Some(at(3)), true).unwrap_err().to_string();
        assert!(past.contains("newest digest ends at"), "{past}");
        assert!(
            s.check_found(Some(at(3)), false).is_ok(),
            "log files after the start"
        );
        assert!(s.check_found(Some(at(4)), true).is_ok());
        assert!(s.check_found(None, true).is_ok());
        // The range of a chain whose digests all end before the start is empty, not
        // inverted.
        let r = s.range([at(1), at(2)]).unwrap();
        assert_eq!((r.start, r.end), (at(4), at(4)));
    }

    #[test]
    fn the_default_range_runs_from_the_hour_before_the_oldest_digest_to_the_newest() {
        let all = Selection::all();
        assert_eq!(all.range([]), None);
        assert_eq!(
            all.range([at(5), at(2), at(9)]),
            Some(TimeRange {
                start: at(1),
                end: at(9)
            })
        );
        let from = Selection::all().between(Some(at(3)), None);
        assert_eq!(
            from.range([]),
            Some(TimeRange {
                start: at(3),
                end: at(3)
            })
        );
        let both = Selection::all().between(Some(at(3)), Some(at(4)));
        assert_eq!(
            both.range([at(9)]),
            Some(TimeRange {
                start: at(3),
                end: at(4)
            })
        );
    }

    #[test]
    fn a_start_after_the_end_is_a_mistake() {
        let bad = Selection::all().between(Some(at(4)), Some(at(3)));
        assert!(matches!(bad.check(), Err(Error::Config(m)) if m.contains("after end time")));
        assert!(Selection::all().check().is_ok());
    }
}
