//! A faulty network and misbehaving S3 servers (the in-process server's fault injection):
//! whatever they do, every file ends valid or `UNCHECKED`, never falsely invalid or not
//! found, and every run ends within a bounded time.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{cli_within, cloudtrail, json, CloudTrailStub, GetFault, S3Server, Storm};

/// A generated bucket of `hours` hourly digests with `logs` log files each, served by a
/// fresh in-process S3 server.
struct Bucket {
    dir: tempfile::TempDir,
    s3: S3Server,
    ct: CloudTrailStub,
    logs: Vec<String>,
}

fn bucket(rt: &tokio::runtime::Runtime, hours: usize, logs: usize) -> Option<Bucket> {
    use cloudtrail_digest_testgen::{cases::standard_trail, Generator, Hour, TestKey, Tree};
    let keys = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/keys");
    let key = TestKey::load(&keys, 1).unwrap();
    let spec = standard_trail();
    let t0 = chrono::DateTime::parse_from_rfc3339("2024-03-01T00:12:34Z")
        .unwrap()
        .to_utc();
    let mut tree = Tree::default();
    let hour = Hour {
        logs,
        ..Hour::default()
    };
    let digests = Generator::new(77).chain(&mut tree, &spec, &[&key], t0, &vec![hour; hours], None);
    let dir = tempfile::tempdir().unwrap();
    tree.write(&dir.path().join(&spec.bucket)).unwrap();
    let s3 = S3Server::start(rt);
    if !s3.can_inject_faults() {
        eprintln!("skipped: the external S3 server cannot inject faults");
        return None;
    }
    s3.load(rt, &dir.path().join(&spec.bucket), &spec.bucket);
    let entry = key.list_entry(
        t0 - chrono::Duration::days(1),
        t0 + chrono::Duration::days(9),
    );
    let ct = cloudtrail(rt, vec![entry]);
    let logs = digests.iter().flat_map(|d| d.logs.clone()).collect();
    Some(Bucket { dir, s3, ct, logs })
}

impl Bucket {
    fn validate(&self, extra: &[&str]) -> (Option<i32>, Value, Duration) {
        let mut args = vec!["validate", "s3://example-trail-bucket", "--format", "json"];
        args.extend(extra);
        let started = Instant::now();
        let limit = Duration::from_secs(150);
        let out = cli_within(limit, self.dir.path(), &args, &self.s3, &self.ct);
        (out.status.code(), json(&out), started.elapsed())
    }

    fn fault(&self, key: &str, fault: GetFault, times: usize) {
        self.s3
            .faults
            .get
            .lock()
            .unwrap()
            .insert(key.to_owned(), (fault, times));
    }
}

/// Every verdict of a report: (status, key, reason).
fn verdicts(report: &Value) -> Vec<(String, String, String)> {
    let s = |v: &Value, f: &str| v[f].as_str().unwrap_or_default().to_owned();
    let mut out = Vec::new();
    for chain in report["chains"].as_array().unwrap() {
        for d in chain["digests"].as_array().unwrap() {
            out.push((s(d, "status"), s(d, "key"), s(&d["reason"], "message")));
            for l in d["logs"].as_array().unwrap() {
                out.push((s(l, "status"), s(l, "key"), s(&l["reason"], "message")));
            }
        }
    }
    for loc in report["locations"].as_array().unwrap() {
        for l in loc["unlisted"].as_array().unwrap() {
            out.push((s(l, "status"), s(l, "key"), String::new()));
        }
    }
    out
}

/// Whatever the faults, a file is valid or unchecked.
fn assert_never_a_false_finding(report: &Value) {
    let false_findings: Vec<_> = verdicts(report)
        .into_iter()
        .filter(|(status, _, _)| status != "valid" && status != "unchecked")
        .collect();
    assert!(false_findings.is_empty(), "{false_findings:?}");
}

const SHORT: &[&str] = &[
    "--read-timeout",
    "1",
    "--timeout",
    "2",
    "--connect-timeout",
    "1",
];

#[test]
fn a_server_that_never_answers_or_trickles_cannot_hang_the_run() {
    let rt = support::runtime();
    let Some(b) = bucket(&rt, 3, 3) else { return };
    b.fault(&b.logs[0], GetFault::Stall, 100);
    b.fault(&b.logs[1], GetFault::Trickle, 100);
    let (code, report, took) = b.validate(SHORT);
    assert!(took < Duration::from_secs(60), "took {took:?}");
    assert_eq!(code, Some(2));
    assert_never_a_false_finding(&report);
    let unchecked: Vec<(String, String)> = verdicts(&report)
        .into_iter()
        .filter(|(s, _, _)| s == "unchecked")
        .map(|(_, k, r)| (k, r))
        .collect();
    assert_eq!(unchecked.len(), 2, "{unchecked:?}");
    // The trickled body is cut off: by its deadline, or, when the machine is so loaded
    // that even its first bytes wait past the idle time, by that.
    assert!(
        unchecked.iter().any(|(k, r)| *k == b.logs[1]
            && (r.contains("did not arrive in time") || r.contains("no data for"))),
        "{unchecked:?}"
    );
}

