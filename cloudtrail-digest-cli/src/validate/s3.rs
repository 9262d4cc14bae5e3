//! `validate s3://...`: a bucket in S3 (or a copy of one there), with CloudTrail's records
//! of its trails and its public keys, and optionally an S3 Inventory of it.

use std::sync::Arc;

use anyhow::{bail, Context as _, Result};
use chrono::Utc;
use cloudtrail_digest::inventory::Inventory;
use cloudtrail_digest::store::CopyOf;
use cloudtrail_digest::{TrailConfig, TrailRecord, Validator};

use super::prepared::{load_keys, Prepared};
use crate::args::{S3Url, ValidateArgs};
use crate::aws::Session;
use crate::trails;

/// Where a trail named by ARN delivers, from CloudTrail's record of it.
fn trail_by_arn(session: &Session, arn: &str) -> Result<(TrailRecord, TrailConfig)> {
    let region = trails::parse_arn(arn)?.region;
    let record = session.aws.trail_records().record(arn, None, &region);
    let Some(config) = record.config.clone() else {
        bail!(
            "cannot look up trail {arn}: {}",
            record.unavailable.as_deref().unwrap_or("not found")
        );
    };
    Ok((record, config))
}

/// The bucket and prefix to read: the flags, else the URL, else the trail's.
fn bucket_and_prefix(args: &ValidateArgs, trail: Option<&TrailConfig>) -> Result<S3Url> {
    let from_url = match args.source.as_deref() {
        Some(s) if s.starts_with("s3://") => Some(S3Url::parse_or_explain(s)?),
        Some(s) => bail!("{s}: give either a directory or s3://BUCKET[/PREFIX], not both with --trail-arn/--s3-bucket"),
        None => None,
    };
    let trail = trail.filter(|_| args.s3_bucket.is_none() && from_url.is_none());
    if let Some(c) = trail.filter(|c| c.s3_bucket_name.is_none()) {
        bail!("trail {} has no S3 bucket", c.name);
    }
    let bucket = args
        .s3_bucket
        .clone()
        .or_else(|| from_url.as_ref().map(|u| u.bucket.clone()))
        .or_else(|| trail.and_then(|c| c.s3_bucket_name.clone()))
        .context("no bucket: give s3://BUCKET, --s3-bucket or --trail-arn")?;
    let prefix = args
        .s3_prefix
        .clone()
        .or_else(|| from_url.as_ref().map(|u| u.prefix.clone()))
        .or_else(|| trail.map(|c| c.s3_key_prefix.clone().unwrap_or_default()))
        .unwrap_or_default();
    Ok(S3Url { bucket, prefix })
}

/// The S3 Inventory whose manifest is at `manifest`, its keys under `prefix`.
fn load_inventory(
    session: &Session,
    args: &ValidateArgs,
    manifest: &str,
    prefix: &str,
) -> Result<Inventory> {
    let url = S3Url::parse(manifest)
        .filter(|u| !u.prefix.is_empty() && !u.prefix.ends_with('/'))
        .ok_or_else(|| {
            anyhow::anyhow!("--inventory {manifest:?}: expected s3://BUCKET/.../manifest.json")
        })?;
    let store = session.s3_store(&args.s3, &url.bucket)?;
    Ok(Inventory::load(&store, &url.bucket, &url.prefix, prefix)?)
}

/// A bucket in S3 (or a copy of one there), with CloudTrail's records of its trails and,
/// without key files, CloudTrail's public keys.
pub(super) fn prepare(args: &ValidateArgs) -> Result<Prepared> {
    let session = Session::load(
        args.s3.aws.profile.as_deref(),
        args.s3.endpoint_url.as_deref(),
    )?;
    let trail = args
        .trail_arn
        .as_deref()
        .map(|arn| trail_by_arn(&session, arn))
        .transpose()?;
    let url = bucket_and_prefix(args, trail.as_ref().map(|(_, c)| c))?;
    let store = session.s3_store(&args.s3, &url.bucket)?;
    let read_from = format!("s3://{}/{}", url.bucket, url.prefix);
    let mut validator = match &args.original_bucket {
        // Digests and logs name the original bucket: read them from this one.
        Some(original) => Validator::new(
            CopyOf::new(store, original.clone(), url.bucket.clone()),
            original,
        ),
        None => Validator::new(store, &url.bucket),
    };
    if let Some(manifest) = &args.inventory {
        if args.original_bucket.is_some() {
            bail!("--inventory cannot be combined with --original-bucket: validate the copy's own inventory without it, or list the copy");
        }
        let inventory = load_inventory(&session, args, manifest, &url.prefix)?;
        validator = validator.inventory(Arc::new(inventory));
    }
    let mut validator = validator
        .prefix(url.prefix)
        .trail_record_source(session.aws.trail_records())
        .trail_records(trail.map(|(r, _)| r).into_iter().collect());
    validator = if args.public_keys.is_empty() {
        validator.public_keys(session.aws.public_keys())
    } else {
        validator.public_keys(load_keys(args)?)
    };
    Ok(Prepared {
        validator,
        read_from,
        as_of: args.as_of.unwrap_or_else(Utc::now),
        as_of_fixed: args.as_of.is_some(),
    })
}
