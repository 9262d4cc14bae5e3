//! Coverage: which hours of a chain are verified, and which log files no digest lists.
//!
//! Pure functions over the walk's outcomes. The timeline splits the requested range at
//! every digest's window and gives each piece the worst state of the digests covering it;
//! a piece no digest covers is *not covered* (validation or logging was off, or digests
//! are gone). A log file no digest lists is *injected* when its delivery time lies well
//! inside verified coverage, and *not covered* otherwise: it cannot be verified, but
//! nothing proves it does not belong.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::layout::Location;
use crate::report::{DigestOutcome, DigestStatus, Severity, TimeRange};

/// The state of a span of a chain's timeline, from best to worst: where windows overlap,
/// the timeline takes the greatest (the order of the variants is the order of `Ord`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CoverageState {
    /// A verified digest with log files covers it.
    Verified,
    /// A verified digest that lists no log file covers it.
    Empty,
    /// No digest covers it: validation or logging was off, or nothing was delivered.
    NotCovered,
    /// Its digest has no signature to verify it with (a local copy without metadata).
    Unverified,
    /// Its digest could not be read.
    Unchecked,
    /// Its digest is missing.
    Missing,
    /// Its digest is invalid.
    Invalid,
}

impl CoverageState {
    /// How this state counts.
    pub fn severity(self) -> Severity {
        match self {
            Self::Verified | Self::Empty => Severity::Valid,
            Self::NotCovered | Self::Unverified => Severity::Incomplete,
            Self::Unchecked => Severity::Unchecked,
            Self::Missing | Self::Invalid => Severity::Invalid,
        }
    }

    /// The state in words, for the text summary.
    pub fn label(self) -> &'static str {
        match self {
            Self::Verified => "verified",
            Self::Empty => "empty",
            Self::NotCovered => "not covered",
            Self::Unverified => "unverified",
            Self::Unchecked => "unchecked",
            Self::Missing => "missing",
            Self::Invalid => "invalid",
        }
    }

    fn of(digest: &DigestOutcome) -> Option<Self> {
        Some(match (&digest.status, digest.severity()) {
            (DigestStatus::OffChain, _) => return None,
            (DigestStatus::NotFound { .. }, _) => Self::Missing,
            (_, Severity::Invalid) => Self::Invalid,
            (_, Severity::Unchecked) => Self::Unchecked,
            (_, Severity::Incomplete) => Self::Unverified,
            (_, Severity::Valid) if digest.log_counts.total() == 0 => Self::Empty,
            (_, Severity::Valid) => Self::Verified,
        })
    }
}

/// A span of a chain's timeline with one state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CoverageSpan {
    /// Start (inclusive).
    pub from: DateTime<Utc>,
    /// End (exclusive).
    pub to: DateTime<Utc>,
    /// Its state.
    pub state: CoverageState,
}

/// The window a digest covers: its start and end times, or the hour before the end time in
/// its key when it did not parse.
fn window(digest: &DigestOutcome) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let end = digest.end_time?;
    let start = digest.start_time.unwrap_or(end - Duration::hours(1));
    (start < end).then_some((start, end))
}

/// The timeline of `requested`, from the chain's digests (standard and backfill), oldest
/// first, adjacent spans of the same state merged. A sweep over the windows' ends, so
/// linear in the number of digests after sorting.
pub fn timeline(digests: &[DigestOutcome], requested: TimeRange) -> Vec<CoverageSpan> {
    // (time, state, +1 opening / -1 closing), clipped to the request.
    let mut events: Vec<(DateTime<Utc>, CoverageState, i64)> = Vec::new();
    for d in digests {
        let (Some((s, e)), Some(state)) = (window(d), CoverageState::of(d)) else {
            continue;
        };
        let (s, e) = (s.max(requested.start), e.min(requested.end));
        if s < e {
            events.push((s, state, 1));
            events.push((e, state, -1));
        }
    }
    events.sort_unstable();
    // How many windows of each state are open; the worst open state wins.
    let mut open: BTreeMap<CoverageState, i64> = BTreeMap::new();
    let mut spans: Vec<CoverageSpan> = Vec::new();
    let mut at = requested.start;
    let mut events = events.into_iter().peekable();
    while at < requested.end {
        while let Some((_, state, delta)) = events.next_if(|(t, _, _)| *t <= at) {
            *open.entry(state).or_default() += delta;
        }
        let to = events.peek().map_or(requested.end, |(t, _, _)| *t);
        let state = open
            .iter()
            .rev()
            .find(|(_, n)| **n > 0)
            .map_or(CoverageState::NotCovered, |(s, _)| *s);
        match spans.last_mut() {
            Some(last) if last.state == state => last.to = to,
            _ => spans.push(CoverageSpan {
                from: at,
                to,
                state,
            }),
        }
        at = to;
    }
    spans
}

/// Whole hours in a span, rounded to the nearest.
pub fn hours(span: &CoverageSpan) -> i64 {
    (span.to - span.from + Duration::minutes(30)).num_hours()
}

/// How a log file that no digest lists is classified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnlistedStatus {
    /// Delivered inside verified coverage, yet no digest lists it: injected.
    Injected,
    /// Delivered where no verified digest covers it: it cannot be verified.
    NotCovered,
}

impl UnlistedStatus {
    /// How this counts.
    pub fn severity(self) -> Severity {
        match self {
            Self::Injected => Severity::Invalid,
            Self::NotCovered => Severity::Incomplete,
        }
    }

