//! `chunkwise.Array`: a lazy array. Every method builds a node of the facade's expression graph
//! (nothing is read or computed) or runs it; the methods only convert arguments and errors.

use chunkwise::ops::elementwise::{binary, unary, Arith, Operand, UnaryFn};
use chunkwise::prelude::*;
use pyo3::basic::CompareOp;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::convert::{choice, operand, per_axis, scalar};
use crate::errors::OrRaise;

/// A lazy chunked array: an expression over Zarr arrays or in-memory data. Operations build a
/// new lazy array; `compute()`, `to_zarr()` and `write_pyramid()` run the engine.
#[pyclass(name = "Array", module = "chunkwise", frozen)]
pub struct LazyArray {
    /// The facade's array.
    pub(crate) inner: Array,
}

impl LazyArray {
    /// Wraps a facade array.
    pub(crate) fn new(inner: Array) -> Self {
        Self { inner }
    }

    /// `self op other`, or `other op self` when `reflected`.
    fn arith(
        &self,
        py: Python<'_>,
        op: Arith,
        other: &Bound<'_, PyAny>,
        reflected: bool,
    ) -> PyResult<Py<PyAny>> {
        self.binary_with(py, other, reflected, op.name(), |a, b| binary(op, a, b))
    }

    /// `f(self, other)`, or `f(other, self)` when `reflected`: the operator protocol for every
    /// binary operator. `name` is NumPy's function of the same meaning, whose promotion a
    /// NumPy scalar `other` follows (see [`crate::strong`]).
    pub(crate) fn binary_with(
        &self,
        py: Python<'_>,
        other: &Bound<'_, PyAny>,
        reflected: bool,
        name: &str,
        f: impl FnOnce(Operand, Operand) -> chunkwise::Result<Array>,
    ) -> PyResult<Py<PyAny>> {
        let (me, other) = crate::strong::binary(py, name, &self.inner, other, reflected)?;
        let other = match operand(&other) {
            Ok(other) => other,
            // Not a number or array: let Python try the other operand's method, then raise its
            // usual TypeError. A number out of range keeps its own error.
            Err(e) if e.is_instance_of::<pyo3::exceptions::PyTypeError>(py) => {
                return Ok(py.NotImplemented())
            }
            Err(e) => return Err(e),
        };
        let me = Operand::Array(me);
        let (a, b) = if reflected { (other, me) } else { (me, other) };
        let out = f(a, b).or_raise(py)?;
        Ok(Py::new(py, LazyArray::new(out))?.into_any())
    }

    /// A built array, or the engine's error as a Python exception.
    pub(crate) fn wrap(py: Python<'_>, result: chunkwise::Result<Array>) -> PyResult<LazyArray> {
        result.or_raise(py).map(LazyArray::new)
    }
}

/// Shape-like tuples as NumPy shows them.
fn tuple<'py>(py: Python<'py>, values: &[u64]) -> PyResult<Bound<'py, PyTuple>> {
    PyTuple::new(py, values)
}

