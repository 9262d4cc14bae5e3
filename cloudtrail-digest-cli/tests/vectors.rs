//! Runs every golden case under `testdata/cases/` through the `cloudtrail-digest` binary.
//!
//! For each case: the exit code must equal `expected.json`'s `exit`; the verdict of every
//! file in the JSON report must equal `expected.json`'s `verdicts` (which the generator
//! derives from the tamper it made, not from this tool); the number of chain notices must
//! match; and the text output must equal the reviewed snapshots `expected.stdout` and
//! `expected.stderr` (`BLESS=1 cargo test --test vectors` rewrites them after a change
//! that is meant). Every mismatch is collected, then the test fails once with all of them.

mod elapsed;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cloudtrail_digest::report::{DigestStatus, LogStatus, Report, UnlistedStatus};
use serde_json::Value;

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/cases")
}

fn run(dir: &Path, args: &[String]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cloudtrail-digest"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run cloudtrail-digest")
}

/// Flattens the JSON report, read back as the library's typed report (which pins the
/// JSON's shape), into `kind\ts3://bucket/key` -> verdict text, as the text output writes
/// them.
fn verdicts(report: &Report) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for d in report.chains.iter().flat_map(|c| &c.digests) {
        let prefix = if d.backfill { "(backfill) " } else { "" };
        let key = format!("{prefix}Digest file\ts3://{}/{}", d.bucket, d.key);
        // The status, unless valid with findings, then each finding: " | "-joined.
        let mut parts = Vec::new();
        if d.status != DigestStatus::Valid || d.findings.is_empty() {
            parts.push(digest_verdict(&d.status));
        }
        parts.extend(d.findings.iter().map(|f| format!("INVALID: {f}")));
        out.insert(key, parts.join(" | "));
        for l in &d.logs {
            let key = format!("Log file\ts3://{}/{}", l.bucket, l.key);
            out.insert(key, log_verdict(&l.status));
        }
    }
    for loc in &report.locations {
        let bucket = &loc.bucket;
        for l in &loc.unlisted {
            let key = format!("Log file\ts3://{bucket}/{}", l.key);
            let verdict = match l.status {
                UnlistedStatus::Injected => "INVALID: no digest lists it, yet it was delivered inside verified coverage (injected)",
                UnlistedStatus::NotCovered => "NOT COVERED: no verified digest covers its delivery time",
                UnlistedStatus::Unchecked => "UNCHECKED: delivered in the hour of a digest that could not be read",
                UnlistedStatus::Pending => {
                    "PENDING: delivered after the newest digest, whose successor is not due yet"
                }
                _ => "unknown",
            };
            out.insert(key, verdict.to_owned());
        }
        if loc.no_digests {
            let key = format!("Log files\ts3://{bucket}/{}", loc.location.log_prefix());
            let verdict = if loc.deleted.is_none() {
                "NOT COVERED: no digest"
            } else {
                "INVALID: no digest"
            };
            out.insert(key, verdict.to_owned());
        }
    }
    out
}

/// The verdict text of a digest, written independently of the command's renderer.
fn digest_verdict(status: &DigestStatus) -> String {
    match status {
        DigestStatus::Valid => "valid".into(),
        DigestStatus::NotFound { inferred: true } => {
            "INVALID: not found (inferred: no digest covers this hour)".into()
        }
        DigestStatus::NotFound { inferred: false } => "INVALID: not found".into(),
        DigestStatus::InvalidFormat { problem } => format!("INVALID: invalid format ({problem})"),
        DigestStatus::Moved { .. } => "INVALID: has been moved from its original location".into(),
        DigestStatus::UnknownKey {
            region,
            fingerprint,
        } => format!(
            "INVALID: public key not found in region {region} for fingerprint {fingerprint}"
        ),
        DigestStatus::UnloadableKey { fingerprint } => {
            format!("INVALID: Unable to load PKCS #1 key with fingerprint {fingerprint}")
        }
        DigestStatus::SignatureMismatch => "INVALID: signature verification failed".into(),
        DigestStatus::SignatureMissing { entry } => {
            format!("INVALID: signature verification failed (S3 metadata has no {entry})")
        }
        DigestStatus::SignatureMalformed => {
            "INVALID: signature verification failed (signature is not hex)".into()
        }
        DigestStatus::Unverifiable { reason } => format!("UNVERIFIED: {reason}"),
        DigestStatus::Unchecked { reason } => format!("UNCHECKED: {reason}"),
        DigestStatus::OffChain => "INVALID: not on the chain (no digest links to it)".into(),
        other => format!("unknown status {other:?}"),
    }
}

fn log_verdict(status: &LogStatus) -> String {
    match status {
        LogStatus::Valid => "valid".into(),
        LogStatus::NotFound => "INVALID: not found".into(),
        LogStatus::HashMismatch { .. } => "INVALID: hash value doesn't match".into(),
        LogStatus::InvalidFormat { problem } => format!("INVALID: invalid format ({problem})"),
        LogStatus::TrailingData => "INVALID: unexpected data after end of compressed stream".into(),
        LogStatus::Unchecked { reason } => format!("UNCHECKED: {reason}"),
        other => format!("unknown status {other:?}"),
    }
}

