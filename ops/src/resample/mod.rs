//! Resampling: downsample (a block of input chunks per output chunk) and upsample (part of one
//! input chunk per output chunk), with TensorStore's and SciPy's semantics.

mod downsample;
mod nd;
mod pipeline;
mod upsample;

use std::sync::Arc;

use chunkwise_engine::{Array, Result};
pub use downsample::{Downsample, DownsampleMethod};
pub use pipeline::register;
pub use upsample::{Upsample, UpsampleMethod};

/// Downsamples `x` by integer `factors` (one per axis) with `method`.
///
/// # Errors
/// [`chunkwise_engine::Error::Invalid`] when `factors` does not give one factor >= 1 per axis.
pub fn downsample(x: &Array, factors: &[u64], method: DownsampleMethod) -> Result<Array> {
    let op = Downsample {
        factors: factors.to_vec(),
        method,
    };
    Array::apply(Arc::new(op), vec![x.clone()])
}

/// Upsamples `x` by integer `factors` (one per axis) with `method`.
///
/// # Errors
/// [`chunkwise_engine::Error::Invalid`] when `factors` does not give one factor >= 1 per axis.
pub fn upsample(x: &Array, factors: &[u64], method: UpsampleMethod) -> Result<Array> {
    let op = Upsample {
        factors: factors.to_vec(),
        method,
        input_shape: x.shape().to_vec(),
    };
    Array::apply(Arc::new(op), vec![x.clone()])
}

/// Resampling methods on [`Array`].
pub trait ResampleExt {
    /// See [`downsample`].
    ///
    /// # Errors
    /// See [`downsample`].
    fn downsample(&self, factors: &[u64], method: DownsampleMethod) -> Result<Array>;
    /// See [`upsample`].
    ///
    /// # Errors
    /// See [`upsample`].
    fn upsample(&self, factors: &[u64], method: UpsampleMethod) -> Result<Array>;
}

impl ResampleExt for Array {
    fn downsample(&self, factors: &[u64], method: DownsampleMethod) -> Result<Array> {
        downsample(self, factors, method)
    }
    fn upsample(&self, factors: &[u64], method: UpsampleMethod) -> Result<Array> {
        upsample(self, factors, method)
    }
}
