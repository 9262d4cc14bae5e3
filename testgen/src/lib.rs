//! Deterministic generator of signed CloudTrail trees, for tests and benchmarks.
//!
//! Generated data is trusted: an `expect` here marks a bug in the generator, not bad input.
#![allow(clippy::missing_panics_doc)]
//!
//! **Test-only.** Everything here is signed with the keys under `testdata/keys/`, which are
//! published in this repository and must never be trusted for anything real.
//!
//! The output is byte-exact in CloudTrail's style: compact JSON in CloudTrail's field order
//! with `\/`-escaped slashes, null `previousDigest*` fields on a starting digest, empty
//! digests (`logFiles: []`, null event times), backfill digests with their metadata, and S3
//! metadata in `.meta.json` sidecars shaped like `aws s3api head-object` output.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;

use anyhow::{Context as _, Result};
use chrono::{DateTime, Duration, Utc};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rsa::signature::{SignatureEncoding, Signer};
use rsa::RsaPrivateKey;
use serde_json::{json, Value};

pub mod cases;
pub mod inventory;
use sha2::{Digest as _, Sha256};

/// A test-only RSA-2048 signing key.
pub struct TestKey {
    signer: SigningKey<Sha256>,
    /// PKCS#1 DER of the public key, as CloudTrail's `ListPublicKeys` gives it.
    pub public_der: Vec<u8>,
    /// Hex MD5 of `public_der`.
    pub fingerprint: String,
}

impl TestKey {
    /// Generates a key deterministically from a seed (slow in debug builds).
    pub fn generate_pem(seed: u64) -> Result<String> {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let key = RsaPrivateKey::new(&mut rng, 2048)?;
        Ok(key.to_pkcs8_pem(LineEnding::LF)?.to_string())
    }

    /// Loads a PKCS#8 PEM private key.
    pub fn from_pem(pem: &str) -> Result<Self> {
        use rsa::pkcs1::EncodeRsaPublicKey as _;
        let key = RsaPrivateKey::from_pkcs8_pem(pem)?;
        let public_der = key.to_public_key().to_pkcs1_der()?.as_bytes().to_vec();
        let fingerprint = hex::encode(md5::Md5::digest(&public_der));
        Ok(Self {
            signer: SigningKey::<Sha256>::new(key),
            public_der,
            fingerprint,
        })
    }

    /// Loads `test-only-key-N.pem` from a directory.
    pub fn load(dir: &Path, n: usize) -> Result<Self> {
        let path = dir.join(format!("test-only-key-{n}.pem"));
        let pem = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        Self::from_pem(&pem)
    }

    /// Signs bytes (RSASSA-PKCS1-v1_5, SHA-256), returning lowercase hex.
    pub fn sign_hex(&self, data: &[u8]) -> String {
        hex::encode(self.signer.sign(data).to_bytes())
    }

    /// The `ListPublicKeys` entry for this key.
    pub fn list_entry(&self, valid_from: DateTime<Utc>, valid_to: DateTime<Utc>) -> Value {
        use base64::Engine as _;
        json!({
            "Value": base64::engine::general_purpose::STANDARD.encode(&self.public_der),
            "ValidityStartTime": valid_from.timestamp(),
            "ValidityEndTime": valid_to.timestamp(),
            "Fingerprint": self.fingerprint,
        })
    }
}

/// Serializes JSON compactly with `/` escaped as `\/`, as CloudTrail writes it.
pub fn cloudtrail_json(value: &Value) -> Vec<u8> {
    // serde_json never escapes '/', and '/' can only occur inside strings.
    serde_json::to_string(value)
        .expect("a Value always serializes")
        .replace('/', "\\/")
        .into_bytes()
}

/// Gzip with a fixed header (mtime 0), so output is byte-for-byte reproducible.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::new(6));
    enc.write_all(data).expect("writing to a Vec cannot fail");
    enc.finish().expect("writing to a Vec cannot fail")
}

/// Formats a time as CloudTrail does (`2024-03-01T00:12:34Z`).
pub fn ct_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// An object in a generated bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Obj {
    /// The stored bytes.
    pub body: Vec<u8>,
    /// User metadata; `None` writes no sidecar.
    pub metadata: Option<BTreeMap<String, String>>,
}

