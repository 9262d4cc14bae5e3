//! Inflating exactly one gzip member, as CloudTrail writes it, and nothing else.

use std::io::{self, Read};

use flate2::bufread::GzDecoder;

/// Why bytes are not a single well-formed gzip member.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GzipError {
    /// The bytes do not start with a gzip header.
    #[error("not gzip")]
    NotGzip,
    /// The gzip stream is truncated or corrupt (bad deflate data, CRC or length).
    #[error("corrupt gzip stream: {0}")]
    Corrupt(String),
    /// Bytes follow the end of the first gzip member: an appended member or garbage.
    #[error("unexpected data after end of compressed stream")]
    TrailingData,
    /// The inflated content exceeds the caller's limit.
    #[error("inflated size exceeds the limit of {0} bytes")]
    TooLarge(u64),
}

/// Inflates the single gzip member in `gz`, handing each inflated chunk to `sink`.
///
/// `buf` is the caller's scratch buffer, reused across calls to avoid an allocation per
/// file. Stops with [`GzipError::TooLarge`] once more than `limit` bytes have come out.
pub fn inflate_each(
    gz: &[u8],
    buf: &mut [u8],
    limit: u64,
    mut sink: impl FnMut(&[u8]),
) -> Result<u64, GzipError> {
    if gz.len() < 2 || gz[0] != 0x1f || gz[1] != 0x8b {
        return Err(GzipError::NotGzip);
    }
    let mut decoder = GzDecoder::new(gz);
    let mut total: u64 = 0;
    loop {
        let n = match decoder.read(buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(corrupt(&e)),
        };
        total += n as u64;
        if total > limit {
            return Err(GzipError::TooLarge(limit));
        }
        sink(&buf[..n]);
    }
    if decoder.into_inner().is_empty() {
        Ok(total)
    } else {
        Err(GzipError::TrailingData)
    }
}

fn corrupt(e: &io::Error) -> GzipError {
    let msg = if e.kind() == io::ErrorKind::UnexpectedEof {
        "truncated".to_owned()
    } else {
        e.to_string()
    };
    GzipError::Corrupt(msg)
}

/// Inflates the single gzip member in `gz` into a vector of at most `limit` bytes.
pub fn inflate_to_vec(gz: &[u8], limit: u64) -> Result<Vec<u8>, GzipError> {
    let mut out = Vec::with_capacity(gz.len().saturating_mul(8).min(1 << 20));
    let mut buf = vec![0u8; 64 * 1024];
    inflate_each(gz, &mut buf, limit, |chunk| out.extend_from_slice(chunk))?;
    Ok(out)
}

#[cfg(test)]
pub(crate) fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let data = b"{\"Records\":[]}".repeat(10_000);
        assert_eq!(inflate_to_vec(&gzip(&data), u64::MAX).unwrap(), data);
    }

    #[test]
    fn rejects_not_gzip_truncated_and_trailing() {
        let gz = gzip(&b"hello world ".repeat(1000));
        assert_eq!(inflate_to_vec(b"{}", 100), Err(GzipError::NotGzip));
        assert_eq!(inflate_to_vec(b"", 100), Err(GzipError::NotGzip));
        assert_eq!(
            inflate_to_vec(&gz[..gz.len() - 3], u64::MAX),
            Err(GzipError::Corrupt("truncated".into()))
        );
        let mut two = gz.clone();
        two.extend_from_slice(&gzip(b"more"));
        assert_eq!(inflate_to_vec(&two, u64::MAX), Err(GzipError::TrailingData));
        let mut garbage = gz.clone();
        garbage.push(0);
        assert_eq!(
            inflate_to_vec(&garbage, u64::MAX),
            Err(GzipError::TrailingData)
        );
        let mut bad_crc = gz.clone();
        let n = bad_crc.len();
        bad_crc[n - 6] ^= 1;
        assert!(matches!(
            inflate_to_vec(&bad_crc, u64::MAX),
            Err(GzipError::Corrupt(_))
        ));
    }

    #[test]
    fn enforces_limit() {
        let gz = gzip(&vec![0u8; 100_000]);
        assert_eq!(inflate_to_vec(&gz, 1000), Err(GzipError::TooLarge(1000)));
    }
}
