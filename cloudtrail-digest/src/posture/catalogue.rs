//! The checks: stable id, title, severity, remediation and benchmark mappings. CIS numbers
//! are given per version of the AWS Foundations Benchmark (v1.2.0 section 2, v1.4.0 and
//! v3.0.0 section 3); Security Hub ids are its CIS/FSBP control ids.

use super::report::CheckSeverity::{self, Critical, High, Low, Medium};

/// What a check is.
pub(crate) struct CheckInfo {
    pub(crate) id: &'static str,
    pub(crate) title: &'static str,
    pub(crate) severity: CheckSeverity,
    /// `{trail}`, `{bucket}`, `{key}`, `{region}` are filled in.
    pub(crate) remediation: &'static str,
    pub(crate) cis: &'static [&'static str],
    pub(crate) security_hub: &'static [&'static str],
}

pub(crate) const TRAIL_LOGGING: CheckInfo = CheckInfo {
    id: "trail-logging",
    title: "The trail is logging and delivering",
    severity: Critical,
    remediation: "aws cloudtrail start-logging --name {trail}",
    cis: &["v1.2.0 2.1", "v1.4.0 3.1", "v3.0.0 3.1"],
    security_hub: &["CloudTrail.3"],
};

pub(crate) const TRAIL_ALL_REGIONS: CheckInfo = CheckInfo {
    id: "trail-all-regions",
    title: "Every enabled region is covered by a logging multi-region or organization trail",
    severity: High,
    remediation: "aws cloudtrail update-trail --name {trail} --is-multi-region-trail",
    cis: &["v1.2.0 2.1", "v1.4.0 3.1", "v3.0.0 3.1"],
    security_hub: &["CloudTrail.1"],
};

pub(crate) const MANAGEMENT_EVENTS: CheckInfo = CheckInfo {
    id: "management-events",
    title: "Read and write management events are recorded, none excluded",
    severity: High,
    remediation: "aws cloudtrail put-event-selectors --trail-name {trail} --event-selectors '[{\"ReadWriteType\":\"All\",\"IncludeManagementEvents\":true}]'",
    cis: &["v1.4.0 3.1", "v3.0.0 3.1"],
    security_hub: &["CloudTrail.1"],
};

pub(crate) const LOG_FILE_VALIDATION: CheckInfo = CheckInfo {
    id: "log-file-validation",
    title: "Log file integrity validation is enabled",
    severity: Critical,
    remediation: "aws cloudtrail update-trail --name {trail} --enable-log-file-validation",
    cis: &["v1.2.0 2.2", "v1.4.0 3.2", "v3.0.0 3.2"],
    security_hub: &["CloudTrail.4"],
};

pub(crate) const DIGEST_DELIVERY: CheckInfo = CheckInfo {
    id: "digest-delivery",
    title: "Digests are being delivered, and the last hours of each region's chain verify",
    severity: Critical,
    remediation: "cloudtrail-digest validate --trail-arn {trail} (then see the trail's LatestDigestDeliveryError)",
    cis: &[],
    security_hub: &[],
};

pub(crate) const CLOUDWATCH_LOGS: CheckInfo = CheckInfo {
    id: "cloudwatch-logs",
    title: "Events also go to a CloudWatch Logs log group, which is receiving them",
    severity: Medium,
    remediation: "aws cloudtrail update-trail --name {trail} --cloud-watch-logs-log-group-arn LOG_GROUP_ARN --cloud-watch-logs-role-arn ROLE_ARN",
    cis: &["v1.2.0 2.4", "v1.4.0 3.4"],
    security_hub: &["CloudTrail.5"],
};

pub(crate) const BUCKET_DEDICATED: CheckInfo = CheckInfo {
    id: "bucket-dedicated",
    title: "The bucket holds only CloudTrail's files, and CloudTrail may write only for this account's trails",
    severity: Medium,
    remediation: "aws s3api put-bucket-policy --bucket {bucket} --policy file://policy.json  # CloudTrail's PutObject with aws:SourceArn or aws:SourceAccount",
    cis: &[],
    security_hub: &[],
};

