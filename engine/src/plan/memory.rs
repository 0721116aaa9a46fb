//! The projected-memory model: what one task holds at its peak.
//!
//! Per task: each source region is held decoded, plus one decoded source chunk while zarrs
//! assembles a region that spans chunks; each output buffer, plus its encoded copy (compressed
//! data is at most about the raw size for the codecs used); one block register per fused value;
//! and the ops' own scratch.

use crate::geometry::Region;
use crate::plan::program::BLOCK;
use crate::plan::Stage;

/// Projected peak bytes of the stage's largest task (an interior write unit).
pub fn projected_task_bytes(stage: &Stage) -> u64 {
    let unit = Region::new(
        vec![0; stage.grid.chunk_shape().len()],
        stage
            .grid
            .chunk_shape()
            .iter()
            .zip(stage.grid.shape())
            .map(|(c, n)| (*c).min(*n))
            .collect(),
    );
    let n = unit.num_elements();
    let regions = stage.program.input_regions(&unit);
    let inputs: u64 = stage
        .program
        .inputs
        .iter()
        .zip(&regions)
        .map(|(input, region)| {
            let meta = input.source.meta();
            let size = meta.dtype.size() as u64;
            let chunk: u64 = meta.chunks.iter().product();
            region.num_elements() * size + chunk * size
        })
        .sum();
    let outputs: u64 = stage
        .program
        .output_dtypes
        .iter()
        .map(|d| 2 * n * d.size() as u64)
        .sum();
    let registers: u64 = stage
        .program
        .reg_dtypes
        .iter()
        .map(|d| (BLOCK * d.size()) as u64)
        .sum();
    let scratch: u64 = stage
        .program
        .instrs
        .iter()
        .map(|i| i.op.scratch_bytes(&unit))
        .sum();
    inputs + outputs + registers + scratch
}
