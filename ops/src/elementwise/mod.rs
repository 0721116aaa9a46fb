//! Element-wise operations and their builders: the array API standard's element-wise functions
//! (2023.12) for chunkwise's real types, with NumPy 2 semantics. The builders apply NumPy 2 type
//! promotion (NEP 50) by inserting `astype` nodes, so every kernel sees operands of one type (the
//! casts fuse into the same pass as everything else), and broadcast array operands against each
//! other by inserting `broadcast_to` region ops ([`broadcast_arrays`]).

mod arith;
mod astype;
mod bitwise;
mod broadcast;
mod clip;
pub(crate) mod common;
mod compare;
mod compare_ops;
pub(crate) mod dispatch;
mod ext;
mod logical;
pub mod num;
mod pipeline;
mod predicates;
mod threshold;
mod unary;
mod where_op;

use std::sync::Arc;

pub use arith::{Arith, Binary, BinaryScalar};
pub use astype::AsType;
pub use bitwise::{bitwise, bitwise_invert, BitOp, Bitwise};
pub use broadcast::{broadcast_arrays, broadcast_shape, BroadcastTo};
use chunkwise_engine::{
    promote, promote_scalar, weak_scalar_type, Array, DType, Error, Kind, Result, Scalar,
};
pub use clip::Clip;
pub use compare_ops::{comparison, Compare, Comparison};
pub use ext::ElementwiseExt;
pub use logical::{logical, logical_not, Logical, LogicalOp};
pub use pipeline::register;
pub use predicates::{Classify, Predicate};
pub use threshold::Threshold;
pub use unary::{Unary, UnaryClass, UnaryFn};
pub use where_op::Where;

