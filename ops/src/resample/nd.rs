//! Row-wise iteration over N-d regions: resampling kernels loop over contiguous rows of the last
//! axis and do index math once per row, not per element.

use chunkwise_engine::Region;

/// C-order strides (in elements) of a region's buffer.
pub fn strides(shape: &[u64]) -> Vec<usize> {
    let mut s = vec![1usize; shape.len()];
    for d in (0..shape.len().saturating_sub(1)).rev() {
        s[d] = s[d + 1] * shape[d + 1] as usize;
    }
    s
}

/// Calls `f(leading_index)` for every index of all axes but the last (C order); a 1-D region has
/// one row, with an empty leading index.
pub fn for_each_row(shape: &[u64], mut f: impl FnMut(&[u64])) {
    let lead = &shape[..shape.len().saturating_sub(1)];
    if lead.contains(&0) {
        return;
    }
    let mut idx = vec![0u64; lead.len()];
    loop {
        f(&idx);
        let mut d = idx.len();
        loop {
            if d == 0 {
                return;
            }
            d -= 1;
            idx[d] += 1;
            if idx[d] < lead[d] {
                break;
            }
            idx[d] = 0;
        }
    }
}

/// The absolute index `region.start[d] + i[d]` on the leading axes.
pub fn absolute_lead(region: &Region, lead: &[u64]) -> Vec<u64> {
    lead.iter().zip(&region.start).map(|(i, s)| i + s).collect()
}
