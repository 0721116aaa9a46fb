//! Unary math. Three classes, by what the builder does with the input type (see
//! [`UnaryFn::class`]): `abs`, `negative`, `square`, `sign` keep every type; `floor`, `ceil`,
//! `trunc`, `round` are the identity on integers (NumPy 2 keeps their type) and round floats;
//! the rest (`sqrt`, `exp`, `log`, `reciprocal`, `expm1`, `log1p`, `log2`, `log10`, the
//! trigonometric and hyperbolic functions and their inverses) compute in float, integers cast
//! first.

use chunkwise_engine::{ArrayMeta, DType, Op, OpKind, Result, Slice, SliceMut};
use serde::{Deserialize, Serialize};

use crate::elementwise::common::{elementwise_meta, map};
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
    /// `-x` (same type; integers wrap).
    Negative,
    /// `x * x` (same type; integers wrap).
    Square,
    /// -1, 0 or 1 (same type).
    Sign,
    /// Round toward -inf.
    Floor,
    /// Round toward +inf.
    Ceil,
    /// Round toward 0.
    Trunc,
    /// Round half to even.
    Round,
    /// `1 / x`.
    Reciprocal,
    /// e^x - 1.
    Expm1,
    /// ln(1 + x).
    Log1p,
    /// Base-2 logarithm.
    Log2,
    /// Base-10 logarithm.
    Log10,
    /// Sine.
    Sin,
    /// Cosine.
    Cos,
    /// Tangent.
    Tan,
    /// Inverse sine.
    Asin,
    /// Inverse cosine.
    Acos,
    /// Inverse tangent.
    Atan,
    /// Hyperbolic sine.
    Sinh,
    /// Hyperbolic cosine.
    Cosh,
    /// Hyperbolic tangent.
    Tanh,
    /// Inverse hyperbolic sine.
    Asinh,
    /// Inverse hyperbolic cosine.
    Acosh,
    /// Inverse hyperbolic tangent.
    Atanh,
}

/// How a unary function treats its input type (what the builder casts to).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryClass {
    /// Computes in the input's own type.
    SameType,
    /// The identity on integers and bool; rounds floats.
    Rounding,
    /// Computes in float: integers and bool are cast first.
    Float,
}

impl UnaryFn {
    /// Every function, for registries and tests.
    pub const ALL: [UnaryFn; 28] = {
        use UnaryFn::*;
        [
            Abs, Sqrt, Exp, Log, Negative, Square, Sign, Floor, Ceil, Trunc, Round, Reciprocal,
            Expm1, Log1p, Log2, Log10, Sin, Cos, Tan, Asin, Acos, Atan, Sinh, Cosh, Tanh, Asinh,
            Acosh, Atanh,
        ]
    };

    /// The op name in pipeline files (the array API standard's, which NumPy 2 also has).
    pub fn name(self) -> &'static str {
        use UnaryFn::*;
        match self {
            Abs => "abs",
            Sqrt => "sqrt",
            Exp => "exp",
            Log => "log",
            Negative => "negative",
            Square => "square",
            Sign => "sign",
            Floor => "floor",
            Ceil => "ceil",
            Trunc => "trunc",
            Round => "round",
            Reciprocal => "reciprocal",
            Expm1 => "expm1",
            Log1p => "log1p",
            Log2 => "log2",
            Log10 => "log10",
            Sin => "sin",
            Cos => "cos",
            Tan => "tan",
            Asin => "asin",
            Acos => "acos",
            Atan => "atan",
            Sinh => "sinh",
            Cosh => "cosh",
            Tanh => "tanh",
            Asinh => "asinh",
            Acosh => "acosh",
            Atanh => "atanh",
        }
    }

    /// See [`UnaryClass`].
    pub fn class(self) -> UnaryClass {
        use UnaryFn::*;
        match self {
            Abs | Negative | Square | Sign => UnaryClass::SameType,
            Floor | Ceil | Trunc | Round => UnaryClass::Rounding,
            _ => UnaryClass::Float,
        }
    }
}

/// Applies a unary function element by element.
#[derive(Debug, Clone, Serialize)]
pub struct Unary {
    /// Which function.
    pub f: UnaryFn,
}

fn same_type_fn<T: Num>(f: UnaryFn, x: &[T], o: &mut [T]) -> Result<()> {
    match f {
        UnaryFn::Abs => map(x, o, T::abs),
        UnaryFn::Negative => map(x, o, T::neg),
        UnaryFn::Square => map(x, o, |v| v.mul(v)),
        UnaryFn::Sign => map(x, o, T::sign),
        f => return Err(type_error(f.name(), &[T::DTYPE])),
    }
    Ok(())
}

fn float_fn<T: Float>(f: UnaryFn, x: &[T], o: &mut [T]) -> Result<()> {
    use UnaryFn::*;
    match f {
        Sqrt => map(x, o, T::sqrt),
        Exp => map(x, o, T::exp),
        Log => map(x, o, T::ln),
        Floor => map(x, o, T::floor),
        Ceil => map(x, o, T::ceil),
        Trunc => map(x, o, T::trunc),
        Round => map(x, o, T::round_even),
        Reciprocal => map(x, o, T::recip),
        Expm1 => map(x, o, T::exp_m1),
        Log1p => map(x, o, T::ln_1p),
        Log2 => map(x, o, T::log2),
        Log10 => map(x, o, T::log10),
        Sin => map(x, o, T::sin),
        Cos => map(x, o, T::cos),
        Tan => map(x, o, T::tan),
        Asin => map(x, o, T::asin),
        Acos => map(x, o, T::acos),
        Atan => map(x, o, T::atan),
        Sinh => map(x, o, T::sinh),
        Cosh => map(x, o, T::cosh),
        Tanh => map(x, o, T::tanh),
        Asinh => map(x, o, T::asinh),
        Acosh => map(x, o, T::acosh),
        Atanh => map(x, o, T::atanh),
        Abs | Negative | Square | Sign => return same_type_fn(f, x, o),
    }
    Ok(())
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
        let x = inputs
            .first()
            .copied()
            .ok_or_else(|| type_error(self.f.name(), &[]))?;
        match (x, out) {
            (Slice::Float32(x), SliceMut::Float32(o)) => float_fn(self.f, x, o),
            (Slice::Float64(x), SliceMut::Float64(o)) => float_fn(self.f, x, o),
            (x, o) => unary_same!(self.f.name(), x, o, |x, o| same_type_fn(self.f, x, o)),
        }
    }
}
