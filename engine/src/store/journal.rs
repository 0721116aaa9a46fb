//! The resume journal of a Zarr output being written: a marker holding the metadata the run will
//! write (so only the same pipeline and settings may resume it) and an append-only list of the
//! write units already stored. Chunk files are written atomically (temporary file, then rename)
//! and a unit is listed only after its rename, so every listed unit is complete; a line torn by a
//! crash does not parse and its unit is simply computed again. Both files are removed once the
//! array's metadata is written.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Marker file name: the metadata the interrupted run was going to write.
const MARKER: &str = ".chunkwise-run.json";
/// Journal file name: one `i,j,k` line per stored unit.
const DONE: &str = ".chunkwise-done";

/// The journal of one output directory.
#[derive(Debug)]
pub(crate) struct Journal {
    dir: PathBuf,
    file: Mutex<Option<File>>,
    done: HashSet<Vec<u64>>,
    /// Whether each entry is flushed to the disk before the run goes on.
    durable: bool,
}

impl Journal {
    pub(crate) fn new(dir: &Path, durable: bool) -> Self {
        Journal {
            dir: dir.to_path_buf(),
            file: Mutex::new(None),
            done: HashSet::new(),
            durable,
        }
    }

    /// True when `dir` holds an unfinished run's journal.
    pub(crate) fn exists(dir: &Path) -> bool {
        dir.join(MARKER).is_file()
    }

    /// Starts a fresh journal for a run that will write `metadata`.
    pub(crate) fn start(&mut self, metadata: &str) -> std::io::Result<()> {
        // The journal first, the marker last and whole (written aside, then renamed): a run
        // killed here leaves either no marker or a complete one over an empty journal.
        let file = File::create(self.dir.join(DONE))?;
        let partial = self.dir.join(format!("{MARKER}.partial"));
        std::fs::write(&partial, metadata)?;
        std::fs::rename(&partial, self.dir.join(MARKER))?;
        if self.durable {
            File::open(self.dir.join(MARKER))?.sync_all()?;
            File::open(&self.dir)?.sync_all()?;
        }
        *self.lock() = Some(file);
        self.done.clear();
        Ok(())
    }

    /// Continues an unfinished run's journal, which must have been started for `metadata`.
    ///
    /// # Errors
    /// A message when the marker differs (another pipeline or other settings) or the files
    /// cannot be read.
    pub(crate) fn resume(&mut self, metadata: &str) -> Result<(), String> {
        let marker = std::fs::read_to_string(self.dir.join(MARKER)).map_err(|e| e.to_string())?;
        if marker != metadata {
            return Err(
                "it was started by another pipeline (other ops, parameters or inputs) or with \
                 another shape, type, chunking or codec; use --overwrite to start again"
                    .into(),
            );
        }
        let listed = std::fs::read_to_string(self.dir.join(DONE)).unwrap_or_default();
        self.done = listed
            .lines()
            .filter(|l| l.ends_with(';'))
            .filter_map(|l| {
                l.trim_end_matches(';')
                    .split(',')
                    .map(|v| v.parse::<u64>().ok())
                    .collect::<Option<Vec<u64>>>()
            })
            .collect();
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join(DONE))
            .map_err(|e| e.to_string())?;
        *self.lock() = Some(file);
        Ok(())
    }

    /// Whether a unit was stored before this run.
    pub(crate) fn was_done(&self, unit: &[u64]) -> bool {
        self.done.contains(unit)
    }

    /// Notes that `unit` is stored (after its file was renamed into place).
    pub(crate) fn record(&self, unit: &[u64]) -> std::io::Result<()> {
        let line: Vec<String> = unit.iter().map(u64::to_string).collect();
        // One write per entry, starting a new line and ended by ';': a write torn by a crash
        // leaves a line without ';', which is ignored, and cannot run into the next entry.
        match self.lock().as_mut() {
            Some(file) => {
                file.write_all(format!("\n{};", line.join(",")).as_bytes())?;
                if self.durable {
                    file.sync_data()?;
                }
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// Removes the journal once the output is complete.
    pub(crate) fn complete(&self) -> std::io::Result<()> {
        *self.lock() = None;
        for name in [DONE, MARKER] {
            match std::fs::remove_file(self.dir.join(name)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<File>> {
        self.file.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resumed_journal_knows_the_units_stored_and_ignores_a_torn_line() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::new(dir.path(), true);
        j.start("{meta}").unwrap();
        j.record(&[0, 1]).unwrap();
        j.record(&[2, 3]).unwrap();
        drop(j);
        // A crash in the middle of a line.
        let mut f = OpenOptions::new()
            .append(true)
            .open(dir.path().join(DONE))
            .unwrap();
        f.write_all(b"\n4,5").unwrap();
        drop(f);
        let mut j = Journal::new(dir.path(), false);
        j.resume("{meta}").unwrap();
        j.record(&[6, 7]).unwrap();
        drop(j);
        let mut j = Journal::new(dir.path(), false);
        assert!(j.resume("{other}").is_err());
        j.resume("{meta}").unwrap();
        assert!(j.was_done(&[0, 1]) && j.was_done(&[2, 3]));
        assert!(!j.was_done(&[4, 5]));
        assert!(j.was_done(&[6, 7]), "an entry after a torn one");
        j.complete().unwrap();
        assert!(!Journal::exists(dir.path()));
    }
}
