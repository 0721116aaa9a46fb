//! `reshape` where it maps to regions: C-order reshapes that split one axis into several
//! neighbours or merge neighbours into one (and add or drop axes of extent 1). Such a reshape
//! cuts the axes into groups of equal extent product — one input axis to several output axes, or
//! several to one — and an output region reads, per group, the input indices its positions
//! number: a run along a split axis, at most a few boxes of a merged range. A reshape that mixes
//! axes otherwise ((6, 4) to (4, 6)) is not a region mapping and is refused.

use std::sync::Arc;

use chunkwise_engine::{
    geometry::{for_each_index, strides},
    Array, ArrayMeta, Buffer, DType, Error, Op, OpKind, Region, RegionData, Result,
};
use serde::Serialize;

use super::gather::Gather;
use super::remap::group_runs;

/// Input axes and output axes holding the same elements (either side may be empty for an axis
/// of extent 1 dropped or added).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AxisGroup {
    /// Input axes, in order.
    pub inputs: Vec<usize>,
    /// Output axes, in order.
    pub outputs: Vec<usize>,
}

/// A split/merge reshape (see the [module documentation](self)).
#[derive(Debug, Clone, Serialize)]
pub struct Reshape {
    /// The input shape.
    pub input_shape: Vec<u64>,
    /// The output shape.
    pub shape: Vec<u64>,
    /// The output chunk shape.
    pub chunks: Vec<u64>,
    /// The axis groups.
    pub groups: Vec<AxisGroup>,
    /// The element type, for empty tasks.
    pub dtype: DType,
}

/// One output position of a group in a region: its offset in the region's buffer and the input
/// index it reads (over the group's input axes).
type Entry = (usize, Vec<u64>);

impl Reshape {
    /// Per group, the positions output region `output` holds.
    fn entries(&self, group: &AxisGroup, output: &Region) -> Vec<Entry> {
        let out_strides = strides(&output.shape);
        let extents: Vec<u64> = group.outputs.iter().map(|&k| self.shape[k]).collect();
        let in_extents: Vec<u64> = group.inputs.iter().map(|&d| self.input_shape[d]).collect();
        let lo: Vec<u64> = group.outputs.iter().map(|&k| output.start[k]).collect();
        let end = output.end();
        let hi: Vec<u64> = group.outputs.iter().map(|&k| end[k]).collect();
        let mut entries = Vec::new();
        for_each_index(&lo, &hi, |o| {
            let linear = o.iter().zip(&extents).fold(0u64, |l, (&i, &n)| l * n + i);
            let offset = o
                .iter()
                .zip(&group.outputs)
                .map(|(&i, &k)| (i - output.start[k]) as usize * out_strides[k])
                .sum();
            entries.push((offset, unravel(linear, &in_extents)));
        });
        entries
    }

    /// Per group, the input boxes (start, extent over its input axes) region `output` reads.
    fn group_boxes(&self, group: &AxisGroup, output: &Region, chunks: &[u64]) -> Vec<Boxed> {
        let entries = self.entries(group, output);
        match group.inputs.as_slice() {
            [] => vec![(vec![], vec![])],
            [d] => {
                let mut wanted: Vec<u64> = entries.iter().map(|e| e.1[0]).collect();
                wanted.sort_unstable();
                wanted.dedup();
                group_runs(&wanted, chunks[*d].max(1))
                    .into_iter()
                    .map(|(s, e)| (vec![s], vec![e - s]))
                    .collect()
            }
            // A merge: one output axis, so the positions number one contiguous range.
            axes => {
                let in_extents: Vec<u64> = axes.iter().map(|&d| self.input_shape[d]).collect();
                let linear = |c: &[u64]| {
                    c.iter()
                        .zip(&in_extents)
                        .fold(0u64, |l, (&i, &n)| l * n + i)
                };
                match (entries.first(), entries.last()) {
                    (Some(a), Some(b)) => range_boxes(linear(&a.1), linear(&b.1) + 1, &in_extents),
                    _ => vec![],
                }
            }
        }
    }
}

/// A box over some axes: start and extent.
type Boxed = (Vec<u64>, Vec<u64>);

