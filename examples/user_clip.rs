//! A user's clip through `map_blocks`, beside the built-in `clip`: the first benchmark of issue
//! 13 (a function the engine knows nothing about should cost little more than its own op).
//!
//! `cargo run --release --example user_clip -- INPUT.zarr OUT_DIR builtin|user`
//!
//! Both clip a uint16 array to `[10000, 40000]` and write uint16, zstd level 1; the outputs are
//! the same bytes.

use chunkwise::prelude::*;
use chunkwise::Result;
use ndarray::{ArrayD, ArrayViewD};

/// The allocator the `chunkwise` command runs with, so this measures the engine as it runs.
#[global_allocator]
static GLOBAL: chunkwise::RecyclingAllocator<mimalloc::MiMalloc> =
    chunkwise::RecyclingAllocator::new(mimalloc::MiMalloc, 32 << 20);

/// Clip written as a user would: one `mapv` over the block, no library clip.
fn clip_by_hand(block: ArrayViewD<'_, u16>) -> std::result::Result<ArrayD<u16>, String> {
    Ok(block.mapv(|v| v.clamp(10_000, 40_000)))
}

const USAGE: &str = "usage: user_clip INPUT.zarr OUT_DIR builtin|user";

fn main() -> Result<()> {
    chunkwise::process_memory::tune_for_chunked_work();
    let args: Vec<String> = std::env::args().collect();
    let [_, input, out_dir, which] = args.as_slice() else {
        eprintln!("{USAGE}");
        std::process::exit(2);
    };
    let x = chunkwise::open(input)?;
    let y = match which.as_str() {
        "builtin" => x.clip(10_000, 40_000)?,
        "user" => x.map_blocks(
            UserFn::new(DType::Uint16).named("clip_by_hand", ""),
            clip_by_hand,
        )?,
        _ => {
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    };
    let write = WriteOptions {
        overwrite: Overwrite::Replace,
        ..WriteOptions::default()
    };
    let exec = ExecOptions {
        buffer_pool: Some(&GLOBAL),
        ..ExecOptions::default()
    };
    let start = std::time::Instant::now();
    y.to_zarr(format!("{out_dir}/{which}.zarr"), &write, &exec)?;
    println!("{which}: {:.2} s", start.elapsed().as_secs_f64());
    Ok(())
}
