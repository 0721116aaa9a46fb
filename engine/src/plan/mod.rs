//! Planning: expression graph -> stages of fused work -> a chunk-level task set, with projected
//! memory per task checked against the limit before anything runs.

mod explain;
mod fuse;
mod graph;
mod memory;
mod program;
mod registers;

use std::collections::HashSet;
use std::sync::Arc;

pub use program::{Dest, FusedProgram, Instr, Operand, BLOCK};

use crate::error::{Error, Result};
use crate::expr::Array;
use crate::geometry::ChunkGrid;
use crate::store::{Sink, Source};
use graph::ExprGraph;

/// One output array to produce: the expression and where it goes.
#[derive(Clone, Debug)]
pub struct Output {
    /// What to compute.
    pub array: Array,
    /// Where to write it.
    pub sink: Arc<dyn Sink>,
}

/// A unit of planned work: outputs that share a write grid, computed by one fused program, one
/// task per write unit (chunk or shard).
#[derive(Debug)]
pub struct Stage {
    /// The outputs this stage writes, in program output order.
    pub outputs: Vec<Output>,
    /// The grid of write units; one task per unit.
    pub grid: ChunkGrid,
    /// The fused computation.
    pub program: FusedProgram,
    /// Projected peak bytes of one task (the largest, interior unit).
    pub task_bytes: u64,
}

impl Stage {
    /// Number of tasks.
    pub fn num_tasks(&self) -> u64 {
        self.grid.num_chunks()
    }

    /// A label for messages: the outputs it writes.
    pub fn label(&self) -> String {
        let names: Vec<String> = self.outputs.iter().map(|o| o.sink.describe()).collect();
        format!("the stage writing {}", names.join(", "))
    }
}

/// A validated, costed plan, ready to execute.
#[derive(Debug)]
pub struct Plan {
    /// Stages in execution order (independent of each other for element-wise pipelines).
    pub stages: Vec<Stage>,
    /// The memory limit the plan was checked against, in bytes.
    pub memory_limit: u64,
    graph_dot: String,
}

impl Plan {
    /// Validates and plans `outputs` under `memory_limit` bytes. Nothing is created or read.
    ///
    /// # Errors
    /// [`Error::Invalid`] for shape or type mismatches between an expression and its sink, or an
    /// output that is also an input; [`Error::OutputExists`] from sinks; [`Error::MemoryLimit`]
    /// when one task alone exceeds the limit.
    pub fn build(outputs: Vec<Output>, memory_limit: u64) -> Result<Plan> {
        if outputs.is_empty() {
            return Err(Error::Invalid("the pipeline has no outputs".into()));
        }
        let graph = ExprGraph::collect(outputs.iter().map(|o| &o.array));
        validate_outputs(&graph, &outputs)?;

        let mut stages: Vec<Stage> = Vec::new();
        for output in outputs {
            let grid = output.sink.write_grid();
            match stages.iter_mut().find(|s| s.grid == grid) {
                Some(stage) => stage.outputs.push(output),
                None => stages.push(Stage {
                    outputs: vec![output],
                    grid,
                    program: FusedProgram::default(),
                    task_bytes: 0,
                }),
            }
        }
        for stage in &mut stages {
            let arrays: Vec<Array> = stage.outputs.iter().map(|o| o.array.clone()).collect();
            stage.program = fuse::fuse_outputs(&graph, &arrays)?;
            registers::allocate_registers(&mut stage.program);
            stage.task_bytes = memory::projected_task_bytes(stage);
            if stage.task_bytes > memory_limit {
                return Err(Error::MemoryLimit {
                    limit: memory_limit,
                    task: stage.task_bytes,
                    stage: stage.label(),
                });
            }
        }
        let graph_dot = explain::dot(&graph, &stages);
        Ok(Plan {
            stages,
            memory_limit,
            graph_dot,
        })
    }

    /// Total tasks over all stages.
    pub fn num_tasks(&self) -> u64 {
        self.stages.iter().map(Stage::num_tasks).sum()
    }

    /// Human-readable plan: stages, fused ops, task counts, projected memory per task.
    pub fn explain(&self) -> String {
        explain::text(self)
    }

    /// The expression graph and its stages in Graphviz DOT.
    pub fn dot(&self) -> &str {
        &self.graph_dot
    }
}

fn validate_outputs(graph: &ExprGraph, outputs: &[Output]) -> Result<()> {
    let mut sources = HashSet::new();
    for ix in graph.graph.node_indices() {
        if let crate::expr::NodeKind::Source(s) = graph.graph[ix].node() {
            if let Some(p) = s.location() {
                sources.insert(canonical(&p));
            }
        }
    }
    let mut written = HashSet::new();
    for o in outputs {
        let (want, have) = (o.array.meta(), o.sink.meta());
        if want.shape != have.shape || want.dtype != have.dtype {
            return Err(Error::Invalid(format!(
                "output {} is {} {:?} but the expression gives {} {:?}",
                o.sink.describe(),
                have.dtype,
                have.shape,
                want.dtype,
                want.shape
            )));
        }
        if let Some(p) = o.sink.location() {
            let p = canonical(&p);
            if sources.contains(&p) {
                return Err(Error::Invalid(format!(
                    "output {} is also an input; write to another path",
                    o.sink.describe()
                )));
            }
            if !written.insert(p) {
                return Err(Error::Invalid(format!(
                    "two outputs write to {}; give each its own path",
                    o.sink.describe()
                )));
            }
        }
        o.sink.validate()?;
    }
    Ok(())
}

/// The absolute, symlink-resolved form of a path that may not exist yet.
fn canonical(p: &std::path::Path) -> std::path::PathBuf {
    if let Ok(c) = p.canonicalize() {
        return c;
    }
    match (p.parent(), p.file_name()) {
        (Some(parent), Some(name)) if !parent.as_os_str().is_empty() => {
            canonical(parent).join(name)
        }
        _ => std::env::current_dir().unwrap_or_default().join(p),
    }
}

/// A source's label, shared by explain and errors.
pub(crate) fn source_label(source: &dyn Source) -> String {
    format!("{} ({})", source.describe(), source.meta().dtype)
}
