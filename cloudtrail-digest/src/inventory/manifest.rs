//! An S3 Inventory report's `manifest.json`: which bucket it lists, when it was taken, in
//! which format, and its data files with their MD5 checksums.

use chrono::{DateTime, Utc};
use serde::Deserialize;

/// The formats of an inventory's data files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InventoryFormat {
    /// Gzip'd CSV, without a header, columns as `fileSchema` names them.
    Csv,
    /// Apache Parquet, columns named in snake case (`key`, `is_latest`, ...).
    Parquet,
}

/// A manifest, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// The bucket the inventory lists.
    pub source_bucket: String,
    /// The bucket the data files are in (from the `arn:aws:s3:::` ARN).
    pub destination_bucket: String,
    /// When the inventory was taken.
    pub taken: DateTime<Utc>,
    /// The data files' format.
    pub format: InventoryFormat,
    /// The CSV columns, in order (for Parquet, empty: the columns carry their names).
    pub columns: Vec<String>,
    /// The data files.
    pub files: Vec<DataFile>,
}

/// One data file of an inventory.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DataFile {
    /// Its key in the destination bucket.
    pub key: String,
    /// Its size in bytes.
    pub size: u64,
    /// The MD5 of its bytes, in hex.
    #[serde(rename = "MD5checksum")]
    pub md5: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Raw {
    source_bucket: String,
    destination_bucket: String,
    creation_timestamp: String,
    file_format: String,
    #[serde(default)]
    file_schema: String,
    files: Vec<DataFile>,
}

impl Manifest {
    /// Parses a `manifest.json`.
    ///
    /// # Errors
    /// Not the JSON of a manifest, a format other than CSV or Parquet (ORC is not read), a
    /// CSV schema without a `Key` column, or a creation time that is not milliseconds since
    /// the epoch; each said in words.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let raw: Raw = serde_json::from_slice(bytes).map_err(|e| format!("not a manifest: {e}"))?;
        let format = match raw.file_format.to_ascii_lowercase().as_str() {
            "csv" => InventoryFormat::Csv,
            "parquet" => InventoryFormat::Parquet,
            other => {
                return Err(format!(
                    "the inventory is in {other:?}; only CSV and Parquet inventories are read (set the inventory's format to one of them)"
                ))
            }
        };
        let columns: Vec<String> = match format {
            InventoryFormat::Csv => raw
                .file_schema
                .split(',')
                .map(|c| c.trim().to_owned())
                .collect(),
            InventoryFormat::Parquet => Vec::new(),
        };
        if format == InventoryFormat::Csv && !columns.iter().any(|c| c == "Key") {
            return Err(format!(
                "the CSV schema {:?} has no Key column",
                raw.file_schema
            ));
        }
        let millis: i64 = raw.creation_timestamp.trim().parse().map_err(|_| {
            format!(
                "creationTimestamp {:?} is not a number of milliseconds",
                raw.creation_timestamp
            )
        })?;
        let taken = DateTime::from_timestamp_millis(millis)
            .ok_or_else(|| format!("creationTimestamp {millis} is out of range"))?;
        let destination_bucket = raw
            .destination_bucket
            .strip_prefix("arn:aws:s3:::")
            .unwrap_or(&raw.destination_bucket)
            .to_owned();
        Ok(Self {
            source_bucket: raw.source_bucket,
            destination_bucket,
            taken,
            format,
            columns,
            files: raw.files,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str = r#"{
      "sourceBucket": "trail-bucket",
      "destinationBucket": "arn:aws:s3:::inventory-bucket",
      "version": "2016-11-30",
      "creationTimestamp": "1514944800000",
      "fileFormat": "CSV",
      "fileSchema": "Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size, LastModifiedDate, ETag",
      "files": [{"key": "inv/trail-bucket/files/a.csv.gz", "size": 12, "MD5checksum": "f11166069f1990abeb9c97ace9cdfabc"}]
    }"#;

    #[test]
    fn reads_a_csv_manifest() {
        let m = Manifest::parse(CSV.as_bytes()).unwrap();
        assert_eq!(m.source_bucket, "trail-bucket");
        assert_eq!(m.destination_bucket, "inventory-bucket");
        assert_eq!(m.format, InventoryFormat::Csv);
        assert_eq!(m.columns[1], "Key");
        assert_eq!(m.taken.to_rfc3339(), "2018-01-03T02:00:00+00:00");
        assert_eq!(m.files[0].size, 12);
    }

    #[test]
    fn refuses_what_it_cannot_read_in_words() {
        let orc = CSV.replace("\"CSV\"", "\"ORC\"");
        assert!(Manifest::parse(orc.as_bytes())
            .unwrap_err()
            .contains("only CSV and Parquet"));
        let keyless = CSV.replace("Bucket, Key,", "Bucket,");
        assert!(Manifest::parse(keyless.as_bytes())
            .unwrap_err()
            .contains("no Key column"));
        let when = CSV.replace("1514944800000", "yesterday");
        assert!(Manifest::parse(when.as_bytes())
            .unwrap_err()
            .contains("creationTimestamp"));
        assert!(Manifest::parse(b"[]")
            .unwrap_err()
            .starts_with("not a manifest"));
    }
}
