//! One 1-D pass of a separable filter along one axis of a block, in "valid" form: the block
//! holds the extended window along the axis (output positions plus the halo), the result only
//! the output positions. A block is seen as `[outer, len_in, inner]`; along a strided axis every
//! step works on whole rows of `inner` contiguous values (in strips that stay in cache), along
//! the last axis on the contiguous line itself, so the inner loops are plain slice loops the
//! compiler vectorizes.

use multiversion::multiversion;

use crate::stencil::sample::Sample;

/// Inner values processed together along a strided axis: `size` rows of a strip stay in L1/L2.
const STRIP: usize = 1024;

/// A 1-D filter of a pass.
#[derive(Clone, Debug)]
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

/// Applies `line` along the middle axis of `cur` (`dims = [outer, len_in, inner]`), leaving
/// `[outer, len_in - size + 1, inner]` in `out`.
#[multiversion(targets("x86_64+avx2", "x86_64+sse4.1"))]
pub(crate) fn apply<F: Sample>(cur: &[F], dims: [usize; 3], line: &Line, out: &mut Vec<F>) {
    let [outer, len_in, inner] = dims;
    let size = line.size();
    let len_out = len_in + 1 - size;
    out.clear();
    out.resize(outer * len_out * inner, F::default());
    let weights: Vec<F> = match line {
        Line::Correlate(w) => w.iter().map(|&v| F::from_f64(v)).collect(),
        _ => Vec::new(),
    };
    let sym = match line {
        Line::Correlate(w) => symmetry(w),
        _ => Symmetry::None,
    };
    let mut scratch: (Vec<F>, Vec<F>, Vec<f64>) = Default::default();
    for b in 0..outer {
        let src = &cur[b * len_in * inner..(b + 1) * len_in * inner];
        let dst = &mut out[b * len_out * inner..(b + 1) * len_out * inner];
        match line {
            Line::Correlate(_) if inner == 1 => {
                correlate(&weights, sym, |k| &src[k..k + len_out], dst);
            }
            Line::Correlate(_) => {
                for s in (0..inner).step_by(STRIP) {
                    let w = STRIP.min(inner - s);
                    for o in 0..len_out {
                        let row = |k: usize| &src[(o + k) * inner + s..(o + k) * inner + s + w];
                        correlate(
                            &weights,
                            sym,
                            row,
                            &mut dst[o * inner + s..o * inner + s + w],
                        );
                    }
                }
            }
            Line::Uniform(n) => uniform(src, [len_in, inner], *n, dst, &mut scratch.2),
            Line::Min(n) => extreme(src, [len_in, inner], *n, dst, &mut scratch, F::min_num),
            Line::Max(n) => extreme(src, [len_in, inner], *n, dst, &mut scratch, F::max_num),
        }
    }
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
            for j in 1..=c {
                let (lo, hi, wj) = (row(c - j), row(c + j), w[c + j]);
                if matches!(sym, Symmetry::Even) {
                    for ((o, &x), &y) in out.iter_mut().zip(lo).zip(hi) {
                        *o = *o + (x + y) * wj;
                    }
                } else {
                    for ((o, &x), &y) in out.iter_mut().zip(lo).zip(hi) {
                        *o = *o + (y - x) * wj;
                    }
                }
            }
        }
        Symmetry::None => {
            for (o, &x) in out.iter_mut().zip(row(0)) {
                *o = x * w[0];
            }
            for (k, &wk) in w.iter().enumerate().skip(1) {
                for (o, &x) in out.iter_mut().zip(row(k)) {
                    *o = *o + x * wk;
                }
            }
        }
    }
}

/// Mean over `size` rows, summed in f64 and divided once. scipy keeps a running sum along the
/// whole line; that makes a value depend on where the line starts, so here each window is summed
/// on its own, which keeps results independent of the chunking (and within rounding of scipy's).
#[inline(always)]
fn uniform<F: Sample>(src: &[F], dims: [usize; 2], size: usize, dst: &mut [F], acc: &mut Vec<f64>) {
    let [len_in, inner] = dims;
    let len_out = len_in + 1 - size;
    let n = size as f64;
    for s in (0..inner).step_by(STRIP) {
        let w = STRIP.min(inner - s);
        let row = |t: usize| &src[t * inner + s..t * inner + s + w];
        for o in 0..len_out {
            acc.clear();
            acc.extend(row(o).iter().map(|v| v.to_f64()));
            for t in o + 1..o + size {
                for (a, &v) in acc.iter_mut().zip(row(t)) {
                    *a += v.to_f64();
                }
            }
            let out = &mut dst[o * inner + s..o * inner + s + w];
            for (d, &a) in out.iter_mut().zip(acc.iter()) {
                *d = F::from_f64(a / n);
            }
        }
    }
}

/// Sliding minimum or maximum (by `pick`) over `size` rows: van Herk / Gil-Werman, three
/// comparisons per value whatever the window length. Prefix extremes run forward inside blocks
/// of `size` rows, suffix extremes backward; each window is one suffix and one prefix.
#[inline(always)]
fn extreme<F: Sample>(
    src: &[F],
    dims: [usize; 2],
    size: usize,
    dst: &mut [F],
    scratch: &mut (Vec<F>, Vec<F>, Vec<f64>),
    pick: impl Fn(F, F) -> F + Copy,
) {
    let [len_in, inner] = dims;
    let len_out = len_in + 1 - size;
    let (prefix, suffix, _) = scratch;
    for s in (0..inner).step_by(STRIP) {
        let w = STRIP.min(inner - s);
        let row = |t: usize| &src[t * inner + s..t * inner + s + w];
        prefix.clear();
        prefix.resize(len_in * w, F::default());
        suffix.clear();
        suffix.resize(len_in * w, F::default());
        for t in 0..len_in {
            let (done, rest) = prefix.split_at_mut(t * w);
            let cur = &mut rest[..w];
            if t.is_multiple_of(size) {
                cur.copy_from_slice(row(t));
            } else {
                let prev = &done[(t - 1) * w..];
                for ((c, &p), &v) in cur.iter_mut().zip(prev).zip(row(t)) {
                    *c = pick(p, v);
                }
            }
        }
        for t in (0..len_in).rev() {
            let (cur, later) = suffix.split_at_mut((t + 1) * w);
            let cur = &mut cur[t * w..];
            if t % size == size - 1 || t == len_in - 1 {
                cur.copy_from_slice(row(t));
            } else {
                for ((c, &n), &v) in cur.iter_mut().zip(&later[..w]).zip(row(t)) {
                    *c = pick(n, v);
                }
            }
        }
        for o in 0..len_out {
            let out = &mut dst[o * inner + s..o * inner + s + w];
            let (h, g) = (
                &suffix[o * w..(o + 1) * w],
                &prefix[(o + size - 1) * w..][..w],
            );
            for ((d, &a), &b) in out.iter_mut().zip(h).zip(g) {
                *d = pick(a, b);
            }
        }
    }
}
