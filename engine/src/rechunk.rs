//! `rechunk`: the same values in other chunks, and the planner that decides how — one for the
//! `rechunk` op and for an output written in other chunks than its expression's (see
//! [`crate::plan`], which sends such an output through [`rechunk`] when a direct rewrite would
//! not fit or would decode too much).
//!
//! [`Rechunk`] is the identity as a region op whose output chunks are the new ones; a task asks
//! for its region one input chunk at a time ([`Op::piecewise`]), so it holds one decoded input
//! chunk beside its output, and its tasks span whole input chunks where those are multiples of
//! the new ones (each input chunk decoded once).
//!
//! When the input chunks and the new ones cut different axes (slabs to blocks), a direct
//! rechunk's task either decodes every input chunk it touches for a thin part of it, or spans so
//! many that it does not fit in memory. [`rechunk`] then goes through an intermediate chunking,
//! as the rechunker algorithm does: the input is first cut into chunks that are the new ones
//! along the axes where those are smaller and as thick as a share of `max_mem` allows along the
//! others. The first pass's tasks along a band share its few input chunks; they start one band
//! after another (the plan orders tasks by the input chunks they share, see
//! [`crate::plan::Stage::read_groups`]) and the engine's chunk cache keeps the band's chunks
//! meanwhile, so each is decoded once. The intermediate is kept for the second pass (spilled to
//! disk when memory runs short, as rechunker writes it to a store), and each second-pass task
//! reads whole intermediate chunks. The op tells the planner to keep it
//! ([`Op::materializes_inputs`]): recomputed inside the second pass, it would read the input as
//! directly as without it. [`RechunkPlan`] says what a plan reads and writes, for `explain()`.

use std::sync::Arc;

use serde::Serialize;

use crate::buffer::Buffer;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::expr::Array;
use crate::geometry::{copy_buffer_region, ChunkGrid, Region};
use crate::meta::ArrayMeta;
use crate::op::{Op, OpKind, RegionData};
use crate::plan::human_bytes;

/// `x` in chunks of `chunks`.
#[derive(Debug, Clone, Serialize)]
pub struct Rechunk {
    /// The new chunk shape.
    pub chunks: Vec<u64>,
    /// Whether a task spans whole input chunks ([`Op::preferred_block`]); off for a first pass
    /// into intermediate chunks, whose tasks stay one chunk each so that a second-pass task
    /// reads few of them (the input chunks they share stay in the engine's chunk cache).
    pub span_input_chunks: bool,
    /// What the plan reads and writes and why ([`RechunkPlan::summary`]), for `explain()`.
    pub note: String,
}

impl Op for Rechunk {
    fn name(&self) -> &str {
        "rechunk"
    }

    fn describe(&self) -> String {
        match self.note.as_str() {
            "" => format!("chunks={:?}", self.chunks),
            note => format!("chunks={:?}, {note}", self.chunks),
        }
    }

    fn kind(&self) -> OpKind {
        OpKind::Region
    }

    fn output_meta(&self, inputs: &[ArrayMeta]) -> Result<ArrayMeta> {
        let [m] = inputs else {
            return Err(Error::Invalid("rechunk takes one array".into()));
        };
        ArrayMeta::new(m.shape.clone(), self.chunks.clone(), m.dtype)
    }

    /// The output region, cut along the input's chunk boundaries.
    fn input_pieces(&self, output: &Region, inputs: &[ArrayMeta]) -> Vec<Vec<Region>> {
        let grid = ChunkGrid::new(inputs[0].shape.clone(), inputs[0].chunks.clone());
        let pieces = grid
            .chunks_overlapping(output)
            .iter()
            .filter_map(|c| grid.chunk_region(c).intersect(output))
            .collect();
        vec![pieces]
    }

