//! Every stencil filter against scipy.ndimage fixtures (tests/fixtures/stencil, with the script
//! that made them): every boundary mode, 1-D to 4-D, several dtypes, origins, footprints, sigma 0
//! on an axis, halos larger than a chunk and than the axis, several chunkings and thread counts;
//! float32 relative error <= 1e-5 and results independent of chunking and threads.

mod common;

use std::path::{Path, PathBuf};

use chunkwise::engine::plan::StencilChains;
use chunkwise::engine::NodeKind;
use chunkwise::ops::stencil::{
    convolve, correlate, gaussian_filter, gaussian_gradient_magnitude, laplace, maximum_filter,
    median_filter, minimum_filter, sobel, uniform_filter, BoundaryMode, FilterOptions, Weights,
    Window,
};
use chunkwise::prelude::*;
use chunkwise::Buffer;
use common::exec;
use ndarray::ArrayD;
use serde_json::Value;
use std::sync::Arc;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/stencil")
}

fn as_f64(b: Buffer) -> Vec<f64> {
    match b {
        Buffer::Float32(v) => v.into_iter().map(f64::from).collect(),
        Buffer::Float64(v) => v,
        other => panic!("unexpected output {:?}", other.dtype()),
    }
}

fn input_array(b: Buffer, shape: &[u64], chunks: &[u64]) -> Array {
    let shape_usize: Vec<usize> = shape.iter().map(|&n| n as usize).collect();
    match b {
        Buffer::Uint8(v) => {
            chunkwise::from_ndarray(ArrayD::from_shape_vec(shape_usize, v).unwrap(), chunks)
        }
        Buffer::Uint16(v) => {
            chunkwise::from_ndarray(ArrayD::from_shape_vec(shape_usize, v).unwrap(), chunks)
        }
        Buffer::Int16(v) => {
            chunkwise::from_ndarray(ArrayD::from_shape_vec(shape_usize, v).unwrap(), chunks)
        }
        Buffer::Float32(v) => {
            chunkwise::from_ndarray(ArrayD::from_shape_vec(shape_usize, v).unwrap(), chunks)
        }
        Buffer::Float64(v) => {
            chunkwise::from_ndarray(ArrayD::from_shape_vec(shape_usize, v).unwrap(), chunks)
        }
        _ => unreachable!(),
    }
    .unwrap()
}

fn compute_f64(y: &Array, threads: usize) -> Vec<f64> {
    match y.dtype() {
        DType::Float32 => y
            .compute::<f32>(&exec(threads))
            .unwrap()
            .iter()
            .map(|&v| f64::from(v))
            .collect(),
        _ => y
            .compute::<f64>(&exec(threads))
            .unwrap()
            .iter()
            .copied()
            .collect(),
    }
}

/// The filter a manifest case names, on `x`.
fn build(case: &Value, x: &Array) -> Array {
    let p = &case["params"];
    let options = FilterOptions {
        mode: serde_json::from_value(case["mode"].clone()).unwrap(),
        cval: case["cval"].as_f64().unwrap(),
        output: None,
    };
    let floats = |v: &Value| -> Vec<f64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect()
    };
    let ints = |v: &Value| -> Vec<i64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect()
    };
    let sizes = |v: &Value| -> Vec<usize> { ints(v).into_iter().map(|n| n as usize).collect() };
    let nested = |v: &Value| -> (Vec<usize>, Vec<f64>) {
        let n: chunkwise::pipeline::Nested = serde_json::from_value(v.clone()).unwrap();
        (n.shape, n.values)
    };
    let origin = || p.get("origin").map(ints).unwrap_or_default();
    let weights = || match p.get("kernels") {
        Some(k) => Weights::Separable(k.as_array().unwrap().iter().map(floats).collect()),
        None => {
            let (shape, values) = nested(&p["weights"]);
            Weights::Full { shape, values }
        }
    };
    let window = || match p.get("size") {
        Some(size) => Window::Size(sizes(size)),
        None => {
            let (shape, values) = nested(&p["footprint"]);
            Window::Footprint {
                shape,
                mask: values.iter().map(|&v| v != 0.0).collect(),
            }
        }
    };
    let truncate = || p["truncate"].as_f64().unwrap();
    match case["filter"].as_str().unwrap() {
        "gaussian_filter" => gaussian_filter(x, &floats(&p["sigma"]), truncate(), &options),
        "gaussian_gradient_magnitude" => {
            gaussian_gradient_magnitude(x, &floats(&p["sigma"]), truncate(), &options)
        }
        "uniform_filter" => uniform_filter(x, &sizes(&p["size"]), &origin(), &options),
        "correlate" => correlate(x, &weights(), &origin(), &options),
        "convolve" => convolve(x, &weights(), &origin(), &options),
        "median_filter" => median_filter(x, &window(), &origin(), &options),
        "minimum_filter" => minimum_filter(x, &window(), &origin(), &options),
        "maximum_filter" => maximum_filter(x, &window(), &origin(), &options),
        "sobel" => sobel(x, p["axis"].as_i64().unwrap(), &options),
        "laplace" => laplace(x, &options),
        other => panic!("unknown filter {other}"),
    }
    .unwrap()
}

