//! Reductions: `sum`, `prod`, `mean`, `min`, `max`, `var`, `std`, `count_nonzero`, `any`,
//! `all`, `argmin`, `argmax` over all axes or some, with NumPy 2's result types.
//!
//! A reduction is three kinds of region op chained in the expression graph (see [`reduce`]):
//! [`ReducePartial`] reads each input chunk once and keeps a small state per output element
//! (count and sum, min with its index, mean and squared deviations...); [`ReduceCombine`]
//! levels merge those states `fan_in` at a time per reduced axis, a fixed tree over the chunk
//! grid; [`ReduceFinish`] turns the merged state into the result. Everything stays chunked: an
//! axis reduction (a maximum-intensity projection) is a lazy array like any other, and no task
//! holds more than one input chunk. Element-wise producers fuse into the partial's read, as into
//! any region op's, so `(x > t).count_nonzero()` reads `x` once.
//!
//! Floats accumulate in float64 (NumPy sums float32 in float32 with pairwise summation: our
//! results are at least as accurate, and equal to NumPy's within NumPy's own rounding error);
//! float results are bit-identical for any thread count and task order, and may differ in the
//! last bits between chunkings (the tree follows the chunk grid). Integer results are exact.

mod acc;
mod bincount;
mod combine;
mod finish;
mod fold;
mod kind;
mod partial;
mod pipeline;
mod quantile;
mod run;
mod stats;
mod value_counts;

use std::sync::Arc;

pub use bincount::{bincount, BINCOUNT_MAX_BINS};
use chunkwise_engine::{Array, Error, Result};
pub use combine::ReduceCombine;
pub use finish::ReduceFinish;
pub use kind::Reduction;
pub use partial::ReducePartial;
pub use pipeline::register;
pub use quantile::{percentiles, quantiles};
pub use run::{as_f64, compute_small};
pub use stats::{auto_range, stats, Stats, StatsOptions};

/// The axes a reduction runs over, and whether they stay (with extent 1) in the result.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Axes {
    /// The axes (`None`: all of them, as NumPy's `axis=None`).
    pub axes: Option<Vec<usize>>,
    /// NumPy's `keepdims`.
    pub keepdims: bool,
}

impl Axes {
    /// Every axis: the result is 0-d (a scalar), or all ones with [`Axes::keepdims`].
    pub fn all() -> Self {
        Self::default()
    }

    /// The axes `axes` (NumPy's `axis=(...)`).
    pub fn along(axes: &[usize]) -> Self {
        Self {
            axes: Some(axes.to_vec()),
            keepdims: false,
        }
    }

    /// Keeps the reduced axes with extent 1.
    #[must_use]
    pub fn keepdims(mut self) -> Self {
        self.keepdims = true;
        self
    }

    /// The reduced axes of an `ndim`-d array, ascending.
    ///
    /// # Errors
    /// [`Error::Invalid`] for an axis out of range or given twice.
    fn resolve(&self, ndim: usize) -> Result<Vec<usize>> {
        let Some(axes) = &self.axes else {
            return Ok((0..ndim).collect());
        };
        let mut sorted = axes.clone();
        sorted.sort_unstable();
        if let Some(&bad) = sorted.iter().find(|&&a| a >= ndim) {
            return Err(Error::Invalid(format!(
                "axis {bad} is out of range for an array of {ndim} dimensions"
            )));
        }
        if sorted.windows(2).any(|w| w[0] == w[1]) {
            return Err(Error::Invalid(format!("axes {axes:?} repeat an axis")));
        }
        Ok(sorted)
    }
}

impl From<usize> for Axes {
    fn from(axis: usize) -> Self {
        Axes::along(&[axis])
    }
}

/// States merged per reduced axis in one combine task: up to 16 per task whatever the number
/// of reduced axes, so a combine task stays small and the tree shallow.
fn fan_in(reduced_axes: usize) -> u64 {
    match reduced_axes {
        0 | 1 => 16,
        2 => 4,
        _ => 2,
    }
}

