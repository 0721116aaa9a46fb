//! The resume journal of a Zarr output being written: a marker holding the run's identity
//! ([`identity`]: the expression with every parameter, the inputs, the metadata the run
//! will write, and its SHA-256, so only the same computation may resume it) and the list of the
//! write units already stored. A unit is listed only after its chunk is stored whole (a file
//! renamed into place, or an object PUT), so every listed unit is complete. Both are removed once
//! the array's metadata is written.
//!
//! One journal, two ways to keep the list ([`OutputStore`]): in a local folder an append-only
//! file (a line torn by a crash does not parse and its unit is simply computed again); in an
//! object store nothing beside the chunks: a PUT is atomic, so every chunk object there is
//! stored whole and the chunk objects themselves are the list, read when a run resumes. (An
//! empty object per unit used to list it: one more request per chunk, which on a copy was half
//! the PUTs. A unit of only the fill value stores no chunk, so a resume computes it again.)

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use chunkwise_engine::identity;

use crate::output::OutputStore;

/// Marker name: the interrupted run's identity.
const MARKER: &str = ".chunkwise-run.json";
/// The local list of stored units: a file of `i,j,k;` lines.
const DONE: &str = ".chunkwise-done";

/// A unit's chunk key relative to the output (`c/0/1/2`): how an object store's list is read.
pub(crate) type KeyOf = Box<dyn Fn(&[u64]) -> String + Send + Sync>;

/// The journal of one output.
pub(crate) struct Journal {
    store: Arc<OutputStore>,
    key_of: KeyOf,
    /// The local list, open for appending once the journal is started or resumed.
    file: Mutex<Option<File>>,
    /// Whether units are listed (the journal was started or resumed).
    recording: bool,
    /// Units stored before this run (a local journal).
    done: HashSet<Vec<u64>>,
    /// Object keys stored before this run (an object store's journal).
    stored_keys: HashSet<String>,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal")
            .field("store", &self.store)
            .field("recording", &self.recording)
            .finish_non_exhaustive()
    }
}

impl Journal {
    /// The journal of the output in `store`, whose unit `u` is stored at `key_of(u)`.
    pub(crate) fn new(store: Arc<OutputStore>, key_of: KeyOf) -> Self {
        Journal {
            store,
            key_of,
            file: Mutex::new(None),
            recording: false,
            done: HashSet::new(),
            stored_keys: HashSet::new(),
        }
    }

    /// True when `store` holds an unfinished run's journal.
    pub(crate) fn exists(store: &OutputStore) -> bool {
        matches!(store.get(MARKER), Ok(Some(_)))
    }

    /// Starts a fresh journal for the run of identity `run`.
    ///
    /// # Errors
    /// The store's failure.
    pub(crate) fn start(&mut self, run: &Value) -> Result<(), String> {
        // The list first, the marker last and whole: a run killed here leaves either no marker
        // or a complete one over an empty list. (An object store's list starts empty: the
        // output's prefix was cleared before.)
        let file = match self.store.local_dir() {
            Some(dir) => Some(File::create(dir.join(DONE)).map_err(|e| e.to_string())?),
            None => None,
        };
        let marker = json!({"identity_sha256": identity::hash(run), "identity": run});
        let text = serde_json::to_string_pretty(&marker).map_err(|e| e.to_string())?;
        self.store.put(MARKER, text.as_bytes())?;
        *self.lock() = file;
        self.recording = true;
        self.done.clear();
        self.stored_keys.clear();
        Ok(())
    }

