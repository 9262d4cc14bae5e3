//! What differs between two runs' text output: the verdict line's elapsed time.

/// The verdict line's elapsed time (`) in 0.3 s:`) as `) in N s:`: the one part of the
/// text output that differs between runs.
pub(crate) fn without_elapsed(text: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(text);
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        match (
            line.starts_with("== "),
            line.find(") in "),
            line.find(" s: "),
        ) {
            (true, Some(a), Some(b)) if a < b => {
                out.push_str(&line[..a]);
                out.push_str(") in N s: ");
                out.push_str(&line[b + 4..]);
            }
            _ => out.push_str(line),
        }
    }
    out.into_bytes()
}
