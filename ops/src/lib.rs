//! # chunkwise-ops
//!
//! Concrete operations for chunkwise, each implementing the engine's [`chunkwise_engine::Op`]
//! trait, with builders that apply NumPy 2 semantics. This release has the element-wise family:
//! `clip`, `threshold`, arithmetic with scalars or arrays, `abs`/`sqrt`/`exp`/`log`, `where` and
//! `astype`; resampling: `downsample` and `upsample`; stencils: the scipy.ndimage filter
//! family; indexing and manipulation ([`slice`]: basic slicing, and the array API's
//! manipulation functions); and the user's own functions ([`user`]: `map_blocks`, `map_overlap`, `map_regions`).

pub mod elementwise;
pub mod pipeline;
pub mod reduce;
pub mod resample;
pub mod slice;
pub mod stencil;
pub mod user;

pub use elementwise::{ElementwiseExt, Operand};
pub use reduce::{
    bincount, percentiles, quantiles, reduce_many, stats, Axes, ReduceExt, Reduction, Stats,
    StatsOptions,
};
pub use resample::{DownsampleMethod, ResampleExt, UpsampleMethod};
pub use slice::ManipulateExt;
pub use stencil::StencilExt;
pub use user::{map_blocks_n, map_regions, Boundary, UserFn, UserFnExt};
