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
//! # What `f` receives and what the engine does with its result
//!
//! The block is the engine's own buffer (the block gathered for the call, halo included),
//! moved into a NumPy array without a copy: `f` may change it in place, keep it or return it.
//! The result is copied once into a buffer of the engine, with the GIL released while it
//! copies: as is when it is a C-contiguous array of the declared `dtype`, else cast by NumPy
//! (`ndarray.astype`'s rules) straight into that buffer. (NumPy owns the memory of what `f`
//! returns, so taking it without that copy would need NumPy to allocate through the engine.)
//!
//! `map_blocks` hands `f` whole N-d blocks by default: it is the facade's `map_overlap` with
//! depth 0, one call per chunk. The facade's own `map_blocks` (`fuse=True`) fuses `f` into the
//! element-wise pass, which hands it cache-sized 1-D runs; for a Rust closure that is the fast
//! path, for a Python function it means tens of thousands of calls per volume, each paying
//! the interpreter's overhead and too short for NumPy to release the GIL, so calls cannot
//! overlap.

use chunkwise::prelude::*;
use numpy::ndarray::{ArrayD, ArrayViewD, IxDyn};
use numpy::{IntoPyArray, PyArrayDyn, PyReadonlyArrayDyn, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::{IntoPyDict, PySlice};

use crate::array::LazyArray;
use crate::convert::{choice, per_axis, scalar};
use crate::dtypes::with_element;
use crate::errors::{invalid, stash, OrRaise};

/// Calls `f` on `block`, moved into NumPy, with the GIL held, and reads its result as `U`:
/// once on the whole block, or on slabs of at most `rows` rows of it (see [`in_slabs`]). An
/// exception is kept for the caller (see [`crate::errors`]) and reported to the engine as text.
fn call<T, U>(f: &Py<PyAny>, block: ArrayD<T>, rows: Option<usize>) -> Result<ArrayD<U>, String>
where
    T: chunkwise::Element + numpy::Element,
    U: chunkwise::Element + numpy::Element,
{
    Python::attach(|py| {
        let run = || -> PyResult<ArrayD<U>> {
            match rows {
                Some(rows) if block.shape().first().is_some_and(|&n| n > rows) => {
                    in_slabs(py, f, block, rows)
                }
                _ => {
                    let out = f.bind(py).call1((block.into_pyarray(py),))?;
                    receive(py, &out)
                }
            }
        };
        run().map_err(|e| stash(py, e))
    })
}

/// `f` on each slab of `rows` rows (the last one shorter) of `block`, a view of it in NumPy,
/// each result cast by NumPy into its rows of one buffer of the engine. Why: a NumPy function
/// on a slab of about a mebibyte keeps its temporaries (`np.clip` of uint16 with Python floats
/// makes a float64 array) in the core's cache and reuses their memory from call to call, where
/// a 128^3 chunk's are faulted in and streamed through memory on every call.
fn in_slabs<T, U>(
    py: Python<'_>,
    f: &Py<PyAny>,
    block: ArrayD<T>,
    rows: usize,
) -> PyResult<ArrayD<U>>
where
    T: chunkwise::Element + numpy::Element,
    U: chunkwise::Element + numpy::Element,
{
    let shape = block.shape().to_vec();
    let input = block.into_pyarray(py).into_any();
    let np = py.import("numpy")?;
    let unsafe_casting = [("casting", "unsafe")].into_py_dict(py)?;
    let mut result = py.detach(|| ArrayD::<U>::from_elem(IxDyn(&shape), U::default()));
    into_buffer(py, &mut result, |dest| {
        for start in (0..shape[0]).step_by(rows) {
            let slab = PySlice::new(py, start as isize, (start + rows).min(shape[0]) as isize, 1);
            let part = input.get_item(&slab)?;
            let given = part.getattr("shape")?;
            let out = np.call_method1("asarray", (f.bind(py).call1((part,))?,))?;
            let got = out.getattr("shape")?;
            if !got.eq(&given)? {
                return Err(invalid(format!(
                    "the function returned a block of shape {got} for a block of shape \
                     {given}; map_blocks needs the shape it is given"
                )));
            }
            np.call_method(
                "copyto",
                (dest.get_item(&slab)?, out),
                Some(&unsafe_casting),
            )?;
        }
        Ok(())
    })?;
    Ok(result)
}

/// `f`'s result as a block of the engine, copied once with the GIL released (see the module
/// documentation).
fn receive<U>(py: Python<'_>, out: &Bound<'_, PyAny>) -> PyResult<ArrayD<U>>
where
    U: chunkwise::Element + numpy::Element,
{
    // The common case, a C-contiguous array of the declared type: one copy.
    if let Ok(array) = out.extract::<PyReadonlyArrayDyn<'_, U>>() {
        // `as_slice` takes Fortran order too, whose elements are not in the engine's order.
        if let (true, Ok(data)) = (array.is_c_contiguous(), array.as_slice()) {
            let shape = IxDyn(array.shape());
            let data = py.detach(|| data.to_vec());
            return ArrayD::from_shape_vec(shape, data).map_err(|e| invalid(e.to_string()));
        }
    }
    let np = py.import("numpy")?;
    let out = np.call_method1("asarray", (out,))?;
    let shape: Vec<usize> = out.getattr("shape")?.extract()?;
    let mut result = py.detach(|| ArrayD::<U>::from_elem(IxDyn(&shape), U::default()));
    let unsafe_casting = [("casting", "unsafe")].into_py_dict(py)?;
    into_buffer(py, &mut result, |dest| {
        np.call_method("copyto", (dest, &out), Some(&unsafe_casting))
            .map(drop)
    })?;
    Ok(result)
}

