//! Every op of the pipeline files, by the same name and parameters: `chunkwise._op("sin",
//! {"x": a}, '{"x": "x"}')` builds what `{"op": "sin", "x": "a"}` builds in a pipeline file. The
//! Python package defines NumPy's functions on top of it (`cw.sin(a)`, `cw.logical_and(a, b)`),
//! so the two front ends cannot drift apart and ops added to the registry (slicing,
//! manipulation) are reachable from Python the day they land.

use std::collections::HashMap;
use std::sync::OnceLock;

use chunkwise::pipeline::{builtin, Registry, Steps};
use chunkwise::Array;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::array::LazyArray;
use crate::errors::{invalid, OrRaise};

/// Builds op `name` from `params` (a JSON object, as a pipeline step without `id` and `op`)
/// whose array parameters name the entries of `arrays`.
#[pyfunction]
#[pyo3(name = "_op")]
pub fn op(
    py: Python<'_>,
    name: &str,
    arrays: &Bound<'_, PyDict>,
    params: &str,
) -> PyResult<LazyArray> {
    let mut names = HashMap::new();
    for (key, value) in arrays.iter() {
        let array = value.cast::<LazyArray>().map_err(|_| {
            invalid(format!(
                "{name}: {key} must be a chunkwise Array, got {}",
                value.get_type()
            ))
        })?;
        names.insert(key.extract::<String>()?, array.get().inner.clone());
    }
    let params: serde_json::Map<String, serde_json::Value> = serde_json::from_str(params)
        .map_err(|e| invalid(format!("{name}: parameters are not a JSON object: {e}")))?;
    build(py, name, &names, params)
}

/// The built-in ops, registered once per process (every call from Python builds through them).
fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(builtin)
}

/// Builds op `name` from `params` whose array parameters name the entries of `names`: the one
/// way Python reaches a registered op (`_op`, `x[...]`).
pub(crate) fn build(
    py: Python<'_>,
    name: &str,
    names: &HashMap<String, Array>,
    params: serde_json::Map<String, serde_json::Value>,
) -> PyResult<LazyArray> {
    let step = registry().prepare(name, params).or_raise(py)?;
    LazyArray::wrap(py, step.build(&Steps::new(names)))
}

/// The names `_op` builds, sorted.
#[pyfunction]
#[pyo3(name = "_op_names")]
pub fn op_names() -> Vec<String> {
    let mut names: Vec<String> = registry().names().into_iter().map(str::to_string).collect();
    names.sort();
    names
}
