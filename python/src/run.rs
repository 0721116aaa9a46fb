//! Running the engine from Python: the settings (`threads=`, `memory_limit=`, `cw.config`), and
//! the run itself with the GIL released.
//!
//! The run goes on a thread of its own while the calling thread, without the GIL, waits for it in
//! short slices. Between slices it takes the GIL briefly to check for Ctrl-C (Python delivers
//! signals to the main thread only, and only while it runs Python) and to draw the progress bar.
//! So the engine's workers never wait for the caller, a user's Python function can take the GIL
//! from any worker, and an interrupt stops the run within one slice plus the tasks running.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use chunkwise::engine::exec::panic_message;
use chunkwise::ExecOptions;
use pyo3::prelude::*;

use crate::convert::bytes;
use crate::errors::{clear_stash, invalid, OrRaise};

/// How often the waiting caller looks for Ctrl-C and redraws progress.
const POLL: Duration = Duration::from_millis(50);

/// The run settings one call gives, each falling back to `chunkwise.config`.
pub(crate) struct RunArgs<'py> {
    /// Worker threads (`threads=`).
    pub threads: Option<usize>,
    /// Memory limit (`memory_limit=`): bytes or text such as `"4GiB"`.
    pub memory_limit: Option<Bound<'py, PyAny>>,
    /// `progress=`: `True`, `False`, or a callable `(done, total)`.
    pub progress: Option<Bound<'py, PyAny>>,
}

impl<'py> RunArgs<'py> {
    /// The engine's options: the call's values, else `chunkwise.config`'s, else the engine's.
    pub(crate) fn exec_options(&self, py: Python<'py>) -> PyResult<ExecOptions> {
        let config = py.import("chunkwise")?.getattr("config")?;
        let mut exec = ExecOptions {
            buffer_pool: Some(&crate::ALLOCATOR),
            ..ExecOptions::default()
        };
        let threads = match self.threads {
            Some(t) => Some(t),
            None => config.getattr("threads")?.extract::<Option<usize>>()?,
        };
        if let Some(t) = threads {
            if t == 0 {
                return Err(invalid("threads must be at least 1"));
            }
            exec.threads = t;
        }
        let limit = match &self.memory_limit {
            Some(m) if !m.is_none() => Some(m.clone()),
            _ => Some(config.getattr("memory_limit")?).filter(|m| !m.is_none()),
        };
        if let Some(limit) = limit {
            exec.memory_limit = bytes(&limit)?;
        }
        Ok(exec)
    }

    /// Plans and runs `work` with the GIL released; see the module documentation.
    ///
    /// # Errors
    /// `KeyboardInterrupt` when interrupted (the run stops: no task starts after it), the
    /// exception a user's function raised, or the engine's error.
    pub(crate) fn run<R: Send>(
        &self,
        py: Python<'py>,
        label: &str,
        work: impl FnOnce(&ExecOptions) -> chunkwise::Result<R> + Send,
    ) -> PyResult<R> {
        let mut exec = self.exec_options(py)?;
        let bar = py
            .import("chunkwise._progress")?
            .call_method1("make_bar", (self.progress.as_ref(), label))?;
        let bar = (!bar.is_none()).then(|| bar.unbind());
        let counts = Arc::new([AtomicU64::new(0), AtomicU64::new(0)]);
        let seen = Arc::clone(&counts);
        exec.progress = Some(Arc::new(move |done, total| {
            seen[0].store(done, Ordering::Relaxed);
            seen[1].store(total, Ordering::Relaxed);
        }));
        let cancel = Arc::clone(&exec.cancel);
        let draw = |py: Python<'_>| {
            if let Some(bar) = &bar {
                let (done, total) = (
                    counts[0].load(Ordering::Relaxed),
                    counts[1].load(Ordering::Relaxed),
                );
                // A failing progress bar must not fail the run.
                let _ = bar.call_method1(py, "update", (done, total));
            }
        };
        clear_stash();
        let huge_pages_off = chunkwise::process_memory::HugePagesOffDuringRun::new();
        let (outcome, interrupt) = py.detach(|| {
            std::thread::scope(|s| {
                let (tx, rx) = mpsc::channel();
                let worker = s.spawn(move || {
                    let _ = tx.send(work(&exec));
                });
                let mut interrupt: Option<PyErr> = None;
                let outcome = loop {
                    match rx.recv_timeout(POLL) {
                        Ok(result) => break Some(result),
                        Err(mpsc::RecvTimeoutError::Disconnected) => break None,
                        Err(mpsc::RecvTimeoutError::Timeout) => Python::attach(|py| {
                            if interrupt.is_none() {
                                if let Err(e) = py.check_signals() {
                                    cancel.store(true, Ordering::SeqCst);
                                    interrupt = Some(e);
                                }
                            }
                            draw(py);
                        }),
                    }
                };
                let outcome = match (outcome, worker.join()) {
                    (Some(result), _) => Ok(result),
                    (None, Err(panic)) => Err(panic_message(panic.as_ref())),
                    (None, Ok(())) => Err("the run ended without a result".to_string()),
                };
                (outcome, interrupt)
            })
        });
        drop(huge_pages_off);
        draw(py);
        if let Some(bar) = &bar {
            let _ = bar.call_method0(py, "close");
        }
        if let Some(interrupt) = interrupt {
            return Err(interrupt);
        }
        match outcome {
            Ok(result) => result.or_raise(py),
            Err(panic) => Err(invalid(format!(
                "internal error (a bug in chunkwise): {panic}"
            ))),
        }
    }
}
