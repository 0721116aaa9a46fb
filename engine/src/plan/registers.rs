//! Register allocation for fused programs: values whose last reader has run give their block
//! buffer to later values of the same type. A chain of n ops then ping-pongs between two buffers
//! instead of holding n, which keeps its working set in L1 (2 x 16 KiB for float32).

use std::collections::HashMap;

use crate::dtype::DType;
use crate::plan::program::{Dest, FusedProgram, Operand};

/// Rewrites the program's virtual registers (one per value) onto as few physical registers as
/// liveness allows.
pub fn allocate_registers(program: &mut FusedProgram) {
    let n = program.reg_dtypes.len();
    // Index of the last instruction reading each virtual register; outputs copied at the end of
    // each block keep their register alive to the end.
    let mut last_use = vec![0usize; n];
    for (i, instr) in program.instrs.iter().enumerate() {
        for a in &instr.args {
            if let Operand::Reg(r) = *a {
                last_use[r] = last_use[r].max(i);
            }
        }
    }
    for copy in &program.copies {
        if let Operand::Reg(r) = copy.value {
            last_use[r] = usize::MAX;
        }
    }

    let mut physical_dtypes: Vec<DType> = Vec::new();
    let mut free: HashMap<DType, Vec<usize>> = HashMap::new();
    let mut mapping: Vec<Option<usize>> = vec![None; n];
    let mut live: Vec<usize> = Vec::new(); // virtual registers holding a value
    for i in 0..program.instrs.len() {
        // Values last read before this instruction are dead: their buffers are free.
        live.retain(|&v| {
            let dead = last_use[v] < i;
            if dead {
                if let Some(p) = mapping[v] {
                    free.entry(physical_dtypes[p]).or_default().push(p);
                }
            }
            !dead
        });
        if let Dest::Reg(v) = program.instrs[i].dest {
            let dtype = program.reg_dtypes[v];
            let p = free.get_mut(&dtype).and_then(Vec::pop).unwrap_or_else(|| {
                physical_dtypes.push(dtype);
                physical_dtypes.len() - 1
            });
            mapping[v] = Some(p);
            live.push(v);
        }
    }

    let map = |r: usize| mapping[r].unwrap_or(r);
    for instr in &mut program.instrs {
        for a in &mut instr.args {
            if let Operand::Reg(r) = a {
                *r = map(*r);
            }
        }
        if let Dest::Reg(r) = &mut instr.dest {
            *r = map(*r);
        }
    }
    for copy in &mut program.copies {
        if let Operand::Reg(r) = &mut copy.value {
            *r = map(*r);
        }
    }
    program.reg_dtypes = physical_dtypes;
}
