//! An in-memory store: for tests, and for tools that already hold the objects.

use std::collections::BTreeMap;

use super::{Object, ObjectStore, StoreError, StoreErrorKind};

/// Objects held in memory, by bucket and key.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    buckets: BTreeMap<String, BTreeMap<String, Object>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores an object, replacing any under the same key.
    pub fn insert(&mut self, bucket: &str, key: &str, object: Object) {
        self.buckets
            .entry(bucket.to_owned())
            .or_default()
            .insert(key.to_owned(), object);
    }

    /// Removes an object, returning it.
    pub fn remove(&mut self, bucket: &str, key: &str) -> Option<Object> {
        self.buckets.get_mut(bucket)?.remove(key)
    }

    /// A stored object, to tamper with in tests.
    pub fn object_mut(&mut self, bucket: &str, key: &str) -> Option<&mut Object> {
        self.buckets.get_mut(bucket)?.get_mut(key)
    }
}

impl ObjectStore for MemoryStore {
    fn list(
        &self,
        bucket: &str,
        prefix: &str,
        start_after: Option<&str>,
    ) -> Result<Vec<String>, StoreError> {
        let Some(objects) = self.buckets.get(bucket) else {
            return Err(StoreError::new(
                StoreErrorKind::NotFound,
                format!("no bucket {bucket}"),
            ));
        };
        Ok(objects
            .keys()
            .filter(|k| k.starts_with(prefix) && start_after.is_none_or(|s| k.as_str() > s))
            .cloned()
            .collect())
    }

    fn get(&self, bucket: &str, key: &str) -> Result<Object, StoreError> {
        self.buckets
            .get(bucket)
            .and_then(|b| b.get(key))
            .cloned()
            .ok_or_else(|| StoreError::new(StoreErrorKind::NotFound, "no such key"))
    }
}
