//! The rows of an inventory's data files: the current objects' keys, from gzip'd CSV (keys
//! URL-encoded) or Parquet (keys as they are), through the `csv` and `parquet` crates.

use std::io::Read;

use parquet::file::reader::{FileReader as _, SerializedFileReader};
use parquet::record::Field;

/// Where a data file's rows go: those of `bucket` that are current versions (not an older
/// version, not a delete marker) and that `keep` wants.
pub(crate) struct Rows<'a> {
    pub(crate) bucket: &'a str,
    pub(crate) keep: &'a (dyn Fn(&str) -> bool + Sync),
    pub(crate) out: Vec<Box<str>>,
}

impl Rows<'_> {
    fn take(&mut self, bucket: Option<&str>, key: String, latest: bool, deleted: bool) {
        if bucket.is_none_or(|b| b == self.bucket) && latest && !deleted && (self.keep)(&key) {
            self.out.push(key.into_boxed_str());
        }
    }
}

/// Reads a gzip'd CSV data file whose columns are `columns`.
pub(crate) fn read_csv(
    body: impl Read,
    columns: &[String],
    rows: &mut Rows<'_>,
) -> Result<(), String> {
    let at = |name: &str| columns.iter().position(|c| c == name);
    let key_at = at("Key").ok_or("the schema has no Key column")?;
    let (bucket_at, latest_at, deleted_at) = (at("Bucket"), at("IsLatest"), at("IsDeleteMarker"));
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(false)
        .from_reader(flate2::read::MultiGzDecoder::new(body));
    let mut record = csv::StringRecord::new();
    let mut row = 0u64;
    loop {
        row += 1;
        match reader.read_record(&mut record) {
            Ok(false) => return Ok(()),
            Ok(true) => {}
            Err(e) => return Err(format!("row {row}: {e}")),
        }
        if record.len() != columns.len() {
            return Err(format!(
                "row {row} has {} fields where the schema names {}",
                record.len(),
                columns.len()
            ));
        }
        let field = |i: Option<usize>| i.and_then(|i| record.get(i));
        let key = url_decode(field(Some(key_at)).unwrap_or_default())
            .map_err(|e| format!("row {row}: the key {e}"))?;
        let latest = field(latest_at).is_none_or(|v| !v.eq_ignore_ascii_case("false"));
        let deleted = field(deleted_at).is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let bucket = field(bucket_at).map(str::to_owned);
        rows.take(bucket.as_deref(), key, latest, deleted);
    }
}

/// The largest column chunk a Parquet data file may say it inflates to.
const MAX_COLUMN_CHUNK: i64 = 1 << 30;

/// Reads a Parquet data file. The `parquet` crate trusts a file's metadata in places (it
/// asserts on it, and sizes buffers from it): the metadata is checked first, and a panic in
/// the reader is an error about the file, not the end of the run.
pub(crate) fn read_parquet(body: Vec<u8>, rows: &mut Rows<'_>) -> Result<(), String> {
    let read = std::panic::AssertUnwindSafe(|| read_rows(body, rows));
    std::panic::catch_unwind(read)
        .unwrap_or_else(|_| Err("the Parquet reader failed on it: a malformed file".into()))
}

fn read_rows(body: Vec<u8>, rows: &mut Rows<'_>) -> Result<(), String> {
    let len = i64::try_from(body.len()).unwrap_or(i64::MAX);
    let reader = SerializedFileReader::new(bytes::Bytes::from(body))
        .map_err(|e| format!("not a Parquet file: {e}"))?;
    for group in reader.metadata().row_groups() {
        for column in group.columns() {
            let start = column
                .dictionary_page_offset()
                .unwrap_or_else(|| column.data_page_offset());
            let size = column.compressed_size();
            let inflated = column.uncompressed_size();
            if start < 0
                || size < 0
                || start.checked_add(size).is_none_or(|end| end > len)
                || !(0..=MAX_COLUMN_CHUNK).contains(&inflated)
            {
                return Err(format!(
                    "column {} of a row group lies outside the file or inflates beyond {MAX_COLUMN_CHUNK} bytes",
                    column.column_path()
                ));
            }
        }
    }
    let iter = reader
        .get_row_iter(None)
        .map_err(|e| format!("cannot read its rows: {e}"))?;
    for (n, row) in iter.enumerate() {
        let row = row.map_err(|e| format!("row {}: {e}", n + 1))?;
        let (mut bucket, mut key, mut latest, mut deleted) = (None, None, true, false);
        for (name, field) in row.get_column_iter() {
            match (name.as_str(), field) {
                ("bucket", Field::Str(s)) => bucket = Some(s.clone()),
                ("key", Field::Str(s)) => key = Some(s.clone()),
                ("is_latest", Field::Bool(b)) => latest = *b,
                ("is_delete_marker", Field::Bool(b)) => deleted = *b,
                _ => {}
            }
        }
        let key = key.ok_or_else(|| format!("row {} has no key", n + 1))?;
        rows.take(bucket.as_deref(), key, latest, deleted);
    }
    Ok(())
}

