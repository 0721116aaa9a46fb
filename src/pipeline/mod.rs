//! Pipeline files: the serde form of an expression graph with its inputs and outputs, in JSON or
//! YAML. See README.md for the format.
//!
//! ```json
//! {
//!   "inputs": {"vol": "volume.zarr"},
//!   "steps": [
//!     {"id": "clipped", "op": "clip", "x": "vol", "min": 10000, "max": 40000}
//!   ],
//!   "outputs": [{"from": "clipped", "path": "clipped.zarr", "codec": {"name": "zstd", "level": 1}}]
//! }
//! ```

//!
//! Each step's `op` names an op of a [`Registry`]: [`load`] uses the built-in ops
//! ([`chunkwise_ops::pipeline::builtin`]); a program with its own ops registers them and calls
//! [`load_with`] (or [`crate::cli::Cli`] for the whole command line).

mod build;
mod spec;

pub(crate) use build::resolve;
pub use build::{load, load_text, load_with, LoadedPipeline, OutputSettings};
pub use chunkwise_engine::{PreparedStep, Registry, Steps};
pub use chunkwise_ops::pipeline::{builtin, register_builtin, Nested, OperandSpec, PerAxis};
pub use chunkwise_ops::stencil::FilterSpec;
pub use spec::{OutputSpec, PipelineSpec, StepSpec};
