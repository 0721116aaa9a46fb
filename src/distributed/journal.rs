//! Which write units the workers of a distributed run have stored.
//!
//! Every worker process appends to journal files of its own (one per array it writes:
//! `journal/<key>/<stage>-<index>-<host>-<pid>.log`), so no two processes ever write one file —
//! appends from several nodes to one file are not safe on NFS or Lustre. A unit is listed only
//! after its chunk file was renamed into place (the sink writes atomically), so a listed unit is
//! complete; a line cut short by a kill has no closing `;` and is ignored, and its unit is simply
//! computed again. A task whose units are all listed is skipped by every later worker, which is
//! what makes a rerun, a requeue or two elements given the same range harmless: the second writes
//! the same bytes to the same file by an atomic rename.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chunkwise_engine::store::{IoContext, Sink};
use chunkwise_engine::{ArrayMeta, Buffer, ChunkGrid, Region, Result};

use super::error::DistributedError;

/// The units listed in the journal files under `dir` (an array's journal folder) whose names
/// start with `prefix` (a worker reads only its own element's: elements never share a unit).
///
/// # Errors
/// [`DistributedError::WorkIo`] when a file cannot be read (a missing folder is no journal).
pub fn stored_units(dir: &Path, prefix: &str) -> Result<HashSet<Vec<u64>>, DistributedError> {
    let mut units = HashSet::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(units),
        Err(source) => {
            return Err(DistributedError::WorkIo {
                path: dir.to_path_buf(),
                source,
            })
        }
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !name.starts_with(prefix) || !name.ends_with(".log") {
            continue;
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|source| DistributedError::WorkIo { path, source })?;
        units.extend(text.lines().filter_map(parse_line));
    }
    Ok(units)
}

/// `i,j,k;` -> the unit; `None` for a torn or empty line.
fn parse_line(line: &str) -> Option<Vec<u64>> {
    line.strip_suffix(';')?
        .split(',')
        .map(|v| v.parse::<u64>().ok())
        .collect()
}

/// A sink that lists each unit it stores in this process's own journal file, and answers
/// [`Sink::is_done`] from what every process listed before it started.
#[derive(Debug)]
pub struct JournaledSink {
    inner: Arc<dyn Sink>,
    file: PathBuf,
    log: Mutex<Option<File>>,
    before: HashSet<Vec<u64>>,
}

impl JournaledSink {
    /// Wraps `inner`, journaling into `dir` under the file name `name` (`.log` is added), and
    /// taking as stored what the files starting with `prefix` list.
    ///
    /// # Errors
    /// [`DistributedError::WorkIo`] when the journal folder cannot be read.
    pub fn new(
        inner: Arc<dyn Sink>,
        dir: &Path,
        name: &str,
        prefix: &str,
    ) -> Result<JournaledSink, DistributedError> {
        Ok(JournaledSink {
            before: stored_units(dir, prefix)?,
            file: dir.join(format!("{name}.log")),
            log: Mutex::new(None),
            inner,
        })
    }

    fn record(&self, unit: &[u64]) -> Result<()> {
        let failed = |source| DistributedError::WorkIo {
            path: self.file.clone(),
            source,
        };
        let mut log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        if log.is_none() {
            if let Some(dir) = self.file.parent() {
                std::fs::create_dir_all(dir).map_err(failed)?;
            }
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.file)
                .map_err(failed)?;
            *log = Some(file);
        }
        let line: Vec<String> = unit.iter().map(u64::to_string).collect();
        if let Some(file) = log.as_mut() {
            // One write per entry, started on a new line and closed by ';' (see the module doc).
            file.write_all(format!("\n{};", line.join(",")).as_bytes())
                .map_err(failed)?;
        }
        Ok(())
    }
}

impl Sink for JournaledSink {
    fn meta(&self) -> &ArrayMeta {
        self.inner.meta()
    }

    fn write_grid(&self) -> ChunkGrid {
        self.inner.write_grid()
    }

    fn describe(&self) -> String {
        self.inner.describe()
    }

    fn location(&self) -> Option<PathBuf> {
        self.inner.location()
    }

    fn validate(&self) -> Result<()> {
        self.inner.validate()
    }

    /// Nothing to create: the array's folder appears with its first chunk, and the submitting
    /// process owns the array's life ([`chunkwise_engine::exec::execute_part`] never calls this).
    fn prepare(&self) -> Result<()> {
        Ok(())
    }

    fn write(&self, unit: &[u64], region: &Region, data: &Buffer, io: &IoContext) -> Result<()> {
        self.inner.write(unit, region, data, &stored_now(io))?;
        self.record(unit)
    }

    fn chunk_encoding(&self) -> Option<String> {
        self.inner.chunk_encoding()
    }

    fn write_encoded(&self, unit: &[u64], bytes: Option<&[u8]>, io: &IoContext) -> Result<()> {
        self.inner.write_encoded(unit, bytes, &stored_now(io))?;
        self.record(unit)
    }

    fn is_done(&self, unit: &[u64]) -> bool {
        self.before.contains(unit)
    }

    fn units_stored(&self) -> Option<u64> {
        Some(self.before.len() as u64)
    }

    fn resuming(&self) -> bool {
        true
    }

    fn finish(&self) -> Result<()> {
        self.inner.finish()
    }

    /// Keeps everything: another worker may be writing the same array.
    fn abort(&self) {}
}

/// `io` without writing behind: a unit is recorded as done here right after the inner sink's
/// write returns, so that write must have stored it.
fn stored_now(io: &IoContext) -> IoContext {
    IoContext {
        write_behind_bytes: 0,
        ..*io
    }
}
