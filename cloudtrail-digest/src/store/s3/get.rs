//! Reading one object: what S3's answers prove, what is tried again, and a body that must
//! arrive whole, within its time, and as S3 sent it.
//!
//! Only `NoSuchKey` proves that an object does not exist. A 404 without it (a proxy, a load
//! balancer), a timeout, a connection dropped or a body cut short, stalled or failing its
//! checksum is transport, not tampering: tried again, then `UNCHECKED`. Where S3 sends no
//! checksum of its own, a plain `ETag` (the MD5 of a single-part object not encrypted with a
//! customer or KMS key) is compared with the body's MD5 the same way. Throttling shrinks the
//! throttled folder's in-flight window (see [`super::throttled`]) and is tried again with
//! growing pauses.

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::time::{Duration, Instant};

use aws_sdk_s3::error::DisplayErrorContext;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumMode, ServerSideEncryption};
use bytes::Bytes;
use md5::Digest as _;

use super::bridge::wait;
use super::failure::{other, store_error, Failure, Retry};
use super::store::S3Store;
use crate::store::body::Body;
use crate::store::object::{Object, ObjectInfo, StoreError};

/// Bodies up to this size are collected in memory; larger ones are read as they arrive.
pub(super) const INLINE_BODY: u64 = 1024 * 1024;

/// How many times a request is made when its failure is transport.
const ATTEMPTS: u32 = 3;

/// How many times a throttled request is made, with pauses growing to [`MAX_PAUSE`].
const THROTTLED_ATTEMPTS: u32 = 10;
const MAX_PAUSE: Duration = Duration::from_secs(20);

/// A body slower than this, on average, is cut off: a trickle is no answer.
const MIN_RATE: u64 = 64 * 1024;

/// A pause before attempt `n` (from 1), with jitter from the clock.
fn pause(n: u32, throttled: bool) -> Duration {
    let base = if throttled { 200 } else { 50 };
    let millis = base * (1u64 << n.min(10));
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let jitter = u64::from(nanos % 1000) * millis / 4000;
    Duration::from_millis(millis + jitter).min(MAX_PAUSE)
}

impl S3Store {
    /// Reads an object, trying again what failed in transport or was throttled.
    pub(super) async fn get_async(&self, bucket: &str, key: &str) -> Result<Object, StoreError> {
        let mut attempt = 1;
        loop {
            // A folder S3 throttled is read within its own window as well (its place is
            // taken first, so that waiting for it holds no place in the store's window).
            let folder = self.throttled.window(bucket, key);
            let (result, took) = {
                let _folder_slot = match &folder {
                    Some(window) => Some(window.acquire().await),
                    None => None,
                };
                let _slot = self.window.acquire().await;
                let started = Instant::now();
                (self.get_once(bucket, key).await, started.elapsed())
            };
            match result {
                Ok(object) => {
                    self.window.succeeded(took);
                    if let Some(window) = &folder {
                        window.succeeded(took);
                    }
                    return Ok(object);
                }
                Err(f) if f.retry == Retry::Throttled && attempt < THROTTLED_ATTEMPTS => {
                    self.window.saw_throttling();
                    self.throttled.throttled(bucket, key, self.window.limit());
                    tokio::time::sleep(pause(attempt, true)).await;
                }
                Err(f) if f.retry == Retry::Transport && attempt < ATTEMPTS => {
                    tokio::time::sleep(pause(attempt, false)).await;
                }
                Err(f) => return Err(f.error),
            }
            attempt += 1;
        }
    }

    async fn get_once(&self, bucket: &str, key: &str) -> Result<Object, Failure> {
        let started = Instant::now();
        let out = self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .checksum_mode(ChecksumMode::Enabled)
            .set_request_payer(self.payer())
            .set_expected_bucket_owner(self.options.expected_bucket_owner.clone())
            .send()
            .await
            .map_err(|e| store_error(&e))?;
        let metadata: BTreeMap<String, String> = out
            .metadata()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
                    .collect()
            })
            .unwrap_or_default();
        let size = out.content_length().and_then(|n| u64::try_from(n).ok());
        let md5 = plain_md5(out.e_tag(), out.server_side_encryption());
        let info = ObjectInfo {
            etag: out.e_tag.clone(),
            version_id: out.version_id.clone(),
            last_modified: out
                .last_modified
                .and_then(|t| t.fmt(aws_sdk_s3::primitives::DateTimeFormat::DateTime).ok()),
        };
        let timeouts = &self.options.timeouts;
        let check = BodyCheck {
            size,
            md5,
            idle: timeouts.idle,
            // The request's own time, and time for the body at a minimum rate.
            deadline: started
                + timeouts.operation
                + Duration::from_secs(size.unwrap_or(0) / MIN_RATE),
        };
        let body = if size.is_some_and(|s| s > INLINE_BODY) {
            match self.bridge.handle() {
                Some(handle) => Body::from_reader(check.stream(out.body, handle)),
                None => Body::from_bytes(check.collect(out.body).await?),
            }
        } else {
            Body::from_bytes(check.collect(out.body).await?)
        };
        Ok(Object {
            body,
            size,
            metadata: Some(metadata),
            info,
        })
    }
}

/// The MD5 a plain `ETag` states: a single-part object stored without a customer or KMS key
/// (for those, S3's `ETag` is not the content's MD5).
fn plain_md5(etag: Option<&str>, sse: Option<&ServerSideEncryption>) -> Option<[u8; 16]> {
    let keyed = sse.is_some_and(|s| *s != ServerSideEncryption::Aes256);
    let hex = etag?.trim_matches('"');
    let mut md5 = [0u8; 16];
    (!keyed && hex::decode_to_slice(hex, &mut md5).is_ok()).then_some(md5)
}

