//! `concat` (`np.concatenate`) and `stack`: arrays joined along an axis. [`Concat`] is a region
//! op over several inputs whose chunk mapping sends an output region to the part each input
//! covers, so the inputs may have any chunk grids: a task reads from each input only the box
//! that falls in its own region, through whatever chunks hold it.

use std::sync::Arc;

use chunkwise_engine::{
    dtype::promote, geometry::copy_buffer_region, Array, ArrayMeta, Buffer, DType, Error, Op,
    OpKind, Region, RegionData, Result,
};
use serde::Serialize;

use super::axes::normalize_axis;
use super::manipulate::expand_dims;
use crate::elementwise::astype;

/// Inputs of equal shape but along `axis`, one after the other along it.
#[derive(Debug, Clone, Serialize)]
pub struct Concat {
    /// The axis joined along.
    pub axis: usize,
    /// Where each input starts along the axis (and, last, the total extent).
    pub offsets: Vec<u64>,
    /// The output chunk shape.
    pub chunks: Vec<u64>,
}

impl Concat {
    /// For each input that output region `output` overlaps: its index and the box of it that
    /// the region holds (in the input's own coordinates).
    fn parts(&self, output: &Region) -> Vec<(usize, Region)> {
        let (lo, hi) = (output.start[self.axis], output.end()[self.axis]);
        self.offsets
            .windows(2)
            .enumerate()
            .filter_map(|(i, w)| {
                let (s, e) = (lo.max(w[0]), hi.min(w[1]));
                (s < e).then(|| {
                    let mut r = output.clone();
                    r.start[self.axis] = s - w[0];
                    r.shape[self.axis] = e - s;
                    (i, r)
                })
            })
            .collect()
    }
}

impl Op for Concat {
    fn name(&self) -> &str {
        "concat"
    }

    fn describe(&self) -> String {
        format!("axis={}", self.axis)
    }

    fn kind(&self) -> OpKind {
        OpKind::Region
    }

    fn output_meta(&self, inputs: &[ArrayMeta]) -> Result<ArrayMeta> {
        let Some(first) = inputs.first() else {
            return Err(Error::Invalid(
                "need at least one array to concatenate".into(),
            ));
        };
        if inputs.len() + 1 != self.offsets.len() {
            return Err(Error::Invalid(
                "internal: concat was built for other inputs".into(),
            ));
        }
        let mut shape = first.shape.clone();
        shape[self.axis] = self.offsets[inputs.len()];
        for (i, m) in inputs.iter().enumerate() {
            let mut expected = shape.clone();
            expected[self.axis] = self.offsets[i + 1] - self.offsets[i];
            if m.shape != expected || m.dtype != first.dtype {
                return Err(Error::Invalid(
                    "internal: concat was built for other inputs".into(),
                ));
            }
        }
        ArrayMeta::new(shape, self.chunks.clone(), first.dtype)
    }

    fn input_regions(&self, output: &Region, inputs: &[ArrayMeta]) -> Vec<Region> {
        self.input_pieces(output, inputs)
            .into_iter()
            .map(|p| {
                p.into_iter()
                    .next()
                    .unwrap_or_else(|| Region::new(vec![0; output.ndim()], vec![0; output.ndim()]))
            })
            .collect()
    }

    fn input_pieces(&self, output: &Region, inputs: &[ArrayMeta]) -> Vec<Vec<Region>> {
        let mut pieces = vec![Vec::new(); inputs.len()];
        for (i, r) in self.parts(output) {
            pieces[i].push(r);
        }
        pieces
    }

    fn compute_region(&self, inputs: &[RegionData<'_>], output: &Region) -> Result<Buffer> {
        let parts = self.parts(output);
        if parts.len() != inputs.len() {
            return Err(Error::Invalid(
                "internal: concat was handed other boxes than it asked for".into(),
            ));
        }
        let dtype = inputs.first().map_or(DType::Uint8, |p| p.data.dtype());
        let mut out = Buffer::zeros(dtype, output.num_elements() as usize);
        for ((i, _), piece) in parts.iter().zip(inputs) {
            // The box's data in output coordinates: shifted by the input's offset.
            let mut at = piece.region.clone();
            at.start[self.axis] += self.offsets[*i];
            copy_buffer_region(piece.data, &at, &mut out, output)?;
        }
        Ok(out)
    }
}

/// `np.concatenate(arrays, axis)` (the array API's `concat`): types promoted as
/// `np.result_type`; output chunks are the first array's.
///
/// # Errors
/// [`Error::Invalid`] with NumPy's messages: no arrays, 0-d arrays, different numbers of
/// dimensions, extents that differ off the axis; an axis out of range.
pub fn concat(arrays: &[Array], axis: i64) -> Result<Array> {
    let Some(first) = arrays.first() else {
        return Err(Error::Invalid(
            "need at least one array to concatenate".into(),
        ));
    };
    let ndim = first.shape().len();
    if ndim == 0 {
        return Err(Error::Invalid(
            "zero-dimensional arrays cannot be concatenated".into(),
        ));
    }
    let axis_d = normalize_axis(axis, ndim)?;
    let mut offsets = vec![0u64];
    for (i, a) in arrays.iter().enumerate() {
        if a.shape().len() != ndim {
            return Err(Error::Invalid(format!(
                "all the input arrays must have same number of dimensions, but the array at \
                 index 0 has {ndim} dimension(s) and the array at index {i} has {} dimension(s)",
                a.shape().len()
            )));
        }
        if let Some(d) = (0..ndim).find(|&d| d != axis_d && a.shape()[d] != first.shape()[d]) {
            return Err(Error::Invalid(format!(
                "all the input array dimensions except for the concatenation axis must match \
                 exactly, but along dimension {d}, the array at index 0 has size {} and the \
                 array at index {i} has size {}",
                first.shape()[d],
                a.shape()[d]
            )));
        }
        let end = offsets[i] + a.shape()[axis_d];
        offsets.push(end);
    }
    let dtype = arrays
        .iter()
        .skip(1)
        .fold(first.dtype(), |t, a| promote(t, a.dtype()));
    let inputs = arrays
        .iter()
        .map(|a| match a.dtype() == dtype {
            true => Ok(a.clone()),
            false => astype(a, dtype),
        })
        .collect::<Result<Vec<_>>>()?;
    let total = offsets[arrays.len()];
    let mut chunks = first.meta().chunks.clone();
    chunks[axis_d] = chunks[axis_d].min(total).max(1);
    let op = Concat {
        axis: axis_d,
        offsets,
        chunks,
    };
    Array::apply(Arc::new(op), inputs)
}

/// `np.stack(arrays, axis)`: arrays of one shape joined along a new axis at position `axis` of
/// the result.
///
/// # Errors
/// [`Error::Invalid`] for no arrays, arrays of different shapes (NumPy's message), an axis out
/// of range.
pub fn stack(arrays: &[Array], axis: i64) -> Result<Array> {
    let Some(first) = arrays.first() else {
        return Err(Error::Invalid("need at least one array to stack".into()));
    };
    if arrays.iter().any(|a| a.shape() != first.shape()) {
        return Err(Error::Invalid(
            "all input arrays must have the same shape".into(),
        ));
    }
    let expanded = arrays
        .iter()
        .map(|a| expand_dims(a, &[axis]))
        .collect::<Result<Vec<_>>>()?;
    concat(&expanded, axis)
}
