//! The stencil ops in pipeline files: one parameter schema for all of them ([`FilterSpec`], by
//! scipy.ndimage's names), each op's parameters checked against what its scipy function takes,
//! per-axis values resolved against the input's rank, nested kernels and footprints turned into
//! the ops' window types.

use chunkwise_engine::{Array, DType, Error, Registry, Result, Steps};
use serde::{Deserialize, Serialize};

use crate::pipeline::{Nested, PerAxis};
use crate::stencil::{self as st, BoundaryMode, FilterOptions, Weights, Window};

/// The parameters of the stencil ops, by scipy.ndimage's names: one shape for all of them (each
/// op takes the subset its scipy function takes; the others are refused when the step is built,
/// naming the op and the parameter).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterSpec {
    /// Input name.
    pub x: String,
    /// Sigma per axis, or one for all axes (gaussian filters).
    #[serde(default)]
    pub sigma: Option<PerAxis<f64>>,
    /// Radius in sigmas (gaussian filters; default 4.0).
    #[serde(default)]
    pub truncate: Option<f64>,
    /// Box size per axis, or one for all axes.
    #[serde(default)]
    pub size: Option<PerAxis<usize>>,
    /// Nested 0/1 (or true/false) array selecting a window's positions.
    #[serde(default)]
    pub footprint: Option<Nested>,
    /// An N-d kernel as a nested array.
    #[serde(default)]
    pub weights: Option<Nested>,
    /// One 1-D kernel per axis, applied axis by axis (the fast separable path).
    #[serde(default)]
    pub kernels: Option<Vec<Vec<f64>>>,
    /// Window shift per axis, or one for all (default 0).
    #[serde(default)]
    pub origin: Option<PerAxis<i64>>,
    /// The derivative's axis (sobel; default -1, the last).
    #[serde(default)]
    pub axis: Option<i64>,
    /// reflect (default), mirror, nearest, wrap or constant.
    #[serde(default)]
    pub mode: BoundaryMode,
    /// Value beyond the edges in constant mode (`"nan"`, `"inf"`, `"-inf"` for those).
    #[serde(
        default,
        serialize_with = "chunkwise_engine::nonfinite::serialize",
        deserialize_with = "chunkwise_engine::nonfinite::float"
    )]
    pub cval: f64,
    /// float32 (default; float64 for float64 input) or float64.
    #[serde(default)]
    pub output: Option<DType>,
}

/// Each stencil op and the parameters beyond mode, cval and output it takes.
const FILTERS: [(&str, &[&str]); 10] = [
    ("gaussian_filter", &["sigma", "truncate"]),
    ("uniform_filter", &["size", "origin"]),
    ("correlate", &["weights", "kernels", "origin"]),
    ("convolve", &["weights", "kernels", "origin"]),
    ("median_filter", &["size", "footprint", "origin"]),
    ("minimum_filter", &["size", "footprint", "origin"]),
    ("maximum_filter", &["size", "footprint", "origin"]),
    ("sobel", &["axis"]),
    ("laplace", &[]),
    ("gaussian_gradient_magnitude", &["sigma", "truncate"]),
];

/// Registers every stencil op.
pub fn register(r: &mut Registry) -> &mut Registry {
    for (name, takes) in FILTERS {
        r.register(name, move |p: FilterSpec, s: &Steps<'_>| {
            apply(name, takes, &p, s)
        });
    }
    r
}

/// The array stencil step `name` describes.
///
/// # Errors
/// [`Error::Invalid`] for unknown names, parameters the op does not take, missing or
/// conflicting window parameters, and every parameter error of the op itself.
fn apply(name: &str, takes: &[&str], p: &FilterSpec, steps: &Steps<'_>) -> Result<Array> {
    check_parameters(name, p, takes)?;
    let x = steps.array(&p.x)?;
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
    match name {
        "gaussian_filter" => st::gaussian_filter(&x, &sigma()?, truncate, &options),
        "gaussian_gradient_magnitude" => {
            st::gaussian_gradient_magnitude(&x, &sigma()?, truncate, &options)
        }
        "uniform_filter" => {
            let size = p.size.as_ref().ok_or_else(|| {
                Error::Invalid("uniform_filter needs size (one, or one per axis)".into())
            })?;
            st::uniform_filter(&x, &size.resolve(nd), &origin, &options)
        }
        "correlate" => st::correlate(&x, &weights(p)?, &origin, &options),
        "convolve" => st::convolve(&x, &weights(p)?, &origin, &options),
        "median_filter" => st::median_filter(&x, &window(p, nd)?, &origin, &options),
        "minimum_filter" => st::minimum_filter(&x, &window(p, nd)?, &origin, &options),
        "maximum_filter" => st::maximum_filter(&x, &window(p, nd)?, &origin, &options),
        "sobel" => st::sobel(&x, p.axis.unwrap_or(-1), &options),
        "laplace" => st::laplace(&x, &options),
        other => Err(Error::Invalid(format!(
            "internal: {other} is not a stencil step"
        ))),
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