#[test]
fn every_filter_matches_scipy_on_every_mode_chunking_and_thread_count() {
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(fixtures().join("manifest.json")).unwrap()).unwrap();
    for case in manifest.as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let dtype = case["dtype"].as_str().unwrap();
        let shape: Vec<u64> = case["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect();
        let want = as_f64(common::load_le(
            &fixtures().join(format!("{name}.out.bin")),
            case["out_dtype"].as_str().unwrap(),
        ));
        let input = common::load_le(&fixtures().join(format!("{name}.in.bin")), dtype);
        let chunkings: Vec<Vec<u64>> = vec![
            shape.clone(),
            shape.iter().map(|&n| n.div_ceil(3).max(1)).collect(),
            shape.iter().map(|_| 2).collect(),
        ];
        // Relative to each value; near zero (sums that cancel: derivatives) relative to 1% of
        // the output's largest magnitude.
        let scale = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let mut reference: Option<Vec<f64>> = None;
        for chunks in &chunkings {
            for threads in [1, 2, 7] {
                let x = input_array(input.clone(), &shape, chunks);
                let got = compute_f64(&build(case, &x), threads);
                let ctx = format!("{name} chunks {chunks:?} threads {threads}");
                assert_eq!(got.len(), want.len(), "{ctx}");
                for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                    assert!(
                        (g - w).abs() <= 1e-5 * w.abs().max(1e-2 * scale),
                        "{ctx}: element {i}: got {g}, scipy {w}"
                    );
                }
                // Independent of chunking and threads: bit for bit.
                match &reference {
                    None => reference = Some(got),
                    Some(r) => assert!(
                        r.iter().zip(&got).all(|(a, b)| a.to_bits() == b.to_bits()),
                        "{ctx}: differs from another chunking"
                    ),
                }
            }
        }
    }
}

#[test]
fn clip_then_gaussian_fuses_and_bad_parameters_are_rejected() {
    let data: ArrayD<u16> = common::random_array(&[20, 16, 12], 2);
    let x = chunkwise::from_ndarray(data.clone(), &[8, 8, 8]).unwrap();
    let whole = chunkwise::from_ndarray(data.clone(), &[20, 16, 12]).unwrap();
    let build = |a: &Array| {
        gaussian_filter(
            &a.clip(10, 60).unwrap(),
            &[2.0, 2.0, 2.0],
            4.0,
            &FilterOptions::default(),
        )
        .unwrap()
    };
    let y = build(&x);
    let plan = ArrayExt::plan(&y, &exec(2)).unwrap();
    assert_eq!(plan.stages.len(), 1, "{}", plan.explain());
    let want: ArrayD<f32> = build(&whole).compute(&exec(1)).unwrap();
    let got: ArrayD<f32> = y.compute(&exec(2)).unwrap();
    common::assert_same(&got, &want, "clip -> gaussian");
    let reflect = FilterOptions::default();
    let to_u8 = FilterOptions {
        output: Some(DType::Uint8),
        ..FilterOptions::default()
    };
    assert!(gaussian_filter(&x, &[1.0], 4.0, &reflect).is_err());
    assert!(gaussian_filter(&x, &[1.0, -1.0, 1.0], 4.0, &reflect).is_err());
    assert!(gaussian_filter(&x, &[1.0, 1.0, 1.0], 4.0, &to_u8).is_err());
}

