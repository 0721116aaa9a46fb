//! The kernels of a partial: folding input elements into a state ([`fold_piece`]) and merging
//! two states ([`merge`]). Every state's slot 0 counts the elements it has seen.

use chunkwise_engine::geometry::{for_each_index, strides};
use chunkwise_engine::Region;

use std::cell::RefCell;

use super::acc::{Acc, Dense, Enters};
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
    /// Calls `f(out_offset)` once per output element that the input box `asked` feeds.
    fn covered(&self, asked: &Region, mut f: impl FnMut(usize)) {
        let nd = asked.ndim();
        let lo: Vec<u64> = (0..nd)
            .map(|a| {
                if self.reduced[a] {
                    asked.start[a] / self.chunks[a]
                } else {
                    asked.start[a]
                }
            })
            .collect();
        let hi: Vec<u64> = (0..nd)
            .map(|a| {
                if self.reduced[a] {
                    lo[a] + 1
                } else {
                    asked.start[a] + asked.shape[a]
                }
            })
            .collect();
        let out_strides = strides(&self.output.shape);
        for_each_index(&lo, &hi, |at| {
            f((0..nd)
                .map(|a| (at[a] - self.output.start[a]) as usize * out_strides[a])
                .sum());
        });
    }

    /// Calls `f(data_offset, row_len, out_offset, out_step, index, index_step)` per row of
    /// `asked` (C order, inside the data's `region`).
    ///
    /// With `merge`, trailing reduced axes whose rows lie end to end in the data are one row:
    /// a full reduction of a 128^3 chunk is then one call over 2 Mi elements instead of 16 Ki
    /// calls of 128 (the per-row index arithmetic was a tenth of a sum's time). Merged rows
    /// feed one state, but their flat `index` does not step by `index_step` across a row's end,
    /// so callers that use the index (argmin/argmax) pass `merge: false`.
    fn rows(
        &self,
        region: &Region,
        asked: &Region,
        merge: bool,
        mut f: impl FnMut(usize, usize, usize, usize, u64, u64),
    ) {
        let nd = asked.ndim();
        // The first axis of the merged row: axes after it are reduced and whole in the data.
        let mut first = nd.saturating_sub(1);
        if merge {
            while first > 0
                && self.reduced[first - 1]
                && self.reduced[first]
                && asked.shape[first] == region.shape[first]
            {
                first -= 1;
            }
        }
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
                asked.shape[first..].iter().product::<u64>() as usize,
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
        for a in first..nd {
            hi[a] = lo[a] + 1;
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
#[allow(clippy::too_many_arguments)]
pub(crate) fn fold_piece<T: Enters<A> + Dense + PartialOrd, A: Acc>(
    state: State,
    skip_nan: bool,
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
        State::Min | State::Argmin => (A::TOP, A::TOP),
        State::Max | State::Argmax => (A::BOTTOM, A::TOP),
        State::Summary => (A::TOP, A::BOTTOM),
        State::Prod => (A::ONE, A::ZERO),
        _ => (A::ZERO, A::ZERO),
    };
    let slots = state.slots() as usize;
    // Each output element the box covers starts from its identity, set once.
    map.covered(asked, |o| {
        let s = &mut out[o..o + slots];
        s.fill(A::ZERO);
        // A `nan*` reduction counts its non-NaN elements below.
        s[0] = if skip_nan { A::ZERO } else { A::from_u64(n) };
        s[1] = v0;
        if slots > 2 {
            s[2] = e0;
        }
        if let State::Collect { .. } = state {
            s[2] = A::TOP;
            s[3] = A::BOTTOM;
        }
    });
    let bins = Bins::new(state);
    if matches!(state, State::Histogram { .. })
        && T::VALUES > 0
        && map.reduced.iter().all(|&r| r)
        && n <= u64::from(u32::MAX)
    {
        // A full reduction: the box feeds one state.
        let mut only = 0;
        map.covered(asked, |o| only = o);
        dense_histogram(
            &bins,
            map,
            region,
            asked,
            xs,
            &mut out[only + 1..only + slots],
        );
        return;
    }
    if skip_nan {
        map.rows(region, asked, true, |d, len, o, step, _, _| {
            for (k, &x) in xs[d..d + len].iter().enumerate() {
                if !x.acc().is_nan() {
                    out[o + k * step] = out[o + k * step].add(A::ONE);
                }
            }
        });
    }
    let by_index = matches!(state, State::Argmin | State::Argmax);
    map.rows(region, asked, !by_index, |d, len, o, step, index, istep| {
        let row = &xs[d..d + len];
        // A row along a reduced last axis feeds one state: fold it in registers.
        if step == 0 && fold_row_into_one(state, skip_nan, row, &mut out[o..o + slots]) {
            return;
        }
        match state {
            // Here each element has its own state, `step` apart (a zero step was folded
            // above): one pass without index arithmetic or bounds checks per element.
            State::Sum | State::Moments => {
                for (v, &x) in out[o + 1..].iter_mut().step_by(step).zip(row) {
                    let x = x.acc();
                    if !(skip_nan && x.is_nan()) {
                        *v = v.add(x);
                    }
                }
            }
            State::Summary => {
                for (k, &x) in row.iter().enumerate() {
                    let s = &mut out[o + k * step..];
                    let x = x.acc();
                    if takes(true, x, s[1]) {
                        s[1] = x;
                    }
                    if takes(false, x, s[2]) {
                        s[2] = x;
                    }
                    s[3] = s[3].add(x);
                }
            }
            State::Prod => {
                for (k, &x) in row.iter().enumerate() {
                    if skip_nan && x.acc().is_nan() {
                        continue;
                    }
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
                let slots = out[o + 1..].iter_mut().step_by(step).zip(row);
                // Without NaN a state only ever holds values of the type: plain comparisons
                // (a maximum-intensity projection is this loop).
                match (T::HAS_NAN, state == State::Min) {
                    (false, true) => slots.for_each(|(v, &x)| *v = least(*v, x.acc())),
                    (false, false) => slots.for_each(|(v, &x)| *v = greatest(*v, x.acc())),
                    (true, min) => {
                        for (v, &x) in slots {
                            let x = x.acc();
                            if !(skip_nan && x.is_nan()) && takes(min, x, *v) {
                                *v = x;
                            }
                        }
                    }
                }
            }
            State::Histogram { .. } => {
                for (k, &x) in row.iter().enumerate() {
                    if let Some(b) = bins.of(x.acc().to_f64()) {
                        let v = &mut out[o + k * step + 1 + b];
                        *v = v.add(A::ONE);
                    }
                }
            }
            State::Collect { lo, hi, cap } => {
                for (k, &x) in row.iter().enumerate() {
                    let x = x.acc();
                    if x.to_f64() >= lo && x.to_f64() <= hi {
                        collect(&mut out[o + k * step..o + k * step + slots], x, cap);
                    }
                }
            }
            State::Argmin | State::Argmax => {
                let min = state == State::Argmin;
                for (k, &x) in row.iter().enumerate() {
                    if skip_nan && x.acc().is_nan() {
                        continue;
                    }
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
    if let Some(m) = state.moments() {
        // Second pass over the box, now in memory: squared deviations from its own mean
        // (two passes are exact where a sum of squares cancels).
        map.covered(asked, |o| {
            out[o + m] = A::from_f64(out[o + m].to_f64() / out[o].to_f64())
        });
        let square = |x: T, mean: f64| {
            entering(x, skip_nan).map(|v: A| {
                let dev = v.to_f64() - mean;
                A::from_f64(dev * dev)
            })
        };
        map.rows(region, asked, true, |d, len, o, step, _, _| {
            let row = &xs[d..d + len];
            if step == 0 {
                let mean = out[o + m].to_f64();
                out[o + m + 1] = sum_row(out[o + m + 1], row, |x| square(x, mean));
                return;
            }
            for (k, &x) in row.iter().enumerate() {
                let s = &mut out[o + k * step..];
                if let Some(sq) = square(x, s[m].to_f64()) {
                    s[m + 1] = s[m + 1].add(sq);
                }
            }
        });
    }
}

thread_local! {
    /// Each worker's per-value count table for [`dense_histogram`], all zeros between calls
    /// (reused: a fresh 256 KiB table per chunk would cost page faults and zeroing).
    static VALUE_COUNTS: RefCell<Vec<u32>> = const { RefCell::new(Vec::new()) };
}

/// Adds the elements of `asked` to the histogram `counts` by counting each value once into a
/// per-value table and binning the table's non-zero entries: the same bins as [`Bins::of`] on
/// every element, for a fraction of the work. The box holds fewer than 2^32 elements.
fn dense_histogram<T: Dense, A: Acc>(
    bins: &Bins,
    map: &Mapping<'_>,
    region: &Region,
    asked: &Region,
    xs: &[T],
    counts: &mut [A],
) {
    VALUE_COUNTS.with(|cell| {
        let mut cell = cell.borrow_mut();
        if cell.len() < T::VALUES {
            cell.resize(T::VALUES, 0);
        }
        let table = &mut cell[..T::VALUES];
        map.rows(region, asked, true, |d, len, _, _, _, _| {
            for &x in &xs[d..d + len] {
                table[x.position()] += 1;
            }
        });
        for (position, count) in table.iter_mut().enumerate() {
            if *count != 0 {
                if let Some(b) = bins.of(T::value_at(position)) {
                    counts[b] = counts[b].add(A::from_u64(u64::from(*count)));
                }
                *count = 0;
            }
        }
    });
}

/// Lanes of [`sum_row`]: enough independent sums for the compiler to vectorize the loop.
const LANES: usize = 8;

/// `acc` plus `term(x)` of the elements of `row` (skipped where it is `None`), summed in
/// [`LANES`] interleaved lanes combined in a fixed order, so the result depends only on the
/// row, not on threads or task order (integers wrap, so their sum is exact whatever the order).
#[inline]
fn sum_row<T: Copy, A: Acc>(acc: A, row: &[T], term: impl Fn(T) -> Option<A>) -> A {
    let mut lanes = [A::ZERO; LANES];
    let mut blocks = row.chunks_exact(LANES);
    for block in &mut blocks {
        for (lane, &x) in lanes.iter_mut().zip(block) {
            if let Some(t) = term(x) {
                *lane = lane.add(t);
            }
        }
    }
    let mut tail = A::ZERO;
    for &x in blocks.remainder() {
        if let Some(t) = term(x) {
            tail = tail.add(t);
        }
    }
    let pairs = [
        lanes[0].add(lanes[4]),
        lanes[1].add(lanes[5]),
        lanes[2].add(lanes[6]),
        lanes[3].add(lanes[7]),
    ];
    acc.add(pairs[0].add(pairs[2]).add(pairs[1].add(pairs[3])).add(tail))
}

/// The element as it enters a sum: `None` for a NaN skipped by a `nan*` reduction.
#[inline]
fn entering<T: Enters<A>, A: Acc>(x: T, skip_nan: bool) -> Option<A> {
    let x = x.acc();
    (!(skip_nan && x.is_nan())).then_some(x)
}

/// Folds a whole `row` into one state `s` where the state allows it without a per-element
/// store (sums, extremes, counts); false for the states the general loop handles.
#[inline]
fn fold_row_into_one<T: Enters<A> + Copy + PartialOrd, A: Acc>(
    state: State,
    skip_nan: bool,
    row: &[T],
    s: &mut [A],
) -> bool {
    match state {
        State::Sum | State::Moments => s[1] = sum_row(s[1], row, |x| entering(x, skip_nan)),
        State::Min | State::Max => {
            let min = state == State::Min;
            let v = s[1];
            s[1] = match (T::HAS_NAN, min) {
                (false, true) => least(v, extreme_row(row, least).map_or(v, T::acc)),
                (false, false) => greatest(v, extreme_row(row, greatest).map_or(v, T::acc)),
                (true, _) => row.iter().fold(v, |v, &x| {
                    let x = x.acc();
                    if !(skip_nan && x.is_nan()) && takes(min, x, v) {
                        x
                    } else {
                        v
                    }
                }),
            };
        }
        State::Count => {
            let n = row.iter().filter(|x| x.nonzero()).count();
            s[1] = s[1].add(A::from_u64(n as u64));
        }
        _ => return false,
    }
    true
}

/// The elements of `row` reduced by `pick` (an exact, order-free extreme of values that are
/// not NaN; `None` for an empty row), in the row's own type and [`LANES`] independent lanes,
/// so the loop vectorizes to that type's min/max instructions: 16 uint16 lanes per AVX2
/// instruction, where the accumulator's type (u64) has no min instruction at all. The
/// conversion to the accumulator keeps order, so its extreme is the converted one.
#[inline]
fn extreme_row<T: Copy>(row: &[T], pick: impl Fn(T, T) -> T) -> Option<T> {
    let (&first, _) = row.split_first()?;
    let mut lanes = [first; LANES];
    let mut blocks = row.chunks_exact(LANES);
    for block in &mut blocks {
        for (lane, &x) in lanes.iter_mut().zip(block) {
            *lane = pick(*lane, x);
        }
    }
    let tail = blocks.remainder().iter().fold(first, |m, &x| pick(m, x));
    Some(lanes.into_iter().fold(tail, &pick))
}

/// The lesser of two values that are not NaN.
#[inline]
fn least<V: PartialOrd>(v: V, x: V) -> V {
    if x < v {
        x
    } else {
        v
    }
}

/// The greater of two values that are not NaN.
#[inline]
fn greatest<V: PartialOrd>(v: V, x: V) -> V {
    if x > v {
        x
    } else {
        v
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
        State::Histogram { .. } => {
            for (a, b) in a[1..].iter_mut().zip(&b[1..]) {
                *a = a.add(*b);
            }
        }
        State::Collect { cap, .. } => {
            let kept = b[1].to_u64().min(u64::from(cap)) as usize;
            let before = a[1];
            for &x in &b[4..4 + kept] {
                collect(a, x, cap);
            }
            // Values beyond b's cap were counted but not kept; count them too.
            a[1] = before.add(b[1]);
            if b[2] < a[2] {
                a[2] = b[2];
            }
            if b[3] > a[3] {
                a[3] = b[3];
            }
        }
        State::Moments => merge_moments(&mut a[..3], &b[..3]),
        State::Summary => {
            if takes(true, b[1], a[1]) {
                a[1] = b[1];
            }
            if takes(false, b[2], a[2]) {
                a[2] = b[2];
            }
            let mut m = [a[0], a[3], a[4]];
            merge_moments(&mut m, &[b[0], b[3], b[4]]);
            a[3] = m[1];
            a[4] = m[2];
        }
    }
    a[0] = a[0].add(b[0]);
}

/// Chan et al.'s merge of `[n, mean, M2]` states.
fn merge_moments<A: Acc>(a: &mut [A], b: &[A]) {
    let (na, nb) = (a[0].to_f64(), b[0].to_f64());
    let n = na + nb;
    let delta = b[1].to_f64() - a[1].to_f64();
    a[1] = A::from_f64(a[1].to_f64() + delta * nb / n);
    a[2] = A::from_f64(a[2].to_f64() + b[2].to_f64() + delta * delta * na * nb / n);
}

/// Adds `x` to a collect state `s` (`[n, count, min, max, values...]`).
fn collect<A: Acc>(s: &mut [A], x: A, cap: u32) {
    let count = s[1].to_u64();
    if count < u64::from(cap) {
        s[4 + count as usize] = x;
    }
    s[1] = s[1].add(A::ONE);
    if x < s[2] {
        s[2] = x;
    }
    if x > s[3] {
        s[3] = x;
    }
}

/// A histogram's bin edges, as NumPy's `np.histogram` computes them: `linspace(lo, hi,
/// bins + 1)` in float64, rounded to float32 for float32 data, and each value's bin found by
/// estimate and correction against those edges (last bin closed).
pub(crate) struct Bins {
    pub(crate) edges: Vec<f64>,
    norm: f64,
}

impl Bins {
    pub(crate) fn new(state: State) -> Bins {
        let State::Histogram {
            bins,
            lo,
            hi,
            f32_edges,
        } = state
        else {
            return Bins {
                edges: Vec::new(),
                norm: 0.0,
            };
        };
        let step = (hi - lo) / f64::from(bins);
        let edges = (0..=bins)
            .map(|i| {
                if i == bins {
                    hi
                } else {
                    f64::from(i) * step + lo
                }
            })
            .map(|e| if f32_edges { f64::from(e as f32) } else { e })
            .collect();
        Bins {
            edges,
            norm: f64::from(bins) / (hi - lo),
        }
    }

    /// The bin of `x`, if it is inside the edges.
    #[inline]
    pub(crate) fn of(&self, x: f64) -> Option<usize> {
        let bins = self.edges.len() - 1;
        let (first, last) = (self.edges[0], self.edges[bins]);
        if !(x >= first && x <= last) {
            return None;
        }
        let mut i = (((x - first) * self.norm) as usize).min(bins - 1);
        if x < self.edges[i] {
            i = i.saturating_sub(1);
        } else if i + 1 < bins && x >= self.edges[i + 1] {
            i += 1;
        }
        Some(i)
    }
}
