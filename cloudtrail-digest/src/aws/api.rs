//! Clients of the AWS services the library asks (CloudTrail, and for `posture` KMS,
//! CloudWatch Logs, IAM, STS, Account and S3 Control), from one configuration, and the
//! runtime their requests run on.

use std::sync::Arc;

use aws_sdk_s3::config::Region;
use aws_types::SdkConfig;

use crate::store::s3::bridge::Bridge;

/// The default region for calls that need one when the configuration has none.
pub(super) const FALLBACK_REGION: &str = "us-east-1";

/// Clients for any region, and the runtime their requests run on.
#[derive(Debug, Clone)]
pub(super) struct Clients {
    pub(super) config: SdkConfig,
    pub(super) bridge: Arc<Bridge>,
}

/// An endpoint taken as it is: S3 Control would otherwise put the account id in front of
/// a custom endpoint's host name.
#[derive(Debug)]
struct Fixed(String);

impl aws_sdk_s3control::config::endpoint::ResolveEndpoint for Fixed {
    fn resolve_endpoint<'a>(
        &'a self,
        _: &'a aws_sdk_s3control::config::endpoint::Params,
    ) -> aws_sdk_s3control::config::endpoint::EndpointFuture<'a> {
        let endpoint = aws_sdk_s3control::config::endpoint::Endpoint::builder()
            .url(self.0.clone())
            .build();
        aws_sdk_s3control::config::endpoint::EndpointFuture::ready(Ok(endpoint))
    }
}

/// How long a call may take: a server that never answers cannot hang a run.
pub(super) fn timeouts() -> aws_sdk_cloudtrail::config::timeout::TimeoutConfig {
    let secs = std::time::Duration::from_secs;
    aws_sdk_cloudtrail::config::timeout::TimeoutConfig::builder()
        .connect_timeout(secs(10))
        .read_timeout(secs(30))
        .operation_attempt_timeout(secs(60))
        .operation_timeout(secs(180))
        .build()
}

impl Clients {
    fn region_or_default(&self) -> Region {
        self.config
            .region()
            .cloned()
            .unwrap_or_else(|| Region::new(FALLBACK_REGION))
    }

    /// A CloudTrail client for `region`.
    pub(super) fn cloudtrail(&self, region: &str) -> aws_sdk_cloudtrail::Client {
        let conf = aws_sdk_cloudtrail::config::Builder::from(&self.config)
            .region(Region::new(region.to_owned()))
            .timeout_config(timeouts())
            .build();
        aws_sdk_cloudtrail::Client::from_conf(conf)
    }

    /// A KMS client for `region`.
    pub(super) fn kms(&self, region: &str) -> aws_sdk_kms::Client {
        let conf = aws_sdk_kms::config::Builder::from(&self.config)
            .region(Region::new(region.to_owned()))
            .timeout_config(timeouts())
            .build();
        aws_sdk_kms::Client::from_conf(conf)
    }

    /// A CloudWatch Logs client for `region`.
    pub(super) fn logs(&self, region: &str) -> aws_sdk_cloudwatchlogs::Client {
        let conf = aws_sdk_cloudwatchlogs::config::Builder::from(&self.config)
            .region(Region::new(region.to_owned()))
            .timeout_config(timeouts())
            .build();
        aws_sdk_cloudwatchlogs::Client::from_conf(conf)
    }

    /// An IAM client (a global service).
    pub(super) fn iam(&self) -> aws_sdk_iam::Client {
        let conf = aws_sdk_iam::config::Builder::from(&self.config)
            .timeout_config(timeouts())
            .build();
        aws_sdk_iam::Client::from_conf(conf)
    }

    /// An STS client.
    pub(super) fn sts(&self) -> aws_sdk_sts::Client {
        let conf = aws_sdk_sts::config::Builder::from(&self.config)
            .region(self.region_or_default())
            .timeout_config(timeouts())
            .build();
        aws_sdk_sts::Client::from_conf(conf)
    }

    /// An Account client.
    pub(super) fn account(&self) -> aws_sdk_account::Client {
        let conf = aws_sdk_account::config::Builder::from(&self.config)
            .timeout_config(timeouts())
            .build();
        aws_sdk_account::Client::from_conf(conf)
    }

    /// An S3 Control client; a custom endpoint is used as it is.
    pub(super) fn s3control(&self) -> aws_sdk_s3control::Client {
        let mut b = aws_sdk_s3control::config::Builder::from(&self.config)
            .region(self.region_or_default())
            .timeout_config(timeouts());
        if let Some(url) = self.config.endpoint_url() {
            b = b.endpoint_resolver(Fixed(url.to_owned()));
        }
        aws_sdk_s3control::Client::from_conf(b.build())
    }

    /// Runs `future` on the library's runtime, waiting for it from any thread.
    pub(super) fn block_on<T: Send + 'static>(
        &self,
        future: impl std::future::Future<Output = T> + Send + 'static,
    ) -> Option<T> {
        self.bridge.run(future)
    }
}
