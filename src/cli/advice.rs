//! What to do about an error, in this command line's words. The engine, the stores and the
//! facade's layers state facts ("output x already exists"); which flag or command changes the
//! outcome is the front end's to say.

use crate::distributed::DistributedError;
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
        Error::UnfinishedOutput { .. } => "pass --resume to continue it (refused if other \
                                           settings started it), or --overwrite to start over"
            .into(),
        Error::NotResumable { .. } => "pass --overwrite to replace it".into(),
        Error::MemoryLimit { task, reserved, .. } => format!(
            "raise --memory-limit to at least {} bytes, or use smaller output chunks",
            task + reserved
        ),
        Error::Other(inner) => return distributed_advice(inner.downcast_ref()?),
        _ => return None,
    })
}

/// The `chunkwise submit` / `status` / `finalize` words for a distributed run's failure.
fn distributed_advice(e: &DistributedError) -> Option<String> {
    Some(match e {
        DistributedError::IdentityChanged { .. } => {
            "submit the pipeline again with --overwrite".into()
        }
        DistributedError::Incomplete { plan, .. } => format!(
            "run `chunkwise status {0}` to see which array elements failed, then \
             `chunkwise submit {0} --resume`",
            plan.display()
        ),
        DistributedError::AlreadyPlanned { plan, .. } => format!(
            "continue it with `chunkwise submit {} --resume`, or pass --overwrite to start over",
            plan.display()
        ),
        DistributedError::WorkerNotFound { .. } => "pass --worker".into(),
        DistributedError::Settings(_) => {
            "set with --mem-per-job, --tasks-per-job, --threads or --stencil-chains".into()
        }
        _ => return None,
    })
}