    /// Why the unfinished run in `store` is not the run of identity `run`; `None` when it is.
    pub(crate) fn mismatch(store: &OutputStore, run: &Value) -> Option<String> {
        let marker: Option<Value> = store
            .get(MARKER)
            .ok()
            .flatten()
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

    /// The units the run in the local folder `dir` listed as stored.
    fn listed(dir: &Path) -> HashSet<Vec<u64>> {
        std::fs::read_to_string(dir.join(DONE))
            .unwrap_or_default()
            .lines()
            .filter(|l| l.ends_with(';'))
            .filter_map(|l| {
                l.trim_end_matches(';')
                    .split(',')
                    .map(|v| v.parse::<u64>().ok())
                    .collect::<Option<Vec<u64>>>()
            })
            .collect()
    }

    /// The chunk objects in the object store `store`: every key but the metadata and the
    /// journal's marker (names starting with `.`, and `zarr.json`).
    fn stored_objects(store: &OutputStore) -> HashSet<String> {
        store
            .list_all()
            .unwrap_or_default()
            .into_iter()
            .filter(|key| {
                let name = key.rsplit('/').next().unwrap_or(key);
                !name.starts_with('.') && name != "zarr.json"
            })
            .collect()
    }

    /// How many distinct units the run in `store` stored.
    pub(crate) fn count_done(store: &OutputStore) -> usize {
        match store.local_dir() {
            Some(dir) => Self::listed(dir).len(),
            None => Self::stored_objects(store).len(),
        }
    }

    /// Continues an unfinished run's journal, which must have been started by the run of
    /// identity `run`.
    ///
    /// # Errors
    /// A message naming the first difference when another pipeline or other settings started
    /// it, or when the list cannot be opened.
    pub(crate) fn resume(&mut self, run: &Value) -> Result<(), String> {
        if let Some(why) = Self::mismatch(&self.store, run) {
            return Err(format!(
                "it was started by another pipeline or with other settings ({why})"
            ));
        }
        let file = match self.store.local_dir() {
            Some(dir) => Some(
                OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(dir.join(DONE))
                    .map_err(|e| e.to_string())?,
            ),
            None => None,
        };
        match self.store.local_dir() {
            Some(dir) => self.done = Self::listed(dir),
            None => self.stored_keys = Self::stored_objects(&self.store),
        }
        *self.lock() = file;
        self.recording = true;
        Ok(())
    }

    /// Whether a unit was stored before this run.
    pub(crate) fn was_done(&self, unit: &[u64]) -> bool {
        match self.store.local_dir() {
            Some(_) => self.done.contains(unit),
            None => self.stored_keys.contains(&(self.key_of)(unit)),
        }
    }

    /// Notes that `unit` is stored (after its chunk was stored whole).
    ///
    /// # Errors
    /// The store's failure.
    pub(crate) fn record(&self, unit: &[u64]) -> Result<(), String> {
        if !self.recording {
            return Ok(());
        }
        let mut file = self.lock();
        match file.as_mut() {
            // One write per entry, starting a new line and ended by ';': a write torn by a
            // crash leaves a line without ';', which is ignored, and cannot run into the next
            // entry.
            Some(file) => {
                let entry: Vec<String> = unit.iter().map(u64::to_string).collect();
                file.write_all(format!("\n{};", entry.join(",")).as_bytes())
                    .map_err(|e| e.to_string())?;
                if self.store.durable() {
                    file.sync_data().map_err(|e| e.to_string())?;
                }
                Ok(())
            }
            // An object store: the chunk object is the entry.
            None => Ok(()),
        }
    }

    /// Removes the journal once the output is complete: the list, then the marker.
    ///
    /// # Errors
    /// The store's failure.
    pub(crate) fn complete(&mut self) -> Result<(), String> {
        *self.lock() = None;
        self.recording = false;
        if self.store.local_dir().is_some() {
            self.store.remove_under(DONE)?;
        }
        self.store.delete(MARKER)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<File>> {
        self.file.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// True when `path` holds the journal of a chunkwise run that a resume can continue (an
/// interrupted run, or one stopped after writing metadata but before its last step).
pub fn holds_unfinished_run(path: &Path) -> bool {
    OutputStore::open(path, false).is_ok_and(|store| Journal::exists(&store))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(dir: &Path, durable: bool) -> Arc<OutputStore> {
        Arc::new(OutputStore::open(dir, durable).unwrap())
    }

    fn key_of() -> KeyOf {
        Box::new(|unit| {
            let parts: Vec<String> = unit.iter().map(u64::to_string).collect();
            format!("c/{}", parts.join("/"))
        })
    }

    #[cfg(feature = "s3")]
    #[test]
    fn an_object_stores_journal_is_its_chunk_objects() {
        let store = Arc::new(OutputStore::Object {
            storage: crate::remote::ObjectStorage::in_memory(),
            prefix: "out.zarr".into(),
            url: "memory://out.zarr".into(),
        });
        let mut j = Journal::new(store.clone(), key_of());
        j.start(&json!({"meta": 1})).unwrap();
        store.put("c/0/1", b"chunk").unwrap();
        j.record(&[0, 1]).unwrap();
        store.put("c/2/3", b"chunk").unwrap();
        j.record(&[2, 3]).unwrap();
        assert_eq!(
            store.list_all().unwrap().len(),
            3,
            "the marker and the two chunks, nothing listing them"
        );
        let mut j = Journal::new(store.clone(), key_of());
        assert!(j.resume(&json!({"meta": 2})).is_err());
        j.resume(&json!({"meta": 1})).unwrap();
        assert!(j.was_done(&[0, 1]) && j.was_done(&[2, 3]));
        assert!(!j.was_done(&[4, 5]));
        assert_eq!(Journal::count_done(&store), 2);
        j.complete().unwrap();
        assert!(!Journal::exists(&store));
        assert_eq!(store.list_all().unwrap(), vec!["c/0/1", "c/2/3"]);
    }

    #[test]
    fn a_resumed_journal_knows_the_units_stored_and_ignores_a_torn_line() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::new(local(dir.path(), true), key_of());
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
        let mut j = Journal::new(local(dir.path(), false), key_of());
        j.resume(&json!({"meta": 1})).unwrap();
        j.record(&[6, 7]).unwrap();
        drop(j);
        let mut j = Journal::new(local(dir.path(), false), key_of());
        assert!(j.resume(&json!({"meta": 2})).is_err());
        j.resume(&json!({"meta": 1})).unwrap();
        assert!(j.was_done(&[0, 1]) && j.was_done(&[2, 3]));
        assert!(!j.was_done(&[4, 5]));
        assert!(j.was_done(&[6, 7]), "an entry after a torn one");
        assert_eq!(Journal::count_done(&j.store), 3);
        j.complete().unwrap();
        assert!(!Journal::exists(&j.store));
        assert!(!dir.path().join(DONE).exists());
    }
}
