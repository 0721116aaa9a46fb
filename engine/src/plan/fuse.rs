//! Fusion: the element-wise ops that feed a stage's outputs become one [`FusedProgram`], so data
//! is read once, passed through every op block by block, and written once.

use std::collections::HashMap;
use std::sync::Arc;

use crate::error::Result;
use crate::expr::{Array, NodeKind};
use crate::op::OpKind;
use crate::plan::graph::ExprGraph;
use crate::plan::program::{Dest, FusedProgram, Instr, Operand, OutputCopy, ProgramInput};

/// Builds the program that computes `outputs` (all element-wise over their sources).
///
/// # Errors
/// [`crate::Error::Invalid`] on a cycle in the graph.
pub fn fuse_outputs(graph: &ExprGraph, outputs: &[Array]) -> Result<FusedProgram> {
    let order = graph.topological()?;
    let needed = reachable(graph, outputs);
    // How many instructions read each node, and which outputs it is.
    let mut readers: HashMap<u64, usize> = HashMap::new();
    for ix in &order {
        let a = &graph.graph[*ix];
        if !needed.contains_key(&a.id()) {
            continue;
        }
        if let NodeKind::Op { inputs, .. } = a.node() {
            for i in inputs {
                *readers.entry(i.id()).or_default() += 1;
            }
        }
    }
    let mut direct_output: HashMap<u64, usize> = HashMap::new();
    let mut output_uses: HashMap<u64, usize> = HashMap::new();
    for (k, a) in outputs.iter().enumerate() {
        *output_uses.entry(a.id()).or_default() += 1;
        direct_output.entry(a.id()).or_insert(k);
    }

    let mut program = FusedProgram {
        output_dtypes: outputs.iter().map(Array::dtype).collect(),
        ..FusedProgram::default()
    };
    let mut value_of: HashMap<u64, Operand> = HashMap::new();
    for ix in order {
        let a = &graph.graph[ix];
        if !needed.contains_key(&a.id()) {
            continue;
        }
        match a.node() {
            NodeKind::Source(source) => {
                program.inputs.push(ProgramInput {
                    source: Arc::clone(source),
                });
                value_of.insert(a.id(), Operand::Input(program.inputs.len() - 1));
            }
            NodeKind::Op { op, inputs } => {
                match op.kind() {
                    OpKind::ElementWise => {}
                }
                let args = inputs.iter().map(|i| value_of[&i.id()]).collect();
                let only_output = readers.get(&a.id()).copied().unwrap_or(0) == 0
                    && output_uses.get(&a.id()).copied() == Some(1);
                let dest = if only_output {
                    Dest::Output(direct_output[&a.id()])
                } else {
                    program.reg_dtypes.push(a.dtype());
                    Dest::Reg(program.reg_dtypes.len() - 1)
                };
                if let Dest::Reg(r) = dest {
                    value_of.insert(a.id(), Operand::Reg(r));
                }
                program.instrs.push(Instr {
                    op: Arc::clone(op),
                    args,
                    dest,
                    arg_metas: inputs.iter().map(|i| i.meta().clone()).collect(),
                });
            }
        }
    }
    for (k, a) in outputs.iter().enumerate() {
        if let Some(&value) = value_of.get(&a.id()) {
            program.copies.push(OutputCopy { output: k, value });
        }
    }
    Ok(program)
}

/// Ids of every node some output depends on.
fn reachable(graph: &ExprGraph, outputs: &[Array]) -> HashMap<u64, ()> {
    let mut seen = HashMap::new();
    let mut stack: Vec<Array> = outputs.to_vec();
    while let Some(a) = stack.pop() {
        if seen.insert(a.id(), ()).is_some() {
            continue;
        }
        debug_assert!(graph.index_of(&a).is_some());
        if let NodeKind::Op { inputs, .. } = a.node() {
            stack.extend(inputs.iter().cloned());
        }
    }
    seen
}