#[test]
fn wrap_mode_at_an_edge_reads_both_ends_not_the_whole_axis() {
    let data: ArrayD<f32> = common::random_array(&[100, 30], 3);
    let x = chunkwise::from_ndarray(data, &[10, 30]).unwrap();
    let wrap = FilterOptions {
        mode: BoundaryMode::Wrap,
        ..FilterOptions::default()
    };
    let y = gaussian_filter(&x, &[1.0, 0.0], 4.0, &wrap).unwrap();
    let NodeKind::Op { op, .. } = y.node() else {
        panic!("not an op")
    };
    let first = chunkwise::Region::new(vec![0, 0], vec![10, 30]);
    let pieces = op.input_pieces(&first, std::slice::from_ref(x.meta()));
    let rows: Vec<(u64, u64)> = pieces[0].iter().map(|r| (r.start[0], r.shape[0])).collect();
    assert_eq!(rows, vec![(0, 14), (96, 4)], "radius 4 at the low edge");
    let middle = chunkwise::Region::new(vec![50, 0], vec![10, 30]);
    let pieces = op.input_pieces(&middle, std::slice::from_ref(x.meta()));
    assert_eq!(pieces[0].len(), 1);
    assert_eq!((pieces[0][0].start[0], pieces[0][0].shape[0]), (46, 18));
}

#[test]
fn bad_filter_parameters_are_rejected_with_the_reason() {
    let data: ArrayD<u16> = common::random_array(&[10, 9, 8], 4);
    let x = chunkwise::from_ndarray(data, &[5, 5, 5]).unwrap();
    let o = FilterOptions::default();
    let message = |r: chunkwise::Result<Array>| r.unwrap_err().to_string();
    assert!(message(uniform_filter(&x, &[3, 3], &[], &o)).contains("one value per axis"));
    assert!(message(uniform_filter(&x, &[3, 0, 3], &[], &o)).contains("at least 1"));
    assert!(message(uniform_filter(&x, &[3, 3, 3], &[0, 2, 0], &o)).contains("origin 2"));
    let ragged = Weights::Full {
        shape: vec![2, 2, 2],
        values: vec![1.0; 7],
    };
    assert!(message(correlate(&x, &ragged, &[], &o)).contains("needs 8 weights"));
    let nan = Weights::Separable(vec![vec![1.0], vec![f64::NAN], vec![1.0]]);
    assert!(message(convolve(&x, &nan, &[], &o)).contains("finite"));
    let empty = Window::Footprint {
        shape: vec![1, 1, 2],
        mask: vec![false, false],
    };
    assert!(message(median_filter(&x, &empty, &[], &o)).contains("no position"));
    assert!(message(sobel(&x, 3, &o)).contains("axis 3"));
    assert!(
        message(gaussian_gradient_magnitude(&x, &[1.0, 1.0, 1.0], 0.0, &o)).contains("truncate")
    );
}

