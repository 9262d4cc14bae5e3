//! The golden cases under `testdata/cases/`: one directory per attack or edge, holding the
//! bucket tree, `public-keys.json` and `expected.json`. The expected verdicts follow from
//! what each case does to the tree, never from running the validator.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::Path;

use anyhow::Result;
use chrono::{DateTime, Duration, TimeZone as _, Utc};
use serde_json::{json, Value};

use crate::{gzip, resign, GenDigest, Generator, Hour, Obj, TestKey, TrailSpec, Tree};

/// One golden case being built.
pub struct Case {
    /// Directory name: the attack or edge it covers.
    pub name: &'static str,
    /// What it covers and what the verdict must be.
    pub description: String,
    /// The bucket's objects.
    pub tree: Tree,
    /// The bucket's name (also the directory name of the tree).
    pub bucket: String,
    /// `ListPublicKeys`-shaped key list.
    pub public_keys: Vec<Value>,
    /// Expected verdict per file, keyed like the text output (`Digest file\ts3://b/k`).
    pub verdicts: BTreeMap<String, String>,
    /// Expected number of chain notices (gaps).
    pub notices: usize,
    /// Expected exit code.
    pub exit: i32,
    /// Arguments beyond the bucket, the keys and `--verbose`.
    pub extra_args: Vec<String>,
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 3, 1, 0, 12, 34)
        .single()
        .expect("valid time")
}

/// The standard single-region trail of most cases.
pub fn standard_trail() -> TrailSpec {
    TrailSpec {
        bucket: "example-trail-bucket".into(),
        prefix: None,
        org_id: None,
        account: "111122223333".into(),
        region: "us-east-1".into(),
        trail: "management-events".into(),
        home_region: "us-east-1".into(),
    }
}

fn digest_line(bucket: &str, key: &str, backfill: bool) -> String {
    let b = if backfill { "(backfill) " } else { "" };
    format!("{b}Digest file\ts3://{bucket}/{key}")
}

/// The verdict of a log file that no verified digest lists nor covers.
const NOT_COVERED: &str = "NOT COVERED: no verified digest covers its delivery time";

/// The verdict of a log file that no digest lists, inside verified coverage.
const INJECTED: &str =
    "INVALID: no digest lists it, yet it was delivered inside verified coverage (injected)";

fn log_line(bucket: &str, key: &str) -> String {
    format!("Log file\ts3://{bucket}/{key}")
}

struct Ctx {
    keys: Vec<TestKey>,
}

impl Ctx {
    fn key_entry(&self, k: usize) -> Value {
        self.keys[k].list_entry(t0() - Duration::days(20), t0() + Duration::days(10))
    }
}

impl Case {
    fn new(name: &'static str, description: &str, bucket: &str) -> Self {
        Self {
            name,
            description: description.to_owned(),
            tree: Tree::default(),
            bucket: bucket.to_owned(),
            public_keys: Vec::new(),
            verdicts: BTreeMap::new(),
            notices: 0,
            exit: 0,
            extra_args: Vec::new(),
        }
    }

    /// Expects every digest and log of a generated chain to be valid.
    fn expect_valid(&mut self, digests: &[GenDigest], backfill: bool) {
        for d in digests {
            self.verdicts
                .insert(digest_line(&self.bucket, &d.key, backfill), "valid".into());
            for l in &d.logs {
                self.verdicts
                    .insert(log_line(&self.bucket, l), "valid".into());
            }
        }
    }

    fn expect_digest(&mut self, d: &GenDigest, verdict: &str) {
        self.verdicts
            .insert(digest_line(&self.bucket, &d.key, false), verdict.into());
        // A digest that does not verify is never used to check logs: no verified digest
        // lists them, and none covers their hour.
        if verdict != "valid" {
            for l in &d.logs {
                self.verdicts
                    .insert(log_line(&self.bucket, l), NOT_COVERED.into());
            }
        }
    }

    fn expect_log(&mut self, key: &str, verdict: &str) {
        self.verdicts
            .insert(log_line(&self.bucket, key), verdict.into());
    }

    fn obj(&mut self, key: &str) -> &mut Obj {
        self.tree.objects.get_mut(key).expect("generated key")
    }

    /// Replaces a digest's inflated JSON (and re-gzips it), keeping its metadata.
    fn set_digest_json(&mut self, key: &str, json_bytes: &[u8]) {
        self.obj(key).body = gzip(json_bytes);
    }

    /// Writes the case directory.
    pub fn write(&self, dir: &Path) -> Result<()> {
        self.tree.write(&dir.join(&self.bucket))?;
        let keys = json!({ "PublicKeyList": self.public_keys });
        std::fs::write(dir.join("public-keys.json"), pretty(&keys)?)?;
        let mut args: Vec<String> = [
            "validate",
            &self.bucket,
            "--public-keys",
            "public-keys.json",
            "--verbose",
        ]
        .iter()
        .map(|a| (*a).to_owned())
        .collect();
        args.extend(self.extra_args.iter().cloned());
        let expected = json!({
            "description": self.description,
            "args": args,
            "exit": self.exit,
            "notices": self.notices,
            "verdicts": self.verdicts,
        });
        std::fs::write(dir.join("expected.json"), pretty(&expected)?)?;
        Ok(())
    }
}

fn url(key: &str) -> String {
    format!("s3://{}/{key}", standard_trail().bucket)
}

fn sha(bytes: &[u8]) -> String {
    hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes))
}

