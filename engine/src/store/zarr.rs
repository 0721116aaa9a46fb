//! The thin adapter over zarrs: every zarrs call in the project is in this file, because its API
//! changes with each minor release (0.24 drops the `_opt` methods used here).
//!
//! Output arrays are described by their Zarr metadata JSON, built here from [`WriteOptions`], and
//! handed to zarrs whole: the JSON is the stable, documented interface of every codec. Chunks are
//! encoded by zarrs' codec chain and written here, atomically (see [`write_atomically`]).

use crate::spill::SpillDir;
use crate::store::chunk_cache::ChunkCache;
use crate::store::journal::Journal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use serde_json::{json, Value};
use zarrs::array::{
    Array as ZArray, ArrayMetadata, ArrayMetadataV2, ArrayMetadataV3, ArrayShardedExt, ArraySubset,
    ArrayToBytesCodecTraits, CodecOptions, DataType, IntoArrayBytes,
};
use zarrs::filesystem::FilesystemStore;

use crate::buffer::Buffer;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::geometry::{copy_buffer_region, ChunkGrid, Region};
use crate::meta::ArrayMeta;
use crate::store::{Codec, IoContext, Overwrite, Sink, Source, WriteOptions, ZarrFormat};

type Store = FilesystemStore;

fn codec_options(io: &IoContext) -> CodecOptions {
    CodecOptions::default().with_concurrent_target(io.codec_threads.max(1))
}

fn dtype_of(dt: &DataType, path: &Path) -> Result<DType> {
    use zarrs::array::data_type as z;
    let table = [
        (z::bool(), DType::Bool),
        (z::int8(), DType::Int8),
        (z::int16(), DType::Int16),
        (z::int32(), DType::Int32),
        (z::int64(), DType::Int64),
        (z::uint8(), DType::Uint8),
        (z::uint16(), DType::Uint16),
        (z::uint32(), DType::Uint32),
        (z::uint64(), DType::Uint64),
        (z::float32(), DType::Float32),
        (z::float64(), DType::Float64),
    ];
    table
        .into_iter()
        .find(|(z, _)| z == dt)
        .map(|(_, d)| d)
        .ok_or_else(|| {
            Error::Invalid(format!(
                "array {} has data type {dt}, which chunkwise does not process; supported: {}",
                path.display(),
                DType::ALL.map(|d| d.name()).join(", ")
            ))
        })
}

/// What decides the stored bytes of a chunk: format, type, fill value, codecs and chunk shape.
fn encoding_signature(array: &ZArray<Store>) -> Option<String> {
    let (format, json) = match array.metadata() {
        ArrayMetadata::V2(m) => (2, serde_json::to_value(m).ok()?),
        ArrayMetadata::V3(m) => (3, serde_json::to_value(m).ok()?),
    };
    let keys: &[&str] = if format == 2 {
        &[
            "dtype",
            "fill_value",
            "compressor",
            "filters",
            "chunks",
            "order",
        ]
    } else {
        &["data_type", "fill_value", "codecs", "chunk_grid"]
    };
    let picked: Vec<&Value> = keys.iter().map(|k| &json[*k]).collect();
    Some(format!(
        "v{format}:{}",
        serde_json::to_string(&picked).ok()?
    ))
}

fn open_array(path: &Path) -> Result<ZArray<Store>> {
    let missing = |detail: String| Error::MissingArray {
        path: path.display().to_string(),
        detail,
    };
    if !path.is_dir() {
        return Err(missing("no such directory".into()));
    }
    if let Some(hint) = group_hint(path) {
        return Err(missing(hint));
    }
    let store = FilesystemStore::new(path).map_err(|e| missing(e.to_string()))?;
    ZArray::open(Arc::new(store), "/").map_err(|e| missing(e.to_string()))
}

