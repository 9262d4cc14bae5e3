//! Every check over the facts, into the report.

use super::catalogue::{self as c, CheckInfo};
use super::facts::{PostureFacts, TrailFacts};
use super::outcome::Outcome;
use super::report::{
    Check, CheckCounts, CheckStatus, Mappings, PostureReport, TrailPosture, POSTURE_SCHEMA_VERSION,
};
use super::{access_checks, bucket_checks, key_checks, trail_checks};

/// A check of one trail.
type TrailCheck = fn(&PostureFacts, &TrailFacts) -> Outcome;

/// Each trail check with its function, in report order.
const TRAIL_CHECKS: [(&CheckInfo, TrailCheck); 13] = [
    (&c::TRAIL_LOGGING, trail_checks::trail_logging),
    (&c::MANAGEMENT_EVENTS, trail_checks::management_events),
    (&c::LOG_FILE_VALIDATION, trail_checks::log_file_validation),
    (&c::DIGEST_DELIVERY, trail_checks::digest_delivery),
    (&c::CLOUDWATCH_LOGS, trail_checks::cloudwatch_logs),
    (&c::BUCKET_DEDICATED, bucket_checks::dedicated),
    (&c::BUCKET_ACCESS_LOGGING, bucket_checks::access_logging),
    (&c::BUCKET_NOT_PUBLIC, bucket_checks::not_public),
    (
        &c::BUCKET_DELETE_PROTECTION,
        bucket_checks::delete_protection,
    ),
    (&c::KMS_CMK, key_checks::kms_cmk),
    (&c::KMS_ROTATION, key_checks::kms_rotation),
    (&c::TRAIL_ADMIN_ACCESS, access_checks::trail_admin_access),
    (&c::RETENTION, bucket_checks::retention),
];

/// The check named by `info`, concluded as `outcome`, its remediation filled in for
/// `trail`.
fn check(info: &CheckInfo, outcome: Outcome, trail: Option<&TrailFacts>) -> Check {
    let fill = |text: &str| {
        let Some(t) = trail else {
            return text.replace("{trail}", "TRAIL_ARN");
        };
        text.replace("{trail}", &t.arn)
            .replace("{bucket}", t.bucket.as_deref().unwrap_or("BUCKET"))
            .replace("{key}", t.kms_key_id.as_deref().unwrap_or("KEY_ID"))
            .replace("{region}", &t.home_region)
    };
    Check {
        id: info.id.to_owned(),
        title: info.title.to_owned(),
        severity: info.severity,
        status: outcome.status,
        unknown: outcome.unknown,
        findings: outcome.findings,
        evidence: outcome.evidence,
        remediation: fill(info.remediation),
        mappings: Mappings {
            cis: info.cis.iter().map(|s| (*s).to_owned()).collect(),
            security_hub: info.security_hub.iter().map(|s| (*s).to_owned()).collect(),
        },
    }
}

/// The posture report of the facts: the account's checks, then each trail's.
pub fn evaluate(facts: &PostureFacts) -> PostureReport {
    let account_checks = vec![check(
        &c::TRAIL_ALL_REGIONS,
        trail_checks::all_regions(facts),
        facts.trails.first(),
    )];
    let trails: Vec<TrailPosture> = facts
        .trails
        .iter()
        .map(|t| TrailPosture {
            arn: t.arn.clone(),
            name: t.name.clone(),
            home_region: t.home_region.clone(),
            checks: TRAIL_CHECKS
                .iter()
                .map(|(info, f)| check(info, f(facts, t), Some(t)))
                .collect(),
        })
        .collect();
    let mut totals = CheckCounts::default();
    let all = account_checks
        .iter()
        .chain(trails.iter().flat_map(|t| &t.checks));
    for check in all.clone() {
        match check.status {
            CheckStatus::Pass => totals.pass += 1,
            CheckStatus::Fail => totals.fail += 1,
            CheckStatus::Unknown => totals.unknown += 1,
        }
    }
    PostureReport {
        schema_version: POSTURE_SCHEMA_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        account_id: facts.account_id.as_ref().ok().cloned(),
        read_at: facts.read_at,
        status: all.map(|c| c.status).max().unwrap_or(CheckStatus::Unknown),
        totals,
        account_checks,
        trails,
    }
}
