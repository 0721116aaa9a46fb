//! `downsample(factors, method)` with TensorStore's semantics: output shape `ceil(n / f)`; each
//! output element summarizes the block of up to `f` input elements per axis that it covers, a
//! partial block at the end using the elements present. Methods: mean (integers round half to
//! even; floats sum in their own type), min, max, median (the lower median), mode (the most frequent
//! value, the smallest on ties) and stride (the block's first element).

use std::cmp::Ordering;
use std::collections::HashMap;

use chunkwise_engine::{
    dispatch, ArrayMeta, Buffer, Element, Error, Op, OpKind, Region, RegionData, Result,
};
use multiversion::multiversion;
use serde::{Deserialize, Serialize};

use chunkwise_engine::geometry::{copy_buffer_region, for_each_index, ChunkGrid};

use crate::resample::nd::{absolute_lead, for_each_row, strides};

/// How a block of input elements becomes one output element.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DownsampleMethod {
    /// Arithmetic mean (integers round half to even).
    Mean,
    /// Smallest element.
    Min,
    /// Largest element.
    Max,
    /// Lower median.
    Median,
    /// Most frequent element (smallest on ties).
    Mode,
    /// First element of the block.
    Stride,
}

impl DownsampleMethod {
    /// The name in pipeline files.
    pub fn name(self) -> &'static str {
        match self {
            DownsampleMethod::Mean => "mean",
            DownsampleMethod::Min => "min",
            DownsampleMethod::Max => "max",
            DownsampleMethod::Median => "median",
            DownsampleMethod::Mode => "mode",
            DownsampleMethod::Stride => "stride",
        }
    }
}

/// Reduces each block of `factors` input elements to one.
#[derive(Debug, Clone, Serialize)]
pub struct Downsample {
    /// Integer factor per axis (at least 1).
    pub factors: Vec<u64>,
    /// The reduction.
    pub method: DownsampleMethod,
}

/// Element types with an exact mean: a wide accumulator and the final rounding.
pub trait MeanElement: Element + PartialOrd {
    /// The accumulator (a wider integer; floats use their own type, as TensorStore does).
    type Acc: Copy + Default + std::ops::AddAssign;
    /// Widens one element.
    fn widen(self) -> Self::Acc;
    /// `sum / count`, rounded as TensorStore does (half to even for integers).
    fn mean(sum: Self::Acc, count: u64) -> Self;
    /// The mode's counting key: values that count as one value share it.
    fn key(self) -> u64;
    /// The start of a max fold: the type's minimum, -inf for floats (so NaN is never chosen).
    const LOWEST: Self;
    /// The start of a min fold: the type's maximum, +inf for floats.
    const HIGHEST: Self;
}

/// `sum / count` rounded half to even, in the accumulator's own width (an i128 division per
/// output element costs more than the whole 2x2x2 sum).
macro_rules! round_half_even {
    ($name:ident, $t:ty) => {
        #[inline]
        fn $name(sum: $t, count: u64) -> $t {
            let c = count as $t;
            // Whole blocks mostly hold a power of two (2x2x2: 8): then a shift and a mask give
            // the same floor quotient and remainder as the division, at a fraction of its cost
            // (the division was 7% of a pyramid's time).
            let (q, r) = if count.is_power_of_two() {
                (sum >> count.trailing_zeros(), sum & (c - 1))
            } else {
                (sum.div_euclid(c), sum.rem_euclid(c))
            };
            // Up when past the half, or at it with an odd quotient. Without branches: which way
            // a mean rounds follows the data, and mispredicted branches cost more than the
            // arithmetic.
            let twice = 2 * r;
            q + (<$t>::from(twice > c) | (<$t>::from(twice == c) & q & 1))
        }
    };
}
round_half_even!(round_half_even_i64, i64);
round_half_even!(round_half_even_i128, i128);

/// The rounding for each accumulator width.
trait RoundMean: Sized {
    fn round_mean(self, count: u64) -> Self;
}
impl RoundMean for i64 {
    fn round_mean(self, count: u64) -> Self {
        round_half_even_i64(self, count)
    }
}
impl RoundMean for i128 {
    fn round_mean(self, count: u64) -> Self {
        round_half_even_i128(self, count)
    }
}

