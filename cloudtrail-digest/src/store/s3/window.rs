//! How many requests are in flight: up to the configured number, halved when S3 throttles
//! (503 `SlowDown`) and grown back by one for each window of requests that succeed
//! (additive increase, multiplicative decrease), so that a throttled prefix is read
//! slowly instead of abandoned.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// The in-flight window shared by one store's requests.
#[derive(Debug)]
pub(super) struct Window {
    max: usize,
    limit: AtomicUsize,
    in_flight: AtomicUsize,
    successes: AtomicUsize,
    last_cut: Mutex<Option<Instant>>,
    freed: Notify,
}

/// A request's place in the window, given back when dropped.
pub(super) struct Slot<'w>(&'w Window);

/// Throttling answers within this time of a cut count as one: the requests in flight when
/// S3 started refusing all come back refused.
const CUT_EVERY: Duration = Duration::from_millis(250);

impl Window {
    pub(super) fn new(max: usize) -> Self {
        let max = max.max(1);
        Self {
            max,
            limit: AtomicUsize::new(max),
            in_flight: AtomicUsize::new(0),
            successes: AtomicUsize::new(0),
            last_cut: Mutex::new(None),
            freed: Notify::new(),
        }
    }

    /// Waits for a place in the window.
    pub(super) async fn acquire(&self) -> Slot<'_> {
        loop {
            let freed = self.freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            let n = self.in_flight.load(Ordering::Acquire);
            if n < self.limit.load(Ordering::Acquire) {
                if self
                    .in_flight
                    .compare_exchange(n, n + 1, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
                {
                    return Slot(self);
                }
                continue;
            }
            freed.await;
        }
    }

    /// S3 throttled a request: halve the window (once per burst of refusals).
    pub(super) fn throttled(&self) {
        let mut last = self
            .last_cut
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if last.is_some_and(|t| t.elapsed() < CUT_EVERY) {
            return;
        }
        *last = Some(Instant::now());
        let limit = self.limit.load(Ordering::Acquire);
        self.limit.store((limit / 2).max(1), Ordering::Release);
        self.successes.store(0, Ordering::Release);
    }

    /// A request succeeded: after a window's worth of them, one more may be in flight.
    pub(super) fn succeeded(&self) {
        let limit = self.limit.load(Ordering::Acquire);
        if limit >= self.max {
            return;
        }
        if self.successes.fetch_add(1, Ordering::AcqRel) + 1 >= limit {
            self.successes.store(0, Ordering::Release);
            self.limit
                .store((limit + 1).min(self.max), Ordering::Release);
            self.freed.notify_one();
        }
    }

    /// The current window.
    #[cfg(test)]
    pub(super) fn limit(&self) -> usize {
        self.limit.load(Ordering::Acquire)
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
        self.0.freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_on_throttling_and_grows_back_by_one_per_window() {
        let w = Window::new(64);
        w.throttled();
        assert_eq!(w.limit(), 32);
        // A second refusal of the same burst does not cut again.
        w.throttled();
        assert_eq!(w.limit(), 32);
        for _ in 0..32 {
            w.succeeded();
        }
        assert_eq!(w.limit(), 33);
        *w.last_cut.lock().unwrap() = None;
        for _ in 0..10 {
            w.throttled();
            *w.last_cut.lock().unwrap() = None;
        }
        assert_eq!(w.limit(), 1, "never below one");
    }

    #[test]
    fn holds_no_more_than_the_window_in_flight() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let w = Window::new(2);
        rt.block_on(async {
            let a = w.acquire().await;
            let _b = w.acquire().await;
            let third = tokio::time::timeout(Duration::from_millis(50), w.acquire()).await;
            assert!(third.is_err(), "a third request waited");
            drop(a);
            let third = tokio::time::timeout(Duration::from_millis(50), w.acquire()).await;
            assert!(third.is_ok(), "a freed place is taken");
        });
    }
}
