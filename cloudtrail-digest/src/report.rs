//! The report: one verdict per digest file and per log file, per chain. Integrity findings
//! are data here; `Err` from the verifier only means the run could not complete.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::coverage::{
    self, CoverageReason, CoverageSpan, CoverageState, DeletionEvidence, LocationReport,
};
pub use crate::findings::{Finding, FindingKind};
use crate::hexvalue::{Fingerprint, Sha256Hash};
use crate::layout::ChainId;
use crate::record::TrailRecord;
use crate::store::ObjectInfo;
use crate::tail::Tail;

/// How a verdict counts toward the outcome of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Verified.
    Valid,
    /// Not verified, without evidence of tampering: coverage is incomplete.
    Incomplete,
    /// Could not be checked (read failure other than "not found"): neither valid nor tampered.
    Unchecked,
    /// An integrity finding.
    Invalid,
}

/// Where the signature of a digest came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SignatureSource {
    /// The digest object's S3 metadata (`signature`), or its `.meta.json` sidecar.
    Metadata,
    /// The successor digest's `previousDigestSignature` (AWS's documented offline method).
    Successor,
}

/// The verdict on a digest file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
#[non_exhaustive]
pub enum DigestStatus {
    /// The signature verified.
    Valid,
    /// The object does not exist. `inferred` is set for a digest the chain shows must have
    /// existed but whose key no surviving digest names (the key is then the expected one).
    NotFound {
        /// Whether the key was inferred from the chain's timeline.
        inferred: bool,
    },
    /// Not a well-formed digest (gzip, JSON, a missing or malformed field, metadata).
    InvalidFormat {
        /// What is wrong.
        reason: String,
    },
    /// The digest's JSON names another bucket or key than where it was found.
    Moved {
        /// `digestS3Bucket`.
        original_bucket: String,
        /// `digestS3Object`.
        original_key: String,
    },
    /// No public key with the digest's fingerprint.
    UnknownKey {
        /// The region whose keys were searched.
        region: String,
        /// The fingerprint.
        fingerprint: Fingerprint,
    },
    /// The key with that fingerprint is not a loadable RSA key.
    UnloadableKey {
        /// The fingerprint.
        fingerprint: Fingerprint,
    },
    /// The signature does not verify.
    SignatureMismatch,
    /// The S3 metadata lacks `signature` or `signature-algorithm`.
    SignatureMissing {
        /// Which entry is missing.
        reason: String,
    },
    /// The signature text is not hex.
    SignatureMalformed,
    /// No signature is available at all (a local copy without a sidecar, and no successor
    /// digest naming its signature): neither valid nor invalid.
    Unverifiable {
        /// Why.
        reason: String,
    },
    /// The object could not be read.
    Unchecked {
        /// Why.
        reason: String,
    },
    /// A digest of the chain's listing in range that no digest links to and the walk never
    /// reached: planted, or cut out of the chain.
    OffChain,
}

impl DigestStatus {
    /// How this verdict counts.
    pub fn severity(&self) -> Severity {
        match self {
            Self::Valid => Severity::Valid,
            Self::Unverifiable { .. } => Severity::Incomplete,
            Self::Unchecked { .. } => Severity::Unchecked,
            _ => Severity::Invalid,
        }
    }

    /// The verdict as the reference prints it after the key (`valid`, `INVALID: …`).
    pub fn verdict_text(&self) -> String {
        match self {
            Self::Valid => "valid".into(),
            Self::NotFound { inferred: false } => "INVALID: not found".into(),
            Self::NotFound { inferred: true } => {
                "INVALID: not found (inferred: no digest covers this hour)".into()
            }
            Self::InvalidFormat { reason } => format!("INVALID: invalid format ({reason})"),
            Self::Moved { .. } => "INVALID: has been moved from its original location".into(),
            Self::UnknownKey {
                region,
                fingerprint,
            } => format!(
                "INVALID: public key not found in region {region} for fingerprint {fingerprint}"
            ),
            Self::UnloadableKey { fingerprint } => {
                format!("INVALID: Unable to load PKCS #1 key with fingerprint {fingerprint}")
            }
            Self::SignatureMismatch => "INVALID: signature verification failed".into(),
            Self::SignatureMissing { reason } => {
                format!("INVALID: signature verification failed ({reason})")
            }
            Self::SignatureMalformed => {
                "INVALID: signature verification failed (signature is not hex)".into()
            }
            Self::Unverifiable { reason } => format!("UNVERIFIED: {reason}"),
            Self::Unchecked { reason } => format!("UNCHECKED: {reason}"),
            Self::OffChain => "INVALID: not on the chain (no digest links to it)".into(),
        }
    }
}

