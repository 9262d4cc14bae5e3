//! Real protocol servers for tests and benchmarks, on 127.0.0.1 only: an S3 server (s3s,
//! which does the real HTTP, XML and `SigV4`, over an in-memory backend with fault
//! injection and optional per-request latency) and a CloudTrail endpoint speaking AWS JSON
//! 1.1 (`cloudtrail`). **Test-only.**
//!
//! A poisoned lock (a panic elsewhere in a test) panics here too.
//!
//! `s3s-fs` is not used: it names a sidecar file after base64(bucket) + base64(key), longer
//! than a file name may be for real CloudTrail keys (about 270 bytes).

#![allow(clippy::missing_panics_doc)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use s3s::dto::{
    CommonPrefix, CreateBucketInput, CreateBucketOutput, ETag, GetBucketLocationInput,
    GetBucketLocationOutput, GetObjectInput, GetObjectOutput, HeadBucketInput, HeadBucketOutput,
    ListObjectsInput, ListObjectsOutput, ListObjectsV2Input, ListObjectsV2Output, Metadata, Object,
    PutObjectInput, PutObjectOutput, StreamingBlob,
};
use s3s::{s3_error, S3Request, S3Response, S3Result, S3};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::runtime::Runtime;

mod augment;
mod cloudtrail;
mod faults;
mod proxy;

pub use augment::{AugmentProxy, Augments};
pub use cloudtrail::{CloudTrailState, CloudTrailStub, StubTrail};
pub use faults::{Faults, GetFault, ListFault, Storm};

/// The only credentials the S3 server accepts.
pub const ACCESS_KEY: &str = "AKIDTESTONLY";
/// Secret of [`ACCESS_KEY`].
pub const SECRET_KEY: &str = "test-only-secret";
/// One stored object.
#[derive(Clone)]
pub struct Stored {
    body: hyper::body::Bytes,
    metadata: Option<Metadata>,
    content_encoding: Option<String>,
    e_tag: String,
}

/// An S3 backend in memory behind s3s (which does the real HTTP, XML and `SigV4`). `s3s-fs` is
/// not used because it names a sidecar file after base64(bucket) + base64(key), which is
/// longer than a file name may be for real CloudTrail keys (about 270 bytes).
pub struct MemS3 {
    buckets: Mutex<BTreeMap<String, BTreeMap<String, Stored>>>,
    faults: Arc<Faults>,
}

#[async_trait]
impl S3 for MemS3 {
    async fn create_bucket(
        &self,
        req: S3Request<CreateBucketInput>,
    ) -> S3Result<S3Response<CreateBucketOutput>> {
        self.buckets
            .lock()
            .unwrap()
            .entry(req.input.bucket)
            .or_default();
        Ok(S3Response::new(CreateBucketOutput::default()))
    }

    async fn head_bucket(
        &self,
        req: S3Request<HeadBucketInput>,
    ) -> S3Result<S3Response<HeadBucketOutput>> {
        if self.buckets.lock().unwrap().contains_key(&req.input.bucket) {
            Ok(S3Response::new(HeadBucketOutput::default()))
        } else {
            Err(s3_error!(NoSuchBucket))
        }
    }

    async fn put_object(
        &self,
        req: S3Request<PutObjectInput>,
    ) -> S3Result<S3Response<PutObjectOutput>> {
        use futures_util::StreamExt as _;
        let input = req.input;
        let mut body = Vec::new();
        if let Some(mut stream) = input.body {
            while let Some(chunk) = stream.next().await {
                body.extend_from_slice(&chunk.map_err(|e| s3_error!(IncompleteBody, "{e}"))?);
            }
        }
        let e_tag = {
            use md5::Digest as _;
            hex::encode(md5::Md5::digest(&body))
        };
        let stored = Stored {
            body: body.into(),
            metadata: input.metadata,
            content_encoding: input.content_encoding,
            e_tag: e_tag.clone(),
        };
        let mut buckets = self.buckets.lock().unwrap();
        let Some(bucket) = buckets.get_mut(&input.bucket) else {
            return Err(s3_error!(NoSuchBucket));
        };
        bucket.insert(input.key, stored);
        Ok(S3Response::new(PutObjectOutput {
            e_tag: Some(ETag::Strong(e_tag)),
            ..PutObjectOutput::default()
        }))
    }

