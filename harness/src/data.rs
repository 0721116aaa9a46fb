//! The test volume: chunkwise's synthetic tomography-like uint16 volume (smooth structure plus
//! noise), written once per size and chunk shape, zstd level 1 and uncompressed, and reused.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The two stored variants of one volume.
#[derive(Debug, Clone)]
pub struct Volume {
    /// Edge of the cube.
    pub size: u64,
    /// Edge of its chunks.
    pub chunk: u64,
    /// zstd level 1.
    pub zstd: PathBuf,
    /// No compression.
    pub raw: PathBuf,
}

impl Volume {
    /// Size of the uncompressed data in MiB.
    pub fn mib(&self) -> f64 {
        (self.size.pow(3) * 2) as f64 / f64::from(1u32 << 20)
    }
}

/// The volume of `size`^3 in `chunk`^3 chunks under `dir`, generated with `chunkwise` (the
/// CLI binary) when missing.
///
/// # Errors
/// When the volume cannot be generated.
pub fn volume(dir: &Path, size: u64, chunk: u64, chunkwise: &Path) -> Result<Volume, String> {
    let base = dir.join(format!("{size}_{chunk}"));
    let volume = Volume {
        size,
        chunk,
        zstd: base.join("volume_zstd.zarr"),
        raw: base.join("volume_raw.zarr"),
    };
    for (path, codec) in [(&volume.zstd, "zstd"), (&volume.raw, "none")] {
        if path.join("zarr.json").exists() {
            continue;
        }
        println!("generating {} ...", path.display());
        let status = Command::new(chunkwise)
            .args([
                "generate",
                "--size",
                &size.to_string(),
                "--chunk",
                &chunk.to_string(),
            ])
            .args(["--codec", codec, "--quiet"])
            .arg(path)
            .status()
            .map_err(|e| format!("cannot run {}: {e}", chunkwise.display()))?;
        if !status.success() {
            return Err(format!("generating {} failed", path.display()));
        }
    }
    Ok(volume)
}
