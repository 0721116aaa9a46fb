//! Execution: the work-stealing scheduler, the memory budget, and running a [`crate::Plan`].

mod budget;
mod eval;
mod held;
mod meter;
mod options;
mod part;
mod reserve;
mod resume;
mod run;
mod scheduler;
mod tasks;

pub use budget::MemoryBudget;
pub use meter::{StageMemory, TaskMeter};
pub use options::{default_memory_limit, parse_bytes, BufferPool, ExecOptions, Progress};
pub use reserve::{
    peak_resident_bytes, reserved_bytes, resident_bytes, PER_WORKER, SLACK_FRACTION,
};
pub use run::{execute, execute_part, execute_then, RunStats};
pub use scheduler::{panic_message, run_tasks, TaskSet};
