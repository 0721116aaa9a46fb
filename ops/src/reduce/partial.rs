//! The first level of a reduction: one partial state per input chunk (along the reduced axes)
//! and output element (along the others), so every input chunk is one task's read and the
//! partials of different chunks are computed in parallel.

use chunkwise_engine::geometry::for_each_index;
use chunkwise_engine::{ArrayMeta, Buffer, Error, Op, OpKind, Region, RegionData, Result};
use serde::Serialize;

use super::fold::{fold_piece, Mapping};
use super::kind::{layout, names, Reduction};

/// Partial states of `reductions` over `axes`, per input chunk: the output has the input's
/// axes (a reduced axis shrinks to its number of chunks, chunked by 1) and a trailing axis
/// holding each reduction's state side by side, so several reductions share one read.
#[derive(Debug, Serialize)]
pub struct ReducePartial {
    /// What is computed (all with the same accumulator type).
    pub reductions: Vec<Reduction>,
    /// The reduced axes, ascending.
    pub axes: Vec<usize>,
    /// The input's shape and chunks: a partial covers one input chunk along the reduced axes.
    pub input: ArrayMeta,
}

impl ReducePartial {
    /// The accumulator type the reductions share (the first's; [`super::reduce_many`] groups
    /// reductions by it).
    fn acc_dtype(&self) -> chunkwise_engine::DType {
        self.reductions
            .first()
            .map_or(chunkwise_engine::DType::Float64, |r| {
                r.acc_dtype(self.input.dtype)
            })
    }

    fn reduced(&self) -> Vec<bool> {
        (0..self.input.shape.len())
            .map(|a| self.axes.contains(&a))
            .collect()
    }

    /// The input box of each output index combination along the reduced axes in `output`.
    fn boxes(&self, output: &Region) -> Vec<Region> {
        let reduced = self.reduced();
        let nd = reduced.len();
        let lo: Vec<u64> = (0..nd)
            .map(|a| if reduced[a] { output.start[a] } else { 0 })
            .collect();
        let hi: Vec<u64> = (0..nd)
            .map(|a| {
                if reduced[a] {
                    output.start[a] + output.shape[a]
                } else {
                    1
                }
            })
            .collect();
        let mut boxes = Vec::new();
        for_each_index(&lo, &hi, |j| {
            let (mut start, mut shape) = (Vec::with_capacity(nd), Vec::with_capacity(nd));
            for a in 0..nd {
                if reduced[a] {
                    let (c, n) = (self.input.chunks[a], self.input.shape[a]);
                    start.push(j[a] * c);
                    shape.push(c.min(n - j[a] * c));
                } else {
                    start.push(output.start[a]);
                    shape.push(output.shape[a]);
                }
            }
            boxes.push(Region::new(start, shape));
        });
        boxes
    }
}

impl Op for ReducePartial {
    fn name(&self) -> &str {
        "reduce_partial"
    }
    fn describe(&self) -> String {
        format!("{}, axes={:?}", names(&self.reductions), self.axes)
    }
    fn kind(&self) -> OpKind {
        OpKind::Region
    }
    fn output_meta(&self, inputs: &[ArrayMeta]) -> Result<ArrayMeta> {
        let [m] = inputs else {
            return Err(Error::Invalid("a reduction takes one array".into()));
        };
        let reduced = self.reduced();
        let mut shape: Vec<u64> = (0..m.shape.len())
            .map(|a| {
                if reduced[a] {
                    m.shape[a].div_ceil(m.chunks[a])
                } else {
                    m.shape[a]
                }
            })
            .collect();
        let mut chunks: Vec<u64> = (0..m.shape.len())
            .map(|a| if reduced[a] { 1 } else { m.chunks[a] })
            .collect();
        let (_, slots) = layout(&self.reductions, self.input.dtype);
        shape.push(slots);
        chunks.push(slots);
        ArrayMeta::new(shape, chunks, self.acc_dtype())
    }
    fn input_regions(&self, output: &Region, _inputs: &[ArrayMeta]) -> Vec<Region> {
        let boxes = self.boxes(output);
        let nd = self.input.shape.len();
        let first = &boxes[0];
        let last = &boxes[boxes.len() - 1];
        let start = first.start.clone();
        let shape = (0..nd)
            .map(|a| last.start[a] + last.shape[a] - start[a])
            .collect();
        vec![Region::new(start, shape)]
    }
    fn input_pieces(&self, output: &Region, _inputs: &[ArrayMeta]) -> Vec<Vec<Region>> {
        vec![self.boxes(output)]
    }
    fn piecewise(&self) -> bool {
        true
    }
    fn compute_region(&self, inputs: &[RegionData<'_>], output: &Region) -> Result<Buffer> {
        let dtype = self.acc_dtype();
        let mut out = Buffer::zeros(dtype, output.num_elements() as usize);
        for piece in inputs {
            self.compute_piece(piece, output, &mut out)?;
        }
        Ok(out)
    }
    fn compute_piece(
        &self,
        piece: &RegionData<'_>,
        output: &Region,
        out: &mut Buffer,
    ) -> Result<()> {
        let reduced = self.reduced();
        let map = Mapping {
            reduced: &reduced,
            chunks: &self.input.chunks,
            shape: &self.input.shape,
            output,
        };
        let (states, _) = layout(&self.reductions, self.input.dtype);
        macro_rules! go {
            ($($variant:ident => [$($acc:ident),*]),* $(,)?) => {
                match (piece.data, out) {
                    $($(
                        (Buffer::$variant(xs), Buffer::$acc(o)) => {
                            for (r, &(state, at)) in self.reductions.iter().zip(&states) {
                                let skip = r.base().1;
                                fold_piece(state, skip, &map, piece.region, piece.asked, xs, &mut o[at..]);
                            }
                        }
                    )*)*
                    _ => {
                        return Err(Error::Invalid(format!(
                            "internal: {} partial handed {} data",
                            names(&self.reductions),
                            piece.data.dtype()
                        )))
                    }
                }
            };
        }
        go!(
            Bool => [Float64, Int64],
            Int8 => [Float64, Int64],
            Int16 => [Float64, Int64],
            Int32 => [Float64, Int64],
            Int64 => [Float64, Int64],
            Uint8 => [Float64, Uint64],
            Uint16 => [Float64, Uint64],
            Uint32 => [Float64, Uint64],
            Uint64 => [Float64, Uint64],
            Float32 => [Float64],
            Float64 => [Float64],
        );
        Ok(())
    }
}
