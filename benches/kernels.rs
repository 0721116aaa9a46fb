//! Throughput of single element-wise kernels on in-memory data (128^3 elements, chunks 64^3,
//! 1 thread).
//!
//! Each benchmark runs one op end to end through `compute`: chunk reads from a memory source, the
//! (one-instruction) fused program, and the copy into the result. With nothing else fused in,
//! this is the per-op floor of a pipeline and shows whether each kernel vectorizes: a kernel far
//! below memory bandwidth points at a scalar loop or per-element dispatch. Throughput is bytes of
//! input read (both operands for the array-array add).

// `criterion_group!` generates an undocumented `pub fn`.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use chunkwise::prelude::*;
use chunkwise::Element;
use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use ndarray::ArrayD;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const SIDE: usize = 128;
const N: usize = SIDE * SIDE * SIDE;
const CHUNKS: [u64; 3] = [64, 64, 64];

fn exec() -> ExecOptions {
    ExecOptions {
        threads: 1,
        memory_limit: 1 << 30,
        ..Default::default()
    }
}

fn wrap<T: Element>(v: Vec<T>) -> Array {
    let data = ArrayD::from_shape_vec(vec![SIDE; 3], v).expect("shape matches");
    from_ndarray(data, &CHUNKS).expect("valid chunks")
}

/// Benchmarks computing `y` (built once; only the run is timed) as output type `T`.
fn bench<T: Element>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    input_bytes: usize,
    y: &Array,
    exec: &ExecOptions,
) {
    group.throughput(Throughput::Bytes(input_bytes as u64));
    group.bench_function(name, |b| {
        b.iter(|| black_box(y.compute::<T>(exec).expect("kernel runs")))
    });
}

fn kernels(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(7);
    let u16s = wrap((0..N).map(|_| rng.random::<u16>()).collect::<Vec<_>>());
    let f32a = wrap(
        (0..N)
            .map(|_| rng.random_range(0.0f32..65535.0))
            .collect::<Vec<_>>(),
    );
    let f32b = wrap(
        (0..N)
            .map(|_| rng.random_range(0.0f32..65535.0))
            .collect::<Vec<_>>(),
    );
    let exec = exec();
    let (b16, b32) = (N * 2, N * 4);

    let mut group = c.benchmark_group("kernels_128cube");
    let y = u16s.clip(1000, 60000).expect("clip u16");
    bench::<u16>(&mut group, "clip_u16", b16, &y, &exec);
    let y = f32a.clip(1000.0, 60000.0).expect("clip f32");
    bench::<f32>(&mut group, "clip_f32", b32, &y, &exec);
    let y = u16s.astype(DType::Float32).expect("astype u16->f32");
    bench::<f32>(&mut group, "astype_u16_f32", b16, &y, &exec);
    let y = f32a.astype(DType::Uint16).expect("astype f32->u16");
    bench::<u16>(&mut group, "astype_f32_u16", b32, &y, &exec);
    let y = f32a.mul(1.5).expect("mul scalar f32");
    bench::<f32>(&mut group, "mul_scalar_f32", b32, &y, &exec);
    let y = f32a.add(&f32b).expect("add arrays f32");
    bench::<f32>(&mut group, "add_arrays_f32", 2 * b32, &y, &exec);
    let y = u16s.threshold(30000).expect("threshold u16");
    bench::<u8>(&mut group, "threshold_u16", b16, &y, &exec);
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(15)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = kernels
}
criterion_main!(benches);
