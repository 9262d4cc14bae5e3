//! Why an inventory could not be read.

/// Why an inventory could not be read. Each names the object and the reason.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InventoryError {
    /// The manifest could not be read.
    #[error("cannot read the inventory manifest s3://{bucket}/{key}: {reason}")]
    Manifest {
        /// Its bucket.
        bucket: String,
        /// Its key.
        key: String,
        /// Why.
        reason: String,
    },
    /// A data file could not be read, or is not what the manifest says.
    #[error("cannot read the inventory file s3://{bucket}/{key}: {reason}")]
    DataFile {
        /// Its bucket.
        bucket: String,
        /// Its key.
        key: String,
        /// Why.
        reason: String,
    },
}
