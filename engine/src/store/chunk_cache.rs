//! Decoded chunks kept for reads that cover chunks only in part — stencil halos above all: the
//! tasks around a chunk all read a slab of it, and without a cache each chunk would be decoded by
//! up to 27 tasks.
//!
//! Three things keep it small. Reads are announced before the run, in the order tasks start
//! ([`ChunkCache::expect`]), so a chunk is dropped right after its last reader. A chunk whose
//! remaining readers need only faces (slabs of halo width) is cut down to the faces they need,
//! and each face goes once read: about half of a chunk's six faces remain after its own task, 3/16
//! of a 128^3 chunk for a halo of 8. And when the cache is full it cuts to faces the whole chunk
//! whose owner task comes furthest ahead in the announced order (spilling the whole to disk, for
//! the owner to read back), or when that chunk cannot be cut, evicts the entry needed furthest
//! ahead — Belady's choice, which the announced order makes possible.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use crate::buffer::Buffer;
use crate::dtype::DType;
use crate::geometry::{extract_region, Region};
use crate::spill::SpillDir;

/// A cached chunk: all of it, or only its faces.
#[derive(Debug)]
enum Kept {
    Whole(Region, Arc<Buffer>),
    Faces(Vec<(Region, Arc<Buffer>)>),
}

impl Kept {
    fn bytes(&self) -> u64 {
        match self {
            Kept::Whole(_, b) => b.nbytes() as u64,
            Kept::Faces(f) => f.iter().map(|(_, b)| b.nbytes() as u64).sum(),
        }
    }

    /// A block containing `part`, with its region.
    fn serving(&self, part: &Region) -> Option<(Region, Arc<Buffer>)> {
        match self {
            Kept::Whole(r, b) => Some((r.clone(), Arc::clone(b))),
            Kept::Faces(faces) => faces
                .iter()
                .find(|(r, _)| r.contains(part))
                .map(|(r, b)| (r.clone(), Arc::clone(b))),
        }
    }
}

/// How far (in announced reads) the reads made may run ahead of an announced read before it is
/// taken as never coming. Reads are made about in the announced order: workers run tasks side by
/// side, each making a few dozen reads.
const STALE_AFTER: u64 = 4096;

/// The reads of one chunk announced and not made yet.
#[derive(Debug)]
struct Pending {
    /// The chunk's region, clipped to the array.
    chunk: Region,
    /// Each read's part of the chunk and its place in the announced order.
    parts: Vec<(Region, u64)>,
}

impl Pending {
    /// Whether a read from place `from` on needs more than a face slab (the chunk's owner).
    fn interior(&self, from: u64) -> bool {
        self.next_interior(from).is_some()
    }

    /// The place of the next read from `from` on that needs more than a face slab.
    fn next_interior(&self, from: u64) -> Option<u64> {
        self.parts
            .iter()
            .filter(|&&(ref p, at)| at >= from && thinnest_face(&self.chunk, p).is_none())
            .map(|&(_, at)| at)
            .min()
    }

    /// The place of the next read from `from` on.
    fn next_read(&self, from: u64) -> Option<u64> {
        self.parts
            .iter()
            .map(|&(_, at)| at)
            .filter(|&at| at >= from)
            .min()
    }

    /// The face slabs (`width` thick on their axis) that serve the face reads left, each once.
    fn needed_slabs(&self, width: &[u64]) -> Vec<Region> {
        let mut slabs: Vec<Region> = Vec::new();
        for (part, _) in &self.parts {
            let Some((axis, _)) = thinnest_face(&self.chunk, part) else {
                continue;
            };
            let mut slab = self.chunk.clone();
            slab.shape[axis] = width[axis].min(self.chunk.shape[axis]);
            if part.start[axis] != self.chunk.start[axis] {
                slab.start[axis] = self.chunk.end()[axis] - slab.shape[axis];
            }
            if !slabs.contains(&slab) {
                slabs.push(slab);
            }
        }
        slabs
    }
}

/// A whole decoded chunk written to the spill folder because the cache had to give it up while
/// reads of it were still to come.
#[derive(Clone, Debug)]
pub struct Spilled {
    /// The file in the spill folder.
    pub path: PathBuf,
    /// The element type to read it back as.
    pub dtype: DType,
}

