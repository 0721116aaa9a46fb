//! Cutting the graph into stages. Everything element-wise fuses; a region op fuses with its
//! element-wise producers and consumers; but a region op that feeds another region op (one
//! pyramid level feeding the next) is materialized: its stage keeps each result chunk in memory
//! until every consumer task has used it, so the next level is computed from memory, and each
//! source chunk is still read once. Likewise an output that a region op reads (level 0 of a
//! pyramid) is computed once, written, and kept for its readers.

use std::collections::HashSet;

use crate::expr::{Array, NodeKind};
use crate::op::OpKind;
use crate::plan::graph::ExprGraph;

/// The nodes that must be materialized, inputs before consumers: region ops feeding region ops,
/// and outputs (ids in `outputs`) feeding region ops.
pub fn materialized_nodes(graph: &ExprGraph, outputs: &HashSet<u64>) -> Vec<Array> {
    let mut marked = HashSet::new();
    for ix in graph.graph.node_indices() {
        let NodeKind::Op { op, inputs } = graph.graph[ix].node() else {
            continue;
        };
        if op.kind() != OpKind::Region {
            continue;
        }
        // Walk down each input through element-wise ops; the first region ops met are cut.
        let mut stack: Vec<Array> = inputs.clone();
        let mut seen = HashSet::new();
        while let Some(a) = stack.pop() {
            if !seen.insert(a.id()) {
                continue;
            }
            if outputs.contains(&a.id()) {
                marked.insert(a.id());
                continue;
            }
            if let NodeKind::Op { op, inputs } = a.node() {
                if op.kind() == OpKind::Region {
                    marked.insert(a.id());
                } else {
                    stack.extend(inputs.iter().cloned());
                }
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
