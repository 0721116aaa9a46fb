//! Accumulator types: the element type a reduction's partial results are kept in, and how each
//! input element type enters it.
//!
//! Floats and everything that only needs counts or comparisons accumulate in `f64` (more
//! accurate than NumPy, which sums float32 in float32); integer sums and products in `i64`/`u64`
//! with NumPy's wrapping, and the extremes of 64-bit integers in their own type, so no integer
//! result is ever rounded.

use chunkwise_engine::{Buffer, DType, Element};

/// An accumulator element type: `f64`, `i64` or `u64`.
pub(crate) trait Acc: Element + PartialOrd {
    const ZERO: Self;
    const ONE: Self;
    /// The identity of `min` (larger than or equal to every value).
    const TOP: Self;
    /// The identity of `max`.
    const BOTTOM: Self;
    fn add(self, o: Self) -> Self;
    fn mul(self, o: Self) -> Self;
    fn is_nan(self) -> bool;
    fn from_u64(v: u64) -> Self;
    fn to_f64(self) -> f64;
    fn to_i64(self) -> i64;
    fn to_u64(self) -> u64;
    fn from_f64(v: f64) -> Self;
}

impl Acc for f64 {
    const ZERO: f64 = 0.0;
    const ONE: f64 = 1.0;
    const TOP: f64 = f64::INFINITY;
    const BOTTOM: f64 = f64::NEG_INFINITY;
    fn add(self, o: f64) -> f64 {
        self + o
    }
    fn mul(self, o: f64) -> f64 {
        self * o
    }
    fn is_nan(self) -> bool {
        f64::is_nan(self)
    }
    fn from_u64(v: u64) -> f64 {
        v as f64
    }
    fn to_f64(self) -> f64 {
        self
    }
    fn to_i64(self) -> i64 {
        self as i64
    }
    fn to_u64(self) -> u64 {
        self as u64
    }
    fn from_f64(v: f64) -> f64 {
        v
    }
}

macro_rules! int_acc {
    ($t:ty) => {
        impl Acc for $t {
            const ZERO: $t = 0;
            const ONE: $t = 1;
            const TOP: $t = <$t>::MAX;
            const BOTTOM: $t = <$t>::MIN;
            fn add(self, o: $t) -> $t {
                self.wrapping_add(o)
            }
            fn mul(self, o: $t) -> $t {
                self.wrapping_mul(o)
            }
            fn is_nan(self) -> bool {
                false
            }
            fn from_u64(v: u64) -> $t {
                v as $t
            }
            fn to_f64(self) -> f64 {
                self as f64
            }
            fn to_i64(self) -> i64 {
                self as i64
            }
            fn to_u64(self) -> u64 {
                self as u64
            }
            fn from_f64(v: f64) -> $t {
                v as $t
            }
        }
    };
}
int_acc!(i64);
int_acc!(u64);

/// An input element type entering accumulator `A`.
pub(crate) trait Enters<A> {
    /// Whether the type has NaN (floats): the extremes of the others skip NaN checks.
    const HAS_NAN: bool;
    fn acc(self) -> A;
    /// NumPy truthiness (NaN is true).
    fn nonzero(self) -> bool;
}

macro_rules! into {
    ($a:ty: $($t:ty => $nan:expr),*) => {$(
        impl Enters<$a> for $t {
            const HAS_NAN: bool = $nan;
            #[inline]
            fn acc(self) -> $a {
                self as $a
            }
            #[inline]
            #[allow(clippy::float_cmp)]
            fn nonzero(self) -> bool {
                self != (0 as $t)
            }
        }
    )*};
}
into!(f64: i8 => false, i16 => false, i32 => false, i64 => false, u8 => false, u16 => false,
    u32 => false, u64 => false, f32 => true, f64 => true);
into!(i64: i8 => false, i16 => false, i32 => false, i64 => false);
into!(u64: u8 => false, u16 => false, u32 => false, u64 => false);

macro_rules! bool_into {
    ($($a:ty),*) => {$(
        impl Enters<$a> for bool {
            const HAS_NAN: bool = false;
            #[inline]
            fn acc(self) -> $a {
                <$a>::from(u8::from(self))
            }
            #[inline]
            fn nonzero(self) -> bool {
                self
            }
        }
    )*};
}
bool_into!(f64, i64);

/// Element types with at most 2^16 distinct values, which a histogram counts per value (one
/// table increment per element, no float conversion or bin search) before binning the table:
/// several times faster than binning each element. `VALUES` is 0 for the wider types.
pub(crate) trait Dense: Copy {
    /// The number of distinct values (0: too many to count per value).
    const VALUES: usize;
    /// The value's position in `0..VALUES` (its bits as an unsigned integer).
    fn position(self) -> usize;
    /// The value at `position`, as a float.
    fn value_at(position: usize) -> f64;
}

macro_rules! dense {
    ($($t:ty as $u:ty),*) => {$(
        impl Dense for $t {
            const VALUES: usize = 1 << <$u>::BITS;
            #[inline]
            fn position(self) -> usize {
                usize::from(self as $u)
            }
            fn value_at(position: usize) -> f64 {
                f64::from(position as $u as $t)
            }
        }
    )*};
}
dense!(u8 as u8, i8 as u8, u16 as u16, i16 as u16);

macro_rules! sparse {
    ($($t:ty),*) => {$(
        impl Dense for $t {
            const VALUES: usize = 0;
            fn position(self) -> usize {
                0
            }
            fn value_at(_: usize) -> f64 {
                0.0
            }
        }
    )*};
}
sparse!(i32, i64, u32, u64, f32, f64);

impl Dense for bool {
    const VALUES: usize = 2;
    #[inline]
    fn position(self) -> usize {
        usize::from(self)
    }
    fn value_at(position: usize) -> f64 {
        position as f64
    }
}

/// Casts accumulator values to the output type `dtype` (Rust `as`; bool is "nonzero").
#[allow(clippy::unnecessary_cast)]
pub(crate) fn cast<A: Acc>(values: &[A], dtype: DType) -> Buffer {
    macro_rules! via {
        ($variant:ident, $t:ty, $get:ident) => {
            Buffer::$variant(values.iter().map(|v| v.$get() as $t).collect())
        };
    }
    match dtype {
        DType::Bool => Buffer::Bool(values.iter().map(|v| *v != A::ZERO).collect()),
        DType::Int8 => via!(Int8, i8, to_i64),
        DType::Int16 => via!(Int16, i16, to_i64),
        DType::Int32 => via!(Int32, i32, to_i64),
        DType::Int64 => via!(Int64, i64, to_i64),
        DType::Uint8 => via!(Uint8, u8, to_u64),
        DType::Uint16 => via!(Uint16, u16, to_u64),
        DType::Uint32 => via!(Uint32, u32, to_u64),
        DType::Uint64 => via!(Uint64, u64, to_u64),
        DType::Float32 => via!(Float32, f32, to_f64),
        DType::Float64 => via!(Float64, f64, to_f64),
    }
}
