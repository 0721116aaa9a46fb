//! Running a plan: prepare the sinks, run every stage's tasks on the scheduler, then finish the
//! sinks — or, on any error, remove what was written.

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::exec::budget::MemoryBudget;
use crate::exec::held::HeldStore;
use crate::exec::meter::StageMemory;
use crate::exec::options::ExecOptions;
use crate::exec::part::Part;
use crate::exec::resume::{keeps_only, skippable_tasks, stored_tasks};
use crate::exec::scheduler::run_tasks;
use crate::exec::tasks::{locate, order_key, PlanTasks};
use crate::plan::{Plan, ProgramInput};
use crate::store::{IoContext, Sink, Source};

/// What a finished run did.
#[derive(Clone, Debug)]
pub struct RunStats {
    /// Tasks in the plan (of a part, [`execute_part`]: the tasks in its range).
    pub tasks: u64,
    /// Of those, tasks a resumed run skipped: their chunks were stored and nothing left to
    /// compute needed their results (0 when the run is not a resume).
    pub skipped_tasks: u64,
    /// Of those, tasks not run because no output needed their results: a stage that only
    /// keeps results for later stages computes just the chunks those read (a preview's slice
    /// of a pipeline computes the gaussian around the slice, not the whole volume).
    pub unneeded_tasks: u64,
    /// Wall time.
    pub elapsed: Duration,
    /// Most projected bytes admitted at once (running tasks plus results kept in memory), plus
    /// the most bytes each store held in requests in flight beside them (chunks read ahead,
    /// writes behind compute): these bytes count in the memory limit too. Each term is its own
    /// peak, so the sum bounds the true peak from above.
    pub peak_projected_bytes: u64,
    /// Of [`RunStats::peak_projected_bytes`], the requests in flight.
    pub in_flight_peak_bytes: u64,
    /// Bytes of held results written to disk because memory ran short.
    pub spilled_bytes: u64,
    /// Bytes reserved inside the limit for decoded chunks shared between tasks (0 when no read
    /// goes through the chunk cache).
    pub chunk_cache_bytes: u64,
    /// The most bytes of decoded chunks each source's cache held at once, summed over sources
    /// (a bound on what they held together).
    pub chunk_cache_peak_bytes: u64,
    /// Per stage, projected and measured task memory; empty unless
    /// [`ExecOptions::task_meter`] was set.
    pub stage_memory: Vec<StageMemory>,
}

/// Executes `plan`: every output is complete on success; on error every output this run created is
/// removed (outputs being resumed keep what they stored) and the first error is returned. A
/// cancelled run ([`ExecOptions::cancel`]) keeps what it stored, so a resume continues it.
///
/// # Errors
/// The first task error ([`Error::Task`] names the op and chunk), sink preparation or finishing
/// errors, or [`Error::Cancelled`].
pub fn execute(plan: &Plan, options: &ExecOptions) -> Result<RunStats> {
    execute_then(plan, options, || Ok(()))
}

/// [`execute`], with `last` run once every output is finished and before their resume journals
/// go: what a caller writes to mark its own work complete (a pyramid's group metadata). A run
/// killed before `last` is done is then resumed as a whole, finished outputs included.
///
/// # Errors
/// As [`execute`], and `last`'s error (which fails the run the same way).
pub fn execute_then(
    plan: &Plan,
    options: &ExecOptions,
    last: impl FnOnce() -> Result<()>,
) -> Result<RunStats> {
    run(plan, options, None, last)
}

