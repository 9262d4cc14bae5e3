//! Facts of the trails: which exist (`DescribeTrails` with shadow trails, in each region),
//! their status and their event selectors.

use std::collections::BTreeMap;

use aws_sdk_cloudtrail::primitives::DateTime as AwsTime;
use aws_sdk_cloudtrail::types::Trail;
use chrono::{DateTime, Utc};

use super::errors::unknown;
use crate::aws::api::Clients;
use crate::posture::{
    ClassicSelector, FieldSelector, Known, Selectors, StatusFacts, TrailFacts, Unknown,
};

fn time(t: Option<&AwsTime>) -> Option<DateTime<Utc>> {
    t.and_then(|t| DateTime::from_timestamp(t.secs(), t.subsec_nanos()))
}

/// A trail's configuration, as `DescribeTrails` or `GetTrail` gives it.
fn trail_facts(t: &Trail, region: &str) -> TrailFacts {
    let mut f = TrailFacts::new(
        t.trail_arn().unwrap_or_default(),
        t.name().unwrap_or_default(),
        t.home_region().unwrap_or(region),
    );
    f.multi_region = t.is_multi_region_trail().unwrap_or(false);
    f.organization = t.is_organization_trail().unwrap_or(false);
    f.bucket = t.s3_bucket_name().map(str::to_owned);
    f.prefix = t.s3_key_prefix().map(str::to_owned);
    f.log_file_validation = t.log_file_validation_enabled().unwrap_or(false);
    f.kms_key_id = t.kms_key_id().map(str::to_owned);
    f.log_group_arn = t.cloud_watch_logs_log_group_arn().map(str::to_owned);
    f
}

/// Every trail visible in `regions` (a trail of another region seen through its shadow
/// trail once), with the regions it was seen in; or, when ARNs are given, those trails.
pub(super) async fn trails(
    api: &Clients,
    regions: &[String],
    arns: &[String],
) -> Result<Vec<TrailFacts>, Unknown> {
    let mut found: BTreeMap<String, TrailFacts> = BTreeMap::new();
    if !arns.is_empty() {
        for arn in arns {
            let region = arn.split(':').nth(3).unwrap_or_default();
            let out = api
                .cloudtrail(region)
                .get_trail()
                .name(arn)
                .send()
                .await
                .map_err(|e| unknown(&format!("GetTrail {arn}"), &e))?;
            if let Some(t) = out.trail() {
                let mut f = trail_facts(t, region);
                f.seen_in.push(region.to_owned());
                found.insert(f.arn.clone(), f);
            }
        }
        return Ok(found.into_values().collect());
    }
    for region in regions {
        let out = api
            .cloudtrail(region)
            .describe_trails()
            .include_shadow_trails(true)
            .send()
            .await
            .map_err(|e| unknown(&format!("DescribeTrails in {region}"), &e))?;
        for t in out.trail_list() {
            let Some(arn) = t.trail_arn() else { continue };
            found
                .entry(arn.to_owned())
                .or_insert_with(|| trail_facts(t, region))
                .seen_in
                .push(region.clone());
        }
    }
    Ok(found.into_values().collect())
}

/// `GetTrailStatus`, in the trail's home region.
pub(super) async fn status(api: &Clients, trail: &TrailFacts) -> Known<StatusFacts> {
    let s = api
        .cloudtrail(&trail.home_region)
        .get_trail_status()
        .name(&trail.arn)
        .send()
        .await
        .map_err(|e| unknown("GetTrailStatus", &e))?;
    Ok(StatusFacts {
        is_logging: s.is_logging().unwrap_or(false),
        latest_delivery_error: s.latest_delivery_error().map(str::to_owned),
        latest_digest_delivery_time: time(s.latest_digest_delivery_time()),
        latest_digest_delivery_error: s.latest_digest_delivery_error().map(str::to_owned),
        latest_cloudwatch_logs_delivery_time: time(s.latest_cloud_watch_logs_delivery_time()),
        latest_cloudwatch_logs_delivery_error: s
            .latest_cloud_watch_logs_delivery_error()
            .map(str::to_owned),
    })
}

/// `GetEventSelectors`, in the trail's home region.
pub(super) async fn selectors(api: &Clients, trail: &TrailFacts) -> Known<Selectors> {
    let out = api
        .cloudtrail(&trail.home_region)
        .get_event_selectors()
        .trail_name(&trail.arn)
        .send()
        .await
        .map_err(|e| unknown("GetEventSelectors", &e))?;
    let classic = out
        .event_selectors()
        .iter()
        .map(|s| ClassicSelector {
            read_write_type: s.read_write_type().map_or("All", |r| r.as_str()).to_owned(),
            include_management_events: s.include_management_events().unwrap_or(true),
            exclude_management_event_sources: s.exclude_management_event_sources().to_vec(),
        })
        .collect();
    let advanced = out
        .advanced_event_selectors()
        .iter()
        .map(|a| {
            a.field_selectors()
                .iter()
                .map(|f| FieldSelector {
                    field: f.field().to_owned(),
                    equals: f.equals().to_vec(),
                    not_equals: f.not_equals().to_vec(),
                    other_operators: !(f.starts_with().is_empty()
                        && f.ends_with().is_empty()
                        && f.not_starts_with().is_empty()
                        && f.not_ends_with().is_empty()),
                })
                .collect()
        })
        .collect();
    Ok(Selectors { classic, advanced })
}
