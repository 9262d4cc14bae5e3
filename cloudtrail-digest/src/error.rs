//! Why a run could not be completed. Integrity findings are not errors: see [`crate::Report`].

use crate::store::StoreError;

/// Why a run could not be completed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Listing a bucket failed, so the set of files to check is unknown.
    #[error("cannot list s3://{bucket}/{prefix}: {source}")]
    List {
        /// The bucket.
        bucket: String,
        /// The prefix listed.
        prefix: String,
        /// The store's error.
        source: StoreError,
    },
    /// The options are inconsistent.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The run stopped before it finished (its thread could not start or panicked).
    #[error("the run stopped: {0}")]
    Aborted(String),
}

/// A mapper from a store error to [`Error::List`] of `bucket` and `prefix`.
pub(crate) fn list_error(bucket: &str, prefix: &str) -> impl FnOnce(StoreError) -> Error {
    let (bucket, prefix) = (bucket.to_owned(), prefix.to_owned());
    move |source| Error::List {
        bucket,
        prefix,
        source,
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
