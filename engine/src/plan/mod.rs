//! Planning: expression graph -> stages of fused work -> a chunk-level task set, with projected
//! memory per task checked against the limit before anything runs.

mod deps;
mod explain;
mod fuse;
mod graph;
mod memory;
mod order;
mod output_chunks;
mod paths;
mod program;
mod registers;
mod stages;

use std::collections::HashSet;
use std::sync::Arc;

pub use deps::{Adjacency, TaskDeps};
pub use explain::human_bytes;
pub(crate) use order::grouped_morton;
pub use output_chunks::rechunk_outputs;
pub use paths::check_replaceable;
pub(crate) use program::piece_by_piece;
pub use program::{Dest, FusedProgram, Instr, Operand, ProgramInput, BLOCK};
pub use stages::{StencilChains, RECOMPUTE_MAX_OVERLAP};

use crate::error::{Error, Result};
use crate::exec::{reserved_bytes, ExecOptions};
use crate::expr::Array;
use crate::geometry::ChunkGrid;
use crate::op::OpKind;
use crate::store::Sink;
use fuse::HeldNodes;
use graph::ExprGraph;
use paths::validate_outputs;

/// One output array to produce: the expression and where it goes.
#[derive(Clone, Debug)]
pub struct Output {
    /// What to compute.
    pub array: Array,
    /// Where to write it.
    pub sink: Arc<dyn Sink>,
}

/// One array a stage produces: written to a sink, kept in memory for later stages, or both.
#[derive(Clone, Debug)]
pub struct StageOutput {
    /// The expression.
    pub array: Array,
    /// Where it is written, if anywhere.
    pub sink: Option<Arc<dyn Sink>>,
    /// True when later stages read it from memory.
    pub held: bool,
}

/// A unit of planned work: arrays computed by one fused program over the same grid, one task
/// per block of write units.
#[derive(Debug)]
pub struct Stage {
    /// What this stage produces, in program output order.
    pub outputs: Vec<StageOutput>,
    /// The grid of write units (chunks, or shards when sharded).
    pub units: ChunkGrid,
    /// Write units per task along each axis (more than one when a task reads whole input chunks
    /// only by writing several output chunks, as an upsample does).
    pub block: Vec<u64>,
    /// The task grid: one task per block of units.
    pub tasks: ChunkGrid,
    /// The fused computation.
    pub program: FusedProgram,
    /// Projected peak bytes of one running task (the largest, interior one).
    pub task_bytes: u64,
    /// Bytes one task's results stay in memory for later stages.
    pub held_bytes: u64,
    /// Per axis, how many consecutive tasks read the same input chunk: tasks start in Morton
    /// order of these groups ([`grouped_morton`]), so a group finishes before the next starts.
    pub read_groups: Vec<u64>,
}

impl Stage {
    /// Number of tasks.
    pub fn num_tasks(&self) -> u64 {
        self.tasks.num_chunks()
    }

    /// What the stage computes, for errors: its ops in order (region ops with the element-wise
    /// ops fused around them) and the outputs, e.g. `clip, gaussian_filter for out.zarr`.
    pub fn work(&self) -> String {
        let mut ops: Vec<String> = Vec::new();
        self.program.visit_ops(&mut |name| {
            if !ops.iter().any(|o| o == name) {
                ops.push(name.to_string());
            }
        });
        let ops = if ops.is_empty() {
            "copying".to_string()
        } else {
            ops.join(", ")
        };
        format!("{ops} for {}", self.label())
    }

    /// A label for messages: the outputs it writes or holds.
    pub fn label(&self) -> String {
        let names: Vec<String> = self
            .outputs
            .iter()
            .map(|o| match &o.sink {
                Some(s) => s.describe(),
                None => format!("{} (in memory)", o.array.label()),
            })
            .collect();
        format!("the stage producing {}", names.join(", "))
    }

    fn new(outputs: Vec<StageOutput>, units: ChunkGrid) -> Self {
        let read_groups = vec![1; units.shape().len()];
        Stage {
            outputs,
            tasks: units.clone(),
            block: vec![1; units.shape().len()],
            units,
            program: FusedProgram::default(),
            task_bytes: 0,
            held_bytes: 0,
            read_groups,
        }
    }
}

