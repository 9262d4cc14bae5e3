//! `cloudtrail-digest validate s3://...` against a real S3 protocol server on 127.0.0.1
//! (in-process s3s + s3s-fs, or `moto_server` when `CLOUDTRAIL_DIGEST_TEST_S3` names it)
//! and a CloudTrail stub. The golden cases must give the same report as from a directory.

mod support;

use std::path::{Path, PathBuf};

use serde_json::Value;
use support::{
    bucket_of, case_keys, cases_dir, cli, cloudtrail, comparable, json, CloudTrailStub, S3Server,
};

/// Cases whose verdict rightly differs in S3, where every object has metadata and every key
/// is just a key: a digest without a signature there is a finding, not "unverifiable", and
/// a key with `..` is a key that does not exist, not one that escapes a directory.
const LOCAL_ONLY: &[&str] = &["no-sidecars", "key-escaping-root"];

#[test]
#[allow(clippy::too_many_lines)] // one scenario, read top to bottom
fn golden_cases_give_the_local_report_over_s3() {
    let rt = support::runtime();
    let dirs = support::case_dirs();
    let mut failures = Vec::new();
    let mut compared = 0;
    for dir in &dirs {
        let name = dir.file_name().unwrap().to_str().unwrap();
        if LOCAL_ONLY.contains(&name) {
            continue;
        }
        let bucket = bucket_of(dir);
        let s3 = S3Server::start(&rt);
        s3.load(&rt, &dir.join(&bucket), &bucket);
        let ct = cloudtrail(&rt, case_keys(dir));
        let local = cli(
            dir,
            &[
                "validate",
                &bucket,
                "--public-keys",
                "public-keys.json",
                "--format",
                "json",
            ],
            &s3,
            &ct,
        );
        let url = format!("s3://{bucket}");
        let remote = cli(dir, &["validate", &url, "--format", "json"], &s3, &ct);
        if local.status.code() != remote.status.code() {
            failures.push(format!(
                "{name}: exit {:?} over S3, {:?} locally; stderr: {}",
                remote.status.code(),
                local.status.code(),
                String::from_utf8_lossy(&remote.stderr)
            ));
        } else if comparable(json(&local)) != comparable(json(&remote)) {
            failures.push(format!(
                "{name}: reports differ\n--- local\n{}\n--- s3\n{}",
                String::from_utf8_lossy(&local.stdout),
                String::from_utf8_lossy(&remote.stdout)
            ));
        }
        let calls = ct
            .state
            .lock()
            .unwrap()
            .calls
            .iter()
            .filter(|(t, _)| t == "ListPublicKeys")
            .count();
        let has_chains = json(&local)["chains"]
            .as_array()
            .is_some_and(|c| !c.is_empty());
        if calls == 0 && has_chains {
            failures.push(format!(
                "{name}: public keys did not come from ListPublicKeys"
            ));
        }
        compared += 1;
    }
    assert!(compared >= 24, "compared only {compared} cases");
    assert!(
        failures.is_empty(),
        "{} cases differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn valid_chain(rt: &tokio::runtime::Runtime) -> (PathBuf, S3Server, CloudTrailStub) {
    let dir = cases_dir().join("valid-chain");
    let s3 = S3Server::start(rt);
    s3.load(
        rt,
        &dir.join("example-trail-bucket"),
        "example-trail-bucket",
    );
    let ct = cloudtrail(rt, case_keys(&dir));
    (dir, s3, ct)
}

const A_LOG: &str = "AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/01/111122223333_CloudTrail_us-east-1_20240301T0217Z_";

fn first_log_key(dir: &Path) -> String {
    support::walk(&dir.join("example-trail-bucket"))
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .find(|k| k.starts_with(A_LOG))
        .unwrap()
}

#[test]
fn access_denied_on_one_log_leaves_it_unchecked_and_exits_2() {
    let rt = support::runtime();
    let (dir, s3, ct) = valid_chain(&rt);
    if !s3.can_inject_faults() {
        eprintln!("skipped: the external S3 server cannot inject faults");
        return;
    }
    let key = first_log_key(&dir);
    s3.faults.deny.lock().unwrap().insert(key.clone());
    let out = cli(
        &dir,
        &["validate", "s3://example-trail-bucket", "--format", "json"],
        &s3,
        &ct,
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&out);
    let logs: Vec<&Value> = report["chains"][0]["digests"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d["logs"].as_array().unwrap())
        .collect();
    let denied = logs.iter().find(|l| l["key"] == key.as_str()).unwrap();
    assert_eq!(denied["status"], "unchecked");
    assert!(
        denied["reason"]["message"]
            .as_str()
            .unwrap()
            .contains("AccessDenied"),
        "{denied}"
    );
    assert_eq!(
        logs.iter().filter(|l| l["status"] == "valid").count(),
        logs.len() - 1
    );
}

#[test]
fn slow_down_is_retried_and_the_log_verified() {
    let rt = support::runtime();
    let (dir, s3, ct) = valid_chain(&rt);
    if !s3.can_inject_faults() {
        eprintln!("skipped: the external S3 server cannot inject faults");
        return;
    }
    let key = first_log_key(&dir);
    s3.faults.slow_down_once.lock().unwrap().insert(key.clone());
    let out = cli(&dir, &["validate", "s3://example-trail-bucket"], &s3, &ct);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let gets = s3
        .faults
        .seen
        .lock()
        .unwrap()
        .iter()
        .filter(|(op, k, _)| op == "get" && *k == key)
        .count();
    assert_eq!(gets, 2, "the 503 should have been retried once");
}

#[test]
fn requester_pays_reaches_the_server() {
    let rt = support::runtime();
    let (dir, s3, ct) = valid_chain(&rt);
    if !s3.can_inject_faults() {
        eprintln!("skipped: the external S3 server does not record requests");
        return;
    }
    let out = cli(
        &dir,
        &[
            "validate",
            "s3://example-trail-bucket",
            "--request-payer",
            "requester",
        ],
        &s3,
        &ct,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen = s3.faults.seen.lock().unwrap();
    assert!(seen.len() > 10);
    assert!(
        seen.iter().all(|(_, _, payer)| *payer),
        "every request carries x-amz-request-payer"
    );
}

#[test]
fn trail_arn_finds_bucket_and_prefix_with_get_trail() {
    let rt = support::runtime();
    let dir = cases_dir().join("key-prefix");
    let s3 = S3Server::start(&rt);
    s3.load(
        &rt,
        &dir.join("example-trail-bucket"),
        "example-trail-bucket",
    );
    let ct = cloudtrail(&rt, case_keys(&dir));
    let arn = "arn:aws:cloudtrail:us-east-1:111122223333:trail/management-events";
    ct.state.lock().unwrap().trails.insert(
        arn.into(),
        support::StubTrail::new("example-trail-bucket", "cloudtrail/prod"),
    );
    let out = cli(
        &dir,
        &["validate", "--trail-arn", arn, "--format", "json"],
        &s3,
        &ct,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&out);
    assert_eq!(report["chains"][0]["chain"]["prefix"], "cloudtrail/prod");
    assert_eq!(report["chains"][0]["digest_counts"]["valid"], 3);
    assert!(ct
        .state
        .lock()
        .unwrap()
        .calls
        .iter()
        .any(|(t, b)| t == "GetTrail" && b["Name"] == arn));

    let unknown = cli(
        &dir,
        &[
            "validate",
            "--trail-arn",
            "arn:aws:cloudtrail:us-east-1:111122223333:trail/nope",
        ],
        &s3,
        &ct,
    );
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&unknown.stderr).contains("trail/nope"),
        "{}",
        String::from_utf8_lossy(&unknown.stderr)
    );
}

