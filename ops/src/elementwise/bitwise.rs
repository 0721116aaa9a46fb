//! `bitwise_and`, `bitwise_or`, `bitwise_xor`, `bitwise_left_shift`, `bitwise_right_shift`,
//! `bitwise_invert`, on integers and bool as NumPy's: operands promote as arithmetic does (an
//! integer scalar outside the type is an error), a float type is refused, shifts of bool compute
//! in int8, and a shift by the type's width or more (or by a negative amount) gives 0, or -1 for a
//! right shift of a negative value (NumPy's answers, where Rust's `<<` would overflow).

use std::sync::Arc;

use chunkwise_engine::{
    promote, promote_scalar, Array, ArrayMeta, DType, Error, Kind, Op, OpKind, Result, Scalar,
    Slice, SliceMut,
};
use serde::{Deserialize, Serialize};

use crate::elementwise::common::{
    describe_operands, elementwise_meta, map, sides, zip_sides, Side,
};
use crate::elementwise::dispatch::type_error;
use crate::elementwise::num::Num;
use crate::elementwise::{astype, operand_pair, Operand, Pair};

/// Which bitwise function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BitOp {
    /// `x & y`
    And,
    /// `x | y`
    Or,
    /// `x ^ y`
    Xor,
    /// `x << y`
    LeftShift,
    /// `x >> y` (arithmetic for signed types)
    RightShift,
    /// `~x` (one operand)
    Invert,
}

impl BitOp {
    /// Every bitwise function, for registries and tests.
    pub const ALL: [BitOp; 6] = [
        BitOp::And,
        BitOp::Or,
        BitOp::Xor,
        BitOp::LeftShift,
        BitOp::RightShift,
        BitOp::Invert,
    ];

    /// The op name in pipeline files (the standard's; NumPy 2 has these too).
    pub fn name(self) -> &'static str {
        match self {
            BitOp::And => "bitwise_and",
            BitOp::Or => "bitwise_or",
            BitOp::Xor => "bitwise_xor",
            BitOp::LeftShift => "bitwise_left_shift",
            BitOp::RightShift => "bitwise_right_shift",
            BitOp::Invert => "bitwise_invert",
        }
    }

    fn is_shift(self) -> bool {
        matches!(self, BitOp::LeftShift | BitOp::RightShift)
    }
}

/// Bit operations of the integer types and bool.
trait Bits: Num {
    fn and(self, o: Self) -> Self;
    fn or(self, o: Self) -> Self;
    fn xor(self, o: Self) -> Self;
    fn not(self) -> Self;
    fn shl(self, o: Self) -> Self;
    fn shr(self, o: Self) -> Self;
}

macro_rules! impl_bits {
    ($($t:ty),*) => {$(
        impl Bits for $t {
            #[inline(always)]
            fn and(self, o: Self) -> Self { self & o }
            #[inline(always)]
            fn or(self, o: Self) -> Self { self | o }
            #[inline(always)]
            fn xor(self, o: Self) -> Self { self ^ o }
            #[inline(always)]
            fn not(self) -> Self { !self }
            #[inline(always)]
            fn shl(self, o: Self) -> Self {
                // `o as u64` makes a negative shift huge, so it gives 0 as NumPy's does.
                if (o as u64) < u64::from(<$t>::BITS) { self << o } else { 0 }
            }
            #[inline(always)]
            #[allow(unused_comparisons)]
            fn shr(self, o: Self) -> Self {
                if (o as u64) < u64::from(<$t>::BITS) {
                    self >> o
                } else if self < 0 {
                    !0
                } else {
                    0
                }
            }
        }
    )*};
}
impl_bits!(i8, i16, i32, i64, u8, u16, u32, u64);

impl Bits for bool {
    fn and(self, o: Self) -> Self {
        self & o
    }
    fn or(self, o: Self) -> Self {
        self | o
    }
    fn xor(self, o: Self) -> Self {
        self ^ o
    }
    fn not(self) -> Self {
        !self
    }
    // The builder computes bool shifts in int8; these keep the trait total.
    fn shl(self, o: Self) -> Self {
        self & !o
    }
    fn shr(self, o: Self) -> Self {
        self & !o
    }
}

/// A bitwise function of two arrays of one type, an array and a scalar, or (invert) one array.
#[derive(Debug, Clone, Serialize)]
pub struct Bitwise {
    /// Which function.
    pub op: BitOp,
    /// The scalar operand, if one is a scalar (fits the type; checked by the builder).
    pub scalar: Option<Scalar>,
    /// True for `scalar op array`.
    pub scalar_first: bool,
}

