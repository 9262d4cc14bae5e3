//! Runs every golden case under `testdata/cases/` through the `cloudtrail-digest` binary.
//!
//! For each case: the exit code must equal `expected.json`'s `exit`; the verdict of every
//! file in the JSON report must equal `expected.json`'s `verdicts` (which the generator
//! derives from the tamper it made, not from this tool); the number of chain notices must
//! match; and the text output must equal the reviewed snapshots `expected.stdout` and
//! `expected.stderr` (`BLESS=1 cargo test --test vectors` rewrites them after a change
//! that is meant). Every mismatch is collected, then the test fails once with all of them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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

/// Flattens the JSON report into `kind\ts3://bucket/key` -> verdict text, as the text
/// output writes them.
fn verdicts(report: &Value) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for chain in report["chains"].as_array().into_iter().flatten() {
        for d in chain["digests"].as_array().into_iter().flatten() {
            let prefix = if d["backfill"] == Value::Bool(true) {
                "(backfill) "
            } else {
                ""
            };
            let key = format!(
                "{prefix}Digest file\ts3://{}/{}",
                d["bucket"].as_str().unwrap(),
                d["key"].as_str().unwrap()
            );
            // The status, unless valid with findings, then each finding: " | "-joined.
            let mut parts = Vec::new();
            let findings = d["findings"].as_array().cloned().unwrap_or_default();
            if d["status"] != "valid" || findings.is_empty() {
                parts.push(digest_verdict(d));
            }
            parts.extend(
                findings
                    .iter()
                    .map(|f| format!("INVALID: {}", f["message"].as_str().unwrap_or_default())),
            );
            out.insert(key, parts.join(" | "));
            for l in d["logs"].as_array().into_iter().flatten() {
                let key = format!(
                    "Log file\ts3://{}/{}",
                    l["bucket"].as_str().unwrap(),
                    l["key"].as_str().unwrap()
                );
                out.insert(key, log_verdict(l));
            }
        }
    }
    for loc in report["locations"].as_array().into_iter().flatten() {
        let bucket = loc["bucket"].as_str().unwrap();
        for l in loc["unlisted"].as_array().into_iter().flatten() {
            let key = format!("Log file\ts3://{bucket}/{}", l["key"].as_str().unwrap());
            let verdict = match l["status"].as_str().unwrap_or_default() {
                "injected" => "INVALID: no digest lists it, yet it was delivered inside verified coverage (injected)",
                "not_covered" => "NOT COVERED: no verified digest covers its delivery time",
                "unchecked" => "UNCHECKED: delivered in the hour of a digest that could not be read",
                "pending" => {
                    "PENDING: delivered after the newest digest, whose successor is not due yet"
                }
                other => other,
            };
            out.insert(key, verdict.to_owned());
        }
        if loc["no_digests"] == Value::Bool(true) {
            let key = format!("Log files\ts3://{bucket}/{}", log_prefix(loc));
            let verdict = if loc["deleted"].is_null() {
                "NOT COVERED: no digest"
            } else {
                "INVALID: no digest"
            };
            out.insert(key, verdict.to_owned());
        }
    }
    out
}

/// `[prefix/]AWSLogs/[o-ORG/]ACCOUNT/CloudTrail/REGION/` of a location in the JSON report.
fn log_prefix(loc: &Value) -> String {
    let mut out = String::new();
    if let Some(p) = loc["prefix"].as_str() {
        out.push_str(p);
        out.push('/');
    }
    out.push_str("AWSLogs/");
    if let Some(o) = loc["org_id"].as_str() {
        out.push_str(o);
        out.push('/');
    }
    let s = |f: &str| loc[f].as_str().unwrap_or_default().to_owned();
    format!("{out}{}/CloudTrail/{}/", s("account_id"), s("region"))
}

/// The verdict text for a digest entry of the JSON report, written independently of the
/// library's `verdict_text` so that the JSON schema is pinned too.
fn digest_verdict(d: &Value) -> String {
    let s = |f: &str| d[f].as_str().unwrap_or_default().to_owned();
    match s("status").as_str() {
        "valid" => "valid".into(),
        "not_found" if d["inferred"] == Value::Bool(true) => {
            "INVALID: not found (inferred: no digest covers this hour)".into()
        }
        "not_found" => "INVALID: not found".into(),
        "invalid_format" => format!("INVALID: invalid format ({})", s("reason")),
        "moved" => "INVALID: has been moved from its original location".into(),
        "unknown_key" => format!(
            "INVALID: public key not found in region {} for fingerprint {}",
            s("region"),
            s("fingerprint")
        ),
        "unloadable_key" => format!(
            "INVALID: Unable to load PKCS #1 key with fingerprint {}",
            s("fingerprint")
        ),
        "signature_mismatch" => "INVALID: signature verification failed".into(),
        "signature_missing" => format!("INVALID: signature verification failed ({})", s("reason")),
        "signature_malformed" => {
            "INVALID: signature verification failed (signature is not hex)".into()
        }
        "unverifiable" => format!("UNVERIFIED: {}", s("reason")),
        "unchecked" => format!("UNCHECKED: {}", s("reason")),
        "off_chain" => "INVALID: not on the chain (no digest links to it)".into(),
        other => format!("unknown status {other}"),
    }
}

fn log_verdict(l: &Value) -> String {
    let s = |f: &str| l[f].as_str().unwrap_or_default().to_owned();
    match s("status").as_str() {
        "valid" => "valid".into(),
        "not_found" => "INVALID: not found".into(),
        "hash_mismatch" => "INVALID: hash value doesn't match".into(),
        "invalid_format" => format!("INVALID: invalid format ({})", s("reason")),
        "trailing_data" => "INVALID: unexpected data after end of compressed stream".into(),
        "unchecked" => format!("UNCHECKED: {}", s("reason")),
        other => format!("unknown status {other}"),
    }
}

fn check_snapshot(dir: &Path, name: &str, actual: &[u8], bless: bool, problems: &mut Vec<String>) {
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
        match serde_json::from_slice::<Value>(&json.stdout) {
            Err(e) => problems.push(format!("json output does not parse: {e}")),
            Ok(report) => {
                if report["exit_code"].as_i64() != Some(want_exit) {
                    problems.push(format!("json exit_code is {}", report["exit_code"]));
                }
                let got = verdicts(&report);
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
