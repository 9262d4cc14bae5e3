//! Benchmarks of cloudtrail-digest (see `benches/README.md`). The library part holds the
//! shared fixtures: realistic CloudTrail log files from the project's generator, and the
//! libdeflate inflate that the ceiling measures.

use cloudtrail_digest_testgen::{gzip, Generator, TrailSpec};

/// A realistic gzip'd CloudTrail log file of about `raw_bytes` inflated bytes, with its
/// inflated content.
pub fn realistic_log(raw_bytes: usize, seed: u64) -> (Vec<u8>, Vec<u8>) {
    let spec = TrailSpec {
        bucket: "bench-bucket".into(),
        prefix: None,
        org_id: None,
        account: "111122223333".into(),
        region: "us-east-1".into(),
        trail: "bench".into(),
        home_region: "us-east-1".into(),
    };
    let mut g = Generator::new(seed);
    // One record is about 1 KB inflated.
    g.records_per_log = (raw_bytes / 1000).max(1);
    let from = chrono::DateTime::from_timestamp(1_709_251_954, 0).unwrap_or_default();
    let (json, _, _) = g.log_body(&spec, from, from + chrono::Duration::minutes(5));
    (gzip(&json), json)
}

/// libdeflate (through `libdeflater`'s safe API), for comparison only: it inflates a whole
/// member into a buffer sized from the trailer, but does not say how many input bytes the
/// member took, so an appended member or trailing garbage cannot be refused with it. That
/// is why the library does not use it; the ceiling and the benches show what that costs.
#[derive(Default)]
pub struct Libdeflate {
    decompressor: libdeflater::Decompressor,
    out: Vec<u8>,
}

impl Libdeflate {
    /// Inflates a gzip member whole and hashes it with SHA-256: the inflated length and
    /// the hash.
    ///
    /// # Errors
    /// Not a gzip member libdeflate inflates into the size its trailer states.
    pub fn inflate_sha256(
        &mut self,
        gz: &[u8],
    ) -> Result<(usize, cloudtrail_digest::Sha256Hash), libdeflater::DecompressionError> {
        let size = gz
            .last_chunk::<4>()
            .map_or(0, |s| u32::from_le_bytes(*s) as usize);
        if self.out.len() < size {
            self.out.resize(size, 0);
        }
        let n = self
            .decompressor
            .gzip_decompress(gz, &mut self.out[..size])?;
        Ok((n, cloudtrail_digest::Sha256Hash::of(&self.out[..n])))
    }
}
