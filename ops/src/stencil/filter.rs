//! The stencil operation: what every stencil shares (the boundary, the output type, the extended
//! window each task gathers, the chunk mapping) around a [`Kernel`] that computes on the
//! extended block.

use std::fmt::Debug;

use chunkwise_engine::{ArrayMeta, Buffer, DType, Error, Op, OpKind, Region, RegionData, Result};
use serde::Serialize;
use serde_json::Value;

use crate::stencil::boundary::BoundaryMode;
use crate::stencil::sample::Sample;
use crate::stencil::window::{bounding, gather, pieces, windows, AxisWindow, Halo};

/// How positions beyond the array edge read.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Boundary {
    pub mode: BoundaryMode,
    /// Written as text when non-finite, so the run's identity tells NaN from a missing value.
    #[serde(serialize_with = "chunkwise_engine::nonfinite::serialize")]
    pub cval: f64,
    /// Shape of the whole input.
    pub input_shape: Vec<u64>,
}

/// The extended block a task works on: its output region plus the kernel's halo, C order.
#[derive(Clone)]
pub(crate) struct Extended<F> {
    pub data: Vec<F>,
    pub shape: Vec<usize>,
    /// Array index of the block's first position on each axis (negative inside a halo).
    pub start: Vec<i64>,
}

/// The computation of a stencil on an extended block.
///
/// A kernel is `Serialize`: every number it computes with (the taps a sigma gave, a footprint,
/// the origins) enters the run's identity, beside the parameters as the user gave them.
pub(crate) trait Kernel: Debug + Send + Sync + Serialize + 'static {
    /// Positions needed before and after the output on each of `ndim` axes.
    fn halo(&self, ndim: usize) -> Halo;

    /// The output region's values from its extended block.
    fn run<F: Sample>(&self, block: Extended<F>, output: &Region, boundary: &Boundary) -> Vec<F>;

    /// Blocks of the extended size the kernel holds at its peak, for the memory model.
    fn scratch_blocks(&self) -> u64;
}

/// A stencil operation (scipy.ndimage semantics): built by the functions in
/// [`crate::stencil`], which validate the parameters.
///
/// Serialized (the run's identity) as the user's parameters, then the boundary and output type,
/// then the kernel: in that order, so a changed parameter is named as the user wrote it before
/// the kernel numbers it changed.
#[derive(Debug, Serialize)]
pub(crate) struct Stencil<K> {
    #[serde(skip)]
    pub(crate) name: &'static str,
    /// The parameters as the user gave them (a JSON object), for `describe` and the identity.
    #[serde(flatten)]
    pub(crate) params: Value,
    #[serde(flatten)]
    pub(crate) boundary: Boundary,
    pub(crate) output: DType,
    pub(crate) kernel: K,
}

/// A parameter for `explain()`: short values as they are, long ones (a kernel's weights) by
/// their count.
fn brief(value: &Value) -> String {
    let text = value.to_string();
    match value {
        Value::Array(items) if text.len() > 40 => format!("<{} values>", count_leaves(items)),
        _ => text,
    }
}

fn count_leaves(items: &[Value]) -> usize {
    items
        .iter()
        .map(|v| match v {
            Value::Array(inner) => count_leaves(inner),
            _ => 1,
        })
        .sum()
}

impl<K: Kernel> Stencil<K> {
    fn windows(&self, output: &Region) -> Vec<AxisWindow> {
        let b = &self.boundary;
        windows(
            output,
            &self.kernel.halo(self.boundary.input_shape.len()),
            &b.input_shape,
            b.mode,
        )
    }

    fn run<F: Sample>(&self, inputs: &[RegionData<'_>], output: &Region) -> Result<Vec<F>> {
        let wins = self.windows(output);
        let halo = self.kernel.halo(self.boundary.input_shape.len());
        let block = Extended {
            data: gather::<F>(inputs, &wins, self.boundary.cval)?,
            shape: wins.iter().map(|w| w.map.len()).collect(),
            start: (0..output.ndim())
                .map(|d| output.start[d] as i64 - halo.before[d] as i64)
                .collect(),
        };
        Ok(self.kernel.run(block, output, &self.boundary))
    }
}

impl<K: Kernel> Op for Stencil<K> {
    fn name(&self) -> &'static str {
        self.name
    }

    fn describe(&self) -> String {
        let mode = self.boundary.mode;
        let mut parts: Vec<String> = self
            .params
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| format!("{k}={}", brief(v)))
            .collect();
        parts.push(format!("mode={}", mode.name()));
        if mode == BoundaryMode::Constant {
            parts.push(format!("cval={}", self.boundary.cval));
        }
        parts.push(format!("output={}", self.output));
        parts.join(", ")
    }

    fn kind(&self) -> OpKind {
        OpKind::Region
    }

    fn output_meta(&self, inputs: &[ArrayMeta]) -> Result<ArrayMeta> {
        let [input] = inputs else {
            return Err(Error::Invalid(format!("{} takes one input", self.name)));
        };
        if input.shape != self.boundary.input_shape {
            return Err(Error::Invalid(format!(
                "internal: {} was built for shape {:?}, given {:?}",
                self.name, self.boundary.input_shape, input.shape
            )));
        }
        ArrayMeta::new(input.shape.clone(), input.chunks.clone(), self.output)
    }

    fn input_regions(&self, output: &Region, _inputs: &[ArrayMeta]) -> Vec<Region> {
        vec![bounding(&self.windows(output))]
    }

    fn input_pieces(&self, output: &Region, _inputs: &[ArrayMeta]) -> Vec<Vec<Region>> {
        vec![pieces(&self.windows(output))]
    }

    fn scratch_bytes(&self, output: &Region) -> u64 {
        let halo = self.kernel.halo(self.boundary.input_shape.len());
        let extended: u64 = (0..output.ndim())
            .map(|d| output.shape[d] + (halo.before[d] + halo.after[d]) as u64)
            .product();
        self.kernel.scratch_blocks() * extended * self.output.size() as u64
    }

    fn compute_region(&self, inputs: &[RegionData<'_>], output: &Region) -> Result<Buffer> {
        Ok(match self.output {
            DType::Float64 => Buffer::Float64(self.run::<f64>(inputs, output)?),
            _ => Buffer::Float32(self.run::<f32>(inputs, output)?),
        })
    }
}
