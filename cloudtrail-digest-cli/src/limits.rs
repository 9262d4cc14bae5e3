//! The open-file limit: raised as far as the system allows, and requests in flight kept
//! below it, so that a large `--concurrency` never turns files into "Too many open files".

/// Descriptors kept for everything but S3 connections (folders, files, the runtime).
const RESERVE: u64 = 128;

/// Raises the soft limit of open files to the hard one; returns the soft limit now
/// (`None`: unlimited or unknown).
pub(crate) fn raise_open_files() -> Option<u64> {
    #[cfg(unix)]
    {
        use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
        let limit = getrlimit(Resource::Nofile);
        if limit.current != limit.maximum {
            let raised = Rlimit {
                current: limit.maximum,
                maximum: limit.maximum,
            };
            if setrlimit(Resource::Nofile, raised).is_ok() {
                return limit.maximum;
            }
        }
        limit.current
    }
    #[cfg(not(unix))]
    None
}

/// The most requests in flight an open-file limit allows: each may hold a connection, and
/// a connection being replaced briefly holds two.
pub(crate) fn max_in_flight(open_files: Option<u64>) -> usize {
    open_files.map_or(usize::MAX, |n| {
        usize::try_from((n.saturating_sub(RESERVE) / 2).max(1)).unwrap_or(usize::MAX)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_in_flight_requests_below_the_limit() {
        assert_eq!(max_in_flight(Some(1024)), 448);
        assert_eq!(max_in_flight(Some(200)), 36);
        assert_eq!(max_in_flight(Some(10)), 1);
        assert_eq!(max_in_flight(None), usize::MAX);
    }
}
