//! What CloudTrail itself records about a trail (`GetTrail` and `GetTrailStatus`, read in
//! the trail's home region), and what that record proves about a chain.
//!
//! AWS documents that log files delivered while validation is on are always listed by a
//! digest, and that the chain of digests breaks after one hour when validation is turned
//! off, logging stops or the trail is deleted. So digests that stop while CloudTrail says it
//! went on delivering them were deleted; without that record a copy cannot tell deletion
//! from validation turned off, and says so.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::format::key_name::{ChainId, Location};

/// CloudTrail's record of one trail, as read at one time. Either part may be missing (no
/// permission, an organization member account, a trail deleted since); `unavailable` then
/// says why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct TrailRecord {
    /// The trail's ARN, `arn:PARTITION:cloudtrail:HOME_REGION:ACCOUNT:trail/NAME`.
    pub trail_arn: String,
    /// When the record was read.
    pub read_at: DateTime<Utc>,
    /// What `GetTrail` said, if it could be read.
    pub config: Option<TrailConfig>,
    /// What `GetTrailStatus` said, if it could be read.
    pub status: Option<TrailStatus>,
    /// Why the record, or a part of it, could not be read.
    pub unavailable: Option<String>,
}

/// A trail's configuration (`GetTrail`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct TrailConfig {
    /// `Name`.
    pub name: String,
    /// `HomeRegion`.
    pub home_region: String,
    /// `S3BucketName`.
    pub s3_bucket_name: Option<String>,
    /// `S3KeyPrefix`.
    pub s3_key_prefix: Option<String>,
    /// `LogFileValidationEnabled`.
    pub log_file_validation_enabled: bool,
    /// `IsMultiRegionTrail`.
    pub is_multi_region_trail: bool,
    /// `IsOrganizationTrail`.
    pub is_organization_trail: bool,
}

/// A trail's status (`GetTrailStatus`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct TrailStatus {
    /// `IsLogging`.
    pub is_logging: Option<bool>,
    /// `LatestDeliveryTime`: the latest log file delivered.
    pub latest_delivery_time: Option<DateTime<Utc>>,
    /// `LatestDeliveryError`.
    pub latest_delivery_error: Option<String>,
    /// `LatestDigestDeliveryTime`: the latest digest delivered, in any region of the trail.
    pub latest_digest_delivery_time: Option<DateTime<Utc>>,
    /// `LatestDigestDeliveryError`.
    pub latest_digest_delivery_error: Option<String>,
    /// `StartLoggingTime`.
    pub start_logging_time: Option<DateTime<Utc>>,
    /// `StopLoggingTime`.
    pub stop_logging_time: Option<DateTime<Utc>>,
}

/// Where a run reads CloudTrail's records of the trails it finds (`GetTrail`,
/// `GetTrailStatus`), to weigh as evidence.
pub trait TrailRecordSource: Send + Sync {
    /// CloudTrail's record of each distinct trail of `chains`, read now. A trail whose
    /// record cannot be read gets one that says why ([`TrailRecord::unavailable`]).
    fn records(&self, chains: &[&ChainId]) -> Vec<TrailRecord>;
}

/// The parts of a trail ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailArn {
    /// The trail's home region.
    pub region: String,
    /// The account that owns the trail (the management account of an organization trail).
    pub account_id: String,
    /// The trail's name.
    pub name: String,
}

impl TrailArn {
    /// Parses `arn:PARTITION:cloudtrail:REGION:ACCOUNT:trail/NAME`.
    pub fn parse(arn: &str) -> Option<Self> {
        let parts: Vec<&str> = arn.split(':').collect();
        match parts.as_slice() {
            ["arn", _, "cloudtrail", region, account, resource] if !region.is_empty() => {
                let name = resource.strip_prefix("trail/").filter(|n| !n.is_empty())?;
                Some(Self {
                    region: (*region).to_owned(),
                    account_id: (*account).to_owned(),
                    name: name.to_owned(),
                })
            }
            _ => None,
        }
    }
}

/// How a record bears on one chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bearing {
    /// The chain of the trail's own account in its home region: every digest the trail
    /// delivers includes one of this chain, so its `LatestDigestDeliveryTime` speaks for it.
    Direct,
    /// Another region or account of the trail: the record tells when the trail delivered,
    /// not that this region still belonged to it.
    Indirect,
}

/// The S3 key prefix as a location names it: no leading or trailing `/`, `None` if empty.
fn normal_prefix(prefix: Option<&str>) -> Option<&str> {
    prefix
        .map(|p| p.trim_matches('/'))
        .filter(|p| !p.is_empty())
}

impl TrailRecord {
    /// The ARN's parts, when it parses.
    pub fn arn(&self) -> Option<TrailArn> {
        TrailArn::parse(&self.trail_arn)
    }

    /// Whether this is the record of `chain`'s trail, delivering to `bucket` where the chain
    /// lies, and how it bears on the chain. A record of the trail that now delivers
    /// elsewhere says nothing about this bucket.
    pub(crate) fn bearing(&self, chain: &ChainId, bucket: &str) -> Option<Bearing> {
        let arn = self.arn()?;
        let config = self.config.as_ref()?;
        let organization = config.is_organization_trail && chain.location.org_id.is_some();
        let same_trail = arn.name == chain.trail_name
            && config.home_region == chain.home_region
            && (arn.account_id == chain.location.account_id || organization);
        if !same_trail || !self.delivers_to(&chain.location, bucket) {
            return None;
        }
        let home = arn.account_id == chain.location.account_id
            && chain.location.region == config.home_region;
        Some(if home {
            Bearing::Direct
        } else {
            Bearing::Indirect
        })
    }

