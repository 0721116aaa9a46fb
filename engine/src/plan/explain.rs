//! The explain view (text) and the Graphviz export of a plan.

use std::collections::HashMap;
use std::fmt::Write;

use crate::expr::NodeKind;
use crate::plan::graph::ExprGraph;
use crate::plan::program::{FusedProgram, ProgramInput};
use crate::plan::{Plan, Stage};

/// Formats a byte count with a binary unit (`16.0 MiB`).
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

pub(super) fn text(plan: &Plan) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "plan: {} stage(s), {} task(s), memory limit {}",
        plan.stages.len(),
        plan.num_tasks(),
        human_bytes(plan.memory_limit + plan.reserved_bytes)
    );
    let _ = match plan.reserved_bytes {
        0 => writeln!(s),
        r => writeln!(
            s,
            " ({} of it left to the process: its resident set and its worker threads)",
            human_bytes(r)
        ),
    };
    for (i, stage) in plan.stages.iter().enumerate() {
        stage_text(&mut s, i, stage);
    }
    s
}

fn stage_text(s: &mut String, i: usize, stage: &Stage) {
    let _ = writeln!(s, "stage {i}:");
    for o in &stage.outputs {
        let m = o.array.meta();
        let target = match &o.sink {
            Some(sink) => format!("writes {}", sink.describe()),
            None => "keeps in memory".to_string(),
        };
        let kept = if o.held && o.sink.is_some() {
            ", kept in memory for later stages"
        } else {
            ""
        };
        let _ = writeln!(
            s,
            "  {target} ({}, shape {:?}, chunks {:?}){kept}",
            m.dtype,
            m.shape,
            stage.units.chunk_shape()
        );
    }
    program_text(s, &stage.program, "  ");
    let _ = writeln!(
        s,
        "  tasks: {} ({:?} write units of {:?} each, over grid {:?}); projected memory per task: {}{}",
        stage.num_tasks(),
        stage.block,
        stage.units.chunk_shape(),
        stage.tasks.grid_shape(),
        human_bytes(stage.task_bytes),
        if stage.held_bytes > 0 {
            format!(", plus {} kept per task until its consumers finish", human_bytes(stage.held_bytes))
        } else {
            String::new()
        }
    );
}

fn program_text(s: &mut String, program: &FusedProgram, indent: &str) {
    for input in &program.inputs {
        match input {
            ProgramInput::Region { op, inputs, .. } => {
                let _ = writeln!(s, "{indent}computes {}({}) from:", op.name(), op.describe());
                for sub in inputs {
                    program_text(s, sub, &format!("{indent}    "));
                }
            }
            other => {
                let _ = writeln!(s, "{indent}reads {}, one region per task", other.label());
            }
        }
    }
    let ops: Vec<String> = program
        .instrs
        .iter()
        .map(|i| format!("{}({})", i.op.name(), i.op.describe()))
        .collect();
    if !ops.is_empty() {
        let _ = writeln!(
            s,
            "{indent}fused into one pass over the data: {} op(s), {} block register(s): {}",
            ops.len(),
            program.reg_dtypes.len(),
            ops.join(" -> ")
        );
    }
}

pub(super) fn dot(graph: &ExprGraph, stages: &[Stage]) -> String {
    let mut s = String::from("digraph chunkwise {\n  rankdir=LR;\n  node [shape=box];\n");
    let mut stage_of: HashMap<*const (), usize> = HashMap::new();
    fn mark(program: &FusedProgram, k: usize, stage_of: &mut HashMap<*const (), usize>) {
        for instr in &program.instrs {
            stage_of.insert(std::sync::Arc::as_ptr(&instr.op) as *const (), k);
        }
        for input in &program.inputs {
            if let ProgramInput::Region { op, inputs, .. } = input {
                stage_of.insert(std::sync::Arc::as_ptr(op) as *const (), k);
                for sub in inputs {
                    mark(sub, k, stage_of);
                }
            }
        }
    }
    for (k, stage) in stages.iter().enumerate() {
        mark(&stage.program, k, &mut stage_of);
    }
    for ix in graph.graph.node_indices() {
        let a = &graph.graph[ix];
        let shape = match a.node() {
            NodeKind::Source(_) => "cylinder",
            NodeKind::Op { .. } => "box",
        };
        let _ = writeln!(
            s,
            "  n{} [shape={shape}, label=\"{}\\n{} {:?}\"];",
            ix.index(),
            a.label().replace('"', "'"),
            a.dtype(),
            a.shape()
        );
    }
    for e in graph.graph.edge_indices() {
        if let Some((from, to)) = graph.graph.edge_endpoints(e) {
            let _ = writeln!(s, "  n{} -> n{};", from.index(), to.index());
        }
    }
    for (k, stage) in stages.iter().enumerate() {
        let _ = writeln!(
            s,
            "  subgraph cluster_{k} {{ label=\"stage {k}: fused, {} tasks\";",
            stage.num_tasks()
        );
        for ix in graph.graph.node_indices() {
            if let NodeKind::Op { op, .. } = graph.graph[ix].node() {
                if stage_of.get(&(std::sync::Arc::as_ptr(op) as *const ())) == Some(&k) {
                    let _ = writeln!(s, "    n{};", ix.index());
                }
            }
        }
        let _ = writeln!(s, "  }}");
        for (j, o) in stage.outputs.iter().enumerate() {
            let Some(sink) = &o.sink else { continue };
            let _ = writeln!(
                s,
                "  out{k}_{j} [shape=note, label=\"{}\"];",
                sink.describe().replace('"', "'")
            );
            if let Some(ix) = graph.index_of(&o.array) {
                let _ = writeln!(s, "  n{} -> out{k}_{j};", ix.index());
            }
        }
    }
    s.push_str("}\n");
    s
}
