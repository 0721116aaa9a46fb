//! `stats()`: the numbers a user wants before anything else — count, min, max, mean, standard
//! deviation, a histogram and percentiles — in as few passes as the data allows: for bool and
//! 8/16-bit integers one pass (a count per value gives everything); for other types one pass
//! for the moments and extremes, one for the histogram (its range is the extremes), and the
//! percentiles' passes only when asked for.

use chunkwise_engine::{Array, Error, ExecOptions, Result};
use serde::Serialize;

use super::quantile::{linear, quantiles_in};
use super::run::{as_f64, compute_small};
use super::value_counts::ValueCounts;
use super::{reduce, Axes, Reduction};

/// What [`stats`] computes besides the moments.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct StatsOptions {
    /// Histogram bins over `[min, max]` (0: no histogram).
    pub bins: u32,
    /// Percentiles to compute, each in `[0, 100]`.
    pub percentiles: Vec<f64>,
}

impl Default for StatsOptions {
    fn default() -> Self {
        Self {
            bins: 256,
            percentiles: vec![0.5, 50.0, 99.5],
        }
    }
}

impl StatsOptions {
    /// `bins` histogram bins and `percentiles`.
    pub fn new(bins: u32, percentiles: &[f64]) -> Self {
        Self {
            bins,
            percentiles: percentiles.to_vec(),
        }
    }
}

/// Summary statistics of an array (NaN propagates as in NumPy: a NaN anywhere makes min, max,
/// mean, std and the percentiles NaN; the histogram ignores NaN).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Stats {
    /// Number of elements.
    pub count: u64,
    /// `np.min`.
    pub min: f64,
    /// `np.max`.
    pub max: f64,
    /// `np.mean`.
    pub mean: f64,
    /// `np.std` (ddof 0).
    pub std: f64,
    /// `(percentile, value)` pairs, as `np.percentile`.
    pub percentiles: Vec<(f64, f64)>,
    /// Bin edges (`bins + 1`), as `np.histogram(x, bins, range=(min, max))`.
    pub edges: Vec<f64>,
    /// Counts per bin.
    pub histogram: Vec<u64>,
}

/// The histogram range `np.histogram` takes from data with extremes `min` and `max`: those,
/// widened by 0.5 each way when equal; `None` when either is not finite (NumPy raises).
pub fn auto_range(min: f64, max: f64) -> Option<(f64, f64)> {
    if !(min.is_finite() && max.is_finite()) {
        return None;
    }
    Some(if min == max {
        (min - 0.5, max + 0.5)
    } else {
        (min, max)
    })
}

/// Summary statistics of all elements of `x`.
///
/// # Errors
/// [`Error::Invalid`] for a percentile outside `[0, 100]`; run errors.
pub fn stats(x: &Array, options: &StatsOptions, exec: &ExecOptions) -> Result<Stats> {
    if let Some(p) = options
        .percentiles
        .iter()
        .find(|p| !(0.0..=100.0).contains(*p))
    {
        return Err(Error::Invalid(format!(
            "percentile {p} is outside [0, 100]"
        )));
    }
    if let Some(counts) = ValueCounts::of(x, exec)? {
        return from_counts(&counts, options, x);
    }
    let all = Axes::all();
    let summary = compute_small(&[reduce(x, Reduction::Summary, &all)?], exec)?;
    let v = as_f64(&summary[0]);
    let (min, max) = (v[0], v[1]);
    let (mut edges, mut histogram) = (Vec::new(), Vec::new());
    if let Some((lo, hi)) = auto_range(min, max).filter(|_| options.bins > 0) {
        let h = Reduction::Histogram {
            bins: options.bins,
            lo,
            hi,
        };
        let counts = compute_small(&[reduce(x, h, &all)?], exec)?;
        histogram = as_f64(&counts[0]).into_iter().map(|c| c as u64).collect();
        edges = super::histogram_edges(options.bins, lo, hi, x.dtype());
    }
    let qs: Vec<f64> = options.percentiles.iter().map(|p| p / 100.0).collect();
    let values = if qs.is_empty() {
        Vec::new()
    } else {
        quantiles_in(x, &qs, min, max, exec)?
    };
    Ok(Stats {
        count: x.meta().num_elements(),
        min,
        max,
        mean: v[2],
        std: v[3],
        percentiles: options.percentiles.iter().copied().zip(values).collect(),
        edges,
        histogram,
    })
}

/// [`stats`] of a bool or 8/16-bit integer array from its per-value counts (one read).
fn from_counts(counts: &ValueCounts, options: &StatsOptions, x: &Array) -> Result<Stats> {
    let n = x.meta().num_elements();
    let (min, max) = (counts.min(), counts.max());
    let (mut edges, mut histogram) = (Vec::new(), Vec::new());
    if let Some((lo, hi)) = auto_range(min, max).filter(|_| options.bins > 0) {
        histogram = counts.histogram(options.bins, lo, hi, x.dtype());
        edges = super::histogram_edges(options.bins, lo, hi, x.dtype());
    }
    let qs: Vec<f64> = options.percentiles.iter().map(|p| p / 100.0).collect();
    let values = linear(n, &qs, |rank| Ok(counts.order_statistic(rank)))?;
    Ok(Stats {
        count: n,
        min,
        max,
        mean: counts.mean(),
        std: counts.std(),
        percentiles: options.percentiles.iter().copied().zip(values).collect(),
        edges,
        histogram,
    })
}
