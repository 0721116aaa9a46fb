//! Turning a parsed pipeline into arrays and sinks: resolve names, open inputs, apply builders.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chunkwise_engine::{Array, Error, Registry, Result, Steps};
use chunkwise_store::{JsonSink, Overwrite};

use crate::api::{open, Pipeline};
use crate::pipeline::spec::PipelineSpec;

/// A pipeline file made ready to plan: its graph and outputs.
#[derive(Debug)]
pub struct LoadedPipeline {
    /// The parsed file.
    pub spec: PipelineSpec,
    /// Outputs bound to their arrays.
    pub pipeline: Pipeline,
    /// Every input and step by name (for `chunkwise stats --step`).
    pub arrays: HashMap<String, Array>,
}

/// How every output of a pipeline file is written, beside what the file says per output.
#[derive(Clone, Copy, Debug, Default)]
pub struct OutputSettings {
    /// What to do with outputs that exist.
    pub overwrite: Overwrite,
    /// Flush every chunk to the disk before going on
    /// ([`chunkwise_store::WriteOptions::durable`]); an output
    /// can also ask for it in the file.
    pub durable: bool,
}

/// Reads, parses and builds the pipeline at `path` with the built-in ops; relative array paths
/// are taken relative to the file's directory. Opens the inputs (metadata only) and validates
/// every step; writes nothing.
///
/// # Errors
/// [`Error::Invalid`] for unreadable files, unknown ops or names, bad parameters and mismatched
/// shapes; [`Error::MissingArray`] for inputs that cannot be opened.
pub fn load(path: &Path, outputs: &OutputSettings) -> Result<LoadedPipeline> {
    load_with(path, outputs, &chunkwise_ops::pipeline::builtin())
}

/// [`load`] with the ops of `registry` (the built-in ones and a program's own).
///
/// # Errors
/// As [`load`].
pub fn load_with(
    path: &Path,
    outputs: &OutputSettings,
    registry: &Registry,
) -> Result<LoadedPipeline> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::Invalid(format!("cannot read pipeline file {}: {e}", path.display()))
    })?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    load_text(&text, &base, outputs, registry)
}

/// [`load_with`] on the text of a pipeline file, its relative paths taken relative to `base`
/// (a distributed run's plan keeps the text it was made from, so every worker builds the same
/// pipeline even if the file is edited meanwhile).
///
/// # Errors
/// As [`load`].
pub fn load_text(
    text: &str,
    base: &Path,
    outputs: &OutputSettings,
    registry: &Registry,
) -> Result<LoadedPipeline> {
    let spec = PipelineSpec::parse(text)?;
    let (pipeline, arrays) = build(&spec, base, outputs, registry)?;
    Ok(LoadedPipeline {
        spec,
        pipeline,
        arrays,
    })
}

/// `p` taken relative to `base` unless absolute.
pub(crate) fn resolve(base: &Path, p: &str) -> PathBuf {
    let p = Path::new(p);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

fn build(
    spec: &PipelineSpec,
    base: &Path,
    settings: &OutputSettings,
    registry: &Registry,
) -> Result<(Pipeline, HashMap<String, Array>)> {
    // Every op name and parameter is checked before any input is opened.
    let prepared = spec
        .steps
        .iter()
        .map(|step| {
            registry
                .prepare(&step.op, step.params.clone())
                .map_err(|e| Error::Invalid(format!("step {:?}: {e}", step.id)))
        })
        .collect::<Result<Vec<_>>>()?;
    let mut names: HashMap<String, Array> = HashMap::new();
    for (name, p) in &spec.inputs {
        let array =
            open(resolve(base, p)).map_err(|e| Error::Invalid(format!("input {name:?}: {e}")))?;
        names.insert(name.clone(), array);
    }
    for (step, prepared) in spec.steps.iter().zip(prepared) {
        if names.contains_key(&step.id) {
            return Err(Error::Invalid(format!(
                "step {:?}: the name is already used by an input or an earlier step",
                step.id
            )));
        }
        let array = prepared
            .build(&Steps::new(&names))
            .map_err(|e| Error::Invalid(format!("step {:?}: {e}", step.id)))?;
        names.insert(step.id.clone(), array);
    }
    if spec.outputs.is_empty() {
        return Err(Error::Invalid("the pipeline has no outputs".into()));
    }
    let mut pipeline = Pipeline::new();
    for out in &spec.outputs {
        let array = Steps::new(&names)
            .array(&out.from)
            .map_err(|e| Error::Invalid(format!("output {:?}: {e}", out.path)))?;
        if out.path.ends_with(".json") {
            // A small result (a full reduction, a histogram) as a JSON document.
            let sink = JsonSink::new(
                resolve(base, &out.path),
                array.meta().clone(),
                settings.overwrite,
            )
            .map_err(|e| Error::Invalid(format!("output {:?}: {e}", out.path)))?;
            pipeline.write_to(&array, Arc::new(sink));
            continue;
        }
        let mut options = out.options.clone();
        options.overwrite = settings.overwrite;
        options.durable |= settings.durable;
        pipeline
            .write_zarr(&array, resolve(base, &out.path), &options)
            .map_err(|e| Error::Invalid(format!("output {:?}: {e}", out.path)))?;
    }
    Ok((pipeline, names))
}