    /// The verdict as the text output prints it after the key.
    pub fn verdict_text(self) -> &'static str {
        match self {
            Self::Injected => "INVALID: no digest lists it, yet it was delivered inside verified coverage (injected)",
            Self::NotCovered => "NOT COVERED: no verified digest covers its delivery time",
        }
    }
}

/// A log file that no digest lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnlistedLog {
    /// Its key.
    pub key: String,
    /// The delivery time its name gives (minute precision).
    pub delivery_time: DateTime<Utc>,
    /// Its classification.
    pub status: UnlistedStatus,
}

/// How far past a log file's name time the coverage must reach before the file counts as
/// injected: the name has minute precision and a file is delivered up to a few minutes
/// after it is named, possibly into the next digest's hour.
pub const DELIVERY_SLACK: Duration = Duration::minutes(15);

/// Classifies a log file named at `t`, given the verified spans (verified or empty) of
/// every chain at its location.
pub fn classify(t: DateTime<Utc>, verified: &[(DateTime<Utc>, DateTime<Utc>)]) -> UnlistedStatus {
    let (mut from, to) = (t - Duration::minutes(1), t + DELIVERY_SLACK);
    // The spans are sorted by start; walk them, extending what is covered from `from`.
    for (s, e) in verified {
        if *s <= from && *e > from {
            from = *e;
            if from >= to {
                return UnlistedStatus::Injected;
            }
        }
    }
    UnlistedStatus::NotCovered
}

/// The verified spans of timelines, sorted by start, for [`classify`].
pub fn verified_spans<'a>(
    timelines: impl IntoIterator<Item = &'a [CoverageSpan]>,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let mut out: Vec<_> = timelines
        .into_iter()
        .flatten()
        .filter(|s| s.state.severity() == Severity::Valid)
        .map(|s| (s.from, s.to))
        .collect();
    out.sort_unstable();
    out
}

/// The log files of one location (account and region) and what no digest accounts for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LocationReport {
    /// The bucket listed.
    pub bucket: String,
    /// The location.
    #[serde(flatten)]
    pub location: Location,
    /// The trails whose digests were found here.
    pub trails: Vec<String>,
    /// The time range whose log files were listed (open-ended: up to the newest found).
    pub listed_from: DateTime<Utc>,
    /// End of that range, if bounded.
    pub listed_to: Option<DateTime<Utc>>,
    /// Log files found in the range.
    pub logs_found: u64,
    /// Those no digest lists.
    pub unlisted: Vec<UnlistedLog>,
    /// Log files exist in the range but no digest of any trail does: an integrity finding.
    pub no_digests: bool,
    /// Why unlisted log files were not classified, if they were not.
    pub not_checked: Option<String>,
}

impl LocationReport {
    /// The worst severity here.
    pub fn severity(&self) -> Severity {
        let no_digests = self.no_digests.then_some(Severity::Invalid);
        let skipped = self.not_checked.as_ref().map(|_| Severity::Incomplete);
        self.unlisted
            .iter()
            .map(|l| l.status.severity())
            .chain(no_digests)
            .chain(skipped)
            .max()
            .unwrap_or(Severity::Valid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 3, 1, h, m, 0).unwrap()
    }

    fn digest(start: u32, status: DigestStatus, logs: usize) -> DigestOutcome {
        let mut d = DigestOutcome::placeholder("b", "k", false, status, Some(at(start + 1, 0)));
        d.start_time = Some(at(start, 0));
        let logs = (0..logs).map(|_| crate::report::LogOutcome {
            bucket: "b".into(),
            key: "l".into(),
            status: crate::report::LogStatus::Valid,
            object: crate::store::ObjectInfo::default(),
        });
        d.set_logs(logs, true);
        d
    }

    #[test]
    fn timeline_merges_and_marks_holes() {
        use CoverageState::{Empty, Invalid, Missing, NotCovered, Verified};
        let digests = [
            digest(1, DigestStatus::Valid, 2),
            digest(2, DigestStatus::Valid, 1),
            digest(3, DigestStatus::Valid, 0),
            digest(6, DigestStatus::NotFound { inferred: true }, 0),
            digest(7, DigestStatus::SignatureMismatch, 0),
            digest(7, DigestStatus::OffChain, 0),
        ];
        let t = timeline(
            &digests,
            TimeRange {
                start: at(1, 30),
                end: at(8, 0),
            },
        );
        let got: Vec<_> = t.iter().map(|s| (s.from, s.to, s.state)).collect();
        assert_eq!(
            got,
            vec![
                (at(1, 30), at(3, 0), Verified),
                (at(3, 0), at(4, 0), Empty),
                (at(4, 0), at(6, 0), NotCovered),
                (at(6, 0), at(7, 0), Missing),
                (at(7, 0), at(8, 0), Invalid),
            ]
        );
        assert_eq!(hours(&t[2]), 2);
    }

    #[test]
    fn a_log_is_injected_only_well_inside_verified_coverage() {
        let verified = [(at(1, 0), at(2, 0)), (at(2, 0), at(3, 0))];
        assert_eq!(classify(at(1, 59), &verified), UnlistedStatus::Injected);
        assert_eq!(classify(at(2, 50), &verified), UnlistedStatus::NotCovered);
        assert_eq!(classify(at(1, 0), &verified), UnlistedStatus::NotCovered);
        assert_eq!(classify(at(1, 1), &verified), UnlistedStatus::Injected);
        assert_eq!(classify(at(4, 0), &verified), UnlistedStatus::NotCovered);
    }
}
