//! The library's handle on AWS: a configuration and the runtime its requests run on.

use std::sync::Arc;

use aws_sdk_s3::config::Region;
use aws_types::SdkConfig;

use super::api::{Clients, FALLBACK_REGION};
use super::keys::CloudTrailKeys;
use super::trails::CloudTrailRecords;
use crate::store::s3::bridge::Bridge;
use crate::store::{S3Options, S3Store};

/// AWS configuration and the runtime the library's AWS requests run on.
#[derive(Debug, Clone)]
pub struct Aws {
    config: SdkConfig,
    s3_endpoint: Option<String>,
    bridge: Arc<Bridge>,
}

impl Aws {
    /// From a loaded configuration (credentials, region, retries, endpoints).
    ///
    /// # Errors
    /// The runtime's threads could not be started.
    pub fn new(config: &SdkConfig) -> std::io::Result<Self> {
        Ok(Self {
            s3_endpoint: config.endpoint_url().map(str::to_owned),
            config: config.clone(),
            bridge: Arc::new(Bridge::new()?),
        })
    }

    /// Sends S3 requests to this S3-compatible endpoint, path-style.
    #[must_use]
    pub fn with_s3_endpoint(mut self, url: impl Into<String>) -> Self {
        self.s3_endpoint = Some(url.into());
        self
    }

    /// The configuration.
    pub fn config(&self) -> &SdkConfig {
        &self.config
    }

    pub(super) fn region(&self) -> Region {
        self.config
            .region()
            .cloned()
            .unwrap_or_else(|| Region::new(FALLBACK_REGION))
    }

    pub(super) fn s3_client(&self, region: Region) -> aws_sdk_s3::Client {
        let mut b = aws_sdk_s3::config::Builder::from(&self.config).region(region);
        if let Some(endpoint) = &self.s3_endpoint {
            b = b.endpoint_url(endpoint).force_path_style(true);
        }
        aws_sdk_s3::Client::from_conf(b.build())
    }

    /// The region `bucket` lives in, from `HeadBucket` (its `x-amz-bucket-region` answers
    /// even when the request is redirected or refused); `None` if S3 does not say.
    pub async fn bucket_region(&self, bucket: &str) -> Option<String> {
        let client = self.s3_client_in(None);
        let bucket = bucket.to_owned();
        let ask = async move {
            match client.head_bucket().bucket(bucket).send().await {
                Ok(out) => out.bucket_region().map(str::to_owned),
                Err(e) => e
                    .raw_response()
                    .and_then(|r| r.headers().get("x-amz-bucket-region"))
                    .map(str::to_owned),
            }
        };
        let handle = self.bridge.handle()?.clone();
        handle.spawn(ask).await.ok().flatten()
    }

    /// `bucket`'s region (a custom endpoint is taken as it is: it has no regions to find).
    async fn region_of(&self, bucket: &str) -> Region {
        match &self.s3_endpoint {
            Some(_) => self.region(),
            None => self
                .bucket_region(bucket)
                .await
                .map_or_else(|| self.region(), Region::new),
        }
    }

    /// An S3 client in `bucket`'s region, with the endpoint and the library's timeouts:
    /// for a caller's own objects beside a run (a sharded run's reports, say). Its
    /// requests may be sent from any Tokio runtime.
    pub async fn s3_client_for(&self, bucket: &str) -> aws_sdk_s3::Client {
        let region = self.region_of(bucket).await;
        self.s3_client_in(Some(region.as_ref()))
    }

    /// The S3 store of `bucket`, its client in the bucket's own region.
    pub async fn s3_store(&self, bucket: &str, options: S3Options) -> std::io::Result<S3Store> {
        let region = self.region_of(bucket).await;
        Ok(S3Store::on(
            &self.s3_client(region),
            options,
            Arc::clone(&self.bridge),
        ))
    }

    /// What asking CloudTrail needs.
    pub(super) fn api(&self) -> Clients {
        Clients {
            config: self.config.clone(),
            bridge: Arc::clone(&self.bridge),
        }
    }

    /// An S3 client for `region` (the configuration's, if none).
    pub(super) fn s3_client_in(&self, region: Option<&str>) -> aws_sdk_s3::Client {
        let region = region.map_or_else(|| self.region(), |r| Region::new(r.to_owned()));
        let client = self.s3_client(region);
        let conf = client
            .config()
            .to_builder()
            .timeout_config(super::api::timeouts())
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    }

    /// A handle on the library's runtime.
    pub(super) fn bridge_handle(&self) -> Option<tokio::runtime::Handle> {
        self.bridge.handle().cloned()
    }

    /// Public keys from CloudTrail `ListPublicKeys`, asked per region over the run's range.
    pub fn public_keys(&self) -> CloudTrailKeys {
        CloudTrailKeys::new(self.api())
    }

    /// CloudTrail's records of the trails a run finds (`GetTrail`, `GetTrailStatus`).
    pub fn trail_records(&self) -> CloudTrailRecords {
        CloudTrailRecords::new(self.api())
    }
}