#[pymethods]
impl LazyArray {
    /// The shape, as NumPy's `ndarray.shape`.
    #[getter]
    fn shape<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        tuple(py, self.inner.shape())
    }

    /// The chunk shape the expression is computed in.
    #[getter]
    fn chunks<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        tuple(py, &self.inner.meta().chunks)
    }

    /// The number of dimensions.
    #[getter]
    fn ndim(&self) -> usize {
        self.inner.shape().len()
    }

    /// The element type, as a `numpy.dtype`.
    #[getter]
    fn dtype<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py.import("numpy")?
            .call_method1("dtype", (self.inner.dtype().name(),))
    }

    /// The number of elements.
    #[getter]
    fn size(&self) -> u64 {
        self.inner.meta().num_elements()
    }

    /// The size of the whole array in bytes.
    #[getter]
    fn nbytes(&self) -> u64 {
        self.size().saturating_mul(self.inner.dtype().size() as u64)
    }

    fn __len__(&self) -> PyResult<usize> {
        match self.inner.shape().first() {
            Some(&n) => Ok(n as usize),
            None => Err(pyo3::exceptions::PyTypeError::new_err(
                "len() of a 0-d array",
            )),
        }
    }

    fn __repr__(&self) -> String {
        let list = |v: &[u64]| v.iter().map(u64::to_string).collect::<Vec<_>>().join(", ");
        format!(
            "chunkwise.Array<shape=({}), dtype={}, chunks=({}), op={}>",
            list(self.inner.shape()),
            self.inner.dtype(),
            list(&self.inner.meta().chunks),
            self.inner.label()
        )
    }

    /// The summary Jupyter shows: a small table.
    fn _repr_html_(&self) -> String {
        let list = |v: &[u64]| v.iter().map(u64::to_string).collect::<Vec<_>>().join(" × ");
        let row = |k: &str, v: String| {
            format!("<tr><th style=\"text-align:left\">{k}</th><td>{v}</td></tr>")
        };
        let nchunks: u64 = self
            .inner
            .shape()
            .iter()
            .zip(&self.inner.meta().chunks)
            .map(|(n, c)| n.div_ceil(*c.max(&1)))
            .product();
        let escape = |s: String| {
            s.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
        };
        format!(
            "<table><caption>chunkwise.Array</caption>{}{}{}{}{}</table>",
            row("shape", list(self.inner.shape())),
            row("dtype", self.inner.dtype().to_string()),
            row(
                "chunks",
                format!("{} ({nchunks} chunks)", list(&self.inner.meta().chunks))
            ),
            row("size", chunkwise::engine::plan::human_bytes(self.nbytes())),
            row("op", escape(self.inner.label())),
        )
    }

    /// NumPy's `astype`: the elements converted to `dtype` (rounding and saturation as the
    /// engine documents for each pair of types).
    fn astype(&self, py: Python<'_>, dtype: &Bound<'_, PyAny>) -> PyResult<LazyArray> {
        let to = crate::convert::dtype(dtype)?;
        Self::wrap(py, self.inner.astype(to))
    }

    /// NumPy's `clip(min, max)`; either bound may be `None`.
    #[pyo3(signature = (min=None, max=None))]
    fn clip(
        &self,
        py: Python<'_>,
        min: Option<&Bound<'_, PyAny>>,
        max: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<LazyArray> {
        let (x, min, max) = crate::strong::clip(py, &self.inner, min, max)?;
        let bound = |b: Option<Bound<'_, PyAny>>| -> PyResult<Option<Scalar>> {
            b.filter(|b| !b.is_none()).map(|b| scalar(&b)).transpose()
        };
        Self::wrap(
            py,
            chunkwise::ops::elementwise::clip(&x, bound(min)?, bound(max)?),
        )
    }

    /// `np.minimum(self, other)`.
    fn minimum(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.arith(py, Arith::Minimum, other, false)
    }

    /// `np.maximum(self, other)`.
    fn maximum(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.arith(py, Arith::Maximum, other, false)
    }

    /// `np.sqrt(self)` (integers become float32 up to 16 bits, float64 above).
    fn sqrt(&self, py: Python<'_>) -> PyResult<LazyArray> {
        Self::wrap(py, unary(UnaryFn::Sqrt, &self.inner))
    }

    /// `np.exp(self)` (integers become float as in `sqrt`).
    fn exp(&self, py: Python<'_>) -> PyResult<LazyArray> {
        Self::wrap(py, unary(UnaryFn::Exp, &self.inner))
    }

    /// `np.log(self)` (integers become float as in `sqrt`).
    fn log(&self, py: Python<'_>) -> PyResult<LazyArray> {
        Self::wrap(py, unary(UnaryFn::Log, &self.inner))
    }

    fn __abs__(&self, py: Python<'_>) -> PyResult<LazyArray> {
        Self::wrap(py, unary(UnaryFn::Abs, &self.inner))
    }

    fn __add__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.arith(py, Arith::Add, other, false)
    }
    fn __radd__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.arith(py, Arith::Add, other, true)
    }
    fn __sub__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.arith(py, Arith::Sub, other, false)
    }
    fn __rsub__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.arith(py, Arith::Sub, other, true)
    }
    fn __mul__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.arith(py, Arith::Mul, other, false)
    }
    fn __rmul__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.arith(py, Arith::Mul, other, true)
    }
    fn __truediv__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.arith(py, Arith::Div, other, false)
    }
    fn __rtruediv__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.arith(py, Arith::Div, other, true)
    }

    /// `<`, `<=`, `==`, `!=`, `>`, `>=` against a number or an array, as a bool array: NumPy 2's
    /// comparisons (broadcasting, promotion, out-of-range integers compared exactly).
    fn __richcmp__(
        &self,
        py: Python<'_>,
        other: &Bound<'_, PyAny>,
        op: CompareOp,
    ) -> PyResult<Py<PyAny>> {
        let name = match op {
            CompareOp::Lt => "less",
            CompareOp::Le => "less_equal",
            CompareOp::Eq => "equal",
            CompareOp::Ne => "not_equal",
            CompareOp::Gt => "greater",
            CompareOp::Ge => "greater_equal",
        };
        let (x, other) = crate::strong::binary(py, name, &self.inner, other, false)?;
        let other = match operand(&other) {
            Ok(other) => other,
            Err(e) if e.is_instance_of::<pyo3::exceptions::PyTypeError>(py) => {
                return Ok(py.NotImplemented())
            }
            Err(e) => return Err(e),
        };
        let out = match op {
            CompareOp::Lt => x.less(other),
            CompareOp::Le => x.less_equal(other),
            CompareOp::Eq => x.equal(other),
            CompareOp::Ne => x.not_equal(other),
            CompareOp::Gt => x.greater(other),
            CompareOp::Ge => x.greater_equal(other),
        };
        Ok(Py::new(py, Self::wrap(py, out)?)?.into_any())
    }

    /// NumPy would otherwise treat a chunkwise array as an object scalar in `ndarray + x`;
    /// `None` makes it return `NotImplemented` so Python calls this class's reflected method.
    #[classattr]
    fn __array_ufunc__(py: Python<'_>) -> Py<PyAny> {
        py.None()
    }

    /// Reduces by integer `factors` per axis (one int for all axes; default 2): `method` is mean, min,
    /// max, median, mode or stride. A shape that does not divide gives partial edge blocks.
    #[pyo3(signature = (factors=None, method="mean"))]
    fn downsample(
        &self,
        py: Python<'_>,
        factors: Option<Bound<'_, PyAny>>,
        method: &str,
    ) -> PyResult<LazyArray> {
        let factors: Vec<u64> = match factors.filter(|f| !f.is_none()) {
            Some(f) => per_axis(&f, self.ndim(), "factors")?,
            None => vec![2; self.ndim()],
        };
        let method: DownsampleMethod =
            choice(method, "method", "mean, min, max, median, mode or stride")?;
        Self::wrap(py, self.inner.downsample(&factors, method))
    }

    /// Enlarges by integer `factors` per axis (default 2): `method` is nearest or linear (SciPy's
    /// `zoom(order=1, grid_mode=True, mode="nearest")`).
    #[pyo3(signature = (factors=None, method="nearest"))]
    fn upsample(
        &self,
        py: Python<'_>,
        factors: Option<Bound<'_, PyAny>>,
        method: &str,
    ) -> PyResult<LazyArray> {
        let factors: Vec<u64> = match factors.filter(|f| !f.is_none()) {
            Some(f) => per_axis(&f, self.ndim(), "factors")?,
            None => vec![2; self.ndim()],
        };
        let method: UpsampleMethod = choice(method, "method", "nearest or linear")?;
        Self::wrap(py, self.inner.upsample(&factors, method))
    }
}

/// `numpy.where(mask, a, b)`, broadcasting the mask and the arrays against each other as NumPy
/// does; `a` and `b` may be numbers (NumPy scalars strong, Python numbers weak).
#[pyfunction]
#[pyo3(name = "where")]
pub fn where_(
    py: Python<'_>,
    mask: &Bound<'_, LazyArray>,
    a: &Bound<'_, PyAny>,
    b: &Bound<'_, PyAny>,
) -> PyResult<LazyArray> {
    let (a, b, dtype) = crate::strong::where_(py, a, b)?;
    let to = dtype.map(|d| crate::convert::dtype(&d)).transpose()?;
    // With two scalars the engine's type for them (weak) may not be NumPy's for strong ones.
    let out =
        chunkwise::prelude::where_(&mask.get().inner, operand(&a)?, operand(&b)?).and_then(|o| {
            match to {
                Some(to) if o.dtype() != to => o.astype(to),
                _ => Ok(o),
            }
        });
    LazyArray::wrap(py, out)
}
