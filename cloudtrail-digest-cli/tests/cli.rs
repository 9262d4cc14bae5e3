//! The command line's behaviour beyond the golden cases: bad inputs, filters, time ranges.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn case(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/cases")
        .join(name)
}

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cloudtrail-digest"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run cloudtrail-digest")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).expect("JSON report")
}

const BUCKET: &str = "example-trail-bucket";

#[test]
fn bad_inputs_get_one_clear_line_and_exit_2() {
    let dir = case("valid-chain");
    let cases: [(&[&str], &str); 5] = [
        (
            &[
                "validate",
                "no-such-dir",
                "--public-keys",
                "public-keys.json",
            ],
            "no-such-dir: not a directory",
        ),
        (
            &["validate", BUCKET, "--public-keys", "missing.json"],
            "cannot read public key file missing.json",
        ),
        (
            &["validate", BUCKET, "--public-keys", "expected.json"],
            "public key file expected.json: no PublicKeyList: not list-public-keys JSON",
        ),
        (
            &[
                "validate",
                BUCKET,
                "--public-keys",
                "public-keys.json",
                "--start-time",
                "yesterday",
            ],
            "\"yesterday\" is not a UTC time",
        ),
        (
            &[
                "validate",
                BUCKET,
                "--public-keys",
                "public-keys.json",
                "--start-time",
                "2024-03-02",
                "--end-time",
                "2024-03-01",
            ],
            "is after end time",
        ),
    ];
    for (args, want) in cases {
        let out = run(&dir, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn a_key_file_with_a_wrong_fingerprint_is_refused_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(case("valid-chain").join("public-keys.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let fp = v["PublicKeyList"][0]["Fingerprint"].as_str().unwrap();
    let wrong = format!("{}{}", &fp[..31], if fp.ends_with('0') { "1" } else { "0" });
    let path = tmp.path().join("keys.json");
    std::fs::write(&path, text.replace(fp, &wrong)).unwrap();
    let out = run(
        &case("valid-chain"),
        &["validate", BUCKET, "--public-keys", path.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("keys.json: key 0: Fingerprint")
            && err.contains("is not the MD5 of its Value"),
        "{err}"
    );
}

#[test]
fn help_documents_the_exit_codes() {
    let out = run(&case("valid-chain"), &["validate", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    for line in [
        "0  everything in range verified",
        "1  integrity findings",
        "2  usage or operational error",
        "3  nothing invalid, but coverage incomplete",
    ] {
        assert!(help.contains(line), "{help}");
    }
}

#[test]
fn filters_select_chains() {
    let dir = case("org-trail");
    let base = [
        "validate",
        "example-org-bucket",
        "--public-keys",
        "public-keys.json",
        "--format",
        "json",
    ];
    let all = json(&run(&dir, &base));
    assert_eq!(all["chains"].as_array().unwrap().len(), 4);
    let mut args = base.to_vec();
    args.extend([
        "--account-id",
        "444455556666",
        "--region",
        "eu-west-1",
        "--trail-name",
        "org-trail",
    ]);
    let out = run(&dir, &args);
    assert_eq!(out.status.code(), Some(0));
    let one = json(&out);
    let chains = one["chains"].as_array().unwrap();
    assert_eq!(chains.len(), 1);
    assert_eq!(chains[0]["chain"]["account_id"], "444455556666");
    assert_eq!(chains[0]["chain"]["region"], "eu-west-1");
    assert_eq!(chains[0]["chain"]["org_id"], "o-exampleorg1");

    let mut none = base.to_vec();
    none.extend(["--trail-name", "no-such-trail"]);
    let out = run(&dir, &none);
    assert_eq!(
        out.status.code(),
        Some(3),
        "no chain at all is incomplete coverage"
    );
    assert_eq!(json(&out)["chains"].as_array().unwrap().len(), 0);
}

#[test]
fn time_range_visits_the_digests_overlapping_it_as_the_reference_does() {
    // Digests end at 01:12:34, 02:12:34, 03:12:34 and 04:12:34.
    let out = run(
        &case("valid-chain"),
        &[
            "validate",
            BUCKET,
            "--public-keys",
            "public-keys.json",
            "--start-time",
            "2024-03-01T01:12:34Z",
            "--end-time",
            "2024-03-01T02:12:34Z",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    let report = json(&out);
    let chain = &report["chains"][0];
    let ends: Vec<&str> = chain["digests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["end_time"].as_str().unwrap())
        .collect();
    assert_eq!(
        ends,
        [
            "2024-03-01T03:12:34Z",
            "2024-03-01T02:12:34Z",
            "2024-03-01T01:12:34Z"
        ]
    );
    assert_eq!(chain["found"]["start"], "2024-03-01T01:12:34Z");
    assert_eq!(chain["found"]["end"], "2024-03-01T02:12:34Z");
    assert_eq!(chain["log_counts"]["valid"], 6);

    let text = run(
        &case("valid-chain"),
        &[
            "validate",
            BUCKET,
            "--public-keys",
            "public-keys.json",
            "--start-time",
            "2024-03-01T01:12:34Z",
            "--end-time",
            "2024-03-01T02:12:34Z",
        ],
    );
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(
        stdout.contains("Results requested for 2024-03-01T01:12:34Z to 2024-03-01T02:12:34Z\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("3/3 digest files valid\n6/6 log files valid\n"),
        "{stdout}"
    );
}

#[test]
fn a_range_without_digests_is_incomplete_coverage() {
    let out = run(
        &case("valid-chain"),
        &[
            "validate",
            BUCKET,
            "--public-keys",
            "public-keys.json",
            "--start-time",
            "2025-01-01",
            "--end-time",
            "2025-01-02",
        ],
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stdout).contains("No digests found"));
}

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

#[test]
fn a_corrupt_sidecar_leaves_its_digest_unchecked_not_valid_nor_tampered() {
    let key = "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/03/01/111122223333_CloudTrail-Digest_us-east-1_management-events_us-east-1_20240301T031234Z.json.gz";
    // Not JSON, and JSON that is not an object: none says what the metadata is.
    for sidecar in [
        "{ not json",
        "[]",
        "null",
        "\"text\"",
        "[{\"Metadata\":{}}]",
    ] {
        let tmp = tempfile::tempdir().unwrap();
        copy_tree(&case("valid-chain"), tmp.path());
        std::fs::write(
            tmp.path().join(BUCKET).join(format!("{key}.meta.json")),
            sidecar,
        )
        .unwrap();
        let out = run(
            tmp.path(),
            &[
                "validate",
                BUCKET,
                "--public-keys",
                "public-keys.json",
                "--format",
                "json",
            ],
        );
        assert_eq!(out.status.code(), Some(2), "{sidecar}");
        let report = json(&out);
        let digest = report["chains"][0]["digests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["key"] == key)
            .unwrap()
            .clone();
        assert_eq!(digest["status"], "unchecked", "{sidecar}");
        assert!(
            digest["reason"]["message"]
                .as_str()
                .unwrap()
                .contains("sidecar"),
            "{digest}"
        );
    }
}

/// Runs `validate` on the valid chain with the given key file contents.
fn with_key_file(contents: &[u8]) -> Output {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("keys");
    std::fs::write(&path, contents).unwrap();
    run(
        &case("valid-chain"),
        &[
            "validate",
            BUCKET,
            "--public-keys",
            path.to_str().unwrap(),
            "--format",
            "json",
        ],
    )
}

#[test]
fn key_files_without_a_key_for_the_digests_leave_them_unchecked_not_tampered() {
    // Another key, declared for another region (as `cloudtrail-digest keys` writes them).
    let keys = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/keys");
    let other = cloudtrail_digest_testgen::TestKey::load(&keys, 2).unwrap();
    let mut entry = other.list_entry(chrono::DateTime::UNIX_EPOCH, chrono::Utc::now());
    entry["Region"] = "eu-west-1".into();
    let other_region = serde_json::json!({ "PublicKeyList": [entry] });
    for (contents, reason) in [
        ("[]".to_owned(), "no public key in the given key files"),
        (
            "{\"PublicKeyList\": []}".to_owned(),
            "no public key in the given key files",
        ),
        (
            other_region.to_string(),
            "no public key for region us-east-1 in the given key files",
        ),
    ] {
        let out = with_key_file(contents.as_bytes());
        assert_eq!(out.status.code(), Some(2), "{contents}: {}", stderr(&out));
        let report = json(&out);
        for d in report["chains"][0]["digests"].as_array().unwrap() {
            assert_eq!(d["status"], "unchecked", "{d}");
            assert_eq!(d["reason"]["kind"], "keys_unavailable", "{d}");
            assert_eq!(d["reason"]["message"], reason, "{d}");
        }
    }
    // A file that holds no key at all is refused in words.
    for (contents, said) in [
        (&b""[..], "the file is empty"),
        (b"\x30\x03garbage", "is not an RSA public key"),
        (b"hello", "not a key file"),
    ] {
        let out = with_key_file(contents);
        assert_eq!(out.status.code(), Some(2));
        let err = stderr(&out);
        assert!(err.contains(said) && !err.contains("ASN.1"), "{err}");
    }
}

/// A DER element: tag, definite length, body.
fn der(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let byte = |n: usize| u8::try_from(n & 0xff).unwrap();
    match body.len() {
        n if n < 0x80 => out.push(byte(n)),
        n if n < 0x100 => out.extend([0x81, byte(n)]),
        n => out.extend([0x82, byte(n >> 8), byte(n)]),
    }
    out.extend_from_slice(body);
    out
}

#[test]
fn the_right_key_saved_as_subject_public_key_info_verifies() {
    use base64::Engine as _;
    let text = std::fs::read_to_string(case("valid-chain").join("public-keys.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let pkcs1 = base64::engine::general_purpose::STANDARD
        .decode(v["PublicKeyList"][0]["Value"].as_str().unwrap())
        .unwrap();
    // SubjectPublicKeyInfo around the PKCS#1 key, as `openssl rsa -pubout` writes it:
    // SEQUENCE { SEQUENCE { rsaEncryption, NULL }, BIT STRING { 0 unused bits, PKCS#1 } }.
    let algorithm = [
        0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
    ];
    let mut bits = vec![0];
    bits.extend_from_slice(&pkcs1);
    let mut body = algorithm.to_vec();
    body.extend(der(0x03, &bits));
    let spki = der(0x30, &body);
    let b64 = base64::engine::general_purpose::STANDARD.encode(&spki);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let pem = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        lines.join("\n")
    );
    let out = with_key_file(pem.as_bytes());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn stray_files_and_folders_among_the_logs_are_named_and_incomplete() {
    let tmp = tempfile::tempdir().unwrap();
    copy_tree(&case("valid-chain"), tmp.path());
    let logs = tmp
        .path()
        .join(BUCKET)
        .join("AWSLogs/111122223333/CloudTrail/us-east-1");
    std::fs::write(logs.join("2024/03/01/notes.txt"), "x").unwrap();
    std::fs::create_dir_all(logs.join("old")).unwrap();
    std::fs::write(logs.join("old/x.json.gz"), "x").unwrap();
    let out = run(
        tmp.path(),
        &["validate", BUCKET, "--public-keys", "public-keys.json"],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let err = stderr(&out);
    let folder = format!("s3://{BUCKET}/AWSLogs/111122223333/CloudTrail/us-east-1/");
    assert!(
        err.contains(&format!("Unrecognized key\t{folder}2024/03/01/notes.txt\t")),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "Unrecognized key\t{folder}old/\tnot a YYYY/MM/DD folder"
        )),
        "{err}"
    );
}

#[test]
fn a_filtered_run_whose_every_digest_is_gone_still_reports_the_log_files() {
    let dir = case("no-digests-with-logs");
    for filter in [
        ["--trail-name", "management-events"],
        ["--account-id", "111122223333"],
        ["--region", "us-east-1"],
    ] {
        let mut args = vec!["validate", BUCKET, "--public-keys", "public-keys.json"];
        args.extend(filter);
        let out = run(&dir, &args);
        assert_eq!(out.status.code(), Some(3), "{filter:?}");
        let err = stderr(&out);
        assert!(
            err.contains("NOT COVERED: 6 log files and no digest of any trail"),
            "{filter:?}: {err}"
        );
        assert_eq!(err.matches("\nLog file\t").count(), 6, "{filter:?}: {err}");
    }
}

#[test]
fn a_closed_pipe_on_stdout_keeps_the_verdict_and_the_findings() {
    use std::process::Stdio;
    let dir = case("log-altered");
    for format in ["text", "json"] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_cloudtrail-digest"))
            .args([
                "validate",
                BUCKET,
                "--public-keys",
                "public-keys.json",
                "--verbose",
                "--format",
                format,
            ])
            .current_dir(&dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The reader goes away before the report is written (`| head -0`).
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{format}: {}", stderr(&out));
        if format == "text" {
            assert!(
                stderr(&out).contains("INVALID: hash value doesn't match"),
                "{}",
                stderr(&out)
            );
        }
        assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    }
}

/// Pointing at the wrong folder is a usage mistake, exit 2 with what to pass instead:
/// never digests "moved" from another bucket (a tampered verdict, exit 1).
#[test]
fn a_folder_at_the_wrong_level_or_misnamed_is_an_error_not_a_finding() {
    let dir = case("valid-chain");
    let keys = ["--public-keys", "public-keys.json"];
    // The folder above the bucket's copy.
    let above = run(&dir, &[&["validate", "."][..], &keys].concat());
    assert_eq!(above.status.code(), Some(2), "{}", stderr(&above));
    assert!(
        stderr(&above).contains("pass ./example-trail-bucket"),
        "{}",
        stderr(&above)
    );
    assert!(above.stdout.is_empty());
    // The AWSLogs folder itself.
    let logs_folder = ["validate", "example-trail-bucket/AWSLogs"];
    let inside = run(&dir, &[&logs_folder[..], &keys].concat());
    assert_eq!(inside.status.code(), Some(2), "{}", stderr(&inside));
    assert!(
        stderr(&inside).contains("is the AWSLogs folder of a copy: pass the folder that holds it")
    );
    // A copy whose folder is not named after its bucket: an error until --bucket says
    // which bucket it is a copy of, then the verdict.
    let tmp = tempfile::tempdir().unwrap();
    let copy = tmp.path().join("evidence-2024");
    copy_tree(&dir.join(BUCKET), &copy);
    let keys_file = dir.join("public-keys.json");
    let args = [
        "validate",
        copy.to_str().unwrap(),
        "--public-keys",
        keys_file.to_str().unwrap(),
    ];
    let misnamed = run(tmp.path(), &args);
    assert_eq!(misnamed.status.code(), Some(2), "{}", stderr(&misnamed));
    assert!(stderr(&misnamed).contains("pass --bucket example-trail-bucket"));
    let named = run(tmp.path(), &[&args[..], &["--bucket", BUCKET]].concat());
    assert_eq!(named.status.code(), Some(0), "{}", stderr(&named));
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Stdout alone (`> report.txt`) ends with the verdict, totals that count the injected
/// file, and the finding itself: nothing lives on stderr only.
#[test]
fn stdout_closes_with_the_verdict_every_file_counted_and_the_findings() {
    let out = run(
        &case("log-injected"),
        &["validate", BUCKET, "--public-keys", "public-keys.json"],
    );
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    let block = &text[text.find("\n== ").expect("a verdict block")..];
    assert!(block.contains("== TAMPERED (exit 1) in "), "{block}");
    assert!(
        block.contains("Log files:    8 valid, 1 INVALID of 9 (1 of them injected"),
        "{block}"
    );
    assert!(
        block.contains("_20240301T0150Z_15trRbIo3Z13x04p.json.gz: no digest lists it"),
        "{block}"
    );
    assert!(
        block.contains("Next:\n  log file no digest lists: look for who wrote it"),
        "{block}"
    );
    // An altered log: the line keeps the reference's words and adds both hashes.
    let out = run(
        &case("log-altered"),
        &["validate", BUCKET, "--public-keys", "public-keys.json"],
    );
    let line = "INVALID: hash value doesn't match (expected e103e53c00f42dc95de06490a3f6e6936d02bb8bbe519e059e8155f2a53320e6, actual ";
    assert!(stderr(&out).contains(line), "{}", stderr(&out));
    let valid = run(
        &case("valid-chain"),
        &["validate", BUCKET, "--public-keys", "public-keys.json"],
    );
    assert!(
        stdout(&valid).contains("\n== VERIFIED (exit 0) in "),
        "{}",
        stdout(&valid)
    );
    assert!(!stdout(&valid).contains("Findings"));
}

/// An empty range, or a start after every digest and log file, is a usage error.
#[test]
fn empty_ranges_and_starts_after_the_data_are_errors() {
    let dir = case("valid-chain");
    let base = ["validate", BUCKET, "--public-keys", "public-keys.json"];
    let same = [
        &base[..],
        &[
            "--start-time",
            "2024-03-01T02:00:00Z",
            "--end-time",
            "2024-03-01T02:00:00Z",
        ],
    ]
    .concat();
    let out = run(&dir, &same);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("an empty range"), "{}", stderr(&out));
    let late = [&base[..], &["--start-time", "2025-01-01"]].concat();
    let out = run(&dir, &late);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(stderr(&out).contains("after every digest and log file found (the newest digest ends at 2024-03-01 04:12:34 UTC)"), "{}", stderr(&out));
    assert!(stdout(&out).is_empty());
}

/// Each command's help has examples and its own exit codes; completions and the manual
/// page are generated.
#[test]
fn help_has_examples_and_each_commands_exit_codes_and_completions_and_a_man_page() {
    let dir = case("valid-chain");
    for command in ["validate", "mirror", "keys", "merge", "posture"] {
        let out = run(&dir, &[command, "--help"]);
        assert_eq!(out.status.code(), Some(0));
        let help = stdout(&out);
        assert!(
            help.contains("Examples:\n  cloudtrail-digest "),
            "{command}: {help}"
        );
        assert!(help.contains("Exit codes"), "{command}: {help}");
    }
    let mirror = stdout(&run(&dir, &["mirror", "--help"]));
    assert!(
        !mirror.contains("coverage incomplete"),
        "validate's exit codes: {mirror}"
    );
    assert!(!mirror.contains("Validate from"), "{mirror}");
    let bash = run(&dir, &["completions", "bash"]);
    assert_eq!(bash.status.code(), Some(0));
    assert!(stdout(&bash).contains("cloudtrail-digest") && stdout(&bash).contains("--inventory"));
    let man = run(&dir, &["man"]);
    assert_eq!(man.status.code(), Some(0));
    assert!(
        stdout(&man).contains(".TH cloudtrail-digest-validate"),
        "{}",
        &stdout(&man)[..200]
    );
}

/// `cloudtrail-digest ARGS` with no AWS credentials anywhere (and no instance metadata).
#[cfg(feature = "aws")]
fn without_credentials(dir: &Path, args: &[&str], region: &str) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cloudtrail-digest"));
    for (name, _) in std::env::vars() {
        if name.starts_with("AWS_") {
            command.env_remove(name);
        }
    }
    command
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", dir.join("no-such-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            dir.join("no-such-credentials"),
        )
        .env("AWS_REGION", region)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run cloudtrail-digest")
}

/// AWS set-up mistakes are one line with the remedy, exit 2, and a failed mirror leaves
/// no empty evidence folder.
#[test]
#[cfg(feature = "aws")]
fn aws_setup_mistakes_are_one_line_with_the_remedy() {
    let dir = tempfile::tempdir().unwrap();
    let out = without_credentials(
        dir.path(),
        &["validate", "s3://some-bucket", "--no-progress"],
        "us-east-1",
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.len() < 400, "{} characters: {err}", err.len());
    assert!(
        err.contains("no AWS credentials found: pass --profile NAME"),
        "{err}"
    );
    assert_eq!(err.matches("no AWS credentials").count(), 1, "{err}");
    let evidence = dir.path().join("evidence");
    let out = without_credentials(
        dir.path(),
        &["mirror", "s3://some-bucket", evidence.to_str().unwrap()],
        "us-east-1",
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        !evidence.exists(),
        "an empty evidence folder was left behind"
    );
    // --debug adds the SDK's own account of it.
    let out = without_credentials(
        dir.path(),
        &["validate", "s3://some-bucket", "--no-progress", "--debug"],
        "us-east-1",
    );
    assert!(
        stderr(&out).contains("Detail: ") && stderr(&out).contains("CredentialsNotLoaded"),
        "{}",
        stderr(&out)
    );
    let out = without_credentials(dir.path(), &["validate", "s3://some-bucket"], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("AWS_REGION is set but empty"),
        "{}",
        stderr(&out)
    );
}

/// `--format jsonl`: one finding per line, then the verdict, each line a JSON object.
#[test]
fn jsonl_is_one_finding_per_line_then_the_verdict() {
    let dir = case("log-injected");
    let base = ["validate", BUCKET, "--public-keys", "public-keys.json"];
    let full = json(&run(&dir, &[&base[..], &["--format", "json"]].concat()));
    let out = run(&dir, &[&base[..], &["--format", "jsonl"]].concat());
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON object per line"))
        .collect();
    let issues = full["issues"].as_array().unwrap();
    assert_eq!(lines.len(), issues.len() + 1);
    for (line, issue) in lines.iter().zip(issues) {
        assert_eq!(line["record"], "finding");
        assert_eq!(line["issue"], issue["issue"]);
        assert_eq!(line["key"], issue["key"]);
    }
    let verdict = lines.last().unwrap();
    assert_eq!(verdict["record"], "verdict");
    assert_eq!(verdict["exit_code"], 1);
    assert_eq!(verdict["severity"], full["severity"]);
}

/// Built without AWS (`--no-default-features`): local copies validate as ever; what needs
/// AWS says so, exit 2.
#[test]
#[cfg(not(feature = "aws"))]
fn a_build_without_aws_validates_copies_and_says_what_needs_aws() {
    let dir = case("log-injected");
    let out = run(
        &dir,
        &["validate", BUCKET, "--public-keys", "public-keys.json"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    for args in [
        &["validate", "s3://some-bucket"][..],
        &["mirror", "s3://some-bucket", "copy"],
        &["posture"],
        &[
            "keys",
            "--region",
            "us-east-1",
            "--start-time",
            "2024-01-01",
        ],
    ] {
        let out = run(&dir, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&out).contains("this build has no AWS support"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}

/// `--output report.txt`: the whole text report (every file, problems in order) in the
/// file, the verdict block alone on the terminal; `.html` and `.jsonl` by their names.
#[test]
fn output_writes_the_whole_report_in_the_format_its_name_says() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = case("log-injected");
    let base = ["validate", BUCKET, "--public-keys", "public-keys.json"];
    let txt = tmp.path().join("report.txt");
    let out = run(
        &dir,
        &[&base[..], &["--output", txt.to_str().unwrap()]].concat(),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).starts_with("\n== TAMPERED (exit 1) in "),
        "{}",
        stdout(&out)
    );
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
    let whole = std::fs::read_to_string(&txt).unwrap();
    assert!(
        whole.starts_with("Validating log files for trail "),
        "{whole}"
    );
    assert!(whole.contains("\tvalid\n"), "every file's line: {whole}");
    assert!(whole.contains("INVALID: no digest lists it"), "{whole}");
    assert!(whole.contains("\n== TAMPERED (exit 1) in "), "{whole}");
    let html = tmp.path().join("report.html");
    run(
        &dir,
        &[&base[..], &["--output", html.to_str().unwrap()]].concat(),
    );
    assert!(std::fs::read_to_string(&html)
        .unwrap()
        .contains("data-verdict=\"TAMPERED\""));
    let jsonl = tmp.path().join("report.jsonl");
    run(
        &dir,
        &[
            &base[..],
            &["--output", jsonl.to_str().unwrap(), "--format", "json"],
        ]
        .concat(),
    );
    let last = std::fs::read_to_string(&jsonl).unwrap();
    let last: Value = serde_json::from_str(last.lines().last().unwrap()).unwrap();
    assert_eq!(last["record"], "verdict");
}

/// The rollup per account and region takes what no chain holds too: a region whose only
/// finding is an injected log file is TAMPERED there, the others VERIFIED.
#[test]
fn the_rollup_names_the_region_of_an_injected_log_file() {
    let tmp = tempfile::tempdir().unwrap();
    copy_tree(&case("org-trail"), tmp.path());
    let folder = tmp.path().join(
        "example-org-bucket/AWSLogs/o-exampleorg1/111122223333/CloudTrail/eu-west-1/2024/03/01",
    );
    std::fs::copy(
        folder.join("111122223333_CloudTrail_eu-west-1_20240301T0117Z_mxxgPh6p7G2vf1bs.json.gz"),
        folder.join("111122223333_CloudTrail_eu-west-1_20240301T0118Z_InjectedByHand01.json.gz"),
    )
    .unwrap();
    let out = run(
        tmp.path(),
        &[
            "validate",
            "example-org-bucket",
            "--public-keys",
            "public-keys.json",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    let line = |place: &str| {
        text.lines()
            .find(|l| l.starts_with(&format!("  {place}")))
            .unwrap_or_default()
            .to_owned()
    };
    assert!(
        line("111122223333 eu-west-1 ").contains("TAMPERED"),
        "{text}"
    );
    assert!(
        line("111122223333 us-east-1 ").contains("VERIFIED"),
        "{text}"
    );
}
