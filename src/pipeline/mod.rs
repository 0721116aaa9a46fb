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

mod build;
mod spec;
mod stencil;
mod values;

pub use build::{load, LoadedPipeline, OutputSettings};
pub use spec::{FilterSpec, OpSpec, OperandSpec, OutputSpec, PipelineSpec, StepSpec};
pub use values::{Nested, PerAxis};
