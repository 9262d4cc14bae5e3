//! The verdicts of one digest chain: its digests (with their log files), chain-level
//! notices, counts and the coverage timeline.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::coverage::CoverageSpan;
use super::digest::{DigestOutcome, DigestStatus};
use super::location::DeletionEvidence;
use super::severity::{Counts, Severity};
use crate::format::key_name::ChainId;

/// A chain-level notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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

/// A time range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TimeRange {
    /// Start.
    pub start: DateTime<Utc>,
    /// End.
    pub end: DateTime<Utc>,
}

/// The verdicts of one chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
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
    /// In a shard's report, when the shard validated time slices of the chain's account
    /// and region ([`crate::report::SlicedUnit`]): where its digests stand in the whole
    /// chain. Its digests, coverage and notices are then those its slices own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slice: Option<ChainSlice>,
}

/// Where a slice's digests stand among the whole chain's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct ChainSlice {
    /// How many digests the whole chain's report has.
    pub of: u64,
    /// The position of each of this report's digests in it, in order.
    pub positions: Vec<u64>,
}

impl ChainReport {
    /// Recomputes the counts and the found range from the digests.
    pub(crate) fn tally(&mut self) {
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