    fn compute_region(&self, inputs: &[RegionData<'_>], output: &Region) -> Result<Buffer> {
        // Pieces that come as consecutive runs of the output are appended by the engine
        // instead ([`Op::copies_pieces`]); these fill a zeroed buffer.
        let dtype = inputs.first().map_or(DType::Uint8, |p| p.data.dtype());
        let mut out = Buffer::zeros(dtype, output.num_elements() as usize);
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
        // The data may cover more than the box asked for (a block read shared with other ops);
        // being the input's values, all of it that falls in the output is right to copy.
        copy_buffer_region(piece.data, piece.region, out, output)
    }

    fn copies_pieces(&self) -> bool {
        true
    }

    fn materializes_inputs(&self) -> bool {
        true
    }

    fn preferred_block(&self, output_chunks: &[u64], input_chunks: &[u64]) -> Vec<u64> {
        output_chunks
            .iter()
            .zip(input_chunks)
            .map(|(&o, &i)| match self.span_input_chunks && i % o == 0 {
                true => i / o,
                false => 1,
            })
            .collect()
    }
}

/// The bytes a direct rechunk task from `from` to `to` chunks holds: the block of new chunks
/// spanning whole input chunks (see [`Rechunk::preferred_block`], at most 8 per axis as the
/// planner caps it), one decoded input chunk, and the read of it.
fn direct_task_bytes(from: &[u64], to: &[u64], shape: &[u64], itemsize: u64) -> u64 {
    let block: u64 = to
        .iter()
        .zip(from)
        .zip(shape)
        .map(|((&o, &i), &n)| {
            let b = if i % o == 0 { (i / o).min(8) } else { 1 };
            (o * b).min(n)
        })
        .product();
    let chunk: u64 = from.iter().zip(shape).map(|(&c, &n)| c.min(n)).product();
    (block + 2 * chunk) * itemsize
}

/// Decoded input bytes per output byte of a direct rechunk: each task decodes every input chunk
/// its region touches, whole.
fn direct_read_amplification(from: &[u64], to: &[u64], shape: &[u64]) -> f64 {
    to.iter()
        .zip(from)
        .zip(shape)
        .map(|((&o, &i), &n)| {
            let (o, i) = (o.min(n), i.min(n));
            // Along an axis, a task of extent o (or a block of them spanning i, at most 8 as the
            // planner caps blocks) decodes ceil(o / i) input chunks of extent i, plus one when
            // unaligned.
            let task = if i % o == 0 { i.min(8 * o) } else { o };
            let touched = task.div_ceil(i) + u64::from(i % o != 0 && o % i != 0);
            (touched * i) as f64 / task as f64
        })
        .product()
}

/// The intermediate chunks between `from` and `to` whose first-pass task touches input chunks
/// of at most `budget` bytes: the new chunk along every axis where it is at most the input's,
/// and along the others (where the input is thinner) the input's extent times the largest common
/// factor that keeps within `budget` and divides the new extent (so each new chunk reads whole
/// intermediate ones). The tasks of a first-pass band share those input chunks, which the
/// engine's chunk cache (a quarter of the limit) keeps while the band runs.
fn intermediate(from: &[u64], to: &[u64], shape: &[u64], itemsize: u64, budget: u64) -> Vec<u64> {
    let chunk: u64 = from
        .iter()
        .zip(shape)
        .map(|(&c, &n)| c.min(n))
        .product::<u64>()
        * itemsize;
    let thin: Vec<usize> = (0..to.len()).filter(|&d| from[d] < to[d]).collect();
    let mut mid: Vec<u64> = to.iter().zip(from).map(|(&o, &i)| o.min(i)).collect();
    let mut best = mid.clone();
    for factor in 2u64.. {
        let mut touched = 1u64;
        for &d in &thin {
            mid[d] = (from[d] * factor).min(to[d]);
            touched = touched.saturating_mul(mid[d].div_ceil(from[d]));
        }
        if touched.saturating_mul(chunk) > budget {
            break;
        }
        if thin.iter().all(|&d| to[d].is_multiple_of(mid[d])) {
            best.clone_from(&mid);
        }
        if thin.iter().all(|&d| mid[d] == to[d]) {
            break;
        }
    }
    best
}

/// How [`rechunk`] rewrites an array into other chunks under a memory limit, and what it costs.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct RechunkPlan {
    /// The chunks of the first pass, when the rewrite goes through an intermediate chunking.
    pub intermediate: Option<Vec<u64>>,
    /// Bytes decoded over the array's bytes: 1 when every input chunk is decoded once; an
    /// intermediate adds its own reading back.
    pub read_amplification: f64,
    /// Bytes written over the array's bytes: 1 for the output; an intermediate adds its own
    /// (kept in memory, or spilled to disk when memory runs short).
    pub write_amplification: f64,
    /// Why the plan was chosen, for `explain()`.
    pub reason: String,
}