/// Decodes a key as S3 Inventory writes it in CSV: URL-encoded, a space as `+`.
pub(crate) fn url_decode(s: &str) -> Result<String, String> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = [bytes.next(), bytes.next()];
                let value = match hex {
                    [Some(h), Some(l)] => std::str::from_utf8(&[h, l])
                        .ok()
                        .and_then(|h| u8::from_str_radix(h, 16).ok()),
                    _ => None,
                };
                out.push(value.ok_or_else(|| format!("{s:?} has a bad % escape"))?);
            }
            b => out.push(b),
        }
    }
    String::from_utf8(out).map_err(|_| format!("{s:?} is not UTF-8 once decoded"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    fn gz(text: &str) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(text.as_bytes()).unwrap();
        e.finish().unwrap()
    }

    fn columns(s: &str) -> Vec<String> {
        s.split(", ").map(str::to_owned).collect()
    }

    fn all(_: &str) -> bool {
        true
    }

    #[test]
    fn csv_keeps_the_current_versions_of_the_bucket_decoded() {
        let text = "\"b\",\"AWSLogs/1/a%2Bb+c.json.gz\",\"v1\",\"true\",\"false\"\n\
                    \"b\",\"AWSLogs/1/old\",\"v0\",\"false\",\"false\"\n\
                    \"b\",\"AWSLogs/1/gone\",\"v2\",\"true\",\"true\"\n\
                    \"other\",\"AWSLogs/1/x\",\"v3\",\"true\",\"false\"\n";
        let mut rows = Rows {
            bucket: "b",
            keep: &all,
            out: Vec::new(),
        };
        let cols = columns("Bucket, Key, VersionId, IsLatest, IsDeleteMarker");
        read_csv(&gz(text)[..], &cols, &mut rows).unwrap();
        assert_eq!(rows.out, [Box::<str>::from("AWSLogs/1/a+b c.json.gz")]);
    }

    #[test]
    fn csv_errors_name_the_row() {
        let mut rows = Rows {
            bucket: "b",
            keep: &all,
            out: Vec::new(),
        };
        let cols = columns("Bucket, Key");
        let err = read_csv(&gz("\"b\",\"k\"\n\"b\"\n")[..], &cols, &mut rows).unwrap_err();
        assert!(err.starts_with("row 2"), "{err}");
        let err = read_csv(&gz("\"b\",\"k%zz\"\n")[..], &cols, &mut rows).unwrap_err();
        assert!(err.contains("bad % escape"), "{err}");
        assert!(read_csv(&b"not gzip"[..], &cols, &mut rows).is_err());
    }

    #[test]
    fn parquet_whose_metadata_lies_is_an_error_not_a_panic() {
        // Found by the fuzzer: a column chunk at a negative offset made the reader assert.
        let input = include_bytes!("../../../fuzz/corpus/inventory/negative-column-start");
        let mut rows = Rows {
            bucket: "b",
            keep: &all,
            out: Vec::new(),
        };
        let err = read_parquet(input[1..].to_vec(), &mut rows).unwrap_err();
        assert!(
            err.contains("outside the file") || err.contains("malformed"),
            "{err}"
        );
    }

    #[test]
    fn parquet_that_is_not_parquet_is_an_error() {
        let mut rows = Rows {
            bucket: "b",
            keep: &all,
            out: Vec::new(),
        };
        assert!(read_parquet(b"PAR1 no".to_vec(), &mut rows)
            .unwrap_err()
            .contains("not a Parquet"));
    }
}