/// The finding on a digest whose bytes are not what its successor (`successor`, a key)
/// recorded.
fn hash_mismatch(actual_json: &[u8], recorded_json: &[u8], successor: &str) -> String {
    format!(
        "INVALID: its SHA-256 {} is not the previousDigestHashValue {} its successor {} recorded",
        sha(actual_json),
        sha(recorded_json),
        url(successor)
    )
}

/// The finding on a digest whose signature is not what its successor recorded.
fn signature_mismatch(successor: &str) -> String {
    format!(
        "INVALID: its signature is not the previousDigestSignature its successor {} recorded",
        url(successor)
    )
}

/// Edits a digest's JSON text and re-signs it with the test key, so that its signature
/// verifies and only a check beyond the reference's can catch the edit.
fn edit_and_resign(
    case: &mut Case,
    d: &GenDigest,
    key: &TestKey,
    edit: impl Fn(String) -> String,
) -> String {
    let text = edit(String::from_utf8(d.json.clone()).expect("utf8"));
    assert_ne!(
        text.as_bytes(),
        d.json.as_slice(),
        "{}: the edit must change the digest",
        case.name
    );
    case.set_digest_json(&d.key, text.as_bytes());
    let sig = resign(key, text.as_bytes()).expect("resign");
    case.obj(&d.key)
        .metadata
        .as_mut()
        .expect("meta")
        .insert("signature".into(), sig);
    text
}

/// The string value of a field in compact digest JSON.
fn field(json: &str, name: &str) -> String {
    let start = json.find(&format!("\"{name}\":\"")).expect("field") + name.len() + 4;
    json[start..start + json[start..].find('"').expect("end")].to_owned()
}

/// The first entry of the `logFiles` array in compact digest JSON.
fn first_entry(json: &str) -> String {
    let from = json.find("\"logFiles\":[").expect("logFiles") + "\"logFiles\":[".len();
    json[from..=from + json[from..].find('}').expect("entry end")].to_owned()
}

/// Prepends an entry to the `logFiles` array.
fn prepend_entry(json: &str, entry: &str) -> String {
    json.replacen("\"logFiles\":[", &format!("\"logFiles\":[{entry},"), 1)
}

fn pretty(v: &Value) -> Result<String> {
    let mut s = serde_json::to_string_pretty(v)?;
    s.push('\n');
    Ok(s)
}

fn inflate(gz: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(gz)
        .read_to_end(&mut out)
        .expect("generated gzip");
    out
}

fn hours(n: usize) -> Vec<Hour> {
    vec![Hour::default(); n]
}

/// A four-hour chain of the standard trail, all valid; returns the case and its digests.
fn base(ctx: &Ctx, name: &'static str, description: &str, n: usize) -> (Case, Vec<GenDigest>) {
    let spec = standard_trail();
    let mut case = Case::new(name, description, &spec.bucket);
    let mut g = Generator::new(name.len() as u64);
    let keys: Vec<&TestKey> = ctx.keys.iter().collect();
    let digests = g.chain(&mut case.tree, &spec, &keys, t0(), &hours(n), None);
    case.public_keys.push(ctx.key_entry(0));
    case.expect_valid(&digests, false);
    (case, digests)
}

fn log_tamper(
    ctx: &Ctx,
    name: &'static str,
    description: &str,
    verdict: &str,
    f: impl Fn(&[u8]) -> Vec<u8>,
) -> Case {
    let (mut case, digests) = base(ctx, name, description, 4);
    let key = digests[1].logs[0].clone();
    let body = f(&case.obj(&key).body);
    case.obj(&key).body = body;
    case.expect_log(&key, verdict);
    case.exit = 1;
    case
}

