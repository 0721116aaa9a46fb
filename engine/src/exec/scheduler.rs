//! The work-stealing scheduler: N workers, each with a LIFO crossbeam-deque, a global injector of
//! ready tasks, stealing when idle, memory admission before each task, and cancellation on the
//! first error or panic.
//!
//! Design notes:
//! - Tasks are plain indices; the task set computes everything else from the index, so a run of
//!   10^6 chunks holds 8 bytes per queued task, a 4-byte dependency counter per task, and no
//!   per-task object. Tasks made ready by a finishing task go on that worker's LIFO deque, so
//!   consumers run before new roots (depth first) and free what they read early.
//! - Workers take batches from the injector into their own deque (tasks adjacent in C order share
//!   source chunks and pages), and steal from each other only when both are empty.
//! - A panic inside a task is caught and turned into an error naming the task; the other workers
//!   see the cancel flag, finish their current task and exit, and the scope joins them all.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
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

    /// How many tasks must finish before this one can start.
    fn dependency_count(&self, _task: usize) -> u32 {
        0
    }

    /// The tasks waiting for this one.
    fn dependents(&self, _task: usize) -> &[u32] {
        &[]
    }

    /// Root tasks start in increasing order of this key.
    fn order_key(&self, task: usize) -> u64 {
        task as u64
    }
}

/// The message a panic carried (`panic!("...")` gives a `String` or a `&str`), for errors.
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "unknown panic".into())
}

/// Shared state of one run.
struct Shared<'a> {
    injector: Injector<usize>,
    stealers: Vec<Stealer<usize>>,
    remaining: AtomicUsize,
    /// Unfinished dependencies per task; a task is pushed when its count reaches zero.
    pending: Vec<AtomicU32>,
    /// Set by the caller to stop the run; never written here.
    cancelled: &'a AtomicBool,
    /// Set when a task failed; the caller's flag stays untouched so options can be reused.
    failed: AtomicBool,
    failure: Mutex<Option<Error>>,
    budget: &'a MemoryBudget,
}

