//! The engine's one error type. Every failure a user can cause is an [`Error`] with a message
//! that names what is wrong and what to do; none is a panic.

/// Errors from building, planning and running a pipeline.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The pipeline is malformed: bad parameter, shape or type mismatch, unknown name.
    #[error("{0}")]
    Invalid(String),
    /// An input array could not be opened.
    #[error("cannot open array {path}: {detail}")]
    MissingArray {
        /// Where it was looked for.
        path: String,
        /// Why it failed.
        detail: String,
    },
    /// An output would replace existing data without permission.
    #[error(
        "output {0} already exists; pass --overwrite (Overwrite::Replace in the API) to replace it"
    )]
    OutputExists(String),
    /// One task needs more memory than the whole limit.
    #[error(
        "memory limit {limit} bytes is smaller than one task of {stage} ({task} bytes projected); \
         raise --memory-limit to at least {task} bytes or use smaller output chunks"
    )]
    MemoryLimit {
        /// The configured limit.
        limit: u64,
        /// The projected bytes of the largest task.
        task: u64,
        /// The stage that task belongs to.
        stage: String,
    },
    /// A task failed while running.
    #[error("{op} failed for output chunk {chunk:?}: {cause}")]
    Task {
        /// What the task was doing.
        op: String,
        /// The output chunk (or shard) index the task was producing.
        chunk: Vec<u64>,
        /// The underlying failure.
        cause: String,
    },
    /// A Zarr store operation failed outside a task (creating or finalizing an array).
    #[error("zarr store {path}: {detail}")]
    Store {
        /// The array path.
        path: String,
        /// The underlying failure.
        detail: String,
    },
    /// The run was cancelled before it finished.
    #[error("run cancelled")]
    Cancelled,
}

/// Result with the engine's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
