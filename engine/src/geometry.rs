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

/// Calls `f(src_offset, dst_offset, len)` for each run of `part` that is contiguous in both a
/// C-order buffer over `src_region` and one over `dst_region`, in C order over `part`. Trailing
/// axes that `part` spans whole in both buffers join the row along the last axis, so a part made
/// of whole planes (a thin intermediate chunk inside a block) moves in one run, not one per row
/// (a rechunk's second pass spent 3% of its samples stepping through 256-byte rows).
fn for_each_run(
    part: &Region,
    src_region: &Region,
    dst_region: &Region,
    mut f: impl FnMut(usize, usize, usize),
) {
    let nd = part.ndim();
    let (ss, ds) = (strides(&src_region.shape), strides(&dst_region.shape));
    let offset = |region: &Region, st: &[usize]| -> usize {
        (0..nd)
            .map(|d| (part.start[d] - region.start[d]) as usize * st[d])
            .sum()
    };
    let (src0, dst0) = (offset(src_region, &ss), offset(dst_region, &ds));
    // Axes `row_axis..` form one contiguous run in both buffers.
    let mut row_axis = nd.saturating_sub(1);
    while row_axis > 0
        && part.shape[row_axis] == src_region.shape[row_axis]
        && part.shape[row_axis] == dst_region.shape[row_axis]
    {
        row_axis -= 1;
    }
    let run = part.shape[row_axis..].iter().product::<u64>() as usize;
    if run == 0 {
        return;
    }
    for_each_index(&vec![0; row_axis], &part.shape[..row_axis], |idx| {
        let at =
            |st: &[usize]| -> usize { idx.iter().zip(st).map(|(&i, &s)| i as usize * s).sum() };
        f(src0 + at(&ss), dst0 + at(&ds), run);
    });
}

