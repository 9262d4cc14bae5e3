//! Writing objects into the mirror directory, through no symlink: each is streamed into
//! `KEY.partial` while its SHA-256 is computed, compared with what the directory already
//! holds, and renamed into place only where nothing is; a differing file is never
//! overwritten, and a symlink where a file would go is refused.

use std::io::{self, Read, Write};
use std::sync::Mutex;

use cloudtrail_digest::store::{
    read_bounded, Body, Object, ObjectInfo, Root, RootError, StoreError, SIDECAR_SUFFIX,
};
use cloudtrail_digest::Sha256Hash;
use serde_json::{json, Value};
use sha2::Digest as _;
use std::collections::BTreeMap;

use cloudtrail_digest::store::{ManifestEntry as Entry, NotCopied, MANIFEST};

const PARTIAL: &str = ".partial";

/// The largest sidecar compared (ours are well under a kilobyte).
const MAX_SIDECAR: u64 = 4 * 1024 * 1024;

/// What the copy has done so far.
#[derive(Debug, Default)]
pub(super) struct Done {
    pub(super) entries: Vec<Entry>,
    pub(super) failed: Vec<NotCopied>,
    /// Objects written by this run.
    pub(super) copied: u64,
    /// Objects already there, identical.
    pub(super) present: u64,
}

pub(super) struct Copier<'a> {
    pub(super) root: &'a Root,
    pub(super) done: Mutex<Done>,
}

/// Checks that a key can be a path in the directory: plain segments, and no collision
/// with the mirror's own files.
pub(super) fn relative_path(key: &str) -> Result<&str, String> {
    if !Root::is_plain(key) {
        return Err(
            "the key has an empty, `.` or `..` segment: it cannot be a file name here".into(),
        );
    }
    if key == MANIFEST || key.ends_with(SIDECAR_SUFFIX) || key.ends_with(PARTIAL) {
        return Err("the key collides with the mirror's own file names".into());
    }
    Ok(key)
}

/// SHA-256 and length of what `reader` holds, copied into `out` as it is read.
fn hash_copy(reader: &mut dyn Read, out: &mut dyn Write) -> io::Result<(Sha256Hash, u64)> {
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0; 64 * 1024];
    let mut total = 0;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let chunk = buf.get(..n).unwrap_or_default();
        hasher.update(chunk);
        out.write_all(chunk)?;
        total += n as u64;
    }
    Ok((Sha256Hash(hasher.finalize().into()), total))
}

/// SHA-256 and length of a file of the directory.
pub(super) fn hash_file(root: &Root, rel: &str) -> Result<(Sha256Hash, u64), RootError> {
    let (mut file, _) = root.open_file_nofollow(rel)?;
    Ok(hash_copy(&mut file, &mut io::sink())?)
}

/// Writes `bytes` to `rel` through `rel.partial`, renamed into place.
pub(super) fn write_atomically(root: &Root, rel: &str, bytes: &[u8]) -> Result<(), RootError> {
    let partial = format!("{rel}{PARTIAL}");
    remove_if_there(root, &partial)?;
    let mut file = root.create_new(&partial)?;
    file.write_all(bytes)?;
    drop(file);
    root.rename(&partial, rel)
}

fn remove_if_there(root: &Root, rel: &str) -> Result<(), RootError> {
    match root.remove_file(rel) {
        Ok(()) | Err(RootError::NotFound) => Ok(()),
        Err(e) => Err(e),
    }
}

