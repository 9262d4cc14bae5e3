//! Sharded runs: for every golden case and a larger multi-account, multi-region bucket
//! with tampering in several places, the shards, each run as its own process with the job
//! engines' variables set (AWS Batch, Kubernetes), then `merge`, give the same JSON report,
//! text and exit code as one run, for several shard counts. A missing or duplicated
//! shard, a shard of another plan, and a forged shard are refused, exit 2.

mod elapsed;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use chrono::{DateTime, Duration, TimeZone as _, Utc};
use cloudtrail_digest_testgen::{Generator, Hour, TestKey, TrailSpec, Tree};
use serde_json::Value;

const AS_OF: &str = "2030-01-01T00:00:00Z";

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cloudtrail-digest"));
    for var in [
        "AWS_BATCH_JOB_ARRAY_INDEX",
        "AWS_BATCH_JOB_ARRAY_SIZE",
        "JOB_COMPLETION_INDEX",
    ] {
        c.env_remove(var);
    }
    c
}

fn run(mut c: Command, dir: &Path) -> Output {
    c.current_dir(dir).output().expect("run cloudtrail-digest")
}

/// The case's own arguments, with a fixed `--as-of` (a sharded run needs one).
fn case_args(expected: &Value) -> Vec<String> {
    let mut args: Vec<String> = expected["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_owned())
        .collect();
    if !args.iter().any(|a| a == "--as-of") {
        args.extend(["--as-of".into(), AS_OF.into()]);
    }
    args
}

/// Runs the `count` shards of `args` in `dir`, as separate processes: even counts as an
/// AWS Batch array job writing into a shared folder (each names its own report), odd ones
/// as a Kubernetes Indexed Job given a file name each. Returns the reports' folder.
fn shards(dir: &Path, args: &[String], count: u32, out: &Path) -> PathBuf {
    let folder = out.join(format!("shards-{count}"));
    for index in 0..count {
        let mut c = bin();
        c.args(args).arg("--output");
        if count % 2 == 0 {
            c.arg(format!("{}/", folder.display()));
        } else {
            c.arg(folder.join(format!("shard-{index:03}.json")));
        }
        if count % 2 == 0 {
            c.arg("--shard").arg("env");
            c.env("AWS_BATCH_JOB_ARRAY_INDEX", index.to_string());
            c.env("AWS_BATCH_JOB_ARRAY_SIZE", count.to_string());
        } else {
            c.arg("--shard-count").arg(count.to_string());
            c.env("JOB_COMPLETION_INDEX", index.to_string());
        }
        let o = run(c, dir);
        assert_eq!(
            o.status.code(),
            Some(0),
            "shard {index}/{count} in {}: {}",
            dir.display(),
            String::from_utf8_lossy(&o.stderr)
        );
    }
    folder
}

fn merge(dir: &Path, folder: &Path, extra: &[&str]) -> Output {
    let mut c = bin();
    c.arg("merge").arg(folder).args(extra);
    run(c, dir)
}

/// Merging every shard gives one run's JSON report, text and exit code, for each count.
fn assert_shards_merge_to_one_run(dir: &Path, args: &[String], counts: &[u32]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut json_args = args.to_vec();
    json_args.extend(["--format".into(), "json".into()]);
    let mut c = bin();
    c.args(&json_args);
    let whole = run(c, dir);
    let whole_json: Value = serde_json::from_slice(&whole.stdout).unwrap();
    let mut c = bin();
    c.args(args);
    let whole_text = run(c, dir);
    let out = tempfile::tempdir().unwrap();
    for &count in counts {
        let folder = shards(dir, args, count, out.path());
        if count % 2 == 0 {
            let first = folder.join(format!("shard-00000-of-{count:05}.json"));
            assert!(first.is_file(), "{}", first.display());
        }
        let merged = merge(dir, &folder, &["--format", "json"]);
        let name = format!("{} with {count} shards", dir.display());
        match serde_json::from_slice::<Value>(&merged.stdout) {
            Ok(json) if json == whole_json => {}
            Ok(json) => problems.push(format!(
                "{name}: merged JSON differs:\n{}",
                diff(&whole_json, &json)
            )),
            Err(e) => problems.push(format!(
                "{name}: {e}: {}",
                String::from_utf8_lossy(&merged.stderr)
            )),
        }
        if merged.status.code() != whole.status.code() {
            problems.push(format!(
                "{name}: exit {:?}, one run {:?}",
                merged.status.code(),
                whole.status.code()
            ));
        }
        let verbose = args.iter().any(|a| a == "--verbose");
        let text = merge(dir, &folder, if verbose { &["--verbose"] } else { &[] });
        let same_stdout =
            elapsed::without_elapsed(&text.stdout) == elapsed::without_elapsed(&whole_text.stdout);
        if !same_stdout || text.stderr != whole_text.stderr {
            problems.push(format!(
                "{name}: merged text differs:\n--- one run\n{}{}\n--- merged\n{}{}",
                String::from_utf8_lossy(&whole_text.stdout),
                String::from_utf8_lossy(&whole_text.stderr),
                String::from_utf8_lossy(&text.stdout),
                String::from_utf8_lossy(&text.stderr)
            ));
        }
    }
    problems
}

/// The first top-level fields that differ.
fn diff(a: &Value, b: &Value) -> String {
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
        return format!("{a}\n{b}");
    };
    a.keys()
        .chain(b.keys())
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| format!("{k}: {:?}\n  vs {:?}", a.get(k), b.get(k)))
        .take(3)
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn every_golden_case_sharded_then_merged_is_one_run() {
    let cases = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/cases");
    let mut problems = Vec::new();
    let mut dirs: Vec<_> = std::fs::read_dir(&cases)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("expected.json").is_file())
        .collect();
    dirs.sort();
    assert!(dirs.len() > 40);
    for dir in dirs {
        let expected: Value =
            serde_json::from_slice(&std::fs::read(dir.join("expected.json")).unwrap()).unwrap();
        // One shard, and more shards than the case has locations (empty shards).
        problems.extend(assert_shards_merge_to_one_run(
            &dir,
            &case_args(&expected),
            &[1, 2, 3],
        ));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 9).unwrap()
}

