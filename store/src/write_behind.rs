//! Writes stored behind compute: an object store answers each PUT in tens of milliseconds, so a
//! worker that waited for its chunk's PUT would spend most of a copy waiting. A sink hands the
//! encoded chunk to the store's client and goes on; this counts what is in flight, so that the
//! bytes held never pass the share of the memory limit the run reserved for them
//! ([`chunkwise_engine::store::IoContext::write_behind_bytes`]) and the requests never pass the
//! depth asked for, and it keeps the first failure for the next write (which then fails the
//! run) and for [`WriteBehind::drain`], which [`chunkwise_engine::store::Sink::finish`] calls
//! before the metadata is written.

use std::sync::{Condvar, Mutex, MutexGuard};

#[derive(Debug, Default)]
struct InFlight {
    bytes: u64,
    /// The most `bytes` ever held at once.
    peak: u64,
    requests: usize,
    failure: Option<String>,
}

/// What one sink has in flight.
#[derive(Debug, Default)]
pub(crate) struct WriteBehind {
    state: Mutex<InFlight>,
    changed: Condvar,
}

impl WriteBehind {
    fn lock(&self) -> MutexGuard<'_, InFlight> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits until `bytes` more fit within `cap` bytes and `depth` requests, then counts them
    /// as in flight. False, counting nothing, when `bytes` alone exceed `cap` (the write is
    /// then stored at once, held by its task, as without writing behind).
    ///
    /// # Errors
    /// The failure of an earlier write in flight.
    pub(crate) fn admit(&self, bytes: u64, cap: u64, depth: usize) -> Result<bool, String> {
        if bytes > cap || depth == 0 {
            self.failed()?;
            return Ok(false);
        }
        let mut state = self.lock();
        loop {
            if let Some(failure) = &state.failure {
                return Err(failure.clone());
            }
            if state.requests < depth && state.bytes + bytes <= cap {
                state.requests += 1;
                state.bytes += bytes;
                state.peak = state.peak.max(state.bytes);
                return Ok(true);
            }
            state = self.changed.wait(state).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Notes that a write of `bytes` admitted earlier ended with `outcome`.
    pub(crate) fn done(&self, bytes: u64, outcome: Result<(), String>) {
        let mut state = self.lock();
        state.requests -= 1;
        state.bytes -= bytes;
        if let Err(e) = outcome {
            state.failure.get_or_insert(e);
        }
        self.changed.notify_all();
    }

    /// The most bytes ever in flight at once.
    pub(crate) fn peak(&self) -> u64 {
        self.lock().peak
    }

    /// The failure of an earlier write, if one failed.
    ///
    /// # Errors
    /// That failure.
    pub(crate) fn failed(&self) -> Result<(), String> {
        match &self.lock().failure {
            Some(failure) => Err(failure.clone()),
            None => Ok(()),
        }
    }

    /// Waits until every write in flight has ended.
    ///
    /// # Errors
    /// The first failure among them (or before them).
    pub(crate) fn drain(&self) -> Result<(), String> {
        let mut state = self.lock();
        while state.requests > 0 {
            state = self.changed.wait(state).unwrap_or_else(|p| p.into_inner());
        }
        match &state.failure {
            Some(failure) => Err(failure.clone()),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    #[test]
    fn writes_wait_for_room_and_a_failure_stops_the_next() {
        let w = Arc::new(WriteBehind::default());
        assert_eq!(
            w.admit(10, 5, 4),
            Ok(false),
            "larger than the cap: stored at once"
        );
        assert_eq!(w.admit(3, 5, 4), Ok(true));
        // 3 + 3 > 5: the second waits until the first is done.
        let other = Arc::clone(&w);
        let waiter = std::thread::spawn(move || other.admit(3, 5, 4));
        std::thread::sleep(Duration::from_millis(50));
        assert!(!waiter.is_finished(), "admitted past the byte cap");
        w.done(3, Ok(()));
        assert_eq!(waiter.join().unwrap(), Ok(true));
        assert_eq!(w.peak(), 3, "the second waited until the first was done");
        w.done(3, Err("PUT failed".into()));
        assert_eq!(w.admit(1, 5, 4), Err("PUT failed".into()));
        assert_eq!(w.drain(), Err("PUT failed".into()));
    }

    #[test]
    fn the_depth_bounds_the_requests_in_flight() {
        let w = WriteBehind::default();
        assert_eq!(w.admit(1, 100, 1), Ok(true));
        let w = Arc::new(w);
        let other = Arc::clone(&w);
        let waiter = std::thread::spawn(move || other.admit(1, 100, 1));
        std::thread::sleep(Duration::from_millis(50));
        assert!(!waiter.is_finished(), "admitted past the depth");
        w.done(1, Ok(()));
        assert_eq!(waiter.join().unwrap(), Ok(true));
        w.done(1, Ok(()));
        assert_eq!(w.drain(), Ok(()));
    }
}
