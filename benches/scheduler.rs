//! Scheduler overhead per task, measured on no-op tasks.
//!
//! Every chunk of a run becomes one task of `run_tasks`: a queue pop (or steal), memory admission
//! (`MemoryBudget::acquire`/`release`), a `catch_unwind` around the task and the progress
//! callback. With the task body doing nothing, the time per task is exactly that bookkeeping, so
//! this bench tells how small chunks can get before the scheduler, not the data, dominates.
//!
//! Target: <= 5 µs per task (Dask documents 50-1000 µs of overhead per task). Criterion reports
//! throughput in tasks/s (`Throughput::Elements`); time per task = time per iteration / 100_000.
//! The thread spawn/join of `run_tasks` is included but amortized over the 100_000 tasks.

// `criterion_group!` generates an undocumented `pub fn`.
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use chunkwise::engine::exec::{run_tasks, MemoryBudget, TaskSet};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

const TASKS: usize = 100_000;

/// `n` tasks that do nothing but bump a per-worker counter.
struct NoOp {
    n: usize,
}

impl TaskSet for NoOp {
    type Scratch = u64;

    fn num_tasks(&self) -> usize {
        self.n
    }

    fn projected_bytes(&self, _task: usize) -> u64 {
        1024
    }

    fn run(&self, task: usize, scratch: &mut u64) -> chunkwise::Result<()> {
        *scratch = black_box(*scratch + black_box(task) as u64);
        Ok(())
    }

    fn describe(&self, task: usize) -> (String, Vec<u64>) {
        ("noop".into(), vec![task as u64])
    }
}

fn scheduler(c: &mut Criterion) {
    let tasks = NoOp { n: TASKS };
    let budget = MemoryBudget::new(1 << 30);
    let mut group = c.benchmark_group("scheduler_noop");
    group.throughput(Throughput::Elements(TASKS as u64));
    for threads in [1usize, 2] {
        group.bench_with_input(BenchmarkId::new("threads", threads), &threads, |b, &t| {
            b.iter(|| {
                let cancelled = AtomicBool::new(false);
                run_tasks(&tasks, t, &budget, &cancelled, &|| {}).expect("no-op tasks succeed");
            });
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = scheduler
}
criterion_main!(benches);