/// Runs only the tasks `range` (global task indices) of `plan`, as one worker of a run spread
/// over many processes does: the sinks are neither prepared nor finished nor removed on
/// failure — whoever splits the run creates the outputs before and writes their metadata after
/// every part is done. A task is skipped when its write units are all stored
/// ([`Sink::is_done`] of sinks that say they are resuming), so running a part twice computes
/// nothing the second time. The cost beyond the tasks does not grow with the plan: nothing is
/// done per task outside `range`.
///
/// # Errors
/// [`Error::Invalid`] for a plan whose tasks pass results to each other in memory (a part of it
/// cannot run alone); then the first task error ([`Error::Task`] names the op and chunk), or
/// [`Error::Cancelled`].
pub fn execute_part(plan: &Plan, options: &ExecOptions, range: Range<u64>) -> Result<RunStats> {
    if !plan.deps.upstream.is_empty() {
        return Err(Error::Invalid(
            "a part of a plan whose tasks hand results to each other in memory cannot run \
             alone; split it so that stages pass results through storage"
                .into(),
        ));
    }
    let end = range.end.min(plan.num_tasks()) as usize;
    let start = (range.start as usize).min(end);
    run(plan, options, Some(start..end), || Ok(()))
}

/// [`execute_then`] (`part` is `None`), or [`execute_part`] on the tasks `part`.
fn run(
    plan: &Plan,
    options: &ExecOptions,
    part: Option<Range<usize>>,
    last: impl FnOnce() -> Result<()>,
) -> Result<RunStats> {
    let start = Instant::now();
    let sinks: Vec<_> = plan
        .stages
        .iter()
        .flat_map(|s| s.outputs.iter().filter_map(|o| o.sink.clone()))
        .collect();
    // The tasks this run covers: all, or the part's.
    let covered = part.clone().unwrap_or(0..plan.num_tasks() as usize);
    let total = covered.len() as u64;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = options.threads.max(1);
    // Outer (task) parallelism first; codec threads only where tasks are fewer than cores.
    let busy = (threads as u64).min(total.max(1)) as usize;
    // The chunk cache lives inside the limit: running tasks are admitted against the rest.
    let limit = plan.memory_limit.min(options.memory_limit);
    let mut prepared = Vec::new();
    let mut outcome = Ok(());
    for sink in sinks.iter().filter(|_| part.is_none()) {
        match sink.prepare() {
            Ok(()) => prepared.push(sink.clone()),
            Err(e) => {
                outcome = Err(e);
                break;
            }
        }
    }
    // Known once resuming sinks have read their journals.
    let skip = match (&outcome, &part) {
        (Ok(()), Some(range)) if sinks.iter().any(|s| s.resuming()) => {
            stored_tasks(plan, range.clone())
        }
        (Ok(()), None) if sinks.iter().any(|s| s.resuming()) || keeps_only(plan) => {
            skippable_tasks(plan)
        }
        _ => Vec::new(),
    };
    let resuming = sinks.iter().any(|s| s.resuming());
    // Reserved only when some read goes through a source's chunk cache.
    each_source(plan, |source| source.forget_reads());
    let caching = if plan.cache_bytes > 0 && outcome.is_ok() {
        announce_reads(plan, covered.clone(), &skip)
    } else {
        Vec::new()
    };
    let cached_sources = caching.len();
    // What the plan allows, but no more than the announced reads need: a cache larger than
    // its working set only holds neighbours whose owners come much later.
    let cache_bytes = if cached_sources > 0 {
        plan.cache_bytes
            .min(limit / 4)
            .min(cache_working_set(&caching, threads as u64))
    } else {
        0
    };
    let largest_task = plan.stages.iter().map(|s| s.task_bytes).max().unwrap_or(0);
    let (write_behind, behind_sinks) = if outcome.is_ok() && part.is_none() {
        let writing_behind: Vec<(usize, u64)> = sinks
            .iter()
            .map(|s| {
                let unit: u64 = s.write_grid().chunk_shape().iter().product();
                (s.write_behind_depth(), unit * s.meta().dtype.size() as u64)
            })
            .collect();
        io_reservation(
            &writing_behind,
            options.io_concurrency,
            limit - cache_bytes,
            largest_task,
        )
    } else {
        (0, 0)
    };
    let mut reading_ahead = Vec::new();
    each_source(plan, |source| {
        let chunk: u64 = source.meta().chunks.iter().product();
        reading_ahead.push((
            source.prefetch_depth(),
            chunk * source.meta().dtype.size() as u64,
        ));
    });
    let (prefetch, prefetch_sources) = if outcome.is_ok() {
        let after_writes = limit - cache_bytes - write_behind;
        io_reservation(
            &reading_ahead,
            options.io_concurrency,
            after_writes,
            largest_task,
        )
    } else {
        (0, 0)
    };
    // Running tasks are admitted against what the cache, the requests in flight and the
    // freed buffers kept for the next task leave.
    let room = limit - cache_bytes - write_behind - prefetch;
    // One task's worth, where a task still fits beside it: a finished task's buffers wait for
    // the next, which asks for as much. (Measured on 512^3, 2 threads: one task's worth took
    // the gaussian's sys time from 0.7-0.95 s to 0.35-0.6 s; two tasks' worth kept 15 MB more
    // resident and saved no time.) Kept blocks are resident memory, so they count in the limit.
    let pooled = match options.buffer_pool {
        Some(_) => largest_task.min(room.saturating_sub(largest_task)),
        None => 0,
    };
    let budget = MemoryBudget::new(room - pooled);
    if let Some(pool) = options.buffer_pool {
        pool.set_capacity(pooled as usize);
    }
    let tasks = PlanTasks {
        plan,
        io: IoContext {
            codec_threads: (cores / busy).max(1),
            // Decoded chunks shared by tasks whose reads span chunks (stencil halos).
            cache_bytes: cache_bytes / cached_sources.max(1) as u64,
            io_concurrency: options.io_concurrency,
            write_behind_bytes: write_behind / behind_sinks.max(1) as u64,
            prefetch_bytes: prefetch / prefetch_sources.max(1) as u64,
        },
        held: HeldStore::default(),
        budget: &budget,
        largest_task,
        meter: options.task_meter.clone(),
        peaks: plan.stages.iter().map(|_| Default::default()).collect(),
        skip,
        skip_from: covered.start,
    };
    tracing::info!(
        tasks = total,
        skipped = tasks.skip.iter().filter(|&&s| s).count(),
        threads,
        codec_threads = tasks.io.codec_threads,
        write_behind = %crate::plan::human_bytes(write_behind),
        read_ahead = %crate::plan::human_bytes(prefetch),
        "running plan"
    );
    if outcome.is_ok() {
        let done = AtomicU64::new(0);
        let on_done = || {
            let d = done.fetch_add(1, Ordering::Relaxed) + 1;
            if let Some(p) = &options.progress {
                p(d, total);
            }
        };
        outcome = match &part {
            Some(range) => {
                let part = Part {
                    tasks: &tasks,
                    range: range.clone(),
                };
                run_tasks(&part, threads, &budget, &options.cancel, &on_done)
            }
            None => run_tasks(&tasks, threads, &budget, &options.cancel, &on_done),
        };
    }
    if outcome.is_ok() && part.is_none() {
        outcome = sinks
            .iter()
            .try_for_each(|s| s.finish())
            .and_then(|()| last())
            .and_then(|()| sinks.iter().try_for_each(|s| s.forget_progress()));
    }
    // What the caches and the buffer pool kept (and spilled) is of no use once the run is over.
    if let Some(pool) = options.buffer_pool {
        pool.set_capacity(0);
    }
    let cache_peak_bytes = cache_peak(plan);
    let in_flight_peak_bytes = in_flight_peak(plan, &sinks);
    each_source(plan, |source| source.forget_reads());
    if let Err(e) = outcome {
        if let Error::Cancelled { done, total } = e {
            // Stopped from outside (Ctrl-C): what is stored stays, journals included, for a
            // resume; the metadata is not written, so nothing opens as complete.
            tracing::debug!("run cancelled; outputs kept for a resume");
            return Err(units_stored(&sinks)
                .map_or(Error::Cancelled { done, total }, |(done, total)| {
                    Error::Cancelled { done, total }
                }));
        } else {
            tracing::debug!(error = %e, "run failed; removing partial outputs");
            for sink in &prepared {
                sink.abort();
            }
        }
        return Err(e);
    }
    let skipped = tasks.skip.iter().filter(|&&s| s).count() as u64;
    let stats = RunStats {
        tasks: total,
        skipped_tasks: if resuming { skipped } else { 0 },
        unneeded_tasks: if resuming { 0 } else { skipped },
        elapsed: start.elapsed(),
        peak_projected_bytes: budget.peak() + in_flight_peak_bytes,
        in_flight_peak_bytes,
        spilled_bytes: tasks.held.spilled_bytes(),
        chunk_cache_bytes: cache_bytes,
        chunk_cache_peak_bytes: cache_peak_bytes,
        stage_memory: match &options.task_meter {
            Some(_) => plan
                .stages
                .iter()
                .zip(&tasks.peaks)
                .map(|(stage, peaks)| peaks.report(stage.work(), stage.task_bytes))
                .collect(),
            None => Vec::new(),
        },
    };
    tracing::info!(
        tasks = total,
        seconds = stats.elapsed.as_secs_f64(),
        peak_projected = %crate::plan::human_bytes(stats.peak_projected_bytes),
        chunk_cache = %crate::plan::human_bytes(cache_bytes),
        peak_projected_bytes = stats.peak_projected_bytes,
        chunk_cache_bytes = cache_bytes,
        spilled = %crate::plan::human_bytes(stats.spilled_bytes),
        "finished"
    );
    Ok(stats)
}

