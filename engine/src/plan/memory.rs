//! The projected-memory model: what one task holds at its peak.
//!
//! Per task: each source region is held decoded (twice when it spans chunks: zarrs assembles it
//! as bytes before it is typed), plus one decoded source chunk; each region op holds its input regions (computed by
//! sub-programs) and its result; each materialized input is assembled into one buffer; each
//! output buffer is held with its encoded copy (compressed data is at most about the raw size for
//! the codecs used); one block register per fused value; and the ops' own scratch. Results kept
//! in memory for later stages are counted apart (they outlive the task).

use crate::geometry::Region;
use crate::plan::program::{piece_by_piece, FusedProgram, ProgramInput, BLOCK};
use crate::plan::Stage;

/// Projected (peak bytes while running, bytes held afterwards) of the stage's largest task.
pub fn projected_task_bytes(stage: &Stage) -> (u64, u64) {
    let unit = stage
        .tasks
        .chunk_region(&vec![0; stage.tasks.shape().len()]);
    let n = unit.num_elements();
    let outputs: u64 = stage
        .program
        .output_dtypes
        .iter()
        .map(|d| 2 * n * d.size() as u64)
        .sum();
    let held: u64 = stage
        .outputs
        .iter()
        .filter(|o| o.held)
        .map(|o| n * o.array.dtype().size() as u64)
        .sum();
    (program_bytes(&stage.program, &unit) + outputs, held)
}

/// Bytes of everything `program` holds while computing `region`, excluding its outputs.
fn program_bytes(program: &FusedProgram, region: &Region) -> u64 {
    let inputs: u64 = program
        .inputs
        .iter()
        .zip(program.input_regions(region))
        .map(|(input, r)| match input {
            ProgramInput::Source(source) => {
                let meta = source.meta();
                let size = meta.dtype.size() as u64;
                let chunk: u64 = meta.chunks.iter().product();
                // A read spanning chunks is assembled by zarrs as bytes, then typed: twice the
                // region at its peak (measured: a 2x2x2-chunk downsample read was ~35 MiB over a
                // one-copy model).
                let copies = if r.num_elements() > chunk { 2 } else { 1 };
                (copies * r.num_elements() + chunk) * size
            }
            ProgramInput::Held { meta, .. } => r.num_elements() * meta.dtype.size() as u64,
            ProgramInput::Region {
                op,
                inputs,
                input_metas,
                dtype,
            } => {
                let all_pieces = op.input_pieces(&r, input_metas);
                let one_at_a_time = piece_by_piece(op.as_ref(), inputs, &all_pieces);
                let held = inputs.iter().zip(all_pieces).zip(input_metas).flat_map(
                    |((sub, pieces), meta)| {
                        pieces.into_iter().map(move |p| {
                            program_bytes(sub, &p) + p.num_elements() * meta.dtype.size() as u64
                        })
                    },
                );
                // Piece by piece, one box is alive at a time, beside its part of the result.
                let subs: u64 = if one_at_a_time {
                    held.max().unwrap_or(0) + r.num_elements() * dtype.size() as u64
                } else {
                    held.sum()
                };
                subs + r.num_elements() * dtype.size() as u64 + op.scratch_bytes(&r)
            }
        })
        .sum();
    let registers: u64 = program
        .reg_dtypes
        .iter()
        .map(|d| (BLOCK * d.size()) as u64)
        .sum();
    let scratch: u64 = program
        .instrs
        .iter()
        .map(|i| i.op.scratch_bytes(region))
        .sum();
    inputs + registers + scratch
}
