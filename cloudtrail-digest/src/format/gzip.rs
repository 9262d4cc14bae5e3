//! Inflating exactly one gzip member (RFC 1952), as CloudTrail writes it, and nothing else.
//!
//! The header and trailer are read here; the deflate data in between goes through a raw
//! inflater that is reset, not rebuilt, for each file (no allocation per file), and whose
//! count of consumed bytes says exactly where the member ends, so anything after it (an
//! appended member, garbage) is refused.

// Public for the `testing` feature, which hands it to the benches and fuzzers.
#![cfg_attr(not(feature = "testing"), allow(unreachable_pub))]

use std::io::Read;

use flate2::{Crc, Decompress, FlushDecompress, Status};

/// Why bytes are not a single well-formed gzip member.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GzipError {
    /// The bytes do not start with a gzip header.
    #[error("not gzip")]
    NotGzip,
    /// The gzip stream is truncated or corrupt (bad header, deflate data, CRC or length).
    #[error("corrupt gzip stream: {0}")]
    Corrupt(String),
    /// Bytes follow the end of the first gzip member: an appended member or garbage.
    #[error("unexpected data after end of compressed stream")]
    TrailingData,
    /// The inflated content exceeds the caller's limit.
    #[error("inflated size exceeds the limit of {0} bytes")]
    TooLarge(u64),
    /// Reading the stored bytes failed (a transport error, not a verdict on them).
    #[error("reading it failed: {0}")]
    Read(String),
}

fn corrupt(reason: &str) -> GzipError {
    GzipError::Corrupt(reason.to_owned())
}

const FHCRC: u8 = 1 << 1;
const FEXTRA: u8 = 1 << 2;
const FNAME: u8 = 1 << 3;
const FCOMMENT: u8 = 1 << 4;
const FRESERVED: u8 = 0xe0;

/// The length of the gzip header at the start of `gz`, checked as RFC 1952 asks (method
/// deflate, no reserved flag bits, the header CRC-16 when present).
fn header_len(gz: &[u8]) -> Result<usize, GzipError> {
    if gz.len() < 2 || gz[0] != 0x1f || gz[1] != 0x8b {
        return Err(GzipError::NotGzip);
    }
    let truncated = || corrupt("truncated");
    let fixed = gz.get(..10).ok_or_else(truncated)?;
    if fixed[2] != 8 {
        return Err(corrupt(
            "invalid gzip header: compression method is not deflate",
        ));
    }
    let flags = fixed[3];
    if flags & FRESERVED != 0 {
        return Err(corrupt("invalid gzip header: reserved flag bits are set"));
    }
    let mut at = 10;
    if flags & FEXTRA != 0 {
        let xlen = gz.get(at..at + 2).ok_or_else(truncated)?;
        at += 2 + usize::from(u16::from_le_bytes([xlen[0], xlen[1]]));
    }
    for flag in [FNAME, FCOMMENT] {
        if flags & flag != 0 {
            let rest = gz.get(at..).ok_or_else(truncated)?;
            at += rest.iter().position(|&b| b == 0).ok_or_else(truncated)? + 1;
        }
    }
    if flags & FHCRC != 0 {
        let stored = gz.get(at..at + 2).ok_or_else(truncated)?;
        let mut crc = Crc::new();
        crc.update(&gz[..at]);
        // The header CRC is the low 16 bits of the CRC-32 of the header bytes before it.
        if u16::from_le_bytes([stored[0], stored[1]]) != (crc.sum() & 0xffff) as u16 {
            return Err(corrupt("invalid gzip header: header CRC does not match"));
        }
        at += 2;
    }
    if at > gz.len() {
        return Err(truncated());
    }
    Ok(at)
}

/// Reusable inflate state: a raw deflate decoder and an output buffer. One per thread
/// inflates any number of files without allocating.
pub struct Inflater {
    raw: Decompress,
    buf: Vec<u8>,
}

impl Default for Inflater {
    /// An inflater with a 256 KiB output buffer.
    fn default() -> Self {
        Self::with_buffer(256 * 1024)
    }
}

impl std::fmt::Debug for Inflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inflater")
            .field("buffer_bytes", &self.buf.len())
            .finish_non_exhaustive()
    }
}

impl Inflater {
    /// An inflater whose output comes in chunks of at most `bytes` (at least 1 KiB).
    pub fn with_buffer(bytes: usize) -> Self {
        Self {
            raw: Decompress::new(false),
            buf: vec![0; bytes.max(1024)],
        }
    }