/// Bytes reserved for requests in flight apart from compute (writes behind, reads ahead), and
/// how many sinks or sources share them: for each `(depth, unit bytes)` with a depth, that depth
/// (or `io_concurrency`, when given) times its unit, within what `room` leaves beside the
/// largest task (so every task still fits) and a quarter of it. A store that meets a unit
/// larger than its share stores or reads it at once rather than overrun the share.
fn io_reservation(
    wanted: &[(usize, u64)],
    io_concurrency: Option<usize>,
    room: u64,
    largest_task: u64,
) -> (u64, usize) {
    let users: Vec<&(usize, u64)> = wanted.iter().filter(|(depth, _)| *depth > 0).collect();
    let total: u64 = users
        .iter()
        .map(|(depth, unit)| io_concurrency.unwrap_or(*depth) as u64 * unit)
        .sum();
    let reserved = total.min(room.saturating_sub(largest_task)).min(room / 4);
    (reserved, users.len())
}

/// Write units stored and in all, over the sinks that keep count (`None` when none does).
fn units_stored(sinks: &[Arc<dyn Sink>]) -> Option<(u64, u64)> {
    let counted: Vec<(u64, u64)> = sinks
        .iter()
        .filter_map(|s| Some((s.units_stored()?, s.write_grid().num_chunks())))
        .collect();
    (!counted.is_empty()).then(|| {
        counted
            .iter()
            .fold((0, 0), |(d, t), (sd, st)| (d + sd, t + st))
    })
}