    /// Whether the trail delivers to `bucket` under the prefix of `location`.
    fn delivers_to(&self, location: &Location, bucket: &str) -> bool {
        self.config.as_ref().is_some_and(|c| {
            c.s3_bucket_name.as_deref() == Some(bucket)
                && normal_prefix(c.s3_key_prefix.as_deref())
                    == normal_prefix(location.prefix.as_deref())
        })
    }

    /// Whether this is the record of the trail that delivers the log files of `location`
    /// in its own account and home region (a location with log files and no digest).
    pub(crate) fn home_of(&self, location: &Location, bucket: &str) -> bool {
        let (Some(arn), Some(config)) = (self.arn(), self.config.as_ref()) else {
            return false;
        };
        arn.account_id == location.account_id
            && config.home_region == location.region
            && (location.org_id.is_some() == config.is_organization_trail)
            && self.delivers_to(location, bucket)
    }

    /// `LatestDigestDeliveryTime`, when the trail validates its log files.
    pub(crate) fn latest_digest(&self) -> Option<DateTime<Utc>> {
        self.status.as_ref()?.latest_digest_delivery_time
    }

    /// Why CloudTrail would deliver no digest at `at`, as far as the record tells.
    pub(crate) fn explains_silence(&self, at: DateTime<Utc>) -> Option<Silence> {
        if let Some(config) = &self.config {
            if !config.log_file_validation_enabled {
                return Some(Silence::ValidationOff);
            }
        }
        let status = self.status.as_ref()?;
        if status.is_logging == Some(false) {
            let stopped = status.stop_logging_time;
            if stopped.is_none_or(|s| s <= at) {
                return Some(Silence::LoggingStopped(stopped));
            }
        }
        status
            .latest_digest_delivery_error
            .clone()
            .filter(|e| !e.is_empty())
            .map(Silence::DeliveryError)
    }
}

/// Why, by CloudTrail's record, no digest was delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Silence {
    ValidationOff,
    LoggingStopped(Option<DateTime<Utc>>),
    DeliveryError(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;

    fn record(arn: &str, org: bool, bucket: &str, prefix: Option<&str>) -> TrailRecord {
        TrailRecord {
            trail_arn: arn.into(),
            read_at: Utc.with_ymd_and_hms(2024, 3, 2, 0, 0, 0).unwrap(),
            config: Some(TrailConfig {
                name: arn.rsplit('/').next().unwrap().into(),
                home_region: "us-east-1".into(),
                s3_bucket_name: Some(bucket.into()),
                s3_key_prefix: prefix.map(str::to_owned),
                log_file_validation_enabled: true,
                is_multi_region_trail: true,
                is_organization_trail: org,
            }),
            status: None,
            unavailable: None,
        }
    }

    fn chain(account: &str, region: &str, org: Option<&str>, prefix: Option<&str>) -> ChainId {
        ChainId {
            location: Location {
                prefix: prefix.map(str::to_owned),
                org_id: org.map(str::to_owned),
                account_id: account.into(),
                region: region.into(),
            },
            trail_name: "main".into(),
            home_region: "us-east-1".into(),
        }
    }

    #[test]
    fn a_record_bears_on_its_own_trail_in_its_own_bucket_only() {
        let r = record(
            "arn:aws:cloudtrail:us-east-1:111122223333:trail/main",
            false,
            "b",
            Some("logs/"),
        );
        let home = chain("111122223333", "us-east-1", None, Some("logs"));
        assert_eq!(r.bearing(&home, "b"), Some(Bearing::Direct));
        let other_region = chain("111122223333", "eu-west-1", None, Some("logs"));
        assert_eq!(r.bearing(&other_region, "b"), Some(Bearing::Indirect));
        // Another bucket or prefix: the trail delivers elsewhere now.
        assert_eq!(r.bearing(&home, "copy"), None);
        assert_eq!(
            r.bearing(&chain("111122223333", "us-east-1", None, None), "b"),
            None
        );
        // A trail of the same name in another account is another trail.
        assert_eq!(
            r.bearing(&chain("444455556666", "us-east-1", None, Some("logs")), "b"),
            None
        );
        // An organization trail speaks for its member accounts, indirectly.
        let org = record(
            "arn:aws:cloudtrail:us-east-1:111122223333:trail/main",
            true,
            "b",
            None,
        );
        let member = chain("444455556666", "us-east-1", Some("o-x"), None);
        assert_eq!(org.bearing(&member, "b"), Some(Bearing::Indirect));
        let management = chain("111122223333", "us-east-1", Some("o-x"), None);
        assert_eq!(org.bearing(&management, "b"), Some(Bearing::Direct));
    }

    #[test]
    fn parses_trail_arns() {
        let arn = TrailArn::parse("arn:aws:cloudtrail:eu-west-1:111122223333:trail/main").unwrap();
        assert_eq!(
            (
                arn.region.as_str(),
                arn.account_id.as_str(),
                arn.name.as_str()
            ),
            ("eu-west-1", "111122223333", "main")
        );
        for bad in [
            "arn:aws:s3:::bucket",
            "arn:aws:cloudtrail:eu-west-1:1:trail/",
            "main",
        ] {
            assert_eq!(TrailArn::parse(bad), None, "{bad}");
        }
    }
}
