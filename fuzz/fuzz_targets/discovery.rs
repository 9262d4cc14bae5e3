//! Discovery and validation over arbitrary listings: a store whose listings return any
//! entries (outside the prefix asked for, multibyte text straddling it, folders that are
//! not one level down) never makes discovery panic, and nothing it returned outside a
//! prefix becomes a chain.
#![no_main]

use cloudtrail_digest::store::{Listing, Object, ObjectStore, StoreError, StoreErrorKind};
use cloudtrail_digest::{Discovery, Selection, Validator};
use libfuzzer_sys::fuzz_target;

/// A store that answers every listing with the same entries.
#[derive(Debug, Clone)]
struct Hostile(Vec<String>);

impl ObjectStore for Hostile {
    fn list(&self, _: &str, _: &str) -> Result<Listing, StoreError> {
        Ok(Listing::of(self.0.clone()))
    }
    fn list_prefixes(&self, _: &str, _: &str) -> Result<Listing, StoreError> {
        Ok(Listing::of(self.0.clone()))
    }
    fn get(&self, _: &str, _: &str) -> Result<Object, StoreError> {
        Err(StoreError::new(StoreErrorKind::NotFound, "none"))
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let entries: Vec<String> = text.split('\n').take(64).map(str::to_owned).collect();
    let store = Hostile(entries);
    let selection = Selection::default();
    for prefix in ["", "AWSLogs/", "a/é"] {
        if let Ok(found) = Discovery::find(&store, "b", prefix, &selection) {
            for keys in found.chains.values() {
                for key in keys {
                    assert!(key.to_key().starts_with(prefix.trim_end_matches('é')));
                }
            }
            if !found.chains.is_empty() {
                let validator = Validator::new(store.clone(), "b").prefix(prefix);
                let _ = validator.run_discovered(&found);
            }
        }
    }
});