/// A validated, costed plan, ready to execute.
#[derive(Debug)]
pub struct Plan {
    /// Stages in execution order: a stage only reads results of earlier ones.
    pub stages: Vec<Stage>,
    /// Global id of each stage's first task (and the total at the end).
    pub offsets: Vec<u64>,
    /// The chunk-level task DAG (empty when no stage reads another's results).
    pub deps: TaskDeps,
    /// The memory limit the plan was checked against, in bytes: the run's, less what it leaves
    /// to the process ([`Plan::reserved_bytes`]).
    pub memory_limit: u64,
    /// Bytes of the run's limit left to the process itself when the limit covers the process
    /// ([`crate::exec::reserved_bytes`]); 0 otherwise.
    pub reserved_bytes: u64,
    /// Bytes of decoded input chunks kept for reads that span chunks (stencil halos), inside the
    /// limit: a quarter of it, at most [`CHUNK_CACHE_MAX`], and never so much that the largest
    /// task and the results held along the task order's front no longer fit beside it. A run
    /// reserves less when its reads need less (see `Source::cache_working_set`).
    pub cache_bytes: u64,
    graph_dot: String,
}

/// The most bytes of decoded chunks a plan keeps. Only chunks a later task still reads are
/// kept (cut to their halo faces under pressure), so the cache holds the "wavefront" of the
/// task order — about 40 chunks of a 4^3 grid, 170 of an 8^3 one — and is sized by the limit
/// (a quarter of it) more than by this cap.
pub const CHUNK_CACHE_MAX: u64 = 1 << 30;

impl Plan {
    /// Validates and plans `outputs` under `memory_limit` bytes. Nothing is created or read.
    ///
    /// # Errors
    /// [`Error::Invalid`] for shape or type mismatches between an expression and its sink, or an
    /// output that is also an input; [`Error::OutputExists`] from sinks; [`Error::MemoryLimit`]
    /// when one task alone exceeds the limit.
    pub fn build(outputs: Vec<Output>, options: &ExecOptions) -> Result<Plan> {
        let reserved = reserved_bytes(options);
        let memory_limit = options.memory_limit.saturating_sub(reserved);
        let chains = options.stencil_chains;
        let threads = options.threads.max(1) as u64;
        if outputs.is_empty() {
            return Err(Error::Invalid("the pipeline has no outputs".into()));
        }
        let outputs = output_chunks::rechunk_outputs(outputs, memory_limit)?;
        let retry = (chains == StencilChains::Auto).then(|| outputs.clone());
        let graph = ExprGraph::collect(outputs.iter().map(|o| &o.array));
        validate_outputs(&graph, &outputs)?;
        let mut stages = form_stages(&graph, outputs, chains);
        let mut held: HeldNodes = HeldNodes::new();
        for (s, stage) in stages.iter().enumerate() {
            for (k, o) in stage.outputs.iter().enumerate() {
                if o.held {
                    held.insert(o.array.id(), (s, k));
                }
            }
        }
        for (s, stage) in stages.iter_mut().enumerate() {
            let arrays: Vec<Array> = stage.outputs.iter().map(|o| o.array.clone()).collect();
            let mut visible = held.clone();
            visible.retain(|_, (producer, _)| *producer != s);
            stage.program = fuse::fuse_outputs(&graph, &arrays, &visible)?;
            registers::allocate_registers(&mut stage.program);
            stage.block = task_block(stage);
            let task_shape: Vec<u64> = stage
                .units
                .chunk_shape()
                .iter()
                .zip(&stage.block)
                .map(|(c, b)| c * b)
                .collect();
            stage.tasks = ChunkGrid::new(stage.units.shape().to_vec(), task_shape);
            if stage.num_tasks() > 0 {
                (stage.task_bytes, stage.held_bytes) = memory::projected_task_bytes(stage);
            }
            if stage.task_bytes > memory_limit {
                return Err(Error::MemoryLimit {
                    limit: options.memory_limit,
                    task: stage.task_bytes,
                    stage: stage.label(),
                    reserved,
                });
            }
        }
        for s in 0..stages.len() {
            stages[s].read_groups = order::shared_read_groups(&stages, s);
        }
        let mut offsets = vec![0u64];
        for s in &stages {
            offsets.push(offsets.last().copied().unwrap_or(0) + s.num_tasks());
        }
        if offsets.last().copied().unwrap_or(0) > u64::from(u32::MAX) {
            return Err(Error::Invalid(
                "more than 4 billion tasks; use larger output chunks".into(),
            ));
        }
        let deps = deps::build(&stages, &offsets);
        let graph_dot = explain::dot(&graph, &stages);
        let largest_task = largest_with_inputs(&stages, &offsets, &deps, memory_limit, reserved)?;
        // Results held for consumers stay in memory along the whole front of the task order.
        // When that front cannot fit, recompute the stencil chains instead (when allowed and it
        // fits); otherwise held results spill to disk as memory runs short.
        let front = held_front(&stages, &offsets, &deps, threads) + largest_task;
        if front > memory_limit {
            if let Some(outputs) = retry {
                let recompute = ExecOptions {
                    stencil_chains: StencilChains::Recompute,
                    ..options.clone()
                };
                if let Ok(plan) = Plan::build(outputs, &recompute) {
                    tracing::info!(
                        "held results would not fit the limit: recomputing stencil chains"
                    );
                    return Ok(plan);
                }
            }
            tracing::info!(
                front = %human_bytes(front),
                "held results may not fit the limit: they will spill to disk when memory runs short"
            );
        }
        // The cache takes what the held front and the largest task leave (half of what the
        // largest task leaves when held results will spill).
        let room = if front <= memory_limit {
            memory_limit - front
        } else {
            (memory_limit - largest_task) / 2
        };
        let cache_bytes = (memory_limit / 4).min(CHUNK_CACHE_MAX).min(room);
        Ok(Plan {
            stages,
            offsets,
            deps,
            memory_limit,
            reserved_bytes: reserved,
            cache_bytes,
            graph_dot,
        })
    }