/// The cache of one source (see the [module documentation](self)); a stored source keeps one
/// behind a mutex and asks it before decoding a chunk.
#[derive(Debug, Default)]
pub struct ChunkCache {
    chunks: HashMap<Vec<u64>, (Kept, u64)>,
    bytes: u64,
    clock: u64,
    pending: HashMap<Vec<u64>, Pending>,
    /// The thickest face slab any announced read needs, per axis (0: none on that axis).
    face_width: Vec<u64>,
    /// The most bytes held at once.
    peak: u64,
    /// Reads announced so far.
    announced: u64,
    /// The furthest place in the announced order of a read made so far.
    progress: u64,
    /// Whole chunks given up under pressure with reads still to come, on disk until those are
    /// made.
    on_disk: HashMap<Vec<u64>, Spilled>,
    /// Set once spilling failed (a full disk, say): later losses are decoded again instead.
    spill_failed: bool,
}

impl ChunkCache {
    /// Announces a read of `part` of the chunk at `chunk` (its region clipped to the array).
    /// Reads are announced in the order the run means to make them.
    pub fn expect(&mut self, idx: Vec<u64>, chunk: &Region, part: &Region) {
        if self.face_width.len() != chunk.ndim() {
            self.face_width = vec![0; chunk.ndim()];
        }
        if let Some((axis, width)) = thinnest_face(chunk, part) {
            self.face_width[axis] = self.face_width[axis].max(width);
        }
        self.pending
            .entry(idx)
            .or_insert_with(|| Pending {
                chunk: chunk.clone(),
                parts: Vec::new(),
            })
            .parts
            .push((part.clone(), self.announced));
        self.announced += 1;
    }

    /// A cached block (and its region) that contains `part` of chunk `idx`.
    pub fn get(&mut self, idx: &[u64], part: &Region) -> Option<(Region, Arc<Buffer>)> {
        self.clock += 1;
        let clock = self.clock;
        let (kept, used) = self.chunks.get_mut(idx)?;
        let found = kept.serving(part)?;
        *used = clock;
        Some(found)
    }

    /// Counts the read of `part` of chunk `idx` as made: drops the chunk when no announced read
    /// is left, and cuts it to the faces the remaining reads need when none needs more.
    pub fn read_done(&mut self, idx: &[u64], part: &Region) {
        let Some(pending) = self.pending.get_mut(idx) else {
            return;
        };
        if let Some(at) = pending.parts.iter().position(|(p, _)| p == part) {
            self.progress = self.progress.max(pending.parts.remove(at).1);
        }
        let fresh = self.fresh_from();
        let Some(pending) = self.pending.get(idx) else {
            return;
        };
        if pending.parts.is_empty() {
            self.pending.remove(idx);
            self.remove(idx);
            if let Some(spilled) = self.on_disk.remove(idx) {
                SpillDir::remove(&spilled.path);
            }
        } else if !pending.interior(fresh) && !self.cut_to_faces(idx, None) {
            self.drop_faces_read(idx);
        }
    }

    /// Drops the face slabs of chunk `idx` that no remaining read needs.
    fn drop_faces_read(&mut self, idx: &[u64]) {
        let (Some(pending), Some((Kept::Faces(faces), _))) =
            (self.pending.get(idx), self.chunks.get_mut(idx))
        else {
            return;
        };
        let needed = pending.needed_slabs(&self.face_width);
        let before: u64 = faces.iter().map(|(_, b)| b.nbytes() as u64).sum();
        faces.retain(|(slab, _)| needed.contains(slab));
        let after: u64 = faces.iter().map(|(_, b)| b.nbytes() as u64).sum();
        self.bytes -= before - after;
    }

    /// Drops every chunk, spilled copy and announced read, and starts a new peak.
    pub fn clear(&mut self) {
        for spilled in self.on_disk.values() {
            SpillDir::remove(&spilled.path);
        }
        *self = ChunkCache::default();
    }

    /// Announced reads before this place are taken as never coming: a resumed run skips tasks
    /// whose chunks are stored, a block task reads a region once for several announced reads.
    fn fresh_from(&self) -> u64 {
        self.progress.saturating_sub(STALE_AFTER)
    }

    /// The spilled copy of chunk `idx`, for a read the memory cache cannot serve.
    pub fn spilled(&self, idx: &[u64]) -> Option<Spilled> {
        self.on_disk.get(idx).cloned()
    }

    /// Whether a read after the current one wants chunk `idx` (true when nothing was
    /// announced): only then is a freshly decoded chunk worth keeping.
    pub fn wanted_later(&self, idx: &[u64]) -> bool {
        let fresh = self.fresh_from();
        self.pending
            .get(idx)
            .is_none_or(|p| p.parts.iter().filter(|&&(_, at)| at >= fresh).count() > 1)
    }

