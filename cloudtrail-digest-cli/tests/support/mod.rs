//! The servers of the S3 tests: `cloudtrail-digest-testserver`'s in-process S3 server, or
//! an external one such as `moto_server` named by `CLOUDTRAIL_DIGEST_TEST_S3`, and its
//! CloudTrail stub.

#![allow(dead_code, unreachable_pub, unused_imports)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use serde_json::Value;
use tokio::runtime::Runtime;

pub use cloudtrail_digest_testserver::{
    walk, CloudTrailStub, Faults, GetFault, ListFault, MemS3, Storm, StubTrail, ACCESS_KEY,
    SECRET_KEY,
};

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

/// A CloudTrail stub on any free port.
pub fn cloudtrail(rt: &Runtime, public_keys: Vec<Value>) -> CloudTrailStub {
    CloudTrailStub::start(rt, public_keys, 0).unwrap()
}

impl S3Server {
    /// The external server named by `CLOUDTRAIL_DIGEST_TEST_S3=URL` (reset between uses via
    /// moto's `/moto-api/reset`), else a fresh in-process server.
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
        let endpoint =
            cloudtrail_digest_testserver::serve_s3(rt, MemS3::new(Arc::clone(&faults)), 0).unwrap();
        Self {
            endpoint,
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
            for (key, path) in walk(dir).unwrap() {
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

/// Resets an external moto server (no-op answer from other servers is ignored).
pub fn moto_reset(url: &str) {
    use std::io::{Read as _, Write as _};
    let addr = url.trim_start_matches("http://").trim_end_matches('/');
    if let Ok(mut s) = std::net::TcpStream::connect(addr) {
        let _ = write!(s, "POST /moto-api/reset HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        let mut sink = Vec::new();
        let _ = s.read_to_end(&mut sink);
    }
}

/// The golden cases' folders, sorted.
pub fn case_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("expected.json").is_file())
        .collect();
    dirs.sort();
    dirs
}

pub fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/cases")
}

pub fn cli(dir: &Path, args: &[&str], s3: &S3Server, ct: &CloudTrailStub) -> Output {
    command(dir, args, s3, ct)
        .output()
        .expect("run cloudtrail-digest")
}

/// [`cli`], killed (and the test failed) if it has not ended within `limit`: a hang is a
/// failure, not a test that never ends.
pub fn cli_within(
    limit: std::time::Duration,
    dir: &Path,
    args: &[&str],
    s3: &S3Server,
    ct: &CloudTrailStub,
) -> Output {
    use std::process::Stdio;
    let mut child = command(dir, args, s3, ct)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run cloudtrail-digest");
    // Read the pipes on their own threads, so that a full pipe cannot stall the child.
    let mut out_pipe = child.stdout.take().unwrap();
    let mut err_pipe = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut out_pipe, &mut v).map(|_| v)
    });
    let err = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut err_pipe, &mut v).map(|_| v)
    });
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("cloudtrail-digest {args:?} did not end within {limit:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    Output {
        status,
        stdout: out.join().unwrap().unwrap(),
        stderr: err.join().unwrap().unwrap(),
    }
}

fn command(dir: &Path, args: &[&str], s3: &S3Server, ct: &CloudTrailStub) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cloudtrail-digest"));
    command
        .args(args)
        .current_dir(dir)
        .env_remove("AWS_PROFILE")
        // Every other service is sent to the CloudTrail stub, which refuses what it does
        // not know: a run never reaches out of the machine.
        .env("AWS_ENDPOINT_URL", &ct.endpoint)
        .env("AWS_ENDPOINT_URL_S3", &s3.endpoint)
        .env("AWS_ENDPOINT_URL_CLOUDTRAIL", &ct.endpoint)
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", dir.join("no-such-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            dir.join("no-such-aws-credentials"),
        );
    command
}

pub fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// The report without what rightly differs between two runs on the same objects: the
/// `inputs` (where the objects were read from, when they were judged), CloudTrail's records
/// of the trails (read at each run's own time; a directory has none), and each object's S3
/// identifiers (`ETag`, `VersionId`, `LastModified`), which the loopback bucket assigns
/// itself while the golden cases' sidecars hold fixed ones.
pub fn comparable(mut v: Value) -> Value {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(map) => {
                for field in ["etag", "version_id", "last_modified"] {
                    map.remove(field);
                }
                map.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    if let Value::Object(map) = &mut v {
        map.remove("inputs");
        map.remove("trail_records");
    }
    strip(&mut v);
    v
}

pub fn case_keys(dir: &Path) -> Vec<Value> {
    let v: Value =
        serde_json::from_slice(&std::fs::read(dir.join("public-keys.json")).unwrap()).unwrap();
    v["PublicKeyList"].as_array().unwrap().clone()
}

/// The arguments of a golden case beyond `validate BUCKET --public-keys FILE --verbose`.
pub fn extra_args(dir: &Path) -> Vec<String> {
    let expected: Value =
        serde_json::from_slice(&std::fs::read(dir.join("expected.json")).unwrap()).unwrap();
    expected["args"].as_array().unwrap()[5..]
        .iter()
        .map(|a| a.as_str().unwrap().to_owned())
        .collect()
}

pub fn bucket_of(dir: &Path) -> String {
    let expected: Value =
        serde_json::from_slice(&std::fs::read(dir.join("expected.json")).unwrap()).unwrap();
    expected["args"][1].as_str().unwrap().to_owned()
}
