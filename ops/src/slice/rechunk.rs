//! `rechunk`: the same values in other chunks. [`Rechunk`] is the identity as a region op whose
//! output chunks are the new ones; a task asks for its region one input chunk at a time
//! ([`Op::piecewise`]), so it holds one decoded input chunk beside its output, and its tasks
//! span whole input chunks where those are multiples of the new ones (each input chunk decoded
//! once).
//!
//! When the input chunks and the new ones cut different axes (slabs to blocks), a direct
//! rechunk's task either decodes every input chunk it touches for a thin part of it, or spans so
//! many that it does not fit in memory. [`rechunk`] then goes through an intermediate chunking,
//! as the rechunker algorithm does: the input is first cut into chunks that are the new ones
//! along the axes where those are smaller and as thick as a share of `max_mem` allows along the
//! others. The first pass's tasks along a band share its few input chunks, which the engine's
//! chunk cache keeps while the band runs (each decoded about once); the intermediate is kept for
//! the second pass (spilled to disk when memory runs short, as rechunker writes it to a store),
//! and each second-pass task reads whole intermediate chunks. The op tells the planner to keep
//! it ([`Op::materializes_inputs`]): recomputed inside the second pass, it would read the input
//! as directly as without it.

use std::sync::Arc;

use chunkwise_engine::{
    geometry::{copy_buffer_region, ChunkGrid},
    Array, ArrayMeta, Buffer, Error, Op, OpKind, Region, RegionData, Result,
};
use serde::Serialize;

/// `x` in chunks of `chunks`.
#[derive(Debug, Clone, Serialize)]
pub struct Rechunk {
    /// The new chunk shape.
    pub chunks: Vec<u64>,
    /// Whether a task spans whole input chunks ([`Op::preferred_block`]); off for a first pass
    /// into intermediate chunks, whose tasks stay one chunk each so that a second-pass task
    /// reads few of them (the input chunks they share stay in the engine's chunk cache).
    pub span_input_chunks: bool,
    /// Why an intermediate chunking was chosen, for plans (empty for a direct rechunk).
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
        let dtype = inputs
            .first()
            .map_or(chunkwise_engine::DType::Uint8, |p| p.data.dtype());
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

/// `x` in chunks of `chunks` for a run under a memory limit of `max_mem` bytes: directly when a
/// task spanning whole input chunks takes at most a quarter of it and decodes each input chunk
/// at most twice over, else through an intermediate chunking (see the
/// [module documentation](self)) whose first pass keeps to that quarter; `explain()` shows the
/// stages chosen.
///
/// # Errors
/// [`Error::Invalid`] for chunks of another number of axes than `x` or a zero extent.
pub fn rechunk(x: &Array, chunks: &[u64], max_mem: u64) -> Result<Array> {
    let meta = x.meta();
    ArrayMeta::new(meta.shape.clone(), chunks.to_vec(), meta.dtype)?;
    if meta.chunks == chunks {
        return Ok(x.clone());
    }
    let itemsize = meta.dtype.size() as u64;
    // A quarter of the limit per first-pass task: its results are held (or spilled) until the
    // second pass reads them, beside that pass's own tasks.
    let budget = max_mem / 4;
    let direct_fits = direct_task_bytes(&meta.chunks, chunks, &meta.shape, itemsize) <= budget;
    let amplification = direct_read_amplification(&meta.chunks, chunks, &meta.shape);
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
    if direct_fits && amplification <= 2.0 {
        return apply(x, chunks, true, String::new());
    }
    // Half the chunk cache for the input chunks a first-pass band shares.
    let mid = intermediate(&meta.chunks, chunks, &meta.shape, itemsize, max_mem / 8);
    if mid == meta.chunks || mid == chunks {
        return apply(x, chunks, true, String::new());
    }
    let note = if direct_fits {
        format!(
            "intermediate: a direct task from {:?} chunks would decode {amplification:.1}x its output",
            meta.chunks
        )
    } else {
        format!(
            "intermediate: a direct task spanning whole {:?} chunks would hold {} bytes, over a \
             quarter of max_mem {max_mem}",
            meta.chunks,
            direct_task_bytes(&meta.chunks, chunks, &meta.shape, itemsize)
        )
    };
    apply(&apply(x, &mid, false, note)?, chunks, true, String::new())
}
