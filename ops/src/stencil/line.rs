//! One 1-D pass of a separable filter along one axis of a block, in "valid" form: the block
//! holds the extended window along the axis (output positions plus the halo), the result only
//! the output positions. A block is seen as `[outer, len_in, inner]`; along a strided axis every
//! step works on whole rows of `inner` contiguous values (in strips that stay in cache), along
//! the last axis on the contiguous line itself, so the inner loops are plain slice loops the
//! compiler vectorizes.

use multiversion::multiversion;
use serde::Serialize;

use crate::stencil::sample::Sample;

/// Inner values processed together along a strided axis: `size` rows of a strip stay in L1/L2.
const STRIP: usize = 1024;

/// A 1-D filter of a pass.
#[derive(Clone, Debug, Serialize)]
pub(crate) enum Line {
    /// `out[o] = sum_k w[k] * in[o + k]` (scipy's correlate1d taps).
    Correlate(Vec<f64>),
    /// The mean of `size` values, summed in f64.
    Uniform(usize),
    /// The least of `size` values.
    Min(usize),
    /// The greatest of `size` values.
    Max(usize),
}

impl Line {
    /// The window length.
    pub(crate) fn size(&self) -> usize {
        match self {
            Line::Correlate(w) => w.len(),
            Line::Uniform(n) | Line::Min(n) | Line::Max(n) => *n,
        }
    }
}

/// Weight symmetry, which lets a pass add mirrored values before multiplying (half the
/// multiplies, as scipy's correlate1d does).
#[derive(Clone, Copy)]
enum Symmetry {
    Even,
    Odd,
    None,
}

fn symmetry(w: &[f64]) -> Symmetry {
    let n = w.len();
    if n.is_multiple_of(2) {
        return Symmetry::None;
    }
    let pairs = || (1..=n / 2).map(|j| (w[n / 2 - j], w[n / 2 + j]));
    if pairs().all(|(a, b)| a == b) {
        Symmetry::Even
    } else if pairs().all(|(a, b)| a == -b) {
        Symmetry::Odd
    } else {
        Symmetry::None
    }
}

/// Applies `line` along the middle axis of `block` (`dims = [outer, len_in, inner]`) in place,
/// leaving `[outer, len_in - size + 1, inner]`. In place is safe because output row `o` is
/// computed (into a strip-sized buffer) before it is stored, and it is stored at or before input
/// row `o`: every input row a later output needs lies after it.
#[multiversion(targets(
    "x86_64+avx512f+avx512vl+avx512bw+avx512dq",
    "x86_64+avx2",
    "x86_64+sse4.1"
))]
pub(crate) fn apply<F: Sample>(block: &mut Vec<F>, dims: [usize; 3], line: &Line) {
    let [outer, len_in, inner] = dims;
    let size = line.size();
    let len_out = len_in + 1 - size;
    let weights: Vec<F> = match line {
        Line::Correlate(w) => w.iter().map(|&v| F::from_f64(v)).collect(),
        _ => Vec::new(),
    };
    let sym = match line {
        Line::Correlate(w) => symmetry(w),
        _ => Symmetry::None,
    };
    let mut tmp: Vec<F> = Vec::new();
    let mut scratch: (Vec<F>, Vec<F>, Vec<f64>) = Default::default();
    for b in 0..outer {
        let (src, dst) = (b * len_in * inner, b * len_out * inner);
        match line {
            Line::Correlate(_) if inner == 1 => {
                tmp.clear();
                tmp.resize(len_out, F::default());
                correlate(
                    &weights,
                    sym,
                    |k| &block[src + k..src + k + len_out],
                    &mut tmp,
                );
                block[dst..dst + len_out].copy_from_slice(&tmp);
            }
            Line::Correlate(_) => {
                for s in (0..inner).step_by(STRIP) {
                    let w = STRIP.min(inner - s);
                    tmp.clear();
                    tmp.resize(w, F::default());
                    for o in 0..len_out {
                        let at = |k: usize| src + (o + k) * inner + s;
                        correlate(&weights, sym, |k| &block[at(k)..at(k) + w], &mut tmp);
                        let out = dst + o * inner + s;
                        block[out..out + w].copy_from_slice(&tmp);
                    }
                }
            }
            Line::Uniform(n) if inner == 1 => {
                uniform_contiguous(block, [src, dst, len_in], *n, &mut scratch.2);
            }
            Line::Uniform(n) => uniform(block, [src, dst, len_in, inner], *n, &mut scratch.2),
            Line::Min(n) => extreme(
                block,
                [src, dst, len_in, inner],
                *n,
                &mut scratch,
                F::min_num,
            ),
            Line::Max(n) => extreme(
                block,
                [src, dst, len_in, inner],
                *n,
                &mut scratch,
                F::max_num,
            ),
        }
    }
    block.truncate(outer * len_out * inner);
}