/// A generated bucket: key to object.
#[derive(Debug, Clone, Default)]
pub struct Tree {
    /// The objects.
    pub objects: BTreeMap<String, Obj>,
}

impl Tree {
    /// Writes every object under `dir`, with a `.meta.json` sidecar where metadata is known.
    pub fn write(&self, dir: &Path) -> Result<()> {
        for (key, obj) in &self.objects {
            write_object(dir, key, obj)?;
        }
        Ok(())
    }
}

/// Where generated objects go.
pub trait ObjSink {
    /// Stores one object.
    fn put(&mut self, key: String, obj: Obj);
}

impl ObjSink for Tree {
    fn put(&mut self, key: String, obj: Obj) {
        self.objects.insert(key, obj);
    }
}

/// Writes objects to a directory as they are generated, so large trees never sit in memory.
pub struct DirSink {
    /// The bucket directory.
    pub root: std::path::PathBuf,
    /// The first write error, if any.
    pub error: Option<anyhow::Error>,
}

impl ObjSink for DirSink {
    fn put(&mut self, key: String, obj: Obj) {
        if self.error.is_none() {
            if let Err(e) = write_object(&self.root, &key, &obj) {
                self.error = Some(e);
            }
        }
    }
}

/// Writes one object, and its sidecar (shaped like `aws s3api head-object` output) if it
/// has metadata.
pub fn write_object(dir: &Path, key: &str, obj: &Obj) -> Result<()> {
    let path = dir.join(key);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&path, &obj.body)?;
    if let Some(meta) = &obj.metadata {
        let head = json!({
            "AcceptRanges": "bytes",
            "LastModified": "2024-03-01T12:00:00+00:00",
            "ContentLength": obj.body.len(),
            "ETag": format!("\"{}\"", hex::encode(md5::Md5::digest(&obj.body))),
            "ContentType": "application/json",
            "ServerSideEncryption": "AES256",
            "Metadata": meta,
        });
        let mut text = serde_json::to_string_pretty(&head)?;
        text.push('\n');
        std::fs::write(format!("{}.meta.json", path.display()), text)?;
    }
    Ok(())
}

/// Where a trail writes and what it is called.
#[derive(Debug, Clone)]
pub struct TrailSpec {
    /// Bucket name.
    pub bucket: String,
    /// Key prefix.
    pub prefix: Option<String>,
    /// Organization id for an organization trail.
    pub org_id: Option<String>,
    /// Account id.
    pub account: String,
    /// Region the digests cover.
    pub region: String,
    /// Trail name.
    pub trail: String,
    /// Trail home region.
    pub home_region: String,
}

impl TrailSpec {
    fn base(&self, kind: &str) -> String {
        let mut s = String::new();
        if let Some(p) = &self.prefix {
            s.push_str(p);
            s.push('/');
        }
        s.push_str("AWSLogs/");
        if let Some(o) = &self.org_id {
            s.push_str(o);
            s.push('/');
        }
        s.push_str(&self.account);
        s.push('/');
        s.push_str(kind);
        s.push('/');
        s.push_str(&self.region);
        s.push('/');
        s
    }

    /// The key of a digest ending at `end`.
    pub fn digest_key(&self, end: DateTime<Utc>, backfill: bool) -> String {
        format!(
            "{}{}/{}_CloudTrail-Digest_{}_{}_{}_{}{}.json.gz",
            self.base("CloudTrail-Digest"),
            end.format("%Y/%m/%d"),
            self.account,
            self.region,
            self.trail,
            self.home_region,
            end.format("%Y%m%dT%H%M%SZ"),
            if backfill { "_backfill" } else { "" }
        )
    }

    /// The key of a log delivered at `at` with a unique suffix.
    pub fn log_key(&self, at: DateTime<Utc>, unique: &str) -> String {
        format!(
            "{}{}/{}_CloudTrail_{}_{}_{}.json.gz",
            self.base("CloudTrail"),
            at.format("%Y/%m/%d"),
            self.account,
            self.region,
            at.format("%Y%m%dT%H%MZ"),
            unique
        )
    }
}

