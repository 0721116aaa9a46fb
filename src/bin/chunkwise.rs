//! The `chunkwise` command line: run, plan and inspect pipelines over Zarr arrays. The commands
//! live in the library ([`chunkwise::cli::Cli`]) so a program with its own ops can offer them
//! too; this binary adds the allocator its measurements were made with.

use std::process::ExitCode;

use chunkwise::cli::Cli;
use chunkwise::{CountingAllocator, RecyclingAllocator};

fn main() -> ExitCode {
    chunkwise::process_memory::tune_for_chunked_work();
    Cli::new().buffer_pool(&GLOBAL.0).run()
}

/// mimalloc for everything, with freed multi-MiB task buffers recycled by size class before they
/// reach it (see [`RecyclingAllocator`]): up to 32 MiB outside runs, and during a run what the
/// executor sets (one task's projected bytes, [`chunkwise::engine::exec::BufferPool`]).
/// Counted per thread for `--memory-report` ([`CountingAllocator`]).
#[global_allocator]
static GLOBAL: CountingAllocator<RecyclingAllocator<mimalloc::MiMalloc>> =
    CountingAllocator(RecyclingAllocator::new(mimalloc::MiMalloc, 32 << 20));
