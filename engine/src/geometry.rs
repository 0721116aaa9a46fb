//! N-dimensional boxes and regular chunk grids: the index math every other module builds on.

use serde::{Deserialize, Serialize};

use crate::buffer::Buffer;
use crate::error::{Error, Result};

/// An N-dimensional box in an array's index space: `start[d] .. start[d] + shape[d]` on axis `d`.
///
/// Regions are what operations exchange: an output chunk is a region, and each operation maps it to
/// the region of each input that it needs.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Region {
    /// First index on each axis.
    pub start: Vec<u64>,
    /// Extent on each axis.
    pub shape: Vec<u64>,
}

impl Region {
    /// A region from its first index and extent on each axis.
    pub fn new(start: Vec<u64>, shape: Vec<u64>) -> Self {
        debug_assert_eq!(start.len(), shape.len());
        Self { start, shape }
    }

    /// The whole of an array of `shape`.
    pub fn whole(shape: &[u64]) -> Self {
        Self::new(vec![0; shape.len()], shape.to_vec())
    }

    /// Number of axes.
    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    /// Number of elements in the region.
    pub fn num_elements(&self) -> u64 {
        self.shape.iter().product()
    }

    /// One past the last index on each axis.
    pub fn end(&self) -> Vec<u64> {
        self.start
            .iter()
            .zip(&self.shape)
            .map(|(s, n)| s + n)
            .collect()
    }

    /// The indices of the boxes of extent `block` (tiling the axes from 0) that `self` touches:
    /// chunks of a chunk grid, or a downsample's blocks.
    pub fn blocks_touched(&self, block: &[u64]) -> Region {
        let start: Vec<u64> = self.start.iter().zip(block).map(|(s, b)| s / b).collect();
        let shape = self
            .end()
            .iter()
            .zip(block)
            .zip(&start)
            .map(|((e, b), s)| e.div_ceil(*b) - s)
            .collect();
        Region::new(start, shape)
    }

    /// True when `other` lies entirely inside `self`.
    pub fn contains(&self, other: &Region) -> bool {
        self.ndim() == other.ndim()
            && (0..self.ndim()).all(|d| {
                other.start[d] >= self.start[d]
                    && other.start[d] + other.shape[d] <= self.start[d] + self.shape[d]
            })
    }

    /// The part of `self` inside `other`, or `None` when they do not overlap.
    pub fn intersect(&self, other: &Region) -> Option<Region> {
        let mut start = Vec::with_capacity(self.ndim());
        let mut shape = Vec::with_capacity(self.ndim());
        for d in 0..self.ndim() {
            let lo = self.start[d].max(other.start[d]);
            let hi = (self.start[d] + self.shape[d]).min(other.start[d] + other.shape[d]);
            if hi <= lo {
                return None;
            }
            start.push(lo);
            shape.push(hi - lo);
        }
        Some(Region::new(start, shape))
    }
}

/// A regular grid of chunks over an array: `shape` cut into boxes of `chunk_shape`, the last box on
/// each axis clipped to the array bounds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkGrid {
    shape: Vec<u64>,
    chunk_shape: Vec<u64>,
    grid_shape: Vec<u64>,
}

impl ChunkGrid {
    /// A grid of `chunk_shape` boxes over an array of `shape`. Every chunk extent must be non-zero
    /// and the two must have the same number of axes (checked by the caller through
    /// [`crate::ArrayMeta::new`]).
    pub fn new(shape: Vec<u64>, chunk_shape: Vec<u64>) -> Self {
        let grid_shape = shape
            .iter()
            .zip(&chunk_shape)
            .map(|(&n, &c)| n.div_ceil(c.max(1)))
            .collect();
        Self {
            shape,
            chunk_shape,
            grid_shape,
        }
    }

    /// The array shape.
    pub fn shape(&self) -> &[u64] {
        &self.shape
    }

    /// The shape of an interior chunk.
    pub fn chunk_shape(&self) -> &[u64] {
        &self.chunk_shape
    }

    /// Number of chunks along each axis.
    pub fn grid_shape(&self) -> &[u64] {
        &self.grid_shape
    }

    /// Total number of chunks.
    pub fn num_chunks(&self) -> u64 {
        self.grid_shape.iter().product()
    }

    /// The chunk index (one per axis) of the chunk with linear (C-order) number `linear`.
    pub fn unravel(&self, mut linear: u64) -> Vec<u64> {
        let mut idx = vec![0; self.grid_shape.len()];
        for d in (0..idx.len()).rev() {
            let n = self.grid_shape[d].max(1);
            idx[d] = linear % n;
            linear /= n;
        }
        idx
    }

