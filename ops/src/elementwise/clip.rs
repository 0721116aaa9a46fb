//! `clip`: `np.clip(x, min, max)`: the bound where `x` is beyond it, else `x` itself (NaN stays
//! NaN, a zero equal to a bound keeps its own sign); a NaN bound gives NaN; when min > max every
//! element becomes max.

use chunkwise_engine::{ArrayMeta, DType, Op, OpKind, Result, Scalar, Slice, SliceMut};
use multiversion::multiversion;
use serde::Serialize;

use crate::elementwise::common::elementwise_meta;
use crate::elementwise::dispatch::unary_same;
use crate::elementwise::num::Num;

/// Limits values to `[min, max]` (either bound may be absent).
#[derive(Debug, Clone, Serialize)]
pub struct Clip {
    /// Lower bound (fits the input type; checked by the builder).
    pub min: Option<Scalar>,
    /// Upper bound (fits the input type; checked by the builder).
    pub max: Option<Scalar>,
}

/// The bounds `np.clip` applies to an array of `dtype`: on integer arrays (not bool) it drops an
/// integer lower bound at or below the type's minimum and an integer upper bound at or above its
/// maximum, before promotion (NumPy 2's `_clip`). Such a bound clips nothing by itself, but
/// dropping it is visible: `np.clip(uint8_array, 300.0, 255)` is 300.0 everywhere, not 255.0 (the
/// max of min > max). A bound beyond the other end (a lower bound above the maximum, an upper one
/// below the minimum) is kept, for the builder to refuse as NumPy raises `OverflowError`.
pub(crate) fn numpy_bounds(
    dtype: DType,
    min: Option<Scalar>,
    max: Option<Scalar>,
) -> (Option<Scalar>, Option<Scalar>) {
    let Some((lo, hi)) = dtype.int_range() else {
        return (min, max);
    };
    let int = |b: Scalar| match b {
        Scalar::Int(v) => Some(v),
        _ => None,
    };
    (
        min.filter(|&b| int(b).is_none_or(|v| v > lo)),
        max.filter(|&b| int(b).is_none_or(|v| v < hi)),
    )
}

#[multiversion(targets(
    "x86_64+avx512f+avx512vl+avx512bw+avx512dq",
    "x86_64+avx2",
    "x86_64+sse4.1"
))]
fn clip<T: Num>(x: &[T], o: &mut [T], lo: Option<Scalar>, hi: Option<Scalar>) {
    let (lo, hi) = (lo.map(T::from_scalar), hi.map(T::from_scalar));
    // A NaN bound makes every element NaN, as in NumPy.
    #[allow(clippy::eq_op)]
    if let Some(nan) = [lo, hi].into_iter().flatten().find(|b| b != b) {
        o.fill(nan);
        return;
    }
    match (lo, hi) {
        (Some(lo), Some(hi)) => {
            for (o, &x) in o.iter_mut().zip(x) {
                *o = x.clip_low(lo).clip_high(hi);
            }
        }
        (Some(lo), None) => {
            for (o, &x) in o.iter_mut().zip(x) {
                *o = x.clip_low(lo);
            }
        }
        (None, Some(hi)) => {
            for (o, &x) in o.iter_mut().zip(x) {
                *o = x.clip_high(hi);
            }
        }
        (None, None) => o.copy_from_slice(x),
    }
}

impl Op for Clip {
    fn name(&self) -> &'static str {
        "clip"
    }

    fn describe(&self) -> String {
        let show = |b: Option<Scalar>| b.map_or("none".to_string(), |v| v.to_string());
        format!("min={}, max={}", show(self.min), show(self.max))
    }

    fn kind(&self) -> OpKind {
        OpKind::ElementWise
    }

    fn output_meta(&self, inputs: &[ArrayMeta]) -> Result<ArrayMeta> {
        let dtype = inputs
            .first()
            .map(|m| m.dtype)
            .unwrap_or(chunkwise_engine::DType::Bool);
        elementwise_meta("clip", inputs, 1, dtype)
    }

    fn eval_block(&self, inputs: &[Slice<'_>], out: SliceMut<'_>) -> Result<()> {
        unary_same!("clip", inputs[0], out, |x, o| {
            clip(x, o, self.min, self.max);
            Ok(())
        })
    }
}
