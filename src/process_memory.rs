//! How a process running chunkwise asks the system and mimalloc to manage its memory: freed
//! memory returned promptly, and no transparent huge pages.
//!
//! Why no huge pages: mimalloc advises the kernel to back its arenas with 2 MiB pages
//! (`MADV_HUGEPAGE`), and it returns freed memory to the system within milliseconds. A task's
//! buffers are freed and asked for again every few milliseconds, so each huge page comes back
//! as a fault that zeroes 2 MiB, often for a buffer that uses part of it. Measured on the 512^3
//! volume, 2 threads, 3 alternating rounds (2026-11-28, load 1.5): with huge pages the kernel's
//! page zeroing was a third of the seed chain's samples; without them the seed chain took
//! 2.25-2.87 CPU-s instead of 3.10-3.35 and peaked at 231-238 MiB instead of 264-271, and the
//! gaussian 2.80-3.51 CPU-s instead of 2.92-4.16 at 189-198 MiB instead of 223-226.
//!
//! Why freed memory waits 100 ms before it goes back: the buffers of one task are asked for
//! again by the next task on the same worker a few to a few hundred milliseconds later; the
//! ones the recycling allocator does not keep (zarrs' encoded chunks and codec outputs, sizes
//! below its threshold, classes beyond its slots) come back from the system as fresh pages,
//! each a fault that zeroes 4 KiB. Measured on the 512^3 volume, 2 threads, 4 alternating
//! rounds (2026-11-28, load 1.2-1.5), purge delay 10 ms against 100 ms: clip 0.94-1.18 s
//! against 0.62-0.77 s (59 000 page faults against 17 500; system time 0.8-1.15 s against
//! 0.23-0.31 s), the seed chain 1.34-1.46 s against 1.08-1.23 s; peak RSS 10-25 MiB higher
//! (clip 72 MiB, seed chain 252-271 MiB). A slab-to-block rechunk under a 128 MiB limit
//! peaked at 107-110 MiB (94-115 MiB with 10 ms).

/// Sets the process up as the measurements above were made: mimalloc returns freed memory after
/// 100 ms (unless `MIMALLOC_PURGE_DELAY` is set), and transparent huge pages are off for the
/// process (Linux; elsewhere nothing). Call it first thing in `main`, before threads start.
pub fn tune_for_chunked_work() {
    return_freed_memory_promptly();
    no_transparent_huge_pages();
}

/// mimalloc 3 keeps freed memory for a second before returning it to the system (its
/// `purge_delay`, 1000 ms), which adds 30-60 MiB to a gaussian's resident set for little
/// speed; 10 ms (mimalloc 2's default) returns it before the next task can reuse it (see the
/// module's measurements). 100 ms keeps it across a task or two.
fn return_freed_memory_promptly() {
    /// `mi_option_purge_delay` in mimalloc 3's `mimalloc.h` (libmimalloc-sys 0.1.49).
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    const MILLISECONDS: std::ffi::c_long = 100;
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets one option to a value mimalloc documents; no memory is touched.
        #[allow(unsafe_code)]
        unsafe {
            libmimalloc_sys::mi_option_set(PURGE_DELAY, MILLISECONDS);
        }
    }
}

/// Turns transparent huge pages off for the whole process. mimalloc's own `allow_thp` option
/// is read when it maps its first arena, before `main`; the process flag set here also covers
/// memory mapped and advised before it. A failure (an old kernel) leaves things as they were.
fn no_transparent_huge_pages() {
    if !set_thp_disabled(true) {
        tracing::debug!("transparent huge pages could not be turned off");
    }
}

/// Sets the process's "no transparent huge pages" flag (Linux); false when it could not be set
/// (elsewhere, or an old kernel).
fn set_thp_disabled(disabled: bool) -> bool {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: PR_SET_THP_DISABLE takes plain integers and touches no memory of ours.
        #[allow(unsafe_code)]
        let status = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, u64::from(disabled), 0, 0, 0) };
        status == 0
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = disabled;
        false
    }
}

/// Whether the process's "no transparent huge pages" flag is set (false where unknown).
fn thp_disabled() -> bool {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: PR_GET_THP_DISABLE takes plain integers and touches no memory of ours.
        #[allow(unsafe_code)]
        let status = unsafe { libc::prctl(libc::PR_GET_THP_DISABLE, 0, 0, 0, 0) };
        status == 1
    }
    #[cfg(not(target_os = "linux"))]
    false
}

/// Runs started and not yet ended under [`HugePagesOffDuringRun`], and whether the flag was
/// already set when the first of them started.
static RUNS_WITHOUT_HUGE_PAGES: std::sync::Mutex<(usize, bool)> = std::sync::Mutex::new((0, false));

/// Transparent huge pages off while a run is going on, in a process that is not chunkwise's
/// own (the Python module, a program embedding the library): the flag is set when the first
/// guard is made and put back as it was when the last one is dropped, so the host process
/// keeps its setting outside runs.
///
/// Why: as in the command line (see the module's notes), the engine's buffers, freed and asked
/// for again task after task, come back as 2 MiB faults with huge pages on. Measured through
/// the Python module, seed chain on the 512^3 volume, 2 threads, 6 alternating rounds
/// (2026-11-28, load 1.5-2): 0.97-1.23 s (median 1.17) with huge pages off, against 0.98-2.06 s
/// (1.34) with them on; peak RSS 301-317 MiB against 318-356.
pub struct HugePagesOffDuringRun {
    _private: (),
}

impl HugePagesOffDuringRun {
    /// Turns huge pages off, unless a run already did.
    pub fn new() -> Self {
        let mut runs = RUNS_WITHOUT_HUGE_PAGES
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if runs.0 == 0 {
            runs.1 = thp_disabled();
            if !runs.1 {
                set_thp_disabled(true);
            }
        }
        runs.0 += 1;
        HugePagesOffDuringRun { _private: () }
    }
}

impl Default for HugePagesOffDuringRun {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for HugePagesOffDuringRun {
    fn drop(&mut self) {
        let mut runs = RUNS_WITHOUT_HUGE_PAGES
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        runs.0 -= 1;
        if runs.0 == 0 && !runs.1 {
            set_thp_disabled(false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_os = "linux")]
    fn huge_pages_are_off_during_runs_and_as_before_after_the_last() {
        let before = thp_disabled();
        {
            let first = HugePagesOffDuringRun::new();
            assert!(thp_disabled());
            let second = HugePagesOffDuringRun::new();
            drop(first);
            assert!(thp_disabled(), "still off while a run goes on");
            drop(second);
        }
        assert_eq!(thp_disabled(), before);
    }
}
