//! Coverage: which hours of a chain are verified, and which log files no digest lists.
//!
//! Pure functions over the walk's outcomes. The timeline splits the requested range at
//! every digest's window and gives each piece the worst state of the digests covering it.
//! A piece no digest covers takes what is known about it (an annotation): *before
//! validation started* (before a chain's starting digest, where no log file was delivered),
//! *pending* (after the newest digest, while its successor is not due yet), or *not
//! covered*, with the reason when one is known. A log file no digest lists is *injected*
//! when its delivery time lies well inside verified coverage, *pending* when its digest is
//! not due yet, and *not covered* otherwise: it cannot be verified, but nothing proves it
//! does not belong.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::record::Silence;

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
    /// Before a chain's verified starting digest, with no log file delivered: validation
    /// had not started (a trail created, a region enabled, an account joined), nothing to
    /// cover.
    BeforeStart,
    /// After a chain's newest digest, while the next one is not due yet (a live trail's
    /// last hour).
    Pending,
    /// No digest covers it: validation or logging was off, or digests are gone.
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
            Self::Verified | Self::Empty | Self::BeforeStart | Self::Pending => Severity::Valid,
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
            Self::BeforeStart => "before validation started",
            Self::Pending => "pending",
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

/// Why a span no digest covers is not covered, where something tells.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
#[non_exhaustive]
pub enum CoverageReason {
    /// A new chain starts after it (a starting digest): validation or logging was off.
    ChainGap,
    /// Log files were delivered before the chain's starting digest: validation had not
    /// started while logging had.
    LogsBeforeStart,
    /// CloudTrail's record says log file validation is turned off.
    ValidationOff,
    /// CloudTrail's record says logging stopped (at this time, if it says when).
    LoggingStopped {
        /// `StopLoggingTime`.
        at: Option<DateTime<Utc>>,
    },
    /// CloudTrail's record reports an error delivering digests.
    DigestDeliveryError {
        /// `LatestDigestDeliveryError`.
        error: String,
    },
    /// The digests stop while this location's log files go on, and nothing tells whether
    /// validation was turned off or the newest digests were deleted.
    DigestsStop {
        /// End of the newest digest.
        last_digest: DateTime<Utc>,
        /// The newest log file found after it.
        logs_until: DateTime<Utc>,
    },
    /// This region's digests stop while the trail's go on elsewhere: the region was removed
    /// from the trail or disabled, or its newest digests were deleted.
    RegionStops {
        /// End of the newest digest here.
        last_digest: DateTime<Utc>,
        /// End of the trail's newest verified digest elsewhere, or its latest delivery.
        trail_until: DateTime<Utc>,
    },
}

fn time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

impl CoverageReason {
    /// The reason in words.
    pub fn text(&self) -> String {
        match self {
            Self::ChainGap => "a new chain starts after it: validation or logging was off".into(),
            Self::LogsBeforeStart => {
                "log files were delivered before validation started".into()
            }
            Self::ValidationOff => {
                "CloudTrail says log file validation is turned off".into()
            }
            Self::LoggingStopped { at: Some(at) } => {
                format!("CloudTrail says logging stopped at {}", time(*at))
            }
            Self::LoggingStopped { at: None } => "CloudTrail says logging is stopped".into(),
            Self::DigestDeliveryError { error } => {
                format!("CloudTrail reports a digest delivery error: {error}")
            }
            Self::DigestsStop { last_digest, logs_until } => format!(
                "digests stop at {} while log files continue to {}: either log file validation was turned off or the newest digests were deleted",
                time(*last_digest),
                time(*logs_until)
            ),
            Self::RegionStops { last_digest, trail_until } => format!(
                "this region's digests stop at {} while the trail's continue to {}: the region was removed from the trail or disabled, or its newest digests were deleted",
                time(*last_digest),
                time(*trail_until)
            ),
        }
    }

    /// The reason CloudTrail's record gives for a silence.
    pub(crate) fn of(silence: Silence) -> Self {
        match silence {
            Silence::ValidationOff => Self::ValidationOff,
            Silence::LoggingStopped(at) => Self::LoggingStopped { at },
            Silence::DeliveryError(error) => Self::DigestDeliveryError { error },
        }
    }
}

/// A span of a chain's timeline with one state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CoverageSpan {
    /// Start (inclusive).
    pub from: DateTime<Utc>,
    /// End (exclusive).
    pub to: DateTime<Utc>,
    /// Its state.
    pub state: CoverageState,
    /// Why it is not covered, where something tells.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub reason: Option<CoverageReason>,
}

impl CoverageSpan {
    /// A span without a reason.
    pub fn new(from: DateTime<Utc>, to: DateTime<Utc>, state: CoverageState) -> Self {
        Self {
            from,
            to,
            state,
            reason: None,
        }
    }
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
/// linear in the number of digests after sorting. Time no digest covers takes the state of
/// the annotation over it (sorted, not overlapping), else *not covered*.
pub fn timeline(
    digests: &[DigestOutcome],
    requested: TimeRange,
    annotations: &[CoverageSpan],
) -> Vec<CoverageSpan> {
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
        match open.iter().rev().find(|(_, n)| **n > 0) {
            Some((state, _)) => push(&mut spans, CoverageSpan::new(at, to, *state)),
            None => uncovered(&mut spans, at, to, annotations),
        }
        at = to;
    }
    spans
}

