//! A local copy of a bucket: `ROOT/[prefix/]AWSLogs/...`, with each object's S3 metadata in
//! an optional sidecar `<key>.meta.json` holding what `aws s3api head-object` prints.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::Value;

use super::dir::{self, Dir};
use super::{Object, ObjectInfo, ObjectStore, StoreError, StoreErrorKind};

/// The suffix of metadata sidecar files.
pub const SIDECAR_SUFFIX: &str = ".meta.json";

/// A directory holding one bucket's objects.
#[derive(Debug, Clone)]
pub struct FsStore {
    root: PathBuf,
    bucket: String,
    /// Directories already shown to resolve inside the root: a day folder holds many logs,
    /// and resolving every component of every key costs a `readlink` per component.
    inside: Arc<Mutex<HashSet<PathBuf>>>,
    /// The folders files were last read from, open, by their key prefix (at most
    /// [`OPEN_DIRS`], so that a copy of years of logs does not run out of descriptors).
    open: Arc<Mutex<HashMap<String, Arc<OpenDir>>>>,
}

/// How many folders are kept open at once.
const OPEN_DIRS: usize = 64;

/// A folder files are read from: open, and whether it holds any sidecar (in one that holds
/// none, a copy made without them, no file's sidecar is looked for).
#[derive(Debug)]
struct OpenDir {
    dir: Dir,
    has_sidecars: bool,
}

