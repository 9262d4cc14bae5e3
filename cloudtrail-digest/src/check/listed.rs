//! The log files the verified digests of a run list, kept compact: a 128-bit hash of each
//! bucket and key with the digest that listed it first. It answers the two questions asked
//! of every log file: was it listed before (a `duplicate_log` finding), and is a file found
//! in a log folder listed at all (else injected or not covered).
//!
//! About 40 bytes per log file instead of its key, bucket and the listing digest's URL:
//! the run's memory grows by that, not by the length of the keys. The hash is SHA-256,
//! truncated: a file key that collides with a listed one would have to be a second
//! preimage of 128 bits.

use std::collections::HashMap;

use sha2::{Digest as _, Sha256};

/// A log file's identity: the first 16 bytes of SHA-256 over its bucket, a NUL, its key.
type LogId = [u8; 16];

fn log_id(bucket: &str, key: &str) -> LogId {
    let hash = Sha256::new()
        .chain_update(bucket)
        .chain_update([0])
        .chain_update(key)
        .finalize();
    let mut id = [0; 16];
    id.copy_from_slice(&hash[..16]);
    id
}

/// Which digest first listed each log file, over every chain of a run.
#[derive(Debug, Default)]
pub(crate) struct ListedLogs {
    /// Log file to the index of the digest that listed it first.
    first: HashMap<LogId, u32>,
    /// The `s3://` URL of each digest that listed a file, by index.
    digests: Vec<String>,
}

/// A digest registered with [`ListedLogs::add_digest`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct DigestRef(u32);

impl ListedLogs {
    /// Registers a verified digest by its `s3://` URL, before its log files.
    pub(crate) fn add_digest(&mut self, url: String) -> DigestRef {
        // Past u32::MAX digests (490,000 years of hourly digests) indexes would wrap; the
        // saturation keeps the set correct and only names a wrong first digest.
        let index = u32::try_from(self.digests.len()).unwrap_or(u32::MAX);
        self.digests.push(url);
        DigestRef(index)
    }

    /// Records that `digest` lists the log file; returns the URL of the digest that listed
    /// it before, if one did.
    pub(crate) fn insert(&mut self, bucket: &str, key: &str, digest: DigestRef) -> Option<&str> {
        match self.first.entry(log_id(bucket, key)) {
            std::collections::hash_map::Entry::Occupied(e) => {
                let index = usize::try_from(*e.get()).unwrap_or(usize::MAX);
                self.digests.get(index).map(String::as_str)
            }
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(digest.0);
                None
            }
        }
    }

    /// Whether any digest lists the log file.
    pub(crate) fn contains(&self, bucket: &str, key: &str) -> bool {
        self.first.contains_key(&log_id(bucket, key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_first_digest_and_tells_buckets_apart() {
        let mut listed = ListedLogs::default();
        let a = listed.add_digest("s3://b/digest-a".into());
        let b = listed.add_digest("s3://b/digest-b".into());
        assert_eq!(listed.insert("b", "log-1", a), None);
        assert_eq!(listed.insert("b", "log-2", a), None);
        assert_eq!(listed.insert("b", "log-1", b), Some("s3://b/digest-a"));
        assert_eq!(listed.insert("other", "log-1", b), None);
        assert!(listed.contains("b", "log-2"));
        assert!(!listed.contains("b", "log-3"));
        // The separator keeps ("ab", "c") and ("a", "bc") apart.
        assert_eq!(listed.insert("ab", "c", a), None);
        assert_eq!(listed.insert("a", "bc", a), None);
    }
}
