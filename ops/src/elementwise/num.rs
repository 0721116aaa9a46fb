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
    /// `np.negative` (integers wrap: -(-128i8) == -128; never called for bool, which NumPy
    /// refuses).
    fn neg(self) -> Self;
    /// `np.sign`: -1, 0 or 1 (+0.0 for either float zero, NaN for NaN, as NumPy's).
    fn sign(self) -> Self;
    /// `np.power` (integers wrap, by square-and-multiply as NumPy; a negative integer exponent is
    /// refused before the kernel runs, see [`Num::negative_exponent`]).
    fn pow(self, e: Self) -> Self;
    /// True for a negative signed integer: NumPy raises "Integers to negative integer powers are
    /// not allowed" for such an exponent, so the pow kernel checks its block first.
    fn negative_exponent(self) -> bool;
    /// `np.floor_divide`: Python's rounding toward -inf; an integer division by zero gives 0 and
    /// `MIN // -1` wraps to `MIN` (NumPy's answers, with its warnings left out).
    fn floor_div(self, o: Self) -> Self;
    /// `np.remainder`: the sign of the divisor (Python's `%`); integer `x % 0` is 0.
    fn rem(self, o: Self) -> Self;
    /// `np.isnan` (false for integers and bool).
    fn is_nan(self) -> bool;
    /// `np.isinf`.
    fn is_inf(self) -> bool;
    /// `np.isfinite`.
    fn is_finite(self) -> bool;
    /// `np.signbit` (true for -0.0 and a NaN with its sign bit set; for integers `x < 0`).
    fn signbit(self) -> bool;
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
    /// `np.floor`.
    fn floor(self) -> Self;
    /// `np.ceil`.
    fn ceil(self) -> Self;
    /// `np.trunc`.
    fn trunc(self) -> Self;
    /// `np.round` with no decimals: half to even, as `np.rint`.
    fn round_even(self) -> Self;
    /// `np.reciprocal`: `1 / x`.
    fn recip(self) -> Self;
    /// `np.copysign`.
    fn copysign(self, o: Self) -> Self;
    /// `np.hypot`.
    fn hypot(self, o: Self) -> Self;
    /// `np.arctan2(self, o)`.
    fn atan2(self, o: Self) -> Self;
    /// `np.logaddexp`: `log(exp(x) + exp(y))` without overflow, NumPy's algorithm (equal
    /// infinities give themselves, NaN propagates).
    fn logaddexp(self, o: Self) -> Self;
    /// `np.expm1`.
    fn exp_m1(self) -> Self;
    /// `np.log1p`.
    fn ln_1p(self) -> Self;
    /// `np.log2`.
    fn log2(self) -> Self;
    /// `np.log10`.
    fn log10(self) -> Self;
    /// `np.sin`.
    fn sin(self) -> Self;
    /// `np.cos`.
    fn cos(self) -> Self;
    /// `np.tan`.
    fn tan(self) -> Self;
    /// `np.arcsin`.
    fn asin(self) -> Self;
    /// `np.arccos`.
    fn acos(self) -> Self;
    /// `np.arctan`.
    fn atan(self) -> Self;
    /// `np.sinh`.
    fn sinh(self) -> Self;
    /// `np.cosh`.
    fn cosh(self) -> Self;
    /// `np.tanh`.
    fn tanh(self) -> Self;
    /// `np.arcsinh`.
    fn asinh(self) -> Self;
    /// `np.arccosh`.
    fn acosh(self) -> Self;
    /// `np.arctanh`.
    fn atanh(self) -> Self;
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
            #[inline(always)]
            fn neg(self) -> Self { self.wrapping_neg() }
            #[inline(always)]
            #[allow(unused_comparisons)]
            fn sign(self) -> Self { Self::from(self > 0) - Self::from(self < 0) }
            fn pow(self, e: Self) -> Self {
                // NumPy's loop: square-and-multiply on the exponent's bits, wrapping.
                let (mut base, mut e, mut out) = (self, e, 1 as Self);
                while e > 0 {
                    if e & 1 == 1 {
                        out = out.wrapping_mul(base);
                    }
                    base = base.wrapping_mul(base);
                    e >>= 1;
                }
                out
            }
            #[inline(always)]
            #[allow(unused_comparisons)]
            fn negative_exponent(self) -> bool { self < 0 }
            #[inline(always)]
            #[allow(unused_comparisons)]
            fn floor_div(self, o: Self) -> Self {
                if o == 0 {
                    return 0;
                }
                let q = self.wrapping_div(o);
                if (self < 0) != (o < 0) && q.wrapping_mul(o) != self { q - 1 } else { q }
            }
            #[inline(always)]
            #[allow(unused_comparisons)]
            fn rem(self, o: Self) -> Self {
                if o == 0 {
                    return 0;
                }
                let r = self.wrapping_rem(o);
                if r != 0 && (r < 0) != (o < 0) { r.wrapping_add(o) } else { r }
            }
            #[inline(always)]
            fn is_nan(self) -> bool { false }
            #[inline(always)]
            fn is_inf(self) -> bool { false }
            #[inline(always)]
            fn is_finite(self) -> bool { true }
            #[inline(always)]
            #[allow(unused_comparisons)]
            fn signbit(self) -> bool { self < 0 }
        }
    )*};
}
impl_int!(|v: Self| v.wrapping_abs() => i8, i16, i32, i64);
impl_int!(|v: Self| v => u8, u16, u32, u64);

