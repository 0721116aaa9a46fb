//! Derivatives: `sobel`, `laplace` and `gaussian_gradient_magnitude`.

use chunkwise_engine::{Array, Error, Result};
use serde_json::json;

use crate::stencil::line::Line;
use crate::stencil::separable::{Combine, Pass, Separable};
use crate::stencil::smooth::{check_sigma, gaussian_pass};
use crate::stencil::{apply, per_axis, FilterOptions};

/// `scipy.ndimage.sobel(x, axis, mode, cval)`: `[-1, 0, 1]` along `axis` (negative counts from
/// the end), then `[1, 2, 1]` along every other axis in order, as scipy runs them.
///
/// # Errors
/// [`Error::Invalid`] for an axis out of range or a non-float output type.
pub fn sobel(x: &Array, axis: i64, options: &FilterOptions) -> Result<Array> {
    let nd = x.shape().len() as i64;
    per_axis("sobel", "shape", x.shape(), x)?;
    let a = if axis < 0 { axis + nd } else { axis };
    if !(0..nd).contains(&a) {
        return Err(Error::Invalid(format!(
            "sobel: axis {axis} is out of range for a {nd}-d input"
        )));
    }
    let a = a as usize;
    let mut passes = vec![Pass::new(a, Line::Correlate(vec![-1.0, 0.0, 1.0]), 0)];
    passes.extend(
        (0..nd as usize)
            .filter(|&d| d != a)
            .map(|d| Pass::new(d, Line::Correlate(vec![1.0, 2.0, 1.0]), 0)),
    );
    let kernel = Separable {
        terms: vec![passes],
        combine: Combine::Single,
    };
    apply(x, "sobel", json!({ "axis": a }), kernel, options)
}

/// `scipy.ndimage.laplace(x, mode, cval)`: the sum over axes of `[1, -2, 1]` along each,
/// each computed from the input and added in the output type in axis order.
///
/// # Errors
/// [`Error::Invalid`] for a 0-d input or a non-float output type.
pub fn laplace(x: &Array, options: &FilterOptions) -> Result<Array> {
    per_axis("laplace", "shape", x.shape(), x)?;
    let terms = (0..x.shape().len())
        .map(|d| vec![Pass::new(d, Line::Correlate(vec![1.0, -2.0, 1.0]), 0)])
        .collect();
    let kernel = Separable {
        terms,
        combine: Combine::Sum,
    };
    apply(x, "laplace", json!({}), kernel, options)
}

/// `scipy.ndimage.gaussian_gradient_magnitude(x, sigma, truncate=truncate, mode, cval)`: for
/// each axis the Gaussian first derivative along it (smoothing along the others), squared and
/// summed in axis order in the output type, then the square root.
///
/// # Errors
/// As [`crate::stencil::gaussian_filter`].
pub fn gaussian_gradient_magnitude(
    x: &Array,
    sigma: &[f64],
    truncate: f64,
    options: &FilterOptions,
) -> Result<Array> {
    check_sigma("gaussian_gradient_magnitude", x, sigma, truncate)?;
    let terms = (0..sigma.len())
        .map(|along| {
            (0..sigma.len())
                .filter_map(|d| gaussian_pass(d, sigma[d], truncate, u32::from(d == along)))
                .collect()
        })
        .collect();
    let kernel = Separable {
        terms,
        combine: Combine::Magnitude,
    };
    let params = json!({"sigma": sigma, "truncate": truncate});
    apply(x, "gaussian_gradient_magnitude", params, kernel, options)
}
