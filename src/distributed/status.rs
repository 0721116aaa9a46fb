//! How far a distributed run got, from the journals and the element records alone (no
//! scheduler is asked, so it works the same for Slurm, Kubernetes or AWS Batch), and the last
//! step that makes the outputs complete.

use std::path::Path;
use std::sync::Arc;

use chunkwise_engine::store::Sink;
use chunkwise_engine::{ExecOptions, Plan, Registry, Result};

use super::error::DistributedError;
use super::journal::JournaledSink;
use super::plan_file::PlanFile;
use super::setup::{checked_outputs, exec_options, stage_plan, stages_of, RunDir};
use super::split::Scratch;

/// One stage's progress.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StageStatus {
    /// Tasks in the stage.
    pub tasks: u64,
    /// Tasks whose write units are all stored.
    pub done: u64,
    /// Array elements whose range is not all stored.
    pub incomplete: Vec<u64>,
    /// Array elements that recorded a failure, with the error's first line.
    pub failed: Vec<(u64, String)>,
}

/// A run's progress.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunStatus {
    /// Per stage, in order; empty once finalized (the journals are gone then).
    pub stages: Vec<StageStatus>,
    /// True once the outputs' metadata is written.
    pub finalized: bool,
}

impl RunStatus {
    /// True when every task of every stage is stored.
    pub fn all_stored(&self) -> bool {
        self.stages.iter().all(|s| s.done == s.tasks)
    }
}

/// The progress of the run planned at `plan_path`.
///
/// # Errors
/// Plan errors; [`DistributedError::WorkIo`] for unreadable journals or records.
pub fn status(plan_path: &Path, registry: &Registry) -> Result<RunStatus> {
    let plan = PlanFile::read(plan_path)?;
    let dir = RunDir::of_plan(plan_path);
    if dir.finalized().exists() {
        return Ok(RunStatus {
            stages: Vec::new(),
            finalized: true,
        });
    }
    let outputs = checked_outputs(&plan, plan_path, registry)?;
    // Everything any element listed counts.
    let wrap = |_: usize, sink: Arc<dyn Sink>, key: String| -> Result<Arc<dyn Sink>> {
        let journaled = JournaledSink::new(sink, &dir.journal(&key), "status", "")?;
        Ok(Arc::new(journaled))
    };
    let stages = stages_of(&outputs, &plan, Scratch::Open, &wrap)?;
    let options = exec_options(&plan, &ExecOptions::default())?;
    let mut report = Vec::new();
    for (s, stage) in stages.iter().enumerate() {
        let engine_plan = stage_plan(stage, &options)?;
        let stored = stored_tasks(&engine_plan);
        let incomplete: Vec<u64> = (0..plan.stages[s].elements)
            .filter(|&i| {
                plan.element_tasks(s, i)
                    .map(|r| r.clone().any(|t| !stored[t as usize]))
                    .unwrap_or(true)
            })
            .collect();
        report.push(StageStatus {
            tasks: engine_plan.num_tasks(),
            done: stored.iter().filter(|&&d| d).count() as u64,
            failed: failures(&dir, s)?,
            incomplete,
        });
    }
    Ok(RunStatus {
        stages: report,
        finalized: false,
    })
}

/// Per task of `plan`: whether every write unit of every output is stored.
fn stored_tasks(plan: &Plan) -> Vec<bool> {
    let mut stored = Vec::with_capacity(plan.num_tasks() as usize);
    for stage in &plan.stages {
        for t in 0..stage.num_tasks() {
            let region = stage.tasks.chunk_region(&stage.tasks.unravel(t));
            let units = stage.units.chunks_overlapping(&region);
            stored.push(stage.outputs.iter().all(|o| {
                o.sink
                    .as_ref()
                    .is_none_or(|sink| units.iter().all(|u| sink.is_done(u)))
            }));
        }
    }
    stored
}

/// The elements of `stage` that recorded a failure, by index, with the error's first line.
fn failures(dir: &RunDir, stage: usize) -> Result<Vec<(u64, String)>, DistributedError> {
    let folder = dir.elements(stage);
    let entries = match std::fs::read_dir(&folder) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(DistributedError::WorkIo {
                path: folder,
                source,
            })
        }
    };
    let mut failed = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(index) = name
            .strip_suffix(".failed")
            .and_then(|i| i.parse::<u64>().ok())
        else {
            continue;
        };
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        failed.push((index, text.lines().next().unwrap_or("").to_string()));
    }
    failed.sort();
    Ok(failed)
}

/// The run's last step: checks that every task of every stage is stored, writes each output's
/// metadata (so each opens as a complete array only now), then removes the scratch arrays and
/// the journals. Running it again after it succeeded does nothing.
///
/// # Errors
/// [`DistributedError::Incomplete`] naming the first stage with tasks missing; store errors.
pub fn finalize(plan_path: &Path, registry: &Registry) -> Result<()> {
    let plan = PlanFile::read(plan_path)?;
    let dir = RunDir::of_plan(plan_path);
    if dir.finalized().exists() {
        return Ok(());
    }
    let progress = status(plan_path, registry)?;
    if let Some((s, stage)) = progress
        .stages
        .iter()
        .enumerate()
        .find(|(_, st)| st.done < st.tasks)
    {
        return Err(DistributedError::Incomplete {
            plan: dir.plan(),
            stage: s,
            missing: stage.tasks - stage.done,
            total: stage.tasks,
        }
        .into());
    }
    let outputs = checked_outputs(&plan, plan_path, registry)?;
    for output in &outputs {
        output.sink.finish()?;
    }
    let done = dir.finalized();
    std::fs::write(&done, "").map_err(|source| DistributedError::WorkIo {
        path: done.clone(),
        source,
    })?;
    for folder in [plan.scratch.clone(), dir.0.join("journal")] {
        match std::fs::remove_dir_all(&folder) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(DistributedError::WorkIo {
                    path: folder,
                    source: e,
                }
                .into())
            }
            _ => {}
        }
    }
    Ok(())
}
