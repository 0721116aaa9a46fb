//! Indexing and manipulation ops in pipeline files, under NumPy's and the array API's names and
//! parameter names.

use chunkwise_engine::{Registry, Steps};
use serde::Deserialize;

use super::slice;

/// `slice`: `x[index]`, the index in NumPy's syntax (`"100:900, :, ::-2"`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Slice {
    x: String,
    index: String,
}

/// Registers the indexing and manipulation ops.
pub fn register(r: &mut Registry) -> &mut Registry {
    r.register("slice", |p: Slice, s: &Steps<'_>| {
        slice(&s.array(&p.x)?, &p.index)
    })
}
