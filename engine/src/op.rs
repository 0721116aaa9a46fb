//! The [`Op`] trait: what an operation tells the planner, and the kernel it runs. It is the
//! extension point: every built-in op implements it, and so can a crate of its own ops (the
//! user functions `map_blocks`, `map_overlap` and `map_regions` of `chunkwise-ops` are ops
//! whose kernels are closures, for code that needs no type of its own).
//!
//! # Implementing an op
//!
//! An op is a plain struct: its parameters are its fields, derived `Serialize` makes them its
//! identity in resumable runs ([`OpParams`]), and it is applied with [`crate::Array::apply`].
//! What each method must guarantee:
//!
//! - [`Op::output_meta`] validates everything about the inputs (count, shapes, types) and says
//!   what the output is. It is called when the op is applied, so every mistake is an error
//!   before any data is read; the kernels may then trust their inputs.
//! - [`Op::kind`] and the chunk mapping: an [`OpKind::ElementWise`] op needs region R of every
//!   input for output region R (fused into one pass with its neighbours); an
//!   [`OpKind::Region`] op says which region of each input an output region needs
//!   ([`Op::input_regions`], or several boxes per input with [`Op::input_pieces`]). The mapping
//!   must be a pure function of the output region: the planner calls it to cost tasks and the
//!   executor again to read.
//! - The kernel ([`Op::eval_block`] or [`Op::compute_region`]) may be called on any region —
//!   a chunk, a block of chunks, a chunk grown by a consumer's halo, a run of a few thousand
//!   elements for element-wise ops — from several threads at once, and must give results
//!   that do not depend on where the region's edges fall. It returns errors, never panics on
//!   data (a panic is caught and reported, but stops the run).
//! - [`Op::scratch_bytes`] counts what the kernel allocates beyond its inputs and output, so
//!   the memory limit holds.
//!
//! A complete element-wise op, `max - x` on uint16 arrays, applied and computed:
//!
//! ```
//! use std::sync::Arc;
//!
//! use chunkwise_engine::store::{MemorySink, MemorySource};
//! use chunkwise_engine::{
//!     execute, Array, ArrayMeta, Buffer, DType, Error, ExecOptions, Op, OpKind, Output, Plan,
//!     Result, Slice, SliceMut,
//! };
//!
//! /// `max - x`, saturating at 0.
//! #[derive(Debug, serde::Serialize)]
//! struct Invert {
//!     max: u16,
//! }
//!
//! impl Op for Invert {
//!     fn name(&self) -> &str {
//!         "invert"
//!     }
//!     fn describe(&self) -> String {
//!         format!("max={}", self.max)
//!     }
//!     fn kind(&self) -> OpKind {
//!         OpKind::ElementWise
//!     }
//!     fn output_meta(&self, inputs: &[ArrayMeta]) -> Result<ArrayMeta> {
//!         match inputs {
//!             [m] if m.dtype == DType::Uint16 => Ok(m.clone()),
//!             _ => Err(Error::Invalid("invert takes one uint16 array".into())),
//!         }
//!     }
//!     fn eval_block(&self, inputs: &[Slice<'_>], out: SliceMut<'_>) -> Result<()> {
//!         match (inputs, out) {
//!             ([Slice::Uint16(x)], SliceMut::Uint16(o)) => {
//!                 for (o, &x) in o.iter_mut().zip(*x) {
//!                     *o = self.max.saturating_sub(x);
//!                 }
//!                 Ok(())
//!             }
//!             _ => Err(Error::Invalid("internal: invert was handed other types".into())),
//!         }
//!     }
//! }
//!
//! # fn main() -> Result<()> {
//! let data = Buffer::Uint16((0..100).collect());
//! let x = Array::from_source(Arc::new(MemorySource::new(data, vec![10, 10], vec![4, 4])?));
//! let y = Array::apply(Arc::new(Invert { max: 50 }), vec![x])?;
//! let sink = Arc::new(MemorySink::new(y.meta().clone()));
//! let exec = ExecOptions::default();
//! execute(&Plan::build(vec![Output { array: y, sink: sink.clone() }], &exec)?, &exec)?;
//! assert_eq!(sink.take(), Buffer::Uint16((0..100).map(|v| 50u16.saturating_sub(v)).collect()));
//! # Ok(()) }
//! ```
//!
//! `examples/custom_op.rs` at the repository's root shows a region op (a flip along an axis,
//! with its chunk mapping) used through the `chunkwise` facade and in a pipeline file.

use std::fmt::Debug;

use crate::buffer::{Buffer, Slice, SliceMut};
use crate::error::Result;
use crate::geometry::Region;
use crate::meta::ArrayMeta;

/// How an operation's output chunks relate to its inputs; drives fusion and planning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpKind {
    /// Output element `i` depends only on element `i` of each input: output region R needs exactly
    /// region R of every input. Chains of these fuse into one pass over the data.
    ElementWise,
    /// An output region needs some other region of each input (a block of input chunks for a
    /// downsample, part of one for an upsample). Computed region by region with
    /// [`Op::compute_region`]; element-wise producers fuse into its reads, consumers into its write.
    Region,
}

/// One input of [`Op::compute_region`]: the region it covers and its C-order data.
#[derive(Clone, Copy, Debug)]
pub struct RegionData<'a> {
    /// Where the data lies in the input array.
    pub region: &'a Region,
    /// The box the op asked for ([`Op::input_pieces`]): inside `region`, which may be larger
    /// (a block task hands over a read it shares with other ops).
    pub asked: &'a Region,
    /// The elements, C order over `region`.
    pub data: &'a Buffer,
}

