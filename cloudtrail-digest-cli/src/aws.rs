//! Everything that knows about AWS: configuration and credentials (`aws-config`'s standard
//! chain), the S3 client for a bucket's own region, CloudTrail `ListPublicKeys` and
//! the clients the other modules use.

use std::collections::HashMap;
use std::sync::Mutex;

use anyhow::{anyhow, bail, Context as _, Result};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_cloudtrail::error::DisplayErrorContext;
use aws_sdk_cloudtrail::primitives::DateTime as AwsTime;
use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use cloudtrail_digest::{Fingerprint, KeySource, PublicKey, PublicKeySet};
use serde_json::{json, Value};
use tokio::runtime::Runtime;

/// The most pages one `ListPublicKeys` may take (a key lasts about a month: years of keys
/// fit in one page).
const MAX_KEY_PAGES: usize = 1000;

/// The default region for calls that need one when nothing configures it.
const FALLBACK_REGION: &str = "us-east-1";

/// Loaded AWS configuration and the runtime its clients run on.
pub(crate) struct Aws {
    pub(crate) runtime: Runtime,
    config: SdkConfig,
    s3_endpoint: Option<String>,
}

fn aws_time(t: DateTime<Utc>) -> AwsTime {
    AwsTime::from_secs(t.timestamp())
}

impl Aws {
    /// Loads the configuration (environment, profiles, SSO, instance roles).
    pub(crate) fn load(profile: Option<&str>, endpoint_url: Option<&str>) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(p) = profile {
            loader = loader.profile_name(p);
        }
        let config = runtime.block_on(loader.load());
        // An S3-compatible endpoint (flag or the standard variables) gets path-style
        // addressing: bucket names in the path, not in the host name.
        let s3_endpoint = endpoint_url
            .map(str::to_owned)
            .or_else(|| std::env::var("AWS_ENDPOINT_URL_S3").ok())
            .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok())
            .filter(|e| !e.is_empty());
        Ok(Self {
            runtime,
            config,
            s3_endpoint,
        })
    }

    fn region(&self) -> Region {
        self.config
            .region()
            .cloned()
            .unwrap_or_else(|| Region::new(FALLBACK_REGION))
    }

    fn s3_with_region(&self, region: Region) -> aws_sdk_s3::Client {
        let mut b = aws_sdk_s3::config::Builder::from(&self.config).region(region);
        if let Some(endpoint) = &self.s3_endpoint {
            b = b.endpoint_url(endpoint).force_path_style(true);
        }
        aws_sdk_s3::Client::from_conf(b.build())
    }

    /// An S3 client for `bucket`'s own region, found with `HeadBucket` (its
    /// `x-amz-bucket-region` answers even when the request is redirected or refused).
    pub(crate) fn s3_client(&self, bucket: &str) -> aws_sdk_s3::Client {
        let client = self.s3_with_region(self.region());
        if self.s3_endpoint.is_some() {
            return client;
        }
        let found = self.runtime.block_on(async {
            match client.head_bucket().bucket(bucket).send().await {
                Ok(out) => out.bucket_region().map(str::to_owned),
                Err(e) => e
                    .raw_response()
                    .and_then(|r| r.headers().get("x-amz-bucket-region"))
                    .map(str::to_owned),
            }
        });
        match found {
            Some(region) if Some(region.as_str()) != self.config.region().map(Region::as_ref) => {
                self.s3_with_region(Region::new(region))
            }
            _ => client,
        }
    }

    pub(crate) fn cloudtrail(&self, region: &str) -> aws_sdk_cloudtrail::Client {
        let conf = aws_sdk_cloudtrail::config::Builder::from(&self.config)
            .region(Region::new(region.to_owned()))
            .build();
        aws_sdk_cloudtrail::Client::from_conf(conf)
    }

    /// `ListPublicKeys` in `region` over `[start, end]`, as `list-public-keys` JSON entries.
    pub(crate) fn list_public_keys(
        &self,
        region: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<Value>> {
        let client = self.cloudtrail(region);
        self.runtime.block_on(async {
            let mut entries = Vec::new();
            let mut token: Option<String> = None;
            let mut tokens = std::collections::HashSet::new();
            for _ in 0..MAX_KEY_PAGES {
                let out = client
                    .list_public_keys()
                    .start_time(aws_time(start))
                    .end_time(aws_time(end))
                    .set_next_token(token.take())
                    .send()
                    .await
                    .map_err(|e| anyhow!("ListPublicKeys in {region}: {}", DisplayErrorContext(&e)))?;
                for key in out.public_key_list() {
                    let secs = |t: Option<&AwsTime>| t.map(AwsTime::secs);
                    entries.push(json!({
                        "Value": key.value().map(|v| base64::engine::general_purpose::STANDARD.encode(v.as_ref())),
                        "ValidityStartTime": secs(key.validity_start_time()),
                        "ValidityEndTime": secs(key.validity_end_time()),
                        "Fingerprint": key.fingerprint(),
                        "Region": region,
                    }));
                }
                match out.next_token().filter(|t| !t.is_empty()) {
                    // A token given before: the listing would never end.
                    Some(t) if !tokens.insert(t.to_owned()) => {
                        bail!("ListPublicKeys in {region} repeats a NextToken: it would never end")
                    }
                    Some(t) => token = Some(t.to_owned()),
                    None => return Ok(entries),
                }
            }
            bail!("ListPublicKeys in {region} did not end after {MAX_KEY_PAGES} pages")
        })
    }
}

