//! S3 Inventory reports of a generated bucket, as S3 writes them: a `manifest.json` and
//! data files in CSV (gzip'd, keys URL-encoded) or Parquet, with an older version and a
//! delete marker beside the current objects, so that a reader must keep only the latter.

use std::sync::Arc;

use anyhow::Result;
use chrono::{DateTime, Utc};
use md5::{Digest as _, Md5};
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use serde_json::json;

/// An inventory's data file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Gzip'd CSV.
    Csv,
    /// Parquet (Snappy).
    Parquet,
}

/// One row: bucket, key, version, latest, delete marker, size.
struct Row<'a> {
    key: &'a str,
    version: &'static str,
    latest: bool,
    deleted: bool,
    size: i64,
}

const CSV_SCHEMA: &str = "Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size";

const PARQUET_SCHEMA: &str = "message s3.inventory {
  required binary bucket (STRING);
  required binary key (STRING);
  optional binary version_id (STRING);
  optional boolean is_latest;
  optional boolean is_delete_marker;
  optional int64 size;
}";

/// The objects of an inventory of `bucket` listing `keys` (with their sizes), taken at
/// `taken`, written under `at` (a folder of the destination bucket `destination`): the
/// manifest's key first, then each object. The rows are split over two data files; an
/// older version of the first key and a delete marker of a key `deleted-object` are added.
pub fn inventory(
    bucket: &str,
    keys: &[(String, u64)],
    taken: DateTime<Utc>,
    format: Format,
    destination: &str,
    at: &str,
) -> Result<Vec<(String, Vec<u8>)>> {
    let mut rows: Vec<Row<'_>> = keys
        .iter()
        .map(|(key, size)| Row {
            key,
            version: "v2",
            latest: true,
            deleted: false,
            size: i64::try_from(*size).unwrap_or(i64::MAX),
        })
        .collect();
    if let Some((first, _)) = keys.first() {
        rows.push(Row {
            key: first,
            version: "v1",
            latest: false,
            deleted: false,
            size: 1,
        });
    }
    let marker = keys
        .first()
        .map(|(k, _)| format!("{}deleted-object", &k[..k.rfind('/').map_or(0, |i| i + 1)]))
        .unwrap_or_default();
    rows.push(Row {
        key: &marker,
        version: "v3",
        latest: true,
        deleted: true,
        size: 0,
    });
    let half = rows.len() / 2;
    let mut objects = Vec::new();
    let mut files = Vec::new();
    for (i, part) in [&rows[..half], &rows[half..]].into_iter().enumerate() {
        let (name, body) = match format {
            Format::Csv => (format!("{at}/data/part-{i}.csv.gz"), csv(bucket, part)),
            Format::Parquet => (
                format!("{at}/data/part-{i}.parquet"),
                parquet(bucket, part)?,
            ),
        };
        files.push(json!({
            "key": name,
            "size": body.len(),
            "MD5checksum": hex::encode(Md5::digest(&body)),
        }));
        objects.push((name, body));
    }
    let manifest = manifest(bucket, taken, format, destination, &files);
    let mut out = vec![(
        format!("{at}/manifest.json"),
        serde_json::to_vec_pretty(&manifest)?,
    )];
    out.extend(objects);
    Ok(out)
}

fn manifest(
    bucket: &str,
    taken: DateTime<Utc>,
    format: Format,
    destination: &str,
    files: &[serde_json::Value],
) -> serde_json::Value {
    json!({
        "sourceBucket": bucket,
        "destinationBucket": format!("arn:aws:s3:::{destination}"),
        "version": "2016-11-30",
        "creationTimestamp": taken.timestamp_millis().to_string(),
        "fileFormat": match format { Format::Csv => "CSV", Format::Parquet => "Parquet" },
        "fileSchema": match format { Format::Csv => CSV_SCHEMA, Format::Parquet => PARQUET_SCHEMA },
        "files": files,
    })
}

/// S3 Inventory's CSV: every field quoted, keys URL-encoded.
fn csv(bucket: &str, rows: &[Row<'_>]) -> Vec<u8> {
    use std::fmt::Write as _;
    let mut text = String::new();
    for r in rows {
        let _ = writeln!(
            text,
            "\"{bucket}\",\"{}\",\"{}\",\"{}\",\"{}\",\"{}\"",
            url_encode(r.key),
            r.version,
            r.latest,
            r.deleted,
            r.size
        );
    }
    crate::gzip(text.as_bytes())
}

fn url_encode(key: &str) -> String {
    key.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                char::from(b).to_string()
            }
            b' ' => "+".to_owned(),
            b => format!("%{b:02X}"),
        })
        .collect()
}

fn parquet(bucket: &str, rows: &[Row<'_>]) -> Result<Vec<u8>> {
    let schema = Arc::new(parse_message_type(PARQUET_SCHEMA)?);
    let props = Arc::new(
        WriterProperties::builder()
            .set_compression(parquet::basic::Compression::SNAPPY)
            .build(),
    );
    let mut out = Vec::new();
    let mut writer = SerializedFileWriter::new(&mut out, schema, props)?;
    let mut group = writer.next_row_group()?;
    let strings = |f: &dyn Fn(&Row<'_>) -> String| -> Vec<ByteArray> {
        rows.iter()
            .map(|r| ByteArray::from(f(r).as_str()))
            .collect()
    };
    let present = vec![1i16; rows.len()];
    let mut column = 0;
    while let Some(mut col) = group.next_column()? {
        match column {
            0 => col.typed::<ByteArrayType>().write_batch(
                &strings(&|_| bucket.to_owned()),
                None,
                None,
            )?,
            1 => col.typed::<ByteArrayType>().write_batch(
                &strings(&|r| r.key.to_owned()),
                None,
                None,
            )?,
            2 => col.typed::<ByteArrayType>().write_batch(
                &strings(&|r| r.version.to_owned()),
                Some(&present),
                None,
            )?,
            3 => col.typed::<BoolType>().write_batch(
                &rows.iter().map(|r| r.latest).collect::<Vec<_>>(),
                Some(&present),
                None,
            )?,
            4 => col.typed::<BoolType>().write_batch(
                &rows.iter().map(|r| r.deleted).collect::<Vec<_>>(),
                Some(&present),
                None,
            )?,
            _ => col.typed::<Int64Type>().write_batch(
                &rows.iter().map(|r| r.size).collect::<Vec<_>>(),
                Some(&present),
                None,
            )?,
        };
        col.close()?;
        column += 1;
    }
    group.close()?;
    writer.close()?;
    Ok(out)
}
