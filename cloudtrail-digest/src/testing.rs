//! For the tests and tools of this project and of store implementations (feature
//! `testing`), with the store conformance suite ([`crate::store::conformance`]). Not a
//! stable API: it may change in any release.

/// Internals the project's benches and fuzzers exercise directly.
pub mod internals {
    pub use crate::check::log_hash::{check_log_bytes, inflate_sha256, Scratch};
    pub use crate::format::gzip::Inflater;
    #[cfg(feature = "inventory")]
    pub use crate::inventory::read_data_file;
    #[cfg(unix)]
    pub use crate::store::fs::parse_sidecar;
}