    /// The bytes the announced reads need kept at once (elements of `element_size` bytes), so
    /// the run can size the cache to its plan rather than to the memory limit: the peak, over
    /// the announced order, of what each chunk read more than once keeps between its first and
    /// last read. That is its face slabs when the cut to faces saves memory — and the whole chunk
    /// before its last interior read when that read comes within `window` announced reads of
    /// the first, or when several reads are interior (further ahead, a single owner's whole
    /// waits on disk: see [`ChunkCache::insert`]) — or else the whole chunk throughout.
    ///
    /// Why: a cache sized by the limit alone keeps every neighbour decoded for a halo read until
    /// its owner task comes, which in Morton order is a whole front of the grid: 120 MiB of
    /// whole chunks and faces for a gaussian (sigma 2) over 4^3 chunks of 128^3 uint16 at a
    /// 2 GiB limit, where this working set is 53 MiB and the run's peak RSS fell from 265-279
    /// to 217-228 MiB (measured 2026-11-28, `docs/benchmarks/2026-11-28-churn/`). The wholes
    /// that wait on disk cost a write and a read of the page cache each, not a second decode.
    pub fn working_set_bytes(&self, element_size: u64, window: u64) -> u64 {
        let mut changes: Vec<(u64, i64)> = Vec::new();
        for pending in self.pending.values() {
            let Some(first) = pending.parts.iter().map(|&(_, at)| at).min() else {
                continue;
            };
            let last = pending
                .parts
                .iter()
                .map(|&(_, at)| at)
                .max()
                .unwrap_or(first);
            if last == first {
                continue;
            }
            let whole = (pending.chunk.num_elements() * element_size) as i64;
            let slabs = pending.needed_slabs(&self.face_width);
            let faces = (slabs.iter().map(Region::num_elements).sum::<u64>() * element_size) as i64;
            if slabs.is_empty() || faces >= whole {
                changes.extend([(first, whole), (last, -whole)]);
                continue;
            }
            let interior: Vec<u64> = pending
                .parts
                .iter()
                .filter(|(p, _)| thinnest_face(&pending.chunk, p).is_none())
                .map(|&(_, at)| at)
                .collect();
            // A chunk with several interior reads (a slab shared by the blocks of a rechunk
            // band) is read whole by each of them: it stays whole until the last, however far.
            let cut = match interior.iter().max() {
                Some(&owner)
                    if owner > first && (owner - first <= window || interior.len() > 1) =>
                {
                    owner
                }
                _ => first,
            };
            if cut > first {
                changes.extend([(first, whole), (cut, -whole)]);
            }
            if last > cut {
                changes.extend([(cut, faces), (last, -faces)]);
            }
        }
        // At one place, what starts is counted before what ends.
        changes.sort_unstable_by_key(|&(at, change)| (at, std::cmp::Reverse(change)));
        let mut held = 0i64;
        let mut most = 0i64;
        for (_, change) in changes {
            held += change;
            most = most.max(held);
        }
        most as u64
    }

    /// Reads announced so far.
    pub fn announced(&self) -> u64 {
        self.announced
    }

    /// The most bytes held at once so far.
    pub fn peak_bytes(&self) -> u64 {
        self.peak
    }

    /// Keeps a freshly decoded chunk (covering `region`), then shrinks to `capacity` bytes,
    /// spilling to `spill` what it gives up while reads of it are still to come.
    pub fn insert(
        &mut self,
        idx: Vec<u64>,
        region: Region,
        chunk: Arc<Buffer>,
        capacity: u64,
        spill: &SpillDir,
    ) {
        self.clock += 1;
        self.remove(&idx);
        let kept = Kept::Whole(region, chunk);
        self.bytes += kept.bytes();
        self.chunks.insert(idx, (kept, self.clock));
        while self.bytes > capacity && self.shrink_one(spill) {}
        self.peak = self.peak.max(self.bytes);
    }

    /// Writes whole chunk `idx` to `spill` before it leaves memory, when a read still to come
    /// needs more than the faces that stay (and it is not on disk already).
    fn spill_whole(&mut self, idx: &[u64], spill: &SpillDir) {
        let Some((Kept::Whole(_, data), _)) = self.chunks.get(idx) else {
            return;
        };
        let fresh = self.fresh_from();
        let needs_more = self.pending.get(idx).is_some_and(|p| p.interior(fresh));
        if !needs_more || self.spill_failed || self.on_disk.contains_key(idx) {
            return;
        }
        let name: Vec<String> = idx.iter().map(u64::to_string).collect();
        match spill.write(&name.join("-"), data) {
            Ok(path) => {
                let spilled = Spilled {
                    path,
                    dtype: data.dtype(),
                };
                self.on_disk.insert(idx.to_vec(), spilled);
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot spill decoded chunks; decoding them again");
                self.spill_failed = true;
            }
        }
    }

