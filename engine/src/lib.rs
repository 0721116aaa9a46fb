//! # chunkwise-engine
//!
//! The generic core of chunkwise: a lazy expression graph over chunked N-dimensional arrays, a
//! planner that fuses element-wise work and costs each chunk-level task, and a memory-bounded
//! work-stealing executor. Nothing here knows what a particular operation computes; operations
//! implement [`Op`] (see the `chunkwise-ops` crate).
//!
//! The one idea everything rests on: each operation says which region of each input a given
//! output region needs ([`Op::input_regions`]); from that mapping follow the tasks, their memory,
//! what can be fused and what can run in parallel.

pub mod buffer;
pub mod dtype;
pub mod error;
pub mod exec;
pub mod expr;
pub mod geometry;
pub mod identity;
pub mod meta;
pub mod nonfinite;
pub mod op;
pub mod plan;
pub mod rechunk;
pub mod registry;
pub mod spill;
pub mod store;

pub use buffer::{Buffer, Element, Slice, SliceMut};
pub use dtype::{promote, promote_scalar, weak_scalar_type, DType, Kind, Scalar};
pub use error::{Error, Result};
pub use exec::{execute, execute_then, ExecOptions, RunStats};
pub use expr::{Array, NodeKind};
pub use geometry::{ChunkGrid, Region};
pub use meta::ArrayMeta;
pub use op::{Op, OpKind, OpParams, RegionData};
pub use plan::{Output, Plan};
pub use registry::{PreparedStep, Registry, Steps};
