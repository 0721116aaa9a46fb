//! The expression DAG as a petgraph graph: every node once, however many outputs share it.

use std::collections::HashMap;

use petgraph::graph::{DiGraph, NodeIndex};

use crate::error::{Error, Result};
use crate::expr::{Array, NodeKind};

/// The deduplicated expression graph; edges point from an input to its consumer.
pub struct ExprGraph {
    /// The graph; node weights are the array handles.
    pub graph: DiGraph<Array, ()>,
    index: HashMap<u64, NodeIndex>,
}

impl ExprGraph {
    /// Collects every node reachable from `roots`.
    pub fn collect<'a>(roots: impl IntoIterator<Item = &'a Array>) -> Self {
        let mut g = ExprGraph {
            graph: DiGraph::new(),
            index: HashMap::new(),
        };
        let mut stack: Vec<Array> = roots.into_iter().cloned().collect();
        while let Some(a) = stack.pop() {
            if g.index.contains_key(&a.id()) {
                continue;
            }
            let ix = g.graph.add_node(a.clone());
            g.index.insert(a.id(), ix);
            if let NodeKind::Op { inputs, .. } = a.node() {
                stack.extend(inputs.iter().cloned());
            }
        }
        let edges: Vec<(NodeIndex, NodeIndex)> = g
            .graph
            .node_indices()
            .flat_map(|ix| {
                let inputs = match g.graph[ix].node() {
                    NodeKind::Op { inputs, .. } => inputs.clone(),
                    NodeKind::Source(_) => Vec::new(),
                };
                let index = &g.index;
                inputs.into_iter().map(move |i| (index[&i.id()], ix))
            })
            .collect();
        for (from, to) in edges {
            g.graph.add_edge(from, to, ());
        }
        g
    }

    /// The graph index of `a`, if collected.
    pub fn index_of(&self, a: &Array) -> Option<NodeIndex> {
        self.index.get(&a.id()).copied()
    }

    /// Nodes in an order where every input comes before its consumers.
    ///
    /// # Errors
    /// [`Error::Invalid`] on a cycle (impossible through the public API, which only builds on
    /// existing nodes, but checked rather than assumed).
    pub fn topological(&self) -> Result<Vec<NodeIndex>> {
        petgraph::algo::toposort(&self.graph, None)
            .map_err(|_| Error::Invalid("the expression graph has a cycle".into()))
    }
}
