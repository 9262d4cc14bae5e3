//! A chain's report, assembled: counts, the range valid digests cover, and the coverage
//! timeline, recomputed as the run learns what follows the chain's newest digest (its
//! tail) and whether log files were delivered before its starting digest.

use chrono::{DateTime, Utc};

use crate::check::coverage;
use crate::check::tail::Tail;
use crate::format::key_name::ChainId;
use crate::report::Counts;
use crate::report::{
    ChainReport, CoverageReason, CoverageSpan, CoverageState, DigestOutcome, DigestStatus, Notice,
    TimeRange,
};

/// A chain's report while the run still adds to it, with what is known of the time no
/// digest covers (before the starting digest, chain gaps, after the newest digest).
pub(crate) struct ChainBuilder {
    report: ChainReport,
    /// Sorted by start, not overlapping.
    annotations: Vec<CoverageSpan>,
}

impl ChainBuilder {
    /// Builds the report of a chain from its outcomes, computing counts, the found range
    /// and the coverage timeline.
    pub(crate) fn new(
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
        let mut builder = Self {
            report: ChainReport {
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
                slice: None,
            },
            annotations,
        };
        builder.recount();
        builder
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
            .filter(|e| open_end && *e > self.report.requested.end)
        {
            self.report.requested.end = end;
        }
        if !missing.is_empty() || rest.is_some() {
            self.report.notices.retain(|n| *n != Notice::NoDigests);
        }
        if let Some(evidence) = evidence {
            self.report.notices.push(Notice::NewestDeleted {
                after,
                count: missing.len() as u64,
                evidence,
            });
        }
        if let Some((from, to)) = rest {
            self.report.notices.push(Notice::MissingDigests {
                backfill: false,
                from,
                to,
            });
        }
        let missing = missing
            .into_iter()
            .map(|end| inferred_missing(&self.report.chain, &self.report.bucket, end, false));
        self.report.digests.splice(0..0, missing);
        self.annotations.extend(annotations);
        self.annotations.sort_by_key(|a| a.from);
        self.recount();
    }

    /// The spans whose digest is not due yet, beyond the requested range too (a log file
    /// named near its end may be listed by a digest not due yet).
    pub(crate) fn pending(&self) -> impl Iterator<Item = &CoverageSpan> {
        self.annotations
            .iter()
            .chain(&self.report.coverage)
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
        self.report.tally();
        self.report.coverage = coverage::timeline(
            &self.report.digests,
            self.report.requested,
            &self.annotations,
        );
    }

    /// The report as built so far.
    pub(crate) fn report(&self) -> &ChainReport {
        &self.report
    }

    /// The finished report.
    pub(crate) fn finish(self) -> ChainReport {
        self.report
    }
}

/// A digest of `chain` that the timeline shows must exist, ending at `end`, that is not
/// found: its key is the one CloudTrail would have written, its window the hour before.
pub(crate) fn inferred_missing(
    chain: &ChainId,
    bucket: &str,
    end: DateTime<Utc>,
    backfill: bool,
) -> DigestOutcome {
    let key = chain.digest_key(end, backfill);
    let status = DigestStatus::NotFound { inferred: true };
    let mut outcome = DigestOutcome::placeholder(bucket, &key, backfill, status, Some(end));
    outcome.start_time = Some(end - chrono::Duration::hours(1));
    outcome
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