/// Public keys from CloudTrail `ListPublicKeys`, asked in each digest's region over
/// `[start, end + 2 h]` once, and for a digest signed outside that range (a backfill digest)
/// over one hour either side of its signing time; cached per region.
pub(crate) struct CloudTrailKeys<'a> {
    aws: &'a Aws,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    /// Keys per region, or why they could not be had: each region is asked once.
    cache: Mutex<HashMap<String, Result<PublicKeySet, String>>>,
}

impl<'a> CloudTrailKeys<'a> {
    pub(crate) fn new(aws: &'a Aws, start: DateTime<Utc>, end: DateTime<Utc>) -> Self {
        Self {
            aws,
            start,
            end: end + Duration::hours(2),
            cache: Mutex::new(HashMap::new()),
        }
    }

    fn fetch(
        &self,
        region: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<PublicKeySet, String> {
        let entries = self
            .aws
            .list_public_keys(region, start, end)
            .map_err(|e| format!("{e:#}"))?;
        if entries.is_empty() {
            return Err(format!(
                "no public keys found between {} and {}",
                start.format("%Y-%m-%dT%H:%M:%SZ"),
                end.format("%Y-%m-%dT%H:%M:%SZ")
            ));
        }
        let list = json!({ "PublicKeyList": entries });
        PublicKeySet::from_list_public_keys_json(list.to_string().as_bytes())
            .map_err(|e| format!("ListPublicKeys in {region} returned a bad key: {e}"))
    }
}

impl KeySource for CloudTrailKeys<'_> {
    fn key(
        &self,
        region: &str,
        fingerprint: &Fingerprint,
        signed_at: DateTime<Utc>,
    ) -> Result<Option<PublicKey>, String> {
        let mut cache = self
            .cache
            .lock()
            .map_err(|_| "key cache poisoned".to_owned())?;
        let entry = cache
            .entry(region.to_owned())
            .or_insert_with(|| self.fetch(region, self.start, self.end));
        let set = entry
            .as_mut()
            .map_err(|e| format!("cannot get the public keys of region {region}: {e}"))?;
        if let Some(key) = set.get(fingerprint) {
            return Ok(Some(key.clone()));
        }
        if signed_at < self.start || signed_at > self.end {
            let more = self
                .fetch(
                    region,
                    signed_at - Duration::hours(1),
                    signed_at + Duration::hours(1),
                )
                .map_err(|e| format!("cannot get the public keys of region {region}: {e}"))?;
            set.extend(more);
        }
        Ok(set.get(fingerprint).cloned())
    }
}
