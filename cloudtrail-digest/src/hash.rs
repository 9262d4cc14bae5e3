//! Log file checks: inflate and SHA-256 in one streaming pass, compared with the digest's
//! `hashValue` (AWS CloudTrail User Guide, "Custom implementations…", step "Validate log
//! files"). Fetching and hashing run through [`ObjectStore::get_each`], on the rayon pool.

use std::cell::RefCell;
use std::sync::Mutex;

use sha2::Digest as _;

use crate::digest::LogFileEntry;
use crate::gzip::{self, GzipError};
use crate::hexvalue::Sha256Hash;
use crate::progress::Progress;
use crate::report::{LogOutcome, LogStatus};
use crate::store::{Body, ObjectInfo, ObjectStore, StoreError, StoreErrorKind};

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
pub fn inflate_sha256_read(
    reader: &mut dyn std::io::Read,
    scratch: &mut Scratch,
) -> Result<Sha256Hash, GzipError> {
    let mut hasher = sha2::Sha256::new();
    scratch.inflate_read(reader, u64::MAX, |chunk| hasher.update(chunk))?;
    Ok(Sha256Hash(hasher.finalize().into()))
}

/// The verdict on a log file from its inflated content's SHA-256, or why it has none. A
/// read that failed is no verdict on the file: unchecked.
fn verdict(expected: &Sha256Hash, inflated: Result<Sha256Hash, GzipError>) -> LogStatus {
    match inflated {
        Ok(actual) if actual == *expected => LogStatus::Valid,
        Ok(actual) => LogStatus::HashMismatch {
            expected: *expected,
            actual,
        },
        Err(GzipError::TrailingData) => LogStatus::TrailingData,
        Err(GzipError::Read(reason)) => LogStatus::Unchecked {
            reason: format!("reading it failed: {reason}"),
        },
        Err(e) => LogStatus::InvalidFormat {
            reason: e.to_string(),
        },
    }
}

/// The verdict on a file whose read failed: `not found` is a finding, anything else leaves
/// the file unchecked, never valid and never tampered.
pub(crate) fn unreadable(error: &StoreError) -> Result<(), String> {
    if error.kind() == StoreErrorKind::NotFound {
        Ok(())
    } else {
        Err(error.reason().to_owned())
    }
}

thread_local! {
    /// One inflate buffer per thread, reused for every file that thread checks.
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// The verdict on a log file from the result of reading it: a body in memory is checked
/// whole, a large one as it arrives.
pub fn check_log(entry: &LogFileEntry, read: Result<Body, &StoreError>) -> LogStatus {
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
        Err(e) => match unreadable(e) {
            Ok(()) => LogStatus::NotFound,
            Err(reason) => LogStatus::Unchecked { reason },
        },
    }
}

/// Fetches and checks log files concurrently, returning their outcomes in the order given.
pub fn check_logs<S: ObjectStore + ?Sized>(
    store: &S,
    entries: &[&LogFileEntry],
    progress: &dyn Progress,
) -> Vec<LogOutcome> {
    let requests: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| (e.s3_bucket.as_str(), e.s3_object.as_str()))
        .collect();
    let statuses: Mutex<Vec<Option<(LogStatus, ObjectInfo)>>> =
        Mutex::new(vec![None; entries.len()]);
    store.get_each(&requests, &|i, result| {
        let (read, info, size) = match result {
            Ok(o) => (Ok(o.body), o.info, o.size.unwrap_or(0)),
            Err(e) => (Err(e), ObjectInfo::default(), 0),
        };
        let status = match read {
            Ok(body) => check_log(entries[i], Ok(body)),
            Err(e) => check_log(entries[i], Err(&e)),
        };
        progress.log_done(size);
        if let Ok(mut slots) = statuses.lock() {
            slots[i] = Some((status, info));
        }
    });
    let statuses = statuses
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    entries
        .iter()
        .zip(statuses)
        .map(|(entry, result)| {
            // A store that skipped a request leaves the file unchecked, never valid.
            let (status, object) = result.unwrap_or_else(|| {
                let reason = "the store returned no result for this file".into();
                (LogStatus::Unchecked { reason }, ObjectInfo::default())
            });
            LogOutcome {
                bucket: entry.s3_bucket.clone(),
                key: entry.s3_object.clone(),
                status,
                object,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gzip::gzip;

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
                reason: "not gzip".into()
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
                reason: "corrupt gzip stream: truncated".into()
            }
        );
    }
}