    /// Total tasks over all stages.
    pub fn num_tasks(&self) -> u64 {
        self.offsets.last().copied().unwrap_or(0)
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

/// The largest projected bytes of one task together with the held results it reads (they are
/// all in memory while it runs).
///
/// # Errors
/// [`Error::MemoryLimit`] when that exceeds `limit` (the run's limit less the `reserved` bytes
/// it leaves to the process).
fn largest_with_inputs(
    stages: &[Stage],
    offsets: &[u64],
    deps: &TaskDeps,
    limit: u64,
    reserved: u64,
) -> Result<u64> {
    let mut largest = 0;
    for (s, stage) in stages.iter().enumerate() {
        let mut worst = stage.task_bytes;
        if !deps.upstream.is_empty() {
            for t in offsets[s]..offsets[s + 1] {
                let held: u64 = deps
                    .upstream
                    .of(t as usize)
                    .iter()
                    .map(|&p| {
                        let producer = offsets.partition_point(|&o| o <= u64::from(p)) - 1;
                        stages[producer].held_bytes
                    })
                    .sum();
                worst = worst.max(stage.task_bytes + held);
            }
        }
        if worst > limit {
            return Err(Error::MemoryLimit {
                limit: limit + reserved,
                task: worst,
                stage: format!("{} (with the results it reads)", stage.label()),
                reserved,
            });
        }
        largest = largest.max(worst);
    }
    Ok(largest)
}

/// Projected bytes of results held at once, per stage that keeps results. When each result has
/// one consumer (pyramid levels: disjoint blocks, completed close together in Morton order), a
/// block being consumed, one being filled, and one result per worker in flight. When consumers overlap (stencil
/// halos), a slab of tasks as thick as one consumer reaches along the first axis, across the
/// other axes: what stays live while the tasks sweep the grid.
fn held_front(stages: &[Stage], offsets: &[u64], deps: &TaskDeps, threads: u64) -> u64 {
    if deps.upstream.is_empty() {
        return 0;
    }
    let mut total = 0;
    for (s, stage) in stages.iter().enumerate() {
        if stage.held_bytes == 0 || stage.num_tasks() == 0 {
            continue;
        }
        let ids = offsets[s] as usize..offsets[s + 1] as usize;
        let consumers: Vec<u32> = {
            let mut c: Vec<u32> = ids
                .clone()
                .flat_map(|t| deps.downstream.of(t))
                .copied()
                .collect();
            c.sort_unstable();
            c.dedup();
            c
        };
        // The producers (of this stage) each consumer reads, as task indices.
        let read_by = |c: u32| -> Vec<Vec<u64>> {
            deps.upstream
                .of(c as usize)
                .iter()
                .filter(|&&p| ids.contains(&(p as usize)))
                .map(|&p| stage.tasks.unravel(u64::from(p) - offsets[s]))
                .collect()
        };
        let shared = ids.clone().any(|t| deps.downstream.of(t).len() > 1);
        let live = if shared {
            // The thickest span of layers along the first axis any consumer reads (wrap mode
            // at an edge spans the whole axis), plus the layer being filled.
            let layers = consumers
                .iter()
                .map(|&c| {
                    let first: Vec<u64> = read_by(c).iter().map(|i| i[0]).collect();
                    match (first.iter().min(), first.iter().max()) {
                        (Some(lo), Some(hi)) => hi - lo + 1,
                        _ => 1,
                    }
                })
                .max()
                .unwrap_or(1);
            (layers + 1) * grid_rest(stage)
        } else {
            let block = consumers
                .iter()
                .map(|&c| read_by(c).len())
                .max()
                .unwrap_or(1);
            2 * block.max(1) as u64 + threads
        };
        total += live.min(stage.num_tasks()) * stage.held_bytes;
    }
    total
}

/// The arrays a plan of `outputs` keeps for later stages (as [`Plan::build`] decides with
/// `chains`), inputs before their consumers: where a run spread over several processes must hand
/// results from one stage to the next through storage instead of memory.
pub fn materialized(outputs: &[Output], chains: StencilChains) -> Vec<Array> {
    let graph = ExprGraph::collect(outputs.iter().map(|o| &o.array));
    let ids: HashSet<u64> = outputs.iter().map(|o| o.array.id()).collect();
    stages::materialized_nodes(&graph, &ids, chains)
}

/// Tasks of `stage` across every axis but the first.
fn grid_rest(stage: &Stage) -> u64 {
    stage.tasks.grid_shape().iter().skip(1).product()
}

/// Stages in dependency order: one per materialized node (with the sink of the output that
/// asked for it, when one did), then the remaining outputs grouped by write grid.
fn form_stages(graph: &ExprGraph, outputs: Vec<Output>, chains: StencilChains) -> Vec<Stage> {
    let output_ids: HashSet<u64> = outputs.iter().map(|o| o.array.id()).collect();
    let materialized = stages::materialized_nodes(graph, &output_ids, chains);
    let mut stages: Vec<Stage> = Vec::new();
    let mut claimed = vec![false; outputs.len()];
    for node in &materialized {
        let own = (0..outputs.len()).find(|&i| !claimed[i] && outputs[i].array.id() == node.id());
        let (sink, units) = match own {
            Some(i) => {
                claimed[i] = true;
                (Some(outputs[i].sink.clone()), outputs[i].sink.write_grid())
            }
            None => (None, node.meta().grid()),
        };
        stages.push(Stage::new(
            vec![StageOutput {
                array: node.clone(),
                sink,
                held: true,
            }],
            units,
        ));
    }
    let rest: Vec<Output> = outputs
        .into_iter()
        .zip(claimed)
        .filter(|(_, c)| !c)
        .map(|(o, _)| o)
        .collect();
    let first_plain = stages.len();
    for output in rest {
        let grid = output.sink.write_grid();
        let out = StageOutput {
            array: output.array,
            sink: Some(output.sink),
            held: false,
        };
        match stages[first_plain..].iter_mut().find(|s| s.units == grid) {
            Some(stage) => stage.outputs.push(out),
            None => stages.push(Stage::new(vec![out], grid)),
        }
    }
    stages
}

/// Units per task: the largest block any region op of the stage prefers, so that reads cover
/// whole input chunks (capped at 8 per axis to bound task memory).
fn task_block(stage: &Stage) -> Vec<u64> {
    let mut block = vec![1u64; stage.units.shape().len()];
    for input in &stage.program.inputs {
        if let ProgramInput::Region {
            op, input_metas, ..
        } = input
        {
            if op.kind() != OpKind::Region || input_metas.is_empty() {
                continue;
            }
            let preferred = op.preferred_block(stage.units.chunk_shape(), &input_metas[0].chunks);
            for (b, p) in block.iter_mut().zip(preferred) {
                *b = (*b).max(p.clamp(1, 8));
            }
        }
    }
    block
}
