//! Python arguments as the facade's types. Each helper states the accepted forms once, so every
//! method reads its arguments the same way and reports a bad one in the same words.

use chunkwise::ops::elementwise::Operand;
use chunkwise::{DType, Scalar};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt};
use serde::de::DeserializeOwned;

use crate::array::LazyArray;
use crate::errors::invalid;

/// A dtype given as NumPy accepts it: `"float32"`, `np.float32`, `np.dtype("f4")`; NumPy
/// resolves the alias, the engine names the types it supports when it is none of them.
pub(crate) fn dtype(obj: &Bound<'_, PyAny>) -> PyResult<DType> {
    let name: String = obj
        .py()
        .import("numpy")?
        .call_method1("dtype", (obj,))
        .map_err(|_| invalid(format!("{obj} is not a dtype")))?
        .getattr("name")?
        .extract()?;
    if name == "float16" {
        return Err(invalid(
            "chunkwise has no float16; use float32, which holds every float16 value exactly \
             (NumPy data: a.astype(np.float32))",
        ));
    }
    DType::parse(&name).map_err(|e| invalid(e.to_string()))
}

/// A Python (or NumPy) bool, int or float as a weak scalar.
pub(crate) fn scalar(obj: &Bound<'_, PyAny>) -> PyResult<Scalar> {
    if obj.is_instance_of::<PyBool>() {
        return Ok(Scalar::Bool(obj.extract()?));
    }
    if obj.is_instance_of::<PyInt>() {
        return int(obj);
    }
    if obj.is_instance_of::<PyFloat>() {
        return Ok(Scalar::Float(obj.extract()?));
    }
    // NumPy scalars: np.bool_, np.int16(3), np.float32(0.5).
    let np = obj.py().import("numpy")?;
    if obj.is_instance(&np.getattr("generic")?)? {
        let kind: String = obj.getattr("dtype")?.getattr("kind")?.extract()?;
        return match kind.as_str() {
            "b" => Ok(Scalar::Bool(obj.extract()?)),
            "i" | "u" => int(&obj.call_method0("__int__")?),
            "f" => Ok(Scalar::Float(obj.call_method0("__float__")?.extract()?)),
            _ => Err(invalid(format!(
                "unsupported scalar {obj} of kind {kind:?}"
            ))),
        };
    }
    Err(pyo3::exceptions::PyTypeError::new_err(format!(
        "expected a chunkwise Array or a number, got {}",
        obj.get_type().name()?
    )))
}

/// A Python int as an integer scalar: int64's minimum to uint64's maximum, the values NumPy
/// holds in an integer array.
fn int(obj: &Bound<'_, PyAny>) -> PyResult<Scalar> {
    obj.extract::<i128>()
        .ok()
        .filter(|v| (i128::from(i64::MIN)..=i128::from(u64::MAX)).contains(v))
        .map(Scalar::Int)
        .ok_or_else(|| {
            invalid(format!(
                "the integer {obj} fits neither int64 nor uint64, the widest integer types"
            ))
        })
}

/// The other side of a binary operation: a chunkwise array or a scalar.
pub(crate) fn operand(obj: &Bound<'_, PyAny>) -> PyResult<Operand> {
    match obj.cast::<LazyArray>() {
        Ok(a) => Ok(Operand::Array(a.get().inner.clone())),
        Err(_) => scalar(obj).map(Operand::Scalar),
    }
}

/// One value per axis from a number or a sequence of `ndim` numbers (SciPy's convention for
/// `sigma`, `size`, `origin`, ...).
pub(crate) fn per_axis<T>(obj: &Bound<'_, PyAny>, ndim: usize, what: &str) -> PyResult<Vec<T>>
where
    T: for<'a, 'py> FromPyObject<'a, 'py> + Clone,
{
    if let Ok(v) = obj.extract::<T>() {
        return Ok(vec![v; ndim]);
    }
    let values: Vec<T> = obj.extract().map_err(|_| {
        invalid(format!(
            "{what} must be a number or a sequence of {ndim} numbers, got {obj}"
        ))
    })?;
    if values.len() != ndim {
        return Err(invalid(format!(
            "{what} must give one value per axis of the {ndim}-d array, got {}",
            values.len()
        )));
    }
    Ok(values)
}

/// A named choice (`mode="reflect"`, `method="mean"`) read with the enum's own serde names, so
/// the names are the pipeline files' names.
pub(crate) fn choice<T: DeserializeOwned>(name: &str, what: &str, allowed: &str) -> PyResult<T> {
    serde_json::from_value(serde_json::Value::String(name.to_string()))
        .map_err(|_| invalid(format!("unknown {what} {name:?}; use {allowed}")))
}

/// A memory size: an int of bytes or text such as `"4GiB"`.
pub(crate) fn bytes(obj: &Bound<'_, PyAny>) -> PyResult<u64> {
    if let Ok(n) = obj.extract::<u64>() {
        return Ok(n);
    }
    let text: String = obj.extract().map_err(|_| {
        invalid(format!(
            "a memory size must be an int or text such as \"4GiB\", got {obj}"
        ))
    })?;
    chunkwise::engine::exec::parse_bytes(&text).map_err(|e| invalid(e.to_string()))
}

/// A codec: `"zstd"`, `"none"`, or a dict such as `{"name": "zstd", "level": 3}` with the
/// pipeline files' fields.
pub(crate) fn codec(obj: &Bound<'_, PyAny>) -> PyResult<chunkwise::store::Codec> {
    let value = if let Ok(name) = obj.extract::<String>() {
        serde_json::json!({ "name": name })
    } else if let Ok(dict) = obj.cast::<PyDict>() {
        let text: String = obj
            .py()
            .import("json")?
            .call_method1("dumps", (dict,))?
            .extract()?;
        serde_json::from_str(&text).map_err(|e| invalid(e.to_string()))?
    } else {
        return Err(invalid(format!(
            "codec must be a name (\"zstd\", \"gzip\", \"blosc\", \"none\") or a dict, got {obj}"
        )));
    };
    let codec: chunkwise::store::Codec =
        serde_json::from_value(value).map_err(|e| invalid(format!("bad codec {obj}: {e}")))?;
    codec.validate().map_err(|e| invalid(e.to_string()))?;
    Ok(codec)
}
