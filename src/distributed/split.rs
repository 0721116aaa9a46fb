//! Cutting a pipeline into stages that share nothing in memory.
//!
//! A local run keeps some results in memory for later stages (pyramid levels, materialized
//! stencil chains; spilled to a local folder under pressure). Processes on different nodes
//! cannot share those, so each such array ([`chunkwise_engine::plan::materialized`], the same
//! choice the local planner makes) is computed in a stage of its own and written to a scratch
//! Zarr array on the shared filesystem, as Cubed does; later stages read it back as an input.
//! The scratch arrays are lossless (zstd), so every later stage reads exactly the values a
//! local run would have held, and the outputs come out bit for bit the same.
//!
//! The split is deterministic: the submitting process and every worker cut the same pipeline
//! the same way, so a stage number and a task index mean the same thing everywhere.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chunkwise_engine::plan::{materialized, rechunk_outputs, StencilChains};
use chunkwise_engine::store::Sink;
use chunkwise_engine::{Array, NodeKind, Output, Result};
use chunkwise_store::{open_zarr, Codec, Overwrite, WriteOptions, ZarrSink};

/// One stage of a split pipeline: outputs written by tasks that need nothing from each other.
#[derive(Debug)]
pub struct SplitStage {
    /// What the stage writes (final outputs and the scratch array, if any).
    pub outputs: Vec<Output>,
    /// The scratch array this stage writes for later stages, if any.
    pub scratch: Option<PathBuf>,
}

/// Whether the scratch arrays are made now (when planning: their metadata is written so later
/// stages can open them) or opened as they are (in a worker).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scratch {
    /// Replace whatever is there with empty arrays.
    Create,
    /// Open the arrays made when the run was planned.
    Open,
}

/// A hook that sees every sink before it goes into a stage, with the stage number and a key
/// naming the array in the run folder (`output0`, `scratch1`): a worker wraps its stage's sinks
/// to journal what it stores.
pub type Wrap<'a> = &'a dyn Fn(usize, Arc<dyn Sink>, String) -> Result<Arc<dyn Sink>>;

/// Splits `outputs` into stages, the arrays kept between stages written under `scratch_dir`
/// (`0.zarr`, `1.zarr`, ...), every sink passed through `wrap`; an output written in other
/// chunks than its expression's is first planned as a local run plans it under `memory_limit`
/// ([`rechunk_outputs`]), its intermediate chunking one of the arrays kept between stages.
///
/// # Errors
/// Store errors creating or opening the scratch arrays; invalid expressions when rebuilding
/// over them (not expected: the shapes and types are the original ones).
pub fn split(
    outputs: &[Output],
    chains: StencilChains,
    memory_limit: u64,
    scratch_dir: &Path,
    scratch: Scratch,
    wrap: Wrap<'_>,
) -> Result<Vec<SplitStage>> {
    let outputs = &rechunk_outputs(outputs.to_vec(), memory_limit)?;
    let kept = materialized(outputs, chains);
    let mut replaced: HashMap<u64, Array> = HashMap::new();
    let mut stages = Vec::new();
    let mut claimed = vec![false; outputs.len()];
    for (k, node) in kept.iter().enumerate() {
        let mut memo = HashMap::new();
        let array = rebuild(node, &replaced, &mut memo)?;
        let path = scratch_dir.join(format!("{k}.zarr"));
        let sink = scratch_sink(&array, &path)?;
        if scratch == Scratch::Create {
            let _ = std::fs::remove_dir_all(&path);
            sink.finish()?;
        }
        let mut stage_outputs = vec![Output {
            array: array.clone(),
            sink: wrap(k, Arc::new(sink), format!("scratch{k}"))?,
        }];
        for (i, o) in outputs.iter().enumerate() {
            if o.array.id() == node.id() {
                claimed[i] = true;
                stage_outputs.push(Output {
                    array: array.clone(),
                    sink: wrap(k, o.sink.clone(), format!("output{i}"))?,
                });
            }
        }
        stages.push(SplitStage {
            outputs: stage_outputs,
            scratch: Some(path.clone()),
        });
        replaced.insert(node.id(), Array::from_source(Arc::new(open_zarr(&path)?)));
    }
    let mut memo = HashMap::new();
    let mut rest = Vec::new();
    for (i, o) in outputs.iter().enumerate().filter(|(i, _)| !claimed[*i]) {
        rest.push(Output {
            array: rebuild(&o.array, &replaced, &mut memo)?,
            sink: wrap(kept.len(), o.sink.clone(), format!("output{i}"))?,
        });
    }
    if !rest.is_empty() {
        stages.push(SplitStage {
            outputs: rest,
            scratch: None,
        });
    }
    Ok(stages)
}

/// A lossless array holding `array`'s values for later stages.
fn scratch_sink(array: &Array, path: &Path) -> Result<ZarrSink> {
    let options = WriteOptions {
        codec: Codec::Zstd { level: 1 },
        overwrite: Overwrite::Replace,
        ..WriteOptions::default()
    };
    ZarrSink::new(
        path,
        array.shape().to_vec(),
        array.meta().chunks.clone(),
        array.dtype(),
        &options,
    )
}

/// `array` with every node in `replaced` swapped for its stored copy (shared sub-expressions
/// stay shared through `memo`).
fn rebuild(
    array: &Array,
    replaced: &HashMap<u64, Array>,
    memo: &mut HashMap<u64, Array>,
) -> Result<Array> {
    if let Some(stored) = replaced.get(&array.id()) {
        return Ok(stored.clone());
    }
    if let Some(done) = memo.get(&array.id()) {
        return Ok(done.clone());
    }
    let rebuilt = match array.node() {
        NodeKind::Source(_) => array.clone(),
        NodeKind::Op { op, inputs } => {
            let inputs = inputs
                .iter()
                .map(|i| rebuild(i, replaced, memo))
                .collect::<Result<Vec<_>>>()?;
            Array::apply(op.clone(), inputs)?
        }
    };
    memo.insert(array.id(), rebuilt.clone());
    Ok(rebuilt)
}
