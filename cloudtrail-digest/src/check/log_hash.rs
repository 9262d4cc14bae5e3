//! Log file checks: inflate and SHA-256 in one streaming pass, compared with the digest's
//! `hashValue` (AWS CloudTrail User Guide, "Custom implementations…", step "Validate log
//! files").

// Public for the `testing` feature, which hands it to the benches and fuzzers.
#![cfg_attr(not(feature = "testing"), allow(unreachable_pub))]

use std::cell::RefCell;

use sha2::Digest as _;

use crate::check::unchecked;
use crate::format::digest_file::LogFileEntry;
use crate::format::gzip::{self, GzipError};
use crate::format::hex::Sha256Hash;
use crate::report::{FormatProblem, LogStatus, UncheckedReason};
use crate::store::body::Body;
use crate::store::object::StoreError;

/// Reusable state for [`check_log_bytes`]: the inflater and its buffer.
pub type Scratch = gzip::Inflater;

/// SHA-256 of the content of the single gzip member in `gz`.
pub fn inflate_sha256(gz: &[u8], scratch: &mut Scratch) -> Result<Sha256Hash, GzipError> {
    let mut hasher = sha2::Sha256::new();
    scratch.inflate_each(gz, u64::MAX, |chunk| hasher.update(chunk))?;
    Ok(Sha256Hash(hasher.finalize().into()))
}

/// Checks a log file's stored bytes against the digest's `hashValue`.
pub fn check_log_bytes(expected: &Sha256Hash, gz: &[u8], scratch: &mut Scratch) -> LogStatus {
    verdict(expected, inflate_sha256(gz, scratch))
}

/// SHA-256 of the content of the single gzip member read from `reader` as it arrives.
pub(crate) fn inflate_sha256_read(
    reader: &mut dyn std::io::Read,
    scratch: &mut Scratch,
) -> Result<Sha256Hash, GzipError> {
    let mut hasher = sha2::Sha256::new();
    scratch.inflate_read(reader, u64::MAX, |chunk| hasher.update(chunk))?;
    Ok(Sha256Hash(hasher.finalize().into()))
}

/// The verdict on a log file from its inflated content's SHA-256, or why it has none. A
/// read that failed part-way is no verdict on the file: unchecked.
fn verdict(expected: &Sha256Hash, inflated: Result<Sha256Hash, GzipError>) -> LogStatus {
    match inflated {
        Ok(actual) if actual == *expected => LogStatus::Valid,
        Ok(actual) => LogStatus::HashMismatch {
            expected: *expected,
            actual,
        },
        Err(GzipError::TrailingData) => LogStatus::TrailingData,
        Err(GzipError::Read(message)) => LogStatus::Unchecked {
            reason: UncheckedReason::ReadInterrupted { message },
        },
        Err(e) => match FormatProblem::of_gzip(e) {
            Some(problem) => LogStatus::InvalidFormat { problem },
            None => LogStatus::Unchecked {
                reason: UncheckedReason::ReadInterrupted {
                    message: "the read failed".into(),
                },
            },
        },
    }
}

thread_local! {
    /// One inflate buffer per thread, reused for every file that thread checks.
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// The verdict on a log file from the result of reading it: a body in memory is checked
/// whole, a large one as it arrives; a read that failed is `not found` (a finding) or
/// leaves the file unchecked.
pub(crate) fn check_log(entry: &LogFileEntry, read: Result<Body, &StoreError>) -> LogStatus {
    let expected = &entry.hash_value;
    match read {
        Ok(body) => SCRATCH.with(|s| {
            let scratch = &mut s.borrow_mut();
            match body.as_bytes() {
                Some(bytes) => check_log_bytes(expected, bytes, scratch),
                None => verdict(
                    expected,
                    inflate_sha256_read(&mut body.into_reader(), scratch),
                ),
            }
        }),
        Err(e) => match unchecked(e) {
            None => LogStatus::NotFound,
            Some(reason) => LogStatus::Unchecked { reason },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::gzip::gzip;

    #[test]
    fn verdicts() {
        let content = b"{\"Records\":[{\"eventName\":\"x\"}]}";
        let good = Sha256Hash::of(content);
        let gz = gzip(content);
        let s = &mut Scratch::default();
        assert_eq!(check_log_bytes(&good, &gz, s), LogStatus::Valid);
        let other = Sha256Hash::of(b"other");
        assert_eq!(
            check_log_bytes(&other, &gz, s),
            LogStatus::HashMismatch {
                expected: other,
                actual: good
            }
        );
        assert_eq!(
            check_log_bytes(&good, content, s),
            LogStatus::InvalidFormat {
                problem: FormatProblem::NotGzip
            }
        );
        let mut appended = gz.clone();
        appended.extend_from_slice(&gzip(b"{}"));
        assert_eq!(
            check_log_bytes(&good, &appended, s),
            LogStatus::TrailingData
        );
        assert_eq!(
            check_log_bytes(&good, &gz[..gz.len() / 2], s),
            LogStatus::InvalidFormat {
                problem: FormatProblem::CorruptGzip {
                    detail: "truncated".into()
                }
            }
        );
    }
}