/// Copies the elements of `src` (laid out in C order over `src_region`) that fall inside `dst_region`
/// into `dst` (C order over `dst_region`). Both regions must contain the overlap `part`.
///
/// Used to assemble and scatter chunk buffers: it moves whole contiguous runs (see
/// [`for_each_run`]).
pub fn copy_region<T: Copy>(
    src: &[T],
    src_region: &Region,
    dst: &mut [T],
    dst_region: &Region,
    part: &Region,
) {
    if part.ndim() == 0 {
        if let (Some(s), Some(d)) = (src.first(), dst.first_mut()) {
            *d = *s;
        }
        return;
    }
    for_each_run(part, src_region, dst_region, |so, doff, run| {
        dst[doff..doff + run].copy_from_slice(&src[so..so + run]);
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

/// Appends the elements of `src` (C order over `src_region`) inside `part` to `out`, in C order
/// over `part`, run by run.
fn append_runs<T: Copy>(out: &mut Vec<T>, src: &[T], src_region: &Region, part: &Region) {
    if part.ndim() == 0 || part.num_elements() == 0 {
        out.extend_from_slice(&src[..part.num_elements().min(src.len() as u64) as usize]);
        return;
    }
    for_each_run(part, src_region, part, |so, _, run| {
        out.extend_from_slice(&src[so..so + run]);
    });
}

/// The part `part` (inside `src_region`) of `src`, as a new C-order buffer; built run by run
/// without zero-filling first (a zeroed buffer costs a full extra pass over fresh memory).
pub fn extract_region(src: &Buffer, src_region: &Region, part: &Region) -> Buffer {
    let len = part.num_elements() as usize;
    macro_rules! arm {
        ($($variant:ident),*) => {
            match src { $(Buffer::$variant(v) => {
                let mut out = Vec::with_capacity(len);
                append_runs(&mut out, v, src_region, part);
                Buffer::$variant(out)
            })* }
        };
    }
    arm!(Bool, Int8, Int16, Int32, Int64, Uint8, Uint16, Uint32, Uint64, Float32, Float64)
}

/// Appends the part `part` (inside `src_region`) of `src` to `dst`, in C order over `part`.
///
/// # Errors
/// [`Error::Invalid`] when the buffers hold different types.
pub fn append_region(
    dst: &mut Buffer,
    src: &Buffer,
    src_region: &Region,
    part: &Region,
) -> Result<()> {
    macro_rules! arm {
        ($($variant:ident),*) => {
            match (src, dst) {
                $((Buffer::$variant(s), Buffer::$variant(d)) => append_runs(d, s, src_region, part),)*
                (s, d) => return Err(Error::Invalid(format!(
                    "internal: appending {} data to a {} buffer", s.dtype(), d.dtype()))),
            }
        };
    }
    arm!(Bool, Int8, Int16, Int32, Int64, Uint8, Uint16, Uint32, Uint64, Float32, Float64);
    Ok(())
}

/// True when `boxes`, in their order, are consecutive runs of a C-order buffer over `region`
/// that fill it: each inside `region`, contiguous in it (whole along every axis after its
/// first one longer than 1), and starting where the one before ended. Such boxes can fill the
/// buffer by [`append_region`], with no zero-filling first.
pub fn fills_in_order(boxes: &[Region], region: &Region) -> bool {
    let st = strides(&region.shape);
    let mut next = 0u64;
    for b in boxes {
        if b.ndim() != region.ndim() || !region.contains(b) {
            return false;
        }
        let first_long = b.shape.iter().position(|&n| n > 1).unwrap_or(b.ndim());
        let contiguous = (first_long + 1..b.ndim()).all(|d| b.shape[d] == region.shape[d]);
        let offset: u64 = (0..b.ndim())
            .map(|d| (b.start[d] - region.start[d]) * st[d] as u64)
            .sum();
        if !contiguous || offset != next {
            return false;
        }
        next += b.num_elements();
    }
    next == region.num_elements()
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
    use crate::dtype::DType;

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

    /// Element by element: the value at absolute index `at` of a C-order buffer over `region`.
    fn naive_at(region: &Region, at: &[u64]) -> usize {
        let st = strides(&region.shape);
        (0..at.len())
            .map(|d| (at[d] - region.start[d]) as usize * st[d])
            .sum()
    }

    #[test]
    fn copy_and_extract_agree_with_an_element_by_element_copy() {
        // Boxes of 1-4 axes whose parts span trailing axes whole in one buffer, in both, or in
        // neither (runs joined or not), against a copy one element at a time.
        let mut seed = 12345u64;
        let mut next = |n: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % n
        };
        for case in 0..400 {
            let nd = 1 + case % 4;
            let (mut sr, mut dr, mut part) = (Vec::new(), Vec::new(), Vec::new());
            for _ in 0..nd {
                let extent = 1 + next(6);
                // The part, then each buffer's box around it: as wide as the part in both
                // buffers, in the destination only, or wider in both.
                let (p0, pn) = (next(3), 1 + next(extent));
                let mode = next(3);
                let mut widen = |wider: bool| match wider {
                    true => (next(3).min(p0), next(3)),
                    false => (0, 0),
                };
                let (s_lo, s_hi) = widen(mode == 2);
                let (d_lo, d_hi) = widen(mode >= 1);
                part.push((p0, pn));
                sr.push((p0 - s_lo, pn + s_lo + s_hi));
                dr.push((p0 - d_lo, pn + d_lo + d_hi));
            }
            let region = |v: &[(u64, u64)]| {
                Region::new(
                    v.iter().map(|x| x.0).collect(),
                    v.iter().map(|x| x.1).collect(),
                )
            };
            let (sr, dr, part) = (region(&sr), region(&dr), region(&part));
            let src: Vec<u32> = (0..sr.num_elements() as u32).collect();
            let mut dst = vec![u32::MAX; dr.num_elements() as usize];
            let mut expected = dst.clone();
            let mut extracted = Vec::new();
            for_each_index(&part.start, &part.end(), |at| {
                expected[naive_at(&dr, at)] = src[naive_at(&sr, at)];
                extracted.push(src[naive_at(&sr, at)]);
            });
            copy_region(&src, &sr, &mut dst, &dr, &part);
            assert_eq!(dst, expected, "copy of {part:?} from {sr:?} into {dr:?}");
            assert_eq!(
                extract_region(&Buffer::Uint32(src), &sr, &part),
                Buffer::Uint32(extracted),
                "extract of {part:?} from {sr:?}"
            );
        }
    }

    #[test]
    fn boxes_fill_a_region_in_order_only_as_consecutive_runs() {
        let region = Region::new(vec![10, 0, 0], vec![4, 3, 5]);
        let planes: Vec<Region> = (10..14)
            .map(|z| Region::new(vec![z, 0, 0], vec![1, 3, 5]))
            .collect();
        assert!(fills_in_order(&planes, &region));
        // Out of order, short of the end, or a box that is not one run of the region.
        let mut swapped = planes.clone();
        swapped.swap(1, 2);
        assert!(!fills_in_order(&swapped, &region));
        assert!(!fills_in_order(&planes[..3], &region));
        let columns: Vec<Region> = (0..5)
            .map(|x| Region::new(vec![10, 0, x], vec![4, 3, 1]))
            .collect();
        assert!(!fills_in_order(&columns, &region));
        // Rows of one plane, then whole planes: runs of different lengths.
        let mut mixed: Vec<Region> = (0..3)
            .map(|y| Region::new(vec![10, y, 0], vec![1, 1, 5]))
            .collect();
        mixed.push(Region::new(vec![11, 0, 0], vec![3, 3, 5]));
        assert!(fills_in_order(&mixed, &region));
        // Appending those boxes' values rebuilds the region as a copy would.
        let src_region = Region::new(vec![8, 0, 0], vec![8, 3, 6]);
        let src = Buffer::Int16((0..src_region.num_elements() as i16).collect());
        let mut appended = Buffer::with_capacity(DType::Int16, 60);
        for b in &mixed {
            append_region(&mut appended, &src, &src_region, b).unwrap();
        }
        assert_eq!(appended, extract_region(&src, &src_region, &region));
        assert!(append_region(&mut appended, &Buffer::Uint8(vec![0]), &region, &region).is_err());
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
