//! Beyond one machine: a pipeline planned as stages of independent, idempotent tasks that a
//! job-array system runs — Slurm first ([`slurm`]); any system that starts N copies of one
//! command with an index can drive [`run_task`] (Kubernetes Indexed Jobs, AWS Batch array jobs).
//!
//! The flow: [`plan_run`] splits the pipeline ([`split`]: results a local run keeps in memory
//! between stages go to scratch Zarr arrays) and writes the plan file ([`PlanFile`]); each array
//! element runs [`run_task`] on its range of one stage's tasks, skipping what is stored
//! ([`journal`]); [`finalize`] writes the outputs' metadata once every task is stored and
//! removes the scratch arrays; [`status`] reports progress from the journals.

mod error;
pub mod journal;
mod plan_file;
mod plan_run;
mod setup;
pub mod slurm;
pub mod split;
mod status;
mod worker;

pub use error::DistributedError;
pub use plan_file::{plan_path, PlanFile, PlannedOutput, PlannedStage, PLAN_FORMAT, PLAN_VERSION};
pub use plan_run::{plan_run, RunSettings, JOB_OVERHEAD};
pub use setup::RunDir;
pub use status::{finalize, status, RunStatus, StageStatus};
pub use worker::{index_from_env, run_task};
