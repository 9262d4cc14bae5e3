//! A local copy of a bucket: `ROOT/[prefix/]AWSLogs/...`, with each object's S3 metadata in
//! an optional sidecar `<key>.meta.json` holding what `aws s3api head-object` prints.
//!
//! Every file is opened beneath the root in one step ([`Root`]): a key or symlink that
//! would leave it is refused, and what was checked is what is read. A day folder holds a
//! hundred or more log files: each is opened by name relative to its open folder (one
//! name looked up, not a dozen components), and only through the root when that name is
//! a symlink.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io;
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde_json::Value;

use super::body::{Body, STREAM_ABOVE};
use super::object::{ListProblem, Listing, Object, ObjectInfo, StoreError, StoreErrorKind};
use super::object_store::ObjectStore;
use super::root::{read_bounded, Dir, EntryKind, Root, RootError};

/// The suffix of metadata sidecar files.
pub const SIDECAR_SUFFIX: &str = ".meta.json";

/// The largest sidecar read (`head-object` output is well under a kilobyte).
pub(crate) const MAX_SIDECAR_BYTES: u64 = 4 * 1024 * 1024;

/// How many folders are kept open at once.
const OPEN_DIRS: usize = 64;

/// How deep a listing descends (a bucket's keys are about a dozen folders deep).
const MAX_DEPTH: usize = 64;

/// A directory holding one bucket's objects.
#[derive(Debug, Clone)]
pub struct FsStore {
    root: Arc<Root>,
    bucket: String,
    /// The folders files were last read from, open, by their key prefix (at most
    /// [`OPEN_DIRS`], so that a copy of years of logs does not run out of descriptors).
    open: Arc<Mutex<HashMap<String, Arc<OpenDir>>>>,
}

/// A folder files are read from: open, and whether it holds any sidecar (in one that holds
/// none, a copy made without them, no file's sidecar is looked for).
#[derive(Debug)]
struct OpenDir {
    dir: Dir,
    has_sidecars: bool,
}

#[allow(clippy::needless_pass_by_value)] // used as `map_err(store_error)`
fn store_error(e: RootError) -> StoreError {
    let kind = match &e {
        RootError::NotFound => StoreErrorKind::NotFound,
        RootError::Outside => {
            return StoreError::new(
                StoreErrorKind::OutsideRoot,
                "key resolves outside the store root",
            )
        }
        RootError::Denied => StoreErrorKind::AccessDenied,
        _ => StoreErrorKind::Other,
    };
    StoreError::new(kind, e.to_string())
}

impl FsStore {
    /// A store over the directory `root` holding the objects of bucket `bucket`.
    pub fn new(root: impl AsRef<Path>, bucket: impl Into<String>) -> io::Result<Self> {
        Ok(Self {
            root: Arc::new(Root::open(root)?),
            bucket: bucket.into(),
            open: Arc::default(),
        })
    }

    /// The bucket this directory holds.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// The directory, opened: to read other files of the copy the same way.
    pub fn root_dir(&self) -> &Root {
        &self.root
    }

    fn check_bucket(&self, bucket: &str) -> Result<(), StoreError> {
        if bucket == self.bucket {
            Ok(())
        } else {
            Err(StoreError::new(
                StoreErrorKind::Other,
                format!(
                    "bucket {bucket} is not in this local copy (it holds bucket {})",
                    self.bucket
                ),
            ))
        }
    }

    /// The folder `folder` (a key prefix without its trailing `/`, empty for the root),
    /// opened beneath the root, with whether it holds sidecars.
    fn open_dir(&self, folder: &str) -> Result<Arc<OpenDir>, StoreError> {
        if let Some(dir) = self.open.lock().ok().and_then(|m| m.get(folder).cloned()) {
            return Ok(dir);
        }
        let dir = self.root.open_dir(folder).map_err(store_error)?;
        let has_sidecars = dir
            .entries()
            .map_err(store_error)?
            .iter()
            .any(|e| e.name.as_ref().is_ok_and(|n| n.ends_with(SIDECAR_SUFFIX)));
        let dir = Arc::new(OpenDir { dir, has_sidecars });
        if let Ok(mut open) = self.open.lock() {
            if open.len() >= OPEN_DIRS {
                open.clear();
            }
            open.insert(folder.to_owned(), Arc::clone(&dir));
        }
        Ok(dir)
    }

