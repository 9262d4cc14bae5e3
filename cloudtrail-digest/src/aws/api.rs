//! What asking CloudTrail needs: the configuration, and the runtime the requests run on.

use std::sync::Arc;

use aws_sdk_s3::config::Region;
use aws_types::SdkConfig;

use crate::store::s3::bridge::Bridge;

/// CloudTrail clients for any region, and the runtime their requests run on.
#[derive(Debug, Clone)]
pub(super) struct CloudTrailApi {
    pub(super) config: SdkConfig,
    pub(super) bridge: Arc<Bridge>,
}

impl CloudTrailApi {
    /// A CloudTrail client for `region`.
    pub(super) fn cloudtrail(&self, region: &str) -> aws_sdk_cloudtrail::Client {
        let conf = aws_sdk_cloudtrail::config::Builder::from(&self.config)
            .region(Region::new(region.to_owned()))
            .build();
        aws_sdk_cloudtrail::Client::from_conf(conf)
    }

    /// Runs `future` on the library's runtime, waiting for it from any thread.
    pub(super) fn block_on<T: Send + 'static>(
        &self,
        future: impl std::future::Future<Output = T> + Send + 'static,
    ) -> Option<T> {
        self.bridge.run(future)
    }
}
