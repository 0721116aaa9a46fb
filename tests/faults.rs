//! Fault injection: a source that fails (or panics) on its k-th read and a sink that fails on its
//! k-th write, for many k, thread counts and a plan with results held between stages. Every run
//! must stop promptly with one error naming the task's op, chunk and cause, leave no output, and
//! leave no worker thread behind.

mod common;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use chunkwise::engine::store::{IoContext, Sink, Source};
use chunkwise::engine::ChunkGrid;
use chunkwise::ops::stencil::{gaussian_filter, FilterOptions};
use chunkwise::prelude::*;
use chunkwise::store::ZarrSink;
use chunkwise::{ArrayMeta, Buffer, Error, Region, Result};
use common::{exec, random_array};
use ndarray::ArrayD;

/// Reads through `inner`, failing the `fail_at`-th read (from 0) with an I/O error or a panic.
#[derive(Debug)]
struct FaultySource {
    inner: Arc<dyn Source>,
    reads: AtomicUsize,
    fail_at: usize,
    panic: bool,
    /// The most worker threads [`live_workers`] saw during a read (it must see the reader's).
    workers_seen: AtomicUsize,
}

impl Source for FaultySource {
    fn meta(&self) -> &ArrayMeta {
        self.inner.meta()
    }
    fn describe(&self) -> String {
        "faulty source".into()
    }
    fn identity(&self) -> serde_json::Value {
        self.inner.identity()
    }
    fn read(&self, region: &Region, io: &IoContext) -> Result<Buffer> {
        self.workers_seen
            .fetch_max(live_workers().len(), Ordering::SeqCst);
        if self.reads.fetch_add(1, Ordering::SeqCst) == self.fail_at {
            if self.panic {
                panic!("injected panic");
            }
            return Err(Error::Invalid("injected read failure".into()));
        }
        self.inner.read(region, io)
    }
}

/// Writes through a real Zarr sink, failing the `fail_at`-th write.
#[derive(Debug)]
struct FaultySink {
    inner: ZarrSink,
    writes: AtomicUsize,
    fail_at: usize,
}

impl Sink for FaultySink {
    fn meta(&self) -> &ArrayMeta {
        self.inner.meta()
    }
    fn write_grid(&self) -> ChunkGrid {
        self.inner.write_grid()
    }
    fn describe(&self) -> String {
        self.inner.describe()
    }
    fn validate(&self) -> Result<()> {
        self.inner.validate()
    }
    fn prepare(&self) -> Result<()> {
        self.inner.prepare()
    }
    fn write(&self, unit: &[u64], region: &Region, data: &Buffer, io: &IoContext) -> Result<()> {
        if self.writes.fetch_add(1, Ordering::SeqCst) == self.fail_at {
            return Err(Error::Invalid("injected write failure".into()));
        }
        self.inner.write(unit, region, data, io)
    }
    fn finish(&self) -> Result<()> {
        self.inner.finish()
    }
    fn abort(&self) {
        self.inner.abort();
    }
}

/// x -> gaussian -> 2x downsample, with both the gaussian and the downsample written: the
/// gaussian's chunks are held for the downsample (a chunk-level DAG between stages).
fn pipeline(x: &Array, dir: &Path, sink_fault: Option<usize>) -> Pipeline {
    let smooth = gaussian_filter(x, &[1.0; 3], 4.0, &FilterOptions::default()).unwrap();
    let small = smooth
        .downsample(&[2, 2, 2], DownsampleMethod::Mean)
        .unwrap();
    let mut p = Pipeline::new();
    for (name, array) in [("smooth.zarr", &smooth), ("small.zarr", &small)] {
        let inner = ZarrSink::new(
            dir.join(name),
            array.shape().to_vec(),
            array.meta().chunks.clone(),
            array.dtype(),
            &WriteOptions::default(),
        )
        .unwrap();
        let sink = FaultySink {
            inner,
            writes: AtomicUsize::new(0),
            fail_at: sink_fault
                .filter(|_| name == "small.zarr")
                .unwrap_or(usize::MAX),
        };
        p.write_to(array, Arc::new(sink));
    }
    p
}

/// The tests of this file run one at a time, so the worker threads seen are their own.
static SERIAL: Mutex<()> = Mutex::new(());