#[test]
fn filters_over_an_org_bucket_with_several_accounts_and_regions() {
    let rt = support::runtime();
    let dir = cases_dir().join("org-trail");
    let s3 = S3Server::start(&rt);
    s3.load(&rt, &dir.join("example-org-bucket"), "example-org-bucket");
    let ct = cloudtrail(&rt, case_keys(&dir));
    let out = cli(
        &dir,
        &[
            "validate",
            "s3://example-org-bucket",
            "--account-id",
            "444455556666",
            "--region",
            "eu-west-1",
            "--format",
            "json",
        ],
        &s3,
        &ct,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&out);
    let chains = report["chains"].as_array().unwrap();
    assert_eq!(chains.len(), 1);
    assert_eq!(chains[0]["chain"]["org_id"], "o-exampleorg1");
    assert_eq!(chains[0]["chain"]["account_id"], "444455556666");
    assert_eq!(chains[0]["chain"]["region"], "eu-west-1");
    let regions: Vec<String> = ct
        .state
        .lock()
        .unwrap()
        .calls
        .iter()
        .filter(|(t, _)| t == "ListPublicKeys")
        .map(|(_, b)| b.to_string())
        .collect();
    assert_eq!(
        regions.len(),
        1,
        "keys are fetched once per digest region: {regions:?}"
    );
}