macro_rules! mean_int {
    ($acc:ty => $($t:ty),*) => {$(
        impl MeanElement for $t {
            type Acc = $acc;
            #[inline(always)]
            fn widen(self) -> $acc { self as $acc }
            fn mean(sum: $acc, count: u64) -> Self { sum.round_mean(count) as Self }
            fn key(self) -> u64 { self as i128 as u64 }
            const LOWEST: Self = <$t>::MIN;
            const HIGHEST: Self = <$t>::MAX;
        }
    )*};
}
// i64 sums of 32-bit values cannot overflow below 2^31 elements per block; 64-bit values sum in
// i128.
mean_int!(i64 => i8, i16, i32, u8, u16, u32);
mean_int!(i128 => i64, u64);

impl MeanElement for bool {
    type Acc = i64;
    fn widen(self) -> i64 {
        i64::from(self)
    }
    fn mean(sum: i64, count: u64) -> Self {
        sum.round_mean(count) != 0
    }
    fn key(self) -> u64 {
        u64::from(self)
    }
    const LOWEST: Self = false;
    const HIGHEST: Self = true;
}

// TensorStore sums floats in their own type, in C order over the block, then divides.
macro_rules! mean_float {
    ($($t:ty),*) => {$(
        impl MeanElement for $t {
            type Acc = $t;
            #[inline(always)]
            fn widen(self) -> $t { self }
            fn mean(sum: $t, count: u64) -> Self { sum / count as $t }
            fn key(self) -> u64 {
                // One key for -0.0 and 0.0, one for every NaN (see `reduce`).
                if self == 0.0 { 0 } else if self.is_nan() { f64::NAN.to_bits() } else { (self as f64).to_bits() }
            }
            const LOWEST: Self = <$t>::NEG_INFINITY;
            const HIGHEST: Self = <$t>::INFINITY;
        }
    )*};
}
mean_float!(f32, f64);

/// Geometry shared by the kernels: where each output row's blocks lie in the input buffer.
struct Layout<'a> {
    factors: &'a [u64],
    input: &'a Region,
    output: &'a Region,
    in_strides: Vec<usize>,
}

impl Layout<'_> {
    /// Input block range on `axis` for absolute output index `o`, relative to the input region.
    fn block(&self, axis: usize, o: u64) -> (usize, usize) {
        let f = self.factors[axis];
        let start = o * f - self.input.start[axis];
        let end = (start + f).min(self.input.shape[axis]);
        (start as usize, end as usize)
    }

    /// Calls `f(offset)` for the start offset (in the input buffer) of every input row that
    /// belongs to the blocks of output row `lead` (absolute leading index).
    fn block_rows(&self, lead: &[u64], mut f: impl FnMut(usize)) {
        let (lo, hi): (Vec<u64>, Vec<u64>) = lead
            .iter()
            .enumerate()
            .map(|(axis, &o)| {
                let (s, e) = self.block(axis, o);
                (s as u64, e as u64)
            })
            .unzip();
        for_each_index(&lo, &hi, |idx| {
            f(idx
                .iter()
                .zip(&self.in_strides)
                .map(|(&i, s)| i as usize * s)
                .sum());
        });
    }
}

fn mean_kernel<T: MeanElement>(x: &[T], layout: &Layout<'_>, out: &mut Vec<T>) {
    let nd = layout.output.ndim();
    let last = nd - 1;
    let row_len = layout.output.shape[last] as usize;
    let mut acc = vec![T::Acc::default(); row_len];
    let blocks: Vec<(usize, usize)> = (0..row_len)
        .map(|i| layout.block(last, layout.output.start[last] + i as u64))
        .collect();
    let f = layout.factors[last] as usize;
    // How many leading outputs of the row have a complete block that starts where the previous
    // ended: those are summed with a fixed-size inner loop.
    let full = blocks
        .iter()
        .enumerate()
        .take_while(|(i, &(s, e))| e - s == f && s == blocks[0].0 + i * f)
        .count();
    for_each_row(&layout.output.shape, |lead| {
        let lead = absolute_lead(layout.output, lead);
        acc.iter_mut().for_each(|a| *a = T::Acc::default());
        let mut rows = 0u64;
        layout.block_rows(&lead, |offset| {
            rows += 1;
            accumulate_row(&x[offset..], &blocks, full, f, &mut acc);
        });
        // Whole blocks share one count, so the rounding's power-of-two test is made once.
        let whole = rows * f as u64;
        out.extend(acc[..full].iter().map(|a| T::mean(*a, whole)));
        out.extend(
            acc[full..]
                .iter()
                .zip(&blocks[full..])
                .map(|(a, &(s, e))| T::mean(*a, rows * (e - s) as u64)),
        );
    });
}

