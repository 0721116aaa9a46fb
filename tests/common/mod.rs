//! Shared helpers for the integration tests: deterministic random arrays, the run settings every
//! test sweeps (chunkings, thread counts), and NaN-aware comparison.

#![allow(dead_code)]

pub mod distributed;
pub mod servers;

use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chunkwise::engine::store::{IoContext, MemorySource, Source};
use chunkwise::prelude::*;
use chunkwise::{ArrayMeta, Buffer, Element, Region};
use ndarray::ArrayD;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Thread counts every result must be independent of.
pub const THREADS: [usize; 3] = [1, 2, 7];

/// Shapes from 1-D to 4-D that do not divide the chunk shapes below, each with several chunkings.
pub fn shapes_and_chunkings() -> Vec<(Vec<usize>, Vec<Vec<u64>>)> {
    vec![
        (vec![1001], vec![vec![7], vec![128], vec![1001], vec![4096]]),
        (
            vec![37, 23],
            vec![vec![8, 5], vec![37, 23], vec![1, 23], vec![16, 64]],
        ),
        (
            vec![13, 7, 10],
            vec![vec![5, 3, 4], vec![13, 7, 10], vec![4, 4, 4], vec![1, 7, 3]],
        ),
        (
            vec![5, 6, 7, 3],
            vec![vec![2, 3, 4, 2], vec![5, 6, 7, 3], vec![3, 1, 5, 1]],
        ),
    ]
}

/// Run settings with `threads` workers and a roomy memory limit.
pub fn exec(threads: usize) -> ExecOptions {
    ExecOptions {
        threads,
        memory_limit: 1 << 30,
        ..ExecOptions::default()
    }
}

/// Random values of a type, covering its range (and NaN, infinities and signed zeros for floats).
pub trait RandomElement: Exact {
    /// One random value.
    fn random(rng: &mut StdRng) -> Self;
}

macro_rules! random_int {
    ($($t:ty),*) => {$(
        impl RandomElement for $t {
            fn random(rng: &mut StdRng) -> Self {
                match rng.random_range(0..4) {
                    0 => rng.random::<$t>(),
                    _ => rng.random_range(0..100u8) as $t,
                }
            }
        }
    )*};
}
random_int!(i8, i16, i32, i64, u8, u16, u32, u64);

macro_rules! random_float {
    ($($t:ty),*) => {$(
        impl RandomElement for $t {
            fn random(rng: &mut StdRng) -> Self {
                match rng.random_range(0..40) {
                    0 => <$t>::NAN,
                    1 => <$t>::INFINITY,
                    2 => -0.0,
                    3 => <$t>::MAX,
                    _ => rng.random_range(-1000.0..1000.0),
                }
            }
        }
    )*};
}
random_float!(f32, f64);

impl RandomElement for bool {
    fn random(rng: &mut StdRng) -> Self {
        rng.random()
    }
}

/// A deterministic random array.
pub fn random_array<T: RandomElement>(shape: &[usize], seed: u64) -> ArrayD<T> {
    let mut rng = StdRng::seed_from_u64(seed);
    let n: usize = shape.iter().product();
    let v: Vec<T> = (0..n).map(|_| T::random(&mut rng)).collect();
    ArrayD::from_shape_vec(shape.to_vec(), v).expect("shape matches")
}

/// Exact equality as the tests mean it: bit-identical, except that any NaN equals any NaN.
pub trait Exact: Element {
    /// True when `self` and `other` are the same value.
    fn same(&self, other: &Self) -> bool;
}

macro_rules! exact_eq {
    ($($t:ty),*) => {$( impl Exact for $t { fn same(&self, other: &Self) -> bool { self == other } } )*};
}
exact_eq!(bool, i8, i16, i32, i64, u8, u16, u32, u64);

macro_rules! exact_float {
    ($($t:ty),*) => {$(
        impl Exact for $t {
            fn same(&self, other: &Self) -> bool {
                self.to_bits() == other.to_bits() || (self.is_nan() && other.is_nan())
            }
        }
    )*};
}
exact_float!(f32, f64);

/// Asserts [`Exact`] equality element by element (so -0.0 differs from 0.0), naming the first
/// difference.
pub fn assert_same<T: Exact>(got: &ArrayD<T>, want: &ArrayD<T>, context: &str) {
    assert_eq!(got.shape(), want.shape(), "{context}: shape");
    for (i, (g, w)) in got.iter().zip(want.iter()).enumerate() {
        if !g.same(w) {
            panic!("{context}: element {i}: got {g:?}, want {w:?}");
        }
    }
}

