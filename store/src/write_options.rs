//! How an output array is encoded: format, chunking, sharding and compression.

use serde::{Deserialize, Serialize};

use chunkwise_engine::{Error, Result};

/// Zarr format version of an output; written as the number 2 or 3 in pipeline files.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub enum ZarrFormat {
    /// Zarr v2 (`.zarray`).
    V2,
    /// Zarr v3 (`zarr.json`), the default.
    #[default]
    V3,
}

impl TryFrom<u8> for ZarrFormat {
    type Error = String;
    fn try_from(v: u8) -> std::result::Result<Self, String> {
        match v {
            2 => Ok(ZarrFormat::V2),
            3 => Ok(ZarrFormat::V3),
            _ => Err(format!("zarr_format {v} is not supported; use 2 or 3")),
        }
    }
}

impl From<ZarrFormat> for u8 {
    fn from(f: ZarrFormat) -> u8 {
        match f {
            ZarrFormat::V2 => 2,
            ZarrFormat::V3 => 3,
        }
    }
}

/// Compression of output chunks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "lowercase", deny_unknown_fields)]
pub enum Codec {
    /// No compression.
    None,
    /// Zstandard at `level` (1 is fast; up to 22).
    Zstd {
        /// Compression level.
        #[serde(default = "default_zstd_level")]
        level: i32,
    },
    /// Gzip at `level` 0..=9.
    Gzip {
        /// Compression level.
        #[serde(default = "default_gzip_level")]
        level: u32,
    },
    /// Blosc with an inner compressor (`lz4`, `zstd`, `blosclz`, `zlib`, `lz4hc`) and byte shuffle.
    Blosc {
        /// Inner compressor name.
        #[serde(default = "default_blosc_cname")]
        cname: String,
        /// Compression level 0..=9.
        #[serde(default = "default_blosc_level")]
        clevel: u32,
        /// Byte shuffle before compressing.
        #[serde(default = "default_true")]
        shuffle: bool,
    },
}

fn default_zstd_level() -> i32 {
    1
}
fn default_gzip_level() -> u32 {
    5
}
fn default_blosc_cname() -> String {
    "lz4".into()
}
fn default_blosc_level() -> u32 {
    5
}
fn default_true() -> bool {
    true
}

impl Default for Codec {
    fn default() -> Self {
        Codec::Zstd { level: 1 }
    }
}

impl Codec {
    /// Checks the parameters are in range.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming the bad parameter and its valid range.
    pub fn validate(&self) -> Result<()> {
        match self {
            Codec::None => Ok(()),
            Codec::Zstd { level } if !(-7..=22).contains(level) => Err(Error::Invalid(format!(
                "zstd level {level} is out of range -7..=22"
            ))),
            Codec::Gzip { level } if *level > 9 => Err(Error::Invalid(format!(
                "gzip level {level} is out of range 0..=9"
            ))),
            Codec::Blosc { cname, clevel, .. } => {
                if !["lz4", "lz4hc", "blosclz", "zstd", "zlib"].contains(&cname.as_str()) {
                    return Err(Error::Invalid(format!(
                        "blosc cname {cname:?} is unknown; use lz4, lz4hc, blosclz, zstd or zlib"
                    )));
                }
                if *clevel > 9 {
                    return Err(Error::Invalid(format!(
                        "blosc clevel {clevel} is out of range 0..=9"
                    )));
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

/// What to do when the output path already holds something.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Overwrite {
    /// Refuse with [`Error::OutputExists`] (the default).
    #[default]
    Refuse,
    /// Delete what is there once planning has succeeded, then write.
    Replace,
    /// Continue an interrupted run of the same pipeline: keep the chunks it stored (listed in its
    /// journal), compute the rest. A fresh output when nothing is there; refused when what is
    /// there was started with other settings, or is already complete.
    Resume,
}

/// How to write an output array.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WriteOptions {
    /// Zarr v3 (default) or v2.
    pub zarr_format: ZarrFormat,
    /// Chunk shape; `None` keeps the chunking of the expression.
    pub chunks: Option<Vec<u64>>,
    /// Shard shape (v3 only): each shard holds whole chunks and is written by one task.
    pub shards: Option<Vec<u64>>,
    /// Compression.
    pub codec: Codec,
    /// What to do when the output exists.
    #[serde(skip)]
    pub overwrite: Overwrite,
    /// Names of the axes, stored in v3 metadata (`["z", "y", "x"]`).
    pub dimension_names: Option<Vec<String>>,
    /// Flush every chunk file (and the resume journal entry after it) to the disk before going
    /// on, so a resume after a power loss or a kernel crash finds every listed chunk intact.
    /// Without it a killed process is covered, a crashed machine is not. Costs a disk flush
    /// per chunk.
    pub durable: bool,
}
