//! A crate's own operation through the engine's extension point, the `Op` trait: `reverse`
//! flips an array along one axis (chunkwise has `flip` built in, as `x.flip(...)` and the
//! pipeline op `flip`; this one shows how such an op is written). It is a region op: output
//! region R needs the mirrored region of the input, which its chunk mapping (`input_regions`)
//! says; the planner derives the reads, the tasks and their memory from that, as for any
//! built-in op. Then the op is registered for pipeline files.
//!
//! `cargo run --example custom_op`

use std::sync::Arc;

use chunkwise::engine::geometry::extract_region;
use chunkwise::engine::{dispatch, Op, OpKind, RegionData};
use chunkwise::pipeline::{builtin, Steps};
use chunkwise::prelude::*;
use chunkwise::{ArrayMeta, Buffer, Element, Error, Region, Result};
use ndarray::{ArrayD, Axis, IxDyn};
use serde::{Deserialize, Serialize};

/// Reverses the array along `axis`. Its fields are its parameters: serialized, they are its
/// identity in a resumable run.
#[derive(Debug, Serialize)]
struct Flip {
    axis: usize,
}

impl Flip {
    /// Checks the axis against the input now, so a mistake is an error before any data is read.
    fn apply(x: &Array, axis: usize) -> Result<Array> {
        Array::apply(Arc::new(Flip { axis }), vec![x.clone()])
    }
}

impl Op for Flip {
    fn name(&self) -> &str {
        "reverse"
    }

    fn describe(&self) -> String {
        format!("axis={}", self.axis)
    }

    fn kind(&self) -> OpKind {
        OpKind::Region
    }

    fn output_meta(&self, inputs: &[ArrayMeta]) -> Result<ArrayMeta> {
        match inputs {
            [m] if self.axis < m.shape.len() => Ok(m.clone()),
            [m] => Err(Error::Invalid(format!(
                "reverse: axis {} is out of range for a {}-d array",
                self.axis,
                m.shape.len()
            ))),
            _ => Err(Error::Invalid("reverse takes one array".into())),
        }
    }

    /// The chunk mapping: `[s, s + n)` along the axis reads `[len - s - n, len - s)`.
    fn input_regions(&self, output: &Region, inputs: &[ArrayMeta]) -> Vec<Region> {
        let len = inputs[0].shape[self.axis];
        let mut start = output.start.clone();
        start[self.axis] = len - output.start[self.axis] - output.shape[self.axis];
        vec![Region::new(start, output.shape.clone())]
    }

    fn compute_region(&self, inputs: &[RegionData<'_>], output: &Region) -> Result<Buffer> {
        let [input] = inputs else {
            return Err(Error::Invalid("internal: reverse takes one input".into()));
        };
        // The data may cover more than asked (a read shared with other ops): take the box.
        let asked = extract_region(input.data, input.region, input.asked);
        let shape: Vec<usize> = output.shape.iter().map(|&n| n as usize).collect();
        dispatch!(Buffer, asked, v => flipped(v, &shape, self.axis))
    }
}

/// `values` (C order over `shape`) reversed along `axis`.
fn flipped<T: Element>(values: Vec<T>, shape: &[usize], axis: usize) -> Result<Buffer> {
    let mut a = ArrayD::from_shape_vec(IxDyn(shape), values)
        .map_err(|e| Error::Invalid(format!("internal: reverse: {e}")))?;
    a.invert_axis(Axis(axis));
    Ok(T::into_buffer(a.iter().copied().collect()))
}

/// The parameters of a `reverse` step in a pipeline file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FlipStep {
    x: String,
    axis: usize,
}

/// Flips an array through the API, then through a pipeline file.
pub fn main() -> Result<()> {
    let exec = ExecOptions::default();
    let data = ArrayD::from_shape_vec(IxDyn(&[5, 7]), (0..35u16).collect())
        .map_err(|e| Error::Invalid(e.to_string()))?;
    let x = from_ndarray(data.clone(), &[2, 3])?;

    // Through the API: it fuses with element-wise ops around it like any region op.
    let y = Flip::apply(&x.add(1)?, 1)?.mul(2)?;
    println!("{}", y.explain(&exec)?);
    let mut want = data.mapv(|v| (v + 1) * 2);
    want.invert_axis(Axis(1));
    assert_eq!(y.compute::<u16>(&exec)?, want);

    // In pipeline files: register it beside the built-in ops.
    let mut ops = builtin();
    ops.register("reverse", |p: FlipStep, steps: &Steps<'_>| {
        Flip::apply(&steps.array(&p.x)?, p.axis)
    });
    let dir = std::env::temp_dir().join("chunkwise-custom-op");
    let replace = WriteOptions {
        overwrite: Overwrite::Replace,
        ..WriteOptions::default()
    };
    x.to_zarr(dir.join("in.zarr"), &replace, &exec)?;
    let pipeline = serde_json::json!({
        "inputs": {"x": "in.zarr"},
        "steps": [{"id": "f", "op": "reverse", "x": "x", "axis": 0}],
        "outputs": [{"from": "f", "path": "flipped.zarr"}]
    });
    let file = dir.join("flip.json");
    std::fs::write(&file, pipeline.to_string()).map_err(|e| Error::Invalid(e.to_string()))?;
    let settings = chunkwise::pipeline::OutputSettings {
        overwrite: Overwrite::Replace,
        ..Default::default()
    };
    chunkwise::pipeline::load_with(&file, &settings, &ops)?
        .pipeline
        .run(&exec)?;
    let mut want = data;
    want.invert_axis(Axis(0));
    assert_eq!(open(dir.join("flipped.zarr"))?.compute::<u16>(&exec)?, want);
    println!("reverse works through the API and in pipeline files");
    Ok(())
}