/// The verdict on a log file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
#[non_exhaustive]
pub enum LogStatus {
    /// The SHA-256 of the inflated content matches the digest.
    Valid,
    /// The object does not exist.
    NotFound,
    /// The content was altered.
    HashMismatch {
        /// `hashValue` in the digest.
        expected: Sha256Hash,
        /// SHA-256 of the inflated content.
        actual: Sha256Hash,
    },
    /// Not gzip, or a corrupt or truncated gzip stream.
    InvalidFormat {
        /// What is wrong.
        reason: String,
    },
    /// Bytes follow the end of the gzip member (an appended member or garbage).
    TrailingData,
    /// The object could not be read.
    Unchecked {
        /// Why.
        reason: String,
    },
}

impl LogStatus {
    /// How this verdict counts.
    pub fn severity(&self) -> Severity {
        match self {
            Self::Valid => Severity::Valid,
            Self::Unchecked { .. } => Severity::Unchecked,
            _ => Severity::Invalid,
        }
    }

    /// The verdict as the reference prints it after the key.
    pub fn verdict_text(&self) -> String {
        match self {
            Self::Valid => "valid".into(),
            Self::NotFound => "INVALID: not found".into(),
            Self::HashMismatch { .. } => "INVALID: hash value doesn't match".into(),
            Self::InvalidFormat { reason } => format!("INVALID: invalid format ({reason})"),
            Self::TrailingData => "INVALID: unexpected data after end of compressed stream".into(),
            Self::Unchecked { reason } => format!("UNCHECKED: {reason}"),
        }
    }
}

/// A log file and its verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogOutcome {
    /// `s3Bucket` from the digest.
    pub bucket: String,
    /// `s3Object` from the digest.
    pub key: String,
    /// The verdict.
    #[serde(flatten)]
    pub status: LogStatus,
    /// The version read, where the store knows it.
    #[serde(flatten)]
    pub object: ObjectInfo,
}

/// A digest file and its verdict, with the verdicts of the log files it lists when its
/// signature verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DigestOutcome {
    /// The bucket it was read from.
    pub bucket: String,
    /// The key it was read from.
    pub key: String,
    /// Whether it is a backfill digest.
    pub backfill: bool,
    /// The verdict.
    #[serde(flatten)]
    pub status: DigestStatus,
    /// `digestStartTime`, when the digest parsed.
    pub start_time: Option<DateTime<Utc>>,
    /// `digestEndTime`, when the digest parsed (else the time in its key).
    pub end_time: Option<DateTime<Utc>>,
    /// The fingerprint of the public key that verified it.
    pub verified_with: Option<Fingerprint>,
    /// Where its signature came from.
    pub signature_source: Option<SignatureSource>,
    /// SHA-256 of its inflated bytes, when it parsed.
    pub sha256: Option<Sha256Hash>,
    /// Whether it starts a chain (its `previousDigest*` fields are null): validation or
    /// logging started, or started again, at its start.
    pub starting: bool,
    /// The log files it lists, checked only if it verified; without the valid ones when
    /// the selection asked to omit them.
    pub logs: Vec<LogOutcome>,
    /// The verdicts on the log files it lists, counted, omitted ones included.
    pub log_counts: Counts,
    /// Findings beyond the signature verdict.
    pub findings: Vec<Finding>,
    /// The version read, where the store knows it.
    #[serde(flatten)]
    pub object: ObjectInfo,
}

impl DigestOutcome {
    /// A digest of `chain` that the timeline shows must exist, ending at `end`, that is not
    /// found: its key is the one CloudTrail would have written, its window the hour before.
    pub(crate) fn inferred_missing(
        chain: &ChainId,
        bucket: &str,
        end: DateTime<Utc>,
        backfill: bool,
    ) -> Self {
        let key = chain.digest_key(end, backfill);
        let status = DigestStatus::NotFound { inferred: true };
        let mut outcome = Self::placeholder(bucket, &key, backfill, status, Some(end));
        outcome.start_time = Some(end - chrono::Duration::hours(1));
        outcome
    }

