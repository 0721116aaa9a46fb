//! The plan file: what every worker of a distributed run needs to find its share of the work.
//!
//! It is small and its size does not grow with the volume: the pipeline's own text (so every
//! worker builds the same pipeline, whatever happens to the file meanwhile), the run settings,
//! each output's run identity ([`chunkwise_engine::identity`], the one `--resume` checks) and
//! per stage its task count, task grids and elements — ranges and grids, never an object per
//! task. Stage `s`'s array element `i` runs tasks `i * tasks_per_job ..` of the stage's
//! [`chunkwise_engine::Plan`], which every worker rebuilds the same way.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::DistributedError;

/// What the `format` field of every plan file says.
pub const PLAN_FORMAT: &str = "chunkwise-plan";
/// The plan file layout version this build reads and writes; bump it when the layout changes.
pub const PLAN_VERSION: u64 = 1;

/// A distributed run's plan.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanFile {
    /// Always [`PLAN_FORMAT`].
    pub format: String,
    /// [`PLAN_VERSION`] of the chunkwise that wrote it.
    pub version: u64,
    /// The chunkwise version that wrote it.
    pub chunkwise: String,
    /// Where the pipeline file was: its relative paths are relative to its folder.
    pub pipeline: PathBuf,
    /// The pipeline file's text when the run was planned.
    pub pipeline_text: String,
    /// The memory limit inside each job, bytes (the job's memory less [`super::JOB_OVERHEAD`]).
    pub memory_limit: u64,
    /// Memory asked of the scheduler per job, bytes.
    pub mem_per_job: u64,
    /// Worker threads per job.
    pub threads: usize,
    /// `auto`, `recompute` or `materialize` (see `--stencil-chains`).
    pub stencil_chains: String,
    /// Tasks per array element.
    pub tasks_per_job: u64,
    /// Folder of the scratch arrays passed between stages.
    pub scratch: PathBuf,
    /// The outputs with their run identities.
    pub outputs: Vec<PlannedOutput>,
    /// The stages, in order: each reads only what earlier ones wrote.
    pub stages: Vec<PlannedStage>,
}

/// One output and the identity of the run writing it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlannedOutput {
    /// Where it is written.
    pub path: PathBuf,
    /// SHA-256 of the identity.
    pub identity_sha256: String,
    /// The identity document (expression, inputs' metadata, output metadata, version).
    pub identity: Value,
}

/// One stage: tasks that need nothing from each other.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlannedStage {
    /// Tasks in the stage.
    pub tasks: u64,
    /// The task grid of each part of the stage (parts writing different grids), in task order.
    pub task_grids: Vec<Vec<u64>>,
    /// Array elements: `ceil(tasks / tasks_per_job)`.
    pub elements: u64,
    /// Projected bytes of the stage's largest task.
    pub task_bytes: u64,
    /// What it writes (outputs and the scratch array), for people reading the plan.
    pub writes: Vec<String>,
}

impl PlanFile {
    /// The tasks array element `index` of stage `stage` runs.
    ///
    /// # Errors
    /// [`DistributedError::OutOfRange`] for a stage or index the plan does not have.
    pub fn element_tasks(
        &self,
        stage: usize,
        index: u64,
    ) -> Result<std::ops::Range<u64>, DistributedError> {
        let s = self
            .stages
            .get(stage)
            .ok_or_else(|| DistributedError::OutOfRange {
                what: format!("stage {stage}"),
                available: format!("stages 0 to {}", self.stages.len().saturating_sub(1)),
            })?;
        if index >= s.elements {
            return Err(DistributedError::OutOfRange {
                what: format!("array index {index} of stage {stage}"),
                available: format!("indices 0 to {}", s.elements.saturating_sub(1)),
            });
        }
        let start = index * self.tasks_per_job;
        Ok(start..(start + self.tasks_per_job).min(s.tasks))
    }

