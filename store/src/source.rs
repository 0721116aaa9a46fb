//! Reading a stored Zarr array: [`ZarrSource`], with the engine's decoded-chunk cache for reads
//! that cover chunks in part.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use zarrs::array::{
    Array as ZArray, ArrayMetadata, ArrayShardedExt, ArraySubset, ArrayToBytesCodecTraits,
    CodecOptions,
};

use chunkwise_engine::geometry::{copy_buffer_region, extract_region};
use chunkwise_engine::spill::SpillDir;
use chunkwise_engine::store::{ChunkCache, IoContext, Source};
use chunkwise_engine::{ArrayMeta, Buffer, ChunkGrid, DType, Error, Region, Result};

use crate::adapter::{
    codec_options, dtype_of, encoding_signature, natural_chunks, open_array_at, ReadStore,
};
use crate::in_flight::InFlight;
use crate::prefetch::Prefetch;
use crate::remote::OBJECT_STORE_REQUESTS;

/// A Zarr array (v2 or v3; a local folder, an object store or a web server) read through zarrs.
pub struct ZarrSource {
    path: PathBuf,
    array: ZArray<ReadStore>,
    meta: ArrayMeta,
    cache: Mutex<ChunkCache>,
    /// Where the cache puts decoded chunks it gives up with reads still to come.
    spill: SpillDir,
    /// Chunks decoded through the cache (reported at debug level when the source is dropped).
    decoded: AtomicU64,
    /// Chunks read back from the spill folder instead.
    restored: AtomicU64,
    /// Chunks being decoded for the cache now, so that two tasks do not decode one together.
    in_flight: InFlight,
    /// Reads ahead, for an unsharded array on an object store ([`crate::prefetch`]).
    prefetch: Option<Prefetch>,
    /// Chunks are `bytes` + `zstd` alone: decompressed straight into typed buffers
    /// ([`crate::zstd_direct`]).
    plain_zstd: bool,
}

impl std::fmt::Debug for ZarrSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZarrSource")
            .field("path", &self.path)
            .field("meta", &self.meta)
            .finish_non_exhaustive()
    }
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
    let (array, object) = open_array_at(&path)?;
    let dtype = dtype_of(array.data_type(), &path)?;
    let shape = array.shape().to_vec();
    let chunks = natural_chunks(&array, &path)?;
    let meta = ArrayMeta::new(shape, chunks, dtype)?;
    // A sharded array's chunks are read in parts (its inner chunks): not read ahead.
    let prefetch = object.filter(|_| !array.is_sharded()).map(|storage| {
        let grid = ChunkGrid::new(meta.shape.clone(), meta.chunks.clone());
        let chunk_bytes = meta.chunks.iter().product::<u64>() * dtype.size() as u64;
        Prefetch::new(storage, grid, chunk_bytes)
    });
    Ok(ZarrSource {
        prefetch,
        plain_zstd: crate::zstd_direct::stored_as_plain_zstd(&array),
        path,
        array,
        meta,
        cache: Mutex::default(),
        spill: SpillDir::new("decoded chunks"),
        decoded: AtomicU64::new(0),
        restored: AtomicU64::new(0),
        in_flight: InFlight::default(),
    })
}

