//! Files written whole or not at all: chunks through a temporary file and a rename, folders
//! created durably when asked.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// Writes `data` to `path` through a hidden temporary file and a rename, so a reader (or a crashed
/// run) never sees a torn chunk. No fsync per chunk by default: zarrs' own store syncs every file,
/// which left a run waiting on the disk for a third of its time; the metadata, written last, marks
/// completion. With `durable` ([`crate::WriteOptions::durable`]) the file is flushed before the rename
/// and the folder after it, so once this returns the chunk survives a power loss too.
pub(crate) fn write_atomically(path: &Path, data: &[u8], durable: bool) -> std::io::Result<()> {
    let parent = path.parent().unwrap_or(Path::new("."));
    if durable {
        create_dirs_durably(parent)?;
    } else {
        std::fs::create_dir_all(parent)?;
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    // Named per write: two processes writing the same chunk (a requeued job array element
    // racing the original) must not rename each other's file away.
    static WRITES: AtomicU64 = AtomicU64::new(0);
    let n = WRITES.fetch_add(1, Ordering::Relaxed);
    let partial = parent.join(format!(".{name}.{}-{n}.partial", std::process::id()));
    if durable {
        let mut file = std::fs::File::create(&partial)?;
        std::io::Write::write_all(&mut file, data)?;
        file.sync_all()?;
    } else {
        std::fs::write(&partial, data)?;
    }
    std::fs::rename(&partial, path)?;
    if durable {
        std::fs::File::open(parent)?.sync_all()?;
    }
    Ok(())
}

/// Creates `dir` and its missing ancestors, flushing each new folder's entry in its parent, so a
/// chunk written durably below it cannot lose its folder in a power loss.
fn create_dirs_durably(dir: &Path) -> std::io::Result<()> {
    let mut missing = Vec::new();
    let mut at = dir;
    while !at.exists() {
        missing.push(at.to_path_buf());
        match at.parent() {
            Some(parent) => at = parent,
            None => break,
        }
    }
    std::fs::create_dir_all(dir)?;
    for created in missing.iter().rev() {
        if let Some(parent) = created.parent() {
            std::fs::File::open(parent)?.sync_all()?;
        }
    }
    Ok(())
}

pub(crate) fn dir_is_nonempty(path: &Path) -> bool {
    path.exists()
        && (path.is_file()
            || std::fs::read_dir(path)
                .map(|mut d| d.next().is_some())
                .unwrap_or(true))
}