    async fn get_object(
        &self,
        req: S3Request<GetObjectInput>,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        self.delay().await;
        self.check_owner(req.input.expected_bucket_owner.as_ref())?;
        let key = req.input.key.clone();
        let payer = req.input.request_payer.is_some();
        self.faults
            .seen
            .lock()
            .unwrap()
            .push(("get".into(), key.clone(), payer));
        if self.faults.deny.lock().unwrap().contains(&key) {
            return Err(s3_error!(AccessDenied, "Access Denied"));
        }
        if self.faults.slow_down_once.lock().unwrap().remove(&key) || self.faults.throttled(&key) {
            return Err(s3_error!(SlowDown, "Please reduce your request rate."));
        }
        match self.faults.take_storm() {
            Some(Storm::InternalError) => return Err(s3_error!(InternalError)),
            Some(Storm::Unavailable) => return Err(s3_error!(ServiceUnavailable)),
            Some(Storm::SlowDown) => return Err(s3_error!(SlowDown)),
            None => {}
        }
        let stored = {
            let buckets = self.buckets.lock().unwrap();
            let Some(bucket) = buckets.get(&req.input.bucket) else {
                return Err(s3_error!(NoSuchBucket));
            };
            bucket
                .get(&key)
                .cloned()
                .ok_or_else(|| s3_error!(NoSuchKey))?
        };
        let length = i64::try_from(stored.body.len()).unwrap();
        let chunks = futures_util::stream::iter(vec![Ok::<_, std::io::Error>(stored.body)]);
        Ok(S3Response::new(GetObjectOutput {
            body: Some(StreamingBlob::wrap(chunks)),
            content_length: Some(length),
            metadata: stored.metadata,
            content_encoding: stored.content_encoding,
            e_tag: Some(ETag::Strong(stored.e_tag)),
            ..GetObjectOutput::default()
        }))
    }

    async fn list_objects_v2(
        &self,
        req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        self.delay().await;
        self.check_owner(req.input.expected_bucket_owner.as_ref())?;
        let input = req.input;
        let prefix = input.prefix.clone().unwrap_or_default();
        self.record("list", &prefix, input.request_payer.is_some());
        let after = input
            .continuation_token
            .clone()
            .or_else(|| input.start_after.clone());
        let page = self.listing(
            &input.bucket,
            &prefix,
            after.as_deref(),
            input.delimiter.as_deref(),
            input.max_keys,
        )?;
        let (mut contents, mut prefixes) = (
            page.contents().unwrap_or_default(),
            page.common_prefixes().unwrap_or_default(),
        );
        let (mut truncated, mut next) = (page.truncated, page.next.clone());
        if let Some(fault) = self.faults.list_fault(&prefix) {
            fault.apply(
                input.continuation_token.as_deref(),
                &mut faults::FaultyPage {
                    contents: &mut contents,
                    prefixes: &mut prefixes,
                    truncated: &mut truncated,
                    next: &mut next,
                    delimiter: input.delimiter.is_some(),
                },
            );
        }
        Ok(S3Response::new(ListObjectsV2Output {
            key_count: Some(i32::try_from(contents.len() + prefixes.len()).unwrap()),
            max_keys: input.max_keys,
            is_truncated: Some(truncated),
            next_continuation_token: next,
            contents: (!contents.is_empty()).then_some(contents),
            common_prefixes: (!prefixes.is_empty()).then_some(prefixes),
            continuation_token: input.continuation_token,
            delimiter: input.delimiter,
            name: Some(input.bucket),
            prefix: input.prefix,
            start_after: input.start_after,
            ..ListObjectsV2Output::default()
        }))
    }

