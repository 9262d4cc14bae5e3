//! AWS in the library (feature `aws`): the S3 store of a bucket in its own region, public
//! keys from CloudTrail `ListPublicKeys`, and CloudTrail's records of trails, all from one
//! [`aws_types::SdkConfig`] (what `aws_config::load_defaults` returns).
//!
//! A custom endpoint (the configuration's `endpoint_url`, or one given with
//! [`Aws::with_s3_endpoint`]) gets path-style addressing, as S3-compatible servers need.
//! Requests run on a runtime of the library's own, so every call here works from inside
//! an async runtime or outside one.

mod api;
mod client;
mod keys;
mod posture;
mod trails;

pub use client::Aws;
pub use keys::CloudTrailKeys;
pub use posture::PostureOptions;
pub use trails::{trail_arn, CloudTrailRecords};
