//! [`Remap`]: the one region op behind slicing and most of the manipulation vocabulary. Every
//! op it stands for is separable by axis: output element `(o_0, ..., o_m)` reads input element
//! `(f_0(o_{k_0}), ..., f_n(o_{k_n}))`, each input axis either pinned to one index (an integer
//! index drops it) or following one output axis through an [`IndexMap`] (a strided slice, a
//! flip, a repeat, a tile, a roll, a padded edge), and output axes no input axis follows are new
//! (`None` in an index, `expand_dims`). A permutation is the choice of `k_d`.
//!
//! The chunk mapping asks, per input axis, only for the indices an output region reads, grouped
//! into runs that touch no chunk without a wanted index: a slice with a step larger than the
//! chunks reads one element per chunk it crosses, a roll's task at the wrap point reads both
//! ends, not the axis between. The boxes are the product of the runs of every axis, each filling
//! its own output positions, so a task may hold them one at a time ([`Op::piecewise`]).

use chunkwise_engine::{
    dispatch, geometry::strides, Array, ArrayMeta, Buffer, DType, Error, Op, OpKind, Region,
    RegionData, Result, Scalar,
};
use serde::Serialize;

use super::gather::Gather;
use crate::elementwise::num::Num;
use crate::stencil::BoundaryMode;

/// Which input index one output index reads, along one axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IndexMap {
    /// `start + step * o` (a slice; a flip has step -1, a stretched size-1 axis step 0).
    Strided {
        /// The index output 0 reads.
        start: u64,
        /// The distance between consecutive reads.
        step: i64,
    },
    /// `o / repeats` (`np.repeat`).
    Repeat {
        /// How often each element repeats.
        repeats: u64,
    },
    /// `(o + offset) % len` (`np.tile` with offset 0, `np.roll`).
    Cyclic {
        /// Added before the modulo.
        offset: u64,
        /// The input axis's extent.
        len: u64,
    },
    /// `o - before` extended beyond the axis by `mode` (`np.pad`); `None` (the constant) where
    /// the mode gives none.
    Padded {
        /// Positions added before the data.
        before: u64,
        /// The input axis's extent.
        len: u64,
        /// How the edge extends (NumPy's names mapped to scipy.ndimage's).
        mode: BoundaryMode,
    },
}

impl IndexMap {
    /// The input index output index `o` reads; `None` for the fill value.
    pub fn index(self, o: u64) -> Option<u64> {
        match self {
            IndexMap::Strided { start, step } => {
                Some((i128::from(start) + i128::from(step) * i128::from(o)) as u64)
            }
            IndexMap::Repeat { repeats } => Some(o / repeats.max(1)),
            IndexMap::Cyclic { offset, len } => Some((o + offset) % len.max(1)),
            IndexMap::Padded { before, len, mode } => {
                let i = i64::try_from(o).ok()? - i64::try_from(before).ok()?;
                if len == 0 {
                    return None;
                }
                mode.map(i, len as i64).map(|i| i as u64)
            }
        }
    }
}

/// How one input axis is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InputAxis {
    /// Always at `index`; no output axis follows it.
    Pinned {
        /// The index.
        index: u64,
    },
    /// Along output axis `axis`, through `map`.
    Follows {
        /// The output axis.
        axis: usize,
        /// Output index to input index.
        map: IndexMap,
    },
}

/// A separable gather (see the [module documentation](self)), under the name of the op it
/// stands for.
#[derive(Debug, Clone, Serialize)]
pub struct Remap {
    /// The op's name in pipeline files and plans (`slice`, `flip`, `pad`, ...).
    pub name: &'static str,
    /// Its parameters as the user gave them, for plans.
    pub params: String,
    /// Per input axis.
    pub axes: Vec<InputAxis>,
    /// The output shape.
    pub shape: Vec<u64>,
    /// The output chunk shape.
    pub chunks: Vec<u64>,
    /// The element type (in and out), for tasks whose region reads no input.
    pub dtype: DType,
    /// The value where an [`IndexMap::Padded`] axis gives none.
    pub fill: Option<Scalar>,
}

impl Remap {
    /// Applies the op to `x`.
    ///
    /// # Errors
    /// [`Error::Invalid`] when the mapping reads outside `x` (a builder's mistake, reported).
    pub fn apply(self, x: &Array) -> Result<Array> {
        Array::apply(std::sync::Arc::new(self), vec![x.clone()])
    }