/// One hour of a generated chain.
#[derive(Debug, Clone, Copy)]
pub struct Hour {
    /// Log files delivered in the hour.
    pub logs: usize,
    /// Which key (index into the keys given to [`Generator::chain`]) signs the digest.
    pub key: usize,
    /// The digest starts a new chain (previous fields null), as after validation was
    /// re-enabled.
    pub starting: bool,
    /// No digest is written for this hour (validation or logging off).
    pub skipped: bool,
}

impl Default for Hour {
    fn default() -> Self {
        Self {
            logs: 2,
            key: 0,
            starting: false,
            skipped: false,
        }
    }
}

/// A generated digest.
#[derive(Debug, Clone)]
pub struct GenDigest {
    /// Its key.
    pub key: String,
    /// Its end time.
    pub end: DateTime<Utc>,
    /// Its inflated JSON.
    pub json: Vec<u8>,
    /// Its signature (hex).
    pub signature: String,
    /// The keys of the log files it lists.
    pub logs: Vec<String>,
}

/// Deterministic content source and chain builder.
pub struct Generator {
    rng: ChaCha20Rng,
    /// Records per generated log file.
    pub records_per_log: usize,
    /// Log file bodies to use as they are (gzip'd, e.g. files written by AWS), in turn,
    /// instead of generated ones; used by [`Generator::chain`].
    pub real_logs: Vec<Vec<u8>>,
    next_real: usize,
}

const EVENTS: &[(&str, &str)] = &[
    ("s3.amazonaws.com", "GetObject"),
    ("ec2.amazonaws.com", "DescribeInstances"),
    ("iam.amazonaws.com", "ListRoles"),
    ("sts.amazonaws.com", "AssumeRole"),
    ("kms.amazonaws.com", "Decrypt"),
    ("lambda.amazonaws.com", "Invoke"),
];

impl Generator {
    /// A generator with a fixed seed.
    pub fn new(seed: u64) -> Self {
        Self {
            rng: ChaCha20Rng::seed_from_u64(seed),
            records_per_log: 3,
            real_logs: Vec::new(),
            next_real: 0,
        }
    }

    /// A log file delivered at `delivered` that no digest lists, stored in `tree`; returns
    /// its key.
    pub fn unlisted_log(
        &mut self,
        tree: &mut dyn ObjSink,
        spec: &TrailSpec,
        delivered: DateTime<Utc>,
    ) -> String {
        let (body, _, _) = self.log_body(spec, delivered - Duration::minutes(5), delivered);
        let unique = self.unique();
        let key = spec.log_key(delivered, &unique);
        tree.put(
            key.clone(),
            Obj {
                body: gzip(&body),
                metadata: None,
            },
        );
        key
    }

    fn unique(&mut self) -> String {
        const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        (0..16)
            .map(|_| ALNUM[(self.rng.next_u32() % 62) as usize] as char)
            .collect()
    }

    fn hex_id(&mut self, bytes: usize) -> String {
        let mut b = vec![0u8; bytes];
        self.rng.fill_bytes(&mut b);
        hex::encode(b)
    }

