//! Basic slicing (`x[100:900, :, ::-2]`, `x[..., 3]`, `x[None]`) as a [`Remap`].

use chunkwise_engine::{Array, Error, Result};

use super::index::{index_text, parse_index, resolve, AxisSelect, IndexItem};
use super::remap::{IndexMap, InputAxis, Remap};

/// `x[index]` with `index` in NumPy's syntax (`"100:900, :, ::-2"`): start/stop/negative steps,
/// integers that drop their axis, `...` and `None`. Output chunks keep about one input chunk's
/// span per task (`ceil(chunk / |step|)` along a strided axis, 1 along a new one).
///
/// # Errors
/// [`Error::Invalid`] for text that does not parse (naming the column) and for indices NumPy
/// refuses (out of bounds, too many, zero step), in NumPy's words.
pub fn slice(x: &Array, index: &str) -> Result<Array> {
    slice_items(x, &parse_index(index)?)
}

/// `x[items]`: [`slice`] with the index already parsed.
///
/// # Errors
/// See [`slice`].
pub fn slice_items(x: &Array, items: &[IndexItem]) -> Result<Array> {
    let resolved = resolve(items, x.shape())?;
    let meta = x.meta();
    let mut axes: Vec<InputAxis> = resolved
        .axes
        .iter()
        .map(|a| match *a {
            AxisSelect::At(index) => InputAxis::Pinned { index },
            // Placeholder output axis, set below from the output order.
            AxisSelect::Range { start, step, .. } => InputAxis::Follows {
                axis: 0,
                map: IndexMap::Strided { start, step },
            },
        })
        .collect();
    let mut shape = Vec::with_capacity(resolved.output.len());
    let mut chunks = Vec::with_capacity(resolved.output.len());
    for (k, from) in resolved.output.iter().enumerate() {
        match *from {
            None => {
                shape.push(1);
                chunks.push(1);
            }
            Some(d) => {
                let AxisSelect::Range { step, len, .. } = resolved.axes[d] else {
                    return Err(Error::Invalid("internal: slice kept a pinned axis".into()));
                };
                if let InputAxis::Follows { axis, .. } = &mut axes[d] {
                    *axis = k;
                }
                shape.push(len);
                chunks.push(meta.chunks[d].div_ceil(step.unsigned_abs()).min(len).max(1));
            }
        }
    }
    Remap {
        name: "slice",
        params: format!("index=\"{}\"", index_text(items)),
        axes,
        shape,
        chunks,
        dtype: x.dtype(),
        fill: None,
    }
    .apply(x)
}

/// `x` at `index` along `axis` (the axis dropped): `x[..., index, ...]`, a z slice of a volume.
///
/// # Errors
/// [`Error::Invalid`] for an axis out of range or an index outside the axis.
pub fn take(x: &Array, axis: usize, index: u64) -> Result<Array> {
    let ndim = x.shape().len();
    if axis >= ndim {
        return Err(Error::Invalid(format!(
            "axis {axis} is out of bounds for array of dimension {ndim}"
        )));
    }
    let n = x.shape()[axis];
    let Some(index) = i64::try_from(index).ok().filter(|_| index < n) else {
        return Err(Error::Invalid(format!(
            "index {index} is outside axis {axis} of extent {n}"
        )));
    };
    let mut items = vec![IndexItem::ALL; ndim];
    items[axis] = IndexItem::Int(index);
    slice_items(x, &items)
}
