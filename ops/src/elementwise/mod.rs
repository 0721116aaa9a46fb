//! Element-wise operations and their builders. The builders apply NumPy 2 type promotion
//! (NEP 50) by inserting `astype` nodes, so every kernel sees operands of one type; the casts fuse
//! into the same pass as everything else.

mod arith;
mod astype;
mod clip;
pub(crate) mod common;
mod compare;
pub(crate) mod dispatch;
pub mod num;
mod pipeline;
mod threshold;
mod unary;
mod where_op;

use std::sync::Arc;

pub use arith::{Arith, Binary, BinaryScalar};
pub use astype::AsType;
use chunkwise_engine::{
    promote, promote_scalar, weak_scalar_type, Array, DType, Error, Kind, Result, Scalar,
};
pub use clip::Clip;
pub use pipeline::register;
pub use threshold::Threshold;
pub use unary::{Unary, UnaryFn};
pub use where_op::Where;

/// An operand of a binary operation: an array or a scalar.
#[derive(Clone, Debug)]
pub enum Operand {
    /// An array of the same shape as the other operand.
    Array(Array),
    /// A weak (NEP 50) scalar.
    Scalar(Scalar),
}

impl From<Array> for Operand {
    fn from(a: Array) -> Self {
        Operand::Array(a)
    }
}
impl From<&Array> for Operand {
    fn from(a: &Array) -> Self {
        Operand::Array(a.clone())
    }
}
impl From<Scalar> for Operand {
    fn from(s: Scalar) -> Self {
        Operand::Scalar(s)
    }
}
impl From<f64> for Operand {
    fn from(v: f64) -> Self {
        Operand::Scalar(v.into())
    }
}
impl From<i64> for Operand {
    fn from(v: i64) -> Self {
        Operand::Scalar(v.into())
    }
}
impl From<i32> for Operand {
    fn from(v: i32) -> Self {
        Operand::Scalar(v.into())
    }
}
impl From<bool> for Operand {
    fn from(v: bool) -> Self {
        Operand::Scalar(v.into())
    }
}

/// `x.astype(to)`; returns `x` itself when it already has that type.
///
/// # Errors
/// None in practice; kept fallible like every builder.
pub fn astype(x: &Array, to: DType) -> Result<Array> {
    if x.dtype() == to {
        return Ok(x.clone());
    }
    Array::apply(Arc::new(AsType { to }), vec![x.clone()])
}

/// `np.clip(x, min, max)`, with NumPy 2's rules for integer bounds on integer arrays: a bound at
/// or beyond the type's limit on its own side clips nothing and is dropped before promotion
/// (`np.clip(uint8_array, -42, 419)` is the array itself, uint8); one beyond the other end is an
/// error. With no bound left (or none given) the result is `x` itself, as NumPy's.
///
/// # Errors
/// [`Error::Invalid`] for a lower integer bound above an integer array's range or an upper one
/// below it (NumPy 2 raises `OverflowError`), and for a bool array with no bound (NumPy refuses
/// it too).
pub fn clip(x: &Array, min: Option<Scalar>, max: Option<Scalar>) -> Result<Array> {
    if min.is_none() && max.is_none() && x.dtype() == DType::Bool {
        return Err(Error::Invalid(
            "clip of a bool array needs min, max or both (NumPy refuses it too)".into(),
        ));
    }
    let (min, max) = clip::numpy_bounds(x.dtype(), min, max);
    if min.is_none() && max.is_none() {
        return Ok(x.clone());
    }
    let dtype = [min, max]
        .into_iter()
        .flatten()
        .fold(x.dtype(), |d, b| promote(d, weak_scalar_type(x.dtype(), b)));
    for (name, bound) in [("min", min), ("max", max)] {
        if let Some(b) = bound.filter(|b| !b.fits(dtype)) {
            return Err(Error::Invalid(format!(
                "clip {name} {b} is outside the range of the array's type {dtype}; cast the array \
                 first with astype (NumPy 2 raises OverflowError here too)"
            )));
        }
    }
    let x = astype(x, dtype)?;
    Array::apply(Arc::new(Clip { min, max }), vec![x])
}

/// `(x > value).astype(uint8)`, NumPy 2's comparison: an integer `value` outside an integer
/// array's range is no error (all 0 above it, all 1 below).
///
/// # Errors
/// None in practice; kept fallible like every builder.
pub fn threshold(x: &Array, value: Scalar) -> Result<Array> {
    let x = compare::cast_for_comparison(x, value)?;
    Array::apply(Arc::new(Threshold { value }), vec![x])
}

