//! The float types stencil blocks are computed in: float32 for float32 output (vectorizable
//! f32 loops, within 1e-5 of SciPy's f64 sums), float64 for float64 output.

use std::ops::{Add, Mul, Sub};

use chunkwise_engine::{DType, Element};

use crate::elementwise::num::CastTo;

/// A block element type.
pub(crate) trait Sample:
    Element + PartialOrd + Add<Output = Self> + Sub<Output = Self> + Mul<Output = Self>
{
    fn from_f64(v: f64) -> Self;
    /// An input value as SciPy converts it, through f64. 64-bit integers do go through f64
    /// (two roundings); every other type converts directly, which is the same value (it is
    /// exact in f64, so the one rounding to `Self` is all there is) in one vectorizable step.
    fn from_element<T: Element + CastTo<f32> + CastTo<f64>>(v: T) -> Self;
    fn to_f64(self) -> f64;
    fn sqrt(self) -> Self;
    fn total_cmp(&self, other: &Self) -> std::cmp::Ordering;
    /// The lesser (IEEE minNum: a NaN loses to a number).
    fn min_num(self, other: Self) -> Self;
    /// The greater (IEEE maxNum).
    fn max_num(self, other: Self) -> Self;

    /// The greater in the rank order ([`Sample::rank_cmp`]): NaN when either is NaN. With
    /// [`Sample::min_num`] it makes the exchange of a selection network.
    #[inline(always)]
    fn max_nan_last(self, other: Self) -> Self {
        // Unordered means a NaN: their sum is NaN then. One compare, no branch (it vectorizes).
        let max = self.max_num(other);
        if self.partial_cmp(&other).is_none() {
            self + other
        } else {
            max
        }
    }

    /// The order of rank filters (median, percentile): numbers as [`Sample::total_cmp`] orders
    /// them, then every NaN, all NaN equal. The network and the sliding window both follow it,
    /// so NaN in a window gives one defined result (NaN only when the rank falls among the
    /// NaN), as in the downsample's median.
    #[inline(always)]
    fn rank_cmp(&self, other: &Self) -> std::cmp::Ordering {
        #[allow(clippy::eq_op)]
        match (self != self, other != other) {
            (false, false) => self.total_cmp(other),
            (true, true) => std::cmp::Ordering::Equal,
            (true, false) => std::cmp::Ordering::Greater,
            (false, true) => std::cmp::Ordering::Less,
        }
    }
}

impl Sample for f32 {
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v as f32
    }
    #[inline(always)]
    fn from_element<T: Element + CastTo<f32> + CastTo<f64>>(v: T) -> Self {
        match T::DTYPE {
            DType::Int64 | DType::Uint64 => CastTo::<f64>::cast(v) as f32,
            _ => CastTo::<f32>::cast(v),
        }
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        f32::sqrt(self)
    }
    fn total_cmp(&self, other: &Self) -> std::cmp::Ordering {
        f32::total_cmp(self, other)
    }
    #[inline(always)]
    fn min_num(self, other: Self) -> Self {
        f32::min(self, other)
    }
    #[inline(always)]
    fn max_num(self, other: Self) -> Self {
        f32::max(self, other)
    }
}

impl Sample for f64 {
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v
    }
    #[inline(always)]
    fn from_element<T: Element + CastTo<f32> + CastTo<f64>>(v: T) -> Self {
        CastTo::<f64>::cast(v)
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        f64::sqrt(self)
    }
    fn total_cmp(&self, other: &Self) -> std::cmp::Ordering {
        f64::total_cmp(self, other)
    }
    #[inline(always)]
    fn min_num(self, other: Self) -> Self {
        f64::min(self, other)
    }
    #[inline(always)]
    fn max_num(self, other: Self) -> Self {
        f64::max(self, other)
    }
}
