//! The last step of a reduction: each fully merged state becomes its result (sum, mean,
//! variance...) in NumPy's result type; reduced axes are dropped unless `keepdims`.

use chunkwise_engine::geometry::extract_region;
use chunkwise_engine::{ArrayMeta, Buffer, DType, Error, Op, OpKind, Region, RegionData, Result};
use serde::Serialize;

use super::acc::{cast, Acc};
use super::kind::Reduction;

/// Final results from merged states (input: the reduced array's axes, 1 on each reduced one,
/// plus the slot axis).
#[derive(Debug, Serialize)]
pub struct ReduceFinish {
    /// What is computed.
    pub reduction: Reduction,
    /// The reduced axes, ascending.
    pub axes: Vec<usize>,
    /// Keep the reduced axes with extent 1.
    pub keepdims: bool,
    /// The type of the array reduced.
    pub input_dtype: DType,
    /// Where this reduction's state starts on the slot axis (several reductions may share a
    /// partial).
    pub offset: u64,
    /// Its slots there.
    pub slots: u64,
}

impl ReduceFinish {
    fn kept(&self, a: usize) -> bool {
        self.keepdims || !self.axes.contains(&a)
    }

    fn values<A: Acc>(&self, s: &[A], slots: usize) -> Result<Vec<A>> {
        if self.reduction == Reduction::Summary {
            return Ok(s
                .chunks_exact(slots)
                .flat_map(|s| {
                    [
                        s[1],
                        s[2],
                        s[3],
                        A::from_f64((s[4].to_f64() / s[0].to_f64()).sqrt()),
                    ]
                })
                .collect());
        }
        if self.reduction.vector() {
            return Ok(s
                .chunks_exact(slots)
                .flat_map(|s| s[1..].iter().copied())
                .collect());
        }
        let (plain, skips_nan) = self.reduction.base();
        s.chunks_exact(slots)
            .map(|s| {
                let n = s[0].to_f64();
                if skips_nan && n == 0.0 {
                    // Every element was NaN: NumPy gives NaN (with a warning), 0 for nansum,
                    // 1 for nanprod, and refuses nanargmin/nanargmax.
                    return match plain {
                        Reduction::Sum => Ok(A::ZERO),
                        Reduction::Prod => Ok(A::ONE),
                        Reduction::Argmin | Reduction::Argmax => Err(Error::Invalid(format!(
                            "{}: an all-NaN slice has no index",
                            self.reduction.name()
                        ))),
                        _ => Ok(A::from_f64(f64::NAN)),
                    };
                }
                Ok(match plain {
                    Reduction::Mean => A::from_f64(s[1].to_f64() / n),
                    Reduction::Var { ddof } => A::from_f64(var(s, ddof)),
                    Reduction::Std { ddof } => A::from_f64(var(s, ddof).sqrt()),
                    Reduction::Argmin | Reduction::Argmax => s[2],
                    Reduction::All => {
                        if s[1] == s[0] {
                            A::ONE
                        } else {
                            A::ZERO
                        }
                    }
                    _ => s[1],
                })
            })
            .collect()
    }
}

/// `M2 / max(n - ddof, 0)`, as NumPy (0/0 is NaN).
fn var<A: Acc>(s: &[A], ddof: u32) -> f64 {
    s[2].to_f64() / (s[0].to_f64() - f64::from(ddof)).max(0.0)
}

impl Op for ReduceFinish {
    fn name(&self) -> &str {
        self.reduction.name()
    }
    fn describe(&self) -> String {
        format!("axes={:?}, keepdims={}", self.axes, self.keepdims)
    }
    fn kind(&self) -> OpKind {
        OpKind::Region
    }
    fn output_meta(&self, inputs: &[ArrayMeta]) -> Result<ArrayMeta> {
        let [m] = inputs else {
            return Err(Error::Invalid("internal: a finish takes one array".into()));
        };
        let nd = m.shape.len() - 1;
        let keep: Vec<usize> = (0..nd).filter(|&a| self.kept(a)).collect();
        let mut shape: Vec<u64> = keep.iter().map(|&a| m.shape[a]).collect();
        let mut chunks: Vec<u64> = keep.iter().map(|&a| m.chunks[a]).collect();
        if self.reduction.vector() {
            // The histogram's bins (or the collected values) as a last axis in one chunk.
            shape.push(self.slots - 1);
            chunks.push(self.slots - 1);
        }
        ArrayMeta::new(shape, chunks, self.reduction.result_dtype(self.input_dtype))
    }
    fn input_regions(&self, output: &Region, inputs: &[ArrayMeta]) -> Vec<Region> {
        let nd = inputs[0].shape.len() - 1;
        let (mut start, mut shape) = (Vec::new(), Vec::new());
        let mut o = 0;
        for a in 0..nd {
            if self.kept(a) {
                start.push(output.start[o]);
                shape.push(output.shape[o]);
                o += 1;
            } else {
                start.push(0);
                shape.push(1);
            }
        }
        start.push(self.offset);
        shape.push(self.slots);
        vec![Region::new(start, shape)]
    }
    fn compute_region(&self, inputs: &[RegionData<'_>], _output: &Region) -> Result<Buffer> {
        let [p] = inputs else {
            return Err(Error::Invalid("internal: a finish takes one box".into()));
        };
        let owned;
        let data = if p.region == p.asked {
            p.data
        } else {
            owned = extract_region(p.data, p.region, p.asked);
            &owned
        };
        let slots = p.asked.shape[p.asked.ndim() - 1] as usize;
        let dtype = self.reduction.result_dtype(self.input_dtype);
        Ok(match data {
            Buffer::Float64(s) => cast(&self.values(s, slots)?, dtype),
            Buffer::Int64(s) => cast(&self.values(s, slots)?, dtype),
            Buffer::Uint64(s) => cast(&self.values(s, slots)?, dtype),
            other => {
                return Err(Error::Invalid(format!(
                    "internal: {} finish handed {} states",
                    self.reduction.name(),
                    other.dtype()
                )))
            }
        })
    }
}