/// Three accounts of an organization and a standalone account, three regions each: a log
/// altered in one location, a digest deleted in another, a log injected in a third, and
/// a region with log files but no digest at all.
fn organization(dir: &Path) -> PathBuf {
    let key = TestKey::load(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/keys"),
        1,
    )
    .unwrap();
    let mut tree = Tree::default();
    let hours = vec![Hour::default(); 6];
    let mut n = 0u64;
    let mut deleted = None;
    for (org, account) in [
        (Some("o-shardtest1"), "111111111111"),
        (Some("o-shardtest1"), "222222222222"),
        (Some("o-shardtest1"), "333333333333"),
        (None, "444444444444"),
    ] {
        for region in ["us-east-1", "eu-west-1", "ap-south-1"] {
            let spec = TrailSpec {
                bucket: "org-archive".into(),
                prefix: Some("audit".into()),
                org_id: org.map(str::to_owned),
                account: account.into(),
                region: region.into(),
                trail: if org.is_some() {
                    "org-trail"
                } else {
                    "local-trail"
                }
                .into(),
                home_region: "us-east-1".into(),
            };
            n += 1;
            let mut generator = Generator::new(n);
            if account == "444444444444" && region == "ap-south-1" {
                generator.unlisted_log(&mut tree, &spec, t0() + Duration::minutes(30));
                continue;
            }
            let digests = generator.chain(&mut tree, &spec, &[&key], t0(), &hours, None);
            match (account, region) {
                ("111111111111", "eu-west-1") => {
                    let log = tree.objects.get_mut(&digests[2].logs[0]).unwrap();
                    log.body = cloudtrail_digest_testgen::gzip(b"{\"Records\":[]}");
                }
                ("222222222222", "us-east-1") => deleted = Some(digests[3].key.clone()),
                ("333333333333", "ap-south-1") => {
                    generator.unlisted_log(&mut tree, &spec, t0() + Duration::minutes(150));
                }
                _ => {}
            }
        }
    }
    tree.objects.remove(&deleted.unwrap());
    let bucket = dir.join("org-archive");
    tree.write(&bucket).unwrap();
    let keys = serde_json::json!({ "PublicKeyList": [key.list_entry(t0() - Duration::days(1), t0() + Duration::days(30))] });
    std::fs::write(dir.join("public-keys.json"), keys.to_string()).unwrap();
    bucket
}

