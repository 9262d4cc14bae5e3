//! A directory opened once, beneath which every path is resolved by the kernel.
//!
//! A local copy of a bucket may come from anyone: a path that climbs out (`..`), an
//! absolute symlink, a symlink swapped between a check and an open, a FIFO where a file
//! should be. Every file is therefore opened relative to the root's handle in one step
//! (`openat2` with `RESOLVE_BENEATH` on Linux: what was checked is what is read), refused
//! unless it is a regular file (opened without blocking, so a FIFO cannot hang the run),
//! and read within a bound. Reads follow a symlink only while it stays beneath the root;
//! writes ([`Root::create_new`], [`Root::create_dir_all`], [`Root::rename`]) follow none.
//!
//! Where `openat2` is missing (older kernels, other Unix systems), paths are walked one
//! component at a time without following any symlink.

use std::fs::File;
use std::io::{self, Read as _};
use std::path::{Path, PathBuf};

use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use rustix::io::Errno;

/// An open directory under which paths are resolved.
#[derive(Debug)]
pub struct Root {
    fd: OwnedFd,
    path: PathBuf,
}

/// Why a path beneath a root could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RootError {
    /// Nothing is there.
    #[error("not found")]
    NotFound,
    /// The path leaves the root (`..`, an absolute path or symlink, a symlink leading out),
    /// or, for a write, passes through a symlink.
    #[error("resolves outside the directory, or through a symlink")]
    Outside,
    /// Something other than a regular file (a FIFO, a device, a directory).
    #[error("not a regular file")]
    NotRegular,
    /// Larger than the caller's bound.
    #[error("larger than {0} bytes")]
    TooLarge(u64),
    /// Permission was refused.
    #[error("permission denied")]
    Denied,
    /// Any other failure.
    #[error("{0}")]
    Io(io::Error),
}

impl From<Errno> for RootError {
    fn from(e: Errno) -> Self {
        match e {
            Errno::NOENT => Self::NotFound,
            // EXDEV: resolution left the root; ELOOP: a symlink where none may be.
            Errno::XDEV | Errno::LOOP => Self::Outside,
            Errno::ACCESS | Errno::PERM => Self::Denied,
            other => Self::Io(other.into()),
        }
    }
}

impl From<io::Error> for RootError {
    fn from(e: io::Error) -> Self {
        match Errno::from_io_error(&e) {
            Some(errno) => errno.into(),
            None => Self::Io(e),
        }
    }
}

/// Whether a path may be used as relative to a root: plain names only.
pub(crate) fn plain(rel: &str) -> Result<(), RootError> {
    if rel.is_empty() || Root::is_plain(rel) {
        Ok(())
    } else {
        Err(RootError::Outside)
    }
}

/// Whether symlinks may be followed while resolving.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Links {
    /// Followed while they stay beneath the root (relative ones only).
    Beneath,
    /// Refused anywhere on the path.
    Refused,
}

/// Opens `rel` beneath `dir`.
fn open_beneath(
    dir: impl AsFd,
    rel: &str,
    flags: OFlags,
    mode: Mode,
    links: Links,
) -> Result<OwnedFd, RootError> {
    plain(rel)?;
    let rel = if rel.is_empty() { "." } else { rel };
    resolve(dir, rel, flags | OFlags::CLOEXEC, mode, links)
}

/// Opens `rel` beneath `dir` with `openat2`, where the kernel has it.
#[cfg(target_os = "linux")]
fn resolve(
    dir: impl AsFd,
    rel: &str,
    flags: OFlags,
    mode: Mode,
    links: Links,
) -> Result<OwnedFd, RootError> {
    use rustix::fs::ResolveFlags;
    let mut resolve = ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS;
    if links == Links::Refused {
        resolve |= ResolveFlags::NO_SYMLINKS;
    }
    // RESOLVE_BENEATH asks to try again when a rename raced the lookup.
    for _ in 0..16 {
        match rustix::fs::openat2(dir.as_fd(), rel, flags, mode, resolve) {
            Err(Errno::AGAIN) => {}
            // No openat2 (an old kernel, a filter): walk without following symlinks.
            Err(Errno::NOSYS | Errno::PERM) => return walk_nofollow(dir, rel, flags, mode),
            other => return other.map_err(RootError::from),
        }
    }
    Err(RootError::Io(io::Error::other(
        "the path kept changing while it was opened",
    )))
}

/// Opens `rel` beneath `dir`, following no symlink.
#[cfg(not(target_os = "linux"))]
fn resolve(
    dir: impl AsFd,
    rel: &str,
    flags: OFlags,
    mode: Mode,
    _links: Links,
) -> Result<OwnedFd, RootError> {
    walk_nofollow(dir, rel, flags, mode)
}

