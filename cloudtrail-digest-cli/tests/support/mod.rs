//! Real protocol servers for the S3 tests, on 127.0.0.1 only, stopped when dropped:
//! an S3 server (in-process `s3s` + `s3s-fs` with fault injection, or an external one such
//! as `moto_server` named by `CLOUDTRAIL_DIGEST_TEST_S3`), and a CloudTrail stub speaking
//! AWS JSON 1.1 for `ListPublicKeys`, `GetTrail` and `DescribeTrails`.

#![allow(dead_code, unreachable_pub)]

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use s3s::dto::*;
use s3s::{s3_error, S3Request, S3Response, S3Result, S3};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::runtime::Runtime;

pub const ACCESS_KEY: &str = "AKIDTESTONLY";
pub const SECRET_KEY: &str = "test-only-secret";

/// Faults to inject and requests seen, shared with the test.
#[derive(Default)]
pub struct Faults {
    /// Keys whose GET answers 403 `AccessDenied`.
    pub deny: Mutex<HashSet<String>>,
    /// Keys whose next GET answers 503 `SlowDown` (once each).
    pub slow_down_once: Mutex<HashSet<String>>,
    /// Every GET and LIST: (operation, key or prefix, request payer header present).
    pub seen: Mutex<Vec<(String, String, bool)>>,
}

/// One stored object.
#[derive(Clone)]
struct Stored {
    body: hyper::body::Bytes,
    metadata: Option<Metadata>,
    content_encoding: Option<String>,
    e_tag: String,
}

/// An S3 backend in memory behind s3s (which does the real HTTP, XML and `SigV4`). `s3s-fs` is
/// not used because it names a sidecar file after base64(bucket) + base64(key), which is
/// longer than a file name may be for real CloudTrail keys (about 270 bytes).
struct MemS3 {
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
        if self.faults.slow_down_once.lock().unwrap().remove(&key) {
            return Err(s3_error!(SlowDown, "Please reduce your request rate."));
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
        let input = req.input;
        let prefix = input.prefix.clone().unwrap_or_default();
        self.faults.seen.lock().unwrap().push((
            "list".into(),
            prefix.clone(),
            input.request_payer.is_some(),
        ));
        let buckets = self.buckets.lock().unwrap();
        let Some(bucket) = buckets.get(&input.bucket) else {
            return Err(s3_error!(NoSuchBucket));
        };
        let after = match (&input.continuation_token, &input.start_after) {
            (Some(t), _) => Some(t.clone()),
            (None, s) => s.clone(),
        };
        let max = usize::try_from(input.max_keys.unwrap_or(1000)).unwrap_or(1000);
        let mut contents = Vec::new();
        let mut prefixes: Vec<String> = Vec::new();
        let mut last = None;
        let mut truncated = false;
        for (key, stored) in bucket.range::<String, _>((
            after
                .as_ref()
                .map_or(std::ops::Bound::Unbounded, std::ops::Bound::Excluded),
            std::ops::Bound::Unbounded,
        )) {
            if !key.starts_with(&prefix) {
                if key.as_str() > prefix.as_str()
                    && !key.starts_with(&prefix)
                    && !prefix.is_empty()
                    && key[..prefix.len().min(key.len())] > *prefix
                {
                    break;
                }
                continue;
            }
            if contents.len() + prefixes.len() >= max {
                truncated = true;
                break;
            }
            if let Some(d) = input.delimiter.as_deref() {
                if let Some(i) = key[prefix.len()..].find(d) {
                    let common = key[..prefix.len() + i + d.len()].to_owned();
                    if prefixes.last() != Some(&common) {
                        prefixes.push(common);
                    }
                    last = Some(key.clone());
                    continue;
                }
            }
            contents.push(Object {
                key: Some(key.clone()),
                size: Some(i64::try_from(stored.body.len()).unwrap()),
                e_tag: Some(ETag::Strong(stored.e_tag.clone())),
                ..Object::default()
            });
            last = Some(key.clone());
        }
        let key_count = i32::try_from(contents.len() + prefixes.len()).unwrap();
        Ok(S3Response::new(ListObjectsV2Output {
            key_count: Some(key_count),
            max_keys: input.max_keys,
            is_truncated: Some(truncated),
            next_continuation_token: if truncated { last } else { None },
            contents: (!contents.is_empty()).then_some(contents),
            common_prefixes: (!prefixes.is_empty()).then(|| {
                prefixes
                    .into_iter()
                    .map(|p| CommonPrefix { prefix: Some(p) })
                    .collect()
            }),
            continuation_token: input.continuation_token,
            delimiter: input.delimiter,
            name: Some(input.bucket),
            prefix: input.prefix,
            start_after: input.start_after,
            ..ListObjectsV2Output::default()
        }))
    }
}

