//! An object's body: held in memory, or read as it arrives.
//!
//! A log file of gigabytes must not cost gigabytes of memory: a store hands a large
//! object's body over as a reader, and the log check streams it through inflate and SHA-256
//! in a bounded buffer. Small bodies, most CloudTrail files, stay in memory, where they are
//! checked fastest.

use std::fmt;
use std::io::{self, Read};

/// Bodies larger than this are read as they arrive rather than held whole.
pub const STREAM_ABOVE: u64 = 8 * 1024 * 1024;

/// An object's body, exactly as stored.
pub struct Body(Inner);

enum Inner {
    Bytes(Vec<u8>),
    Reader(Box<dyn Read + Send>),
}

impl Body {
    /// A body held in memory.
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(Inner::Bytes(bytes))
    }

    /// A body read as it arrives.
    pub fn from_reader(reader: impl Read + Send + 'static) -> Self {
        Self(Inner::Reader(Box::new(reader)))
    }

    /// The bytes, when the body is held in memory.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match &self.0 {
            Inner::Bytes(b) => Some(b),
            Inner::Reader(_) => None,
        }
    }

    /// The whole body in memory, refusing more than `limit` bytes
    /// ([`io::ErrorKind::FileTooLarge`]).
    pub fn into_bytes(self, limit: u64) -> io::Result<Vec<u8>> {
        let too_large = || {
            io::Error::new(
                io::ErrorKind::FileTooLarge,
                format!("larger than {limit} bytes"),
            )
        };
        match self.0 {
            Inner::Bytes(b) if b.len() as u64 > limit => Err(too_large()),
            Inner::Bytes(b) => Ok(b),
            Inner::Reader(r) => {
                let mut out = Vec::new();
                r.take(limit.saturating_add(1)).read_to_end(&mut out)?;
                if out.len() as u64 > limit {
                    return Err(too_large());
                }
                Ok(out)
            }
        }
    }

    /// A reader over the body.
    pub fn into_reader(self) -> Box<dyn Read + Send> {
        match self.0 {
            Inner::Bytes(b) => Box::new(io::Cursor::new(b)),
            Inner::Reader(r) => r,
        }
    }
}

impl From<Vec<u8>> for Body {
    fn from(bytes: Vec<u8>) -> Self {
        Self::from_bytes(bytes)
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Inner::Bytes(b) => write!(f, "Body({} bytes)", b.len()),
            Inner::Reader(_) => f.write_str("Body(stream)"),
        }
    }
}
