//! An in-memory store: for tests, and for tools that already hold the objects.

use std::collections::BTreeMap;

use super::body::Body;
use super::object::{Listing, Object, ObjectInfo, StoreError, StoreErrorKind};
use super::object_store::ObjectStore;

/// An object as a [`MemoryStore`] holds it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredObject {
    /// The body.
    pub body: Vec<u8>,
    /// User metadata, if known.
    pub metadata: Option<BTreeMap<String, String>>,
    /// S3's identifiers, where known.
    pub info: ObjectInfo,
}

impl From<StoredObject> for Object {
    fn from(s: StoredObject) -> Self {
        Self {
            size: Some(s.body.len() as u64),
            body: Body::from_bytes(s.body),
            metadata: s.metadata,
            info: s.info,
        }
    }
}

/// Objects held in memory, by bucket and key.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    buckets: BTreeMap<String, BTreeMap<String, StoredObject>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores an object, replacing any under the same key. A body read as it arrives is
    /// read whole (one that fails to read is stored empty).
    pub fn insert(&mut self, bucket: &str, key: &str, object: Object) {
        let stored = StoredObject {
            body: object.body.into_bytes(u64::MAX).unwrap_or_default(),
            metadata: object.metadata,
            info: object.info,
        };
        self.buckets
            .entry(bucket.to_owned())
            .or_default()
            .insert(key.to_owned(), stored);
    }

    /// Removes an object, returning it.
    pub fn remove(&mut self, bucket: &str, key: &str) -> Option<Object> {
        self.buckets.get_mut(bucket)?.remove(key).map(Object::from)
    }

    /// A stored object, to tamper with in tests.
    pub fn object_mut(&mut self, bucket: &str, key: &str) -> Option<&mut StoredObject> {
        self.buckets.get_mut(bucket)?.get_mut(key)
    }
}

impl ObjectStore for MemoryStore {
    fn list(&self, bucket: &str, prefix: &str) -> Result<Listing, StoreError> {
        let Some(objects) = self.buckets.get(bucket) else {
            return Err(StoreError::new(
                StoreErrorKind::Other,
                format!("no bucket {bucket}"),
            ));
        };
        Ok(Listing::of(
            objects
                .keys()
                .filter(|k| k.starts_with(prefix))
                .cloned()
                .collect(),
        ))
    }

    fn get(&self, bucket: &str, key: &str) -> Result<Object, StoreError> {
        let Some(objects) = self.buckets.get(bucket) else {
            return Err(StoreError::new(
                StoreErrorKind::Other,
                format!("no bucket {bucket}"),
            ));
        };
        objects
            .get(key)
            .cloned()
            .map(Object::from)
            .ok_or_else(|| StoreError::new(StoreErrorKind::NotFound, "no such key"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::conformance::{check_store, fixture, identifiers_kept, BUCKET};

    #[test]
    fn keeps_the_store_contract() {
        let mut store = MemoryStore::new();
        for (key, object) in fixture() {
            store.insert(BUCKET, &key, object);
        }
        check_store(&store);
        identifiers_kept(&store);
    }
}