/// `reduction` of `x` over `axes`: partials per chunk, a fixed combine tree, the result.
///
/// # Errors
/// [`Error::Invalid`] for an axis out of range or repeated, or argmin/argmax over several but
/// not all axes.
pub fn reduce(x: &Array, reduction: Reduction, axes: &Axes) -> Result<Array> {
    let mut all = reduce_many(x, &[reduction], axes)?;
    all.pop()
        .ok_or_else(|| Error::Invalid("internal: a reduction gave no result".into()))
}

/// Several reductions of `x` over the same `axes` that share their reads: reductions with the
/// same accumulator type (float64 for most; int64/uint64 for integer sums and products) keep
/// their states side by side in one partial per chunk, so `[sum, max, mean]` of a float volume
/// reads it once. Results in the order of `reductions`.
///
/// # Errors
/// As [`reduce`], for any of them.
pub fn reduce_many(x: &Array, reductions: &[Reduction], axes: &Axes) -> Result<Vec<Array>> {
    let ndim = x.shape().len();
    let axes_list = axes.resolve(ndim)?;
    for r in reductions {
        r.check_axes(&axes_list, ndim)?;
    }
    let mut results: Vec<Option<Array>> = vec![None; reductions.len()];
    let mut groups: Vec<(chunkwise_engine::DType, Vec<usize>)> = Vec::new();
    for (i, r) in reductions.iter().enumerate() {
        let acc = r.acc_dtype(x.dtype());
        match groups.iter_mut().find(|(d, _)| *d == acc) {
            Some((_, members)) => members.push(i),
            None => groups.push((acc, vec![i])),
        }
    }
    for (_, members) in groups {
        let group: Vec<Reduction> = members.iter().map(|&i| reductions[i]).collect();
        let merged = merged_partials(x, &group, &axes_list)?;
        let (states, _) = kind::layout(&group, x.dtype());
        for (&i, (state, at)) in members.iter().zip(states) {
            let finish = ReduceFinish {
                reduction: reductions[i],
                axes: axes_list.clone(),
                keepdims: axes.keepdims,
                input_dtype: x.dtype(),
                offset: at as u64,
                slots: state.slots(),
            };
            results[i] = Some(Array::apply(Arc::new(finish), vec![merged.clone()])?);
        }
    }
    Ok(results.into_iter().flatten().collect())
}

/// The partial states of `group` over `axes`, merged down the combine tree until every
/// reduced axis has extent 1.
fn merged_partials(x: &Array, group: &[Reduction], axes: &[usize]) -> Result<Array> {
    let partial = ReducePartial {
        reductions: group.to_vec(),
        axes: axes.to_vec(),
        input: x.meta().clone(),
    };
    let mut p = Array::apply(Arc::new(partial), vec![x.clone()])?;
    while axes.iter().any(|&a| p.shape()[a] > 1) {
        let combine = ReduceCombine {
            reductions: group.to_vec(),
            axes: axes.to_vec(),
            fan_in: fan_in(axes.len()),
            input_shape: p.shape().to_vec(),
            input_dtype: x.dtype(),
        };
        p = Array::apply(Arc::new(combine), vec![p])?;
    }
    Ok(p)
}

/// The bin edges `np.histogram(x, bins, range=(lo, hi))` gives for an array of `dtype`
/// (float64 `linspace`, rounded to float32 for float32 data, as NumPy does).
pub fn histogram_edges(bins: u32, lo: f64, hi: f64, dtype: chunkwise_engine::DType) -> Vec<f64> {
    fold::Bins::new(Reduction::Histogram { bins, lo, hi }.state(dtype)).edges
}

