//! A contiguous range of a plan's tasks as a task set of its own, so a worker that runs one
//! range of a plan of millions of tasks pays for its range only: the scheduler's per-task
//! counters and its root ordering cover the range, not the plan.

use std::ops::Range;

use crate::error::Result;
use crate::exec::scheduler::TaskSet;
use crate::exec::tasks::{PlanTasks, Scratch};

/// Tasks `range` of `tasks`; task `i` here is task `range.start + i` there. Only for plans
/// whose tasks do not depend on each other (the caller checks), so no dependency crosses the
/// range's edge.
pub(super) struct Part<'a> {
    pub(super) tasks: &'a PlanTasks<'a>,
    pub(super) range: Range<usize>,
}

impl TaskSet for Part<'_> {
    type Scratch = Scratch;

    fn num_tasks(&self) -> usize {
        self.range.len()
    }

    fn projected_bytes(&self, task: usize) -> u64 {
        self.tasks.projected_bytes(self.range.start + task)
    }

    fn run(&self, task: usize, scratch: &mut Scratch) -> Result<()> {
        self.tasks.run(self.range.start + task, scratch)
    }

    fn describe(&self, task: usize) -> (String, Vec<u64>) {
        self.tasks.describe(self.range.start + task)
    }

    fn order_key(&self, task: usize) -> u64 {
        self.tasks.order_key(self.range.start + task)
    }
}
