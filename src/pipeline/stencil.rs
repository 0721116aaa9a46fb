//! Building the stencil steps of a pipeline file: the op's parameters checked against what its
//! scipy function takes, per-axis values resolved against the input's rank, nested kernels and
//! footprints turned into the ops' window types.

use chunkwise_engine::{Array, Error, Result};
use chunkwise_ops::stencil::{self as st, FilterOptions, Weights, Window};

use crate::pipeline::spec::{FilterSpec, OpSpec};
use crate::pipeline::values::{Nested, PerAxis};

/// The array a stencil step describes.
///
/// # Errors
/// [`Error::Invalid`] for unknown names, parameters the op does not take, missing or
/// conflicting window parameters, and every parameter error of the op itself; called with a
/// non-stencil step, an internal error.
pub fn apply(op: &OpSpec, get: &dyn Fn(&str) -> Result<Array>) -> Result<Array> {
    let (name, p, takes): (&str, &FilterSpec, &[&str]) = match op {
        OpSpec::GaussianFilter(p) => ("gaussian_filter", p, &["sigma", "truncate"]),
        OpSpec::GaussianGradientMagnitude(p) => {
            ("gaussian_gradient_magnitude", p, &["sigma", "truncate"])
        }
        OpSpec::UniformFilter(p) => ("uniform_filter", p, &["size", "origin"]),
        OpSpec::Correlate(p) => ("correlate", p, &["weights", "kernels", "origin"]),
        OpSpec::Convolve(p) => ("convolve", p, &["weights", "kernels", "origin"]),
        OpSpec::MedianFilter(p) => ("median_filter", p, &["size", "footprint", "origin"]),
        OpSpec::MinimumFilter(p) => ("minimum_filter", p, &["size", "footprint", "origin"]),
        OpSpec::MaximumFilter(p) => ("maximum_filter", p, &["size", "footprint", "origin"]),
        OpSpec::Sobel(p) => ("sobel", p, &["axis"]),
        OpSpec::Laplace(p) => ("laplace", p, &[]),
        other => {
            return Err(Error::Invalid(format!(
                "internal: {other:?} is not a stencil step"
            )))
        }
    };
    check_parameters(name, p, takes)?;
    let x = get(&p.x)?;
    let nd = x.shape().len();
    let options = FilterOptions {
        mode: p.mode,
        cval: p.cval,
        output: p.output,
    };
    let origin = p.origin.as_ref().map_or_else(Vec::new, |o| o.resolve(nd));
    let sigma = || -> Result<Vec<f64>> {
        p.sigma
            .as_ref()
            .map(|s| s.resolve(nd))
            .ok_or_else(|| Error::Invalid(format!("{name} needs sigma (one, or one per axis)")))
    };
    let truncate = p.truncate.unwrap_or(4.0);
    match op {
        OpSpec::GaussianFilter(_) => st::gaussian_filter(&x, &sigma()?, truncate, &options),
        OpSpec::GaussianGradientMagnitude(_) => {
            st::gaussian_gradient_magnitude(&x, &sigma()?, truncate, &options)
        }
        OpSpec::UniformFilter(_) => {
            let size = p.size.as_ref().ok_or_else(|| {
                Error::Invalid("uniform_filter needs size (one, or one per axis)".into())
            })?;
            st::uniform_filter(&x, &size.resolve(nd), &origin, &options)
        }
        OpSpec::Correlate(_) => st::correlate(&x, &weights(p)?, &origin, &options),
        OpSpec::Convolve(_) => st::convolve(&x, &weights(p)?, &origin, &options),
        OpSpec::MedianFilter(_) => st::median_filter(&x, &window(p, nd)?, &origin, &options),
        OpSpec::MinimumFilter(_) => st::minimum_filter(&x, &window(p, nd)?, &origin, &options),
        OpSpec::MaximumFilter(_) => st::maximum_filter(&x, &window(p, nd)?, &origin, &options),
        OpSpec::Sobel(_) => st::sobel(&x, p.axis.unwrap_or(-1), &options),
        _ => st::laplace(&x, &options),
    }
}

/// Refuses the parameters `name` does not take (mode, cval and output every filter takes).
fn check_parameters(name: &str, p: &FilterSpec, takes: &[&str]) -> Result<()> {
    let given = [
        ("sigma", p.sigma.is_some()),
        ("truncate", p.truncate.is_some()),
        ("size", p.size.is_some()),
        ("footprint", p.footprint.is_some()),
        ("weights", p.weights.is_some()),
        ("kernels", p.kernels.is_some()),
        ("origin", p.origin.is_some()),
        ("axis", p.axis.is_some()),
    ];
    match given.iter().find(|(key, set)| *set && !takes.contains(key)) {
        Some((key, _)) => Err(Error::Invalid(format!(
            "{name} takes no parameter `{key}` (it takes {}mode, cval and output)",
            takes.iter().map(|t| format!("{t}, ")).collect::<String>()
        ))),
        None => Ok(()),
    }
}

fn weights(p: &FilterSpec) -> Result<Weights> {
    match (&p.weights, &p.kernels) {
        (Some(Nested { shape, values }), None) => Ok(Weights::Full {
            shape: shape.clone(),
            values: values.clone(),
        }),
        (None, Some(k)) => Ok(Weights::Separable(k.clone())),
        _ => Err(Error::Invalid(
            "give either weights (an N-d nested array) or kernels (one 1-D kernel per axis)".into(),
        )),
    }
}

fn window(p: &FilterSpec, nd: usize) -> Result<Window> {
    match (&p.size, &p.footprint) {
        (Some(size), None) => Ok(Window::Size(PerAxis::resolve(size, nd))),
        (None, Some(Nested { shape, values })) => Ok(Window::Footprint {
            shape: shape.clone(),
            mask: values.iter().map(|&v| v != 0.0).collect(),
        }),
        _ => Err(Error::Invalid(
            "give either size (per axis, or one for all) or footprint (a nested 0/1 array)".into(),
        )),
    }
}
