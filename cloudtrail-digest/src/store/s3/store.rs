//! The S3 store: listings page by page, one object, many objects in flight on the
//! store's own runtime.

use std::collections::HashSet;
use std::sync::{mpsc, Arc};
use std::time::Duration;

use aws_sdk_s3::types::RequestPayer;
use aws_sdk_s3::Client;
use futures_util::StreamExt as _;
use tokio::sync::Semaphore;

use super::bridge::Bridge;
use super::failure::store_error;
use super::throttled::{in_turn, Throttled};
use super::window::Window;
use crate::store::object::{Listing, Object, StoreError, StoreErrorKind};
use crate::store::object_store::ObjectStore;

/// How long a request may take. A server that accepts a request and never answers, or
/// trickles a body, cannot hang a run: what times out is tried again, then left unchecked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// To connect.
    pub connect: Duration,
    /// From sending a request to the first byte of the answer.
    pub first_byte: Duration,
    /// Between two parts of a body.
    pub idle: Duration,
    /// A whole request (a body gets more, at 64 KiB/s, for its size).
    pub operation: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(10),
            first_byte: Duration::from_secs(30),
            idle: Duration::from_secs(30),
            operation: Duration::from_secs(60),
        }
    }
}

/// Options of requests to S3.
#[derive(Debug, Clone)]
pub struct S3Options {
    /// Requests in flight at once, at most. The store starts at 64 (or this, if lower),
    /// doubles while answers keep their pace, grows by one when they slow down, and halves
    /// when S3 throttles (at 15 ms per request, 64 give about 4,000 files/s).
    pub concurrency: usize,
    /// Send `x-amz-request-payer: requester` (requester-pays buckets).
    pub requester_pays: bool,
    /// Send `x-amz-expected-bucket-owner`.
    pub expected_bucket_owner: Option<String>,
    /// How long requests may take.
    pub timeouts: Timeouts,
}

impl Default for S3Options {
    fn default() -> Self {
        Self {
            concurrency: 256,
            requester_pays: false,
            expected_bucket_owner: None,
            timeouts: Timeouts::default(),
        }
    }
}

/// An S3 endpoint, through one shared SDK client.
#[derive(Debug, Clone)]
pub struct S3Store {
    pub(super) client: Client,
    pub(super) bridge: Arc<Bridge>,
    pub(super) options: S3Options,
    pub(super) window: Arc<Window>,
    /// The windows of the folders S3 throttled.
    pub(super) throttled: Arc<Throttled>,
}

/// The most pages one listing may take (a hundred million keys): a listing that goes on
/// past it is an error, not a long wait.
const MAX_PAGES: usize = 100_000;

impl S3Store {
    /// A store over `client` (its timeouts set from `options`), with a runtime of its own
    /// for the requests.
    ///
    /// # Errors
    /// The runtime's threads could not be started.
    pub fn new(client: &Client, options: S3Options) -> std::io::Result<Self> {
        Ok(Self::on(client, options, Arc::new(Bridge::new()?)))
    }

    /// A store over `client` whose requests run on `bridge`.
    pub(crate) fn on(client: &Client, options: S3Options, bridge: Arc<Bridge>) -> Self {
        let t = options.timeouts;
        let timeouts = aws_sdk_s3::config::timeout::TimeoutConfig::builder()
            .connect_timeout(t.connect)
            .read_timeout(t.first_byte)
            .operation_attempt_timeout(t.operation)
            .build();
        let client = Client::from_conf(
            client
                .config()
                .to_builder()
                .timeout_config(timeouts)
                .build(),
        );
        Self {
            client,
            bridge,
            window: Arc::new(Window::new(options.concurrency)),
            throttled: Arc::new(Throttled::new(options.concurrency)),
            options,
        }
    }

    pub(super) fn payer(&self) -> Option<RequestPayer> {
        self.options
            .requester_pays
            .then_some(RequestPayer::Requester)
    }

