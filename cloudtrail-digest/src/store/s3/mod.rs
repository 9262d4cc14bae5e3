//! Amazon S3 (and S3-compatible stores) through `aws-sdk-s3`.
//!
//! The store is synchronous like the rest of the library: its requests run on a tokio
//! runtime of its own ([`bridge`]), so it may be called from any thread, inside an async
//! runtime too. Bodies are returned exactly as stored: the SDK never decompresses, even for
//! objects stored with `Content-Encoding: gzip`.

pub(crate) mod bridge;
mod failure;
mod get;
mod store;
mod throttled;
mod window;

pub use store::{S3Options, S3Store, Timeouts};
