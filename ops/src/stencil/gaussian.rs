//! `gaussian_filter` with scipy.ndimage's semantics: a separable correlation with the sampled,
//! normalized Gaussian of radius `int(truncate * sigma + 0.5)` along each axis in turn (axes with
//! sigma 0 skipped), each pass summed in f64 and stored in the output type as SciPy stores it,
//! the array extended beyond its edges by the boundary mode.
//!
//! A task reads its output region plus the halo every pass needs, as one region, and runs the
//! passes on that block: no per-neighbour copies, and halos larger than a chunk just mean a larger
//! region.

use chunkwise_engine::{
    dispatch, ArrayMeta, Buffer, DType, Error, Op, OpKind, Region, RegionData, Result,
};
use multiversion::multiversion;

use crate::elementwise::num::CastTo;

use crate::stencil::boundary::BoundaryMode;

/// Gaussian smoothing.
#[derive(Debug, Clone)]
pub struct GaussianFilter {
    /// Standard deviation per axis (0 leaves an axis alone).
    pub sigma: Vec<f64>,
    /// Radius in standard deviations (scipy's default 4.0).
    pub truncate: f64,
    /// Boundary mode.
    pub mode: BoundaryMode,
    /// Value beyond the edges in constant mode.
    pub cval: f64,
    /// Output type: float32, or float64 (the default for float64 input).
    pub output: DType,
    /// Shape of the whole input (boundary handling depends on it).
    pub input_shape: Vec<u64>,
}

impl GaussianFilter {
    fn radius(&self, axis: usize) -> i64 {
        if self.sigma[axis] > 1e-15 {
            (self.truncate * self.sigma[axis] + 0.5) as i64
        } else {
            0
        }
    }

    fn weights(&self, axis: usize) -> Vec<f64> {
        let (sigma, r) = (self.sigma[axis], self.radius(axis));
        let phi: Vec<f64> = (-r..=r)
            .map(|x| (-0.5 / (sigma * sigma) * (x * x) as f64).exp())
            .collect();
        let sum: f64 = phi.iter().sum();
        phi.iter().map(|p| p / sum).collect()
    }

    fn active(&self, axis: usize) -> bool {
        self.sigma[axis] > 1e-15
    }
}

/// The taps of one pass: for each output position the input positions (or the constant) that
/// the weights apply to.
struct Pass<'a> {
    taps: &'a [Vec<Option<usize>>],
    weights: &'a [f64],
    cval: f64,
    /// Where tap 0 of output 0 lies in the block when no boundary is involved.
    shift: isize,
}

/// One pass along an axis of a block seen as `[outer, len_in, inner]`:
/// `out[b, o, i] = sum_j w[j] * cur[b, tap(o, j), i]`, summed in f64 one output row at a time
/// (vectorized over the contiguous `inner`) and stored in the block's type, as SciPy does.
#[multiversion(targets("x86_64+avx2", "x86_64+sse4.1"))]
fn correlate_axis<'a, F: Sample>(cur: &[F], dims: [usize; 3], pass: &Pass<'a>, out: &mut Vec<F>) {
    let [outer, len_in, inner] = dims;
    let len_out = pass.taps.len();
    // Rows are produced in order, so the output is appended to, never zero-filled first.
    out.clear();
    out.reserve(outer * len_out * inner);
    if inner == 1 {
        last_axis(cur, outer, len_in, pass, out);
        return;
    }
    let mut acc = vec![0.0f64; inner];
    for b in 0..outer {
        let src = &cur[b * len_in * inner..(b + 1) * len_in * inner];
        for tap in pass.taps {
            acc.iter_mut().for_each(|a| *a = 0.0);
            for (&w, t) in pass.weights.iter().zip(tap) {
                match t {
                    Some(p) => {
                        let s = &src[p * inner..(p + 1) * inner];
                        for (a, &v) in acc.iter_mut().zip(s) {
                            *a += w * v.widen();
                        }
                    }
                    None => acc.iter_mut().for_each(|a| *a += w * pass.cval),
                }
            }
            out.extend(acc.iter().map(|&a| F::narrow(a)));
        }
    }
}

/// The pass along the contiguous last axis: over the interior (every tap inside the block at a
/// fixed offset) one vectorizable multiply-add per tap across the whole line, in the same tap
/// order as the general path (so results are identical); taps at the edges go element by element.
#[multiversion(targets("x86_64+avx2", "x86_64+sse4.1"))]
fn last_axis<'a, F: Sample>(
    cur: &[F],
    outer: usize,
    len_in: usize,
    pass: &Pass<'a>,
    out: &mut Vec<F>,
) {
    let len_out = pass.taps.len();
    // Output o is interior when tap j reads position o + shift + j.
    let shift = pass.shift;
    let interior = |o: usize| {
        pass.taps[o].iter().enumerate().all(|(j, t)| {
            t.is_some() && *t == usize::try_from(o as isize + shift + j as isize).ok()
        })
    };
    let lo = (0..len_out).find(|&o| interior(o)).unwrap_or(len_out);
    let hi = (lo..len_out).find(|&o| !interior(o)).unwrap_or(len_out);
    let mut acc = vec![0.0f64; len_out];
    for b in 0..outer {
        let src = &cur[b * len_in..(b + 1) * len_in];
        acc.iter_mut().for_each(|a| *a = 0.0);
        if lo < hi {
            for (j, &w) in pass.weights.iter().enumerate() {
                let first = (lo as isize + shift + j as isize) as usize;
                for (a, &v) in acc[lo..hi].iter_mut().zip(&src[first..first + (hi - lo)]) {
                    *a += w * v.widen();
                }
            }
        }
        for o in (0..lo).chain(hi..len_out) {
            for (&w, t) in pass.weights.iter().zip(&pass.taps[o]) {
                acc[o] += w * t.map_or(pass.cval, |p| src[p].widen());
            }
        }
        out.extend(acc.iter().map(|&a| F::narrow(a)));
    }
}