    /// Per input axis, the runs `[start, end)` of indices that output region `output` reads,
    /// split where a run would cross a chunk holding none of them.
    fn runs(&self, output: &Region, input_chunks: &[u64]) -> Vec<Vec<(u64, u64)>> {
        self.axes
            .iter()
            .zip(input_chunks)
            .map(|(axis, &chunk)| match *axis {
                InputAxis::Pinned { index } => vec![(index, index + 1)],
                InputAxis::Follows { axis, map } => {
                    let mut wanted: Vec<u64> = (output.start[axis]..output.end()[axis])
                        .filter_map(|o| map.index(o))
                        .collect();
                    wanted.sort_unstable();
                    wanted.dedup();
                    group_runs(&wanted, chunk.max(1))
                }
            })
            .collect()
    }

    /// Checks that every index the map reads lies inside an input of `shape`.
    fn check_bounds(&self, shape: &[u64]) -> Result<()> {
        for (d, (axis, &n)) in self.axes.iter().zip(shape).enumerate() {
            let (first, last) = match *axis {
                InputAxis::Pinned { index } => (Some(index), Some(index)),
                InputAxis::Follows { axis, map } => match self.shape.get(axis) {
                    None => {
                        return Err(Error::Invalid(format!(
                            "internal: {}: input axis {d} follows missing output axis {axis}",
                            self.name
                        )))
                    }
                    Some(0) => continue,
                    Some(&len) => match map {
                        IndexMap::Strided { .. } | IndexMap::Repeat { .. } => {
                            (map.index(0), map.index(len - 1))
                        }
                        IndexMap::Cyclic { len, .. } | IndexMap::Padded { len, .. } => {
                            (len.checked_sub(1).map(|_| 0), len.checked_sub(1))
                        }
                    },
                },
            };
            let inside = |i: Option<u64>| i.is_none_or(|i| i < n);
            if !inside(first) || !inside(last) {
                return Err(Error::Invalid(format!(
                    "internal: {}({}) reads outside axis {d} of extent {n}",
                    self.name, self.params
                )));
            }
        }
        Ok(())
    }

    /// Writes the outputs that input box `piece` gives into `out` (C order over `output`).
    fn scatter(&self, piece: &RegionData<'_>, output: &Region, out: &mut Buffer) -> Result<()> {
        self.gather(piece, output)?
            .apply(self.name, piece.data, out)
    }

    /// Per output axis, the output offsets box `piece` fills and the input offset each reads.
    fn gather(&self, piece: &RegionData<'_>, output: &Region) -> Result<Gather> {
        let in_strides = strides(&piece.region.shape);
        let out_strides = strides(&output.shape);
        let mut factors: Vec<Option<Vec<(usize, usize)>>> = vec![None; output.ndim()];
        let mut base = 0usize;
        let (asked_end, region_start) = (piece.asked.end(), &piece.region.start);
        let outside = || {
            Error::Invalid(format!(
                "internal: {} was handed a box it did not ask for",
                self.name
            ))
        };
        for (d, axis) in self.axes.iter().enumerate() {
            match *axis {
                InputAxis::Pinned { index } => {
                    let at = index.checked_sub(region_start[d]).ok_or_else(outside)?;
                    base += at as usize * in_strides[d];
                }
                InputAxis::Follows { axis, map } => {
                    let within = piece.asked.start[d]..asked_end[d];
                    let list = (0..output.shape[axis])
                        .filter_map(|p| {
                            let i = map.index(output.start[axis] + p)?;
                            within.contains(&i).then(|| {
                                (
                                    p as usize * out_strides[axis],
                                    (i - region_start[d]) as usize * in_strides[d],
                                )
                            })
                        })
                        .collect();
                    factors[axis] = Some(list);
                }
            }
        }
        let factors = factors
            .into_iter()
            .zip(&output.shape)
            .zip(&out_strides)
            .map(|((list, &n), &stride)| {
                list.unwrap_or_else(|| (0..n as usize).map(|p| (p * stride, 0)).collect())
            })
            .collect();
        Ok(Gather { factors, base })
    }

    /// A buffer for `output`, holding the fill value where one is set.
    fn blank(&self, output: &Region) -> Buffer {
        let mut out = Buffer::zeros(self.dtype, output.num_elements() as usize);
        if let Some(fill) = self.fill {
            dispatch!(Buffer, &mut out, v => v.fill(Num::from_scalar(fill)));
        }
        out
    }
}

