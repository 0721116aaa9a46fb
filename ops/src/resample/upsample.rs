//! `upsample(factors, method)`: nearest repeats each element `f` times per axis (`np.repeat`);
//! linear interpolates between half-pixel centres, clamped at the edges, as
//! `scipy.ndimage.zoom(x, f, order=1, grid_mode=True, mode="nearest")` does: the same coordinates,
//! weights and summation order in f64, and SciPy's rounding for integer outputs.

use chunkwise_engine::{
    dispatch, ArrayMeta, Buffer, Element, Error, Op, OpKind, Region, RegionData, Result,
};
use multiversion::multiversion;
use serde::{Deserialize, Serialize};

use crate::resample::nd::{for_each_row, strides};

/// Interpolation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UpsampleMethod {
    /// Repeat each element.
    Nearest,
    /// Multilinear interpolation between half-pixel centres, as SciPy's
    /// `zoom(order=1, grid_mode=True, mode="nearest")`, rounding integers as SciPy does; a bool
    /// array is interpolated as 0/1 and is true where that rounds to 1.
    Linear,
}

impl UpsampleMethod {
    /// The name in pipeline files.
    pub fn name(self) -> &'static str {
        match self {
            UpsampleMethod::Nearest => "nearest",
            UpsampleMethod::Linear => "linear",
        }
    }
}

/// Enlarges each axis by an integer factor.
#[derive(Debug, Clone, Serialize)]
pub struct Upsample {
    /// Integer factor per axis (at least 1).
    pub factors: Vec<u64>,
    /// The interpolation.
    pub method: UpsampleMethod,
    /// Shape of the whole input: linear interpolation's coordinates depend on it (as SciPy's
    /// `in / out` ratio) and a region kernel only sees regions.
    pub input_shape: Vec<u64>,
}

/// Conversion of an interpolated f64 back to the element type, as SciPy's output casting does.
pub trait FromInterpolated: Element {
    /// The element type as f64.
    fn to_f64(self) -> f64;
    /// Back from f64: floats by `as`; integers as SciPy rounds them (see `scipy_round`).
    fn from_f64(v: f64) -> Self;
}

macro_rules! interp_int {
    ($($t:ty),*) => {$(
        impl FromInterpolated for $t {
            fn to_f64(self) -> f64 { self as f64 }
            fn from_f64(v: f64) -> Self { scipy_round(v) as Self }
        }
    )*};
}
interp_int!(i8, i16, i32, i64, u8, u16, u32, u64);

/// SciPy's rounding of interpolated values into integer outputs: add or subtract one half, then
/// truncate (saturating).
fn scipy_round(v: f64) -> f64 {
    if v > 0.0 {
        v + 0.5
    } else {
        v - 0.5
    }
}

macro_rules! interp_float {
    ($($t:ty),*) => {$(
        impl FromInterpolated for $t {
            fn to_f64(self) -> f64 { self as f64 }
            fn from_f64(v: f64) -> Self { v as Self }
        }
    )*};
}
interp_float!(f32, f64);

impl FromInterpolated for bool {
    fn to_f64(self) -> f64 {
        f64::from(u8::from(self))
    }
    fn from_f64(v: f64) -> Self {
        scipy_round(v) as i64 != 0
    }
}

/// Per output index on one axis: the two input indices (relative to the input region) and their
/// weights.
struct AxisWeights {
    lo: Vec<usize>,
    hi: Vec<usize>,
    w: Vec<[f64; 2]>,
}

/// The continuous input coordinate of output index `o`, exactly as SciPy computes it for
/// `grid_mode=True`: `(o + 0.5) * (in / out) - 0.5`. It is not clamped: beyond the edges the
/// neighbour indices are (mode "nearest"), and the weights stay those of the raw coordinate.
fn source_coordinate(o: u64, n_in: u64, f: u64) -> f64 {
    let zoom = n_in as f64 / (n_in * f) as f64;
    (o as f64 + 0.5) * zoom - 0.5
}

fn axis_weights(n_in: u64, f: u64, out_start: u64, out_len: u64, in_start: u64) -> AxisWeights {
    let mut a = AxisWeights {
        lo: Vec::with_capacity(out_len as usize),
        hi: Vec::with_capacity(out_len as usize),
        w: Vec::with_capacity(out_len as usize),
    };
    for o in out_start..out_start + out_len {
        let c = source_coordinate(o, n_in, f);
        let i0 = c.floor();
        let t = c - i0;
        let clamp = |i: f64| (i.clamp(0.0, (n_in - 1) as f64) as u64 - in_start) as usize;
        a.lo.push(clamp(i0));
        a.hi.push(clamp(i0 + 1.0));
        a.w.push([1.0 - t, t]);
    }
    a
}