/// Appends `span`, merged into the last one if it continues it with the same state.
fn push(spans: &mut Vec<CoverageSpan>, span: CoverageSpan) {
    match spans.last_mut() {
        Some(last)
            if last.state == span.state && last.reason == span.reason && last.to == span.from =>
        {
            last.to = span.to;
        }
        _ => spans.push(span),
    }
}

/// Appends the time from `from` to `to` that no digest covers, split by the annotations.
fn uncovered(
    spans: &mut Vec<CoverageSpan>,
    mut from: DateTime<Utc>,
    to: DateTime<Utc>,
    annotations: &[CoverageSpan],
) {
    let first = annotations.partition_point(|a| a.to <= from);
    for a in &annotations[first..] {
        if a.from >= to {
            break;
        }
        if a.from > from {
            push(
                spans,
                CoverageSpan::new(from, a.from, CoverageState::NotCovered),
            );
        }
        let end = a.to.min(to);
        push(
            spans,
            CoverageSpan {
                from: from.max(a.from),
                to: end,
                state: a.state,
                reason: a.reason.clone(),
            },
        );
        from = end;
    }
    if from < to {
        push(
            spans,
            CoverageSpan::new(from, to, CoverageState::NotCovered),
        );
    }
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
    /// Delivered after the newest digest, whose successor is not due yet.
    Pending,
    /// Delivered in the hour of a digest that could not be read: it may be listed there.
    Unchecked,
    /// Delivered where no verified digest covers it: it cannot be verified.
    NotCovered,
}

impl UnlistedStatus {
    /// How this counts.
    pub fn severity(self) -> Severity {
        match self {
            Self::Injected => Severity::Invalid,
            Self::Pending => Severity::Valid,
            Self::Unchecked => Severity::Unchecked,
            Self::NotCovered => Severity::Incomplete,
        }
    }

    /// The verdict as the text output prints it after the key.
    pub fn verdict_text(self) -> &'static str {
        match self {
            Self::Injected => "INVALID: no digest lists it, yet it was delivered inside verified coverage (injected)",
            Self::Pending => "PENDING: delivered after the newest digest, whose successor is not due yet",
            Self::Unchecked => "UNCHECKED: delivered in the hour of a digest that could not be read",
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

/// The spans of the timelines at a log file's location that [`classify`] weighs, each
/// sorted by start.
#[derive(Debug, Default)]
pub struct Spans {
    /// Verified or empty.
    pub good: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    /// Whose digest is not due yet.
    pub pending: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    /// Whose digest could not be read.
    pub unchecked: Vec<(DateTime<Utc>, DateTime<Utc>)>,
}

/// Classifies a log file named at `t` that no digest lists.
pub fn classify(t: DateTime<Utc>, spans: &Spans) -> UnlistedStatus {
    let Spans {
        good,
        pending,
        unchecked,
    } = spans;
    let window = (t - Duration::minutes(1), t + DELIVERY_SLACK);
    if covers(window, good.iter()) {
        return UnlistedStatus::Injected;
    }
    if overlaps(window, unchecked) {
        return UnlistedStatus::Unchecked;
    }
    let mut settled: Vec<_> = good.iter().chain(pending).copied().collect();
    settled.sort_unstable();
    if covers(window, settled.iter()) && overlaps(window, pending) {
        UnlistedStatus::Pending
    } else {
        UnlistedStatus::NotCovered
    }
}

/// Whether spans sorted by start cover `[from, to]`.
fn covers<'a>(
    (mut from, to): (DateTime<Utc>, DateTime<Utc>),
    spans: impl Iterator<Item = &'a (DateTime<Utc>, DateTime<Utc>)>,
) -> bool {
    for (s, e) in spans {
        if *s <= from && *e > from {
            from = *e;
            if from >= to {
                return true;
            }
        }
    }
    false
}

fn overlaps(
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    spans: &[(DateTime<Utc>, DateTime<Utc>)],
) -> bool {
    spans.iter().any(|(s, e)| *s < to && *e > from)
}

/// The spans of timelines in `states`, sorted by start, for [`classify`].
pub fn spans_in<'a>(
    timelines: impl IntoIterator<Item = &'a [CoverageSpan]>,
    states: &[CoverageState],
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let mut out: Vec<_> = timelines
        .into_iter()
        .flatten()
        .filter(|s| states.contains(&s.state))
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
    /// Log files exist in the range but no digest of any trail does: validation was off,
    /// or every digest was deleted. Incomplete coverage, unless `deleted` says which.
    pub no_digests: bool,
    /// What proves the digests of this location were deleted, when something does: an
    /// integrity finding.
    pub deleted: Option<DeletionEvidence>,
    /// Why unlisted log files were not classified, if they were not.
    pub not_checked: Option<String>,
}

