//! The array API's manipulation functions that move, add, drop or repeat axes and elements,
//! each a [`Remap`] (NumPy's semantics and, where NumPy refuses, its messages): `flip`, `roll`,
//! `permute_dims`, `moveaxis`, `expand_dims`, `squeeze`, `repeat`, `tile`.

use chunkwise_engine::{Array, Error, Result};

use super::axes::{normalize_axes, normalize_axis};
use super::remap::{IndexMap, InputAxis, Remap};
use super::reshape::reshape;

/// Reads an input axis as it is along output axis `axis`.
const fn same(axis: usize) -> InputAxis {
    InputAxis::Follows {
        axis,
        map: IndexMap::Strided { start: 0, step: 1 },
    }
}

/// A [`Remap`] of `x` keeping its shape, chunks and axis order, input axis `d` read through
/// `maps[d]`.
fn remap_each(x: &Array, name: &'static str, params: String, maps: Vec<IndexMap>) -> Result<Array> {
    Remap {
        name,
        params,
        axes: maps
            .into_iter()
            .enumerate()
            .map(|(axis, map)| InputAxis::Follows { axis, map })
            .collect(),
        shape: x.shape().to_vec(),
        chunks: x.meta().chunks.clone(),
        dtype: x.dtype(),
        fill: None,
    }
    .apply(x)
}

/// An optional axis list as NumPy prints its argument: `None` or `[0, 2]`.
fn axes_text(axis: Option<&[i64]>) -> String {
    axis.map_or_else(|| "None".to_string(), |a| format!("{a:?}"))
}

/// The identity map of an axis.
const IDENTITY: IndexMap = IndexMap::Strided { start: 0, step: 1 };

/// `np.flip(x, axis)`: reversed along `axis` (every axis when `None`).
///
/// # Errors
/// [`Error::Invalid`] for an axis out of range or given twice.
pub fn flip(x: &Array, axis: Option<&[i64]>) -> Result<Array> {
    let ndim = x.shape().len();
    let axes = match axis {
        Some(a) => normalize_axes(a, ndim)?,
        None => (0..ndim).collect(),
    };
    let maps = x
        .shape()
        .iter()
        .enumerate()
        .map(|(d, &n)| match axes.contains(&d) {
            true => IndexMap::Strided {
                start: n.saturating_sub(1),
                step: -1,
            },
            false => IDENTITY,
        })
        .collect();
    remap_each(x, "flip", format!("axis={}", axes_text(axis)), maps)
}

/// `np.roll(x, shift, axis)`: elements shifted along each axis of `axis`, those pushed off one
/// end coming back at the other. A single shift or axis applies to each of the others; shifts of
/// one axis add up. Without an axis, as NumPy does, the flattened array (C order) is rolled
/// and reshaped back ([`flattened`]).
///
/// # Errors
/// [`Error::Invalid`] for an axis out of range, and shift and axis lists of different lengths.
pub fn roll(x: &Array, shift: &[i64], axis: Option<&[i64]>) -> Result<Array> {
    let ndim = x.shape().len();
    let axes: Vec<i64> = match axis {
        Some(a) => a.to_vec(),
        None if ndim == 1 => vec![0],
        None => {
            let rolled = roll(&flattened(x)?, shift, Some(&[0]))?;
            let shape = x
                .shape()
                .iter()
                .map(|&n| i64::try_from(n).map_err(|_| too_large(n)))
                .collect::<Result<Vec<i64>>>()?;
            return reshape(&rolled, &shape);
        }
    };
    let pairs: Vec<(i64, i64)> = match (shift.len(), axes.len()) {
        (a, b) if a == b => shift.iter().copied().zip(axes.iter().copied()).collect(),
        (1, _) => axes.iter().map(|&a| (shift[0], a)).collect(),
        (_, 1) => shift.iter().map(|&s| (s, axes[0])).collect(),
        (a, b) => {
            return Err(Error::Invalid(format!(
            "roll: shape mismatch: {a} shifts for {b} axes (give as many shifts as axes, or one)"
        )))
        }
    };
    let mut total = vec![0i128; ndim];
    for (s, a) in pairs {
        total[normalize_axis(a, ndim)?] += i128::from(s);
    }
    let maps = x
        .shape()
        .iter()
        .zip(&total)
        .map(|(&n, &s)| match n {
            0 => IDENTITY,
            n => IndexMap::Cyclic {
                offset: (-s).rem_euclid(i128::from(n)) as u64,
                len: n,
            },
        })
        .collect();
    remap_each(
        x,
        "roll",
        format!("shift={shift:?}, axis={}", axes_text(axis)),
        maps,
    )
}

/// The output of a pure axis reordering: input axis `order[k]` becomes output axis `k`.
fn reorder(x: &Array, name: &'static str, params: String, order: &[usize]) -> Result<Array> {
    let mut axes = vec![same(0); order.len()];
    for (k, &d) in order.iter().enumerate() {
        axes[d] = same(k);
    }
    Remap {
        name,
        params,
        axes,
        shape: order.iter().map(|&d| x.shape()[d]).collect(),
        chunks: order.iter().map(|&d| x.meta().chunks[d]).collect(),
        dtype: x.dtype(),
        fill: None,
    }
    .apply(x)
}

