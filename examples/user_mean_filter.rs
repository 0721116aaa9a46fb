//! A user's 3x3x3 mean filter through `map_overlap`, beside the built-in `uniform_filter(3)`:
//! the benchmark of issue 13 (and its Dask peer, `harness/peers/dask_user_mean.py`).
//!
//! `cargo run --release --example user_mean_filter -- INPUT.zarr OUT_DIR builtin|user|user-views`
//!
//! `user` adds the 27 shifted views row by row, `user-views` as whole-block views: the same
//! arithmetic in the same order, so the same output bits.

use chunkwise::ops::stencil::{uniform_filter, FilterOptions};
use chunkwise::prelude::*;
use chunkwise::Result;
use ndarray::{s, ArrayD, ArrayViewD, Ix3};

/// The mean of each 3x3x3 neighbourhood of the block's interior, summed in f32 in a fixed
/// order, as array arithmetic over 27 shifted views (no library filter): the whole output
/// block plus each shifted view of the input, 27 times.
fn mean3_views(block: ArrayViewD<'_, f32>) -> std::result::Result<ArrayD<f32>, String> {
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

/// [`mean3_views`] with its loops turned inside out: the same 27 shifted views added to each
/// output row in the same order (so the same bits), one row at a time over plain slices, while
/// the 9 input rows it needs are in the core's L1 cache; the whole-block form streams the 8 MiB
/// output block through memory 27 times.
///
/// Compiled for AVX-512 and AVX2 too, the one picked at run time by what the CPU has (as
/// NumPy picks its own loops, and as chunkwise's kernels do): a Rust function is otherwise
/// built for the baseline x86-64, whose vectors are a quarter as wide.
#[multiversion::multiversion(targets(
    "x86_64+avx512f+avx512vl+avx512bw+avx512dq",
    "x86_64+avx2",
    "x86_64+sse4.1"
))]
fn mean3_rows<'a>(block: ArrayViewD<'a, f32>) -> std::result::Result<ArrayD<f32>, String> {
    let b = block
        .into_dimensionality::<Ix3>()
        .map_err(|e| e.to_string())?;
    let (z, y, x) = b.dim();
    let b = b.as_standard_layout();
    let input = b.as_slice().ok_or("a standard-layout block is one slice")?;
    let (oy_len, ox_len) = (y - 2, x - 2);
    let mut out = vec![0f32; (z - 2) * oy_len * ox_len];
    for (i, out_row) in out.chunks_exact_mut(ox_len).enumerate() {
        let (oz, oy) = (i / oy_len, i % oy_len);
        for dz in 0..3 {
            for dy in 0..3 {
                let at = ((oz + dz) * y + oy + dy) * x;
                let in_row = &input[at..at + x];
                for dx in 0..3 {
                    for (o, v) in out_row.iter_mut().zip(&in_row[dx..dx + ox_len]) {
                        *o += v;
                    }
                }
            }
        }
        for o in out_row {
            *o /= 27.0;
        }
    }
    ArrayD::from_shape_vec(vec![z - 2, oy_len, ox_len], out).map_err(|e| e.to_string())
}

/// The allocator the `chunkwise` command runs with (freed task buffers recycled by size in front
/// of mimalloc), so this benchmark measures the engine as the command line runs it.
#[global_allocator]
static GLOBAL: chunkwise::RecyclingAllocator<mimalloc::MiMalloc> =
    chunkwise::RecyclingAllocator::new(mimalloc::MiMalloc, 32 << 20);

const USAGE: &str = "usage: user_mean_filter INPUT.zarr OUT_DIR builtin|user|user-views";

fn main() -> Result<()> {
    chunkwise::process_memory::tune_for_chunked_work();
    let args: Vec<String> = std::env::args().collect();
    let [_, input, out_dir, which] = args.as_slice() else {
        eprintln!("{USAGE}");
        std::process::exit(2);
    };
    let x = chunkwise::open(input)?.astype(DType::Float32)?;
    let y = if which == "builtin" {
        uniform_filter(&x, &[3, 3, 3], &[], &FilterOptions::default())?
    } else if which == "user" {
        x.map_overlap(
            &[1, 1, 1],
            BoundaryMode::Reflect,
            DType::Float32,
            mean3_rows,
        )?
    } else if which == "user-views" {
        x.map_overlap(
            &[1, 1, 1],
            BoundaryMode::Reflect,
            DType::Float32,
            mean3_views,
        )?
    } else {
        eprintln!("{USAGE}");
        std::process::exit(2);
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
