//! # chunkwise-store
//!
//! Stored arrays for chunkwise: Zarr v2/v3 sources and sinks through zarrs, the resume journal
//! that lets an interrupted output be continued, and small JSON outputs. The engine sees these
//! only through its [`Source`](chunkwise_engine::store::Source) and
//! [`Sink`](chunkwise_engine::store::Sink) traits, as it sees operations only through its `Op`
//! trait; the dependency goes one way, from here to the engine.

mod adapter;
mod files;
mod in_flight;
mod journal;
mod json;
mod location;
mod metadata;
mod output;
mod place;
mod prefetch;
mod remote;
mod sink;
mod source;
mod write_behind;
mod write_options;
mod zstd_direct;

pub use journal::holds_unfinished_run;
pub use json::{json_value, JsonSink, JSON_MAX_ELEMENTS};
pub use location::Location;
pub use metadata::{inspect_zarr, write_group, ZarrInfo};
pub use place::OutputPlace;
pub use remote::{set_remote_options, RemoteOptions};
pub use sink::ZarrSink;
pub use source::{open_zarr, ZarrSource};
pub use write_options::{Codec, Overwrite, WriteOptions, ZarrFormat};
