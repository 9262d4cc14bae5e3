//! An inventory's keys: read from its manifest and data files, checked against the
//! manifest, kept sorted for listings.

use chrono::{DateTime, Utc};
use md5::{Digest as _, Md5};

use super::error::InventoryError;
use super::manifest::{DataFile, InventoryFormat, Manifest};
use super::rows;
use crate::store::{collect_each, ObjectStore, StoreError};

/// The largest data file read (S3 Inventory writes files far smaller); a larger one is an
/// error rather than a read without end.
pub const MAX_DATA_FILE: u64 = 4 << 30;

/// The largest manifest read.
const MAX_MANIFEST: u64 = 64 << 20;

/// An inventory's current object keys under a prefix, sorted, and when it was taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inventory {
    manifest: String,
    source_bucket: String,
    taken: DateTime<Utc>,
    keys: Vec<Box<str>>,
}

impl Inventory {
    /// An inventory of `bucket` taken at `taken` listing `keys` (any order), named by
    /// `manifest` (its `s3://` address).
    pub fn new(
        manifest: impl Into<String>,
        bucket: impl Into<String>,
        taken: DateTime<Utc>,
        mut keys: Vec<Box<str>>,
    ) -> Self {
        keys.sort_unstable();
        keys.dedup();
        Self {
            manifest: manifest.into(),
            source_bucket: bucket.into(),
            taken,
            keys,
        }
    }

    /// Reads the inventory whose `manifest.json` is `key` in `bucket` of `store`: every data
    /// file, its MD5 checked against the manifest, keeping the current versions of keys
    /// under `prefix` that lie in an `AWSLogs/` folder.
    ///
    /// # Errors
    /// The manifest or a data file cannot be read, is not what the manifest says, or is in
    /// a format this does not read; see [`InventoryError`].
    pub fn load<S: ObjectStore + ?Sized>(
        store: &S,
        bucket: &str,
        key: &str,
        prefix: &str,
    ) -> Result<Self, InventoryError> {
        let manifest_error = |reason: String| InventoryError::Manifest {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            reason,
        };
        let bytes = read(store, bucket, key, MAX_MANIFEST).map_err(manifest_error)?;
        let manifest = Manifest::parse(&bytes).map_err(manifest_error)?;
        let keep = |k: &str| k.starts_with(prefix) && k.contains("AWSLogs/");
        let files: Vec<(&str, &str)> = manifest
            .files
            .iter()
            .map(|f| (manifest.destination_bucket.as_str(), f.key.as_str()))
            .collect();
        let parsed = collect_each(store, &files, |i, got| {
            let file = &manifest.files[i];
            data_file(&manifest, file, got, &keep)
        });
        let mut keys = Vec::new();
        for (file, part) in manifest.files.iter().zip(parsed) {
            let part = part.unwrap_or_else(|| Err("the store returned nothing".into()));
            keys.extend(part.map_err(|reason| InventoryError::DataFile {
                bucket: manifest.destination_bucket.clone(),
                key: file.key.clone(),
                reason,
            })?);
        }
        Ok(Self::new(
            format!("s3://{bucket}/{key}"),
            manifest.source_bucket,
            manifest.taken,
            keys,
        ))
    }

    /// Where the manifest is (`s3://BUCKET/KEY`).
    pub fn manifest(&self) -> &str {
        &self.manifest
    }

    /// The bucket it lists.
    pub fn source_bucket(&self) -> &str {
        &self.source_bucket
    }

    /// When it was taken.
    pub fn taken(&self) -> DateTime<Utc> {
        self.taken
    }

    /// How many keys it holds.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether it holds no key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Its keys that start with `prefix`, sorted.
    pub(crate) fn under(&self, prefix: &str) -> &[Box<str>] {
        let from = self.keys.partition_point(|k| &**k < prefix);
        let len = self.keys[from..].partition_point(|k| k.starts_with(prefix));
        &self.keys[from..from + len]
    }
}

/// Reads and parses one data file, checked against the manifest's size and MD5.
fn data_file(
    manifest: &Manifest,
    file: &DataFile,
    got: Result<crate::store::Object, StoreError>,
    keep: &(dyn Fn(&str) -> bool + Sync),
) -> Result<Vec<Box<str>>, String> {
    if file.size > MAX_DATA_FILE {
        return Err(format!(
            "{} bytes is more than the {MAX_DATA_FILE} read",
            file.size
        ));
    }
    let object = got.map_err(|e| e.to_string())?;
    let bytes = object
        .body
        .into_bytes(MAX_DATA_FILE)
        .map_err(|e| format!("cannot read it: {e}"))?;
    if bytes.len() as u64 != file.size {
        return Err(format!(
            "{} bytes where the manifest says {}",
            bytes.len(),
            file.size
        ));
    }
    let md5 = hex::encode(Md5::digest(&bytes));
    if !md5.eq_ignore_ascii_case(&file.md5) {
        return Err(format!("its MD5 is {md5}, the manifest says {}", file.md5));
    }
    let mut rows = rows::Rows {
        bucket: &manifest.source_bucket,
        keep,
        out: Vec::new(),
    };
    match manifest.format {
        InventoryFormat::Csv => rows::read_csv(&bytes[..], &manifest.columns, &mut rows)?,
        InventoryFormat::Parquet => rows::read_parquet(bytes, &mut rows)?,
    }
    Ok(rows.out)
}

/// The keys of bucket `b` a data file of `format` holds (gzip'd CSV with the columns
/// `Bucket, Key, IsLatest, IsDeleteMarker`); for the fuzzers.
#[cfg(feature = "testing")]
pub fn read_data_file(format: InventoryFormat, bytes: Vec<u8>) -> Result<Vec<Box<str>>, String> {
    let keep = |_: &str| true;
    let mut rows = rows::Rows {
        bucket: "b",
        keep: &keep,
        out: Vec::new(),
    };
    match format {
        InventoryFormat::Csv => {
            let columns = ["Bucket", "Key", "IsLatest", "IsDeleteMarker"].map(str::to_owned);
            rows::read_csv(&bytes[..], &columns, &mut rows)?;
        }
        InventoryFormat::Parquet => rows::read_parquet(bytes, &mut rows)?,
    }
    Ok(rows.out)
}

/// Reads a whole object of at most `limit` bytes.
fn read<S: ObjectStore + ?Sized>(
    store: &S,
    bucket: &str,
    key: &str,
    limit: u64,
) -> Result<Vec<u8>, String> {
    let object = store.get(bucket, key).map_err(|e| e.to_string())?;
    object
        .body
        .into_bytes(limit)
        .map_err(|e| format!("cannot read it: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn under_finds_the_keys_of_a_prefix() {
        let keys = ["a/1", "a/2", "ab/1", "b/1"].map(Into::into).to_vec();
        let inv = Inventory::new("s3://i/m", "b", DateTime::default(), keys);
        assert_eq!(inv.under("a/").len(), 2);
        assert_eq!(inv.under("a").len(), 3);
        assert!(inv.under("c/").is_empty());
        assert_eq!(inv.under("").len(), 4);
    }
}
