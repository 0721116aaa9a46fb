//! Where data comes from and goes to: the [`Source`] and [`Sink`] traits the executor sees, with
//! in-memory implementations and the decoded-chunk cache a stored source can keep. Stored arrays
//! (Zarr on files, object stores, HTTP) are in the `chunkwise-store` crate: the engine knows them
//! only through these traits, as it knows operations only through [`crate::Op`].

mod chunk_cache;
mod memory;

use std::fmt::Debug;

pub use chunk_cache::{ChunkCache, Spilled};
pub use memory::{MemorySink, MemorySource};

use crate::buffer::Buffer;
use crate::error::Result;
use crate::geometry::{ChunkGrid, Region};
use crate::meta::ArrayMeta;

/// Per-call I/O settings chosen by the executor.
#[derive(Clone, Copy, Debug, Default)]
pub struct IoContext {
    /// Threads a single read or write may use for codec work. The executor sets this so that its
    /// own workers times this stays within the core count (zarrs would otherwise use every core
    /// from every worker).
    pub codec_threads: usize,
    /// Bytes each source may keep of decoded chunks for reads that span chunks (neighbouring
    /// stencil tasks share their halo chunks): the run's reservation shared among the sources
    /// that cache, so together they stay within it; 0 disables the cache.
    pub cache_bytes: u64,
    /// Requests a store may keep in flight at once, when the user chose (`None`: each store
    /// picks what suits it; see [`Sink::write_behind_depth`]).
    pub io_concurrency: Option<usize>,
    /// Bytes each sink that writes behind ([`Sink::write_behind_depth`]) may hold in writes it
    /// accepted but has not stored yet: the run's reservation for them, shared among those
    /// sinks, so compute goes on while requests are in flight and the memory limit still holds;
    /// 0: every write is stored before it returns.
    pub write_behind_bytes: u64,
    /// Bytes each source that reads ahead ([`Source::prefetch_depth`]) may hold in chunks asked
    /// for before a task needs them: the run's reservation for them, shared among those
    /// sources; 0: every chunk is read when a task asks for it.
    pub prefetch_bytes: u64,
}

/// An array the graph reads from.
pub trait Source: Send + Sync + Debug {
    /// Shape, chunking and type.
    fn meta(&self) -> &ArrayMeta;

    /// A short label for plans and errors (the path, or `memory`).
    fn describe(&self) -> String;

    /// What decides the values read, for the run's identity ([`crate::identity`]): where the
    /// data lives (`"location"`) and whatever else fixes its contents (a stored array's
    /// metadata; an in-memory array's hash). A resumed run whose inputs give another identity
    /// is refused.
    fn identity(&self) -> serde_json::Value;

    /// Where the data lives, when it is stored: a folder or a URL (used to refuse writing over
    /// an input).
    fn location(&self) -> Option<std::path::PathBuf> {
        None
    }

    /// How stored chunks are encoded (format, type, fill value, codecs, chunk shape), when the
    /// source is stored: a sink with the same encoding can take its chunks as stored bytes.
    fn chunk_encoding(&self) -> Option<String> {
        None
    }

    /// The stored bytes of chunk `chunk` (`None` when the chunk is not stored: all fill value).
    ///
    /// # Errors
    /// I/O failures; [`crate::Error::Invalid`] for sources without stored chunks.
    fn encoded_chunk(&self, _chunk: &[u64]) -> Result<Option<Vec<u8>>> {
        Err(crate::Error::Invalid(
            "this source has no stored chunks".into(),
        ))
    }

    /// Decodes stored bytes of chunk `chunk` (or makes the fill-value chunk for `None`), clipped
    /// to the array bounds.
    ///
    /// # Errors
    /// A corrupt chunk.
    fn decode_chunk(&self, _chunk: &[u64], _bytes: Option<&[u8]>) -> Result<Buffer> {
        Err(crate::Error::Invalid(
            "this source has no stored chunks".into(),
        ))
    }

    /// Reads `region` (inside the array bounds) as a C-order buffer.
    ///
    /// # Errors
    /// [`crate::Error::Task`]-ready causes: a missing or corrupt chunk, an I/O failure.
    fn read(&self, region: &Region, io: &IoContext) -> Result<Buffer>;

    /// `region` (inside one stored chunk) as the decoded chunk, or the part of it, that this
    /// source keeps for overlapping reads anyway: the data's own region and the data, shared
    /// rather than copied out, so a piecewise op ([`crate::Op::piecewise`]) copies each piece
    /// once, not twice (a rechunk's first pass cuts every slab into 64 pieces). `None` when the
    /// source keeps no such chunk for `region`: [`Source::read`] it then.
    ///
    /// # Errors
    /// As [`Source::read`].
    fn read_shared(
        &self,
        _region: &Region,
        _io: &IoContext,
    ) -> Result<Option<(Region, std::sync::Arc<Buffer>)>> {
        Ok(None)
    }

    /// Announces, before a run, one [`Source::read`] of `region` that the run will make, so a
    /// source that keeps decoded chunks for overlapping reads can drop each chunk after its last
    /// reader instead of keeping it until it is evicted. True when that read will go through
    /// such a cache (so the run reserves memory for one).
    fn expect_read(&self, _region: &Region) -> bool {
        false
    }

    /// True when one read of a box spanning several chunks costs less than reading them one by
    /// one (a sharded array: one call reads the shard index once), so ops asking for one box per
    /// chunk are handed one shared read of the whole.
    fn reads_whole_boxes(&self) -> bool {
        false
    }