#[test]
fn a_log_in_another_bucket_is_fetched_from_it() {
    use cloudtrail_digest_testgen::{
        cases::standard_trail, gzip, resign, Generator, Hour, TestKey, Tree,
    };
    let rt = support::runtime();
    let keys_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/keys");
    let key = TestKey::load(&keys_dir, 1).unwrap();
    let spec = standard_trail();
    let mut tree = Tree::default();
    let start = chrono::DateTime::from_timestamp(1_709_251_954, 0).unwrap();
    let d = Generator::new(1).chain(&mut tree, &spec, &[&key], start, &[Hour::default()], None);
    // Re-point the digest's log entries at another bucket, re-sign, and move the logs there.
    let text = String::from_utf8(d[0].json.clone()).unwrap().replace(
        "\"s3Bucket\":\"example-trail-bucket\"",
        "\"s3Bucket\":\"other-log-bucket\"",
    );
    let digest = tree.objects.get_mut(&d[0].key).unwrap();
    digest.body = gzip(text.as_bytes());
    digest
        .metadata
        .as_mut()
        .unwrap()
        .insert("signature".into(), resign(&key, text.as_bytes()).unwrap());
    let tmp = tempfile::tempdir().unwrap();
    let (main, other) = (tmp.path().join("main"), tmp.path().join("other"));
    let mut logs = Tree::default();
    for l in &d[0].logs {
        logs.objects
            .insert(l.clone(), tree.objects.remove(l).unwrap());
    }
    tree.write(&main).unwrap();
    logs.write(&other).unwrap();
    let s3 = S3Server::start(&rt);
    s3.load(&rt, &main, "example-trail-bucket");
    s3.load(&rt, &other, "other-log-bucket");
    let list = serde_json::json!({ "PublicKeyList": [key.list_entry(start - chrono::Duration::days(1), start + chrono::Duration::days(1))] });
    let ct = cloudtrail(&rt, list["PublicKeyList"].as_array().unwrap().clone());
    let out = cli(
        tmp.path(),
        &["validate", "s3://example-trail-bucket", "--verbose"],
        &s3,
        &ct,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("Log file\ts3://other-log-bucket/"),
        "{stdout}"
    );
    assert!(stdout.contains("2/2 log files valid"), "{stdout}");
}

