//! How many requests are in flight: from [`START`] (or the maximum, if lower) up to the
//! configured maximum. The window doubles after each window's worth of requests that
//! succeed while answers come about as fast as the fastest seen (the server and the
//! machine keep up), grows by one per window when they slow down, and halves when S3
//! throttles (503 `SlowDown`); once S3 has throttled it only grows by one (additive
//! increase, multiplicative decrease), so that a throttled prefix is read slowly instead of
//! abandoned, and an unthrottled one at the pace the machine allows. The store has one
//! window, and each folder S3 throttled one more of its own (see [`super::throttled`]): a
//! refusal cuts the folder's window, and only stops the store's from doubling.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// Where the window starts: enough for about 4,000 requests a second at 15 ms each.
pub(super) const START: usize = 64;

/// Answers slower than this many times the fastest seen (on average) stop the doubling.
const SLOWER: u32 = 2;

/// The in-flight window shared by one store's requests.
#[derive(Debug)]
pub(super) struct Window {
    max: usize,
    limit: AtomicUsize,
    in_flight: AtomicUsize,
    successes: AtomicUsize,
    last_cut: Mutex<Option<Instant>>,
    /// S3 has throttled a request of this window or, for the store's, of any prefix: it
    /// only grows by one from then on.
    ever_throttled: AtomicBool,
    latency: Mutex<Latency>,
    freed: Notify,
}

/// How long answers take: the fastest seen, and a moving average of the recent ones.
#[derive(Debug, Default)]
struct Latency {
    fastest: Option<Duration>,
    recent: Option<Duration>,
}

impl Latency {
    fn add(&mut self, took: Duration) {
        self.fastest = Some(self.fastest.map_or(took, |f| f.min(took)));
        // An average over about the last 16 answers.
        self.recent = Some(self.recent.map_or(took, |r| (r * 15 + took) / 16));
    }

    /// Whether recent answers come about as fast as the fastest.
    fn holds(&self) -> bool {
        match (self.fastest, self.recent) {
            (Some(f), Some(r)) => r <= f * SLOWER,
            _ => true,
        }
    }
}

/// A request's place in the window, given back when dropped.
pub(super) struct Slot<'w>(&'w Window);

/// Throttling answers within this time of a cut count as one: the requests in flight when
/// S3 started refusing all come back refused.
const CUT_EVERY: Duration = Duration::from_millis(250);

impl Window {
    /// A window of at most `max` requests, starting at [`START`] or `max` if lower.
    pub(super) fn new(max: usize) -> Self {
        Self::starting_at(max, START)
    }

    /// A window of at most `max` requests, starting at `start` or `max` if lower.
    pub(super) fn starting_at(max: usize, start: usize) -> Self {
        let max = max.max(1);
        Self {
            max,
            limit: AtomicUsize::new(start.clamp(1, max)),
            in_flight: AtomicUsize::new(0),
            successes: AtomicUsize::new(0),
            last_cut: Mutex::new(None),
            ever_throttled: AtomicBool::new(false),
            latency: Mutex::new(Latency::default()),
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
        self.saw_throttling();
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

    /// A request succeeded in `took`: after a window's worth of them, twice as many may be
    /// in flight while answers hold their pace and S3 never throttled, else one more.
    pub(super) fn succeeded(&self, took: Duration) {
        let holds = {
            let mut latency = self
                .latency
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            latency.add(took);
            latency.holds()
        };
        let limit = self.limit.load(Ordering::Acquire);
        if limit >= self.max {
            return;
        }
        if self.successes.fetch_add(1, Ordering::AcqRel) + 1 >= limit {
            self.successes.store(0, Ordering::Release);
            let never_throttled = !self.ever_throttled.load(Ordering::Acquire);
            let grown = if holds && never_throttled {
                limit * 2
            } else {
                limit + 1
            };
            self.limit.store(grown.min(self.max), Ordering::Release);
            self.freed.notify_waiters();
        }
    }

    /// S3 throttled a request somewhere: stop doubling, without cutting this window.
    pub(super) fn saw_throttling(&self) {
        self.ever_throttled.store(true, Ordering::Release);
    }

    /// The current window.
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

    const FAST: Duration = Duration::from_millis(15);

    /// `n` requests succeed in `took` each.
    fn succeed(w: &Window, n: usize, took: Duration) {
        for _ in 0..n {
            w.succeeded(took);
        }
    }

    #[test]
    fn halves_on_throttling_and_grows_back_by_one_per_window() {
        let w = Window::new(64);
        assert_eq!(w.limit(), 64);
        w.throttled();
        assert_eq!(w.limit(), 32);
        // A second refusal of the same burst does not cut again.
        w.throttled();
        assert_eq!(w.limit(), 32);
        // Once S3 has throttled, fast answers grow the window by one only.
        succeed(&w, 32, FAST);
        assert_eq!(w.limit(), 33);
        *w.last_cut.lock().unwrap() = Instant::now().checked_sub(CUT_EVERY);
        for _ in 0..10 {
            w.throttled();
            *w.last_cut.lock().unwrap() = Instant::now().checked_sub(CUT_EVERY);
        }
        assert_eq!(w.limit(), 1, "never below one");
    }

    #[test]
    fn doubles_while_answers_hold_their_pace_up_to_the_maximum() {
        let w = Window::new(300);
        assert_eq!(w.limit(), START);
        succeed(&w, START, FAST);
        assert_eq!(w.limit(), 128);
        succeed(&w, 128, FAST);
        assert_eq!(w.limit(), 256);
        succeed(&w, 256, FAST);
        assert_eq!(w.limit(), 300, "never above the maximum");
        succeed(&w, 1000, FAST);
        assert_eq!(w.limit(), 300);
        // A maximum below the start is where it starts, and stays.
        let small = Window::new(8);
        assert_eq!(small.limit(), 8);
        succeed(&small, 100, FAST);
        assert_eq!(small.limit(), 8);
    }

    #[test]
    fn grows_by_one_once_answers_slow_down() {
        let w = Window::new(1000);
        succeed(&w, START, FAST);
        assert_eq!(w.limit(), 128);
        // Answers three times slower: the machine or the server no longer keeps up.
        succeed(&w, 128, FAST * 3);
        assert_eq!(w.limit(), 129);
        // Back to their pace: doubling again.
        succeed(&w, 129, FAST);
        assert_eq!(w.limit(), 258);
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
