//! The library against real protocol servers (the in-process S3 server and the CloudTrail
//! stub, and `moto_server` when `CLOUDTRAIL_DIGEST_TEST_S3` names one): the front page's S3
//! example, called from inside a tokio runtime, both `run_async` and the blocking `run`;
//! the store contract over S3.

use std::path::Path;

use aws_config::BehaviorVersion;
use cloudtrail_digest::aws::Aws;
use cloudtrail_digest::report::Severity;
use cloudtrail_digest::store::{ObjectStore as _, S3Options, StoreErrorKind};
use cloudtrail_digest::{Selection, Validator};
use cloudtrail_digest_testserver::{CloudTrailStub, MemS3, StubTrail, ACCESS_KEY, SECRET_KEY};

const BUCKET: &str = "example-trail-bucket";
const TRAIL: &str = "arn:aws:cloudtrail:us-east-1:111122223333:trail/management-events";

/// The servers, on a runtime of their own, holding the `valid-chain` golden case, the
/// stub answering with its keys and its trail.
struct Servers {
    _runtime: tokio::runtime::Runtime,
    s3: String,
    cloudtrail: CloudTrailStub,
}

fn servers() -> Servers {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let case = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/cases/valid-chain");
    let backend = MemS3::new(std::sync::Arc::default());
    backend.insert_dir(&case.join(BUCKET), BUCKET).unwrap();
    let s3 = cloudtrail_digest_testserver::serve_s3(&runtime, backend, 0).unwrap();
    let keys: serde_json::Value =
        serde_json::from_slice(&std::fs::read(case.join("public-keys.json")).unwrap()).unwrap();
    let keys = keys["PublicKeyList"].as_array().unwrap().clone();
    let cloudtrail = CloudTrailStub::start(&runtime, keys, 0).unwrap();
    let mut trail = StubTrail::new(BUCKET, "");
    trail.status =
        serde_json::json!({ "IsLogging": true, "LatestDigestDeliveryTime": 1_709_266_354 });
    cloudtrail
        .state
        .lock()
        .unwrap()
        .trails
        .insert(TRAIL.into(), trail);
    Servers {
        _runtime: runtime,
        s3,
        cloudtrail,
    }
}

