//! `astype`: element type conversion with NumPy's `astype` semantics for in-range values; float to
//! integer rounds toward zero and saturates, NaN -> 0 (Rust `as`), integers wrap.

use chunkwise_engine::{ArrayMeta, DType, Op, OpKind, Result, Slice, SliceMut};
use multiversion::multiversion;
use serde::Serialize;

use crate::elementwise::common::elementwise_meta;
use crate::elementwise::dispatch::{any_input, any_output};
use crate::elementwise::num::CastTo;

/// Converts elements to `to`.
#[derive(Debug, Clone, Serialize)]
pub struct AsType {
    /// Target type (`dtype` in pipeline files and the run's identity).
    #[serde(rename = "dtype")]
    pub to: DType,
}

#[multiversion(targets(
    "x86_64+avx512f+avx512vl+avx512bw+avx512dq",
    "x86_64+avx2",
    "x86_64+sse4.1"
))]
fn cast_slice<S: CastTo<D> + Copy, D>(x: &[S], o: &mut [D]) {
    for (o, &x) in o.iter_mut().zip(x) {
        *o = x.cast();
    }
}

impl Op for AsType {
    fn name(&self) -> &'static str {
        "astype"
    }

    fn describe(&self) -> String {
        self.to.to_string()
    }

    fn kind(&self) -> OpKind {
        OpKind::ElementWise
    }

    fn output_meta(&self, inputs: &[ArrayMeta]) -> Result<ArrayMeta> {
        elementwise_meta("astype", inputs, 1, self.to)
    }

    fn eval_block(&self, inputs: &[Slice<'_>], out: SliceMut<'_>) -> Result<()> {
        any_input!("astype", inputs[0], |x| any_output!(out, |o| {
            cast_slice(x, o);
            Ok(())
        }))
    }
}
