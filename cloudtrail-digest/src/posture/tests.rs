//! Every check over a compliant account, then over one mutation per way each can fail.

use chrono::{Duration, TimeZone as _, Utc};
use serde_json::json;

use super::*;
use crate::report::Severity;

const TRAIL: &str = "arn:aws:cloudtrail:us-east-1:111122223333:trail/main";

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
}

/// An account whose one trail follows every practice.
fn compliant() -> PostureFacts {
    let mut facts = PostureFacts::new(now(), 365);
    facts.account_id = Ok("111122223333".into());
    facts.enabled_regions = Ok(vec!["us-east-1".into(), "eu-west-1".into()]);
    facts.account_public_access_block = Ok(None);
    let mut role = Principal {
        kind: "role".into(),
        arn: "arn:aws:iam::111122223333:role/trail-admin".into(),
        ..Principal::default()
    };
    role.documents.push(json!({"Statement": [{"Effect": "Allow",
        "Action": "cloudtrail:StopLogging", "Resource": "*"}]}));
    role.trust_policy = Some(json!({"Statement": [{"Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "sts:AssumeRole",
        "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]}));
    facts.principals = Ok(vec![role]);
    let mut t = TrailFacts::new(TRAIL, "main", "us-east-1");
    t.multi_region = true;
    t.bucket = Some("trail-bucket".into());
    t.log_file_validation = true;
    t.kms_key_id = Some("arn:aws:kms:us-east-1:111122223333:key/k".into());
    t.log_group_arn = Some("arn:aws:logs:us-east-1:111122223333:log-group:ct:*".into());
    t.status = Ok(StatusFacts {
        is_logging: true,
        latest_digest_delivery_time: Some(now() - Duration::minutes(40)),
        latest_cloudwatch_logs_delivery_time: Some(now() - Duration::minutes(3)),
        ..StatusFacts::default()
    });
    t.selectors = Ok(Selectors {
        classic: vec![ClassicSelector {
            read_write_type: "All".into(),
            include_management_events: true,
            exclude_management_event_sources: Vec::new(),
        }],
        advanced: Vec::new(),
    });
    let on = PublicAccessBlock {
        block_public_acls: true,
        ignore_public_acls: true,
        block_public_policy: true,
        restrict_public_buckets: true,
    };
    t.bucket_facts = Some(Ok(BucketFacts {
        policy: Some(json!({"Statement": [{"Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject",
            "Resource": "arn:aws:s3:::trail-bucket/AWSLogs/111122223333/*",
            "Condition": {"StringEquals": {"aws:SourceArn": TRAIL}}}]})),
        policy_is_public: Some(false),
        public_access_block: Some(on),
        object_ownership: Some("BucketOwnerEnforced".into()),
        logging_target: Some("access-logs".into()),
        versioning: Some("Enabled".into()),
        mfa_delete: Some("Enabled".into()),
        lifecycle: vec![LifecycleRule {
            prefix: "AWSLogs/".into(),
            expiration_days: Some(400),
            ..LifecycleRule::default()
        }],
        top_level: vec!["AWSLogs/".into()],
        ..BucketFacts::default()
    }));
    t.key = Some(Ok(KeyFacts {
        arn: "arn:aws:kms:us-east-1:111122223333:key/k".into(),
        manager: "CUSTOMER".into(),
        state: "Enabled".into(),
        rotation: Ok(true),
    }));
    t.log_group = Some(Ok(LogGroupFacts {
        name: "ct".into(),
        retention_days: Some(365),
    }));
    t.recent = Some(Ok(RecentValidation {
        hours: 24,
        severity: Severity::Valid,
        digests_valid: 24,
        issues: 0,
    }));
    facts.trails.push(t);
    facts
}

fn status_of(facts: &PostureFacts, id: &str) -> (CheckStatus, Vec<String>) {
    let report = evaluate(facts);
    let check = report.checks().find(|c| c.id == id).unwrap();
    (check.status, check.findings.clone())
}

fn trail(facts: &mut PostureFacts) -> &mut TrailFacts {
    &mut facts.trails[0]
}

fn bucket(facts: &mut PostureFacts) -> &mut BucketFacts {
    trail(facts)
        .bucket_facts
        .as_mut()
        .unwrap()
        .as_mut()
        .unwrap()
}

/// Adds a statement to the bucket policy.
fn add_statement(facts: &mut PostureFacts, statement: serde_json::Value) {
    let policy = bucket(facts).policy.as_mut().unwrap();
    policy["Statement"].as_array_mut().unwrap().push(statement);
}

#[test]
fn a_compliant_account_passes_every_check() {
    let report = evaluate(&compliant());
    let failing: Vec<_> = report
        .checks()
        .filter(|c| c.status != CheckStatus::Pass)
        .map(|c| (c.id.clone(), c.findings.clone(), c.unknown.clone()))
        .collect();
    assert!(failing.is_empty(), "{failing:#?}");
    assert_eq!(report.status, CheckStatus::Pass);
    let ids: Vec<&str> = report.checks().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, check_ids());
    assert_eq!(report.totals.pass, 14);
    for c in report.checks() {
        for placeholder in ["{trail}", "{bucket}", "{key}", "{region}"] {
            assert!(
                !c.remediation.contains(placeholder),
                "{}: {}",
                c.id,
                c.remediation
            );
        }
    }
}

/// A mutation of the compliant account.
type Mutation = fn(&mut PostureFacts);

/// Each way to break a practice: the check that must fail, words of its finding, and the
/// mutation.
#[allow(clippy::too_many_lines)] // a table, one row per case
fn failing_cases() -> Vec<(&'static str, &'static str, Mutation)> {
    vec![
        ("trail-logging", "not logging", |f| {
            trail(f).status.as_mut().unwrap().is_logging = false;
        }),
        ("trail-logging", "delivery failed", |f| {
            trail(f).status.as_mut().unwrap().latest_delivery_error = Some("AccessDenied".into());
        }),
        ("trail-all-regions", "eu-west-1", |f| {
            trail(f).multi_region = false;
        }),
        ("management-events", "no selector", |f| {
            trail(f).selectors.as_mut().unwrap().classic[0].read_write_type = "WriteOnly".into();
        }),
        ("management-events", "records nothing", |f| {
            trail(f).selectors = Ok(Selectors::default());
        }),
        ("log-file-validation", "validation is off", |f| {
            trail(f).log_file_validation = false;
        }),
        ("digest-delivery", "more than two hours", |f| {
            trail(f)
                .status
                .as_mut()
                .unwrap()
                .latest_digest_delivery_time = Some(now() - Duration::hours(5));
        }),
        ("digest-delivery", "integrity findings", |f| {
            trail(f).recent = Some(Ok(RecentValidation {
                hours: 24,
                severity: Severity::Invalid,
                digests_valid: 20,
                issues: 3,
            }));
        }),
        ("cloudwatch-logs", "no CloudWatch", |f| {
            trail(f).log_group_arn = None;
        }),
        ("cloudwatch-logs", "more than two hours", |f| {
            trail(f)
                .status
                .as_mut()
                .unwrap()
                .latest_cloudwatch_logs_delivery_time = Some(now() - Duration::days(2));
        }),
        ("bucket-dedicated", "more than this trail", |f| {
            bucket(f).top_level.push("app-data/".into());
        }),
        ("bucket-dedicated", "without an aws:SourceArn", |f| {
            bucket(f).policy = Some(json!({"Statement": {"Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject",
                "Resource": "*"}}));
        }),
        ("bucket-access-logging", "logging is off", |f| {
            bucket(f).logging_target = None;
        }),
        ("bucket-not-public", "Block Public Access", |f| {
            bucket(f).public_access_block = None;
        }),
        ("bucket-not-public", "ACL grants", |f| {
            bucket(f).acl_grants.push((
                "http://acs.amazonaws.com/groups/global/AllUsers".into(),
                "READ".into(),
            ));
        }),
        ("bucket-not-public", "allows everyone", |f| {
            add_statement(
                f,
                json!({"Effect": "Allow", "Principal": "*",
                "Action": "s3:GetObject", "Resource": "*"}),
            );
        }),
        ("bucket-delete-protection", "versioning is off", |f| {
            bucket(f).versioning = None;
        }),
        ("bucket-delete-protection", "GOVERNANCE", |f| {
            bucket(f).mfa_delete = None;
            bucket(f).object_lock = Some((Some("GOVERNANCE".into()), Some(400)));
        }),
        ("bucket-delete-protection", "delete or overwrite", |f| {
            add_statement(
                f,
                json!({"Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111122223333:user/ops"},
                "Action": "s3:Delete*", "Resource": "*"}),
            );
        }),
        ("kms-cmk", "S3-managed", |f| trail(f).key = None),
        ("kms-cmk", "PendingDeletion", |f| {
            trail(f).key.as_mut().unwrap().as_mut().unwrap().state = "PendingDeletion".into();
        }),
        ("kms-rotation", "rotation", |f| {
            trail(f).key.as_mut().unwrap().as_mut().unwrap().rotation = Ok(false);
        }),
        ("trail-admin-access", "long-lived", |f| {
            f.principals.as_mut().unwrap().push(Principal {
                kind: "user".into(),
                arn: "arn:aws:iam::111122223333:user/ops".into(),
                aws_managed: vec!["AWSCloudTrail_FullAccess".into()],
                ..Principal::default()
            });
        }),
        ("trail-admin-access", "without MFA", |f| {
            f.principals.as_mut().unwrap()[0].trust_policy = None;
        }),
        ("retention", "less than 365", |f| {
            bucket(f).lifecycle[0].expiration_days = Some(90);
        }),
        ("retention", "before the log files", |f| {
            bucket(f).lifecycle.push(LifecycleRule {
                prefix: "AWSLogs/111122223333/CloudTrail-Digest/".into(),
                expiration_days: Some(370),
                ..LifecycleRule::default()
            });
        }),
    ]
}

/// Each mutation, and the check it must fail with a finding containing the words given.
#[test]
fn each_check_fails_on_what_breaks_its_practice() {
    let cases = failing_cases();
    let mut seen = std::collections::BTreeSet::new();
    for (id, words, mutate) in cases {
        let mut facts = compliant();
        mutate(&mut facts);
        let (status, findings) = status_of(&facts, id);
        assert_eq!(status, CheckStatus::Fail, "{id} ({words}): {findings:?}");
        assert!(
            findings.iter().any(|f| f.contains(words)),
            "{id}: {findings:?} does not say {words:?}"
        );
        // Nothing else fails for it, but what follows from it: a trail that does not log
        // covers no region, and one without validation delivers no digest.
        let follows = [
            ("trail-logging", "trail-all-regions"),
            ("log-file-validation", "digest-delivery"),
        ];
        let others: Vec<_> = evaluate(&facts)
            .checks()
            .filter(|c| c.status == CheckStatus::Fail && c.id != id)
            .filter(|c| !follows.contains(&(id, c.id.as_str())))
            .map(|c| c.id.clone())
            .collect();
        assert!(others.is_empty(), "{id} ({words}) also fails {others:?}");
        seen.insert(id);
    }
    assert_eq!(
        seen.len(),
        check_ids().len(),
        "a check without a failing case"
    );
}

#[test]
fn what_cannot_be_read_is_unknown_never_pass_or_fail() {
    let denied = Unknown::AccessDenied {
        message: "GetBucketPolicy: AccessDenied".into(),
    };
    let mut facts = compliant();
    trail(&mut facts).bucket_facts = Some(Err(denied.clone()));
    trail(&mut facts).status = Err(denied.clone());
    facts.principals = Err(denied.clone());
    let report = evaluate(&facts);
    for id in [
        "bucket-dedicated",
        "bucket-not-public",
        "bucket-delete-protection",
        "retention",
        "trail-logging",
        "digest-delivery",
        "trail-admin-access",
    ] {
        let c = report.checks().find(|c| c.id == id).unwrap();
        assert_eq!(c.status, CheckStatus::Unknown, "{id}");
        assert_eq!(c.unknown.as_ref(), Some(&denied), "{id}");
    }
    assert_eq!(report.status, CheckStatus::Unknown);
    // A key's rotation without a key does not apply; the missing key itself fails.
    let mut facts = compliant();
    trail(&mut facts).key = None;
    let report = evaluate(&facts);
    let rotation = report.checks().find(|c| c.id == "kms-rotation").unwrap();
    assert!(matches!(
        rotation.unknown,
        Some(Unknown::NotApplicable { .. })
    ));
    assert_eq!(report.status, CheckStatus::Fail);
}

#[test]
fn conflicting_practices_are_said_not_failed() {
    // Object Lock in COMPLIANCE mode protects the versions: MFA delete (root only) is not
    // needed, and expiration before the lock's end only adds delete markers.
    let mut facts = compliant();
    bucket(&mut facts).mfa_delete = None;
    bucket(&mut facts).object_lock = Some((Some("COMPLIANCE".into()), Some(3650)));
    let report = evaluate(&facts);
    for id in ["bucket-delete-protection", "retention"] {
        let c = report.checks().find(|c| c.id == id).unwrap();
        assert_eq!(c.status, CheckStatus::Pass, "{id}: {:?}", c.findings);
        assert_eq!(c.findings.len(), 1, "{id}: {:?}", c.findings);
    }
}

#[test]
fn organization_trails_and_lifecycle_prefixes() {
    // A rule for the organization's folder applies to the member accounts' files.
    let mut facts = compliant();
    bucket(&mut facts).lifecycle[0].prefix = "AWSLogs/o-abc123/".into();
    bucket(&mut facts).lifecycle[0].expiration_days = Some(30);
    assert_eq!(status_of(&facts, "retention").0, CheckStatus::Fail);
    // A rule for another folder does not.
    bucket(&mut facts).lifecycle[0].prefix = "tmp/".into();
    assert_eq!(status_of(&facts, "retention").0, CheckStatus::Pass);
}