    /// The sidecar's `Metadata` (`None` without a sidecar) and S3 identifiers, read like
    /// any file of the store, within [`MAX_SIDECAR_BYTES`].
    fn read_sidecar(
        &self,
        key: &str,
    ) -> Result<(Option<BTreeMap<String, String>>, ObjectInfo), StoreError> {
        let bad = |why: &str| {
            StoreError::new(
                StoreErrorKind::Other,
                format!("metadata sidecar {SIDECAR_SUFFIX} is invalid: {why}"),
            )
        };
        let bytes = match self
            .root
            .read(&format!("{key}{SIDECAR_SUFFIX}"), MAX_SIDECAR_BYTES)
        {
            Ok(b) => b,
            Err(RootError::NotFound) => return Ok((None, ObjectInfo::default())),
            Err(e @ RootError::TooLarge(_)) => return Err(bad(&e.to_string())),
            Err(e) => return Err(store_error(e)),
        };
        parse_sidecar(&bytes).map_err(|why| bad(&why))
    }
}

/// The `Metadata` and S3 identifiers of a sidecar: `head-object` output, an object (JSON
/// that is not, such as `[]` or `null`, says nothing about the metadata).
///
/// # Errors
/// The sidecar is not that; the error says why.
#[cfg_attr(not(feature = "testing"), allow(unreachable_pub))]
pub fn parse_sidecar(
    bytes: &[u8],
) -> Result<(Option<BTreeMap<String, String>>, ObjectInfo), String> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    if !value.is_object() {
        return Err("not a JSON object".into());
    }
    let meta = match value.get("Metadata") {
        None => BTreeMap::new(),
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| {
                v.as_str()
                    .map(|s| (k.to_ascii_lowercase(), s.to_owned()))
                    .ok_or_else(|| format!("Metadata.{k} is not a string"))
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err("Metadata is not an object".into()),
    };
    let text = |field: &str| match value.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("{field} is not a string")),
    };
    let info = ObjectInfo {
        etag: text("ETag")?,
        version_id: text("VersionId")?,
        last_modified: text("LastModified")?,
    };
    Ok((Some(meta), info))
}

/// A key's folder and name.
fn split(key: &str) -> (&str, &str) {
    key.rsplit_once('/').unwrap_or(("", key))
}

impl ObjectStore for FsStore {
    fn list(&self, bucket: &str, prefix: &str) -> Result<Listing, StoreError> {
        self.check_bucket(bucket)?;
        // Walk only the deepest folder the prefix names.
        let folder = prefix.rsplit_once('/').map_or("", |(d, _)| d);
        let dir = match self.root.open_dir(folder) {
            Ok(d) => d,
            Err(RootError::NotFound) => return Ok(Listing::default()),
            Err(e) => return Err(store_error(e)),
        };
        let mut out = Listing::default();
        let start = if folder.is_empty() {
            String::new()
        } else {
            format!("{folder}/")
        };
        let mut walk = Walk {
            root: &self.root,
            visited: HashSet::new(),
            out: &mut out,
        };
        walk.folder(&dir, &start, 0);
        out.keys
            .retain(|k| k.starts_with(prefix) && !k.ends_with(SIDECAR_SUFFIX));
        out.problems.retain(|p| p.entry.starts_with(prefix));
        out.keys.sort_unstable();
        Ok(out)
    }

    fn list_prefixes(&self, bucket: &str, prefix: &str) -> Result<Listing, StoreError> {
        self.check_bucket(bucket)?;
        let folder = prefix.strip_suffix('/').unwrap_or(prefix);
        let dir = match self.root.open_dir(folder) {
            Ok(d) => d,
            Err(RootError::NotFound) => return Ok(Listing::default()),
            Err(e) => return Err(store_error(e)),
        };
        let mut out = Listing::default();
        for entry in dir.entries().map_err(store_error)? {
            let name = match entry.name {
                Ok(n) => n,
                Err(lossy) if entry.kind == EntryKind::Dir => {
                    out.problems.push(ListProblem {
                        entry: format!("{prefix}{lossy}/"),
                        reason: "its name is not UTF-8".into(),
                        unchecked: false,
                    });
                    continue;
                }
                Err(_) => continue,
            };
            let key = format!("{prefix}{name}");
            match entry.kind {
                EntryKind::Dir => out.keys.push(format!("{key}/")),
                EntryKind::Symlink => match self.root.open_dir(&key) {
                    Ok(_) => out.keys.push(format!("{key}/")),
                    Err(RootError::Io(_) | RootError::NotRegular) => {}
                    Err(e) => out.problems.push(symlink_problem(&key, &e)),
                },
                _ => {}
            }
        }
        out.keys.sort_unstable();
        Ok(out)
    }

