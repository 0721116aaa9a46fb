//! The kernels of a partial: folding input elements into a state ([`fold_piece`]) and merging
//! two states ([`merge`]). Every state's slot 0 counts the elements it has seen.

use chunkwise_engine::geometry::{for_each_index, strides};
use chunkwise_engine::Region;

use super::acc::{Acc, Enters};
use super::kind::State;

/// Where the elements of one input box go in a partial's output: the box's rows, and for each
/// the output offset of its first element (slot 0), the output step per element, and the flat
/// index over the reduced axes (for argmin/argmax) of its first element and its step.
pub(crate) struct Mapping<'a> {
    /// Reduced axes of the input.
    pub reduced: &'a [bool],
    /// Input chunk shape: on a reduced axis, output index = input index / chunk.
    pub chunks: &'a [u64],
    /// Input shape, for the flat index over the reduced axes.
    pub shape: &'a [u64],
    /// The output region (input axes + the slot axis).
    pub output: &'a Region,
}

impl Mapping<'_> {
    /// Calls `f(data_offset, row_len, out_offset, out_step, index, index_step)` per row of
    /// `asked` (C order, inside the data's `region`).
    fn rows(
        &self,
        region: &Region,
        asked: &Region,
        mut f: impl FnMut(usize, usize, usize, usize, u64, u64),
    ) {
        let nd = asked.ndim();
        let data_strides = strides(&region.shape);
        let out_strides = strides(&self.output.shape);
        let mut flat = vec![0u64; nd];
        let mut acc = 1u64;
        for a in (0..nd).rev() {
            if self.reduced[a] {
                flat[a] = acc;
                acc *= self.shape[a];
            }
        }
        let (row_len, last_step, last_index) = match nd {
            0 => (1, 0, 0),
            _ => (
                asked.shape[nd - 1] as usize,
                if self.reduced[nd - 1] {
                    0
                } else {
                    out_strides[nd - 1]
                },
                flat[nd - 1],
            ),
        };
        let mut lo = asked.start.clone();
        let mut hi = asked.end();
        if nd > 0 {
            hi[nd - 1] = lo[nd - 1] + 1;
        }
        lo.truncate(nd);
        for_each_index(&lo, &hi, |at| {
            let mut data = 0;
            let mut out = 0;
            let mut index = 0;
            for a in 0..nd {
                data += (at[a] - region.start[a]) as usize * data_strides[a];
                let o = if self.reduced[a] {
                    at[a] / self.chunks[a]
                } else {
                    at[a]
                };
                out += (o - self.output.start[a]) as usize * out_strides[a];
                index += at[a] * flat[a];
            }
            f(data, row_len, out, last_step, index, last_index);
        });
    }
}

