//! Reductions from Python: NumPy's methods (`x.sum(axis=..., keepdims=...)`, `x.std(ddof=1)`,
//! ...) give lazy arrays that chain and compute like any other; `histogram`, `quantile`,
//! `percentile` and `stats` run at once (their answers are small, and NumPy's return values).

use chunkwise::ops::reduce::{
    as_f64, auto_range, bincount as bincount_of, compute_small, histogram_edges, percentiles,
    quantiles, reduce, stats as stats_of, Axes, Reduction, StatsOptions,
};
use numpy::IntoPyArray;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::array::LazyArray;
use crate::errors::{invalid, OrRaise};
use crate::run::RunArgs;

/// NumPy's `axis=`: `None` (all), an int or a tuple of ints, negative ones counted from the end.
fn axes(axis: Option<&Bound<'_, PyAny>>, ndim: usize, keepdims: bool) -> PyResult<Axes> {
    let list: Option<Vec<i64>> = match axis.filter(|a| !a.is_none()) {
        None => None,
        Some(a) => Some(match a.extract::<i64>() {
            Ok(one) => vec![one],
            Err(_) => a.extract().map_err(|_| {
                invalid(format!(
                    "axis must be None, an int or a tuple of ints, got {a}"
                ))
            })?,
        }),
    };
    let resolved = list
        .map(|list| {
            list.into_iter()
                .map(|a| {
                    let n = ndim as i64;
                    let at = if a < 0 { a + n } else { a };
                    usize::try_from(at)
                        .ok()
                        .filter(|&at| at < ndim)
                        .ok_or_else(|| {
                            invalid(format!(
                                "axis {a} is out of range for an array of {ndim} dimensions"
                            ))
                        })
                })
                .collect::<PyResult<Vec<usize>>>()
        })
        .transpose()?;
    let mut axes = match resolved {
        Some(list) => Axes::along(&list),
        None => Axes::all(),
    };
    if keepdims {
        axes = axes.keepdims();
    }
    Ok(axes)
}

impl LazyArray {
    /// `reduction` (a name of `Reduction::parse`) over `axis`.
    fn reduction(
        &self,
        py: Python<'_>,
        name: &str,
        axis: Option<&Bound<'_, PyAny>>,
        keepdims: bool,
        ddof: u32,
    ) -> PyResult<LazyArray> {
        let r = Reduction::parse(name, ddof).or_raise(py)?;
        let axes = axes(axis, self.inner.shape().len(), keepdims)?;
        Self::wrap(py, reduce(&self.inner, r, &axes))
    }
}

#[pymethods]
impl LazyArray {
    /// Any reduction by NumPy's name, `nan*` included (`x.reduce("nanmean", axis=0)`); the
    /// methods below are this with a fixed name.
    #[pyo3(signature = (name, axis=None, keepdims=false, ddof=0))]
    fn reduce(
        &self,
        py: Python<'_>,
        name: &str,
        axis: Option<&Bound<'_, PyAny>>,
        keepdims: bool,
        ddof: u32,
    ) -> PyResult<LazyArray> {
        self.reduction(py, name, axis, keepdims, ddof)
    }
    /// `np.var` (divisor `n - ddof`).
    #[pyo3(signature = (axis=None, keepdims=false, ddof=0))]
    fn var(
        &self,
        py: Python<'_>,
        axis: Option<&Bound<'_, PyAny>>,
        keepdims: bool,
        ddof: u32,
    ) -> PyResult<LazyArray> {
        self.reduction(py, "var", axis, keepdims, ddof)
    }
    /// `np.std` (divisor `n - ddof`).
    #[pyo3(signature = (axis=None, keepdims=false, ddof=0))]
    fn std(
        &self,
        py: Python<'_>,
        axis: Option<&Bound<'_, PyAny>>,
        keepdims: bool,
        ddof: u32,
    ) -> PyResult<LazyArray> {
        self.reduction(py, "std", axis, keepdims, ddof)
    }
}

