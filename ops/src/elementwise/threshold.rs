//! `threshold`: `(x > t).astype(uint8)`, a 0/1 mask (NaN gives 0). An integer `t` outside an
//! integer input's range is NumPy's answer, not an error: all 0 above the range, all 1 below.

use std::cmp::Ordering;

use chunkwise_engine::{ArrayMeta, DType, Error, Op, OpKind, Result, Scalar, Slice, SliceMut};
use multiversion::multiversion;
use serde::Serialize;

use crate::elementwise::common::elementwise_meta;
use crate::elementwise::compare::{comparand, Comparand};
use crate::elementwise::dispatch::any_input;
use crate::elementwise::num::Num;

/// 1 where `x > value`, else 0, as uint8.
#[derive(Debug, Clone, Serialize)]
pub struct Threshold {
    /// The threshold; the builder has cast the input to the type it is compared in
    /// ([`crate::elementwise::threshold()`]).
    pub value: Scalar,
}

#[multiversion(targets(
    "x86_64+avx512f+avx512vl+avx512bw+avx512dq",
    "x86_64+avx2",
    "x86_64+sse4.1"
))]
fn above<T: Num>(x: &[T], o: &mut [u8], t: T) {
    for (o, &x) in o.iter_mut().zip(x) {
        *o = u8::from(x.gt(t));
    }
}

/// `x > value` for one block: the scalar is resolved once, then compared with every element or,
/// outside the type's range, the one answer filled in.
fn threshold<T: Num>(x: &[T], o: &mut [u8], value: Scalar) {
    match comparand::<T>(value) {
        Comparand::Value(t) => above(x, o, t),
        Comparand::Outside(order) => o.fill(u8::from(order == Ordering::Greater)),
    }
}

impl Op for Threshold {
    fn name(&self) -> &'static str {
        "threshold"
    }

    fn describe(&self) -> String {
        format!("value={}", self.value)
    }

    fn kind(&self) -> OpKind {
        OpKind::ElementWise
    }

    fn output_meta(&self, inputs: &[ArrayMeta]) -> Result<ArrayMeta> {
        elementwise_meta("threshold", inputs, 1, DType::Uint8)
    }

    fn eval_block(&self, inputs: &[Slice<'_>], out: SliceMut<'_>) -> Result<()> {
        let SliceMut::Uint8(o) = out else {
            return Err(Error::Invalid("internal: threshold writes uint8".into()));
        };
        any_input!("threshold", inputs[0], |x| {
            threshold(x, o, self.value);
            Ok(())
        })
    }
}
