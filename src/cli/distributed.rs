//! The distributed commands: `submit`, `run-task`, `status` and `finalize`.

use std::path::{Path, PathBuf};

use chunkwise_engine::exec::parse_bytes;
use chunkwise_engine::{Error, ExecOptions, Registry, Result};
use clap::{Args, ValueEnum};

use crate::distributed::slurm::{submit, SlurmOptions};
use crate::distributed::{
    finalize, index_from_env, plan_run, run_task, status, RunSettings, JOB_OVERHEAD,
};

/// Job-array systems `submit` drives.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub(super) enum Backend {
    /// Slurm job arrays through `sbatch`.
    Slurm,
}

#[derive(Args)]
pub(super) struct SubmitArgs {
    /// The pipeline file; with --resume, the plan file (or run folder) of an earlier submit.
    pipeline: PathBuf,
    /// The job-array system.
    #[arg(long, value_enum)]
    backend: Backend,
    /// Slurm partition.
    #[arg(long)]
    partition: Option<String>,
    /// Time limit of each job (Slurm's --time, e.g. 1:00:00).
    #[arg(long)]
    time: Option<String>,
    /// Memory of each job: Slurm's --mem, and chunkwise's limit inside the job less 192 MiB.
    #[arg(long, default_value = "4GiB", value_name = "SIZE")]
    mem_per_job: String,
    /// Tasks (output chunks or shards) each array element runs.
    #[arg(long, default_value_t = 16)]
    tasks_per_job: u64,
    /// At most this many elements of one array run at once.
    #[arg(long)]
    max_parallel: Option<u64>,
    /// Worker threads (and Slurm CPUs) per job.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Folder for the run folder (plan, journals, scratch arrays), on the shared filesystem;
    /// default: next to the first output.
    #[arg(long)]
    scratch: Option<PathBuf>,
    /// Another sbatch argument for every job (repeatable), e.g. --sbatch-arg=--account=proj.
    #[arg(long = "sbatch-arg", allow_hyphen_values = true)]
    sbatch_args: Vec<String>,
    /// Print the sbatch scripts and submit nothing (the plan is written: submit it later with
    /// `submit PLAN --resume`).
    #[arg(long)]
    dry_run: bool,
    /// The program each job runs (your own program embedding chunkwise's command line with its
    /// registered ops); default: this chunkwise.
    #[arg(long)]
    worker: Option<PathBuf>,
    /// Resubmit only what is missing of an earlier submit (PIPELINE is then its plan).
    #[arg(long, conflicts_with = "overwrite")]
    resume: bool,
    /// Replace outputs and an earlier run folder that exist.
    #[arg(long)]
    overwrite: bool,
    /// Stencils feeding stencils: auto, recompute or materialize (as `run`).
    #[arg(long, default_value = "auto")]
    stencil_chains: String,
}

pub(super) fn run_submit(args: &SubmitArgs, registry: &Registry) -> Result<()> {
    let Backend::Slurm = args.backend;
    let plan = if args.resume {
        args.pipeline.clone()
    } else {
        let settings = RunSettings {
            mem_per_job: parse_bytes(&args.mem_per_job)
                .map_err(|e| Error::Invalid(format!("--mem-per-job: {e}")))?,
            tasks_per_job: args.tasks_per_job,
            threads: args.threads,
            stencil_chains: args.stencil_chains.clone(),
            scratch: args.scratch.clone(),
            overwrite: args.overwrite,
        };
        plan_run(&args.pipeline, &settings, registry).map_err(|e| match e {
            Error::MemoryLimit { task, stage, .. } => Error::Invalid(format!(
                "one task of {stage} needs {task} bytes, more than a job's limit \
                 (--mem-per-job less {} MiB); raise --mem-per-job to at least {} MiB or use \
                 smaller output chunks",
                JOB_OVERHEAD >> 20,
                (task + JOB_OVERHEAD).div_ceil(1 << 20)
            )),
            other => other,
        })?
    };
    let options = SlurmOptions {
        partition: args.partition.clone(),
        time: args.time.clone(),
        max_parallel: args.max_parallel,
        sbatch_args: args.sbatch_args.clone(),
        worker: args.worker.clone(),
        dry_run: args.dry_run,
        only_missing: args.resume,
    };
    let submitted = submit(&plan, &options, registry)?;
    if args.dry_run {
        for script in &submitted.scripts {
            println!("{script}");
        }
    }
    println!("plan: {}", plan.display());
    if submitted.jobs.is_empty() {
        println!("nothing to submit: the run is complete");
    }
    for (name, array, id) in &submitted.jobs {
        match id {
            Some(id) => println!("{name}: job {id} (array {array})"),
            None => println!("{name}: not submitted (array {array})"),
        }
    }
    Ok(())
}

pub(super) fn run_one_task(
    plan: &Path,
    stage: usize,
    index: Option<u64>,
    registry: &Registry,
    base: &ExecOptions,
) -> Result<()> {
    let index = index.or_else(index_from_env).ok_or_else(|| {
        Error::Invalid(
            "no array index: pass --index, or run inside a job array (SLURM_ARRAY_TASK_ID, \
             JOB_COMPLETION_INDEX or AWS_BATCH_JOB_ARRAY_INDEX)"
                .into(),
        )
    })?;
    let stats = run_task(plan, stage, index, registry, base)?;
    eprintln!(
        "stage {stage} element {index}: {} tasks ({} already stored) in {:.2} s",
        stats.tasks,
        stats.skipped_tasks,
        stats.elapsed.as_secs_f64()
    );
    Ok(())
}

pub(super) fn run_status(plan: &Path, registry: &Registry) -> Result<()> {
    let report = status(plan, registry)?;
    if report.finalized {
        println!("complete: every task stored and the outputs finalized");
        return Ok(());
    }
    for (s, stage) in report.stages.iter().enumerate() {
        println!("stage {s}: {} of {} tasks stored", stage.done, stage.tasks);
        for (index, why) in &stage.failed {
            println!("  element {index} failed: {why}");
        }
        let silent: Vec<String> = stage
            .incomplete
            .iter()
            .filter(|i| !stage.failed.iter().any(|(f, _)| f == *i))
            .map(u64::to_string)
            .collect();
        if !silent.is_empty() {
            println!(
                "  elements not stored (running, waiting, killed or never started): {}",
                silent.join(",")
            );
        }
    }
    if report.all_stored() {
        println!("every task stored; not finalized yet (`chunkwise finalize PLAN`)");
    }
    Ok(())
}

pub(super) fn run_finalize(plan: &Path, registry: &Registry) -> Result<()> {
    finalize(plan, registry)?;
    println!("finalized: outputs complete");
    Ok(())
}
