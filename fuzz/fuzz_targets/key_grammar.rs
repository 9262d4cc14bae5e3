//! The S3 key grammar: any text parses or is refused, and what parses rebuilds to a key
//! that parses the same.
#![no_main]

use cloudtrail_digest::{DigestKey, Location, LogKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(key) = DigestKey::parse(text) {
        let rebuilt = key.to_key();
        assert_eq!(
            DigestKey::parse(&rebuilt).as_ref(),
            Ok(&key),
            "{text:?} -> {rebuilt:?}"
        );
    }
    if let Ok(key) = LogKey::parse(text) {
        let prefix = key.location.log_prefix();
        assert_eq!(Location::from_log_folder(&prefix), Ok(key.location.clone()));
    }
    let _ = Location::from_log_folder(text);
});