/// Calls `visit` once with each source the plan reads.
fn each_source(plan: &Plan, mut visit: impl FnMut(&dyn Source)) {
    let mut seen: Vec<*const ()> = Vec::new();
    for stage in &plan.stages {
        stage.program.visit_sources(&mut |source| {
            let id = Arc::as_ptr(source) as *const ();
            if !seen.contains(&id) {
                seen.push(id);
                visit(source.as_ref());
            }
        });
    }
}

/// The sources' chunk caches' peaks, summed.
fn cache_peak(plan: &Plan) -> u64 {
    let mut total = 0;
    each_source(plan, |source| total += source.cache_peak_bytes());
    total
}

/// The most bytes the run's stores held at once in requests in flight (reads ahead, writes
/// behind), summed over the stores.
fn in_flight_peak(plan: &Plan, sinks: &[Arc<dyn Sink>]) -> u64 {
    let mut total: u64 = sinks.iter().map(|s| s.write_behind_peak_bytes()).sum();
    each_source(plan, |source| total += source.read_ahead_peak_bytes());
    total
}

/// Tells every source each read the run will make ([`crate::store::Source::expect_read`]), in
/// the order tasks start, so cached chunks are dropped after their last reader and, when the
/// cache is full, the chunk needed furthest ahead goes first. Returns the sources that will cache
/// some of these reads, each with how many tasks read through its cache. Tasks a resumed run
/// skips read nothing.
fn announce_reads(plan: &Plan, tasks: Range<usize>, skip: &[bool]) -> Vec<(Arc<dyn Source>, u64)> {
    let first = tasks.start;
    let skipped = |t: usize| skip.get(t - first).copied().unwrap_or(false);
    let mut order: Vec<usize> = tasks.filter(|&t| !skipped(t)).collect();
    order.sort_by_cached_key(|&t| order_key(plan, t));
    let mut caching: Vec<(Arc<dyn Source>, u64)> = Vec::new();
    for task in order {
        let (_, stage, index) = locate(plan, task);
        let region = stage.tasks.chunk_region(&index);
        // Counted once per task and source, however many reads the task makes of it.
        let mut counted: Vec<*const ()> = Vec::new();
        stage.program.visit_reads(&region, &mut |input, r| {
            if let ProgramInput::Source(source) = input {
                let id = Arc::as_ptr(source) as *const ();
                if !source.expect_read(r) || counted.contains(&id) {
                    return;
                }
                counted.push(id);
                match caching
                    .iter_mut()
                    .find(|(s, _)| Arc::as_ptr(s) as *const () == id)
                {
                    Some((_, tasks)) => *tasks += 1,
                    None => caching.push((Arc::clone(source), 1)),
                }
            }
        });
    }
    caching
}

