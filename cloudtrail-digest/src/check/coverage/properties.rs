//! The coverage timeline over generated digests and annotations (proptest): a partition
//! of the requested range whose every instant has the state the digests and annotations
//! give it.

use chrono::{DateTime, Duration, TimeZone as _, Utc};
use proptest::prelude::*;

use super::timeline;
use crate::report::{
    CoverageReason, CoverageSpan, CoverageState, DigestOutcome, DigestStatus, LogOutcome,
    LogStatus, TimeRange, UncheckedReason,
};
use crate::store::ObjectInfo;

/// A digest of the generated timeline: its window and verdict.
#[derive(Debug, Clone)]
struct Window {
    start: i64,
    minutes: i64,
    status: u8,
    logs: usize,
}

fn t(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 0).unwrap() + Duration::minutes(minutes)
}

fn status(n: u8) -> DigestStatus {
    match n % 6 {
        0 | 1 => DigestStatus::Valid,
        2 => DigestStatus::NotFound { inferred: true },
        3 => DigestStatus::SignatureMismatch,
        4 => DigestStatus::Unchecked {
            reason: UncheckedReason::KeysUnavailable {
                message: "x".into(),
            },
        },
        _ => DigestStatus::OffChain,
    }
}

fn outcome(w: &Window) -> DigestOutcome {
    let mut d = DigestOutcome::placeholder(
        "b",
        "k",
        false,
        status(w.status),
        Some(t(w.start + w.minutes)),
    );
    d.start_time = Some(t(w.start));
    let logs = (0..w.logs).map(|_| LogOutcome {
        bucket: "b".into(),
        key: "l".into(),
        status: LogStatus::Valid,
        object: ObjectInfo::default(),
    });
    d.set_logs(logs, false);
    d
}

/// The state at minute `m`, worked out the slow way.
fn state_at(m: i64, windows: &[Window], annotations: &[CoverageSpan]) -> CoverageState {
    let at = t(m);
    let covering = windows
        .iter()
        .filter(|w| status(w.status) != DigestStatus::OffChain)
        .filter(|w| w.minutes > 0 && w.start <= m && m < w.start + w.minutes)
        .map(|w| match status(w.status) {
            DigestStatus::Valid if w.logs == 0 => CoverageState::Empty,
            DigestStatus::Valid => CoverageState::Verified,
            DigestStatus::NotFound { .. } => CoverageState::Missing,
            DigestStatus::Unchecked { .. } => CoverageState::Unchecked,
            _ => CoverageState::Invalid,
        })
        .max();
    covering.unwrap_or_else(|| {
        annotations
            .iter()
            .find(|a| a.from <= at && at < a.to)
            .map_or(CoverageState::NotCovered, |a| a.state)
    })
}

proptest! {
    #[test]
    fn the_timeline_partitions_the_range_with_the_worst_state_everywhere(
        windows in proptest::collection::vec((0i64..600, 0i64..120, any::<u8>(), 0usize..3), 0..12),
        cuts in proptest::collection::vec(0i64..700, 0..6),
        start in 0i64..300,
        length in 1i64..600,
    ) {
        let windows: Vec<Window> = windows
            .into_iter()
            .map(|(start, minutes, status, logs)| Window { start, minutes, status, logs })
            .collect();
        // Annotations: sorted, not overlapping, cycling through the states a tail gives.
        let mut cuts = cuts;
        cuts.sort_unstable();
        cuts.dedup();
        let annotations: Vec<CoverageSpan> = cuts
            .windows(2)
            .enumerate()
            .map(|(i, c)| match i % 3 {
                0 => CoverageSpan::new(t(c[0]), t(c[1]), CoverageState::Pending),
                1 => CoverageSpan::new(t(c[0]), t(c[1]), CoverageState::BeforeStart),
                _ => CoverageSpan {
                    reason: Some(CoverageReason::ValidationOff),
                    ..CoverageSpan::new(t(c[0]), t(c[1]), CoverageState::NotCovered)
                },
            })
            .collect();
        let digests: Vec<DigestOutcome> = windows.iter().map(outcome).collect();
        let range = TimeRange { start: t(start), end: t(start + length) };
        let spans = timeline(&digests, range, &annotations);
        // A partition: from the start to the end, no hole, no empty span.
        prop_assert_eq!(spans.first().map(|s| s.from), Some(range.start));
        prop_assert_eq!(spans.last().map(|s| s.to), Some(range.end));
        for pair in spans.windows(2) {
            prop_assert_eq!(pair[0].to, pair[1].from);
            prop_assert!(pair[0].state != pair[1].state || pair[0].reason != pair[1].reason);
        }
        prop_assert!(spans.iter().all(|s| s.from < s.to));
        // Every minute has the state the digests and annotations give it.
        for m in start..start + length {
            let span = spans.iter().find(|s| s.from <= t(m) && t(m) < s.to).unwrap();
            prop_assert_eq!(span.state, state_at(m, &windows, &annotations), "minute {}", m);
        }
    }
}
