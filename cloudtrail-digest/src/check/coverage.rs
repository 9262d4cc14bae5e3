//! Coverage: which hours of a chain are verified, and how to classify the log files no
//! digest lists.
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

use crate::format::trail_record::Silence;
use crate::report::push_merged;
use crate::report::{
    CoverageReason, CoverageSpan, CoverageState, DigestOutcome, DigestStatus, Severity, TimeRange,
    UnlistedStatus,
};
use chrono::{DateTime, Duration, Utc};

/// The state of the time a digest covers; `None` for a digest off the chain, which covers
/// nothing.
fn state_of(digest: &DigestOutcome) -> Option<CoverageState> {
    Some(match (&digest.status, digest.severity()) {
        (DigestStatus::OffChain, _) => return None,
        (DigestStatus::NotFound { .. }, _) => CoverageState::Missing,
        (_, Severity::Invalid) => CoverageState::Invalid,
        (_, Severity::Unchecked) => CoverageState::Unchecked,
        (_, Severity::Incomplete) => CoverageState::Unverified,
        (_, Severity::Valid) if digest.log_counts.total() == 0 => CoverageState::Empty,
        (_, Severity::Valid) => CoverageState::Verified,
    })
}

/// The reason CloudTrail's record gives for a silence.
pub(crate) fn reason_of(silence: Silence) -> CoverageReason {
    match silence {
        Silence::ValidationOff => CoverageReason::ValidationOff,
        Silence::LoggingStopped(at) => CoverageReason::LoggingStopped { at },
        Silence::DeliveryError(error) => CoverageReason::DigestDeliveryError { error },
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
pub(crate) fn timeline(
    digests: &[DigestOutcome],
    requested: TimeRange,
    annotations: &[CoverageSpan],
) -> Vec<CoverageSpan> {
    // (time, state, +1 opening / -1 closing), clipped to the request.
    let mut events: Vec<(DateTime<Utc>, CoverageState, i64)> = Vec::new();
    for d in digests {
        let (Some((s, e)), Some(state)) = (window(d), state_of(d)) else {
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
            Some((state, _)) => push_merged(&mut spans, CoverageSpan::new(at, to, *state)),
            None => uncovered(&mut spans, at, to, annotations),
        }
        at = to;
    }
    spans
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
            push_merged(
                spans,
                CoverageSpan::new(from, a.from, CoverageState::NotCovered),
            );
        }
        let end = a.to.min(to);
        push_merged(
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
        push_merged(
            spans,
            CoverageSpan::new(from, to, CoverageState::NotCovered),
        );
    }
}

/// How far past a log file's name time the coverage must reach before the file counts as
/// injected: the name has minute precision and a file is delivered up to a few minutes
/// after it is named, possibly into the next digest's hour.
pub(crate) const DELIVERY_SLACK: Duration = Duration::minutes(15);

/// The spans of the timelines at a log file's location that [`classify`] weighs, each
/// sorted by start.
#[derive(Debug, Default)]
pub(crate) struct Spans {
    /// Verified or empty.
    pub good: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    /// Whose digest is not due yet.
    pub pending: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    /// Whose digest could not be read.
    pub unchecked: Vec<(DateTime<Utc>, DateTime<Utc>)>,
}

/// Classifies a log file named at `t` that no digest lists.
pub(crate) fn classify(t: DateTime<Utc>, spans: &Spans) -> UnlistedStatus {
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
pub(crate) fn spans_in<'a>(
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

#[cfg(test)]
mod properties;

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
        assert_eq!(t[2].hours(), 2);
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
