//! Turning a parsed pipeline into arrays and sinks: resolve names, open inputs, apply builders.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chunkwise_engine::store::Overwrite;
use chunkwise_engine::{Array, Error, Result};
use chunkwise_ops::elementwise::{self as ew, Arith, Operand, UnaryFn};
use chunkwise_ops::ResampleExt;

use crate::api::{open, Pipeline};
use crate::pipeline::spec::{OpSpec, OperandSpec, PipelineSpec};

/// A pipeline file made ready to plan: its graph and outputs.
#[derive(Debug)]
pub struct LoadedPipeline {
    /// The parsed file.
    pub spec: PipelineSpec,
    /// Outputs bound to their arrays.
    pub pipeline: Pipeline,
}

/// How every output of a pipeline file is written, beside what the file says per output.
#[derive(Clone, Copy, Debug, Default)]
pub struct OutputSettings {
    /// What to do with outputs that exist.
    pub overwrite: Overwrite,
    /// Flush every chunk to the disk before going on
    /// ([`chunkwise_engine::store::WriteOptions::durable`]); an output
    /// can also ask for it in the file.
    pub durable: bool,
}

/// Reads, parses and builds the pipeline at `path`; relative array paths are taken relative to
/// the file's directory. Opens the inputs (metadata only) and validates every step; writes nothing.
///
/// # Errors
/// [`Error::Invalid`] for unreadable files, unknown ops or names, bad parameters and mismatched
/// shapes; [`Error::MissingArray`] for inputs that cannot be opened.
pub fn load(path: &Path, outputs: &OutputSettings) -> Result<LoadedPipeline> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::Invalid(format!("cannot read pipeline file {}: {e}", path.display()))
    })?;
    let spec = PipelineSpec::parse(&text)?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let pipeline = build(&spec, &base, outputs)?;
    Ok(LoadedPipeline { spec, pipeline })
}

fn resolve(base: &Path, p: &str) -> PathBuf {
    let p = Path::new(p);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

fn build(spec: &PipelineSpec, base: &Path, settings: &OutputSettings) -> Result<Pipeline> {
    let mut names: HashMap<String, Array> = HashMap::new();
    for (name, p) in &spec.inputs {
        let array =
            open(resolve(base, p)).map_err(|e| Error::Invalid(format!("input {name:?}: {e}")))?;
        names.insert(name.clone(), array);
    }
    for step in &spec.steps {
        if names.contains_key(&step.id) {
            return Err(Error::Invalid(format!(
                "step {:?}: the name is already used by an input or an earlier step",
                step.id
            )));
        }
        let array = apply(&step.op, &names)
            .map_err(|e| Error::Invalid(format!("step {:?}: {e}", step.id)))?;
        names.insert(step.id.clone(), array);
    }
    if spec.outputs.is_empty() {
        return Err(Error::Invalid("the pipeline has no outputs".into()));
    }
    let mut pipeline = Pipeline::new();
    for out in &spec.outputs {
        let array = lookup(&names, &out.from)
            .map_err(|e| Error::Invalid(format!("output {:?}: {e}", out.path)))?;
        let mut options = out.options.clone();
        options.overwrite = settings.overwrite;
        options.durable |= settings.durable;
        pipeline
            .write_zarr(&array, resolve(base, &out.path), &options)
            .map_err(|e| Error::Invalid(format!("output {:?}: {e}", out.path)))?;
    }
    Ok(pipeline)
}

fn lookup(names: &HashMap<String, Array>, name: &str) -> Result<Array> {
    names.get(name).cloned().ok_or_else(|| {
        let mut known: Vec<&str> = names.keys().map(String::as_str).collect();
        known.sort_unstable();
        Error::Invalid(format!(
            "unknown name {name:?}; defined so far: {}",
            known.join(", ")
        ))
    })
}

fn operand(names: &HashMap<String, Array>, o: &OperandSpec) -> Result<Operand> {
    Ok(match o {
        OperandSpec::Ref(name) => Operand::Array(lookup(names, name)?),
        OperandSpec::Value(v) => Operand::Scalar(*v),
    })
}

fn apply(op: &OpSpec, names: &HashMap<String, Array>) -> Result<Array> {
    let get = |n: &str| lookup(names, n);
    let arith = |a: Arith, x: &OperandSpec, y: &OperandSpec| {
        ew::binary(a, operand(names, x)?, operand(names, y)?)
    };
    match op {
        OpSpec::Astype { x, dtype } => ew::astype(&get(x)?, *dtype),
        OpSpec::Clip { x, min, max } => ew::clip(&get(x)?, *min, *max),
        OpSpec::Threshold { x, value } => ew::threshold(&get(x)?, *value),
        OpSpec::Add { x, y } => arith(Arith::Add, x, y),
        OpSpec::Sub { x, y } => arith(Arith::Sub, x, y),
        OpSpec::Mul { x, y } => arith(Arith::Mul, x, y),
        OpSpec::Div { x, y } => arith(Arith::Div, x, y),
        OpSpec::Minimum { x, y } => arith(Arith::Minimum, x, y),
        OpSpec::Maximum { x, y } => arith(Arith::Maximum, x, y),
        OpSpec::Abs { x } => ew::unary(UnaryFn::Abs, &get(x)?),
        OpSpec::Sqrt { x } => ew::unary(UnaryFn::Sqrt, &get(x)?),
        OpSpec::Exp { x } => ew::unary(UnaryFn::Exp, &get(x)?),
        OpSpec::Log { x } => ew::unary(UnaryFn::Log, &get(x)?),
        OpSpec::Downsample { x, factors, method } => get(x)?.downsample(factors, *method),
        OpSpec::Upsample { x, factors, method } => get(x)?.upsample(factors, *method),
        OpSpec::Where { mask, a, b } => {
            ew::where_(&get(mask)?, operand(names, a)?, operand(names, b)?)
        }
        stencil => crate::pipeline::stencil::apply(stencil, &get),
    }
}
