//! The order a stage's tasks start in: Morton (Z-curve) order of the chunk index, over groups of
//! tasks that read the same input chunk.
//!
//! Morton order keeps the blocks of chunks one consumer reads close together (the 8 chunks under
//! one chunk of the next pyramid level), and suits stencils (C order measured a 25% higher peak
//! RSS for a gaussian). But when input chunks are much longer along some axes than the tasks'
//! reads, plain Morton order interleaves those axes with the others: slabs `(1, 1024, 1024)` read
//! by `(16, 128, 128)` tasks are shared by the 64 tasks of a band, and Morton order visits 8
//! bands (128 slabs, 256 MiB decoded) before it finishes the first. The decoded-chunk cache then
//! gives slabs up and takes them back from disk over and over: measured on 256^3 (slabs to 32^3
//! blocks, 4 MiB limit) 274 slab decodes and 9117 read back from the cache's spill folder, 35
//! per slab. Ordering the groups of tasks that share a chunk in Morton order, and the tasks of a
//! group one after another, finishes a band before the next starts. Where a chunk is shared by
//! the same power of two along every axis (2 x 2 x 2 tasks) this is plain Morton order.

use crate::plan::program::ProgramInput;
use crate::plan::Stage;

/// Per axis, how many consecutive tasks of `stages[s]` read the same input chunk: the input's
/// chunk extent over the task's read extent, rounded up (at least 1), the largest over the
/// stage's sources and the earlier stages' results it reads, judged on its first task.
pub(super) fn shared_read_groups(stages: &[Stage], s: usize) -> Vec<u64> {
    let stage = &stages[s];
    let ndim = stage.tasks.shape().len();
    let mut groups = vec![1u64; ndim];
    if stage.num_tasks() == 0 {
        return groups;
    }
    let first = stage.tasks.chunk_region(&vec![0; ndim]);
    stage.program.visit_reads(&first, &mut |input, read| {
        let chunk: Vec<u64> = match input {
            ProgramInput::Source(source) => source.meta().chunks.clone(),
            ProgramInput::Held { stage: p, .. } => stages[*p].tasks.chunk_shape().to_vec(),
            ProgramInput::Region { .. } => return,
        };
        if chunk.len() != ndim || read.shape.len() != ndim {
            return;
        }
        for ((g, c), r) in groups.iter_mut().zip(&chunk).zip(&read.shape) {
            *g = (*g).max(c.div_ceil(*r.max(&1)));
        }
    });
    groups
}

/// The start-order key of the task at chunk `index` of a stage whose tasks share input chunks in
/// groups of `groups` (see [`shared_read_groups`]): the Morton code of its group, then its Morton
/// code inside the group.
pub fn grouped_morton(index: &[u64], groups: &[u64]) -> u64 {
    let coarse: Vec<u64> = index.iter().zip(groups).map(|(i, g)| i / g).collect();
    let fine: Vec<u64> = index.iter().zip(groups).map(|(i, g)| i % g).collect();
    let bits = groups
        .iter()
        .map(|&g| u64::BITS - (g.max(1) - 1).leading_zeros())
        .max()
        .unwrap_or(0);
    let shift = bits * index.len() as u32;
    morton(&coarse).checked_shl(shift).unwrap_or(0) | morton(&fine)
}

/// Interleaves the bits of a chunk index (axis 0 most significant within each bit plane).
fn morton(index: &[u64]) -> u64 {
    let mut code = 0u64;
    let mut bit = 0;
    for plane in 0..64 {
        for &i in index {
            if bit == 64 {
                return code;
            }
            code |= ((i >> plane) & 1) << bit;
            bit += 1;
        }
    }
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isotropic_power_of_two_groups_keep_plain_morton_order() {
        for i in 0..8u64 {
            for j in 0..8 {
                for k in 0..8 {
                    let idx = [i, j, k];
                    assert_eq!(grouped_morton(&idx, &[2, 2, 2]), morton(&idx));
                    assert_eq!(grouped_morton(&idx, &[1, 1, 1]), morton(&idx));
                }
            }
        }
    }

    #[test]
    fn a_band_sharing_slabs_finishes_before_the_next_starts() {
        // 4 bands of 8 x 8 tasks, each band reading the same slabs.
        let mut order: Vec<[u64; 3]> = (0..4u64)
            .flat_map(|i| (0..8u64).flat_map(move |j| (0..8u64).map(move |k| [i, j, k])))
            .collect();
        order.sort_by_key(|idx| grouped_morton(idx, &[1, 8, 8]));
        for (n, idx) in order.iter().enumerate() {
            assert_eq!(idx[0], n as u64 / 64, "task {n} is {idx:?}");
        }
    }
}
