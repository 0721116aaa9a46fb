//! Slicing: [`take`] one index along an axis (a z slice of a volume). Its chunk mapping asks
//! only for the input slab at that index, so computing a slice of a pipeline computes only the
//! chunks (and halos) that the slab needs.

use std::sync::Arc;

use chunkwise_engine::geometry::extract_region;
use chunkwise_engine::Array;
use chunkwise_engine::{ArrayMeta, Buffer, Error, Op, OpKind, Region, RegionData, Result};
use serde::Serialize;

/// `x[..., index, ...]` along `axis`: the axis is dropped.
#[derive(Debug, Serialize)]
pub struct Take {
    /// The axis.
    pub axis: usize,
    /// The index along it.
    pub index: u64,
}

impl Op for Take {
    fn name(&self) -> &str {
        "take"
    }
    fn describe(&self) -> String {
        format!("axis={}, index={}", self.axis, self.index)
    }
    fn kind(&self) -> OpKind {
        OpKind::Region
    }
    fn output_meta(&self, inputs: &[ArrayMeta]) -> Result<ArrayMeta> {
        let [m] = inputs else {
            return Err(Error::Invalid("take takes one array".into()));
        };
        let Some(&n) = m.shape.get(self.axis) else {
            return Err(Error::Invalid(format!(
                "axis {} is out of range for an array of {} dimensions",
                self.axis,
                m.shape.len()
            )));
        };
        if self.index >= n {
            return Err(Error::Invalid(format!(
                "index {} is outside axis {} of extent {n}",
                self.index, self.axis
            )));
        }
        let mut shape = m.shape.clone();
        let mut chunks = m.chunks.clone();
        shape.remove(self.axis);
        chunks.remove(self.axis);
        ArrayMeta::new(shape, chunks, m.dtype)
    }
    fn input_regions(&self, output: &Region, _inputs: &[ArrayMeta]) -> Vec<Region> {
        let mut r = output.clone();
        r.start.insert(self.axis, self.index);
        r.shape.insert(self.axis, 1);
        vec![r]
    }
    fn compute_region(&self, inputs: &[RegionData<'_>], _output: &Region) -> Result<Buffer> {
        let [x] = inputs else {
            return Err(Error::Invalid(
                "internal: take was handed several boxes".into(),
            ));
        };
        // The asked box has extent 1 on the axis: its C-order elements are the output's.
        Ok(extract_region(x.data, x.region, x.asked))
    }
}

/// `x` at `index` along `axis` (the axis dropped), computed lazily like any op.
///
/// # Errors
/// [`Error::Invalid`] for an axis out of range or an index outside the axis.
pub fn take(x: &Array, axis: usize, index: u64) -> Result<Array> {
    Array::apply(Arc::new(Take { axis, index }), vec![x.clone()])
}