/// When `path` is a Zarr group rather than an array: what to give instead (an OME-Zarr image's
/// full-resolution level, else the arrays inside).
fn group_hint(path: &Path) -> Option<String> {
    let read_json = |name: &str| -> Option<Value> {
        serde_json::from_slice(&std::fs::read(path.join(name)).ok()?).ok()
    };
    let attributes = match read_json("zarr.json") {
        Some(v3) if v3["node_type"] == "group" => v3["attributes"].clone(),
        Some(_) => return None,
        None if path.join(".zgroup").is_file() => read_json(".zattrs").unwrap_or(Value::Null),
        None => return None,
    };
    let multiscales = attributes["ome"]["multiscales"]
        .get(0)
        .or_else(|| attributes["multiscales"].get(0));
    if let Some(level) = multiscales.and_then(|m| m["datasets"][0]["path"].as_str()) {
        return Some(format!(
            "this is an OME-Zarr image (a group); give its full-resolution array, {}",
            path.join(level).display()
        ));
    }
    let mut arrays: Vec<String> = std::fs::read_dir(path)
        .ok()?
        .flatten()
        .filter(|e| e.path().join("zarr.json").is_file() || e.path().join(".zarray").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    arrays.sort();
    Some(if arrays.is_empty() {
        "this is a Zarr group, not an array".to_string()
    } else {
        format!(
            "this is a Zarr group, not an array; arrays inside: {}",
            arrays.join(", ")
        )
    })
}

/// True when `path` holds the journal of a chunkwise run that a resume can continue (an
/// interrupted run, or one stopped after writing metadata but before its last step).
pub fn holds_unfinished_run(path: &Path) -> bool {
    Journal::exists(path)
}

/// A Zarr array (v2 or v3, filesystem store) read through zarrs.
#[derive(Debug)]
pub struct ZarrSource {
    path: PathBuf,
    array: ZArray<Store>,
    meta: ArrayMeta,
    cache: Mutex<ChunkCache>,
    /// Where the cache puts decoded chunks it gives up with reads still to come.
    spill: SpillDir,
    /// Chunks decoded through the cache (reported at debug level when the source is dropped).
    decoded: AtomicU64,
    /// Chunks read back from the spill folder instead.
    restored: AtomicU64,
}

impl Drop for ZarrSource {
    fn drop(&mut self) {
        let decoded = self.decoded.load(Ordering::Relaxed);
        let restored = self.restored.load(Ordering::Relaxed);
        if decoded > 0 {
            tracing::debug!(
                path = %self.path.display(),
                decoded,
                restored,
                "chunks decoded for halo reads, and read back from the spill folder"
            );
        }
    }
}

/// Opens the Zarr array at `path` (v3 metadata first, then v2).
///
/// # Errors
/// [`Error::MissingArray`] when there is no readable array metadata at `path`;
/// [`Error::Invalid`] for data types chunkwise does not process.
pub fn open_zarr(path: impl AsRef<Path>) -> Result<ZarrSource> {
    let path = path.as_ref().to_path_buf();
    let array = open_array(&path)?;
    let dtype = dtype_of(array.data_type(), &path)?;
    let shape = array.shape().to_vec();
    let chunks = natural_chunks(&array, &path)?;
    let meta = ArrayMeta::new(shape, chunks, dtype)?;
    Ok(ZarrSource {
        path,
        array,
        meta,
        cache: Mutex::default(),
        spill: SpillDir::new("decoded chunks"),
        decoded: AtomicU64::new(0),
        restored: AtomicU64::new(0),
    })
}

/// The unit worth reading at once: the inner chunk of a sharded array, else the chunk.
fn natural_chunks(array: &ZArray<Store>, path: &Path) -> Result<Vec<u64>> {
    if let Some(inner) = array.effective_subchunk_shape() {
        return Ok(inner.iter().map(|c| c.get()).collect());
    }
    let origin = vec![0; array.dimensionality()];
    array
        .chunk_shape(&origin)
        .map(|s| s.iter().map(|c| c.get()).collect())
        .map_err(|e| Error::Invalid(format!("array {}: {e}", path.display())))
}

impl ZarrSource {
    /// Names the stored chunk behind a failed region read (error path only: it re-reads the
    /// region's chunks one by one until one fails).
    fn locate_failure(&self, region: &Region, opts: &CodecOptions, detail: String) -> Error {
        let grid = ChunkGrid::new(self.meta.shape.clone(), self.stored_chunk_shape());
        for idx in grid.chunks_overlapping(region) {
            let read = self
                .array
                .retrieve_chunk_opt::<zarrs::array::ArrayBytes<'static>>(&idx, opts);
            if let Err(cause) = read {
                return Error::Invalid(format!(
                    "stored chunk {idx:?} (key {}) is unreadable: {cause}",
                    self.array.chunk_key(&idx)
                ));
            }
        }
        Error::Invalid(detail)
    }

    /// Assembles `region` from decoded chunks, decoding only those not in the cache.
    fn read_through_cache(
        &self,
        region: &Region,
        grid: &ChunkGrid,
        chunks: &[Vec<u64>],
        io: &IoContext,
    ) -> Result<Buffer> {
        let opts = codec_options(io);
        let mut out = Buffer::zeros(self.meta.dtype, region.num_elements() as usize);
        for idx in chunks {
            // Edge chunks decode at full chunk size: their region may pass the array end.
            let full = Region::new(grid.chunk_region(idx).start, grid.chunk_shape().to_vec());
            let Some(part) = full.intersect(region) else {
                continue;
            };
            let cached = self.lock_cache().get(idx, &part);
            let (block_region, block) = match cached {
                Some(found) => found,
                None => {
                    let spilled = self.lock_cache().spilled(idx);
                    // A spilled copy that cannot be read back is decoded again instead.
                    let restored = spilled.and_then(|s| self.spill.read(&s.path, s.dtype).ok());
                    let decoded = match restored {
                        Some(buffer) => {
                            self.restored.fetch_add(1, Ordering::Relaxed);
                            buffer
                        }
                        None => {
                            self.decoded.fetch_add(1, Ordering::Relaxed);
                            macro_read(&self.array, idx, &opts, self.meta.dtype)
                                .map_err(|e| self.locate_failure(region, &opts, e))?
                        }
                    };
                    let decoded = Arc::new(decoded);
                    let mut cache = self.lock_cache();
                    if cache.wanted_later(idx) {
                        let kept = Arc::clone(&decoded);
                        cache.insert(idx.clone(), full.clone(), kept, io.cache_bytes, &self.spill);
                    }
                    (full.clone(), decoded)
                }
            };
            copy_buffer_region(&block, &block_region, &mut out, region)?;
            // Counted after the copy: this read may have been the chunk's last, or its owner's.
            self.lock_cache().read_done(idx, &part);
        }
        Ok(out)
    }

    /// Chunks decoded so far for reads that cover chunks in part (through the chunk cache).
    pub fn chunks_decoded(&self) -> u64 {
        self.decoded.load(Ordering::Relaxed)
    }

    /// Chunks read back from the spill folder so far (the cache gave them up under pressure
    /// with reads still to come).
    pub fn chunks_restored(&self) -> u64 {
        self.restored.load(Ordering::Relaxed)
    }

    fn stored_grid(&self) -> ChunkGrid {
        ChunkGrid::new(self.meta.shape.clone(), self.stored_chunk_shape())
    }

    /// True when `region` covers some chunk only in part: such reads (stencil halos, output
    /// chunks finer than the input's) share chunks with other tasks, so they go through the
    /// cache. Whole chunks (a downsample's block) are read by one task only.
    fn partial(&self, grid: &ChunkGrid, region: &Region) -> bool {
        !(0..region.ndim()).all(|d| {
            let (c, end) = (grid.chunk_shape()[d], region.start[d] + region.shape[d]);
            region.start[d].is_multiple_of(c)
                && (end.is_multiple_of(c) || end == self.meta.shape[d])
        })
    }

    fn lock_cache(&self) -> std::sync::MutexGuard<'_, ChunkCache> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn stored_chunk_shape(&self) -> Vec<u64> {
        let origin = vec![0; self.meta.shape.len()];
        self.array
            .chunk_shape(&origin)
            .map(|s| s.iter().map(|c| c.get()).collect())
            .unwrap_or_else(|_| self.meta.chunks.clone())
    }
}

