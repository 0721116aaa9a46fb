//! The work-stealing scheduler: N workers, each with a LIFO crossbeam-deque, a global injector of
//! ready tasks, stealing when idle, memory admission before each task, and cancellation on the
//! first error or panic.
//!
//! Design notes:
//! - Tasks are plain indices; the task set computes everything else from the index, so a run of
//!   10^6 chunks holds 8 bytes per queued task and no per-task object.
//! - Workers take batches from the injector into their own deque (tasks adjacent in C order share
//!   source chunks and pages), and steal from each other only when both are empty.
//! - A panic inside a task is caught and turned into an error naming the task; the other workers
//!   see the cancel flag, finish their current task and exit, and the scope joins them all.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use crossbeam_deque::{Injector, Steal, Stealer, Worker};

use crate::error::{Error, Result};
use crate::exec::budget::MemoryBudget;

/// A set of independent tasks the scheduler can run by index.
pub trait TaskSet: Sync {
    /// Per-worker state reused from task to task (buffers), so tasks do not allocate afresh.
    type Scratch: Default;

    /// Number of tasks; indices are `0..num_tasks()`.
    fn num_tasks(&self) -> usize;

    /// Projected peak bytes of a task, for admission control.
    fn projected_bytes(&self, task: usize) -> u64;

    /// Runs one task.
    ///
    /// # Errors
    /// Whatever the task hits; the run is cancelled.
    fn run(&self, task: usize, scratch: &mut Self::Scratch) -> Result<()>;

    /// What the task does and on which chunk, for the error made from a panic.
    fn describe(&self, task: usize) -> (String, Vec<u64>);
}

/// Shared state of one run.
struct Shared<'a> {
    injector: Injector<usize>,
    stealers: Vec<Stealer<usize>>,
    remaining: AtomicUsize,
    cancelled: &'a AtomicBool,
    failure: Mutex<Option<Error>>,
    budget: &'a MemoryBudget,
}

impl Shared<'_> {
    fn fail(&self, e: Error) {
        let mut slot = self.failure.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            *slot = Some(e);
        }
        self.cancelled.store(true, Ordering::SeqCst);
    }

    fn find_task(&self, local: &Worker<usize>, me: usize) -> Option<usize> {
        local.pop().or_else(|| loop {
            let mut retry = false;
            match self.injector.steal_batch_and_pop(local) {
                Steal::Success(t) => return Some(t),
                Steal::Retry => retry = true,
                Steal::Empty => {}
            }
            for (i, s) in self.stealers.iter().enumerate() {
                if i == me {
                    continue;
                }
                match s.steal() {
                    Steal::Success(t) => return Some(t),
                    Steal::Retry => retry = true,
                    Steal::Empty => {}
                }
            }
            if !retry {
                return None;
            }
        })
    }
}

/// Runs every task of `tasks` on `threads` workers under `budget`, calling `on_done` after each
/// finished task.
///
/// # Errors
/// The first task error (or panic, as [`Error::Task`]); [`Error::Cancelled`] when `cancelled`
/// was set from outside.
pub fn run_tasks<T: TaskSet>(
    tasks: &T,
    threads: usize,
    budget: &MemoryBudget,
    cancelled: &AtomicBool,
    on_done: &(dyn Fn() + Sync),
) -> Result<()> {
    let n = tasks.num_tasks();
    let threads = threads.clamp(1, n.max(1));
    let workers: Vec<Worker<usize>> = (0..threads).map(|_| Worker::new_lifo()).collect();
    let shared = Shared {
        injector: Injector::new(),
        stealers: workers.iter().map(Worker::stealer).collect(),
        remaining: AtomicUsize::new(n),
        cancelled,
        failure: Mutex::new(None),
        budget,
    };
    for t in 0..n {
        shared.injector.push(t);
    }
    std::thread::scope(|scope| {
        for (me, local) in workers.into_iter().enumerate() {
            let shared = &shared;
            scope.spawn(move || worker_loop(tasks, shared, &local, me, on_done));
        }
    });
    if let Some(e) = shared
        .failure
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
    {
        return Err(e);
    }
    if shared.remaining.load(Ordering::SeqCst) > 0 {
        return Err(Error::Cancelled);
    }
    Ok(())
}

fn worker_loop<T: TaskSet>(
    tasks: &T,
    shared: &Shared<'_>,
    local: &Worker<usize>,
    me: usize,
    on_done: &(dyn Fn() + Sync),
) {
    let mut scratch = T::Scratch::default();
    let mut idle_rounds = 0u32;
    while !shared.cancelled.load(Ordering::Relaxed) {
        let Some(task) = shared.find_task(local, me) else {
            if shared.remaining.load(Ordering::SeqCst) == 0 {
                return;
            }
            idle_rounds += 1;
            if idle_rounds < 64 {
                std::thread::yield_now();
            } else {
                std::thread::sleep(Duration::from_micros(100));
            }
            continue;
        };
        idle_rounds = 0;
        let bytes = tasks.projected_bytes(task);
        if !shared.budget.acquire(bytes, shared.cancelled) {
            return;
        }
        let outcome = catch_unwind(AssertUnwindSafe(|| tasks.run(task, &mut scratch)));
        shared.budget.release(bytes);
        match outcome {
            Ok(Ok(())) => {
                shared.remaining.fetch_sub(1, Ordering::SeqCst);
                on_done();
            }
            Ok(Err(e)) => shared.fail(e),
            Err(panic) => {
                let (op, chunk) = tasks.describe(task);
                let cause = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "unknown panic".into());
                shared.fail(Error::Task {
                    op,
                    chunk,
                    cause: format!("panicked: {cause}"),
                });
                // The scratch may be half-updated; start the next task (if any) from fresh.
                scratch = T::Scratch::default();
            }
        }
    }
}
