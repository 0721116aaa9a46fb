//! Ctrl-C and SIGTERM for command-line runs: the first signal stops the run the way a user
//! expects (no new task starts, running ones finish, what is stored stays for `--resume`), a
//! second Ctrl-C ends the process at once.
//!
//! The handlers only set flags (all a signal handler may safely do); the engine's workers read
//! the cancel flag between tasks, and the caller turns the [`crate::Error::Cancelled`] that
//! comes back into a message and the conventional exit code (128 + signal number).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use signal_hook::consts::{SIGINT, SIGTERM};

/// Which signals were received, and the flag runs are cancelled through.
#[derive(Debug)]
pub struct Interrupts {
    cancel: Arc<AtomicBool>,
    sigint: Arc<AtomicBool>,
    sigterm: Arc<AtomicBool>,
}

static INSTALLED: OnceLock<Interrupts> = OnceLock::new();

impl Interrupts {
    /// Installs the handlers once per process (later calls return the same ones).
    ///
    /// # Errors
    /// When the operating system refuses a handler.
    pub fn install() -> std::io::Result<&'static Interrupts> {
        if let Some(installed) = INSTALLED.get() {
            return Ok(installed);
        }
        let cancel = Arc::new(AtomicBool::new(false));
        let sigint = Arc::new(AtomicBool::new(false));
        let sigterm = Arc::new(AtomicBool::new(false));
        // Registered first, so it sees the flag as the previous signal left it: a second
        // Ctrl-C (or one after a SIGTERM) exits at once with 130.
        signal_hook::flag::register_conditional_shutdown(SIGINT, 130, Arc::clone(&cancel))?;
        for (signal, seen) in [(SIGINT, &sigint), (SIGTERM, &sigterm)] {
            signal_hook::flag::register(signal, Arc::clone(seen))?;
            signal_hook::flag::register(signal, Arc::clone(&cancel))?;
        }
        Ok(INSTALLED.get_or_init(|| Interrupts {
            cancel,
            sigint,
            sigterm,
        }))
    }

    /// The flag to hand to [`crate::ExecOptions::cancel`].
    pub fn cancel_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.cancel)
    }

    /// The exit code for the signal received: 130 for SIGINT, 143 for SIGTERM, `None` when no
    /// signal came.
    pub fn exit_code(&self) -> Option<u8> {
        if self.sigterm.load(Ordering::SeqCst) {
            Some(143)
        } else if self.sigint.load(Ordering::SeqCst) {
            Some(130)
        } else {
            None
        }
    }
}
