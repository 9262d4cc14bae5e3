//! Amazon S3 (and S3-compatible stores) through `aws-sdk-s3`.
//!
//! The store is synchronous like the rest of the library: it holds a handle to the caller's
//! tokio runtime and blocks on it. Call it from outside any async context (the CLI calls
//! it from its main thread; an async program would use `spawn_blocking`). Bodies are
//! returned exactly as stored: the SDK never decompresses, even for objects stored with
//! `Content-Encoding: gzip`.

use std::collections::{BTreeMap, HashSet};
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

/// A failed request, and whether trying it again may help.
struct Failure {
    error: StoreError,
    /// A 404 that does not say `NoSuchKey`, or a body cut short: transport, not absence.
    retry: bool,
}

/// Maps an SDK error to a store error. Only `NoSuchKey` proves that an object does not
/// exist ("not found", an integrity finding); a 404 without it (a proxy, a load balancer)
/// proves nothing and is retried; refusals are "access denied"; everything else, after
/// the SDK's retries, is "other", which leaves the file unchecked.
fn store_error<E>(
    e: &aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let code = e.as_service_error().and_then(ProvideErrorMetadata::code);
    let status = e.raw_response().map(|r| r.status().as_u16());
    let kind = match code {
        Some("NoSuchKey") => StoreErrorKind::NotFound,
        Some(
            "AccessDenied" | "AllAccessDisabled" | "InvalidAccessKeyId" | "SignatureDoesNotMatch",
        ) => StoreErrorKind::AccessDenied,
        _ => StoreErrorKind::Other,
    };
    let bare_404 = status == Some(404) && !matches!(code, Some("NoSuchKey" | "NoSuchBucket"));
    let reason = match (
        code,
        e.as_service_error().and_then(ProvideErrorMetadata::message),
    ) {
        _ if bare_404 => {
            "HTTP 404 without NoSuchKey (a proxy or load balancer?): not proof that the object is absent".to_owned()
        }
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_owned(),
        _ => DisplayErrorContext(e).to_string(),
    };
    Failure {
        error: StoreError::new(kind, reason),
        retry: bare_404,
    }
}

/// How many times a request is made when its failure is transport, not absence (beyond
/// the SDK's own retries of throttling and server errors).
const ATTEMPTS: u32 = 3;

/// The most pages one listing may take (a hundred million keys): a listing that goes on
/// past it is an error, not a long wait.
const MAX_PAGES: usize = 100_000;

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

    /// Reads an object, trying again when the failure was transport, not absence.
    async fn get_async(&self, bucket: &str, key: &str) -> Result<Object, StoreError> {
        let mut attempt = 1;
        loop {
            match self.get_once(bucket, key).await {
                Err(f) if f.retry && attempt < ATTEMPTS => {
                    tokio::time::sleep(std::time::Duration::from_millis(50 << attempt)).await;
                    attempt += 1;
                }
                Err(f) => return Err(f.error),
                Ok(object) => return Ok(object),
            }
        }
    }

    async fn get_once(&self, bucket: &str, key: &str) -> Result<Object, Failure> {
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
        let body = out.body.collect().await.map_err(|e| Failure {
            error: StoreError::new(
                StoreErrorKind::Other,
                format!("reading the body failed: {}", DisplayErrorContext(&e)),
            ),
            retry: true,
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

    /// Lists keys (or, with `delimiter`, common prefixes) page by page. A listing that says
    /// it is truncated without a new continuation token, or repeats one, would never end
    /// or end early: an error, never taken as complete.
    async fn list_async(
        &self,
        bucket: &str,
        prefix: &str,
        start_after: Option<&str>,
        delimiter: bool,
    ) -> Result<Vec<String>, StoreError> {
        let failed = |why: &str| {
            StoreError::new(
                StoreErrorKind::Other,
                format!("the listing of s3://{bucket}/{prefix} {why}"),
            )
        };
        let mut tokens = HashSet::new();
        let mut token: Option<String> = None;
        let mut out = Vec::new();
        for _ in 0..MAX_PAGES {
            let page = self
                .client
                .list_objects_v2()
                .bucket(bucket)
                .prefix(prefix)
                .set_start_after(start_after.map(str::to_owned))
                .set_delimiter(delimiter.then(|| "/".to_owned()))
                .set_continuation_token(token.take())
                .set_request_payer(self.payer())
                .set_expected_bucket_owner(self.options.expected_bucket_owner.clone())
                .send()
                .await
                .map_err(|e| store_error(&e).error)?;
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
            if page.is_truncated() != Some(true) {
                return Ok(out);
            }
            match page.next_continuation_token().filter(|t| !t.is_empty()) {
                None => {
                    return Err(failed(
                        "says it is truncated but gives no continuation token",
                    ))
                }
                Some(next) if !tokens.insert(next.to_owned()) => {
                    return Err(failed("repeats a continuation token: it would never end"));
                }
                Some(next) => token = Some(next.to_owned()),
            }
        }
        Err(failed(&format!("did not end after {MAX_PAGES} pages")))
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