    /// An outcome with nothing known yet but where the digest is and its verdict.
    pub fn placeholder(
        bucket: &str,
        key: &str,
        backfill: bool,
        status: DigestStatus,
        end_time: Option<DateTime<Utc>>,
    ) -> Self {
        Self {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            backfill,
            status,
            start_time: None,
            end_time,
            verified_with: None,
            signature_source: None,
            sha256: None,
            starting: false,
            logs: Vec::new(),
            log_counts: Counts::default(),
            findings: Vec::new(),
            object: ObjectInfo::default(),
        }
    }

    /// Sets the verdicts on the log files it lists, counting them; keeps only those that
    /// are not valid if `omit_valid`.
    pub fn set_logs(&mut self, logs: impl IntoIterator<Item = LogOutcome>, omit_valid: bool) {
        self.log_counts = Counts::default();
        self.logs.clear();
        for log in logs {
            let severity = log.status.severity();
            self.log_counts.add(severity);
            if !(omit_valid && severity == Severity::Valid) {
                self.logs.push(log);
            }
        }
    }

    /// How this digest counts: its verdict, or invalid if it has a finding.
    pub fn severity(&self) -> Severity {
        let findings = (!self.findings.is_empty()).then_some(Severity::Invalid);
        self.status
            .severity()
            .max(findings.unwrap_or(Severity::Valid))
    }
}

/// A chain-level notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Notice {
    /// A starting digest with older digests before it: nothing is verified between them
    /// (the reference says "No log files were delivered"; validation or logging may have
    /// been off).
    Gap {
        /// `backfill` chain or not.
        backfill: bool,
        /// End of the older digest.
        from: DateTime<Utc>,
        /// Start of the newer digest.
        to: DateTime<Utc>,
    },
    /// No digest of the chain lies in the requested range.
    NoDigests,
    /// The hourly digests after the newest one found are missing, and something proves
    /// CloudTrail delivered them: an integrity finding (each is a `not_found` digest).
    NewestDeleted {
        /// End of the newest digest found.
        after: DateTime<Utc>,
        /// How many hourly digests are missing after it.
        count: u64,
        /// What proves it.
        #[serde(flatten)]
        evidence: DeletionEvidence,
    },
    /// Hourly digests missing between two times, too many to report one by one: an
    /// integrity finding.
    MissingDigests {
        /// `backfill` chain or not.
        backfill: bool,
        /// End of the first missing hour.
        from: DateTime<Utc>,
        /// End of the last missing hour.
        to: DateTime<Utc>,
    },
}

impl Notice {
    /// How this notice counts.
    pub fn severity(&self) -> Severity {
        match self {
            Self::MissingDigests { .. } | Self::NewestDeleted { .. } => Severity::Invalid,
            _ => Severity::Incomplete,
        }
    }
}

/// Counts of verdicts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Valid.
    pub valid: u64,
    /// Integrity findings.
    pub invalid: u64,
    /// Not verified, coverage incomplete.
    pub unverified: u64,
    /// Could not be read.
    pub unchecked: u64,
}

impl Counts {
    fn add(&mut self, severity: Severity) {
        match severity {
            Severity::Valid => self.valid += 1,
            Severity::Invalid => self.invalid += 1,
            Severity::Incomplete => self.unverified += 1,
            Severity::Unchecked => self.unchecked += 1,
        }
    }

    /// Every verdict counted.
    pub fn total(&self) -> u64 {
        self.valid + self.invalid + self.unverified + self.unchecked
    }

    /// The worst severity counted (valid when nothing is).
    pub fn severity(&self) -> Severity {
        [
            (self.invalid, Severity::Invalid),
            (self.unchecked, Severity::Unchecked),
            (self.unverified, Severity::Incomplete),
        ]
        .into_iter()
        .find(|(n, _)| *n > 0)
        .map_or(Severity::Valid, |(_, s)| s)
    }

    fn merge(&mut self, other: &Self) {
        self.valid += other.valid;
        self.invalid += other.invalid;
        self.unverified += other.unverified;
        self.unchecked += other.unchecked;
    }
}

/// A time range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TimeRange {
    /// Start.
    pub start: DateTime<Utc>,
    /// End.
    pub end: DateTime<Utc>,
}