/// Runs `copy` with `dest`, a NumPy array over `result`'s buffer, for NumPy to cast into
/// (`np.copyto`, which keeps no reference to its arguments).
fn into_buffer<U>(
    py: Python<'_>,
    result: &mut ArrayD<U>,
    copy: impl FnOnce(&Bound<'_, PyAny>) -> PyResult<()>,
) -> PyResult<()>
where
    U: chunkwise::Element + numpy::Element,
{
    // SAFETY: `dest` borrows `result`'s buffer without owning it; `copy` only hands it (or
    // views of it) to `np.copyto`, and `dest` is checked to be the only reference left before
    // it is dropped, so no NumPy array outlives the borrow.
    let dest =
        unsafe { PyArrayDyn::<U>::borrow_from_array(&result.view_mut(), py.None().into_bound(py)) }
            .into_any();
    let copied = copy(&dest);
    // SAFETY: `dest` is a live object; reading its reference count is all this does.
    if unsafe { pyo3::ffi::Py_REFCNT(dest.as_ptr()) } != 1 {
        // Someone holds the borrowed view: leak the buffer rather than free it under them.
        std::mem::forget(std::mem::take(result));
        return Err(invalid(
            "internal error (a bug in chunkwise): a view of the result buffer escaped",
        ));
    }
    drop(dest);
    copied
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
    /// `max_elements` cuts each block into slabs along its first axis of at most that many
    /// elements (at least one row) and calls `f` once per slab: for an element-wise `f`, about
    /// 2**17 elements keeps NumPy's temporaries in the CPU cache; `None` (the default, as Dask)
    /// hands `f` whole blocks.
    #[pyo3(signature = (f, *, dtype=None, name=None, version=None, fuse=false, max_elements=None))]
    #[allow(clippy::too_many_arguments)]
    fn map_blocks(
        &self,
        py: Python<'_>,
        f: Bound<'_, PyAny>,
        dtype: Option<Bound<'_, PyAny>>,
        name: Option<String>,
        version: Option<String>,
        fuse: bool,
        max_elements: Option<usize>,
    ) -> PyResult<LazyArray> {
        let x = &self.inner;
        let output = match dtype.filter(|d| !d.is_none()) {
            Some(d) => crate::convert::dtype(&d)?,
            None => x.dtype(),
        };
        if max_elements == Some(0) {
            return Err(invalid(
                "max_elements must be at least 1 (or None for whole blocks)",
            ));
        }
        if fuse && max_elements.is_some() {
            return Err(invalid(
                "max_elements cuts whole blocks into slabs; with fuse=True f gets short 1-D runs \
                 already: pass one or the other",
            ));
        }
        // Elements in one row of a block: the product of the chunk shape past the first axis.
        let row: usize = x
            .meta()
            .chunks
            .iter()
            .skip(1)
            .map(|&c| c as usize)
            .product();
        let rows = max_elements.map(|m| (m / row.max(1)).max(1));
        let function = label(&f, name, version, "map_blocks", output)?;
        let f = f.unbind();
        let whole_blocks = vec![0; x.shape().len()];
        let result = with_element!(x.dtype(), T => with_element!(output, U => {
            if fuse {
                x.map_blocks(function, move |run: ArrayViewD<'_, T>| call::<T, U>(&f, run.to_owned(), None))
            } else {
                x.map_overlap_owned(&whole_blocks, BoundaryMode::Reflect, function, move |block| call::<T, U>(&f, block, rows))
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
            x.map_overlap_owned(&depth, boundary, function, move |block| call::<T, U>(&f, block, None))
        }));
        result.or_raise(py).map(LazyArray::new)
    }
}
