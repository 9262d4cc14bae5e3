//! What AWS said about an account's trails, read by `aws::posture` (or built by hand): the
//! input of the checks. Every part that could not be read says why instead.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::report::Severity;

/// Why a fact is not known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "cause", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Unknown {
    /// The caller may not read it.
    AccessDenied {
        /// The call and the service's message.
        message: String,
    },
    /// It belongs to another account (an organization trail's bucket, a key elsewhere).
    OtherAccount {
        /// The account or resource.
        owner: String,
    },
    /// The check does not apply (a key's rotation when the trail has no key).
    NotApplicable {
        /// Why.
        why: String,
    },
    /// Any other failure.
    Error {
        /// The call and what failed.
        message: String,
    },
}

impl std::fmt::Display for Unknown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::AccessDenied { message } => write!(f, "access denied: {message}"),
            Self::OtherAccount { owner } => write!(f, "in another account ({owner})"),
            Self::NotApplicable { why } => write!(f, "not applicable: {why}"),
            Self::Error { message } => f.write_str(message),
        }
    }
}

/// A fact, or why it is not known.
pub type Known<T> = Result<T, Unknown>;

/// Everything the checks weigh, for one account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PostureFacts {
    /// The account the caller is in.
    pub account_id: Known<String>,
    /// When the facts were read.
    pub read_at: DateTime<Utc>,
    /// The regions enabled for the account.
    pub enabled_regions: Known<Vec<String>>,
    /// The account's S3 Block Public Access settings.
    pub account_public_access_block: Known<Option<PublicAccessBlock>>,
    /// Who may act on the account's trails, from `GetAccountAuthorizationDetails`.
    pub principals: Known<Vec<Principal>>,
    /// Why the trails could not be listed, if they could not.
    pub trail_listing: Option<Unknown>,
    /// Each trail examined.
    pub trails: Vec<TrailFacts>,
    /// How long log files must be kept, in days, at the least.
    pub min_retention_days: u32,
}

impl PostureFacts {
    /// Facts of an account read at `read_at`, with nothing known yet.
    pub fn new(read_at: DateTime<Utc>, min_retention_days: u32) -> Self {
        let nothing = || Unknown::Error {
            message: "not read".into(),
        };
        Self {
            account_id: Err(nothing()),
            read_at,
            enabled_regions: Err(nothing()),
            account_public_access_block: Err(nothing()),
            principals: Err(nothing()),
            trail_listing: None,
            trails: Vec::new(),
            min_retention_days,
        }
    }
}

/// One trail and what it leads to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TrailFacts {
    /// `TrailARN`.
    pub arn: String,
    /// `Name`.
    pub name: String,
    /// `HomeRegion`.
    pub home_region: String,
    /// `IsMultiRegionTrail`.
    pub multi_region: bool,
    /// `IsOrganizationTrail`.
    pub organization: bool,
    /// `S3BucketName`.
    pub bucket: Option<String>,
    /// `S3KeyPrefix`.
    pub prefix: Option<String>,
    /// `LogFileValidationEnabled`.
    pub log_file_validation: bool,
    /// `KmsKeyId`.
    pub kms_key_id: Option<String>,
    /// `CloudWatchLogsLogGroupArn`.
    pub log_group_arn: Option<String>,
    /// The regions whose `DescribeTrails` listed it (its shadow trails included).
    pub seen_in: Vec<String>,
    /// `GetTrailStatus`.
    pub status: Known<StatusFacts>,
    /// `GetEventSelectors`.
    pub selectors: Known<Selectors>,
    /// The bucket it delivers to.
    pub bucket_facts: Option<Known<BucketFacts>>,
    /// Its KMS key, when it has one.
    pub key: Option<Known<KeyFacts>>,
    /// Its CloudWatch Logs log group, when it has one.
    pub log_group: Option<Known<LogGroupFacts>>,
    /// The last hours of its chains, validated, when asked for.
    pub recent: Option<Known<RecentValidation>>,
}

impl TrailFacts {
    /// A trail with its configuration, nothing else known yet.
    pub fn new(
        arn: impl Into<String>,
        name: impl Into<String>,
        home_region: impl Into<String>,
    ) -> Self {
        let nothing = || Unknown::Error {
            message: "not read".into(),
        };
        Self {
            arn: arn.into(),
            name: name.into(),
            home_region: home_region.into(),
            multi_region: false,
            organization: false,
            bucket: None,
            prefix: None,
            log_file_validation: false,
            kms_key_id: None,
            log_group_arn: None,
            seen_in: Vec::new(),
            status: Err(nothing()),
            selectors: Err(nothing()),
            bucket_facts: None,
            key: None,
            log_group: None,
            recent: None,
        }
    }
}

/// `GetTrailStatus`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StatusFacts {
    /// `IsLogging`.
    pub is_logging: bool,
    /// `LatestDeliveryError`.
    pub latest_delivery_error: Option<String>,
    /// `LatestDigestDeliveryTime`.
    pub latest_digest_delivery_time: Option<DateTime<Utc>>,
    /// `LatestDigestDeliveryError`.
    pub latest_digest_delivery_error: Option<String>,
    /// `LatestCloudWatchLogsDeliveryTime`.
    pub latest_cloudwatch_logs_delivery_time: Option<DateTime<Utc>>,
    /// `LatestCloudWatchLogsDeliveryError`.
    pub latest_cloudwatch_logs_delivery_error: Option<String>,
}