#[test]
fn stencil_chains_recomputed_or_materialized_give_the_same_result() {
    let data: ArrayD<u16> = common::random_array(&[30, 21, 17], 5);
    let build = |chunks: &[u64]| {
        let x = chunkwise::from_ndarray(data.clone(), chunks).unwrap();
        let o = FilterOptions::default();
        let smooth = gaussian_filter(&x, &[1.5, 1.0, 2.0], 4.0, &o).unwrap();
        let edges = sobel(&smooth, 0, &o).unwrap();
        // A third stencil reading the first as well: the producer feeds two consumers.
        let box_ = uniform_filter(&smooth, &[3, 3, 3], &[], &o).unwrap();
        edges.add(&box_).unwrap()
    };
    let whole = build(&[30, 21, 17]);
    let want: ArrayD<f32> = whole.compute(&exec(1)).unwrap();
    for chunks in [[8, 8, 8], [30, 5, 4], [3, 21, 17]] {
        let y = build(&chunks);
        for (chains, stages) in [
            (StencilChains::Recompute, 1),
            (StencilChains::Materialize, 2),
        ] {
            for threads in [1, 2, 7] {
                let options = ExecOptions {
                    stencil_chains: chains,
                    ..exec(threads)
                };
                let plan = ArrayExt::plan(&y, &options).unwrap();
                assert_eq!(plan.stages.len(), stages, "{chains:?}\n{}", plan.explain());
                let got: ArrayD<f32> = y.compute(&options).unwrap();
                common::assert_same(&got, &want, &format!("{chains:?} {chunks:?} {threads}"));
            }
        }
    }
    // Auto: a gaussian with a halo of 8 under a sobel on 32^3 chunks costs (34/32)^3 = 1.2x
    // to recompute; under another gaussian on 16^3 chunks (32/16)^3 = 8x: materialized.
    let big: ArrayD<u16> = common::random_array(&[64, 64, 64], 6);
    let o = FilterOptions::default();
    let stages = |chunk: u64, second: &dyn Fn(&Array) -> Array| {
        let x = chunkwise::from_ndarray(big.clone(), &[chunk; 3]).unwrap();
        let y = second(&gaussian_filter(&x, &[2.0; 3], 4.0, &o).unwrap());
        ArrayExt::plan(&y, &exec(2)).unwrap().stages.len()
    };
    assert_eq!(stages(32, &|a| sobel(a, 0, &o).unwrap()), 1);
    assert_eq!(
        stages(16, &|a| gaussian_filter(a, &[2.0; 3], 4.0, &o).unwrap()),
        2
    );
}

#[test]
fn halo_reads_from_zarr_share_decoded_chunks_within_any_memory_limit() {
    let dir = tempfile::tempdir().unwrap();
    let data: ArrayD<u16> = common::random_array(&[64, 48, 40], 8);
    let path = dir.path().join("in.zarr");
    chunkwise::from_ndarray(data.clone(), &[16, 16, 16])
        .unwrap()
        .to_zarr(&path, &WriteOptions::default(), &exec(2))
        .unwrap();
    let reference = chunkwise::from_ndarray(data, &[64, 48, 40]).unwrap();
    let filters = |x: &Array| {
        let o = FilterOptions {
            mode: BoundaryMode::Wrap,
            ..FilterOptions::default()
        };
        let smooth = gaussian_filter(x, &[1.0, 1.0, 1.0], 4.0, &o).unwrap();
        let median = median_filter(x, &Window::Size(vec![3, 3, 3]), &[], &o).unwrap();
        smooth.add(&median).unwrap()
    };
    let want: ArrayD<f32> = filters(&reference).compute(&exec(1)).unwrap();
    let chunks = 4 * 3 * 3;
    // 512 KiB leaves a cache smaller than one task's halo neighbourhood (27 chunks): whole
    // chunks it gives up are spilled and read back, faces it gives up are decoded again; results
    // stay right. From 2 MiB every chunk is decoded about once (two workers may both decode a
    // chunk they miss at the same moment), and the cache is sized to the reads' working set
    // whatever the limit: a chunk decoded early for a wrapped halo read waits on disk for its
    // owner, read back a few times at most (once per interior read: the gaussian's and the
    // median's of its owner, and after a cut under pressure).
    let about_once = chunks + chunks / 2;
    for (limit, most_decodes) in [
        (512 << 10, 6 * chunks),
        (2 << 20, about_once),
        (64 << 20, about_once),
    ] {
        for threads in [1, 2] {
            let source = Arc::new(chunkwise::store::open_zarr(&path).unwrap());
            let x = Array::from_source(source.clone());
            let options = ExecOptions {
                memory_limit: limit,
                ..exec(threads)
            };
            // Written to Zarr: compute() would count its 480 KiB result against the limit.
            let out = dir.path().join(format!("out_{limit}_{threads}.zarr"));
            filters(&x)
                .to_zarr(&out, &WriteOptions::default(), &options)
                .unwrap();
            let got: ArrayD<f32> = chunkwise::open(&out).unwrap().compute(&exec(1)).unwrap();
            common::assert_same(&got, &want, &format!("limit {limit} threads {threads}"));
            let (decoded, restored) = (source.chunks_decoded(), source.chunks_restored());
            assert!(
                decoded <= most_decodes,
                "limit {limit}: {decoded} decodes of {chunks} chunks"
            );
            if limit < 2 << 20 {
                assert!(restored > 0, "limit {limit}: nothing restored");
            } else {
                assert!(
                    restored <= 4 * chunks,
                    "limit {limit}: {restored} restored of {chunks} chunks"
                );
            }
        }
    }
}