/// `out[i] = sum_k w[k] * row(k)[i]`, mirrored pairs added first when the weights allow.
#[inline(always)]
fn correlate<'a, F: Sample>(w: &[F], sym: Symmetry, row: impl Fn(usize) -> &'a [F], out: &mut [F]) {
    let c = w.len() / 2;
    match sym {
        Symmetry::Even | Symmetry::Odd => {
            for (o, &x) in out.iter_mut().zip(row(c)) {
                *o = x * w[c];
            }
            let pair = |j: usize| (row(c - j), row(c + j), w[c + j]);
            if matches!(sym, Symmetry::Even) {
                add_terms(out, c, pair, |x, y| x + y);
            } else {
                add_terms(out, c, pair, |x, y| y - x);
            }
        }
        Symmetry::None => {
            for (o, &x) in out.iter_mut().zip(row(0)) {
                *o = x * w[0];
            }
            // One row per term: its "pair" is the row with itself, and `merge` keeps one of them.
            let single = |k: usize| (row(k), row(k), w[k]);
            add_terms(out, w.len() - 1, single, |x, _| x);
        }
    }
}

/// Adds terms `1..=count` to `out` in that order, term `j` being `merge(a, b) * wj` for
/// `(a, b, wj) = term(j)`. Four terms go in per pass over `out`, so `out` is loaded and stored
/// once per four taps instead of once per tap; each value still adds its terms one at a time in
/// the same order (`((o + t1) + t2) + ...`), so the bits are those of one pass per term.
#[inline(always)]
fn add_terms<'a, F: Sample>(
    out: &mut [F],
    count: usize,
    term: impl Fn(usize) -> (&'a [F], &'a [F], F),
    merge: impl Fn(F, F) -> F + Copy,
) {
    let n = out.len();
    let mut j = 1;
    while j + 3 <= count {
        let (a0, b0, w0) = term(j);
        let (a1, b1, w1) = term(j + 1);
        let (a2, b2, w2) = term(j + 2);
        let (a3, b3, w3) = term(j + 3);
        let (a0, b0, a1, b1) = (&a0[..n], &b0[..n], &a1[..n], &b1[..n]);
        let (a2, b2, a3, b3) = (&a2[..n], &b2[..n], &a3[..n], &b3[..n]);
        for i in 0..n {
            out[i] = out[i]
                + merge(a0[i], b0[i]) * w0
                + merge(a1[i], b1[i]) * w1
                + merge(a2[i], b2[i]) * w2
                + merge(a3[i], b3[i]) * w3;
        }
        j += 4;
    }
    for j in j..=count {
        let (a, b, wj) = term(j);
        for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
            *o = *o + merge(x, y) * wj;
        }
    }
}

