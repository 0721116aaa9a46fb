//! What can go wrong when a run is spread over job-array elements: facts about the plan file,
//! the work directory and the scheduler, each naming the file or command involved. The CLI adds
//! the advice.

use std::path::PathBuf;

/// Errors of plans, workers and the Slurm backend.
#[derive(Debug, thiserror::Error)]
pub enum DistributedError {
    /// The plan file could not be read or written.
    #[error("plan file {path}: {source}")]
    PlanIo {
        /// The plan file.
        path: PathBuf,
        /// The I/O failure.
        #[source]
        source: std::io::Error,
    },
    /// The plan file is not a chunkwise plan, or not valid JSON.
    #[error("plan file {path} is not a chunkwise plan: {detail}")]
    NotAPlan {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        detail: String,
    },
    /// The plan was written in another format version.
    #[error(
        "plan file {path} has plan format version {found}; this chunkwise {version} reads \
         version {expected}: make the plan again with this chunkwise (submit the pipeline again)"
    )]
    PlanVersion {
        /// The file.
        path: PathBuf,
        /// Its version.
        found: u64,
        /// The version this build reads.
        expected: u64,
        /// This build's version.
        version: &'static str,
    },
    /// The pipeline, its inputs or the outputs' settings changed since the plan was made.
    #[error("the run planned in {path} no longer matches output {output}: {why}")]
    IdentityChanged {
        /// The plan file.
        path: PathBuf,
        /// The output whose identity differs.
        output: String,
        /// The first difference, in words.
        why: String,
    },
    /// A stage or array index outside the plan.
    #[error("{what} is out of range: the plan has {available}")]
    OutOfRange {
        /// What was asked for (`stage 4`, `array index 12 of stage 1`).
        what: String,
        /// What there is.
        available: String,
    },
    /// A work-directory file (journal, element record, scratch) could not be read or written.
    #[error("{path}: {source}")]
    WorkIo {
        /// The file or directory.
        path: PathBuf,
        /// The I/O failure.
        #[source]
        source: std::io::Error,
    },
    /// Finalizing before every task is stored.
    #[error("stage {stage} of the run planned in {} has {missing} of {total} tasks not stored", plan.display())]
    Incomplete {
        /// The plan file.
        plan: PathBuf,
        /// The first incomplete stage.
        stage: usize,
        /// Tasks missing.
        missing: u64,
        /// Tasks in the stage.
        total: u64,
    },
    /// A run is planned already where a new plan would go.
    #[error("a run is already planned in {}", dir.display())]
    AlreadyPlanned {
        /// The run's folder.
        dir: PathBuf,
        /// Its plan file.
        plan: PathBuf,
    },
    /// The program to run in each job was not given and this executable cannot be found.
    #[error("cannot find this executable to run in the jobs: {source}")]
    WorkerNotFound {
        /// Why `current_exe` failed.
        #[source]
        source: std::io::Error,
    },
    /// A pipeline `submit` cannot split into independent tasks.
    #[error("{0}")]
    Unsupported(String),
    /// A settings value that cannot work (memory per job below the overhead, zero tasks per job).
    #[error("{0}")]
    Settings(String),
    /// `sbatch` failed or could not be started.
    #[error("sbatch {what}: {detail}")]
    Sbatch {
        /// What was being submitted (`stage 1`, `finalize`).
        what: String,
        /// Its error output, or why it could not start.
        detail: String,
    },
}

impl From<DistributedError> for chunkwise_engine::Error {
    /// Kept whole, so that the CLI can add the advice for each variant.
    fn from(e: DistributedError) -> Self {
        chunkwise_engine::Error::Other(Box::new(e))
    }
}