impl ZarrSource {
    /// Stored chunk `chunk` decoded from `bytes` (`None`: the fill value) at full chunk size,
    /// with the region it covers (past the array's end for an edge chunk).
    fn decode_full(&self, chunk: &[u64], bytes: Option<&[u8]>) -> Result<(Region, Buffer)> {
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
            // Not stored: the array's fill value.
            None => {
                let mut fill = self.array.fill_value().as_ne_bytes().to_vec();
                if cfg!(target_endian = "big") {
                    fill.reverse();
                }
                Buffer::from_le_bytes(&fill.repeat(n), self.meta.dtype)
                    .ok_or_else(|| failed(&"fill value of the wrong size"))?
            }
            Some(bytes) => match self.decompress_directly(bytes, n) {
                Some(decoded) => decoded,
                None => {
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
                                ..IoContext::default()
                            }),
                        )
                        .map_err(|e| failed(&e))?;
                    let raw = raw.into_fixed().map_err(|e| failed(&e))?;
                    Buffer::from_le_bytes(&raw, self.meta.dtype)
                        .ok_or_else(|| failed(&"wrong size"))?
                }
            },
        };
        Ok((full_region, decoded))
    }

    /// `encoded`, a stored chunk of `len` elements, decompressed straight into a typed buffer
    /// when the array's chunks are plain zstd and the bytes are what they should be; `None`
    /// sends the caller to zarrs.
    fn decompress_directly(&self, encoded: &[u8], len: usize) -> Option<Buffer> {
        self.plain_zstd
            .then(|| crate::zstd_direct::decompress(encoded, self.meta.dtype, len))
            .flatten()
    }

    /// Stored chunk `idx` at full chunk size, through the reads ahead (its bytes taken from
    /// them, then the next chunks asked for).
    fn read_ahead(
        &self,
        prefetch: &Prefetch,
        idx: &[u64],
        io: &IoContext,
    ) -> Result<(Region, Buffer)> {
        let key = self.array.chunk_key(idx);
        let bytes = prefetch.take(idx, &key).map_err(|e| {
            Error::Invalid(format!(
                "reading {} (key {}): {e}",
                self.path.display(),
                key.as_str()
            ))
        })?;
        if io.prefetch_bytes > 0 {
            let depth = io.io_concurrency.unwrap_or(OBJECT_STORE_REQUESTS);
            prefetch.ahead(idx, depth, io.prefetch_bytes, |i| self.array.chunk_key(i));
        }
        self.decode_full(idx, bytes.as_deref())
    }

    /// `region` assembled from the stored chunks it overlaps, read ahead.
    fn read_chunks_ahead(
        &self,
        prefetch: &Prefetch,
        region: &Region,
        io: &IoContext,
    ) -> Result<Buffer> {
        let grid = self.stored_grid();
        let chunks = grid.chunks_overlapping(region);
        let mut out = None;
        for idx in &chunks {
            let (full, decoded) = self.read_ahead(prefetch, idx, io)?;
            if chunks.len() == 1 && full == *region {
                return Ok(decoded);
            }
            let out = out.get_or_insert_with(|| {
                Buffer::zeros(self.meta.dtype, region.num_elements() as usize)
            });
            copy_buffer_region(&decoded, &full, out, region)?;
        }
        Ok(out.unwrap_or_else(|| Buffer::zeros(self.meta.dtype, region.num_elements() as usize)))
    }

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

    /// Decoded chunk `idx` (covering `full`, its region at full chunk size) or the part of it
    /// the cache keeps that covers `part`, from the cache or decoded (once, whoever asks at the
    /// same time) and cached when later reads want it. The caller counts its read of `part` as
    /// made ([`ChunkCache::read_done`]) once it is done with the data.
    fn cached_chunk(
        &self,
        idx: &[u64],
        full: &Region,
        part: &Region,
        io: &IoContext,
    ) -> Result<(Region, Arc<Buffer>)> {
        loop {
            if let Some(found) = self.lock_cache().get(idx, part) {
                return Ok(found);
            }
            // Another task decoding this chunk now: wait for it, then look again.
            let Some(_claim) = self.in_flight.claim(idx) else {
                continue;
            };
            if let Some(found) = self.lock_cache().get(idx, part) {
                return Ok(found);
            }
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
                    match &self.prefetch {
                        Some(prefetch) => self.read_ahead(prefetch, idx, io)?.1,
                        None => {
                            let bytes = self.encoded_chunk(idx)?;
                            self.decode_full(idx, bytes.as_deref())
                                .map_err(|e| {
                                    Error::Invalid(format!("reading {}: {e}", self.path.display()))
                                })?
                                .1
                        }
                    }
                }
            };
            let decoded = Arc::new(decoded);
            let mut cache = self.lock_cache();
            if cache.wanted_later(idx) {
                let kept = Arc::clone(&decoded);
                cache.insert(
                    idx.to_vec(),
                    full.clone(),
                    kept,
                    io.cache_bytes,
                    &self.spill,
                );
            }
            return Ok((full.clone(), decoded));
        }
    }

    /// The region at full chunk size of chunk `idx` (edge chunks decode at full size: their
    /// region may pass the array end).
    fn full_chunk_region(grid: &ChunkGrid, idx: &[u64]) -> Region {
        Region::new(grid.chunk_region(idx).start, grid.chunk_shape().to_vec())
    }

    /// Assembles `region` from decoded chunks, decoding only those not in the cache.
    fn read_through_cache(
        &self,
        region: &Region,
        grid: &ChunkGrid,
        chunks: &[Vec<u64>],
        io: &IoContext,
    ) -> Result<Buffer> {
        let zeros = || Buffer::zeros(self.meta.dtype, region.num_elements() as usize);
        let mut out = None;
        for idx in chunks {
            let full = Self::full_chunk_region(grid, idx);
            let Some(part) = full.intersect(region) else {
                continue;
            };
            let (block_region, block) = self.cached_chunk(idx, &full, &part, io)?;
            match chunks {
                // A region inside one chunk is cut out of it, without a zeroing pass first.
                [_] if part == *region => out = Some(extract_region(&block, &block_region, region)),
                _ => copy_buffer_region(
                    &block,
                    &block_region,
                    out.get_or_insert_with(zeros),
                    region,
                )?,
            }
            // Counted after the copy: this read may have been the chunk's last, or its owner's.
            self.lock_cache().read_done(idx, &part);
        }
        Ok(out.unwrap_or_else(zeros))
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

    /// The index of the stored chunk `region` is exactly (clipped to the array), for arrays
    /// whose stored chunks are not shards (a shard's inner chunks are read through zarrs'
    /// partial decoding instead).
    fn whole_plain_chunk(&self, grid: &ChunkGrid, region: &Region) -> Option<Vec<u64>> {
        if self.array.is_sharded() {
            return None;
        }
        let [idx] = <[Vec<u64>; 1]>::try_from(grid.chunks_overlapping(region)).ok()?;
        (grid.chunk_region(&idx) == *region).then_some(idx)
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
            .map_err(|e| Error::Invalid(format!("reading {}: {e}", self.path.display())))
    }

    fn decode_chunk(&self, chunk: &[u64], bytes: Option<&[u8]>) -> Result<Buffer> {
        let (full_region, decoded) = self.decode_full(chunk, bytes)?;
        let clipped = full_region
            .intersect(&Region::whole(&self.meta.shape))
            .unwrap_or_else(|| full_region.clone());
        Ok(if clipped == full_region {
            decoded
        } else {
            extract_region(&decoded, &full_region, &clipped)
        })
    }

    fn prefetch_depth(&self) -> usize {
        if self.prefetch.is_some() {
            OBJECT_STORE_REQUESTS
        } else {
            0
        }
    }

    fn forget_reads(&self) {
        self.lock_cache().clear();
        if let Some(prefetch) = &self.prefetch {
            prefetch.reset_peak();
        }
    }

    fn read_ahead_peak_bytes(&self) -> u64 {
        self.prefetch.as_ref().map_or(0, Prefetch::peak)
    }

    fn cache_working_set(&self, tasks: u64, tasks_ahead: u64) -> u64 {
        let cache = self.lock_cache();
        let window = cache.announced() * tasks_ahead / tasks.max(1);
        cache.working_set_bytes(self.meta.dtype.size() as u64, window)
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
        if let Some(prefetch) = &self.prefetch {
            return self.read_chunks_ahead(prefetch, region, io);
        }
        if let Some(idx) = self.whole_plain_chunk(&grid, region) {
            // One stored chunk (a downsample's or an element-wise task's read): decoded
            // straight into the task's buffer. Through `retrieve_array_subset` zarrs would
            // zero-fill a typed copy first, a pass over the chunk that costs about as much as
            // the copy itself.
            let bytes = self.encoded_chunk(&idx)?;
            return self
                .decode_chunk(&idx, bytes.as_deref())
                .map_err(|e| Error::Invalid(format!("reading {}: {e}", self.path.display())));
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

    fn read_shared(
        &self,
        region: &Region,
        io: &IoContext,
    ) -> Result<Option<(Region, Arc<Buffer>)>> {
        let grid = self.stored_grid();
        if io.cache_bytes == 0 || !self.partial(&grid, region) {
            return Ok(None);
        }
        let Ok([idx]) = <[Vec<u64>; 1]>::try_from(grid.chunks_overlapping(region)) else {
            return Ok(None);
        };
        let full = Self::full_chunk_region(&grid, &idx);
        let found = self.cached_chunk(&idx, &full, region, io)?;
        // The caller only reads the shared data: the read is as good as made.
        self.lock_cache().read_done(&idx, region);
        Ok(Some(found))
    }
}
