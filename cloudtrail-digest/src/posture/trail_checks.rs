//! Checks of the trail itself: logging, every region, management events, validation,
//! digests actually delivered and verifying, CloudWatch Logs.

use std::collections::BTreeSet;

use chrono::Duration;
use serde_json::json;

use super::facts::{PostureFacts, Selectors, TrailFacts};
use super::outcome::{known, known_opt, Outcome};
use crate::report::Severity;

/// How recent the latest delivery must be: digests come hourly, so two hours.
const RECENT: Duration = Duration::hours(2);

/// `trail-logging`: the trail logs and its last delivery did not fail.
pub(crate) fn trail_logging(_: &PostureFacts, trail: &TrailFacts) -> Outcome {
    let status = match known(&trail.status, &json!({})) {
        Ok(s) => s,
        Err(o) => return o,
    };
    let evidence = json!({
        "IsLogging": status.is_logging,
        "LatestDeliveryError": status.latest_delivery_error,
    });
    let mut findings = Vec::new();
    if !status.is_logging {
        findings.push("the trail is not logging".to_owned());
    }
    if let Some(e) = &status.latest_delivery_error {
        findings.push(format!("its latest delivery failed: {e}"));
    }
    Outcome::judge(findings, evidence)
}

/// The regions `trails` cover: every enabled region if one of them is multi-region or an
/// organization's, else their home regions.
fn coverage<'a>(trails: &[&'a TrailFacts], regions: Option<&'a [String]>) -> BTreeSet<&'a str> {
    let mut covered: BTreeSet<&str> = trails.iter().map(|t| t.home_region.as_str()).collect();
    if trails.iter().any(|t| t.multi_region || t.organization) {
        covered.extend(regions.into_iter().flatten().map(String::as_str));
    }
    covered
}

/// `trail-all-regions`: every enabled region has a logging multi-region or organization
/// trail, or a trail of its own. A trail whose status could not be read may be the one
/// that covers a region: then the region is unknown, not uncovered.
pub(crate) fn all_regions(facts: &PostureFacts) -> Outcome {
    if let Some(why) = &facts.trail_listing {
        return Outcome::unknown(why.clone(), json!({}));
    }
    let logging: Vec<&TrailFacts> = facts
        .trails
        .iter()
        .filter(|t| t.status.as_ref().is_ok_and(|s| s.is_logging))
        .collect();
    let unread: Vec<&TrailFacts> = facts.trails.iter().filter(|t| t.status.is_err()).collect();
    let broad: Vec<&str> = logging
        .iter()
        .filter(|t| t.multi_region || t.organization)
        .map(|t| t.arn.as_str())
        .collect();
    let regions = facts.enabled_regions.as_deref().ok();
    let covered = coverage(&logging, regions);
    let maybe = coverage(&[logging.clone(), unread.clone()].concat(), regions);
    let uncovered: Vec<&str> = regions
        .into_iter()
        .flatten()
        .map(String::as_str)
        .filter(|r| !covered.contains(r))
        .collect();
    let evidence = json!({
        "logging_multi_region_or_organization_trails": broad,
        "regions_with_a_logging_trail": covered,
        "uncovered_regions": uncovered,
    });
    if let Err(why) = &facts.enabled_regions {
        // Without the list of regions, a logging multi-region trail still covers them all.
        if broad.is_empty() {
            return Outcome::unknown(why.clone(), evidence);
        }
    }
    if uncovered.iter().all(|r| maybe.contains(r)) && !uncovered.is_empty() {
        if let Some(Err(why)) = unread.first().map(|t| &t.status) {
            return Outcome::unknown(why.clone(), evidence);
        }
    }
    let findings = if uncovered.is_empty() {
        Vec::new()
    } else {
        vec![format!("no logging trail covers {}", uncovered.join(", "))]
    };
    Outcome::judge(findings, evidence)
}

/// Whether classic or advanced selectors record every read and write management event.
fn all_management_events(s: &Selectors) -> Result<(), String> {
    let classic = s.classic.iter().any(|c| {
        c.include_management_events
            && c.read_write_type == "All"
            && c.exclude_management_event_sources.is_empty()
    });
    let advanced = s.advanced.iter().any(|fields| {
        let management = fields
            .iter()
            .any(|f| f.field == "eventCategory" && f.equals.iter().any(|v| v == "Management"));
        // Any other condition narrows it: a readOnly field, an excluded event source.
        let narrowed = fields
            .iter()
            .any(|f| f.field != "eventCategory" || !f.not_equals.is_empty() || f.other_operators);
        management && !narrowed
    });
    if classic || advanced {
        return Ok(());
    }
    if s.classic.is_empty() && s.advanced.is_empty() {
        return Err("the trail has no event selectors: it records nothing".into());
    }
    Err("no selector records every read and write management event (one is narrowed to read or write only, excludes event sources, or leaves management events out)".into())
}

