//! NumPy's broadcasting for the multi-input element-wise functions: shapes aligned from the
//! right, size-1 axes stretched. The stretched operand is never materialized: [`BroadcastTo`] is
//! a region op whose chunk mapping sends an output region to the block of the input it repeats
//! (index 0 on a stretched axis, nothing on a new leading one), so a task reads only that block —
//! a per-slice mean of shape (z, 1, 1) against a (z, y, x) volume reads z values per task — and
//! fans it out into the task's own region, where the element-wise consumer fuses with it.

use std::sync::Arc;

use chunkwise_engine::{
    dispatch, Array, ArrayMeta, Buffer, Element, Error, Op, OpKind, Region, RegionData, Result,
};
use serde::Serialize;

/// `np.broadcast_to(x, shape)` (read-only, as NumPy's view), chunked as `chunks`.
#[derive(Debug, Clone, Serialize)]
pub struct BroadcastTo {
    /// The output shape.
    pub shape: Vec<u64>,
    /// The output chunk shape (the other operand's along the axes it gives).
    pub chunks: Vec<u64>,
}

/// The shape NumPy broadcasts `shapes` to.
///
/// # Errors
/// [`Error::Invalid`] naming the first axis (counted from the right, as NumPy aligns) whose sizes
/// differ and are not 1.
pub fn broadcast_shape(name: &str, shapes: &[&[u64]]) -> Result<Vec<u64>> {
    let ndim = shapes.iter().map(|s| s.len()).max().unwrap_or(0);
    let mut out = vec![1u64; ndim];
    for (k, o) in out.iter_mut().enumerate() {
        let from_right = ndim - k;
        for s in shapes {
            let Some(&n) = s.len().checked_sub(from_right).map(|i| &s[i]) else {
                continue;
            };
            if n != 1 && *o != 1 && n != *o {
                return Err(Error::Invalid(format!(
                    "shape mismatch in {name}: shapes {} do not broadcast: axis -{from_right} has sizes {o} and \
                     {n} (NumPy's rule: aligned from the right, equal or 1)",
                    shapes
                        .iter()
                        .map(|s| format!("{s:?}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                )));
            }
            if n != 1 {
                *o = n;
            }
        }
    }
    Ok(out)
}

/// `arrays` broadcast against each other: each array whose shape differs from the common one is
/// wrapped in [`BroadcastTo`], chunked along each axis like the first array that spans it.
///
/// # Errors
/// See [`broadcast_shape`].
pub fn broadcast_arrays(name: &str, arrays: &[Array]) -> Result<Vec<Array>> {
    let shapes: Vec<&[u64]> = arrays.iter().map(Array::shape).collect();
    let shape = broadcast_shape(name, &shapes)?;
    if arrays.iter().all(|a| a.shape() == shape.as_slice()) {
        return Ok(arrays.to_vec());
    }
    let ndim = shape.len();
    let chunks: Vec<u64> = (0..ndim)
        .map(|k| {
            arrays
                .iter()
                .find_map(|a| {
                    let i = a.shape().len().checked_sub(ndim - k)?;
                    (a.shape()[i] == shape[k]).then(|| a.meta().chunks[i])
                })
                .unwrap_or(shape[k])
                .max(1)
        })
        .collect();
    arrays
        .iter()
        .map(|a| {
            if a.shape() == shape.as_slice() {
                return Ok(a.clone());
            }
            let op = BroadcastTo {
                shape: shape.clone(),
                chunks: chunks.clone(),
            };
            Array::apply(Arc::new(op), vec![a.clone()])
        })
        .collect()
}

impl BroadcastTo {
    /// For each input axis: the output axis it lines up with, and whether it is stretched.
    fn axes<'a>(&'a self, input: &'a [u64]) -> impl Iterator<Item = (usize, bool)> + 'a {
        let lead = self.shape.len() - input.len();
        input
            .iter()
            .enumerate()
            .map(move |(j, &n)| (lead + j, n == 1 && self.shape[lead + j] != 1))
    }
}

impl Op for BroadcastTo {
    fn name(&self) -> &'static str {
        "broadcast_to"
    }

    fn describe(&self) -> String {
        format!("shape={:?}", self.shape)
    }

    fn kind(&self) -> OpKind {
        OpKind::Region
    }

    fn output_meta(&self, inputs: &[ArrayMeta]) -> Result<ArrayMeta> {
        let [input] = inputs else {
            return Err(Error::Invalid("broadcast_to takes one input".into()));
        };
        let target = broadcast_shape("broadcast_to", &[&input.shape, &self.shape])?;
        if target != self.shape {
            return Err(Error::Invalid(format!(
                "broadcast_to: an array of shape {:?} does not broadcast to {:?}",
                input.shape, self.shape
            )));
        }
        ArrayMeta::new(self.shape.clone(), self.chunks.clone(), input.dtype)
    }

    fn input_regions(&self, output: &Region, inputs: &[ArrayMeta]) -> Vec<Region> {
        let (start, shape) = self
            .axes(&inputs[0].shape)
            .map(|(k, stretched)| {
                if stretched {
                    (0, 1)
                } else {
                    (output.start[k], output.shape[k])
                }
            })
            .unzip();
        vec![Region::new(start, shape)]
    }

    fn compute_region(&self, inputs: &[RegionData<'_>], output: &Region) -> Result<Buffer> {
        let [input] = inputs else {
            return Err(Error::Invalid(
                "internal: broadcast_to takes one input".into(),
            ));
        };
        // The input element each output element repeats: per output axis, the input's stride
        // (0 on stretched and new axes) and the offset of the output region's start.
        let ndim = self.shape.len();
        let mut stride = vec![0usize; ndim];
        let mut offset = 0usize;
        let mut step = 1usize;
        let axes: Vec<(usize, bool)> = self.axes(&input.region.shape).collect();
        for (j, &(k, stretched)) in axes.iter().enumerate().rev() {
            let extent = input.region.shape[j] as usize;
            if !stretched {
                stride[k] = step;
                let skip = output.start[k]
                    .checked_sub(input.region.start[j])
                    .ok_or_else(|| {
                        Error::Invalid(
                            "internal: broadcast_to was handed a region it did not ask for".into(),
                        )
                    })?;
                offset += skip as usize * step;
            }
            step *= extent;
        }
        let shape: Vec<usize> = output.shape.iter().map(|&n| n as usize).collect();
        Ok(
            dispatch!(Buffer, input.data, v => Element::into_buffer(gather(v, &shape, &stride, offset))),
        )
    }
}

/// The elements `src[offset + sum(index * stride)]` over every index of `shape`, C order; the
/// last axis is one slice copy or one fill per row.
fn gather<T: Copy>(src: &[T], shape: &[usize], stride: &[usize], offset: usize) -> Vec<T> {
    let total: usize = shape.iter().product();
    let mut out = Vec::with_capacity(total);
    if total == 0 {
        return out;
    }
    let Some((&row, lead)) = shape.split_last() else {
        out.extend(src.get(offset).copied());
        return out;
    };
    let last_stride = stride[shape.len() - 1];
    let mut index = vec![0usize; lead.len()];
    loop {
        let base = offset + index.iter().zip(stride).map(|(i, s)| i * s).sum::<usize>();
        if last_stride == 0 {
            out.extend(std::iter::repeat_n(src[base], row));
        } else {
            out.extend_from_slice(&src[base..base + row]);
        }
        let mut axis = lead.len();
        loop {
            if axis == 0 {
                return out;
            }
            axis -= 1;
            index[axis] += 1;
            if index[axis] < lead[axis] {
                break;
            }
            index[axis] = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_broadcast_from_the_right() {
        let b = |a: &[u64], c: &[u64]| broadcast_shape("t", &[a, c]);
        assert_eq!(b(&[7, 9], &[9]).unwrap(), [7, 9]);
        assert_eq!(b(&[7, 1], &[1, 9]).unwrap(), [7, 9]);
        assert_eq!(b(&[6, 1, 4, 1], &[5, 1, 3]).unwrap(), [6, 5, 4, 3]);
        assert_eq!(b(&[0], &[1]).unwrap(), [0]);
        let e = b(&[7, 9], &[8]).unwrap_err().to_string();
        assert!(e.contains("axis -1 has sizes 9 and 8"), "{e}");
        assert!(b(&[0], &[5]).is_err());
    }

    #[test]
    fn gather_repeats_stretched_axes() {
        // A (2, 1) block stretched to (2, 3): rows repeat their one value.
        assert_eq!(gather(&[1, 2], &[2, 3], &[1, 0], 0), [1, 1, 1, 2, 2, 2]);
        // A (3,) row stretched to (2, 3), starting at its second element.
        assert_eq!(
            gather(&[5, 6, 7, 8], &[2, 3], &[0, 1], 1),
            [6, 7, 8, 6, 7, 8]
        );
        assert!(gather::<u8>(&[], &[0, 3], &[0, 1], 0).is_empty());
    }
}
