//! Where objects come from: the [`ObjectStore`] trait and its backends (a local copy,
//! memory, a copy under the original's name, S3), with the contract they all keep.
//!
//! The seam is small: list keys, get one object. "Not found" is a kind of its own
//! ([`StoreErrorKind::NotFound`]), distinct from every failure that leaves a file unchecked.

pub(crate) mod body;
#[cfg(any(test, feature = "testing"))]
pub mod conformance;
mod copy;
#[cfg(unix)]
pub(crate) mod fs;
#[cfg(unix)]
mod manifest;
mod memory;
pub(crate) mod object;
pub(crate) mod object_store;
#[cfg(unix)]
mod root;
#[cfg(feature = "aws")]
pub(crate) mod s3;

pub use body::{Body, STREAM_ABOVE};
pub use copy::CopyOf;
#[cfg(unix)]
pub use fs::{FsStore, SIDECAR_SUFFIX};
#[cfg(unix)]
pub use manifest::{Manifest, ManifestEntry, NotCopied, MANIFEST};
pub use memory::{MemoryStore, StoredObject};
pub use object::{ListProblem, Listing, Object, ObjectInfo, StoreError, StoreErrorKind};
pub use object_store::ObjectStore;
pub(crate) use object_store::{collect_each, skipped};
#[cfg(unix)]
pub use root::{read_bounded, read_regular_file, Root, RootError};
#[cfg(feature = "aws")]
pub use s3::{S3Options, S3Store, Timeouts};
