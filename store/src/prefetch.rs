//! Reads ahead on an object store: each request takes tens of milliseconds, so a worker that
//! asked for its chunk only when its task started would spend a copy mostly waiting. Tasks read
//! their input chunks roughly in the stored grid's C order (the scheduler hands out root tasks
//! in chunk order), so after each read the source asks for the next chunks, up to a depth, on
//! the store client's own threads; a later read takes the encoded bytes that arrived (or waits
//! for those on their way) instead of asking. The bytes held, on their way or arrived, never
//! pass the source's share of the memory limit the run reserved for them
//! ([`chunkwise_engine::store::IoContext::prefetch_bytes`]), each counted at its decoded size
//! (an upper bound of its encoded size for the codecs chunks are stored with), and chunks left
//! far behind the reads (never asked for: a resumed run's skipped tasks) are dropped.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use zarrs::storage::{Bytes, ReadableStorageTraits, StoreKey};

use chunkwise_engine::ChunkGrid;

use crate::remote::{self, ObjectStorage};

enum Slot {
    /// Asked for; the answer is on its way.
    Asked,
    /// Arrived: the encoded bytes (`None`: no such object, the fill value).
    Arrived(Result<Option<Bytes>, String>),
}

#[derive(Default)]
struct Ahead {
    /// By linear chunk index.
    slots: HashMap<u64, Slot>,
    /// The next linear index not yet asked for: reads ahead never ask for a chunk twice.
    next: u64,
    /// Bytes counted for the slots.
    bytes: u64,
    /// The most `bytes` ever counted at once since [`Prefetch::reset_peak`].
    peak: u64,
}

/// Reads ahead of one source.
pub(crate) struct Prefetch {
    storage: Arc<ObjectStorage>,
    grid: ChunkGrid,
    /// Decoded bytes of one stored chunk: what each slot counts.
    chunk_bytes: u64,
    state: Arc<(Mutex<Ahead>, Condvar)>,
}

impl std::fmt::Debug for Prefetch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prefetch")
            .field("grid", &self.grid)
            .finish_non_exhaustive()
    }
}

fn lock(state: &Mutex<Ahead>) -> MutexGuard<'_, Ahead> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

impl Prefetch {
    /// Reads ahead over the stored chunks of `grid` (each `chunk_bytes` decoded) in `storage`.
    pub(crate) fn new(storage: Arc<ObjectStorage>, grid: ChunkGrid, chunk_bytes: u64) -> Self {
        Self {
            storage,
            grid,
            chunk_bytes,
            state: Arc::default(),
        }
    }

    /// The encoded bytes of stored chunk `idx` at `key`: those read ahead (waiting for them
    /// when they are on their way), else asked for now.
    ///
    /// # Errors
    /// The store's failure.
    pub(crate) fn take(&self, idx: &[u64], key: &StoreKey) -> Result<Option<Bytes>, String> {
        let linear = self.grid.ravel(idx);
        let (state, arrived) = &*self.state;
        let mut ahead = lock(state);
        loop {
            match ahead.slots.remove(&linear) {
                Some(Slot::Asked) => {
                    ahead.slots.insert(linear, Slot::Asked);
                    ahead = arrived.wait(ahead).unwrap_or_else(|p| p.into_inner());
                }
                Some(Slot::Arrived(bytes)) => {
                    ahead.bytes -= self.chunk_bytes;
                    return bytes;
                }
                None => break,
            }
        }
        drop(ahead);
        self.storage
            .get(key)
            .map_err(|e| remote::one_line(&e.to_string()))
    }

    /// The most bytes held at once, asked for or arrived, since [`Prefetch::reset_peak`].
    pub(crate) fn peak(&self) -> u64 {
        lock(&self.state.0).peak
    }

    /// Starts the peak again from what is held now (a new run).
    pub(crate) fn reset_peak(&self) {
        let mut ahead = lock(&self.state.0);
        ahead.peak = ahead.bytes;
    }