    /// Inflates the single gzip member in `gz`, handing each inflated chunk to `sink`;
    /// returns the inflated length. Stops with [`GzipError::TooLarge`] once more than
    /// `limit` bytes have come out; refuses anything after the member's trailer with
    /// [`GzipError::TrailingData`], once the member itself has checked out.
    pub fn inflate_each(
        &mut self,
        gz: &[u8],
        limit: u64,
        sink: impl FnMut(&[u8]),
    ) -> Result<u64, GzipError> {
        self.inflate_feed(&mut Feed::Slice(gz), limit, sink)
    }

    /// [`Self::inflate_each`] over bytes read as they arrive: a large object passes through
    /// a bounded buffer, never whole. A read that fails is [`GzipError::Read`], never a
    /// verdict on the bytes.
    pub fn inflate_read(
        &mut self,
        reader: &mut dyn Read,
        limit: u64,
        sink: impl FnMut(&[u8]),
    ) -> Result<u64, GzipError> {
        let mut feed = Feed::Reader {
            reader,
            buf: vec![0; READ_CHUNK],
            start: 0,
            end: 0,
        };
        self.inflate_feed(&mut feed, limit, sink)
    }

    fn inflate_feed(
        &mut self,
        feed: &mut Feed<'_>,
        limit: u64,
        mut sink: impl FnMut(&[u8]),
    ) -> Result<u64, GzipError> {
        let header = feed.header()?;
        feed.consume(header);
        self.raw.reset(false);
        let mut crc = Crc::new();
        let mut total: u64 = 0;
        loop {
            let input = feed.avail();
            let (in_before, out_before) = (self.raw.total_in(), self.raw.total_out());
            let status = self
                .raw
                .decompress(input, &mut self.buf, FlushDecompress::None)
                // zlib's own words depend on where the input was split: the verdict must not.
                .map_err(|_| corrupt("invalid deflate data"))?;
            // Both differences are bounded by the slices just passed in.
            let consumed = usize::try_from(self.raw.total_in() - in_before).unwrap_or(usize::MAX);
            let produced = usize::try_from(self.raw.total_out() - out_before).unwrap_or(usize::MAX);
            if consumed > input.len() {
                return Err(corrupt("inflater overran its input"));
            }
            feed.consume(consumed);
            let chunk = self
                .buf
                .get(..produced)
                .ok_or_else(|| corrupt("inflater overran its output"))?;
            total += produced as u64;
            if total > limit {
                return Err(GzipError::TooLarge(limit));
            }
            crc.update(chunk);
            sink(chunk);
            match status {
                Status::StreamEnd => break,
                // No progress although the output has room: the input ended, or more must
                // be read.
                _ if consumed == 0 && produced == 0 && !feed.fill()? => {
                    return Err(corrupt("truncated"));
                }
                _ => {}
            }
        }
        while feed.avail().len() < 8 {
            if !feed.fill()? {
                return Err(corrupt("truncated"));
            }
        }
        let trailer: [u8; 8] = feed
            .avail()
            .get(..8)
            .and_then(|t| t.try_into().ok())
            .ok_or_else(|| corrupt("truncated"))?;
        feed.consume(8);
        let [c0, c1, c2, c3, s0, s1, s2, s3] = trailer;
        if u32::from_le_bytes([c0, c1, c2, c3]) != crc.sum() {
            return Err(corrupt("the content's CRC-32 does not match the trailer"));
        }
        // ISIZE is the length modulo 2^32.
        if u64::from(u32::from_le_bytes([s0, s1, s2, s3])) != total & u64::from(u32::MAX) {
            return Err(corrupt("the content's length does not match the trailer"));
        }
        if feed.avail().is_empty() && !feed.fill()? {
            Ok(total)
        } else {
            Err(GzipError::TrailingData)
        }
    }
}

/// How much of a stream is read at a time.
const READ_CHUNK: usize = 64 * 1024;

/// The longest gzip header read from a stream (its optional name and comment are
/// unbounded in the format).
const MAX_HEADER: usize = 1024 * 1024;

/// Where the compressed bytes come from: all at once, or read as they arrive.
enum Feed<'a> {
    Slice(&'a [u8]),
    Reader {
        reader: &'a mut dyn Read,
        buf: Vec<u8>,
        /// The bytes read and not consumed are `buf[start..end]`.
        start: usize,
        end: usize,
    },
}

