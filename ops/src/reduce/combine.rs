//! One level of a reduction's combine tree: each output state merges up to `fan_in` states per
//! reduced axis of the level below, in index order. The tree's shape follows from the chunk
//! grid alone, so the merge order — and every bit of a float result — is the same for any
//! thread count and any task order.

use chunkwise_engine::geometry::{for_each_index, strides};
use chunkwise_engine::{ArrayMeta, Buffer, Error, Op, OpKind, Region, RegionData, Result};
use serde::Serialize;

use super::acc::Acc;
use super::fold::merge;
use super::kind::{layout, names, Reduction, State};

/// Merges partial states `fan_in` at a time along the reduced axes (input and output: the
/// reduced array's axes plus the trailing slot axis).
#[derive(Debug, Serialize)]
pub struct ReduceCombine {
    /// What is computed (the states side by side, as in [`super::ReducePartial`]).
    pub reductions: Vec<Reduction>,
    /// The reduced axes, ascending.
    pub axes: Vec<usize>,
    /// States merged per reduced axis.
    pub fan_in: u64,
    /// The input (partial) shape.
    pub input_shape: Vec<u64>,
    /// The type of the array reduced.
    pub input_dtype: chunkwise_engine::DType,
}

impl ReduceCombine {
    fn reduced(&self, a: usize) -> bool {
        self.axes.contains(&a)
    }
}

impl Op for ReduceCombine {
    fn name(&self) -> &str {
        "reduce_combine"
    }
    fn describe(&self) -> String {
        format!("{}, fan_in={}", names(&self.reductions), self.fan_in)
    }
    fn kind(&self) -> OpKind {
        OpKind::Region
    }
    fn output_meta(&self, inputs: &[ArrayMeta]) -> Result<ArrayMeta> {
        let [m] = inputs else {
            return Err(Error::Invalid("internal: a combine takes one array".into()));
        };
        let shape = (0..m.shape.len())
            .map(|a| {
                if self.reduced(a) {
                    m.shape[a].div_ceil(self.fan_in)
                } else {
                    m.shape[a]
                }
            })
            .collect();
        ArrayMeta::new(shape, m.chunks.clone(), m.dtype)
    }
    fn input_regions(&self, output: &Region, _inputs: &[ArrayMeta]) -> Vec<Region> {
        let mut r = output.clone();
        for a in 0..r.ndim() {
            if self.reduced(a) {
                r.start[a] = output.start[a] * self.fan_in;
                let end =
                    ((output.start[a] + output.shape[a]) * self.fan_in).min(self.input_shape[a]);
                r.shape[a] = end - r.start[a];
            }
        }
        vec![r]
    }
    fn input_pieces(&self, output: &Region, inputs: &[ArrayMeta]) -> Vec<Vec<Region>> {
        let whole = self.input_regions(output, inputs).remove(0);
        let nd = whole.ndim();
        let lo: Vec<u64> = (0..nd)
            .map(|a| if self.reduced(a) { whole.start[a] } else { 0 })
            .collect();
        let end = whole.end();
        let hi: Vec<u64> = (0..nd)
            .map(|a| if self.reduced(a) { end[a] } else { 1 })
            .collect();
        let mut boxes = Vec::new();
        for_each_index(&lo, &hi, |j| {
            let mut b = whole.clone();
            for (a, &ja) in j.iter().enumerate() {
                if self.reduced(a) {
                    b.start[a] = ja;
                    b.shape[a] = 1;
                }
            }
            boxes.push(b);
        });
        vec![boxes]
    }
    fn piecewise(&self) -> bool {
        true
    }
    fn compute_region(&self, inputs: &[RegionData<'_>], output: &Region) -> Result<Buffer> {
        let dtype = inputs
            .first()
            .map_or(chunkwise_engine::DType::Float64, |p| p.data.dtype());
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
        let (states, _) = layout(&self.reductions, self.input_dtype);
        match (piece.data, out) {
            (Buffer::Float64(b), Buffer::Float64(a)) => {
                self.merge_box(&states, piece, b, output, a)
            }
            (Buffer::Int64(b), Buffer::Int64(a)) => self.merge_box(&states, piece, b, output, a),
            (Buffer::Uint64(b), Buffer::Uint64(a)) => self.merge_box(&states, piece, b, output, a),
            _ => {
                return Err(Error::Invalid(format!(
                    "internal: {} combine handed {} states",
                    names(&self.reductions),
                    piece.data.dtype()
                )))
            }
        }
        Ok(())
    }
}

impl ReduceCombine {
    /// Merges every state of the box `piece.asked` into its output state.
    fn merge_box<A: Acc>(
        &self,
        states: &[(State, usize)],
        piece: &RegionData<'_>,
        b: &[A],
        output: &Region,
        a: &mut [A],
    ) {
        let asked = piece.asked;
        let nd = asked.ndim() - 1;
        let slots = asked.shape[nd] as usize;
        let (ds, os) = (strides(&piece.region.shape), strides(&output.shape));
        let end = asked.end();
        for_each_index(&asked.start[..nd], &end[..nd], |at| {
            let mut d = 0;
            let mut o = 0;
            for ax in 0..nd {
                d += (at[ax] - piece.region.start[ax]) as usize * ds[ax];
                let oi = if self.reduced(ax) {
                    at[ax] / self.fan_in
                } else {
                    at[ax]
                };
                o += (oi - output.start[ax]) as usize * os[ax];
            }
            for (i, &(state, at)) in states.iter().enumerate() {
                let end = states.get(i + 1).map_or(slots, |&(_, next)| next);
                merge(state, &mut a[o + at..o + end], &b[d + at..d + end]);
            }
        });
    }
}