    /// The linear (C-order) number of chunk `idx`; the inverse of [`ChunkGrid::unravel`].
    pub fn ravel(&self, idx: &[u64]) -> u64 {
        idx.iter()
            .zip(&self.grid_shape)
            .fold(0, |acc, (i, g)| acc * g + i)
    }

    /// The region covered by chunk `idx`, clipped to the array bounds.
    pub fn chunk_region(&self, idx: &[u64]) -> Region {
        let start: Vec<u64> = idx
            .iter()
            .zip(&self.chunk_shape)
            .map(|(i, c)| i * c)
            .collect();
        let shape = start
            .iter()
            .zip(&self.chunk_shape)
            .zip(&self.shape)
            .map(|((s, c), n)| (*c).min(n - s))
            .collect();
        Region::new(start, shape)
    }

    /// Chunk indices of every chunk that overlaps `region`, in C order.
    pub fn chunks_overlapping(&self, region: &Region) -> Vec<Vec<u64>> {
        let touched = region.blocks_touched(&self.chunk_shape);
        let hi: Vec<u64> = touched
            .end()
            .iter()
            .zip(&self.grid_shape)
            .map(|(e, g)| (*e).min(*g))
            .collect();
        let lo = touched.start;
        let mut out = Vec::new();
        if region.num_elements() > 0 {
            for_each_index(&lo, &hi, |idx| out.push(idx.to_vec()));
        }
        out
    }
}

/// Calls `f` with every index of the box `lo[d]..hi[d]` in C order (last axis fastest): one
/// empty index for a 0-d box, nothing when a range is empty. The one N-d loop of the project.
pub fn for_each_index(lo: &[u64], hi: &[u64], mut f: impl FnMut(&[u64])) {
    if lo.iter().zip(hi).any(|(l, h)| l >= h) {
        return;
    }
    let mut idx = lo.to_vec();
    loop {
        f(&idx);
        let mut d = idx.len();
        loop {
            if d == 0 {
                return;
            }
            d -= 1;
            idx[d] += 1;
            if idx[d] < hi[d] {
                break;
            }
            idx[d] = lo[d];
        }
    }
}

/// C-order strides, in elements, of a buffer of `shape`.
pub fn strides(shape: &[u64]) -> Vec<usize> {
    let mut s = vec![1usize; shape.len()];
    for d in (0..shape.len().saturating_sub(1)).rev() {
        s[d] = s[d + 1] * shape[d + 1] as usize;
    }
    s
}

/// Offset, in a C-order buffer over `region` with `strides`, of the row that starts at absolute
/// index `lead` on the leading axes and `last` on the last axis.
fn row_offset(region: &Region, strides: &[usize], lead: &[u64], last: u64) -> usize {
    let nd = region.ndim();
    lead.iter()
        .chain(std::iter::once(&last))
        .enumerate()
        .map(|(d, &i)| (i - region.start[d]) as usize * strides[d])
        .take(nd)
        .sum()
}

/// Copies the elements of `src` (laid out in C order over `src_region`) that fall inside `dst_region`
/// into `dst` (C order over `dst_region`). Both regions must contain the overlap `part`.
///
/// Used to assemble and scatter chunk buffers: it moves whole contiguous rows along the last axis.
pub fn copy_region<T: Copy>(
    src: &[T],
    src_region: &Region,
    dst: &mut [T],
    dst_region: &Region,
    part: &Region,
) {
    let nd = part.ndim();
    if nd == 0 {
        if let (Some(s), Some(d)) = (src.first(), dst.first_mut()) {
            *d = *s;
        }
        return;
    }
    let row = part.shape[nd - 1] as usize;
    let (ss, ds) = (strides(&src_region.shape), strides(&dst_region.shape));
    let end = part.end();
    for_each_index(&part.start[..nd - 1], &end[..nd - 1], |lead| {
        let so = row_offset(src_region, &ss, lead, part.start[nd - 1]);
        let doff = row_offset(dst_region, &ds, lead, part.start[nd - 1]);
        dst[doff..doff + row].copy_from_slice(&src[so..so + row]);
    });
}