/// The sidecar in `aws s3api head-object` shape, with the fields the store knows.
fn sidecar_json(
    metadata: Option<&BTreeMap<String, String>>,
    info: &ObjectInfo,
    size: u64,
) -> serde_json::Result<Vec<u8>> {
    let mut head = serde_json::Map::new();
    head.insert("ContentLength".into(), json!(size));
    for (name, value) in [
        ("ETag", &info.etag),
        ("VersionId", &info.version_id),
        ("LastModified", &info.last_modified),
    ] {
        if let Some(v) = value {
            head.insert(name.into(), json!(v));
        }
    }
    head.insert(
        "Metadata".into(),
        json!(metadata.cloned().unwrap_or_default()),
    );
    let mut bytes = serde_json::to_vec_pretty(&Value::Object(head))?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Says where a failure happened.
fn at(root: &Root, rel: &str, e: &RootError) -> String {
    let path = root.path().join(rel);
    match e {
        RootError::Outside => format!(
            "{} is or passes through a symlink: not written through",
            path.display()
        ),
        other => format!("{}: {other}", path.display()),
    }
}

impl Copier<'_> {
    /// Copies one object (or says why not) and records it.
    pub(super) fn one(&self, key: &str, result: Result<Object, StoreError>) {
        let outcome = result
            .map_err(|e| format!("cannot read it: {e}"))
            .and_then(|object| self.store(key, object));
        let mut done = self
            .done
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match outcome {
            Ok((entry, true)) => {
                done.copied += 1;
                done.entries.push(entry);
            }
            Ok((entry, false)) => {
                done.present += 1;
                done.entries.push(entry);
            }
            Err(reason) => done.failed.push(NotCopied {
                key: key.to_owned(),
                reason,
            }),
        }
    }

    /// Writes the object and its sidecar unless the directory already holds them; returns
    /// its manifest entry and whether anything was written. A differing file is an error,
    /// never replaced.
    fn store(&self, key: &str, object: Object) -> Result<(Entry, bool), String> {
        let root = self.root;
        let rel = relative_path(key)?;
        if let Some((parent, _)) = rel.rsplit_once('/') {
            root.create_dir_all(parent)
                .map_err(|e| at(root, parent, &e))?;
        }
        let Object {
            body,
            metadata,
            info,
            ..
        } = object;
        let partial = format!("{rel}{PARTIAL}");
        let (sha256, size) = self.write_partial(&partial, body)?;
        let sidecar_bytes =
            sidecar_json(metadata.as_ref(), &info, size).map_err(|e| e.to_string())?;
        let fresh = self.settle(rel, &partial, &sidecar_bytes, &sha256)?;
        let entry = Entry {
            key: key.to_owned(),
            size,
            sha256: sha256.to_string(),
            etag: info.etag,
            version_id: info.version_id,
            last_modified: info.last_modified,
        };
        Ok((entry, fresh))
    }

    /// Streams a body into its partial file, hashing it.
    fn write_partial(&self, partial: &str, body: Body) -> Result<(Sha256Hash, u64), String> {
        let root = self.root;
        remove_if_there(root, partial).map_err(|e| at(root, partial, &e))?;
        let mut file = root
            .create_new(partial)
            .map_err(|e| at(root, partial, &e))?;
        let copied = hash_copy(&mut body.into_reader(), &mut file);
        drop(file);
        copied.map_err(|e| {
            let _ = remove_if_there(root, partial);
            format!("cannot copy it: {e}")
        })
    }

    /// Puts the partial file under its real name, sidecar first, unless the same object is
    /// there already (then only a missing sidecar is written); returns whether anything
    /// was written. A differing file or sidecar is an error, never replaced.
    fn settle(
        &self,
        rel: &str,
        partial: &str,
        sidecar_bytes: &[u8],
        sha256: &Sha256Hash,
    ) -> Result<bool, String> {
        let root = self.root;
        let sidecar = format!("{rel}{SIDECAR_SUFFIX}");
        match hash_file(root, rel) {
            Ok((existing, _)) if existing == *sha256 => {
                remove_if_there(root, partial).map_err(|e| at(root, partial, &e))?;
                self.keep_sidecar(&sidecar, sidecar_bytes)
            }
            Ok((existing, _)) => {
                let _ = remove_if_there(root, partial);
                Err(format!(
                    "{} exists and differs from the bucket (SHA-256 {existing} here, {sha256} there): not overwritten",
                    root.path().join(rel).display()
                ))
            }
            Err(RootError::NotFound) => {
                // Sidecar first: an object under its real name always has its metadata.
                write_atomically(root, &sidecar, sidecar_bytes)
                    .map_err(|e| at(root, &sidecar, &e))?;
                root.rename(partial, rel).map_err(|e| at(root, rel, &e))?;
                Ok(true)
            }
            Err(e) => {
                let _ = remove_if_there(root, partial);
                Err(at(root, rel, &e))
            }
        }
    }

    /// Beside an object already there: its sidecar as the bucket has it, written if
    /// missing; returns whether it was written. Other metadata is an error.
    fn keep_sidecar(&self, sidecar: &str, bytes: &[u8]) -> Result<bool, String> {
        let root = self.root;
        let there = root
            .open_file_nofollow(sidecar)
            .and_then(|(f, size)| read_bounded(f, size, MAX_SIDECAR));
        match there {
            Ok(s) if s == bytes => Ok(false),
            Ok(_) => Err(format!(
                "{} exists and holds other metadata than the bucket now has: not overwritten",
                root.path().join(sidecar).display()
            )),
            Err(RootError::NotFound) => {
                write_atomically(root, sidecar, bytes).map_err(|e| at(root, sidecar, &e))?;
                Ok(true)
            }
            Err(e) => Err(at(root, sidecar, &e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_keys_that_leave_the_directory_or_collide() {
        assert!(relative_path("AWSLogs/1/x.json.gz").is_ok());
        for bad in [
            "../x",
            "a//b",
            "/a",
            "a/./b",
            "a/b/",
            "x.json.gz.meta.json",
            MANIFEST,
            "a.partial",
        ] {
            assert!(relative_path(bad).is_err(), "{bad}");
        }
    }
}
