//! The per-value counts of an 8- or 16-bit integer (or bool) array over its type's whole range,
//! from one histogram pass (counted per value by the fold, see `fold::dense_histogram`):
//! the extremes, the moments, any histogram and exact percentiles all follow from them without
//! reading the array again, so `stats()` of such an array is one read.

use chunkwise_engine::{Array, DType, ExecOptions, Result};

use super::fold::Bins;
use super::kind::Reduction;
use super::quantile::{find_bin, histogram_counts};

/// How many elements hold each value of the array's type.
pub(crate) struct ValueCounts {
    /// The type's lowest value (counted at index 0).
    lowest: f64,
    /// Elements per value, from `lowest` up.
    counts: Vec<u64>,
    /// Elements in all.
    n: u64,
}

impl ValueCounts {
    /// The counts of a non-empty bool or 8/16-bit integer array; `None` for other types and
    /// for an empty array.
    ///
    /// # Errors
    /// Run errors.
    pub(crate) fn of(x: &Array, exec: &ExecOptions) -> Result<Option<ValueCounts>> {
        let (lowest, values): (f64, u32) = match x.dtype() {
            DType::Bool => (0.0, 2),
            DType::Uint8 => (0.0, 1 << 8),
            DType::Int8 => (-128.0, 1 << 8),
            DType::Uint16 => (0.0, 1 << 16),
            DType::Int16 => (-32768.0, 1 << 16),
            _ => return Ok(None),
        };
        let n = x.meta().num_elements();
        if n == 0 {
            return Ok(None);
        }
        let counts = histogram_counts(x, values, lowest, lowest + f64::from(values), exec)?;
        Ok(Some(ValueCounts { lowest, counts, n }))
    }

    /// The value counted at `index`.
    fn value(&self, index: usize) -> f64 {
        self.lowest + index as f64
    }

    /// The smallest value present.
    pub(crate) fn min(&self) -> f64 {
        let first = self.counts.iter().position(|&c| c > 0).unwrap_or(0);
        self.value(first)
    }

    /// The largest value present.
    pub(crate) fn max(&self) -> f64 {
        let last = self.counts.iter().rposition(|&c| c > 0).unwrap_or(0);
        self.value(last)
    }

    /// The mean, from the exact integer sum (as NumPy's float64 mean, but without its
    /// summation error).
    pub(crate) fn mean(&self) -> f64 {
        let sum: i128 = self
            .counts
            .iter()
            .enumerate()
            .map(|(i, &c)| self.value(i) as i128 * i128::from(c))
            .sum();
        sum as f64 / self.n as f64
    }

    /// The standard deviation (ddof 0), from squared deviations from the mean.
    pub(crate) fn std(&self) -> f64 {
        let mean = self.mean();
        let squares: f64 = self
            .counts
            .iter()
            .enumerate()
            .filter(|(_, &c)| c > 0)
            .map(|(i, &c)| (self.value(i) - mean).powi(2) * c as f64)
            .sum();
        (squares / self.n as f64).sqrt()
    }

    /// The element of rank `rank` (0-based) in sorted order.
    pub(crate) fn order_statistic(&self, rank: u64) -> f64 {
        self.value(find_bin(&self.counts, rank).0)
    }

    /// The counts of `np.histogram(x, bins, range=(lo, hi))` (`dtype` is the array's: it
    /// decides the edges' precision as for a histogram pass).
    pub(crate) fn histogram(&self, bins: u32, lo: f64, hi: f64, dtype: DType) -> Vec<u64> {
        let binning = Bins::new(Reduction::Histogram { bins, lo, hi }.state(dtype));
        let mut out = vec![0; bins as usize];
        for (i, &c) in self.counts.iter().enumerate() {
            if c > 0 {
                if let Some(b) = binning.of(self.value(i)) {
                    out[b] += c;
                }
            }
        }
        out
    }
}
