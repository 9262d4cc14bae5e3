//! Throttling is per prefix: S3 refuses (503 `SlowDown`) past about 5,500 GETs a second on
//! a prefix, so a refusal says that one prefix is read too fast, not the bucket. A folder
//! S3 throttled gets an in-flight window of its own, started at half the store's window and
//! then halving on each burst of refusals and growing back by one (see [`Window`]); the
//! requests of every other folder (other days, regions, accounts) keep the store's window,
//! which only stops doubling. One throttled day folder is read slowly; the others are not.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use super::window::Window;

/// At most this many throttled folders are remembered; past it, those with no request in
/// flight are forgotten (a folder throttled again gets a new window).
const MAX_FOLDERS: usize = 4096;

/// The windows of the folders S3 throttled.
#[derive(Debug)]
pub(super) struct Throttled {
    max: usize,
    /// Whether any folder was throttled: until then a request looks nothing up.
    any: AtomicBool,
    folders: Mutex<HashMap<String, Arc<Window>>>,
}

/// A key's folder: the key up to its last `/`.
fn folder_of(key: &str) -> &str {
    key.rfind('/').map_or("", |i| &key[..i])
}

/// The folder a key is throttled in: its bucket and folder.
fn folder(bucket: &str, key: &str) -> String {
    format!("{bucket}/{}", folder_of(key))
}

/// The order to request `requests` (bucket, key) in: one of each folder in turn, each
/// folder's in their order, so that the requests of a folder S3 throttles, waiting for
/// their window, hold no more than their share of the places in flight.
pub(super) fn in_turn(requests: &[(&str, &str)]) -> Vec<usize> {
    let mut folders: HashMap<(&str, &str), usize> = HashMap::new();
    let mut queues: Vec<Vec<usize>> = Vec::new();
    for (i, (bucket, key)) in requests.iter().enumerate() {
        let q = *folders.entry((bucket, folder_of(key))).or_insert_with(|| {
            queues.push(Vec::new());
            queues.len() - 1
        });
        queues[q].push(i);
    }
    if queues.len() == 1 {
        return queues.pop().unwrap_or_default();
    }
    let longest = queues.iter().map(Vec::len).max().unwrap_or(0);
    (0..longest)
        .flat_map(|turn| queues.iter().filter_map(move |q| q.get(turn).copied()))
        .collect()
}

impl Throttled {
    /// No folder throttled yet; their windows hold at most `max` requests.
    pub(super) fn new(max: usize) -> Self {
        Self {
            max,
            any: AtomicBool::new(false),
            folders: Mutex::new(HashMap::new()),
        }
    }

    /// The window of the key's folder, if S3 throttled it.
    pub(super) fn window(&self, bucket: &str, key: &str) -> Option<Arc<Window>> {
        if !self.any.load(Ordering::Acquire) {
            return None;
        }
        let folders = self.folders.lock().unwrap_or_else(PoisonError::into_inner);
        folders.get(&folder(bucket, key)).cloned()
    }

    /// S3 throttled a request for the key: its folder's window is cut (made at `store_limit`,
    /// the store's window, and cut from there, if it had none).
    pub(super) fn throttled(&self, bucket: &str, key: &str, store_limit: usize) {
        self.any.store(true, Ordering::Release);
        let window = {
            let mut folders = self.folders.lock().unwrap_or_else(PoisonError::into_inner);
            if folders.len() >= MAX_FOLDERS {
                folders.retain(|_, w| Arc::strong_count(w) > 1);
            }
            let max = self.max;
            Arc::clone(
                folders
                    .entry(folder(bucket, key))
                    .or_insert_with(|| Arc::new(Window::starting_at(max, store_limit))),
            )
        };
        window.throttled();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_throttled_folder_gets_its_own_window_and_the_others_keep_theirs() {
        let throttled = Throttled::new(256);
        let day = "AWSLogs/1/CloudTrail/us-east-1/2024/03/01/a.json.gz";
        let same_day = "AWSLogs/1/CloudTrail/us-east-1/2024/03/01/b.json.gz";
        let next_day = "AWSLogs/1/CloudTrail/us-east-1/2024/03/02/c.json.gz";
        assert!(throttled.window("b", day).is_none());
        throttled.throttled("b", day, 200);
        let window = throttled.window("b", same_day).unwrap();
        assert_eq!(window.limit(), 100, "half the store's window");
        assert!(throttled.window("b", next_day).is_none());
        assert!(throttled.window("other", day).is_none(), "another bucket");
        // The same window, cut again on a later burst.
        assert_eq!(throttled.window("b", day).unwrap().limit(), 100);
    }

    #[test]
    fn requests_take_their_folders_in_turn_and_none_is_lost() {
        let requests = [
            ("b", "d1/a"),
            ("b", "d1/b"),
            ("b", "d1/c"),
            ("b", "d2/a"),
            ("c", "d1/a"),
            ("b", "top"),
        ];
        assert_eq!(in_turn(&requests), [0, 3, 4, 5, 1, 2]);
        assert_eq!(in_turn(&requests[..3]), [0, 1, 2]);
        assert!(in_turn(&[]).is_empty());
    }

    #[test]
    fn idle_folders_are_forgotten_past_the_bound() {
        let throttled = Throttled::new(8);
        let held = {
            throttled.throttled("b", "kept/x", 8);
            throttled.window("b", "kept/x").unwrap()
        };
        for n in 0..MAX_FOLDERS + 10 {
            throttled.throttled("b", &format!("f{n}/x"), 8);
        }
        let folders = throttled.folders.lock().unwrap();
        assert!(folders.len() <= MAX_FOLDERS, "{}", folders.len());
        assert!(folders.contains_key("b/kept"), "a window in use is kept");
        drop(held);
    }
}
