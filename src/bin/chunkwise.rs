//! The `chunkwise` command line: run, plan and inspect pipelines over Zarr arrays. The commands
//! live in the library ([`chunkwise::cli::Cli`]) so a program with its own ops can offer them
//! too; this binary adds the allocator its measurements were made with.

use std::process::ExitCode;

use chunkwise::cli::Cli;
use chunkwise::{CountingAllocator, RecyclingAllocator};

fn main() -> ExitCode {
    return_freed_memory_promptly();
    Cli::new().buffer_pool(&GLOBAL.0).run()
}

/// mimalloc for everything, with freed multi-MiB task buffers recycled by size class before they
/// reach it (see [`RecyclingAllocator`]): up to 32 MiB outside runs, and during a run what the
/// executor sets (one task's projected bytes, [`chunkwise::engine::exec::BufferPool`]).
/// Counted per thread for `--memory-report` ([`CountingAllocator`]).
#[global_allocator]
static GLOBAL: CountingAllocator<RecyclingAllocator<mimalloc::MiMalloc>> =
    CountingAllocator(RecyclingAllocator::new(mimalloc::MiMalloc, 32 << 20));

/// mimalloc 3 keeps freed memory for a second before returning it to the system (its
/// `purge_delay`, 1000 ms); with the large task buffers recycled above, what it gets back is small
/// or odd-sized, and holding it a second only adds to the resident set. 10 ms (mimalloc 2's
/// default) returns it promptly. The `MIMALLOC_PURGE_DELAY` variable still wins when set.
fn return_freed_memory_promptly() {
    /// `mi_option_purge_delay` in mimalloc 3's `mimalloc.h` (libmimalloc-sys 0.1.49).
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    const MILLISECONDS: std::ffi::c_long = 10;
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets one option to a value mimalloc documents; no memory is touched.
        #[allow(unsafe_code)]
        unsafe {
            libmimalloc_sys::mi_option_set(PURGE_DELAY, MILLISECONDS);
        }
    }
}
