//! Amazon S3 (and S3-compatible stores) through `aws-sdk-s3`.
//!
//! The store is synchronous like the rest of the library: it holds a handle to the caller's
//! tokio runtime and blocks on it. Call it from outside any async context (the CLI calls
//! it from its main thread; an async program would use `spawn_blocking`). Bodies are
//! returned exactly as stored: the SDK never decompresses, even for objects stored with
//! `Content-Encoding: gzip`.

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_s3::types::RequestPayer;
use aws_sdk_s3::Client;
use futures_util::StreamExt as _;
use tokio::runtime::Handle;
use tokio::sync::Semaphore;

use super::{Object, ObjectInfo, ObjectStore, StoreError, StoreErrorKind};

/// Options of requests to S3.
#[derive(Debug, Clone)]
pub struct S3Options {
    /// Requests in flight at once (at 15 ms per request, 64 give about 4,000 files/s).
    pub concurrency: usize,
    /// Send `x-amz-request-payer: requester` (requester-pays buckets).
    pub requester_pays: bool,
    /// Send `x-amz-expected-bucket-owner`.
    pub expected_bucket_owner: Option<String>,
}

impl Default for S3Options {
    fn default() -> Self {
        Self {
            concurrency: 64,
            requester_pays: false,
            expected_bucket_owner: None,
        }
    }
}

/// An S3 endpoint, through one shared SDK client.
#[derive(Debug, Clone)]
pub struct S3Store {
    client: Client,
    runtime: Handle,
    options: S3Options,
}

/// Maps an SDK error to a store error: `NoSuchKey` (and a bare 404) is "not found";
/// refusals are "access denied"; everything else, after the SDK's retries, is "other".
fn store_error<E, R>(e: &aws_sdk_s3::error::SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let code = e.as_service_error().and_then(ProvideErrorMetadata::code);
    let kind = match code {
        Some("NoSuchKey" | "NotFound") => StoreErrorKind::NotFound,
        Some(
            "AccessDenied" | "AllAccessDisabled" | "InvalidAccessKeyId" | "SignatureDoesNotMatch",
        ) => StoreErrorKind::AccessDenied,
        _ => StoreErrorKind::Other,
    };
    let reason = match (
        code,
        e.as_service_error().and_then(ProvideErrorMetadata::message),
    ) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_owned(),
        _ => DisplayErrorContext(e).to_string(),
    };
    StoreError::new(kind, reason)
}

impl S3Store {
    /// A store over `client`, blocking on `runtime`.
    pub fn new(client: Client, runtime: Handle, options: S3Options) -> Self {
        Self {
            client,
            runtime,
            options,
        }
    }

    fn payer(&self) -> Option<RequestPayer> {
        self.options
            .requester_pays
            .then_some(RequestPayer::Requester)
    }

    async fn get_async(&self, bucket: &str, key: &str) -> Result<Object, StoreError> {
        let out = self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .set_request_payer(self.payer())
            .set_expected_bucket_owner(self.options.expected_bucket_owner.clone())
            .send()
            .await
            .map_err(|e| store_error(&e))?;
        let metadata: BTreeMap<String, String> = out
            .metadata()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
                    .collect()
            })
            .unwrap_or_default();
        let body = out.body.collect().await.map_err(|e| {
            StoreError::new(
                StoreErrorKind::Other,
                format!("reading the body failed: {e}"),
            )
        })?;
        let info = ObjectInfo {
            etag: out.e_tag,
            version_id: out.version_id,
            last_modified: out
                .last_modified
                .and_then(|t| t.fmt(aws_sdk_s3::primitives::DateTimeFormat::DateTime).ok()),
        };
        Ok(Object {
            // Moves the buffer when it is a single chunk: no copy per object.
            body: body.into_bytes().into(),
            metadata: Some(metadata),
            info,
        })
    }

    async fn list_async(
        &self,
        bucket: &str,
        prefix: &str,
        start_after: Option<&str>,
        delimiter: bool,
    ) -> Result<Vec<String>, StoreError> {
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .set_start_after(start_after.map(str::to_owned))
            .set_delimiter(delimiter.then(|| "/".to_owned()))
            .set_request_payer(self.payer())
            .set_expected_bucket_owner(self.options.expected_bucket_owner.clone())
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| store_error(&e))?;
            if delimiter {
                out.extend(
                    page.common_prefixes()
                        .iter()
                        .filter_map(|p| p.prefix().map(str::to_owned)),
                );
            } else {
                out.extend(
                    page.contents()
                        .iter()
                        .filter_map(|o| o.key().map(str::to_owned)),
                );
            }
        }
        Ok(out)
    }
}

/// Bodies up to this size are handled on the receiving thread (see `get_each`).
const INLINE_MAX: usize = 64 * 1024;

impl ObjectStore for S3Store {
    fn list(
        &self,
        bucket: &str,
        prefix: &str,
        start_after: Option<&str>,
    ) -> Result<Vec<String>, StoreError> {
        self.runtime
            .block_on(self.list_async(bucket, prefix, start_after, false))
    }

    fn list_prefixes(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, StoreError> {
        let mut out = self
            .runtime
            .block_on(self.list_async(bucket, prefix, None, true))?;
        out.sort_unstable();
        Ok(out)
    }

    fn get(&self, bucket: &str, key: &str) -> Result<Object, StoreError> {
        self.runtime.block_on(self.get_async(bucket, key))
    }

    /// Keeps `concurrency` requests in flight on the runtime. Each request is its own task,
    /// so the SDK's work per request (building, signing, parsing the response) spreads over
    /// the runtime's worker threads instead of all running on the calling thread. A small
    /// body (most CloudTrail log files) is handled at once on the calling thread; a large
    /// one is handed to the rayon pool, where several inflate in parallel. At most twice
    /// `concurrency` bodies are held at once.
    fn get_each(
        &self,
        requests: &[(&str, &str)],
        each: &(dyn Fn(usize, Result<Object, StoreError>) + Sync),
    ) {
        let concurrency = self.options.concurrency.max(1);
        let bodies = Arc::new(Semaphore::new(concurrency * 2));
        let store = Arc::new(self.clone());
        rayon::in_place_scope(|scope| {
            self.runtime.block_on(async {
                let mut results = futures_util::stream::iter(requests.iter().enumerate())
                    .map(|(i, (bucket, key))| {
                        let (store, bodies) = (Arc::clone(&store), Arc::clone(&bodies));
                        let (bucket, key) = ((*bucket).to_owned(), (*key).to_owned());
                        let task = self.runtime.spawn(async move {
                            let permit = bodies.acquire_owned().await.ok();
                            (store.get_async(&bucket, &key).await, permit)
                        });
                        async move {
                            match task.await {
                                Ok((result, permit)) => (i, result, permit),
                                // A panic inside the SDK: this object is unchecked.
                                Err(e) => (
                                    i,
                                    Err(StoreError::new(
                                        StoreErrorKind::Other,
                                        format!("the request's task failed: {e}"),
                                    )),
                                    None,
                                ),
                            }
                        }
                    })
                    .buffer_unordered(concurrency);
                while let Some((i, result, permit)) = results.next().await {
                    // Handing a small body to another thread costs more (a wake-up, a
                    // context switch) than inflating and hashing it here.
                    let small = result.as_ref().map_or(true, |o| o.body.len() <= INLINE_MAX);
                    if small {
                        each(i, result);
                        drop(permit);
                    } else {
                        scope.spawn(move |_| {
                            each(i, result);
                            drop(permit);
                        });
                    }
                }
            });
        });
    }
}