/// Reductions on [`Array`] (see [`reduce`]): `x.sum(Axes::all())`, `x.max(0)` (a projection
/// along axis 0), `x.mean(Axes::along(&[1, 2]).keepdims())`.
pub trait ReduceExt {
    /// See [`reduce`].
    ///
    /// # Errors
    /// See [`reduce`].
    fn reduce(&self, reduction: Reduction, axes: impl Into<Axes>) -> Result<Array>;
    /// `np.sum`.
    ///
    /// # Errors
    /// See [`reduce`].
    fn sum(&self, axes: impl Into<Axes>) -> Result<Array> {
        self.reduce(Reduction::Sum, axes)
    }
    /// `np.prod`.
    ///
    /// # Errors
    /// See [`reduce`].
    fn prod(&self, axes: impl Into<Axes>) -> Result<Array> {
        self.reduce(Reduction::Prod, axes)
    }
    /// `np.mean`.
    ///
    /// # Errors
    /// See [`reduce`].
    fn mean(&self, axes: impl Into<Axes>) -> Result<Array> {
        self.reduce(Reduction::Mean, axes)
    }
    /// `np.min` (`amin`).
    ///
    /// # Errors
    /// See [`reduce`].
    fn min(&self, axes: impl Into<Axes>) -> Result<Array> {
        self.reduce(Reduction::Min, axes)
    }
    /// `np.max` (`amax`): along one axis, a maximum-intensity projection.
    ///
    /// # Errors
    /// See [`reduce`].
    fn max(&self, axes: impl Into<Axes>) -> Result<Array> {
        self.reduce(Reduction::Max, axes)
    }
    /// `np.var(ddof=ddof)`.
    ///
    /// # Errors
    /// See [`reduce`].
    fn var(&self, axes: impl Into<Axes>, ddof: u32) -> Result<Array> {
        self.reduce(Reduction::Var { ddof }, axes)
    }
    /// `np.std(ddof=ddof)`.
    ///
    /// # Errors
    /// See [`reduce`].
    fn std(&self, axes: impl Into<Axes>, ddof: u32) -> Result<Array> {
        self.reduce(Reduction::Std { ddof }, axes)
    }
    /// `np.count_nonzero`.
    ///
    /// # Errors
    /// See [`reduce`].
    fn count_nonzero(&self, axes: impl Into<Axes>) -> Result<Array> {
        self.reduce(Reduction::CountNonzero, axes)
    }
    /// `np.any`.
    ///
    /// # Errors
    /// See [`reduce`].
    fn any(&self, axes: impl Into<Axes>) -> Result<Array> {
        self.reduce(Reduction::Any, axes)
    }
    /// `np.all`.
    ///
    /// # Errors
    /// See [`reduce`].
    fn all(&self, axes: impl Into<Axes>) -> Result<Array> {
        self.reduce(Reduction::All, axes)
    }
    /// `np.argmin` (all axes: the flat index).
    ///
    /// # Errors
    /// See [`reduce`].
    fn argmin(&self, axes: impl Into<Axes>) -> Result<Array> {
        self.reduce(Reduction::Argmin, axes)
    }
    /// `np.argmax` (all axes: the flat index).
    ///
    /// # Errors
    /// See [`reduce`].
    fn argmax(&self, axes: impl Into<Axes>) -> Result<Array> {
        self.reduce(Reduction::Argmax, axes)
    }
    /// `np.histogram(x, bins, range=(lo, hi))[0]` over all elements: int64 counts, the last
    /// bin closed, values outside the range (and NaN) ignored.
    ///
    /// # Errors
    /// [`Error::Invalid`] for `bins == 0` or a range with `lo >= hi` (or not finite).
    fn histogram(&self, bins: u32, range: (f64, f64)) -> Result<Array> {
        let (lo, hi) = range;
        self.reduce(Reduction::Histogram { bins, lo, hi }, Axes::all())
    }
}

impl ReduceExt for Array {
    fn reduce(&self, reduction: Reduction, axes: impl Into<Axes>) -> Result<Array> {
        reduce(self, reduction, &axes.into())
    }
}