/// `linear` as an index into `shape` (C order).
fn unravel(mut linear: u64, shape: &[u64]) -> Vec<u64> {
    let mut out = vec![0; shape.len()];
    for (o, &n) in out.iter_mut().zip(shape).rev() {
        *o = linear % n.max(1);
        linear /= n.max(1);
    }
    out
}

/// The C-order range `[s, e)` of an array of `shape` as boxes: a partial first row, whole rows,
/// a partial last row, recursively.
fn range_boxes(s: u64, e: u64, shape: &[u64]) -> Vec<Boxed> {
    let Some((&n0, rest)) = shape.split_first() else {
        return vec![];
    };
    if s >= e {
        return vec![];
    }
    if rest.is_empty() {
        return vec![(vec![s], vec![e - s])];
    }
    let inner: u64 = rest.iter().product();
    let prefixed = |row: u64, boxes: Vec<Boxed>| -> Vec<Boxed> {
        boxes
            .into_iter()
            .map(|(mut st, mut ex)| {
                st.insert(0, row);
                ex.insert(0, 1);
                (st, ex)
            })
            .collect()
    };
    let (first, last) = (s / inner, (e - 1) / inner);
    if first == last {
        return prefixed(first, range_boxes(s % inner, s % inner + (e - s), rest));
    }
    let mut out = Vec::new();
    let mut full_from = first;
    if !s.is_multiple_of(inner) {
        out.extend(prefixed(first, range_boxes(s % inner, inner, rest)));
        full_from += 1;
    }
    let full_to = e / inner;
    if full_to > full_from {
        let mut st = vec![full_from];
        st.extend(std::iter::repeat_n(0, rest.len()));
        let mut ex = vec![full_to - full_from];
        ex.extend_from_slice(rest);
        out.push((st, ex));
    }
    if !e.is_multiple_of(inner) && full_to < n0 {
        out.extend(prefixed(full_to, range_boxes(0, e % inner, rest)));
    }
    out
}

impl Op for Reshape {
    fn name(&self) -> &str {
        "reshape"
    }

    fn describe(&self) -> String {
        format!("shape={:?}", self.shape)
    }

    fn kind(&self) -> OpKind {
        OpKind::Region
    }

    fn output_meta(&self, inputs: &[ArrayMeta]) -> Result<ArrayMeta> {
        match inputs {
            [m] if m.shape == self.input_shape && m.dtype == self.dtype => {
                ArrayMeta::new(self.shape.clone(), self.chunks.clone(), m.dtype)
            }
            _ => Err(Error::Invalid(
                "internal: reshape was built for another input".into(),
            )),
        }
    }

    fn input_regions(&self, output: &Region, inputs: &[ArrayMeta]) -> Vec<Region> {
        let pieces = self.input_pieces(output, inputs).remove(0);
        let n = self.input_shape.len();
        let mut lo = vec![u64::MAX; n];
        let mut hi = vec![0u64; n];
        for p in &pieces {
            for (d, e) in p.end().into_iter().enumerate() {
                lo[d] = lo[d].min(p.start[d]);
                hi[d] = hi[d].max(e);
            }
        }
        if pieces.is_empty() {
            lo = vec![0; n];
        }
        let shape = hi
            .iter()
            .zip(&lo)
            .map(|(h, l)| h.saturating_sub(*l))
            .collect();
        vec![Region::new(lo, shape)]
    }

    fn input_pieces(&self, output: &Region, inputs: &[ArrayMeta]) -> Vec<Vec<Region>> {
        let per_group: Vec<Vec<Boxed>> = self
            .groups
            .iter()
            .map(|g| self.group_boxes(g, output, &inputs[0].chunks))
            .collect();
        let n = self.input_shape.len();
        let lo = vec![0u64; per_group.len()];
        let hi: Vec<u64> = per_group.iter().map(|b| b.len() as u64).collect();
        let mut pieces = Vec::new();
        for_each_index(&lo, &hi, |pick| {
            let (mut start, mut shape) = (vec![0u64; n], vec![1u64; n]);
            for ((g, boxes), &j) in self.groups.iter().zip(&per_group).zip(pick) {
                let (st, ex) = &boxes[j as usize];
                for (k, &d) in g.inputs.iter().enumerate() {
                    start[d] = st[k];
                    shape[d] = ex[k];
                }
            }
            pieces.push(Region::new(start, shape));
        });
        vec![pieces]
    }