#[test]
fn a_multi_account_multi_region_organization_bucket_sharded_then_merged_is_one_run() {
    let dir = tempfile::tempdir().unwrap();
    organization(dir.path());
    let args: Vec<String> = [
        "validate",
        "org-archive",
        "--public-keys",
        "public-keys.json",
        "--verbose",
        "--as-of",
        AS_OF,
    ]
    .map(String::from)
    .to_vec();
    // The bucket has every kind of finding, so the comparison means something.
    let mut c = bin();
    c.args(&args).args(["--format", "json"]);
    let whole: Value = serde_json::from_slice(&run(c, dir.path()).stdout).unwrap();
    assert_eq!(whole["exit_code"], 1);
    assert_eq!(whole["locations"].as_array().unwrap().len(), 12);
    assert!(whole["totals"]["log_files"]["invalid"].as_u64().unwrap() >= 2);
    let mut problems = assert_shards_merge_to_one_run(dir.path(), &args, &[1, 2, 3, 5, 12, 13]);
    // Valid log files counted, not listed: as at scale.
    let mut counted = args.clone();
    counted.push("--omit-valid-logs".into());
    problems.extend(assert_shards_merge_to_one_run(
        dir.path(),
        &counted,
        &[4, 13],
    ));
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

/// `merge` of `reports` in `folder` fails, exit 2, with `why` on stderr and nothing on
/// stdout.
fn refused(dir: &Path, folder: &Path, reports: &[&str], why: &str) {
    let mut c = bin();
    c.arg("merge");
    for r in reports {
        c.arg(folder.join(r));
    }
    let o = run(c, dir);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{why}: {stderr}");
    assert!(stderr.contains(why), "{why}: {stderr}");
    assert!(o.stdout.is_empty(), "{why}");
}

fn org_args() -> Vec<String> {
    let args = [
        "validate",
        "org-archive",
        "--public-keys",
        "public-keys.json",
    ];
    let mut args: Vec<String> = args.map(String::from).to_vec();
    args.extend(["--as-of".into(), AS_OF.into()]);
    args
}

#[test]
fn a_missing_duplicated_or_foreign_shard_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    organization(dir.path());
    let args = org_args();
    let out = tempfile::tempdir().unwrap();
    let three = shards(dir.path(), &args, 3, out.path());
    let refused = |reports: &[&str], why: &str| refused(dir.path(), &three, reports, why);
    refused(
        &["shard-000.json", "shard-002.json"],
        "shards missing (of 3): 1",
    );
    let twice = [
        "shard-000.json",
        "shard-001.json",
        "shard-001.json",
        "shard-002.json",
    ];
    refused(&twice, "shard 1 of 3 given twice");
    // A shard of a plan with other options (another time range).
    let mut other = args.clone();
    other.extend(["--end-time".into(), "2024-06-01T03:00:00Z".into()]);
    let other_folder = shards(dir.path(), &other, 3, &out.path().join("other"));
    let foreign = three.join("foreign.json");
    std::fs::copy(other_folder.join("shard-001.json"), foreign).unwrap();
    let mixed = ["shard-000.json", "foreign.json", "shard-002.json"];
    refused(&mixed, "plan (listing or options) differs");
}

#[test]
fn a_forged_shard_or_a_whole_run_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    organization(dir.path());
    let args = org_args();
    let out = tempfile::tempdir().unwrap();
    let three = shards(dir.path(), &args, 3, out.path());
    // A shard whose report claims a location that is another shard's.
    let read = |name: &str| -> Value {
        serde_json::from_slice(&std::fs::read(three.join(name)).unwrap()).unwrap()
    };
    let mut forged = read("shard-001.json");
    let theirs = read("shard-002.json");
    let locations = forged["locations"].as_array_mut().unwrap();
    locations.push(theirs["locations"][0].clone());
    std::fs::write(three.join("forged.json"), forged.to_string()).unwrap();
    let reports = ["shard-000.json", "forged.json", "shard-002.json"];
    refused(dir.path(), &three, &reports, "outside its share");
    // A report of a whole run is not a shard's.
    let mut c = bin();
    c.args(&args).arg("--output").arg(three.join("whole.json"));
    assert_eq!(run(c, dir.path()).status.code(), Some(1));
    refused(dir.path(), &three, &["whole.json"], "not a shard's report");
}

#[test]
fn a_sharded_run_without_a_fixed_time_is_refused() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/cases/valid-chain");
    let mut c = bin();
    c.args([
        "validate",
        "example-trail-bucket",
        "--public-keys",
        "public-keys.json",
        "--shard",
        "0/2",
    ]);
    let o = run(c, &dir);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("needs --as-of"));
}
