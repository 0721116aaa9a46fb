//! A global allocator wrapper that hands freed multi-MiB blocks straight to the next request of
//! the same size.
//!
//! Why: a run allocates the same few large buffers in every task (a decoded chunk, a halo region,
//! a stencil's extended block, the compressed output) and frees them a few milliseconds later.
//! Given back to the allocator, such a block is either kept resident until a purge timer fires —
//! where blocks of several sizes fragment and the resident set grows (a gaussian run measured
//! about 300 MB peak RSS, of which about 75 MB was freed memory waiting) — or returned at once
//! and faulted in again, zero-filled by the kernel, by the next task (10-20% slower for a clip).
//! Recycling a freed block by exact size needs neither: the next task gets pages already mapped,
//! and the allocator below can return everything else promptly.
//!
//! Sizes are matched by class, not exactly: a large request is rounded up to the next 1/16 of
//! its power of two (at most 6.25% more), so the odd sizes of compressed chunks and of blocks
//! at the array's edge recycle too. Only classes requested again and again are kept, a kept
//! block not asked for within the next few dozen large requests goes back at the next large
//! free, and the total kept is bounded: by [`RecyclingAllocator::new`]'s byte limit, and during
//! a run by what the run's memory limit reserves for its running tasks
//! ([`BufferPool::set_capacity`], called by the executor); everything else goes to the inner
//! allocator.
//!
//! Measured (512^3 uint16, 2 threads, same-run A/B): with a fixed 32 MiB limit and exact sizes,
//! the kernel's page zeroing (`clear_page_erms`) was 36% of a 2x downsample's samples and 15%
//! of a gaussian's, whose 12 MiB blocks did not fit.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use chunkwise_engine::exec::BufferPool;

/// Blocks of at least this many bytes are recycled.
const LARGE: usize = 1 << 20;
/// Most blocks kept at once, and most sizes tracked (lists searched linearly under the lock).
const SLOTS: usize = 32;
/// A kept block goes back after this many large requests without being taken.
const MAX_AGE: u64 = 48;

/// Wraps allocator `A`, recycling freed blocks of 1 MiB and more by size class, keeping at most
/// `limit` bytes of them (until a run sets another capacity).
///
/// ```no_run
/// #[global_allocator]
/// static GLOBAL: chunkwise::RecyclingAllocator<std::alloc::System> =
///     chunkwise::RecyclingAllocator::new(std::alloc::System, 64 << 20);
/// ```
pub struct RecyclingAllocator<A> {
    inner: A,
    limit: AtomicUsize,
    free: Mutex<FreeBlocks>,
}

/// A kept block: address, layout, and the request count when it was freed.
type Block = (usize, Layout, u64);

/// Freed blocks, oldest first, and the sizes requested lately.
struct FreeBlocks {
    blocks: [Block; SLOTS],
    len: usize,
    bytes: usize,
    /// Large requests so far.
    requests: u64,
    /// Layouts requested lately, with how often, least recent first.
    requested: [(Layout, u32); SLOTS],
    requested_len: usize,
}