/// The parameters of an op as JSON, for the run's identity ([`crate::identity`]): everything
/// that decides its results. Every `Serialize` type has it, so an op gets it by deriving
/// `Serialize` over all its fields; a field added later is covered without a line more. (A
/// field that cannot be serialized, such as a user's closure, is skipped and stands for itself
/// by a name and version the op serializes instead.)
pub trait OpParams {
    /// The serialized form (`null` if serialization fails, which derived impls do not).
    fn params(&self) -> serde_json::Value;
}

impl<T: serde::Serialize> OpParams for T {
    fn params(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

/// An operation in the expression graph: the one door between the engine and what it computes
/// (see the [module documentation](self) for what each method must guarantee, with a complete
/// example).
///
/// The built-in ops live in `chunkwise-ops`; the engine only relies on this interface. An op is
/// `Serialize` ([`OpParams`]): its serialized fields are its identity in a resumable run.
pub trait Op: OpParams + Send + Sync + Debug {
    /// Short name, as written in pipeline files (`"clip"`); a user's function gives its own
    /// (`"denoise"`). It names the op in `explain()`, DOT, progress, errors and the run identity.
    fn name(&self) -> &str;

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

    /// The input regions as one or more boxes per input, for ops whose needs are not one box: a
    /// wrap-mode stencil at the array's edge needs both ends of an axis, and its bounding box
    /// would be the whole axis. [`Op::compute_region`] then receives one [`RegionData`] per box,
    /// inputs in order, each input's boxes in the order given here. Defaults to the single
    /// region of [`Op::input_regions`].
    fn input_pieces(&self, output: &Region, inputs: &[ArrayMeta]) -> Vec<Vec<Region>> {
        self.input_regions(output, inputs)
            .into_iter()
            .map(|r| vec![r])
            .collect()
    }

    /// Extra bytes the kernel allocates for an output region, for the projected-memory model.
    fn scratch_bytes(&self, _output: &Region) -> u64 {
        0
    }

    /// Element-wise kernel over one block ([`OpKind::ElementWise`] ops): `inputs` and `out` have
    /// the same length, and the types `output_meta` promised.
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] when handed types it was not planned for (a planner bug, reported
    /// rather than panicking), or when called on an op of another kind.
    fn eval_block(&self, _inputs: &[Slice<'_>], _out: SliceMut<'_>) -> Result<()> {
        Err(crate::Error::Invalid(format!(
            "internal: {} has no element-wise kernel",
            self.name()
        )))
    }

    /// Region kernel ([`OpKind::Region`] ops): computes `output` from input data covering (at
    /// least) the boxes [`Op::input_pieces`] asked for, one [`RegionData`] per box; a box may be
    /// larger (a whole block already read), so kernels index relative to each box's own region.
    ///
    /// # Errors
    /// Kernel failures; [`crate::Error::Invalid`] when called on an op of another kind.
    fn compute_region(&self, _inputs: &[RegionData<'_>], _output: &Region) -> Result<Buffer> {
        Err(crate::Error::Invalid(format!(
            "internal: {} has no region kernel",
            self.name()
        )))
    }

    /// True when each box of a single-input op's [`Op::input_pieces`] gives the outputs over its
    /// own part of the output region, whatever the other boxes hold ([`Op::compute_piece`]). A
    /// task then holds one input box at a time instead of all of them: a 2x downsample's task
    /// keeps one decoded chunk alive, not its eight, so it touches an eighth of the fresh
    /// memory (on a VM, each fresh page costs a fault and zeroing).
    fn piecewise(&self) -> bool {
        false
    }

    /// Writes the outputs input box `piece` gives into `out` (C order over `output`, of the
    /// output type, zero-filled before the first box); see [`Op::piecewise`].
    ///
    /// # Errors
    /// Kernel failures; [`crate::Error::Invalid`] for an op that is not piecewise.
    fn compute_piece(
        &self,
        _piece: &RegionData<'_>,
        _output: &Region,
        _out: &mut Buffer,
    ) -> Result<()> {
        Err(crate::Error::Invalid(format!(
            "internal: {} is not computed piece by piece",
            self.name()
        )))
    }

    /// True when [`Op::compute_piece`] only copies the input's values to the same indices of the
    /// output (a rechunk). When the pieces come in C order as consecutive runs of the output
    /// region ([`crate::geometry::fills_in_order`]), the engine then appends them to an empty
    /// buffer instead of calling [`Op::compute_piece`] or [`Op::compute_region`], which fill a
    /// zero-filled one: the zeroing would be a whole extra pass over memory that the copies
    /// overwrite.
    fn copies_pieces(&self) -> bool {
        false
    }

    /// True when the region ops among this op's inputs must be computed once, kept and read
    /// chunk by chunk, never recomputed inside its tasks, whatever the plan's stencil-chain
    /// setting: a rechunk's intermediate chunking exists to be read that way (recomputed, the
    /// rechunk would read its source as directly as without it).
    fn materializes_inputs(&self) -> bool {
        false
    }

    /// How many output chunks per axis one task should compute together so that it reads whole
    /// input chunks (an upsample by 2 with equal chunks: 2 per axis, so each input chunk is read
    /// once, not eight times). `output_chunks` and `input_chunks` are the chunk shapes.
    fn preferred_block(&self, output_chunks: &[u64], _input_chunks: &[u64]) -> Vec<u64> {
        vec![1; output_chunks.len()]
    }
}