impl FsStore {
    /// A store over `root` (which must exist) holding the objects of bucket `bucket`.
    pub fn new(root: impl Into<PathBuf>, bucket: impl Into<String>) -> io::Result<Self> {
        let root = root.into().canonicalize()?;
        if !root.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a directory",
            ));
        }
        Ok(Self {
            root,
            bucket: bucket.into(),
            inside: Arc::default(),
            open: Arc::default(),
        })
    }

    /// The bucket this directory holds.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The directory.
    pub fn root(&self) -> &Path {
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

    /// Maps a key to a path under the root, refusing any key that could leave it.
    fn path_of(&self, key: &str) -> Result<PathBuf, StoreError> {
        let path = self.path_in_dir(key)?;
        // A symlink may lead out: it must resolve inside the root.
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_symlink() => match path.canonicalize() {
                Ok(resolved) if resolved.starts_with(&self.root) => Ok(path),
                Ok(_) => Err(outside()),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(path),
                Err(e) => Err(io_error(&e)),
            },
            Ok(_) => Ok(path),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(path),
            Err(e) => Err(io_error(&e)),
        }
    }

    /// Maps a key to a path under the root whose directory resolves inside the root; the
    /// last component may still be a symlink ([`Self::path_of`] checks it too).
    fn path_in_dir(&self, key: &str) -> Result<PathBuf, StoreError> {
        check_key(key)?;
        let path = self.root.join(key);
        // Symlinks may lead out: the directory must resolve inside the root (checked once
        // per directory).
        if let Some(parent) = path.parent() {
            self.check_inside_dir(parent, &outside)?;
        }
        Ok(path)
    }

    /// Reads a file of the store: opened by name in its open folder without following a
    /// symlink, and only if that fails for another reason than absence, through
    /// [`Self::path_of`]'s full check. Returns the folder too, for the sidecar.
    fn read(&self, key: &str) -> Result<(Arc<OpenDir>, Vec<u8>), StoreError> {
        check_key(key)?;
        let (folder, name) = key.rsplit_once('/').unwrap_or(("", key));
        let dir = self.open_dir(folder)?;
        match dir.dir.read(name) {
            Ok(body) => Ok((dir, body)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(io_error(&e)),
            Err(_) => {
                let path = self.path_of(key)?;
                let body = dir::read_file(&path).map_err(|e| io_error(&e))?;
                Ok((dir, body))
            }
        }
    }

    /// The folder `folder` (a key prefix without its trailing `/`, empty for the root),
    /// opened once it is shown to resolve inside the root, with whether it holds sidecars.
    fn open_dir(&self, folder: &str) -> Result<Arc<OpenDir>, StoreError> {
        if let Some(dir) = self.open.lock().ok().and_then(|m| m.get(folder).cloned()) {
            return Ok(dir);
        }
        let path = if folder.is_empty() {
            self.root.clone()
        } else {
            self.root.join(folder)
        };
        self.check_inside_dir(&path, &outside)?;
        let dir = Dir::open(path).map_err(|e| io_error(&e))?;
        let mut has_sidecars = false;
        for entry in std::fs::read_dir(dir.path()).map_err(|e| io_error(&e))? {
            let entry = entry.map_err(|e| io_error(&e))?;
            if entry
                .file_name()
                .as_encoded_bytes()
                .ends_with(SIDECAR_SUFFIX.as_bytes())
            {
                has_sidecars = true;
                break;
            }
        }
        let dir = Arc::new(OpenDir { dir, has_sidecars });
        if let Ok(mut open) = self.open.lock() {
            if open.len() >= OPEN_DIRS {
                open.clear();
            }
            open.insert(folder.to_owned(), Arc::clone(&dir));
        }
        Ok(dir)
    }

    /// Checks that a directory resolves inside the root; remembers the ones that do.
    fn check_inside_dir(
        &self,
        dir: &Path,
        outside: &dyn Fn() -> StoreError,
    ) -> Result<(), StoreError> {
        if self.inside.lock().is_ok_and(|set| set.contains(dir)) {
            return Ok(());
        }
        match dir.canonicalize() {
            Ok(resolved) if resolved.starts_with(&self.root) => {
                if let Ok(mut set) = self.inside.lock() {
                    set.insert(dir.to_path_buf());
                }
                Ok(())
            }
            Ok(_) => Err(outside()),
            // A missing directory: the file is simply not found.
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_error(&e)),
        }
    }

    /// The sidecar's `Metadata` (`None` without a sidecar) and S3 identifiers. The sidecar
    /// is read like any file of the store: a symlink only if it stays inside the root.
    fn read_sidecar(
        &self,
        key: &str,
    ) -> Result<(Option<BTreeMap<String, String>>, ObjectInfo), StoreError> {
        let bytes = match self.read(&format!("{key}{SIDECAR_SUFFIX}")) {
            Ok((_, b)) => b,
            Err(e) if e.kind() == StoreErrorKind::NotFound => {
                return Ok((None, ObjectInfo::default()))
            }
            Err(e) => return Err(e),
        };
        let bad = |why: &str| {
            StoreError::new(
                StoreErrorKind::Other,
                format!("metadata sidecar {SIDECAR_SUFFIX} is invalid: {why}"),
            )
        };
        let value: Value = serde_json::from_slice(&bytes).map_err(|e| bad(&e.to_string()))?;
        // `head-object` output is an object; anything else (`[]`, `null`, a string) says
        // nothing about the object's metadata, so its digest cannot be checked.
        if !value.is_object() {
            return Err(bad("not a JSON object"));
        }
        let meta = match value.get("Metadata") {
            None => BTreeMap::new(),
            Some(Value::Object(m)) => m
                .iter()
                .map(|(k, v)| {
                    v.as_str()
                        .map(|s| (k.to_ascii_lowercase(), s.to_owned()))
                        .ok_or_else(|| bad(&format!("Metadata.{k} is not a string")))
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(bad("Metadata is not an object")),
        };
        let text = |field: &str| match value.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(bad(&format!("{field} is not a string"))),
        };
        let info = ObjectInfo {
            etag: text("ETag")?,
            version_id: text("VersionId")?,
            last_modified: text("LastModified")?,
        };
        Ok((Some(meta), info))
    }
}

/// Refuses a key that could name anything outside the root.
fn check_key(key: &str) -> Result<(), StoreError> {
    // Every segment must be a plain name: no empty segment (`a//b`, a leading `/`),
    // no `.` or `..`, no backslash (a separator elsewhere), no NUL.
    let plain = |s: &str| !s.is_empty() && s != "." && s != ".." && !s.contains(['\\', '\0']);
    let normal = || {
        Path::new(key)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
    };
    if key.split('/').all(plain) && normal() {
        Ok(())
    } else {
        Err(outside())
    }
}