#[multiversion(targets(
    "x86_64+avx512f+avx512vl+avx512bw+avx512dq",
    "x86_64+avx2",
    "x86_64+sse4.1"
))]
/// Adds one input row's block sums into `acc`: the first `full` outputs have whole blocks of `f`
/// consecutive elements, the rest (a partial block at the array end) their own ranges.
fn accumulate_row<T: MeanElement>(
    row: &[T],
    blocks: &[(usize, usize)],
    full: usize,
    f: usize,
    acc: &mut [T::Acc],
) {
    if full > 0 {
        let start = blocks[0].0;
        let whole = &row[start..start + full * f];
        // Factor 2, the common case, as fixed pairs: a loop the compiler vectorizes (a
        // block length known only at run time kept it scalar).
        if f == 2 {
            for (a, pair) in acc[..full].iter_mut().zip(whole.chunks_exact(2)) {
                *a += pair[0].widen();
                *a += pair[1].widen();
            }
        } else {
            for (a, block) in acc[..full].iter_mut().zip(whole.chunks_exact(f)) {
                for &v in block {
                    *a += v.widen();
                }
            }
        }
    }
    for (a, &(s, e)) in acc[full..].iter_mut().zip(&blocks[full..]) {
        for &v in &row[s..e] {
            *a += v.widen();
        }
    }
}

fn general_kernel<T: MeanElement>(
    x: &[T],
    layout: &Layout<'_>,
    method: DownsampleMethod,
    out: &mut Vec<T>,
) {
    let last = layout.output.ndim() - 1;
    let row_len = layout.output.shape[last] as usize;
    let blocks: Vec<(usize, usize)> = (0..row_len)
        .map(|i| layout.block(last, layout.output.start[last] + i as u64))
        .collect();
    let mut values: Vec<T> = Vec::new();
    let mut counts: HashMap<u64, u32> = HashMap::new();
    let mut row_offsets: Vec<usize> = Vec::new();
    for_each_row(&layout.output.shape, |lead| {
        let lead = absolute_lead(layout.output, lead);
        row_offsets.clear();
        layout.block_rows(&lead, |offset| row_offsets.push(offset));
        for &(s, e) in &blocks {
            // The block's elements in C order: row by row, then along the last axis.
            values.clear();
            for &offset in &row_offsets {
                values.extend_from_slice(&x[offset + s..offset + e]);
            }
            out.push(reduce(method, &mut values, &mut counts));
        }
    });
}

/// One block's value. Min and max fold from the type's extreme as TensorStore does, so NaN is
/// never chosen (a block of only NaN gives +inf for min, -inf for max). TensorStore leaves median
/// and mode of blocks holding NaN unspecified; here both use [`nan_last`]: the median is the lower
/// median with NaN sorted after every number (NaN only when at least half the block is NaN), and
/// the mode counts all NaN as one value and -0.0 with 0.0, ties going to the smallest value.
fn reduce<T: MeanElement>(
    method: DownsampleMethod,
    v: &mut [T],
    counts: &mut HashMap<u64, u32>,
) -> T {
    match method {
        DownsampleMethod::Stride => v[0],
        DownsampleMethod::Min => v.iter().fold(T::HIGHEST, |m, &x| if x < m { x } else { m }),
        DownsampleMethod::Max => v.iter().fold(T::LOWEST, |m, &x| if m < x { x } else { m }),
        DownsampleMethod::Median => {
            let k = (v.len() - 1) / 2;
            v.select_nth_unstable_by(k, nan_last);
            v[k]
        }
        DownsampleMethod::Mode => {
            counts.clear();
            for &x in v.iter() {
                *counts.entry(x.key()).or_default() += 1;
            }
            let best = v.iter().copied().max_by(|a, b| {
                let (ca, cb) = (counts[&a.key()], counts[&b.key()]);
                ca.cmp(&cb).then_with(|| nan_last(b, a))
            });
            best.unwrap_or(v[0])
        }
        DownsampleMethod::Mean => {
            let sum = v.iter().fold(T::Acc::default(), |mut acc, &x| {
                acc += x.widen();
                acc
            });
            T::mean(sum, v.len() as u64)
        }
    }
}

