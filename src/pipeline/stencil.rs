//! Building the stencil steps of a pipeline file: per-axis values resolved against the input's
//! rank, nested kernels and footprints turned into the ops' window types.

use chunkwise_engine::{Array, DType, Error, Result};
use chunkwise_ops::stencil::{self as st, BoundaryMode, FilterOptions, Weights, Window};

use crate::pipeline::spec::OpSpec;
use crate::pipeline::values::{Nested, PerAxis};

/// The array a stencil step describes.
///
/// # Errors
/// [`Error::Invalid`] for unknown names, missing or conflicting window parameters, and every
/// parameter error of the op itself; called with a non-stencil step, an internal error.
pub fn apply(op: &OpSpec, get: &dyn Fn(&str) -> Result<Array>) -> Result<Array> {
    let options = |mode: &BoundaryMode, cval: &f64, output: &Option<DType>| FilterOptions {
        mode: *mode,
        cval: *cval,
        output: *output,
    };
    match op {
        OpSpec::GaussianFilter {
            x,
            sigma,
            truncate,
            mode,
            cval,
            output,
        } => {
            let x = get(x)?;
            let sigma = sigma.resolve(x.shape().len());
            st::gaussian_filter(&x, &sigma, *truncate, &options(mode, cval, output))
        }
        OpSpec::GaussianGradientMagnitude {
            x,
            sigma,
            truncate,
            mode,
            cval,
            output,
        } => {
            let x = get(x)?;
            let sigma = sigma.resolve(x.shape().len());
            let o = options(mode, cval, output);
            st::gaussian_gradient_magnitude(&x, &sigma, *truncate, &o)
        }
        OpSpec::UniformFilter {
            x,
            size,
            origin,
            mode,
            cval,
            output,
        } => {
            let x = get(x)?;
            let nd = x.shape().len();
            let o = options(mode, cval, output);
            st::uniform_filter(&x, &size.resolve(nd), &origin.resolve(nd), &o)
        }
        OpSpec::Correlate {
            x,
            weights,
            kernels,
            origin,
            mode,
            cval,
            output,
        }
        | OpSpec::Convolve {
            x,
            weights,
            kernels,
            origin,
            mode,
            cval,
            output,
        } => {
            let x = get(x)?;
            let nd = x.shape().len();
            let w = match (weights, kernels) {
                (Some(Nested { shape, values }), None) => Weights::Full {
                    shape: shape.clone(),
                    values: values.clone(),
                },
                (None, Some(k)) => Weights::Separable(k.clone()),
                _ => {
                    return Err(Error::Invalid(
                        "give either weights (an N-d nested array) or kernels (one 1-D kernel \
                         per axis)"
                            .into(),
                    ))
                }
            };
            let o = options(mode, cval, output);
            if matches!(op, OpSpec::Convolve { .. }) {
                st::convolve(&x, &w, &origin.resolve(nd), &o)
            } else {
                st::correlate(&x, &w, &origin.resolve(nd), &o)
            }
        }
        OpSpec::MedianFilter {
            x,
            size,
            footprint,
            origin,
            mode,
            cval,
            output,
        }
        | OpSpec::MinimumFilter {
            x,
            size,
            footprint,
            origin,
            mode,
            cval,
            output,
        }
        | OpSpec::MaximumFilter {
            x,
            size,
            footprint,
            origin,
            mode,
            cval,
            output,
        } => {
            let x = get(x)?;
            let nd = x.shape().len();
            let window = window(size, footprint, nd)?;
            let o = options(mode, cval, output);
            let origin = origin.resolve(nd);
            match op {
                OpSpec::MedianFilter { .. } => st::median_filter(&x, &window, &origin, &o),
                OpSpec::MinimumFilter { .. } => st::minimum_filter(&x, &window, &origin, &o),
                _ => st::maximum_filter(&x, &window, &origin, &o),
            }
        }
        OpSpec::Sobel {
            x,
            axis,
            mode,
            cval,
            output,
        } => st::sobel(&get(x)?, *axis, &options(mode, cval, output)),
        OpSpec::Laplace {
            x,
            mode,
            cval,
            output,
        } => st::laplace(&get(x)?, &options(mode, cval, output)),
        other => Err(Error::Invalid(format!(
            "internal: {other:?} is not a stencil step"
        ))),
    }
}

fn window(size: &Option<PerAxis<usize>>, footprint: &Option<Nested>, nd: usize) -> Result<Window> {
    match (size, footprint) {
        (Some(size), None) => Ok(Window::Size(size.resolve(nd))),
        (None, Some(Nested { shape, values })) => Ok(Window::Footprint {
            shape: shape.clone(),
            mask: values.iter().map(|&v| v != 0.0).collect(),
        }),
        _ => Err(Error::Invalid(
            "give either size (per axis, or one for all) or footprint (a nested 0/1 array)".into(),
        )),
    }
}
