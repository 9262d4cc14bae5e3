//! The tail's verdicts on the situations a trail's newest end can be in.

use chrono::TimeZone as _;

use super::*;
use crate::format::trail_record::{TrailConfig, TrailStatus};

fn at(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 3, 1, h, m, 0).unwrap()
}

fn facts(newest: DateTime<Utc>) -> Facts<'static> {
    Facts {
        newest,
        start: at(0, 0),
        end: None,
        as_of: Some(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()),
        logs: None,
        own_logs: None,
        trail_digests: None,
        record: None,
    }
}

fn record(latest: DateTime<Utc>, validation: bool) -> TrailRecord {
    TrailRecord {
        trail_arn: "arn:aws:cloudtrail:us-east-1:111122223333:trail/t".into(),
        read_at: at(23, 0),
        config: Some(TrailConfig {
            name: "t".into(),
            home_region: "us-east-1".into(),
            s3_bucket_name: Some("b".into()),
            s3_key_prefix: None,
            log_file_validation_enabled: validation,
            is_multi_region_trail: false,
            is_organization_trail: false,
        }),
        status: Some(TrailStatus {
            is_logging: Some(true),
            latest_digest_delivery_time: Some(latest),
            ..TrailStatus::default()
        }),
        unavailable: None,
    }
}

/// A span: from, to, state and reason.
type Span = (
    DateTime<Utc>,
    DateTime<Utc>,
    CoverageState,
    Option<CoverageReason>,
);

fn spans(t: &Tail) -> Vec<Span> {
    t.annotations
        .iter()
        .map(|s| (s.from, s.to, s.state, s.reason.clone()))
        .collect()
}

#[test]
fn a_live_trails_last_hour_is_pending() {
    let f = Facts {
        logs: Some(at(10, 50)),
        own_logs: Some(at(10, 50)),
        as_of: Some(at(11, 0)),
        ..facts(at(10, 12))
    };
    let t = tail(&f);
    assert!(t.missing.is_empty());
    assert_eq!(
        spans(&t),
        [(at(10, 12), at(11, 12), CoverageState::Pending, None)]
    );
    assert_eq!(t.reach, Some(at(10, 50)));
    // Two hours on, the hour after the newest digest is due: not covered, and the next
    // one pending.
    let later = tail(&Facts {
        as_of: Some(at(12, 30)),
        ..f
    });
    let stop = CoverageReason::DigestsStop {
        last_digest: at(10, 12),
        logs_until: at(10, 50),
    };
    assert_eq!(
        spans(&later),
        [(
            at(10, 12),
            at(11, 12),
            CoverageState::NotCovered,
            Some(stop)
        )]
    );
}

#[test]
fn cloudtrails_record_of_later_deliveries_proves_the_newest_digests_deleted() {
    let r = record(at(6, 15), true);
    let f = Facts {
        logs: Some(at(5, 42)),
        own_logs: Some(at(5, 42)),
        record: Some((&r, Bearing::Direct)),
        ..facts(at(3, 12))
    };
    let t = tail(&f);
    assert_eq!(t.missing, [at(5, 12), at(4, 12)]);
    assert!(matches!(
        t.evidence,
        Some(DeletionEvidence::CloudTrailRecord { latest_digest_delivery, .. }) if latest_digest_delivery == at(6, 15)
    ));
    // The digest ending 06:12 may have been the one delivered at 06:15, or not yet: the
    // window is not proven missing, and the logs in it are not covered.
    let stop = CoverageReason::DigestsStop {
        last_digest: at(3, 12),
        logs_until: at(5, 42),
    };
    assert_eq!(
        spans(&t),
        [(at(5, 12), at(6, 12), CoverageState::NotCovered, Some(stop))]
    );
    // The record of another region of the trail does not speak for this one.
    let indirect = tail(&Facts {
        record: Some((&r, Bearing::Indirect)),
        ..f
    });
    // ... but with this region's log files going on, it shows validation still on.
    assert_eq!(indirect.missing, [at(4, 12)]);
}

#[test]
fn without_a_record_digests_that_stop_while_logs_go_on_are_not_covered_not_tampered() {
    let t = tail(&Facts {
        logs: Some(at(5, 42)),
        own_logs: Some(at(5, 42)),
        ..facts(at(3, 12))
    });
    assert!(t.missing.is_empty());
    assert_eq!(t.evidence, None);
    let stop = CoverageReason::DigestsStop {
        last_digest: at(3, 12),
        logs_until: at(5, 42),
    };
    assert_eq!(
        spans(&t),
        [(at(3, 12), at(6, 12), CoverageState::NotCovered, Some(stop))]
    );
    assert_eq!(t.reach, Some(at(5, 42)));
}

#[test]
fn validation_turned_off_is_said_and_not_tampering() {
    let r = record(at(3, 20), false);
    let t = tail(&Facts {
        logs: Some(at(5, 42)),
        own_logs: Some(at(5, 42)),
        record: Some((&r, Bearing::Direct)),
        ..facts(at(3, 12))
    });
    assert!(t.missing.is_empty());
    assert_eq!(
        spans(&t),
        [(
            at(3, 12),
            at(6, 12),
            CoverageState::NotCovered,
            Some(CoverageReason::ValidationOff)
        )]
    );
}

#[test]
fn a_region_whose_digests_stop_while_the_trails_go_on_is_not_covered() {
    let f = Facts {
        trail_digests: Some(at(6, 31)),
        ..facts(at(3, 12))
    };
    let t = tail(&f);
    assert!(t.missing.is_empty());
    let stops = CoverageReason::RegionStops {
        last_digest: at(3, 12),
        trail_until: at(6, 31),
    };
    assert_eq!(
        spans(&t),
        [(at(3, 12), at(5, 12), CoverageState::NotCovered, Some(stops))]
    );
    // With this region's log files going on, its digests were deleted.
    let t = tail(&Facts {
        logs: Some(at(6, 0)),
        own_logs: Some(at(6, 0)),
        ..f
    });
    assert_eq!(t.missing, [at(4, 12)]);
    assert!(matches!(
        t.evidence,
        Some(DeletionEvidence::LogsContinue { logs_until, trail_until })
            if logs_until == at(6, 0) && trail_until == at(6, 31)
    ));
}

#[test]
fn regions_ending_within_the_hour_of_each_other_are_no_finding() {
    // An organization or multi-region trail: each region's digests end at its own minute.
    let t = tail(&Facts {
        trail_digests: Some(at(4, 31)),
        ..facts(at(4, 12))
    });
    assert_eq!(
        t,
        Tail {
            reach: Some(at(4, 12)),
            ..Tail::default()
        }
    );
}

#[test]
fn a_requested_end_bounds_the_tail() {
    let r = record(at(9, 15), true);
    let t = tail(&Facts {
        end: Some(at(4, 0)),
        record: Some((&r, Bearing::Direct)),
        ..facts(at(2, 12))
    });
    // Digests ending up to an hour after the end are reached, as the walk reaches them.
    assert_eq!(t.missing, [at(4, 12), at(3, 12)]);
    assert!(t.annotations.is_empty());
    assert_eq!(t.reach, None);
}

#[test]
fn ten_years_of_missing_hours_then_one_span() {
    let r = record(at(0, 0) + Duration::days(3653 + 30), true);
    let t = tail(&Facts {
        record: Some((&r, Bearing::Direct)),
        as_of: None,
        ..facts(at(0, 0))
    });
    assert_eq!(t.missing.len(), MAX_INFERRED);
    assert!(t.rest.is_some());
}