/// `dst` = each element of `src` repeated `f` times; the factor 2 gets a loop the compiler turns
/// into SIMD shuffles.
#[multiversion(targets(
    "x86_64+avx512f+avx512vl+avx512bw+avx512dq",
    "x86_64+avx2",
    "x86_64+sse4.1"
))]
fn repeat_elements<T: Element>(src: &[T], f: usize, dst: &mut [T]) {
    if f == 2 {
        for (pair, &v) in dst.chunks_exact_mut(2).zip(src) {
            pair[0] = v;
            pair[1] = v;
        }
    } else {
        for (run, &v) in dst.chunks_exact_mut(f).zip(src) {
            run.fill(v);
        }
    }
}

fn nearest<T: Element>(
    x: &[T],
    input: &Region,
    output: &Region,
    factors: &[u64],
    out: &mut Vec<T>,
) {
    let nd = output.ndim();
    let last = nd - 1;
    let in_strides = strides(&input.shape);
    let f = factors[last] as usize;
    let (out_start, row_len) = (output.start[last], output.shape[last] as usize);
    // Along the last axis, an output row aligned to the factor is each input element repeated
    // f times: filled in place; otherwise element by element through an index table.
    let aligned = out_start % factors[last] == 0 && row_len % f == 0;
    let first_in = (out_start / factors[last] - input.start[last]) as usize;
    let row: Vec<usize> = (0..output.shape[last])
        .map(|i| ((out_start + i) / factors[last] - input.start[last]) as usize)
        .collect();
    let mut repeated = vec![T::default(); if aligned { row_len } else { 0 }];
    let mut previous: Option<usize> = None;
    // Planes (all rows of one index on the axes before the last two) repeat too: a plane that
    // reads the same input plane as the one just written is copied whole.
    let plane_len = if nd >= 3 {
        output.shape[nd - 2] as usize * row_len
    } else {
        0
    };
    let mut previous_plane: Option<usize> = None;
    let mut copying_plane = false;
    // Where the input under output position `relative` starts, over the first `axes` axes
    // (called per row, so it allocates nothing).
    let input_offset = |relative: &[u64], axes: usize| -> usize {
        (0..axes)
            .map(|d| {
                let o = output.start[d] + relative[d];
                ((o / factors[d] - input.start[d]) as usize) * in_strides[d]
            })
            .sum()
    };
    for_each_row(&output.shape, |relative| {
        if nd >= 3 && relative[nd - 2] == 0 {
            let key = input_offset(relative, nd - 2);
            copying_plane = previous_plane == Some(key) && plane_len > 0;
            if copying_plane {
                let start = out.len() - plane_len;
                out.extend_from_within(start..);
            }
            previous_plane = Some(key);
        }
        if copying_plane {
            return;
        }
        let offset = input_offset(relative, last);
        if previous == Some(offset) {
            // The same input row as the row just written: repeat it with one copy.
            let start = out.len() - row_len;
            out.extend_from_within(start..);
        } else if aligned {
            let src = &x[offset + first_in..offset + first_in + row_len / f];
            repeat_elements(src, f, &mut repeated);
            out.extend_from_slice(&repeated);
        } else {
            out.extend(row.iter().map(|&i| x[offset + i]));
        }
        previous = Some(offset);
    });
}

fn linear<T: FromInterpolated>(
    x: &[T],
    input: &Region,
    output: &Region,
    shape: &[u64],
    factors: &[u64],
    out: &mut Vec<T>,
) {
    let nd = output.ndim();
    let in_strides = strides(&input.shape);
    let axes: Vec<AxisWeights> = (0..nd)
        .map(|d| {
            axis_weights(
                shape[d],
                factors[d],
                output.start[d],
                output.shape[d],
                input.start[d],
            )
        })
        .collect();
    linear_rows(x, &in_strides, &axes, factors[nd - 1] as usize, out);
}

/// The outputs of one output row that share a phase `p` (positions `p, p + f, p + 2f, ...`):
/// along a run in the middle their corners are consecutive input elements (`lo = base + m`,
/// `hi = lo + 1`), so the run is summed from contiguous slices (SIMD); the clamped ends are
/// gathered one by one.
struct Phase {
    /// Output positions in the row.
    positions: Vec<usize>,
    lo: Vec<usize>,
    hi: Vec<usize>,
    w_lo: Vec<f64>,
    w_hi: Vec<f64>,
    /// Indices into `positions` of the run, and the run's first `lo`.
    run: std::ops::Range<usize>,
    base: usize,
    sums: Vec<f64>,
}

