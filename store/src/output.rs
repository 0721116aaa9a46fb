//! Where an output's objects go: a local folder, or a key prefix in an object store. The sink,
//! its metadata and its resume journal write through this one interface, so the guarantees they
//! rely on hold on both: every `put` appears whole or not at all (a local file through a
//! temporary file and a rename; an object through one PUT, which is atomic by nature), and
//! removing the output removes only what lies under its own folder or prefix.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use zarrs::storage::{
    Bytes, ListableStorageTraits, ReadableStorageTraits, StorageError, StoreKey, StorePrefix,
    WritableStorageTraits,
};

use chunkwise_engine::{Error, Result};

use crate::files::{dir_is_nonempty, write_atomically};
use crate::location::Location;
use crate::remote::{self, ObjectStorage};

/// The place an output is written to.
pub(crate) enum OutputStore {
    /// A folder on the local filesystem.
    Local {
        /// The array's folder.
        dir: PathBuf,
        /// Flush each file (and its folder) before a write returns.
        durable: bool,
    },
    /// A key prefix in an object store.
    Object {
        /// The bucket.
        storage: Arc<ObjectStorage>,
        /// The array's prefix in it (no leading or trailing `/`; may be empty).
        prefix: String,
        /// The URL the user gave, for messages.
        url: String,
    },
}

impl std::fmt::Debug for OutputStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl OutputStore {
    /// The output store for `path` (a folder or a bucket URL). Nothing is created or asked of
    /// the store yet.
    ///
    /// # Errors
    /// [`Error::Invalid`] for a read-only location (`http(s)://`), an unknown scheme, or a kind
    /// of store this build does not include.
    pub(crate) fn open(path: &Path, durable: bool) -> Result<Self> {
        match Location::parse(path)? {
            Location::Local(dir) => Ok(OutputStore::Local { dir, durable }),
            Location::Http(url) => Err(Error::Invalid(format!(
                "cannot write to {url}: http:// and https:// are read only; write to a local \
                 path or an object store (s3://)"
            ))),
            location => {
                let (storage, prefix) = remote::writable(&location)?;
                Ok(OutputStore::Object {
                    storage,
                    prefix,
                    url: path.display().to_string(),
                })
            }
        }
    }

    /// The folder or URL, for messages.
    pub(crate) fn describe(&self) -> String {
        match self {
            OutputStore::Local { dir, .. } => dir.display().to_string(),
            OutputStore::Object { url, .. } => url.clone(),
        }
    }

    fn object_key(prefix: &str, key: &str) -> std::result::Result<StoreKey, String> {
        let full = if prefix.is_empty() {
            key.to_string()
        } else {
            format!("{prefix}/{key}")
        };
        StoreKey::new(full).map_err(|e| e.to_string())
    }

    fn object_prefix(prefix: &str, sub: &str) -> std::result::Result<StorePrefix, String> {
        let full: String = [prefix, sub]
            .iter()
            .filter(|p| !p.is_empty())
            .map(|p| format!("{}/", p.trim_matches('/')))
            .collect();
        StorePrefix::new(full).map_err(|e| e.to_string())
    }

    /// Stores `bytes` at `key` (relative to the output), whole or not at all.
    ///
    /// # Errors
    /// The store's failure, on one line.
    pub(crate) fn put(&self, key: &str, bytes: &[u8]) -> std::result::Result<(), String> {
        match self {
            OutputStore::Local { dir, durable } => {
                write_atomically(&dir.join(key), bytes, *durable).map_err(|e| e.to_string())
            }
            OutputStore::Object {
                storage, prefix, ..
            } => storage
                .set(
                    &Self::object_key(prefix, key)?,
                    Bytes::copy_from_slice(bytes),
                )
                .map_err(folded),
        }
    }

    /// Whether [`OutputStore::put_behind`] can store in the background (an object store).
    pub(crate) fn can_put_behind(&self) -> bool {
        matches!(self, OutputStore::Object { .. })
    }

    /// Starts storing each `(key, bytes)` of `puts` in turn in the background and returns at
    /// once; `then` gets the outcome, on one line (the first failure stops the rest). A local
    /// folder stores them before returning.
    pub(crate) fn put_behind(
        &self,
        puts: Vec<(String, Bytes)>,
        then: impl FnOnce(std::result::Result<(), String>) + Send + 'static,
    ) {
        match self {
            OutputStore::Local { .. } => {
                then(
                    puts.iter()
                        .try_for_each(|(key, bytes)| self.put(key, bytes)),
                );
            }
            OutputStore::Object {
                storage, prefix, ..
            } => {
                let keyed: std::result::Result<Vec<(StoreKey, Bytes)>, String> = puts
                    .into_iter()
                    .map(|(key, bytes)| Ok((Self::object_key(prefix, &key)?, bytes)))
                    .collect();
                match keyed {
                    Ok(keyed) => {
                        remote::set_behind(storage, keyed, move |r| then(r.map_err(folded)))
                    }
                    Err(e) => then(Err(e)),
                }
            }
        }
    }