impl Source for ZarrSource {
    fn reads_whole_boxes(&self) -> bool {
        self.array.is_sharded()
    }

    fn meta(&self) -> &ArrayMeta {
        &self.meta
    }

    fn describe(&self) -> String {
        self.path.display().to_string()
    }

    fn identity(&self) -> Value {
        let location = std::fs::canonicalize(&self.path).unwrap_or_else(|_| self.path.clone());
        let mut metadata = match self.array.metadata() {
            ArrayMetadata::V2(m) => serde_json::to_value(m),
            ArrayMetadata::V3(m) => serde_json::to_value(m),
        }
        .unwrap_or(Value::Null);
        // Names and attributes do not change a value read.
        if let Some(m) = metadata.as_object_mut() {
            m.remove("attributes");
            m.remove("dimension_names");
        }
        json!({"location": location.display().to_string(), "metadata": metadata})
    }

    fn location(&self) -> Option<PathBuf> {
        Some(self.path.clone())
    }

    fn chunk_encoding(&self) -> Option<String> {
        encoding_signature(&self.array)
    }

    fn encoded_chunk(&self, chunk: &[u64]) -> Result<Option<Vec<u8>>> {
        self.array
            .retrieve_encoded_chunk(chunk)
            .map(|b| b.map(|b| b.to_vec()))
            .map_err(|e| Error::Invalid(format!("reading {}: {e}", self.path.display())))
    }