/// `permute_dims(x, axes)` (`np.transpose(x, axes)`): output axis `k` is input axis `axes[k]`.
///
/// # Errors
/// [`Error::Invalid`] when `axes` is not a permutation of the array's axes.
pub fn permute_dims(x: &Array, axes: &[i64]) -> Result<Array> {
    let ndim = x.shape().len();
    if axes.len() != ndim {
        return Err(Error::Invalid(format!(
            "axes don't match array: {axes:?} for an array of dimension {ndim} (give each axis once)"
        )));
    }
    let order = normalize_axes(axes, ndim)?;
    reorder(x, "permute_dims", format!("axes={axes:?}"), &order)
}

/// `np.moveaxis(x, source, destination)`: axes `source` moved to positions `destination`, the
/// others keeping their order.
///
/// # Errors
/// [`Error::Invalid`] for axes out of range or repeated, and lists of different lengths.
pub fn moveaxis(x: &Array, source: &[i64], destination: &[i64]) -> Result<Array> {
    let ndim = x.shape().len();
    let src = normalize_axes(source, ndim)?;
    let dst = normalize_axes(destination, ndim)?;
    if src.len() != dst.len() {
        return Err(Error::Invalid(
            "`source` and `destination` arguments must have the same number of elements".into(),
        ));
    }
    let mut order: Vec<usize> = (0..ndim).filter(|d| !src.contains(d)).collect();
    let mut moves: Vec<(usize, usize)> = dst.into_iter().zip(src).collect();
    moves.sort_unstable();
    for (to, from) in moves {
        order.insert(to, from);
    }
    reorder(
        x,
        "moveaxis",
        format!("source={source:?}, destination={destination:?}"),
        &order,
    )
}

/// `np.expand_dims(x, axis)`: new axes of extent 1 at positions `axis` of the result.
///
/// # Errors
/// [`Error::Invalid`] for positions out of range for the result or repeated.
pub fn expand_dims(x: &Array, axis: &[i64]) -> Result<Array> {
    let out_ndim = x.shape().len() + axis.len();
    let new = normalize_axes(axis, out_ndim)?;
    let kept: Vec<usize> = (0..out_ndim).filter(|k| !new.contains(k)).collect();
    let mut shape = vec![1; out_ndim];
    let mut chunks = vec![1; out_ndim];
    for (d, &k) in kept.iter().enumerate() {
        shape[k] = x.shape()[d];
        chunks[k] = x.meta().chunks[d];
    }
    Remap {
        name: "expand_dims",
        params: format!("axis={axis:?}"),
        axes: kept.into_iter().map(same).collect(),
        shape,
        chunks,
        dtype: x.dtype(),
        fill: None,
    }
    .apply(x)
}

/// `np.squeeze(x, axis)`: axes of extent 1 dropped (every such axis when `None`).
///
/// # Errors
/// [`Error::Invalid`] for an axis out of range or whose extent is not 1 (NumPy's message).
pub fn squeeze(x: &Array, axis: Option<&[i64]>) -> Result<Array> {
    let shape = x.shape();
    let dropped = match axis {
        Some(a) => {
            let d = normalize_axes(a, shape.len())?;
            if let Some(&bad) = d.iter().find(|&&d| shape[d] != 1) {
                return Err(Error::Invalid(format!(
                    "cannot select an axis to squeeze out which has size not equal to one \
                     (axis {bad} has size {})",
                    shape[bad]
                )));
            }
            d
        }
        None => (0..shape.len()).filter(|&d| shape[d] == 1).collect(),
    };
    let mut k = 0;
    let axes = (0..shape.len())
        .map(|d| {
            if dropped.contains(&d) {
                InputAxis::Pinned { index: 0 }
            } else {
                k += 1;
                same(k - 1)
            }
        })
        .collect();
    let kept = |v: &[u64]| -> Vec<u64> {
        (0..v.len())
            .filter(|d| !dropped.contains(d))
            .map(|d| v[d])
            .collect()
    };
    Remap {
        name: "squeeze",
        params: format!("axis={}", axes_text(axis)),
        axes,
        shape: kept(shape),
        chunks: kept(&x.meta().chunks),
        dtype: x.dtype(),
        fill: None,
    }
    .apply(x)
}

/// `x` as one axis, in C order: what NumPy's `roll` and `repeat` act on without an axis. It
/// merges every axis into one, which [`reshape`] maps to regions (an output chunk reads a few
/// boxes of the input), so the tasks stay as small as the chunks.
///
/// # Errors
/// [`Error::Invalid`] from [`reshape`] (not expected: merging all axes is always a region
/// mapping).
fn flattened(x: &Array) -> Result<Array> {
    reshape(x, &[-1])
}

/// An extent beyond what a reshape's `i64` shape can name.
fn too_large(n: u64) -> Error {
    Error::Invalid(format!("an axis of {n} elements is too long to reshape"))
}

/// A count NumPy takes as a dimension: not negative.
fn count(v: i64) -> Result<u64> {
    u64::try_from(v)
        .map_err(|_| Error::Invalid(format!("negative dimensions are not allowed ({v})")))
}

