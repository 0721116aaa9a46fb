//! The engine's one error type. Every failure a user can cause is an [`Error`] with a message
//! that names what is wrong; none is a panic. Messages state facts, not the flags of one front
//! end: the command line and the Python package add their own advice ("pass --overwrite",
//! `overwrite=True`) when they report an error.

/// Errors from building, planning and running a pipeline.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The pipeline is malformed: bad parameter, shape or type mismatch, unknown name.
    #[error("{0}")]
    Invalid(String),
    /// An index outside the array, or more indices than it has axes: NumPy's `IndexError`,
    /// which the Python package raises for it.
    #[error("{0}")]
    Index(String),
    /// An input array could not be opened.
    #[error("cannot open array {path}: {detail}")]
    MissingArray {
        /// Where it was looked for.
        path: String,
        /// Why it failed.
        detail: String,
    },
    /// An output would replace existing data without permission.
    #[error("output {0} already exists")]
    OutputExists(String),
    /// An output holds an unfinished run of this same computation, and neither resuming nor
    /// replacing it was asked for.
    #[error(
        "output {path} holds an unfinished run of this same pipeline ({stored} write units \
         stored)"
    )]
    UnfinishedRun {
        /// The output path.
        path: String,
        /// Write units the unfinished run stored.
        stored: usize,
    },
    /// An output holds what an interrupted run left (a pyramid group without its multiscales
    /// metadata, say), and neither resuming nor replacing it was asked for. Unlike
    /// [`Error::UnfinishedRun`], whether the same computation started it is only checked when a
    /// resume is asked for.
    #[error("output {path} holds an unfinished {what} (an interrupted run)")]
    UnfinishedOutput {
        /// The output path.
        path: String,
        /// What kind of output it is ("pyramid").
        what: &'static str,
    },
    /// An output cannot be resumed: it holds no unfinished run, or another computation
    /// started it.
    #[error("cannot resume {path}: {reason}")]
    NotResumable {
        /// The output path.
        path: String,
        /// What is there instead.
        reason: String,
    },
    /// One task needs more memory than the whole limit.
    #[error(
        "memory limit {limit} bytes {beside}is smaller than one task of {stage} ({task} bytes \
         projected); the limit must be at least {needed} bytes, or the output chunks smaller",
        beside = if *.reserved > 0 { format!("less {} bytes for the process itself ", .reserved) } else { String::new() },
        needed = .task + .reserved
    )]
    MemoryLimit {
        /// The configured limit.
        limit: u64,
        /// The projected bytes of the largest task.
        task: u64,
        /// The stage that task belongs to.
        stage: String,
        /// Bytes of the limit left to the process itself ([`crate::exec::reserved_bytes`]): the
        /// limit must be at least `task + reserved`.
        reserved: u64,
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
    /// The run was cancelled ([`crate::ExecOptions::cancel`]) before it finished. What it
    /// stored is kept, resume journals included, so a resume continues from there.
    #[error("run cancelled with {done} of {total} output chunks stored")]
    Cancelled {
        /// Output write units (chunks, or shards) stored, by this run or the one it resumed;
        /// tasks finished when no output keeps count ([`crate::store::Sink::units_stored`]).
        done: u64,
        /// Write units of all outputs (or tasks, as `done`).
        total: u64,
    },
    /// A failure of a layer built on the engine (the facade's distributed runs, say), kept whole
    /// so that a front end can look at its variant (downcast) to add its own advice.
    #[error(transparent)]
    Other(Box<dyn std::error::Error + Send + Sync + 'static>),
}

/// Result with the engine's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