/// The chunk cache a run needs: each caching source's working set (for `caching`'s sources,
/// each with the number of tasks reading through its cache) when a chunk is kept whole only for
/// a task among the next two rounds of `threads` tasks, plus one decoded chunk per thread (a
/// chunk is inserted whole before it is cut to its faces).
fn cache_working_set(caching: &[(Arc<dyn Source>, u64)], threads: u64) -> u64 {
    let ahead = 2 * threads;
    caching
        .iter()
        .map(|(source, tasks)| {
            let meta = source.meta();
            let chunk = meta.chunks.iter().product::<u64>() * meta.dtype.size() as u64;
            let need = source.cache_working_set(*tasks, ahead) + threads * chunk;
            tracing::debug!(
                source = %source.describe(),
                tasks,
                need = %crate::plan::human_bytes(need),
                "chunk cache working set"
            );
            need
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_in_flight_get_depth_times_a_unit_within_what_tasks_leave() {
        // Units of 200 bytes; the first store does not read ahead or write behind.
        let wanted = [(0, 200), (4, 200)];
        // Depth 4 x 200 bytes, plenty of room: the whole of it, for the one that asks.
        assert_eq!(io_reservation(&wanted, None, 100_000, 1_000), (800, 1));
        // The asked concurrency replaces the store's own depth.
        assert_eq!(
            io_reservation(&wanted, Some(10), 100_000, 1_000),
            (2_000, 1)
        );
        // Never more than a quarter of the room, nor what the largest task leaves of it.
        assert_eq!(
            io_reservation(&wanted, Some(1_000), 100_000, 1_000),
            (25_000, 1)
        );
        assert_eq!(
            io_reservation(&wanted, Some(1_000), 10_000, 9_500),
            (500, 1)
        );
        assert_eq!(io_reservation(&[(0, 200)], Some(8), 10_000, 0), (0, 0));
    }
}
