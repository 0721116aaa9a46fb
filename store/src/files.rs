//! Files written whole or not at all: chunks through a temporary file and a rename, folders
//! created durably when asked; large chunks with direct I/O, past the page cache.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// Writes `data` to `path` through a hidden temporary file and a rename, so a reader (or a crashed
/// run) never sees a torn chunk. No fsync per chunk by default: zarrs' own store syncs every file,
/// which left a run waiting on the disk for a third of its time; the metadata, written last, marks
/// completion. With `durable` ([`crate::WriteOptions::durable`]) the file is flushed before the rename
/// and the folder after it, so once this returns the chunk survives a power loss too.
///
/// Otherwise a chunk of [`DIRECT_MIN`] or more goes to the disk with direct I/O
/// ([`write_direct`]) where the file system takes it. Through the page cache every output byte
/// is copied once more, into pages the kernel must find and zero first; an output of terabytes
/// only pushes the inputs' cached chunks out; and on a VM whose free memory went back to the
/// host each such page costs a host fault too: the gaussian's 440 MiB output took 1.6-2.1 s of
/// system time buffered, 0.6 s direct. `CHUNKWISE_DIRECT_IO=0` turns it off.
///
/// # Errors
/// The failure to create the folder, write the file or rename it.
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
    } else if data.len() < DIRECT_MIN || !direct_io_on() || !write_direct(&partial, data)? {
        std::fs::write(&partial, data)?;
    }
    std::fs::rename(&partial, path)?;
    if durable {
        std::fs::File::open(parent)?.sync_all()?;
    }
    Ok(())
}

/// Block alignment of direct I/O's buffer, length and offset (4 KiB covers 512 B and 4 KiB
/// devices).
const DIRECT_ALIGN: usize = 4096;
/// Chunks smaller than this go through the page cache: direct I/O's synchronous wait is not
/// worth it for them.
const DIRECT_MIN: usize = 1 << 20;

/// Whether large chunks are written with direct I/O: unless `CHUNKWISE_DIRECT_IO` is `0`.
fn direct_io_on() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var("CHUNKWISE_DIRECT_IO").map_or(true, |v| v.trim() != "0"))
}

/// Writes `data` to `path` (created, or emptied when a killed run left it) with direct I/O
/// (`O_DIRECT`): through a per-thread aligned staging buffer of [`DIRECT_PIECE`] bytes, the last
/// piece padded to whole blocks and the file then cut to `data`'s length. `Ok(false)`, with
/// nothing left at `path`, when the file system does not take direct I/O (tmpfs before Linux
/// 6.6, some FUSE and network file systems).
///
/// # Errors
/// The failure to create, write or cut the file (a full disk...); the file is removed then too.
#[cfg(target_os = "linux")]
fn write_direct(path: &Path, data: &[u8]) -> std::io::Result<bool> {
    use std::os::unix::fs::OpenOptionsExt;
    // ENOTSUP is EOPNOTSUPP on Linux.
    let refused =
        |e: &std::io::Error| matches!(e.raw_os_error(), Some(libc::EINVAL | libc::EOPNOTSUPP));
    let opened = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .custom_flags(libc::O_DIRECT)
        .open(path);
    let written = opened.and_then(|file| write_in_pieces(&file, data));
    match written {
        Ok(()) => Ok(true),
        Err(e) => {
            // A refused open may still have created the file.
            remove_if_present(path)?;
            if refused(&e) {
                Ok(false)
            } else {
                Err(e)
            }
        }
    }
}

/// Direct I/O is Linux's `O_DIRECT` here; elsewhere every write goes through the page cache.
#[cfg(not(target_os = "linux"))]
fn write_direct(_path: &Path, _data: &[u8]) -> std::io::Result<bool> {
    Ok(false)
}

/// Bytes of aligned staging a thread writes through directly: a whole chunk is not copied at
/// once, so the copy that the memory projection does not count stays this small.
const DIRECT_PIECE: usize = 1 << 20;

/// Writes `data` to `file` (opened for direct I/O) piece by piece from an aligned copy, every
/// piece but the last a whole number of blocks, then cuts the file to `data`'s length.
///
/// # Errors
/// The write's or the cut's failure.
#[cfg(target_os = "linux")]
fn write_in_pieces(mut file: &std::fs::File, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    thread_local! {
        static STAGING: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    STAGING.with_borrow_mut(|staging| {
        if staging.capacity() < DIRECT_PIECE + DIRECT_ALIGN {
            *staging = Vec::with_capacity(DIRECT_PIECE + DIRECT_ALIGN);
        }
        for piece in data.chunks(DIRECT_PIECE) {
            // Within the capacity, so the buffer never moves off its alignment.
            staging.clear();
            let at = staging.as_ptr().align_offset(DIRECT_ALIGN);
            staging.resize(at, 0);
            staging.extend_from_slice(piece);
            staging.resize(at + piece.len().div_ceil(DIRECT_ALIGN) * DIRECT_ALIGN, 0);
            file.write_all(&staging[at..])?;
        }
        Ok::<(), std::io::Error>(())
    })?;
    file.set_len(data.len() as u64)
}

/// Removes `path` when it exists.
#[cfg(target_os = "linux")]
///
/// # Errors
/// The failure to remove it, other than its absence.
fn remove_if_present(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes whose length is no multiple of a block, so the padding and the cut are exercised.
    fn sample(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 % 251) as u8).collect()
    }

    #[test]
    fn large_chunks_read_back_exactly_at_their_length() {
        let dir = tempfile::tempdir().unwrap();
        for len in [DIRECT_MIN, DIRECT_MIN + 1, 3 * DIRECT_MIN + 4095, 100] {
            let path = dir.path().join(format!("c/{len}"));
            let data = sample(len);
            write_atomically(&path, &data, false).unwrap();
            assert_eq!(std::fs::read(&path).unwrap(), data, "length {len}");
        }
        // Only the chunks are left: no temporary file behind.
        let left: Vec<_> = std::fs::read_dir(dir.path().join("c")).unwrap().collect();
        assert_eq!(left.len(), 4);
    }

    #[test]
    fn direct_write_of_a_large_chunk_is_exact_or_declined_cleanly() {
        // tmpfs declines O_DIRECT on older kernels: `write_direct` then leaves nothing behind.
        for dir in [std::env::temp_dir(), std::path::PathBuf::from("/dev/shm")] {
            if !dir.is_dir() {
                continue;
            }
            let dir = tempfile::tempdir_in(dir).unwrap();
            let path = dir.path().join("chunk");
            // A longer file a killed run left under the same name is replaced, not appended to.
            std::fs::write(&path, sample(3 * DIRECT_MIN)).unwrap();
            let data = sample(DIRECT_MIN + 12345);
            if write_direct(&path, &data).unwrap() {
                assert_eq!(std::fs::read(&path).unwrap(), data);
            } else {
                assert!(!path.exists(), "a declined direct write left {path:?}");
            }
        }
    }
}
