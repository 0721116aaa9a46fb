//! A runnable tour of the API on a generated volume: build a lazy pipeline, look at its plan,
//! write two outputs in one run, and read one back into memory.
//!
//! `cargo run --release --example threshold_and_stats`

use chunkwise::prelude::*;
use chunkwise::synthetic::SyntheticVolume;

fn main() -> chunkwise::Result<()> {
    let dir = std::env::temp_dir().join("chunkwise-example");
    let exec = ExecOptions::default();
    let vol = SyntheticVolume::new(128, 32)?.into_array();

    // Rescale to [0, 1] in float32 and mark bright voxels; nothing runs yet.
    let scaled = vol
        .astype(DType::Float32)?
        .sub(5000)?
        .div(40000)?
        .clip(0.0, 1.0)?;
    let bright = scaled.threshold(0.75)?;
    println!("{}", scaled.explain(&exec)?);

    let replace = WriteOptions {
        overwrite: Overwrite::Replace,
        ..WriteOptions::default()
    };
    let mut run = Pipeline::new();
    run.write_zarr(&scaled, dir.join("scaled.zarr"), &replace)?;
    run.write_zarr(&bright, dir.join("bright.zarr"), &replace)?;
    let stats = run.run(&exec)?;
    println!(
        "wrote 2 outputs, {} tasks in {:?}",
        stats.tasks, stats.elapsed
    );

    let mask: ndarray::ArrayD<u8> = chunkwise::open(dir.join("bright.zarr"))?.compute(&exec)?;
    let fraction = mask.iter().map(|&v| f64::from(v)).sum::<f64>() / mask.len() as f64;
    println!("{:.1}% of voxels are bright", 100.0 * fraction);
    Ok(())
}