/// The verdicts of one chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainReport {
    /// Which chain.
    pub chain: ChainId,
    /// The bucket the chain was listed in.
    pub bucket: String,
    /// The time range requested.
    pub requested: TimeRange,
    /// The range valid digests cover, clipped to the request (as the reference reports it).
    pub found: Option<TimeRange>,
    /// Standard and backfill digests, newest first within each kind, with their log files.
    pub digests: Vec<DigestOutcome>,
    /// Chain-level notices.
    pub notices: Vec<Notice>,
    /// Counts of standard digest verdicts.
    pub digest_counts: Counts,
    /// Counts of backfill digest verdicts.
    pub backfill_digest_counts: Counts,
    /// Counts of log file verdicts.
    pub log_counts: Counts,
    /// The requested range split by coverage state, oldest first.
    pub coverage: Vec<CoverageSpan>,
    /// What is known of the time no digest covers (before the starting digest, chain gaps,
    /// after the newest digest), sorted.
    #[serde(skip)]
    annotations: Vec<CoverageSpan>,
}

impl ChainReport {
    /// Builds the report of a chain from its outcomes, computing counts, the found range
    /// and the coverage timeline.
    pub fn new(
        chain: ChainId,
        bucket: String,
        requested: TimeRange,
        digests: Vec<DigestOutcome>,
        mut notices: Vec<Notice>,
    ) -> Self {
        if digests.is_empty() {
            notices.push(Notice::NoDigests);
        }
        let mut annotations: Vec<CoverageSpan> = notices
            .iter()
            .filter_map(|n| match n {
                Notice::Gap { from, to, .. } => Some(CoverageSpan {
                    from: *from,
                    to: *to,
                    state: CoverageState::NotCovered,
                    reason: Some(CoverageReason::ChainGap),
                }),
                _ => None,
            })
            .collect();
        annotations.extend(before_start(&digests, requested));
        let mut report = Self {
            chain,
            bucket,
            requested,
            found: None,
            digests,
            notices,
            digest_counts: Counts::default(),
            backfill_digest_counts: Counts::default(),
            log_counts: Counts::default(),
            coverage: Vec::new(),
            annotations,
        };
        report.recount();
        report
    }

    /// Adds what follows the newest digest: the digests proven missing (newest first,
    /// before the others), what is known of the rest, and, when no end was requested
    /// (`open_end`), the range grown as far as the tail reaches.
    pub(crate) fn add_tail(&mut self, tail: Tail, after: DateTime<Utc>, open_end: bool) {
        let Tail {
            reach,
            missing,
            rest,
            evidence,
            annotations,
        } = tail;
        let newest_missing = missing.first().copied();
        if let Some(end) = reach
            .max(newest_missing)
            .filter(|e| open_end && *e > self.requested.end)
        {
            self.requested.end = end;
        }
        if !missing.is_empty() || rest.is_some() {
            self.notices.retain(|n| *n != Notice::NoDigests);
        }
        if let Some(evidence) = evidence {
            self.notices.push(Notice::NewestDeleted {
                after,
                count: missing.len() as u64,
                evidence,
            });
        }
        if let Some((from, to)) = rest {
            self.notices.push(Notice::MissingDigests {
                backfill: false,
                from,
                to,
            });
        }
        let missing = missing
            .into_iter()
            .map(|end| DigestOutcome::inferred_missing(&self.chain, &self.bucket, end, false));
        self.digests.splice(0..0, missing);
        self.annotations.extend(annotations);
        self.annotations.sort_by_key(|a| a.from);
        self.recount();
    }

    /// The spans whose digest is not due yet, beyond the requested range too (a log file
    /// named near its end may be listed by a digest not due yet).
    pub(crate) fn pending(&self) -> impl Iterator<Item = &CoverageSpan> {
        self.annotations
            .iter()
            .chain(&self.coverage)
            .filter(|s| s.state == CoverageState::Pending)
    }