    /// After a read of stored chunk `idx`: asks for the chunks after it in C order, up to
    /// `depth` ahead and within `cap` bytes, `key` naming each; drops chunks read ahead that
    /// the reads have left more than `depth` behind.
    pub(crate) fn ahead(
        &self,
        idx: &[u64],
        depth: usize,
        cap: u64,
        key: impl Fn(&[u64]) -> StoreKey,
    ) {
        let at = self.grid.ravel(idx);
        let depth = depth as u64;
        let (state, _) = &*self.state;
        let mut ahead = lock(state);
        let stale: Vec<u64> = ahead
            .slots
            .iter()
            .filter(|(l, s)| **l + depth < at && matches!(s, Slot::Arrived(_)))
            .map(|(l, _)| *l)
            .collect();
        for l in stale {
            ahead.slots.remove(&l);
            ahead.bytes -= self.chunk_bytes;
        }
        ahead.next = ahead.next.max(at + 1);
        while ahead.next <= at + depth
            && ahead.next < self.grid.num_chunks()
            && ahead.bytes + self.chunk_bytes <= cap
        {
            let linear = ahead.next;
            ahead.next += 1;
            let key = key(&self.grid.unravel(linear));
            ahead.slots.insert(linear, Slot::Asked);
            ahead.bytes += self.chunk_bytes;
            ahead.peak = ahead.peak.max(ahead.bytes);
            let state = Arc::clone(&self.state);
            remote::get_behind(&self.storage, key, move |got| {
                let (state, arrived) = &*state;
                let mut ahead = lock(state);
                let got = got.map_err(|e| remote::one_line(&e.to_string()));
                ahead.slots.insert(linear, Slot::Arrived(got));
                arrived.notify_all();
            });
        }
    }
}

#[cfg(all(test, feature = "s3"))]
mod tests {
    use zarrs::storage::WritableStorageTraits;

    use super::*;

    fn key(idx: &[u64]) -> StoreKey {
        StoreKey::new(format!("c/{}", idx[0])).unwrap()
    }

    fn held(p: &Prefetch) -> (u64, usize) {
        let ahead = lock(&p.state.0);
        (ahead.bytes, ahead.slots.len())
    }

    #[test]
    fn reads_ahead_stay_within_their_bytes_and_are_taken_once() {
        let storage = ObjectStorage::in_memory();
        for i in 0..10u64 {
            storage
                .set(&key(&[i]), Bytes::from(vec![i as u8; 8]))
                .unwrap();
        }
        // Ten chunks of 8 bytes each; room for two of them.
        let p = Prefetch::new(storage, ChunkGrid::new(vec![10], vec![1]), 8);
        p.ahead(&[0], 4, 16, key);
        assert_eq!(
            held(&p),
            (16, 2),
            "only what fits in the bytes is asked for"
        );
        assert_eq!(p.peak(), 16);
        assert_eq!(p.take(&[1], &key(&[1])).unwrap().unwrap(), vec![1u8; 8]);
        assert_eq!(held(&p).0, 8, "a taken chunk no longer counts");
        // Not read ahead: asked for at once.
        assert_eq!(p.take(&[5], &key(&[5])).unwrap().unwrap(), vec![5u8; 8]);
        p.ahead(&[1], 4, 16, key);
        assert_eq!(
            held(&p),
            (16, 2),
            "chunk 3 joins chunk 2, never chunk 1 again"
        );
        // Far ahead: chunks 2 and 3, left more than the depth behind, are dropped once arrived.
        p.take(&[4], &key(&[4])).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(100));
        p.ahead(&[9], 4, 16, key);
        assert_eq!(held(&p), (0, 0));
        assert_eq!(p.peak(), 16, "never more than the cap");
        p.reset_peak();
        assert_eq!(p.peak(), 0);
        assert_eq!(p.take(&[2], &key(&[2])).unwrap().unwrap(), vec![2u8; 8]);
        // A missing chunk reads as nothing stored.
        let empty = Prefetch::new(
            ObjectStorage::in_memory(),
            ChunkGrid::new(vec![2], vec![1]),
            8,
        );
        empty.ahead(&[0], 4, 64, key);
        assert_eq!(empty.take(&[1], &key(&[1])).unwrap(), None);
    }
}
