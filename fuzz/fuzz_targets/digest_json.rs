//! Digest JSON: any bytes parse or are refused with a named reason, never a panic; what
//! parses keeps its exact bytes, and the signing string can be built from it.
#![no_main]

use cloudtrail_digest::{Digest, SigningString};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(digest) = Digest::from_json(data.to_vec()) {
        assert_eq!(digest.raw(), data);
        let _ = SigningString::new(&digest);
        let _ = digest.file().log_file_count();
    }
    // The same bytes gzip'd go through the same parser.
    let _ = Digest::from_gzip(data);
});