impl Feed<'_> {
    fn avail(&self) -> &[u8] {
        match self {
            Self::Slice(s) => s,
            Self::Reader {
                buf, start, end, ..
            } => buf.get(*start..*end).unwrap_or_default(),
        }
    }

    fn consume(&mut self, n: usize) {
        match self {
            Self::Slice(s) => *s = s.get(n..).unwrap_or_default(),
            Self::Reader { start, end, .. } => *start = (*start + n).min(*end),
        }
    }

    /// Reads more, keeping what is not consumed yet (growing the buffer when it is full, up
    /// to [`MAX_HEADER`]). `Ok(false)`: the input has ended.
    fn fill(&mut self) -> Result<bool, GzipError> {
        let Self::Reader {
            reader,
            buf,
            start,
            end,
        } = self
        else {
            return Ok(false);
        };
        buf.copy_within(*start..*end, 0);
        *end -= *start;
        *start = 0;
        if *end == buf.len() {
            if buf.len() >= MAX_HEADER {
                return Err(corrupt("gzip header longer than 1 MiB"));
            }
            buf.resize(buf.len() * 2, 0);
        }
        loop {
            let free = buf.get_mut(*end..).unwrap_or_default();
            match reader.read(free) {
                Ok(0) => return Ok(false),
                Ok(n) => {
                    *end += n.min(free.len());
                    return Ok(true);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(GzipError::Read(e.to_string())),
            }
        }
    }

    /// The length of the gzip header at the start of the input, reading as much as it
    /// takes (at least the ten fixed bytes, or the end of the input, before judging).
    fn header(&mut self) -> Result<usize, GzipError> {
        loop {
            let have = self.avail();
            let judged = header_len(have);
            let incomplete = have.len() < 10 || judged == Err(corrupt("truncated"));
            if !incomplete {
                return judged;
            }
            if !self.fill()? {
                return header_len(self.avail());
            }
        }
    }
}

