//! The reductions in pipeline files: `{"op": "reduce", "x": "raw", "reduction": "max",
//! "axes": [0]}`, one step kind for all of them, and `{"op": "histogram", "x": "raw",
//! "bins": 256, "range": [0, 65535]}`.

use chunkwise_engine::{Registry, Steps};
use serde::Deserialize;

use crate::reduce::{reduce, Axes, Reduction};

/// `reduce(x, reduction, axes, keepdims)`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Reduce {
    x: String,
    /// sum, prod, mean, min, max, var, std, count_nonzero, any, all, argmin, argmax.
    reduction: String,
    /// var and std: the divisor is `n - ddof`.
    #[serde(default)]
    ddof: u32,
    /// The axes; all when absent.
    #[serde(default)]
    axes: Option<Vec<usize>>,
    #[serde(default)]
    keepdims: bool,
}

/// `histogram(x, bins, range)`: int64 counts over all elements, as `np.histogram`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Histogram {
    x: String,
    bins: u32,
    /// `[lo, hi]`, lo < hi.
    range: (f64, f64),
}

/// Registers `reduce` and `histogram`.
pub fn register(r: &mut Registry) -> &mut Registry {
    r.register("reduce", |p: Reduce, s: &Steps<'_>| {
        let axes = Axes {
            axes: p.axes,
            keepdims: p.keepdims,
        };
        reduce(
            &s.array(&p.x)?,
            Reduction::parse(&p.reduction, p.ddof)?,
            &axes,
        )
    })
    .register("histogram", |p: Histogram, s: &Steps<'_>| {
        let (lo, hi) = p.range;
        let h = Reduction::Histogram {
            bins: p.bins,
            lo,
            hi,
        };
        reduce(&s.array(&p.x)?, h, &Axes::all())
    })
}
