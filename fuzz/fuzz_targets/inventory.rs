//! S3 Inventory data files (CSV through gzip, and Parquet): read or refuse, never panic,
//! never allocate without bound.
//!
//! The `parquet` crate panics on some malformed files; the library contains those panics
//! (`catch_unwind`) and reports the file as malformed. So a panic raised inside that crate
//! is let through to the library's `catch_unwind` here; any other panic is a crash.
#![no_main]

use std::io::Write as _;
use std::sync::Once;

use cloudtrail_digest::inventory::InventoryFormat;
use cloudtrail_digest::testing::internals::read_data_file;
use libfuzzer_sys::fuzz_target;

static HOOK: Once = Once::new();

fuzz_target!(|data: &[u8]| {
    HOOK.call_once(|| {
        let fuzzer_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let in_parquet = info
                .location()
                .is_some_and(|l| l.file().contains("/parquet-"));
            if !in_parquet {
                fuzzer_hook(info);
            }
        }));
    });
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    if first & 1 == 0 {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        if gz.write_all(rest).is_ok() {
            if let Ok(bytes) = gz.finish() {
                let _ = read_data_file(InventoryFormat::Csv, bytes);
            }
        }
    } else {
        let _ = read_data_file(InventoryFormat::Parquet, rest.to_vec());
    }
});
