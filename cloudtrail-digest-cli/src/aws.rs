//! AWS setup for the commands: the configuration and credentials (`aws-config`'s standard
//! chain, a profile, an S3-compatible endpoint), handed to the library's [`Aws`].

use anyhow::{Context as _, Result};
use aws_config::BehaviorVersion;
use cloudtrail_digest::aws::Aws;
use cloudtrail_digest::store::{S3Options, S3Store, Timeouts};

use crate::args::{RequestPayer, S3Args};

/// Loaded AWS configuration, and the runtime it was loaded on (the library's requests run
/// on a runtime of its own).
pub(crate) struct Session {
    runtime: tokio::runtime::Runtime,
    pub(crate) aws: Aws,
}

impl Session {
    /// Loads the configuration (environment, profiles, SSO, instance roles). An
    /// S3-compatible endpoint (the flag, else the standard variables) gets path-style
    /// addressing.
    pub(crate) fn load(profile: Option<&str>, endpoint_url: Option<&str>) -> Result<Self> {
        for name in ["AWS_REGION", "AWS_DEFAULT_REGION"] {
            if std::env::var(name).is_ok_and(|v| v.trim().is_empty()) {
                anyhow::bail!(
                    "{name} is set but empty: unset it, or set it to a region such as us-east-1"
                );
            }
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(p) = profile {
            loader = loader.profile_name(p);
        }
        let config = runtime.block_on(loader.load());
        let mut aws = Aws::new(&config).context("cannot start the AWS runtime")?;
        let s3_endpoint = endpoint_url
            .map(str::to_owned)
            .or_else(|| std::env::var("AWS_ENDPOINT_URL_S3").ok())
            .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok())
            .filter(|e| !e.is_empty());
        if let Some(endpoint) = s3_endpoint {
            aws = aws.with_s3_endpoint(endpoint);
        }
        Ok(Self { runtime, aws })
    }

    /// Runs `future` to its end on the session's runtime.
    pub(crate) fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// The S3 store of `bucket`, with the connection options; requests in flight are kept
    /// below what the open-file limit (raised as far as it goes) allows.
    pub(crate) fn s3_store(&self, s3: &S3Args, bucket: &str) -> Result<S3Store> {
        let allowed = crate::limits::max_in_flight(crate::limits::raise_open_files());
        let concurrency = usize::from(s3.concurrency);
        if concurrency > allowed {
            eprintln!(
                "cloudtrail-digest: --concurrency {concurrency} lowered to {allowed}: the open-file limit allows no more"
            );
        }
        let seconds = std::time::Duration::from_secs;
        let options = S3Options {
            timeouts: Timeouts {
                connect: seconds(s3.connect_timeout),
                first_byte: seconds(s3.read_timeout),
                idle: seconds(s3.read_timeout),
                operation: seconds(s3.timeout),
            },
            concurrency: concurrency.min(allowed),
            requester_pays: s3.request_payer == Some(RequestPayer::Requester),
            expected_bucket_owner: s3.expected_bucket_owner.clone(),
        };
        self.runtime
            .block_on(self.aws.s3_store(bucket, options))
            .context("cannot start the S3 store")
    }
}
