//! A copy of a bucket presented under the original's name.

use super::object::{Listing, Object, StoreError};
use super::object_store::ObjectStore;

/// Presents a bucket that holds a copy of another under the original's name: requests for
/// `original` are served from `actual` of the inner store. Validating with `original` as
/// the bucket then checks each digest against the names inside it (the signing string uses
/// them anyway), so a faithful copy verifies instead of being reported as moved.
#[derive(Debug)]
pub struct CopyOf<S> {
    inner: S,
    original: String,
    actual: String,
}

impl<S: ObjectStore> CopyOf<S> {
    /// `inner`'s bucket `actual`, seen as `original`.
    pub fn new(inner: S, original: impl Into<String>, actual: impl Into<String>) -> Self {
        Self {
            inner,
            original: original.into(),
            actual: actual.into(),
        }
    }

    fn map<'a>(&'a self, bucket: &'a str) -> &'a str {
        if bucket == self.original {
            &self.actual
        } else {
            bucket
        }
    }
}

impl<S: ObjectStore> ObjectStore for CopyOf<S> {
    fn list(&self, bucket: &str, prefix: &str) -> Result<Listing, StoreError> {
        self.inner.list(self.map(bucket), prefix)
    }

    fn get(&self, bucket: &str, key: &str) -> Result<Object, StoreError> {
        self.inner.get(self.map(bucket), key)
    }

    fn list_prefixes(&self, bucket: &str, prefix: &str) -> Result<Listing, StoreError> {
        self.inner.list_prefixes(self.map(bucket), prefix)
    }

    fn get_each(
        &self,
        requests: &[(&str, &str)],
        each: &(dyn Fn(usize, Result<Object, StoreError>) + Sync),
    ) {
        let mapped: Vec<(&str, &str)> = requests.iter().map(|(b, k)| (self.map(b), *k)).collect();
        self.inner.get_each(&mapped, each);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    #[test]
    fn serves_the_original_name_from_the_copy() {
        let mut mem = MemoryStore::new();
        mem.insert("copy", "k", Object::new(b"x".to_vec(), None));
        let store = CopyOf::new(mem, "original", "copy");
        let body = store.get("original", "k").unwrap().body;
        assert_eq!(body.as_bytes(), Some(&b"x"[..]));
        assert_eq!(store.list("original", "").unwrap().keys, ["k"]);
        assert!(store.get("other", "k").is_err());
    }

    #[test]
    fn keeps_the_store_contract() {
        use crate::store::conformance::{check_store, fixture, BUCKET};
        let mut mem = MemoryStore::new();
        for (key, object) in fixture() {
            mem.insert("the-copy", &key, object);
        }
        check_store(&CopyOf::new(mem, BUCKET, "the-copy"));
    }
}
