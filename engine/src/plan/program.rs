//! A fused element-wise program: the ops of one stage run as a vectorized interpreter over
//! cache-sized blocks. Each op is one tight loop over a block held in a reused register, so
//! dispatch costs once per block, never per element, and intermediates never exceed a block.

use std::sync::Arc;

use crate::buffer::Buffer;
use crate::dtype::DType;
use crate::error::Result;
use crate::geometry::{tiled_box, Region};
use crate::meta::ArrayMeta;
use crate::op::Op;
use crate::store::Source;

/// Elements per block: 4096 x 8 bytes = 32 KiB per register, so a chain's live registers stay in
/// L1/L2 (numexpr and DuckDB use blocks of the same order).
pub const BLOCK: usize = 4096;

/// Where an instruction reads a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operand {
    /// The stage's `n`-th input buffer (a source region), read in place.
    Input(usize),
    /// The register written by an earlier instruction.
    Reg(usize),
}

/// Where an instruction writes its result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dest {
    /// A block register, for values other instructions read.
    Reg(usize),
    /// Straight into output `n`'s buffer (the value has no other consumer).
    Output(usize),
}

/// One op applied to one block.
#[derive(Debug)]
pub struct Instr {
    /// The operation.
    pub op: Arc<dyn Op>,
    /// Its operands, in input order.
    pub args: Vec<Operand>,
    /// Where the result goes.
    pub dest: Dest,
    /// Metadata of the operands, for the op's region mapping.
    pub arg_metas: Vec<ArrayMeta>,
}

/// Where a program input comes from, once per task, as one region.
#[derive(Debug)]
pub enum ProgramInput {
    /// Read from a store or memory.
    Source(Arc<dyn Source>),
    /// Assembled from the in-memory results of an earlier stage (a materialized intermediate,
    /// such as the previous level of a pyramid).
    Held {
        /// The producing stage.
        stage: usize,
        /// Which of its outputs.
        output: usize,
        /// Shape, chunks and type of the held array.
        meta: ArrayMeta,
    },
    /// Computed by a region op from sub-programs evaluated over the regions the op asks for
    /// (element-wise producers fused into the op's reads).
    Region {
        /// The op.
        op: Arc<dyn Op>,
        /// One single-output program per op input.
        inputs: Vec<FusedProgram>,
        /// Metadata of the op's inputs.
        input_metas: Vec<ArrayMeta>,
        /// The op's output type.
        dtype: DType,
    },
}

/// Whether a region op with sub-programs `inputs` and input boxes `pieces` is computed one box
/// at a time ([`crate::Op::piecewise`]): one input, several boxes, and no source that reads the
/// boxes best in one shared read (a sharded array).
pub(crate) fn piece_by_piece(
    op: &dyn crate::Op,
    inputs: &[FusedProgram],
    pieces: &[Vec<Region>],
) -> bool {
    match (inputs, pieces) {
        ([sub], [boxes]) => op.piecewise() && boxes.len() > 1 && sub.whole_box_source().is_none(),
        _ => false,
    }
}

impl ProgramInput {
    /// A short label for plans and errors.
    pub fn label(&self) -> String {
        match self {
            ProgramInput::Source(s) => format!("{} ({})", s.describe(), s.meta().dtype),
            ProgramInput::Held { stage, meta, .. } => {
                format!("stage {stage}'s in-memory result ({})", meta.dtype)
            }
            ProgramInput::Region { op, .. } => format!("{}({})", op.name(), op.describe()),
        }
    }
}

/// An output value that is not written directly by its instruction and must be copied per block.
#[derive(Debug, Clone, Copy)]
pub struct OutputCopy {
    /// Which output.
    pub output: usize,
    /// From where.
    pub value: Operand,
}

/// A stage's fused element-wise computation.
#[derive(Debug, Default)]
pub struct FusedProgram {
    /// Sources, one region read each per task.
    pub inputs: Vec<ProgramInput>,
    /// Instructions in dependency order.
    pub instrs: Vec<Instr>,
    /// Element type of each register.
    pub reg_dtypes: Vec<DType>,
    /// Element type of each output.
    pub output_dtypes: Vec<DType>,
    /// Outputs filled by copying (plain source reads, or values also used by other instructions).
    pub copies: Vec<OutputCopy>,
}

impl FusedProgram {
    /// The region of each input that a task writing `region` needs, derived from the ops'
    /// `input_regions` mappings walked from the outputs back to the sources.
    pub fn input_regions(&self, region: &Region) -> Vec<Region> {
        let mut regs: Vec<Option<Region>> = vec![None; self.reg_dtypes.len()];
        let mut inputs: Vec<Option<Region>> = vec![None; self.inputs.len()];
        fn assign(
            regs: &mut [Option<Region>],
            inputs: &mut [Option<Region>],
            at: Operand,
            r: Region,
        ) {
            let slot = match at {
                Operand::Input(i) => &mut inputs[i],
                Operand::Reg(i) => &mut regs[i],
            };
            slot.get_or_insert(r);
        }
        for copy in &self.copies {
            assign(&mut regs, &mut inputs, copy.value, region.clone());
        }
        for instr in self.instrs.iter().rev() {
            let out = match instr.dest {
                Dest::Output(_) => Some(region.clone()),
                Dest::Reg(r) => regs[r].clone(),
            };
            let Some(out) = out else { continue };
            for (arg, r) in instr
                .args
                .iter()
                .zip(instr.op.input_regions(&out, &instr.arg_metas))
            {
                assign(&mut regs, &mut inputs, *arg, r);
            }
        }
        inputs
            .into_iter()
            .map(|r| r.unwrap_or_else(|| region.clone()))
            .collect()
    }