    /// Writes the plan to `path` whole or not at all (aside, then renamed).
    ///
    /// # Errors
    /// [`DistributedError::PlanIo`].
    pub fn write(&self, path: &Path) -> Result<(), DistributedError> {
        let io = |source| DistributedError::PlanIo {
            path: path.to_path_buf(),
            source,
        };
        let text = serde_json::to_string(self).map_err(|e| io(e.into()))?;
        let partial = path.with_extension("json.partial");
        std::fs::write(&partial, text).map_err(io)?;
        std::fs::rename(&partial, path).map_err(io)
    }

    /// Reads the plan at `path` (a plan file, or the run folder holding `plan.json`), refusing
    /// other files and other format versions.
    ///
    /// # Errors
    /// [`DistributedError::PlanIo`], [`DistributedError::NotAPlan`],
    /// [`DistributedError::PlanVersion`].
    pub fn read(path: &Path) -> Result<PlanFile, DistributedError> {
        let path = plan_path(path);
        let bytes = std::fs::read(&path).map_err(|source| DistributedError::PlanIo {
            path: path.clone(),
            source,
        })?;
        let not_a_plan = |detail: String| DistributedError::NotAPlan {
            path: path.clone(),
            detail,
        };
        let value: Value = serde_json::from_slice(&bytes).map_err(|e| not_a_plan(e.to_string()))?;
        if value["format"] != PLAN_FORMAT {
            return Err(not_a_plan(format!(
                "its \"format\" is {}, not \"{PLAN_FORMAT}\"",
                value["format"]
            )));
        }
        let found = value["version"].as_u64().unwrap_or(0);
        if found != PLAN_VERSION {
            return Err(DistributedError::PlanVersion {
                path,
                found,
                expected: PLAN_VERSION,
                version: env!("CARGO_PKG_VERSION"),
            });
        }
        serde_json::from_value(value).map_err(|e| not_a_plan(e.to_string()))
    }
}

/// The plan file `path` names: itself, or `plan.json` inside a run folder.
pub fn plan_path(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.join("plan.json")
    } else {
        path.to_path_buf()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(tasks: u64, per_job: u64) -> PlanFile {
        PlanFile {
            format: PLAN_FORMAT.into(),
            version: PLAN_VERSION,
            chunkwise: "test".into(),
            pipeline: "p.json".into(),
            pipeline_text: "{}".into(),
            memory_limit: 1,
            mem_per_job: 1,
            threads: 1,
            stencil_chains: "auto".into(),
            tasks_per_job: per_job,
            scratch: "s".into(),
            outputs: Vec::new(),
            stages: vec![PlannedStage {
                tasks,
                task_grids: vec![vec![tasks]],
                elements: tasks.div_ceil(per_job),
                task_bytes: 1,
                writes: Vec::new(),
            }],
        }
    }

    #[test]
    fn elements_cover_the_tasks_once_and_the_last_is_short() {
        let p = plan(10, 4);
        let ranges: Vec<_> = (0..3).map(|i| p.element_tasks(0, i).unwrap()).collect();
        assert_eq!(ranges, vec![0..4, 4..8, 8..10]);
        assert!(p
            .element_tasks(0, 3)
            .unwrap_err()
            .to_string()
            .contains("indices 0 to 2"));
        assert!(p
            .element_tasks(1, 0)
            .unwrap_err()
            .to_string()
            .contains("stage 1"));
    }

    #[test]
    fn another_version_or_file_is_refused_with_a_clear_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.json");
        let mut p = plan(3, 1);
        p.write(&path).unwrap();
        assert_eq!(PlanFile::read(dir.path()).unwrap().stages[0].tasks, 3);
        p.version = PLAN_VERSION + 1;
        p.write(&path).unwrap();
        let e = PlanFile::read(&path).unwrap_err().to_string();
        assert!(
            e.contains(&format!("plan format version {}", PLAN_VERSION + 1)),
            "{e}"
        );
        std::fs::write(&path, r#"{"inputs": {}}"#).unwrap();
        let e = PlanFile::read(&path).unwrap_err().to_string();
        assert!(e.contains("is not a chunkwise plan"), "{e}");
    }
}