impl RechunkPlan {
    /// One line for plans: the intermediate chunking, if any, and the amplifications.
    pub fn summary(&self) -> String {
        let amplification = format!(
            "reads {:.1}x and writes {:.1}x the array's bytes",
            self.read_amplification, self.write_amplification
        );
        match &self.intermediate {
            Some(mid) => format!(
                "intermediate chunks {mid:?}: {amplification}; {}",
                self.reason
            ),
            None => format!("direct: {amplification}"),
        }
    }
}

/// The plan for rewriting an array of `meta` into chunks of `chunks` under a memory limit of
/// `max_mem` bytes: directly when a task spanning whole input chunks takes at most a quarter of
/// it and decodes each input chunk at most twice over, else through an intermediate chunking
/// (see the [module documentation](self)) whose first pass keeps to that quarter.
pub fn plan_rechunk(meta: &ArrayMeta, chunks: &[u64], max_mem: u64) -> RechunkPlan {
    let (from, shape) = (&meta.chunks, &meta.shape);
    let itemsize = meta.dtype.size() as u64;
    // A quarter of the limit per first-pass task: its results are held (or spilled) until the
    // second pass reads them, beside that pass's own tasks.
    let budget = max_mem / 4;
    let direct_bytes = direct_task_bytes(from, chunks, shape, itemsize);
    let amplification = direct_read_amplification(from, chunks, shape);
    let direct = RechunkPlan {
        intermediate: None,
        read_amplification: amplification,
        write_amplification: 1.0,
        reason: String::new(),
    };
    if from.as_slice() == chunks || (direct_bytes <= budget && amplification <= 2.0) {
        return direct;
    }
    // Half the chunk cache for the input chunks a first-pass band shares.
    let mid = intermediate(from, chunks, shape, itemsize, max_mem / 8);
    if mid == *from || mid == chunks {
        return direct;
    }
    let reason = if direct_bytes <= budget {
        format!("a direct task from {from:?} chunks would decode {amplification:.1}x its output")
    } else {
        format!(
            "a direct task spanning whole {from:?} chunks would hold {}, over a quarter of \
             max_mem {}",
            human_bytes(direct_bytes),
            human_bytes(max_mem)
        )
    };
    RechunkPlan {
        intermediate: Some(mid),
        read_amplification: 2.0,
        write_amplification: 2.0,
        reason,
    }
}

/// `x` in chunks of `chunks` for a run under a memory limit of `max_mem` bytes, as
/// [`plan_rechunk`] plans it; `explain()` shows the stages chosen, the intermediate chunking and
/// the amplifications.
///
/// # Errors
/// [`Error::Invalid`] for chunks of another number of axes than `x` or a zero extent.
pub fn rechunk(x: &Array, chunks: &[u64], max_mem: u64) -> Result<Array> {
    let meta = x.meta();
    ArrayMeta::new(meta.shape.clone(), chunks.to_vec(), meta.dtype)?;
    if meta.chunks == chunks {
        return Ok(x.clone());
    }
    let plan = plan_rechunk(meta, chunks, max_mem);
    let apply = |a: &Array, c: &[u64], span_input_chunks: bool, note: String| {
        Array::apply(
            Arc::new(Rechunk {
                chunks: c.to_vec(),
                span_input_chunks,
                note,
            }),
            vec![a.clone()],
        )
    };
    match &plan.intermediate {
        None => apply(x, chunks, true, plan.summary()),
        Some(mid) => {
            let first = apply(x, mid, false, plan.summary())?;
            apply(&first, chunks, true, format!("second pass from {mid:?}"))
        }
    }
}
