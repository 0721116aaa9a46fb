//! Outputs written in other chunks than their expression's go through the rechunk planner
//! ([`crate::rechunk`]), as the `rechunk` op does: one planner for both. A stage writing such an
//! output reads, per write unit, whatever its expression needs; when the unit cuts the input's
//! chunks across (slabs written as blocks), each task decodes many input chunks for a thin part
//! of each, or the chunk cache must hold a whole band of them. When [`plan_rechunk`] finds that a
//! direct rewrite would not fit or would decode too much, the output's expression is replaced by
//! [`rechunk`] of it: an intermediate chunking, kept for the stage that writes the output.
//! Otherwise the output is left as it is (a direct rewrite is what its stage does already).

use crate::error::Result;
use crate::plan::Output;
use crate::rechunk::{plan_rechunk, rechunk};

/// `outputs`, each whose sink's write units are not its expression's chunks and whose rewrite
/// into them needs an intermediate under `memory_limit` bytes routed through [`rechunk`]. Plans
/// do this themselves; a run split over processes does it first, so that the intermediate is
/// one of the arrays it hands between stages through storage.
///
/// # Errors
/// [`crate::Error::Invalid`] from [`rechunk`] (a write grid with other axes than the array).
pub fn rechunk_outputs(outputs: Vec<Output>, memory_limit: u64) -> Result<Vec<Output>> {
    outputs
        .into_iter()
        .map(|o| {
            let to = o.sink.write_grid().chunk_shape().to_vec();
            let meta = o.array.meta();
            if to.len() != meta.chunks.len() || to == meta.chunks {
                return Ok(o);
            }
            if plan_rechunk(meta, &to, memory_limit).intermediate.is_none() {
                return Ok(o);
            }
            Ok(Output {
                array: rechunk(&o.array, &to, memory_limit)?,
                sink: o.sink,
            })
        })
        .collect()
}
