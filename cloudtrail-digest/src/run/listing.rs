//! Listing through a store without trusting it.
//!
//! Every key and folder a listing returns must lie under the prefix asked for: one that does
//! not (a faulty or hostile S3-compatible endpoint) is reported as unrecognized and never
//! used, so it cannot become a phantom chain of "not found" digests. A listing that fails
//! below the top is recorded as a failure, which leaves what it should have listed unchecked
//! (exit 2), and the run goes on with the rest.

use std::sync::Mutex;

use crate::report::{ListingFailure, UnrecognizedKey};
use crate::store::{Listing, ObjectStore, StoreError, StoreErrorKind};

/// Lists one bucket, collecting failures and stray entries.
pub(crate) struct Lister<'a, S: ObjectStore + ?Sized> {
    store: &'a S,
    bucket: &'a str,
    failures: Mutex<Vec<ListingFailure>>,
    strays: Mutex<Vec<UnrecognizedKey>>,
}

/// What a run's listings could not do.
#[derive(Debug, Default)]
pub(crate) struct Leftovers {
    pub(crate) failures: Vec<ListingFailure>,
    pub(crate) strays: Vec<UnrecognizedKey>,
}

fn take<T>(list: Mutex<Vec<T>>) -> Vec<T> {
    list.into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn push<T>(list: &Mutex<Vec<T>>, item: T) {
    list.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push(item);
}

impl<'a, S: ObjectStore + ?Sized> Lister<'a, S> {
    pub(crate) fn new(store: &'a S, bucket: &'a str) -> Self {
        Self {
            store,
            bucket,
            failures: Mutex::default(),
            strays: Mutex::default(),
        }
    }

    /// The keys under `prefix`; on failure none, recorded.
    pub(crate) fn keys(&self, prefix: &str) -> Vec<String> {
        self.try_keys(prefix).unwrap_or_default()
    }

    /// The keys under `prefix`, or why they could not be listed (also recorded).
    pub(crate) fn try_keys(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let listed = self.record(prefix, self.store.list(self.bucket, prefix))?;
        Ok(self
            .problems(listed)
            .into_iter()
            .filter(|key| {
                let under = key.starts_with(prefix);
                if !under {
                    self.stray(key, prefix, "which it does not start with");
                }
                under
            })
            .collect())
    }

    /// The folders one level under `prefix` (which is empty or ends in `/`); on failure
    /// none, recorded.
    pub(crate) fn folders(&self, prefix: &str) -> Vec<String> {
        self.try_folders(prefix).unwrap_or_default()
    }

    /// The folders one level under `prefix`, or why they could not be listed (recorded).
    pub(crate) fn try_folders(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let listed = self.record(prefix, self.store.list_prefixes(self.bucket, prefix))?;
        Ok(self
            .problems(listed)
            .into_iter()
            .filter(|folder| {
                let one_level = folder
                    .strip_prefix(prefix)
                    .and_then(|rest| rest.strip_suffix('/'))
                    .is_some_and(|name| !name.contains('/'));
                if !one_level {
                    self.stray(folder, prefix, "but is not one folder below it");
                }
                one_level
            })
            .collect())
    }

    /// Takes the entries a listing could not take as keys: a folder that could not be read
    /// is a failure (what it holds is unchecked), any other entry a stray.
    fn problems(&self, listed: Listing) -> Vec<String> {
        for problem in listed.problems {
            if problem.unchecked {
                push(
                    &self.failures,
                    ListingFailure {
                        prefix: problem.entry,
                        error: StoreErrorKind::Other,
                        reason: problem.reason,
                    },
                );
            } else {
                push(
                    &self.strays,
                    UnrecognizedKey {
                        key: problem.entry,
                        reason: problem.reason,
                    },
                );
            }
        }
        listed.keys
    }

    fn record<T>(&self, prefix: &str, result: Result<T, StoreError>) -> Result<T, StoreError> {
        result.inspect_err(|e| {
            push(
                &self.failures,
                ListingFailure {
                    prefix: prefix.to_owned(),
                    error: e.kind(),
                    reason: e.reason().to_owned(),
                },
            );
        })
    }

    /// Records an entry that does not belong where it was listed.
    pub(crate) fn push_stray(&self, stray: UnrecognizedKey) {
        push(&self.strays, stray);
    }

    fn stray(&self, entry: &str, prefix: &str, how: &str) {
        push(
            &self.strays,
            UnrecognizedKey {
                key: entry.to_owned(),
                reason: format!("listed under {prefix:?} {how}: a faulty listing, ignored"),
            },
        );
    }

    /// What could not be listed, and what was listed astray.
    pub(crate) fn finish(self) -> Leftovers {
        Leftovers {
            failures: take(self.failures),
            strays: take(self.strays),
        }
    }
}

/// Folders listed at once where a run lists many.
const LIST_THREADS: usize = 16;

/// Runs `work` (which lists `folders` folders with rayon) on [`LIST_THREADS`] threads of
/// its own when there are several folders: listing is waiting, not work, so more requests
/// are in flight than there are cores. On the caller's pool when there is one folder, or
/// if the threads cannot be started.
pub(crate) fn in_listing_pool<T: Send>(folders: usize, work: &(dyn Fn() -> T + Sync)) -> T {
    let pool = (folders > 1)
        .then(|| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(LIST_THREADS)
                .thread_name(|i| format!("list-{i}"))
                .build()
                .ok()
        })
        .flatten();
    match pool {
        Some(pool) => pool.install(work),
        None => work(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A store whose listings return whatever it was given.
    #[derive(Debug)]
    struct Canned(Vec<String>);

    impl ObjectStore for Canned {
        fn list(&self, _: &str, _: &str) -> Result<Listing, StoreError> {
            Ok(Listing::of(self.0.clone()))
        }
        fn list_prefixes(&self, _: &str, prefix: &str) -> Result<Listing, StoreError> {
            if prefix == "fail/" {
                return Err(StoreError::new(StoreErrorKind::Other, "boom"));
            }
            Ok(Listing::of(self.0.clone()))
        }
        fn get(&self, _: &str, _: &str) -> Result<crate::store::Object, StoreError> {
            Err(StoreError::new(StoreErrorKind::NotFound, "none"))
        }
    }

    #[test]
    fn keeps_only_what_lies_under_the_prefix_and_reports_the_rest() {
        let listed = ["a/b/", "a/c/d/", "x/", "a/", "a/é/", "a//", "á/"];
        let store = Canned(listed.iter().map(|s| (*s).to_owned()).collect());
        let listing = Lister::new(&store, "bucket");
        assert_eq!(listing.folders("a/"), ["a/b/", "a/é/", "a//"]);
        assert_eq!(listing.keys("a/"), ["a/b/", "a/c/d/", "a/", "a/é/", "a//"]);
        assert!(listing.folders("fail/").is_empty());
        let left = listing.finish();
        let strays: Vec<&str> = left.strays.iter().map(|s| s.key.as_str()).collect();
        assert_eq!(strays, ["a/c/d/", "x/", "a/", "á/", "x/", "á/"]);
        assert_eq!(left.failures.len(), 1);
        assert_eq!(
            (
                left.failures[0].prefix.as_str(),
                left.failures[0].reason.as_str()
            ),
            ("fail/", "boom")
        );
    }
}
