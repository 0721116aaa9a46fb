//! Comparing an array with a scalar, as NumPy 2 does it (`uint8_array > 724` is all False, where
//! `uint8_array + 724` raises): the array is cast to NEP 50's weak-scalar type, and an integer
//! scalar outside that integer type's range is no error: every element compares the same way with
//! it. `threshold` uses this; so will the comparison ops (`greater`, `less`, `equal`, ...).

use std::cmp::Ordering;

use chunkwise_engine::{promote_scalar, weak_scalar_type, Array, DType, Result, Scalar};

use crate::elementwise::astype;
use crate::elementwise::num::Num;

/// `x` cast to the type it is compared with `scalar` in (NEP 50; for integer arrays the range
/// check is left to [`comparand`]).
///
/// # Errors
/// [`chunkwise_engine::Error::Invalid`] for a bool array and an integer beyond int64: NumPy
/// compares them in int64 and raises `OverflowError` (it compares any int exactly only with
/// integer arrays).
pub(crate) fn cast_for_comparison(x: &Array, scalar: Scalar) -> Result<Array> {
    let dtype = if x.dtype() == DType::Bool {
        promote_scalar(x.dtype(), scalar)?
    } else {
        weak_scalar_type(x.dtype(), scalar)
    };
    astype(x, dtype)
}

/// A scalar as the right-hand side of a comparison with elements of type `T`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Comparand<T> {
    /// The scalar as a `T`: compare every element with it.
    Value(T),
    /// An integer scalar outside `T`'s range, so every element compares to it the same way:
    /// `Less` when the scalar is above the range, `Greater` when below. A kernel fills its output
    /// with the one answer instead of comparing.
    Outside(Ordering),
}

/// Resolves `scalar` for elements of type `T` (the type [`cast_for_comparison`] gave), once per
/// block rather than per element.
pub(crate) fn comparand<T: Num>(scalar: Scalar) -> Comparand<T> {
    if let (Scalar::Int(v), Some((lo, hi))) = (scalar, T::DTYPE.int_range()) {
        if v < lo {
            return Comparand::Outside(Ordering::Greater);
        }
        if v > hi {
            return Comparand::Outside(Ordering::Less);
        }
    }
    Comparand::Value(T::from_scalar(scalar))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_range_integers_order_every_element() {
        assert_eq!(
            comparand::<u8>(Scalar::Int(724)),
            Comparand::Outside(Ordering::Less)
        );
        assert_eq!(
            comparand::<u8>(Scalar::Int(-1)),
            Comparand::Outside(Ordering::Greater)
        );
        assert_eq!(comparand::<u8>(Scalar::Int(255)), Comparand::Value(255));
        assert_eq!(
            comparand::<i8>(Scalar::Int(-129)),
            Comparand::Outside(Ordering::Greater)
        );
        assert_eq!(comparand::<i8>(Scalar::Int(-128)), Comparand::Value(-128));
        assert_eq!(
            comparand::<u64>(Scalar::Int(-1)),
            Comparand::Outside(Ordering::Greater)
        );
        assert_eq!(
            comparand::<i64>(Scalar::from(i64::MAX)),
            Comparand::Value(i64::MAX)
        );
        assert_eq!(
            comparand::<i64>(Scalar::from(u64::MAX)),
            Comparand::Outside(Ordering::Less)
        );
        assert_eq!(
            comparand::<u64>(Scalar::from(u64::MAX)),
            Comparand::Value(u64::MAX)
        );
        assert_eq!(
            comparand::<f32>(Scalar::Int(1 << 40)),
            Comparand::Value(2f32.powi(40))
        );
        assert_eq!(
            comparand::<bool>(Scalar::Bool(true)),
            Comparand::Value(true)
        );
    }
}
