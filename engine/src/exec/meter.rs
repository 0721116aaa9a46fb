//! Measured memory per task, beside the plan's projection: the calibration of the memory model.
//!
//! The engine does not own the allocator, so measuring is delegated: whoever installs a counting
//! global allocator (the CLI does) passes a [`TaskMeter`] in [`crate::ExecOptions`]; each worker
//! marks the start of a task and reads the task's peak at its end. The run collects the peaks per
//! stage, and [`crate::RunStats::stage_memory`] reports them next to the projected bytes.

use std::sync::atomic::{AtomicU64, Ordering};

/// Measures the heap bytes one task uses on the thread running it.
pub trait TaskMeter: Send + Sync {
    /// Called on the worker thread just before a task runs.
    fn start(&self);
    /// Called on the same thread when the task ends: the most bytes the task had allocated and
    /// not freed at any moment since [`TaskMeter::start`].
    fn peak(&self) -> u64;
}

/// Projected and measured memory of one stage's tasks.
#[derive(Clone, Debug)]
pub struct StageMemory {
    /// What the stage's tasks do (the ops, as in the plan view).
    pub work: String,
    /// Tasks measured (resumed tasks that found their chunks written are left out).
    pub tasks: u64,
    /// The plan's projection for one task of the stage (its largest).
    pub projected_task_bytes: u64,
    /// The largest measured task peak.
    pub measured_max_bytes: u64,
    /// The mean measured task peak.
    pub measured_mean_bytes: u64,
}

/// Per-stage accumulation of task peaks, shared by the workers.
#[derive(Debug, Default)]
pub(super) struct StagePeaks {
    tasks: AtomicU64,
    max: AtomicU64,
    sum: AtomicU64,
}

impl StagePeaks {
    pub(super) fn record(&self, peak: u64) {
        self.tasks.fetch_add(1, Ordering::Relaxed);
        self.max.fetch_max(peak, Ordering::Relaxed);
        self.sum.fetch_add(peak, Ordering::Relaxed);
    }

    pub(super) fn report(&self, work: String, projected_task_bytes: u64) -> StageMemory {
        let tasks = self.tasks.load(Ordering::Relaxed);
        StageMemory {
            work,
            tasks,
            projected_task_bytes,
            measured_max_bytes: self.max.load(Ordering::Relaxed),
            measured_mean_bytes: self.sum.load(Ordering::Relaxed) / tasks.max(1),
        }
    }
}
