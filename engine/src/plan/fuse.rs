//! Fusion: the element-wise ops that feed a stage's outputs become one [`FusedProgram`], so data
//! is read once, passed through every op block by block, and written once. A region op (a
//! resample) becomes an input of the program computed from its own sub-programs, so element-wise
//! producers fuse into its reads and consumers into its write. Nodes another stage materializes
//! ("held") are inputs too.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::error::Result;
use crate::expr::{Array, NodeKind};
use crate::op::OpKind;
use crate::plan::graph::ExprGraph;
use crate::plan::program::{Dest, FusedProgram, Instr, Operand, OutputCopy, ProgramInput};

/// Nodes materialized by a stage: node id -> (stage, output index).
pub type HeldNodes = HashMap<u64, (usize, usize)>;

/// Builds the program that computes `outputs`, reading `held` nodes (which must not include
/// `outputs` themselves) from the stages that hold them.
///
/// # Errors
/// [`crate::Error::Invalid`] on a cycle in the graph.
pub fn fuse_outputs(
    graph: &ExprGraph,
    outputs: &[Array],
    held: &HeldNodes,
) -> Result<FusedProgram> {
    let is_input = |a: &Array| -> bool {
        held.contains_key(&a.id())
            || match a.node() {
                NodeKind::Source(_) => true,
                NodeKind::Op { op, .. } => op.kind() == OpKind::Region,
            }
    };
    let needed = reachable(outputs, &is_input);
    let order = graph.topological()?;

    // How many instructions read each node.
    let mut readers: HashMap<u64, usize> = HashMap::new();
    for ix in &order {
        let a = &graph.graph[*ix];
        if !needed.contains(&a.id()) || is_input(a) {
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
        if !needed.contains(&a.id()) {
            continue;
        }
        if is_input(a) {
            program.inputs.push(input_for(graph, a, held)?);
            value_of.insert(a.id(), Operand::Input(program.inputs.len() - 1));
            continue;
        }
        let NodeKind::Op { op, inputs } = a.node() else {
            continue;
        };
        let args = inputs.iter().map(|i| value_of[&i.id()]).collect();
        let only_output = readers.get(&a.id()).copied().unwrap_or(0) == 0
            && output_uses.get(&a.id()).copied() == Some(1);
        let dest = if only_output {
            Dest::Output(direct_output[&a.id()])
        } else {
            program.reg_dtypes.push(a.dtype());
            let r = program.reg_dtypes.len() - 1;
            value_of.insert(a.id(), Operand::Reg(r));
            Dest::Reg(r)
        };
        program.instrs.push(Instr {
            op: Arc::clone(op),
            args,
            dest,
            arg_metas: inputs.iter().map(|i| i.meta().clone()).collect(),
        });
    }
    for (k, a) in outputs.iter().enumerate() {
        if let Some(&value) = value_of.get(&a.id()) {
            program.copies.push(OutputCopy { output: k, value });
        }
    }
    Ok(program)
}

fn input_for(graph: &ExprGraph, a: &Array, held: &HeldNodes) -> Result<ProgramInput> {
    if let Some(&(stage, output)) = held.get(&a.id()) {
        return Ok(ProgramInput::Held {
            stage,
            output,
            meta: a.meta().clone(),
        });
    }
    match a.node() {
        NodeKind::Source(s) => Ok(ProgramInput::Source(Arc::clone(s))),
        NodeKind::Op { op, inputs } => Ok(ProgramInput::Region {
            op: Arc::clone(op),
            inputs: inputs
                .iter()
                .map(|i| fuse_outputs(graph, std::slice::from_ref(i), held))
                .collect::<Result<_>>()?,
            input_metas: inputs.iter().map(|i| i.meta().clone()).collect(),
            dtype: a.dtype(),
        }),
    }
}

/// Ids of the nodes this program computes or reads, stopping at its inputs.
fn reachable(outputs: &[Array], is_input: &dyn Fn(&Array) -> bool) -> HashSet<u64> {
    let mut seen = HashSet::new();
    let mut stack: Vec<Array> = outputs.to_vec();
    while let Some(a) = stack.pop() {
        if !seen.insert(a.id()) || is_input(&a) {
            continue;
        }
        if let NodeKind::Op { inputs, .. } = a.node() {
            stack.extend(inputs.iter().cloned());
        }
    }
    seen
}
