//! Mirror manifests: parse or refuse, never panic.
#![no_main]

use cloudtrail_digest::store::Manifest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = Manifest::from_reader(data);
});
