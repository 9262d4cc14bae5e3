//! Times as CloudTrail writes them (ISO 8601 with a UTC offset) and as this library's texts
//! write them (`2024-03-01T04:12:34Z`).

use chrono::{DateTime, Utc};

/// Parses an ISO 8601 time with a UTC offset, as CloudTrail writes it (`2023-10-15T22:04:04Z`).
pub(crate) fn parse(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// A time to the second, in UTC, as the texts write it.
pub(crate) fn display(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}
