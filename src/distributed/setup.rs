//! Building a distributed run's stages from a pipeline's text: the same in the submitting
//! process and in every worker, with the outputs' run identities checked against the plan's.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chunkwise_engine::identity;
use chunkwise_engine::plan::StencilChains;
use chunkwise_engine::store::Sink;
use chunkwise_engine::{ExecOptions, Output, Plan, Registry, Result, Steps};
use chunkwise_store::{Overwrite, WriteOptions};

use super::error::DistributedError;
use super::plan_file::{PlanFile, PlannedOutput};
use super::split::{split, Scratch, SplitStage, Wrap};
use crate::api::zarr_sink;
use crate::pipeline::{load_text, resolve, OutputSettings};

/// The folder of a distributed run: the plan, the journals, the element records, the logs.
#[derive(Clone, Debug)]
pub struct RunDir(pub PathBuf);

impl RunDir {
    /// The run folder of the plan file at `plan` (or `plan` itself when it is the folder).
    pub fn of_plan(plan: &Path) -> RunDir {
        let file = super::plan_file::plan_path(plan);
        RunDir(file.parent().map(Path::to_path_buf).unwrap_or_default())
    }

    /// The plan file.
    pub fn plan(&self) -> PathBuf {
        self.0.join("plan.json")
    }

    /// The journal folder of the array `key` (`output0`, `scratch1`).
    pub fn journal(&self, key: &str) -> PathBuf {
        self.0.join("journal").join(key)
    }

    /// Where array elements of `stage` record how they ended (`<index>.ok`, `<index>.failed`).
    pub fn elements(&self, stage: usize) -> PathBuf {
        self.0.join("elements").join(format!("stage{stage}"))
    }

    /// The scheduler's logs and scripts.
    pub fn slurm(&self) -> PathBuf {
        self.0.join("slurm")
    }

    /// Present once `finalize` wrote the outputs' metadata.
    pub fn finalized(&self) -> PathBuf {
        self.0.join("finalized")
    }
}

/// A pipeline's Zarr outputs with their run identities, built from its text.
///
/// # Errors
/// Pipeline errors; [`DistributedError::Unsupported`] for JSON outputs.
pub fn outputs_of(
    text: &str,
    pipeline: &Path,
    registry: &Registry,
) -> Result<(Vec<Output>, Vec<PlannedOutput>)> {
    let base = pipeline.parent().map(Path::to_path_buf).unwrap_or_default();
    let settings = OutputSettings {
        overwrite: Overwrite::Replace,
        durable: false,
    };
    let loaded = load_text(text, &base, &settings, registry)?;
    let mut outputs = Vec::new();
    let mut planned = Vec::new();
    for out in &loaded.spec.outputs {
        if out.path.ends_with(".json") {
            return Err(DistributedError::Unsupported(format!(
                "output {:?} is a JSON result; submit writes Zarr outputs only: run this \
                 pipeline with chunkwise run",
                out.path
            ))
            .into());
        }
        let array = Steps::new(&loaded.arrays).array(&out.from)?;
        let path = resolve(&base, &out.path);
        let options = WriteOptions {
            overwrite: Overwrite::Replace,
            ..out.options.clone()
        };
        let sink = zarr_sink(&array, &path, &options)?;
        let id = sink.run_identity();
        planned.push(PlannedOutput {
            path,
            identity_sha256: identity::hash(&id),
            identity: id,
        });
        outputs.push(Output {
            array,
            sink: Arc::new(sink),
        });
    }
    Ok((outputs, planned))
}

/// The run's settings as a worker applies them: `base` (cancellation, buffer pool) with the
/// plan's memory limit, threads and stencil-chain choice.
pub fn exec_options(plan: &PlanFile, base: &ExecOptions) -> Result<ExecOptions> {
    Ok(ExecOptions {
        memory_limit: plan.memory_limit,
        threads: plan.threads,
        stencil_chains: chains(&plan.stencil_chains)?,
        ..base.clone()
    })
}

/// `--stencil-chains` by name.
pub fn chains(name: &str) -> Result<StencilChains> {
    Ok(match name {
        "auto" => StencilChains::Auto,
        "recompute" => StencilChains::Recompute,
        "materialize" => StencilChains::Materialize,
        other => {
            return Err(DistributedError::Settings(format!(
                "unknown stencil-chains setting {other:?}; use auto, recompute or materialize"
            ))
            .into())
        }
    })
}

/// The planned pipeline rebuilt from the plan's text, its identities checked: a worker refuses
/// a plan whose inputs, ops or output settings changed since it was made.
///
/// # Errors
/// [`DistributedError::IdentityChanged`] naming the first difference; pipeline errors.
pub fn checked_outputs(plan: &PlanFile, path: &Path, registry: &Registry) -> Result<Vec<Output>> {
    let (outputs, now) = outputs_of(&plan.pipeline_text, &plan.pipeline, registry)?;
    if now.len() != plan.outputs.len() {
        return Err(DistributedError::IdentityChanged {
            path: path.to_path_buf(),
            output: "(all)".into(),
            why: format!(
                "the plan has {} outputs, the pipeline {}",
                plan.outputs.len(),
                now.len()
            ),
        }
        .into());
    }
    for (was, now) in plan.outputs.iter().zip(&now) {
        if was.identity_sha256 != now.identity_sha256 || was.path != now.path {
            let why = identity::difference(&was.identity, &now.identity)
                .unwrap_or_else(|| "its run identity differs".into());
            return Err(DistributedError::IdentityChanged {
                path: path.to_path_buf(),
                output: was.path.display().to_string(),
                why,
            }
            .into());
        }
    }
    Ok(outputs)
}

/// `outputs` split into stages with the plan's settings (see [`split`]).
///
/// # Errors
/// As [`split`].
pub fn stages_of(
    outputs: &[Output],
    plan: &PlanFile,
    scratch: Scratch,
    wrap: Wrap<'_>,
) -> Result<Vec<SplitStage>> {
    split(
        outputs,
        chains(&plan.stencil_chains)?,
        plan.memory_limit,
        &plan.scratch,
        scratch,
        wrap,
    )
}

/// The engine plan of one split stage, which must need nothing from other tasks in memory.
///
/// # Errors
/// Planning errors ([`chunkwise_engine::Error::MemoryLimit`] when a task does not fit);
/// [`DistributedError::Unsupported`] when the stage still passes results between its tasks
/// (reductions combine partial results in memory).
pub fn stage_plan(stage: &SplitStage, options: &ExecOptions) -> Result<Plan> {
    let plan = Plan::build(stage.outputs.clone(), options)?;
    if !plan.deps.upstream.is_empty() {
        return Err(DistributedError::Unsupported(
            "this pipeline passes results between tasks in memory in a way submit cannot split \
             (a reduction's combine tree); run it with chunkwise run"
                .into(),
        )
        .into());
    }
    Ok(plan)
}

/// Leaves every sink as it is (planning and finalizing need no journals).
pub fn unwrapped(_: usize, sink: Arc<dyn Sink>, _: String) -> Result<Arc<dyn Sink>> {
    Ok(sink)
}