/// `wanted` (sorted, distinct) as runs `[start, end)`, a new run where the next index lies
/// beyond the chunk after the current one's.
pub(super) fn group_runs(wanted: &[u64], chunk: u64) -> Vec<(u64, u64)> {
    let mut runs: Vec<(u64, u64)> = Vec::new();
    for &i in wanted {
        match runs.last_mut() {
            Some(run) if i / chunk <= (run.1 - 1) / chunk + 1 => run.1 = i + 1,
            _ => runs.push((i, i + 1)),
        }
    }
    runs
}

impl Op for Remap {
    fn name(&self) -> &str {
        self.name
    }

    fn describe(&self) -> String {
        self.params.clone()
    }

    fn kind(&self) -> OpKind {
        OpKind::Region
    }

    fn output_meta(&self, inputs: &[ArrayMeta]) -> Result<ArrayMeta> {
        let [m] = inputs else {
            return Err(Error::Invalid(format!("{} takes one array", self.name)));
        };
        if m.shape.len() != self.axes.len() || m.dtype != self.dtype {
            return Err(Error::Invalid(format!(
                "internal: {} was built for another input",
                self.name
            )));
        }
        self.check_bounds(&m.shape)?;
        ArrayMeta::new(self.shape.clone(), self.chunks.clone(), m.dtype)
    }

    fn input_regions(&self, output: &Region, inputs: &[ArrayMeta]) -> Vec<Region> {
        let runs = self.runs(output, &inputs[0].chunks);
        let (start, shape) = runs
            .iter()
            .map(|r| match (r.first(), r.last()) {
                (Some(a), Some(b)) => (a.0, b.1 - a.0),
                _ => (0, 0),
            })
            .unzip();
        vec![Region::new(start, shape)]
    }

    fn input_pieces(&self, output: &Region, inputs: &[ArrayMeta]) -> Vec<Vec<Region>> {
        let runs = self.runs(output, &inputs[0].chunks);
        let mut boxes = Vec::new();
        let lo = vec![0u64; runs.len()];
        let hi: Vec<u64> = runs.iter().map(|r| r.len() as u64).collect();
        chunkwise_engine::geometry::for_each_index(&lo, &hi, |k| {
            let (start, shape) = k
                .iter()
                .zip(&runs)
                .map(|(&j, r)| {
                    let (s, e) = r[j as usize];
                    (s, e - s)
                })
                .unzip();
            boxes.push(Region::new(start, shape));
        });
        vec![boxes]
    }

    fn compute_region(&self, inputs: &[RegionData<'_>], output: &Region) -> Result<Buffer> {
        let mut out = self.blank(output);
        for piece in inputs {
            self.scatter(piece, output, &mut out)?;
        }
        Ok(out)
    }

    fn piecewise(&self) -> bool {
        self.fill.is_none()
    }

    fn compute_piece(
        &self,
        piece: &RegionData<'_>,
        output: &Region,
        out: &mut Buffer,
    ) -> Result<()> {
        self.scatter(piece, output, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_skip_chunks_without_a_wanted_index() {
        assert_eq!(group_runs(&[0, 2, 4, 6], 4), [(0, 7)]);
        assert_eq!(group_runs(&[0, 10, 20], 4), [(0, 1), (10, 11), (20, 21)]);
        assert_eq!(group_runs(&[0, 1, 8, 9], 4), [(0, 2), (8, 10)]);
        assert!(group_runs(&[], 4).is_empty());
    }

    #[test]
    fn index_maps_follow_numpy() {
        let flip = IndexMap::Strided { start: 4, step: -1 };
        assert_eq!(
            (0..5).filter_map(|o| flip.index(o)).collect::<Vec<_>>(),
            [4, 3, 2, 1, 0]
        );
        let roll = IndexMap::Cyclic { offset: 3, len: 5 };
        assert_eq!(
            (0..5).filter_map(|o| roll.index(o)).collect::<Vec<_>>(),
            [3, 4, 0, 1, 2]
        );
        let pad = IndexMap::Padded {
            before: 2,
            len: 3,
            mode: BoundaryMode::Constant,
        };
        assert_eq!(
            (0..6).map(|o| pad.index(o)).collect::<Vec<_>>(),
            [None, None, Some(0), Some(1), Some(2), None]
        );
    }
}
