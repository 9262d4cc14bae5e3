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
    /// Keys whose next GETs (this many) misbehave at the HTTP level, as a faulty network,
    /// proxy or server would.
    pub get: Mutex<HashMap<String, (GetFault, usize)>>,
    /// GETs beyond this many in a second answer 503 `SlowDown` (a throttled prefix).
    pub throttle_per_second: Mutex<Option<u32>>,
    /// Only GETs of keys that start with this are throttled (all, when `None`).
    pub throttle_prefix: Mutex<Option<String>>,
    /// The GETs of the current second: (second, count).
    pub(crate) throttle_window: Mutex<(u64, u32)>,
    /// The next this many requests of any kind answer this error (a storm of 500s or 503s).
    pub storm: Mutex<Option<(Storm, usize)>>,
    /// Listings of exactly this prefix answer with the fault.
    pub list: Mutex<HashMap<String, ListFault>>,
    /// Every GET and LIST: (operation, key or prefix, request payer header present).
    pub seen: Mutex<Vec<(String, String, bool)>>,
}

/// How a GET misbehaves at the HTTP level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GetFault {
    /// A bare 404 with an empty body, as a proxy or load balancer would send: no
    /// `NoSuchKey`.
    Bare404,
    /// Never answers: the request is held open.
    Stall,
    /// Sends the headers, then the body twenty bytes a second.
    Trickle,
    /// Sends the headers and half the body, then closes the connection.
    CutBody,
    /// Closes the connection without answering.
    Reset,
    /// Flips one bit of the body in transit; the headers (the `ETag` too) are unchanged.
    FlipByte,
}

/// An error answered to every request of a storm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storm {
    /// 500 `InternalError`.
    InternalError,
    /// 503 `ServiceUnavailable`.
    Unavailable,
    /// 503 `SlowDown`.
    SlowDown,
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
    /// The fault of the next GET of `key`, if any (counting it down).
    pub(crate) fn take_get_fault(&self, key: &str) -> Option<GetFault> {
        let mut faults = self.get.lock().unwrap();
        match faults.get_mut(key) {
            Some((fault, n)) if *n > 0 => {
                *n -= 1;
                Some(*fault)
            }
            _ => None,
        }
    }

    /// Whether a GET of `key` now is over the throttle's rate.
    pub(crate) fn throttled(&self, key: &str) -> bool {
        let Some(limit) = *self.throttle_per_second.lock().unwrap() else {
            return false;
        };
        if let Some(prefix) = &*self.throttle_prefix.lock().unwrap() {
            if !key.starts_with(prefix.as_str()) {
                return false;
            }
        }
        let second = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut window = self.throttle_window.lock().unwrap();
        if window.0 != second {
            *window = (second, 0);
        }
        window.1 += 1;
        window.1 > limit
    }

    /// The storm's error for this request, if one is blowing (counting it down).
    pub(crate) fn take_storm(&self) -> Option<Storm> {
        let mut storm = self.storm.lock().unwrap();
        match storm.as_mut() {
            Some((kind, n)) if *n > 0 => {
                *n -= 1;
                Some(*kind)
            }
            _ => None,
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