    /// Frees room, cheapest loss first: cuts to its faces the whole chunk whose owner reads it
    /// furthest ahead (Belady's choice over the announced order), or when that one cannot be
    /// cut, evicts the entry read again furthest ahead. A whole chunk given up with reads still to
    /// come is spilled first (they read it back instead of decoding it again). Chunks without
    /// announced reads go first, least recently used first. False when empty.
    fn shrink_one(&mut self, spill: &SpillDir) -> bool {
        // Larger is a better victim: (announced next use, or never; older use first).
        let victim_key = |next: Option<u64>, used: u64| (next.unwrap_or(u64::MAX), u64::MAX - used);
        let fresh = self.fresh_from();
        let whole = self
            .chunks
            .iter()
            .filter(|(_, (k, _))| matches!(k, Kept::Whole(..)))
            .max_by_key(|(idx, (_, used))| {
                let next = self.pending.get(*idx).and_then(|p| p.next_interior(fresh));
                victim_key(next, *used)
            })
            .map(|(idx, _)| idx.clone());
        if let Some(idx) = whole {
            if self.cut_to_faces(&idx, Some(spill)) {
                return true;
            }
        }
        let furthest = self
            .chunks
            .iter()
            .max_by_key(|(idx, (_, used))| {
                let next = self.pending.get(*idx).and_then(|p| p.next_read(fresh));
                victim_key(next, *used)
            })
            .map(|(idx, _)| idx.clone());
        match furthest {
            Some(idx) => {
                self.spill_whole(&idx, spill);
                self.remove(&idx);
                true
            }
            None => false,
        }
    }

    /// Keeps only the face slabs of a whole cached chunk that its remaining reads need, spilling
    /// the whole first to `spill` when given (and a later read needs more than the faces); false
    /// when it is not cached whole, no remaining read is a face read, or the slabs would not be
    /// smaller.
    fn cut_to_faces(&mut self, idx: &[u64], spill: Option<&SpillDir>) -> bool {
        let Some((Kept::Whole(region, data), used)) = self.chunks.get(idx) else {
            return false;
        };
        let Some(pending) = self.pending.get(idx) else {
            return false;
        };
        let Some(faces) = faces(region, data, &pending.needed_slabs(&self.face_width)) else {
            return false;
        };
        let used = *used;
        if let Some(spill) = spill {
            self.spill_whole(idx, spill);
        }
        self.remove(idx);
        let kept = Kept::Faces(faces);
        self.bytes += kept.bytes();
        self.chunks.insert(idx.to_vec(), (kept, used));
        true
    }

    fn remove(&mut self, idx: &[u64]) {
        if let Some((kept, _)) = self.chunks.remove(idx) {
            self.bytes -= kept.bytes();
        }
    }
}

/// For a read of `part` of `chunk` that lies against one of its faces without reaching the
/// opposite one: the axis and thickness of the thinnest such slab.
fn thinnest_face(chunk: &Region, part: &Region) -> Option<(usize, u64)> {
    let end = chunk.end();
    (0..chunk.ndim())
        .filter(|&d| part.shape[d] < chunk.shape[d])
        .filter(|&d| part.start[d] == chunk.start[d] || part.start[d] + part.shape[d] == end[d])
        .map(|d| (d, part.shape[d]))
        .min_by_key(|&(_, w)| w)
}