/// `a op b` with NumPy promotion; at least one side is an array.
///
/// # Errors
/// [`Error::Invalid`] for two scalars, mismatched shapes, bool subtraction (NumPy refuses it
/// too), or an integer scalar outside an integer array's range, except in `div` (NumPy 2 raises
/// `OverflowError` for the others, and true division computes in float64).
pub fn binary(op: Arith, a: impl Into<Operand>, b: impl Into<Operand>) -> Result<Array> {
    let (a, b) = (a.into(), b.into());
    let promoted = match (&a, &b) {
        (Operand::Array(x), Operand::Array(y)) => {
            if x.shape() != y.shape() {
                return Err(Error::Invalid(format!(
                    "shape mismatch in {}: {:?} vs {:?}; element-wise operands must have the same \
                     shape",
                    op.name(),
                    x.shape(),
                    y.shape()
                )));
            }
            promote(x.dtype(), y.dtype())
        }
        (Operand::Array(x), Operand::Scalar(s)) | (Operand::Scalar(s), Operand::Array(x)) => {
            match op {
                // Integer true division is float64, so any integer scalar converts (NumPy 2).
                Arith::Div => weak_scalar_type(x.dtype(), *s),
                _ => promote_scalar(x.dtype(), *s)?,
            }
        }
        (Operand::Scalar(_), Operand::Scalar(_)) => {
            return Err(Error::Invalid(format!(
                "{}: at least one operand must be an array",
                op.name()
            )))
        }
    };
    let dtype = match op {
        Arith::Div if promoted.kind() != Kind::Float => DType::Float64,
        Arith::Sub if promoted == DType::Bool => {
            return Err(Error::Invalid(
                "sub of bool arrays is not supported (NumPy refuses it too); use astype first"
                    .into(),
            ))
        }
        _ => promoted,
    };
    match (a, b) {
        (Operand::Array(x), Operand::Array(y)) => Array::apply(
            Arc::new(Binary { op }),
            vec![astype(&x, dtype)?, astype(&y, dtype)?],
        ),
        (Operand::Array(x), Operand::Scalar(scalar)) => Array::apply(
            Arc::new(BinaryScalar {
                op,
                scalar,
                scalar_first: false,
            }),
            vec![astype(&x, dtype)?],
        ),
        (Operand::Scalar(scalar), Operand::Array(x)) => Array::apply(
            Arc::new(BinaryScalar {
                op,
                scalar,
                scalar_first: true,
            }),
            vec![astype(&x, dtype)?],
        ),
        (Operand::Scalar(_), Operand::Scalar(_)) => unreachable!("rejected above"),
    }
}

/// A unary function; sqrt/exp/log cast integer and bool input to float first (int16/uint16 and
/// smaller -> float32, wider -> float64; NumPy gives float16 for 8-bit and bool input, a type
/// Zarr processing here does not use, so chunkwise gives float32).
///
/// # Errors
/// None in practice; kept fallible like every builder.
pub fn unary(f: UnaryFn, x: &Array) -> Result<Array> {
    let dtype = match (f, x.dtype()) {
        (UnaryFn::Abs, d) => d,
        (_, d) if d.kind() == Kind::Float => d,
        (_, d) if d.size() <= 2 => DType::Float32,
        _ => DType::Float64,
    };
    Array::apply(Arc::new(Unary { f }), vec![astype(x, dtype)?])
}

/// `np.where(mask, a, b)` without broadcasting: arrays must share the mask's shape.
///
/// # Errors
/// [`Error::Invalid`] for mismatched shapes, or an integer scalar outside an integer array's range
/// (NumPy 2 wraps it silently: `np.where(m, uint8_array, 300)` puts 44 where `m` is false).
pub fn where_(mask: &Array, a: impl Into<Operand>, b: impl Into<Operand>) -> Result<Array> {
    let (a, b) = (a.into(), b.into());
    let default_type = |s: &Scalar| match s {
        Scalar::Bool(_) => DType::Bool,
        Scalar::Int(_) => DType::Int64,
        Scalar::Float(_) => DType::Float64,
    };
    let dtype = match (&a, &b) {
        (Operand::Array(x), Operand::Array(y)) => promote(x.dtype(), y.dtype()),
        (Operand::Array(x), Operand::Scalar(s)) | (Operand::Scalar(s), Operand::Array(x)) => {
            let dtype = weak_scalar_type(x.dtype(), *s);
            if !s.fits(dtype) {
                return Err(Error::Invalid(format!(
                    "where: scalar {s} does not fit the array's type {dtype}; cast the array first \
                     with astype (NumPy 2 would wrap it silently)"
                )));
            }
            dtype
        }
        (Operand::Scalar(s), Operand::Scalar(t)) => promote(default_type(s), default_type(t)),
    };
    let mut inputs = vec![astype(mask, DType::Bool)?];
    let mut scalar_of = |o: Operand| -> Result<Option<Scalar>> {
        match o {
            Operand::Array(x) => {
                inputs.push(astype(&x, dtype)?);
                Ok(None)
            }
            Operand::Scalar(s) => Ok(Some(s)),
        }
    };
    let (a, b) = (scalar_of(a)?, scalar_of(b)?);
    Array::apply(Arc::new(Where { a, b, dtype }), inputs)
}