/// A total order for median and mode: numbers as usual (-0.0 equals 0.0), every NaN equal to
/// each other and after every number. Sorting needs a total order: the partial order of floats
/// may make `select_nth_unstable_by` panic on NaN.
fn nan_last<T: PartialOrd>(a: &T, b: &T) -> Ordering {
    #[allow(clippy::eq_op)] // x != x is the generic NaN test.
    match (a != a, b != b) {
        (false, false) => a.partial_cmp(b).unwrap_or(Ordering::Equal),
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
    }
}

impl Op for Downsample {
    fn name(&self) -> &'static str {
        "downsample"
    }

    fn describe(&self) -> String {
        format!("factors={:?}, method={}", self.factors, self.method.name())
    }

    fn kind(&self) -> OpKind {
        OpKind::Region
    }

    fn output_meta(&self, inputs: &[ArrayMeta]) -> Result<ArrayMeta> {
        let [input] = inputs else {
            return Err(Error::Invalid("downsample takes one input".into()));
        };
        if self.factors.len() != input.shape.len() || self.factors.contains(&0) {
            return Err(Error::Invalid(format!(
                "downsample factors {:?} must give one factor of at least 1 per axis of the \
                 {}-d input",
                self.factors,
                input.shape.len()
            )));
        }
        if input.shape.is_empty() {
            return Err(Error::Invalid(
                "downsample needs an array with at least one axis".into(),
            ));
        }
        let shape = input
            .shape
            .iter()
            .zip(&self.factors)
            .map(|(n, f)| n.div_ceil(*f))
            .collect();
        ArrayMeta::new(shape, input.chunks.clone(), input.dtype)
    }

    fn input_regions(&self, output: &Region, inputs: &[ArrayMeta]) -> Vec<Region> {
        let n = &inputs[0].shape;
        let start: Vec<u64> = output
            .start
            .iter()
            .zip(&self.factors)
            .map(|(s, f)| s * f)
            .collect();
        let shape = output
            .end()
            .iter()
            .zip(&self.factors)
            .zip(n.iter().zip(&start))
            .map(|((e, f), (n, s))| (e * f).min(*n) - s)
            .collect();
        vec![Region::new(start, shape)]
    }

    /// One box per input chunk when chunk boundaries fall on block boundaries (every chunk
    /// extent a multiple of its factor): each block then lies in one chunk, and a task reads
    /// whole chunks (a pyramid level's kept chunks, whole stored chunks) instead of having them
    /// copied into one block-sized buffer first.
    fn input_pieces(&self, output: &Region, inputs: &[ArrayMeta]) -> Vec<Vec<Region>> {
        let whole = self.input_regions(output, inputs).remove(0);
        let chunks = &inputs[0].chunks;
        let aligned = chunks.iter().zip(&self.factors).all(|(c, f)| c % f == 0);
        if !aligned {
            return vec![vec![whole]];
        }
        let grid = ChunkGrid::new(inputs[0].shape.clone(), chunks.clone());
        let pieces = grid
            .chunks_overlapping(&whole)
            .iter()
            .filter_map(|idx| grid.chunk_region(idx).intersect(&whole))
            .collect();
        vec![pieces]
    }

    fn compute_region(&self, inputs: &[RegionData<'_>], output: &Region) -> Result<Buffer> {
        match inputs {
            [] => Err(Error::Invalid("downsample takes one input".into())),
            [whole] => Ok(self.downsample_piece(whole, output)),
            // One read serving every box (a shared block read): one pass over it.
            [first, rest @ ..] if rest.iter().all(|p| std::ptr::eq(p.data, first.data)) => {
                Ok(self.downsample_piece(first, output))
            }
            pieces => {
                let mut out = Buffer::zeros(pieces[0].data.dtype(), output.num_elements() as usize);
                for piece in pieces {
                    self.compute_piece(piece, output, &mut out)?;
                }
                Ok(out)
            }
        }
    }

    /// Pieces are whole input chunks that each start on a block boundary when chunk extents
    /// are multiples of the factors ([`Op::input_pieces`]): each gives the outputs of its own
    /// blocks.
    fn piecewise(&self) -> bool {
        true
    }

    fn compute_piece(
        &self,
        piece: &RegionData<'_>,
        output: &Region,
        out: &mut Buffer,
    ) -> Result<()> {
        // The box asked for, not the (maybe larger) box handed over: blocks of the larger one
        // may start before it.
        let part = piece
            .asked
            .blocks_touched(&self.factors)
            .intersect(output)
            .ok_or_else(|| {
                Error::Invalid("internal: a downsample piece outside its task".into())
            })?;
        let data = self.downsample_piece(piece, &part);
        copy_buffer_region(&data, &part, out, output)
    }
}

