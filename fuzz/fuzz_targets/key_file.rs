//! Key files (list-public-keys JSON, PEM, DER): load or refuse, never panic; every key
//! loaded answers for its fingerprints.
#![no_main]

use cloudtrail_digest::{KeySource as _, PublicKeySet};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(set) = PublicKeySet::from_file_bytes(data) {
        for key in set.iter() {
            for fingerprint in key.fingerprints() {
                assert!(set.get(fingerprint).is_some());
            }
            let _ = key.bits();
        }
        let at = chrono::DateTime::UNIX_EPOCH;
        if let Some(key) = set.iter().next() {
            let _ = set.key("us-east-1", key.fingerprint(), at);
        }
    }
});