/// The S3 server the tests talk to.
pub struct S3Server {
    pub endpoint: String,
    pub faults: Arc<Faults>,
    external: bool,
}

/// The test runtime: servers run on it; the CLI under test is a separate process.
pub fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

impl S3Server {
    /// The external server named by `CLOUDTRAIL_DIGEST_TEST_S3=URL` (reset between uses via
    /// moto's `/moto-api/reset`), else a fresh in-process s3s server.
    pub fn start(rt: &Runtime) -> Self {
        if let Ok(url) = std::env::var("CLOUDTRAIL_DIGEST_TEST_S3") {
            if !url.is_empty() {
                moto_reset(&url);
                return Self {
                    endpoint: url,
                    faults: Arc::default(),
                    external: true,
                };
            }
        }
        let faults = Arc::new(Faults::default());
        let backend = MemS3 {
            buckets: Mutex::default(),
            faults: Arc::clone(&faults),
        };
        let mut builder = s3s::service::S3ServiceBuilder::new(backend);
        builder.set_auth(s3s::auth::SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
        let service = builder.build();
        let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        rt.spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                let _ = socket.set_nodelay(true);
                let service = service.clone();
                tokio::spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(socket), service)
                        .await;
                });
            }
        });
        Self {
            endpoint: format!("http://{addr}"),
            faults,
            external: false,
        }
    }

    /// Whether faults can be injected (the in-process server).
    pub fn can_inject_faults(&self) -> bool {
        !self.external
    }

    /// An SDK client for loading test data.
    pub fn client(&self) -> aws_sdk_s3::Client {
        let conf = aws_sdk_s3::config::Builder::new()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new("us-east-1"))
            .endpoint_url(&self.endpoint)
            .force_path_style(true)
            .request_checksum_calculation(
                aws_sdk_s3::config::RequestChecksumCalculation::WhenRequired,
            )
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                ACCESS_KEY, SECRET_KEY, None, None, "test",
            ))
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    }

    /// Uploads a directory tree as bucket `bucket`: `.meta.json` sidecars become user
    /// metadata; log files are stored with `Content-Encoding: gzip` (which must not make the
    /// validator's client decompress them).
    pub fn load(&self, rt: &Runtime, dir: &Path, bucket: &str) {
        let client = self.client();
        rt.block_on(async {
            if let Err(e) = client.create_bucket().bucket(bucket).send().await {
                let code = e
                    .as_service_error()
                    .map(|s| s.meta().code().unwrap_or_default().to_owned());
                assert!(
                    matches!(
                        code.as_deref(),
                        Some("BucketAlreadyOwnedByYou" | "BucketAlreadyExists")
                    ),
                    "create bucket {bucket}: {}",
                    aws_sdk_s3::error::DisplayErrorContext(&e)
                );
            }
            for (key, path) in walk(dir) {
                if key.ends_with(".meta.json") {
                    continue;
                }
                let body = std::fs::read(&path).unwrap();
                let mut put = client
                    .put_object()
                    .bucket(bucket)
                    .key(&key)
                    .body(body.into());
                let sidecar = format!("{}.meta.json", path.display());
                if let Ok(text) = std::fs::read_to_string(&sidecar) {
                    let head: Value = serde_json::from_str(&text).unwrap();
                    let meta: BTreeMap<String, String> =
                        serde_json::from_value(head["Metadata"].clone()).unwrap_or_default();
                    for (k, v) in meta {
                        put = put.metadata(k, v);
                    }
                }
                if key.contains("/CloudTrail/") {
                    put = put.content_encoding("gzip");
                }
                put.send().await.unwrap_or_else(|e| {
                    panic!("put {key}: {}", aws_sdk_s3::error::DisplayErrorContext(&e))
                });
            }
        });
    }
}

/// Every file under `dir`, as (key, path), keys with `/`.
pub fn walk(dir: &Path) -> Vec<(String, std::path::PathBuf)> {
    fn go(root: &Path, dir: &Path, out: &mut Vec<(String, std::path::PathBuf)>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                go(root, &p, out);
            } else {
                let key = p
                    .strip_prefix(root)
                    .unwrap()
                    .components()
                    .map(|c| c.as_os_str().to_str().unwrap())
                    .collect::<Vec<_>>()
                    .join("/");
                out.push((key, p));
            }
        }
    }
    let mut out = Vec::new();
    go(dir, dir, &mut out);
    out.sort();
    out
}

