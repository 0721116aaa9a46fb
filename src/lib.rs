//! # chunkwise
//!
//! Chunk-by-chunk, parallel, memory-bounded processing of chunked N-dimensional arrays stored in
//! Zarr. Operations compose into a lazy expression graph; nothing touches data until you write or
//! compute a result; element-wise chains fuse into one pass over the data.
//!
//! ```no_run
//! use chunkwise::prelude::*;
//!
//! # fn main() -> chunkwise::Result<()> {
//! let x = chunkwise::open("volume.zarr")?;
//! let y = x.astype(DType::Float32)?.mul(1.5)?.add(100)?.clip(0, 65535)?.div(2)?
//!     .astype(DType::Uint16)?;
//! let stats = y.to_zarr("out.zarr", &WriteOptions::default(), &ExecOptions::default())?;
//! println!("{} chunks in {:?}", stats.tasks, stats.elapsed);
//! # Ok(()) }
//! ```

mod api;
pub mod cli;
mod counting_alloc;
pub mod distributed;
pub mod interrupt;
pub mod memory_report;
pub mod pipeline;
pub mod process_memory;
pub mod pyramid;
mod recycling_alloc;
pub mod synthetic;

pub use api::{from_ndarray, open, ArrayExt, Pipeline};
pub use chunkwise_engine as engine;
pub use chunkwise_engine::{
    Array, ArrayMeta, Buffer, DType, Element, Error, ExecOptions, Plan, Region, Result, RunStats,
    Scalar,
};
pub use chunkwise_ops as ops;
pub use chunkwise_store as store;
pub use counting_alloc::{CountingAllocator, HeapMeter};
pub use recycling_alloc::RecyclingAllocator;

/// Everything a pipeline author needs: `use chunkwise::prelude::*;`.
pub mod prelude {
    pub use crate::api::{from_ndarray, open, ArrayExt, Pipeline};
    pub use crate::pyramid::{write_pyramid, PyramidOptions};
    pub use chunkwise_engine::{Array, DType, ExecOptions, Scalar};
    pub use chunkwise_ops::elementwise::where_;
    pub use chunkwise_ops::slice::{concat, stack, PadMode};
    pub use chunkwise_ops::stencil::{BoundaryMode, FilterOptions};
    pub use chunkwise_ops::ElementwiseExt;
    pub use chunkwise_ops::ManipulateExt;
    pub use chunkwise_ops::{bincount, percentiles, quantiles, stats, Axes, ReduceExt, Reduction};
    pub use chunkwise_ops::{map_blocks_n, map_regions, Boundary, UserFn, UserFnExt};
    pub use chunkwise_ops::{reduce_many, Stats, StatsOptions};
    pub use chunkwise_ops::{DownsampleMethod, ResampleExt, StencilExt, UpsampleMethod};
    pub use chunkwise_store::{Codec, Overwrite, WriteOptions, ZarrFormat};
}

/// Compiles the README's Rust example as a doctest, so the documented API cannot drift.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