fn check_snapshot(dir: &Path, name: &str, actual: &[u8], bless: bool, problems: &mut Vec<String>) {
    let actual = &elapsed::without_elapsed(actual)[..];
    let path = dir.join(name);
    if bless {
        std::fs::write(&path, actual).expect("write snapshot");
        return;
    }
    match std::fs::read(&path) {
        Ok(expected) if expected == actual => {}
        Ok(expected) => problems.push(format!(
            "{name} differs\n--- expected\n{}\n--- actual\n{}",
            String::from_utf8_lossy(&expected),
            String::from_utf8_lossy(actual)
        )),
        Err(e) => problems.push(format!("{name}: {e} (run with BLESS=1 to create it)")),
    }
}

/// The committed JSON Schema of `--format json`.
fn schema() -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema/report.schema.json");
    let schema: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

/// The JSON report of a case: its exit code, that it follows the committed schema and
/// reads back to itself as the library's report, its verdicts and its notices.
fn check_json(stdout: &[u8], want_exit: i64, expected: &Value, problems: &mut Vec<String>) {
    let parsed = serde_json::from_slice::<Value>(stdout).and_then(|value| {
        let report: Report = serde_json::from_value(value.clone())?;
        Ok((value, report))
    });
    match parsed {
        Err(e) => problems.push(format!("json output does not parse as a report: {e}")),
        Ok((value, typed)) => {
            let report = &value;
            if report["exit_code"].as_i64() != Some(want_exit) {
                problems.push(format!("json exit_code is {}", report["exit_code"]));
            }
            // Read back and written again, the report is the same JSON.
            let mut again = serde_json::to_value(&typed).unwrap();
            if let (Some(again), Some(original)) = (again.as_object_mut(), report.as_object()) {
                for extra in ["exit_code", "inputs"] {
                    if let Some(v) = original.get(extra) {
                        again.insert(extra.to_owned(), v.clone());
                    }
                }
            }
            if again != *report {
                problems.push("the JSON report does not read back to itself".into());
            }
            let got = verdicts(&typed);
            let want: BTreeMap<String, String> =
                serde_json::from_value(expected["verdicts"].clone()).unwrap();
            for (k, v) in &want {
                match got.get(k) {
                    Some(g) if g == v => {}
                    Some(g) => problems.push(format!("{k}: got {g:?}, expected {v:?}")),
                    None => problems.push(format!("{k}: no verdict, expected {v:?}")),
                }
            }
            for k in got.keys().filter(|k| !want.contains_key(*k)) {
                problems.push(format!("{k}: unexpected verdict {:?}", got[k]));
            }
            let notices: usize = report["chains"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["notices"].as_array().unwrap().len())
                .sum();
            if notices as u64 != expected["notices"].as_u64().unwrap() {
                problems.push(format!(
                    "{notices} notices, expected {}",
                    expected["notices"]
                ));
            }
        }
    }
}

#[test]
fn the_schema_refuses_what_is_not_a_report() {
    let schema = schema();
    let dir = cases_dir().join("valid-chain");
    let out = run(
        &dir,
        &[
            "validate".into(),
            "example-trail-bucket".into(),
            "--public-keys".into(),
            "public-keys.json".into(),
            "--format".into(),
            "json".into(),
        ],
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(schema.is_valid(&report));
    for (path, bad) in [
        ("/severity", Value::from("fine")),
        ("/chains/0/digests/0/status", Value::from("trust_me")),
        ("/totals/log_files/valid", Value::from(-1)),
        ("/schema_version", Value::Null),
    ] {
        let mut altered = report.clone();
        *altered.pointer_mut(path).unwrap() = bad;
        assert!(!schema.is_valid(&altered), "{path}");
    }
}

#[test]
fn every_golden_case() {
    let bless = std::env::var_os("BLESS").is_some();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .expect("testdata/cases")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.join("expected.json").is_file())
        .collect();
    dirs.sort();
    assert!(
        dirs.len() >= 25,
        "expected the golden cases, found {}",
        dirs.len()
    );
    let mut failures = Vec::new();
    for dir in &dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let expected: Value =
            serde_json::from_slice(&std::fs::read(dir.join("expected.json")).unwrap()).unwrap();
        let args: Vec<String> = expected["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_owned())
            .collect();
        let want_exit = expected["exit"].as_i64().unwrap();
        let mut problems = Vec::new();

        let text = run(dir, &args);
        if i64::from(text.status.code().unwrap_or(-1)) != want_exit {
            problems.push(format!(
                "text run exited {:?}, expected {want_exit}",
                text.status.code()
            ));
        }
        check_snapshot(dir, "expected.stdout", &text.stdout, bless, &mut problems);
        check_snapshot(dir, "expected.stderr", &text.stderr, bless, &mut problems);

        let mut json_args = args.clone();
        json_args.extend(["--format".into(), "json".into()]);
        let json = run(dir, &json_args);
        if i64::from(json.status.code().unwrap_or(-1)) != want_exit {
            problems.push(format!(
                "json run exited {:?}, expected {want_exit}",
                json.status.code()
            ));
        }
        check_json(&json.stdout, want_exit, &expected, &mut problems);
        if !problems.is_empty() {
            failures.push(format!("== {name}\n{}", problems.join("\n")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        dirs.len(),
        failures.join("\n")
    );
}