impl Phase {
    fn new(a: &AxisWeights, first: usize, phase: usize, f: usize) -> Phase {
        let positions: Vec<usize> = (phase..a.w.len()).step_by(f).collect();
        let lo: Vec<usize> = positions.iter().map(|&j| a.lo[j] - first).collect();
        let hi: Vec<usize> = positions.iter().map(|&j| a.hi[j] - first).collect();
        // The longest run of consecutive corners.
        let regular = |k: usize| hi[k] == lo[k] + 1;
        let (mut best, mut start) = (0..0, 0);
        for k in 0..positions.len() {
            let continues = k > 0 && regular(k) && regular(k - 1) && lo[k] == lo[k - 1] + 1;
            if !continues {
                start = k;
            }
            if regular(k) && k + 1 - start > best.len() {
                best = start..k + 1;
            }
        }
        let base = best.clone().next().map_or(0, |k| lo[k]);
        Phase {
            w_lo: positions.iter().map(|&j| a.w[j][0]).collect(),
            w_hi: positions.iter().map(|&j| a.w[j][1]).collect(),
            sums: vec![0.0; positions.len()],
            positions,
            lo,
            hi,
            run: best,
            base,
        }
    }

    /// Adds one corner row's contributions, `scaled[lo] * w_lo` then `scaled[hi] * w_hi`.
    /// Inlined so that it is compiled for the instruction set [`linear_rows`] was dispatched to.
    #[inline(always)]
    fn accumulate(&mut self, scaled: &[f64]) {
        let (run, n) = (self.run.clone(), self.run.len());
        let (sums, w_lo, w_hi) = (
            &mut self.sums[run.clone()],
            &self.w_lo[run.clone()],
            &self.w_hi[run.clone()],
        );
        let (low, high) = (
            &scaled[self.base..self.base + n],
            &scaled[self.base + 1..self.base + 1 + n],
        );
        for ((sum, (&wl, &wh)), (&l, &h)) in sums
            .iter_mut()
            .zip(w_lo.iter().zip(w_hi))
            .zip(low.iter().zip(high))
        {
            *sum += l * wl;
            *sum += h * wh;
        }
        for k in (0..self.positions.len()).filter(|k| !run.contains(k)) {
            self.sums[k] += scaled[self.lo[k]] * self.w_lo[k];
            self.sums[k] += scaled[self.hi[k]] * self.w_hi[k];
        }
    }
}

/// The multilinear interpolation of [`linear`], in SciPy's arithmetic, so the same bits: each
/// element sums its `2^n` corners with the first axis slowest, each corner
/// `((x * w0) * w1) ... * w_last`, from 0. The corners of one output row lie on `2^(n-1)` input
/// rows fixed for the row: each such row is scaled by its leading weights once per element,
/// then the row's outputs accumulate corner row by corner row, phase by phase over contiguous
/// slices (element by element with gathered corners it took 10 ns an element in 3-d).
#[multiversion(targets(
    "x86_64+avx512f+avx512vl+avx512bw+avx512dq",
    "x86_64+avx2",
    "x86_64+sse4.1"
))]
fn linear_rows<T: FromInterpolated>(
    x: &[T],
    strides: &[usize],
    axes: &[AxisWeights],
    f: usize,
    out: &mut Vec<T>,
) {
    let Some((last, lead)) = axes.split_last() else {
        return;
    };
    // The part of each input row the last axis reads.
    let first = last.lo.iter().chain(&last.hi).copied().min().unwrap_or(0);
    let end = last
        .lo
        .iter()
        .chain(&last.hi)
        .copied()
        .max()
        .map_or(0, |m| m + 1);
    let mut phases: Vec<Phase> = (0..f.min(last.w.len()))
        .map(|p| Phase::new(last, first, p, f))
        .collect();
    let mut scaled = vec![0.0f64; end - first];
    let mut row_out = vec![T::default(); last.w.len()];
    let corners = 1usize << lead.len();
    let rows: usize = lead.iter().map(|a| a.w.len()).product();
    // The output row's index on the leading axes, counted here rather than in a closure: the
    // loops must be compiled inside this function, for the instruction set it dispatched to.
    let mut index = vec![0usize; lead.len()];
    for _ in 0..rows {
        for phase in &mut phases {
            phase.sums.fill(0.0);
        }
        for corner in 0..corners {
            let high = |d: usize| corner >> (lead.len() - 1 - d) & 1 == 1;
            let offset: usize = lead
                .iter()
                .zip(&index)
                .enumerate()
                .map(|(d, (a, &i))| (if high(d) { a.hi[i] } else { a.lo[i] }) * strides[d])
                .sum();
            for (s, &v) in scaled.iter_mut().zip(&x[offset + first..offset + end]) {
                *s = v.to_f64();
            }
            for (d, (a, &i)) in lead.iter().zip(&index).enumerate() {
                let w = a.w[i][usize::from(high(d))];
                for s in scaled.iter_mut() {
                    *s *= w;
                }
            }
            for phase in &mut phases {
                phase.accumulate(&scaled);
            }
        }
        for phase in &phases {
            for (&j, &v) in phase.positions.iter().zip(&phase.sums) {
                row_out[j] = T::from_f64(v);
            }
        }
        out.extend_from_slice(&row_out);
        // Next row: the last leading axis fastest.
        for (i, a) in index.iter_mut().zip(lead).rev() {
            *i += 1;
            if *i < a.w.len() {
                break;
            }
            *i = 0;
        }
    }
}

