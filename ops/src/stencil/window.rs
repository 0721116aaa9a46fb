//! The extended window a stencil task works on: its output region plus a halo on each side of
//! each axis, every position mapped through the boundary mode to the input index it reads (or to
//! the constant). Reads are the distinct input intervals those positions hit, so a wrap-mode task
//! at an edge reads both ends of the axis, not the whole axis between them.

use chunkwise_engine::{dispatch, Buffer, Element, Error, Region, RegionData, Result};

use crate::elementwise::num::CastTo;
use crate::stencil::boundary::BoundaryMode;
use crate::stencil::sample::Sample;

/// Positions read before and after the output range on each axis.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Halo {
    pub before: Vec<usize>,
    pub after: Vec<usize>,
}

/// One axis of the extended window.
#[derive(Debug)]
pub(crate) struct AxisWindow {
    /// The input index each extended position reads; `None` for the constant.
    pub map: Vec<Option<u64>>,
    /// The distinct input intervals `[start, end)` read, sorted and merged.
    pub intervals: Vec<(u64, u64)>,
}

impl AxisWindow {
    fn new(start: u64, len: u64, before: usize, after: usize, n: u64, mode: BoundaryMode) -> Self {
        let first = start as i64 - before as i64;
        let count = len as usize + before + after;
        let map: Vec<Option<u64>> = (0..count as i64)
            .map(|i| mode.map(first + i, n as i64).map(|v| v as u64))
            .collect();
        let mut hit: Vec<u64> = map.iter().flatten().copied().collect();
        hit.sort_unstable();
        hit.dedup();
        let mut intervals: Vec<(u64, u64)> = Vec::new();
        for i in hit {
            match intervals.last_mut() {
                Some((_, end)) if *end == i => *end += 1,
                _ => intervals.push((i, i + 1)),
            }
        }
        AxisWindow { map, intervals }
    }

    /// Which interval holds input index `i`.
    fn interval_of(&self, i: u64) -> usize {
        self.intervals.partition_point(|&(_, end)| end <= i)
    }
}

/// The extended window of `output` for a filter with `halo` over an input of `input_shape`.
pub(crate) fn windows(
    output: &Region,
    halo: &Halo,
    input_shape: &[u64],
    mode: BoundaryMode,
) -> Vec<AxisWindow> {
    (0..output.ndim())
        .map(|d| {
            AxisWindow::new(
                output.start[d],
                output.shape[d],
                halo.before[d],
                halo.after[d],
                input_shape[d],
                mode,
            )
        })
        .collect()
}

/// The input boxes a window reads: the product of each axis's intervals, in C order.
pub(crate) fn pieces(windows: &[AxisWindow]) -> Vec<Region> {
    let counts: Vec<u64> = windows.iter().map(|w| w.intervals.len() as u64).collect();
    let mut out = Vec::new();
    chunkwise_engine::geometry::for_each_index(&vec![0; counts.len()], &counts, |idx| {
        let (start, shape) = idx
            .iter()
            .zip(windows)
            .map(|(&j, w)| {
                let (s, e) = w.intervals[j as usize];
                (s, e - s)
            })
            .unzip();
        out.push(Region::new(start, shape));
    });
    out
}

/// The bounding box of what a window reads.
pub(crate) fn bounding(windows: &[AxisWindow]) -> Region {
    let (start, shape) = windows
        .iter()
        .map(|w| {
            let (s, e) = (w.intervals[0].0, w.intervals[w.intervals.len() - 1].1);
            (s, e - s)
        })
        .unzip();
    Region::new(start, shape)
}

/// A run of `len` consecutive extended positions on the last axis, reading from one interval
/// (interval, first input index, step: -1 inside a reflection), or the constant.
struct Run {
    len: usize,
    read: Option<(usize, u64, i64)>,
}

fn runs(window: &AxisWindow) -> Vec<Run> {
    let mut runs: Vec<Run> = Vec::new();
    for m in &window.map {
        let read = m.map(|i| (window.interval_of(i), i));
        if let Some(last) = runs.last_mut() {
            let extends = match (last.read, read) {
                (None, None) => true,
                (Some((j0, s0, step)), Some((j, i))) if j0 == j => {
                    let next = s0 as i64 + step * last.len as i64;
                    if last.len == 1 && (i as i64 - s0 as i64).abs() == 1 {
                        last.read = Some((j0, s0, i as i64 - s0 as i64));
                        true
                    } else {
                        next == i as i64
                    }
                }
                _ => false,
            };
            if extends {
                last.len += 1;
                continue;
            }
        }
        runs.push(Run {
            len: 1,
            read: read.map(|(j, i)| (j, i, 1)),
        });
    }
    runs
}