    fn decode_chunk(&self, chunk: &[u64], bytes: Option<&[u8]>) -> Result<Buffer> {
        let failed = |e: &dyn std::fmt::Display| {
            Error::Invalid(format!("stored chunk {chunk:?} is unreadable: {e}"))
        };
        let shape = self.array.chunk_shape(chunk).map_err(|e| failed(&e))?;
        let full: Vec<u64> = shape.iter().map(|c| c.get()).collect();
        let full_region = Region::new(
            chunk.iter().zip(&full).map(|(i, c)| i * c).collect(),
            full.clone(),
        );
        let n = full_region.num_elements() as usize;
        let decoded = match bytes {
            None => Buffer::zeros(self.meta.dtype, n),
            Some(bytes) => {
                let raw = self
                    .array
                    .codecs()
                    .decode(
                        std::borrow::Cow::Borrowed(bytes),
                        &shape,
                        self.array.data_type(),
                        self.array.fill_value(),
                        &codec_options(&IoContext {
                            codec_threads: 1,
                            cache_bytes: 0,
                        }),
                    )
                    .map_err(|e| failed(&e))?;
                let raw = raw.into_fixed().map_err(|e| failed(&e))?;
                Buffer::from_le_bytes(&raw, self.meta.dtype).ok_or_else(|| failed(&"wrong size"))?
            }
        };
        let clipped = full_region
            .intersect(&Region::whole(&self.meta.shape))
            .unwrap_or_else(|| full_region.clone());
        Ok(if clipped == full_region {
            decoded
        } else {
            crate::geometry::extract_region(&decoded, &full_region, &clipped)
        })
    }

    fn forget_reads(&self) {
        self.lock_cache().clear();
    }

    fn cache_peak_bytes(&self) -> u64 {
        self.lock_cache().peak_bytes()
    }

    fn expect_read(&self, region: &Region) -> bool {
        let grid = self.stored_grid();
        if !self.partial(&grid, region) {
            return false;
        }
        let mut cache = self.lock_cache();
        for idx in grid.chunks_overlapping(region) {
            // Reads are classified (face or interior) against the chunk clipped to the array:
            // an edge chunk's owner reads all of what exists of it.
            let clipped = grid.chunk_region(&idx);
            if let Some(part) = clipped.intersect(region) {
                cache.expect(idx, &clipped, &part);
            }
        }
        true
    }

    fn read(&self, region: &Region, io: &IoContext) -> Result<Buffer> {
        let grid = self.stored_grid();
        if io.cache_bytes > 0 && self.partial(&grid, region) {
            let chunks = grid.chunks_overlapping(region);
            return self.read_through_cache(region, &grid, &chunks, io);
        }
        let subset = ArraySubset::new_with_start_shape(region.start.clone(), region.shape.clone())
            .map_err(|e| Error::Invalid(e.to_string()))?;
        let opts = codec_options(io);
        macro_rules! arm {
            ($($variant:ident: $t:ty),*) => {
                match self.meta.dtype {
                    $(DType::$variant => self
                        .array
                        .retrieve_array_subset_opt::<Vec<$t>>(&subset, &opts)
                        .map(Buffer::$variant),)*
                }
            };
        }
        arm!(Bool: bool, Int8: i8, Int16: i16, Int32: i32, Int64: i64, Uint8: u8, Uint16: u16,
             Uint32: u32, Uint64: u64, Float32: f32, Float64: f64)
        .map_err(|e| self.locate_failure(region, &opts, e.to_string()))
    }
}

/// A Zarr array being written through zarrs. Chunks are written first and the metadata last, so
/// an interrupted run never leaves something that opens as a complete array.
#[derive(Debug)]
pub struct ZarrSink {
    path: PathBuf,
    array: ZArray<Store>,
    meta: ArrayMeta,
    write_grid: ChunkGrid,
    overwrite: Overwrite,
    /// Flush each chunk to the disk before it is listed as stored ([`WriteOptions::durable`]).
    durable: bool,
    /// The metadata this run writes last, as the run's identity records it.
    metadata: Value,
    /// The expression computing the output ([`crate::identity::expression`]), when known.
    expression: Value,
    journal: RwLock<Journal>,
}

