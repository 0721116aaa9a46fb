//! Smoothing: `gaussian_filter` and `uniform_filter`.

use chunkwise_engine::{Array, Error, Result};
use serde_json::json;

use crate::stencil::line::Line;
use crate::stencil::separable::{Combine, Pass, Separable};
use crate::stencil::{apply, origins, per_axis, FilterOptions, MAX_WINDOW};

/// `scipy.ndimage.gaussian_filter(x, sigma, truncate=truncate, mode, cval)` (derivative order
/// 0): a 1-D pass per axis with sigma > 0, the sampled normalized Gaussian of radius
/// `int(truncate * sigma + 0.5)`.
///
/// # Errors
/// [`Error::Invalid`] for a sigma per axis mismatch, negative or non-finite sigma,
/// truncate <= 0, or a non-float output type.
pub fn gaussian_filter(
    x: &Array,
    sigma: &[f64],
    truncate: f64,
    options: &FilterOptions,
) -> Result<Array> {
    check_sigma("gaussian_filter", x, sigma, truncate)?;
    let passes = (0..sigma.len())
        .filter_map(|d| gaussian_pass(d, sigma[d], truncate, 0))
        .collect();
    let kernel = Separable {
        terms: vec![passes],
        combine: Combine::Single,
    };
    let params = json!({"sigma": sigma, "truncate": truncate});
    apply(x, "gaussian_filter", params, kernel, options)
}

/// `scipy.ndimage.uniform_filter(x, size, origin=origin, mode, cval)`: the mean over a box,
/// one running-sum pass per axis with size > 1.
///
/// # Errors
/// [`Error::Invalid`] for a size per axis mismatch, a size of 0, an origin outside the window,
/// or a non-float output type.
pub fn uniform_filter(
    x: &Array,
    size: &[usize],
    origin: &[i64],
    options: &FilterOptions,
) -> Result<Array> {
    per_axis("uniform_filter", "size", size, x)?;
    if size.contains(&0) {
        return Err(Error::Invalid(
            "uniform_filter: sizes must be at least 1".into(),
        ));
    }
    let origin = origins("uniform_filter", origin, size)?;
    let passes = (0..size.len())
        .filter(|&d| size[d] > 1)
        .map(|d| Pass::new(d, Line::Uniform(size[d]), origin[d]))
        .collect();
    let kernel = Separable {
        terms: vec![passes],
        combine: Combine::Single,
    };
    let params = json!({"size": size, "origin": origin});
    apply(x, "uniform_filter", params, kernel, options)
}

/// Checks gaussian parameters.
pub(crate) fn check_sigma(name: &str, x: &Array, sigma: &[f64], truncate: f64) -> Result<()> {
    per_axis(name, "sigma", sigma, x)?;
    if sigma.iter().any(|s| !s.is_finite() || *s < 0.0) {
        return Err(Error::Invalid(format!(
            "{name}: sigma must be finite and >= 0, got {sigma:?}"
        )));
    }
    if !truncate.is_finite() || truncate <= 0.0 {
        return Err(Error::Invalid(format!(
            "{name}: truncate must be > 0, got {truncate}"
        )));
    }
    if sigma.iter().any(|s| truncate * s > (MAX_WINDOW / 2) as f64) {
        return Err(Error::Invalid(format!(
            "{name}: truncate * sigma must stay below {} (the widest window is {MAX_WINDOW})",
            MAX_WINDOW / 2
        )));
    }
    Ok(())
}

/// The pass of scipy's gaussian_filter1d along `axis` (None when sigma is 0, as scipy skips it).
pub(crate) fn gaussian_pass(axis: usize, sigma: f64, truncate: f64, order: u32) -> Option<Pass> {
    if sigma <= 1e-15 {
        return None;
    }
    let radius = (truncate * sigma + 0.5) as i64;
    Some(Pass::new(
        axis,
        Line::Correlate(gaussian_weights(sigma, radius, order)),
        0,
    ))
}

/// scipy's `_gaussian_kernel1d(sigma, order, radius)[::-1]` for order 0 or 1: the correlation
/// weights of the (first derivative of the) sampled, normalized Gaussian.
fn gaussian_weights(sigma: f64, radius: i64, order: u32) -> Vec<f64> {
    let s2 = sigma * sigma;
    let phi: Vec<f64> = (-radius..=radius)
        .map(|x| (-0.5 / s2 * (x * x) as f64).exp())
        .collect();
    let sum: f64 = phi.iter().sum();
    let phi = phi.iter().map(|p| p / sum);
    match order {
        0 => phi.collect(),
        // d/dx phi = -x / sigma^2 * phi; reversed for correlation: x / sigma^2 * phi(x).
        _ => phi
            .zip(-radius..=radius)
            .map(|(p, x)| x as f64 / s2 * p)
            .collect(),
    }
}