#[test]
fn keys_command_saves_list_public_keys_json() {
    let rt = support::runtime();
    let (dir, s3, ct) = valid_chain(&rt);
    let tmp = tempfile::tempdir().unwrap();
    let out_file = tmp.path().join("keys.json");
    let out = cli(
        &dir,
        &[
            "keys",
            "--region",
            "us-east-1",
            "--start-time",
            "2024-03-01",
            "--end-time",
            "2024-03-02",
            "-o",
            out_file.to_str().unwrap(),
        ],
        &s3,
        &ct,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let saved: Value = serde_json::from_slice(&std::fs::read(&out_file).unwrap()).unwrap();
    let fingerprints = |list: &[Value]| {
        list.iter()
            .map(|k| k["Fingerprint"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        fingerprints(saved["PublicKeyList"].as_array().unwrap()),
        fingerprints(&case_keys(&dir))
    );
    // The saved file validates offline.
    let offline = cli(
        &dir,
        &[
            "validate",
            "example-trail-bucket",
            "--public-keys",
            out_file.to_str().unwrap(),
        ],
        &s3,
        &ct,
    );
    assert_eq!(
        offline.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&offline.stderr)
    );
    let call = ct.state.lock().unwrap().calls[0].1.clone();
    assert_eq!(call["StartTime"].as_f64(), Some(1_709_251_200.0));
}

#[test]
fn no_public_keys_for_a_region_leaves_its_digests_unchecked_and_exits_2() {
    let rt = support::runtime();
    let dir = cases_dir().join("valid-chain");
    let s3 = S3Server::start(&rt);
    s3.load(
        &rt,
        &dir.join("example-trail-bucket"),
        "example-trail-bucket",
    );
    let ct = cloudtrail(&rt, Vec::new());
    let out = cli(
        &dir,
        &["validate", "s3://example-trail-bucket", "--format", "json"],
        &s3,
        &ct,
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&out);
    let digests = report["chains"][0]["digests"].as_array().unwrap();
    assert!(!digests.is_empty());
    for d in digests {
        assert_eq!(d["status"], "unchecked", "{d}");
        assert!(
            d["reason"]["message"]
                .as_str()
                .unwrap()
                .contains("no public keys found between"),
            "{d}"
        );
    }
    let calls = ct
        .state
        .lock()
        .unwrap()
        .calls
        .iter()
        .filter(|(t, _)| t == "ListPublicKeys")
        .count();
    assert_eq!(calls, 1, "the region is asked once");
}

#[test]
fn expected_bucket_owner_is_sent_and_a_wrong_owner_refused() {
    let rt = support::runtime();
    let (dir, s3, ct) = valid_chain(&rt);
    if !s3.can_inject_faults() {
        eprintln!("skipped: the external S3 server does not check bucket owners");
        return;
    }
    *s3.faults.bucket_owner.lock().unwrap() = Some("111122223333".into());
    let right = cli(
        &dir,
        &[
            "validate",
            "s3://example-trail-bucket",
            "--expected-bucket-owner",
            "111122223333",
        ],
        &s3,
        &ct,
    );
    assert_eq!(
        right.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&right.stderr)
    );
    let wrong = cli(
        &dir,
        &[
            "validate",
            "s3://example-trail-bucket",
            "--expected-bucket-owner",
            "999999999999",
        ],
        &s3,
        &ct,
    );
    assert_eq!(wrong.status.code(), Some(2));
    let err = String::from_utf8_lossy(&wrong.stderr);
    assert!(
        err.contains("cannot list s3://example-trail-bucket") && err.contains("AccessDenied"),
        "{err}"
    );
}

#[test]
fn the_server_pages_list_objects_v1_like_v2_and_tells_the_bucket_location() {
    // awscli's validate-logs (the benchmark's reference run) uses ListObjects v1 with Marker
    // and GetBucketLocation.
    let rt = support::runtime();
    let (_dir, s3, _ct) = valid_chain(&rt);
    let client = s3.client();
    rt.block_on(async {
        let mut v1 = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let page = client
                .list_objects()
                .bucket("example-trail-bucket")
                .prefix("AWSLogs/")
                .max_keys(3)
                .set_marker(marker.clone())
                .send()
                .await
                .unwrap();
            let keys: Vec<String> = page
                .contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_owned))
                .collect();
            marker = page
                .next_marker()
                .map(str::to_owned)
                .or_else(|| keys.last().cloned());
            v1.extend(keys);
            if !page.is_truncated().unwrap_or(false) {
                break;
            }
        }
        let v2: Vec<String> = client
            .list_objects_v2()
            .bucket("example-trail-bucket")
            .prefix("AWSLogs/")
            .send()
            .await
            .unwrap()
            .contents()
            .iter()
            .filter_map(|o| o.key().map(str::to_owned))
            .collect();
        assert_eq!(v1.len(), 12, "4 digests and 8 logs");
        assert_eq!(v1, v2);
        let location = client
            .get_bucket_location()
            .bucket("example-trail-bucket")
            .send()
            .await
            .unwrap();
        assert!(location
            .location_constraint()
            .is_none_or(|c| c.as_str().is_empty() || c.as_str() == "us-east-1"));
    });
}

/// The `newest-digests-deleted` case served with CloudTrail's record of its trail: the
/// digests ending 04:12:34, 05:12:34 and 06:12:34 are gone, its log files go on to 05:42.
fn newest_deleted_with_record(
    rt: &tokio::runtime::Runtime,
    trail: support::StubTrail,
) -> (PathBuf, S3Server, CloudTrailStub) {
    let dir = cases_dir().join("newest-digests-deleted");
    let s3 = S3Server::start(rt);
    s3.load(
        rt,
        &dir.join("example-trail-bucket"),
        "example-trail-bucket",
    );
    let ct = cloudtrail(rt, case_keys(&dir));
    let arn = "arn:aws:cloudtrail:us-east-1:111122223333:trail/management-events";
    ct.state.lock().unwrap().trails.insert(arn.into(), trail);
    (dir, s3, ct)
}

/// 2024-03-01 at `h`:`m`:34, in epoch seconds.
fn at(h: u32, m: u32) -> i64 {
    use chrono::TimeZone as _;
    chrono::Utc
        .with_ymd_and_hms(2024, 3, 1, h, m, 34)
        .unwrap()
        .timestamp()
}