impl ZarrSink {
    /// Describes an output of `shape` and `dtype` at `path`, chunked as `options.chunks` (or
    /// `default_chunks`). Nothing touches the disk until [`Sink::prepare`].
    ///
    /// # Errors
    /// [`Error::Invalid`] for inconsistent chunk, shard or codec settings.
    pub fn new(
        path: impl AsRef<Path>,
        shape: Vec<u64>,
        default_chunks: Vec<u64>,
        dtype: DType,
        options: &WriteOptions,
    ) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let chunks = options.chunks.clone().unwrap_or(default_chunks);
        let meta = ArrayMeta::new(shape, chunks, dtype)?;
        options.codec.validate()?;
        let unit = match &options.shards {
            None => meta.chunks.clone(),
            Some(shards) => {
                validate_shards(shards, &meta.chunks, options.zarr_format)?;
                shards.clone()
            }
        };
        let metadata = match options.zarr_format {
            ZarrFormat::V3 => v3_metadata(&meta, &unit, options),
            ZarrFormat::V2 => v2_metadata(&meta, options),
        };
        let metadata_json = metadata.clone();
        let metadata = parse_metadata(metadata, options.zarr_format)?;
        let store = FilesystemStore::new(&path).map_err(|e| Error::Store {
            path: path.display().to_string(),
            detail: e.to_string(),
        })?;
        let array = ZArray::new_with_metadata(Arc::new(store), "/", metadata)
            .map_err(|e| Error::Invalid(format!("output {}: {e}", path.display())))?;
        let write_grid = ChunkGrid::new(meta.shape.clone(), unit);
        Ok(Self {
            journal: RwLock::new(Journal::new(&path, options.durable)),
            durable: options.durable,
            path,
            array,
            meta,
            write_grid,
            overwrite: options.overwrite,
            metadata: metadata_json,
            expression: Value::Null,
        })
    }

    /// Records what computes this output ([`crate::identity::expression`] of the array written)
    /// in the run's identity, so a resume refuses an unfinished output that another pipeline
    /// started, naming what differs.
    #[must_use]
    pub fn with_expression(mut self, expression: Value) -> Self {
        self.expression = expression;
        self
    }

    /// The identity of the run writing this output: its expression and its metadata.
    pub fn run_identity(&self) -> Value {
        crate::identity::run_identity(self.expression.clone(), self.metadata.clone())
    }

    fn journal(&self) -> std::sync::RwLockReadGuard<'_, Journal> {
        self.journal.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Notes a stored unit in the resume journal.
    fn record(&self, unit: &[u64]) -> Result<()> {
        self.journal()
            .record(unit)
            .map_err(|e| self.store_error(format!("journal: {e}")))
    }

    fn store_error(&self, detail: impl ToString) -> Error {
        Error::Store {
            path: self.path.display().to_string(),
            detail: detail.to_string(),
        }
    }
}

fn validate_shards(shards: &[u64], chunks: &[u64], format: ZarrFormat) -> Result<()> {
    if format == ZarrFormat::V2 {
        return Err(Error::Invalid(
            "sharding needs zarr_format 3; drop shards or write v3".into(),
        ));
    }
    let ok = shards.len() == chunks.len()
        && shards.iter().zip(chunks).all(|(s, c)| *s > 0 && s % c == 0);
    if !ok {
        return Err(Error::Invalid(format!(
            "shard shape {shards:?} must have one extent per axis, each a multiple of the chunk \
             shape {chunks:?}"
        )));
    }
    Ok(())
}

fn fill_value(dtype: DType) -> Value {
    match dtype {
        DType::Bool => json!(false),
        DType::Float32 | DType::Float64 => json!(0.0),
        _ => json!(0),
    }
}

fn v3_compressor(codec: &Codec, dtype: DType) -> Option<Value> {
    match codec {
        Codec::None => None,
        Codec::Zstd { level } => {
            Some(json!({"name": "zstd", "configuration": {"level": level, "checksum": false}}))
        }
        Codec::Gzip { level } => Some(json!({"name": "gzip", "configuration": {"level": level}})),
        Codec::Blosc {
            cname,
            clevel,
            shuffle,
        } => Some(json!({"name": "blosc", "configuration": {
            "cname": cname, "clevel": clevel,
            "shuffle": if *shuffle { "shuffle" } else { "noshuffle" },
            "typesize": dtype.size(), "blocksize": 0}})),
    }
}

