//! The float types stencil blocks are computed in: float32 for float32 output (vectorizable
//! f32 loops, within 1e-5 of SciPy's f64 sums), float64 for float64 output.

use std::ops::{Add, Mul, Sub};

use chunkwise_engine::Element;

/// A block element type.
pub(crate) trait Sample:
    Element + PartialOrd + Add<Output = Self> + Sub<Output = Self> + Mul<Output = Self>
{
    fn from_f64(v: f64) -> Self;
    fn to_f64(self) -> f64;
    fn sqrt(self) -> Self;
    fn total_cmp(&self, other: &Self) -> std::cmp::Ordering;
    /// The lesser (IEEE minNum: a NaN loses to a number).
    fn min_num(self, other: Self) -> Self;
    /// The greater (IEEE maxNum).
    fn max_num(self, other: Self) -> Self;
}

impl Sample for f32 {
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v as f32
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