#[test]
fn newest_digests_deleted_are_tampering_online_by_cloudtrails_own_record() {
    let rt = support::runtime();
    let mut trail = support::StubTrail::new("example-trail-bucket", "");
    // CloudTrail delivered the digest ending 06:12:34 at 06:14:34.
    trail.status = serde_json::json!({ "IsLogging": true, "LatestDigestDeliveryTime": at(6, 14) });
    let (dir, s3, ct) = newest_deleted_with_record(&rt, trail);
    let out = cli(
        &dir,
        &["validate", "s3://example-trail-bucket", "--format", "json"],
        &s3,
        &ct,
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&out);
    let chain = &report["chains"][0];
    let inferred: Vec<&str> = chain["digests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["status"] == "not_found" && d["inferred"] == true)
        .map(|d| d["end_time"].as_str().unwrap())
        .collect();
    // Due an hour before CloudTrail's latest delivery: 04:12:34 and 05:12:34 (06:12:34 may
    // be the very digest delivered at 06:14:34, or not yet: not covered).
    assert_eq!(inferred, ["2024-03-01T05:12:34Z", "2024-03-01T04:12:34Z"]);
    let notice = chain["notices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["kind"] == "newest_deleted")
        .expect("a newest_deleted notice");
    assert_eq!(notice["evidence"], "cloud_trail_record");
    assert_eq!(notice["count"], 2);
    assert_eq!(
        report["trail_records"][0]["status"]["latest_digest_delivery_time"],
        "2024-03-01T06:14:34Z"
    );
    let calls = ct.state.lock().unwrap().calls.clone();
    assert!(calls.iter().any(|(t, _)| t == "GetTrailStatus"));
    // The text says why.
    let text = cli(&dir, &["validate", "s3://example-trail-bucket"], &s3, &ct);
    let err = String::from_utf8_lossy(&text.stderr);
    assert!(
        err.contains("INVALID: the 2 hourly digests after the newest one found were deleted: CloudTrail's record of arn:aws:cloudtrail:us-east-1:111122223333:trail/management-events"),
        "{err}"
    );
}

#[test]
fn cloudtrails_record_of_validation_off_or_logging_stopped_is_said_not_tampering() {
    let rt = support::runtime();
    let stopped_at = at(3, 20);
    let mut off = support::StubTrail::new("example-trail-bucket", "");
    off.validation = false;
    off.status = serde_json::json!({ "IsLogging": true, "LatestDigestDeliveryTime": at(3, 14) });
    let mut stopped = support::StubTrail::new("example-trail-bucket", "");
    stopped.status = serde_json::json!({
        "IsLogging": false,
        "StopLoggingTime": stopped_at,
        "LatestDigestDeliveryTime": at(3, 14),
    });
    // Delivering to another bucket now: the record says nothing about this one.
    let moved = support::StubTrail {
        bucket: "another-bucket".into(),
        status: serde_json::json!({ "IsLogging": true, "LatestDigestDeliveryTime": at(9, 0) }),
        ..support::StubTrail::new("", "")
    };
    for (trail, reason) in [
        (off, "validation_off"),
        (stopped, "logging_stopped"),
        (moved, "digests_stop"),
    ] {
        let (dir, s3, ct) = newest_deleted_with_record(&rt, trail);
        let out = cli(
            &dir,
            &["validate", "s3://example-trail-bucket", "--format", "json"],
            &s3,
            &ct,
        );
        assert_eq!(
            out.status.code(),
            Some(3),
            "{reason}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report = json(&out);
        let tail = report["chains"][0]["coverage"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["state"] == "not_covered")
            .unwrap()
            .clone();
        assert_eq!(tail["reason"], reason, "{tail}");
        assert_eq!(tail["from"], "2024-03-01T03:12:34Z");
    }
}

#[test]
fn a_live_trail_validated_up_to_now_is_verified() {
    use chrono::{Duration, Utc};
    // A trail whose newest digest ended 20 minutes ago, with a log file since, and
    // CloudTrail's record of a delivery 15 minutes ago.
    let rt = support::runtime();
    let keys_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/keys");
    let key = cloudtrail_digest_testgen::TestKey::load(&keys_dir, 1).unwrap();
    let spec = cloudtrail_digest_testgen::cases::standard_trail();
    let now = Utc::now();
    let start = now - Duration::minutes(20) - Duration::hours(3);
    let mut tree = cloudtrail_digest_testgen::Tree::default();
    let mut g = cloudtrail_digest_testgen::Generator::new(5);
    g.chain(
        &mut tree,
        &spec,
        &[&key],
        start,
        &[cloudtrail_digest_testgen::Hour::default(); 3],
        None,
    );
    g.unlisted_log(&mut tree, &spec, now - Duration::minutes(3));
    let tmp = tempfile::tempdir().unwrap();
    tree.write(&tmp.path().join(&spec.bucket)).unwrap();
    let s3 = S3Server::start(&rt);
    s3.load(&rt, &tmp.path().join(&spec.bucket), &spec.bucket);
    let entry = key.list_entry(now - Duration::days(1), now + Duration::days(1));
    let ct = cloudtrail(&rt, vec![entry]);
    let mut trail = support::StubTrail::new(&spec.bucket, "");
    trail.status = serde_json::json!({
        "IsLogging": true,
        "LatestDigestDeliveryTime": (now - Duration::minutes(15)).timestamp(),
    });
    ct.state.lock().unwrap().trails.insert(
        "arn:aws:cloudtrail:us-east-1:111122223333:trail/management-events".into(),
        trail,
    );
    let url = format!("s3://{}", spec.bucket);
    let out = cli(
        tmp.path(),
        &["validate", &url, "--format", "json"],
        &s3,
        &ct,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let report = json(&out);
    assert_eq!(report["locations"][0]["unlisted"][0]["status"], "pending");
    let states: Vec<&str> = report["chains"][0]["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["verified", "pending"]);
}

/// Every digest and log verdict of a JSON report, as (status, key).
fn statuses(report: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for chain in report["chains"].as_array().unwrap() {
        for d in chain["digests"].as_array().unwrap() {
            out.push((
                d["status"].as_str().unwrap().to_owned(),
                d["key"].as_str().unwrap().to_owned(),
            ));
            for l in d["logs"].as_array().unwrap() {
                out.push((
                    l["status"].as_str().unwrap().to_owned(),
                    l["key"].as_str().unwrap().to_owned(),
                ));
            }
        }
    }
    for loc in report["locations"].as_array().unwrap() {
        for l in loc["unlisted"].as_array().unwrap() {
            out.push((
                l["status"].as_str().unwrap().to_owned(),
                l["key"].as_str().unwrap().to_owned(),
            ));
        }
    }
    out
}

#[test]
fn a_404_without_nosuchkey_is_retried_and_never_a_finding() {
    let rt = support::runtime();
    let (dir, s3, ct) = valid_chain(&rt);
    if !s3.can_inject_faults() {
        eprintln!("skipped: the external S3 server cannot inject faults");
        return;
    }
    let key = first_log_key(&dir);
    let json_run = || {
        cli(
            &dir,
            &["validate", "s3://example-trail-bucket", "--format", "json"],
            &s3,
            &ct,
        )
    };
    // Once: the retry reads it.
    let bare = |n| (support::GetFault::Bare404, n);
    s3.faults.get.lock().unwrap().insert(key.clone(), bare(1));
    let out = json_run();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let gets = |s3: &S3Server| {
        s3.faults
            .seen
            .lock()
            .unwrap()
            .iter()
            .filter(|(op, k, _)| op == "get" && *k == key)
            .count()
    };
    // The bare 404 never reached s3s; the retry did.
    assert_eq!(gets(&s3), 1);
    // Every time: unchecked, never "not found".
    s3.faults.get.lock().unwrap().insert(key.clone(), bare(100));
    let out = json_run();
    assert_eq!(out.status.code(), Some(2));
    let report = json(&out);
    let log = report["chains"][0]["digests"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d["logs"].as_array().unwrap())
        .find(|l| l["key"] == key.as_str())
        .unwrap()
        .clone();
    assert_eq!(log["status"], "unchecked", "{log}");
    assert!(
        log["reason"]["message"]
            .as_str()
            .unwrap()
            .contains("404 without NoSuchKey"),
        "{log}"
    );
}

#[test]
fn a_listing_that_would_never_end_is_an_error_not_a_complete_answer() {
    use support::ListFault;
    let rt = support::runtime();
    let digests = "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/";
    let day = "AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/01/";
    for prefix in [digests, day] {
        for fault in [
            ListFault::TruncatedWithoutToken,
            ListFault::RepeatsToken,
            ListFault::CyclingTokens,
        ] {
            let (dir, s3, ct) = valid_chain(&rt);
            if !s3.can_inject_faults() {
                eprintln!("skipped: the external S3 server cannot inject faults");
                return;
            }
            s3.faults
                .list
                .lock()
                .unwrap()
                .insert(prefix.into(), fault.clone());
            let started = std::time::Instant::now();
            let out = cli(
                &dir,
                &["validate", "s3://example-trail-bucket", "--format", "json"],
                &s3,
                &ct,
            );
            assert!(
                started.elapsed() < std::time::Duration::from_secs(60),
                "{fault:?}"
            );
            assert_eq!(
                out.status.code(),
                Some(2),
                "{prefix} {fault:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let report = json(&out);
            assert_eq!(report["listing_failures"][0]["prefix"], prefix, "{fault:?}");
            // Nothing it should have listed is called missing or injected.
            let bad: Vec<_> = statuses(&report)
                .into_iter()
                .filter(|(s, _)| s == "not_found" || s == "injected" || s == "off_chain")
                .collect();
            assert!(bad.is_empty(), "{prefix} {fault:?}: {bad:?}");
        }
    }
}

#[test]
fn entries_a_listing_returns_outside_its_prefix_are_reported_never_used() {
    use support::ListFault;
    let rt = support::runtime();
    let phantom = "AWSLogs/999999999999/CloudTrail-Digest/us-east-1/2024/03/01/999999999999_CloudTrail-Digest_us-east-1_t_us-east-1_20240301T011234Z.json.gz";
    for (prefix, stray) in [
        ("AWSLogs/111122223333/CloudTrail-Digest/us-east-1/", phantom),
        ("AWSLogs/", "BWSLogs/x/"),
        // A multibyte character straddling the end of the prefix asked for.
        (
            "AWSLogs/111122223333/CloudTrail-Digest/",
            "AWSLogs/111122223333/CloudTrail-Digesté/",
        ),
        (
            "AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/01/",
            "AWSLogs/1/x.json.gz",
        ),
    ] {
        let (dir, s3, ct) = valid_chain(&rt);
        if !s3.can_inject_faults() {
            eprintln!("skipped: the external S3 server cannot inject faults");
            return;
        }
        s3.faults
            .list
            .lock()
            .unwrap()
            .insert(prefix.into(), ListFault::Stray(stray.into()));
        let out = cli(
            &dir,
            &["validate", "s3://example-trail-bucket", "--format", "json"],
            &s3,
            &ct,
        );
        assert_eq!(
            out.status.code(),
            Some(3),
            "{stray}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report = json(&out);
        assert_eq!(report["chains"].as_array().unwrap().len(), 1, "{stray}");
        let strays: Vec<&str> = report["unrecognized_keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["key"].as_str().unwrap())
            .collect();
        assert_eq!(strays, [stray]);
        assert!(
            statuses(&report).iter().all(|(s, _)| s == "valid"),
            "{stray}"
        );
    }
}

#[test]
fn a_public_key_listing_that_never_ends_leaves_the_digests_unchecked() {
    let rt = support::runtime();
    let (dir, s3, ct) = valid_chain(&rt);
    ct.state.lock().unwrap().keys_next_token = Some("again".into());
    let out = support::cli_within(
        std::time::Duration::from_secs(60),
        &dir,
        &["validate", "s3://example-trail-bucket", "--format", "json"],
        &s3,
        &ct,
    );
    assert_eq!(out.status.code(), Some(2));
    let report = json(&out);
    for d in report["chains"][0]["digests"].as_array().unwrap() {
        assert_eq!(d["status"], "unchecked", "{d}");
        assert!(
            d["reason"]["message"]
                .as_str()
                .unwrap()
                .contains("repeats a NextToken"),
            "{d}"
        );
    }
    let pages = ct
        .state
        .lock()
        .unwrap()
        .calls
        .iter()
        .filter(|(t, _)| t == "ListPublicKeys")
        .count();
    assert_eq!(pages, 2, "stopped at the first repeated token");
}

#[test]
fn requests_in_flight_stay_below_the_open_file_limit() {
    let rt = support::runtime();
    let (dir, s3, ct) = valid_chain(&rt);
    // The binary started under a hard limit of 200 open files, asking for 1000 in flight.
    let binary = env!("CARGO_BIN_EXE_cloudtrail-digest");
    let script = format!(
        "ulimit -n 200 && exec '{binary}' validate s3://example-trail-bucket --concurrency 1000"
    );
    let out = std::process::Command::new("sh")
        .args(["-c", &script])
        .current_dir(&dir)
        .env_remove("AWS_PROFILE")
        .env("AWS_ENDPOINT_URL_S3", &s3.endpoint)
        .env("AWS_ENDPOINT_URL_CLOUDTRAIL", &ct.endpoint)
        .env("AWS_ACCESS_KEY_ID", support::ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", support::SECRET_KEY)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("--concurrency 1000 lowered to 36"), "{err}");
    assert!(!err.contains("Too many open files"), "{err}");
}

/// Shards of an organization bucket write their reports to S3 (`--output s3://...`), and
/// `merge s3://BUCKET/PREFIX/` reads them back into the report of one run.
#[test]
fn shards_write_their_reports_to_s3_and_merge_reads_them_from_there() {
    let rt = support::runtime();
    let dir = cases_dir().join("org-trail");
    let s3 = S3Server::start(&rt);
    s3.load(&rt, &dir.join("example-org-bucket"), "example-org-bucket");
    rt.block_on(s3.client().create_bucket().bucket("shard-reports").send())
        .unwrap();
    let ct = cloudtrail(&rt, case_keys(&dir));
    let base = [
        "validate",
        "s3://example-org-bucket",
        "--as-of",
        "2030-01-01T00:00:00Z",
    ];
    for index in 0..3 {
        let output = format!("s3://shard-reports/run-1/shard-{index}.json");
        let shard = format!("{index}/3");
        let mut args = base.to_vec();
        args.extend(["--shard", &shard, "--output", &output]);
        let out = cli(&dir, &args, &s3, &ct);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "shard {index}: {stderr}");
    }
    let mut args = base.to_vec();
    args.extend(["--format", "json"]);
    let whole = cli(&dir, &args, &s3, &ct);
    let merged = cli(
        &dir,
        &["merge", "s3://shard-reports/run-1/", "--format", "json"],
        &s3,
        &ct,
    );
    assert_eq!(merged.status.code(), whole.status.code());
    assert_eq!(comparable(json(&merged)), comparable(json(&whole)));
    // A prefix holding no report is an error, not an empty verdict.
    let empty = cli(&dir, &["merge", "s3://shard-reports/run-2/"], &s3, &ct);
    assert_eq!(empty.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&empty.stderr).contains("no .json report"));
}

/// Puts an inventory of the bucket copy `dir` (taken now) in bucket `inventories` of `s3`;
/// returns its manifest's URL.
fn put_inventory(
    rt: &tokio::runtime::Runtime,
    s3: &S3Server,
    dir: &Path,
    bucket: &str,
    format: cloudtrail_digest_testgen::inventory::Format,
) -> String {
    let keys: Vec<(String, u64)> = support::walk(dir)
        .unwrap()
        .into_iter()
        .filter(|(k, _)| !k.ends_with(".meta.json"))
        .map(|(k, p)| (k, std::fs::metadata(p).unwrap().len()))
        .collect();
    let inv = tempfile::tempdir().unwrap();
    let now = chrono::Utc::now();
    let at = format!("{bucket}/all/{}", now.format("%Y-%m-%dT%H-%MZ"));
    let objects = cloudtrail_digest_testgen::inventory::inventory(
        bucket,
        &keys,
        now,
        format,
        "inventories",
        &at,
    )
    .unwrap();
    for (key, body) in objects {
        let path = inv.path().join(&key);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, body).unwrap();
    }
    s3.load(rt, inv.path(), "inventories");
    format!("s3://inventories/{at}/manifest.json")
}

/// `--inventory`: every golden case listed from an S3 Inventory of its bucket (CSV and
/// Parquet in turn, taken now: every day of the cases is before its cut-off) gives the
/// report of the same bucket listed directly, and the report names the inventory.
#[test]
fn golden_cases_listed_from_an_inventory_give_the_listed_report() {
    use cloudtrail_digest_testgen::inventory::Format;
    let rt = support::runtime();
    let mut failures = Vec::new();
    let dirs: Vec<PathBuf> = support::case_dirs();
    for (i, dir) in dirs.iter().enumerate() {
        let name = dir.file_name().unwrap().to_str().unwrap();
        let bucket = bucket_of(dir);
        let s3 = S3Server::start(&rt);
        s3.load(&rt, &dir.join(&bucket), &bucket);
        let format = if i % 2 == 0 {
            Format::Csv
        } else {
            Format::Parquet
        };
        let manifest = put_inventory(&rt, &s3, &dir.join(&bucket), &bucket, format);
        let ct = cloudtrail(&rt, case_keys(dir));
        let url = format!("s3://{bucket}");
        let listed = cli(dir, &["validate", &url, "--format", "json"], &s3, &ct);
        let args = [
            "validate",
            &url,
            "--format",
            "json",
            "--inventory",
            &manifest,
        ];
        let from_inventory = cli(dir, &args, &s3, &ct);
        let mut got = json(&from_inventory);
        let named = got
            .as_object_mut()
            .and_then(|m| m.remove("inventory"))
            .is_some_and(|v| v["manifest"] == manifest.as_str());
        if !named
            || listed.status.code() != from_inventory.status.code()
            || comparable(json(&listed)) != comparable(got)
        {
            failures.push(format!(
                "{name} ({format:?}): exit {:?} listed, {:?} from the inventory; stderr {}\n--- listed\n{}\n--- inventory\n{}",
                listed.status.code(),
                from_inventory.status.code(),
                String::from_utf8_lossy(&from_inventory.stderr),
                String::from_utf8_lossy(&listed.stdout),
                String::from_utf8_lossy(&from_inventory.stdout)
            ));
        }
    }
    assert!(dirs.len() > 40, "{} cases", dirs.len());
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