/// `GetEventSelectors`: classic and advanced selectors.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Selectors {
    /// `EventSelectors`.
    pub classic: Vec<ClassicSelector>,
    /// `AdvancedEventSelectors`: each a list of field selectors, all of which must match.
    pub advanced: Vec<Vec<FieldSelector>>,
}

/// A classic event selector.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ClassicSelector {
    /// `ReadWriteType`: `ReadOnly`, `WriteOnly` or `All`.
    pub read_write_type: String,
    /// `IncludeManagementEvents`.
    pub include_management_events: bool,
    /// `ExcludeManagementEventSources`.
    pub exclude_management_event_sources: Vec<String>,
}

/// A field selector of an advanced event selector.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FieldSelector {
    /// `Field`.
    pub field: String,
    /// `Equals`.
    pub equals: Vec<String>,
    /// `NotEquals`.
    pub not_equals: Vec<String>,
    /// `StartsWith`, `EndsWith`, `NotStartsWith`, `NotEndsWith`: any of them set.
    pub other_operators: bool,
}

/// An S3 Block Public Access configuration.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[allow(clippy::struct_excessive_bools)] // S3's four settings
#[non_exhaustive]
pub struct PublicAccessBlock {
    /// `BlockPublicAcls`.
    pub block_public_acls: bool,
    /// `IgnorePublicAcls`.
    pub ignore_public_acls: bool,
    /// `BlockPublicPolicy`.
    pub block_public_policy: bool,
    /// `RestrictPublicBuckets`.
    pub restrict_public_buckets: bool,
}

impl PublicAccessBlock {
    /// All four settings on.
    pub fn all(self) -> bool {
        self.block_public_acls
            && self.ignore_public_acls
            && self.block_public_policy
            && self.restrict_public_buckets
    }

    /// Each setting on in either.
    #[must_use]
    pub fn or(self, other: Self) -> Self {
        Self {
            block_public_acls: self.block_public_acls || other.block_public_acls,
            ignore_public_acls: self.ignore_public_acls || other.ignore_public_acls,
            block_public_policy: self.block_public_policy || other.block_public_policy,
            restrict_public_buckets: self.restrict_public_buckets || other.restrict_public_buckets,
        }
    }
}

/// A trail's bucket.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BucketFacts {
    /// The bucket policy, parsed, when it has one.
    pub policy: Option<serde_json::Value>,
    /// `GetBucketPolicyStatus`: whether S3 judges the policy public.
    pub policy_is_public: Option<bool>,
    /// ACL grants: (grantee, permission), the grantee a group URI or a canonical id.
    pub acl_grants: Vec<(String, String)>,
    /// The bucket's Block Public Access, if set.
    pub public_access_block: Option<PublicAccessBlock>,
    /// `ObjectOwnership` (`BucketOwnerEnforced` disables ACLs).
    pub object_ownership: Option<String>,
    /// The server access logging target bucket, if logging is on.
    pub logging_target: Option<String>,
    /// Versioning `Status` (`Enabled`, `Suspended`), if ever set.
    pub versioning: Option<String>,
    /// Versioning `MFADelete`.
    pub mfa_delete: Option<String>,
    /// Object Lock default retention: (mode, days), if Object Lock is on.
    pub object_lock: Option<(Option<String>, Option<u32>)>,
    /// Enabled lifecycle rules.
    pub lifecycle: Vec<LifecycleRule>,
    /// The top-level folders and objects of the bucket.
    pub top_level: Vec<String>,
}

/// An enabled lifecycle rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LifecycleRule {
    /// `ID`.
    pub id: Option<String>,
    /// The key prefix it applies to (empty: every key).
    pub prefix: String,
    /// `Expiration.Days`.
    pub expiration_days: Option<u32>,
    /// `NoncurrentVersionExpiration.NoncurrentDays`.
    pub noncurrent_days: Option<u32>,
}

/// A trail's KMS key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct KeyFacts {
    /// `Arn`.
    pub arn: String,
    /// `KeyManager`: `CUSTOMER` or `AWS`.
    pub manager: String,
    /// `KeyState`: `Enabled`, `Disabled`, `PendingDeletion`, ...
    pub state: String,
    /// `GetKeyRotationStatus`.
    pub rotation: Known<bool>,
}

/// A trail's CloudWatch Logs log group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LogGroupFacts {
    /// `logGroupName`.
    pub name: String,
    /// `retentionInDays` (none: kept forever).
    pub retention_days: Option<i32>,
}

/// A user, group or role and the policy documents that apply to it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Principal {
    /// `user`, `group` or `role`.
    pub kind: String,
    /// Its ARN.
    pub arn: String,
    /// The names of the AWS managed policies attached to it (their documents are not read).
    pub aws_managed: Vec<String>,
    /// Its inline and customer managed policy documents (a user's groups' included).
    pub documents: Vec<serde_json::Value>,
    /// A role's trust policy.
    pub trust_policy: Option<serde_json::Value>,
}

/// The last hours of a trail's chains, validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RecentValidation {
    /// The hours validated.
    pub hours: u32,
    /// The verdict.
    pub severity: Severity,
    /// Digests verified.
    pub digests_valid: u64,
    /// Issues found.
    pub issues: u64,
}
