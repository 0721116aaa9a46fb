//! A place a group of outputs is written to (a pyramid's folder of levels), local or in an
//! object store, for callers that check, read and remove it as a whole. The arrays inside are
//! written by their own sinks; this is what lies around them.

use std::path::Path;

use chunkwise_engine::{Error, Result};

use crate::output::OutputStore;

/// A local folder or an object-store prefix that holds (or will hold) several outputs.
#[derive(Debug)]
pub struct OutputPlace {
    store: OutputStore,
    path: String,
}

impl OutputPlace {
    /// The place at `path`, a folder or a bucket URL; nothing is asked of the store yet.
    ///
    /// # Errors
    /// [`Error::Invalid`] for a read-only location (`http(s)://`), an unknown scheme, or a kind
    /// of store this build does not include.
    pub fn open(path: &Path) -> Result<Self> {
        Ok(Self {
            store: OutputStore::open(path, false)?,
            path: path.display().to_string(),
        })
    }

    /// Whether something is there: a local path that exists (an empty folder too), or any
    /// object under the prefix (an object store has no empty folders).
    ///
    /// # Errors
    /// [`Error::Store`] when the store cannot be asked (a bucket that does not exist, refused
    /// credentials).
    pub fn exists(&self) -> Result<bool> {
        match self.store.local_dir() {
            Some(dir) => Ok(dir.exists()),
            None => self.store.is_nonempty().map_err(|e| self.failed(e)),
        }
    }

    /// Whether anything is stored inside: a folder with entries, or any object.
    ///
    /// # Errors
    /// [`Error::Store`] when the store cannot be asked.
    pub fn is_nonempty(&self) -> Result<bool> {
        self.store.is_nonempty().map_err(|e| self.failed(e))
    }

    /// The bytes of `key` inside (`zarr.json`, `0/zarr.json`), `None` when absent.
    ///
    /// # Errors
    /// [`Error::Store`] when the store cannot be read.
    pub fn read(&self, key: &str) -> Result<Option<Vec<u8>>> {
        self.store.get(key).map_err(|e| self.failed(e))
    }

    /// Removes everything there.
    ///
    /// # Errors
    /// [`Error::Store`] when something cannot be removed.
    pub fn remove(&self) -> Result<()> {
        self.store
            .remove_all()
            .map_err(|e| self.failed(format!("cannot remove: {e}")))
    }

    fn failed(&self, detail: String) -> Error {
        Error::Store {
            path: self.path.clone(),
            detail,
        }
    }
}
