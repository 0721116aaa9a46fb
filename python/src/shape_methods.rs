//! NumPy's shape methods on `chunkwise.Array` (`x.T`, `x.transpose(...)`, `x.reshape(...)`),
//! each the pipeline files' op of the same meaning (`permute_dims`, `reshape`), so the method
//! and `cw.permute_dims` / `cw.reshape` cannot disagree.

use std::collections::HashMap;

use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::array::LazyArray;

impl LazyArray {
    /// Builds `op` with `x` this array and `key` the integers NumPy's method was given.
    fn with_ints(
        &self,
        py: Python<'_>,
        op: &str,
        key: &str,
        ints: Vec<i64>,
    ) -> PyResult<LazyArray> {
        let mut params = serde_json::Map::new();
        params.insert("x".into(), "x".into());
        params.insert(key.into(), ints.into());
        let names = HashMap::from([("x".to_string(), self.inner.clone())]);
        crate::vocab::build(py, op, &names, params)
    }
}

/// NumPy's `*args` convention: `f(1, 0)` or `f((1, 0))`, the same integers.
fn ints(args: &Bound<'_, PyTuple>) -> PyResult<Vec<i64>> {
    match args.len() {
        1 if args.get_item(0)?.extract::<i64>().is_err() => args.get_item(0)?.extract(),
        _ => args.extract(),
    }
}

#[pymethods]
impl LazyArray {
    /// NumPy's `ndarray.T`: the axes in reverse order.
    #[getter(T)]
    fn transposed(&self, py: Python<'_>) -> PyResult<LazyArray> {
        let axes = (0..self.inner.shape().len() as i64).rev().collect();
        self.with_ints(py, "permute_dims", "axes", axes)
    }

    /// NumPy's `ndarray.transpose(*axes)`: `transpose()` reverses the axes, `transpose(1, 0)`
    /// or `transpose((1, 0))` orders them.
    #[pyo3(signature = (*axes))]
    fn transpose(&self, py: Python<'_>, axes: &Bound<'_, PyTuple>) -> PyResult<LazyArray> {
        if axes.is_empty() {
            return self.transposed(py);
        }
        self.with_ints(py, "permute_dims", "axes", ints(axes)?)
    }

    /// NumPy's `ndarray.reshape(*shape)` (`reshape(4, 3)` or `reshape((4, -1))`), where it maps
    /// to regions: splits and merges of neighbouring axes.
    #[pyo3(signature = (*shape))]
    fn reshape(&self, py: Python<'_>, shape: &Bound<'_, PyTuple>) -> PyResult<LazyArray> {
        self.with_ints(py, "reshape", "shape", ints(shape)?)
    }
}
