//! The [`Op`] trait: what an operation tells the planner, and the kernel it runs.

use std::fmt::Debug;

use crate::buffer::{Slice, SliceMut};
use crate::error::Result;
use crate::geometry::Region;
use crate::meta::ArrayMeta;

/// How an operation's output chunks relate to its inputs; drives fusion and planning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpKind {
    /// Output element `i` depends only on element `i` of each input: output region R needs exactly
    /// region R of every input. Chains of these fuse into one pass over the data.
    ElementWise,
}

/// An operation in the expression graph.
///
/// Implementations live in `chunkwise-ops`; the engine only relies on this interface.
pub trait Op: Send + Sync + Debug {
    /// Short name, as written in pipeline files (`"clip"`).
    fn name(&self) -> &'static str;

    /// The parameters, for `explain()` and DOT labels (`"min=0, max=65535"`).
    fn describe(&self) -> String;

    /// How output chunks map to input regions.
    fn kind(&self) -> OpKind;

    /// Output shape, chunking and type for inputs of `inputs`; all validation of shapes and types
    /// happens here, before any data is read.
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] naming the mismatch.
    fn output_meta(&self, inputs: &[ArrayMeta]) -> Result<ArrayMeta>;

    /// THE chunk mapping: the region of each input that output region `output` needs (one region
    /// per input, in input order).
    fn input_regions(&self, output: &Region, inputs: &[ArrayMeta]) -> Vec<Region> {
        vec![output.clone(); inputs.len()]
    }

    /// Extra bytes the kernel allocates for an output region, for the projected-memory model.
    fn scratch_bytes(&self, _output: &Region) -> u64 {
        0
    }

    /// Element-wise kernel over one block: `inputs` and `out` have the same length, and the types
    /// `output_meta` promised.
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] when handed types it was not planned for (a planner bug, reported
    /// rather than panicking).
    fn eval_block(&self, inputs: &[Slice<'_>], out: SliceMut<'_>) -> Result<()>;
}
