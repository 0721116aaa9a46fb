//! A program that adds its own op to pipeline files and gets the whole `chunkwise` command line
//! with it: `run`, `plan`, `pyramid`, `info`, ... all know `gamma` besides the built-in ops.
//!
//! ```text
//! cargo run --release --example plugin_cli -- run pipeline.json
//! ```
//!
//! with a pipeline such as
//!
//! ```json
//! {"inputs": {"vol": "volume.zarr"},
//!  "steps": [{"id": "g", "op": "gamma", "x": "vol", "gamma": 0.5, "max": 65535},
//!            {"id": "out", "op": "mul", "x": "g", "y": 255}],
//!  "outputs": [{"from": "out", "path": "gamma.zarr"}]}
//! ```
//!
//! `gamma` is a user function ([`UserFnExt::map_blocks`]), so it fuses with the built-in steps
//! around it into one pass over the data.

use std::process::ExitCode;

use chunkwise::cli::Cli;
use chunkwise::pipeline::{builtin, Registry, Steps};
use chunkwise::prelude::*;
use ndarray::ArrayViewD;
use serde::Deserialize;

/// The parameters of a `gamma` step: its schema in pipeline files.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Gamma {
    /// The input's name.
    x: String,
    /// The exponent.
    gamma: f32,
    /// The value that maps to 1 (default 1).
    #[serde(default = "one")]
    max: f32,
}

fn one() -> f32 {
    1.0
}

/// The built-in ops and `gamma`: `(x / max) ^ gamma` in float32.
pub fn registry() -> Registry {
    let mut ops = builtin();
    ops.register("gamma", |p: Gamma, steps: &Steps<'_>| {
        let (gamma, max) = (p.gamma, p.max);
        if !(gamma.is_finite() && max.is_finite() && max != 0.0) {
            return Err(chunkwise::Error::Invalid(
                "gamma: gamma and max must be finite numbers, max not 0".into(),
            ));
        }
        let function = UserFn::new(DType::Float32).named("gamma", "1");
        steps
            .array(&p.x)?
            .astype(DType::Float32)?
            .map_blocks(function, move |b: ArrayViewD<'_, f32>| {
                Ok::<_, String>(b.mapv(|v| (v / max).powf(gamma)))
            })
    });
    ops
}

#[allow(dead_code)]
fn main() -> ExitCode {
    Cli::new().registry(registry()).run()
}