pub(crate) const BUCKET_ACCESS_LOGGING: CheckInfo = CheckInfo {
    id: "bucket-access-logging",
    title: "Server access logging is on, to another bucket",
    severity: Medium,
    remediation: "aws s3api put-bucket-logging --bucket {bucket} --bucket-logging-status '{\"LoggingEnabled\":{\"TargetBucket\":\"LOG_BUCKET\",\"TargetPrefix\":\"{bucket}/\"}}'",
    cis: &["v1.2.0 2.6", "v1.4.0 3.6", "v3.0.0 3.4"],
    security_hub: &["CloudTrail.7", "S3.9"],
};

pub(crate) const BUCKET_NOT_PUBLIC: CheckInfo = CheckInfo {
    id: "bucket-not-public",
    title: "The bucket is not public: Block Public Access on, no public ACL or policy, ACLs disabled",
    severity: Critical,
    remediation: "aws s3api put-public-access-block --bucket {bucket} --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true",
    cis: &["v1.2.0 2.3", "v1.4.0 3.3", "v1.4.0 2.1.5", "v3.0.0 2.1.4"],
    security_hub: &["CloudTrail.6", "S3.1", "S3.2", "S3.3", "S3.8", "S3.12"],
};

pub(crate) const BUCKET_DELETE_PROTECTION: CheckInfo = CheckInfo {
    id: "bucket-delete-protection",
    title: "Log files cannot be deleted or overwritten: versioning with MFA delete or Object Lock (COMPLIANCE), and no one but CloudTrail allowed to delete or overwrite",
    severity: High,
    remediation: "aws s3api put-bucket-versioning --bucket {bucket} --versioning-configuration Status=Enabled,MFADelete=Enabled --mfa 'ROOT_MFA_SERIAL CODE'  # as the root user; or Object Lock in COMPLIANCE mode",
    cis: &["v1.4.0 2.1.3", "v3.0.0 2.1.2"],
    security_hub: &["S3.14", "S3.15", "S3.20"],
};

pub(crate) const KMS_CMK: CheckInfo = CheckInfo {
    id: "kms-cmk",
    title: "Log files are encrypted with a customer managed KMS key that is enabled",
    severity: Medium,
    remediation: "aws cloudtrail update-trail --name {trail} --kms-key-id KEY_ARN",
    cis: &["v1.2.0 2.7", "v1.4.0 3.7", "v3.0.0 3.5"],
    security_hub: &["CloudTrail.2", "KMS.3"],
};

pub(crate) const KMS_ROTATION: CheckInfo = CheckInfo {
    id: "kms-rotation",
    title: "The trail's KMS key rotates",
    severity: Low,
    remediation: "aws kms enable-key-rotation --key-id {key}",
    cis: &["v1.2.0 2.8", "v1.4.0 3.8", "v3.0.0 3.6"],
    security_hub: &["KMS.4"],
};

pub(crate) const TRAIL_ADMIN_ACCESS: CheckInfo = CheckInfo {
    id: "trail-admin-access",
    title: "Only roles that require MFA may stop, change or delete the trail",
    severity: High,
    remediation: "aws iam detach-user-policy / put-role-policy: allow cloudtrail:StopLogging, UpdateTrail, DeleteTrail and PutEventSelectors only to roles whose use requires aws:MultiFactorAuthPresent",
    cis: &[],
    security_hub: &[],
};

pub(crate) const RETENTION: CheckInfo = CheckInfo {
    id: "retention",
    title: "Lifecycle rules keep log files long enough, and digests as long as the logs they list",
    severity: Medium,
    remediation: "aws s3api put-bucket-lifecycle-configuration --bucket {bucket} --lifecycle-configuration file://lifecycle.json  # expiration of at least the minimum retention, digests no sooner than logs",
    cis: &[],
    security_hub: &["S3.13"],
};

/// Every check of a trail, in report order.
pub(crate) const TRAIL_CHECKS: [&CheckInfo; 13] = [
    &TRAIL_LOGGING,
    &MANAGEMENT_EVENTS,
    &LOG_FILE_VALIDATION,
    &DIGEST_DELIVERY,
    &CLOUDWATCH_LOGS,
    &BUCKET_DEDICATED,
    &BUCKET_ACCESS_LOGGING,
    &BUCKET_NOT_PUBLIC,
    &BUCKET_DELETE_PROTECTION,
    &KMS_CMK,
    &KMS_ROTATION,
    &TRAIL_ADMIN_ACCESS,
    &RETENTION,
];