/// `np.repeat(x, repeats, axis)`: each element repeated `repeats` times along `axis`. Without
/// an axis, as NumPy does, the flattened array (C order, [`flattened`]) is repeated: the result
/// is 1-d.
///
/// # Errors
/// [`Error::Invalid`] for a negative count or an axis out of range.
pub fn repeat(x: &Array, repeats: i64, axis: Option<i64>) -> Result<Array> {
    let ndim = x.shape().len();
    let r = count(repeats)?;
    let axis_d = match axis {
        Some(a) => normalize_axis(a, ndim)?,
        None if ndim == 1 => 0,
        None => return repeat(&flattened(x)?, repeats, Some(0)),
    };
    let mut shape = x.shape().to_vec();
    shape[axis_d] = shape[axis_d]
        .checked_mul(r)
        .ok_or_else(|| Error::Invalid(format!("repeat: {repeats} repeats overflow the axis")))?;
    let mut chunks = x.meta().chunks.clone();
    chunks[axis_d] = chunks[axis_d].min(shape[axis_d]).max(1);
    let axes = (0..ndim)
        .map(|d| match d == axis_d {
            true => InputAxis::Follows {
                axis: d,
                map: IndexMap::Repeat { repeats: r },
            },
            false => same(d),
        })
        .collect();
    Remap {
        name: "repeat",
        params: format!(
            "repeats={repeats}, axis={}",
            axis.map_or_else(|| "None".to_string(), |a| a.to_string())
        ),
        axes,
        shape,
        chunks,
        dtype: x.dtype(),
        fill: None,
    }
    .apply(x)
}

/// `np.tile(x, reps)`: `x` repeated `reps[k]` times along each axis; with more reps than axes
/// the array gains leading axes, with fewer the leading axes repeat once.
///
/// # Errors
/// [`Error::Invalid`] for a negative count.
pub fn tile(x: &Array, reps: &[i64]) -> Result<Array> {
    let ndim = x.shape().len();
    let out_ndim = ndim.max(reps.len());
    let mut counts = vec![1u64; out_ndim];
    for (c, &r) in counts[out_ndim - reps.len()..].iter_mut().zip(reps) {
        *c = count(r)?;
    }
    let lead = out_ndim - ndim;
    let mut shape = counts.clone();
    let mut chunks = vec![1u64; out_ndim];
    let mut axes = Vec::with_capacity(ndim);
    for (d, (&n, &c)) in x.shape().iter().zip(&x.meta().chunks).enumerate() {
        let k = lead + d;
        shape[k] = n
            .checked_mul(counts[k])
            .ok_or_else(|| Error::Invalid(format!("tile: {reps:?} overflows axis {d}")))?;
        chunks[k] = c;
        axes.push(InputAxis::Follows {
            axis: k,
            map: IndexMap::Cyclic { offset: 0, len: n },
        });
    }
    Remap {
        name: "tile",
        params: format!("reps={reps:?}"),
        axes,
        shape,
        chunks,
        dtype: x.dtype(),
        fill: None,
    }
    .apply(x)
}

/// Elements a chunk of a [`broadcast_to`] result aims for along its stretched axes, at least.
const BROADCAST_CHUNK_ELEMENTS: u64 = 1 << 20;

/// `np.broadcast_to(x, shape)`: `x` stretched by NumPy's broadcasting rules without being
/// copied (each task reads the block it repeats). Axes `x` spans keep its chunks; stretched and
/// new axes get chunks that bring a chunk to about a million elements or `x`'s chunk size.
///
/// # Errors
/// [`Error::Invalid`] when `x` does not broadcast to `shape`.
pub fn broadcast_to(x: &Array, shape: &[u64]) -> Result<Array> {
    let mismatch = || {
        Error::Invalid(format!(
            "operands could not be broadcast together: an array of shape {:?} does not \
             broadcast to {shape:?}",
            x.shape()
        ))
    };
    let lead = shape
        .len()
        .checked_sub(x.shape().len())
        .ok_or_else(mismatch)?;
    if crate::elementwise::broadcast_shape("broadcast_to", &[x.shape(), shape])
        .ok()
        .as_deref()
        != Some(shape)
    {
        return Err(mismatch());
    }
    let spans = |k: usize| k >= lead && x.shape()[k - lead] == shape[k];
    let mut budget = BROADCAST_CHUNK_ELEMENTS.max(x.meta().chunks.iter().product());
    let mut chunks = vec![1u64; shape.len()];
    for (k, c) in chunks.iter_mut().enumerate() {
        if spans(k) {
            *c = x.meta().chunks[k - lead];
            budget = (budget / *c).max(1);
        }
    }
    for k in (0..shape.len()).rev().filter(|&k| !spans(k)) {
        chunks[k] = budget.min(shape[k]).max(1);
        budget = (budget / chunks[k]).max(1);
    }
    let op = crate::elementwise::BroadcastTo {
        shape: shape.to_vec(),
        chunks,
    };
    Array::apply(std::sync::Arc::new(op), vec![x.clone()])
}