impl<A> RecyclingAllocator<A> {
    /// Recycles freed blocks of `inner` up to `limit` bytes in all.
    pub const fn new(inner: A, limit: usize) -> Self {
        RecyclingAllocator {
            inner,
            limit: AtomicUsize::new(limit),
            free: Mutex::new(FreeBlocks {
                blocks: [(0, Layout::new::<u8>(), 0); SLOTS],
                len: 0,
                bytes: 0,
                requests: 0,
                requested: [(Layout::new::<u8>(), 0); SLOTS],
                requested_len: 0,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FreeBlocks> {
        self.free.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The layout `inner` allocates for a request of `layout`: large sizes rounded up to their
/// class, so blocks of one class are interchangeable.
fn class(layout: Layout) -> Layout {
    let size = layout.size();
    if size < LARGE {
        return layout;
    }
    let step = (1usize << size.ilog2()) / 16;
    let rounded = size.div_ceil(step) * step;
    Layout::from_size_align(rounded, layout.align()).unwrap_or(layout)
}

impl<A: GlobalAlloc> RecyclingAllocator<A> {
    /// Gives kept blocks back to `inner` until at most `limit` bytes are kept.
    fn trim(&self, limit: usize) {
        loop {
            let mut free = self.lock();
            if free.len == 0 || free.bytes <= limit {
                return;
            }
            let (ptr, layout, _) = free.remove(0);
            drop(free);
            // SAFETY: the block came from `inner` with layout `layout` and left the list.
            #[allow(unsafe_code)]
            unsafe {
                self.inner.dealloc(ptr as *mut u8, layout)
            };
        }
    }
}

impl<A: GlobalAlloc + Send + Sync> BufferPool for RecyclingAllocator<A> {
    fn set_capacity(&self, bytes: usize) {
        self.limit.store(bytes, Ordering::Relaxed);
        self.trim(bytes);
    }
}

impl FreeBlocks {
    /// Counts a request of `layout`, then takes a freed block of exactly that layout, the most
    /// recently freed first.
    fn take(&mut self, layout: Layout) -> Option<*mut u8> {
        self.requests += 1;
        self.count_request(layout);
        let at = (0..self.len).rev().find(|&i| self.blocks[i].1 == layout)?;
        let (ptr, _, _) = self.remove(at);
        Some(ptr as *mut u8)
    }

    /// Moves `layout` to the most recent end of the requested sizes, counting it.
    fn count_request(&mut self, layout: Layout) {
        let n = self.requested_len;
        let count = match (0..n).find(|&i| self.requested[i].0 == layout) {
            Some(i) => {
                let count = self.requested[i].1;
                self.requested.copy_within(i + 1..n, i);
                self.requested_len -= 1;
                count
            }
            None if n == SLOTS => {
                self.requested.copy_within(1..n, 0);
                self.requested_len -= 1;
                0
            }
            None => 0,
        };
        self.requested[self.requested_len] = (layout, count.saturating_add(1));
        self.requested_len += 1;
    }

    /// Whether `layout` was requested more than once lately: worth keeping a block of.
    fn recurring(&self, layout: Layout) -> bool {
        self.requested[..self.requested_len]
            .iter()
            .any(|&(l, count)| l == layout && count > 1)
    }

    fn remove(&mut self, at: usize) -> Block {
        let block = self.blocks[at];
        self.blocks.copy_within(at + 1..self.len, at);
        self.len -= 1;
        self.bytes -= block.1.size();
        block
    }
}

// SAFETY: every block handed out comes from `inner` with the class layout of the request (no
// smaller than asked; kept blocks are matched by class), and every block `inner` gets back or
// resizes is passed with the class layout it was allocated with; a block sits in the free list
// or with its user, never both.
#[allow(unsafe_code)]
unsafe impl<A: GlobalAlloc> GlobalAlloc for RecyclingAllocator<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let layout = class(layout);
        if layout.size() >= LARGE {
            let kept = self.lock().take(layout);
            if let Some(ptr) = kept {
                return ptr;
            }
        }
        // SAFETY: forwarded with the caller's guarantees (a class is no smaller).
        unsafe { self.inner.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let layout = class(layout);
        if layout.size() >= LARGE {
            // Taken under the lock, zeroed after it is released.
            let kept = self.lock().take(layout);
            if let Some(ptr) = kept {
                // SAFETY: the block is `layout.size()` bytes, owned by the caller from here.
                unsafe { std::ptr::write_bytes(ptr, 0, layout.size()) };
                return ptr;
            }
        }
        // SAFETY: forwarded with the caller's guarantees (a class is no smaller).
        unsafe { self.inner.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // Every block in use came from `inner` with the class layout of its request (kept
        // blocks are handed out only for their class), so `inner` can resize it from that
        // class to the new one, in place when it can; within one class nothing moves.
        let (old, new) = (
            class(layout),
            class(Layout::from_size_align(new_size, layout.align()).unwrap_or(layout)),
        );
        if old == new {
            return ptr;
        }
        // SAFETY: forwarded with the caller's guarantees, in class sizes.
        unsafe { self.inner.realloc(ptr, old, new.size()) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let layout = class(layout);
        let size = layout.size();
        let limit = self.limit.load(Ordering::Relaxed);
        if size >= LARGE && size <= limit {
            // Blocks too old, or the oldest when room is needed, go back to `inner` after the
            // lock is released.
            let mut evicted = [(0usize, Layout::new::<u8>(), 0u64); SLOTS];
            let mut n = 0;
            let mut free = self.lock();
            let keep = free.recurring(layout);
            while free.len > 0
                && (free.blocks[0].2 + MAX_AGE < free.requests
                    || (keep && (free.len == SLOTS || free.bytes + size > limit)))
            {
                evicted[n] = free.remove(0);
                n += 1;
            }
            if keep {
                let (len, requests) = (free.len, free.requests);
                free.blocks[len] = (ptr as usize, layout, requests);
                free.len += 1;
                free.bytes += size;
            }
            drop(free);
            for &(p, l, _) in &evicted[..n] {
                // SAFETY: the block came from `inner` with layout `l` and left the list.
                unsafe { self.inner.dealloc(p as *mut u8, l) };
            }
            if keep {
                return;
            }
        }
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { self.inner.dealloc(ptr, layout) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::alloc::System;

    const MIB: usize = 1 << 20;

    fn layout(size: usize) -> Layout {
        Layout::from_size_align(size, 8).unwrap()
    }

    #[allow(unsafe_code)]
    #[test]
    fn a_recurring_size_gets_the_freed_block_back_and_a_one_off_size_does_not() {
        let a = RecyclingAllocator::new(System, 8 * MIB);
        // SAFETY: every block is freed once, with the layout it was allocated with.
        unsafe {
            let first = a.alloc(layout(2 * MIB));
            a.dealloc(first, layout(2 * MIB));
            assert_eq!(a.lock().len, 0, "seen once: not kept");
            let second = a.alloc(layout(2 * MIB));
            second.write_bytes(7, 2 * MIB);
            a.dealloc(second, layout(2 * MIB));
            assert_eq!(a.lock().len, 1, "seen twice: kept");
            let zeroed = a.alloc_zeroed(layout(2 * MIB));
            assert_eq!(zeroed, second, "the kept block is handed out again");
            assert!(std::slice::from_raw_parts(zeroed, 2 * MIB)
                .iter()
                .all(|&b| b == 0));
            let other = a.alloc(layout(3 * MIB));
            assert_ne!(other, zeroed);
            a.dealloc(other, layout(3 * MIB));
            a.dealloc(zeroed, layout(2 * MIB));
            assert_eq!(a.lock().bytes, 2 * MIB);
        }
    }

    #[allow(unsafe_code)]
    #[test]
    fn kept_blocks_stay_within_the_limit_and_go_back_when_not_asked_for() {
        let a = RecyclingAllocator::new(System, 5 * MIB);
        // SAFETY: every block is freed once, with the layout it was allocated with.
        unsafe {
            let blocks: Vec<_> = (0..4).map(|_| a.alloc(layout(2 * MIB))).collect();
            for &b in &blocks {
                a.dealloc(b, layout(2 * MIB));
            }
            assert_eq!(a.lock().bytes, 4 * MIB, "two 2 MiB blocks fit in 5 MiB");
            for _ in 0..=MAX_AGE {
                let small = a.alloc(layout(MIB));
                a.dealloc(small, layout(MIB));
            }
            let free = a.lock();
            assert!(
                free.blocks[..free.len].iter().all(|b| b.1 == layout(MIB)),
                "aged out"
            );
            assert!(free.bytes <= 5 * MIB);
        }
    }

    #[allow(unsafe_code)]
    #[test]
    fn a_kept_block_handed_out_again_can_be_resized() {
        let a = RecyclingAllocator::new(System, 8 * MIB);
        // SAFETY: every block is resized from, and freed with, its current layout, once.
        unsafe {
            for _ in 0..2 {
                let p = a.alloc(layout(2 * MIB));
                a.dealloc(p, layout(2 * MIB));
            }
            let kept = a.alloc(layout(2 * MIB));
            assert_eq!(a.lock().len, 0, "handed out from the kept list");
            kept.write_bytes(3, 2 * MIB);
            let bigger = a.realloc(kept, layout(2 * MIB), 3 * MIB);
            assert!(std::slice::from_raw_parts(bigger, 2 * MIB)
                .iter()
                .all(|&b| b == 3));
            let small = a.realloc(bigger, layout(3 * MIB), 512);
            assert!(std::slice::from_raw_parts(small, 512)
                .iter()
                .all(|&b| b == 3));
            a.dealloc(small, layout(512));
        }
    }

    #[allow(unsafe_code)]
    #[test]
    fn sizes_of_one_class_share_blocks_and_a_run_sets_how_much_is_kept() {
        let a = RecyclingAllocator::new(System, 8 * MIB);
        let (odd, other) = (MIB + MIB / 2 + 1000, MIB + MIB / 2 + 50_000);
        assert_eq!(class(layout(odd)), class(layout(other)));
        assert_eq!(class(layout(odd)).size(), MIB + MIB / 2 + MIB / 16);
        assert_eq!(
            class(layout(1000)).size(),
            1000,
            "small sizes stay as they are"
        );
        // SAFETY: every block is freed once, with the layout it was allocated with.
        unsafe {
            for _ in 0..2 {
                let p = a.alloc(layout(odd));
                a.dealloc(p, layout(odd));
            }
            let kept = a.lock().blocks[0].0;
            let p = a.alloc(layout(other));
            assert_eq!(
                p as usize, kept,
                "another size of the class takes the kept block"
            );
            a.dealloc(p, layout(other));
            assert_eq!(a.lock().len, 1);
            a.set_capacity(MIB);
            assert_eq!(a.lock().len, 0, "over the new capacity: given back at once");
            let p = a.alloc(layout(odd));
            a.dealloc(p, layout(odd));
            assert_eq!(a.lock().len, 0, "nor kept afterwards");
            a.set_capacity(8 * MIB);
            let p = a.alloc(layout(odd));
            a.dealloc(p, layout(odd));
            assert_eq!(a.lock().len, 1);
        }
    }
}
