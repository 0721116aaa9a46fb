//! Exact quantiles (NumPy's default `linear` method) in a few passes, never holding the input:
//! a histogram over the data's range finds the bin holding each needed order statistic, then
//! the values of just that bin are collected and sorted. For 8- and 16-bit integers one
//! histogram with a bin per value of the type gives every order statistic in one pass
//! ([`ValueCounts`]). A bin too full to collect is narrowed by another histogram over its own
//! range.

use chunkwise_engine::{Array, Error, ExecOptions, Result};

use super::fold::Bins;
use super::kind::Reduction;
use super::run::{as_f64, compute_small};
use super::value_counts::ValueCounts;
use super::{reduce, Axes};

/// Bins of each narrowing histogram.
const BINS: u32 = 4096;
/// The most values collected for one order statistic (kept per partial: 512 KiB).
const CAP: u32 = 1 << 16;
/// Narrowing passes before giving up (each shrinks the range 4096-fold, or ends on a constant).
const MAX_PASSES: usize = 16;

/// The `q`-quantiles of all elements of `x` (each `q` in `[0, 1]`), as `np.quantile(x, q)`;
/// NaN when `x` holds a NaN.
///
/// # Errors
/// [`Error::Invalid`] for a `q` outside `[0, 1]`; run errors.
pub fn quantiles(x: &Array, qs: &[f64], exec: &ExecOptions) -> Result<Vec<f64>> {
    if let Some(q) = qs.iter().find(|q| !(0.0..=1.0).contains(*q)) {
        return Err(Error::Invalid(format!("quantile {q} is outside [0, 1]")));
    }
    if let Some(counts) = ValueCounts::of(x, exec)? {
        let n = x.meta().num_elements();
        return linear(n, qs, |rank| Ok(counts.order_statistic(rank)));
    }
    let extremes = compute_small(
        &[
            reduce(x, Reduction::Min, &Axes::all())?,
            reduce(x, Reduction::Max, &Axes::all())?,
        ],
        exec,
    )?;
    let (min, max) = (as_f64(&extremes[0])[0], as_f64(&extremes[1])[0]);
    quantiles_in(x, qs, min, max, exec)
}

/// The percentiles `ps` (each in `[0, 100]`) of all elements of `x`, as `np.percentile(x, ps)`.
///
/// # Errors
/// [`Error::Invalid`] for a percentile outside `[0, 100]`; run errors.
pub fn percentiles(x: &Array, ps: &[f64], exec: &ExecOptions) -> Result<Vec<f64>> {
    if let Some(p) = ps.iter().find(|p| !(0.0..=100.0).contains(*p)) {
        return Err(Error::Invalid(format!(
            "percentile {p} is outside [0, 100]"
        )));
    }
    let qs: Vec<f64> = ps.iter().map(|p| p / 100.0).collect();
    quantiles(x, &qs, exec)
}

/// [`quantiles`] with the extremes already known (of an array [`ValueCounts`] does not
/// cover: [`quantiles`] and `stats()` take those from its counts).
pub(crate) fn quantiles_in(
    x: &Array,
    qs: &[f64],
    min: f64,
    max: f64,
    exec: &ExecOptions,
) -> Result<Vec<f64>> {
    if min.is_nan() || max.is_nan() {
        return Ok(vec![f64::NAN; qs.len()]);
    }
    let n = x.meta().num_elements();
    if n == 0 {
        return Err(Error::Invalid("quantiles of an empty array".into()));
    }
    let mut passes = Passes::default();
    linear(n, qs, |rank| {
        passes.order_statistic(x, rank, min, max, exec)
    })
}

/// NumPy's `linear` quantiles of `n` sorted elements, from their order statistics (each rank
/// asked once).
pub(crate) fn linear(
    n: u64,
    qs: &[f64],
    mut order_statistic: impl FnMut(u64) -> Result<f64>,
) -> Result<Vec<f64>> {
    let mut cache: Vec<(u64, f64)> = Vec::new();
    let mut at = |rank: u64| -> Result<f64> {
        if let Some(&(_, v)) = cache.iter().find(|(r, _)| *r == rank) {
            return Ok(v);
        }
        let v = order_statistic(rank)?;
        cache.push((rank, v));
        Ok(v)
    };
    qs.iter()
        .map(|&q| {
            // Virtual index (n - 1) q, then `_lerp`.
            let h = (n - 1) as f64 * q;
            let below = h.floor();
            let t = h - below;
            let a = at(below as u64)?;
            let b = at((below as u64 + 1).min(n - 1))?;
            Ok(lerp(a, b, t))
        })
        .collect()
}

