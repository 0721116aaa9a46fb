//! # chunkwise-store
//!
//! Stored arrays for chunkwise: Zarr v2/v3 sources and sinks through zarrs, the resume journal
//! that lets an interrupted output be continued, and small JSON outputs. The engine sees these
//! only through its [`Source`](chunkwise_engine::store::Source) and
//! [`Sink`](chunkwise_engine::store::Sink) traits, as it sees operations only through its `Op`
//! trait; the dependency goes one way, from here to the engine.

mod journal;
mod json;
mod write_options;
mod zarr;

pub use json::{json_value, JsonSink, JSON_MAX_ELEMENTS};
pub use write_options::{Codec, Overwrite, WriteOptions, ZarrFormat};
pub use zarr::{
    holds_unfinished_run, inspect_zarr, open_zarr, write_group, ZarrInfo, ZarrSink, ZarrSource,
};
