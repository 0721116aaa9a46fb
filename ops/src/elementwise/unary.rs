//! Unary math: `np.abs` on every type; `np.sqrt`, `np.exp`, `np.log` on floats (the builder casts
//! integers to float first).

use chunkwise_engine::{ArrayMeta, DType, Op, OpKind, Result, Slice, SliceMut};
use multiversion::multiversion;
use serde::{Deserialize, Serialize};

use crate::elementwise::common::elementwise_meta;
use crate::elementwise::dispatch::{type_error, unary_same};
use crate::elementwise::num::{Float, Num};

/// Which function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UnaryFn {
    /// Absolute value (same type).
    Abs,
    /// Square root.
    Sqrt,
    /// e^x.
    Exp,
    /// Natural logarithm.
    Log,
}

impl UnaryFn {
    /// The op name in pipeline files.
    pub fn name(self) -> &'static str {
        match self {
            UnaryFn::Abs => "abs",
            UnaryFn::Sqrt => "sqrt",
            UnaryFn::Exp => "exp",
            UnaryFn::Log => "log",
        }
    }
}

/// Applies a unary function element by element.
#[derive(Debug, Clone, Serialize)]
pub struct Unary {
    /// Which function.
    pub f: UnaryFn,
}

#[multiversion(targets("x86_64+avx2", "x86_64+sse4.1"))]
fn map<T: Copy>(x: &[T], o: &mut [T], f: impl Fn(T) -> T) {
    for (o, &x) in o.iter_mut().zip(x) {
        *o = f(x);
    }
}

fn float_fn<T: Float>(f: UnaryFn, x: &[T], o: &mut [T]) {
    match f {
        UnaryFn::Sqrt => map(x, o, T::sqrt),
        UnaryFn::Exp => map(x, o, T::exp),
        UnaryFn::Log => map(x, o, T::ln),
        UnaryFn::Abs => map(x, o, T::abs),
    }
}

impl Op for Unary {
    fn name(&self) -> &'static str {
        self.f.name()
    }

    fn describe(&self) -> String {
        String::new()
    }

    fn kind(&self) -> OpKind {
        OpKind::ElementWise
    }

    fn output_meta(&self, inputs: &[ArrayMeta]) -> Result<ArrayMeta> {
        let dtype = inputs.first().map_or(DType::Float64, |m| m.dtype);
        elementwise_meta(self.f.name(), inputs, 1, dtype)
    }

    fn eval_block(&self, inputs: &[Slice<'_>], out: SliceMut<'_>) -> Result<()> {
        match (self.f, inputs[0], out) {
            (UnaryFn::Abs, x, o) => unary_same!("abs", x, o, |x, o| {
                map(x, o, Num::abs);
                Ok(())
            }),
            (f, Slice::Float32(x), SliceMut::Float32(o)) => {
                float_fn(f, x, o);
                Ok(())
            }
            (f, Slice::Float64(x), SliceMut::Float64(o)) => {
                float_fn(f, x, o);
                Ok(())
            }
            (f, x, o) => Err(type_error(f.name(), &[x.dtype(), o.dtype()])),
        }
    }
}