impl Downsample {
    /// Downsamples `output`, whose blocks all lie in `input`.
    fn downsample_piece(&self, input: &RegionData<'_>, output: &Region) -> Buffer {
        let layout = Layout {
            factors: &self.factors,
            input: input.region,
            output,
            in_strides: strides(&input.region.shape),
        };
        let n = output.num_elements() as usize;
        dispatch!(Buffer, input.data, x => {
            let mut out = Vec::with_capacity(n);
            if self.method == DownsampleMethod::Mean {
                mean_kernel(x, &layout, &mut out);
            } else {
                general_kernel(x, &layout, self.method, &mut out);
            }
            Element::into_buffer(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Round half to even of `sum / count` in f64 (exact for these magnitudes).
    fn reference(sum: i64, count: u64) -> i64 {
        (sum as f64 / count as f64).round_ties_even() as i64
    }

    #[test]
    fn the_power_of_two_shortcut_rounds_like_the_division() {
        for count in [1u64, 2, 3, 4, 6, 8, 16, 27, 64, 1 << 20] {
            for sum in (-300i64..300).chain([1 << 40, -(1 << 40) - 3, (1 << 40) + 4]) {
                assert_eq!(
                    round_half_even_i64(sum, count),
                    reference(sum, count),
                    "{sum} / {count}"
                );
            }
        }
    }

    fn reduce_f32(method: DownsampleMethod, block: &[f32]) -> f32 {
        reduce(method, &mut block.to_vec(), &mut HashMap::new())
    }

    /// Median and mode with NaN follow `nan_last` in any element order, and never panic.
    #[test]
    fn median_and_mode_order_nan_last() {
        let nan = f32::NAN;
        let median: &[(&[f32], f32)] = &[
            (&[nan, 1.0, 3.0], 3.0),
            (&[2.0, nan, nan, 1.0], 2.0),
            (&[nan, 1.0, nan, nan], nan),
            (&[nan, nan], nan),
            (&[-0.0, 5.0, 0.0], 0.0),
        ];
        let mode: &[(&[f32], f32)] = &[
            (&[-0.0, 1.0, 0.0], 0.0),
            (&[nan, 1.0, nan], nan),
            (&[nan, 2.0, 1.0, nan, 1.0], 1.0),
            (&[2.0, 1.0], 1.0),
            (&[nan, 7.0], 7.0),
        ];
        for (method, cases) in [
            (DownsampleMethod::Median, median),
            (DownsampleMethod::Mode, mode),
        ] {
            for (block, want) in cases {
                let mut order = block.to_vec();
                for _ in 0..block.len() {
                    order.rotate_left(1);
                    let got = reduce_f32(method, &order);
                    let same = got == *want || (got.is_nan() && want.is_nan());
                    assert!(same, "{method:?} of {order:?}: got {got}, want {want}");
                }
            }
        }
        // Many NaN among many numbers: a partial order could make the selection panic.
        let big: Vec<f32> = (0..4096)
            .map(|i| {
                if i % 3 == 0 {
                    nan
                } else {
                    (i * 7919 % 4096) as f32
                }
            })
            .collect();
        assert!(!reduce_f32(DownsampleMethod::Median, &big).is_nan());
    }
}