/// NumPy's `_lerp`: `a + (b - a) t`, from `b`'s side when `t >= 0.5` (monotone and exact at
/// the ends).
fn lerp(a: f64, b: f64, t: f64) -> f64 {
    let d = b - a;
    if t >= 0.5 {
        b - d * (1.0 - t)
    } else {
        a + d * t
    }
}

/// The bin holding order statistic `rank` (0-based), and the rank within that bin.
pub(crate) fn find_bin(counts: &[u64], rank: u64) -> (usize, u64) {
    let mut below = 0;
    for (b, &c) in counts.iter().enumerate() {
        if rank < below + c {
            return (b, rank - below);
        }
        below += c;
    }
    (counts.len().saturating_sub(1), 0)
}

/// The histogram and collect passes made so far for one set of quantiles, reused by order
/// statistics that fall into the same bins (the first histogram is shared by all of them).
/// A collect pass's bin (`lo`, `hi`, closed above) and cap, by bits.
type CollectKey = (u64, u64, bool, u32);

#[derive(Default)]
struct Passes {
    histograms: Vec<((u64, u64), Vec<u64>)>,
    collected: Vec<(CollectKey, Vec<f64>)>,
}

impl Passes {
    fn histogram(&mut self, x: &Array, lo: f64, hi: f64, exec: &ExecOptions) -> Result<Vec<u64>> {
        let key = (lo.to_bits(), hi.to_bits());
        if let Some((_, h)) = self.histograms.iter().find(|(k, _)| *k == key) {
            return Ok(h.clone());
        }
        let h = histogram_counts(x, BINS, lo, hi, exec)?;
        self.histograms.push((key, h.clone()));
        Ok(h)
    }

    fn collect(
        &mut self,
        x: &Array,
        (lo, hi, closed): (f64, f64, bool),
        cap: u32,
        exec: &ExecOptions,
    ) -> Result<Vec<f64>> {
        let key = (lo.to_bits(), hi.to_bits(), closed, cap);
        if let Some((_, c)) = self.collected.iter().find(|(k, _)| *k == key) {
            return Ok(c.clone());
        }
        let c = collect(x, lo, hi, closed, cap, exec)?;
        self.collected.push((key, c.clone()));
        Ok(c)
    }

    /// The element of rank `rank` among all of `x` (whose values lie in `[lo, hi]`).
    fn order_statistic(
        &mut self,
        x: &Array,
        mut rank: u64,
        mut lo: f64,
        mut hi: f64,
        exec: &ExecOptions,
    ) -> Result<f64> {
        for _ in 0..MAX_PASSES {
            if lo == hi {
                return Ok(lo);
            }
            let counts = self.histogram(x, lo, hi, exec)?;
            let (b, within) = find_bin(&counts, rank);
            let state = Reduction::Histogram { bins: BINS, lo, hi }.state(x.dtype());
            let edges = Bins::new(state).edges;
            let bin = (edges[b], edges[b + 1], b + 1 == counts.len());
            rank = within;
            if counts[b] <= u64::from(CAP) {
                let got = self.collect(x, bin, counts[b] as u32, exec)?;
                let mut values = got[3..3 + counts[b] as usize].to_vec();
                values.sort_by(f64::total_cmp);
                return values.get(rank as usize).copied().ok_or_else(|| {
                    Error::Invalid("internal: a quantile's bin lost values between passes".into())
                });
            }
            let range = self.collect(x, bin, 0, exec)?;
            lo = range[1];
            hi = range[2];
        }
        Err(Error::Invalid(format!(
            "the quantile did not converge in {MAX_PASSES} passes"
        )))
    }
}

pub(crate) fn histogram_counts(
    x: &Array,
    bins: u32,
    lo: f64,
    hi: f64,
    exec: &ExecOptions,
) -> Result<Vec<u64>> {
    let h = reduce(x, Reduction::Histogram { bins, lo, hi }, &Axes::all())?;
    Ok(as_f64(&compute_small(&[h], exec)?[0])
        .into_iter()
        .map(|c| c as u64)
        .collect())
}

/// `[count, min, max, values...]` of the elements in `[lo, hi)` (or `[lo, hi]` when `closed`).
fn collect(
    x: &Array,
    lo: f64,
    hi: f64,
    closed: bool,
    cap: u32,
    exec: &ExecOptions,
) -> Result<Vec<f64>> {
    let hi = if closed { hi } else { hi.next_down() };
    let c = reduce(x, Reduction::Collect { lo, hi, cap }, &Axes::all())?;
    Ok(as_f64(&compute_small(&[c], exec)?[0]))
}
