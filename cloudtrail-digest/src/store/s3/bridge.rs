//! The S3 store's own tokio runtime, and the one way into it from blocking code.
//!
//! The library is synchronous; the AWS SDK is async. Blocking on a runtime the caller
//! owns panics inside async code ("Cannot start a runtime from within a runtime") and can
//! deadlock a single-threaded one, so the store runs its requests on a runtime of its own:
//! a blocking call hands the future to that runtime's workers and waits for the answer on
//! a plain channel, from any thread, inside an async runtime or not.

use std::future::Future;
use std::io;
use std::sync::{mpsc, Arc};
use std::task::{Context, Poll, Wake};

use tokio::runtime::{Handle, Runtime};

/// Worker threads of the runtime: they only drive requests and their bodies; hashing runs
/// on the rayon pool.
const WORKERS: usize = 2;

/// A runtime owned by the stores and key sources that share it.
#[derive(Debug)]
pub(crate) struct Bridge {
    runtime: Option<Runtime>,
}

impl Bridge {
    /// Starts the runtime.
    pub(crate) fn new() -> io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(WORKERS)
            .thread_name("cloudtrail-digest-io")
            .enable_all()
            .build()?;
        Ok(Self {
            runtime: Some(runtime),
        })
    }

    /// A handle to spawn tasks on the runtime.
    pub(crate) fn handle(&self) -> Option<&Handle> {
        self.runtime.as_ref().map(Runtime::handle)
    }

    /// Runs `future` on the runtime and waits for its output. `None` if the task did not
    /// finish (it panicked, or the runtime is shutting down).
    pub(crate) fn run<T: Send + 'static>(
        &self,
        future: impl Future<Output = T> + Send + 'static,
    ) -> Option<T> {
        let (sender, receiver) = mpsc::sync_channel(1);
        self.handle()?.spawn(async move {
            let _ = sender.send(future.await);
        });
        receiver.recv().ok()
    }
}

/// Waits for `future` on the calling thread, parked between polls. Unlike a runtime's
/// `block_on`, allowed inside async code: it only blocks this thread. For futures that
/// some other thread completes (a channel fed by the store's runtime).
pub(crate) fn wait<F: Future>(future: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Arc::new(Unpark(std::thread::current())).into();
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        std::thread::park();
    }
}

impl Drop for Bridge {
    /// Shuts the runtime down without waiting: dropping a runtime blocks, which panics
    /// inside async code, where the last store may well be dropped.
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
