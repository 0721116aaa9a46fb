//! Running a plan: prepare the sinks, run every stage's tasks on the scheduler, then finish the
//! sinks — or, on any error, remove what was written.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::buffer::Buffer;
use crate::error::{Error, Result};
use crate::exec::budget::MemoryBudget;
use crate::exec::held::HeldStore;
use crate::exec::options::ExecOptions;
use crate::exec::scheduler::{run_tasks, TaskSet};
use crate::geometry::{extract_region, Region};
use crate::op::RegionData;
use crate::plan::{FusedProgram, Plan, ProgramInput, Stage};
use crate::store::{IoContext, Source};

/// What a finished run did.
#[derive(Clone, Debug)]
pub struct RunStats {
    /// Tasks run.
    pub tasks: u64,
    /// Wall time.
    pub elapsed: Duration,
    /// Most projected bytes admitted at once (running tasks plus results kept in memory).
    pub peak_projected_bytes: u64,
}

/// The plan's stages as one flat task set: task `t` is task `t - offsets[s]` of stage `s`.
struct PlanTasks<'a> {
    plan: &'a Plan,
    io: IoContext,
    held: HeldStore,
    budget: &'a MemoryBudget,
}

/// Source reads of one block task, shared by its units.
#[derive(Default)]
struct ReadCache {
    entries: Vec<(Arc<dyn Source>, Region, Buffer)>,
}

impl ReadCache {
    fn get(&self, source: &Arc<dyn Source>) -> Option<(&Region, &Buffer)> {
        self.entries
            .iter()
            .find(|(s, _, _)| Arc::ptr_eq(s, source))
            .map(|(_, r, b)| (r, b))
    }

    /// The cached read behind a sub-program that only passes one source through.
    fn direct(&self, program: &FusedProgram) -> Option<(&Region, &Buffer)> {
        match (program.passthrough().as_deref(), program.inputs.first()) {
            (Some([0]), Some(ProgramInput::Source(source))) => self.get(source),
            _ => None,
        }
    }
}

/// Buffers a worker keeps between tasks.
#[derive(Default)]
struct Scratch {
    outputs: Vec<Buffer>,
    regs: Vec<Buffer>,
}