/// Inflates the single gzip member in `gz` into a vector of at most `limit` bytes.
pub(crate) fn inflate_to_vec(gz: &[u8], limit: u64) -> Result<Vec<u8>, GzipError> {
    // The trailer states the inflated size (modulo 2^32): taken as the capacity when it is
    // within the limit and within what deflate can expand to (about 1032 to 1), so that
    // the buffer is not doubled past it. A false statement only costs a reallocation.
    let stated = gz
        .last_chunk::<4>()
        .map_or(0, |isize| u64::from(u32::from_le_bytes(*isize)));
    let plausible = stated <= limit && stated <= (gz.len() as u64).saturating_mul(1032);
    let capacity = if plausible {
        stated
    } else {
        (gz.len() as u64).saturating_mul(8).min(1 << 20)
    };
    let mut out = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
    Inflater::with_buffer(64 * 1024)
        .inflate_each(gz, limit, |chunk| out.extend_from_slice(chunk))?;
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

    /// A gzip member with every optional header field, FHCRC included.
    fn full_header(data: &[u8]) -> Vec<u8> {
        use std::io::Write as _;
        let mut enc = flate2::GzBuilder::new()
            .extra(b"xx".to_vec())
            .filename("AWS.json")
            .comment("test")
            .write(Vec::new(), flate2::Compression::fast());
        enc.write_all(data).unwrap();
        let mut gz = enc.finish().unwrap();
        let header = 10 + 2 + 2 + "AWS.json".len() + 1 + "test".len() + 1;
        gz[3] |= FHCRC;
        let mut crc = Crc::new();
        crc.update(&gz[..header]);
        let crc16 = ((crc.sum() & 0xffff) as u16).to_le_bytes();
        gz.splice(header..header, crc16);
        gz
    }

    #[test]
    fn reads_every_optional_header_field() {
        let data = b"{\"Records\":[]}".repeat(100);
        let gz = full_header(&data);
        assert_eq!(inflate_to_vec(&gz, u64::MAX).unwrap(), data);
        let mut bad = gz.clone();
        bad[10 + 2] ^= 1; // inside FEXTRA, covered by the header CRC
        assert_eq!(
            inflate_to_vec(&bad, u64::MAX),
            Err(corrupt("invalid gzip header: header CRC does not match"))
        );
        let mut reserved = gzip(&data);
        reserved[3] |= 0x20;
        assert_eq!(
            inflate_to_vec(&reserved, u64::MAX),
            Err(corrupt("invalid gzip header: reserved flag bits are set"))
        );
        let mut method = gzip(&data);
        method[2] = 7;
        assert!(matches!(
            inflate_to_vec(&method, u64::MAX),
            Err(GzipError::Corrupt(_))
        ));
        for cut in 2..30 {
            assert!(
                matches!(
                    inflate_to_vec(&gz[..cut], u64::MAX),
                    Err(GzipError::Corrupt(_))
                ),
                "cut at {cut}"
            );
        }
    }

    /// Same verdict as flate2's own gzip decoder (with "nothing after the member" added) on
    /// thousands of corruptions of real gzip members: the hand-read header and trailer
    /// accept and refuse exactly what it does.
    #[test]
    fn agrees_with_flate2_on_corrupted_members() {
        use rand_chacha::rand_core::{RngCore as _, SeedableRng as _};
        use std::io::Read as _;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let content = b"{\"eventName\":\"GetObject\",\"n\":12345}".repeat(300);
        let originals = [gzip(&content), full_header(&content), gzip(b"")];
        let mut inflater = Inflater::with_buffer(4096);
        let mut refused = 0;
        for round in 0..3000 {
            let mut gz = originals[round % originals.len()].clone();
            let edits = 1 + rng.next_u32() % 3;
            for _ in 0..edits {
                let at = rng.next_u32() as usize % gz.len();
                match rng.next_u32() % 4 {
                    0 => gz[at] ^= 1 << (rng.next_u32() % 8),
                    1 => gz.truncate(at),
                    2 => gz.push(rng.next_u32().to_le_bytes()[0]),
                    _ => gz[at] = rng.next_u32().to_le_bytes()[0],
                }
                if gz.is_empty() {
                    break;
                }
            }
            let mut reference = flate2::bufread::GzDecoder::new(gz.as_slice());
            let mut expected = Vec::new();
            let expected = match reference.read_to_end(&mut expected) {
                Ok(_) if reference.into_inner().is_empty() => Some(expected),
                _ => None,
            };
            let mut ours = Vec::new();
            let got = inflater
                .inflate_each(&gz, u64::MAX, |c| ours.extend_from_slice(c))
                .ok()
                .map(|_| ours);
            assert_eq!(got, expected, "round {round}: {gz:02x?}");
            refused += usize::from(got.is_none());
        }
        assert!(
            refused > 1000,
            "the corruptions should mostly be refused: {refused}"
        );
    }

    /// A reader that hands out at most `step` bytes at a time.
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
    }

    impl std::io::Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let n = self.step.min(out.len()).min(self.data.len());
            out[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    /// Reading from a stream, in pieces of any size, gives the verdict of reading the
    /// whole buffer, on the corruptions of `agrees_with_flate2_on_corrupted_members`.
    #[test]
    fn a_stream_read_in_any_pieces_gets_the_verdict_of_the_whole_buffer() {
        use rand_chacha::rand_core::{RngCore as _, SeedableRng as _};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        let content = b"{\"eventName\":\"GetObject\",\"n\":12345}".repeat(3000);
        let originals = [gzip(&content), full_header(&content), gzip(b"")];
        let mut inflater = Inflater::with_buffer(4096);
        for round in 0..1500 {
            let mut gz = originals[round % originals.len()].clone();
            if round % 5 != 0 {
                let at = rng.next_u32() as usize % gz.len();
                match rng.next_u32() % 3 {
                    0 => gz[at] ^= 1 << (rng.next_u32() % 8),
                    1 => gz.truncate(at),
                    _ => gz.push(rng.next_u32().to_le_bytes()[0]),
                }
            }
            let mut whole = Vec::new();
            let expected = inflater
                .inflate_each(&gz, u64::MAX, |c| whole.extend_from_slice(c))
                .map(|n| (n, whole));
            let step = [1, 7, 4096, 100_000][round % 4];
            let mut streamed = Vec::new();
            let got = inflater
                .inflate_read(&mut Trickle { data: &gz, step }, u64::MAX, |c| {
                    streamed.extend_from_slice(c);
                })
                .map(|n| (n, streamed));
            assert_eq!(got, expected, "round {round}, pieces of {step}");
        }
    }

    #[test]
    fn a_failing_read_is_not_a_verdict_on_the_bytes() {
        struct Broken;
        impl std::io::Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("connection reset"))
            }
        }
        assert_eq!(
            Inflater::default().inflate_read(&mut Broken, u64::MAX, |_| {}),
            Err(GzipError::Read("connection reset".into()))
        );
    }

    #[test]
    fn enforces_limit() {
        let gz = gzip(&vec![0u8; 100_000]);
        assert_eq!(inflate_to_vec(&gz, 1000), Err(GzipError::TooLarge(1000)));
    }
}
