//! Fused vs unfused element-wise chain on an in-memory 128^3 uint16 volume (chunks 64^3, 1 thread).
//!
//! The chain is `astype(f32) * 1.5 + 100 -> clip(0, 65535) / 2 -> astype(u16)`, five ops plus the
//! final cast. Three variants:
//! - `fused`: chunkwise as intended; the planner fuses the chain into one pass that streams each
//!   chunk through cache-sized blocks, so intermediates never leave L1/L2.
//! - `unfused`: every op is materialized into a whole ndarray and re-wrapped with `from_ndarray`
//!   before the next op, which is what an eager one-op-per-pass tool does (6 full passes, each
//!   writing a 8 MiB float32 intermediate).
//! - `ndarray_mapv`: a naive whole-array `mapv` chain in plain ndarray, the reference for scale.
//!
//! The fused/unfused ratio is the payoff of fusion. Throughput is bytes of input (128^3 * 2).

// `criterion_group!` generates an undocumented `pub fn`.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use chunkwise::prelude::*;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ndarray::ArrayD;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const SIDE: usize = 128;
const CHUNKS: [u64; 3] = [64, 64, 64];

fn exec() -> ExecOptions {
    ExecOptions {
        threads: 1,
        memory_limit: 1 << 30,
        ..Default::default()
    }
}

fn input() -> ArrayD<u16> {
    let mut rng = StdRng::seed_from_u64(42);
    let v: Vec<u16> = (0..SIDE * SIDE * SIDE).map(|_| rng.random()).collect();
    ArrayD::from_shape_vec(vec![SIDE; 3], v).expect("shape matches")
}

/// The whole chain as one lazy expression.
fn fused(x: &Array, exec: &ExecOptions) -> chunkwise::Result<ArrayD<u16>> {
    x.astype(DType::Float32)?
        .mul(1.5)?
        .add(100)?
        .clip(0, 65535)?
        .div(2)?
        .astype(DType::Uint16)?
        .compute::<u16>(exec)
}

/// Computes one op's result into memory and wraps it again as a fresh source.
fn materialize(y: Array, exec: &ExecOptions) -> chunkwise::Result<Array> {
    let data: ArrayD<f32> = y.compute(exec)?;
    from_ndarray(data, &CHUNKS)
}

/// The same chain with every intermediate materialized (one pass per op).
fn unfused(x: &Array, exec: &ExecOptions) -> chunkwise::Result<ArrayD<u16>> {
    let y = materialize(x.astype(DType::Float32)?, exec)?;
    let y = materialize(y.mul(1.5)?, exec)?;
    let y = materialize(y.add(100)?, exec)?;
    let y = materialize(y.clip(0, 65535)?, exec)?;
    let y = materialize(y.div(2)?, exec)?;
    y.astype(DType::Uint16)?.compute::<u16>(exec)
}

/// Plain ndarray, one allocating `mapv` per op.
fn ndarray_mapv(x: &ArrayD<u16>) -> ArrayD<u16> {
    x.mapv(|v| v as f32)
        .mapv(|v| v * 1.5)
        .mapv(|v| v + 100.0)
        .mapv(|v| v.clamp(0.0, 65535.0))
        .mapv(|v| v / 2.0)
        .mapv(|v| v as u16)
}

fn fusion(c: &mut Criterion) {
    let data = input();
    let x = from_ndarray(data.clone(), &CHUNKS).expect("valid chunks");
    let exec = exec();

    // The variants must agree, or the comparison means nothing.
    let want = fused(&x, &exec).expect("fused chain runs");
    assert_eq!(unfused(&x, &exec).expect("unfused chain runs"), want);
    assert_eq!(ndarray_mapv(&data), want);

    let mut group = c.benchmark_group("fusion_chain_128cube_u16");
    group.throughput(Throughput::Bytes((SIDE * SIDE * SIDE * 2) as u64));
    group.bench_function("fused", |b| {
        b.iter(|| black_box(fused(&x, &exec).expect("fused chain runs")))
    });
    group.bench_function("unfused", |b| {
        b.iter(|| black_box(unfused(&x, &exec).expect("unfused chain runs")))
    });
    group.bench_function("ndarray_mapv", |b| {
        b.iter(|| black_box(ndarray_mapv(&data)))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    targets = fusion
}
criterion_main!(benches);