/// Mean over `size` rows, summed in f64 and divided once. scipy keeps a running sum along the
/// whole line; that makes a value depend on where the line starts, so here each window is summed
/// on its own, which keeps results independent of the chunking (and within rounding of scipy's).
#[inline(always)]
fn uniform<F: Sample>(block: &mut [F], at: [usize; 4], size: usize, acc: &mut Vec<f64>) {
    let [src, dst, len_in, inner] = at;
    let len_out = len_in + 1 - size;
    let n = size as f64;
    for s in (0..inner).step_by(STRIP) {
        let w = STRIP.min(inner - s);
        for o in 0..len_out {
            let row = |t: usize| src + t * inner + s;
            acc.clear();
            acc.extend(block[row(o)..row(o) + w].iter().map(|v| v.to_f64()));
            for t in o + 1..o + size {
                for (a, &v) in acc.iter_mut().zip(&block[row(t)..row(t) + w]) {
                    *a += v.to_f64();
                }
            }
            let out = dst + o * inner + s;
            for (d, &a) in block[out..out + w].iter_mut().zip(acc.iter()) {
                *d = F::from_f64(a / n);
            }
        }
    }
}

/// [`uniform`] along a contiguous line (the last axis): the windows side by side in one f64
/// buffer, each summed in the same order as there (so the same bits), as whole-line slice
/// loops instead of one window at a time.
#[inline(always)]
fn uniform_contiguous<F: Sample>(block: &mut [F], at: [usize; 3], size: usize, acc: &mut Vec<f64>) {
    let [src, dst, len_in] = at;
    let len_out = len_in + 1 - size;
    let n = size as f64;
    acc.clear();
    acc.extend(block[src..src + len_out].iter().map(|v| v.to_f64()));
    for t in 1..size {
        for (a, &v) in acc.iter_mut().zip(&block[src + t..src + t + len_out]) {
            *a += v.to_f64();
        }
    }
    for (d, &a) in block[dst..dst + len_out].iter_mut().zip(acc.iter()) {
        *d = F::from_f64(a / n);
    }
}

/// Sliding minimum or maximum (by `pick`) over `size` rows: van Herk / Gil-Werman, three
/// comparisons per value whatever the window length. Prefix extremes run forward inside blocks
/// of `size` rows, suffix extremes backward; each window is one suffix and one prefix.
#[inline(always)]
fn extreme<F: Sample>(
    block: &mut [F],
    at: [usize; 4],
    size: usize,
    scratch: &mut (Vec<F>, Vec<F>, Vec<f64>),
    pick: impl Fn(F, F) -> F + Copy,
) {
    let [src, dst, len_in, inner] = at;
    let len_out = len_in + 1 - size;
    let (prefix, suffix, _) = scratch;
    for s in (0..inner).step_by(STRIP) {
        let w = STRIP.min(inner - s);
        let row = |t: usize| src + t * inner + s;
        prefix.clear();
        prefix.resize(len_in * w, F::default());
        suffix.clear();
        suffix.resize(len_in * w, F::default());
        for t in 0..len_in {
            let (done, rest) = prefix.split_at_mut(t * w);
            let cur = &mut rest[..w];
            let input = &block[row(t)..row(t) + w];
            if t.is_multiple_of(size) {
                cur.copy_from_slice(input);
            } else {
                let prev = &done[(t - 1) * w..];
                for ((c, &p), &v) in cur.iter_mut().zip(prev).zip(input) {
                    *c = pick(p, v);
                }
            }
        }
        for t in (0..len_in).rev() {
            let (cur, later) = suffix.split_at_mut((t + 1) * w);
            let cur = &mut cur[t * w..];
            let input = &block[row(t)..row(t) + w];
            if t % size == size - 1 || t == len_in - 1 {
                cur.copy_from_slice(input);
            } else {
                for ((c, &n), &v) in cur.iter_mut().zip(&later[..w]).zip(input) {
                    *c = pick(n, v);
                }
            }
        }
        // Every input row of this strip is in the prefix/suffix buffers: overwrite freely.
        for o in 0..len_out {
            let out = dst + o * inner + s;
            let (h, g) = (
                &suffix[o * w..(o + 1) * w],
                &prefix[(o + size - 1) * w..][..w],
            );
            for ((d, &a), &b) in block[out..out + w].iter_mut().zip(h).zip(g) {
                *d = pick(a, b);
            }
        }
    }
}
