//! Where a member sits (the top level or a `logFiles` entry), and the typed value of a
//! member there, or what is wrong with it.

use super::model::DigestFormatError;
use super::scalars::{Member, Scalar};
use crate::format::hex::Sha256Hash;
use crate::format::time::parse as parse_time;

/// Where a member sits, for error messages: the top level or a `logFiles` entry.
#[derive(Clone, Copy)]
pub(super) enum Place {
    Top,
    Entry(usize),
}

impl Place {
    pub(super) fn name(self, field: &str) -> String {
        match self {
            Self::Top => field.to_owned(),
            Self::Entry(i) => format!("logFiles[{i}].{field}"),
        }
    }

    fn malformed(self, field: &str, expected: &'static str) -> DigestFormatError {
        DigestFormatError::Malformed {
            field: self.name(field),
            expected,
        }
    }

    /// A member that must be present; `Ok(None)` when it is null.
    pub(super) fn nullable(
        self,
        member: Member,
        field: &'static str,
    ) -> Result<Option<String>, DigestFormatError> {
        match member {
            None => Err(DigestFormatError::Missing(field)),
            Some(Scalar::Null) => Ok(None),
            Some(Scalar::Str(s)) => Ok(Some(s)),
            Some(Scalar::Other) => Err(self.malformed(field, "a string or null")),
        }
    }

    /// A member that may be absent or null.
    pub(super) fn optional(
        self,
        member: Member,
        field: &'static str,
    ) -> Result<Option<String>, DigestFormatError> {
        match member {
            None => Ok(None),
            other => self.nullable(other, field),
        }
    }

    /// A member that must be a string.
    pub(super) fn string(
        self,
        member: Member,
        field: &'static str,
    ) -> Result<String, DigestFormatError> {
        self.nullable(member, field)?
            .ok_or_else(|| self.malformed(field, "a string"))
    }

    pub(super) fn time(
        self,
        text: &str,
        field: &'static str,
    ) -> Result<chrono::DateTime<chrono::Utc>, DigestFormatError> {
        parse_time(text).ok_or_else(|| self.malformed(field, "an ISO 8601 UTC time"))
    }

    pub(super) fn optional_time(
        self,
        member: Member,
        field: &'static str,
    ) -> Result<Option<chrono::DateTime<chrono::Utc>>, DigestFormatError> {
        self.optional(member, field)?
            .map(|t| self.time(&t, field))
            .transpose()
    }

    pub(super) fn sha256(
        self,
        text: &str,
        field: &'static str,
    ) -> Result<Sha256Hash, DigestFormatError> {
        Sha256Hash::from_hex(text).ok_or_else(|| self.malformed(field, "64 hex characters"))
    }
}