fn v3_metadata(meta: &ArrayMeta, unit: &[u64], options: &WriteOptions) -> Value {
    let mut inner = vec![json!({"name": "bytes", "configuration": {"endian": "little"}})];
    inner.extend(v3_compressor(&options.codec, meta.dtype));
    let codecs = if options.shards.is_some() {
        vec![json!({"name": "sharding_indexed", "configuration": {
            "chunk_shape": meta.chunks,
            "codecs": inner,
            "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}},
                             {"name": "crc32c"}],
            "index_location": "end"}})]
    } else {
        inner
    };
    let mut m = json!({
        "zarr_format": 3, "node_type": "array", "shape": meta.shape, "data_type": meta.dtype.name(),
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": unit}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "fill_value": fill_value(meta.dtype), "codecs": codecs, "attributes": {}});
    if let Some(names) = &options.dimension_names {
        m["dimension_names"] = json!(names);
    }
    m
}

fn v2_metadata(meta: &ArrayMeta, options: &WriteOptions) -> Value {
    let compressor = match &options.codec {
        Codec::None => Value::Null,
        Codec::Zstd { level } => json!({"id": "zstd", "level": level}),
        Codec::Gzip { level } => json!({"id": "gzip", "level": level}),
        Codec::Blosc {
            cname,
            clevel,
            shuffle,
        } => json!({"id": "blosc", "cname": cname, "clevel": clevel,
                    "shuffle": u8::from(*shuffle), "blocksize": 0}),
    };
    json!({"zarr_format": 2, "shape": meta.shape, "chunks": meta.chunks,
           "dtype": meta.dtype.v2_name(), "compressor": compressor,
           "fill_value": fill_value(meta.dtype), "order": "C", "filters": null,
           "dimension_separator": "/"})
}

fn parse_metadata(value: Value, format: ZarrFormat) -> Result<ArrayMetadata> {
    let bad = |e: serde_json::Error| Error::Invalid(format!("output metadata: {e}"));
    Ok(match format {
        ZarrFormat::V3 => {
            ArrayMetadata::V3(serde_json::from_value::<ArrayMetadataV3>(value).map_err(bad)?)
        }
        ZarrFormat::V2 => {
            ArrayMetadata::V2(serde_json::from_value::<ArrayMetadataV2>(value).map_err(bad)?)
        }
    })
}

/// Decodes one stored chunk (full chunk shape) as a typed buffer.
fn macro_read(
    array: &ZArray<Store>,
    idx: &[u64],
    opts: &CodecOptions,
    dtype: DType,
) -> std::result::Result<Buffer, String> {
    macro_rules! arm {
        ($($variant:ident: $t:ty),*) => {
            match dtype {
                $(DType::$variant => array
                    .retrieve_chunk_opt::<Vec<$t>>(idx, opts)
                    .map(Buffer::$variant),)*
            }
        };
    }
    arm!(Bool: bool, Int8: i8, Int16: i16, Int32: i32, Int64: i64, Uint8: u8, Uint16: u16,
         Uint32: u32, Uint64: u64, Float32: f32, Float64: f64)
    .map_err(|e| e.to_string())
}

/// Metadata files in the order they are moved into place: attributes first, the file whose
/// presence makes the node (`.zarray`, `.zgroup`, `zarr.json`) last.
const METADATA_FILES: [&str; 4] = [".zattrs", ".zarray", ".zgroup", "zarr.json"];

/// Writes `data` to `path` through a hidden temporary file and a rename, so a reader (or a crashed
/// run) never sees a torn chunk. No fsync per chunk by default: zarrs' own store syncs every file,
/// which left a run waiting on the disk for a third of its time; the metadata, written last, marks
/// completion. With `durable` ([`WriteOptions::durable`]) the file is flushed before the rename
/// and the folder after it, so once this returns the chunk survives a power loss too.
fn write_atomically(path: &Path, data: &[u8], durable: bool) -> std::io::Result<()> {
    let parent = path.parent().unwrap_or(Path::new("."));
    if durable {
        create_dirs_durably(parent)?;
    } else {
        std::fs::create_dir_all(parent)?;
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    // Named per write: two processes writing the same chunk (a requeued job array element
    // racing the original) must not rename each other's file away.
    static WRITES: AtomicU64 = AtomicU64::new(0);
    let n = WRITES.fetch_add(1, Ordering::Relaxed);
    let partial = parent.join(format!(".{name}.{}-{n}.partial", std::process::id()));
    if durable {
        let mut file = std::fs::File::create(&partial)?;
        std::io::Write::write_all(&mut file, data)?;
        file.sync_all()?;
    } else {
        std::fs::write(&partial, data)?;
    }
    std::fs::rename(&partial, path)?;
    if durable {
        std::fs::File::open(parent)?.sync_all()?;
    }
    Ok(())
}

/// Creates `dir` and its missing ancestors, flushing each new folder's entry in its parent, so a
/// chunk written durably below it cannot lose its folder in a power loss.
fn create_dirs_durably(dir: &Path) -> std::io::Result<()> {
    let mut missing = Vec::new();
    let mut at = dir;
    while !at.exists() {
        missing.push(at.to_path_buf());
        match at.parent() {
            Some(parent) => at = parent,
            None => break,
        }
    }
    std::fs::create_dir_all(dir)?;
    for created in missing.iter().rev() {
        if let Some(parent) = created.parent() {
            std::fs::File::open(parent)?.sync_all()?;
        }
    }
    Ok(())
}

fn dir_is_nonempty(path: &Path) -> bool {
    path.exists()
        && (path.is_file()
            || std::fs::read_dir(path)
                .map(|mut d| d.next().is_some())
                .unwrap_or(true))
}

impl ZarrSink {
    /// Writes the array's metadata whole or not at all ([`publish_metadata`]): a run killed
    /// while it is written leaves no metadata, so the array neither opens half-described nor
    /// stops `--resume` from continuing.
    fn store_metadata_atomically(&self) -> Result<()> {
        let metadata = self.array.metadata().clone();
        publish_metadata(&self.path, self.durable, |store| {
            ZArray::new_with_metadata(store, "/", metadata)
                .map_err(|e| e.to_string())?
                .store_metadata()
                .map_err(|e| e.to_string())
        })
    }
}

/// Has `write` store metadata through zarrs into a staging folder inside `path`, then renames
/// each file into place, the one whose presence makes the node (`zarr.json`, `.zarray`,
/// `.zgroup`) last: a process killed meanwhile leaves no torn metadata file.
fn publish_metadata(
    path: &Path,
    durable: bool,
    write: impl FnOnce(Arc<FilesystemStore>) -> std::result::Result<(), String>,
) -> Result<()> {
    let failed = |e: &dyn std::fmt::Display| Error::Store {
        path: path.display().to_string(),
        detail: format!("writing metadata: {e}"),
    };
    let staging = path.join(".chunkwise-metadata");
    let _ = std::fs::remove_dir_all(&staging);
    let store = FilesystemStore::new(&staging).map_err(|e| failed(&e))?;
    write(Arc::new(store)).map_err(|e| failed(&e))?;
    // zarrs' store flushes each file it writes; a rename on the same filesystem makes it
    // appear whole, so the staged files are moved, not copied.
    for name in METADATA_FILES {
        let staged = staging.join(name);
        if staged.exists() {
            std::fs::rename(&staged, path.join(name)).map_err(|e| failed(&e))?;
        }
    }
    if durable {
        std::fs::File::open(path)
            .and_then(|dir| dir.sync_all())
            .map_err(|e| failed(&e))?;
    }
    std::fs::remove_dir_all(&staging).map_err(|e| failed(&e))
}

impl Sink for ZarrSink {
    fn meta(&self) -> &ArrayMeta {
        &self.meta
    }

    fn write_grid(&self) -> ChunkGrid {
        self.write_grid.clone()
    }

    fn describe(&self) -> String {
        self.path.display().to_string()
    }

    fn location(&self) -> Option<PathBuf> {
        Some(self.path.clone())
    }

    fn chunk_encoding(&self) -> Option<String> {
        encoding_signature(&self.array)
    }

    fn write_encoded(&self, unit: &[u64], bytes: Option<&[u8]>) -> Result<()> {
        let file = self.path.join(self.array.chunk_key(unit).as_str());
        let written = match bytes {
            Some(bytes) => write_atomically(&file, bytes, self.durable),
            None => match std::fs::remove_file(&file) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            },
        };
        written.map_err(|e| self.store_error(e))?;
        self.record(unit)
    }

    fn is_done(&self, unit: &[u64]) -> bool {
        // Asked for every unit written; only a resumed run has units done before it.
        self.resuming() && self.journal().was_done(unit)
    }

    fn validate(&self) -> Result<()> {
        let exists = dir_is_nonempty(&self.path);
        let resumable = Journal::exists(&self.path);
        match self.overwrite {
            Overwrite::Refuse
                if resumable && Journal::mismatch(&self.path, &self.run_identity()).is_none() =>
            {
                Err(Error::UnfinishedRun {
                    path: self.path.display().to_string(),
                    stored: Journal::count_done(&self.path),
                })
            }
            Overwrite::Refuse if exists => {
                Err(Error::OutputExists(self.path.display().to_string()))
            }
            Overwrite::Resume if exists && !resumable => Err(Error::Invalid(format!(
                "cannot resume {}: it holds no unfinished chunkwise run (a complete array, or \
                 something else); use --overwrite to replace it",
                self.path.display()
            ))),
            _ => Ok(()),
        }
    }

    fn prepare(&self) -> Result<()> {
        // Checked again here: the output may have appeared since planning.
        self.validate()?;
        let mut journal = self.journal.write().unwrap_or_else(|p| p.into_inner());
        if self.overwrite == Overwrite::Resume && Journal::exists(&self.path) {
            return journal.resume(&self.run_identity()).map_err(|e| {
                Error::Invalid(format!("cannot resume {}: {e}", self.path.display()))
            });
        }
        if self.path.exists() {
            let removed = if self.path.is_dir() {
                std::fs::remove_dir_all(&self.path)
            } else {
                std::fs::remove_file(&self.path)
            };
            removed.map_err(|e| self.store_error(format!("cannot replace: {e}")))?;
        }
        std::fs::create_dir_all(&self.path).map_err(|e| self.store_error(e))?;
        journal
            .start(&self.run_identity())
            .map_err(|e| self.store_error(format!("journal: {e}")))
    }

    fn write(&self, unit: &[u64], region: &Region, data: &Buffer, io: &IoContext) -> Result<()> {
        let opts = codec_options(io);
        let full_shape = self.write_grid.chunk_shape();
        // Zarr stores edge chunks at full size: pad the clipped region with the fill value.
        let padded;
        let data = if region.shape.as_slice() == full_shape {
            data
        } else {
            let full = Region::new(region.start.clone(), full_shape.to_vec());
            let mut buf = Buffer::zeros(data.dtype(), full.num_elements() as usize);
            copy_buffer_region(data, region, &mut buf, &full)?;
            padded = buf;
            &padded
        };
        let failed = |e: &dyn std::fmt::Display| {
            Error::Invalid(format!("writing {}: {e}", self.path.display()))
        };
        let bytes = crate::dispatch!(Buffer, data, v => v.as_slice().into_array_bytes(self.array.data_type()))
            .map_err(|e| failed(&e))?;
        let file = self.path.join(self.array.chunk_key(unit).as_str());
        if bytes.is_fill_value(self.array.fill_value()) {
            // As zarrs and zarr-python do: a chunk of only the fill value is not stored.
            match std::fs::remove_file(&file) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(failed(&e)),
                _ => return self.record(unit),
            }
        }
        let shape = self.array.chunk_shape(unit).map_err(|e| failed(&e))?;
        let encoded = self
            .array
            .codecs()
            .encode(
                bytes,
                &shape,
                self.array.data_type(),
                self.array.fill_value(),
                &opts,
            )
            .map_err(|e| failed(&e))?;
        write_atomically(&file, &encoded, self.durable).map_err(|e| failed(&e))?;
        self.record(unit)
    }

    fn finish(&self) -> Result<()> {
        self.store_metadata_atomically()
    }

    fn forget_progress(&self) -> Result<()> {
        self.journal()
            .complete()
            .map_err(|e| self.store_error(format!("journal: {e}")))
    }

    fn resuming(&self) -> bool {
        self.overwrite == Overwrite::Resume
    }

    fn units_stored(&self) -> Option<u64> {
        Some(Journal::count_done(&self.path) as u64)
    }

    fn abort(&self) {
        // A resumable run keeps what it stored, journal included: the next --resume continues
        // from there. (Its metadata is there only when the run failed after finishing it; the
        // array is then complete.)
        if self.overwrite != Overwrite::Resume {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// Creates a Zarr group at `path` (which must exist) with `attributes`, through zarrs: v3
/// `zarr.json`, or v2 `.zgroup` plus `.zattrs`.
///
/// # Errors
/// [`Error::Store`] when the metadata cannot be written.
pub fn write_group(
    path: impl AsRef<Path>,
    format: ZarrFormat,
    attributes: serde_json::Map<String, Value>,
) -> Result<()> {
    let path = path.as_ref();
    use zarrs::group::GroupMetadata;
    use zarrs::metadata::{v2::GroupMetadataV2, v3::GroupMetadataV3};
    let metadata = match format {
        ZarrFormat::V3 => GroupMetadata::V3(GroupMetadataV3::new().with_attributes(attributes)),
        ZarrFormat::V2 => GroupMetadata::V2(GroupMetadataV2::new().with_attributes(attributes)),
    };
    publish_metadata(path, false, |store| {
        zarrs::group::Group::new_with_metadata(store, "/", metadata)
            .map_err(|e| e.to_string())?
            .store_metadata()
            .map_err(|e| e.to_string())
    })
}

/// What `chunkwise info` shows about a stored array.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ZarrInfo {
    /// 2 or 3.
    pub zarr_format: u8,
    /// Extent on each axis.
    pub shape: Vec<u64>,
    /// Chunk shape (the inner chunk when sharded).
    pub chunks: Vec<u64>,
    /// Shard shape, when sharded.
    pub shards: Option<Vec<u64>>,
    /// Data type as the metadata names it.
    pub data_type: String,
    /// Fill value as the metadata gives it.
    pub fill_value: Value,
    /// Codec chain (v3) or filters and compressor (v2), as metadata JSON.
    pub codecs: Value,
    /// Axis names, when present.
    pub dimension_names: Option<Value>,
}

/// Reads the metadata of the array at `path`.
///
/// # Errors
/// [`Error::MissingArray`] when there is no readable array at `path`.
pub fn inspect_zarr(path: impl AsRef<Path>) -> Result<ZarrInfo> {
    let path = path.as_ref();
    let array = open_array(path)?;
    let chunks = natural_chunks(&array, path)?;
    let shards = array.is_sharded().then(|| {
        let origin = vec![0; array.dimensionality()];
        array
            .chunk_shape(&origin)
            .map(|s| s.iter().map(|c| c.get()).collect())
            .unwrap_or_default()
    });
    let (zarr_format, json) = match array.metadata() {
        ArrayMetadata::V2(m) => (2, serde_json::to_value(m)),
        ArrayMetadata::V3(m) => (3, serde_json::to_value(m)),
    };
    let json = json.map_err(|e| Error::Invalid(e.to_string()))?;
    let codecs = if zarr_format == 2 {
        json!({"filters": json["filters"], "compressor": json["compressor"]})
    } else {
        json["codecs"].clone()
    };
    Ok(ZarrInfo {
        zarr_format,
        shape: array.shape().to_vec(),
        chunks,
        shards,
        data_type: array.data_type().to_string(),
        fill_value: json["fill_value"].clone(),
        codecs,
        dimension_names: json.get("dimension_names").cloned(),
    })
}
