//! `generate` and `demo`: the synthetic volume and the main job on it.

use std::path::Path;

use chunkwise_engine::{Error, Result};
use chunkwise_store::{Codec, Overwrite, WriteOptions};

use crate::cli::args::ExecArgs;
use crate::cli::Pool;
use crate::prelude::*;
use crate::synthetic::SyntheticVolume;

pub(super) fn generate(
    output: &Path,
    size: u64,
    chunk: u64,
    codec: &str,
    exec: &ExecArgs,
    pool: Pool,
) -> Result<()> {
    let codec = match codec {
        "zstd" => Codec::Zstd { level: 1 },
        "none" => Codec::None,
        other => {
            return Err(Error::Invalid(format!(
                "--codec {other:?}: expected zstd or none"
            )))
        }
    };
    let write = WriteOptions {
        chunks: Some(vec![chunk; 3]),
        dimension_names: Some(vec!["z".into(), "y".into(), "x".into()]),
        codec,
        overwrite: Overwrite::Replace,
        ..WriteOptions::default()
    };
    let volume = SyntheticVolume::new(size, chunk)?.into_array();
    exec.with_progress(pool, "generate", |options| {
        volume.to_zarr(output, &write, options)
    })?;
    Ok(())
}

pub(super) fn demo(dir: &Path, size: u64, chunk: u64, exec: &ExecArgs, pool: Pool) -> Result<()> {
    let volume = dir.join(format!("volume_{size}.zarr"));
    let write = WriteOptions {
        chunks: Some(vec![chunk; 3]),
        dimension_names: Some(vec!["z".into(), "y".into(), "x".into()]),
        ..WriteOptions::default()
    };
    if crate::open(&volume).is_err() {
        let replace = WriteOptions {
            overwrite: Overwrite::Replace,
            ..write.clone()
        };
        let volume_array = SyntheticVolume::new(size, chunk)?.into_array();
        let stats = exec.with_progress(pool, "generate", |options| {
            volume_array.to_zarr(&volume, &replace, options)
        })?;
        println!(
            "generated {} ({size}^3 uint16, zstd) in {:.2} s",
            volume.display(),
            stats.elapsed.as_secs_f64()
        );
    }
    let x = crate::open(&volume)?;
    let clip = x.clip(10000, 40000)?;
    let chain = x
        .astype(DType::Float32)?
        .mul(1.5)?
        .add(100)?
        .clip(0, 65535)?
        .div(2)?
        .astype(DType::Uint16)?;
    let replace = WriteOptions {
        overwrite: Overwrite::Replace,
        ..write
    };
    for (name, array) in [("clip", clip), ("chain", chain)] {
        let out = dir.join(format!("{name}.zarr"));
        let stats = exec.with_progress(pool, name, |options| {
            println!("{}", array.explain(options)?.trim_end());
            array.to_zarr(&out, &replace, options)
        })?;
        let mib = (size * size * size * 2) as f64 / (1 << 20) as f64;
        let secs = stats.elapsed.as_secs_f64();
        println!(
            "{name}: {} chunks in {secs:.2} s ({:.0} MiB/s of input) -> {}\n",
            stats.tasks,
            mib / secs,
            out.display()
        );
    }
    Ok(())
}
