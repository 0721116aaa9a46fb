//! The resume journal of a Zarr output being written: a marker holding the run's identity
//! ([`identity`]: the expression with every parameter, the inputs, the metadata the run
//! will write, and its SHA-256, so only the same computation may resume it) and an append-only
//! list of the write units already stored. Chunk files are written atomically (temporary file, then rename)
//! and a unit is listed only after its rename, so every listed unit is complete; a line torn by a
//! crash does not parse and its unit is simply computed again. Both files are removed once the
//! array's metadata is written.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde_json::{json, Value};

use chunkwise_engine::identity;

/// Marker file name: the interrupted run's identity.
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

    /// Starts a fresh journal for the run of identity `run`.
    pub(crate) fn start(&mut self, run: &Value) -> std::io::Result<()> {
        // The journal first, the marker last and whole (written aside, then renamed): a run
        // killed here leaves either no marker or a complete one over an empty journal.
        let file = File::create(self.dir.join(DONE))?;
        let partial = self.dir.join(format!("{MARKER}.partial"));
        let marker = json!({"identity_sha256": identity::hash(run), "identity": run});
        std::fs::write(&partial, serde_json::to_string_pretty(&marker)?)?;
        std::fs::rename(&partial, self.dir.join(MARKER))?;
        if self.durable {
            File::open(self.dir.join(MARKER))?.sync_all()?;
            File::open(&self.dir)?.sync_all()?;
        }
        *self.lock() = Some(file);
        self.done.clear();
        Ok(())
    }

    /// Why the unfinished run in `dir` is not the run of identity `run`; `None` when it is.
    pub(crate) fn mismatch(dir: &Path, run: &Value) -> Option<String> {
        let marker: Option<Value> = std::fs::read(dir.join(MARKER))
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok());
        let Some(marker) = marker.filter(|m| m["identity_sha256"].is_string()) else {
            return Some(
                "it was started by an earlier chunkwise, which recorded no run identity".into(),
            );
        };
        if marker["identity_sha256"].as_str() == Some(identity::hash(run).as_str()) {
            return None;
        }
        Some(
            identity::difference(&marker["identity"], run)
                .unwrap_or_else(|| "its run identity differs".into()),
        )
    }

    /// How many distinct units the run in `dir` listed as stored (a unit written again by a
    /// resumed run is listed twice).
    pub(crate) fn count_done(dir: &Path) -> usize {
        std::fs::read_to_string(dir.join(DONE))
            .unwrap_or_default()
            .lines()
            .filter(|l| l.ends_with(';'))
            .collect::<HashSet<&str>>()
            .len()
    }

    /// Continues an unfinished run's journal, which must have been started by the run of
    /// identity `run`.
    ///
    /// # Errors
    /// A message naming the first difference when another pipeline or other settings started
    /// it, or when the files cannot be read.
    pub(crate) fn resume(&mut self, run: &Value) -> Result<(), String> {
        if let Some(why) = Self::mismatch(&self.dir, run) {
            return Err(format!(
                "it was started by another pipeline or with other settings ({why})"
            ));
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

/// True when `path` holds the journal of a chunkwise run that a resume can continue (an
/// interrupted run, or one stopped after writing metadata but before its last step).
pub fn holds_unfinished_run(path: &Path) -> bool {
    Journal::exists(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resumed_journal_knows_the_units_stored_and_ignores_a_torn_line() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::new(dir.path(), true);
        j.start(&json!({"meta": 1})).unwrap();
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
        j.resume(&json!({"meta": 1})).unwrap();
        j.record(&[6, 7]).unwrap();
        drop(j);
        let mut j = Journal::new(dir.path(), false);
        assert!(j.resume(&json!({"meta": 2})).is_err());
        j.resume(&json!({"meta": 1})).unwrap();
        assert!(j.was_done(&[0, 1]) && j.was_done(&[2, 3]));
        assert!(!j.was_done(&[4, 5]));
        assert!(j.was_done(&[6, 7]), "an entry after a torn one");
        j.complete().unwrap();
        assert!(!Journal::exists(dir.path()));
    }
}
