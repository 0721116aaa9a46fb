//! Data in and out of the lazy world: opening Zarr arrays, wrapping NumPy arrays, computing
//! into NumPy, and the plan as text.

use chunkwise::prelude::*;
use numpy::{IntoPyArray, PyReadonlyArrayDyn};
use pyo3::prelude::*;

use crate::array::LazyArray;
use crate::convert::{dtype, per_axis};
use crate::dtypes::with_element;
use crate::errors::{invalid, OrRaise};
use crate::run::RunArgs;

/// Opens the Zarr array (v2 or v3) at `path` as a lazy array. (`chunkwise.open` also takes a
/// zarr-python `Array` on a local store and opens its path.)
#[pyfunction]
#[pyo3(name = "_open")]
pub fn open(py: Python<'_>, path: std::path::PathBuf) -> PyResult<LazyArray> {
    chunkwise::open(path).or_raise(py).map(LazyArray::new)
}

/// The chunk shape `from_numpy` picks when none is given: up to 128 per axis, a few MiB for 3-d
/// `uint16` (the size the engine's benchmarks use).
const DEFAULT_CHUNK: u64 = 128;

/// Wraps a NumPy array (or anything `numpy.asarray` takes) as a lazy array cut into `chunks`
/// (an int for every axis, or one per axis; default up to 128 per axis). The data is copied
/// once, so later changes to `a` do not show.
#[pyfunction]
#[pyo3(signature = (a, chunks=None))]
pub fn from_numpy(
    py: Python<'_>,
    a: &Bound<'_, PyAny>,
    chunks: Option<&Bound<'_, PyAny>>,
) -> PyResult<LazyArray> {
    let a = py.import("numpy")?.call_method1("asarray", (a,))?;
    let shape: Vec<u64> = a.getattr("shape")?.extract()?;
    let chunks: Vec<u64> = match chunks.filter(|c| !c.is_none()) {
        Some(c) => per_axis(c, shape.len(), "chunks")?,
        None => shape.iter().map(|&n| n.clamp(1, DEFAULT_CHUNK)).collect(),
    };
    let dt = dtype(&a.getattr("dtype")?)?;
    let array = with_element!(dt, T => {
        let data: PyReadonlyArrayDyn<'_, T> = a.extract()?;
        chunkwise::from_ndarray(data.as_array().to_owned(), &chunks)
    });
    array.or_raise(py).map(LazyArray::new)
}

#[pymethods]
impl LazyArray {
    /// Computes the whole array into a new `numpy.ndarray` (held in memory, so it counts
    /// against the memory limit; use `to_zarr` for results larger than memory).
    #[pyo3(signature = (*, threads=None, memory_limit=None, progress=None))]
    fn compute<'py>(
        &self,
        py: Python<'py>,
        threads: Option<usize>,
        memory_limit: Option<Bound<'py, PyAny>>,
        progress: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let args = RunArgs {
            threads,
            memory_limit,
            progress,
        };
        let x = &self.inner;
        with_element!(x.dtype(), T => {
            let out = args.run(py, "compute", |exec| x.compute::<T>(exec))?;
            // Moves the engine's buffer into NumPy without a copy.
            Ok(out.into_pyarray(py).into_any())
        })
    }

    /// NumPy's protocol, so `np.asarray(x)` computes the array.
    #[pyo3(signature = (dtype=None, copy=None))]
    fn __array__<'py>(
        &self,
        py: Python<'py>,
        dtype: Option<Bound<'py, PyAny>>,
        copy: Option<bool>,
    ) -> PyResult<Bound<'py, PyAny>> {
        if copy == Some(false) {
            return Err(invalid(
                "a chunkwise array cannot be viewed without computing it; use copy=None",
            ));
        }
        let out = self.compute(py, None, None, None)?;
        match dtype.filter(|d| !d.is_none()) {
            Some(d) => out.call_method1("astype", (d,)),
            None => Ok(out),
        }
    }

    /// The plan `compute()` would run: stages, fused ops, tasks, projected memory.
    #[pyo3(signature = (*, threads=None, memory_limit=None))]
    fn explain<'py>(
        &self,
        py: Python<'py>,
        threads: Option<usize>,
        memory_limit: Option<Bound<'py, PyAny>>,
    ) -> PyResult<String> {
        let exec = RunArgs {
            threads,
            memory_limit,
            progress: None,
        }
        .exec_options(py)?;
        let x = &self.inner;
        py.detach(|| x.explain(&exec)).or_raise(py)
    }
}
