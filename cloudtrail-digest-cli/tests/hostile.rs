//! Hostile local trees and names, for `validate DIR` and `mirror`: nothing is read or
//! written outside the directory, nothing blocks, and every line printed is sanitized.

mod support;

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::Value;
use support::{bucket_of, case_keys, cases_dir, cli_within, cloudtrail, S3Server};

const BUCKET: &str = "example-trail-bucket";
const LIMIT: Duration = Duration::from_secs(60);

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let dest = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_tree(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).unwrap();
        }
    }
}

/// A copy of the valid-chain case in a temporary folder: (the folder, the bucket in it).
fn valid_copy() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    copy_tree(&cases_dir().join("valid-chain"), tmp.path());
    let bucket = tmp.path().join(BUCKET);
    (tmp, bucket)
}

/// `validate` of a directory, killed if it has not ended within [`LIMIT`].
fn validate(dir: &Path, args: &[&str]) -> Output {
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_cloudtrail-digest"))
        .arg("validate")
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > LIMIT {
            child.kill().unwrap();
            panic!("validate {args:?} blocked");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn mkfifo(path: &Path) {
    let made = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(made.success(), "mkfifo");
}

#[test]
fn key_files_and_manifests_that_are_not_regular_files_are_refused_not_read() {
    let (tmp, bucket) = valid_copy();
    mkfifo(&tmp.path().join("keys.fifo"));
    for keys in ["keys.fifo", "/dev/zero", "/dev/null"] {
        let out = validate(tmp.path(), &[BUCKET, "--public-keys", keys]);
        assert_eq!(out.status.code(), Some(2), "{keys}");
        let err = stderr(&out);
        assert!(
            err.contains(&format!("cannot read public key file {keys}")),
            "{err}"
        );
        assert!(err.contains("not a regular file"), "{err}");
    }
    // A manifest that is a FIFO, a device, or a symlink leading out of the copy.
    let manifest = bucket.join("cloudtrail-digest-manifest.json");
    mkfifo(&manifest);
    let out = validate(tmp.path(), &[BUCKET, "--public-keys", "public-keys.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not a regular file"),
        "{}",
        stderr(&out)
    );
    std::fs::remove_file(&manifest).unwrap();
    let outside = tmp.path().join("planted-manifest.json");
    std::fs::write(
        &outside,
        r#"{"tool_version":"0","source":"s3://evil","bucket":"evil","prefix":"","created":"2024-03-01T00:00:00Z","filters":{},"complete":true,"objects":[],"not_copied":[]}"#,
    )
    .unwrap();
    symlink(&outside, &manifest).unwrap();
    let out = validate(tmp.path(), &[BUCKET, "--public-keys", "public-keys.json"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("outside the directory"),
        "{}",
        stderr(&out)
    );
    std::fs::remove_file(&manifest).unwrap();
    symlink("/dev/zero", &manifest).unwrap();
    let out = validate(tmp.path(), &[BUCKET, "--public-keys", "public-keys.json"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn a_hostile_tree_is_named_entry_by_entry_and_the_run_goes_on() {
    use std::os::unix::ffi::OsStrExt as _;
    let (tmp, bucket) = valid_copy();
    let day = bucket.join("AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/01");
    symlink("/etc/passwd", day.join("out.json.gz")).unwrap();
    symlink("nothing.json.gz", day.join("dangling.json.gz")).unwrap();
    symlink("..", day.join("loop")).unwrap();
    mkfifo(&day.join("fifo.json.gz"));
    std::fs::write(
        day.join(std::ffi::OsStr::from_bytes(b"bad\xff.json.gz")),
        b"x",
    )
    .unwrap();
    // Names that would drive a terminal or reorder a line.
    std::fs::write(day.join("\u{1b}]0;owned\u{7}\u{1b}[2J.json.gz"), b"x").unwrap();
    std::fs::write(day.join("evil\u{202e}zg.nosj.exe"), b"x").unwrap();
    std::fs::write(day.join("forged\rLog file\tvalid\n.json.gz"), b"x").unwrap();
    let out = validate(tmp.path(), &[BUCKET, "--public-keys", "public-keys.json"]);
    // Every stray is named (exit 3), nothing blocks, and the digests still verify.
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let err = stderr(&out);
    for named in [
        "out.json.gz\ta symlink leading outside the copy",
        "dangling.json.gz\ta symlink to nothing",
        "loop/01/\ta folder reached again through a symlink",
        "fifo.json.gz\tnot a regular file or folder",
        "bad\u{fffd}.json.gz\tits name is not UTF-8",
    ] {
        assert!(err.contains(named), "{named}: {err}");
    }
    for raw in ['\u{1b}', '\u{7}', '\u{202e}', '\r'] {
        assert!(!err.contains(raw), "{raw:?} reached the terminal: {err:?}");
    }
    assert!(!String::from_utf8_lossy(&out.stdout).contains('\u{1b}'));
    let json = validate(
        tmp.path(),
        &[
            BUCKET,
            "--public-keys",
            "public-keys.json",
            "--format",
            "json",
        ],
    );
    let report: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report["chains"][0]["digest_counts"]["valid"], 4);
}

/// Mirrors the valid-chain case into `target`.
fn mirror(rt: &tokio::runtime::Runtime, target: &Path) -> (Output, S3Server) {
    let dir = cases_dir().join("valid-chain");
    let bucket = bucket_of(&dir);
    let s3 = S3Server::start(rt);
    s3.load(rt, &dir.join(&bucket), &bucket);
    let ct = cloudtrail(rt, case_keys(&dir));
    let url = format!("s3://{bucket}");
    let out = cli_within(
        LIMIT,
        &dir,
        &["mirror", &url, target.to_str().unwrap()],
        &s3,
        &ct,
    );
    (out, s3)
}

/// Every file under `dir`.
fn files(dir: &Path) -> Vec<PathBuf> {
    support::walk(dir)
        .unwrap()
        .into_iter()
        .map(|(_, p)| p)
        .collect()
}

#[test]
fn mirror_never_writes_or_reads_through_a_symlink_planted_in_its_directory() {
    let rt = support::runtime();
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("evidence");
    let outside = tmp.path().join("outside");
    std::fs::create_dir_all(&target).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    let victim = outside.join("victim.txt");
    std::fs::write(&victim, b"keep me").unwrap();
    // DIR/AWSLogs leads out; a .partial and an object's path lead to the victim.
    symlink(&outside, target.join("AWSLogs")).unwrap();
    let (out, _s3) = mirror(&rt, &target);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("is or passes through a symlink: not written through"),
        "{err}"
    );
    assert_eq!(
        files(&outside),
        std::slice::from_ref(&victim),
        "nothing written outside"
    );
    // The same with the folders real and symlinks at a .partial and at an object's path.
    std::fs::remove_file(target.join("AWSLogs")).unwrap();
    let (first, _s3) = mirror(&rt, &target);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let key = "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/03/01/111122223333_CloudTrail-Digest_us-east-1_management-events_us-east-1_20240301T011234Z.json.gz";
    let object = target.join(key);
    std::fs::remove_file(&object).unwrap();
    symlink(&victim, &object).unwrap();
    let partial = target.join(format!("{key}.meta.json.partial"));
    symlink(&victim, &partial).unwrap();
    let (again, _s3) = mirror(&rt, &target);
    assert_eq!(again.status.code(), Some(2), "{}", stderr(&again));
    assert!(
        stderr(&again).contains("not written through"),
        "{}",
        stderr(&again)
    );
    assert_eq!(
        std::fs::read(&victim).unwrap(),
        b"keep me",
        "the victim is untouched"
    );
    // Its SHA-256 never reached the manifest.
    let manifest: Value = serde_json::from_slice(
        &std::fs::read(target.join("cloudtrail-digest-manifest.json")).unwrap(),
    )
    .unwrap();
    let victim_sha = cloudtrail_digest::Sha256Hash::of(b"keep me").to_string();
    assert!(!manifest.to_string().contains(&victim_sha));
}

#[test]
fn a_rerun_lists_only_what_the_directory_holds_with_the_hash_it_has_now() {
    let rt = support::runtime();
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("evidence");
    let (out, _s3) = mirror(&rt, &target);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // An entry planted in the manifest, and an object of an earlier run (outside what this
    // run selects) that is gone, and one that changed.
    let path = target.join("cloudtrail-digest-manifest.json");
    let mut manifest: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let objects = manifest["objects"].as_array_mut().unwrap();
    objects.push(serde_json::json!({"key": "AWSLogs/planted.json.gz", "size": 1, "sha256": "00"}));
    let kept = "AWSLogs/999999999999/CloudTrail/us-east-1/2024/03/01/kept.json.gz";
    let gone = "AWSLogs/999999999999/CloudTrail/us-east-1/2024/03/01/gone.json.gz";
    for k in [kept, gone] {
        objects.push(serde_json::json!({"key": k, "size": 1, "sha256": "00"}));
    }
    std::fs::write(&path, serde_json::to_vec(&manifest).unwrap()).unwrap();
    std::fs::create_dir_all(target.join(kept).parent().unwrap()).unwrap();
    std::fs::write(target.join(kept), b"changed since").unwrap();
    let (out, _s3) = mirror(&rt, &target);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let manifest: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let entry = |k: &str| {
        manifest["objects"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["key"] == k)
            .cloned()
    };
    assert!(entry("AWSLogs/planted.json.gz").is_none());
    assert!(entry(gone).is_none());
    let kept = entry(kept).expect("the file is in the directory");
    assert_eq!(
        kept["sha256"],
        cloudtrail_digest::Sha256Hash::of(b"changed since").to_string()
    );
}

#[test]
fn mirror_sanitizes_the_keys_it_cannot_copy() {
    let rt = support::runtime();
    let dir = cases_dir().join("valid-chain");
    let s3 = S3Server::start(&rt);
    s3.load(&rt, &dir.join(BUCKET), BUCKET);
    // A stray key with an empty segment (so not copied) and terminal controls.
    let stray = "AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/01//\u{1b}]0;owned\u{7}\u{202e}x\n.json.gz";
    rt.block_on(async {
        s3.client()
            .put_object()
            .bucket(BUCKET)
            .key(stray)
            .body(b"x".to_vec().into())
            .send()
            .await
            .unwrap();
    });
    let ct = cloudtrail(&rt, case_keys(&dir));
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("s3://{BUCKET}");
    let out = cli_within(
        LIMIT,
        &dir,
        &["mirror", &url, tmp.path().to_str().unwrap()],
        &s3,
        &ct,
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("Not copied"), "{err}");
    for raw in ['\u{1b}', '\u{7}', '\u{202e}'] {
        assert!(!err.contains(raw), "{raw:?}: {err:?}");
    }
    assert_eq!(
        err.matches("Not copied").count(),
        err.lines().filter(|l| l.starts_with("Not copied")).count()
    );
}

/// The peak resident memory of a run, read from `/proc` while it runs.
fn peak_rss(dir: &Path, args: &[&str]) -> (Output, u64) {
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_cloudtrail-digest"))
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if let Some(kb) = std::fs::read_to_string(&status).ok().and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        }) {
            peak = peak.max(kb * 1024);
        }
        assert!(started.elapsed() < LIMIT, "the run blocked");
        std::thread::sleep(Duration::from_millis(5));
    }
    (child.wait_with_output().unwrap(), peak)
}

#[test]
fn a_huge_log_file_is_streamed_not_held() {
    use std::io::Write as _;
    let (tmp, bucket) = valid_copy();
    let log = bucket.join(
        support::walk(&bucket)
            .unwrap()
            .into_iter()
            .map(|(k, _)| k)
            .find(|k| k.contains("/CloudTrail/") && k.ends_with(".json.gz"))
            .unwrap(),
    );
    // 160 MiB stored (deflate without compression), in place of a listed log file.
    let size = 160 << 20;
    let mut enc = flate2::GzBuilder::new().write(
        std::io::BufWriter::new(std::fs::File::create(&log).unwrap()),
        flate2::Compression::none(),
    );
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut block = vec![0u8; 1 << 20];
    for _ in 0..size / block.len() {
        for b in &mut block {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = x.to_le_bytes()[0];
        }
        enc.write_all(&block).unwrap();
    }
    enc.finish().unwrap().flush().unwrap();
    let (out, peak) = peak_rss(
        tmp.path(),
        &["validate", BUCKET, "--public-keys", "public-keys.json"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("hash value doesn't match"),
        "{}",
        stderr(&out)
    );
    println!("a {size}-byte log file: peak RSS {peak} bytes");
    assert!(peak > 0, "no reading of the peak");
    assert!(
        peak < 64 << 20,
        "a {size}-byte log file cost {peak} bytes of memory"
    );
}