/// Element-wise methods on [`Array`]: `x.astype(F32)?.mul(1.5)?.clip(0, 65535)?`.
pub trait ElementwiseExt {
    /// See [`astype`].
    ///
    /// # Errors
    /// See [`astype`].
    fn astype(&self, to: DType) -> Result<Array>;
    /// See [`clip`]; both bounds given.
    ///
    /// # Errors
    /// See [`clip`].
    fn clip(&self, min: impl Into<Scalar>, max: impl Into<Scalar>) -> Result<Array>;
    /// See [`threshold`].
    ///
    /// # Errors
    /// See [`threshold`].
    fn threshold(&self, value: impl Into<Scalar>) -> Result<Array>;
    /// `self + other`.
    ///
    /// # Errors
    /// See [`binary`].
    fn add(&self, other: impl Into<Operand>) -> Result<Array>;
    /// `self - other`.
    ///
    /// # Errors
    /// See [`binary`].
    fn sub(&self, other: impl Into<Operand>) -> Result<Array>;
    /// `self * other`.
    ///
    /// # Errors
    /// See [`binary`].
    fn mul(&self, other: impl Into<Operand>) -> Result<Array>;
    /// `self / other` (true division).
    ///
    /// # Errors
    /// See [`binary`].
    fn div(&self, other: impl Into<Operand>) -> Result<Array>;
    /// `np.minimum(self, other)`.
    ///
    /// # Errors
    /// See [`binary`].
    fn minimum(&self, other: impl Into<Operand>) -> Result<Array>;
    /// `np.maximum(self, other)`.
    ///
    /// # Errors
    /// See [`binary`].
    fn maximum(&self, other: impl Into<Operand>) -> Result<Array>;
    /// `np.abs(self)`.
    ///
    /// # Errors
    /// See [`unary`].
    fn abs(&self) -> Result<Array>;
    /// `np.sqrt(self)`.
    ///
    /// # Errors
    /// See [`unary`].
    fn sqrt(&self) -> Result<Array>;
    /// `np.exp(self)`.
    ///
    /// # Errors
    /// See [`unary`].
    fn exp(&self) -> Result<Array>;
    /// `np.log(self)`.
    ///
    /// # Errors
    /// See [`unary`].
    fn log(&self) -> Result<Array>;
}

impl ElementwiseExt for Array {
    fn astype(&self, to: DType) -> Result<Array> {
        astype(self, to)
    }
    fn clip(&self, min: impl Into<Scalar>, max: impl Into<Scalar>) -> Result<Array> {
        clip(self, Some(min.into()), Some(max.into()))
    }
    fn threshold(&self, value: impl Into<Scalar>) -> Result<Array> {
        threshold(self, value.into())
    }
    fn add(&self, other: impl Into<Operand>) -> Result<Array> {
        binary(Arith::Add, self, other)
    }
    fn sub(&self, other: impl Into<Operand>) -> Result<Array> {
        binary(Arith::Sub, self, other)
    }
    fn mul(&self, other: impl Into<Operand>) -> Result<Array> {
        binary(Arith::Mul, self, other)
    }
    fn div(&self, other: impl Into<Operand>) -> Result<Array> {
        binary(Arith::Div, self, other)
    }
    fn minimum(&self, other: impl Into<Operand>) -> Result<Array> {
        binary(Arith::Minimum, self, other)
    }
    fn maximum(&self, other: impl Into<Operand>) -> Result<Array> {
        binary(Arith::Maximum, self, other)
    }
    fn abs(&self) -> Result<Array> {
        unary(UnaryFn::Abs, self)
    }
    fn sqrt(&self) -> Result<Array> {
        unary(UnaryFn::Sqrt, self)
    }
    fn exp(&self) -> Result<Array> {
        unary(UnaryFn::Exp, self)
    }
    fn log(&self) -> Result<Array> {
        unary(UnaryFn::Log, self)
    }
}
