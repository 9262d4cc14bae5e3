//! Metadata sidecars (`head-object` output): parse or refuse, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok((metadata, _info)) = cloudtrail_digest::testing::internals::parse_sidecar(data) {
        for name in metadata.unwrap_or_default().keys() {
            assert_eq!(name, &name.to_ascii_lowercase());
        }
    }
});