    /// Marks the time before the starting digest as not covered when log files were
    /// delivered in it (`delivered`: their times): validation had not started while
    /// logging had.
    pub(crate) fn logs_before_start(&mut self, delivered: impl Iterator<Item = DateTime<Utc>>) {
        let Some(head) = self
            .annotations
            .iter_mut()
            .find(|a| a.state == CoverageState::BeforeStart)
        else {
            return;
        };
        let mut delivered = delivered;
        if delivered.any(|t| t >= head.from && t < head.to) {
            head.state = CoverageState::NotCovered;
            head.reason = Some(CoverageReason::LogsBeforeStart);
            self.recount();
        }
    }

    /// Recomputes counts, the found range and the coverage timeline from the digests.
    pub(crate) fn recount(&mut self) {
        let requested = self.requested;
        self.found = None;
        self.digest_counts = Counts::default();
        self.backfill_digest_counts = Counts::default();
        self.log_counts = Counts::default();
        for d in &self.digests {
            let counts = if d.backfill {
                &mut self.backfill_digest_counts
            } else {
                &mut self.digest_counts
            };
            counts.add(d.severity());
            self.log_counts.merge(&d.log_counts);
            if let (DigestStatus::Valid, Some(s), Some(e)) = (&d.status, d.start_time, d.end_time) {
                let (s, e) = (s.max(requested.start), e.min(requested.end));
                self.found = Some(match self.found {
                    None => TimeRange { start: s, end: e },
                    Some(f) => TimeRange {
                        start: f.start.min(s),
                        end: f.end.max(e),
                    },
                });
            }
        }
        self.coverage = coverage::timeline(&self.digests, requested, &self.annotations);
    }

    /// The worst severity in this chain, notices included.
    pub fn severity(&self) -> Severity {
        let digests = self
            .digests
            .iter()
            .flat_map(|d| [d.severity(), d.log_counts.severity()]);
        let notices = self.notices.iter().map(Notice::severity);
        let coverage = self.coverage.iter().map(|s| s.state.severity());
        digests
            .chain(notices)
            .chain(coverage)
            .max()
            .unwrap_or(Severity::Valid)
    }
}

/// The time before a chain's oldest standard digest, when that digest verified and starts
/// the chain: validation had not started there (unless log files say otherwise).
fn before_start(digests: &[DigestOutcome], requested: TimeRange) -> Option<CoverageSpan> {
    let oldest = digests
        .iter()
        .filter(|d| !d.backfill && d.status != DigestStatus::OffChain)
        .filter_map(|d| d.start_time.map(|s| (s, d)))
        .min_by_key(|(s, _)| *s)?;
    let (start, digest) = oldest;
    (digest.status == DigestStatus::Valid && digest.starting && start > requested.start)
        .then(|| CoverageSpan::new(requested.start, start, CoverageState::BeforeStart))
}

/// A key under `CloudTrail-Digest/` that is not a digest key, so belongs to no chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnrecognizedKey {
    /// The key.
    pub key: String,
    /// Why it is not a digest key.
    pub reason: String,
}

/// A listing that failed: what it should have listed is unchecked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListingFailure {
    /// The prefix listed.
    pub prefix: String,
    /// Why it failed.
    pub reason: String,
}

/// The verdicts of a whole run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The version of this library.
    pub tool_version: &'static str,
    /// The bucket validated.
    pub bucket: String,
    /// One report per chain, ordered by chain.
    pub chains: Vec<ChainReport>,
    /// The log files of each location, with those no digest lists.
    pub locations: Vec<LocationReport>,
    /// Keys under a `CloudTrail-Digest/` or `CloudTrail/` folder that are not digest or
    /// log keys, and entries a listing returned outside the prefix asked for.
    pub unrecognized_keys: Vec<UnrecognizedKey>,
    /// Listings that failed: what they should have listed is unchecked.
    pub listing_failures: Vec<ListingFailure>,
    /// CloudTrail's records of the trails, as given to the run.
    pub trail_records: Vec<TrailRecord>,
}

impl Report {
    /// The worst severity of the run. No chain at all is incomplete coverage.
    pub fn severity(&self) -> Severity {
        let unrecognized = (!self.unrecognized_keys.is_empty()).then_some(Severity::Incomplete);
        let failures = (!self.listing_failures.is_empty()).then_some(Severity::Unchecked);
        self.chains
            .iter()
            .map(ChainReport::severity)
            .chain(self.locations.iter().map(LocationReport::severity))
            .chain(unrecognized)
            .chain(failures)
            .max()
            .unwrap_or(Severity::Incomplete)
    }
}
