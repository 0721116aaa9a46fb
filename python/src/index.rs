//! `x[...]`: NumPy's basic indexing (integers, slices with any step, `...`, `None`) as the
//! pipeline files' `slice` op, so Python, Rust and pipeline files parse and check an index the
//! same way. The key is written in NumPy's own syntax and handed to that op.

use std::fmt::Write as _;

use pyo3::prelude::*;
use pyo3::types::{PyEllipsis, PySlice, PyTuple};

use crate::array::LazyArray;

/// One index item in NumPy's syntax.
fn item(obj: &Bound<'_, PyAny>, out: &mut String) -> PyResult<()> {
    if obj.is_none() {
        out.push_str("None");
    } else if obj.is_instance_of::<PyEllipsis>() {
        out.push_str("...");
    } else if let Ok(s) = obj.cast::<PySlice>() {
        let part = |name: &str| -> PyResult<String> {
            let v = s.getattr(name)?;
            Ok(if v.is_none() {
                String::new()
            } else {
                v.call_method0("__index__")?.extract::<i64>()?.to_string()
            })
        };
        let _ = write!(
            out,
            "{}:{}:{}",
            part("start")?,
            part("stop")?,
            part("step")?
        );
    } else if let Ok(i) = obj.call_method0("__index__") {
        let _ = write!(out, "{}", i.extract::<i64>()?);
    } else {
        return Err(pyo3::exceptions::PyIndexError::new_err(format!(
            "only integers, slices (`:`), ellipsis (`...`) and None are valid indices \
             (basic indexing), got {}",
            obj.get_type().name()?
        )));
    }
    Ok(())
}

#[pymethods]
impl LazyArray {
    /// `x[...]`, lazy: only the chunks holding a selected element are read.
    fn __getitem__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<LazyArray> {
        let mut index = String::new();
        match key.cast::<PyTuple>() {
            Ok(items) => {
                for (k, it) in items.iter().enumerate() {
                    if k > 0 {
                        index.push_str(", ");
                    }
                    item(&it, &mut index)?;
                }
            }
            Err(_) => item(key, &mut index)?,
        }
        let mut params = serde_json::Map::new();
        params.insert("x".into(), "x".into());
        params.insert("index".into(), index.into());
        let names = std::collections::HashMap::from([("x".to_string(), self.inner.clone())]);
        crate::vocab::build(py, "slice", &names, params)
    }
}