/// The reductions without parameters beyond `axis` and `keepdims`, as methods named as NumPy's
/// (`x.sum(axis=0)`), each [`LazyArray::reduction`] with its own name.
macro_rules! reduction_methods {
    ($($name:ident: $doc:literal),* $(,)?) => {
        #[pymethods]
        impl LazyArray {
            $(
                #[doc = $doc]
                #[pyo3(signature = (axis=None, keepdims=false))]
                fn $name(
                    &self,
                    py: Python<'_>,
                    axis: Option<&Bound<'_, PyAny>>,
                    keepdims: bool,
                ) -> PyResult<LazyArray> {
                    self.reduction(py, stringify!($name), axis, keepdims, 0)
                }
            )*
        }
    };
}

reduction_methods! {
    sum: "`np.sum` (NumPy 2's result type: uint64 for unsigned, int64 for signed integers).",
    prod: "`np.prod`.",
    mean: "`np.mean` (accumulated in float64).",
    min: "`np.min`.",
    max: "`np.max`; `x.max(axis=0)` is a maximum-intensity projection.",
    any: "`np.any`.",
    all: "`np.all`.",
    argmin: "`np.argmin` (a flat index over all axes, or along one axis).",
    argmax: "`np.argmax`.",
    count_nonzero: "`np.count_nonzero`.",
}

/// `np.histogram(x, bins, range)`: `(counts, edges)` as NumPy arrays (int64 counts; the last
/// bin closed; values outside and NaN ignored). Without `range`, the data's min and max (one
/// pass more), as NumPy does.
#[pyfunction]
#[pyo3(signature = (x, bins=10, range=None, *, threads=None, memory_limit=None, progress=None))]
#[allow(clippy::too_many_arguments)]
pub fn histogram<'py>(
    py: Python<'py>,
    x: &LazyArray,
    bins: u32,
    range: Option<(f64, f64)>,
    threads: Option<usize>,
    memory_limit: Option<Bound<'py, PyAny>>,
    progress: Option<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyTuple>> {
    if bins == 0 {
        return Err(invalid("bins must be at least 1"));
    }
    let args = RunArgs {
        threads,
        memory_limit,
        progress,
    };
    let x = x.inner.clone();
    let (counts, edges) = args.run(py, "histogram", move |exec| {
        let (lo, hi) = match range {
            Some(r) => r,
            None => {
                let s = stats_of(&x, &StatsOptions::new(0, &[]), exec)?;
                auto_range(s.min, s.max).ok_or_else(|| {
                    chunkwise::Error::Invalid(format!(
                        "autodetected range of [{}, {}] is not finite; pass range=(lo, hi)",
                        s.min, s.max
                    ))
                })?
            }
        };
        let h = Reduction::Histogram { bins, lo, hi };
        let counts = as_f64(&compute_small(&[reduce(&x, h, &Axes::all())?], exec)?[0]);
        let edges = histogram_edges(bins, lo, hi, x.dtype());
        Ok((
            counts.into_iter().map(|c| c as i64).collect::<Vec<_>>(),
            edges,
        ))
    })?;
    PyTuple::new(
        py,
        [
            counts.into_pyarray(py).into_any(),
            edges.into_pyarray(py).into_any(),
        ],
    )
}

/// `np.quantile(x, q)` over all elements, exact (NumPy's default `linear` method); `q` a number
/// or a sequence in `[0, 1]`.
#[pyfunction]
#[pyo3(signature = (x, q, *, threads=None, memory_limit=None, progress=None))]
pub fn quantile<'py>(
    py: Python<'py>,
    x: &LazyArray,
    q: &Bound<'py, PyAny>,
    threads: Option<usize>,
    memory_limit: Option<Bound<'py, PyAny>>,
    progress: Option<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    order_statistics(
        py,
        x,
        q,
        RunArgs {
            threads,
            memory_limit,
            progress,
        },
        quantiles,
    )
}

