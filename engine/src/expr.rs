//! The lazy expression graph: immutable nodes behind cheap, clonable [`Array`] handles.
//! Building a pipeline validates shapes and types but never touches data.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::dtype::DType;
use crate::error::Result;
use crate::meta::ArrayMeta;
use crate::op::Op;
use crate::store::Source;

static NEXT_NODE_ID: AtomicU64 = AtomicU64::new(0);

/// A handle to a node of the expression graph: a source array or the result of an operation.
///
/// Cloning is cheap (an `Arc`); two clones are the same node, so a sub-expression used by several
/// outputs is computed once per chunk.
#[derive(Clone, Debug)]
pub struct Array(Arc<Node>);

/// One node of the expression graph.
#[derive(Debug)]
pub struct Node {
    id: u64,
    meta: ArrayMeta,
    kind: NodeKind,
}

/// What a node is.
#[derive(Debug)]
pub enum NodeKind {
    /// Data read from a store or memory.
    Source(Arc<dyn Source>),
    /// An operation applied to other nodes.
    Op {
        /// The operation.
        op: Arc<dyn Op>,
        /// Its inputs, in order.
        inputs: Vec<Array>,
    },
}

impl Array {
    /// A graph leaf reading from `source`.
    pub fn from_source(source: Arc<dyn Source>) -> Array {
        let meta = source.meta().clone();
        Array::new(meta, NodeKind::Source(source))
    }

    /// Applies `op` to `inputs`, validating shapes and types now.
    ///
    /// # Errors
    /// Whatever `op.output_meta` rejects, such as mismatched shapes or unsupported types.
    pub fn apply(op: Arc<dyn Op>, inputs: Vec<Array>) -> Result<Array> {
        let metas: Vec<ArrayMeta> = inputs.iter().map(|a| a.meta().clone()).collect();
        let meta = op.output_meta(&metas)?;
        Ok(Array::new(meta, NodeKind::Op { op, inputs }))
    }

    fn new(meta: ArrayMeta, kind: NodeKind) -> Array {
        let id = NEXT_NODE_ID.fetch_add(1, Ordering::Relaxed);
        Array(Arc::new(Node { id, meta, kind }))
    }

    /// A process-unique identity of the node, used to deduplicate shared sub-expressions.
    pub fn id(&self) -> u64 {
        self.0.id
    }

    /// Shape, chunks and type.
    pub fn meta(&self) -> &ArrayMeta {
        &self.0.meta
    }

    /// Extent on each axis.
    pub fn shape(&self) -> &[u64] {
        &self.0.meta.shape
    }

    /// Element type.
    pub fn dtype(&self) -> DType {
        self.0.meta.dtype
    }

    /// What the node is.
    pub fn node(&self) -> &NodeKind {
        &self.0.kind
    }

    /// A short label: the op with its parameters, or the source description.
    pub fn label(&self) -> String {
        match self.node() {
            NodeKind::Source(s) => s.describe(),
            NodeKind::Op { op, .. } => format!("{}({})", op.name(), op.describe()),
        }
    }
}
