//! A temporary folder for buffers that do not fit in memory (held results between stages,
//! decoded chunks the chunk cache had to give up), written uncompressed and read back by the
//! task that needs them. Created on first use; removed, with everything in it, when dropped.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::buffer::Buffer;
use crate::dtype::DType;
use crate::error::{Error, Result};

/// One temporary spill folder.
#[derive(Debug)]
pub struct SpillDir {
    /// What is spilled, for log lines and errors ("held results", "decoded chunks").
    what: &'static str,
    dir: Mutex<Option<PathBuf>>,
}

impl SpillDir {
    /// A folder for `what` (named in log lines and errors), created on first write.
    pub const fn new(what: &'static str) -> Self {
        SpillDir {
            what,
            dir: Mutex::new(None),
        }
    }

    /// Writes `buffer` as file `name`, creating the folder on first use.
    ///
    /// # Errors
    /// [`Error::Store`] when the folder or the file cannot be written.
    pub fn write(&self, name: &str, buffer: &Buffer) -> Result<PathBuf> {
        use std::io::Write;
        let path = self.folder()?.join(name);
        let mut file = std::fs::File::create(&path).map_err(|e| self.error(&path, &e))?;
        // Straight from the buffer's memory (on little-endian machines), not from a copy of it.
        let mut written = Ok(());
        buffer.for_each_le_bytes(|bytes| {
            if written.is_ok() {
                written = file.write_all(bytes);
            }
        });
        written.map_err(|e| self.error(&path, &e))?;
        Ok(path)
    }

    /// Reads back a file written by [`SpillDir::write`] as elements of `dtype`.
    ///
    /// # Errors
    /// [`Error::Store`] when the file cannot be read or has the wrong size.
    pub fn read(&self, path: &Path, dtype: DType) -> Result<Buffer> {
        let raw = std::fs::read(path).map_err(|e| self.error(path, &e))?;
        Buffer::from_le_bytes(&raw, dtype).ok_or_else(|| self.error(path, &"wrong size"))
    }

    /// Deletes one spilled file (its reader is done with it).
    pub fn remove(path: &Path) {
        let _ = std::fs::remove_file(path);
    }

    fn folder(&self) -> Result<PathBuf> {
        let mut dir = self.dir.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(dir) = &*dir {
            return Ok(dir.clone());
        }
        let path = std::env::temp_dir().join(format!(
            "chunkwise-spill-{}-{:x}",
            std::process::id(),
            self as *const Self as usize
        ));
        std::fs::create_dir_all(&path).map_err(|e| self.error(&path, &e))?;
        tracing::info!(dir = %path.display(), "spilling {} to disk", self.what);
        *dir = Some(path.clone());
        Ok(path)
    }

    fn error(&self, path: &Path, e: &dyn std::fmt::Display) -> Error {
        Error::Store {
            path: path.display().to_string(),
            detail: format!("spilling {}: {e}", self.what),
        }
    }
}

impl Drop for SpillDir {
    fn drop(&mut self) {
        if let Some(dir) = self.dir.get_mut().ok().and_then(Option::take) {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