impl Shared<'_> {
    fn fail(&self, e: Error) {
        let mut slot = self.failure.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            *slot = Some(e);
        }
        self.failed.store(true, Ordering::SeqCst);
    }

    fn should_stop(&self) -> bool {
        self.failed.load(Ordering::Relaxed) || self.cancelled.load(Ordering::Relaxed)
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
/// was set from outside (this function only reads it).
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
        pending: (0..n)
            .map(|t| AtomicU32::new(tasks.dependency_count(t)))
            .collect(),
        cancelled,
        failed: AtomicBool::new(false),
        failure: Mutex::new(None),
        budget,
    };
    let mut roots: Vec<usize> = (0..n)
        .filter(|&t| shared.pending[t].load(Ordering::Relaxed) == 0)
        .collect();
    roots.sort_by_key(|&t| tasks.order_key(t));
    for t in roots {
        shared.injector.push(t);
    }
    std::thread::scope(|scope| {
        let mut handles = Vec::new();
        for (me, local) in workers.into_iter().enumerate() {
            let shared = &shared;
            // Named, so a leaked worker would be visible (the fault tests look for one).
            let spawned = std::thread::Builder::new()
                .name(format!("chunkwise-worker-{me}"))
                .spawn_scoped(scope, move || {
                    worker_loop(tasks, shared, &local, me, on_done)
                });
            match spawned {
                Ok(handle) => handles.push(handle),
                Err(e) => shared.fail(Error::Invalid(format!(
                    "cannot start worker thread {me}: {e}; try fewer threads"
                ))),
            }
        }
        // Joined one by one: the scope's own wait returns when the workers' closures end,
        // possibly before their threads have exited; a join waits for the thread itself.
        for handle in handles {
            if handle.join().is_err() {
                shared.fail(Error::Invalid("a worker thread panicked".into()));
            }
        }
    });
    if let Some(e) = shared
        .failure
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
    {
        return Err(e);
    }
    let remaining = shared.remaining.load(Ordering::SeqCst);
    if remaining > 0 {
        return Err(Error::Cancelled {
            done: (n - remaining) as u64,
            total: n as u64,
        });
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
    while !shared.should_stop() {
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
        if !shared.budget.acquire(bytes, &|| shared.should_stop()) {
            return;
        }
        let outcome = catch_unwind(AssertUnwindSafe(|| tasks.run(task, &mut scratch)));
        shared.budget.release(bytes);
        match outcome {
            Ok(Ok(())) => {
                // Ready consumers go on this worker's own LIFO deque: they run next, depth
                // first, and free the results they read before new roots start.
                for &d in tasks.dependents(task) {
                    if shared.pending[d as usize].fetch_sub(1, Ordering::AcqRel) == 1 {
                        local.push(d as usize);
                    }
                }
                shared.remaining.fetch_sub(1, Ordering::SeqCst);
                on_done();
            }
            Ok(Err(e)) => shared.fail(e),
            Err(panic) => {
                let (op, chunk) = tasks.describe(task);
                shared.fail(Error::Task {
                    op,
                    chunk,
                    cause: format!("panicked: {}", panic_message(panic.as_ref())),
                });
                // The scratch may be half-updated; start the next task (if any) from fresh.
                scratch = T::Scratch::default();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicU64;

    use super::*;

    /// Counts runs per task; fails or panics on chosen tasks; tracks concurrent projected bytes.
    struct Probe {
        runs: Vec<AtomicU32>,
        fail_at: Option<usize>,
        panic_at: Option<usize>,
        bytes: u64,
        in_flight: AtomicU64,
        max_in_flight: AtomicU64,
    }

    impl Probe {
        fn new(n: usize, bytes: u64) -> Self {
            Self {
                runs: (0..n).map(|_| AtomicU32::new(0)).collect(),
                fail_at: None,
                panic_at: None,
                bytes,
                in_flight: AtomicU64::new(0),
                max_in_flight: AtomicU64::new(0),
            }
        }
    }

    impl TaskSet for Probe {
        type Scratch = ();
        fn num_tasks(&self) -> usize {
            self.runs.len()
        }
        fn projected_bytes(&self, _task: usize) -> u64 {
            self.bytes
        }
        fn run(&self, task: usize, _: &mut ()) -> Result<()> {
            let now = self.in_flight.fetch_add(self.bytes, Ordering::SeqCst) + self.bytes;
            self.max_in_flight.fetch_max(now, Ordering::SeqCst);
            self.runs[task].fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(Duration::from_micros(50));
            self.in_flight.fetch_sub(self.bytes, Ordering::SeqCst);
            if self.panic_at == Some(task) {
                panic!("kernel exploded");
            }
            if self.fail_at == Some(task) {
                return Err(Error::Invalid(format!("task {task} failed")));
            }
            Ok(())
        }
        fn describe(&self, task: usize) -> (String, Vec<u64>) {
            ("probe".into(), vec![task as u64])
        }
    }

    #[test]
    fn every_task_runs_exactly_once_on_any_thread_count() {
        for threads in [1, 2, 7] {
            let p = Probe::new(1000, 1);
            let done = AtomicUsize::new(0);
            let no = AtomicBool::new(false);
            run_tasks(&p, threads, &MemoryBudget::new(1 << 20), &no, &|| {
                done.fetch_add(1, Ordering::Relaxed);
            })
            .unwrap();
            assert!(p.runs.iter().all(|r| r.load(Ordering::SeqCst) == 1));
            assert_eq!(done.load(Ordering::Relaxed), 1000);
        }
    }

    #[test]
    fn admitted_memory_never_exceeds_the_limit() {
        let p = Probe::new(200, 100);
        let budget = MemoryBudget::new(250); // two tasks fit, three do not
        run_tasks(&p, 7, &budget, &AtomicBool::new(false), &|| {}).unwrap();
        assert!(p.max_in_flight.load(Ordering::SeqCst) <= 200);
        assert!(budget.peak() <= 250);
    }

    #[test]
    fn an_error_cancels_the_run_and_is_returned() {
        let mut p = Probe::new(5000, 1);
        p.fail_at = Some(10);
        let flag = AtomicBool::new(false);
        let err = run_tasks(&p, 2, &MemoryBudget::new(1 << 20), &flag, &|| {}).unwrap_err();
        assert!(err.to_string().contains("task 10 failed"), "{err}");
        let ran: u32 = p.runs.iter().map(|r| r.load(Ordering::SeqCst)).sum();
        assert!(ran < 5000, "the run stopped early ({ran} tasks ran)");
        assert!(
            !flag.load(Ordering::SeqCst),
            "the caller's flag is left alone"
        );
    }

    #[test]
    fn a_panic_becomes_an_error_naming_the_task() {
        let mut p = Probe::new(100, 1);
        p.panic_at = Some(42);
        let err = run_tasks(
            &p,
            2,
            &MemoryBudget::new(1 << 20),
            &AtomicBool::new(false),
            &|| {},
        )
        .unwrap_err();
        match err {
            Error::Task { op, chunk, cause } => {
                assert_eq!((op.as_str(), chunk), ("probe", vec![42]));
                assert!(cause.contains("kernel exploded"), "{cause}");
            }
            other => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn an_outside_cancel_stops_the_run() {
        let p = Probe::new(100, 1);
        let flag = AtomicBool::new(true);
        let err = run_tasks(&p, 2, &MemoryBudget::new(1 << 20), &flag, &|| {}).unwrap_err();
        assert!(matches!(err, Error::Cancelled { done, total } if done < total));
    }
}
