//! The plan's stages as one flat task set for the scheduler: what one task does (evaluate,
//! write, keep results for later stages, release what it read), and in which order roots start.

use std::sync::Arc;

use crate::buffer::Buffer;
use crate::error::{Error, Result};
use crate::exec::budget::MemoryBudget;
use crate::exec::eval::ReadCache;
use crate::exec::held::HeldStore;
use crate::exec::meter::{StagePeaks, TaskMeter};
use crate::exec::scheduler::TaskSet;
use crate::geometry::{extract_region, Region};
use crate::plan::{grouped_morton, Plan, ProgramInput, Stage};
use crate::store::{IoContext, Source};

/// The plan's stages as one flat task set: task `t` is task `t - offsets[s]` of stage `s`.
pub(super) struct PlanTasks<'a> {
    pub(super) plan: &'a Plan,
    pub(super) io: IoContext,
    pub(super) held: HeldStore,
    pub(super) budget: &'a MemoryBudget,
    /// Projected bytes of the plan's largest task: the room a held result must leave.
    pub(super) largest_task: u64,
    /// Measures each task's memory when set; peaks are collected per stage.
    pub(super) meter: Option<Arc<dyn TaskMeter>>,
    pub(super) peaks: Vec<StagePeaks>,
    /// Tasks a resumed run skips (see [`super::resume`]), from task `skip_from` on; empty
    /// until the sinks are prepared.
    pub(super) skip: Vec<bool>,
    /// The task `skip[0]` is about (the first of a part, [`super::execute_part`]; else 0).
    pub(super) skip_from: usize,
}
/// Buffers a worker keeps between tasks.
#[derive(Default)]
pub(super) struct Scratch {
    outputs: Vec<Buffer>,
    regs: Vec<Buffer>,
}

/// Task `task`'s stage number, stage and chunk index.
pub(super) fn locate(plan: &Plan, task: usize) -> (usize, &Stage, Vec<u64>) {
    let t = task as u64;
    let s = plan.offsets.partition_point(|&o| o <= t) - 1;
    let stage = &plan.stages[s];
    (s, stage, stage.tasks.unravel(t - plan.offsets[s]))
}

/// Where task `task` comes in the order roots start: stage by stage, and within a stage in
/// Morton (Z-curve) order of the groups of tasks that read the same input chunks
/// ([`grouped_morton`], which says why).
pub(super) fn order_key(plan: &Plan, task: usize) -> u64 {
    let (s, stage, index) = locate(plan, task);
    ((s as u64) << 56) | (grouped_morton(&index, &stage.read_groups) & ((1 << 56) - 1))
}

