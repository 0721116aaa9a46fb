//! Engine errors as Python exceptions, and the Python exception a user's function raised carried
//! across the engine (which only passes text between threads) back to the caller.

use std::sync::Mutex;

use chunkwise::Error;
use pyo3::exceptions::{
    PyFileExistsError, PyFileNotFoundError, PyIndexError, PyKeyboardInterrupt, PyValueError,
};
use pyo3::prelude::*;

pyo3::create_exception!(
    chunkwise,
    ChunkwiseError,
    PyValueError,
    "An error from chunkwise: bad arguments, a plan that does not fit, a failed run. The message \
     is the engine's, with this package's advice (overwrite=True, resume=True) added."
);

/// The first exception a user's Python function raised in the current run, with the text the
/// engine received in its place. The engine's error names the function and the output region;
/// the caller re-raises the original exception with that message as a note, so the user keeps
/// the exception's type and traceback.
static RAISED: Mutex<Option<(String, PyErr)>> = Mutex::new(None);

/// Records `err`, raised by a user's function, and returns the text the engine reports for it.
pub(crate) fn stash(py: Python<'_>, err: PyErr) -> String {
    let text = describe(py, &err);
    if let Ok(mut slot) = RAISED.lock() {
        if slot.is_none() {
            *slot = Some((text.clone(), err));
        }
    }
    text
}

/// `ValueError: message`, as a traceback's last line reads.
fn describe(py: Python<'_>, err: &PyErr) -> String {
    let kind = err
        .get_type(py)
        .name()
        .map_or_else(|_| "Exception".to_string(), |n| n.to_string());
    format!("{kind}: {}", err.value(py))
}

/// Forgets an exception left by an earlier run (one that failed for another reason first).
pub(crate) fn clear_stash() {
    if let Ok(mut slot) = RAISED.lock() {
        *slot = None;
    }
}

/// The Python exception for an engine error: the user's own exception when the run failed
/// because their function raised, `KeyboardInterrupt` for a cancelled run, `FileExistsError` /
/// `FileNotFoundError` / `IndexError` where they fit, [`ChunkwiseError`] (a `ValueError`)
/// otherwise.
pub(crate) fn to_py(py: Python<'_>, err: Error) -> PyErr {
    let message = err.to_string();
    let raised = RAISED.lock().ok().and_then(|mut slot| slot.take());
    if let Some((text, original)) = raised {
        if message.contains(&text) {
            // The note carries the function's name and the output region it was computing.
            let _ = original
                .value(py)
                .call_method1("add_note", (format!("chunkwise: {message}"),));
            return original;
        }
    }
    let message = match advice(&err) {
        Some(advice) => format!("{message}; {advice}"),
        None => message,
    };
    match err {
        Error::OutputExists(_) => PyFileExistsError::new_err(message),
        Error::MissingArray { .. } => PyFileNotFoundError::new_err(message),
        Error::Cancelled { .. } => PyKeyboardInterrupt::new_err(message),
        Error::Index(_) => PyIndexError::new_err(message),
        _ => ChunkwiseError::new_err(message),
    }
}

/// What to do about an error, in this package's words (the engine states only the fact).
fn advice(err: &Error) -> Option<&'static str> {
    match err {
        Error::OutputExists(_) | Error::NotResumable { .. } => {
            Some("pass overwrite=True to replace it")
        }
        Error::UnfinishedRun { .. } | Error::UnfinishedOutput { .. } => {
            Some("pass resume=True to continue it, or overwrite=True to start over")
        }
        Error::MemoryLimit { .. } => Some("raise memory_limit, or use smaller output chunks"),
        _ => None,
    }
}

/// `?` for engine results inside functions that hold the GIL.
pub(crate) trait OrRaise<T> {
    /// The value, or the engine's error as a Python exception.
    fn or_raise(self, py: Python<'_>) -> PyResult<T>;
}

impl<T> OrRaise<T> for chunkwise::Result<T> {
    fn or_raise(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|e| to_py(py, e))
    }
}

/// A [`ChunkwiseError`] with `message`, for arguments the Python layer itself checks.
pub(crate) fn invalid(message: impl Into<String>) -> PyErr {
    ChunkwiseError::new_err(message.into())
}
