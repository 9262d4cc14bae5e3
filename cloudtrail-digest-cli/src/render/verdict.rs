//! The verdicts in words, as the text output prints them after a key: the reference's
//! (`valid`, `INVALID: not found`, ...) and this tool's for what the reference does not
//! check.

use cloudtrail_digest::report::{CoverageState, DigestStatus, LogStatus, Notice, UnlistedStatus};

/// A digest file's verdict.
pub(crate) fn digest(status: &DigestStatus) -> String {
    match status {
        DigestStatus::Valid => "valid".into(),
        DigestStatus::NotFound { inferred: false } => "INVALID: not found".into(),
        DigestStatus::NotFound { inferred: true } => {
            "INVALID: not found (inferred: no digest covers this hour)".into()
        }
        DigestStatus::InvalidFormat { problem } => format!("INVALID: invalid format ({problem})"),
        DigestStatus::Moved { .. } => "INVALID: has been moved from its original location".into(),
        DigestStatus::UnknownKey {
            region,
            fingerprint,
        } => format!(
            "INVALID: public key not found in region {region} for fingerprint {fingerprint}"
        ),
        DigestStatus::UnloadableKey { fingerprint } => {
            format!("INVALID: Unable to load PKCS #1 key with fingerprint {fingerprint}")
        }
        DigestStatus::SignatureMismatch => "INVALID: signature verification failed".into(),
        DigestStatus::SignatureMissing { entry } => {
            format!("INVALID: signature verification failed (S3 metadata has no {entry})")
        }
        DigestStatus::SignatureMalformed => {
            "INVALID: signature verification failed (signature is not hex)".into()
        }
        DigestStatus::Unverifiable { reason } => format!("UNVERIFIED: {reason}"),
        DigestStatus::Unchecked { reason } => format!("UNCHECKED: {reason}"),
        DigestStatus::OffChain => "INVALID: not on the chain (no digest links to it)".into(),
        other => format!("INVALID: {other:?}"),
    }
}

/// A listed log file's verdict.
pub(crate) fn log(status: &LogStatus) -> String {
    match status {
        LogStatus::Valid => "valid".into(),
        LogStatus::NotFound => "INVALID: not found".into(),
        LogStatus::HashMismatch { expected, actual } => {
            format!("INVALID: hash value doesn't match (expected {expected}, actual {actual})")
        }
        LogStatus::InvalidFormat { problem } => format!("INVALID: invalid format ({problem})"),
        LogStatus::TrailingData => "INVALID: unexpected data after end of compressed stream".into(),
        LogStatus::Unchecked { reason } => format!("UNCHECKED: {reason}"),
        other => format!("INVALID: {other:?}"),
    }
}

/// The verdict on a log file no digest lists.
pub(crate) fn unlisted(status: UnlistedStatus) -> &'static str {
    match status {
        UnlistedStatus::Injected => {
            "INVALID: no digest lists it, yet it was delivered inside verified coverage (injected)"
        }
        UnlistedStatus::Pending => {
            "PENDING: delivered after the newest digest, whose successor is not due yet"
        }
        UnlistedStatus::Unchecked => {
            "UNCHECKED: delivered in the hour of a digest that could not be read"
        }
        UnlistedStatus::NotCovered => "NOT COVERED: no verified digest covers its delivery time",
        _ => "NOT COVERED: not classified by this version",
    }
}

/// A coverage state in words, for the summary.
pub(crate) fn coverage(state: CoverageState) -> &'static str {
    match state {
        CoverageState::Verified => "verified",
        CoverageState::Empty => "empty",
        CoverageState::BeforeStart => "before validation started",
        CoverageState::Pending => "pending",
        CoverageState::NotCovered => "not covered",
        CoverageState::Unverified => "unverified",
        CoverageState::Unchecked => "unchecked",
        CoverageState::Missing => "missing",
        CoverageState::Invalid => "invalid",
        _ => "unknown",
    }
}

/// A chain's notice in words.
pub(crate) fn notice(notice: &Notice) -> String {
    let at = |t: &chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    match notice {
        Notice::Gap { backfill, from, to } => format!(
            "no {}digest covers {} to {}: a new chain starts after it (validation or logging was off)",
            if *backfill { "backfill " } else { "" },
            at(from),
            at(to)
        ),
        Notice::NoDigests => "no digest of the chain lies in the requested range".into(),
        Notice::NewestDeleted {
            after,
            count,
            evidence,
        } => format!(
            "the {count} hourly digests after the newest one found (ending {}) were deleted: {evidence}",
            at(after)
        ),
        Notice::MissingDigests { from, to, .. } => format!(
            "every hourly digest ending {} to {} is missing",
            at(from),
            at(to)
        ),
        other => format!("{other:?}"),
    }
}
