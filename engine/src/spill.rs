//! A temporary folder for buffers that do not fit in memory (held results between stages,
//! decoded chunks the chunk cache had to give up), written uncompressed and read back by the
//! task that needs them. Created on first use; removed, with everything in it, when dropped.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::buffer::Buffer;
use crate::dtype::DType;
use crate::error::{Error, Result};

/// Spill folders are `{PREFIX}{pid}-{address}` under the system's temporary folder.
const PREFIX: &str = "chunkwise-spill-";
/// A spill folder left this long untouched by a process that no longer exists is removed.
const ORPHAN_AGE: std::time::Duration = std::time::Duration::from_secs(600);

/// Removes the spill folders under `temp` of processes that ended without removing them (a run
/// killed with SIGKILL, or by the out-of-memory killer, never runs its drop): on a large volume
/// each can hold gigabytes. A folder goes only when no process of its id runs here (Linux:
/// `/proc/{pid}`) and it was not modified for `age`, so a live run in another PID namespace
/// sharing the folder keeps its files; on other systems nothing is removed.
fn remove_orphans(temp: &Path, age: std::time::Duration) {
    let Ok(entries) = std::fs::read_dir(temp) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(PREFIX))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        let idle = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|elapsed| elapsed >= age);
        if idle && !process_runs(pid) {
            tracing::info!(dir = %entry.path().display(), "removing the spill folder of a process that ended");
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Whether a process with id `pid` runs on this machine (true where this cannot be told).
fn process_runs(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new("/proc").join(pid.to_string()).exists()
    } else {
        true
    }
}

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
        let temp = std::env::temp_dir();
        remove_orphans(&temp, ORPHAN_AGE);
        let path = temp.join(format!(
            "{PREFIX}{}-{:x}",
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// A folder of a process that is gone, idle long enough, goes; one of a live process (this
    /// one), a fresh one, and folders of other names stay.
    #[test]
    fn orphaned_spill_folders_of_ended_processes_are_removed() {
        let temp = std::env::temp_dir().join(format!("chunkwise-orphans-{}", std::process::id()));
        // Above Linux's largest process id (2^22): no process has it.
        let gone = temp.join(format!("{PREFIX}4194305-1"));
        let live = temp.join(format!("{PREFIX}{}-2", std::process::id()));
        let other = temp.join("something-else-4194305");
        for dir in [&gone, &live, &other] {
            std::fs::create_dir_all(dir).unwrap();
            std::fs::write(dir.join("chunk"), b"x").unwrap();
        }
        // Not idle yet: everything stays.
        remove_orphans(&temp, Duration::from_secs(3600));
        assert!(gone.exists() && live.exists() && other.exists());
        remove_orphans(&temp, Duration::ZERO);
        // Elsewhere whether a process runs cannot be told, and nothing is removed.
        assert_eq!(
            gone.exists(),
            !cfg!(target_os = "linux"),
            "the ended process's folder is removed"
        );
        assert!(live.exists() && other.exists());
        std::fs::remove_dir_all(&temp).unwrap();
    }
}
