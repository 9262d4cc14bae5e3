//! An open directory of a local copy, from which files are read by name alone.
//!
//! A day folder holds a hundred or more log files. Opening each of them by its full path makes
//! the kernel walk every component again (a dozen directory lookups per file); opening them
//! relative to a handle on their folder (`openat`) looks up one name. On platforms without
//! such handles the folder's path is kept and joined instead.

use std::io::{self, Read as _};
use std::path::{Path, PathBuf};

/// An open directory: the handle, and its path for what is still read by path.
#[derive(Debug)]
pub(super) struct Dir {
    path: PathBuf,
    #[cfg(unix)]
    fd: rustix::fd::OwnedFd,
}

impl Dir {
    /// Opens the directory at `path` (symlinks in it are followed: the caller has shown that
    /// it resolves inside the store's root).
    #[cfg(unix)]
    pub(super) fn open(path: PathBuf) -> io::Result<Self> {
        use rustix::fs::{Mode, OFlags};
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let fd = rustix::fs::open(&path, flags, Mode::empty())?;
        Ok(Self { path, fd })
    }

    /// Opens the directory at `path`.
    #[cfg(not(unix))]
    pub(super) fn open(path: PathBuf) -> io::Result<Self> {
        if std::fs::metadata(&path)?.is_dir() {
            Ok(Self { path })
        } else {
            Err(io::Error::other("not a directory"))
        }
    }

    /// The directory's path.
    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the regular file `name` (one path component) of this directory; fails if it is
    /// a symlink (which the caller then checks) or anything but a regular file.
    #[cfg(unix)]
    pub(super) fn read(&self, name: &str) -> io::Result<Vec<u8>> {
        use rustix::fs::{Mode, OFlags};
        let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK;
        read_regular(rustix::fs::openat(&self.fd, name, flags, Mode::empty())?)
    }

    /// Reads the regular file `name` of this directory; fails if it is a symlink.
    #[cfg(not(unix))]
    pub(super) fn read(&self, name: &str) -> io::Result<Vec<u8>> {
        let path = self.path.join(name);
        if std::fs::symlink_metadata(&path)?.file_type().is_symlink() {
            return Err(io::Error::other("a symlink"));
        }
        read_file(&path)
    }
}

/// Reads the regular file at `path`, following symlinks (the caller has shown that it
/// resolves inside the store's root); fails if it is anything but a regular file.
#[cfg(unix)]
pub(super) fn read_file(path: &Path) -> io::Result<Vec<u8>> {
    use rustix::fs::{Mode, OFlags};
    let flags = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NONBLOCK;
    read_regular(rustix::fs::open(path, flags, Mode::empty())?)
}

/// Reads the regular file at `path`, following symlinks.
#[cfg(not(unix))]
pub(super) fn read_file(path: &Path) -> io::Result<Vec<u8>> {
    if !std::fs::metadata(path)?.is_file() {
        return Err(io::Error::other("not a regular file"));
    }
    read_to_end(std::fs::File::open(path)?, None)
}

/// Reads an opened file if it is a regular file: a FIFO or a device could block or never
/// end. (It was opened non-blocking, so that opening a FIFO returned at once; that changes
/// nothing for a regular file.)
#[cfg(unix)]
fn read_regular(fd: rustix::fd::OwnedFd) -> io::Result<Vec<u8>> {
    use rustix::fs::FileType;
    let stat = rustix::fs::fstat(&fd)?;
    if FileType::from_raw_mode(stat.st_mode) != FileType::RegularFile {
        return Err(io::Error::other("not a regular file"));
    }
    read_to_end(std::fs::File::from(fd), u64::try_from(stat.st_size).ok())
}

/// Reads `file` to its end, sized for `size` bytes (the size it had when opened) so that a
/// file that did not change takes one read and the read that finds the end. The end is
/// always confirmed: a file that grew meanwhile is read whole, never cut at `size`.
fn read_to_end(mut file: std::fs::File, size: Option<u64>) -> io::Result<Vec<u8>> {
    let size = size.and_then(|s| usize::try_from(s).ok()).unwrap_or(0);
    // One byte more than expected, so that the first read can see the end (read 0 next).
    let mut body = vec![0; size.saturating_add(1).max(512)];
    let mut filled = 0;
    loop {
        if filled == body.len() {
            body.resize(body.len().saturating_mul(2), 0);
        }
        match file.read(&mut body[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    body.truncate(filled);
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_whole_files_of_any_size_and_refuses_what_is_not_one() {
        let d = tempfile::tempdir().unwrap();
        for len in [0, 1, 511, 512, 513, 4096, 100_003] {
            let body: Vec<u8> = (0..len).map(|i| u8::try_from(i % 251).unwrap()).collect();
            std::fs::write(d.path().join(format!("f{len}")), &body).unwrap();
            let dir = Dir::open(d.path().to_path_buf()).unwrap();
            assert_eq!(dir.read(&format!("f{len}")).unwrap(), body, "{len} bytes");
            // Sized wrongly (a file that changed since): still read whole.
            let file = std::fs::File::open(d.path().join(format!("f{len}"))).unwrap();
            assert_eq!(read_to_end(file, Some(3)).unwrap(), body, "{len} bytes");
        }
        let dir = Dir::open(d.path().to_path_buf()).unwrap();
        assert_eq!(
            dir.read("missing").unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
        std::fs::create_dir(d.path().join("sub")).unwrap();
        assert!(dir.read("sub").is_err());
        assert!(Dir::open(d.path().join("f1")).is_err());
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(d.path().join("f1"), d.path().join("link")).unwrap();
            assert!(dir.read("link").is_err(), "a symlink is not followed");
            let fifo = d.path().join("fifo");
            let made = std::process::Command::new("mkfifo").arg(&fifo).status();
            assert!(made.unwrap().success(), "mkfifo");
            let e = dir.read("fifo").unwrap_err();
            assert_eq!(e.to_string(), "not a regular file");
            let e = read_file(&fifo).unwrap_err();
            assert_eq!(e.to_string(), "not a regular file");
            assert_eq!(read_file(&d.path().join("link")).unwrap(), [0]);
        }
    }
}
