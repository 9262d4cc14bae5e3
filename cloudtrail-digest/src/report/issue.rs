//! One flat list of everything that keeps a run from being fully verified: each integrity
//! finding, each file that could not be checked or verified, each span no digest covers,
//! with its object and its reason. The report's severity is the worst of them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::chain::{ChainReport, Notice};
use super::coverage::{CoverageSpan, CoverageState};
use super::digest::DigestStatus;
use super::finding::Finding;
use super::location::{
    DeletionEvidence, ListingFailure, LocationReport, NotChecked, UnlistedStatus, UnrecognizedKey,
};
use super::log::LogStatus;
use super::severity::Severity;

use crate::format::key_name::{ChainId, Location};
use crate::store::object::StoreErrorKind;

/// One thing that is not verified: what it is about and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Issue {
    /// How it counts.
    pub severity: Severity,
    /// The bucket of the object it is about, if it is about one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub bucket: Option<String>,
    /// The key of the object (or the prefix) it is about, if any.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub key: Option<String>,
    /// The chain it belongs to, if any.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub chain: Option<ChainId>,
    /// What it is.
    #[serde(flatten)]
    pub kind: IssueKind,
}

/// What an [`Issue`] is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "issue", rename_all = "snake_case")]
#[non_exhaustive]
pub enum IssueKind {
    /// A digest file's verdict is not valid.
    Digest {
        /// The verdict.
        verdict: DigestStatus,
    },
    /// An integrity finding about a digest file beyond its signature.
    DigestFinding {
        /// The finding.
        finding: Finding,
    },
    /// A log file a digest lists is not valid.
    Log {
        /// The verdict.
        verdict: LogStatus,
        /// The digest that lists it.
        digest: String,
    },
    /// A log file no digest lists, injected or not verifiable.
    UnlistedLog {
        /// Its classification.
        status: UnlistedStatus,
        /// The delivery time its name gives.
        delivery_time: DateTime<Utc>,
    },
    /// A chain-level notice: a gap, no digest in range, digests missing or deleted.
    Notice {
        /// The notice.
        notice: Notice,
    },
    /// Time in the requested range no digest covers.
    NotCovered {
        /// The span, with its reason where one is known.
        span: CoverageSpan,
    },
    /// Log files at a location where no digest of any trail is.
    NoDigests {
        /// The location.
        location: Location,
        /// What proves its digests deleted, when something does.
        deleted: Option<DeletionEvidence>,
    },
    /// The log files no digest lists at a location were not classified.
    NotChecked {
        /// The location.
        location: Location,
        /// Why.
        reason: NotChecked,
    },
    /// A key that is not a digest or log key, or a stray entry of a listing.
    UnrecognizedKey {
        /// Why it is not recognized.
        reason: String,
    },
    /// A listing failed: what it should have listed is unchecked.
    ListingFailed {
        /// The kind of failure.
        error: StoreErrorKind,
        /// Why.
        reason: String,
    },
    /// No digest chain was found at all.
    NoChains,
}

fn issue(severity: Severity, kind: IssueKind) -> Issue {
    Issue {
        severity,
        bucket: None,
        key: None,
        chain: None,
        kind,
    }
}

impl Issue {
    fn on(mut self, bucket: &str, key: &str) -> Self {
        self.bucket = Some(bucket.to_owned());
        self.key = Some(key.to_owned());
        self
    }

    fn in_chain(mut self, chain: &ChainId) -> Self {
        self.chain = Some(chain.clone());
        self
    }
}

/// The issues of one chain: its digests and their findings, the log files they list,
/// its notices and the time no digest covers.
fn chain_issues(chain: &ChainReport, out: &mut Vec<Issue>) {
    for d in &chain.digests {
        let severity = d.status.severity();
        if severity != Severity::Valid {
            let kind = IssueKind::Digest {
                verdict: d.status.clone(),
            };
            out.push(
                issue(severity, kind)
                    .on(&d.bucket, &d.key)
                    .in_chain(&chain.chain),
            );
        }
        for finding in &d.findings {
            let kind = IssueKind::DigestFinding {
                finding: finding.clone(),
            };
            out.push(
                issue(Severity::Invalid, kind)
                    .on(&d.bucket, &d.key)
                    .in_chain(&chain.chain),
            );
        }
        for log in d
            .logs
            .iter()
            .filter(|l| l.status.severity() != Severity::Valid)
        {
            let kind = IssueKind::Log {
                verdict: log.status.clone(),
                digest: d.key.clone(),
            };
            let severity = log.status.severity();
            out.push(
                issue(severity, kind)
                    .on(&log.bucket, &log.key)
                    .in_chain(&chain.chain),
            );
        }
    }
    for notice in &chain.notices {
        let kind = IssueKind::Notice {
            notice: notice.clone(),
        };
        out.push(issue(notice.severity(), kind).in_chain(&chain.chain));
    }
    for span in chain
        .coverage
        .iter()
        .filter(|s| s.state == CoverageState::NotCovered)
    {
        let kind = IssueKind::NotCovered { span: span.clone() };
        out.push(issue(span.state.severity(), kind).in_chain(&chain.chain));
    }
}

/// The issues of one location's log-folder listing.
fn location_issues(location: &LocationReport, out: &mut Vec<Issue>) {
    let bucket = &location.bucket;
    for log in location
        .unlisted
        .iter()
        .filter(|l| l.status != UnlistedStatus::Pending)
    {
        let kind = IssueKind::UnlistedLog {
            status: log.status,
            delivery_time: log.delivery_time,
        };
        out.push(issue(log.status.severity(), kind).on(bucket, &log.key));
    }
    if location.no_digests {
        let severity = if location.deleted.is_some() {
            Severity::Invalid
        } else {
            Severity::Incomplete
        };
        let kind = IssueKind::NoDigests {
            location: location.location.clone(),
            deleted: location.deleted.clone(),
        };
        out.push(issue(severity, kind).on(bucket, &location.location.log_prefix()));
    }
    if let Some(reason) = &location.not_checked {
        let kind = IssueKind::NotChecked {
            location: location.location.clone(),
            reason: reason.clone(),
        };
        out.push(issue(Severity::Incomplete, kind).on(bucket, &location.location.log_prefix()));
    }
}

/// Every issue of a run, in report order: chains, locations, keys, listings.
pub(super) fn collect(
    bucket: &str,
    chains: &[ChainReport],
    locations: &[LocationReport],
    unrecognized: &[UnrecognizedKey],
    failures: &[ListingFailure],
) -> Vec<Issue> {
    let mut out = Vec::new();
    if chains.is_empty() {
        out.push(issue(Severity::Incomplete, IssueKind::NoChains));
    }
    for chain in chains {
        chain_issues(chain, &mut out);
    }
    for location in locations {
        location_issues(location, &mut out);
    }
    for u in unrecognized {
        let kind = IssueKind::UnrecognizedKey {
            reason: u.reason.clone(),
        };
        out.push(issue(Severity::Incomplete, kind).on(bucket, &u.key));
    }
    for f in failures {
        let kind = IssueKind::ListingFailed {
            error: f.error,
            reason: f.reason.clone(),
        };
        out.push(issue(Severity::Unchecked, kind).on(bucket, &f.prefix));
    }
    out
}