/// `management-events`.
pub(crate) fn management_events(_: &PostureFacts, trail: &TrailFacts) -> Outcome {
    let s = match known(&trail.selectors, &json!({})) {
        Ok(s) => s,
        Err(o) => return o,
    };
    let evidence = json!({ "EventSelectors": s.classic, "AdvancedEventSelectors": s.advanced });
    Outcome::judge(
        all_management_events(s).err().into_iter().collect(),
        evidence,
    )
}

/// `log-file-validation`.
pub(crate) fn log_file_validation(_: &PostureFacts, trail: &TrailFacts) -> Outcome {
    let findings = if trail.log_file_validation {
        Vec::new()
    } else {
        vec!["log file validation is off: nothing proves the log files unaltered".to_owned()]
    };
    Outcome::judge(
        findings,
        json!({ "LogFileValidationEnabled": trail.log_file_validation }),
    )
}

/// `digest-delivery`: CloudTrail delivered a digest in the last two hours without error,
/// and, when asked, the last hours of the trail's chains validate.
pub(crate) fn digest_delivery(facts: &PostureFacts, trail: &TrailFacts) -> Outcome {
    let status = match known(&trail.status, &json!({})) {
        Ok(s) => s,
        Err(o) => return o,
    };
    let mut evidence = json!({
        "LogFileValidationEnabled": trail.log_file_validation,
        "LatestDigestDeliveryTime": status.latest_digest_delivery_time,
        "LatestDigestDeliveryError": status.latest_digest_delivery_error,
        "read_at": facts.read_at,
    });
    let mut findings = Vec::new();
    if !trail.log_file_validation {
        findings.push("log file validation is off: no digest is delivered".to_owned());
    }
    match status.latest_digest_delivery_time {
        None => findings.push("CloudTrail has delivered no digest".to_owned()),
        Some(t) if facts.read_at - t > RECENT => findings.push(format!(
            "the latest digest was delivered at {}, more than two hours ago",
            crate::format::time::display(t)
        )),
        Some(_) => {}
    }
    if let Some(e) = &status.latest_digest_delivery_error {
        findings.push(format!("the latest digest delivery failed: {e}"));
    }
    let recent = match known_opt(trail.recent.as_ref(), &evidence) {
        Ok(r) => r,
        Err(o) if findings.is_empty() => return o,
        Err(_) => None,
    };
    if let Some(r) = recent {
        evidence["validated"] = json!(r);
        match r.severity {
            Severity::Valid if r.digests_valid > 0 => {}
            Severity::Valid | Severity::Incomplete => findings.push(format!(
                "the last {} hours are not all covered by verified digests",
                r.hours
            )),
            Severity::Invalid => findings.push(format!(
                "validating the last {} hours found {} issues, integrity findings among them",
                r.hours, r.issues
            )),
            Severity::Unchecked if findings.is_empty() => {
                return Outcome::unknown(
                    super::facts::Unknown::Error {
                        message: format!(
                            "files of the last {} hours could not be read to validate them",
                            r.hours
                        ),
                    },
                    evidence,
                )
            }
            Severity::Unchecked => {}
        }
    }
    Outcome::judge(findings, evidence)
}

/// `cloudwatch-logs`: a log group is set and receiving; its retention is evidence.
pub(crate) fn cloudwatch_logs(facts: &PostureFacts, trail: &TrailFacts) -> Outcome {
    let mut evidence = json!({ "CloudWatchLogsLogGroupArn": trail.log_group_arn });
    if trail.log_group_arn.is_none() {
        return Outcome::judge(vec!["no CloudWatch Logs log group is set".into()], evidence);
    }
    let status = match known(&trail.status, &evidence) {
        Ok(s) => s,
        Err(o) => return o,
    };
    evidence["LatestCloudWatchLogsDeliveryTime"] =
        json!(status.latest_cloudwatch_logs_delivery_time);
    evidence["LatestCloudWatchLogsDeliveryError"] =
        json!(status.latest_cloudwatch_logs_delivery_error);
    if let Ok(Some(group)) = known_opt(trail.log_group.as_ref(), &evidence) {
        evidence["retentionInDays"] = json!(group.retention_days);
    }
    let mut findings = Vec::new();
    match status.latest_cloudwatch_logs_delivery_time {
        Some(t) if facts.read_at - t <= RECENT => {}
        Some(t) => findings.push(format!(
            "the log group last received events at {}, more than two hours ago",
            crate::format::time::display(t)
        )),
        None => findings.push("the log group has received no events".into()),
    }
    if let Some(e) = &status.latest_cloudwatch_logs_delivery_error {
        findings.push(format!("delivery to the log group failed: {e}"));
    }
    Outcome::judge(findings, evidence)
}
