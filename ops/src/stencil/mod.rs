//! Stencil filters with halos, with scipy.ndimage's semantics and parameter names: an output
//! chunk needs its input region plus a halo, read as one region (or, for wrap mode at an edge,
//! the few boxes it really touches) per task.
//!
//! Every filter outputs float32 (float64 for float64 input) unless [`FilterOptions::output`]
//! asks for the other float type; blocks are computed in the output type. Two families share the
//! machinery: separable filters run 1-D passes along axes ([`separable`]), footprint filters work
//! on an N-d window ([`nd`]).

mod boundary;
mod correlation;
mod ext;
mod filter;
mod gradient;
mod line;
mod nd;
mod network;
mod pipeline;
mod rank;
mod sample;
mod separable;
mod smooth;
pub(crate) mod window;

use std::sync::Arc;

use chunkwise_engine::{Array, DType, Error, Result};

pub use boundary::BoundaryMode;
pub use correlation::{convolve, correlate};
pub use ext::StencilExt;
pub use gradient::{gaussian_gradient_magnitude, laplace, sobel};
pub use pipeline::{register, FilterSpec};
pub use rank::{maximum_filter, median_filter, minimum_filter};
pub use smooth::{gaussian_filter, uniform_filter};

use filter::{Boundary, Kernel, Stencil};

/// Boundary handling and output type, shared by every filter.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FilterOptions {
    /// How the array extends beyond its edges (scipy's `mode`, default reflect).
    pub mode: BoundaryMode,
    /// The value beyond the edges in constant mode (scipy's `cval`): any float, NaN and the
    /// infinities included (a rank filter of integers refuses those, see `rank.rs`).
    pub cval: f64,
    /// float32 or float64; by default float32, or float64 for float64 input.
    pub output: Option<DType>,
}

/// The window of a rank filter: a box (scipy's `size`) or a footprint mask.
#[derive(Clone, Debug, PartialEq)]
pub enum Window {
    /// A box of this extent per axis.
    Size(Vec<usize>),
    /// The positions where `mask` (C order over `shape`) is true.
    Footprint {
        /// The footprint's extent per axis.
        shape: Vec<usize>,
        /// Which positions count.
        mask: Vec<bool>,
    },
}

/// The weights of a correlation or convolution.
#[derive(Clone, Debug, PartialEq)]
pub enum Weights {
    /// An N-d kernel: `values` in C order over `shape`.
    Full {
        /// The kernel's extent per axis.
        shape: Vec<usize>,
        /// The weights.
        values: Vec<f64>,
    },
    /// One 1-D kernel per axis, applied as 1-D passes in axis order (the same as the full
    /// kernel that is their outer product, up to rounding, and much faster).
    Separable(Vec<Vec<f64>>),
}

impl Weights {
    /// The kernel's extent per axis.
    fn sizes(&self) -> Vec<usize> {
        match self {
            Weights::Full { shape, .. } => shape.clone(),
            Weights::Separable(kernels) => kernels.iter().map(Vec::len).collect(),
        }
    }
}

/// The widest window along one axis a filter may have: far beyond any real use, and small
/// enough that planning never allocates absurd amounts for a mistyped parameter.
pub(crate) const MAX_WINDOW: usize = 1 << 16;

/// Checks window extents against [`MAX_WINDOW`] per axis.
pub(crate) fn check_window(name: &str, extents: &[usize]) -> Result<()> {
    if let Some((d, &n)) = extents.iter().enumerate().find(|(_, &n)| n > MAX_WINDOW) {
        return Err(Error::Invalid(format!(
            "{name}: a window of {n} along axis {d} is too large (at most {MAX_WINDOW})"
        )));
    }
    Ok(())
}

/// Checks an N-d footprint (built position by position): its extents and their product.
fn check_footprint(name: &str, extents: &[usize]) -> Result<()> {
    check_window(name, extents)?;
    let total = extents
        .iter()
        .try_fold(1usize, |acc, &n| acc.checked_mul(n));
    if total.is_none_or(|t| t > MAX_WINDOW * 256) {
        return Err(Error::Invalid(format!(
            "{name}: a window of {extents:?} is too large (at most {} values)",
            MAX_WINDOW * 256
        )));
    }
    Ok(())
}

/// Wraps `kernel` as an op on `x`.
fn apply<K: Kernel>(
    x: &Array,
    name: &'static str,
    params: serde_json::Value,
    kernel: K,
    options: &FilterOptions,
) -> Result<Array> {
    let output = output_type(name, x.dtype(), options.output)?;
    let halo = kernel.halo(x.shape().len());
    let extents: Vec<usize> = halo
        .before
        .iter()
        .zip(&halo.after)
        .map(|(b, a)| b + a + 1)
        .collect();
    check_window(name, &extents)?;
    let op = Stencil {
        name,
        params,
        kernel,
        boundary: Boundary {
            mode: options.mode,
            cval: options.cval,
            input_shape: x.shape().to_vec(),
        },
        output,
    };
    Array::apply(Arc::new(op), vec![x.clone()])
}

fn output_type(name: &str, input: DType, asked: Option<DType>) -> Result<DType> {
    match asked {
        None if input == DType::Float64 => Ok(DType::Float64),
        None => Ok(DType::Float32),
        Some(t @ (DType::Float32 | DType::Float64)) => Ok(t),
        Some(t) => Err(Error::Invalid(format!(
            "{name}: output must be float32 or float64, not {t} (cast the result with astype)"
        ))),
    }
}

/// Checks that `x` has axes and that `values` gives one entry per axis.
fn per_axis<T>(name: &str, what: &str, values: &[T], x: &Array) -> Result<()> {
    if x.shape().is_empty() {
        return Err(Error::Invalid(format!(
            "{name} needs an array with at least one axis"
        )));
    }
    if values.len() != x.shape().len() {
        return Err(Error::Invalid(format!(
            "{name}: {what} must give one value per axis of the {}-d input, got {}",
            x.shape().len(),
            values.len()
        )));
    }
    Ok(())
}

/// The origins per axis (zeros when `origin` is empty), checked against the window sizes as
/// scipy checks them: `-(size // 2) <= origin <= (size - 1) // 2`.
fn origins(name: &str, origin: &[i64], sizes: &[usize]) -> Result<Vec<i64>> {
    if origin.is_empty() {
        return Ok(vec![0; sizes.len()]);
    }
    if origin.len() != sizes.len() {
        return Err(Error::Invalid(format!(
            "{name}: origin must give one value per axis ({}), got {}",
            sizes.len(),
            origin.len()
        )));
    }
    for (d, (&o, &n)) in origin.iter().zip(sizes).enumerate() {
        let (lo, hi) = (-(n as i64 / 2), (n as i64 - 1) / 2);
        if o < lo || o > hi {
            return Err(Error::Invalid(format!(
                "{name}: origin {o} on axis {d} is outside {lo}..={hi} for a window of {n}"
            )));
        }
    }
    Ok(origin.to_vec())
}
