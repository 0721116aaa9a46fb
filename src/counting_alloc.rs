//! A global allocator wrapper that counts, per thread, the bytes allocated and not yet freed, so
//! each task's memory can be measured against the plan's projection ([`HeapMeter`]).

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;

use chunkwise_engine::exec::TaskMeter;

thread_local! {
    /// Bytes this thread allocated minus bytes it freed (negative when it frees others' blocks).
    static LIVE: Cell<i64> = const { Cell::new(0) };
    /// The highest `LIVE - BASE` since the current task started.
    static PEAK: Cell<i64> = const { Cell::new(0) };
    /// `LIVE` at the task's start, lowered when `LIVE` falls below it: the task freed blocks
    /// allocated before it (a cached chunk, an earlier task's buffer), which is not room it used.
    static BASE: Cell<i64> = const { Cell::new(0) };
}

/// Wraps allocator `A`, counting per thread; costs a few thread-local updates per allocation.
///
/// ```no_run
/// #[global_allocator]
/// static GLOBAL: chunkwise::CountingAllocator<std::alloc::System> =
///     chunkwise::CountingAllocator(std::alloc::System);
/// ```
pub struct CountingAllocator<A>(pub A);

fn count(delta: i64) {
    // `try_with`: allocations can happen while a thread's locals are being torn down.
    let _ = LIVE.try_with(|live| {
        let now = live.get() + delta;
        live.set(now);
        let _ = BASE.try_with(|b| {
            b.set(b.get().min(now));
            let _ = PEAK.try_with(|p| p.set(p.get().max(now - b.get())));
        });
    });
}

// SAFETY: every call is forwarded to `inner` unchanged; only counters are updated beside it.
#[allow(unsafe_code)]
unsafe impl<A: GlobalAlloc> GlobalAlloc for CountingAllocator<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let ptr = unsafe { self.0.alloc(layout) };
        if !ptr.is_null() {
            count(layout.size() as i64);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let ptr = unsafe { self.0.alloc_zeroed(layout) };
        if !ptr.is_null() {
            count(layout.size() as i64);
        }
        ptr
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let new = unsafe { self.0.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            count(new_size as i64 - layout.size() as i64);
        }
        new
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-(layout.size() as i64));
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { self.0.dealloc(ptr, layout) }
    }
}

/// Measures tasks through the counters of a [`CountingAllocator`] installed as the global
/// allocator (without one, every task measures 0). Pass it as
/// [`chunkwise_engine::ExecOptions::task_meter`].
///
/// A task's peak is the most bytes its thread had allocated and not freed at once, counted from
/// the task's start. Blocks allocated before the task and freed during it (a cached chunk, an
/// earlier task's buffer) cannot be told from the task's own: freed while the task holds nothing
/// they only lower the baseline, freed later they hide as much of the task's use, so the figure
/// can be low by at most those blocks. Blocks the task leaves to others (a cached chunk it
/// decoded, its held result) count as its own. Allocations on other threads the task waits for
/// (zarrs' codec threads, used when tasks are fewer than cores) are not seen.
#[derive(Debug, Default)]
pub struct HeapMeter;

impl TaskMeter for HeapMeter {
    fn start(&self) {
        BASE.with(|b| b.set(LIVE.with(Cell::get)));
        PEAK.with(|p| p.set(0));
    }

    fn peak(&self) -> u64 {
        PEAK.with(Cell::get).max(0) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_peak_counts_what_it_held_at_once_not_what_it_freed_of_others() {
        let meter = HeapMeter;
        meter.start();
        count(10 << 20);
        count(-(10 << 20));
        count(4 << 20);
        assert_eq!(meter.peak(), 10 << 20);
        count(-(4 << 20));
        meter.start();
        // Frees an earlier task's 8 MiB, then allocates 6 MiB: its own peak is 6 MiB.
        count(-(8 << 20));
        count(6 << 20);
        assert_eq!(meter.peak(), 6 << 20);
        // Its own 6 MiB freed, then another 3 MiB of an earlier task's, then 5 MiB: still 6.
        count(-(6 << 20));
        count(-(3 << 20));
        count(5 << 20);
        assert_eq!(meter.peak(), 6 << 20);
    }
}