impl Op for Upsample {
    fn name(&self) -> &'static str {
        "upsample"
    }

    fn describe(&self) -> String {
        format!("factors={:?}, method={}", self.factors, self.method.name())
    }

    fn kind(&self) -> OpKind {
        OpKind::Region
    }

    fn output_meta(&self, inputs: &[ArrayMeta]) -> Result<ArrayMeta> {
        let [input] = inputs else {
            return Err(Error::Invalid("upsample takes one input".into()));
        };
        if input.shape != self.input_shape {
            return Err(Error::Invalid(format!(
                "upsample was built for an input of shape {:?}, not {:?}",
                self.input_shape, input.shape
            )));
        }
        if self.factors.len() != input.shape.len() || self.factors.contains(&0) {
            return Err(Error::Invalid(format!(
                "upsample factors {:?} must give one factor of at least 1 per axis of the {}-d \
                 input",
                self.factors,
                input.shape.len()
            )));
        }
        if input.shape.is_empty() {
            return Err(Error::Invalid(
                "upsample needs an array with at least one axis".into(),
            ));
        }
        let shape = input
            .shape
            .iter()
            .zip(&self.factors)
            .map(|(n, f)| n.checked_mul(*f))
            .collect::<Option<Vec<u64>>>()
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "upsample of shape {:?} by {:?} overflows 64-bit sizes",
                    input.shape, self.factors
                ))
            })?;
        ArrayMeta::new(shape, input.chunks.clone(), input.dtype)
    }

    fn input_regions(&self, output: &Region, inputs: &[ArrayMeta]) -> Vec<Region> {
        let (mut start, mut end) = (Vec::new(), Vec::new());
        let axes = inputs[0].shape.iter().zip(&self.factors);
        for ((&n, &f), (&s, &len)) in axes.zip(output.start.iter().zip(&output.shape)) {
            let e = s + len;
            match self.method {
                UpsampleMethod::Nearest => {
                    start.push(s / f);
                    end.push(e.div_ceil(f));
                }
                UpsampleMethod::Linear if n == 0 || len == 0 => {
                    start.push(0);
                    end.push(0);
                }
                UpsampleMethod::Linear => {
                    let last = (n - 1) as f64;
                    let lo = source_coordinate(s, n, f).floor().clamp(0.0, last);
                    let hi = (source_coordinate(e - 1, n, f).floor() + 1.0).clamp(0.0, last);
                    start.push(lo as u64);
                    end.push(hi as u64 + 1);
                }
            }
        }
        let shape = end.iter().zip(&start).map(|(e, s)| e - s).collect();
        vec![Region::new(start, shape)]
    }

    fn compute_region(&self, inputs: &[RegionData<'_>], output: &Region) -> Result<Buffer> {
        let [input] = inputs else {
            return Err(Error::Invalid("upsample takes one input".into()));
        };
        let n = output.num_elements() as usize;
        Ok(dispatch!(Buffer, input.data, x => {
            let mut out = Vec::with_capacity(n);
            match self.method {
                UpsampleMethod::Nearest => nearest(x, input.region, output, &self.factors, &mut out),
                UpsampleMethod::Linear => {
                    linear(x, input.region, output, &self.input_shape, &self.factors, &mut out)
                }
            }
            Element::into_buffer(out)
        }))
    }

    fn preferred_block(&self, output_chunks: &[u64], input_chunks: &[u64]) -> Vec<u64> {
        output_chunks
            .iter()
            .zip(input_chunks)
            .zip(&self.factors)
            .map(|((&c_out, &c_in), &f)| {
                let period = c_in * f;
                period / gcd(c_out, period)
            })
            .collect()
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.max(1)
}
