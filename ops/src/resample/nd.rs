//! Row-wise iteration over N-d regions: resampling kernels loop over contiguous rows of the last
//! axis and do index math once per row, not per element.

use chunkwise_engine::geometry::for_each_index;
pub use chunkwise_engine::geometry::strides;
use chunkwise_engine::Region;

/// Calls `f(leading_index)` for every index of all axes but the last (C order); a 1-D region has
/// one row, with an empty leading index.
pub fn for_each_row(shape: &[u64], f: impl FnMut(&[u64])) {
    let lead = &shape[..shape.len().saturating_sub(1)];
    for_each_index(&vec![0; lead.len()], lead, f);
}

/// The absolute index `region.start[d] + i[d]` on the leading axes.
pub fn absolute_lead(region: &Region, lead: &[u64]) -> Vec<u64> {
    lead.iter().zip(&region.start).map(|(i, s)| i + s).collect()
}
