//! The resampling ops in pipeline files: parameters (schema) and builders.

use chunkwise_engine::{Registry, Steps};
use serde::Deserialize;

use crate::resample::{downsample, upsample, DownsampleMethod, UpsampleMethod};

/// `downsample(x, factors, method)` (TensorStore semantics).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Downsample {
    x: String,
    factors: Vec<u64>,
    /// mean (default), min, max, median, mode or stride.
    #[serde(default = "default_down")]
    method: DownsampleMethod,
}

/// `upsample(x, factors, method)` (nearest = `np.repeat`; linear = SciPy zoom order 1).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Upsample {
    x: String,
    factors: Vec<u64>,
    /// nearest (default) or linear.
    #[serde(default = "default_up")]
    method: UpsampleMethod,
}

fn default_down() -> DownsampleMethod {
    DownsampleMethod::Mean
}

fn default_up() -> UpsampleMethod {
    UpsampleMethod::Nearest
}

/// Registers `downsample` and `upsample`.
pub fn register(r: &mut Registry) -> &mut Registry {
    r.register("downsample", |p: Downsample, s: &Steps<'_>| {
        downsample(&s.array(&p.x)?, &p.factors, p.method)
    })
    .register("upsample", |p: Upsample, s: &Steps<'_>| {
        upsample(&s.array(&p.x)?, &p.factors, p.method)
    })
}