/// Opens `rel` beneath `dir` one component at a time, following no symlink.
fn walk_nofollow(
    dir: impl AsFd,
    rel: &str,
    flags: OFlags,
    mode: Mode,
) -> Result<OwnedFd, RootError> {
    let mut parts = rel.split('/').peekable();
    let mut current: Option<OwnedFd> = None;
    while let Some(part) = parts.next() {
        let at = current.as_ref().map_or(dir.as_fd(), AsFd::as_fd);
        let last = parts.peek().is_none();
        let step = if last {
            flags | OFlags::NOFOLLOW
        } else {
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC
        };
        let fd = rustix::fs::openat(at, part, step, if last { mode } else { Mode::empty() })?;
        current = Some(fd);
    }
    current.ok_or(RootError::NotFound)
}

impl Root {
    /// Whether `rel` is a plain relative path: `/`-separated segments, none empty, `.`,
    /// `..` or holding a NUL. Only such a path is ever opened beneath a root; an S3 key
    /// that is not one cannot be a file name in a local copy.
    pub fn is_plain(rel: &str) -> bool {
        rel.split('/')
            .all(|s| !s.is_empty() && s != "." && s != ".." && !s.contains('\0'))
    }

    /// Opens the directory at `path` as a root.
    pub fn open(path: impl AsRef<Path>) -> io::Result<Self> {
        let path = path.as_ref();
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let fd = rustix::fs::open(path, flags, Mode::empty())?;
        Ok(Self {
            fd,
            path: path.to_path_buf(),
        })
    }

    /// The directory's path, as given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Opens the folder `rel` beneath the root (empty: the root itself).
    pub fn open_dir(&self, rel: &str) -> Result<Dir, RootError> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY;
        let fd = open_beneath(&self.fd, rel, flags, Mode::empty(), Links::Beneath)?;
        Ok(Dir { fd })
    }

    /// Opens the regular file `rel` for reading, with its size; anything else is refused
    /// without blocking.
    pub fn open_file(&self, rel: &str) -> Result<(File, u64), RootError> {
        let flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY;
        regular(open_beneath(
            &self.fd,
            rel,
            flags,
            Mode::empty(),
            Links::Beneath,
        )?)
    }

    /// Opens the regular file `rel` for reading through no symlink at all: what a writer
    /// would replace.
    pub fn open_file_nofollow(&self, rel: &str) -> Result<(File, u64), RootError> {
        let flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY;
        regular(open_beneath(
            &self.fd,
            rel,
            flags,
            Mode::empty(),
            Links::Refused,
        )?)
    }

    /// Reads the regular file `rel`, refusing one of more than `limit` bytes.
    pub fn read(&self, rel: &str, limit: u64) -> Result<Vec<u8>, RootError> {
        let (file, size) = self.open_file(rel)?;
        read_bounded(file, size, limit)
    }

    /// Creates the folders of `rel` that are missing, through no symlink.
    pub fn create_dir_all(&self, rel: &str) -> Result<(), RootError> {
        plain(rel)?;
        let mut done = String::new();
        for part in rel.split('/') {
            if !done.is_empty() {
                done.push('/');
            }
            done.push_str(part);
            let parent = done.rsplit_once('/').map_or("", |(p, _)| p);
            let parent = self.open_dir_nofollow(parent)?;
            match rustix::fs::mkdirat(&parent.fd, part, Mode::from_raw_mode(0o777)) {
                Ok(()) | Err(Errno::EXIST) => {}
                Err(e) => return Err(e.into()),
            }
            // What exists must be a folder reached through no symlink.
            self.open_dir_nofollow(&done)?;
        }
        Ok(())
    }

    fn open_dir_nofollow(&self, rel: &str) -> Result<Dir, RootError> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY;
        let fd = open_beneath(&self.fd, rel, flags, Mode::empty(), Links::Refused)?;
        Ok(Dir { fd })
    }

    /// Creates the file `rel`, which must not exist, through no symlink.
    pub fn create_new(&self, rel: &str) -> Result<File, RootError> {
        let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL;
        let fd = open_beneath(
            &self.fd,
            rel,
            flags,
            Mode::from_raw_mode(0o666),
            Links::Refused,
        )?;
        Ok(File::from(fd))
    }

    /// Renames `from` to `to` (replacing a file there; a symlink there is replaced, never
    /// followed), both through no symlink.
    pub fn rename(&self, from: &str, to: &str) -> Result<(), RootError> {
        let (from_dir, from_name) = self.parent_nofollow(from)?;
        let (to_dir, to_name) = self.parent_nofollow(to)?;
        rustix::fs::renameat(&from_dir.fd, from_name, &to_dir.fd, to_name)?;
        Ok(())
    }

    /// Removes the file `rel`, reached through no symlink.
    pub fn remove_file(&self, rel: &str) -> Result<(), RootError> {
        let (dir, name) = self.parent_nofollow(rel)?;
        rustix::fs::unlinkat(&dir.fd, name, AtFlags::empty())?;
        Ok(())
    }

    /// The folder holding `rel` (opened through no symlink) and `rel`'s name in it.
    fn parent_nofollow<'r>(&self, rel: &'r str) -> Result<(Dir, &'r str), RootError> {
        plain(rel)?;
        let (parent, name) = rel.rsplit_once('/').unwrap_or(("", rel));
        Ok((self.open_dir_nofollow(parent)?, name))
    }
}

