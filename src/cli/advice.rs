//! What to do about an error, in this command line's words. The engine and the stores state
//! facts ("output x already exists"); which flag changes the outcome is the front end's to say.

use chunkwise_engine::Error;

/// The error line `chunkwise` prints: the error, then the flag that would change the outcome
/// when there is one.
pub(crate) fn error_line(e: &Error) -> String {
    match advice(e) {
        Some(advice) => format!("error: {e}; {advice}"),
        None => format!("error: {e}"),
    }
}

fn advice(e: &Error) -> Option<String> {
    Some(match e {
        Error::OutputExists(_) => "pass --overwrite to replace it".into(),
        Error::UnfinishedRun { .. } => {
            "pass --resume to continue it, or --overwrite to start over".into()
        }
        Error::NotResumable { .. } => "pass --overwrite to replace it".into(),
        Error::MemoryLimit { task, reserved, .. } => format!(
            "raise --memory-limit to at least {} bytes, or use smaller output chunks",
            task + reserved
        ),
        _ => return None,
    })
}