#[test]
fn transport_faults_that_pass_are_tried_again_and_verify() {
    let rt = support::runtime();
    let Some(b) = bucket(&rt, 3, 6) else { return };
    for (key, fault) in b.logs.iter().zip([
        GetFault::CutBody,
        GetFault::Reset,
        GetFault::FlipByte,
        GetFault::Stall,
        GetFault::Trickle,
        GetFault::Bare404,
    ]) {
        b.fault(key, fault, 1);
    }
    let (code, report, took) = b.validate(SHORT);
    assert!(took < Duration::from_secs(60), "took {took:?}");
    assert_eq!(
        code,
        Some(0),
        "{:?}",
        verdicts(&report)
            .iter()
            .filter(|v| v.0 != "valid")
            .collect::<Vec<_>>()
    );
}

#[test]
fn a_body_changed_in_transit_every_time_is_unchecked_not_tampered() {
    let rt = support::runtime();
    let Some(b) = bucket(&rt, 2, 2) else { return };
    b.fault(&b.logs[0], GetFault::FlipByte, 100);
    b.fault(&b.logs[1], GetFault::CutBody, 100);
    let (code, report, _) = b.validate(SHORT);
    assert_eq!(code, Some(2));
    assert_never_a_false_finding(&report);
    let reasons: Vec<String> = verdicts(&report)
        .into_iter()
        .filter(|(s, _, _)| s == "unchecked")
        .map(|(_, _, r)| r)
        .collect();
    assert!(
        reasons.iter().any(|r| r.contains("MD5 is not its ETag")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("the body")),
        "{reasons:?}"
    );
}

#[test]
fn a_throttled_bucket_is_validated_slowly_not_abandoned() {
    let rt = support::runtime();
    let Some(b) = bucket(&rt, 20, 10) else { return };
    *b.s3.faults.throttle_per_second.lock().unwrap() = Some(40);
    // At the default: the window starts at 64 and may double, and S3's refusals halve it.
    let (code, report, took) = b.validate(&[]);
    assert_never_a_false_finding(&report);
    assert_eq!(
        code,
        Some(0),
        "{:?}",
        verdicts(&report)
            .iter()
            .filter(|v| v.0 != "valid")
            .take(5)
            .collect::<Vec<_>>()
    );
    assert!(took < Duration::from_secs(120), "took {took:?}");
}

#[test]
fn a_throttled_day_folder_is_read_slowly_and_the_others_are_read_whole() {
    let rt = support::runtime();
    // 30 hours from 00:12 on the first day: two day folders.
    let Some(b) = bucket(&rt, 30, 10) else { return };
    let first = b.logs.first().unwrap();
    let folder = &first[..=first.rfind('/').unwrap()];
    assert!(b.logs.iter().any(|k| !k.starts_with(folder)), "two folders");
    *b.s3.faults.throttle_prefix.lock().unwrap() = Some(folder.to_owned());
    *b.s3.faults.throttle_per_second.lock().unwrap() = Some(30);
    let (code, report, took) = b.validate(&[]);
    assert_never_a_false_finding(&report);
    let not_valid: Vec<_> = verdicts(&report)
        .into_iter()
        .filter(|v| v.0 != "valid")
        .collect();
    assert_eq!(code, Some(0), "{:?}", &not_valid[..not_valid.len().min(5)]);
    assert!(took < Duration::from_secs(120), "took {took:?}");
}

#[test]
fn a_storm_of_server_errors_passes_and_nothing_is_lost() {
    let rt = support::runtime();
    for storm in [Storm::InternalError, Storm::Unavailable, Storm::SlowDown] {
        let Some(b) = bucket(&rt, 4, 5) else { return };
        *b.s3.faults.storm.lock().unwrap() = Some((storm, 40));
        let (code, report, took) = b.validate(&[]);
        assert_never_a_false_finding(&report);
        assert!(matches!(code, Some(0 | 2)), "{storm:?}: {code:?}");
        assert!(took < Duration::from_secs(120), "{storm:?} took {took:?}");
    }
}

#[test]
fn random_faults_everywhere_give_valid_or_unchecked_only() {
    use rand_chacha::rand_core::{RngCore as _, SeedableRng as _};
    let rt = support::runtime();
    let Some(b) = bucket(&rt, 10, 8) else { return };
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(13);
    let faults = [
        GetFault::Bare404,
        GetFault::Stall,
        GetFault::Trickle,
        GetFault::CutBody,
        GetFault::Reset,
        GetFault::FlipByte,
    ];
    for key in &b.logs {
        if rng.next_u32() % 3 == 0 {
            let fault = faults[rng.next_u32() as usize % faults.len()];
            b.fault(key, fault, 1 + rng.next_u32() as usize % 4);
        }
    }
    *b.s3.faults.storm.lock().unwrap() = Some((Storm::Unavailable, 10));
    let (code, report, took) = b.validate(SHORT);
    assert_never_a_false_finding(&report);
    assert!(matches!(code, Some(0 | 2)), "{code:?}");
    assert!(took < Duration::from_secs(120), "took {took:?}");
}