/// Above this, `sqrt(x^2 + 1) == x` in float32 and float64 alike (2^28).
const LARGE: f64 = 268_435_456.0;

/// Float methods that forward to the inherent ones of the same name.
macro_rules! float_methods {
    ($t:ty: $($f:ident),*) => {$(
        #[inline(always)]
        fn $f(self) -> Self { <$t>::$f(self) }
    )*};
}

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
            #[inline(always)]
            fn neg(self) -> Self { -self }
            #[inline(always)]
            fn sign(self) -> Self {
                if self > 0.0 { 1.0 } else if self < 0.0 { -1.0 } else if self == 0.0 { 0.0 } else { self }
            }
            #[inline(always)]
            fn pow(self, e: Self) -> Self { self.powf(e) }
            #[inline(always)]
            fn negative_exponent(self) -> bool { false }
            fn floor_div(self, o: Self) -> Self {
                if o == 0.0 {
                    return self / o;
                }
                divmod(self, o).0
            }
            fn rem(self, o: Self) -> Self {
                if o == 0.0 {
                    return self % o;
                }
                divmod(self, o).1
            }
            #[inline(always)]
            fn is_nan(self) -> bool { <$t>::is_nan(self) }
            #[inline(always)]
            fn is_inf(self) -> bool { <$t>::is_infinite(self) }
            #[inline(always)]
            fn is_finite(self) -> bool { <$t>::is_finite(self) }
            #[inline(always)]
            fn signbit(self) -> bool { self.is_sign_negative() }
        }
        impl Float for $t {
            float_methods!($t: floor, ceil, trunc, exp_m1, ln_1p, log2, log10, sin, cos, tan,
                asin, acos, atan, sinh, cosh, tanh, atanh);
            // Rust's asinh and acosh overflow to inf for |x| near the type's maximum (they form
            // x + sqrt(x^2 + 1)); beyond 2^28, where sqrt(x^2 + 1) is x in every float type,
            // ln(2x) = ln(x) + ln(2) is the answer NumPy (libm) gives.
            fn asinh(self) -> Self {
                let ax = self.abs();
                let r = if ax > LARGE as $t { ax.ln() + std::f64::consts::LN_2 as $t } else { ax.asinh() };
                r.copysign(self)
            }
            fn acosh(self) -> Self {
                if self > LARGE as $t { self.ln() + std::f64::consts::LN_2 as $t } else { <$t>::acosh(self) }
            }
            #[inline(always)]
            fn round_even(self) -> Self { self.round_ties_even() }
            #[inline(always)]
            fn recip(self) -> Self { 1.0 / self }
            #[inline(always)]
            fn copysign(self, o: Self) -> Self { <$t>::copysign(self, o) }
            #[inline(always)]
            fn hypot(self, o: Self) -> Self { <$t>::hypot(self, o) }
            #[inline(always)]
            fn atan2(self, o: Self) -> Self { <$t>::atan2(self, o) }
            fn logaddexp(self, o: Self) -> Self {
                if self == o {
                    return self + std::f64::consts::LN_2 as $t;
                }
                let d = self - o;
                if d > 0.0 {
                    self + (-d).exp().ln_1p()
                } else if d <= 0.0 {
                    o + d.exp().ln_1p()
                } else {
                    d
                }
            }
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

/// NumPy's `npy_divmod` (floor quotient, Python remainder) for a non-zero divisor: the fmod
/// remainder moved to the divisor's sign, the quotient `(a - mod) / b` snapped to the nearest
/// integer, and signed zeros as NumPy gives them.
fn divmod<
    T: Float
        + std::ops::Rem<Output = T>
        + std::ops::Sub<Output = T>
        + std::ops::Div<Output = T>
        + PartialOrd
        + From<i8>,
>(
    a: T,
    b: T,
) -> (T, T) {
    let zero = T::from(0);
    let one = T::from(1);
    let mut m = a % b;
    let mut div = (a - m) / b;
    if m != zero {
        if (b < zero) != (m < zero) {
            m = m.add(b);
            div = div - one;
        }
    } else {
        m = zero.copysign(b);
    }
    let q = if div != zero {
        let f = div.floor();
        if div - f > T::from(1) / T::from(2) {
            f.add(one)
        } else {
            f
        }
    } else {
        zero.copysign(a / b)
    };
    (q, m)
}

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
    // The builders cast bool to int8 for negative/sign/pow/floor_divide/remainder as NumPy does
    // (or refuse it); these keep the trait total with the answers of bool as 0/1.
    fn neg(self) -> Self {
        self
    }
    fn sign(self) -> Self {
        self
    }
    fn pow(self, e: Self) -> Self {
        self | !e
    }
    fn negative_exponent(self) -> bool {
        false
    }
    fn floor_div(self, o: Self) -> Self {
        self & o
    }
    fn rem(self, _o: Self) -> Self {
        false
    }
    fn is_nan(self) -> bool {
        false
    }
    fn is_inf(self) -> bool {
        false
    }
    fn is_finite(self) -> bool {
        true
    }
    fn signbit(self) -> bool {
        false
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
