//! What a location's log-folder listing found: the log files no digest lists, locations
//! with log files and no digest, and keys or listings that could not be accounted for.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::severity::Severity;
use crate::format::key_name::Location;
use crate::format::time::display as time;
use crate::store::object::StoreErrorKind;

/// The log files of one location (account and region) and what no digest accounts for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct LocationReport {
    /// The bucket listed.
    pub bucket: String,
    /// The location.
    #[serde(flatten)]
    pub location: Location,
    /// The trails whose digests were found here.
    pub trails: Vec<String>,
    /// The time range whose log files were listed (open-ended: up to the newest found).
    pub listed_from: DateTime<Utc>,
    /// End of that range, if bounded.
    pub listed_to: Option<DateTime<Utc>>,
    /// Log files found in the range.
    pub logs_found: u64,
    /// Those no digest lists.
    pub unlisted: Vec<UnlistedLog>,
    /// Log files exist in the range but no digest of any trail does: validation was off,
    /// or every digest was deleted. Incomplete coverage, unless `deleted` says which.
    pub no_digests: bool,
    /// What proves the digests of this location were deleted, when something does: an
    /// integrity finding.
    pub deleted: Option<DeletionEvidence>,
    /// Why unlisted log files were not classified, if they were not.
    pub not_checked: Option<NotChecked>,
}

/// Why the log files no digest lists were not classified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum NotChecked {
    /// The location's digests could not be listed: those log files may well be listed by
    /// them.
    DigestsNotListed {
        /// The listing that failed.
        prefix: String,
        /// Why.
        reason: String,
        /// How many log files no digest found lists.
        logs: u64,
    },
    /// Another trail delivers here and was not validated: its digests may list them.
    TrailsNotValidated {
        /// Those trails.
        trails: Vec<String>,
        /// How many log files no validated digest lists.
        logs: u64,
    },
}

impl fmt::Display for NotChecked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DigestsNotListed { prefix, reason, logs } => write!(
                f,
                "the digests here could not be listed ({prefix}: {reason}), so the {logs} log files no digest found lists are not classified"
            ),
            Self::TrailsNotValidated { trails, logs } => write!(
                f,
                "trail {} also delivers here and was not validated: validate every trail to classify the {logs} log files no validated digest lists",
                trails.join(", ")
            ),
        }
    }
}

/// How a log file that no digest lists is classified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum UnlistedStatus {
    /// Delivered inside verified coverage, yet no digest lists it: injected.
    Injected,
    /// Delivered after the newest digest, whose successor is not due yet.
    Pending,
    /// Delivered in the hour of a digest that could not be read: it may be listed there.
    Unchecked,
    /// Delivered where no verified digest covers it: it cannot be verified.
    NotCovered,
}

impl UnlistedStatus {
    /// How this counts.
    pub fn severity(self) -> Severity {
        match self {
            Self::Injected => Severity::Invalid,
            Self::Pending => Severity::Valid,
            Self::Unchecked => Severity::Unchecked,
            Self::NotCovered => Severity::Incomplete,
        }
    }
}

/// A log file that no digest lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct UnlistedLog {
    /// Its key.
    pub key: String,
    /// The delivery time its name gives (minute precision).
    pub delivery_time: DateTime<Utc>,
    /// Its classification.
    pub status: UnlistedStatus,
}

/// What proves that digests were deleted after the newest one found (or all of them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "evidence", rename_all = "snake_case")]
#[non_exhaustive]
pub enum DeletionEvidence {
    /// CloudTrail's `GetTrailStatus` says the trail delivered digests until a time for
    /// which none is here.
    CloudTrailRecord {
        /// The trail.
        trail_arn: String,
        /// `LatestDigestDeliveryTime`.
        latest_digest_delivery: DateTime<Utc>,
        /// When the record was read.
        read_at: DateTime<Utc>,
    },
    /// This location's log files go on past its newest digest while the trail's digests
    /// elsewhere (or CloudTrail's record) show validation still on.
    LogsContinue {
        /// The newest log file found here.
        logs_until: DateTime<Utc>,
        /// Until when the trail is shown to validate.
        trail_until: DateTime<Utc>,
    },
}

impl fmt::Display for DeletionEvidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Self::CloudTrailRecord {
                trail_arn,
                latest_digest_delivery,
                read_at,
            } => format!(
                "CloudTrail's record of {trail_arn} (read at {}) says it delivered digests until {}",
                time(*read_at),
                time(*latest_digest_delivery)
            ),
            Self::LogsContinue {
                logs_until,
                trail_until,
            } => format!(
                "log files here continue to {} while the trail validated until {}",
                time(*logs_until),
                time(*trail_until)
            ),
        };
        f.write_str(&text)
    }
}

impl LocationReport {
    /// The worst severity here.
    pub fn severity(&self) -> Severity {
        let no_digests = self.no_digests.then_some(if self.deleted.is_some() {
            Severity::Invalid
        } else {
            Severity::Incomplete
        });
        let skipped = self.not_checked.as_ref().map(|_| Severity::Incomplete);
        self.unlisted
            .iter()
            .map(|l| l.status.severity())
            .chain(no_digests)
            .chain(skipped)
            .max()
            .unwrap_or(Severity::Valid)
    }
}

/// A key under `CloudTrail-Digest/` or `CloudTrail/` that is not a digest or log key, or
/// an entry a listing returned outside the prefix asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct UnrecognizedKey {
    /// The key.
    pub key: String,
    /// Why it is not a digest or log key.
    pub reason: String,
}

/// A listing that failed: what it should have listed is unchecked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ListingFailure {
    /// The prefix listed.
    pub prefix: String,
    /// The kind of failure.
    pub error: StoreErrorKind,
    /// Why it failed.
    pub reason: String,
}