    /// `ListObjects` version 1 (`Marker`), which awscli's validate-logs uses.
    async fn list_objects(
        &self,
        req: S3Request<ListObjectsInput>,
    ) -> S3Result<S3Response<ListObjectsOutput>> {
        self.delay().await;
        self.check_owner(req.input.expected_bucket_owner.as_ref())?;
        let input = req.input;
        let prefix = input.prefix.clone().unwrap_or_default();
        self.record("list", &prefix, input.request_payer.is_some());
        let page = self.listing(
            &input.bucket,
            &prefix,
            input.marker.as_deref(),
            input.delimiter.as_deref(),
            input.max_keys,
        )?;
        Ok(S3Response::new(ListObjectsOutput {
            max_keys: input.max_keys,
            is_truncated: Some(page.truncated),
            next_marker: page.next.clone(),
            contents: page.contents(),
            common_prefixes: page.common_prefixes(),
            delimiter: input.delimiter,
            marker: input.marker,
            name: Some(input.bucket),
            prefix: input.prefix,
            ..ListObjectsOutput::default()
        }))
    }

    /// Every bucket is in us-east-1 (an empty location constraint).
    async fn get_bucket_location(
        &self,
        req: S3Request<GetBucketLocationInput>,
    ) -> S3Result<S3Response<GetBucketLocationOutput>> {
        self.delay().await;
        if !self.buckets.lock().unwrap().contains_key(&req.input.bucket) {
            return Err(s3_error!(NoSuchBucket));
        }
        Ok(S3Response::new(GetBucketLocationOutput::default()))
    }
}

/// One page of a listing.
struct Page {
    contents: Vec<Object>,
    prefixes: Vec<String>,
    truncated: bool,
    /// Where the next page starts after, when truncated.
    next: Option<String>,
}

impl Page {
    fn contents(&self) -> Option<Vec<Object>> {
        (!self.contents.is_empty()).then(|| self.contents.clone())
    }

    fn common_prefixes(&self) -> Option<Vec<CommonPrefix>> {
        (!self.prefixes.is_empty()).then(|| {
            self.prefixes
                .iter()
                .map(|p| CommonPrefix {
                    prefix: Some(p.clone()),
                })
                .collect()
        })
    }
}

impl MemS3 {
    fn record(&self, op: &str, what: &str, payer: bool) {
        self.faults
            .seen
            .lock()
            .unwrap()
            .push((op.into(), what.into(), payer));
    }

    /// Keys under `prefix` after `after`, rolled up at `delimiter`, at most `max_keys`.
    fn listing(
        &self,
        bucket: &str,
        prefix: &str,
        after: Option<&str>,
        delimiter: Option<&str>,
        max_keys: Option<i32>,
    ) -> S3Result<Page> {
        let buckets = self.buckets.lock().unwrap();
        let Some(objects) = buckets.get(bucket) else {
            return Err(s3_error!(NoSuchBucket));
        };
        let max = usize::try_from(max_keys.unwrap_or(1000)).unwrap_or(1000);
        let start = after.map_or(std::ops::Bound::Unbounded, |a| {
            std::ops::Bound::Excluded(a.to_owned())
        });
        let mut page = Page {
            contents: Vec::new(),
            prefixes: Vec::new(),
            truncated: false,
            next: None,
        };
        let mut last = None;
        for (key, stored) in objects.range::<String, _>((start, std::ops::Bound::Unbounded)) {
            if !key.starts_with(prefix) {
                // Sorted keys: once past the prefix, nothing more can match.
                if key.as_str() > prefix {
                    break;
                }
                continue;
            }
            let common = delimiter.and_then(|d| {
                key[prefix.len()..]
                    .find(d)
                    .map(|i| key[..prefix.len() + i + d.len()].to_owned())
            });
            let is_new_prefix = common
                .as_ref()
                .is_some_and(|c| page.prefixes.last() != Some(c));
            if (common.is_none() || is_new_prefix)
                && page.contents.len() + page.prefixes.len() >= max
            {
                page.truncated = true;
                page.next.clone_from(&last);
                break;
            }
            match common {
                Some(c) if is_new_prefix => page.prefixes.push(c),
                Some(_) => {}
                None => page.contents.push(Object {
                    key: Some(key.clone()),
                    size: Some(i64::try_from(stored.body.len()).unwrap()),
                    e_tag: Some(ETag::Strong(stored.e_tag.clone())),
                    ..Object::default()
                }),
            }
            last = Some(key.clone());
        }
        Ok(page)
    }