    /// A realistic CloudTrail log file body (`{"Records":[...]}`) with events in
    /// `[from, to)`; returns the JSON and the oldest and newest event times.
    pub fn log_body(
        &mut self,
        spec: &TrailSpec,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> (Vec<u8>, DateTime<Utc>, DateTime<Utc>) {
        let span = (to - from).num_seconds().max(1);
        let mut times: Vec<DateTime<Utc>> = (0..self.records_per_log)
            .map(|_| from + Duration::seconds(i64::from(self.rng.next_u32()) % span))
            .collect();
        times.sort();
        let records: Vec<Value> = times
            .iter()
            .map(|t| {
                let (source, name) = EVENTS[(self.rng.next_u32() as usize) % EVENTS.len()];
                let ip = format!("203.0.113.{}", self.rng.next_u32() % 254 + 1);
                json!({
                    "eventVersion": "1.09",
                    "userIdentity": {
                        "type": "AssumedRole",
                        "principalId": format!("AROA{}:session", self.hex_id(8).to_uppercase()),
                        "arn": format!("arn:aws:sts::{}:assumed-role/Admin/session", spec.account),
                        "accountId": spec.account,
                        "accessKeyId": format!("ASIA{}", self.hex_id(8).to_uppercase()),
                    },
                    "eventTime": ct_time(*t),
                    "eventSource": source,
                    "eventName": name,
                    "awsRegion": spec.region,
                    "sourceIPAddress": ip,
                    "userAgent": "aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64",
                    "requestParameters": {"maxResults": 50},
                    "responseElements": null,
                    "requestID": self.hex_id(16),
                    "eventID": self.hex_id(16),
                    "readOnly": true,
                    "eventType": "AwsApiCall",
                    "managementEvent": true,
                    "recipientAccountId": spec.account,
                    "eventCategory": "Management",
                })
            })
            .collect();
        let body = serde_json::to_vec(&json!({ "Records": records })).expect("serializable");
        let oldest = *times.first().unwrap_or(&from);
        let newest = *times.last().unwrap_or(&from);
        (body, oldest, newest)
    }

    /// The next log file delivered at `delivered`: the next of [`Generator::real_logs`] if
    /// any (its event times said to be the five minutes before), else a generated one.
    /// Returns the gzip'd body, the SHA-256 of its content, and the oldest and newest event
    /// times.
    fn next_log(
        &mut self,
        spec: &TrailSpec,
        delivered: DateTime<Utc>,
    ) -> (Vec<u8>, String, DateTime<Utc>, DateTime<Utc>) {
        let from = delivered - Duration::minutes(5);
        if let Some(gz) = self
            .real_logs
            .get(self.next_real % self.real_logs.len().max(1))
        {
            self.next_real += 1;
            let mut json = Vec::new();
            std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(gz.as_slice()), &mut json)
                .expect("a real log file is gzip'd");
            return (
                gz.clone(),
                hex::encode(Sha256::digest(&json)),
                from,
                delivered,
            );
        }
        let (body, o, n) = self.log_body(spec, from, delivered);
        (gzip(&body), hex::encode(Sha256::digest(&body)), o, n)
    }

    /// Generates a chain of hourly digests starting at `start`, with its log files, into
    /// `tree`. Returns the digests written, oldest first.
    #[allow(clippy::too_many_lines)] // the generator follows CloudTrail's delivery step by step
    pub fn chain(
        &mut self,
        tree: &mut dyn ObjSink,
        spec: &TrailSpec,
        keys: &[&TestKey],
        start: DateTime<Utc>,
        hours: &[Hour],
        backfill: Option<DateTime<Utc>>,
    ) -> Vec<GenDigest> {
        let mut out: Vec<GenDigest> = Vec::new();
        let mut prev: Option<GenDigest> = None;
        for (i, hour) in hours.iter().enumerate() {
            let hour_start = start + Duration::hours(i64::try_from(i).unwrap_or(0));
            let hour_end = hour_start + Duration::hours(1);
            if hour.skipped {
                prev = None;
                continue;
            }
            let mut entries = Vec::new();
            let mut log_keys = Vec::new();
            let (mut oldest, mut newest): (Option<DateTime<Utc>>, Option<DateTime<Utc>>) =
                (None, None);
            for j in 0..hour.logs {
                let delivered = hour_start
                    + Duration::minutes(
                        5 + 50 * i64::try_from(j).unwrap_or(0)
                            / i64::try_from(hour.logs).unwrap_or(1),
                    );
                let (gz, hash, o, n) = self.next_log(spec, delivered);
                let unique = self.unique();
                let key = spec.log_key(delivered, &unique);
                entries.push(json!({
                    "s3Bucket": spec.bucket,
                    "s3Object": key,
                    "hashValue": hash,
                    "hashAlgorithm": "SHA-256",
                    "newestEventTime": ct_time(n),
                    "oldestEventTime": ct_time(o),
                }));
                oldest = Some(oldest.map_or(o, |x| x.min(o)));
                newest = Some(newest.map_or(n, |x| x.max(n)));
                tree.put(
                    key.clone(),
                    Obj {
                        body: gz,
                        metadata: None,
                    },
                );
                log_keys.push(key);
            }
            let key = spec.digest_key(hour_end, backfill.is_some());
            let signer = keys[hour.key];
            let link = prev.as_ref().filter(|_| !hour.starting);
            let digest = json!({
                "awsAccountId": spec.account,
                "digestStartTime": ct_time(hour_start),
                "digestEndTime": ct_time(hour_end),
                "digestS3Bucket": spec.bucket,
                "digestS3Object": key,
                "digestPublicKeyFingerprint": signer.fingerprint,
                "digestSignatureAlgorithm": "SHA256withRSA",
                "newestEventTime": newest.map(ct_time),
                "oldestEventTime": oldest.map(ct_time),
                "previousDigestS3Bucket": link.map(|_| spec.bucket.clone()),
                "previousDigestS3Object": link.map(|p| p.key.clone()),
                "previousDigestHashValue": link.map(|p| hex::encode(Sha256::digest(&p.json))),
                "previousDigestHashAlgorithm": link.map(|_| "SHA-256"),
                "previousDigestSignature": link.map(|p| p.signature.clone()),
                "logFiles": entries,
            });
            let json_bytes = ordered_digest_json(&digest);
            let signature = signer.sign_hex(&signing_string(&json_bytes, &digest));
            let mut meta = BTreeMap::from([
                ("signature".to_owned(), signature.clone()),
                ("signature-algorithm".to_owned(), "SHA256withRSA".to_owned()),
            ]);
            if let Some(ts) = backfill {
                meta.insert("backfill-generation-timestamp".to_owned(), ct_time(ts));
            }
            tree.put(
                key.clone(),
                Obj {
                    body: gzip(&json_bytes),
                    metadata: Some(meta),
                },
            );
            let d = GenDigest {
                key,
                end: hour_end,
                json: json_bytes,
                signature,
                logs: log_keys,
            };
            prev = Some(d.clone());
            out.push(d);
        }
        out
    }
}

