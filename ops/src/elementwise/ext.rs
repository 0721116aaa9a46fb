//! [`ElementwiseExt`]: the element-wise builders as methods on [`Array`], named as NumPy's and
//! the array API standard's functions (`x.greater(0.5)?.logical_and(&mask)?`). Binary methods take
//! an array or a number as `other`.

use chunkwise_engine::{Array, DType, Result, Scalar};

use crate::elementwise::{
    astype, binary, bitwise, bitwise_invert, clip, comparison, logical, logical_not, positive,
    predicate, threshold, unary, Arith, BitOp, Comparison, LogicalOp, Operand, Predicate, UnaryFn,
};

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
    /// `self ** other` (`np.pow`).
    ///
    /// # Errors
    /// See [`binary`].
    fn pow(&self, other: impl Into<Operand>) -> Result<Array>;
    /// `self // other` (`np.floor_divide`).
    ///
    /// # Errors
    /// See [`binary`].
    fn floor_divide(&self, other: impl Into<Operand>) -> Result<Array>;
    /// `self % other` (`np.remainder`).
    ///
    /// # Errors
    /// See [`binary`].
    fn remainder(&self, other: impl Into<Operand>) -> Result<Array>;
    /// `np.copysign(self, other)`.
    ///
    /// # Errors
    /// See [`binary`].
    fn copysign(&self, other: impl Into<Operand>) -> Result<Array>;
    /// `np.hypot(self, other)`.
    ///
    /// # Errors
    /// See [`binary`].
    fn hypot(&self, other: impl Into<Operand>) -> Result<Array>;
    /// `np.logaddexp(self, other)`.
    ///
    /// # Errors
    /// See [`binary`].
    fn logaddexp(&self, other: impl Into<Operand>) -> Result<Array>;
    /// `np.atan2(self, other)`.
    ///
    /// # Errors
    /// See [`binary`].
    fn atan2(&self, other: impl Into<Operand>) -> Result<Array>;
    /// `np.equal(self, other)`, bool.
    ///
    /// # Errors
    /// See [`comparison`].
    fn equal(&self, other: impl Into<Operand>) -> Result<Array>;
    /// `np.not_equal(self, other)`, bool.
    ///
    /// # Errors
    /// See [`comparison`].
    fn not_equal(&self, other: impl Into<Operand>) -> Result<Array>;
    /// `np.less(self, other)`, bool.
    ///
    /// # Errors
    /// See [`comparison`].
    fn less(&self, other: impl Into<Operand>) -> Result<Array>;
    /// `np.less_equal(self, other)`, bool.
    ///
    /// # Errors
    /// See [`comparison`].
    fn less_equal(&self, other: impl Into<Operand>) -> Result<Array>;
    /// `np.greater(self, other)`, bool.
    ///
    /// # Errors
    /// See [`comparison`].
    fn greater(&self, other: impl Into<Operand>) -> Result<Array>;
    /// `np.greater_equal(self, other)`, bool.
    ///
    /// # Errors
    /// See [`comparison`].
    fn greater_equal(&self, other: impl Into<Operand>) -> Result<Array>;
    /// `np.logical_and(self, other)`, bool.
    ///
    /// # Errors
    /// See [`logical`].
    fn logical_and(&self, other: impl Into<Operand>) -> Result<Array>;
    /// `np.logical_or(self, other)`, bool.
    ///
    /// # Errors
    /// See [`logical`].
    fn logical_or(&self, other: impl Into<Operand>) -> Result<Array>;
    /// `np.logical_xor(self, other)`, bool.
    ///
    /// # Errors
    /// See [`logical`].
    fn logical_xor(&self, other: impl Into<Operand>) -> Result<Array>;
    /// `np.bitwise_and(self, other)`.
    ///
    /// # Errors
    /// See [`bitwise`].
    fn bitwise_and(&self, other: impl Into<Operand>) -> Result<Array>;
    /// `np.bitwise_or(self, other)`.
    ///
    /// # Errors
    /// See [`bitwise`].
    fn bitwise_or(&self, other: impl Into<Operand>) -> Result<Array>;
    /// `np.bitwise_xor(self, other)`.
    ///
    /// # Errors
    /// See [`bitwise`].
    fn bitwise_xor(&self, other: impl Into<Operand>) -> Result<Array>;
    /// `np.left_shift(self, other)`.
    ///
    /// # Errors
    /// See [`bitwise`].
    fn bitwise_left_shift(&self, other: impl Into<Operand>) -> Result<Array>;
    /// `np.right_shift(self, other)`.
    ///
    /// # Errors
    /// See [`bitwise`].
    fn bitwise_right_shift(&self, other: impl Into<Operand>) -> Result<Array>;
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
    /// `np.negative(self)`.
    ///
    /// # Errors
    /// See [`unary`].
    fn negative(&self) -> Result<Array>;
    /// `np.square(self)`.
    ///
    /// # Errors
    /// See [`unary`].
    fn square(&self) -> Result<Array>;
    /// `np.sign(self)`.
    ///
    /// # Errors
    /// See [`unary`].
    fn sign(&self) -> Result<Array>;
    /// `np.floor(self)`.
    ///
    /// # Errors
    /// See [`unary`].
    fn floor(&self) -> Result<Array>;
    /// `np.ceil(self)`.
    ///
    /// # Errors
    /// See [`unary`].
    fn ceil(&self) -> Result<Array>;
    /// `np.trunc(self)`.
    ///
    /// # Errors
    /// See [`unary`].
    fn trunc(&self) -> Result<Array>;
    /// `np.round(self)` (half to even).
    ///
    /// # Errors
    /// See [`unary`].
    fn round(&self) -> Result<Array>;
    /// `np.reciprocal(self)`.
    ///
    /// # Errors
    /// See [`unary`].
    fn reciprocal(&self) -> Result<Array>;
    /// `np.expm1(self)`.
    ///
    /// # Errors
    /// See [`unary`].
    fn expm1(&self) -> Result<Array>;
    /// `np.log1p(self)`.
    ///
    /// # Errors
    /// See [`unary`].
    fn log1p(&self) -> Result<Array>;
    /// `np.log2(self)`.
    ///
    /// # Errors
    /// See [`unary`].
    fn log2(&self) -> Result<Array>;
    /// `np.log10(self)`.
    ///
    /// # Errors
    /// See [`unary`].
    fn log10(&self) -> Result<Array>;
    /// `np.sin(self)`.
    ///
    /// # Errors
    /// See [`unary`].
    fn sin(&self) -> Result<Array>;
    /// `np.cos(self)`.
    ///
    /// # Errors
    /// See [`unary`].
    fn cos(&self) -> Result<Array>;
    /// `np.tan(self)`.
    ///
    /// # Errors
    /// See [`unary`].
    fn tan(&self) -> Result<Array>;
    /// `np.asin(self)`.
    ///
    /// # Errors
    /// See [`unary`].
    fn asin(&self) -> Result<Array>;
    /// `np.acos(self)`.
    ///
    /// # Errors
    /// See [`unary`].
    fn acos(&self) -> Result<Array>;
    /// `np.atan(self)`.
    ///
    /// # Errors
    /// See [`unary`].
    fn atan(&self) -> Result<Array>;
    /// `np.sinh(self)`.
    ///
    /// # Errors
    /// See [`unary`].
    fn sinh(&self) -> Result<Array>;
    /// `np.cosh(self)`.
    ///
    /// # Errors
    /// See [`unary`].
    fn cosh(&self) -> Result<Array>;
    /// `np.tanh(self)`.
    ///
    /// # Errors
    /// See [`unary`].
    fn tanh(&self) -> Result<Array>;
    /// `np.asinh(self)`.
    ///
    /// # Errors
    /// See [`unary`].
    fn asinh(&self) -> Result<Array>;
    /// `np.acosh(self)`.
    ///
    /// # Errors
    /// See [`unary`].
    fn acosh(&self) -> Result<Array>;
    /// `np.atanh(self)`.
    ///
    /// # Errors
    /// See [`unary`].
    fn atanh(&self) -> Result<Array>;
    /// `np.positive(self)`: `self` itself.
    ///
    /// # Errors
    /// See [`positive`].
    fn positive(&self) -> Result<Array>;
    /// `np.isnan(self)`, bool.
    ///
    /// # Errors
    /// See [`predicate`].
    fn isnan(&self) -> Result<Array>;
    /// `np.isinf(self)`, bool.
    ///
    /// # Errors
    /// See [`predicate`].
    fn isinf(&self) -> Result<Array>;
    /// `np.isfinite(self)`, bool.
    ///
    /// # Errors
    /// See [`predicate`].
    fn isfinite(&self) -> Result<Array>;
    /// `np.signbit(self)`, bool.
    ///
    /// # Errors
    /// See [`predicate`].
    fn signbit(&self) -> Result<Array>;
    /// `np.logical_not(self)`, bool.
    ///
    /// # Errors
    /// See [`logical_not`].
    fn logical_not(&self) -> Result<Array>;
    /// `np.invert(self)` (`~self`).
    ///
    /// # Errors
    /// See [`bitwise_invert`].
    fn bitwise_invert(&self) -> Result<Array>;
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
    fn pow(&self, other: impl Into<Operand>) -> Result<Array> {
        binary(Arith::Pow, self, other)
    }
    fn floor_divide(&self, other: impl Into<Operand>) -> Result<Array> {
        binary(Arith::FloorDivide, self, other)
    }
    fn remainder(&self, other: impl Into<Operand>) -> Result<Array> {
        binary(Arith::Remainder, self, other)
    }
    fn copysign(&self, other: impl Into<Operand>) -> Result<Array> {
        binary(Arith::Copysign, self, other)
    }
    fn hypot(&self, other: impl Into<Operand>) -> Result<Array> {
        binary(Arith::Hypot, self, other)
    }
    fn logaddexp(&self, other: impl Into<Operand>) -> Result<Array> {
        binary(Arith::Logaddexp, self, other)
    }
    fn atan2(&self, other: impl Into<Operand>) -> Result<Array> {
        binary(Arith::Atan2, self, other)
    }
    fn equal(&self, other: impl Into<Operand>) -> Result<Array> {
        comparison(Comparison::Equal, self, other)
    }
    fn not_equal(&self, other: impl Into<Operand>) -> Result<Array> {
        comparison(Comparison::NotEqual, self, other)
    }
    fn less(&self, other: impl Into<Operand>) -> Result<Array> {
        comparison(Comparison::Less, self, other)
    }
    fn less_equal(&self, other: impl Into<Operand>) -> Result<Array> {
        comparison(Comparison::LessEqual, self, other)
    }
    fn greater(&self, other: impl Into<Operand>) -> Result<Array> {
        comparison(Comparison::Greater, self, other)
    }
    fn greater_equal(&self, other: impl Into<Operand>) -> Result<Array> {
        comparison(Comparison::GreaterEqual, self, other)
    }
    fn logical_and(&self, other: impl Into<Operand>) -> Result<Array> {
        logical(LogicalOp::And, self, other)
    }
    fn logical_or(&self, other: impl Into<Operand>) -> Result<Array> {
        logical(LogicalOp::Or, self, other)
    }
    fn logical_xor(&self, other: impl Into<Operand>) -> Result<Array> {
        logical(LogicalOp::Xor, self, other)
    }
    fn bitwise_and(&self, other: impl Into<Operand>) -> Result<Array> {
        bitwise(BitOp::And, self, other)
    }
    fn bitwise_or(&self, other: impl Into<Operand>) -> Result<Array> {
        bitwise(BitOp::Or, self, other)
    }
    fn bitwise_xor(&self, other: impl Into<Operand>) -> Result<Array> {
        bitwise(BitOp::Xor, self, other)
    }
    fn bitwise_left_shift(&self, other: impl Into<Operand>) -> Result<Array> {
        bitwise(BitOp::LeftShift, self, other)
    }
    fn bitwise_right_shift(&self, other: impl Into<Operand>) -> Result<Array> {
        bitwise(BitOp::RightShift, self, other)
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
    fn negative(&self) -> Result<Array> {
        unary(UnaryFn::Negative, self)
    }
    fn square(&self) -> Result<Array> {
        unary(UnaryFn::Square, self)
    }
    fn sign(&self) -> Result<Array> {
        unary(UnaryFn::Sign, self)
    }
    fn floor(&self) -> Result<Array> {
        unary(UnaryFn::Floor, self)
    }
    fn ceil(&self) -> Result<Array> {
        unary(UnaryFn::Ceil, self)
    }
    fn trunc(&self) -> Result<Array> {
        unary(UnaryFn::Trunc, self)
    }
    fn round(&self) -> Result<Array> {
        unary(UnaryFn::Round, self)
    }
    fn reciprocal(&self) -> Result<Array> {
        unary(UnaryFn::Reciprocal, self)
    }
    fn expm1(&self) -> Result<Array> {
        unary(UnaryFn::Expm1, self)
    }
    fn log1p(&self) -> Result<Array> {
        unary(UnaryFn::Log1p, self)
    }
    fn log2(&self) -> Result<Array> {
        unary(UnaryFn::Log2, self)
    }
    fn log10(&self) -> Result<Array> {
        unary(UnaryFn::Log10, self)
    }
    fn sin(&self) -> Result<Array> {
        unary(UnaryFn::Sin, self)
    }
    fn cos(&self) -> Result<Array> {
        unary(UnaryFn::Cos, self)
    }
    fn tan(&self) -> Result<Array> {
        unary(UnaryFn::Tan, self)
    }
    fn asin(&self) -> Result<Array> {
        unary(UnaryFn::Asin, self)
    }
    fn acos(&self) -> Result<Array> {
        unary(UnaryFn::Acos, self)
    }
    fn atan(&self) -> Result<Array> {
        unary(UnaryFn::Atan, self)
    }
    fn sinh(&self) -> Result<Array> {
        unary(UnaryFn::Sinh, self)
    }
    fn cosh(&self) -> Result<Array> {
        unary(UnaryFn::Cosh, self)
    }
    fn tanh(&self) -> Result<Array> {
        unary(UnaryFn::Tanh, self)
    }
    fn asinh(&self) -> Result<Array> {
        unary(UnaryFn::Asinh, self)
    }
    fn acosh(&self) -> Result<Array> {
        unary(UnaryFn::Acosh, self)
    }
    fn atanh(&self) -> Result<Array> {
        unary(UnaryFn::Atanh, self)
    }
    fn positive(&self) -> Result<Array> {
        positive(self)
    }
    fn isnan(&self) -> Result<Array> {
        predicate(Predicate::IsNan, self)
    }
    fn isinf(&self) -> Result<Array> {
        predicate(Predicate::IsInf, self)
    }
    fn isfinite(&self) -> Result<Array> {
        predicate(Predicate::IsFinite, self)
    }
    fn signbit(&self) -> Result<Array> {
        predicate(Predicate::Signbit, self)
    }
    fn logical_not(&self) -> Result<Array> {
        logical_not(self)
    }
    fn bitwise_invert(&self) -> Result<Array> {
        bitwise_invert(self)
    }
}
