//! `chunkwise.ndimage`: the engine's filters under `scipy.ndimage`'s names and keyword
//! arguments. One difference: SciPy's default output type is the input's, chunkwise's is
//! float32 (float64 for float64 input); pass `output="float64"` to match SciPy on floats, or
//! cast the result with `astype`.

use chunkwise::ops::stencil::{Weights, Window};
use chunkwise::prelude::*;
use pyo3::prelude::*;

use crate::array::LazyArray;
use crate::convert::{choice, dtype, per_axis};
use crate::errors::{invalid, OrRaise};

/// `mode`, `cval` and `output` as the engine's filter options.
fn options(mode: &str, cval: f64, output: Option<&Bound<'_, PyAny>>) -> PyResult<FilterOptions> {
    Ok(FilterOptions {
        mode: choice(mode, "mode", "reflect, mirror, nearest, wrap or constant")?,
        cval,
        output: output.filter(|o| !o.is_none()).map(dtype).transpose()?,
    })
}

/// A NumPy array argument (weights, footprint) as its shape and its values in C order.
fn values<T>(obj: &Bound<'_, PyAny>, as_type: &str) -> PyResult<(Vec<usize>, Vec<T>)>
where
    T: for<'a, 'py> FromPyObject<'a, 'py>,
{
    let a = obj
        .py()
        .import("numpy")?
        .call_method1("ascontiguousarray", (obj, as_type))?;
    let shape: Vec<usize> = a.getattr("shape")?.extract()?;
    let flat: Vec<T> = a.call_method0("ravel")?.call_method0("tolist")?.extract()?;
    Ok((shape, flat))
}

/// `size` or `footprint`, as SciPy's rank filters take them (exactly one of the two).
fn window(
    x: &LazyArray,
    size: Option<&Bound<'_, PyAny>>,
    footprint: Option<&Bound<'_, PyAny>>,
) -> PyResult<Window> {
    match (
        size.filter(|s| !s.is_none()),
        footprint.filter(|f| !f.is_none()),
    ) {
        (Some(size), None) => Ok(Window::Size(per_axis(size, x.inner.shape().len(), "size")?)),
        (None, Some(footprint)) => {
            let (shape, mask) = values::<bool>(footprint, "bool")?;
            Ok(Window::Footprint { shape, mask })
        }
        _ => Err(invalid("give either size or footprint")),
    }
}

/// One origin per axis from an int or a sequence.
fn origin(x: &LazyArray, origin: &Bound<'_, PyAny>) -> PyResult<Vec<i64>> {
    per_axis(origin, x.inner.shape().len(), "origin")
}

/// `scipy.ndimage.gaussian_filter(input, sigma, mode, cval, truncate)` (order 0).
#[pyfunction]
#[pyo3(signature = (input, sigma, *, output=None, mode="reflect", cval=0.0, truncate=4.0))]
pub fn gaussian_filter(
    py: Python<'_>,
    input: &Bound<'_, LazyArray>,
    sigma: &Bound<'_, PyAny>,
    output: Option<Bound<'_, PyAny>>,
    mode: &str,
    cval: f64,
    truncate: f64,
) -> PyResult<LazyArray> {
    let x = input.get();
    let sigma: Vec<f64> = per_axis(sigma, x.inner.shape().len(), "sigma")?;
    let o = options(mode, cval, output.as_ref())?;
    x.inner
        .gaussian_filter(&sigma, truncate, &o)
        .or_raise(py)
        .map(LazyArray::new)
}

/// `scipy.ndimage.gaussian_gradient_magnitude(input, sigma, mode, cval, truncate)`.
#[pyfunction]
#[pyo3(signature = (input, sigma, *, output=None, mode="reflect", cval=0.0, truncate=4.0))]
pub fn gaussian_gradient_magnitude(
    py: Python<'_>,
    input: &Bound<'_, LazyArray>,
    sigma: &Bound<'_, PyAny>,
    output: Option<Bound<'_, PyAny>>,
    mode: &str,
    cval: f64,
    truncate: f64,
) -> PyResult<LazyArray> {
    let x = input.get();
    let sigma: Vec<f64> = per_axis(sigma, x.inner.shape().len(), "sigma")?;
    let o = options(mode, cval, output.as_ref())?;
    x.inner
        .gaussian_gradient_magnitude(&sigma, truncate, &o)
        .or_raise(py)
        .map(LazyArray::new)
}

/// `scipy.ndimage.uniform_filter(input, size, mode, cval, origin)`.
#[pyfunction]
#[pyo3(signature = (input, size=None, *, output=None, mode="reflect", cval=0.0, origin=None))]
#[allow(clippy::too_many_arguments)]
pub fn uniform_filter(
    py: Python<'_>,
    input: &Bound<'_, LazyArray>,
    size: Option<Bound<'_, PyAny>>,
    output: Option<Bound<'_, PyAny>>,
    mode: &str,
    cval: f64,
    origin: Option<Bound<'_, PyAny>>,
) -> PyResult<LazyArray> {
    let x = input.get();
    let ndim = x.inner.shape().len();
    let size: Vec<usize> = match size.filter(|s| !s.is_none()) {
        Some(s) => per_axis(&s, ndim, "size")?,
        None => vec![3; ndim], // SciPy's default
    };
    let origin = origin_or_zero(py, x, origin)?;
    let o = options(mode, cval, output.as_ref())?;
    x.inner
        .uniform_filter(&size, &origin, &o)
        .or_raise(py)
        .map(LazyArray::new)
}

/// The origin given, or 0 on every axis.
fn origin_or_zero(
    py: Python<'_>,
    x: &LazyArray,
    o: Option<Bound<'_, PyAny>>,
) -> PyResult<Vec<i64>> {
    match o.filter(|o| !o.is_none()) {
        Some(o) => origin(x, &o),
        None => origin(x, &0i64.into_pyobject(py)?.into_any()),
    }
}

/// The rank filters share SciPy's signature `(input, size=None, footprint=None, output=None,
/// mode, cval, origin)`.
macro_rules! rank_filter {
    ($name:ident, $doc:literal) => {
        #[doc = $doc]
        #[pyfunction]
        #[pyo3(signature = (input, size=None, footprint=None, *, output=None, mode="reflect", cval=0.0, origin=None))]
        #[allow(clippy::too_many_arguments)]
        pub fn $name(py: Python<'_>, input: &Bound<'_, LazyArray>, size: Option<Bound<'_, PyAny>>, footprint: Option<Bound<'_, PyAny>>, output: Option<Bound<'_, PyAny>>, mode: &str, cval: f64, origin: Option<Bound<'_, PyAny>>) -> PyResult<LazyArray> {
            let x = input.get();
            let w = window(x, size.as_ref(), footprint.as_ref())?;
            let origin = origin_or_zero(py, x, origin)?;
            let o = options(mode, cval, output.as_ref())?;
            x.inner.$name(&w, &origin, &o).or_raise(py).map(LazyArray::new)
        }
    };
}

rank_filter!(
    median_filter,
    "`scipy.ndimage.median_filter(input, size | footprint, mode, cval, origin)`."
);
rank_filter!(
    minimum_filter,
    "`scipy.ndimage.minimum_filter(input, size | footprint, mode, cval, origin)`."
);
rank_filter!(
    maximum_filter,
    "`scipy.ndimage.maximum_filter(input, size | footprint, mode, cval, origin)`."
);

/// Correlation and convolution share SciPy's signature `(input, weights, output, mode, cval,
/// origin)`.
macro_rules! weights_filter {
    ($name:ident, $doc:literal) => {
        #[doc = $doc]
        #[pyfunction]
        #[pyo3(signature = (input, weights, *, output=None, mode="reflect", cval=0.0, origin=None))]
        #[allow(clippy::too_many_arguments)]
        pub fn $name(
            py: Python<'_>,
            input: &Bound<'_, LazyArray>,
            weights: &Bound<'_, PyAny>,
            output: Option<Bound<'_, PyAny>>,
            mode: &str,
            cval: f64,
            origin: Option<Bound<'_, PyAny>>,
        ) -> PyResult<LazyArray> {
            let x = input.get();
            let (shape, values) = values::<f64>(weights, "float64")?;
            let origin = origin_or_zero(py, x, origin)?;
            let o = options(mode, cval, output.as_ref())?;
            x.inner
                .$name(&Weights::Full { shape, values }, &origin, &o)
                .or_raise(py)
                .map(LazyArray::new)
        }
    };
}

weights_filter!(
    correlate,
    "`scipy.ndimage.correlate(input, weights, mode, cval, origin)`."
);
weights_filter!(
    convolve,
    "`scipy.ndimage.convolve(input, weights, mode, cval, origin)`."
);

/// `scipy.ndimage.sobel(input, axis=-1, mode, cval)`.
#[pyfunction]
#[pyo3(signature = (input, axis=-1, *, output=None, mode="reflect", cval=0.0))]
pub fn sobel(
    py: Python<'_>,
    input: &Bound<'_, LazyArray>,
    axis: i64,
    output: Option<Bound<'_, PyAny>>,
    mode: &str,
    cval: f64,
) -> PyResult<LazyArray> {
    let o = options(mode, cval, output.as_ref())?;
    input
        .get()
        .inner
        .sobel(axis, &o)
        .or_raise(py)
        .map(LazyArray::new)
}

/// `scipy.ndimage.laplace(input, mode, cval)`.
#[pyfunction]
#[pyo3(signature = (input, *, output=None, mode="reflect", cval=0.0))]
pub fn laplace(
    py: Python<'_>,
    input: &Bound<'_, LazyArray>,
    output: Option<Bound<'_, PyAny>>,
    mode: &str,
    cval: f64,
) -> PyResult<LazyArray> {
    let o = options(mode, cval, output.as_ref())?;
    input
        .get()
        .inner
        .laplace(&o)
        .or_raise(py)
        .map(LazyArray::new)
}
