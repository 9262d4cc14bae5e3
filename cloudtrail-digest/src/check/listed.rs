//! The log files the verified digests of a run list, kept compact: a 128-bit hash of each
//! bucket and key with the digest that listed it first. It answers the two questions asked
//! of every log file: was it listed before (a `duplicate_log` finding), and is a file found
//! in a log folder listed at all (else injected or not covered).
//!
//! Listings count per account and region: a digest that lists a log file of another
//! account or region is a finding of its own and vouches for nothing there, so what one
//! account and region's digests list never depends on another's (and a run split by
//! account and region is the same run).
//!
//! About 26 bytes per log file instead of its key, bucket and the listing digest's URL
//! (see [`IdTable`]): the run's memory grows by that, not by the length of the keys. The
//! hash is SHA-256 over a per-process secret salt, truncated: a file key that collides
//! with a listed one would have to be a second preimage of 128 bits, and no one can choose
//! keys whose ids cluster in the table.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher as _, Hasher as _};
use std::sync::OnceLock;

use sha2::{Digest as _, Sha256};

use super::id_table::{Id as LogId, IdTable};

/// The account and region whose digests list a log file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scope<'a> {
    pub(crate) account_id: &'a str,
    pub(crate) region: &'a str,
}

impl<'a> Scope<'a> {
    pub(crate) fn of(location: &'a crate::format::key_name::Location) -> Self {
        Self {
            account_id: &location.account_id,
            region: &location.region,
        }
    }
}

/// The secret salt of this process's ids, from the standard library's random hasher keys.
fn salt() -> &'static [u8; 16] {
    static SALT: OnceLock<[u8; 16]> = OnceLock::new();
    SALT.get_or_init(|| {
        let mut salt = [0; 16];
        for (half, bytes) in salt.chunks_mut(8).enumerate() {
            let mut hasher = RandomState::new().build_hasher();
            hasher.write_usize(half);
            bytes.copy_from_slice(&hasher.finish().to_le_bytes());
        }
        salt
    })
}

fn log_id(scope: Scope<'_>, bucket: &str, key: &str) -> LogId {
    let hash = Sha256::new()
        .chain_update(salt())
        .chain_update(scope.account_id)
        .chain_update([0])
        .chain_update(scope.region)
        .chain_update([0])
        .chain_update(bucket)
        .chain_update([0])
        .chain_update(key)
        .finalize();
    let mut id = [0; 16];
    id.copy_from_slice(&hash[..16]);
    id
}

/// Which digest first listed each log file, over every chain of a run.
#[derive(Debug, Default, Clone)]
pub(crate) struct ListedLogs {
    /// Log file (the first 16 bytes of SHA-256 over the salt, the account and region of
    /// the digests that list it, its bucket and its key, NUL-separated) to the index of
    /// the digest that listed it first.
    first: IdTable,
    /// The `s3://` URL of each digest that listed a file, by index.
    digests: Vec<String>,
}

/// A digest registered with [`ListedLogs::add_digest`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct DigestRef(u32);

impl ListedLogs {
    /// Registers a verified digest by its `s3://` URL, before its log files.
    pub(crate) fn add_digest(&mut self, url: String) -> DigestRef {
        // Past u32::MAX - 1 digests (490,000 years of hourly digests) indexes would wrap;
        // the saturation keeps the set correct and only names a wrong first digest.
        let index = u32::try_from(self.digests.len())
            .map_or(IdTable::MAX_VALUE, |i| i.min(IdTable::MAX_VALUE));
        self.digests.push(url);
        DigestRef(index)
    }

    /// Records that `digest` lists the log file; returns the URL of the digest that listed
    /// it before, if one did.
    pub(crate) fn insert(
        &mut self,
        scope: Scope<'_>,
        bucket: &str,
        key: &str,
        digest: DigestRef,
    ) -> Option<&str> {
        let first = self.first.insert(log_id(scope, bucket, key), digest.0)?;
        let index = usize::try_from(first).unwrap_or(usize::MAX);
        self.digests.get(index).map(String::as_str)
    }