#[test]
fn a_stencil_feeding_a_downsample_through_a_cast_holds_the_cast() {
    let data: ArrayD<u16> = common::random_array(&[32, 24, 20], 9);
    let build = |chunks: &[u64]| {
        let x = chunkwise::from_ndarray(data.clone(), chunks).unwrap();
        let o = FilterOptions::default();
        let smooth = gaussian_filter(&x.clip(100, 60000).unwrap(), &[2.0; 3], 4.0, &o).unwrap();
        smooth
            .astype(DType::Uint16)
            .unwrap()
            .downsample(&[2, 2, 2], DownsampleMethod::Mean)
            .unwrap()
    };
    let want: ArrayD<u16> = build(&[32, 24, 20]).compute(&exec(1)).unwrap();
    let y = build(&[8, 8, 8]);
    let plan = ArrayExt::plan(&y, &exec(2)).unwrap();
    assert_eq!(
        plan.stages[0].outputs[0].array.dtype(),
        DType::Uint16,
        "{}",
        plan.explain()
    );
    for threads in [1, 2, 7] {
        let got: ArrayD<u16> = y.compute(&exec(threads)).unwrap();
        common::assert_same(&got, &want, &format!("threads {threads}"));
    }
}

/// Two stencil inputs share the run's chunk-cache reservation: together their caches never hold
/// more than was reserved, and results stay right.
#[test]
fn two_cached_sources_share_one_cache_reservation() {
    let dir = tempfile::tempdir().unwrap();
    let mut inputs = Vec::new();
    let mut reference = Vec::new();
    for seed in [21, 22] {
        let data: ArrayD<u16> = common::random_array(&[96, 80, 72], seed);
        let path = dir.path().join(format!("in{seed}.zarr"));
        chunkwise::from_ndarray(data.clone(), &[24, 24, 24])
            .unwrap()
            .to_zarr(&path, &WriteOptions::default(), &exec(1))
            .unwrap();
        inputs.push(chunkwise::open(&path).unwrap());
        reference.push(chunkwise::from_ndarray(data, &[96, 80, 72]).unwrap());
    }
    let both = |a: &Array, b: &Array| {
        let o = FilterOptions::default();
        let ga = gaussian_filter(a, &[1.0, 1.0, 1.0], 4.0, &o).unwrap();
        let gb = gaussian_filter(b, &[1.5, 1.0, 1.0], 4.0, &o).unwrap();
        ga.add(&gb).unwrap()
    };
    let want: ArrayD<f32> = both(&reference[0], &reference[1])
        .compute(&exec(1))
        .unwrap();
    for limit in [1 << 20, 4 << 20] {
        for threads in [1, 2] {
            let out = dir.path().join(format!("out_{limit}_{threads}.zarr"));
            let options = ExecOptions {
                memory_limit: limit,
                ..exec(threads)
            };
            let stats = both(&inputs[0], &inputs[1])
                .to_zarr(&out, &WriteOptions::default(), &options)
                .unwrap();
            assert!(stats.chunk_cache_bytes > 0, "{stats:?}");
            assert!(
                stats.chunk_cache_peak_bytes <= stats.chunk_cache_bytes,
                "limit {limit}: caches held {} of {} reserved",
                stats.chunk_cache_peak_bytes,
                stats.chunk_cache_bytes
            );
            let got: ArrayD<f32> = chunkwise::open(&out).unwrap().compute(&exec(1)).unwrap();
            common::assert_same(&got, &want, &format!("limit {limit} threads {threads}"));
        }
    }
}