    fn get(&self, bucket: &str, key: &str) -> Result<Object, StoreError> {
        self.check_bucket(bucket)?;
        if key.is_empty() {
            return Err(store_error(RootError::Outside));
        }
        super::root::plain(key).map_err(store_error)?;
        let (folder, name) = split(key);
        let dir = self.open_dir(folder)?;
        let (file, size) = match dir.dir.open_file(name) {
            Ok(found) => found,
            // A symlink (or a name that is not one component): resolved beneath the root.
            Err(RootError::Outside) => self.root.open_file(key).map_err(store_error)?,
            Err(e) => return Err(store_error(e)),
        };
        let body = if size <= STREAM_ABOVE {
            Body::from_bytes(read_bounded(file, size, STREAM_ABOVE).map_err(store_error)?)
        } else {
            Body::from_reader(file)
        };
        let (metadata, info) = if dir.has_sidecars {
            self.read_sidecar(key)?
        } else {
            (None, ObjectInfo::default())
        };
        Ok(Object {
            body,
            size: Some(size),
            metadata,
            info,
        })
    }
}

/// A listing's walk down a folder tree.
struct Walk<'a> {
    root: &'a Root,
    /// The folders entered, by device and inode: a symlink back to one is a loop.
    visited: HashSet<(u64, u64)>,
    out: &'a mut Listing,
}

fn symlink_problem(key: &str, e: &RootError) -> ListProblem {
    let reason = match e {
        RootError::Outside => "a symlink leading outside the copy (or absolute, or a loop)".into(),
        RootError::NotFound => "a symlink to nothing".into(),
        other => format!("a symlink that cannot be followed: {other}"),
    };
    ListProblem {
        entry: key.to_owned(),
        reason,
        unchecked: false,
    }
}

impl Walk<'_> {
    /// Lists `dir`, whose keys start with `prefix` (empty or ending in `/`).
    fn folder(&mut self, dir: &Dir, prefix: &str, depth: usize) {
        if !self.visited.insert(dir.id()) {
            self.problem(
                prefix,
                "a folder reached again through a symlink (a loop)",
                false,
            );
            return;
        }
        if depth > MAX_DEPTH {
            self.problem(prefix, "folders nested too deep", true);
            return;
        }
        let entries = match dir.entries() {
            Ok(e) => e,
            Err(e) => {
                self.problem(prefix, &format!("the folder cannot be read: {e}"), true);
                return;
            }
        };
        for entry in entries {
            let name = match entry.name {
                Ok(n) => n,
                Err(lossy) => {
                    self.problem(&format!("{prefix}{lossy}"), "its name is not UTF-8", false);
                    continue;
                }
            };
            let key = format!("{prefix}{name}");
            match entry.kind {
                EntryKind::File => self.out.keys.push(key),
                EntryKind::Dir => match self.root.open_dir(&key) {
                    Ok(child) => self.folder(&child, &format!("{key}/"), depth + 1),
                    Err(e) => self.problem(
                        &format!("{key}/"),
                        &format!("the folder cannot be read: {e}"),
                        true,
                    ),
                },
                EntryKind::Symlink => self.symlink(&key, depth),
                EntryKind::Other => self.problem(&key, "not a regular file or folder", false),
            }
        }
    }

    /// A symlink: a folder or file beneath the root, or a problem.
    fn symlink(&mut self, key: &str, depth: usize) {
        match self.root.open_dir(key) {
            Ok(child) => return self.folder(&child, &format!("{key}/"), depth + 1),
            Err(RootError::Io(_) | RootError::NotRegular) => {}
            Err(e) => return self.out.problems.push(symlink_problem(key, &e)),
        }
        match self.root.open_file(key) {
            Ok(_) => self.out.keys.push(key.to_owned()),
            Err(RootError::NotRegular) => self.problem(key, "not a regular file or folder", false),
            Err(e) => self.out.problems.push(symlink_problem(key, &e)),
        }
    }

    fn problem(&mut self, entry: &str, reason: &str, unchecked: bool) {
        self.out.problems.push(ListProblem {
            entry: entry.to_owned(),
            reason: reason.to_owned(),
            unchecked,
        });
    }
}

#[cfg(test)]
mod tests;