    /// How many stored chunks this source reads ahead of its reads when given
    /// [`IoContext::prefetch_bytes`] (an object store, whose requests take tens of
    /// milliseconds each); 0 (the default): none. Each such chunk is counted at the size of
    /// [`Source::meta`]'s chunk.
    fn prefetch_depth(&self) -> usize {
        0
    }

    /// Forgets the reads announced so far (a failed run does not make them all) and drops what a
    /// cache kept for them, spilled copies included. Called once per source when a run starts
    /// and when it ends, whatever the outcome. Two runs reading one source at the same time
    /// would forget each other's reads: the cache is meant for one run at a time.
    fn forget_reads(&self) {}

    /// The bytes of decoded chunks this source's cache needs at once for the reads announced
    /// so far by `tasks` tasks, when a chunk decoded for one task is kept whole for another
    /// only if that one comes within the next `tasks_ahead` tasks (0 without a cache; see
    /// [`ChunkCache::working_set_bytes`]).
    fn cache_working_set(&self, _tasks: u64, _tasks_ahead: u64) -> u64 {
        0
    }

    /// The most bytes of decoded chunks this source's cache held at once since the current run
    /// began (0 without a cache).
    fn cache_peak_bytes(&self) -> u64 {
        0
    }

    /// The most bytes of chunks read ahead ([`Source::prefetch_depth`]) this source held at
    /// once, on their way or arrived, since the current run began, each counted as
    /// [`IoContext::prefetch_bytes`] counts it (0 without reads ahead).
    fn read_ahead_peak_bytes(&self) -> u64 {
        0
    }
}

/// An array the graph writes to.
///
/// Lifecycle: [`Sink::prepare`] once before any write, [`Sink::write`] once per write unit (from
/// any thread, never two for one unit), then [`Sink::finish`] on success or [`Sink::abort`] on
/// failure.
pub trait Sink: Send + Sync + Debug {
    /// Shape, chunking and type of the array being written.
    fn meta(&self) -> &ArrayMeta;

    /// The grid of independently writable units: the chunk grid, or the shard grid when sharded
    /// (two tasks must never write into one shard).
    fn write_grid(&self) -> ChunkGrid;

    /// A short label for plans and errors.
    fn describe(&self) -> String;

    /// Where the data is written, when it is stored: a folder or a URL.
    fn location(&self) -> Option<std::path::PathBuf> {
        None
    }

    /// Checks that the sink can be written (e.g. the output does not exist, or may be replaced).
    /// Called during planning, before anything is created.
    ///
    /// # Errors
    /// [`crate::Error::OutputExists`] and similar.
    fn validate(&self) -> Result<()>;

    /// Creates the destination. Called once, after planning succeeded.
    ///
    /// # Errors
    /// Store errors.
    fn prepare(&self) -> Result<()>;

    /// Writes one unit: `region` is the unit's region clipped to the array, `data` its C-order
    /// contents.
    ///
    /// # Errors
    /// Encoding or store errors.
    fn write(&self, unit: &[u64], region: &Region, data: &Buffer, io: &IoContext) -> Result<()>;

    /// How chunks are encoded (see [`Source::chunk_encoding`]); `None` when not stored.
    fn chunk_encoding(&self) -> Option<String> {
        None
    }

    /// Writes one unit as already-encoded bytes (`None`: the unit is all fill value).
    ///
    /// # Errors
    /// Store errors; [`crate::Error::Invalid`] for sinks that store nothing.
    fn write_encoded(&self, _unit: &[u64], _bytes: Option<&[u8]>, _io: &IoContext) -> Result<()> {
        Err(crate::Error::Invalid(
            "this sink does not store encoded chunks".into(),
        ))
    }

    /// How many writes this sink keeps in flight behind compute when given
    /// [`IoContext::write_behind_bytes`] (an object store, whose requests take tens of
    /// milliseconds each); 0 (the default): every write is stored before it returns. Writes
    /// still in flight are stored before [`Sink::finish`] writes the metadata, and a unit is
    /// listed for a resume only once stored.
    fn write_behind_depth(&self) -> usize {
        0
    }

    /// The most bytes of writes accepted but not yet stored ([`Sink::write_behind_depth`])
    /// this sink held at once during its run (0 without writes behind).
    fn write_behind_peak_bytes(&self) -> u64 {
        0
    }

    /// Whether `unit` was stored completely by an interrupted run this one resumes (its task
    /// need not run again).
    fn is_done(&self, _unit: &[u64]) -> bool {
        false
    }

    /// How many write units are stored so far, this run's and a resumed run's (asked once a
    /// run is cancelled, to say how far it got); `None` when the sink keeps no count.
    fn units_stored(&self) -> Option<u64> {
        None
    }

    /// True when this run continues an interrupted one ([`Sink::is_done`] may then say yes).
    fn resuming(&self) -> bool {
        false
    }

    /// Marks the output complete (for Zarr: writes the metadata, so a reader never sees a
    /// half-written array as valid). What a resume would need stays until
    /// [`Sink::forget_progress`].
    ///
    /// # Errors
    /// Store errors.
    fn finish(&self) -> Result<()>;

    /// Drops what a resume would need (the journal), once every output of the run is finished
    /// and whatever the caller writes last is written: a run killed before that point is
    /// resumed, finished outputs included, rather than refused as complete.
    ///
    /// # Errors
    /// Store errors.
    fn forget_progress(&self) -> Result<()> {
        Ok(())
    }

    /// Removes what a failed run wrote.
    fn abort(&self);
}
