//! Randomized stress test (fixed seed): 200 random pipelines — element-wise ops, resampling and
//! stencils, chained and with several outputs — on random shapes, dtypes, chunkings, thread
//! counts and memory limits down to a little above the largest task. Each output must equal the
//! same pipeline evaluated on the whole array as one chunk by one thread (the ops' values are
//! checked against NumPy/SciPy/TensorStore fixtures in their own tests; this checks that
//! chunking, fusion, stencil chains, held results, scheduling and the memory limit never change
//! a result), and the projected peak must stay within the limit.

mod common;

use chunkwise::engine::store::MemorySink;
use chunkwise::ops::stencil::{self as st, BoundaryMode, FilterOptions, Window};
use chunkwise::prelude::*;
use common::{assert_same, exec, random_array};
use ndarray::ArrayD;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// One random op applied to `a` (all choices drawn from `rng`, so two calls with equally seeded
/// generators build the same pipeline).
fn random_op(a: &Array, rng: &mut StdRng) -> Array {
    let mode = [
        BoundaryMode::Reflect,
        BoundaryMode::Mirror,
        BoundaryMode::Nearest,
        BoundaryMode::Wrap,
        BoundaryMode::Constant,
    ][rng.random_range(0..5)];
    let o = FilterOptions {
        mode,
        cval: 3.5,
        output: None,
    };
    let small = a.shape().iter().all(|&n| n <= 48);
    match rng.random_range(0..12) {
        0 => a.clip(10, 3000).unwrap(),
        1 => a.add(7).unwrap(),
        2 => a.mul(a).unwrap(),
        3 => a.astype(DType::Float32).unwrap(),
        4 => a
            .downsample(
                &[2, 1, 3],
                [DownsampleMethod::Mean, DownsampleMethod::Max][rng.random_range(0..2)],
            )
            .unwrap(),
        5 if small => a
            .upsample(
                &[2, 1, 2],
                [UpsampleMethod::Nearest, UpsampleMethod::Linear][rng.random_range(0..2)],
            )
            .unwrap(),
        6 => st::gaussian_filter(a, &[1.0, 0.0, 1.5], 3.0, &o).unwrap(),
        7 => st::uniform_filter(a, &[3, 2, 1], &[], &o).unwrap(),
        8 => st::median_filter(a, &Window::Size(vec![3, 3, 1]), &[], &o).unwrap(),
        9 => st::sobel(a, rng.random_range(0..3), &o).unwrap(),
        10 => st::laplace(a, &o).unwrap(),
        _ => st::minimum_filter(a, &Window::Size(vec![2, 3, 2]), &[], &o).unwrap(),
    }
}

/// The pipeline of `seed` on `data` chunked `chunks`: its outputs.
fn build(data: &ArrayD<u16>, chunks: &[u64], seed: u64) -> Vec<Array> {
    let mut rng = StdRng::seed_from_u64(seed);
    let x = chunkwise::from_ndarray(data.clone(), chunks).unwrap();
    let mut values = vec![x];
    for _ in 0..rng.random_range(1..5) {
        let from = rng.random_range(0..values.len());
        let next = random_op(&values[from], &mut rng);
        values.push(next);
    }
    let mut outputs = vec![values.pop().unwrap()];
    if values.len() > 1 && rng.random_bool(0.5) {
        outputs.push(values.pop().unwrap());
    }
    outputs
        .into_iter()
        .map(|a| a.astype(DType::Float64).unwrap())
        .collect()
}

fn compute_all(outputs: &[Array], options: &ExecOptions) -> Vec<ArrayD<f64>> {
    outputs
        .iter()
        .map(|a| a.compute(options).unwrap())
        .collect()
}

#[test]
fn two_hundred_random_pipelines_match_the_whole_array_evaluation() {
    let mut rng = StdRng::seed_from_u64(4242);
    for case in 0..200u64 {
        let shape: Vec<usize> = (0..3).map(|_| rng.random_range(3..40)).collect();
        let data: ArrayD<u16> = random_array::<u16>(&shape, case).mapv(|v| v % 5000);
        let chunks: Vec<u64> = shape
            .iter()
            .map(|&n| rng.random_range(1..=n as u64).max(2))
            .collect();
        let whole: Vec<u64> = shape.iter().map(|&n| n as u64).collect();
        let want = compute_all(&build(&data, &whole, case), &exec(1));
        let outputs = build(&data, &chunks, case);
        let threads = rng.random_range(1..5);
        // A roomy limit, or one a little above the largest task of the plan.
        let mut pipeline = Pipeline::new();
        let sinks: Vec<_> = outputs
            .iter()
            .map(|out| std::sync::Arc::new(MemorySink::new(out.meta().clone())))
            .collect();
        for (out, sink) in outputs.iter().zip(&sinks) {
            pipeline.write_to(out, sink.clone());
        }
        let largest = pipeline
            .plan(&exec(threads))
            .unwrap()
            .stages
            .iter()
            .map(|s| s.task_bytes + s.held_bytes)
            .max()
            .unwrap_or(0);
        let mut limit = if rng.random_bool(0.5) {
            1 << 30
        } else {
            largest + rng.random_range(0..largest.max(1))
        };
        // A limit too small for the plan is refused at plan time with the size it needs (results
        // kept between stages included): then double it, as a user would.
        let options = loop {
            let options = ExecOptions {
                memory_limit: limit,
                ..exec(threads)
            };
            match pipeline.plan(&options) {
                Ok(_) => break options,
                Err(chunkwise::Error::MemoryLimit { task: needed, .. }) => {
                    assert!(needed > limit, "case {case}");
                    limit *= 2;
                }
                Err(e) => panic!("case {case}: {e}"),
            }
        };
        let stats = pipeline.run(&options).unwrap();
        assert!(
            stats.peak_projected_bytes <= limit,
            "case {case}: peak {} over limit {limit}",
            stats.peak_projected_bytes
        );
        // What this one multi-output run wrote, under its limit.
        let got: Vec<ArrayD<f64>> = sinks
            .iter()
            .zip(&want)
            .map(|(sink, w)| match sink.take() {
                chunkwise::Buffer::Float64(v) => ArrayD::from_shape_vec(w.shape(), v).unwrap(),
                other => panic!("case {case}: {:?} output", other.dtype()),
            })
            .collect();
        for (k, (g, w)) in got.iter().zip(&want).enumerate() {
            let ctx = format!("case {case} output {k}: shape {shape:?} chunks {chunks:?} threads {threads} limit {limit}");
            assert_same(g, w, &ctx);
        }
    }
}

/// `compute()` holds its whole result in memory, so the result counts against the limit: one
/// that cannot fit is refused with what to do instead, and the run gets what the result leaves.
#[test]
fn compute_counts_its_result_against_the_memory_limit() {
    let data: ArrayD<f64> = common::random_array(&[64, 64, 64], 5);
    let x = chunkwise::from_ndarray(data.clone(), &[16, 16, 16]).unwrap();
    let tight = ExecOptions {
        memory_limit: 2 << 20,
        ..exec(2)
    };
    let err = x.compute::<f64>(&tight).unwrap_err().to_string();
    assert!(
        err.contains("the result is 2.0 MiB") && err.contains("to_zarr"),
        "{err}"
    );
    let roomy = ExecOptions {
        memory_limit: 3 << 20,
        ..exec(2)
    };
    assert_same(
        &x.compute::<f64>(&roomy).unwrap(),
        &data,
        "2 MiB result, 3 MiB limit",
    );
}