/// The slabs cut from a decoded chunk (covering `region`), or None when there are none or they
/// would not be smaller than the chunk.
fn faces(region: &Region, data: &Buffer, slabs: &[Region]) -> Option<Vec<(Region, Arc<Buffer>)>> {
    let bytes: u64 =
        slabs.iter().map(Region::num_elements).sum::<u64>() * data.dtype().size() as u64;
    if slabs.is_empty() || bytes >= data.nbytes() as u64 {
        return None;
    }
    Some(
        slabs
            .iter()
            .map(|slab| (slab.clone(), Arc::new(extract_region(data, region, slab))))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(idx: u64) -> (Vec<u64>, Region, Arc<Buffer>) {
        let region = Region::new(vec![idx * 10, 0], vec![10, 10]);
        let data: Vec<u16> = (0..100).map(|v| v as u16 + 100 * idx as u16).collect();
        (vec![idx, 0], region, Arc::new(Buffer::Uint16(data)))
    }

    /// Inserts into a cache with room to spare.
    fn insert_roomy(cache: &mut ChunkCache, idx: &[u64], region: &Region, data: Arc<Buffer>) {
        let spill = SpillDir::new("test");
        cache.insert(idx.to_vec(), region.clone(), data, 1 << 20, &spill);
    }

    #[test]
    fn the_working_set_keeps_wholes_only_for_owners_within_the_window() {
        // Three 10x10 u16 chunks (200 bytes each); a neighbour reads the bottom face (2x10, 40
        // bytes) of each first, at places 0, 1 and 2. Owners: chunk 0 at place 3, chunk 1 at
        // place 4, chunk 2 far ahead at place 20.
        let mut cache = ChunkCache::default();
        let chunks: Vec<_> = (0..3).map(chunk).collect();
        for (idx, region, _) in &chunks {
            let face = Region::new(vec![region.start[0] + 8, 0], vec![2, 10]);
            cache.expect(idx.clone(), region, &face);
        }
        for (idx, region, _) in &chunks[..2] {
            cache.expect(idx.clone(), region, region);
        }
        for other in 5..20 {
            // Chunks read once: nothing is kept for them.
            let (idx, region, _) = chunk(other);
            cache.expect(idx, &region, &region);
        }
        let (idx, region, _) = &chunks[2];
        cache.expect(idx.clone(), region, region);
        assert_eq!(cache.announced(), 21);
        // Window 3: chunks 0 and 1 stay whole until their owners (2 x 200 bytes at place 2,
        // beside chunk 2's face); chunk 2 waits on disk and keeps its face (40 bytes).
        assert_eq!(cache.working_set_bytes(2, 3), 2 * 200 + 40);
        // Window 20: every chunk stays whole until its owner.
        assert_eq!(cache.working_set_bytes(2, 20), 3 * 200);
        // Window 0: only faces.
        assert_eq!(cache.working_set_bytes(2, 0), 3 * 40);
    }

    #[test]
    fn a_chunk_read_whole_by_several_tasks_stays_whole_until_the_last() {
        // A face read first, then two interior reads far apart (beyond any window).
        let mut cache = ChunkCache::default();
        let (idx, region, _) = chunk(0);
        cache.expect(idx.clone(), &region, &Region::new(vec![8, 0], vec![2, 10]));
        cache.expect(idx.clone(), &region, &Region::new(vec![2, 2], vec![6, 6]));
        for other in 1..30 {
            let (o, r, _) = chunk(other);
            cache.expect(o, &r, &r);
        }
        cache.expect(idx.clone(), &region, &Region::new(vec![3, 3], vec![5, 5]));
        assert_eq!(cache.working_set_bytes(2, 4), 200);
    }

    #[test]
    fn a_chunk_whose_faces_save_nothing_is_kept_whole_between_its_reads() {
        let mut cache = ChunkCache::default();
        let (idx, region, _) = chunk(0);
        // Two halves: the slabs they need make up the whole chunk.
        cache.expect(idx.clone(), &region, &Region::new(vec![0, 0], vec![5, 10]));
        cache.expect(idx.clone(), &region, &Region::new(vec![5, 0], vec![5, 10]));
        assert_eq!(cache.working_set_bytes(2, 0), 200);
    }

    #[test]
    fn a_chunk_is_dropped_after_its_last_announced_read() {
        let mut cache = ChunkCache::default();
        let (idx, region, data) = chunk(0);
        let face = Region::new(vec![8, 0], vec![2, 10]);
        cache.expect(idx.clone(), &region, &region);
        cache.expect(idx.clone(), &region, &face);
        assert!(cache.wanted_later(&idx));
        insert_roomy(&mut cache, &idx, &region, data);
        cache.read_done(&idx, &region);
        assert!(cache.get(&idx, &face).is_some(), "one read left");
        cache.read_done(&idx, &face);
        assert!(cache.get(&idx, &face).is_none());
        assert_eq!(cache.bytes, 0);
    }

    #[test]
    fn a_full_cache_cuts_chunks_to_faces_before_evicting() {
        let mut cache = ChunkCache::default();
        let (a, ra, da) = chunk(0);
        let (b, rb, db) = chunk(1);
        // Neighbours read slabs of width 2 along axis 0.
        cache.expect(a.clone(), &ra, &Region::new(vec![8, 0], vec![2, 10]));
        cache.expect(b.clone(), &rb, &Region::new(vec![10, 0], vec![2, 10]));
        cache.insert(a.clone(), ra, da, 300, &SpillDir::new("test"));
        cache.insert(b.clone(), rb, db, 300, &SpillDir::new("test"));
        // 2 x 200 bytes did not fit in 300: the older chunk is cut to the one face its pending
        // read needs (2x10 u16, 40 bytes).
        assert_eq!(cache.bytes, 240);
        let (r, buf) = cache.get(&a, &Region::new(vec![8, 3], vec![2, 4])).unwrap();
        assert_eq!(r, Region::new(vec![8, 0], vec![2, 10]));
        let Buffer::Uint16(v) = buf.as_ref() else {
            panic!()
        };
        assert_eq!(v[0], 80, "row 8 of chunk 0 starts at 80");
        assert!(
            cache
                .get(&a, &Region::new(vec![4, 0], vec![2, 10]))
                .is_none(),
            "interior"
        );
        assert!(
            cache
                .get(&b, &Region::new(vec![14, 0], vec![2, 10]))
                .is_some(),
            "whole"
        );
    }

    #[test]
    fn after_its_interior_read_a_chunk_keeps_only_the_faces_still_to_be_read() {
        let mut cache = ChunkCache::default();
        let region = Region::new(vec![0, 0], vec![10, 10]);
        let (top, bottom, left) = (
            Region::new(vec![0, 0], vec![2, 10]),
            Region::new(vec![8, 0], vec![2, 10]),
            Region::new(vec![0, 0], vec![10, 3]),
        );
        let idx = vec![0, 0];
        for part in [&region, &top, &bottom, &left] {
            cache.expect(idx.clone(), &region, part);
        }
        let data = Arc::new(Buffer::Uint16((0..100).collect()));
        insert_roomy(&mut cache, &idx, &region, data);
        cache.read_done(&idx, &top);
        assert_eq!(cache.bytes, 200, "the owner has not read yet: kept whole");
        cache.read_done(&idx, &region);
        // The top face was read already; the bottom (2x10) and the left (10x3) are kept.
        assert_eq!(cache.bytes, 2 * (20 + 30));
        assert!(cache.get(&idx, &top).is_none());
        let (slab, buf) = cache.get(&idx, &left).unwrap();
        assert_eq!(slab, left);
        let Buffer::Uint16(v) = buf.as_ref() else {
            panic!()
        };
        assert_eq!(&v[..4], &[0, 1, 2, 10]);
        cache.read_done(&idx, &bottom);
        assert_eq!(cache.bytes, 2 * 30, "the bottom face is dropped once read");
        cache.read_done(&idx, &left);
        assert_eq!(cache.bytes, 0);
    }

    #[test]
    fn when_full_the_chunk_whose_owner_comes_last_is_cut_to_faces() {
        let mut cache = ChunkCache::default();
        let chunks: Vec<_> = (0..3).map(chunk).collect();
        // Neighbours read a face of each chunk first; the owners come in the order 2, 0, 1.
        for (idx, region, _) in &chunks {
            let face = Region::new(vec![region.start[0] + 8, 0], vec![2, 10]);
            cache.expect(idx.clone(), region, &face);
        }
        for owner in [2, 0, 1] {
            let (idx, region, _) = &chunks[owner];
            cache.expect(idx.clone(), region, region);
        }
        // Room for two whole chunks and a face: chunk 1's owner reads last, so it is cut (and
        // spilled whole, its owner still to come).
        let spill = SpillDir::new("test");
        for (idx, region, data) in &chunks {
            cache.insert(idx.clone(), region.clone(), Arc::clone(data), 440, &spill);
        }
        let mut whole = |i: usize| {
            let (idx, region, _) = &chunks[i];
            cache.get(idx, region).is_some()
        };
        assert!(!whole(1), "chunk 1 cut to its face");
        assert!(whole(0) && whole(2));
        assert_eq!(cache.bytes, 440);
        let on_disk = cache.spilled(&chunks[1].0).expect("spilled");
        let back = spill.read(&on_disk.path, on_disk.dtype).unwrap();
        assert_eq!(&back, chunks[1].2.as_ref());
        // Its last reads made, the spilled copy goes.
        let (idx, region, _) = &chunks[1];
        cache.read_done(idx, &Region::new(vec![18, 0], vec![2, 10]));
        cache.read_done(idx, region);
        assert!(cache.spilled(idx).is_none());
        assert!(!on_disk.path.exists());
    }
}