/// The extended block: every position of `windows` read from `inputs` (the boxes of
/// [`pieces`], in order, each possibly larger than asked) and cast to `F`; `cval` where the
/// boundary mode gives the constant. Values go through f64 as SciPy converts them.
///
/// # Errors
/// [`Error::Invalid`] when the inputs do not match the pieces (a planner bug).
pub(crate) fn gather<F: Sample>(
    inputs: &[RegionData<'_>],
    windows: &[AxisWindow],
    cval: f64,
) -> Result<Vec<F>> {
    let Some(first) = inputs.first() else {
        return Err(Error::Invalid("internal: stencil without input".into()));
    };
    dispatch!(Buffer, first.data, v => gather_typed(v.as_slice(), inputs, windows, cval))
}

fn gather_typed<T: Element + CastTo<f32> + CastTo<f64>, F: Sample>(
    _witness: &[T],
    inputs: &[RegionData<'_>],
    windows: &[AxisWindow],
    cval: f64,
) -> Result<Vec<F>> {
    gather_as(inputs, windows, F::from_f64(cval), F::from_element::<T>)
}

/// The extended block as [`gather`] makes it, each input element `convert`ed (a user's
/// `map_overlap` keeps the input's own type: `convert` is the identity); `constant` where the
/// boundary mode gives the constant.
///
/// # Errors
/// [`Error::Invalid`] when the inputs do not match the pieces or are not all of type `T` (a
/// planner bug).
pub(crate) fn gather_as<T: Element, F: Copy>(
    inputs: &[RegionData<'_>],
    windows: &[AxisWindow],
    constant: F,
    convert: impl Fn(T) -> F,
) -> Result<Vec<F>> {
    let expected: usize = windows.iter().map(|w| w.intervals.len()).product();
    if inputs.len() != expected || windows.is_empty() {
        return Err(Error::Invalid(format!(
            "internal: stencil got {} input boxes, expected {expected}",
            inputs.len()
        )));
    }
    let slices: Vec<&[T]> = inputs
        .iter()
        .map(|r| {
            T::slice_of(r.data)
                .ok_or_else(|| Error::Invalid("internal: stencil inputs of mixed types".into()))
        })
        .collect::<Result<_>>()?;
    let strides: Vec<Vec<usize>> = inputs
        .iter()
        .map(|r| chunkwise_engine::geometry::strides(&r.region.shape))
        .collect();
    let nd = windows.len();
    let last = &windows[nd - 1];
    let last_runs = runs(last);
    let counts: Vec<usize> = windows.iter().map(|w| w.intervals.len()).collect();
    let row_len = last.map.len();
    let total: usize = windows.iter().map(|w| w.map.len()).product();
    let mut out: Vec<F> = Vec::with_capacity(total);
    let lead_hi: Vec<u64> = windows[..nd - 1]
        .iter()
        .map(|w| w.map.len() as u64)
        .collect();
    chunkwise_engine::geometry::for_each_index(&vec![0; nd - 1], &lead_hi, |lead| {
        // The input index on each leading axis, or the constant for the whole row.
        let mut piece = 0usize;
        let mut reads: Vec<u64> = Vec::with_capacity(nd - 1);
        for (d, &p) in lead.iter().enumerate() {
            match windows[d].map[p as usize] {
                Some(i) => {
                    piece = piece * counts[d] + windows[d].interval_of(i);
                    reads.push(i);
                }
                None => {
                    out.extend(std::iter::repeat_n(constant, row_len));
                    return;
                }
            }
        }
        for run in &last_runs {
            let Some((j, first, step)) = run.read else {
                out.extend(std::iter::repeat_n(constant, run.len));
                continue;
            };
            let p = piece * counts[nd - 1] + j;
            let region = inputs[p].region;
            let base: usize = reads
                .iter()
                .enumerate()
                .map(|(d, &i)| (i - region.start[d]) as usize * strides[p][d])
                .sum::<usize>()
                + (first - region.start[nd - 1]) as usize;
            let src = slices[p];
            if step == 1 {
                out.extend(src[base..base + run.len].iter().map(|&v| convert(v)));
            } else {
                out.extend((0..run.len).map(|t| convert(src[base - t])));
            }
        }
    });
    if out.len() != total {
        return Err(Error::Invalid(format!(
            "internal: stencil gathered {} elements, expected {total}",
            out.len()
        )));
    }
    Ok(out)
}