impl PlanTasks<'_> {
    fn locate(&self, task: usize) -> (usize, &Stage, Vec<u64>) {
        locate(self.plan, task)
    }

    /// The source whose stored chunks this stage can copy as they are: its one output is that
    /// source unchanged, written with the same encoding and chunks, one chunk per task, and kept
    /// for later stages (so every copied chunk is also decoded, and a corrupt one is caught).
    fn raw_copy_source(&self, stage: &Stage) -> Option<Arc<dyn Source>> {
        let [output] = stage.outputs.as_slice() else {
            return None;
        };
        if !output.held {
            return None;
        }
        let (Some(sink), Some(sources)) = (&output.sink, stage.program.passthrough()) else {
            return None;
        };
        let (Some(0), Some(ProgramInput::Source(source))) =
            (sources.first().copied(), stage.program.inputs.first())
        else {
            return None;
        };
        let same = stage.block.iter().all(|&b| b == 1)
            && source.meta().chunks == stage.units.chunk_shape()
            && sink.chunk_encoding().is_some()
            && sink.chunk_encoding() == source.chunk_encoding();
        same.then(|| Arc::clone(source))
    }

    fn skipped(&self, task: usize) -> bool {
        task.checked_sub(self.skip_from)
            .and_then(|i| self.skip.get(i))
            .copied()
            .unwrap_or(false)
    }

    fn copy_encoded(
        &self,
        stage: &Stage,
        source: &dyn Source,
        chunk: &[u64],
        outputs: &mut [Buffer],
    ) -> Result<()> {
        let bytes = source.encoded_chunk(chunk)?;
        // Decoded before it is stored: a chunk that does not decode fails the task without
        // being written and listed as done for a resume.
        outputs[0] = source.decode_chunk(chunk, bytes.as_deref())?;
        if let Some(sink) = stage.outputs[0].sink.as_ref().filter(|s| !s.is_done(chunk)) {
            sink.write_encoded(chunk, bytes.as_deref(), &self.io)?;
        }
        Ok(())
    }

    /// Writes a task's outputs: each write unit inside the task's region separately.
    fn write(&self, stage: &Stage, region: &Region, outputs: &[Buffer]) -> Result<()> {
        let whole_unit = region
            .shape
            .iter()
            .zip(region.start.iter().zip(stage.units.chunk_shape()))
            .all(|(n, (s, c))| s % c == 0 && *n <= *c);
        for (output, data) in stage.outputs.iter().zip(outputs) {
            let Some(sink) = &output.sink else { continue };
            // Units an interrupted run stored are not written again (a resumed producer runs
            // only because a later stage needs its kept result).
            let failed = |e: Error| Error::Invalid(format!("writing {}: {e}", sink.describe()));
            if whole_unit {
                let unit: Vec<u64> = region
                    .start
                    .iter()
                    .zip(stage.units.chunk_shape())
                    .map(|(s, c)| s / c)
                    .collect();
                if !sink.is_done(&unit) {
                    sink.write(&unit, region, data, &self.io).map_err(failed)?;
                }
                continue;
            }
            for unit in stage.units.chunks_overlapping(region) {
                if sink.is_done(&unit) {
                    continue;
                }
                let unit_region = stage.units.chunk_region(&unit);
                let part = extract_region(data, region, &unit_region);
                sink.write(&unit, &unit_region, &part, &self.io)
                    .map_err(failed)?;
            }
        }
        Ok(())
    }

    /// One task: evaluate, write, keep results for later stages, release what it read. False
    /// when a resumed run skips it: its chunks are stored, and whatever it would keep is read by
    /// skipped tasks only (so it holds nothing and releases nothing).
    fn run_task(&self, task: usize, scratch: &mut Scratch) -> Result<bool> {
        if self.skipped(task) {
            return Ok(false);
        }
        let (_, stage, index) = self.locate(task);
        let region = stage.tasks.chunk_region(&index);
        let as_task_error = |e: Error| Error::Task {
            op: stage.work(),
            chunk: index.clone(),
            cause: e.to_string(),
        };
        scratch
            .outputs
            .resize_with(stage.outputs.len(), Buffer::default);
        let whole_unit = stage.block.iter().all(|&b| b == 1);
        if let Some(source) = self.raw_copy_source(stage) {
            // Level 0 of a pyramid and other unchanged copies: move the stored bytes and decode
            // only what later stages keep.
            self.copy_encoded(stage, source.as_ref(), &index, &mut scratch.outputs)
                .map_err(as_task_error)?;
        } else if whole_unit || stage.outputs.iter().any(|o| o.held) {
            self.eval(
                &stage.program,
                &region,
                &mut scratch.outputs,
                &mut scratch.regs,
                None,
            )
            .map_err(as_task_error)?;
            self.write(stage, &region, &scratch.outputs)
                .map_err(as_task_error)?;
        } else {
            // A block of units (an upsample reading whole input chunks): read the block's inputs
            // once, then compute and write unit by unit from them, so no block-sized output
            // buffer is built and cut up.
            let mut cache = ReadCache::default();
            self.prefetch(&stage.program, &region, &mut cache)
                .map_err(as_task_error)?;
            for unit in stage.units.chunks_overlapping(&region) {
                let unit_region = stage.units.chunk_region(&unit);
                self.eval(
                    &stage.program,
                    &unit_region,
                    &mut scratch.outputs,
                    &mut scratch.regs,
                    Some(&cache),
                )
                .map_err(as_task_error)?;
                self.write(stage, &unit_region, &scratch.outputs)
                    .map_err(as_task_error)?;
            }
        }
        let kept: Vec<Buffer> = stage
            .outputs
            .iter()
            .zip(scratch.outputs.iter_mut())
            .filter(|(o, _)| o.held)
            .map(|(_, b)| std::mem::take(b))
            .collect();
        // Skipped consumers never read (nor release) what this task keeps.
        let consumers = self
            .dependents(task)
            .iter()
            .filter(|&&d| !self.skipped(d as usize))
            .count() as u32;
        if !kept.is_empty() && consumers > 0 {
            // Keep it in memory only while a task of the largest kind still fits beside what
            // is held; otherwise spill it (so the lone-task rule never has to go over).
            let bytes: u64 = kept.iter().map(|b| b.nbytes() as u64).sum();
            let spill = self.budget.used() + bytes + self.largest_task > self.budget.limit();
            let held = self
                .held
                .put(task as u32, kept, consumers, spill)
                .map_err(as_task_error)?;
            self.budget.hold(held);
        }
        for &up in self.plan.deps.upstream.of(task) {
            self.budget.free(self.held.release(up));
        }
        Ok(true)
    }
}

impl TaskSet for PlanTasks<'_> {
    type Scratch = Scratch;

    fn num_tasks(&self) -> usize {
        self.plan.num_tasks() as usize
    }

    fn projected_bytes(&self, task: usize) -> u64 {
        self.locate(task).1.task_bytes
    }

    fn run(&self, task: usize, scratch: &mut Scratch) -> Result<()> {
        let Some(meter) = &self.meter else {
            return self.run_task(task, scratch).map(|_| ());
        };
        meter.start();
        let computed = self.run_task(task, scratch)?;
        if computed {
            self.peaks[self.locate(task).0].record(meter.peak());
        }
        Ok(())
    }

    fn describe(&self, task: usize) -> (String, Vec<u64>) {
        let (_, stage, index) = self.locate(task);
        (stage.work(), index)
    }

    fn dependency_count(&self, task: usize) -> u32 {
        self.plan.deps.upstream.of(task).len() as u32
    }

    fn dependents(&self, task: usize) -> &[u32] {
        self.plan.deps.downstream.of(task)
    }

    /// See [`order_key`].
    fn order_key(&self, task: usize) -> u64 {
        order_key(self.plan, task)
    }
}