/// Under a roomy limit the chunk cache is sized to what the run's reads need (the faces still to
/// be read, and whole chunks only for owners among the next few tasks), not to a quarter of the
/// limit: the neighbours decoded for halos whose owners come much later wait on disk. Results
/// stay right whatever waits where, on shapes that do not divide the chunks, two dtypes and
/// several thread counts.
#[test]
fn a_roomy_limit_keeps_the_chunk_cache_to_the_reads_working_set() {
    let dir = tempfile::tempdir().unwrap();
    let limit: u64 = 1 << 30;
    // Halos thin beside the chunks (radius 4 of 32; 4, 3, 4 of 30, 28, 26), so that cutting a
    // chunk to its faces saves memory.
    for (shape, chunks, sigma, dtype) in [
        (
            [100usize, 90, 70],
            [32u64, 32, 32],
            [1.0, 1.0, 1.0],
            DType::Uint16,
        ),
        ([75, 81, 50], [30, 28, 26], [1.0, 0.8, 1.0], DType::Float32),
    ] {
        let data: ArrayD<u16> = common::random_array(&shape, 31);
        let path = dir.path().join(format!("in_{}.zarr", chunks[1]));
        chunkwise::from_ndarray(data.clone(), &chunks)
            .unwrap()
            .astype(dtype)
            .unwrap()
            .to_zarr(&path, &WriteOptions::default(), &exec(1))
            .unwrap();
        let input = chunkwise::open(&path).unwrap();
        let reference = chunkwise::from_ndarray(data, &shape.map(|n| n as u64))
            .unwrap()
            .astype(dtype)
            .unwrap();
        let o = FilterOptions::default();
        let smooth = |x: &Array| gaussian_filter(x, &sigma, 4.0, &o).unwrap();
        let want: ArrayD<f32> = smooth(&reference).compute(&exec(1)).unwrap();
        let whole_input = (shape.iter().product::<usize>() * dtype.size()) as u64;
        for threads in [1, 2, 3] {
            let out = dir.path().join(format!("out_{}_{threads}.zarr", chunks[1]));
            let options = ExecOptions {
                memory_limit: limit,
                ..exec(threads)
            };
            let stats = smooth(&input)
                .to_zarr(&out, &WriteOptions::default(), &options)
                .unwrap();
            let label = format!("chunks {chunks:?}, {threads} threads");
            assert!(stats.chunk_cache_bytes > 0, "{label}: {stats:?}");
            // Every chunk is read by several tasks: a cache sized by the limit alone would
            // keep most of the input; the working set is a fraction of it.
            assert!(
                stats.chunk_cache_bytes < whole_input,
                "{label}: {} reserved for an input of {whole_input}",
                stats.chunk_cache_bytes
            );
            assert!(
                stats.chunk_cache_peak_bytes <= stats.chunk_cache_bytes,
                "{label}: held {} of {} reserved",
                stats.chunk_cache_peak_bytes,
                stats.chunk_cache_bytes
            );
            let got: ArrayD<f32> = chunkwise::open(&out).unwrap().compute(&exec(1)).unwrap();
            common::assert_same(&got, &want, &label);
        }
    }
}