/// Resets an external moto server (no-op answer from other servers is ignored).
fn moto_reset(url: &str) {
    use std::io::{Read as _, Write as _};
    let addr = url.trim_start_matches("http://").trim_end_matches('/');
    if let Ok(mut s) = std::net::TcpStream::connect(addr) {
        let _ = write!(s, "POST /moto-api/reset HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        let mut sink = Vec::new();
        let _ = s.read_to_end(&mut sink);
    }
}

/// What the CloudTrail stub answers.
#[derive(Default)]
pub struct CloudTrailState {
    /// `PublicKeyList` entries returned by `ListPublicKeys` (any region, any range).
    pub public_keys: Vec<Value>,
    /// Trails by ARN: (bucket, prefix).
    pub trails: BTreeMap<String, (String, String)>,
    /// Every call: (target, body).
    pub calls: Vec<(String, Value)>,
}

/// A CloudTrail endpoint speaking AWS JSON 1.1 on 127.0.0.1.
pub struct CloudTrailStub {
    pub endpoint: String,
    pub state: Arc<Mutex<CloudTrailState>>,
}

impl CloudTrailStub {
    pub fn start(rt: &Runtime, public_keys: Vec<Value>) -> Self {
        let state = Arc::new(Mutex::new(CloudTrailState {
            public_keys,
            ..CloudTrailState::default()
        }));
        let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::clone(&state);
        rt.spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                let _ = socket.set_nodelay(true);
                let state = Arc::clone(&shared);
                tokio::spawn(async move {
                    let service =
                        hyper::service::service_fn(move |req| answer(Arc::clone(&state), req));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(socket), service)
                        .await;
                });
            }
        });
        Self {
            endpoint: format!("http://{addr}"),
            state,
        }
    }
}

async fn answer(
    state: Arc<Mutex<CloudTrailState>>,
    req: hyper::Request<Incoming>,
) -> Result<hyper::Response<http_body_util::Full<hyper::body::Bytes>>, std::convert::Infallible> {
    use http_body_util::BodyExt as _;
    let target = req
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .rsplit('.')
        .next()
        .unwrap_or_default()
        .to_owned();
    let body = req
        .into_body()
        .collect()
        .await
        .map(http_body_util::Collected::to_bytes)
        .unwrap_or_default();
    let input: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut st = state.lock().unwrap();
    st.calls.push((target.clone(), input.clone()));
    let (status, out) = match target.as_str() {
        "ListPublicKeys" => (200, json!({ "PublicKeyList": st.public_keys })),
        "GetTrail" => {
            let name = input["Name"].as_str().unwrap_or_default();
            match st.trails.get(name) {
                Some((bucket, prefix)) => {
                    (200, json!({ "Trail": trail_json(name, bucket, prefix) }))
                }
                None => (
                    400,
                    json!({ "__type": "TrailNotFoundException", "message": format!("Unknown trail: {name}") }),
                ),
            }
        }
        "DescribeTrails" => {
            let names: Vec<&str> = input["trailNameList"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let list: Vec<Value> = st
                .trails
                .iter()
                .filter(|(arn, _)| names.is_empty() || names.contains(&arn.as_str()))
                .map(|(arn, (b, p))| trail_json(arn, b, p))
                .collect();
            (200, json!({ "trailList": list }))
        }
        _ => (
            400,
            json!({ "__type": "UnknownOperationException", "message": target }),
        ),
    };
    let response = hyper::Response::builder()
        .status(status)
        .header("content-type", "application/x-amz-json-1.1")
        .body(http_body_util::Full::new(hyper::body::Bytes::from(
            out.to_string(),
        )))
        .unwrap();
    Ok(response)
}

fn trail_json(arn: &str, bucket: &str, prefix: &str) -> Value {
    let name = arn.rsplit('/').next().unwrap_or(arn);
    let mut t = json!({ "Name": name, "TrailARN": arn, "S3BucketName": bucket, "HomeRegion": "us-east-1", "IsOrganizationTrail": false, "LogFileValidationEnabled": true });
    if !prefix.is_empty() {
        t["S3KeyPrefix"] = json!(prefix);
    }
    t
}
