//! Per-type element semantics with NumPy's rules: integers wrap, float minimum/maximum propagate
//! NaN, casts follow Rust `as` (float -> int rounds toward zero and saturates, NaN -> 0).

use chunkwise_engine::{Element, Scalar};

/// Arithmetic every element type supports.
pub trait Num: Element {
    /// The scalar converted to this type (already checked to fit by the builder).
    fn from_scalar(s: Scalar) -> Self;
    /// `np.add` (bool: logical or).
    fn add(self, o: Self) -> Self;
    /// `np.subtract` (never called for bool: the builder rejects it as NumPy does).
    fn sub(self, o: Self) -> Self;
    /// `np.multiply` (bool: logical and).
    fn mul(self, o: Self) -> Self;
    /// `np.minimum`, NaN-propagating.
    fn minimum(self, o: Self) -> Self;
    /// `np.maximum`, NaN-propagating.
    fn maximum(self, o: Self) -> Self;
    /// `np.abs` (integers wrap: abs(-128i8) == -128).
    fn abs(self) -> Self;
    /// `np.clip`'s lower bound: `lo` when `self < lo`, else `self` (so NaN and a signed zero equal
    /// to the bound are kept, as NumPy's clip keeps them; `maximum` would return the bound).
    fn clip_low(self, lo: Self) -> Self;
    /// `np.clip`'s upper bound: `hi` when `self > hi`, else `self`.
    fn clip_high(self, hi: Self) -> Self;
    /// `self > o` (false when either is NaN).
    fn gt(self, o: Self) -> bool;
    /// Truthiness: non-zero (NaN is true, as in NumPy).
    fn is_nonzero(self) -> bool;
}

/// Float-only operations.
pub trait Float: Num {
    /// `np.true_divide`.
    fn div(self, o: Self) -> Self;
    /// `np.sqrt`.
    fn sqrt(self) -> Self;
    /// `np.exp`.
    fn exp(self) -> Self;
    /// `np.log`.
    fn ln(self) -> Self;
}

macro_rules! impl_int {
    ($abs:expr => $($t:ty),*) => {$(
        impl Num for $t {
            fn from_scalar(s: Scalar) -> Self {
                match s {
                    Scalar::Bool(b) => Self::from(b),
                    Scalar::Int(i) => i as Self,
                    Scalar::Float(f) => f as Self,
                }
            }
            #[inline(always)]
            fn add(self, o: Self) -> Self { self.wrapping_add(o) }
            #[inline(always)]
            fn sub(self, o: Self) -> Self { self.wrapping_sub(o) }
            #[inline(always)]
            fn mul(self, o: Self) -> Self { self.wrapping_mul(o) }
            #[inline(always)]
            fn minimum(self, o: Self) -> Self { Ord::min(self, o) }
            #[inline(always)]
            fn maximum(self, o: Self) -> Self { Ord::max(self, o) }
            #[inline(always)]
            fn abs(self) -> Self { $abs(self) }
            #[inline(always)]
            fn clip_low(self, lo: Self) -> Self { Ord::max(self, lo) }
            #[inline(always)]
            fn clip_high(self, hi: Self) -> Self { Ord::min(self, hi) }
            #[inline(always)]
            fn gt(self, o: Self) -> bool { self > o }
            #[inline(always)]
            fn is_nonzero(self) -> bool { self != 0 }
        }
    )*};
}
impl_int!(|v: Self| v.wrapping_abs() => i8, i16, i32, i64);
impl_int!(|v: Self| v => u8, u16, u32, u64);

