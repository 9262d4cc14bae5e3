//! `cloudtrail-digest mirror` against a real S3 protocol server on 127.0.0.1 (in-process
//! s3s, or `moto_server` when `CLOUDTRAIL_DIGEST_TEST_S3` names it): the copy re-validates
//! offline with the online verdicts, a rerun resumes without rewriting, and a differing
//! local file is never overwritten. Also `--original-bucket` on a copied bucket.

mod support;

use std::path::Path;

use serde_json::Value;
use support::{
    bucket_of, case_keys, cases_dir, cli, cloudtrail, comparable, json, S3Server, StubTrail,
};

/// Cases with findings of every kind the mirror must carry: signatures in metadata,
/// deleted, altered and injected files.
const CASES: &[&str] = &[
    "valid-chain",
    "backfill-digests",
    "digest-deleted-mid-chain",
    "log-altered",
    "log-injected",
    "newest-digests-deleted",
    "signature-altered",
    "org-trail",
];

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_mirror_revalidates_offline_with_the_online_verdicts() {
    let rt = support::runtime();
    for name in CASES {
        let dir = cases_dir().join(name);
        let bucket = bucket_of(&dir);
        let s3 = S3Server::start(&rt);
        s3.load(&rt, &dir.join(&bucket), &bucket);
        let ct = cloudtrail(&rt, case_keys(&dir));
        let url = format!("s3://{bucket}");
        let online = cli(&dir, &["validate", &url, "--format", "json"], &s3, &ct);
        let copy = tempfile::tempdir().unwrap();
        let target = copy.path().to_str().unwrap();
        let mirrored = cli(&dir, &["mirror", &url, target], &s3, &ct);
        assert_eq!(mirrored.status.code(), Some(0), "{name}: {mirrored:?}");
        let keys = dir.join("public-keys.json");
        let offline = cli(
            &dir,
            &[
                "validate",
                target,
                "--public-keys",
                keys.to_str().unwrap(),
                "--format",
                "json",
            ],
            &s3,
            &ct,
        );
        assert_eq!(
            offline.status.code(),
            online.status.code(),
            "{name}: exit codes"
        );
        let (online, offline) = (json(&online), json(&offline));
        // The sidecars carry what S3 said, so even the objects' identifiers agree.
        // CloudTrail's records were read at the two runs' own times.
        let strip_inputs = |mut v: Value| {
            let map = v.as_object_mut().unwrap();
            map.remove("inputs");
            for record in map["trail_records"].as_array_mut().unwrap() {
                record.as_object_mut().unwrap().remove("read_at");
            }
            v
        };
        assert_eq!(
            strip_inputs(offline.clone()),
            strip_inputs(online.clone()),
            "{name}"
        );
        assert!(
            online.to_string().contains("\"etag\""),
            "{name}: the online report has no ETag"
        );
        assert_eq!(comparable(offline), comparable(online));
    }
}

fn manifest(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("cloudtrail-digest-manifest.json")).unwrap())
        .unwrap()
}

#[test]
#[allow(clippy::too_many_lines)] // one scenario, read top to bottom
fn a_rerun_resumes_and_never_overwrites_a_differing_file() {
    let rt = support::runtime();
    let dir = cases_dir().join("valid-chain");
    let bucket = bucket_of(&dir);
    let s3 = S3Server::start(&rt);
    s3.load(&rt, &dir.join(&bucket), &bucket);
    let ct = cloudtrail(&rt, case_keys(&dir));
    let url = format!("s3://{bucket}");
    let copy = tempfile::tempdir().unwrap();
    let target = copy.path().to_str().unwrap();
    let first = cli(&dir, &["mirror", &url, target], &s3, &ct);
    assert_eq!(first.status.code(), Some(0), "{first:?}");
    let m = manifest(copy.path());
    let objects = m["objects"].as_array().unwrap();
    // Four digests and eight logs.
    assert_eq!(objects.len(), 12, "{m}");
    assert_eq!(m["complete"], true);
    let log = objects
        .iter()
        .find(|o| o["key"].as_str().unwrap().contains("/CloudTrail/"))
        .unwrap();
    let log_key = log["key"].as_str().unwrap();
    let log_path = copy.path().join(log_key);
    let bytes = std::fs::read(&log_path).unwrap();
    let sha = cloudtrail_digest::Sha256Hash::of(&bytes).to_string();
    assert_eq!(log["sha256"], sha.as_str());
    let sidecar: Value = serde_json::from_slice(
        &std::fs::read(format!("{}.meta.json", log_path.display())).unwrap(),
    )
    .unwrap();
    assert_eq!(sidecar["ContentLength"], bytes.len());
    assert!(sidecar["ETag"].is_string(), "{sidecar}");

    // A run selecting nothing of what is there keeps the earlier objects in the manifest.
    let none = cli(
        &dir,
        &["mirror", &url, target, "--region", "eu-west-1"],
        &s3,
        &ct,
    );
    assert_eq!(none.status.code(), Some(0), "{none:?}");
    assert_eq!(
        manifest(copy.path())["objects"].as_array().unwrap().len(),
        12
    );

    // Interrupted: one object gone, a partial file left behind. The rerun completes it and
    // rewrites nothing else.
    std::fs::remove_file(&log_path).unwrap();
    std::fs::write(format!("{}.partial", log_path.display()), b"half").unwrap();
    let second = cli(&dir, &["mirror", &url, target], &s3, &ct);
    assert_eq!(second.status.code(), Some(0), "{second:?}");
    assert!(
        stdout(&second).contains("1 copied, 11 already present"),
        "{}",
        stdout(&second)
    );
    assert_eq!(std::fs::read(&log_path).unwrap(), bytes);

    // A local file that differs from the bucket stays as it is, and the run says so.
    std::fs::write(&log_path, b"tampered locally").unwrap();
    let third = cli(&dir, &["mirror", &url, target], &s3, &ct);
    assert_eq!(third.status.code(), Some(2), "{third:?}");
    let stderr = String::from_utf8_lossy(&third.stderr);
    assert!(
        stderr.contains(log_key) && stderr.contains("not overwritten"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(&log_path).unwrap(), b"tampered locally");
    assert_eq!(manifest(copy.path())["complete"], false);

    // A mirror of another bucket is refused.
    let other = cli(&dir, &["mirror", "s3://another-bucket", target], &s3, &ct);
    assert_eq!(other.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&other.stderr).contains("holds a mirror of bucket"));
}