/// What proves that digests were deleted after the newest one found (or all of them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "evidence", rename_all = "snake_case")]
#[non_exhaustive]
pub enum DeletionEvidence {
    /// CloudTrail's `GetTrailStatus` says the trail delivered digests until a time for
    /// which none is here.
    CloudTrailRecord {
        /// The trail.
        trail_arn: String,
        /// `LatestDigestDeliveryTime`.
        latest_digest_delivery: DateTime<Utc>,
        /// When the record was read.
        read_at: DateTime<Utc>,
    },
    /// This location's log files go on past its newest digest while the trail's digests
    /// elsewhere (or CloudTrail's record) show validation still on.
    LogsContinue {
        /// The newest log file found here.
        logs_until: DateTime<Utc>,
        /// Until when the trail is shown to validate.
        trail_until: DateTime<Utc>,
    },
}

impl DeletionEvidence {
    /// The evidence in words.
    pub fn text(&self) -> String {
        match self {
            Self::CloudTrailRecord {
                trail_arn,
                latest_digest_delivery,
                read_at,
            } => format!(
                "CloudTrail's record of {trail_arn} (read at {}) says it delivered digests until {}",
                time(*read_at),
                time(*latest_digest_delivery)
            ),
            Self::LogsContinue {
                logs_until,
                trail_until,
            } => format!(
                "log files here continue to {} while the trail validated until {}",
                time(*logs_until),
                time(*trail_until)
            ),
        }
    }
}

impl LocationReport {
    /// The worst severity here.
    pub fn severity(&self) -> Severity {
        let no_digests = self.no_digests.then_some(if self.deleted.is_some() {
            Severity::Invalid
        } else {
            Severity::Incomplete
        });
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
            &[],
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
    fn uncovered_time_takes_the_annotations_over_it() {
        use CoverageState::{BeforeStart, NotCovered, Pending, Verified};
        let digests = [
            digest(2, DigestStatus::Valid, 1),
            digest(3, DigestStatus::Valid, 1),
        ];
        let annotations = [
            CoverageSpan::new(at(0, 0), at(2, 0), BeforeStart),
            CoverageSpan {
                from: at(4, 0),
                to: at(5, 0),
                state: NotCovered,
                reason: Some(CoverageReason::ValidationOff),
            },
            CoverageSpan::new(at(5, 30), at(9, 0), Pending),
        ];
        let t = timeline(
            &digests,
            TimeRange {
                start: at(1, 0),
                end: at(6, 0),
            },
            &annotations,
        );
        let got: Vec<_> = t
            .iter()
            .map(|s| (s.from, s.to, s.state, s.reason.clone()))
            .collect();
        assert_eq!(
            got,
            vec![
                (at(1, 0), at(2, 0), BeforeStart, None),
                (at(2, 0), at(4, 0), Verified, None),
                (
                    at(4, 0),
                    at(5, 0),
                    NotCovered,
                    Some(CoverageReason::ValidationOff)
                ),
                (at(5, 0), at(5, 30), NotCovered, None),
                (at(5, 30), at(6, 0), Pending, None),
            ]
        );
        assert!(t.iter().all(|s| s.from < s.to));
    }

    #[test]
    fn a_log_is_injected_only_well_inside_verified_coverage() {
        let spans = Spans {
            good: vec![(at(1, 0), at(2, 0)), (at(2, 0), at(3, 0))],
            ..Spans::default()
        };
        let classify = |t| classify(t, &spans);
        assert_eq!(classify(at(1, 59)), UnlistedStatus::Injected);
        assert_eq!(classify(at(2, 50)), UnlistedStatus::NotCovered);
        assert_eq!(classify(at(1, 0)), UnlistedStatus::NotCovered);
        assert_eq!(classify(at(1, 1)), UnlistedStatus::Injected);
        assert_eq!(classify(at(4, 0)), UnlistedStatus::NotCovered);
    }

    #[test]
    fn a_log_whose_digest_is_not_due_is_pending() {
        let spans = Spans {
            good: vec![(at(1, 0), at(2, 0))],
            pending: vec![(at(2, 0), at(3, 0))],
            unchecked: vec![(at(4, 0), at(5, 0))],
        };
        let classify = |t| classify(t, &spans);
        assert_eq!(classify(at(1, 30)), UnlistedStatus::Injected);
        // Its window reaches into the pending hour: its digest may simply not be due yet.
        assert_eq!(classify(at(1, 50)), UnlistedStatus::Pending);
        assert_eq!(classify(at(2, 30)), UnlistedStatus::Pending);
        // Past the pending hour: not covered.
        assert_eq!(classify(at(2, 50)), UnlistedStatus::NotCovered);
        assert_eq!(classify(at(0, 30)), UnlistedStatus::NotCovered);
        // In the hour of a digest that could not be read: unchecked.
        assert_eq!(classify(at(4, 30)), UnlistedStatus::Unchecked);
    }
}
