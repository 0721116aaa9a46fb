//! Planning a distributed run: the pipeline split into stages, every task checked against the
//! memory each job gets, the scratch arrays made, and the plan file written in a run folder.

use std::path::{Path, PathBuf};

use chunkwise_engine::{Error, ExecOptions, Registry, Result};

use super::error::DistributedError;
use super::plan_file::{PlanFile, PlannedStage, PLAN_FORMAT, PLAN_VERSION};
use super::setup::{exec_options, outputs_of, stage_plan, stages_of, unwrapped, RunDir};
use super::split::Scratch;

/// Memory a job needs beyond chunkwise's own limit: the process and its libraries (about
/// 20 MiB), the freed task buffers the CLI's allocator keeps for the next task (up to 32 MiB),
/// allocator slack, and the Slurm step around it. The memory limit inside a job is
/// `--mem-per-job` less this.
pub const JOB_OVERHEAD: u64 = 192 << 20;

/// How to plan a distributed run.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RunSettings {
    /// Memory per job (the scheduler's limit), bytes.
    pub mem_per_job: u64,
    /// Tasks per array element.
    pub tasks_per_job: u64,
    /// Worker threads per job.
    pub threads: usize,
    /// `auto`, `recompute` or `materialize`.
    pub stencil_chains: String,
    /// The folder for the run folder (plan, journals, scratch arrays); `None`: next to the
    /// first output.
    pub scratch: Option<PathBuf>,
    /// Replace outputs and an earlier run folder that exist.
    pub overwrite: bool,
}

impl Default for RunSettings {
    fn default() -> Self {
        RunSettings {
            mem_per_job: 4 << 30,
            tasks_per_job: 16,
            threads: 1,
            stencil_chains: "auto".into(),
            scratch: None,
            overwrite: false,
        }
    }
}

/// Plans the pipeline at `pipeline` for a distributed run and writes its plan; returns the plan
/// file's path. Nothing is computed; the scratch arrays are created empty.
///
/// # Errors
/// Pipeline and planning errors ([`Error::MemoryLimit`] when a task does not fit in a job);
/// [`Error::OutputExists`], or [`DistributedError::AlreadyPlanned`] for a run folder that exists,
/// without `overwrite`;
/// [`DistributedError::Settings`] for memory per job at or below [`JOB_OVERHEAD`].
pub fn plan_run(pipeline: &Path, settings: &RunSettings, registry: &Registry) -> Result<PathBuf> {
    if settings.mem_per_job <= JOB_OVERHEAD {
        return Err(DistributedError::Settings(format!(
            "the memory per job ({} MiB) must be more than the {} MiB a job needs besides \
             chunkwise's limit",
            settings.mem_per_job >> 20,
            JOB_OVERHEAD >> 20
        ))
        .into());
    }
    if settings.tasks_per_job == 0 || settings.threads == 0 {
        return Err(DistributedError::Settings(
            "the tasks per job and the threads per job must be at least 1".into(),
        )
        .into());
    }
    let pipeline = std::path::absolute(pipeline)
        .map_err(|e| Error::Invalid(format!("pipeline file {}: {e}", pipeline.display())))?;
    let text = std::fs::read_to_string(&pipeline).map_err(|e| {
        Error::Invalid(format!(
            "cannot read pipeline file {}: {e}",
            pipeline.display()
        ))
    })?;
    let (outputs, planned) = outputs_of(&text, &pipeline, registry)?;
    let first = planned
        .first()
        .map(|o| o.path.parent().map(Path::to_path_buf).unwrap_or_default())
        .ok_or_else(|| Error::Invalid("the pipeline has no outputs".into()))?;
    let stem = pipeline
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "pipeline".into());
    let dir = RunDir(
        settings
            .scratch
            .clone()
            .unwrap_or(first)
            .join(format!("{stem}.chunkwise-run")),
    );
    let mut plan = PlanFile {
        format: PLAN_FORMAT.into(),
        version: PLAN_VERSION,
        chunkwise: env!("CARGO_PKG_VERSION").into(),
        pipeline,
        pipeline_text: text,
        memory_limit: settings.mem_per_job - JOB_OVERHEAD,
        mem_per_job: settings.mem_per_job,
        threads: settings.threads,
        stencil_chains: settings.stencil_chains.clone(),
        tasks_per_job: settings.tasks_per_job,
        scratch: dir.0.join("scratch"),
        outputs: planned,
        stages: Vec::new(),
    };
    let options = exec_options(&plan, &ExecOptions::default())?;
    // Everything that can be refused is checked before anything is removed or created.
    let existing: Vec<&Path> = plan
        .outputs
        .iter()
        .map(|o| o.path.as_path())
        .chain([dir.0.as_path()])
        .filter(|p| p.exists())
        .collect();
    if let (Some(path), false) = (existing.first(), settings.overwrite) {
        return Err(if *path == dir.0.as_path() {
            DistributedError::AlreadyPlanned {
                dir: dir.0.clone(),
                plan: dir.plan(),
            }
            .into()
        } else {
            Error::OutputExists(path.display().to_string())
        });
    }
    // Planned once without touching the disk (scratch arrays are opened by path, so a dry
    // pass is not possible): remove what is replaced, then make the scratch arrays.
    for path in &existing {
        std::fs::remove_dir_all(path).map_err(|source| DistributedError::WorkIo {
            path: path.to_path_buf(),
            source,
        })?;
    }
    // The outermost folder this creates, removed again if planning is refused.
    let mut created_root = dir.0.clone();
    while let Some(parent) = created_root.parent().filter(|p| !p.exists()) {
        created_root = parent.to_path_buf();
    }
    let created = std::fs::create_dir_all(&dir.0);
    created.map_err(|source| DistributedError::WorkIo {
        path: dir.0.clone(),
        source,
    })?;
    let planned_stages = (|| {
        let stages = stages_of(&outputs, &plan, Scratch::Create, &unwrapped)?;
        stages
            .iter()
            .map(|stage| {
                let engine_plan = stage_plan(stage, &options)?;
                let tasks = engine_plan.num_tasks();
                Ok(PlannedStage {
                    tasks,
                    task_grids: engine_plan
                        .stages
                        .iter()
                        .map(|s| s.tasks.grid_shape().to_vec())
                        .collect(),
                    elements: tasks.div_ceil(settings.tasks_per_job),
                    task_bytes: engine_plan
                        .stages
                        .iter()
                        .map(|s| s.task_bytes)
                        .max()
                        .unwrap_or(0),
                    writes: stage.outputs.iter().map(|o| o.sink.describe()).collect(),
                })
            })
            .collect::<Result<Vec<_>>>()
    })();
    match planned_stages {
        Ok(stages) => plan.stages = stages,
        Err(e) => {
            // Refused (a task too large for a job): nothing of the run is left behind.
            let _ = std::fs::remove_dir_all(&created_root);
            return Err(e);
        }
    }
    plan.write(&dir.plan())?;
    Ok(dir.plan())
}
