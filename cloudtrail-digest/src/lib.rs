//! Proves whether AWS CloudTrail log files were altered, deleted or injected.
//!
//! CloudTrail writes gzip'd JSON log files to S3 and, every hour per region, a signed
//! *digest file* listing each log file's SHA-256 and chaining to the previous digest. A
//! run follows the data in this order:
//!
//! 1. **Discovery** ([`Discovery`]): the digest chains (one per trail, account and region)
//!    under a bucket or prefix, from the bucket's folders, without listing any log file.
//! 2. **Evidence**: CloudTrail's own record of each trail ([`TrailRecord`]), which tells
//!    digests deleted from digests never written.
//! 3. **Keys** ([`KeySource`]): CloudTrail's public keys, from files ([`PublicKeySet`]) or
//!    from `ListPublicKeys`.
//! 4. **The walk**: each chain newest to oldest; each digest parsed ([`Digest`]), its
//!    signature verified over the rebuilt [`SigningString`] (a [`VerifiedDigest`] is the
//!    only way to a digest's log file entries), its links checked, and the log files it
//!    lists fetched and hashed in parallel.
//! 5. **Unlisted logs**: the log folders listed; log files no digest lists are injected,
//!    pending or not covered.
//! 6. **The report** ([`report::Report`]): typed verdicts per digest and log file, the
//!    coverage timeline of each chain, totals, and one flat list of issues.
//!
//! [`Validator`] runs these steps; the stores in [`store`] say where the objects come from
//! (a local copy, memory, S3 with the `aws` feature). Integrity findings are data in the
//! report; an `Err` only means the run could not finish. The library never prints.
//!
//! # A local copy of a bucket
//!
//! ```
//! use cloudtrail_digest::report::Severity;
//! use cloudtrail_digest::store::FsStore;
//! use cloudtrail_digest::{PublicKeySet, Validator};
//!
//! let case = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/cases/valid-chain");
//! let keys = PublicKeySet::from_file_bytes(&std::fs::read(format!("{case}/public-keys.json"))?)?;
//! let store = FsStore::new(format!("{case}/example-trail-bucket"), "example-trail-bucket")?;
//! let report = Validator::new(store, "example-trail-bucket").public_keys(keys).run()?;
//! assert_eq!(report.severity(), Severity::Valid);
//! assert!(report.totals.log_files.valid > 0 && report.issues.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # A bucket in S3 (feature `aws`)
//!
//! ```no_run
//! # #[cfg(feature = "aws")]
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use cloudtrail_digest::aws::Aws;
//! use cloudtrail_digest::store::S3Options;
//! use cloudtrail_digest::{Selection, Validator};
//!
//! let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
//! let aws = Aws::new(&config)?;
//! let store = aws.s3_store("my-trail-bucket", S3Options::default()).await?;
//! let report = Validator::new(store, "my-trail-bucket")
//!     .public_keys(aws.public_keys())
//!     .trail_record_source(aws.trail_records())
//!     .selection(Selection::all().regions(["eu-west-1"]))
//!     .as_of(chrono::Utc::now())
//!     .run_async()
//!     .await?;
//! println!("{:?}: {} issues", report.severity(), report.issues.len());
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

mod check;
mod error;
mod format;
#[cfg(feature = "inventory")]
pub mod inventory;
mod limits;
pub mod posture;
mod progress;
pub mod report;
mod run;
mod selection;
mod signature;
pub mod store;
mod validator;

#[cfg(feature = "aws")]
pub mod aws;
#[cfg(feature = "testing")]
pub mod testing;

pub use error::{Error, Result};
pub use format::digest_file::{
    Digest, DigestFile, DigestFormatError, LogFileEntry, PreviousDigest,
};
pub use format::gzip::GzipError;
pub use format::hex::{Fingerprint, Sha256Hash, Signature};
pub use format::key_name::{ChainId, DigestKey, KeyError, Location, LogKey};
pub use format::trail_record::{
    TrailArn, TrailConfig, TrailRecord, TrailRecordSource, TrailStatus,
};
pub use limits::Limits;
pub use progress::Progress;
pub use run::discovery::Discovery;
pub use run::log_folders::{list_logs, LogListing};
pub use selection::Selection;
pub use signature::{
    KeyFileError, KeySource, PublicKey, PublicKeySet, SignatureError, SigningString, Validity,
    VerifiedDigest, MAX_KEY_BITS,
};
pub use validator::Validator;
