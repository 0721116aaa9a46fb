//! Writing a Zarr array, to a local folder or an object store: [`ZarrSink`]. Chunks are encoded
//! by zarrs' codec chain and stored whole ([`crate::output`]: a file renamed into place, or one
//! PUT); the metadata goes last ([`crate::metadata`]); a journal lists the units stored so an
//! interrupted run can be resumed ([`crate::journal`]).

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use zarrs::storage::Bytes;

use serde_json::Value;
use zarrs::array::{Array as ZArray, ArrayToBytesCodecTraits, IntoArrayBytes};
use zarrs::storage::store::MemoryStore;

use chunkwise_engine::geometry::copy_buffer_region;
use chunkwise_engine::store::{IoContext, Sink};
use chunkwise_engine::{identity, ArrayMeta, Buffer, ChunkGrid, DType, Error, Region, Result};

use crate::adapter::{codec_options, encoding_signature};
use crate::journal::{Journal, KeyOf};
use crate::metadata::{parse_metadata, publish_metadata, v2_metadata, v3_metadata};
use crate::output::OutputStore;
use crate::write_behind::WriteBehind;
use crate::{Overwrite, WriteOptions, ZarrFormat};

/// A Zarr array being written through zarrs. Chunks are written first and the metadata last, so
/// an interrupted run never leaves something that opens as a complete array.
#[derive(Debug)]
pub struct ZarrSink {
    path: PathBuf,
    /// Where the chunks, metadata and journal go.
    store: Arc<OutputStore>,
    /// The array as zarrs describes it, for its codecs and chunk keys (its own storage, in
    /// memory, is never written: chunks and metadata go through `store`).
    array: ZArray<MemoryStore>,
    meta: ArrayMeta,
    write_grid: ChunkGrid,
    overwrite: Overwrite,
    /// The metadata this run writes last, as the run's identity records it.
    metadata: Value,
    /// The expression computing the output ([`identity::expression`]), when known.
    expression: Value,
    journal: RwLock<Journal>,
    /// Writes handed to the store and not yet stored ([`crate::write_behind`]).
    behind: Arc<WriteBehind>,
}