/// Folds the elements of `asked` (inside the data `xs` laid out over `region`) into the states
/// in `out`, one state per output element; each output element receives one box, so its state
/// is set here (count and identity) before the fold.
pub(crate) fn fold_piece<T: Enters<A> + Copy, A: Acc>(
    state: State,
    map: &Mapping<'_>,
    region: &Region,
    asked: &Region,
    xs: &[T],
    out: &mut [A],
) {
    let n: u64 = (0..asked.ndim())
        .filter(|&a| map.reduced[a])
        .map(|a| asked.shape[a])
        .product();
    let (v0, e0) = match state {
        State::Sum | State::Moments | State::Count => (A::ZERO, A::ZERO),
        State::Prod => (A::ONE, A::ZERO),
        State::Min | State::Argmin => (A::TOP, A::TOP),
        State::Max | State::Argmax => (A::BOTTOM, A::TOP),
    };
    let slots = state.slots() as usize;
    map.rows(region, asked, |_, len, o, step, _, _| {
        for k in 0..len {
            let s = &mut out[o + k * step..o + k * step + slots];
            s[0] = A::from_u64(n);
            s[1] = v0;
            if slots > 2 {
                s[2] = e0;
            }
        }
    });
    map.rows(region, asked, |d, len, o, step, index, istep| {
        let row = &xs[d..d + len];
        match state {
            State::Sum | State::Moments => {
                for (k, &x) in row.iter().enumerate() {
                    let v = &mut out[o + k * step + 1];
                    *v = v.add(x.acc());
                }
            }
            State::Prod => {
                for (k, &x) in row.iter().enumerate() {
                    let v = &mut out[o + k * step + 1];
                    *v = v.mul(x.acc());
                }
            }
            State::Count => {
                for (k, &x) in row.iter().enumerate() {
                    if x.nonzero() {
                        let v = &mut out[o + k * step + 1];
                        *v = v.add(A::ONE);
                    }
                }
            }
            State::Min | State::Max => {
                let min = state == State::Min;
                for (k, &x) in row.iter().enumerate() {
                    let v = &mut out[o + k * step + 1];
                    if takes(min, x.acc(), *v) {
                        *v = x.acc();
                    }
                }
            }
            State::Argmin | State::Argmax => {
                let min = state == State::Argmin;
                for (k, &x) in row.iter().enumerate() {
                    let s = &mut out[o + k * step..];
                    // Indices rise along the box, so a tie keeps the earlier one.
                    if s[2] == A::TOP || takes(min, x.acc(), s[1]) {
                        s[1] = x.acc();
                        s[2] = A::from_u64(index + k as u64 * istep);
                    }
                }
            }
        }
    });
    if state == State::Moments {
        // Second pass over the box, now in memory: squared deviations from its own mean
        // (two passes are exact where sum-of-squares cancels).
        map.rows(region, asked, |_, len, o, step, _, _| {
            for k in 0..len {
                let s = &mut out[o + k * step..];
                if s[2] == A::ZERO {
                    s[1] = A::from_f64(s[1].to_f64() / n as f64);
                    s[2] = A::ONE; // marks the mean as taken; reset below
                }
            }
        });
        map.rows(region, asked, |_, len, o, step, _, _| {
            for k in 0..len {
                out[o + k * step + 2] = A::ZERO;
            }
        });
        map.rows(region, asked, |d, len, o, step, _, _| {
            for (k, &x) in xs[d..d + len].iter().enumerate() {
                let s = &mut out[o + k * step..];
                let dev = x.acc().to_f64() - s[1].to_f64();
                s[2] = A::from_f64(s[2].to_f64() + dev * dev);
            }
        });
    }
}

/// Whether `x` replaces the running extreme `v` (NaN wins and then stays, as in NumPy).
#[inline]
fn takes<A: Acc>(min: bool, x: A, v: A) -> bool {
    !v.is_nan() && (x.is_nan() || if min { x < v } else { x > v })
}

/// Merges state `b` into state `a` (slots of one output element). Either may be empty (n = 0).
pub(crate) fn merge<A: Acc>(state: State, a: &mut [A], b: &[A]) {
    if b[0] == A::ZERO {
        return;
    }
    if a[0] == A::ZERO {
        a.copy_from_slice(b);
        return;
    }
    match state {
        State::Sum | State::Count => a[1] = a[1].add(b[1]),
        State::Prod => a[1] = a[1].mul(b[1]),
        State::Min | State::Max => {
            if takes(state == State::Min, b[1], a[1]) {
                a[1] = b[1];
            }
        }
        State::Argmin | State::Argmax => {
            let min = state == State::Argmin;
            let tie = (b[1] == a[1] || (b[1].is_nan() && a[1].is_nan())) && b[2] < a[2];
            if tie || takes(min, b[1], a[1]) {
                a[1] = b[1];
                a[2] = b[2];
            }
        }
        State::Moments => {
            let (na, nb) = (a[0].to_f64(), b[0].to_f64());
            let n = na + nb;
            let delta = b[1].to_f64() - a[1].to_f64();
            a[1] = A::from_f64(a[1].to_f64() + delta * nb / n);
            a[2] = A::from_f64(a[2].to_f64() + b[2].to_f64() + delta * delta * na * nb / n);
        }
    }
    a[0] = a[0].add(b[0]);
}
