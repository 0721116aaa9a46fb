//! Results kept between stages (pyramid levels, materialized stencil chains): one entry per
//! producer task, freed when its last consumer task has finished. In memory when the budget
//! allows; otherwise spilled, uncompressed, to a temporary folder that is removed when the run
//! ends, whether it succeeded or not.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::buffer::Buffer;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::geometry::{copy_buffer_region, ChunkGrid, Region};
use crate::spill::SpillDir;

enum Kept {
    Memory(Vec<Arc<Buffer>>),
    /// One file per output, with the type to read it back as.
    Disk(Vec<(PathBuf, DType)>),
}

struct Entry {
    kept: Kept,
    bytes: u64,
    consumers_left: u32,
}

/// Held results by global producer task id.
pub struct HeldStore {
    entries: Mutex<HashMap<u32, Entry>>,
    spill: SpillDir,
    spilled: std::sync::atomic::AtomicU64,
}

impl Default for HeldStore {
    fn default() -> Self {
        HeldStore {
            entries: Mutex::default(),
            spill: SpillDir::new("held results"),
            spilled: Default::default(),
        }
    }
}

impl HeldStore {
    /// Keeps `buffers` (one per held output of the task, C order over the task's region) until
    /// `consumers` tasks have released them: in memory, or on disk when `spill`. Returns the
    /// bytes now held in memory (0 when no one needs them, or when spilled).
    ///
    /// # Errors
    /// [`Error::Store`] when the spill folder cannot be written.
    pub fn put(&self, task: u32, buffers: Vec<Buffer>, consumers: u32, spill: bool) -> Result<u64> {
        if consumers == 0 {
            return Ok(0);
        }
        let bytes = buffers.iter().map(|b| b.nbytes() as u64).sum();
        let (kept, held) = if spill {
            self.spilled
                .fetch_add(bytes, std::sync::atomic::Ordering::Relaxed);
            (Kept::Disk(self.write(task, &buffers)?), 0)
        } else {
            (
                Kept::Memory(buffers.into_iter().map(Arc::new).collect()),
                bytes,
            )
        };
        let entry = Entry {
            kept,
            bytes: held,
            consumers_left: consumers,
        };
        self.lock().insert(task, entry);
        Ok(held)
    }

    /// Bytes written to disk so far.
    pub fn spilled_bytes(&self) -> u64 {
        self.spilled.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn write(&self, task: u32, buffers: &[Buffer]) -> Result<Vec<(PathBuf, DType)>> {
        buffers
            .iter()
            .enumerate()
            .map(|(k, b)| Ok((self.spill.write(&format!("{task}-{k}"), b)?, b.dtype())))
            .collect()
    }

    /// One consumer is done with `task`'s results; returns the bytes freed when it was the last.
    pub fn release(&self, task: u32) -> u64 {
        let mut entries = self.lock();
        let Some(entry) = entries.get_mut(&task) else {
            return 0;
        };
        entry.consumers_left -= 1;
        if entry.consumers_left > 0 {
            return 0;
        }
        let Some(entry) = entries.remove(&task) else {
            return 0;
        };
        if let Kept::Disk(files) = &entry.kept {
            for (path, _) in files {
                SpillDir::remove(path);
            }
        }
        entry.bytes
    }

    /// Assembles `region` of output `output` of a stage whose tasks form `grid` and start at
    /// global id `first_task`.
    ///
    /// # Errors
    /// [`Error::Invalid`] when a needed result is missing (a scheduling bug, reported rather than
    /// panicking); a spill file that cannot be read back.
    pub fn assemble(
        &self,
        grid: &ChunkGrid,
        first_task: u64,
        output: usize,
        region: &Region,
        dtype: DType,
    ) -> Result<Buffer> {
        let mut out = Buffer::zeros(dtype, region.num_elements() as usize);
        for idx in grid.chunks_overlapping(region) {
            let buffer = self.result(grid, first_task, output, &idx)?;
            copy_buffer_region(&buffer, &grid.chunk_region(&idx), &mut out, region)?;
        }
        Ok(out)
    }

    /// The kept result that is exactly `region`, shared rather than copied; `None` when
    /// `region` is not one task's whole region.
    ///
    /// # Errors
    /// As [`HeldStore::assemble`].
    pub fn whole(
        &self,
        grid: &ChunkGrid,
        first_task: u64,
        output: usize,
        region: &Region,
    ) -> Result<Option<Arc<Buffer>>> {
        let idx: Vec<u64> = region
            .start
            .iter()
            .zip(grid.chunk_shape())
            .map(|(s, c)| s / c)
            .collect();
        if grid.chunk_region(&idx) != *region {
            return Ok(None);
        }
        self.result(grid, first_task, output, &idx).map(Some)
    }

    /// Output `output` of the task at chunk `idx` of `grid`, from memory or its spill file.
    fn result(
        &self,
        grid: &ChunkGrid,
        first_task: u64,
        output: usize,
        idx: &[u64],
    ) -> Result<Arc<Buffer>> {
        let task = (first_task + grid.ravel(idx)) as u32;
        let missing = || Error::Invalid(format!("internal: result of task {task} is not kept"));
        let file = {
            let entries = self.lock();
            match entries.get(&task).map(|e| &e.kept) {
                Some(Kept::Memory(buffers)) => {
                    return buffers.get(output).cloned().ok_or_else(missing)
                }
                Some(Kept::Disk(files)) => files.get(output).cloned().ok_or_else(missing)?,
                None => return Err(missing()),
            }
        };
        Ok(Arc::new(self.spill.read(&file.0, file.1)?))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u32, Entry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}
