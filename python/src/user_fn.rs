//! A user's Python function on every block: `map_blocks` and `map_overlap` with `f` taking and
//! returning NumPy arrays.
//!
//! # Parallelism a Python function gets
//!
//! The engine runs its own work (reading, decoding, built-in kernels, encoding, writing) on all
//! its threads without the GIL. Each call of `f` takes the GIL for its duration, so two calls
//! of `f` run at once only while one of them is inside code that releases the GIL: most NumPy
//! kernels on large enough arrays (arithmetic, `np.clip`, ufuncs, sorting) and SciPy's
//! `ndimage` filters do. Pure-Python loops in `f` run one at a time. Everything else overlaps
//! with `f`: while one thread is inside `f`, the others read, decode and write other chunks.
//!
//! # What `f` receives
//!
//! A NumPy array holding a copy of the engine's block (the engine's block lives only for the
//! call, and a view kept by the user past it would dangle); `f`'s result is cast to the
//! declared `dtype` (as `ndarray.astype`) and copied into the engine's buffer.
//!
//! `map_blocks` hands `f` whole N-d blocks by default: it is the facade's `map_overlap` with
//! depth 0, one call per chunk. The facade's own `map_blocks` (`fuse=True`) fuses `f` into the
//! element-wise pass, which hands it cache-sized 1-D runs; for a Rust closure that is the fast
//! path, for a Python function it means tens of thousands of calls per volume, each paying
//! the interpreter's overhead and too short for NumPy to release the GIL, so calls cannot
//! overlap.

use chunkwise::prelude::*;
use numpy::ndarray::{ArrayD, ArrayViewD};
use numpy::{PyReadonlyArrayDyn, ToPyArray};
use pyo3::prelude::*;
use pyo3::types::IntoPyDict;

use crate::array::LazyArray;
use crate::convert::{choice, per_axis, scalar};
use crate::dtypes::with_element;
use crate::errors::{stash, OrRaise};

/// Calls `f` on a copy of `block` with the GIL held, and reads its result as `U`. An exception
/// is kept for the caller (see [`crate::errors`]) and reported to the engine as text.
fn call<T, U>(f: &Py<PyAny>, dtype: &str, block: ArrayViewD<'_, T>) -> Result<ArrayD<U>, String>
where
    T: chunkwise::Element + numpy::Element,
    U: chunkwise::Element + numpy::Element,
{
    Python::attach(|py| {
        let run = || -> PyResult<ArrayD<U>> {
            let input = block.to_pyarray(py);
            let out = f.bind(py).call1((input,))?;
            // The common case, an array of the declared type, is read without more calls.
            if let Ok(out) = out.extract::<PyReadonlyArrayDyn<'_, U>>() {
                return Ok(out.as_array().to_owned());
            }
            let out = py
                .import("numpy")?
                .call_method1("asarray", (out,))?
                .call_method(
                    "astype",
                    (dtype,),
                    Some(&[("copy", false)].into_py_dict(py)?),
                )?;
            let out: PyReadonlyArrayDyn<'_, U> = out.extract()?;
            Ok(out.as_array().to_owned())
        };
        run().map_err(|e| stash(py, e))
    })
}

/// The function's name for `explain()`, errors and the run's identity: `name=` or
/// `f.__name__`.
fn label(
    f: &Bound<'_, PyAny>,
    name: Option<String>,
    version: Option<String>,
    kind: &str,
    output: DType,
) -> PyResult<UserFn> {
    let name = match name {
        Some(n) => n,
        None => f
            .getattr("__name__")
            .and_then(|n| n.extract::<String>())
            .unwrap_or_else(|_| kind.to_string()),
    };
    Ok(UserFn::new(output).named(name, version.unwrap_or_default()))
}

#[pymethods]
impl LazyArray {
    /// Applies `f` (NumPy array -> NumPy array of the same shape) block by block, as Dask's
    /// `map_blocks`: `f` receives N-d blocks (a chunk, or a block of chunks) and its result
    /// must not depend on where a block's edges fall. `dtype` is the type of the result
    /// (default: the input's); what `f` returns is cast to it. `name` and `version` name the
    /// function in `explain()` and errors, and enter the identity `resume=True` checks: bump
    /// `version` when `f` changes. `fuse=True` makes `f` part of the fused element-wise pass
    /// (no chunk-sized buffer before and after it) but hands it 1-D runs of a few thousand
    /// elements, so `f` must be element-wise and pays Python's call overhead per run.
    #[pyo3(signature = (f, *, dtype=None, name=None, version=None, fuse=false))]
    fn map_blocks(
        &self,
        py: Python<'_>,
        f: Bound<'_, PyAny>,
        dtype: Option<Bound<'_, PyAny>>,
        name: Option<String>,
        version: Option<String>,
        fuse: bool,
    ) -> PyResult<LazyArray> {
        let x = &self.inner;
        let output = match dtype.filter(|d| !d.is_none()) {
            Some(d) => crate::convert::dtype(&d)?,
            None => x.dtype(),
        };
        let function = label(&f, name, version, "map_blocks", output)?;
        let f = f.unbind();
        let whole_blocks = vec![0; x.shape().len()];
        let result = with_element!(x.dtype(), T => with_element!(output, U => {
            let g = move |block: ArrayViewD<'_, T>| call::<T, U>(&f, output.name(), block);
            if fuse {
                x.map_blocks(function, g)
            } else {
                x.map_overlap(&whole_blocks, BoundaryMode::Reflect, function, g)
            }
        }));
        result.or_raise(py).map(LazyArray::new)
    }

    /// Applies `f` to each block extended by `depth` elements on each side of each axis (an
    /// int, or one per axis), filled beyond the array's edges by `mode` (reflect, mirror,
    /// nearest, wrap or constant with `cval`, SciPy's names). `f` returns the block without
    /// its halo, or the whole extended block (trimmed, as Dask's `map_overlap`). `dtype`,
    /// `name` and `version` as in `map_blocks`.
    #[pyo3(signature = (f, *, depth, mode="reflect", cval=None, dtype=None, name=None, version=None))]
    #[allow(clippy::too_many_arguments)]
    fn map_overlap(
        &self,
        py: Python<'_>,
        f: Bound<'_, PyAny>,
        depth: Bound<'_, PyAny>,
        mode: &str,
        cval: Option<Bound<'_, PyAny>>,
        dtype: Option<Bound<'_, PyAny>>,
        name: Option<String>,
        version: Option<String>,
    ) -> PyResult<LazyArray> {
        let x = &self.inner;
        let depth: Vec<usize> = per_axis(&depth, x.shape().len(), "depth")?;
        let mode: BoundaryMode =
            choice(mode, "mode", "reflect, mirror, nearest, wrap or constant")?;
        let boundary = match cval.filter(|c| !c.is_none()) {
            Some(c) if mode == BoundaryMode::Constant => Boundary::constant(scalar(&c)?),
            Some(_) => {
                return Err(crate::errors::invalid(
                    "cval is used only with mode=\"constant\"",
                ))
            }
            None => Boundary::from(mode),
        };
        let output = match dtype.filter(|d| !d.is_none()) {
            Some(d) => crate::convert::dtype(&d)?,
            None => x.dtype(),
        };
        let function = label(&f, name, version, "map_overlap", output)?;
        let f = f.unbind();
        let result = with_element!(x.dtype(), T => with_element!(output, U => {
            x.map_overlap(&depth, boundary, function, move |block: ArrayViewD<'_, T>| call::<T, U>(&f, output.name(), block))
        }));
        result.or_raise(py).map(LazyArray::new)
    }
}