impl PlanTasks<'_> {
    fn locate(&self, task: usize) -> (usize, &Stage, Vec<u64>) {
        let t = task as u64;
        let s = self.plan.offsets.partition_point(|&o| o <= t) - 1;
        let stage = &self.plan.stages[s];
        (s, stage, stage.tasks.unravel(t - self.plan.offsets[s]))
    }

    /// Computes `program`'s outputs over `region` into `outputs`.
    fn eval(
        &self,
        program: &FusedProgram,
        region: &Region,
        outputs: &mut [Buffer],
        regs: &mut Vec<Buffer>,
        cache: Option<&ReadCache>,
    ) -> Result<()> {
        let regions = program.input_regions(region);
        let mut inputs = program
            .inputs
            .iter()
            .zip(&regions)
            .map(|(input, r)| self.input(input, r, regs, cache))
            .collect::<Result<Vec<Buffer>>>()?;
        if let Some(sources) = program.passthrough() {
            // Outputs that are inputs unchanged (a resample written as is): move, don't copy.
            for (k, &i) in sources.iter().enumerate() {
                outputs[k] = if sources[k + 1..].contains(&i) {
                    inputs[i].clone()
                } else {
                    std::mem::take(&mut inputs[i])
                };
            }
            return Ok(());
        }
        program.run(&inputs, outputs, regs, region.num_elements() as usize)
    }

    /// Reads every source the program needs for `region` into `cache`, once.
    fn prefetch(
        &self,
        program: &FusedProgram,
        region: &Region,
        cache: &mut ReadCache,
    ) -> Result<()> {
        for (input, r) in program.inputs.iter().zip(program.input_regions(region)) {
            match input {
                ProgramInput::Source(source) if cache.get(source).is_none() => {
                    let data = source.read(&r, &self.io).map_err(|e| {
                        Error::Invalid(format!("reading {}: {e}", source.describe()))
                    })?;
                    cache.entries.push((Arc::clone(source), r, data));
                }
                ProgramInput::Region {
                    op,
                    inputs,
                    input_metas,
                    ..
                } => {
                    for (sub, sr) in inputs.iter().zip(op.input_regions(&r, input_metas)) {
                        self.prefetch(sub, &sr, cache)?;
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn input(
        &self,
        input: &ProgramInput,
        region: &Region,
        regs: &mut Vec<Buffer>,
        cache: Option<&ReadCache>,
    ) -> Result<Buffer> {
        match input {
            ProgramInput::Source(source) => match cache.and_then(|c| c.get(source)) {
                Some((cached, data)) => Ok(extract_region(data, cached, region)),
                None => source
                    .read(region, &self.io)
                    .map_err(|e| Error::Invalid(format!("reading {}: {e}", source.describe()))),
            },
            ProgramInput::Held {
                stage,
                output,
                meta,
            } => self.held.assemble(
                &self.plan.stages[*stage].tasks,
                self.plan.offsets[*stage],
                *output,
                region,
                meta.dtype,
            ),
            ProgramInput::Region {
                op,
                inputs,
                input_metas,
                ..
            } => {
                let in_regions = op.input_regions(region, input_metas);
                let mut owned: Vec<(Region, Option<Buffer>, Option<&Buffer>)> =
                    Vec::with_capacity(inputs.len());
                for (sub, r) in inputs.iter().zip(&in_regions) {
                    // A source read as is: hand the op the cached block (a region containing the
                    // one it asked for) without copying.
                    if let Some((cached, data)) = cache.and_then(|c| c.direct(sub)) {
                        owned.push((cached.clone(), None, Some(data)));
                        continue;
                    }
                    let mut out = vec![Buffer::default()];
                    self.eval(sub, r, &mut out, regs, cache)?;
                    owned.push((r.clone(), out.pop(), None));
                }
                let views: Vec<RegionData<'_>> = owned
                    .iter()
                    .filter_map(|(region, mine, cached)| {
                        let data = mine.as_ref().or(*cached)?;
                        Some(RegionData { region, data })
                    })
                    .collect();
                op.compute_region(&views, region)
                    .map_err(|e| Error::Invalid(format!("{}({}): {e}", op.name(), op.describe())))
            }
        }
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

    fn copy_encoded(
        &self,
        stage: &Stage,
        source: &dyn Source,
        chunk: &[u64],
        outputs: &mut [Buffer],
    ) -> Result<()> {
        let bytes = source.encoded_chunk(chunk)?;
        if let Some(sink) = &stage.outputs[0].sink {
            sink.write_encoded(chunk, bytes.as_deref())?;
        }
        outputs[0] = source.decode_chunk(chunk, bytes.as_deref())?;
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
            let failed = |e: Error| Error::Invalid(format!("writing {}: {e}", sink.describe()));
            if whole_unit {
                let unit: Vec<u64> = region
                    .start
                    .iter()
                    .zip(stage.units.chunk_shape())
                    .map(|(s, c)| s / c)
                    .collect();
                sink.write(&unit, region, data, &self.io).map_err(failed)?;
                continue;
            }
            for unit in stage.units.chunks_overlapping(region) {
                let unit_region = stage.units.chunk_region(&unit);
                let part = extract_region(data, region, &unit_region);
                sink.write(&unit, &unit_region, &part, &self.io)
                    .map_err(failed)?;
            }
        }
        Ok(())
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
        let (_, stage, index) = self.locate(task);
        let region = stage.tasks.chunk_region(&index);
        let as_task_error = |e: Error| Error::Task {
            op: format!("computing {}", stage.label()),
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
        if !kept.is_empty() {
            let consumers = self.dependents(task).len() as u32;
            self.budget
                .hold(self.held.put(task as u32, kept, consumers));
        }
        for &up in self.plan.deps.upstream.of(task) {
            self.budget.free(self.held.release(up));
        }
        Ok(())
    }

    fn describe(&self, task: usize) -> (String, Vec<u64>) {
        let (_, stage, index) = self.locate(task);
        (format!("computing {}", stage.label()), index)
    }

    fn dependency_count(&self, task: usize) -> u32 {
        self.plan.deps.upstream.of(task).len() as u32
    }

    fn dependents(&self, task: usize) -> &[u32] {
        self.plan.deps.downstream.of(task)
    }

    /// Stage by stage, and within a stage in Morton (Z-curve) order of the chunk index: the
    /// blocks of chunks a consumer task reads (the 8 chunks under one chunk of the next pyramid
    /// level) finish close together, so results kept for consumers are freed early.
    fn order_key(&self, task: usize) -> u64 {
        let (s, _, index) = self.locate(task);
        ((s as u64) << 56) | (morton(&index) & ((1 << 56) - 1))
    }
}

/// Interleaves the bits of a chunk index (axis 0 most significant within each bit plane).
fn morton(index: &[u64]) -> u64 {
    let mut code = 0u64;
    let mut bit = 0;
    for plane in 0..64 {
        for &i in index {
            if bit == 64 {
                return code;
            }
            code |= ((i >> plane) & 1) << bit;
            bit += 1;
        }
    }
    code
}

/// Executes `plan`: every output is complete on success; on error every output this run created is
/// removed and the first error is returned.
///
/// # Errors
/// The first task error ([`Error::Task`] names the op and chunk), sink preparation or finishing
/// errors, or [`Error::Cancelled`].
pub fn execute(plan: &Plan, options: &ExecOptions) -> Result<RunStats> {
    let start = Instant::now();
    let sinks: Vec<_> = plan
        .stages
        .iter()
        .flat_map(|s| s.outputs.iter().filter_map(|o| o.sink.clone()))
        .collect();
    let total = plan.num_tasks();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = options.threads.max(1);
    // Outer (task) parallelism first; codec threads only where tasks are fewer than cores.
    let busy = (threads as u64).min(total.max(1)) as usize;
    let budget = MemoryBudget::new(plan.memory_limit.min(options.memory_limit));
    let tasks = PlanTasks {
        plan,
        io: IoContext {
            codec_threads: (cores / busy).max(1),
        },
        held: HeldStore::default(),
        budget: &budget,
    };
    tracing::info!(
        tasks = total,
        threads,
        codec_threads = tasks.io.codec_threads,
        "running plan"
    );

    let mut prepared = Vec::new();
    let mut outcome = Ok(());
    for sink in &sinks {
        match sink.prepare() {
            Ok(()) => prepared.push(sink.clone()),
            Err(e) => {
                outcome = Err(e);
                break;
            }
        }
    }
    if outcome.is_ok() {
        let done = AtomicU64::new(0);
        let on_done = || {
            let d = done.fetch_add(1, Ordering::Relaxed) + 1;
            if let Some(p) = &options.progress {
                p(d, total);
            }
        };
        outcome = run_tasks(&tasks, threads, &budget, &options.cancel, &on_done);
    }
    if outcome.is_ok() {
        outcome = sinks.iter().try_for_each(|s| s.finish());
    }
    if let Err(e) = outcome {
        tracing::debug!(error = %e, "run failed; removing partial outputs");
        for sink in &prepared {
            sink.abort();
        }
        return Err(e);
    }
    Ok(RunStats {
        tasks: total,
        elapsed: start.elapsed(),
        peak_projected_bytes: budget.peak(),
    })
}