fn outside() -> StoreError {
    StoreError::new(
        StoreErrorKind::OutsideRoot,
        "key resolves outside the store root",
    )
}

fn io_error(e: &io::Error) -> StoreError {
    let kind = match e.kind() {
        io::ErrorKind::NotFound => StoreErrorKind::NotFound,
        io::ErrorKind::PermissionDenied => StoreErrorKind::AccessDenied,
        _ => StoreErrorKind::Other,
    };
    StoreError::new(kind, e.to_string())
}

impl ObjectStore for FsStore {
    fn list(
        &self,
        bucket: &str,
        prefix: &str,
        start_after: Option<&str>,
    ) -> Result<Vec<String>, StoreError> {
        self.check_bucket(bucket)?;
        // Walk only the deepest directory the prefix names.
        let dir_part = prefix.rsplit_once('/').map_or("", |(d, _)| d);
        let start = if dir_part.is_empty() {
            self.root.clone()
        } else {
            match self.path_of(dir_part) {
                Ok(p) => p,
                Err(e) if e.kind() == StoreErrorKind::OutsideRoot => return Err(e),
                Err(_) => return Ok(Vec::new()),
            }
        };
        let mut keys = Vec::new();
        let start_key = if dir_part.is_empty() {
            String::new()
        } else {
            format!("{dir_part}/")
        };
        walk(&self.root, &start, &start_key, &mut keys)?;
        keys.retain(|k| {
            k.starts_with(prefix)
                && !k.ends_with(SIDECAR_SUFFIX)
                && start_after.is_none_or(|s| k.as_str() > s)
        });
        keys.sort_unstable();
        Ok(keys)
    }

    fn list_prefixes(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, StoreError> {
        self.check_bucket(bucket)?;
        let dir = match prefix.strip_suffix('/') {
            None | Some("") => self.root.clone(),
            Some(d) => match self.path_of(d) {
                Ok(p) => p,
                Err(e) if e.kind() == StoreErrorKind::OutsideRoot => return Err(e),
                Err(_) => return Ok(Vec::new()),
            },
        };
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_error(&e)),
        };
        let mut out = Vec::new();
        for entry in entries {
            let path = entry.map_err(|e| io_error(&e))?.path();
            if path.is_dir() {
                let key = key_of(&self.root, &path)?;
                self.path_of(&key)?;
                out.push(format!("{key}/"));
            }
        }
        out.sort_unstable();
        Ok(out)
    }

    fn get(&self, bucket: &str, key: &str) -> Result<Object, StoreError> {
        self.check_bucket(bucket)?;
        let (dir, body) = self.read(key)?;
        let (metadata, info) = if dir.has_sidecars {
            self.read_sidecar(key)?
        } else {
            (None, ObjectInfo::default())
        };
        Ok(Object {
            body,
            metadata,
            info,
        })
    }
}

/// Collects the keys of regular files under `dir` (which resolves inside the root, and
/// whose files' keys start with `dir_key`). Only symlinks need resolving, as in `path_of`:
/// they are followed only while they stay inside the root; one leading out is an error,
/// never silently skipped.
fn walk(root: &Path, dir: &Path, dir_key: &str, keys: &mut Vec<String>) -> Result<(), StoreError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_error(&e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| io_error(&e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            return Err(not_utf8(&entry.path()));
        };
        let key = format!("{dir_key}{name}");
        let file_type = entry.file_type().map_err(|e| io_error(&e))?;
        let is_dir = if file_type.is_symlink() {
            let real = entry.path().canonicalize().map_err(|e| io_error(&e))?;
            if !real.starts_with(root) {
                return Err(StoreError::new(
                    StoreErrorKind::OutsideRoot,
                    format!("{key} resolves outside the store root"),
                ));
            }
            real.is_dir()
        } else {
            file_type.is_dir()
        };
        if is_dir {
            walk(root, &entry.path(), &format!("{key}/"), keys)?;
        } else {
            keys.push(key);
        }
    }
    Ok(())
}