    /// The bytes at `key`, `None` when there is nothing there.
    ///
    /// # Errors
    /// The store's failure, on one line.
    pub(crate) fn get(&self, key: &str) -> std::result::Result<Option<Vec<u8>>, String> {
        match self {
            OutputStore::Local { dir, .. } => match std::fs::read(dir.join(key)) {
                Ok(bytes) => Ok(Some(bytes)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e.to_string()),
            },
            OutputStore::Object {
                storage, prefix, ..
            } => storage
                .get(&Self::object_key(prefix, key)?)
                .map(|b| b.map(|b| b.to_vec()))
                .map_err(folded),
        }
    }

    /// Removes `key`; nothing there is not an error.
    ///
    /// # Errors
    /// The store's failure, on one line.
    pub(crate) fn delete(&self, key: &str) -> std::result::Result<(), String> {
        match self {
            OutputStore::Local { dir, .. } => match std::fs::remove_file(dir.join(key)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.to_string()),
                _ => Ok(()),
            },
            OutputStore::Object {
                storage, prefix, ..
            } => storage
                .erase(&Self::object_key(prefix, key)?)
                .map_err(folded),
        }
    }

    /// Every key under the output, relative to it, at any depth (`c/0/1/2`); a local folder's
    /// files are not listed this way (its journal keeps its own list): empty.
    ///
    /// # Errors
    /// The store's failure, on one line.
    pub(crate) fn list_all(&self) -> std::result::Result<Vec<String>, String> {
        match self {
            OutputStore::Local { .. } => Ok(Vec::new()),
            OutputStore::Object {
                storage, prefix, ..
            } => {
                let under = Self::object_prefix(prefix, "")?;
                let listed = storage.list_prefix(&under).map_err(folded)?;
                Ok(listed
                    .iter()
                    .filter_map(|k| k.as_str().strip_prefix(under.as_str()))
                    .map(str::to_string)
                    .collect())
            }
        }
    }

    /// Whether anything is stored at the output's place.
    ///
    /// # Errors
    /// The store's failure, on one line (a bucket that does not exist, refused credentials).
    pub(crate) fn is_nonempty(&self) -> std::result::Result<bool, String> {
        match self {
            OutputStore::Local { dir, .. } => Ok(dir_is_nonempty(dir)),
            OutputStore::Object {
                storage, prefix, ..
            } => {
                let listed = storage
                    .list_dir(&Self::object_prefix(prefix, "")?)
                    .map_err(folded)?;
                Ok(!listed.keys().is_empty() || !listed.prefixes().is_empty())
            }
        }
    }

    /// Makes the place ready for writes (a local folder is created; an object store needs
    /// nothing).
    ///
    /// # Errors
    /// The filesystem's failure.
    pub(crate) fn create(&self) -> std::result::Result<(), String> {
        match self {
            OutputStore::Local { dir, .. } => {
                std::fs::create_dir_all(dir).map_err(|e| e.to_string())
            }
            OutputStore::Object { .. } => Ok(()),
        }
    }

    /// Removes everything at the output's place: its folder, or every object under its prefix
    /// (never a neighbour whose name merely starts the same).
    ///
    /// # Errors
    /// The store's failure, on one line.
    pub(crate) fn remove_all(&self) -> std::result::Result<(), String> {
        self.remove_under("")
    }

    /// Removes `sub` (a file or folder of the output; all objects under that prefix), or the
    /// whole output when `sub` is empty.
    ///
    /// # Errors
    /// The store's failure, on one line.
    pub(crate) fn remove_under(&self, sub: &str) -> std::result::Result<(), String> {
        match self {
            OutputStore::Local { dir, .. } => {
                let path = if sub.is_empty() {
                    dir.clone()
                } else {
                    dir.join(sub)
                };
                let removed = if path.is_dir() {
                    std::fs::remove_dir_all(&path)
                } else {
                    std::fs::remove_file(&path)
                };
                match removed {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.to_string()),
                    _ => Ok(()),
                }
            }
            OutputStore::Object {
                storage, prefix, ..
            } => storage
                .erase_prefix(&Self::object_prefix(prefix, sub)?)
                .map_err(folded),
        }
    }

    /// The folder, for a local output.
    pub(crate) fn local_dir(&self) -> Option<&Path> {
        match self {
            OutputStore::Local { dir, .. } => Some(dir),
            OutputStore::Object { .. } => None,
        }
    }

    /// Whether local writes are flushed to the disk before they return.
    pub(crate) fn durable(&self) -> bool {
        matches!(self, OutputStore::Local { durable: true, .. })
    }
}

fn folded(e: StorageError) -> String {
    remote::one_line(&e.to_string())
}
