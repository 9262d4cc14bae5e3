//! Faults the S3 server injects, shared with the test that sets them: at the S3 level
//! (refusals, throttling, listings that never end or stray outside their prefix) and at
//! the HTTP level, before s3s sees the request (a bare 404 as a proxy would send it).

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use s3s::dto::{CommonPrefix, Object};

/// Faults to inject and requests seen, shared with the test.
#[derive(Default)]
pub struct Faults {
    /// Delay before answering every request (models S3's first-byte latency).
    pub latency: Mutex<Duration>,
    /// The account that owns every bucket; a request whose `x-amz-expected-bucket-owner`
    /// names another account is refused with 403, as S3 does.
    pub bucket_owner: Mutex<Option<String>>,
    /// Keys whose GET answers 403 `AccessDenied`.
    pub deny: Mutex<HashSet<String>>,
    /// Keys whose next GET answers 503 `SlowDown` (once each).
    pub slow_down_once: Mutex<HashSet<String>>,
    /// Keys whose next GETs (this many) answer a bare 404 with an empty body, as a proxy
    /// or load balancer would: no `NoSuchKey`.
    pub bare_404: Mutex<HashMap<String, usize>>,
    /// Listings of exactly this prefix answer with the fault.
    pub list: Mutex<HashMap<String, ListFault>>,
    /// Every GET and LIST: (operation, key or prefix, request payer header present).
    pub seen: Mutex<Vec<(String, String, bool)>>,
}

/// How a listing misbehaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListFault {
    /// Every page says it is truncated and gives no continuation token.
    TruncatedWithoutToken,
    /// Every page says it is truncated and gives back the token it was given.
    RepeatsToken,
    /// The continuation tokens cycle: A, B, A, ...
    CyclingTokens,
    /// The answer also holds this key (or, with a delimiter, this common prefix), which
    /// need not start with the prefix asked for.
    Stray(String),
}

impl Faults {
    /// Whether the next GET of `key` answers a bare 404 (counting it down).
    pub(crate) fn take_bare_404(&self, key: &str) -> bool {
        let mut faults = self.bare_404.lock().unwrap();
        match faults.get_mut(key) {
            Some(n) if *n > 0 => {
                *n -= 1;
                true
            }
            _ => false,
        }
    }

    /// The fault of listings of `prefix`, if any.
    pub(crate) fn list_fault(&self, prefix: &str) -> Option<ListFault> {
        self.list.lock().unwrap().get(prefix).cloned()
    }
}

/// A listing page, to which a [`ListFault`] applies.
pub(crate) struct FaultyPage<'a> {
    pub(crate) contents: &'a mut Vec<Object>,
    pub(crate) prefixes: &'a mut Vec<CommonPrefix>,
    pub(crate) truncated: &'a mut bool,
    pub(crate) next: &'a mut Option<String>,
    pub(crate) delimiter: bool,
}

impl ListFault {
    /// Applies the fault to a page answering a request with `token`.
    pub(crate) fn apply(&self, token: Option<&str>, page: &mut FaultyPage<'_>) {
        match self {
            Self::TruncatedWithoutToken => {
                *page.truncated = true;
                *page.next = None;
            }
            Self::RepeatsToken => {
                *page.truncated = true;
                *page.next = Some(token.unwrap_or("token-A").to_owned());
            }
            Self::CyclingTokens => {
                *page.truncated = true;
                let next = if token == Some("token-A") {
                    "token-B"
                } else {
                    "token-A"
                };
                *page.next = Some(next.to_owned());
            }
            Self::Stray(entry) => {
                if page.delimiter {
                    page.prefixes.push(CommonPrefix {
                        prefix: Some(entry.clone()),
                    });
                } else {
                    page.contents.push(Object {
                        key: Some(entry.clone()),
                        size: Some(0),
                        ..Object::default()
                    });
                }
            }
        }
    }
}

/// The key a path-style GET names (`/BUCKET/KEY`, percent-decoded).
pub(crate) fn key_of(path: &str) -> Option<String> {
    let rest = path.strip_prefix('/')?;
    let (_bucket, key) = rest.split_once('/')?;
    let bytes = key.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}