    /// Takes in what another record holds (of other accounts and regions: the same file
    /// in both keeps this record's digest). The smaller table is moved into the larger,
    /// never the larger copied: a run of one account and region holds its table once.
    pub(crate) fn absorb(&mut self, mut other: Self) {
        let offset = u32::try_from(self.digests.len()).unwrap_or(u32::MAX);
        if other.first.len() > self.first.len() {
            // Its digests come after ours: re-index them in place, then put ours in (ours
            // win).
            other.first.offset_values(offset);
            let ours = std::mem::replace(&mut self.first, other.first);
            self.first.absorb_over(ours);
        } else {
            self.first.absorb(other.first, offset);
        }
        self.digests.extend(other.digests);
    }

    /// Whether a digest of `scope` lists the log file.
    pub(crate) fn contains(&self, scope: Scope<'_>, bucket: &str, key: &str) -> bool {
        self.first.get(&log_id(scope, bucket, key)).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HERE: Scope<'static> = Scope {
        account_id: "111122223333",
        region: "us-east-1",
    };

    #[test]
    fn names_the_first_digest_and_tells_buckets_apart() {
        let mut listed = ListedLogs::default();
        let a = listed.add_digest("s3://b/digest-a".into());
        let b = listed.add_digest("s3://b/digest-b".into());
        assert_eq!(listed.insert(HERE, "b", "log-1", a), None);
        assert_eq!(listed.insert(HERE, "b", "log-2", a), None);
        assert_eq!(
            listed.insert(HERE, "b", "log-1", b),
            Some("s3://b/digest-a")
        );
        assert_eq!(listed.insert(HERE, "other", "log-1", b), None);
        assert!(listed.contains(HERE, "b", "log-2"));
        assert!(!listed.contains(HERE, "b", "log-3"));
        // The separator keeps ("ab", "c") and ("a", "bc") apart.
        assert_eq!(listed.insert(HERE, "ab", "c", a), None);
        assert_eq!(listed.insert(HERE, "a", "bc", a), None);
    }

    #[test]
    fn records_of_other_places_are_joined_with_their_digests() {
        let mut here = ListedLogs::default();
        let a = here.add_digest("s3://b/digest-a".into());
        here.insert(HERE, "b", "log-1", a);
        let there = Scope {
            account_id: "111122223333",
            region: "eu-west-1",
        };
        let mut other = ListedLogs::default();
        let b = other.add_digest("s3://b/digest-b".into());
        other.insert(there, "b", "log-2", b);
        other.insert(there, "b", "log-3", b);
        other.insert(HERE, "b", "log-1", b);
        // The same file in both keeps the absorbing record's digest, whichever table is
        // the larger (the smaller is moved into it).
        let mut larger = other.clone();
        larger.absorb(here.clone());
        here.absorb(other);
        for (mut record, first) in [(here, "s3://b/digest-a"), (larger, "s3://b/digest-b")] {
            assert!(record.contains(there, "b", "log-3"));
            let c = record.add_digest("s3://b/digest-c".into());
            assert_eq!(
                record.insert(there, "b", "log-2", c),
                Some("s3://b/digest-b")
            );
            assert_eq!(record.insert(HERE, "b", "log-1", c), Some(first));
        }
    }

    #[test]
    fn a_listing_counts_only_for_its_account_and_region() {
        let mut listed = ListedLogs::default();
        let a = listed.add_digest("s3://b/digest-a".into());
        let there = Scope {
            account_id: "111122223333",
            region: "eu-west-1",
        };
        assert_eq!(listed.insert(HERE, "b", "log-1", a), None);
        assert!(!listed.contains(there, "b", "log-1"));
        assert_eq!(listed.insert(there, "b", "log-1", a), None);
        let other_account = Scope {
            account_id: "444455556666",
            region: "us-east-1",
        };
        assert!(!listed.contains(other_account, "b", "log-1"));
    }
}
