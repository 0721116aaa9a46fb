//! Settings of a run: threads, memory limit, progress reporting, cancellation.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::exec::meter::TaskMeter;
use crate::plan::StencilChains;

/// Called after each finished task with (tasks done, total tasks).
pub type Progress = Arc<dyn Fn(u64, u64) + Send + Sync>;

/// Somewhere freed task buffers can wait for the next task (a recycling allocator), told by each
/// run how many bytes it may keep.
///
/// Why: a task's buffers are freed when it ends and asked for again, same sizes, by the next
/// one; returned to the system in between, they come back as fresh pages the kernel must zero
/// (a fifth of a gaussian run's time went to that). The run's memory limit already covers
/// what its running tasks hold ([`crate::plan::Plan`]'s projected bytes per task), so up to
/// what the limit leaves beside them can be kept without breaking the limit's promise.
pub trait BufferPool: Send + Sync {
    /// Keep at most `bytes` of freed buffers from now on (giving back any excess now).
    fn set_capacity(&self, bytes: usize);
}

/// How to execute a plan.
#[derive(Clone)]
pub struct ExecOptions {
    /// Worker threads (default: all cores).
    pub threads: usize,
    /// Memory limit in bytes for the projected memory of running tasks (default:
    /// [`default_memory_limit`]).
    pub memory_limit: u64,
    /// Progress callback.
    pub progress: Option<Progress>,
    /// Set to true from another thread (a signal handler, say) to stop the run early: no task
    /// starts after it, running ones finish, and what is stored is kept for a resume.
    pub cancel: Arc<AtomicBool>,
    /// Whether stencils feeding stencils are recomputed per task or materialized (default:
    /// chosen by projected cost).
    pub stencil_chains: StencilChains,
    /// Measures each task's memory, for [`crate::RunStats::stage_memory`] (default: none).
    pub task_meter: Option<Arc<dyn TaskMeter>>,
    /// Where freed task buffers wait for the next task; each run sets its capacity (see
    /// [`BufferPool`]) and empties it when it ends (default: none).
    pub buffer_pool: Option<&'static dyn BufferPool>,
    /// Requests each store keeps in flight at once (writes behind compute, within the memory
    /// limit); `None` (the default) lets each store choose (see
    /// [`crate::store::Sink::write_behind_depth`]).
    pub io_concurrency: Option<usize>,
    /// Whether `memory_limit` bounds the whole process (its resident set) rather than the run's
    /// accounted memory only: the plan then leaves the process's resident set at planning time
    /// and a share per worker thread out of the limit ([`crate::exec::reserved_bytes`]).
    /// Default false: a library's host process holds data of its own that the run cannot know
    /// about; the command line sets it.
    pub limit_covers_process: bool,
}

impl Default for ExecOptions {
    fn default() -> Self {
        Self {
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            memory_limit: default_memory_limit(),
            progress: None,
            cancel: Arc::new(AtomicBool::new(false)),
            stencil_chains: StencilChains::Auto,
            task_meter: None,
            buffer_pool: None,
            io_concurrency: None,
            limit_covers_process: false,
        }
    }
}

impl std::fmt::Debug for ExecOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecOptions")
            .field("threads", &self.threads)
            .field("memory_limit", &self.memory_limit)
            .field("stencil_chains", &self.stencil_chains)
            .field("io_concurrency", &self.io_concurrency)
            .field("limit_covers_process", &self.limit_covers_process)
            .finish_non_exhaustive()
    }
}

/// Half of physical RAM (from `/proc/meminfo`; 4 GiB where that cannot be read): leaves room for
/// the page cache that zarr reads lean on, and for other processes on a shared node.
pub fn default_memory_limit() -> u64 {
    let total = std::fs::read_to_string("/proc/meminfo").ok().and_then(|s| {
        s.lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
            .map(|kib| kib * 1024)
    });
    total.unwrap_or(8 << 30) / 2
}

/// Parses a byte size: `512MiB`, `2GB`, `1.5GiB`, `4096` (bytes), `64k`.
///
/// # Errors
/// [`Error::Invalid`] naming the accepted forms.
pub fn parse_bytes(text: &str) -> Result<u64> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let bad = || {
        Error::Invalid(format!(
            "cannot read {text:?} as a size; write e.g. 512MiB, 2GB, 1.5GiB or a byte count"
        ))
    };
    let value: f64 = num.parse().map_err(|_| bad())?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "kib" => 1 << 10,
        "m" | "mb" => 1_000_000,
        "mib" => 1 << 20,
        "g" | "gb" => 1_000_000_000,
        "gib" => 1 << 30,
        "t" | "tb" => 1_000_000_000_000,
        "tib" => 1 << 40,
        _ => return Err(bad()),
    };
    let bytes = value * mult as f64;
    if !bytes.is_finite() || bytes < 1.0 {
        return Err(bad());
    }
    Ok(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::parse_bytes;

    #[test]
    fn sizes_in_every_unit() {
        assert_eq!(parse_bytes("512MiB").unwrap(), 512 << 20);
        assert_eq!(parse_bytes("2GB").unwrap(), 2_000_000_000);
        assert_eq!(parse_bytes("1.5GiB").unwrap(), 3 << 29);
        assert_eq!(parse_bytes("4096").unwrap(), 4096);
        assert!(parse_bytes("lots").is_err());
        assert!(parse_bytes("5 parsecs").is_err());
        assert!(parse_bytes("0").is_err());
    }
}