    /// Calls `visit` with every input the program reads for `region` and the region it reads,
    /// also inside region ops (each box of [`crate::Op::input_pieces`] of their sub-programs).
    pub fn visit_reads(&self, region: &Region, visit: &mut dyn FnMut(&ProgramInput, &Region)) {
        for (input, r) in self.inputs.iter().zip(self.input_regions(region)) {
            visit(input, &r);
            if let ProgramInput::Region {
                op,
                inputs,
                input_metas,
                ..
            } = input
            {
                for (sub, pieces) in inputs.iter().zip(op.input_pieces(&r, input_metas)) {
                    // Read once as a whole when the executor does (see `whole_box_source`).
                    if let (Some(_), Some(bounds)) = (sub.whole_box_source(), tiled_box(&pieces)) {
                        sub.visit_reads(&bounds, visit);
                        continue;
                    }
                    for piece in &pieces {
                        sub.visit_reads(piece, visit);
                    }
                }
            }
        }
    }

    /// The source this program only passes through, when that source reads whole boxes best
    /// ([`Source::reads_whole_boxes`]): boxes a region op asks of it that tile one box are then
    /// read as that one box.
    pub fn whole_box_source(&self) -> Option<&Arc<dyn Source>> {
        match (self.passthrough().as_deref(), self.inputs.first()) {
            (Some([0]), Some(ProgramInput::Source(source))) if source.reads_whole_boxes() => {
                Some(source)
            }
            _ => None,
        }
    }

    /// Calls `visit` with every source the program reads, nested programs' too (a source read
    /// in several places is visited each time).
    pub fn visit_sources(&self, visit: &mut dyn FnMut(&Arc<dyn Source>)) {
        for input in &self.inputs {
            match input {
                ProgramInput::Source(source) => visit(source),
                ProgramInput::Region { inputs, .. } => {
                    inputs.iter().for_each(|sub| sub.visit_sources(visit));
                }
                _ => {}
            }
        }
    }

    /// Calls `visit` with the name of every op the program runs, inputs' ops first.
    pub fn visit_ops(&self, visit: &mut dyn FnMut(&str)) {
        for input in &self.inputs {
            if let ProgramInput::Region { op, inputs, .. } = input {
                inputs.iter().for_each(|sub| sub.visit_ops(visit));
                visit(op.name());
            }
        }
        self.instrs.iter().for_each(|i| visit(i.op.name()));
    }

    /// When the program computes nothing (every output is one of its inputs unchanged), the
    /// input index behind each output.
    pub fn passthrough(&self) -> Option<Vec<usize>> {
        if !self.instrs.is_empty() || self.copies.len() != self.output_dtypes.len() {
            return None;
        }
        let mut sources = vec![0; self.output_dtypes.len()];
        for copy in &self.copies {
            match copy.value {
                Operand::Input(i) => sources[copy.output] = i,
                Operand::Reg(_) => return None,
            }
        }
        Some(sources)
    }

    /// Runs the program over `n` elements: `inputs` are the source buffers, `outputs` are made
    /// `n` elements long and filled; `regs` is scratch kept by the worker between tasks.
    ///
    /// Outputs are filled by appending, block after block: an instruction writing an output
    /// writes a block register (in cache), which is then appended. Allocating the outputs
    /// zero-filled and writing them in place would cost a pass over their memory first (the
    /// zeroing, about 4% of the seed chain's samples and most of its page faults).
    ///
    /// # Errors
    /// The first kernel error.
    pub fn run(
        &self,
        inputs: &[Buffer],
        outputs: &mut [Buffer],
        regs: &mut Vec<Buffer>,
        n: usize,
    ) -> Result<()> {
        for (out, &dtype) in outputs.iter_mut().zip(&self.output_dtypes) {
            out.clear_for(dtype, n);
        }
        // The program's registers, then one staging register per output.
        regs.resize_with(
            self.reg_dtypes.len() + self.output_dtypes.len(),
            Buffer::default,
        );
        let mut start = 0;
        while start < n {
            let end = (start + BLOCK).min(n);
            self.run_block(inputs, outputs, regs, start, end)?;
            start = end;
        }
        match outputs.iter().find(|o| o.len() != n) {
            Some(short) => Err(crate::Error::Invalid(format!(
                "internal: a fused program filled {} of {n} elements of an output",
                short.len()
            ))),
            None => Ok(()),
        }
    }

    fn run_block(
        &self,
        inputs: &[Buffer],
        outputs: &mut [Buffer],
        regs: &mut [Buffer],
        start: usize,
        end: usize,
    ) -> Result<()> {
        let len = end - start;
        let staging = self.reg_dtypes.len();
        for instr in &self.instrs {
            let (r, dtype) = match instr.dest {
                Dest::Reg(r) => (r, self.reg_dtypes[r]),
                Dest::Output(k) => (staging + k, self.output_dtypes[k]),
            };
            let mut dest = std::mem::take(&mut regs[r]);
            dest.reset(dtype, len);
            let args: Vec<_> = instr
                .args
                .iter()
                .map(|a| match *a {
                    Operand::Input(i) => inputs[i].slice(start, end),
                    Operand::Reg(r) => regs[r].slice(0, len),
                })
                .collect();
            let result = instr.op.eval_block(&args, dest.slice_mut(0, len));
            drop(args);
            if let (Dest::Output(k), Ok(())) = (instr.dest, &result) {
                outputs[k].extend_from(&dest.slice(0, len))?;
            }
            regs[r] = dest;
            result?;
        }
        for copy in &self.copies {
            let src = match copy.value {
                Operand::Input(i) => inputs[i].slice(start, end),
                Operand::Reg(r) => regs[r].slice(0, len),
            };
            outputs[copy.output].extend_from(&src)?;
        }
        Ok(())
    }
}