/// CloudTrail's digest field order.
pub const DIGEST_FIELDS: &[&str] = &[
    "awsAccountId",
    "digestStartTime",
    "digestEndTime",
    "digestS3Bucket",
    "digestS3Object",
    "digestPublicKeyFingerprint",
    "digestSignatureAlgorithm",
    "newestEventTime",
    "oldestEventTime",
    "previousDigestS3Bucket",
    "previousDigestS3Object",
    "previousDigestHashValue",
    "previousDigestHashAlgorithm",
    "previousDigestSignature",
    "logFiles",
];

const LOG_FIELDS: &[&str] = &[
    "s3Bucket",
    "s3Object",
    "hashValue",
    "hashAlgorithm",
    "newestEventTime",
    "oldestEventTime",
];

/// Serializes a digest object in CloudTrail's field order, compact, with `\/` escapes.
pub fn ordered_digest_json(digest: &Value) -> Vec<u8> {
    fn ordered(v: &Value, fields: &[&str]) -> String {
        let parts: Vec<String> = fields
            .iter()
            .filter_map(|f| v.get(*f).map(|x| (f, x)))
            .map(|(f, x)| {
                let value = if *f == "logFiles" {
                    let items: Vec<String> = x
                        .as_array()
                        .map(|a| a.iter().map(|e| ordered(e, LOG_FIELDS)).collect())
                        .unwrap_or_default();
                    format!("[{}]", items.join(","))
                } else {
                    String::from_utf8(cloudtrail_json(x)).expect("JSON is UTF-8")
                };
                format!("\"{f}\":{value}")
            })
            .collect();
        format!("{{{}}}", parts.join(","))
    }
    ordered(digest, DIGEST_FIELDS).into_bytes()
}

/// The signing string for inflated digest bytes (spec section 3).
pub fn signing_string(json_bytes: &[u8], digest: &Value) -> Vec<u8> {
    let s = |f: &str| {
        digest
            .get(f)
            .and_then(Value::as_str)
            .unwrap_or("null")
            .to_owned()
    };
    format!(
        "{}\n{}/{}\n{}\n{}",
        s("digestEndTime"),
        s("digestS3Bucket"),
        s("digestS3Object"),
        hex::encode(Sha256::digest(json_bytes)),
        s("previousDigestSignature")
    )
    .into_bytes()
}

/// Re-signs edited digest JSON bytes with `key` (for vectors that only a stronger check catches).
pub fn resign(key: &TestKey, json_bytes: &[u8]) -> Result<String> {
    let v: Value = serde_json::from_slice(json_bytes)?;
    Ok(key.sign_hex(&signing_string(json_bytes, &v)))
}