fn key_of(root: &Path, path: &Path) -> Result<String, StoreError> {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let parts: Option<Vec<&str>> = rel.components().map(|c| c.as_os_str().to_str()).collect();
    parts.map(|p| p.join("/")).ok_or_else(|| not_utf8(path))
}

fn not_utf8(path: &Path) -> StoreError {
    StoreError::new(
        StoreErrorKind::Other,
        format!("{} is not a UTF-8 path", path.display()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, FsStore) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("bucket");
        std::fs::create_dir_all(root.join("AWSLogs/a")).unwrap();
        std::fs::write(root.join("AWSLogs/a/x.json.gz"), b"x").unwrap();
        std::fs::write(
            root.join("AWSLogs/a/x.json.gz.meta.json"),
            br#"{"ETag":"\"e\"","Metadata":{"signature":"ab","signature-algorithm":"SHA256withRSA"}}"#,
        )
        .unwrap();
        std::fs::write(root.join("AWSLogs/a/y.json.gz"), b"y").unwrap();
        std::fs::write(dir.path().join("secret"), b"s").unwrap();
        let s = FsStore::new(&root, "b").unwrap();
        (dir, s)
    }

    #[test]
    fn lists_and_gets_with_sidecars() {
        let (_d, s) = store();
        assert_eq!(
            s.list("b", "AWSLogs/", None).unwrap(),
            ["AWSLogs/a/x.json.gz", "AWSLogs/a/y.json.gz"]
        );
        assert_eq!(
            s.list("b", "AWSLogs/a/", Some("AWSLogs/a/x.json.gz"))
                .unwrap(),
            ["AWSLogs/a/y.json.gz"]
        );
        let x = s.get("b", "AWSLogs/a/x.json.gz").unwrap();
        assert_eq!(x.body, b"x");
        assert_eq!(x.metadata.unwrap()["signature"], "ab");
        assert_eq!(s.get("b", "AWSLogs/a/y.json.gz").unwrap().metadata, None);
        assert_eq!(
            s.get("b", "AWSLogs/a/z.json.gz").unwrap_err().kind(),
            StoreErrorKind::NotFound
        );
        assert_eq!(
            s.get("other", "AWSLogs/a/x.json.gz").unwrap_err().kind(),
            StoreErrorKind::Other
        );
        assert!(s.list("b", "AWSLogs/nothing/", None).unwrap().is_empty());
    }

    #[test]
    fn refuses_keys_escaping_the_root() {
        let (d, s) = store();
        for key in [
            "../secret",
            "AWSLogs/../../secret",
            "/etc/passwd",
            "AWSLogs//x",
            "a\\b",
        ] {
            assert_eq!(
                s.get("b", key).unwrap_err().kind(),
                StoreErrorKind::OutsideRoot,
                "{key}"
            );
        }
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(d.path().join("secret"), s.root().join("AWSLogs/a/link"))
                .unwrap();
            assert_eq!(
                s.get("b", "AWSLogs/a/link").unwrap_err().kind(),
                StoreErrorKind::OutsideRoot
            );
            assert_eq!(
                s.list("b", "AWSLogs/", None).unwrap_err().kind(),
                StoreErrorKind::OutsideRoot
            );
            // A directory symlink leading out, reached through a cached sibling directory.
            let outside = d.path().join("outside-dir");
            std::fs::create_dir_all(&outside).unwrap();
            std::fs::write(outside.join("x.json.gz"), b"secret").unwrap();
            std::os::unix::fs::symlink(&outside, s.root().join("AWSLogs/dirlink")).unwrap();
            assert_eq!(s.get("b", "AWSLogs/a/x.json.gz").unwrap().body, b"x");
            assert_eq!(
                s.get("b", "AWSLogs/dirlink/x.json.gz").unwrap_err().kind(),
                StoreErrorKind::OutsideRoot
            );
        }
    }

    #[test]
    fn follows_symlinks_that_stay_inside_and_reads_folders_without_sidecars() {
        let (_d, s) = store();
        std::fs::create_dir_all(s.root().join("AWSLogs/plain")).unwrap();
        std::fs::write(s.root().join("AWSLogs/plain/z.json.gz"), b"z").unwrap();
        let z = s.get("b", "AWSLogs/plain/z.json.gz").unwrap();
        assert_eq!((z.body.as_slice(), z.metadata), (&b"z"[..], None));
        #[cfg(unix)]
        {
            let target = s.root().join("AWSLogs/a/x.json.gz");
            std::os::unix::fs::symlink(target, s.root().join("AWSLogs/plain/link.json.gz"))
                .unwrap();
            let link = s.get("b", "AWSLogs/plain/link.json.gz").unwrap();
            assert_eq!(link.body, b"x");
        }
    }

    #[test]
    fn reads_from_more_folders_than_are_kept_open() {
        let (_d, s) = store();
        let folders = OPEN_DIRS * 2 + 3;
        for i in 0..folders {
            std::fs::create_dir_all(s.root().join(format!("AWSLogs/f{i}"))).unwrap();
            std::fs::write(
                s.root().join(format!("AWSLogs/f{i}/x.json.gz")),
                i.to_string(),
            )
            .unwrap();
        }
        for _ in 0..2 {
            for i in 0..folders {
                let body = s.get("b", &format!("AWSLogs/f{i}/x.json.gz")).unwrap().body;
                assert_eq!(body, i.to_string().as_bytes());
            }
        }
        assert!(s.open.lock().unwrap().len() <= OPEN_DIRS);
        // A file in the root itself.
        std::fs::write(s.root().join("top"), b"t").unwrap();
        assert_eq!(s.get("b", "top").unwrap().body, b"t");
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_not_waited_on() {
        let (_d, s) = store();
        let path = s.root().join("AWSLogs/a/f.json.gz");
        let made = std::process::Command::new("mkfifo").arg(&path).status();
        assert!(made.unwrap().success(), "mkfifo");
        std::os::unix::fs::symlink(&path, s.root().join("AWSLogs/a/l.json.gz")).unwrap();
        // Directly, and behind a symlink that stays inside the root.
        for key in ["AWSLogs/a/f.json.gz", "AWSLogs/a/l.json.gz"] {
            let e = s.get("b", key).unwrap_err();
            assert_eq!(
                (e.kind(), e.reason()),
                (StoreErrorKind::Other, "not a regular file"),
                "{key}"
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_sidecar_leading_out_of_the_root_is_refused() {
        let (d, s) = store();
        std::fs::write(d.path().join("meta.json"), br#"{"Metadata":{}}"#).unwrap();
        std::os::unix::fs::symlink(
            d.path().join("meta.json"),
            s.root().join("AWSLogs/a/y.json.gz.meta.json"),
        )
        .unwrap();
        let e = s.get("b", "AWSLogs/a/y.json.gz").unwrap_err();
        assert_eq!(e.kind(), StoreErrorKind::OutsideRoot, "{e}");
        // One that stays inside is followed.
        std::fs::remove_file(s.root().join("AWSLogs/a/y.json.gz.meta.json")).unwrap();
        std::os::unix::fs::symlink(
            s.root().join("AWSLogs/a/x.json.gz.meta.json"),
            s.root().join("AWSLogs/a/y.json.gz.meta.json"),
        )
        .unwrap();
        let y = s.get("b", "AWSLogs/a/y.json.gz").unwrap();
        assert_eq!(y.metadata.unwrap()["signature"], "ab");
    }

    #[test]
    fn malformed_sidecar_is_an_error() {
        let (_d, s) = store();
        for text in ["{", "[]", "null", "\"text\"", "7"] {
            std::fs::write(s.root().join("AWSLogs/a/y.json.gz.meta.json"), text).unwrap();
            let e = s.get("b", "AWSLogs/a/y.json.gz").unwrap_err();
            assert_eq!(e.kind(), StoreErrorKind::Other, "{text}");
            assert!(e.reason().contains("sidecar"), "{text}: {e}");
        }
    }
}