    /// Lists keys (or, with `delimiter`, common prefixes) page by page. A listing that says
    /// it is truncated without a new continuation token, or repeats one, would never end
    /// or end early: an error, never taken as complete.
    async fn list_async(
        &self,
        bucket: &str,
        prefix: &str,
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

impl S3Store {
    /// Runs `call` (given a clone of the store, for a future that owns what it reads) on
    /// the store's runtime and waits for it.
    fn call<T, F>(&self, call: impl FnOnce(S3Store) -> F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: std::future::Future<Output = Result<T, StoreError>> + Send + 'static,
    {
        self.bridge.run(call(self.clone())).unwrap_or_else(|| {
            Err(StoreError::new(
                StoreErrorKind::Other,
                "the request's task did not finish",
            ))
        })
    }

    /// Spawns a task that keeps `concurrency` requests in flight and sends each result, with
    /// the permit that holds its body's place, as it arrives.
    fn spawn_requests(
        &self,
        requests: Vec<(usize, String, String)>,
        sender: mpsc::Sender<Arrived>,
    ) -> Option<()> {
        let concurrency = self.options.concurrency.max(1);
        let bodies = Arc::new(Semaphore::new(concurrency * 2));
        let store = Arc::new(self.clone());
        let handle = self.bridge.handle()?.clone();
        let driver = handle.clone();
        driver.spawn(async move {
            let mut results = futures_util::stream::iter(requests)
                .map(|(i, bucket, key)| {
                    let (store, bodies) = (Arc::clone(&store), Arc::clone(&bodies));
                    let task = handle.spawn(async move {
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
            while let Some(arrived) = results.next().await {
                // The caller went away: stop.
                if sender.send(arrived).is_err() {
                    return;
                }
            }
        });
        Some(())
    }
}

/// A result of `get_each`, with the permit that holds its body's place until handled.
type Arrived = (
    usize,
    Result<Object, StoreError>,
    Option<tokio::sync::OwnedSemaphorePermit>,
);

/// Bodies up to this size are handled on the receiving thread (see `get_each`).
const INLINE_MAX: usize = 64 * 1024;

impl ObjectStore for S3Store {
    fn list(&self, bucket: &str, prefix: &str) -> Result<Listing, StoreError> {
        let (bucket, prefix) = (bucket.to_owned(), prefix.to_owned());
        let keys = self.call(|s| async move { s.list_async(&bucket, &prefix, false).await })?;
        Ok(Listing::of(keys))
    }

    fn list_prefixes(&self, bucket: &str, prefix: &str) -> Result<Listing, StoreError> {
        let (bucket, prefix) = (bucket.to_owned(), prefix.to_owned());
        let mut out = self.call(|s| async move { s.list_async(&bucket, &prefix, true).await })?;
        out.sort_unstable();
        Ok(Listing::of(out))
    }

    fn get(&self, bucket: &str, key: &str) -> Result<Object, StoreError> {
        let (bucket, key) = (bucket.to_owned(), key.to_owned());
        self.call(|s| async move { s.get_async(&bucket, &key).await })
    }

    /// Keeps `concurrency` requests in flight on the store's runtime. Each request is its
    /// own task, so the SDK's work per request (building, signing, parsing the response)
    /// spreads over the runtime's worker threads. A small body (most CloudTrail log files)
    /// is handled at once on the calling thread; a large one is handed to the rayon pool,
    /// where several inflate in parallel. At most twice `concurrency` bodies are held at
    /// once. A request whose result never arrives is never reported: the caller treats it
    /// as not read.
    fn get_each(
        &self,
        requests: &[(&str, &str)],
        each: &(dyn Fn(usize, Result<Object, StoreError>) + Sync),
    ) {
        // Folders in turn: a folder S3 throttles holds at most its share of the places.
        let owned = in_turn(requests)
            .into_iter()
            .filter_map(|i| {
                let (b, k) = requests.get(i)?;
                Some((i, (*b).to_owned(), (*k).to_owned()))
            })
            .collect();
        let (sender, receiver) = mpsc::channel();
        if self.spawn_requests(owned, sender).is_none() {
            return;
        }
        rayon::in_place_scope(|scope| {
            for (i, result, permit) in receiver {
                // Handing a small body to another thread costs more (a wake-up, a context
                // switch) than inflating and hashing it here.
                let small = result.as_ref().map_or(true, |o| {
                    o.body.as_bytes().is_some_and(|b| b.len() <= INLINE_MAX)
                });
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
    }
}