/// What a body must be: its stated length, its plain `ETag`'s MD5, and on time.
#[derive(Clone, Copy)]
struct BodyCheck {
    size: Option<u64>,
    md5: Option<[u8; 16]>,
    idle: Duration,
    deadline: Instant,
}

/// The running state of a body being read.
struct Progress {
    read: u64,
    md5: md5::Md5,
}

impl BodyCheck {
    /// The next chunk, within the idle time and the deadline.
    async fn next(
        &self,
        body: &mut ByteStream,
        p: &mut Progress,
    ) -> Result<Option<Bytes>, Failure> {
        let now = Instant::now();
        let wait = self.idle.min(self.deadline.saturating_duration_since(now));
        let chunk = match tokio::time::timeout(wait, body.next()).await {
            Err(_) if now + self.idle > self.deadline => {
                let reason = format!(
                    "the body did not arrive in time ({} of {} bytes)",
                    p.read,
                    self.stated()
                );
                return Err(other(reason, Retry::Transport));
            }
            Err(_) => {
                let reason = format!(
                    "no data for {} s after {} of {} bytes",
                    self.idle.as_secs(),
                    p.read,
                    self.stated()
                );
                return Err(other(reason, Retry::Transport));
            }
            Ok(None) => return Ok(None),
            Ok(Some(Err(e))) => {
                let reason = format!(
                    "the body failed after {} of {} bytes: {}",
                    p.read,
                    self.stated(),
                    DisplayErrorContext(&e)
                );
                return Err(other(reason, Retry::Transport));
            }
            Ok(Some(Ok(chunk))) => chunk,
        };
        p.read += chunk.len() as u64;
        if self.md5.is_some() {
            p.md5.update(&chunk);
        }
        if self.size.is_some_and(|s| p.read > s) {
            let reason = format!("the body is longer than the {} bytes stated", self.stated());
            return Err(other(reason, Retry::Transport));
        }
        Ok(Some(chunk))
    }

    /// Checks a body read to its end.
    fn finish(&self, p: Progress) -> Result<(), Failure> {
        if let Some(size) = self.size.filter(|s| *s != p.read) {
            let reason = format!("the body ended after {} of {size} bytes", p.read);
            return Err(other(reason, Retry::Transport));
        }
        if let Some(stated) = self.md5 {
            let actual: [u8; 16] = p.md5.finalize().into();
            if actual != stated {
                let reason = "the body's MD5 is not its ETag: it changed in transit".to_owned();
                return Err(other(reason, Retry::Transport));
            }
        }
        Ok(())
    }

    fn stated(&self) -> String {
        self.size
            .map_or_else(|| "unknown".into(), |s| s.to_string())
    }

    fn progress() -> Progress {
        Progress {
            read: 0,
            md5: md5::Md5::new(),
        }
    }

    /// The whole body, in memory.
    async fn collect(self, mut body: ByteStream) -> Result<Vec<u8>, Failure> {
        let mut p = Self::progress();
        let mut out = Vec::with_capacity(usize::try_from(self.size.unwrap_or(0)).unwrap_or(0));
        while let Some(chunk) = self.next(&mut body, &mut p).await? {
            out.extend_from_slice(&chunk);
        }
        self.finish(p)?;
        Ok(out)
    }

    /// The body read as it arrives: a task reads it a few chunks ahead of the reader. A
    /// failure, checked at the end too, reaches the reader as an error, never as data.
    fn stream(self, mut body: ByteStream, runtime: &tokio::runtime::Handle) -> StreamBody {
        let (tx, rx) = tokio::sync::mpsc::channel::<io::Result<Bytes>>(4);
        runtime.spawn(async move {
            let mut p = Self::progress();
            loop {
                let sent = match self.next(&mut body, &mut p).await {
                    Ok(Some(chunk)) => tx.send(Ok(chunk)).await,
                    Ok(None) => {
                        if let Err(f) = self.finish(p) {
                            let _ = tx
                                .send(Err(io::Error::other(f.error.reason().to_owned())))
                                .await;
                        }
                        return;
                    }
                    Err(f) => {
                        let _ = tx
                            .send(Err(io::Error::other(f.error.reason().to_owned())))
                            .await;
                        return;
                    }
                };
                // The reader went away: stop reading.
                if sent.is_err() {
                    return;
                }
            }
        });
        StreamBody {
            rx,
            chunk: Bytes::new(),
        }
    }
}

/// A body read as it arrives, from a task on the store's runtime. Reading blocks the
/// calling thread until the next chunk, from any thread (inside async code too), never a
/// thread of the store's own runtime.
struct StreamBody {
    rx: tokio::sync::mpsc::Receiver<io::Result<Bytes>>,
    chunk: Bytes,
}

impl Read for StreamBody {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.chunk.is_empty() {
            match wait(self.rx.recv()) {
                Some(Ok(chunk)) => self.chunk = chunk,
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            }
        }
        let n = out.len().min(self.chunk.len());
        out[..n].copy_from_slice(&self.chunk[..n]);
        self.chunk = self.chunk.slice(n..);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_plain_etag_of_an_object_without_a_key_is_an_md5() {
        let md5 = "\"900150983cd24fb0d6963f7d28e17f72\"";
        assert!(plain_md5(Some(md5), None).is_some());
        assert!(plain_md5(Some(md5), Some(&ServerSideEncryption::Aes256)).is_some());
        assert!(plain_md5(Some(md5), Some(&ServerSideEncryption::AwsKms)).is_none());
        assert!(plain_md5(Some("\"900150983cd24fb0d6963f7d28e17f72-3\""), None).is_none());
        assert!(plain_md5(None, None).is_none());
    }
}
