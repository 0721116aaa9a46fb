//! Stencil filters with halos (scipy.ndimage semantics): an output chunk needs its input region
//! plus a halo, read as one region per task.

mod boundary;
mod gaussian;

use std::sync::Arc;

pub use boundary::BoundaryMode;
use chunkwise_engine::{Array, DType, Result};
pub use gaussian::GaussianFilter;

/// `scipy.ndimage.gaussian_filter(x, sigma, truncate=truncate, mode=mode, cval=cval)` with
/// float32 output (float64 for float64 input, or `output` when given).
///
/// # Errors
/// [`chunkwise_engine::Error::Invalid`] for a sigma per axis mismatch, negative or non-finite
/// sigma, truncate <= 0, or a non-float output type.
pub fn gaussian_filter(
    x: &Array,
    sigma: &[f64],
    truncate: f64,
    mode: BoundaryMode,
    cval: f64,
    output: Option<DType>,
) -> Result<Array> {
    let output = output.unwrap_or(if x.dtype() == DType::Float64 {
        DType::Float64
    } else {
        DType::Float32
    });
    let op = GaussianFilter {
        sigma: sigma.to_vec(),
        truncate,
        mode,
        cval,
        output,
        input_shape: x.shape().to_vec(),
    };
    Array::apply(Arc::new(op), vec![x.clone()])
}
