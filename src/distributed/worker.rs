//! What an array element runs: `chunkwise run-task PLAN --stage S --index I` computes the tasks
//! of its range that are not stored yet, and records how it ended for `chunkwise status`.

use std::path::Path;
use std::sync::Arc;

use chunkwise_engine::exec::execute_part;
use chunkwise_engine::store::Sink;
use chunkwise_engine::{ExecOptions, Registry, Result, RunStats};

use super::error::DistributedError;
use super::journal::JournaledSink;
use super::plan_file::PlanFile;
use super::setup::{checked_outputs, exec_options, stage_plan, stages_of, RunDir};
use super::split::Scratch;

/// The array index of this process from the job-array systems that set one: Slurm
/// (`SLURM_ARRAY_TASK_ID`), Kubernetes Indexed Jobs (`JOB_COMPLETION_INDEX`) and AWS Batch
/// (`AWS_BATCH_JOB_ARRAY_INDEX`).
pub fn index_from_env() -> Option<u64> {
    [
        "SLURM_ARRAY_TASK_ID",
        "JOB_COMPLETION_INDEX",
        "AWS_BATCH_JOB_ARRAY_INDEX",
    ]
    .iter()
    .find_map(|v| std::env::var(v).ok()?.trim().parse().ok())
}

/// Runs array element `index` of stage `stage` of the plan at `plan_path`: its tasks that are
/// not stored yet, with the plan's memory limit and threads (`base` gives cancellation and the
/// buffer pool). Records `<index>.ok`, or `<index>.failed` with the error, in the run folder.
///
/// # Errors
/// Plan errors ([`DistributedError`]: version, identity, range), then the first task error.
pub fn run_task(
    plan_path: &Path,
    stage: usize,
    index: u64,
    registry: &Registry,
    base: &ExecOptions,
) -> Result<RunStats> {
    let plan = PlanFile::read(plan_path)?;
    let dir = RunDir::of_plan(plan_path);
    let range = plan.element_tasks(stage, index)?;
    let records = dir.elements(stage);
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| DistributedError::WorkIo { path, source }
    };
    std::fs::create_dir_all(&records).map_err(io(&records))?;
    let (ok, failed) = (
        records.join(format!("{index}.ok")),
        records.join(format!("{index}.failed")),
    );
    for f in [&ok, &failed] {
        match std::fs::remove_file(f) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(f)(e).into()),
            _ => {}
        }
    }
    let outcome = run_range(&plan, plan_path, &dir, stage, index, &range, registry, base);
    match &outcome {
        Ok(_) => std::fs::write(&ok, "").map_err(io(&ok))?,
        Err(e) => std::fs::write(&failed, format!("{e}\n")).map_err(io(&failed))?,
    }
    outcome
}

#[allow(clippy::too_many_arguments)]
fn run_range(
    plan: &PlanFile,
    plan_path: &Path,
    dir: &RunDir,
    stage: usize,
    index: u64,
    range: &std::ops::Range<u64>,
    registry: &Registry,
    base: &ExecOptions,
) -> Result<RunStats> {
    let outputs = checked_outputs(plan, plan_path, registry)?;
    let element = format!("s{stage}-{index}-");
    let name = format!("{element}{}-{}", host(), std::process::id());
    let wrap = |s: usize, sink: Arc<dyn Sink>, key: String| -> Result<Arc<dyn Sink>> {
        if s != stage {
            return Ok(sink);
        }
        let journaled = JournaledSink::new(sink, &dir.journal(&key), &name, &element)?;
        Ok(Arc::new(journaled))
    };
    let stages = stages_of(&outputs, plan, Scratch::Open, &wrap)?;
    let options = exec_options(plan, base)?;
    let engine_plan = stage_plan(&stages[stage], &options)?;
    if stages.len() != plan.stages.len() || engine_plan.num_tasks() != plan.stages[stage].tasks {
        return Err(DistributedError::IdentityChanged {
            path: plan_path.to_path_buf(),
            output: "(all)".into(),
            why: "the pipeline splits into other stages or tasks than the plan lists".into(),
        }
        .into());
    }
    tracing::info!(
        stage,
        index,
        first = range.start,
        end = range.end,
        "running tasks"
    );
    execute_part(&engine_plan, &options, range.clone())
}

/// This machine's name, for journal file names (so two nodes never share one).
fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().replace(['/', '-'], "_"))
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into())
}