impl Op for GaussianFilter {
    fn name(&self) -> &'static str {
        "gaussian_filter"
    }

    fn describe(&self) -> String {
        format!(
            "sigma={:?}, truncate={}, mode={}, output={}",
            self.sigma,
            self.truncate,
            self.mode.name(),
            self.output
        )
    }

    fn kind(&self) -> OpKind {
        OpKind::Region
    }

    fn output_meta(&self, inputs: &[ArrayMeta]) -> Result<ArrayMeta> {
        let [input] = inputs else {
            return Err(Error::Invalid("gaussian_filter takes one input".into()));
        };
        if self.sigma.len() != input.shape.len() || input.shape.is_empty() {
            return Err(Error::Invalid(format!(
                "gaussian_filter sigma {:?} must give one value per axis of the {}-d input",
                self.sigma,
                input.shape.len()
            )));
        }
        let bad_truncate = !self.truncate.is_finite() || self.truncate <= 0.0;
        if self.sigma.iter().any(|s| !s.is_finite() || *s < 0.0) || bad_truncate {
            return Err(Error::Invalid(
                "gaussian_filter needs finite sigma >= 0 and truncate > 0".into(),
            ));
        }
        if !matches!(self.output, DType::Float32 | DType::Float64) {
            return Err(Error::Invalid(
                "gaussian_filter output must be float32 or float64".into(),
            ));
        }
        ArrayMeta::new(input.shape.clone(), input.chunks.clone(), self.output)
    }

    fn input_regions(&self, output: &Region, _inputs: &[ArrayMeta]) -> Vec<Region> {
        let (mut start, mut shape) = (Vec::new(), Vec::new());
        for d in 0..output.ndim() {
            let (s, e, n) = (
                output.start[d] as i64,
                (output.start[d] + output.shape[d]) as i64,
                self.input_shape[d] as i64,
            );
            let r = self.radius(d);
            let mapped = (s - r..e + r).filter_map(|i| self.mode.map(i, n));
            let (lo, hi) = mapped.fold((i64::MAX, i64::MIN), |(lo, hi), i| (lo.min(i), hi.max(i)));
            let (lo, hi) = if lo > hi { (s, e - 1) } else { (lo, hi) };
            start.push(lo as u64);
            shape.push((hi - lo + 1) as u64);
        }
        vec![Region::new(start, shape)]
    }

    fn compute_region(&self, inputs: &[RegionData<'_>], output: &Region) -> Result<Buffer> {
        let [input] = inputs else {
            return Err(Error::Invalid("gaussian_filter takes one input".into()));
        };
        // Blocks are stored in the output type between passes and summed in f64, as SciPy does;
        // for float32 output that halves the memory traffic of an all-f64 pipeline.
        Ok(match self.output {
            DType::Float64 => {
                let x: Vec<f64> =
                    dispatch!(Buffer, input.data, x => x.iter().map(|&v| v.cast()).collect());
                Buffer::Float64(self.passes(x, input.region, output))
            }
            _ => {
                let x: Vec<f32> =
                    dispatch!(Buffer, input.data, x => x.iter().map(|&v| v.cast()).collect());
                Buffer::Float32(self.passes(x, input.region, output))
            }
        })
    }
}

impl GaussianFilter {
    /// The separable passes over a block covering `region` (as read) down to `output`.
    fn passes<F: Sample>(&self, mut cur: Vec<F>, region: &Region, output: &Region) -> Vec<F> {
        let mut start: Vec<i64> = region.start.iter().map(|&s| s as i64).collect();
        let mut shape: Vec<usize> = region.shape.iter().map(|&n| n as usize).collect();
        let mut next = Vec::new();
        for d in 0..output.ndim() {
            // Axes without smoothing are only cut to the output region.
            let r = if self.active(d) { self.radius(d) } else { 0 };
            let weights = if self.active(d) {
                self.weights(d)
            } else {
                vec![1.0]
            };
            let n = self.input_shape[d] as i64;
            let taps: Vec<Vec<Option<usize>>> = (0..output.shape[d] as i64)
                .map(|o| {
                    let abs = output.start[d] as i64 + o;
                    (-r..=r)
                        .map(|j| self.mode.map(abs + j, n).map(|i| (i - start[d]) as usize))
                        .collect()
                })
                .collect();
            let outer: usize = shape[..d].iter().product();
            let inner: usize = shape[d + 1..].iter().product();
            let pass = Pass {
                taps: &taps,
                weights: &weights,
                cval: self.cval,
                shift: (output.start[d] as i64 - start[d] - r) as isize,
            };
            correlate_axis(&cur, [outer, shape[d], inner], &pass, &mut next);
            std::mem::swap(&mut cur, &mut next);
            start[d] = output.start[d] as i64;
            shape[d] = output.shape[d] as usize;
        }
        cur
    }
}

/// The float types blocks are stored in between passes; sums are always f64.
trait Sample: Copy + Default + Send + Sync + 'static {
    fn widen(self) -> f64;
    fn narrow(v: f64) -> Self;
}

impl Sample for f32 {
    #[inline(always)]
    fn widen(self) -> f64 {
        f64::from(self)
    }
    #[inline(always)]
    fn narrow(v: f64) -> Self {
        v as f32
    }
}

impl Sample for f64 {
    #[inline(always)]
    fn widen(self) -> f64 {
        self
    }
    #[inline(always)]
    fn narrow(v: f64) -> Self {
        v
    }
}