/// An operand of a binary operation: an array or a scalar.
#[derive(Clone, Debug)]
pub enum Operand {
    /// An array; two arrays broadcast against each other as NumPy's do.
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

/// The operands of a binary function once checked: two arrays of one shape, or an array and a
/// scalar (with the side the scalar is on).
pub(crate) enum Pair {
    /// Two arrays.
    Arrays(Array, Array),
    /// An array and a scalar; true when the scalar is the first operand.
    WithScalar(Array, Scalar, bool),
}

/// Classifies the operands of the binary function `name`, broadcasting two arrays against each
/// other (NumPy's rules; [`broadcast_arrays`]).
///
/// # Errors
/// [`Error::Invalid`] for two scalars or two arrays whose shapes do not broadcast.
pub(crate) fn operand_pair(name: &str, a: Operand, b: Operand) -> Result<Pair> {
    match (a, b) {
        (Operand::Array(x), Operand::Array(y)) => {
            match <[Array; 2]>::try_from(broadcast_arrays(name, &[x, y])?) {
                Ok([x, y]) => Ok(Pair::Arrays(x, y)),
                Err(_) => Err(Error::Invalid(format!("internal: {name} lost an operand"))),
            }
        }
        (Operand::Array(x), Operand::Scalar(s)) => Ok(Pair::WithScalar(x, s, false)),
        (Operand::Scalar(s), Operand::Array(x)) => Ok(Pair::WithScalar(x, s, true)),
        (Operand::Scalar(_), Operand::Scalar(_)) => Err(Error::Invalid(format!(
            "{name}: at least one operand must be an array"
        ))),
    }
}

/// The float type a float function of `dtype` computes in: a float type itself; float32 for bool
/// and integers of 8 and 16 bits; float64 for wider integers. NumPy 2 gives float16 for bool and
/// 8-bit integers, a type Zarr processing here does not use, so chunkwise gives float32 there.
pub fn float_type(dtype: DType) -> DType {
    match dtype {
        d if d.kind() == Kind::Float => d,
        d if d.size() <= 2 => DType::Float32,
        _ => DType::Float64,
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

/// `a op b` with NumPy promotion; at least one side is an array. The float functions
/// (`div`, `copysign`, `hypot`, `logaddexp`, `atan2`) compute in float: true division in float64
/// for integers, as NumPy; the others in [`float_type`] of the promoted type. `pow`,
/// `floor_divide` and `remainder` of bool compute in int8, as NumPy's.
///
/// # Errors
/// [`Error::Invalid`] for two scalars, mismatched shapes, bool subtraction (NumPy refuses it
/// too), a negative integer scalar as an integer power's exponent (NumPy raises ValueError; a
/// negative exponent in an array is the same error when the block is computed), or an integer
/// scalar outside an integer array's range, except in `div` (NumPy 2 raises `OverflowError` for
/// the others, and true division computes in float64).
pub fn binary(op: Arith, a: impl Into<Operand>, b: impl Into<Operand>) -> Result<Array> {
    let pair = operand_pair(op.name(), a.into(), b.into())?;
    let promoted = match &pair {
        // NumPy picks a float function's loop as the smallest float type each input casts to
        // safely (int8 with uint16 is float32, where their promoted int32 would give float64).
        Pair::Arrays(x, y) if op.float_only() && op != Arith::Div => {
            promote(float_type(x.dtype()), float_type(y.dtype()))
        }
        Pair::Arrays(x, y) => promote(x.dtype(), y.dtype()),
        // A float function converts any integer scalar (NumPy 2 raises only where the scalar
        // would have to become an integer).
        Pair::WithScalar(x, s, _) if op.float_only() => weak_scalar_type(x.dtype(), *s),
        Pair::WithScalar(x, s, _) => promote_scalar(x.dtype(), *s)?,
    };
    let dtype = match op {
        Arith::Div if promoted.kind() != Kind::Float => DType::Float64,
        op if op.float_only() => float_type(promoted),
        Arith::Sub if promoted == DType::Bool => {
            return Err(Error::Invalid(
                "sub of bool arrays is not supported (NumPy refuses it too); use astype first"
                    .into(),
            ))
        }
        Arith::Pow | Arith::FloorDivide | Arith::Remainder if promoted == DType::Bool => {
            DType::Int8
        }
        _ => promoted,
    };
    match pair {
        Pair::Arrays(x, y) => Array::apply(
            Arc::new(Binary { op }),
            vec![astype(&x, dtype)?, astype(&y, dtype)?],
        ),
        Pair::WithScalar(x, scalar, scalar_first) => {
            let negative_int = matches!(scalar, Scalar::Int(v) if v < 0);
            if op == Arith::Pow && !scalar_first && negative_int && dtype.kind() != Kind::Float {
                return Err(arith::negative_power_error());
            }
            let op = BinaryScalar {
                op,
                scalar,
                scalar_first,
            };
            Array::apply(Arc::new(op), vec![astype(&x, dtype)?])
        }
    }
}

/// A unary function. `abs` keeps every type, `negative`, `sign` and `square` every type but bool
/// (NumPy refuses negative and sign of bool; square of bool is int8); `floor`, `ceil`, `trunc`,
/// `round` return integer arrays themselves (round of bool is float32: NumPy gives float16); the
/// float functions cast integers and bool to [`float_type`] first. `reciprocal` is a float
/// function here as in the array API standard: NumPy's integer reciprocal truncates `1 / x` and
/// gives platform-dependent garbage for 0.
///
/// # Errors
/// [`Error::Invalid`] for `negative` or `sign` of a bool array.
pub fn unary(f: UnaryFn, x: &Array) -> Result<Array> {
    let d = x.dtype();
    let dtype = match (f.class(), d) {
        (UnaryClass::SameType, DType::Bool) => match f {
            UnaryFn::Abs => d,
            UnaryFn::Square => DType::Int8,
            _ => {
                return Err(Error::Invalid(format!(
                    "{} of a bool array is not supported (NumPy refuses it too); use \
                     logical_not or astype first",
                    f.name()
                )))
            }
        },
        (UnaryClass::SameType, d) => d,
        (UnaryClass::Rounding, DType::Bool) if f == UnaryFn::Round => {
            return astype(x, DType::Float32)
        }
        (UnaryClass::Rounding, d) if d.kind() != Kind::Float => return Ok(x.clone()),
        (UnaryClass::Rounding, d) => d,
        (UnaryClass::Float, d) => float_type(d),
    };
    Array::apply(Arc::new(Unary { f }), vec![astype(x, dtype)?])
}

/// `np.positive(x)`: `x` itself.
///
/// # Errors
/// [`Error::Invalid`] for a bool array (NumPy refuses it too).
pub fn positive(x: &Array) -> Result<Array> {
    if x.dtype() == DType::Bool {
        return Err(Error::Invalid(
            "positive of a bool array is not supported (NumPy refuses it too)".into(),
        ));
    }
    Ok(x.clone())
}

/// `np.isnan(x)`, `np.isinf(x)`, `np.isfinite(x)`, `np.signbit(x)`: bool, for every type.
///
/// # Errors
/// None in practice; kept fallible like every builder.
pub fn predicate(f: Predicate, x: &Array) -> Result<Array> {
    Array::apply(Arc::new(Classify { f }), vec![x.clone()])
}

/// `np.where(mask, a, b)`; the mask and the array operands broadcast against each other.
///
/// # Errors
/// [`Error::Invalid`] for shapes that do not broadcast, or an integer scalar outside an integer array's range
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
    let inputs = broadcast_arrays("where", &inputs)?;
    Array::apply(Arc::new(Where { a, b, dtype }), inputs)
}
