//! The coverage timeline's vocabulary: the state of each span of a chain's requested
//! range, and why time no digest covers is not covered.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::severity::Severity;
use crate::format::time::display as time;

/// The state of a span of a chain's timeline, from best to worst: where windows overlap,
/// the timeline takes the greatest (the order of the variants is the order of `Ord`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CoverageState {
    /// A verified digest with log files covers it.
    Verified,
    /// A verified digest that lists no log file covers it.
    Empty,
    /// Before a chain's verified starting digest, with no log file delivered: validation
    /// had not started (a trail created, a region enabled, an account joined), nothing to
    /// cover.
    BeforeStart,
    /// After a chain's newest digest, while the next one is not due yet (a live trail's
    /// last hour).
    Pending,
    /// No digest covers it: validation or logging was off, or digests are gone.
    NotCovered,
    /// Its digest has no signature to verify it with (a local copy without metadata).
    Unverified,
    /// Its digest could not be read.
    Unchecked,
    /// Its digest is missing.
    Missing,
    /// Its digest is invalid.
    Invalid,
}

impl CoverageState {
    /// How this state counts.
    pub fn severity(self) -> Severity {
        match self {
            Self::Verified | Self::Empty | Self::BeforeStart | Self::Pending => Severity::Valid,
            Self::NotCovered | Self::Unverified => Severity::Incomplete,
            Self::Unchecked => Severity::Unchecked,
            Self::Missing | Self::Invalid => Severity::Invalid,
        }
    }
}

/// Why a span no digest covers is not covered, where something tells.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "reason", rename_all = "snake_case")]
#[non_exhaustive]
pub enum CoverageReason {
    /// A new chain starts after it (a starting digest): validation or logging was off.
    ChainGap,
    /// Log files were delivered before the chain's starting digest: validation had not
    /// started while logging had.
    LogsBeforeStart,
    /// CloudTrail's record says log file validation is turned off.
    ValidationOff,
    /// CloudTrail's record says logging stopped (at this time, if it says when).
    LoggingStopped {
        /// `StopLoggingTime`.
        at: Option<DateTime<Utc>>,
    },
    /// CloudTrail's record reports an error delivering digests.
    DigestDeliveryError {
        /// `LatestDigestDeliveryError`.
        error: String,
    },
    /// The digests stop while this location's log files go on, and nothing tells whether
    /// validation was turned off or the newest digests were deleted.
    DigestsStop {
        /// End of the newest digest.
        last_digest: DateTime<Utc>,
        /// The newest log file found after it.
        logs_until: DateTime<Utc>,
    },
    /// This region's digests stop while the trail's go on elsewhere: the region was removed
    /// from the trail or disabled, or its newest digests were deleted.
    RegionStops {
        /// End of the newest digest here.
        last_digest: DateTime<Utc>,
        /// End of the trail's newest verified digest elsewhere, or its latest delivery.
        trail_until: DateTime<Utc>,
    },
}

impl fmt::Display for CoverageReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text: String = match self {
            Self::ChainGap => "a new chain starts after it: validation or logging was off".into(),
            Self::LogsBeforeStart => {
                "log files were delivered before validation started".into()
            }
            Self::ValidationOff => {
                "CloudTrail says log file validation is turned off".into()
            }
            Self::LoggingStopped { at: Some(at) } => {
                format!("CloudTrail says logging stopped at {}", time(*at))
            }
            Self::LoggingStopped { at: None } => "CloudTrail says logging is stopped".into(),
            Self::DigestDeliveryError { error } => {
                format!("CloudTrail reports a digest delivery error: {error}")
            }
            Self::DigestsStop { last_digest, logs_until } => format!(
                "digests stop at {} while log files continue to {}: either log file validation was turned off or the newest digests were deleted",
                time(*last_digest),
                time(*logs_until)
            ),
            Self::RegionStops { last_digest, trail_until } => format!(
                "this region's digests stop at {} while the trail's continue to {}: the region was removed from the trail or disabled, or its newest digests were deleted",
                time(*last_digest),
                time(*trail_until)
            ),
        };
        f.write_str(&text)
    }
}

/// A span of a chain's timeline with one state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct CoverageSpan {
    /// Start (inclusive).
    pub from: DateTime<Utc>,
    /// End (exclusive).
    pub to: DateTime<Utc>,
    /// Its state.
    pub state: CoverageState,
    /// Why it is not covered, where something tells.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub reason: Option<CoverageReason>,
}

/// Appends `span` to a timeline, merged into the last span if it continues it with the
/// same state and reason.
pub(crate) fn push_merged(spans: &mut Vec<CoverageSpan>, span: CoverageSpan) {
    match spans.last_mut() {
        Some(last)
            if last.state == span.state && last.reason == span.reason && last.to == span.from =>
        {
            last.to = span.to;
        }
        _ => spans.push(span),
    }
}

impl CoverageSpan {
    /// A span without a reason.
    pub(crate) fn new(from: DateTime<Utc>, to: DateTime<Utc>, state: CoverageState) -> Self {
        Self {
            from,
            to,
            state,
            reason: None,
        }
    }
}

impl CoverageSpan {
    /// Its length in whole hours, rounded to the nearest.
    pub fn hours(&self) -> i64 {
        (self.to - self.from + chrono::Duration::minutes(30)).num_hours()
    }
}
