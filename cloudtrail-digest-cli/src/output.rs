//! Standard output that a closed pipe cannot interrupt.
//!
//! `validate ... | head -1` closes the pipe after one line. The verdict must survive it:
//! once the reader has gone, the rest of standard output is dropped, the findings still
//! reach standard error, and the exit code is still the verdict's.

use std::io::{self, Write};

/// Standard output, with a broken pipe taken as the reader having stopped reading.
pub(crate) struct Stdout {
    inner: io::StdoutLock<'static>,
    closed: bool,
}

impl Stdout {
    pub(crate) fn new() -> Self {
        Self {
            inner: io::stdout().lock(),
            closed: false,
        }
    }
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.closed {
            return Ok(buf.len());
        }
        match self.inner.write(buf) {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(buf.len())
            }
            other => other,
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.closed {
            return Ok(());
        }
        match self.inner.flush() {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            other => other,
        }
    }
}
