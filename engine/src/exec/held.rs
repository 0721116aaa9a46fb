//! Results kept in memory between stages (pyramid levels): one entry per producer task, freed
//! when its last consumer task has finished.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::buffer::Buffer;
use crate::error::{Error, Result};
use crate::geometry::{copy_buffer_region, ChunkGrid, Region};

struct Entry {
    buffers: Vec<Arc<Buffer>>,
    bytes: u64,
    consumers_left: u32,
}

/// Held results by global producer task id.
#[derive(Default)]
pub struct HeldStore {
    entries: Mutex<HashMap<u32, Entry>>,
}

impl HeldStore {
    /// Keeps `buffers` (one per held output of the task, C order over the task's region) until
    /// `consumers` tasks have released them. Returns the bytes now held (0 when no one needs it).
    pub fn put(&self, task: u32, buffers: Vec<Buffer>, consumers: u32) -> u64 {
        if consumers == 0 {
            return 0;
        }
        let bytes = buffers.iter().map(|b| b.nbytes() as u64).sum();
        let entry = Entry {
            buffers: buffers.into_iter().map(Arc::new).collect(),
            bytes,
            consumers_left: consumers,
        };
        self.lock().insert(task, entry);
        bytes
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
        entries.remove(&task).map_or(0, |e| e.bytes)
    }

    /// Assembles `region` of output `output` of a stage whose tasks form `grid` and start at
    /// global id `first_task`.
    ///
    /// # Errors
    /// [`Error::Invalid`] when a needed result is missing (a scheduling bug, reported rather than
    /// panicking).
    pub fn assemble(
        &self,
        grid: &ChunkGrid,
        first_task: u64,
        output: usize,
        region: &Region,
        dtype: crate::DType,
    ) -> Result<Buffer> {
        let mut out = Buffer::zeros(dtype, region.num_elements() as usize);
        for idx in grid.chunks_overlapping(region) {
            let linear = grid.ravel(&idx);
            let task = (first_task + linear) as u32;
            let buffer = self
                .lock()
                .get(&task)
                .and_then(|e| e.buffers.get(output).cloned())
                .ok_or_else(|| {
                    Error::Invalid(format!("internal: result of task {task} is not in memory"))
                })?;
            copy_buffer_region(&buffer, &grid.chunk_region(&idx), &mut out, region)?;
        }
        Ok(out)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u32, Entry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}