#[test]
fn a_copied_bucket_verifies_under_its_original_name() {
    let rt = support::runtime();
    let dir = cases_dir().join("valid-chain");
    let bucket = bucket_of(&dir);
    let s3 = S3Server::start(&rt);
    s3.load(&rt, &dir.join(&bucket), "evidence-copy");
    let ct = cloudtrail(&rt, case_keys(&dir));
    let moved = cli(&dir, &["validate", "s3://evidence-copy"], &s3, &ct);
    assert_eq!(moved.status.code(), Some(1), "{moved:?}");
    assert!(String::from_utf8_lossy(&moved.stderr).contains("has been moved"));
    let copy = cli(
        &dir,
        &[
            "validate",
            "s3://evidence-copy",
            "--original-bucket",
            &bucket,
            "--format",
            "json",
        ],
        &s3,
        &ct,
    );
    assert_eq!(copy.status.code(), Some(0), "{copy:?}");
    let report = json(&copy);
    assert_eq!(report["inputs"]["original_bucket"], bucket.as_str());
    assert_eq!(report["inputs"]["read_from"], "s3://evidence-copy/");
    assert_eq!(report["chains"][0]["log_counts"]["valid"], 8);
    let text = cli(
        &dir,
        &[
            "validate",
            "s3://evidence-copy",
            "--original-bucket",
            &bucket,
        ],
        &s3,
        &ct,
    );
    assert!(stdout(&text).starts_with(&format!(
        "Validating s3://evidence-copy/ as a copy of bucket {bucket}"
    )));
}

#[test]
#[allow(clippy::too_many_lines)] // one scenario, read top to bottom
fn a_mirror_keeps_cloudtrails_record_so_the_copy_proves_what_the_bucket_proved() {
    use chrono::TimeZone as _;
    let rt = support::runtime();
    let dir = cases_dir().join("newest-digests-deleted");
    let bucket = bucket_of(&dir);
    let s3 = S3Server::start(&rt);
    s3.load(&rt, &dir.join(&bucket), &bucket);
    let ct = cloudtrail(&rt, case_keys(&dir));
    let delivered = chrono::Utc.with_ymd_and_hms(2024, 3, 1, 6, 14, 34).unwrap();
    let mut trail = StubTrail::new(&bucket, "");
    trail.status = serde_json::json!({
        "IsLogging": true,
        "LatestDigestDeliveryTime": delivered.timestamp(),
    });
    ct.state.lock().unwrap().trails.insert(
        "arn:aws:cloudtrail:us-east-1:111122223333:trail/management-events".into(),
        trail,
    );
    let url = format!("s3://{bucket}");
    let copy = tempfile::tempdir().unwrap();
    let target = copy.path().to_str().unwrap();
    let mirrored = cli(&dir, &["mirror", &url, target], &s3, &ct);
    assert_eq!(mirrored.status.code(), Some(0), "{mirrored:?}");
    let m = manifest(copy.path());
    assert_eq!(
        m["trail_records"][0]["status"]["latest_digest_delivery_time"],
        "2024-03-01T06:14:34Z"
    );
    assert!(m["captured_at"].is_string());
    // Offline, with the CloudTrail stub forgetting the trail: the copy's own record tells.
    ct.state.lock().unwrap().trails.clear();
    let keys = dir.join("public-keys.json");
    let offline = cli(
        &dir,
        &[
            "validate",
            target,
            "--public-keys",
            keys.to_str().unwrap(),
            "--format",
            "json",
        ],
        &s3,
        &ct,
    );
    assert_eq!(offline.status.code(), Some(1), "{}", stdout(&offline));
    let report = json(&offline);
    assert_eq!(report["chains"][0]["notices"][0]["kind"], "newest_deleted");
    // The same copy without its manifest cannot tell: incomplete, never tampered.
    std::fs::remove_file(copy.path().join("cloudtrail-digest-manifest.json")).unwrap();
    let bare = cli(
        &dir,
        &[
            "validate",
            target,
            "--bucket",
            &bucket,
            "--public-keys",
            keys.to_str().unwrap(),
        ],
        &s3,
        &ct,
    );
    assert_eq!(bare.status.code(), Some(3), "{}", stdout(&bare));
    assert!(stdout(&bare)
        .contains("either log file validation was turned off or the newest digests were deleted"));
}