/// Builds every golden case.
#[allow(clippy::too_many_lines)]
pub fn all(keys: Vec<TestKey>) -> Vec<Case> {
    let ctx = Ctx { keys };
    let mut cases = Vec::new();

    cases.push(
        base(
            &ctx,
            "valid-chain",
            "Four hourly digests with two logs each, untouched: all valid, exit 0.",
            4,
        )
        .0,
    );

    cases.push(log_tamper(
        &ctx,
        "log-altered",
        "One event in a log edited: hash value doesn't match.",
        "INVALID: hash value doesn't match",
        |gz| {
            let text = String::from_utf8(inflate(gz)).expect("utf8").replacen(
                "203.0.113.",
                "198.51.100.",
                1,
            );
            gzip(text.as_bytes())
        },
    ));
    cases.push(log_tamper(
        &ctx,
        "log-not-gzip",
        "A log replaced by its inflated JSON: invalid format.",
        "INVALID: invalid format (not gzip)",
        inflate,
    ));
    cases.push(log_tamper(
        &ctx,
        "log-truncated-gzip",
        "A log cut in half: invalid format.",
        "INVALID: invalid format (corrupt gzip stream: truncated)",
        |gz| gz[..gz.len() / 2].to_vec(),
    ));
    cases.push(log_tamper(&ctx, "log-appended-gzip-member", "A second gzip member (an injected record) appended to a log: rejected, although the first member's hash matches.", "INVALID: unexpected data after end of compressed stream", |gz| {
        let mut v = gz.to_vec();
        v.extend_from_slice(&gzip(br#"{"Records":[{"eventName":"Injected"}]}"#));
        v
    }));
    cases.push(log_tamper(
        &ctx,
        "log-trailing-garbage",
        "Garbage bytes after a log's gzip stream: rejected.",
        "INVALID: unexpected data after end of compressed stream",
        |gz| {
            let mut v = gz.to_vec();
            v.extend_from_slice(b"\0\0garbage");
            v
        },
    ));

    {
        let (mut case, d) = base(&ctx, "log-deleted", "One log deleted: not found.", 4);
        let key = d[2].logs[1].clone();
        case.tree.objects.remove(&key);
        case.expect_log(&key, "INVALID: not found");
        case.exit = 1;
        cases.push(case);
    }
    {
        let (mut case, d) = base(&ctx, "digest-deleted-mid-chain", "The third of five digests deleted: not found; the walk resumes at the next older digest.", 5);
        case.tree.objects.remove(&d[2].key);
        case.expect_digest(&d[2], "INVALID: not found");
        case.exit = 1;
        cases.push(case);
    }
    {
        let (mut case, d) = base(&ctx, "two-consecutive-digests-deleted", "Digests 2 and 3 of five deleted: two findings (the reference reports one, aws-cli#7054); the second is inferred from the timeline.", 5);
        case.tree.objects.remove(&d[1].key);
        case.tree.objects.remove(&d[2].key);
        case.expect_digest(&d[2], "INVALID: not found");
        case.expect_digest(
            &d[1],
            "INVALID: not found (inferred: no digest covers this hour)",
        );
        case.exit = 1;
        cases.push(case);
    }
    {
        let (mut case, d) = base(
            &ctx,
            "oldest-digest-deleted",
            "The oldest digest deleted: its successor names it, so it is not found.",
            4,
        );
        case.tree.objects.remove(&d[0].key);
        case.expect_digest(&d[0], "INVALID: not found");
        case.exit = 1;
        cases.push(case);
    }
    {
        let (mut case, d) = base(&ctx, "digest-json-edited", "A digest's JSON edited to hide an altered log (its hashValue updated), not re-signed: signature verification failed.", 4);
        let log = d[2].logs[0].clone();
        let altered = String::from_utf8(inflate(&case.obj(&log).body))
            .expect("utf8")
            .replacen("203.0.113.", "192.0.2.", 1);
        let new_hash = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(altered.as_bytes()));
        case.obj(&log).body = gzip(altered.as_bytes());
        let text = String::from_utf8(d[2].json.clone()).expect("utf8");
        let old_hash = text
            .split("\"hashValue\":\"")
            .nth(1)
            .expect("entry")
            .get(..64)
            .expect("hash")
            .to_owned();
        let edited = text.replacen(&old_hash, &new_hash, 1);
        case.set_digest_json(&d[2].key, edited.as_bytes());
        let verdict = format!(
            "INVALID: signature verification failed | {}",
            hash_mismatch(edited.as_bytes(), &d[2].json, &d[3].key)
        );
        case.expect_digest(&d[2], &verdict);
        case.exit = 1;
        cases.push(case);
    }
    {
        let (mut case, d) = base(&ctx, "digest-reformatted", "A digest re-serialized with the same content (pretty-printed): its bytes, so its hash, changed: signature verification failed.", 4);
        let v: Value = serde_json::from_slice(&d[1].json).expect("json");
        let pretty = serde_json::to_vec_pretty(&v).expect("json");
        case.set_digest_json(&d[1].key, &pretty);
        let verdict = format!(
            "INVALID: signature verification failed | {}",
            hash_mismatch(&pretty, &d[1].json, &d[2].key)
        );
        case.expect_digest(&d[1], &verdict);
        case.exit = 1;
        cases.push(case);
    }
    {
        let (mut case, d) = base(&ctx, "signature-altered", "One hex digit of a digest's signature metadata changed: signature verification failed.", 4);
        let meta = case.obj(&d[2].key).metadata.as_mut().expect("meta");
        let sig = meta.get_mut("signature").expect("sig");
        let flipped = if sig.starts_with('0') { "1" } else { "0" };
        sig.replace_range(0..1, flipped);
        case.expect_digest(
            &d[2],
            &format!(
                "INVALID: signature verification failed | {}",
                signature_mismatch(&d[3].key)
            ),
        );
        case.exit = 1;
        cases.push(case);
    }
    {
        let (mut case, d) = base(&ctx, "signature-metadata-removed", "A digest's sidecar kept but its signature metadata removed, as an S3 copy without metadata would: signature verification failed.", 4);
        case.obj(&d[2].key).metadata = Some(BTreeMap::new());
        case.expect_digest(
            &d[2],
            "INVALID: signature verification failed (S3 metadata has no signature)",
        );
        case.exit = 1;
        cases.push(case);
    }
    {
        let (mut case, d) = base(
            &ctx,
            "signature-not-hex",
            "A digest's signature metadata is not hex: signature verification failed.",
            4,
        );
        let meta = case.obj(&d[2].key).metadata.as_mut().expect("meta");
        meta.insert("signature".into(), "zz".repeat(256));
        case.expect_digest(
            &d[2],
            &format!(
                "INVALID: signature verification failed (signature is not hex) | {}",
                signature_mismatch(&d[3].key)
            ),
        );
        case.exit = 1;
        cases.push(case);
    }
    {
        let (mut case, d) = base(&ctx, "digest-copied-to-another-key", "An older digest (with its metadata) copied over a newer digest's key: has been moved from its original location.", 4);
        let older = case.obj(&d[1].key).clone();
        *case.obj(&d[2].key) = older;
        case.expect_digest(&d[2], "INVALID: has been moved from its original location");
        case.exit = 1;
        cases.push(case);
    }
    {
        let spec = standard_trail();
        let mut case = Case::new("unknown-fingerprint", "The newest digest is signed with a key that the public key list does not hold: public key not found.", &spec.bucket);
        let mut g = Generator::new(7);
        let keys: Vec<&TestKey> = ctx.keys.iter().collect();
        let mut h = hours(4);
        h[3].key = 1;
        let d = g.chain(&mut case.tree, &spec, &keys, t0(), &h, None);
        case.public_keys.push(ctx.key_entry(0));
        case.expect_valid(&d, false);
        let verdict = format!(
            "INVALID: public key not found in region us-east-1 for fingerprint {}",
            ctx.keys[1].fingerprint
        );
        case.expect_digest(&d[3], &verdict);
        case.exit = 1;
        cases.push(case);
    }
    {
        let (mut case, d) = base(&ctx, "corrupted-key", "The public key list holds an entry whose Value is not an RSA key (with a matching MD5 fingerprint), and the newest digest names it: Unable to load PKCS #1 key.", 4);
        let junk = b"this is not a DER-encoded RSA public key".to_vec();
        let fp = hex::encode(<md5::Md5 as md5::Digest>::digest(&junk));
        case.public_keys.push({
            use base64::Engine as _;
            json!({
                "Value": base64::engine::general_purpose::STANDARD.encode(&junk),
                "ValidityStartTime": (t0() - Duration::days(20)).timestamp(),
                "ValidityEndTime": (t0() + Duration::days(10)).timestamp(),
                "Fingerprint": fp,
            })
        });
        let text = String::from_utf8(d[3].json.clone())
            .expect("utf8")
            .replace(&ctx.keys[0].fingerprint, &fp);
        case.set_digest_json(&d[3].key, text.as_bytes());
        let sig = resign(&ctx.keys[0], text.as_bytes()).expect("resign");
        case.obj(&d[3].key)
            .metadata
            .as_mut()
            .expect("meta")
            .insert("signature".into(), sig);
        case.expect_digest(
            &d[3],
            &format!("INVALID: Unable to load PKCS #1 key with fingerprint {fp}"),
        );
        case.exit = 1;
        cases.push(case);
    }
    {
        let spec = standard_trail();
        let mut case = Case::new("chain-gap", "Validation off for two hours, then re-enabled (a starting digest): a gap notice, nothing invalid, exit 3 because coverage is incomplete (the reference exits 0).", &spec.bucket);
        gap_chain(&ctx, &mut case, &mut Generator::new(11));
        cases.push(case);
    }
    {
        let spec = standard_trail();
        let mut case = Case::new("backfill-digests", "Three standard digests and a two-digest backfill chain with its backfill-generation-timestamp metadata: all valid, counted separately.", &spec.bucket);
        let mut g = Generator::new(13);
        let keys: Vec<&TestKey> = ctx.keys.iter().collect();
        let d = g.chain(&mut case.tree, &spec, &keys, t0(), &hours(3), None);
        let mut bh = hours(2);
        bh[0].logs = 1;
        let b = g.chain(
            &mut case.tree,
            &spec,
            &keys,
            t0(),
            &bh,
            Some(t0() + Duration::hours(5)),
        );
        case.public_keys.push(ctx.key_entry(0));
        case.expect_valid(&d, false);
        case.expect_valid(&b, true);
        cases.push(case);
    }
    {
        let mut case = Case::new("org-trail", "An organization trail (AWSLogs/o-ORGID/...) over two accounts and two regions: four chains, all valid.", "example-org-bucket");
        let mut g = Generator::new(17);
        let keys: Vec<&TestKey> = ctx.keys.iter().collect();
        for account in ["111122223333", "444455556666"] {
            for region in ["us-east-1", "eu-west-1"] {
                let spec = TrailSpec {
                    bucket: case.bucket.clone(),
                    prefix: None,
                    org_id: Some("o-exampleorg1".into()),
                    account: account.into(),
                    region: region.into(),
                    trail: "org-trail".into(),
                    home_region: "us-east-1".into(),
                };
                let d = g.chain(&mut case.tree, &spec, &keys, t0(), &hours(2), None);
                case.expect_valid(&d, false);
            }
        }
        case.public_keys.push(ctx.key_entry(0));
        cases.push(case);
    }
    {
        let mut spec = standard_trail();
        spec.prefix = Some("cloudtrail/prod".into());
        let mut case = Case::new(
            "key-prefix",
            "A trail with an S3 key prefix (cloudtrail/prod/AWSLogs/...): all valid.",
            &spec.bucket,
        );
        let mut g = Generator::new(19);
        let keys: Vec<&TestKey> = ctx.keys.iter().collect();
        let d = g.chain(&mut case.tree, &spec, &keys, t0(), &hours(3), None);
        case.public_keys.push(ctx.key_entry(0));
        case.expect_valid(&d, false);
        cases.push(case);
    }
    {
        let spec = standard_trail();
        let mut case = Case::new("key-rotation", "Two signing keys: the first two digests signed with key 1, the next two with key 2, both in the key list: all valid.", &spec.bucket);
        let mut g = Generator::new(23);
        let keys: Vec<&TestKey> = ctx.keys.iter().collect();
        let mut h = hours(4);
        h[2].key = 1;
        h[3].key = 1;
        let d = g.chain(&mut case.tree, &spec, &keys, t0(), &h, None);
        case.public_keys
            .push(ctx.keys[0].list_entry(t0() - Duration::days(20), t0() + Duration::hours(3)));
        case.public_keys
            .push(ctx.keys[1].list_entry(t0() + Duration::hours(1), t0() + Duration::days(30)));
        case.expect_valid(&d, false);
        cases.push(case);
    }
    {
        let spec = standard_trail();
        let mut case = Case::new("empty-hours", "Hours in which no log was delivered: digests with logFiles [] and null event times, still delivered and chained: all valid.", &spec.bucket);
        let mut g = Generator::new(29);
        let keys: Vec<&TestKey> = ctx.keys.iter().collect();
        let mut h = hours(4);
        h[1].logs = 0;
        h[2].logs = 0;
        let d = g.chain(&mut case.tree, &spec, &keys, t0(), &h, None);
        case.public_keys.push(ctx.key_entry(0));
        case.expect_valid(&d, false);
        cases.push(case);
    }
    {
        let (mut case, d) = base(&ctx, "no-sidecars", "A plain download without S3 metadata: every digest but the newest is verified with its successor's previousDigestSignature; the newest cannot be verified (exit 3), never reported valid.", 4);
        for obj in case.tree.objects.values_mut() {
            obj.metadata = None;
        }
        case.expect_digest(
            &d[3],
            "UNVERIFIED: no signature: no S3 metadata and no successor digest names it",
        );
        case.exit = 3;
        cases.push(case);
    }
    {
        let (mut case, d) = base(&ctx, "key-escaping-root", "A signed digest lists a log whose key climbs out of the bucket directory (../): refused, reported unchecked (exit 2), never read.", 4);
        let text = String::from_utf8(d[3].json.clone()).expect("utf8");
        let escaping = "AWSLogs\\/..\\/..\\/..\\/outside.json.gz";
        let old = d[3].logs[0].replace('/', "\\/");
        let text = text.replacen(&old, escaping, 1);
        case.set_digest_json(&d[3].key, text.as_bytes());
        let sig = resign(&ctx.keys[0], text.as_bytes()).expect("resign");
        case.obj(&d[3].key)
            .metadata
            .as_mut()
            .expect("meta")
            .insert("signature".into(), sig);
        // The log the entry named before is gone too, so that only the escape is at issue.
        case.tree.objects.remove(&d[3].logs[0]);
        case.verdicts.remove(&log_line(&case.bucket, &d[3].logs[0]));
        case.expect_log(
            "AWSLogs/../../../outside.json.gz",
            "UNCHECKED: key resolves outside the store root",
        );
        case.exit = 2;
        cases.push(case);
    }
    {
        let (mut case, d) = base(&ctx, "digest-invalid-format", "A digest whose JSON lost its digestEndTime field: invalid format, and the walk resumes at the next older digest.", 4);
        let text = String::from_utf8(d[2].json.clone())
            .expect("utf8")
            .replacen("\"digestEndTime\"", "\"digestEndTimeX\"", 1);
        case.set_digest_json(&d[2].key, text.as_bytes());
        case.expect_digest(
            &d[2],
            "INVALID: invalid format (field digestEndTime is missing)",
        );
        case.exit = 1;
        cases.push(case);
    }
    cases.extend(stronger_checks(&ctx));
    cases.extend(coverage_cases(&ctx));
    cases
}

/// Vectors the reference passes (every signature verifies, re-signed with the test key)
/// and only the checks beyond it catch.
#[allow(clippy::too_many_lines)]
fn stronger_checks(ctx: &Ctx) -> Vec<Case> {
    let k = &ctx.keys[0];
    let start_of = |h: u32| format!("\"digestStartTime\":\"2024-03-01T0{h}:12:34Z\"");
    let mut cases = Vec::new();
    {
        let (mut case, d) = base(ctx, "previous-hash-mismatch", "The newest digest's previousDigestHashValue edited and re-signed: its predecessor's bytes are not what it recorded.", 4);
        let wrong = "00".repeat(32);
        edit_and_resign(&mut case, &d[3], k, |t| {
            t.replacen(&field(&t, "previousDigestHashValue"), &wrong, 1)
        });
        let sha = sha(&d[2].json);
        let (pre, post) = (url(&d[2].key), url(&d[3].key));
        // A broken link between two digests that both verify: a finding on each.
        case.expect_digest(&d[2], &format!("INVALID: its SHA-256 {sha} is not the previousDigestHashValue {wrong} its successor {post} recorded"));
        restore_logs(&mut case, &d[2]);
        case.expect_digest(&d[3], &format!("INVALID: its previousDigestHashValue {wrong} is not the SHA-256 {sha} of its predecessor {pre}"));
        restore_logs(&mut case, &d[3]);
        case.exit = 1;
        cases.push(case);
    }
    {
        let (mut case, d) = base(ctx, "previous-signature-mismatch", "The newest digest's previousDigestSignature replaced by another valid signature and re-signed: its predecessor's own signature differs.", 4);
        let other = d[0].signature.clone();
        edit_and_resign(&mut case, &d[3], k, |t| {
            t.replacen(&d[2].signature, &other, 1)
        });
        case.expect_digest(&d[2], &signature_mismatch(&d[3].key));
        restore_logs(&mut case, &d[2]);
        case.expect_digest(
            &d[3],
            &format!(
                "INVALID: its previousDigestSignature is not the signature of its predecessor {}",
                url(&d[2].key)
            ),
        );
        restore_logs(&mut case, &d[3]);
        case.exit = 1;
        cases.push(case);
    }
    {
        let (mut case, d) = base(ctx, "chain-not-contiguous", "The newest digest's digestStartTime moved five minutes later and re-signed: the chain is not contiguous.", 4);
        edit_and_resign(&mut case, &d[3], k, |t| {
            t.replacen(
                &start_of(3),
                "\"digestStartTime\":\"2024-03-01T03:17:34Z\"",
                1,
            )
        });
        case.expect_digest(&d[2], &format!("INVALID: its digestEndTime 2024-03-01T03:12:34Z is not the digestStartTime 2024-03-01T03:17:34Z of its successor {}", url(&d[3].key)));
        restore_logs(&mut case, &d[2]);
        case.expect_digest(&d[3], &format!("INVALID: its digestStartTime 2024-03-01T03:17:34Z is not the digestEndTime 2024-03-01T03:12:34Z of its predecessor {}", url(&d[2].key)));
        restore_logs(&mut case, &d[3]);
        case.exit = 1;
        cases.push(case);
    }
    {
        let (mut case, d) = base(
            ctx,
            "end-not-after-start",
            "The newest digest's digestStartTime set to its digestEndTime and re-signed.",
            4,
        );
        edit_and_resign(&mut case, &d[3], k, |t| {
            t.replacen(&start_of(3), &start_of(4), 1)
        });
        case.expect_digest(&d[3], &format!("INVALID: digestEndTime is not after digestStartTime | INVALID: its digestStartTime 2024-03-01T04:12:34Z is not the digestEndTime 2024-03-01T03:12:34Z of its predecessor {}", url(&d[2].key)));
        restore_logs(&mut case, &d[3]);
        case.expect_digest(&d[2], &format!("INVALID: its digestEndTime 2024-03-01T03:12:34Z is not the digestStartTime 2024-03-01T04:12:34Z of its successor {}", url(&d[3].key)));
        restore_logs(&mut case, &d[2]);
        case.exit = 1;
        cases.push(case);
    }
    {
        let (mut case, d) = base(
            ctx,
            "account-mismatch",
            "The newest digest's awsAccountId changed and re-signed: it disagrees with its key.",
            4,
        );
        edit_and_resign(&mut case, &d[3], k, |t| {
            t.replacen(
                "\"awsAccountId\":\"111122223333\"",
                "\"awsAccountId\":\"999999999999\"",
                1,
            )
        });
        case.expect_digest(
            &d[3],
            "INVALID: awsAccountId 999999999999 is not the account 111122223333 of its key",
        );
        restore_logs(&mut case, &d[3]);
        case.exit = 1;
        cases.push(case);
    }
    {
        let (mut case, d) = base(
            ctx,
            "log-hash-algorithm",
            "A log entry's hashAlgorithm changed to MD5 and the digest re-signed.",
            4,
        );
        edit_and_resign(&mut case, &d[3], k, |t| {
            t.replacen(
                "\"hashAlgorithm\":\"SHA-256\",\"newest",
                "\"hashAlgorithm\":\"MD5\",\"newest",
                1,
            )
        });
        case.expect_digest(
            &d[3],
            &format!(
                "INVALID: log file {} has hashAlgorithm MD5, not SHA-256",
                d[3].logs[0]
            ),
        );
        restore_logs(&mut case, &d[3]);
        case.exit = 1;
        cases.push(case);
    }
    {
        let (mut case, d) = base(ctx, "signature-algorithm", "digestSignatureAlgorithm SHA1withRSA in a re-signed digest, and signature-algorithm metadata SHA1withRSA on another.", 4);
        edit_and_resign(&mut case, &d[3], k, |t| {
            t.replacen("SHA256withRSA", "SHA1withRSA", 1)
        });
        case.obj(&d[1].key)
            .metadata
            .as_mut()
            .expect("meta")
            .insert("signature-algorithm".into(), "SHA1withRSA".into());
        case.expect_digest(
            &d[3],
            "INVALID: digestSignatureAlgorithm is SHA1withRSA, not SHA256withRSA",
        );
        restore_logs(&mut case, &d[3]);
        case.expect_digest(
            &d[1],
            "INVALID: signature-algorithm metadata is SHA1withRSA, not SHA256withRSA",
        );
        restore_logs(&mut case, &d[1]);
        case.exit = 1;
        cases.push(case);
    }
    {
        let (mut case, d) = base(
            ctx,
            "previous-hash-algorithm",
            "The newest digest's previousDigestHashAlgorithm changed to MD5 and re-signed.",
            4,
        );
        edit_and_resign(&mut case, &d[3], k, |t| {
            t.replacen(
                "\"previousDigestHashAlgorithm\":\"SHA-256\"",
                "\"previousDigestHashAlgorithm\":\"MD5\"",
                1,
            )
        });
        case.expect_digest(
            &d[3],
            "INVALID: previousDigestHashAlgorithm is MD5, not SHA-256",
        );
        restore_logs(&mut case, &d[3]);
        case.exit = 1;
        cases.push(case);
    }
    {
        let (mut case, d) = base(ctx, "key-outside-validity", "The key's validity window ends at 02:42:34: the two digests that end later were signed outside it.", 4);
        case.public_keys =
            vec![k.list_entry(t0() - Duration::days(20), t0() + Duration::minutes(150))];
        for digest in &d[2..] {
            let end = digest.end.format("%Y-%m-%dT%H:%M:%SZ");
            case.expect_digest(digest, &format!("INVALID: signed at {end} by a key valid only from 2024-02-10T00:12:34Z to 2024-03-01T02:42:34Z"));
            restore_logs(&mut case, digest);
        }
        case.exit = 1;
        cases.push(case);
    }
    {
        let (mut case, d) = base(ctx, "log-listed-twice", "The newest digest also lists a log file of its predecessor, re-signed: the predecessor, walked second, lists it again.", 4);
        let entry = first_entry(&String::from_utf8(d[2].json.clone()).expect("utf8"));
        edit_and_resign(&mut case, &d[3], k, |t| prepend_entry(&t, &entry));
        let d3_url = format!("s3://example-trail-bucket/{}", d[3].key);
        case.expect_digest(
            &d[2],
            &format!(
                "INVALID: lists log file {} already listed by {d3_url}",
                d[2].logs[0]
            ),
        );
        restore_logs(&mut case, &d[2]);
        case.exit = 1;
        cases.push(case);
    }
    {
        let (mut case, d) = base(ctx, "log-of-another-region", "The newest digest also lists a copy of one of its logs stored under eu-west-1, re-signed: the digest is invalid, and the copy, which no eu-west-1 digest lists, not covered.", 4);
        let original = d[3].logs[0].clone();
        let moved = original.replace("us-east-1", "eu-west-1");
        let body = case.obj(&original).clone();
        case.tree.objects.insert(moved.clone(), body);
        edit_and_resign(&mut case, &d[3], k, |t| {
            let copy =
                first_entry(&t).replace(&original.replace('/', "\\/"), &moved.replace('/', "\\/"));
            prepend_entry(&t, &copy)
        });
        case.expect_digest(
            &d[3],
            &format!("INVALID: lists log file {moved} of another account or region"),
        );
        restore_logs(&mut case, &d[3]);
        // A digest vouches for nothing in another account or region: the copy under
        // eu-west-1, which no digest of eu-west-1 lists, is not covered.
        case.expect_log(&moved, NOT_COVERED);
        case.verdicts.insert(
            format!(
                "Log files\ts3://{}/AWSLogs/111122223333/CloudTrail/eu-west-1/",
                case.bucket
            ),
            "NOT COVERED: no digest".into(),
        );
        case.exit = 1;
        cases.push(case);
    }
    {
        let (mut case, d) = base(ctx, "planted-digest", "A validly signed digest planted at 02:42:34, between two digests of the chain, that no digest links to: off the chain.", 4);
        let planted_end = d[0].end + Duration::minutes(90);
        let planted_key = standard_trail().digest_key(planted_end, false);
        let text = String::from_utf8(d[1].json.clone()).expect("utf8").replace(
            &d[1].key.replace('/', "\\/"),
            &planted_key.replace('/', "\\/"),
        );
        let sig = resign(k, text.as_bytes()).expect("resign");
        let mut obj = case.obj(&d[1].key).clone();
        obj.body = gzip(text.as_bytes());
        obj.metadata
            .as_mut()
            .expect("meta")
            .insert("signature".into(), sig);
        case.tree.objects.insert(planted_key.clone(), obj);
        case.verdicts.insert(
            format!("Digest file\ts3://example-trail-bucket/{planted_key}"),
            "INVALID: not on the chain (no digest links to it)".into(),
        );
        case.exit = 1;
        cases.push(case);
    }
    cases
}

/// Six hours of the standard trail with validation off in hours 2 and 3 (a starting digest
/// follows): all valid, one gap notice, exit 3.
fn gap_chain(ctx: &Ctx, case: &mut Case, g: &mut Generator) {
    let keys: Vec<&TestKey> = ctx.keys.iter().collect();
    let mut h = hours(6);
    h[2].skipped = true;
    h[3].skipped = true;
    h[4].starting = true;
    let d = g.chain(&mut case.tree, &standard_trail(), &keys, t0(), &h, None);
    case.public_keys.push(ctx.key_entry(0));
    case.expect_valid(&d, false);
    case.notices = 1;
    case.exit = 3;
}

/// Log files no digest lists, and digests deleted where only the logs tell.
#[allow(clippy::too_many_lines)] // a table of cases, one entry each
fn coverage_cases(ctx: &Ctx) -> Vec<Case> {
    let mut cases = Vec::new();
    let spec = standard_trail();
    {
        let (mut case, d) = base(ctx, "log-injected", "A log file added at 01:50 inside the verified hour of the second digest, which does not list it: injected (the reference never lists log files).", 4);
        let mut g = Generator::new(101);
        let key = g.unlisted_log(&mut case.tree, &spec, d[1].end - Duration::minutes(22));
        case.expect_log(&key, INJECTED);
        case.exit = 1;
        cases.push(case);
    }
    {
        let (mut case, d) = base(ctx, "log-listed-by-two-trails", "A second trail delivering to the same folder has its newest digest list a log file of the first trail as well (re-signed): a log listed by digests of two chains.", 4);
        let second = TrailSpec {
            trail: "second-trail".into(),
            ..spec.clone()
        };
        let mut g = Generator::new(102);
        let keys: Vec<&TestKey> = ctx.keys.iter().collect();
        let mut h = hours(2);
        h[0].logs = 1;
        h[1].logs = 1;
        let b = g.chain(
            &mut case.tree,
            &second,
            &keys,
            t0() + Duration::hours(2),
            &h,
            None,
        );
        case.expect_valid(&b, false);
        let shared = first_entry(&String::from_utf8(d[3].json.clone()).expect("utf8"));
        edit_and_resign(&mut case, &b[1], &ctx.keys[0], |t| {
            prepend_entry(&t, &shared)
        });
        case.expect_digest(
            &b[1],
            &format!(
                "INVALID: lists log file {} already listed by s3://{}/{}",
                d[3].logs[0], case.bucket, d[3].key
            ),
        );
        restore_logs(&mut case, &b[1]);
        case.exit = 1;
        cases.push(case);
    }
    {
        let (mut case, d) = base(ctx, "newest-digests-deleted", "The newest three of six digests deleted, their logs kept. Offline, without CloudTrail's record, the digests stop at 03:12:34 while log files go on to 05:42: either log file validation was turned off or the newest digests were deleted, which a copy cannot tell: the logs are not covered, exit 3 (online, CloudTrail's LatestDigestDeliveryTime proves the deletion: exit 1, see the S3 tests). The reference starts at the newest digest left and exits 0.", 6);
        for gone in &d[3..] {
            case.tree.objects.remove(&gone.key);
            case.verdicts
                .remove(&digest_line(&case.bucket, &gone.key, false));
            for l in &gone.logs {
                case.expect_log(l, NOT_COVERED);
            }
        }
        case.exit = 3;
        cases.push(case);
    }
    {
        let mut case = Case::new("logs-in-gap", "Validation off for two hours (a starting digest follows) while logs were still delivered: the three logs of the gap are not covered, and the gap line says so instead of \"No log files were delivered\"; exit 3.", &spec.bucket);
        let mut g = Generator::new(103);
        gap_chain(ctx, &mut case, &mut g);
        for minutes in [150, 200, 230] {
            let key = g.unlisted_log(&mut case.tree, &spec, t0() + Duration::minutes(minutes));
            case.expect_log(&key, NOT_COVERED);
        }
        cases.push(case);
    }
    {
        let (mut case, d) = base(ctx, "no-digests-with-logs", "Every digest deleted, the logs kept: no digest at all where log files exist. Without CloudTrail's record this cannot be told from validation never turned on: not covered, exit 3 (the reference finds no digest and exits 0).", 3);
        for gone in &d {
            case.tree.objects.remove(&gone.key);
            case.verdicts
                .remove(&digest_line(&case.bucket, &gone.key, false));
            for l in &gone.logs {
                case.expect_log(l, NOT_COVERED);
            }
        }
        case.verdicts.insert(
            format!(
                "Log files\ts3://{}/AWSLogs/111122223333/CloudTrail/us-east-1/",
                case.bucket
            ),
            "NOT COVERED: no digest".into(),
        );
        case.exit = 3;
        cases.push(case);
    }
    cases.extend(edge_cases(ctx));
    cases
}

/// The verdict of a log file delivered after the newest digest, whose successor is not due.
const PENDING: &str = "PENDING: delivered after the newest digest, whose successor is not due yet";

/// A trail whose validation starts inside the requested range, and a live trail's last
/// hour: time no digest covers that is no finding.
fn edge_cases(ctx: &Ctx) -> Vec<Case> {
    let spec = standard_trail();
    let keys: Vec<&TestKey> = ctx.keys.iter().collect();
    let midnight = Utc
        .with_ymd_and_hms(2024, 3, 1, 0, 0, 0)
        .single()
        .expect("valid time");
    let range = |case: &mut Case| {
        case.extra_args = [
            "--start-time",
            "2024-03-01T00:00:00Z",
            "--end-time",
            "2024-03-01T06:00:00Z",
        ]
        .iter()
        .map(|a| (*a).to_owned())
        .collect();
    };
    let mut cases = Vec::new();
    // Validation first enabled at 00:31:22: six hourly digests from a starting one.
    let started = midnight + Duration::seconds(31 * 60 + 22);
    {
        let mut case = Case::new("trail-starts-in-range", "A range from 00:00 to 06:00 over a trail whose first digest (previousDigest* null) starts at 00:31:22, and no log file before it: the time before is before validation started, no finding, exit 0 (as the reference).", &spec.bucket);
        let d = Generator::new(201).chain(&mut case.tree, &spec, &keys, started, &hours(6), None);
        case.public_keys.push(ctx.key_entry(0));
        case.expect_valid(&d, false);
        range(&mut case);
        cases.push(case);
    }
    {
        let mut case = Case::new("logs-before-start", "The trail of trail-starts-in-range with a log file delivered at 00:20, before its first digest: logging was on while validation was not. The log file is not covered, exit 3.", &spec.bucket);
        let mut g = Generator::new(202);
        let d = g.chain(&mut case.tree, &spec, &keys, started, &hours(6), None);
        case.public_keys.push(ctx.key_entry(0));
        case.expect_valid(&d, false);
        let early = g.unlisted_log(&mut case.tree, &spec, midnight + Duration::minutes(20));
        case.expect_log(&early, NOT_COVERED);
        range(&mut case);
        case.exit = 3;
        cases.push(case);
    }
    {
        let (mut case, d) = base(ctx, "live-trail-last-hour", "A live trail judged (--as-of) at 04:52:34: two log files delivered after its newest digest (04:12:34), whose successor is not due until an hour after 05:12:34: pending, no finding, exit 0.", 4);
        let newest = d[3].end;
        let mut g = Generator::new(203);
        for minutes in [10, 35] {
            let key = g.unlisted_log(&mut case.tree, &spec, newest + Duration::minutes(minutes));
            case.expect_log(&key, PENDING);
        }
        let as_of = newest + Duration::minutes(40);
        case.extra_args = vec!["--as-of".into(), crate::ct_time(as_of)];
        cases.push(case);
    }
    cases
}

/// A digest with only findings still verified: its log files are checked and valid.
fn restore_logs(case: &mut Case, d: &GenDigest) {
    for l in &d.logs {
        case.expect_log(l, "valid");
    }
}

/// Writes every case under `out` (one directory per case), with keys from `keys_dir`.
/// Existing case directories are replaced; blessed `expected.stdout`/`expected.stderr`
/// snapshots are kept.
pub fn write_all(keys_dir: &Path, out: &Path) -> Result<()> {
    let keys = vec![TestKey::load(keys_dir, 1)?, TestKey::load(keys_dir, 2)?];
    for case in all(keys) {
        let dir = out.join(case.name);
        let _ = std::fs::remove_dir_all(dir.join(&case.bucket));
        std::fs::create_dir_all(&dir)?;
        case.write(&dir)?;
    }
    Ok(())
}