impl ZarrSink {
    /// Describes an output of `shape` and `dtype` at `path`, chunked as `options.chunks` (or
    /// `default_chunks`). `path` is a folder or an object-store URL (`s3://bucket/a.zarr`).
    /// Nothing is written until [`Sink::prepare`].
    ///
    /// # Errors
    /// [`Error::Invalid`] for inconsistent chunk, shard or codec settings, or a location that
    /// cannot be written (a web server).
    pub fn new(
        path: impl AsRef<Path>,
        shape: Vec<u64>,
        default_chunks: Vec<u64>,
        dtype: DType,
        options: &WriteOptions,
    ) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let store = Arc::new(OutputStore::open(&path, options.durable)?);
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
        let array = ZArray::new_with_metadata(Arc::new(MemoryStore::new()), "/", metadata)
            .map_err(|e| Error::Invalid(format!("output {}: {e}", path.display())))?;
        let write_grid = ChunkGrid::new(meta.shape.clone(), unit);
        let keys = array.chunk_key_encoding().clone();
        let key_of: KeyOf = Box::new(move |unit| keys.encode(unit).as_str().to_string());
        Ok(Self {
            journal: RwLock::new(Journal::new(store.clone(), key_of)),
            behind: Arc::default(),
            store,
            path,
            array,
            meta,
            write_grid,
            overwrite: options.overwrite,
            metadata: metadata_json,
            expression: Value::Null,
        })
    }

    /// Records what computes this output ([`identity::expression`] of the array written)
    /// in the run's identity, so a resume refuses an unfinished output that another pipeline
    /// started, naming what differs.
    #[must_use]
    pub fn with_expression(mut self, expression: Value) -> Self {
        self.expression = expression;
        self
    }

    /// The identity of the run writing this output: its expression and its metadata.
    pub fn run_identity(&self) -> Value {
        identity::run_identity(self.expression.clone(), self.metadata.clone())
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

    /// Writes in flight this run keeps behind compute (0: each is stored before its write
    /// returns): the asked I/O concurrency, else the store's own, when the run reserved room.
    fn depth(&self, io: &IoContext) -> usize {
        match self.write_behind_depth() {
            0 => 0,
            _ if io.write_behind_bytes == 0 => 0,
            own => io.io_concurrency.unwrap_or(own),
        }
    }

    /// Stores one unit's encoded bytes (`None`: all fill value, so nothing is stored, as
    /// zarrs and zarr-python do), then lists it in the journal: behind compute when the run
    /// allows ([`Self::depth`]), the journal's entry then stored right after the chunk.
    fn store_unit(&self, unit: &[u64], bytes: Option<&[u8]>, io: &IoContext) -> Result<()> {
        let key = self.array.chunk_key(unit);
        let depth = self.depth(io);
        if let Some(bytes) = bytes.filter(|_| depth > 0) {
            let len = bytes.len() as u64;
            let admitted = self
                .behind
                .admit(len, io.write_behind_bytes, depth)
                .map_err(|e| self.store_error(e))?;
            if admitted {
                // The chunk object is its own journal entry ([`crate::journal`]).
                let puts = vec![(key.as_str().to_string(), Bytes::copy_from_slice(bytes))];
                let behind = Arc::clone(&self.behind);
                let chunk = key.as_str().to_string();
                self.store.put_behind(puts, move |outcome| {
                    behind.done(len, outcome.map_err(|e| format!("chunk {chunk}: {e}")));
                });
                return Ok(());
            }
        }
        self.behind.failed().map_err(|e| self.store_error(e))?;
        let stored = match bytes {
            Some(bytes) => self.store.put(key.as_str(), bytes),
            // Only a resumed run can find an older chunk there (the output starts empty).
            None if self.resuming() => self.store.delete(key.as_str()),
            None => Ok(()),
        };
        stored.map_err(|e| self.store_error(format!("chunk {}: {e}", key.as_str())))?;
        self.record(unit)
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

impl ZarrSink {
    /// Writes the array's metadata whole or not at all ([`publish_metadata`]): a run killed
    /// while it is written leaves no metadata, so the array neither opens half-described nor
    /// stops `--resume` from continuing.
    fn store_metadata_atomically(&self) -> Result<()> {
        let metadata = self.array.metadata().clone();
        publish_metadata(&self.store, |store| {
            ZArray::new_with_metadata(store, "/", metadata)
                .map_err(|e| e.to_string())?
                .store_metadata()
                .map_err(|e| e.to_string())
        })
    }

    /// Whether anything is stored at the output's place; a store that cannot be asked (a
    /// bucket that does not exist, refused credentials) is an error here, before anything is
    /// written.
    fn exists(&self) -> Result<bool> {
        self.store
            .is_nonempty()
            .map_err(|e| self.store_error(format!("cannot write there: {e}")))
    }
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

    fn write_encoded(&self, unit: &[u64], bytes: Option<&[u8]>, io: &IoContext) -> Result<()> {
        self.store_unit(unit, bytes, io)
    }

    fn write_behind_depth(&self) -> usize {
        if self.store.can_put_behind() {
            crate::remote::OBJECT_STORE_REQUESTS
        } else {
            0
        }
    }

    fn write_behind_peak_bytes(&self) -> u64 {
        self.behind.peak()
    }

    fn is_done(&self, unit: &[u64]) -> bool {
        // Asked for every unit written; only a resumed run has units done before it.
        self.resuming() && self.journal().was_done(unit)
    }

    fn validate(&self) -> Result<()> {
        let exists = self.exists()?;
        let resumable = exists && Journal::exists(&self.store);
        let path = || self.path.display().to_string();
        match self.overwrite {
            Overwrite::Refuse
                if resumable && Journal::mismatch(&self.store, &self.run_identity()).is_none() =>
            {
                Err(Error::UnfinishedRun {
                    path: path(),
                    stored: Journal::count_done(&self.store),
                })
            }
            Overwrite::Refuse if exists => Err(Error::OutputExists(path())),
            Overwrite::Resume if exists && !resumable => Err(Error::NotResumable {
                path: path(),
                reason: "it holds no unfinished chunkwise run (a complete array, or something \
                         else)"
                    .into(),
            }),
            _ => Ok(()),
        }
    }

    fn prepare(&self) -> Result<()> {
        // Checked again here: the output may have appeared since planning.
        self.validate()?;
        let mut journal = self.journal.write().unwrap_or_else(|p| p.into_inner());
        if self.overwrite == Overwrite::Resume && Journal::exists(&self.store) {
            return journal
                .resume(&self.run_identity())
                .map_err(|reason| Error::NotResumable {
                    path: self.path.display().to_string(),
                    reason,
                });
        }
        self.store
            .remove_all()
            .and_then(|()| self.store.create())
            .map_err(|e| self.store_error(format!("cannot replace: {e}")))?;
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
        let bytes = chunkwise_engine::dispatch!(Buffer, data, v => v.as_slice().into_array_bytes(self.array.data_type()))
            .map_err(|e| failed(&e))?;
        if bytes.is_fill_value(self.array.fill_value()) {
            // As zarrs and zarr-python do: a chunk of only the fill value is not stored.
            return self.store_unit(unit, None, io);
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
        self.store_unit(unit, Some(&encoded), io)
    }

    fn finish(&self) -> Result<()> {
        self.behind.drain().map_err(|e| self.store_error(e))?;
        self.store_metadata_atomically()
    }

    fn forget_progress(&self) -> Result<()> {
        self.journal
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .complete()
            .map_err(|e| self.store_error(format!("journal: {e}")))
    }

    fn resuming(&self) -> bool {
        self.overwrite == Overwrite::Resume
    }

    fn units_stored(&self) -> Option<u64> {
        // Writes still in flight count once stored (a failed one is not listed).
        let _ = self.behind.drain();
        Some(Journal::count_done(&self.store) as u64)
    }

    fn abort(&self) {
        // A resumable run keeps what it stored, journal included: the next --resume continues
        // from there. (Its metadata is there only when the run failed after finishing it; the
        // array is then complete.)
        let _ = self.behind.drain();
        if self.overwrite != Overwrite::Resume {
            if let Err(e) = self.store.remove_all() {
                tracing::warn!(output = %self.path.display(), error = %e, "cannot remove a failed run's output");
            }
        }
    }
}
