//! CloudTrail's own record of a trail: `GetTrail` and `GetTrailStatus` in its home region,
//! read once per trail, for the evidence rules (digests deleted after CloudTrail delivered
//! them, validation turned off, logging stopped). Needs only `cloudtrail:GetTrail` and
//! `cloudtrail:GetTrailStatus`; a trail the caller cannot read gets a record that says
//! why, and the run goes on without that evidence.

use std::collections::BTreeSet;

use aws_sdk_cloudtrail::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_cloudtrail::primitives::DateTime as AwsTime;
use aws_sdk_cloudtrail::types::Trail;
use chrono::{DateTime, Utc};

use super::api::Clients;
use crate::format::key_name::ChainId;
use crate::format::trail_record::{TrailConfig, TrailRecord, TrailRecordSource, TrailStatus};

/// A [`TrailRecordSource`] asking CloudTrail.
#[derive(Debug, Clone)]
pub struct CloudTrailRecords {
    aws: Clients,
}

/// A time of the SDK's as a `chrono` time.
fn chrono_time(t: &AwsTime) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

/// The partition of a region: the ARN of a trail there starts `arn:PARTITION:`.
fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// The ARN of the trail whose digests make `chain`, in the chain's account.
pub fn trail_arn(chain: &ChainId) -> String {
    format!(
        "arn:{}:cloudtrail:{}:{}:trail/{}",
        partition(&chain.home_region),
        chain.home_region,
        chain.location.account_id,
        chain.trail_name
    )
}

/// An SDK error in one line: the service's code and message, else the error's own text.
fn short_error<E, R>(e: &aws_sdk_cloudtrail::error::SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match e.as_service_error().map(|s| (s.code(), s.message())) {
        Some((Some(code), Some(message))) => format!("{code}: {message}"),
        Some((Some(code), None)) => code.to_owned(),
        _ => DisplayErrorContext(e).to_string(),
    }
}

impl CloudTrailRecords {
    pub(super) fn new(aws: Clients) -> Self {
        Self { aws }
    }

    /// CloudTrail's record of one trail in `region`, its home region: `GetTrail` by ARN
    /// (then, when not found, by `name` in the caller's account, as an organization trail
    /// is seen from its management account; then `DescribeTrails`), and `GetTrailStatus`
    /// by the ARN CloudTrail gave.
    pub fn record(&self, arn: &str, name: Option<&str>, region: &str) -> TrailRecord {
        let client = self.aws.cloudtrail(region);
        let (arn, name, region) = (arn.to_owned(), name.map(str::to_owned), region.to_owned());
        let read_at = Utc::now();
        let fallback = TrailRecord {
            trail_arn: arn.clone(),
            read_at,
            config: None,
            status: None,
            unavailable: Some("the CloudTrail request did not finish".into()),
        };
        self.aws
            .block_on(async move {
                let mut errors = Vec::new();
                let found = find_trail(&client, &arn, name.as_deref(), &mut errors).await;
                let trail_arn = found
                    .as_ref()
                    .and_then(Trail::trail_arn)
                    .unwrap_or(&arn)
                    .to_owned();
                let status = match &found {
                    Some(_) => status(&client, &trail_arn, &mut errors).await,
                    None => None,
                };
                TrailRecord {
                    config: found.as_ref().map(|t| config(t, &region)),
                    unavailable: status.is_none().then(|| errors.join("; ")),
                    trail_arn,
                    read_at,
                    status,
                }
            })
            .unwrap_or(fallback)
    }
}

/// The trail, by ARN, then by name, then through `DescribeTrails`; what failed is noted.
async fn find_trail(
    client: &aws_sdk_cloudtrail::Client,
    arn: &str,
    name: Option<&str>,
    errors: &mut Vec<String>,
) -> Option<Trail> {
    for id in std::iter::once(arn).chain(name) {
        match client.get_trail().name(id).send().await {
            Ok(out) => return out.trail().cloned(),
            Err(e) => errors.push(format!("GetTrail {id}: {}", short_error(&e))),
        }
    }
    match client.describe_trails().trail_name_list(arn).send().await {
        Ok(out) => out.trail_list().first().cloned(),
        Err(e) => {
            errors.push(format!("DescribeTrails {arn}: {}", short_error(&e)));
            None
        }
    }
}

/// `GetTrailStatus`, or `None` with what failed noted.
async fn status(
    client: &aws_sdk_cloudtrail::Client,
    trail_arn: &str,
    errors: &mut Vec<String>,
) -> Option<TrailStatus> {
    match client.get_trail_status().name(trail_arn).send().await {
        Ok(s) => Some(TrailStatus {
            is_logging: s.is_logging(),
            latest_delivery_time: s.latest_delivery_time().and_then(chrono_time),
            latest_delivery_error: s.latest_delivery_error().map(str::to_owned),
            latest_digest_delivery_time: s.latest_digest_delivery_time().and_then(chrono_time),
            latest_digest_delivery_error: s.latest_digest_delivery_error().map(str::to_owned),
            start_logging_time: s.start_logging_time().and_then(chrono_time),
            stop_logging_time: s.stop_logging_time().and_then(chrono_time),
        }),
        Err(e) => {
            errors.push(format!("GetTrailStatus {trail_arn}: {}", short_error(&e)));
            None
        }
    }
}

/// What `GetTrail` says of a trail.
fn config(t: &Trail, region: &str) -> TrailConfig {
    TrailConfig {
        name: t.name().unwrap_or_default().to_owned(),
        home_region: t.home_region().unwrap_or(region).to_owned(),
        s3_bucket_name: t.s3_bucket_name().map(str::to_owned),
        s3_key_prefix: t.s3_key_prefix().map(str::to_owned),
        log_file_validation_enabled: t.log_file_validation_enabled().unwrap_or(false),
        is_multi_region_trail: t.is_multi_region_trail().unwrap_or(false),
        is_organization_trail: t.is_organization_trail().unwrap_or(false),
    }
}

impl TrailRecordSource for CloudTrailRecords {
    /// Each distinct trail once: an organization trail is one trail across its member
    /// accounts.
    fn records(&self, chains: &[&ChainId]) -> Vec<TrailRecord> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for chain in chains {
            let loc = &chain.location;
            let account = loc.org_id.is_none().then(|| loc.account_id.clone());
            let trail = (
                chain.trail_name.clone(),
                chain.home_region.clone(),
                account,
                loc.org_id.clone(),
            );
            if seen.insert(trail) {
                out.push(self.record(
                    &trail_arn(chain),
                    Some(&chain.trail_name),
                    &chain.home_region,
                ));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_follow_the_region() {
        assert_eq!(partition("cn-north-1"), "aws-cn");
        assert_eq!(partition("us-gov-west-1"), "aws-us-gov");
        assert_eq!(partition("eu-west-1"), "aws");
    }
}
