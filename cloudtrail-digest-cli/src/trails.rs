//! CloudTrail's own record of a trail: `GetTrail` and `GetTrailStatus` in its home region,
//! read once per trail, for the library's evidence rules (digests deleted after CloudTrail
//! delivered them, validation turned off, logging stopped). Needs only
//! `cloudtrail:GetTrail` and `cloudtrail:GetTrailStatus`; a trail the caller cannot read
//! gets a record that says why, and the run goes on without that evidence.

use std::collections::BTreeSet;

use anyhow::{bail, Result};
use aws_sdk_cloudtrail::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_cloudtrail::primitives::DateTime as AwsTime;
use aws_sdk_cloudtrail::types::Trail;
use chrono::{DateTime, Utc};
use cloudtrail_digest::record::TrailArn;
use cloudtrail_digest::{ChainId, TrailConfig, TrailRecord, TrailStatus};

use crate::aws::Aws;

/// Parses a trail ARN given on the command line.
pub(crate) fn parse_arn(arn: &str) -> Result<TrailArn> {
    match TrailArn::parse(arn) {
        Some(parsed) => Ok(parsed),
        None => bail!(
            "invalid trail ARN {arn:?}: expected arn:PARTITION:cloudtrail:REGION:ACCOUNT:trail/NAME"
        ),
    }
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

/// CloudTrail's record of each distinct trail of `chains`, read now.
pub(crate) fn records<'c>(
    aws: &Aws,
    chains: impl Iterator<Item = &'c ChainId>,
) -> Vec<TrailRecord> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for chain in chains {
        let loc = &chain.location;
        // An organization trail is one trail across its member accounts.
        let account = loc.org_id.is_none().then(|| loc.account_id.clone());
        let trail = (
            chain.trail_name.clone(),
            chain.home_region.clone(),
            account,
            loc.org_id.clone(),
        );
        if !seen.insert(trail) {
            continue;
        }
        let arn = format!(
            "arn:{}:cloudtrail:{}:{}:trail/{}",
            partition(&chain.home_region),
            chain.home_region,
            loc.account_id,
            chain.trail_name
        );
        out.push(record(
            aws,
            &arn,
            Some(&chain.trail_name),
            &chain.home_region,
        ));
    }
    out
}

/// CloudTrail's record of one trail in `region`, its home region: `GetTrail` by ARN (then,
/// when not found, by `name` in the caller's account, as an organization trail is seen
/// from its management account; then `DescribeTrails`), and `GetTrailStatus` by the ARN
/// CloudTrail gave.
pub(crate) fn record(aws: &Aws, arn: &str, name: Option<&str>, region: &str) -> TrailRecord {
    let client = aws.cloudtrail(region);
    let read_at = Utc::now();
    aws.runtime.block_on(async {
        let mut errors = Vec::new();
        let mut found: Option<Trail> = None;
        for id in std::iter::once(arn).chain(name) {
            match client.get_trail().name(id).send().await {
                Ok(out) => {
                    found = out.trail().cloned();
                    break;
                }
                Err(e) => errors.push(format!("GetTrail {id}: {}", short_error(&e))),
            }
        }
        if found.is_none() {
            match client.describe_trails().trail_name_list(arn).send().await {
                Ok(out) => found = out.trail_list().first().cloned(),
                Err(e) => errors.push(format!("DescribeTrails {arn}: {}", short_error(&e))),
            }
        }
        let trail_arn = found
            .as_ref()
            .and_then(Trail::trail_arn)
            .unwrap_or(arn)
            .to_owned();
        let status = match &found {
            Some(_) => match client.get_trail_status().name(&trail_arn).send().await {
                Ok(s) => Some(TrailStatus {
                    is_logging: s.is_logging(),
                    latest_delivery_time: s.latest_delivery_time().and_then(chrono_time),
                    latest_delivery_error: s.latest_delivery_error().map(str::to_owned),
                    latest_digest_delivery_time: s
                        .latest_digest_delivery_time()
                        .and_then(chrono_time),
                    latest_digest_delivery_error: s
                        .latest_digest_delivery_error()
                        .map(str::to_owned),
                    start_logging_time: s.start_logging_time().and_then(chrono_time),
                    stop_logging_time: s.stop_logging_time().and_then(chrono_time),
                }),
                Err(e) => {
                    errors.push(format!("GetTrailStatus {trail_arn}: {}", short_error(&e)));
                    None
                }
            },
            None => None,
        };
        let config = found.as_ref().map(|t| TrailConfig {
            name: t.name().unwrap_or_default().to_owned(),
            home_region: t.home_region().unwrap_or(region).to_owned(),
            s3_bucket_name: t.s3_bucket_name().map(str::to_owned),
            s3_key_prefix: t.s3_key_prefix().map(str::to_owned),
            log_file_validation_enabled: t.log_file_validation_enabled().unwrap_or(false),
            is_multi_region_trail: t.is_multi_region_trail().unwrap_or(false),
            is_organization_trail: t.is_organization_trail().unwrap_or(false),
        });
        TrailRecord {
            trail_arn,
            read_at,
            config,
            unavailable: status.is_none().then(|| errors.join("; ")),
            status,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_is_not_a_trail_arn() {
        let t = parse_arn("arn:aws:cloudtrail:eu-west-1:111122223333:trail/main").unwrap();
        assert_eq!((t.region.as_str(), t.name.as_str()), ("eu-west-1", "main"));
        for bad in [
            "arn:aws:s3:::bucket",
            "arn:aws:cloudtrail:eu-west-1:111122223333:trail/",
            "trail/main",
            "arn:aws:cloudtrail::1:trail/x",
        ] {
            assert!(
                parse_arn(bad)
                    .unwrap_err()
                    .to_string()
                    .contains("invalid trail ARN"),
                "{bad}"
            );
        }
        assert_eq!(partition("cn-north-1"), "aws-cn");
        assert_eq!(partition("us-gov-west-1"), "aws-us-gov");
        assert_eq!(partition("eu-west-1"), "aws");
    }
}
