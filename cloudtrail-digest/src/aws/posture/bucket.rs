//! Facts of a trail's bucket: its policy and whether S3 judges it public, ACL, Block
//! Public Access, object ownership, access logging, versioning and MFA delete, Object
//! Lock, lifecycle rules, and what lies at its top level.

use aws_sdk_s3::types::{ExpirationStatus, ObjectLockRetentionMode};

use super::errors::{optional, policy_document, unknown};
use crate::posture::{BucketFacts, Known, LifecycleRule, PublicAccessBlock, Unknown};

/// The policy, parsed, and whether S3 judges it public.
async fn policy(s3: &aws_sdk_s3::Client, b: &str, f: &mut BucketFacts) -> Known<()> {
    let out = optional(
        "GetBucketPolicy",
        s3.get_bucket_policy().bucket(b).send().await,
        &["NoSuchBucketPolicy"],
    )?;
    if let Some(text) = out.as_ref().and_then(|o| o.policy()) {
        f.policy = Some(policy_document(text).ok_or(Unknown::Error {
            message: "GetBucketPolicy: the policy is not JSON".into(),
        })?);
    }
    let status = optional(
        "GetBucketPolicyStatus",
        s3.get_bucket_policy_status().bucket(b).send().await,
        &["NoSuchBucketPolicy"],
    )?;
    f.policy_is_public = status
        .as_ref()
        .and_then(|s| s.policy_status())
        .and_then(aws_sdk_s3::types::PolicyStatus::is_public);
    Ok(())
}

/// ACL grants, Block Public Access and object ownership.
async fn access(s3: &aws_sdk_s3::Client, b: &str, f: &mut BucketFacts) -> Known<()> {
    let acl = s3
        .get_bucket_acl()
        .bucket(b)
        .send()
        .await
        .map_err(|e| unknown("GetBucketAcl", &e))?;
    f.acl_grants = acl
        .grants()
        .iter()
        .map(|g| {
            let grantee = g
                .grantee()
                .and_then(|g| g.uri().or(g.id()))
                .unwrap_or_default()
                .to_owned();
            let permission = g.permission().map_or("", |p| p.as_str()).to_owned();
            (grantee, permission)
        })
        .collect();
    let block = optional(
        "GetPublicAccessBlock",
        s3.get_public_access_block().bucket(b).send().await,
        &["NoSuchPublicAccessBlockConfiguration"],
    )?;
    f.public_access_block = block
        .as_ref()
        .and_then(|o| o.public_access_block_configuration())
        .map(|c| PublicAccessBlock {
            block_public_acls: c.block_public_acls().unwrap_or(false),
            ignore_public_acls: c.ignore_public_acls().unwrap_or(false),
            block_public_policy: c.block_public_policy().unwrap_or(false),
            restrict_public_buckets: c.restrict_public_buckets().unwrap_or(false),
        });
    let ownership = optional(
        "GetBucketOwnershipControls",
        s3.get_bucket_ownership_controls().bucket(b).send().await,
        &["OwnershipControlsNotFoundError"],
    )?;
    f.object_ownership = ownership
        .as_ref()
        .and_then(|o| o.ownership_controls())
        .and_then(|c| c.rules().first())
        .map(|r| r.object_ownership().as_str().to_owned());
    Ok(())
}

/// Access logging, versioning (with MFA delete) and Object Lock.
async fn protection(s3: &aws_sdk_s3::Client, b: &str, f: &mut BucketFacts) -> Known<()> {
    let logging = s3
        .get_bucket_logging()
        .bucket(b)
        .send()
        .await
        .map_err(|e| unknown("GetBucketLogging", &e))?;
    f.logging_target = logging
        .logging_enabled()
        .map(|l| l.target_bucket().to_owned());
    let versioning = s3
        .get_bucket_versioning()
        .bucket(b)
        .send()
        .await
        .map_err(|e| unknown("GetBucketVersioning", &e))?;
    f.versioning = versioning.status().map(|s| s.as_str().to_owned());
    f.mfa_delete = versioning.mfa_delete().map(|m| m.as_str().to_owned());
    let lock = optional(
        "GetObjectLockConfiguration",
        s3.get_object_lock_configuration().bucket(b).send().await,
        &["ObjectLockConfigurationNotFoundError"],
    )?;
    f.object_lock = lock
        .as_ref()
        .and_then(|o| o.object_lock_configuration())
        .filter(|c| c.object_lock_enabled().is_some())
        .map(|c| {
            let retention = c.rule().and_then(|r| r.default_retention());
            let mode = retention
                .and_then(|d| d.mode())
                .map(ObjectLockRetentionMode::as_str)
                .map(str::to_owned);
            let days = retention.and_then(|d| {
                let days = d.days().map(i64::from);
                let years = d.years().map(|y| i64::from(y) * 365);
                days.or(years).and_then(|n| u32::try_from(n).ok())
            });
            (mode, days)
        });
    Ok(())
}

/// Enabled lifecycle rules, and the top level of the bucket.
async fn contents(s3: &aws_sdk_s3::Client, b: &str, f: &mut BucketFacts) -> Known<()> {
    let lifecycle = optional(
        "GetBucketLifecycleConfiguration",
        s3.get_bucket_lifecycle_configuration()
            .bucket(b)
            .send()
            .await,
        &["NoSuchLifecycleConfiguration"],
    )?;
    f.lifecycle = lifecycle
        .iter()
        .flat_map(aws_sdk_s3::operation::get_bucket_lifecycle_configuration::GetBucketLifecycleConfigurationOutput::rules)
        .filter(|r| *r.status() == ExpirationStatus::Enabled)
        .map(|r| LifecycleRule {
            id: r.id().map(str::to_owned),
            #[allow(deprecated)] // the rule's own `Prefix`, still returned for old rules
            prefix: r
                .filter()
                .and_then(|f| f.prefix().or(f.and().and_then(|a| a.prefix())))
                .or(r.prefix())
                .unwrap_or_default()
                .to_owned(),
            expiration_days: r
                .expiration()
                .and_then(aws_sdk_s3::types::LifecycleExpiration::days)
                .and_then(|d| u32::try_from(d).ok()),
            noncurrent_days: r
                .noncurrent_version_expiration()
                .and_then(aws_sdk_s3::types::NoncurrentVersionExpiration::noncurrent_days)
                .and_then(|d| u32::try_from(d).ok()),
        })
        .collect();
    let top = s3
        .list_objects_v2()
        .bucket(b)
        .delimiter("/")
        .max_keys(1000)
        .send()
        .await
        .map_err(|e| unknown("ListObjectsV2", &e))?;
    f.top_level = top
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix().map(str::to_owned))
        .chain(
            top.contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_owned)),
        )
        .collect();
    Ok(())
}

/// Everything the checks need of bucket `b`; the first call that fails says why it is
/// unknown.
pub(super) async fn bucket(s3: &aws_sdk_s3::Client, b: &str) -> Known<BucketFacts> {
    let mut f = BucketFacts::default();
    policy(s3, b, &mut f).await?;
    access(s3, b, &mut f).await?;
    protection(s3, b, &mut f).await?;
    contents(s3, b, &mut f).await?;
    Ok(f)
}
