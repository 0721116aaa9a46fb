//! Running a plan: prepare the sinks, run every stage's tasks on the scheduler, then finish the
//! sinks — or, on any error, remove what was written.

use std::sync::atomic::{AtomicU64, Ordering};
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
use crate::store::IoContext;

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
    ) -> Result<()> {
        let regions = program.input_regions(region);
        let mut inputs = program
            .inputs
            .iter()
            .zip(&regions)
            .map(|(input, r)| self.input(input, r, regs))
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

    fn input(
        &self,
        input: &ProgramInput,
        region: &Region,
        regs: &mut Vec<Buffer>,
    ) -> Result<Buffer> {
        match input {
            ProgramInput::Source(source) => source
                .read(region, &self.io)
                .map_err(|e| Error::Invalid(format!("reading {}: {e}", source.describe()))),
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
                let mut data = Vec::with_capacity(inputs.len());
                for (sub, r) in inputs.iter().zip(&in_regions) {
                    let mut out = vec![Buffer::default()];
                    self.eval(sub, r, &mut out, regs)?;
                    data.extend(out);
                }
                let views: Vec<RegionData<'_>> = in_regions
                    .iter()
                    .zip(&data)
                    .map(|(region, data)| RegionData { region, data })
                    .collect();
                op.compute_region(&views, region)
                    .map_err(|e| Error::Invalid(format!("{}({}): {e}", op.name(), op.describe())))
            }
        }
    }

    /// Writes a task's outputs: each write unit inside the task's region separately.
    fn write(&self, stage: &Stage, region: &Region, outputs: &[Buffer]) -> Result<()> {
        let whole_unit = stage.block.iter().all(|&b| b == 1);
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
        self.eval(
            &stage.program,
            &region,
            &mut scratch.outputs,
            &mut scratch.regs,
        )
        .map_err(as_task_error)?;
        self.write(stage, &region, &scratch.outputs)
            .map_err(as_task_error)?;
        let kept: Vec<Buffer> = stage
            .outputs
            .iter()
            .zip(&scratch.outputs)
            .filter(|(o, _)| o.held)
            .map(|(_, b)| b.clone())
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
