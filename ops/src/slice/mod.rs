//! Indexing and manipulation: basic slicing ([`slice`], [`take`]) and the array API's
//! manipulation functions. Most are one region op, [`Remap`], whose chunk mapping asks only for
//! the input indices an output region reads, so a slice of a pipeline computes only the chunks
//! (and halos) it needs.

mod axes;
mod basic;
mod concat;
mod ext;
mod gather;
mod index;
mod manipulate;
mod pad;
mod pipeline;
mod remap;
mod reshape;

pub use axes::{normalize_axes, normalize_axis};
pub use basic::{slice, slice_items, take};
pub use chunkwise_engine::rechunk::{plan_rechunk, rechunk, Rechunk, RechunkPlan};
pub use concat::{concat, stack, Concat};
pub use ext::ManipulateExt;
pub use index::{index_text, parse_index, resolve, AxisSelect, IndexItem, Resolved};
pub use manipulate::{
    broadcast_to, expand_dims, flip, moveaxis, permute_dims, repeat, roll, squeeze, tile,
};
pub use pad::{pad, pad_widths, PadMode};
pub use pipeline::register;
pub use remap::{IndexMap, InputAxis, Remap};
pub use reshape::{reshape, AxisGroup, Reshape};
