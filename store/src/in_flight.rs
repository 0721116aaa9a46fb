//! One decode of a chunk at a time. Tasks that share input chunks start side by side (the
//! tasks of a band of slabs cut into blocks): without this, each worker misses the chunk cache
//! for the same chunk at the same moment and decodes it too. Measured on 256^3 slabs to 32^3
//! blocks with 2 workers: 358 decodes of 256 slabs without it.

use std::collections::HashSet;
use std::sync::{Condvar, Mutex, MutexGuard};

/// The chunks being decoded now, by chunk index.
#[derive(Default)]
pub(crate) struct InFlight {
    decoding: Mutex<HashSet<Vec<u64>>>,
    done: Condvar,
}

/// Held while one thread decodes a chunk; dropping it (once the chunk is in the cache, or on
/// error) wakes the threads waiting for that chunk.
pub(crate) struct Claim<'a> {
    owner: &'a InFlight,
    idx: Vec<u64>,
}

impl InFlight {
    /// Claims chunk `idx` for decoding: `Some` when no one else is decoding it (the caller
    /// decodes it, then drops the claim), `None` after waiting for whoever was (the caller looks
    /// in the cache again).
    pub(crate) fn claim(&self, idx: &[u64]) -> Option<Claim<'_>> {
        let mut decoding = self.lock();
        if decoding.insert(idx.to_vec()) {
            return Some(Claim {
                owner: self,
                idx: idx.to_vec(),
            });
        }
        while decoding.contains(idx) {
            decoding = self.done.wait(decoding).unwrap_or_else(|p| p.into_inner());
        }
        None
    }

    fn lock(&self) -> MutexGuard<'_, HashSet<Vec<u64>>> {
        self.decoding.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        self.owner.lock().remove(&self.idx);
        self.owner.done.notify_all();
    }
}
