//! Binary arithmetic, between two arrays of one type or an array and a scalar: `np.add`,
//! `np.subtract`, `np.multiply`, `np.true_divide`, `np.minimum`, `np.maximum`. The builder has
//! already cast the operands to the promoted type, so kernels see one type.

use chunkwise_engine::{ArrayMeta, DType, Op, OpKind, Result, Scalar, Slice, SliceMut};
use multiversion::multiversion;
use serde::{Deserialize, Serialize};

use crate::elementwise::common::elementwise_meta;
use crate::elementwise::dispatch::{binary_same, type_error, unary_same};
use crate::elementwise::num::{Float, Num};

/// Which arithmetic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Arith {
    /// `a + b`
    Add,
    /// `a - b`
    Sub,
    /// `a * b`
    Mul,
    /// `a / b` (true division; float types only)
    Div,
    /// `np.minimum(a, b)`
    Minimum,
    /// `np.maximum(a, b)`
    Maximum,
}

impl Arith {
    /// The op name in pipeline files.
    pub fn name(self) -> &'static str {
        match self {
            Arith::Add => "add",
            Arith::Sub => "sub",
            Arith::Mul => "mul",
            Arith::Div => "div",
            Arith::Minimum => "minimum",
            Arith::Maximum => "maximum",
        }
    }
}

#[multiversion(targets("x86_64+avx2", "x86_64+sse4.1"))]
fn zip2<T: Copy>(a: &[T], b: &[T], o: &mut [T], f: impl Fn(T, T) -> T) {
    for ((o, &a), &b) in o.iter_mut().zip(a).zip(b) {
        *o = f(a, b);
    }
}

#[multiversion(targets("x86_64+avx2", "x86_64+sse4.1"))]
fn with_scalar<T: Copy>(a: &[T], s: T, o: &mut [T], f: impl Fn(T, T) -> T) {
    for (o, &a) in o.iter_mut().zip(a) {
        *o = f(a, s);
    }
}

fn arrays<T: Num>(op: Arith, a: &[T], b: &[T], o: &mut [T]) {
    match op {
        Arith::Add => zip2(a, b, o, T::add),
        Arith::Sub => zip2(a, b, o, T::sub),
        Arith::Mul => zip2(a, b, o, T::mul),
        Arith::Minimum => zip2(a, b, o, T::minimum),
        Arith::Maximum => zip2(a, b, o, T::maximum),
        Arith::Div => unreachable!("division dispatches to the float kernels"),
    }
}

fn scalar<T: Num>(op: Arith, a: &[T], s: T, first: bool, o: &mut [T]) {
    match (op, first) {
        (Arith::Add, _) => with_scalar(a, s, o, T::add),
        (Arith::Mul, _) => with_scalar(a, s, o, T::mul),
        (Arith::Minimum, _) => with_scalar(a, s, o, T::minimum),
        (Arith::Maximum, _) => with_scalar(a, s, o, T::maximum),
        (Arith::Sub, false) => with_scalar(a, s, o, T::sub),
        (Arith::Sub, true) => with_scalar(a, s, o, |a, s| s.sub(a)),
        (Arith::Div, _) => unreachable!("division dispatches to the float kernels"),
    }
}

fn divide<T: Float>(a: &[T], b: &[T], o: &mut [T]) {
    zip2(a, b, o, T::div);
}

fn divide_scalar<T: Float>(a: &[T], s: T, first: bool, o: &mut [T]) {
    if first {
        with_scalar(a, s, o, |a, s| s.div(a));
    } else {
        // Division, not multiplication by the reciprocal: results must match NumPy's bit for bit.
        with_scalar(a, s, o, T::div);
    }
}

/// `a op b` for two arrays of one type.
#[derive(Debug, Clone, Serialize)]
pub struct Binary {
    /// Which arithmetic.
    pub op: Arith,
}

impl Op for Binary {
    fn name(&self) -> &'static str {
        self.op.name()
    }

    fn describe(&self) -> String {
        "array, array".into()
    }

    fn kind(&self) -> OpKind {
        OpKind::ElementWise
    }

    fn output_meta(&self, inputs: &[ArrayMeta]) -> Result<ArrayMeta> {
        let dtype = inputs.first().map_or(DType::Float64, |m| m.dtype);
        elementwise_meta(self.op.name(), inputs, 2, dtype)
    }

    fn eval_block(&self, inputs: &[Slice<'_>], out: SliceMut<'_>) -> Result<()> {
        if self.op == Arith::Div {
            return match (inputs[0], inputs[1], out) {
                (Slice::Float32(a), Slice::Float32(b), SliceMut::Float32(o)) => {
                    divide(a, b, o);
                    Ok(())
                }
                (Slice::Float64(a), Slice::Float64(b), SliceMut::Float64(o)) => {
                    divide(a, b, o);
                    Ok(())
                }
                (a, b, o) => Err(type_error("div", &[a.dtype(), b.dtype(), o.dtype()])),
            };
        }
        binary_same!(self.op.name(), inputs[0], inputs[1], out, |a, b, o| {
            arrays(self.op, a, b, o);
            Ok(())
        })
    }
}

/// `a op s` (or `s op a` when `scalar_first`) for an array and a scalar.
#[derive(Debug, Clone, Serialize)]
pub struct BinaryScalar {
    /// Which arithmetic.
    pub op: Arith,
    /// The scalar operand (fits the array type; checked by the builder).
    pub scalar: Scalar,
    /// True for `s op a`.
    pub scalar_first: bool,
}

impl Op for BinaryScalar {
    fn name(&self) -> &'static str {
        self.op.name()
    }

    fn describe(&self) -> String {
        if self.scalar_first {
            format!("{}, array", self.scalar)
        } else {
            self.scalar.to_string()
        }
    }

    fn kind(&self) -> OpKind {
        OpKind::ElementWise
    }

    fn output_meta(&self, inputs: &[ArrayMeta]) -> Result<ArrayMeta> {
        let dtype = inputs.first().map_or(DType::Float64, |m| m.dtype);
        elementwise_meta(self.op.name(), inputs, 1, dtype)
    }

    fn eval_block(&self, inputs: &[Slice<'_>], out: SliceMut<'_>) -> Result<()> {
        let s = self.scalar;
        if self.op == Arith::Div {
            return match (inputs[0], out) {
                (Slice::Float32(a), SliceMut::Float32(o)) => {
                    divide_scalar(a, Num::from_scalar(s), self.scalar_first, o);
                    Ok(())
                }
                (Slice::Float64(a), SliceMut::Float64(o)) => {
                    divide_scalar(a, Num::from_scalar(s), self.scalar_first, o);
                    Ok(())
                }
                (a, o) => Err(type_error("div", &[a.dtype(), o.dtype()])),
            };
        }
        unary_same!(self.op.name(), inputs[0], out, |a, o| {
            scalar(self.op, a, Num::from_scalar(s), self.scalar_first, o);
            Ok(())
        })
    }
}