/// Runs with a watchdog: a deadlock fails the test instead of hanging it.
fn run_with_watchdog(p: Pipeline, threads: usize) -> Result<chunkwise::RunStats> {
    let (tx, rx) = mpsc::channel();
    let runner = std::thread::spawn(move || {
        let _ = tx.send(p.run(&exec(threads)));
    });
    let outcome = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the run neither finished nor failed within 60 s");
    runner.join().expect("the run's thread panicked");
    outcome
}

/// The run's worker threads still alive in this process (workers are named
/// `chunkwise-worker-N`; Linux shows the first 15 bytes of a thread's name).
fn live_workers() -> Vec<String> {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Vec::new();
    };
    tasks
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .map(|name| name.trim().to_string())
        .filter(|name| name.starts_with("chunkwise-work"))
        .collect()
}

fn source(data: &ArrayD<u16>) -> Arc<dyn Source> {
    let x = chunkwise::from_ndarray(data.clone(), &[8, 8, 8]).unwrap();
    match x.node() {
        chunkwise::engine::NodeKind::Source(s) => Arc::clone(s),
        _ => unreachable!(),
    }
}

#[test]
fn a_failing_or_panicking_read_stops_the_run_with_one_error_and_no_output() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let data: ArrayD<u16> = random_array(&[24, 24, 16], 21);
    let dir = tempfile::tempdir().unwrap();
    // How many reads a clean run makes.
    let counting = Arc::new(FaultySource {
        inner: source(&data),
        reads: AtomicUsize::new(0),
        fail_at: usize::MAX,
        panic: false,
        workers_seen: AtomicUsize::new(0),
    });
    let clean = pipeline(&Array::from_source(counting.clone()), dir.path(), None);
    run_with_watchdog(clean, 2).unwrap();
    let reads = counting.reads.load(Ordering::SeqCst);
    assert!(reads > 10, "{reads} reads");
    if cfg!(target_os = "linux") {
        // Threads are listed in /proc: the check below can see a live worker.
        let seen = counting.workers_seen.load(Ordering::SeqCst);
        assert_eq!(seen, 2, "both workers, by name");
    }
    assert_eq!(
        live_workers(),
        Vec::<String>::new(),
        "a finished run leaves none"
    );
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        std::fs::remove_dir_all(entry.unwrap().path()).unwrap();
    }
    for k in (0..reads).step_by((reads / 12).max(1)) {
        for panic in [false, true] {
            for threads in [1, 3] {
                let faulty = Arc::new(FaultySource {
                    inner: source(&data),
                    reads: AtomicUsize::new(0),
                    fail_at: k,
                    panic,
                    workers_seen: AtomicUsize::new(0),
                });
                let p = pipeline(&Array::from_source(faulty), dir.path(), None);
                let err = run_with_watchdog(p, threads).unwrap_err();
                let text = err.to_string();
                let ctx = format!("read {k}, panic {panic}, threads {threads}: {text}");
                assert!(matches!(err, Error::Task { .. }), "{ctx}");
                assert!(text.contains("injected"), "{ctx}");
                assert!(text.contains("gaussian_filter"), "{ctx}");
                assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "{ctx}");
                assert_eq!(live_workers(), Vec::<String>::new(), "{ctx}");
            }
        }
    }
}

#[test]
fn a_failing_write_stops_the_run_with_one_error_and_no_output() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let data: ArrayD<u16> = random_array(&[24, 24, 16], 22);
    let dir = tempfile::tempdir().unwrap();
    let x = chunkwise::from_ndarray(data, &[8, 8, 8]).unwrap();
    // The downsample writes 2 x 2 x 1 chunks of 8^3... of a 12 x 12 x 8 result: 4 writes.
    for k in 0..4 {
        for threads in [1, 3] {
            let err = run_with_watchdog(pipeline(&x, dir.path(), Some(k)), threads).unwrap_err();
            let ctx = format!("write {k}, threads {threads}: {err}");
            assert!(matches!(err, Error::Task { .. }), "{ctx}");
            assert!(err.to_string().contains("injected write failure"), "{ctx}");
            assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "{ctx}");
            assert_eq!(live_workers(), Vec::<String>::new(), "{ctx}");
        }
    }
}