    /// Refuses a request expecting another bucket owner.
    fn check_owner(&self, expected: Option<&String>) -> S3Result<()> {
        let owner = self.faults.bucket_owner.lock().unwrap();
        match (owner.as_ref(), expected) {
            (Some(owner), Some(expected)) if owner != expected => {
                Err(s3_error!(AccessDenied, "Access Denied"))
            }
            _ => Ok(()),
        }
    }

    /// An empty store sharing `faults` with the caller.
    pub fn new(faults: Arc<Faults>) -> Self {
        Self {
            buckets: Mutex::default(),
            faults,
        }
    }

    async fn delay(&self) {
        let latency = *self.faults.latency.lock().unwrap();
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
    }

    /// Stores every file under `dir` as bucket `bucket`, without going through HTTP:
    /// `.meta.json` sidecars become user metadata.
    pub fn insert_dir(&self, dir: &Path, bucket: &str) -> std::io::Result<usize> {
        let mut buckets = self.buckets.lock().unwrap();
        let objects = buckets.entry(bucket.to_owned()).or_default();
        let mut n = 0;
        for (key, path) in walk(dir)? {
            if key.ends_with(".meta.json") {
                continue;
            }
            let body = std::fs::read(&path)?;
            let metadata = std::fs::read_to_string(format!("{}.meta.json", path.display()))
                .ok()
                .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                .and_then(|v| serde_json::from_value::<Metadata>(v["Metadata"].clone()).ok());
            let e_tag = {
                use md5::Digest as _;
                hex::encode(md5::Md5::digest(&body))
            };
            objects.insert(
                key,
                Stored {
                    body: body.into(),
                    metadata,
                    content_encoding: None,
                    e_tag,
                },
            );
            n += 1;
        }
        Ok(n)
    }
}

/// Serves `backend` over HTTP/1.1 on 127.0.0.1 (port 0: any free port), accepting only
/// [`ACCESS_KEY`]; accepted sockets get `TCP_NODELAY` (without it every small response
/// waits about 40 ms for a delayed ACK). Returns the endpoint URL.
pub fn serve_s3(rt: &Runtime, backend: MemS3, port: u16) -> std::io::Result<String> {
    let faults = Arc::clone(&backend.faults);
    let mut builder = s3s::service::S3ServiceBuilder::new(backend);
    builder.set_auth(s3s::auth::SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
    let service = builder.build();
    let listener = rt.block_on(TcpListener::bind(("127.0.0.1", port)))?;
    let addr: SocketAddr = listener.local_addr()?;
    rt.spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                return;
            };
            let _ = socket.set_nodelay(true);
            let (service, faults) = (service.clone(), Arc::clone(&faults));
            // HTTP-level faults first, as a proxy in front of S3 would answer them.
            let proxy = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
                proxy::answer(service.clone(), Arc::clone(&faults), req)
            });
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(socket), proxy)
                    .await;
            });
        }
    });
    Ok(format!("http://{addr}"))
}

/// Every file under `dir`, as (key with `/`, path), sorted.
pub fn walk(dir: &Path) -> std::io::Result<Vec<(String, std::path::PathBuf)>> {
    fn go(
        root: &Path,
        dir: &Path,
        out: &mut Vec<(String, std::path::PathBuf)>,
    ) -> std::io::Result<()> {
        for e in std::fs::read_dir(dir)? {
            let p = e?.path();
            if p.is_dir() {
                go(root, &p, out)?;
            } else if let Ok(rel) = p.strip_prefix(root) {
                let key: Vec<&str> = rel
                    .components()
                    .filter_map(|c| c.as_os_str().to_str())
                    .collect();
                out.push((key.join("/"), p));
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    go(dir, dir, &mut out)?;
    out.sort();
    Ok(out)
}