/// A folder opened beneath a root: files in it are opened by name.
#[derive(Debug)]
pub struct Dir {
    fd: OwnedFd,
}

/// One entry of a folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Its name, when it is UTF-8; else the name with replacement characters, as `Err`.
    pub name: Result<String, String>,
    /// What it is, as the folder says (a symlink is not followed).
    pub kind: EntryKind,
}

/// What a folder entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file.
    File,
    /// A folder.
    Dir,
    /// A symbolic link.
    Symlink,
    /// Anything else (FIFO, device, socket).
    Other,
}

impl Dir {
    /// The folder's device and inode: the same folder reached twice has the same.
    pub fn id(&self) -> (u64, u64) {
        // The field types differ between systems.
        #[allow(clippy::useless_conversion)]
        rustix::fs::fstat(&self.fd).map_or((0, 0), |st| {
            (
                u64::try_from(st.st_dev).unwrap_or(0),
                u64::try_from(st.st_ino).unwrap_or(0),
            )
        })
    }

    /// Opens the regular file `name` of this folder, with its size; a symlink is refused
    /// with [`RootError::Outside`] (the caller resolves it beneath the root instead).
    pub fn open_file(&self, name: &str) -> Result<(File, u64), RootError> {
        if name.contains('/') {
            return Err(RootError::Outside);
        }
        let flags =
            OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        regular(rustix::fs::openat(&self.fd, name, flags, Mode::empty())?)
    }

    /// The folder's entries, `.` and `..` left out.
    pub fn entries(&self) -> Result<Vec<Entry>, RootError> {
        let mut out = Vec::new();
        for entry in rustix::fs::Dir::read_from(&self.fd)? {
            let entry = entry?;
            let bytes = entry.file_name().to_bytes();
            if bytes == b"." || bytes == b".." {
                continue;
            }
            let name = std::str::from_utf8(bytes)
                .map(str::to_owned)
                .map_err(|_| String::from_utf8_lossy(bytes).into_owned());
            let kind = match entry.file_type() {
                FileType::RegularFile => EntryKind::File,
                FileType::Directory => EntryKind::Dir,
                FileType::Symlink => EntryKind::Symlink,
                FileType::Unknown => self.kind_of(bytes),
                _ => EntryKind::Other,
            };
            out.push(Entry { name, kind });
        }
        Ok(out)
    }

    /// What an entry is, asked of the file system (some do not say in the listing).
    fn kind_of(&self, name: &[u8]) -> EntryKind {
        use std::os::unix::ffi::OsStrExt as _;
        let name = std::ffi::OsStr::from_bytes(name);
        match rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => match FileType::from_raw_mode(st.st_mode) {
                FileType::RegularFile => EntryKind::File,
                FileType::Directory => EntryKind::Dir,
                FileType::Symlink => EntryKind::Symlink,
                _ => EntryKind::Other,
            },
            Err(_) => EntryKind::Other,
        }
    }
}

/// The file behind `fd`, with its size, if it is a regular file.
fn regular(fd: OwnedFd) -> Result<(File, u64), RootError> {
    let st = rustix::fs::fstat(&fd)?;
    if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
        return Err(RootError::NotRegular);
    }
    // Opened without blocking: a regular file reads as usual all the same.
    Ok((File::from(fd), u64::try_from(st.st_size).unwrap_or(0)))
}

/// Reads a whole file of (at open) `size` bytes, refusing more than `limit`: the size is
/// checked before reading, and the read stops past the limit should the file grow.
pub fn read_bounded(file: File, size: u64, limit: u64) -> Result<Vec<u8>, RootError> {
    if size > limit {
        return Err(RootError::TooLarge(limit));
    }
    let mut out = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(limit.saturating_add(1)).read_to_end(&mut out)?;
    if out.len() as u64 > limit {
        return Err(RootError::TooLarge(limit));
    }
    Ok(out)
}

/// Reads the regular file at `path` (a file the user named: a key file, say), refusing
/// anything else without blocking and more than `limit` bytes.
pub fn read_regular_file(path: &Path, limit: u64) -> Result<Vec<u8>, RootError> {
    let flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC;
    let (file, size) = regular(rustix::fs::open(path, flags, Mode::empty())?)?;
    read_bounded(file, size, limit)
}
