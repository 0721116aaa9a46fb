//! A user's 3x3x3 mean filter through `map_overlap`, beside the built-in `uniform_filter(3)`:
//! the benchmark of issue 13 (and its Dask peer, `harness/peers/dask_user_mean.py`).
//!
//! `cargo run --release --example user_mean_filter -- INPUT.zarr OUT_DIR [builtin|user]`

use chunkwise::ops::stencil::{uniform_filter, FilterOptions};
use chunkwise::prelude::*;
use chunkwise::Result;
use ndarray::{s, ArrayD, ArrayViewD, Ix3};

/// The mean of each 3x3x3 neighbourhood of the block's interior, summed in f32 in a fixed
/// order, as array arithmetic over 27 shifted views (no library filter).
fn mean3(block: ArrayViewD<'_, f32>) -> std::result::Result<ArrayD<f32>, String> {
    let b = block
        .into_dimensionality::<Ix3>()
        .map_err(|e| e.to_string())?;
    let (z, y, x) = b.dim();
    let mut out = ndarray::Array3::<f32>::zeros((z - 2, y - 2, x - 2));
    for dz in 0..3 {
        for dy in 0..3 {
            for dx in 0..3 {
                out += &b.slice(s![dz..z - 2 + dz, dy..y - 2 + dy, dx..x - 2 + dx]);
            }
        }
    }
    out /= 27.0;
    Ok(out.into_dyn())
}

/// The allocator the `chunkwise` command runs with (freed task buffers recycled by size in front
/// of mimalloc), so this benchmark measures the engine as the command line runs it.
#[global_allocator]
static GLOBAL: chunkwise::RecyclingAllocator<mimalloc::MiMalloc> =
    chunkwise::RecyclingAllocator::new(mimalloc::MiMalloc, 32 << 20);

fn main() -> Result<()> {
    chunkwise::process_memory::tune_for_chunked_work();
    let args: Vec<String> = std::env::args().collect();
    let [_, input, out_dir, which] = args.as_slice() else {
        eprintln!("usage: user_mean_filter INPUT.zarr OUT_DIR builtin|user");
        std::process::exit(2);
    };
    let x = chunkwise::open(input)?.astype(DType::Float32)?;
    let y = if which == "builtin" {
        uniform_filter(&x, &[3, 3, 3], &[], &FilterOptions::default())?
    } else {
        x.map_overlap(&[1, 1, 1], BoundaryMode::Reflect, DType::Float32, mean3)?
    };
    let write = WriteOptions {
        overwrite: Overwrite::Replace,
        ..WriteOptions::default()
    };
    let start = std::time::Instant::now();
    let exec = ExecOptions {
        buffer_pool: Some(&GLOBAL),
        ..ExecOptions::default()
    };
    y.to_zarr(format!("{out_dir}/{which}.zarr"), &write, &exec)?;
    println!("{which}: {:.2} s", start.elapsed().as_secs_f64());
    Ok(())
}