/// `np.percentile(x, q)` over all elements, exact; `q` a number or a sequence in `[0, 100]`.
#[pyfunction]
#[pyo3(signature = (x, q, *, threads=None, memory_limit=None, progress=None))]
pub fn percentile<'py>(
    py: Python<'py>,
    x: &LazyArray,
    q: &Bound<'py, PyAny>,
    threads: Option<usize>,
    memory_limit: Option<Bound<'py, PyAny>>,
    progress: Option<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    order_statistics(
        py,
        x,
        q,
        RunArgs {
            threads,
            memory_limit,
            progress,
        },
        percentiles,
    )
}

/// A float for a scalar `q`, a 1-d array for a sequence, as NumPy returns them.
fn order_statistics<'py>(
    py: Python<'py>,
    x: &LazyArray,
    q: &Bound<'py, PyAny>,
    args: RunArgs<'py>,
    f: fn(&chunkwise::Array, &[f64], &chunkwise::ExecOptions) -> chunkwise::Result<Vec<f64>>,
) -> PyResult<Bound<'py, PyAny>> {
    let (qs, scalar) = match q.extract::<f64>() {
        Ok(one) => (vec![one], true),
        Err(_) => (
            q.extract::<Vec<f64>>().map_err(|_| {
                invalid(format!(
                    "q must be a number or a sequence of numbers, got {q}"
                ))
            })?,
            false,
        ),
    };
    let x = x.inner.clone();
    let values = args.run(py, "quantiles", move |exec| f(&x, &qs, exec))?;
    if scalar {
        Ok(values[0].into_pyobject(py)?.into_any())
    } else {
        Ok(values.into_pyarray(py).into_any())
    }
}

/// `np.bincount(x)` of a non-negative integer array, as an int64 NumPy array.
#[pyfunction]
#[pyo3(signature = (x, *, threads=None, memory_limit=None, progress=None))]
pub fn bincount<'py>(
    py: Python<'py>,
    x: &LazyArray,
    threads: Option<usize>,
    memory_limit: Option<Bound<'py, PyAny>>,
    progress: Option<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let args = RunArgs {
        threads,
        memory_limit,
        progress,
    };
    let x = x.inner.clone();
    let counts = args.run(py, "bincount", move |exec| bincount_of(&x, exec))?;
    let counts: Vec<i64> = counts.into_iter().map(|c| c as i64).collect();
    Ok(counts.into_pyarray(py).into_any())
}

/// Count, min, max, mean, std, percentiles and a histogram in as few passes as the data
/// allows, as a dict (`percentiles` maps each percentile to its value).
#[pyfunction]
#[pyo3(signature = (x, *, bins=256, percentiles=vec![0.5, 50.0, 99.5], threads=None, memory_limit=None, progress=None))]
#[allow(clippy::too_many_arguments)]
pub fn stats<'py>(
    py: Python<'py>,
    x: &LazyArray,
    bins: u32,
    percentiles: Vec<f64>,
    threads: Option<usize>,
    memory_limit: Option<Bound<'py, PyAny>>,
    progress: Option<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let args = RunArgs {
        threads,
        memory_limit,
        progress,
    };
    let x = x.inner.clone();
    let s = args.run(py, "stats", move |exec| {
        stats_of(&x, &StatsOptions::new(bins, &percentiles), exec)
    })?;
    let d = PyDict::new(py);
    d.set_item("count", s.count)?;
    d.set_item("min", s.min)?;
    d.set_item("max", s.max)?;
    d.set_item("mean", s.mean)?;
    d.set_item("std", s.std)?;
    let p = PyDict::new(py);
    for (k, v) in &s.percentiles {
        p.set_item(k, v)?;
    }
    d.set_item("percentiles", p)?;
    let counts: Vec<i64> = s.histogram.iter().map(|&c| c as i64).collect();
    d.set_item("histogram", counts.into_pyarray(py))?;
    d.set_item("edges", s.edges.into_pyarray(py))?;
    Ok(d)
}
