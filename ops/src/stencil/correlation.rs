//! `correlate` and `convolve` with a user kernel: an N-d footprint filter for a full kernel, 1-D
//! passes for one kernel per axis.

use chunkwise_engine::{Array, Error, Result};
use serde_json::{json, Value};

use crate::stencil::line::Line;
use crate::stencil::nd::{Footprint, NdKind};
use crate::stencil::separable::{Combine, Pass, Separable};
use crate::stencil::{apply, check_footprint, origins, per_axis, FilterOptions, Weights};

/// `scipy.ndimage.correlate(x, weights, origin=origin, mode, cval)`; with
/// [`Weights::Separable`], `scipy.ndimage.correlate1d` along each axis in turn.
///
/// # Errors
/// [`Error::Invalid`] for a kernel whose rank or size does not match, non-finite weights, an
/// origin outside the kernel, or a non-float output type.
pub fn correlate(
    x: &Array,
    weights: &Weights,
    origin: &[i64],
    options: &FilterOptions,
) -> Result<Array> {
    // Checked (count and range) and completed (zeros when absent) before it is recorded.
    let origin = origins("correlate", origin, &weights.sizes())?;
    let params = weights_params(weights, &origin);
    build(x, "correlate", weights.clone(), origin, params, options)
}

/// `scipy.ndimage.convolve(x, weights, origin=origin, mode, cval)`: correlation with the kernel
/// flipped on every axis and the origin mirrored (shifted by one more on even-sized axes, as
/// scipy does); with [`Weights::Separable`], `scipy.ndimage.convolve1d` along each axis.
///
/// # Errors
/// As [`correlate`].
pub fn convolve(
    x: &Array,
    weights: &Weights,
    origin: &[i64],
    options: &FilterOptions,
) -> Result<Array> {
    let sizes = weights.sizes();
    let flipped = match weights {
        Weights::Full { shape, values } => Weights::Full {
            shape: shape.clone(),
            // Flipping every axis of a C-order array reverses it.
            values: values.iter().rev().copied().collect(),
        },
        Weights::Separable(kernels) => Weights::Separable(
            kernels
                .iter()
                .map(|k| k.iter().rev().copied().collect())
                .collect(),
        ),
    };
    // Checked as given (count and range), then mirrored.
    let origin = origins("convolve", origin, &sizes)?;
    let mirrored = origin
        .iter()
        .zip(&sizes)
        .map(|(&o, &n)| -o - i64::from(n % 2 == 0))
        .collect();
    build(
        x,
        "convolve",
        flipped,
        mirrored,
        weights_params(weights, &origin),
        options,
    )
}

/// The weights and origin as the user gave them (before a convolution flips them).
fn weights_params(weights: &Weights, origin: &[i64]) -> Value {
    match weights {
        Weights::Full { shape, values } => {
            json!({"weights": values, "weights_shape": shape, "origin": origin})
        }
        Weights::Separable(kernels) => json!({"kernels": kernels, "origin": origin}),
    }
}

fn build(
    x: &Array,
    name: &'static str,
    weights: Weights,
    origin: Vec<i64>,
    params: Value,
    options: &FilterOptions,
) -> Result<Array> {
    match weights {
        Weights::Full { shape, values } => {
            per_axis(name, "the kernel shape", &shape, x)?;
            check_footprint(name, &shape)?;
            let count: usize = shape.iter().product();
            if shape.contains(&0) || count != values.len() {
                return Err(Error::Invalid(format!(
                    "{name}: a kernel of shape {shape:?} needs {count} weights, got {}",
                    values.len()
                )));
            }
            check_finite(name, &values)?;
            let origin = origins(name, &origin, &shape)?;
            let kernel = Footprint {
                footprint: values.iter().map(|&w| w != 0.0).collect(),
                kind: NdKind::Correlate(values),
                shape,
                origin,
            };
            apply(x, name, params, kernel, options)
        }
        Weights::Separable(kernels) => {
            per_axis(name, "kernels", &kernels, x)?;
            let sizes: Vec<usize> = kernels.iter().map(Vec::len).collect();
            if sizes.contains(&0) {
                return Err(Error::Invalid(format!("{name}: a 1-D kernel is empty")));
            }
            kernels.iter().try_for_each(|k| check_finite(name, k))?;
            let origin = origins(name, &origin, &sizes)?;
            let passes = kernels
                .into_iter()
                .enumerate()
                .map(|(d, k)| Pass::new(d, Line::Correlate(k), origin[d]))
                .collect();
            let kernel = Separable {
                terms: vec![passes],
                combine: Combine::Single,
            };
            apply(x, name, params, kernel, options)
        }
    }
}

fn check_finite(name: &str, weights: &[f64]) -> Result<()> {
    if weights.iter().all(|w| w.is_finite()) {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "{name}: weights must be finite numbers"
        )))
    }
}