/// The caller's runtime: single-threaded, the hardest case (a blocking call on its one
/// thread would deadlock a store that blocked on the caller's runtime).
fn user_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// What `aws_config::load_defaults` would give, pointed at the servers.
async fn config(servers: &Servers) -> aws_config::SdkConfig {
    let credentials =
        aws_sdk_s3::config::Credentials::new(ACCESS_KEY, SECRET_KEY, None, None, "test");
    aws_config::defaults(BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(credentials)
        .endpoint_url(&servers.cloudtrail.endpoint)
        .load()
        .await
}

#[test]
fn the_s3_example_runs_inside_a_tokio_runtime_async_and_blocking() {
    let servers = servers();
    let user = user_runtime();
    user.block_on(async {
        // The front page's example.
        let config = config(&servers).await;
        let aws = Aws::new(&config).unwrap().with_s3_endpoint(&servers.s3);
        let store = aws.s3_store(BUCKET, S3Options::default()).await.unwrap();
        let validator = Validator::new(store, BUCKET)
            .public_keys(aws.public_keys())
            .trail_record_source(aws.trail_records())
            .selection(Selection::all().regions(["us-east-1"]))
            .as_of(chrono::Utc::now());
        let report = validator.clone().run_async().await.unwrap();
        assert_eq!(report.severity(), Severity::Valid, "{:?}", report.issues);
        assert!(report.totals.log_files.valid > 0);
        assert_eq!(report.trail_records.len(), 1);
        assert!(
            report.trail_records[0].status.is_some(),
            "{:?}",
            report.trail_records
        );

        // The blocking entry point, called on the runtime's own thread: no panic, no
        // deadlock, the same verdicts.
        let blocking = validator.run().unwrap();
        assert_eq!(blocking.chains, report.chains);
        assert_eq!(blocking.issues, report.issues);
    });
    let calls = servers.cloudtrail.state.lock().unwrap().calls.clone();
    let targets: Vec<&str> = calls.iter().map(|(t, _)| t.as_str()).collect();
    assert!(targets.contains(&"ListPublicKeys"), "{targets:?}");
    assert!(targets.contains(&"GetTrailStatus"), "{targets:?}");
}

#[test]
fn an_unknown_bucket_is_an_error_not_a_finding() {
    let servers = servers();
    let user = user_runtime();
    user.block_on(async {
        let aws = Aws::new(&config(&servers).await)
            .unwrap()
            .with_s3_endpoint(&servers.s3);
        let store = aws
            .s3_store("no-such-bucket", S3Options::default())
            .await
            .unwrap();
        let error = store.list("no-such-bucket", "").unwrap_err();
        assert_eq!(error.kind(), StoreErrorKind::Other, "{error}");
        let run = Validator::new(store, "no-such-bucket").run_async().await;
        assert!(
            matches!(run, Err(cloudtrail_digest::Error::List { .. })),
            "{run:?}"
        );
    });
}

/// The S3 servers to hold to the store contract: the in-process one, and the one named by
/// `CLOUDTRAIL_DIGEST_TEST_S3` (`moto_server` in CI).
fn s3_endpoints(servers: &Servers) -> Vec<String> {
    let mut out = vec![servers.s3.clone()];
    if let Some(url) = std::env::var("CLOUDTRAIL_DIGEST_TEST_S3")
        .ok()
        .filter(|u| !u.is_empty())
    {
        out.push(url);
    }
    out
}

#[test]
fn s3_keeps_the_store_contract() {
    use cloudtrail_digest::store::conformance::{check_store, fixture, BUCKET as FIXTURE};
    let servers = servers();
    let user = user_runtime();
    for endpoint in s3_endpoints(&servers) {
        let store = user.block_on(async {
            let aws = Aws::new(&config(&servers).await)
                .unwrap()
                .with_s3_endpoint(&endpoint);
            let client = aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(aws.config())
                    .endpoint_url(&endpoint)
                    .force_path_style(true)
                    .build(),
            );
            // A bucket of its own on a shared server: created, or emptied of an earlier run's.
            let _ = client.create_bucket().bucket(FIXTURE).send().await;
            for (key, object) in fixture() {
                let body = object.body.into_bytes(u64::MAX).unwrap();
                client
                    .put_object()
                    .bucket(FIXTURE)
                    .key(&key)
                    .body(body.into())
                    .set_metadata(object.metadata.map(|m| m.into_iter().collect()))
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("{endpoint}: put {key}: {e:?}"));
            }
            aws.s3_store(FIXTURE, S3Options::default()).await.unwrap()
        });
        // Called from the runtime's own thread, as a blocking store.
        user.block_on(async { check_store(&store) });
    }
}

#[test]
fn a_large_body_streams_to_a_reader_inside_async_code() {
    let servers = servers();
    let user = user_runtime();
    user.block_on(async {
        let aws = Aws::new(&config(&servers).await)
            .unwrap()
            .with_s3_endpoint(&servers.s3);
        let client = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(aws.config())
                .endpoint_url(&servers.s3)
                .force_path_style(true)
                .build(),
        );
        // 3 MiB: read as it arrives, not held whole.
        let body: Vec<u8> = (0..3 << 20).map(|i: u32| (i % 251) as u8).collect();
        client
            .put_object()
            .bucket(BUCKET)
            .key("large.bin")
            .body(body.clone().into())
            .send()
            .await
            .unwrap();
        let store = aws.s3_store(BUCKET, S3Options::default()).await.unwrap();
        // The blocking store and the streamed body, on the runtime's only thread.
        let object = store.get(BUCKET, "large.bin").unwrap();
        assert!(object.body.as_bytes().is_none(), "not streamed");
        assert_eq!(object.body.into_bytes(u64::MAX).unwrap(), body);
    });
}