macro_rules! impl_float {
    ($($t:ty),*) => {$(
        impl Num for $t {
            fn from_scalar(s: Scalar) -> Self {
                s.as_f64() as Self
            }
            #[inline(always)]
            fn add(self, o: Self) -> Self { self + o }
            #[inline(always)]
            fn sub(self, o: Self) -> Self { self - o }
            #[inline(always)]
            fn mul(self, o: Self) -> Self { self * o }
            #[inline(always)]
            fn minimum(self, o: Self) -> Self {
                if self.is_nan() || self < o { self } else { o }
            }
            #[inline(always)]
            fn maximum(self, o: Self) -> Self {
                if self.is_nan() || self > o { self } else { o }
            }
            #[inline(always)]
            fn abs(self) -> Self { <$t>::abs(self) }
            #[inline(always)]
            fn clip_low(self, lo: Self) -> Self { if self < lo { lo } else { self } }
            #[inline(always)]
            fn clip_high(self, hi: Self) -> Self { if self > hi { hi } else { self } }
            #[inline(always)]
            fn gt(self, o: Self) -> bool { self > o }
            #[inline(always)]
            fn is_nonzero(self) -> bool { self != 0.0 }
        }
        impl Float for $t {
            #[inline(always)]
            fn div(self, o: Self) -> Self { self / o }
            #[inline(always)]
            fn sqrt(self) -> Self { <$t>::sqrt(self) }
            #[inline(always)]
            fn exp(self) -> Self { <$t>::exp(self) }
            #[inline(always)]
            fn ln(self) -> Self { <$t>::ln(self) }
        }
    )*};
}
impl_float!(f32, f64);

impl Num for bool {
    fn from_scalar(s: Scalar) -> Self {
        s.as_f64() != 0.0
    }
    fn add(self, o: Self) -> Self {
        self | o
    }
    fn sub(self, o: Self) -> Self {
        self ^ o
    }
    fn mul(self, o: Self) -> Self {
        self & o
    }
    fn minimum(self, o: Self) -> Self {
        self & o
    }
    fn maximum(self, o: Self) -> Self {
        self | o
    }
    fn abs(self) -> Self {
        self
    }
    fn clip_low(self, lo: Self) -> Self {
        self | lo
    }
    fn clip_high(self, hi: Self) -> Self {
        self & hi
    }
    fn gt(self, o: Self) -> bool {
        self & !o
    }
    fn is_nonzero(self) -> bool {
        self
    }
}

/// Conversion with `astype` semantics.
pub trait CastTo<T> {
    /// The converted value.
    fn cast(self) -> T;
}

macro_rules! impl_cast_from {
    ($s:ty => $($d:ty),*) => {$(
        impl CastTo<$d> for $s {
            #[inline(always)]
            fn cast(self) -> $d { self as $d }
        }
    )*
        impl CastTo<bool> for $s {
            #[inline(always)]
            fn cast(self) -> bool { self.is_nonzero() }
        }
        impl CastTo<$s> for bool {
            #[inline(always)]
            fn cast(self) -> $s { u8::from(self) as $s }
        }
    };
}
macro_rules! impl_casts {
    ($($s:ty),*) => {$( impl_cast_from!($s => i8, i16, i32, i64, u8, u16, u32, u64, f32, f64); )*};
}
impl_casts!(i8, i16, i32, i64, u8, u16, u32, u64);

/// Float to narrow integer: clamping in the float domain first (NaN mapped to 0 by a select) gives the
/// same result as Rust's saturating `as`, but compiles to packed SIMD min/max/convert, where the
/// direct cast stays scalar; this cast is the hot step of `astype(uint16)` after float math.
macro_rules! impl_float_casts {
    ($($s:ty),*) => {$(
        impl_cast_from!($s => i32, i64, u32, u64, f32, f64);
        impl_float_casts!(@narrow $s => i8, i16, u8, u16);
    )*};
    (@narrow $s:ty => $($d:ty),*) => {$(
        impl CastTo<$d> for $s {
            #[inline(always)]
            #[allow(unsafe_code)]
            fn cast(self) -> $d {
                let v = if self.is_nan() { 0.0 } else { self };
                let v = v.max(<$d>::MIN as $s).min(<$d>::MAX as $s);
                // SAFETY: `v` is not NaN and lies within the target's range, which is inside
                // i32's, so the unchecked conversion is defined; the checked `as` would add a
                // scalar fix-up per element that keeps this loop from vectorizing.
                let i: i32 = unsafe { v.to_int_unchecked() };
                i as $d
            }
        }
    )*};
}
impl_float_casts!(f32, f64);

impl CastTo<bool> for bool {
    fn cast(self) -> bool {
        self
    }
}
