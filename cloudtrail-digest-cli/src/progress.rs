//! A progress bar on stderr, only when stderr is a terminal: elapsed time, digests done of
//! those found with a percentage and an ETA (the total is known once discovery is done),
//! log files checked; whole numbers only; cleared when the run ends or is interrupted.

use std::io::IsTerminal as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use cloudtrail_digest::Progress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The bar on screen, for the Ctrl-C handler to clear.
static ON_SCREEN: OnceLock<ProgressBar> = OnceLock::new();

/// How often (in log files) the log count is redrawn.
const LOG_STEP: u64 = 64;

const TEMPLATE: &str =
    "{spinner} {elapsed_precise} | digests {pos}/{len} ({percent}%) | {msg} | ETA {eta}";

/// Digests done of total, log files checked, elapsed time and ETA.
pub(crate) struct Bar {
    bar: ProgressBar,
    logs: AtomicU64,
}

impl Bar {
    /// A bar if stderr is a terminal and it is wanted.
    pub(crate) fn new(wanted: bool) -> Option<Self> {
        if !wanted || !std::io::stderr().is_terminal() {
            return None;
        }
        let bar = Self::on(ProgressDrawTarget::stderr());
        if ON_SCREEN.set(bar.bar.clone()).is_ok() {
            // Interrupted: clear the bar, then end as an interrupted program does.
            let _ = ctrlc::set_handler(|| {
                if let Some(bar) = ON_SCREEN.get() {
                    bar.finish_and_clear();
                }
                std::process::exit(130);
            });
        }
        Some(bar)
    }

    fn on(target: ProgressDrawTarget) -> Self {
        // No length until the run says how many digests it found.
        let bar = ProgressBar::with_draw_target(None, target);
        let style =
            ProgressStyle::with_template(TEMPLATE).unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.set_message("0 log files checked");
        Self {
            bar,
            logs: AtomicU64::new(0),
        }
    }

    pub(crate) fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Progress for Bar {
    fn digests_to_check(&self, count: u64) {
        self.bar.set_length(count);
    }

    fn digest_done(&self) {
        self.bar.inc(1);
        // Digests inferred missing come on top of those found.
        if let Some(length) = self.bar.length() {
            if self.bar.position() > length {
                self.bar.set_length(self.bar.position());
            }
        }
    }

    fn log_done(&self, bytes: u64) {
        let _ = bytes;
        let done = self.logs.fetch_add(1, Ordering::Relaxed) + 1;
        if done % LOG_STEP == 0 {
            self.bar.set_message(format!("{done} log files checked"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use indicatif::InMemoryTerm;

    #[test]
    fn shows_whole_numbers_a_percentage_and_elapsed_time() {
        let term = InMemoryTerm::new(4, 120);
        let bar = Bar::on(ProgressDrawTarget::term_like(Box::new(term.clone())));
        bar.digests_to_check(8);
        for _ in 0..2 {
            bar.digest_done();
        }
        for _ in 0..LOG_STEP {
            bar.log_done(100);
        }
        bar.bar.tick();
        let screen = term.contents();
        assert!(
            screen.contains("00:00:00 | digests 2/8 (25%) | 64 log files checked | ETA"),
            "{screen}"
        );
        bar.finish();
        assert!(term.contents().trim().is_empty(), "{}", term.contents());
    }
}