/// Reads a fixture file of raw little-endian C-order values of `dtype` (NumPy's name for it).
pub fn load_le(path: &Path, dtype: &str) -> Buffer {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    macro_rules! le {
        ($t:ty) => {
            bytes
                .chunks_exact(std::mem::size_of::<$t>())
                .map(|c| <$t>::from_le_bytes(c.try_into().unwrap()))
                .collect()
        };
    }
    match dtype {
        "bool" => Buffer::Bool(bytes.iter().map(|&b| b != 0).collect()),
        "int8" => Buffer::Int8(bytes.iter().map(|&b| b as i8).collect()),
        "uint8" => Buffer::Uint8(bytes),
        "int16" => Buffer::Int16(le!(i16)),
        "uint16" => Buffer::Uint16(le!(u16)),
        "int32" => Buffer::Int32(le!(i32)),
        "uint32" => Buffer::Uint32(le!(u32)),
        "int64" => Buffer::Int64(le!(i64)),
        "uint64" => Buffer::Uint64(le!(u64)),
        "float32" => Buffer::Float32(le!(f32)),
        "float64" => Buffer::Float64(le!(f64)),
        other => panic!("fixture dtype {other}"),
    }
}

/// An array of a fixture's values (any element type) of `shape`, in chunks of `chunks`.
pub fn buffer_array(data: Buffer, shape: &[usize], chunks: &[u64]) -> Array {
    chunkwise::engine::dispatch!(Buffer, data, v => chunkwise::from_ndarray(
        ArrayD::from_shape_vec(shape.to_vec(), v).expect("the values fill the shape"),
        chunks,
    ))
    .expect("chunks fit the shape")
}

/// Computes `y` with `threads` workers and asserts that it has `want`'s type and, [`Exact`]ly,
/// its values (C order).
pub fn assert_computes_to(y: &Array, want: &Buffer, threads: usize, context: &str) {
    assert_eq!(y.dtype(), want.dtype(), "{context}: dtype");
    chunkwise::engine::dispatch!(Buffer, want, w => {
        let got = y.compute(&exec(threads)).expect("the array computes");
        let want = ArrayD::from_shape_vec(got.shape(), w.clone()).expect("sizes match");
        assert_same(&got, &want, context);
    })
}

/// A work directory holding `in.zarr`: a random uint16 array of `shape` (from `seed`) in chunks
/// of `chunks`, Zarr v3, zstd.
pub fn dir_with_input(shape: &[usize], chunks: &[u64], seed: u64) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let data: ArrayD<u16> = random_array(shape, seed);
    chunkwise::from_ndarray(data, chunks)
        .expect("chunks fit the shape")
        .to_zarr(
            dir.path().join("in.zarr"),
            &chunkwise::store::WriteOptions::default(),
            &exec(1),
        )
        .expect("the input is written");
    dir
}

/// An in-memory source that counts the elements read through it, to check that fused and
/// multi-level plans read each input element once.
#[derive(Debug)]
pub struct CountingSource {
    inner: MemorySource,
    elements: AtomicU64,
}

impl CountingSource {
    /// `data` stored with chunk shape `chunks`.
    pub fn new<T: Element>(data: &ArrayD<T>, chunks: &[u64]) -> Arc<Self> {
        let shape: Vec<u64> = data.shape().iter().map(|&n| n as u64).collect();
        let inner = MemorySource::new(
            T::into_buffer(data.iter().copied().collect()),
            shape,
            chunks.to_vec(),
        )
        .expect("chunks fit the shape");
        Arc::new(Self {
            inner,
            elements: AtomicU64::new(0),
        })
    }

    /// Elements read so far.
    pub fn elements_read(&self) -> u64 {
        self.elements.load(Ordering::Relaxed)
    }
}

impl Source for CountingSource {
    fn meta(&self) -> &ArrayMeta {
        self.inner.meta()
    }
    fn describe(&self) -> String {
        "counting".into()
    }
    fn identity(&self) -> serde_json::Value {
        self.inner.identity()
    }
    fn read(&self, region: &Region, io: &IoContext) -> chunkwise::Result<Buffer> {
        self.elements
            .fetch_add(region.num_elements(), Ordering::Relaxed);
        self.inner.read(region, io)
    }
}

/// Files under `dir`, recursively (0 when it does not exist yet).
pub fn count_files(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => count_files(&e.path()),
            _ => 1,
        })
        .sum()
}

/// Runs the `chunkwise` binary with `args`.
pub fn chunkwise_cmd(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chunkwise"))
        .args(args)
        .output()
        .expect("the binary runs")
}

/// Runs a failing command and checks the one-line error contract.
pub fn assert_fails(out: &Output, needle: &str) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(1), "exit code; stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "a panic: {stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line: {stderr}");
    assert!(lines[0].starts_with("error: "), "{stderr}");
    assert!(stderr.contains(needle), "expected {needle:?} in: {stderr}");
    stderr
}

/// Starts `command`, waits until `chunks` holds `files` files (or the process ended), sends
/// each of `signals` (names as `kill` takes them: `INT`, `TERM`, `KILL`) and returns what the
/// process said and its exit: a stop point set by progress, not time, which a busy machine
/// would shift past the end. A process that already ended still gets the signals (it is not
/// reaped yet); its exit status then shows it was not interrupted.
pub fn signal_once_written(
    mut command: std::process::Command,
    chunks: &Path,
    files: usize,
    signals: &[&str],
) -> std::process::Output {
    use std::process::{Command, Stdio};
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the command starts");
    while count_files(chunks) < files && child.try_wait().expect("waitable").is_none() {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    for signal in signals {
        let sent = Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "kill -{signal}");
    }
    child.wait_with_output().expect("the command ends")
}
