//! The one sanitizer for every line the tool prints that holds outside data: keys, reasons
//! from stores and servers, file names. A crafted key must not drive the terminal, forge a
//! line, or reorder what a reader sees.

/// Whether a character could drive a terminal or change how text is read: control
/// characters (ESC, CR, LF, TAB, DEL, the C1 range) and the Unicode bidirectional controls
/// (U+061C, U+200E/F, U+202A..U+202E, U+2066..U+2069), which can make a line read
/// otherwise than its bytes.
fn unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

/// `text` with every such character replaced by U+FFFD.
pub(crate) fn sanitize(text: &str) -> String {
    text.chars()
        .map(|c| if unsafe_char(c) { '\u{fffd}' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_controls_and_bidi_overrides() {
        assert_eq!(
            sanitize("a\tb\n\u{1b}[31mc\r\u{7f}\u{9b}"),
            "a\u{fffd}b\u{fffd}\u{fffd}[31mc\u{fffd}\u{fffd}\u{fffd}"
        );
        assert_eq!(
            sanitize("log\u{202e}zg.nosj\u{2066}x\u{200f}"),
            "log\u{fffd}zg.nosj\u{fffd}x\u{fffd}"
        );
        assert_eq!(sanitize("AWSLogs/é/ü.json.gz"), "AWSLogs/é/ü.json.gz");
    }
}