/// [`copy_region`] between typed buffers: copies the overlap of `src_region` and `dst_region`.
///
/// # Errors
/// [`Error::Invalid`] when the buffers hold different types.
pub fn copy_buffer_region(
    src: &Buffer,
    src_region: &Region,
    dst: &mut Buffer,
    dst_region: &Region,
) -> Result<()> {
    let Some(part) = src_region.intersect(dst_region) else {
        return Ok(());
    };
    macro_rules! arm {
        ($($variant:ident),*) => {
            match (src, dst) {
                $((Buffer::$variant(s), Buffer::$variant(d)) =>
                    copy_region(s, src_region, d, dst_region, &part),)*
                (s, d) => return Err(Error::Invalid(format!(
                    "internal: copying {} data into a {} buffer", s.dtype(), d.dtype()))),
            }
        };
    }
    arm!(Bool, Int8, Int16, Int32, Int64, Uint8, Uint16, Uint32, Uint64, Float32, Float64);
    Ok(())
}

/// The part `part` (inside `src_region`) of `src`, as a new C-order buffer; built row by row
/// without zero-filling first (a zeroed buffer costs a full extra pass over fresh memory).
pub fn extract_region(src: &Buffer, src_region: &Region, part: &Region) -> Buffer {
    fn rows<T: Copy>(src: &[T], src_region: &Region, part: &Region) -> Vec<T> {
        let nd = part.ndim();
        let mut out = Vec::with_capacity(part.num_elements() as usize);
        if nd == 0 || part.num_elements() == 0 {
            out.extend_from_slice(&src[..part.num_elements().min(src.len() as u64) as usize]);
            return out;
        }
        let st = strides(&src_region.shape);
        let row = part.shape[nd - 1] as usize;
        let end = part.end();
        for_each_index(&part.start[..nd - 1], &end[..nd - 1], |lead| {
            let offset = row_offset(src_region, &st, lead, part.start[nd - 1]);
            out.extend_from_slice(&src[offset..offset + row]);
        });
        out
    }
    macro_rules! arm {
        ($($variant:ident),*) => {
            match src { $(Buffer::$variant(v) => Buffer::$variant(rows(v, src_region, part)),)* }
        };
    }
    arm!(Bool, Int8, Int16, Int32, Int64, Uint8, Uint16, Uint32, Uint64, Float32, Float64)
}

/// The box that `pieces` (two or more, not overlapping) fill exactly, if they do: several
/// chunk-sized boxes an op asked for that one read can serve.
pub fn tiled_box(pieces: &[Region]) -> Option<Region> {
    let (first, rest) = pieces.split_first()?;
    if rest.is_empty() {
        return None;
    }
    let mut start = first.start.clone();
    let mut end = first.end();
    for p in rest {
        for (d, (s, e)) in p.start.iter().zip(p.end()).enumerate() {
            start[d] = start[d].min(*s);
            end[d] = end[d].max(e);
        }
    }
    let shape: Vec<u64> = end.iter().zip(&start).map(|(e, s)| e - s).collect();
    let bounds = Region::new(start, shape);
    let filled: u64 = pieces.iter().map(Region::num_elements).sum();
    (filled == bounds.num_elements()).then_some(bounds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ragged_grid_regions_cover_the_array() {
        let g = ChunkGrid::new(vec![10, 7], vec![4, 3]);
        assert!((0..g.num_chunks()).all(|i| g.ravel(&g.unravel(i)) == i));
        assert_eq!(g.grid_shape(), &[3, 3]);
        assert_eq!(g.chunk_region(&[2, 2]), Region::new(vec![8, 6], vec![2, 1]));
        let total: u64 = (0..g.num_chunks())
            .map(|i| g.chunk_region(&g.unravel(i)).num_elements())
            .sum();
        assert_eq!(total, 70);
    }

    #[test]
    fn overlapping_chunks_of_a_region() {
        let g = ChunkGrid::new(vec![10, 10], vec![4, 4]);
        let r = Region::new(vec![3, 4], vec![2, 5]);
        assert_eq!(
            g.chunks_overlapping(&r),
            vec![vec![0, 1], vec![0, 2], vec![1, 1], vec![1, 2]]
        );
    }

    #[test]
    fn extract_region_takes_a_part() {
        let src = Buffer::Uint32((0..16).collect());
        let part = extract_region(
            &src,
            &Region::new(vec![0, 0], vec![4, 4]),
            &Region::new(vec![2, 1], vec![2, 3]),
        );
        assert_eq!(part, Buffer::Uint32(vec![9, 10, 11, 13, 14, 15]));
    }

    #[test]
    fn copy_region_moves_the_overlap() {
        let src: Vec<u32> = (0..16).collect(); // 4x4 at origin
        let sr = Region::new(vec![0, 0], vec![4, 4]);
        let dr = Region::new(vec![2, 1], vec![2, 3]);
        let mut dst = vec![0u32; 6];
        copy_region(&src, &sr, &mut dst, &dr, &dr);
        assert_eq!(dst, vec![9, 10, 11, 13, 14, 15]);
    }
}
