//! A progress bar on stderr, only when stderr is a terminal.

use std::io::IsTerminal as _;

use cloudtrail_digest::Progress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Digests and logs done of total, bytes, rate and ETA.
pub(crate) struct Bar {
    bar: ProgressBar,
}

impl Bar {
    /// A bar if stderr is a terminal and it is wanted.
    pub(crate) fn new(wanted: bool) -> Option<Self> {
        if !wanted || !std::io::stderr().is_terminal() {
            return None;
        }
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(
            "{spinner} digests {prefix} | logs {pos}/{len} {msg} | {per_sec} | ETA {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.set_prefix("0");
        Some(Self { bar })
    }

    pub(crate) fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Progress for Bar {
    fn digest_done(&self) {
        let done: u64 = self.bar.prefix().parse().unwrap_or(0);
        self.bar.set_prefix((done + 1).to_string());
    }

    fn logs_queued(&self, count: u64) {
        self.bar.inc_length(count);
    }

    fn log_done(&self, bytes: u64) {
        let _ = bytes;
        self.bar.inc(1);
    }
}
