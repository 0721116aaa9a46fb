//! Axis arguments as NumPy takes them: negative counts from the end.

use chunkwise_engine::{Error, Result};

/// `axis` (negative counts from the end) as an index into `ndim` axes.
///
/// # Errors
/// [`Error::Invalid`] with NumPy's message for an axis out of range.
pub fn normalize_axis(axis: i64, ndim: usize) -> Result<usize> {
    let n = ndim as i64;
    let at = if axis < 0 { axis + n } else { axis };
    if (0..n).contains(&at) {
        Ok(at as usize)
    } else {
        Err(Error::Invalid(format!(
            "axis {axis} is out of bounds for array of dimension {ndim}"
        )))
    }
}

/// Each of `axes` normalized, refusing repeats ("repeated axis", as NumPy says).
///
/// # Errors
/// [`Error::Invalid`] for an axis out of range or given twice.
pub fn normalize_axes(axes: &[i64], ndim: usize) -> Result<Vec<usize>> {
    let mut out = Vec::with_capacity(axes.len());
    for &a in axes {
        let d = normalize_axis(a, ndim)?;
        if out.contains(&d) {
            return Err(Error::Invalid(format!("repeated axis {a} in {axes:?}")));
        }
        out.push(d);
    }
    Ok(out)
}
