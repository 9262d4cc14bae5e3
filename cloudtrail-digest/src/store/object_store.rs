//! The store trait: list keys, get one object, many at once. "Not found" is a kind of its
//! own ([`StoreErrorKind::NotFound`]), distinct from every failure that leaves a file
//! unchecked.

use std::fmt;

use super::object::{Listing, Object, StoreError, StoreErrorKind};

/// A source of CloudTrail objects: an S3 endpoint or a local copy.
pub trait ObjectStore: fmt::Debug + Send + Sync {
    /// Every key in `bucket` that starts with `prefix`, in lexicographic (S3) order.
    fn list(&self, bucket: &str, prefix: &str) -> Result<Listing, StoreError>;

    /// The object's body (in memory up to [`STREAM_ABOVE`] bytes, else read as it arrives)
    /// and metadata.
    fn get(&self, bucket: &str, key: &str) -> Result<Object, StoreError>;

    /// The distinct "folders" directly under `prefix` (which ends in `/`), each ending in
    /// `/`, sorted: S3's `CommonPrefixes` with delimiter `/`. Lets discovery reach the digest
    /// folders without listing any log file.
    fn list_prefixes(&self, bucket: &str, prefix: &str) -> Result<Listing, StoreError> {
        let listed = self.list(bucket, prefix)?;
        let mut keys: Vec<String> = listed
            .keys
            .iter()
            .filter_map(|k| {
                let rest = k.strip_prefix(prefix)?;
                rest.find('/').map(|i| format!("{prefix}{}", &rest[..=i]))
            })
            .collect();
        keys.dedup();
        Ok(Listing {
            keys,
            problems: listed.problems,
        })
    }

    /// Fetches every `(bucket, key)` of `requests`, calling `each(index, result)` exactly
    /// once per request, concurrently and in any order, possibly on several threads.
    ///
    /// `each` may do CPU-heavy work (inflating and hashing a log). The default reads on the
    /// rayon pool; a network store overrides it to keep many requests in flight while
    /// bounding how many bodies are held at once.
    fn get_each(
        &self,
        requests: &[(&str, &str)],
        each: &(dyn Fn(usize, Result<Object, StoreError>) + Sync),
    ) {
        use rayon::prelude::*;
        requests
            .par_iter()
            .enumerate()
            .for_each(|(i, (bucket, key))| each(i, self.get(bucket, key)));
    }
}

/// A shared store is a store.
impl<T: ObjectStore + ?Sized> ObjectStore for std::sync::Arc<T> {
    fn list(&self, bucket: &str, prefix: &str) -> Result<Listing, StoreError> {
        (**self).list(bucket, prefix)
    }

    fn get(&self, bucket: &str, key: &str) -> Result<Object, StoreError> {
        (**self).get(bucket, key)
    }

    fn list_prefixes(&self, bucket: &str, prefix: &str) -> Result<Listing, StoreError> {
        (**self).list_prefixes(bucket, prefix)
    }

    fn get_each(
        &self,
        requests: &[(&str, &str)],
        each: &(dyn Fn(usize, Result<Object, StoreError>) + Sync),
    ) {
        (**self).get_each(requests, each);
    }
}

/// Fetches every request through [`ObjectStore::get_each`] and keeps `f(index, result)` by
/// index: `None` where the store skipped a request, which the caller must treat as not
/// read, never as read.
pub(crate) fn collect_each<S, T, F>(store: &S, requests: &[(&str, &str)], f: F) -> Vec<Option<T>>
where
    S: ObjectStore + ?Sized,
    T: Send,
    F: Fn(usize, Result<Object, StoreError>) -> T + Sync,
{
    let slots: std::sync::Mutex<Vec<Option<T>>> =
        std::sync::Mutex::new((0..requests.len()).map(|_| None).collect());
    store.get_each(requests, &|i, result| {
        let value = f(i, result);
        if let Ok(mut slots) = slots.lock() {
            if let Some(slot) = slots.get_mut(i) {
                *slot = Some(value);
            }
        }
    });
    slots
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The error for a request a store skipped (called `each` for it never).
pub(crate) fn skipped() -> StoreError {
    StoreError::new(
        StoreErrorKind::Other,
        "the store returned no result for this file",
    )
}
