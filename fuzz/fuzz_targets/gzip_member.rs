//! Gzip members: the whole-buffer and the streamed reader (in pieces of any size) give the
//! same verdict, and accept exactly what flate2's own decoder accepts with nothing after
//! the member.
#![no_main]

use std::io::Read as _;

use cloudtrail_digest::testing::internals::Inflater;
use libfuzzer_sys::fuzz_target;

struct Pieces<'a> {
    data: &'a [u8],
    step: usize,
}

impl std::io::Read for Pieces<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = self.step.min(out.len()).min(self.data.len());
        out[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

fuzz_target!(|input: &[u8]| {
    let Some((&step, data)) = input.split_first() else {
        return;
    };
    let limit = 1 << 24;
    let mut inflater = Inflater::with_buffer(4096);
    let mut whole = Vec::new();
    let a = inflater
        .inflate_each(data, limit, |c| whole.extend_from_slice(c))
        .map(|n| (n, whole));
    let mut streamed = Vec::new();
    let mut reader = Pieces {
        data,
        step: usize::from(step).max(1),
    };
    let b = inflater
        .inflate_read(&mut reader, limit, |c| streamed.extend_from_slice(c))
        .map(|n| (n, streamed));
    assert_eq!(a, b);
    let mut reference = flate2::bufread::GzDecoder::new(data);
    let mut expected = Vec::new();
    let accepted = match reference.read_to_end(&mut expected) {
        Ok(_) => reference.into_inner().is_empty() && expected.len() <= limit as usize,
        Err(_) => false,
    };
    let ours = a.as_ref().ok().map(|(_, v)| v);
    if accepted {
        assert_eq!(ours, Some(&expected));
    } else {
        assert!(ours.is_none() || expected.len() > limit as usize);
    }
});