    fn compute_region(&self, inputs: &[RegionData<'_>], output: &Region) -> Result<Buffer> {
        let mut out = Buffer::zeros(self.dtype, output.num_elements() as usize);
        for piece in inputs {
            self.compute_piece(piece, output, &mut out)?;
        }
        Ok(out)
    }

    fn piecewise(&self) -> bool {
        true
    }

    fn compute_piece(
        &self,
        piece: &RegionData<'_>,
        output: &Region,
        out: &mut Buffer,
    ) -> Result<()> {
        let in_strides = strides(&piece.region.shape);
        let asked_end = piece.asked.end();
        let factors = self
            .groups
            .iter()
            .map(|g| {
                self.entries(g, output)
                    .into_iter()
                    .filter(|(_, c)| {
                        g.inputs
                            .iter()
                            .zip(c)
                            .all(|(&d, &i)| (piece.asked.start[d]..asked_end[d]).contains(&i))
                    })
                    .map(|(o, c)| {
                        let i = g
                            .inputs
                            .iter()
                            .zip(&c)
                            .map(|(&d, &i)| (i - piece.region.start[d]) as usize * in_strides[d])
                            .sum();
                        (o, i)
                    })
                    .collect()
            })
            .collect();
        Gather { factors, base: 0 }.apply("reshape", piece.data, out)
    }
}

/// The axis groups of a reshape from `from` to `to` (equal element counts, no zero extent).
fn groups(from: &[u64], to: &[u64]) -> Result<Vec<AxisGroup>> {
    let mixes = || {
        Error::Invalid(format!(
            "reshape from {from:?} to {to:?} is not a split or merge of neighbouring axes; \
             chunkwise reshapes only where each output axis is a run of input axes or part of \
             one input axis (its chunks then map to regions)"
        ))
    };
    let mut groups: Vec<AxisGroup> = (0..from.len())
        .filter(|&d| from[d] == 1)
        .map(|d| AxisGroup {
            inputs: vec![d],
            outputs: vec![],
        })
        .chain((0..to.len()).filter(|&k| to[k] == 1).map(|k| AxisGroup {
            inputs: vec![],
            outputs: vec![k],
        }))
        .collect();
    let ins: Vec<usize> = (0..from.len()).filter(|&d| from[d] != 1).collect();
    let outs: Vec<usize> = (0..to.len()).filter(|&k| to[k] != 1).collect();
    let (mut i, mut j) = (0, 0);
    while i < ins.len() && j < outs.len() {
        let mut g = AxisGroup {
            inputs: vec![ins[i]],
            outputs: vec![outs[j]],
        };
        let (mut pi, mut pj) = (from[ins[i]], to[outs[j]]);
        i += 1;
        j += 1;
        while pi != pj {
            if pi < pj {
                let &d = ins.get(i).ok_or_else(mixes)?;
                pi *= from[d];
                g.inputs.push(d);
                i += 1;
            } else {
                let &k = outs.get(j).ok_or_else(mixes)?;
                pj *= to[k];
                g.outputs.push(k);
                j += 1;
            }
        }
        if g.inputs.len() > 1 && g.outputs.len() > 1 {
            return Err(mixes());
        }
        groups.push(g);
    }
    if i < ins.len() || j < outs.len() {
        return Err(mixes());
    }
    Ok(groups)
}

/// Output chunks: a split axis's run of output axes takes full extents from the last while they
/// fit in the input chunk, then the rest of it; a merged axis takes the input chunks of its
/// trailing whole-extent axes times the first chunked one's.
fn output_chunks(x: &ArrayMeta, to: &[u64], groups: &[AxisGroup]) -> Vec<u64> {
    let mut chunks = vec![1u64; to.len()];
    for g in groups {
        match (g.inputs.as_slice(), g.outputs.as_slice()) {
            ([d], outs) => {
                let mut room = x.chunks[*d];
                for &k in outs.iter().rev() {
                    chunks[k] = room.min(to[k]).max(1);
                    room = if chunks[k] == to[k] {
                        (room / to[k]).max(1)
                    } else {
                        1
                    };
                }
            }
            (ins, [k]) => {
                let mut c = 1u64;
                for &d in ins.iter().rev() {
                    c = c.saturating_mul(x.chunks[d]);
                    if x.chunks[d] < x.shape[d] {
                        break;
                    }
                }
                chunks[*k] = c.min(to[*k]).max(1);
            }
            _ => {}
        }
    }
    chunks
}

/// `np.reshape(x, shape)` (C order) where it splits axes or merges neighbours (and adds or drops
/// axes of extent 1); one extent may be -1, inferred from the others.
///
/// # Errors
/// [`Error::Invalid`] with NumPy's messages for a shape of another size or two -1s, and for a
/// reshape that is not a split or merge of neighbouring axes.
pub fn reshape(x: &Array, shape: &[i64]) -> Result<Array> {
    let total = x.meta().num_elements();
    let size_error = || {
        // Python's tuple, as NumPy prints it: (5,5), (5,).
        let items: Vec<String> = shape.iter().map(i64::to_string).collect();
        let tuple = match items.len() {
            1 => format!("({},)", items[0]),
            _ => format!("({})", items.join(",")),
        };
        Error::Invalid(format!(
            "cannot reshape array of size {total} into shape {tuple}"
        ))
    };
    let unknown: Vec<usize> = (0..shape.len()).filter(|&k| shape[k] == -1).collect();
    if unknown.len() > 1 {
        return Err(Error::Invalid(
            "can only specify one unknown dimension".into(),
        ));
    }
    let mut to = Vec::with_capacity(shape.len());
    for &n in shape {
        match n {
            -1 => to.push(0),
            n => to.push(u64::try_from(n).map_err(|_| {
                Error::Invalid(format!("negative dimensions are not allowed ({n})"))
            })?),
        }
    }
    if let [k] = unknown[..] {
        let known = to
            .iter()
            .enumerate()
            .filter(|&(j, _)| j != k)
            .try_fold(1u64, |p, (_, &n)| p.checked_mul(n));
        let Some(known) = known.filter(|&n| n != 0 && total.is_multiple_of(n)) else {
            return Err(size_error());
        };
        to[k] = total / known;
    }
    if to.iter().try_fold(1u64, |p, &n| p.checked_mul(n)) != Some(total) {
        return Err(size_error());
    }
    let groups = if total == 0 {
        // Nothing to compute: every axis stands alone.
        (0..x.shape().len())
            .map(|d| AxisGroup {
                inputs: vec![d],
                outputs: vec![],
            })
            .chain((0..to.len()).map(|k| AxisGroup {
                inputs: vec![],
                outputs: vec![k],
            }))
            .collect()
    } else {
        groups(x.shape(), &to)?
    };
    let chunks = output_chunks(x.meta(), &to, &groups);
    let op = Reshape {
        input_shape: x.shape().to_vec(),
        shape: to,
        chunks,
        groups,
        dtype: x.dtype(),
    };
    Array::apply(Arc::new(op), vec![x.clone()])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_become_few_boxes() {
        // [5, 27) of a 4x10 array: row 0 from 5, rows 1..2 whole, row 2 to 7.
        assert_eq!(
            range_boxes(5, 27, &[4, 10]),
            [
                (vec![0, 5], vec![1, 5]),
                (vec![1, 0], vec![1, 10]),
                (vec![2, 0], vec![1, 7])
            ]
        );
        assert_eq!(range_boxes(10, 30, &[4, 10]), [(vec![1, 0], vec![2, 10])]);
        assert_eq!(range_boxes(3, 6, &[4, 10]), [(vec![0, 3], vec![1, 3])]);
    }

    #[test]
    fn groups_split_and_merge() {
        let g = |a: &[u64], b: &[u64]| groups(a, b);
        assert_eq!(
            g(&[6, 4], &[2, 3, 4]).unwrap()[0],
            AxisGroup {
                inputs: vec![0],
                outputs: vec![0, 1]
            }
        );
        assert_eq!(
            g(&[2, 3, 4], &[6, 4]).unwrap()[0],
            AxisGroup {
                inputs: vec![0, 1],
                outputs: vec![0]
            }
        );
        assert!(g(&[6, 4], &[4, 6])
            .unwrap_err()
            .to_string()
            .contains("split or merge"));
    }
}