/// The median of a window holding NaN: NaN sorts after every number, the same for the small
/// windows a sorting network ranks (3x3x3) and the large ones a sliding sorted window ranks
/// (7x7x3), checked against sorting each window directly (mode nearest: clamped indices).
#[test]
fn median_with_nan_sorts_it_last_on_both_paths() {
    let shape = [9usize, 10, 11];
    let mut data: ArrayD<f32> = common::random_array(&shape, 41);
    // Plenty of NaN, in runs, so that some windows hold more NaN than numbers.
    for (i, v) in data.iter_mut().enumerate() {
        if i % 3 == 0 || (i / 40) % 5 == 0 {
            *v = f32::NAN;
        } else if !v.is_finite() {
            *v = 1.0;
        }
    }
    let options = FilterOptions {
        mode: BoundaryMode::Nearest,
        ..FilterOptions::default()
    };
    for size in [[3usize, 3, 3], [7, 7, 3]] {
        let mut want = ArrayD::<f32>::zeros(shape.to_vec());
        let mut window = Vec::new();
        for (idx, out) in want.indexed_iter_mut() {
            window.clear();
            for dz in 0..size[0] {
                for dy in 0..size[1] {
                    for dx in 0..size[2] {
                        // Mode nearest: the window's index clamped into the array.
                        let at = |axis: usize, i: usize, d: usize| {
                            (i + d).saturating_sub(size[axis] / 2).min(shape[axis] - 1)
                        };
                        let (z, y, x) = (at(0, idx[0], dz), at(1, idx[1], dy), at(2, idx[2], dx));
                        window.push(data[[z, y, x]]);
                    }
                }
            }
            window.sort_by(|a, b| match (a.is_nan(), b.is_nan()) {
                (false, false) => a.total_cmp(b),
                (true, true) => std::cmp::Ordering::Equal,
                (true, false) => std::cmp::Ordering::Greater,
                (false, true) => std::cmp::Ordering::Less,
            });
            *out = window[window.len() / 2];
        }
        for chunks in [vec![4, 4, 4], vec![9, 10, 11]] {
            let x = chunkwise::from_ndarray(data.clone(), &chunks).unwrap();
            let window = Window::Size(size.to_vec());
            let got: ArrayD<f32> = median_filter(&x, &window, &[], &options)
                .unwrap()
                .compute(&exec(2))
                .unwrap();
            for (i, (g, w)) in got.iter().zip(want.iter()).enumerate() {
                assert!(
                    g == w || (g.is_nan() && w.is_nan()),
                    "size {size:?} chunks {chunks:?}: element {i}: got {g}, want {w}"
                );
            }
        }
    }
}

/// A NaN or infinite `cval` reaches exactly the values whose window crosses the edge: a 3x3
/// uniform filter against each window averaged on its own over the array padded with `cval`,
/// for several chunkings and thread counts (scipy's running sum would spread it along whole
/// lines). A rank filter of integers refuses such a `cval`, naming it.
#[test]
fn nonfinite_cval_reaches_only_windows_crossing_the_edge() {
    let shape = [11usize, 13];
    let data: ArrayD<f64> = common::random_array(&shape, 7);
    for cval in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let options = FilterOptions {
            mode: BoundaryMode::Constant,
            cval,
            ..FilterOptions::default()
        };
        let at = |i: usize, j: usize| -> f64 {
            let inside = (1..=shape[0]).contains(&i) && (1..=shape[1]).contains(&j);
            if inside {
                data[[i - 1, j - 1]]
            } else {
                cval
            }
        };
        let want = ArrayD::from_shape_fn(shape.to_vec(), |idx| {
            let sum: f64 = (0..3)
                .flat_map(|di| (0..3).map(move |dj| (di, dj)))
                .map(|(di, dj)| at(idx[0] + di, idx[1] + dj))
                .sum();
            sum / 9.0
        });
        for (chunks, threads) in [(vec![4, 5], 1), (vec![4, 5], 2), (vec![11, 13], 1)] {
            let x = chunkwise::from_ndarray(data.clone(), &chunks).unwrap();
            let got: ArrayD<f64> = uniform_filter(&x, &[3, 3], &[], &options)
                .unwrap()
                .compute(&exec(threads))
                .unwrap();
            for (i, (g, w)) in got.iter().zip(want.iter()).enumerate() {
                let close = (g - w).abs() <= 1e-12 * w.abs().max(1.0);
                assert!(
                    close || g.is_nan() && w.is_nan() || g == w,
                    "cval {cval} chunks {chunks:?}: element {i}: got {g}, want {w}"
                );
            }
        }
    }
    let ints = chunkwise::from_ndarray(ArrayD::<u16>::zeros(vec![6, 6]), &[3, 3]).unwrap();
    let options = FilterOptions {
        mode: BoundaryMode::Constant,
        cval: f64::NAN,
        ..FilterOptions::default()
    };
    let err = median_filter(&ints, &Window::Size(vec![3, 3]), &[], &options).unwrap_err();
    assert!(
        err.to_string()
            .contains("cval nan does not fit the uint16 input"),
        "{err}"
    );
}
