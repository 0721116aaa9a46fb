//! Cutting the graph into stages. Everything element-wise fuses; a region op fuses with its
//! element-wise producers and consumers. A region op that feeds another region op is either
//! materialized — its stage keeps each result chunk in memory until every consumer task has used
//! it (one pyramid level feeding the next: each source chunk is still read once) — or recomputed
//! inside each consumer task over the larger region the consumer needs (a stencil feeding a
//! stencil: the halos add up, and nothing is held between tasks). [`StencilChains`] chooses. An
//! output that a region op reads (level 0 of a pyramid) is always computed once, written, and
//! kept for its readers.

use std::collections::{HashMap, HashSet};

use crate::expr::{Array, NodeKind};
use crate::geometry::{ChunkGrid, Region};
use crate::op::OpKind;
use crate::plan::graph::ExprGraph;

/// How a region op feeding another region op is computed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StencilChains {
    /// Recompute when that costs at most [`RECOMPUTE_MAX_OVERLAP`] times the producer's work
    /// and the consumer reads about its own size of it (halos); otherwise materialize.
    #[default]
    Auto,
    /// Always compute the producer inside each consumer task, over the region it needs.
    Recompute,
    /// Always materialize the producer and keep its results in memory for the consumers.
    Materialize,
}

/// Recomputing a producer is chosen while the consumer tasks together compute at most this
/// multiple of the producer's elements: 128^3 chunks with a halo of 8 give 1.4, of 1 give 1.05.
pub const RECOMPUTE_MAX_OVERLAP: f64 = 1.5;

/// The nodes that must be materialized, inputs before consumers: outputs (ids in `outputs`)
/// feeding region ops, and region ops feeding region ops unless `chains` recomputes them.
pub fn materialized_nodes(
    graph: &ExprGraph,
    outputs: &HashSet<u64>,
    chains: StencilChains,
) -> Vec<Array> {
    let mut marked = HashSet::new();
    let mut readers: HashMap<u64, usize> = HashMap::new();
    for ix in graph.graph.node_indices() {
        if let NodeKind::Op { inputs, .. } = graph.graph[ix].node() {
            let distinct: HashSet<u64> = inputs.iter().map(Array::id).collect();
            for id in distinct {
                *readers.entry(id).or_default() += 1;
            }
        }
    }
    for ix in graph.graph.node_indices() {
        let consumer = &graph.graph[ix];
        let NodeKind::Op { op, inputs } = consumer.node() else {
            continue;
        };
        if op.kind() != OpKind::Region {
            continue;
        }
        let recompute = !op.materializes_inputs()
            && match chains {
                StencilChains::Recompute => true,
                StencilChains::Materialize => false,
                StencilChains::Auto => cheap_to_recompute(consumer),
            };
        for input in inputs {
            if outputs.contains(&input.id()) {
                marked.insert(input.id());
                continue;
            }
            // Walk down through element-wise ops; the first region ops met are cut.
            let (regions, private) = region_ops_below(input, outputs, &readers);
            if recompute {
                // Outputs met below are still computed once and kept, never recomputed.
                marked.extend(
                    regions
                        .iter()
                        .filter(|r| outputs.contains(&r.id()))
                        .map(Array::id),
                );
                continue;
            }
            if regions.is_empty() {
                continue;
            }
            // When the element-wise ops between are this consumer's alone and make the data no
            // larger (gaussian -> astype(uint16) -> downsample), hold what the consumer reads.
            let narrower = regions
                .iter()
                .all(|r| input.dtype().size() <= r.dtype().size());
            if private && narrower {
                marked.insert(input.id());
            } else {
                marked.extend(regions.iter().map(Array::id));
            }
        }
    }
    let Ok(order) = graph.topological() else {
        return Vec::new();
    };
    order
        .into_iter()
        .map(|ix| graph.graph[ix].clone())
        .filter(|a| marked.contains(&a.id()))
        .collect()
}

/// The region ops reached from `input` through element-wise ops (and outputs met on the way),
/// and whether every node on the way, `input` and the region ops included, is read only once
/// and is not an output.
fn region_ops_below(
    input: &Array,
    outputs: &HashSet<u64>,
    readers: &HashMap<u64, usize>,
) -> (Vec<Array>, bool) {
    let mut found = Vec::new();
    let mut private = true;
    let mut stack = vec![input.clone()];
    let mut seen = HashSet::new();
    while let Some(a) = stack.pop() {
        if !seen.insert(a.id()) {
            continue;
        }
        let NodeKind::Op { op, inputs } = a.node() else {
            continue;
        };
        private &= readers.get(&a.id()).copied().unwrap_or(0) <= 1 && !outputs.contains(&a.id());
        let output_below = a.id() != input.id() && outputs.contains(&a.id());
        if output_below || op.kind() == OpKind::Region {
            found.push(a.clone());
        } else {
            stack.extend(inputs.iter().cloned());
        }
    }
    (found, private)
}

/// Whether the region-op inputs of `consumer` are cheap to recompute in its tasks: judged on an
/// interior chunk, the consumer reads at most twice its own size from each input, and all its
/// tasks together read at most [`RECOMPUTE_MAX_OVERLAP`] times the input.
fn cheap_to_recompute(consumer: &Array) -> bool {
    let NodeKind::Op { op, inputs } = consumer.node() else {
        return false;
    };
    let grid = ChunkGrid::new(consumer.shape().to_vec(), consumer.meta().chunks.clone());
    let middle: Vec<u64> = grid.grid_shape().iter().map(|&n| n / 2).collect();
    let task: Region = grid.chunk_region(&middle);
    let metas: Vec<_> = inputs.iter().map(|i| i.meta().clone()).collect();
    let out_elements = task.num_elements().max(1) as f64;
    let total_out = consumer.meta().num_elements().max(1) as f64;
    op.input_pieces(&task, &metas)
        .iter()
        .zip(inputs)
        .all(|(pieces, input)| {
            let read: u64 = pieces.iter().map(Region::num_elements).sum();
            let read_ratio = read as f64 / out_elements;
            let size_ratio = input.meta().num_elements().max(1) as f64 / total_out;
            read_ratio <= 2.0 && read_ratio / size_ratio <= RECOMPUTE_MAX_OVERLAP
        })
}
