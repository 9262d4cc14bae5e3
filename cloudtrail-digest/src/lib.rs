//! Verify AWS CloudTrail log file integrity: parse digest files, rebuild the signing
//! string, verify the SHA256withRSA signature against CloudTrail's public keys, walk the
//! digest chain and check every log file's SHA-256, in parallel.
//!
//! The main types:
//! - [`ObjectStore`] is where objects come from; [`FsStore`] reads a local copy of a bucket
//!   with S3 metadata in `.meta.json` sidecars.
//! - [`PublicKeySet`] holds CloudTrail public keys; [`PublicKeySet::verify`] returns a
//!   [`VerifiedDigest`], the only way to reach a digest's log file entries.
//! - [`discover`] finds the digest chains in a bucket; [`validate`] walks them and returns a
//!   [`Report`] of typed verdicts. Integrity findings are data in the report; `Err` means
//!   the run could not complete.
//!
//! ```
//! use cloudtrail_digest::{discover, validate, FsStore, PublicKeySet, Selection, Severity};
//!
//! let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/cases/valid-chain");
//! let keys = std::fs::read(format!("{root}/public-keys.json")).unwrap();
//! let keys = PublicKeySet::from_file_bytes(&keys).unwrap();
//! let store = FsStore::new(format!("{root}/example-trail-bucket"), "example-trail-bucket").unwrap();
//! let found = discover(&store, store.bucket(), "").unwrap();
//! let report = validate(&store, store.bucket(), &keys, &found, &Selection::default()).unwrap();
//! assert_eq!(report.severity(), Severity::Valid);
//! assert!(report.chains[0].log_counts.valid > 0);
//! ```

#![warn(missing_docs)]

mod chain;
mod checks;
pub mod coverage;
pub mod digest;
mod error;
mod findings;
pub mod gzip;
pub mod hash;
mod hexvalue;
pub mod keys;
pub mod layout;
mod listed;
mod listing;
mod logbatch;
mod logscan;
mod progress;
pub mod record;
pub mod report;
pub mod signing;
pub mod store;
mod tail;
mod unlisted;
mod verify;

pub use digest::{Digest, DigestFile, DigestFormatError, LogFileEntry};
pub use error::{Error, Result};
pub use hexvalue::{Fingerprint, Sha256Hash, Signature};
pub use keys::{
    KeyFileError, KeySource, PublicKey, PublicKeySet, SignatureError, Validity, VerifiedDigest,
};
pub use layout::{ChainId, DigestKey, Location, LogKey};
pub use logscan::{list_logs, LogListing};
pub use progress::Progress;
pub use record::{TrailConfig, TrailRecord, TrailStatus};
pub use report::{
    ChainReport, DigestOutcome, DigestStatus, Finding, FindingKind, LogOutcome, LogStatus, Notice,
    Report, Severity,
};
pub use signing::SigningString;
pub use store::{
    CopyOf, FsStore, MemoryStore, Object, ObjectInfo, ObjectStore, StoreError, StoreErrorKind,
};
#[cfg(feature = "s3")]
pub use store::{S3Options, S3Store};
pub use verify::{
    discover, discover_under, validate, validate_chain, validate_with_progress, Discovery,
    Selection,
};
