//! `bincount`: occurrences of each non-negative integer, as `np.bincount` (two passes: the
//! extremes, then a one-bin-per-value histogram).

use chunkwise_engine::{Array, Error, ExecOptions, Kind, Result};

use super::run::{as_f64, compute_small};
use super::{reduce, Axes, Reduction};

/// The most bins [`bincount`] makes (values up to 2^24 - 1).
pub const BINCOUNT_MAX_BINS: u32 = 1 << 24;

/// `np.bincount(x.ravel())`: how often each value `0..=max` occurs in the integer array `x`.
///
/// # Errors
/// [`Error::Invalid`] for a non-integer array, a negative value, or a maximum of
/// [`BINCOUNT_MAX_BINS`] or more; run errors.
pub fn bincount(x: &Array, exec: &ExecOptions) -> Result<Vec<u64>> {
    if x.dtype().kind() == Kind::Float {
        return Err(Error::Invalid(format!(
            "bincount counts integers, not {}",
            x.dtype()
        )));
    }
    let summary = as_f64(&compute_small(&[reduce(x, Reduction::Summary, &Axes::all())?], exec)?[0]);
    let (min, max) = (summary[0], summary[1]);
    if min < 0.0 {
        return Err(Error::Invalid(format!(
            "bincount counts non-negative integers; the array holds {min}"
        )));
    }
    if max >= f64::from(BINCOUNT_MAX_BINS) {
        return Err(Error::Invalid(format!(
            "bincount of values up to {max} would need {} bins, more than {BINCOUNT_MAX_BINS}",
            max + 1.0
        )));
    }
    let bins = max as u32 + 1;
    let h = Reduction::Histogram {
        bins,
        lo: 0.0,
        hi: f64::from(bins),
    };
    let counts = compute_small(&[reduce(x, h, &Axes::all())?], exec)?;
    Ok(as_f64(&counts[0]).into_iter().map(|c| c as u64).collect())
}
