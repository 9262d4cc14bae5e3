//! What reports are, wherever they are read from: a JSON file or object of bounded size.

use std::path::Path;

use anyhow::Result;

/// The largest report read back (a shard's report of millions of log files is a few
/// hundred megabytes).
pub(crate) const MAX_REPORT_BYTES: u64 = 4 << 30;

/// What is done with each report read: its name and bytes.
pub(crate) type Each<'a> = &'a mut dyn FnMut(String, Vec<u8>) -> Result<()>;

/// Whether a file or key names a JSON report.
pub(crate) fn is_json(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}
