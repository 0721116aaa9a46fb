//! Running a plan: prepare the sinks, run every stage's tasks on the scheduler, then finish the
//! sinks — or, on any error, remove what was written.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::buffer::Buffer;
use crate::error::{Error, Result};
use crate::exec::budget::MemoryBudget;
use crate::exec::options::ExecOptions;
use crate::exec::scheduler::{run_tasks, TaskSet};
use crate::plan::{Plan, Stage};
use crate::store::IoContext;

/// What a finished run did.
#[derive(Clone, Debug)]
pub struct RunStats {
    /// Tasks run.
    pub tasks: u64,
    /// Wall time.
    pub elapsed: Duration,
    /// Most projected bytes admitted at once.
    pub peak_projected_bytes: u64,
}

/// The plan's stages as one flat task set: task `t` is unit `t - offset[s]` of stage `s`.
struct PlanTasks<'a> {
    stages: &'a [Stage],
    offsets: Vec<u64>,
    io: IoContext,
}

/// Buffers a worker keeps between tasks.
#[derive(Default)]
struct Scratch {
    outputs: Vec<Buffer>,
    regs: Vec<Buffer>,
}

impl PlanTasks<'_> {
    fn locate(&self, task: usize) -> (&Stage, Vec<u64>) {
        let t = task as u64;
        let s = self.offsets.partition_point(|&o| o <= t) - 1;
        let stage = &self.stages[s];
        (stage, stage.grid.unravel(t - self.offsets[s]))
    }
}

impl TaskSet for PlanTasks<'_> {
    type Scratch = Scratch;

    fn num_tasks(&self) -> usize {
        self.offsets.last().copied().unwrap_or(0) as usize
    }

    fn projected_bytes(&self, task: usize) -> u64 {
        self.locate(task).0.task_bytes
    }

    fn run(&self, task: usize, scratch: &mut Scratch) -> Result<()> {
        let (stage, unit) = self.locate(task);
        let region = stage.grid.chunk_region(&unit);
        let task_error = |op: String, e: Error| Error::Task {
            op,
            chunk: unit.clone(),
            cause: e.to_string(),
        };
        let program = &stage.program;
        let regions = program.input_regions(&region);
        let inputs = program
            .inputs
            .iter()
            .zip(&regions)
            .map(|(input, r)| {
                input
                    .source
                    .read(r, &self.io)
                    .map_err(|e| task_error(format!("reading {}", input.source.describe()), e))
            })
            .collect::<Result<Vec<Buffer>>>()?;
        scratch
            .outputs
            .resize_with(stage.outputs.len(), Buffer::default);
        program
            .run(
                &inputs,
                &mut scratch.outputs,
                &mut scratch.regs,
                region.num_elements() as usize,
            )
            .map_err(|e| task_error(format!("computing {}", stage.label()), e))?;
        drop(inputs);
        for (output, data) in stage.outputs.iter().zip(&scratch.outputs) {
            output
                .sink
                .write(&unit, &region, data, &self.io)
                .map_err(|e| task_error(format!("writing {}", output.sink.describe()), e))?;
        }
        Ok(())
    }

    fn describe(&self, task: usize) -> (String, Vec<u64>) {
        let (stage, unit) = self.locate(task);
        (format!("computing {}", stage.label()), unit)
    }
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
        .flat_map(|s| s.outputs.iter().map(|o| o.sink.clone()))
        .collect();
    let mut offsets = vec![0u64];
    for s in &plan.stages {
        offsets.push(offsets.last().copied().unwrap_or(0) + s.num_tasks());
    }
    let total = *offsets.last().unwrap_or(&0);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = options.threads.max(1);
    // Outer (task) parallelism first; codec threads only where tasks are fewer than cores.
    let busy = (threads as u64).min(total.max(1)) as usize;
    let io = IoContext {
        codec_threads: (cores / busy).max(1),
    };
    let tasks = PlanTasks {
        stages: &plan.stages,
        offsets,
        io,
    };
    let budget = MemoryBudget::new(plan.memory_limit.min(options.memory_limit));
    tracing::info!(
        tasks = total,
        threads,
        codec_threads = io.codec_threads,
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
