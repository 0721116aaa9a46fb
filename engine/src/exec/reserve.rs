//! The part of a memory limit that a run leaves to the process itself, when the limit is to
//! bound the process's resident set ([`ExecOptions::limit_covers_process`]) rather than only
//! what the plan accounts (running tasks, held results, the chunk cache, requests in flight).
//!
//! Why: the plan's accounting stays within the limit, but the process holds more than that —
//! its own code and data before the run starts, and per worker thread a stack, the codecs'
//! contexts and the allocator's per-thread pages. On the slab-to-block rechunk (1024^3 uint16,
//! 2 threads, 256 MiB limit) the plan kept its 256 MiB and the process peaked at 305-310 MiB.
//! So the run measures the resident set when it plans, reserves [`PER_WORKER`] per worker
//! thread and a share of the limit for the allocator's slack ([`SLACK_FRACTION`]) beside it,
//! and plans the rest; the freed buffers the command line's allocator keeps for the next task
//! count in the limit too (see `exec/run.rs`).

use crate::exec::ExecOptions;

/// Bytes each worker thread holds beside its tasks' projected memory: the touched part of its
/// stack, a zstd compression context (about 1.3 MiB at the levels used for chunks) and a
/// decompression context, zarrs' per-call buffers for a chunk's encoded bytes (counted by the
/// projection only for the chunk being written) and the allocator's per-thread pages.
pub const PER_WORKER: u64 = 8 << 20;

/// The share of the limit (1 / this) left for the allocator's slack: blocks rounded up to its
/// size classes and pages, and freed memory it has not yet returned (mimalloc purges after
/// 100 ms in the command line, see `src/process_memory.rs`). Measured on the rechunk above with
/// the resident set and [`PER_WORKER`] reserved: peak RSS 264 MiB of 256, 3% over, at a
/// moment when the plan's accounting was full (147.5 MiB of tasks and held results, 55 MiB
/// of chunk cache, 17 MiB of recycled buffers).
pub const SLACK_FRACTION: u64 = 16;

/// The bytes of `options.memory_limit` a run leaves to the process: nothing unless the limit
/// covers the process; then its resident set now (where `/proc/self/status` is readable),
/// [`PER_WORKER`] per worker thread and a [`SLACK_FRACTION`] of the limit.
pub fn reserved_bytes(options: &ExecOptions) -> u64 {
    if !options.limit_covers_process {
        return 0;
    }
    resident_bytes().unwrap_or(0)
        + options.threads.max(1) as u64 * PER_WORKER
        + options.memory_limit / SLACK_FRACTION
}

/// This process's resident set now (`VmRSS` in `/proc/self/status`), where readable.
pub fn resident_bytes() -> Option<u64> {
    status_bytes("VmRSS:")
}

/// This process's peak resident set so far (`VmHWM` in `/proc/self/status`), where readable.
pub fn peak_resident_bytes() -> Option<u64> {
    status_bytes("VmHWM:")
}

/// A `/proc/self/status` field given in kB, in bytes.
fn status_bytes(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_limit_covering_the_process_reserves_its_resident_set_and_workers() {
        let mut options = ExecOptions {
            threads: 3,
            ..ExecOptions::default()
        };
        assert_eq!(reserved_bytes(&options), 0);
        options.limit_covers_process = true;
        let rss = resident_bytes().expect("Linux has /proc/self/status");
        assert!(rss > 0);
        let slack = options.memory_limit / SLACK_FRACTION;
        assert!(reserved_bytes(&options) >= rss + 3 * PER_WORKER + slack);
        assert!(peak_resident_bytes().expect("VmHWM") >= rss);
    }
}