fn bits<T: Bits>(b: &Bitwise, inputs: &[Slice<'_>], o: &mut [T]) -> Result<()> {
    if b.op == BitOp::Invert {
        let x = inputs
            .first()
            .copied()
            .and_then(T::from_slice)
            .ok_or_else(|| type_error(b.op.name(), &[T::DTYPE]))?;
        map(x, o, T::not);
        return Ok(());
    }
    let (x, y): (Side<'_, T>, Side<'_, T>) = sides(b.op.name(), inputs, b.scalar, b.scalar_first)?;
    match b.op {
        BitOp::And => zip_sides(x, y, o, T::and),
        BitOp::Or => zip_sides(x, y, o, T::or),
        BitOp::Xor => zip_sides(x, y, o, T::xor),
        BitOp::LeftShift => zip_sides(x, y, o, T::shl),
        BitOp::RightShift => zip_sides(x, y, o, T::shr),
        BitOp::Invert => {} // handled above
    }
    Ok(())
}

impl Op for Bitwise {
    fn name(&self) -> &'static str {
        self.op.name()
    }

    fn describe(&self) -> String {
        describe_operands(self.scalar, self.scalar_first)
    }

    fn kind(&self) -> OpKind {
        OpKind::ElementWise
    }

    fn output_meta(&self, inputs: &[ArrayMeta]) -> Result<ArrayMeta> {
        let dtype = inputs.first().map_or(DType::Int64, |m| m.dtype);
        let arity = if self.op == BitOp::Invert || self.scalar.is_some() {
            1
        } else {
            2
        };
        elementwise_meta(self.op.name(), inputs, arity, dtype)
    }

    fn eval_block(&self, inputs: &[Slice<'_>], out: SliceMut<'_>) -> Result<()> {
        match out {
            SliceMut::Bool(o) => bits(self, inputs, o),
            SliceMut::Int8(o) => bits(self, inputs, o),
            SliceMut::Int16(o) => bits(self, inputs, o),
            SliceMut::Int32(o) => bits(self, inputs, o),
            SliceMut::Int64(o) => bits(self, inputs, o),
            SliceMut::Uint8(o) => bits(self, inputs, o),
            SliceMut::Uint16(o) => bits(self, inputs, o),
            SliceMut::Uint32(o) => bits(self, inputs, o),
            SliceMut::Uint64(o) => bits(self, inputs, o),
            o => Err(type_error(self.op.name(), &[o.dtype()])),
        }
    }
}

/// The type a bitwise function computes in, or the error NumPy's "not supported for the input
/// types" becomes.
fn bit_type(op: BitOp, promoted: DType) -> Result<DType> {
    match promoted.kind() {
        Kind::Float => Err(Error::Invalid(format!(
            "{} needs integer or bool operands, got {promoted} (NumPy refuses it too; int64 with \
             uint64 promotes to float64)",
            op.name()
        ))),
        Kind::Bool if op.is_shift() => Ok(DType::Int8),
        _ => Ok(promoted),
    }
}

/// `np.bitwise_and(x, y)` and its kin; either operand may be a scalar.
///
/// # Errors
/// [`Error::Invalid`] for two scalars, mismatched shapes, a float operand type, an integer scalar
/// outside the array's type (NumPy 2 raises OverflowError), or [`BitOp::Invert`] (use
/// [`bitwise_invert`]).
pub fn bitwise(op: BitOp, x: impl Into<Operand>, y: impl Into<Operand>) -> Result<Array> {
    if op == BitOp::Invert {
        return Err(Error::Invalid(
            "bitwise_invert takes one operand; use bitwise_invert".into(),
        ));
    }
    let op_of = |scalar, scalar_first| Bitwise {
        op,
        scalar,
        scalar_first,
    };
    match operand_pair(op.name(), x.into(), y.into())? {
        Pair::Arrays(x, y) => {
            let d = bit_type(op, promote(x.dtype(), y.dtype()))?;
            Array::apply(
                Arc::new(op_of(None, false)),
                vec![astype(&x, d)?, astype(&y, d)?],
            )
        }
        Pair::WithScalar(x, s, first) => {
            let d = bit_type(op, promote_scalar(x.dtype(), s)?)?;
            Array::apply(Arc::new(op_of(Some(s), first)), vec![astype(&x, d)?])
        }
    }
}

/// `np.invert(x)` (`~x`): bitwise not of integers, logical not of bool.
///
/// # Errors
/// [`Error::Invalid`] for a float array (NumPy refuses it too).
pub fn bitwise_invert(x: &Array) -> Result<Array> {
    let d = bit_type(BitOp::Invert, x.dtype())?;
    let op = Bitwise {
        op: BitOp::Invert,
        scalar: None,
        scalar_first: false,
    };
    Array::apply(Arc::new(op), vec![astype(x, d)?])
}
