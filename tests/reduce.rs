//! Reductions against NumPy (fixtures from tests/fixtures/reduce/make_fixtures.py): every input
//! type, axis subsets, keepdims, NaN; bit-identical over thread counts; fusion by read counts;
//! bad input.

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use chunkwise::prelude::*;
use chunkwise::{Buffer, Error};
use common::{buffer_array, exec, load_le, CountingSource};
use ndarray::ArrayD;
use serde_json::Value;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reduce")
}

/// Float results agree with NumPy's within its rounding (we accumulate in float64, NumPy in
/// the input's type, pairwise): relative 1e-5 for float32, 1e-10 for float64; NaN matches NaN.
fn close(got: f64, want: f64, tol: f64) -> bool {
    (got.is_nan() && want.is_nan())
        || got == want
        || (got - want).abs() <= tol * want.abs().max(1.0)
}

fn compare(got: &Buffer, want: &Buffer, context: &str) {
    assert_eq!(got.dtype(), want.dtype(), "{context}: dtype");
    match (got, want) {
        (Buffer::Float32(g), Buffer::Float32(w)) => {
            for (i, (g, w)) in g.iter().zip(w).enumerate() {
                assert!(
                    close(f64::from(*g), f64::from(*w), 1e-5),
                    "{context}[{i}]: {g} vs {w}"
                );
            }
        }
        (Buffer::Float64(g), Buffer::Float64(w)) => {
            for (i, (g, w)) in g.iter().zip(w).enumerate() {
                assert!(close(*g, *w, 1e-10), "{context}[{i}]: {g} vs {w}");
            }
        }
        _ => assert_eq!(got, want, "{context}"),
    }
}

fn compute_buffer(y: &Array, threads: usize) -> Buffer {
    chunkwise::engine::dispatch!(Buffer, Buffer::zeros(y.dtype(), 0), _v => {
        fn go<T: chunkwise::Element>(y: &Array, threads: usize, _: &[T]) -> Buffer {
            let a: ArrayD<T> = y.compute(&exec(threads)).expect("computes");
            T::into_buffer(a.iter().copied().collect())
        }
        go(y, threads, &_v)
    })
}

fn case_axes(case: &Value) -> Axes {
    let mut axes = match case["axes"].as_array() {
        None => Axes::all(),
        Some(a) => Axes::along(
            &a.iter()
                .map(|v| v.as_u64().unwrap() as usize)
                .collect::<Vec<_>>(),
        ),
    };
    if case["keepdims"].as_bool().unwrap() {
        axes = axes.keepdims();
    }
    axes
}

#[test]
fn every_reduction_matches_numpy() {
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(fixtures().join("manifest.json")).unwrap()).unwrap();
    let shape: Vec<usize> = manifest["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    for chunks in [[3u64, 4, 5], [7, 10, 13]] {
        for case in manifest["cases"].as_array().unwrap() {
            let input = case["input"].as_str().unwrap();
            let x = buffer_array(
                load_le(
                    &fixtures().join(format!("{input}.in.bin")),
                    case["dtype_in"].as_str().unwrap(),
                ),
                &shape,
                &chunks,
            );
            let red = Reduction::parse(
                case["reduction"].as_str().unwrap(),
                case["ddof"].as_u64().unwrap() as u32,
            )
            .unwrap();
            let context = format!("{input} {case} chunks {chunks:?}");
            let y = x.reduce(red, case_axes(case)).expect(&context);
            let want_shape: Vec<u64> = case["shape"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap())
                .collect();
            assert_eq!(y.shape(), want_shape, "{context}: shape");
            let all = load_le(&fixtures().join(format!("{input}.out.bin")), "uint8");
            let Buffer::Uint8(bytes) = all else {
                unreachable!()
            };
            let dtype = DType::parse(case["dtype"].as_str().unwrap()).unwrap();
            let n: u64 = want_shape.iter().product();
            let off = case["offset"].as_u64().unwrap() as usize;
            let len = n as usize * dtype.size();
            let want = Buffer::from_le_bytes(&bytes[off..off + len], dtype).unwrap();
            compare(&compute_buffer(&y, 2), &want, &context);
        }
    }
}

#[test]
fn bit_identical_for_any_thread_count() {
    let x = chunkwise::from_ndarray(common::random_array::<f32>(&[37, 23, 11], 7), &[4, 3, 2])
        .unwrap()
        .clip(-1e3, 1e3)
        .unwrap();
    for axes in [Axes::all(), Axes::along(&[0]), Axes::along(&[1, 2])] {
        for red in [
            Reduction::Sum,
            Reduction::Mean,
            Reduction::Std { ddof: 1 },
            Reduction::Argmax,
        ] {
            if red == Reduction::Argmax && axes == Axes::along(&[1, 2]) {
                continue;
            }
            let y = x.reduce(red, axes.clone()).unwrap();
            let one = compute_buffer(&y, 1);
            for threads in [2, 7] {
                let got = compute_buffer(&y, threads);
                assert_eq!(
                    one.to_le_bytes(),
                    got.to_le_bytes(),
                    "{red:?} {axes:?} with {threads} threads"
                );
            }
        }
    }
}

#[test]
fn integer_results_do_not_depend_on_chunking() {
    let data = common::random_array::<u16>(&[13, 7, 10], 3);
    let mut results = Vec::new();
    for chunks in [[5u64, 3, 4], [13, 7, 10], [1, 7, 3], [4, 4, 4]] {
        let x = chunkwise::from_ndarray(data.clone(), &chunks).unwrap();
        let sum: ArrayD<u64> = x.sum(Axes::all()).unwrap().compute(&exec(2)).unwrap();
        let mip: ArrayD<u16> = x.max(0).unwrap().compute(&exec(2)).unwrap();
        let arg: ArrayD<i64> = x.argmin(Axes::all()).unwrap().compute(&exec(2)).unwrap();
        results.push((sum, mip, arg));
    }
    assert!(results.windows(2).all(|w| w[0] == w[1]));
    let (sum, mip, _) = &results[0];
    assert_eq!(sum.ndim(), 0);
    assert_eq!(
        sum.iter().next(),
        Some(&data.iter().map(|&v| u64::from(v)).sum())
    );
    assert_eq!(mip.shape(), &[7, 10]);
}

#[test]
fn element_wise_producers_fuse_into_the_read() {
    let data = common::random_array::<u16>(&[40, 30, 20], 5);
    let source = CountingSource::new(&data, &[8, 8, 8]);
    let x = Array::from_source(source.clone());
    let y = x
        .threshold(1000)
        .unwrap()
        .count_nonzero(Axes::all())
        .unwrap();
    let got: ArrayD<i64> = y.compute(&exec(2)).unwrap();
    let want = data.iter().filter(|&&v| v > 1000).count() as i64;
    assert_eq!(got.iter().next(), Some(&want));
    assert_eq!(source.elements_read(), data.len() as u64, "x read once");
}

#[test]
fn projection_chains_and_writes_to_zarr() {
    let dir = tempfile::tempdir().unwrap();
    let data = common::random_array::<u16>(&[30, 20, 10], 9);
    let x = chunkwise::from_ndarray(data.clone(), &[4, 8, 8]).unwrap();
    let mip = x.max(0).unwrap().astype(DType::Float32).unwrap();
    mip.to_zarr(
        dir.path().join("mip.zarr"),
        &WriteOptions::default(),
        &exec(2),
    )
    .unwrap();
    let back: ArrayD<f32> = chunkwise::open(dir.path().join("mip.zarr"))
        .unwrap()
        .compute(&exec(1))
        .unwrap();
    let want = data.map_axis(ndarray::Axis(0), |c| f32::from(*c.iter().max().unwrap()));
    assert_eq!(back, want);
}

#[test]
fn bad_axes_are_one_clear_error() {
    let x = chunkwise::from_ndarray(common::random_array::<u8>(&[4, 5], 1), &[2, 2]).unwrap();
    for (axes, words) in [
        (Axes::along(&[2]), "axis 2 is out of range"),
        (Axes::along(&[1, 1]), "repeat"),
    ] {
        match x.sum(axes) {
            Err(Error::Invalid(m)) => assert!(m.contains(words), "{m}"),
            other => panic!("{other:?}"),
        }
    }
    let x3 =
        chunkwise::from_ndarray(common::random_array::<u8>(&[4, 5, 3], 1), &[2, 2, 2]).unwrap();
    assert!(matches!(
        x3.argmin(Axes::along(&[0, 1])),
        Err(Error::Invalid(_))
    ));
}

#[test]
fn pipeline_file_reductions_go_to_json_and_zarr() {
    let dir = common::dir_with_input(&[20, 12, 9], &[8, 8, 8], 4);
    let file = dir.path().join("p.json");
    std::fs::write(
        &file,
        r#"{"inputs": {"vol": "in.zarr"},
            "steps": [
              {"id": "total", "op": "reduce", "x": "vol", "reduction": "sum"},
              {"id": "sd", "op": "reduce", "x": "vol", "reduction": "std", "ddof": 1},
              {"id": "mip", "op": "reduce", "x": "vol", "reduction": "max", "axes": [0]},
              {"id": "hist", "op": "histogram", "x": "vol", "bins": 4, "range": [0, 65536]}
            ],
            "outputs": [{"from": "total", "path": "total.json"},
                        {"from": "sd", "path": "sd.json"},
                        {"from": "hist", "path": "hist.json"},
                        {"from": "mip", "path": "mip.zarr"}]}"#,
    )
    .unwrap();
    let loaded = chunkwise::pipeline::load(&file, &Default::default()).unwrap();
    loaded.pipeline.run(&exec(2)).unwrap();
    let data: ArrayD<u16> = chunkwise::open(dir.path().join("in.zarr"))
        .unwrap()
        .compute(&exec(1))
        .unwrap();
    let total: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("total.json")).unwrap()).unwrap();
    let want: u64 = data.iter().map(|&v| u64::from(v)).sum();
    assert_eq!(total["value"].as_u64(), Some(want));
    assert_eq!(total["dtype"], "uint64");
    let sd: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("sd.json")).unwrap()).unwrap();
    assert!(sd["value"].as_f64().unwrap() > 0.0);
    let hist: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("hist.json")).unwrap()).unwrap();
    let counts: Vec<u64> = (0..4)
        .map(|b| data.iter().filter(|&&v| u64::from(v) / 16384 == b).count() as u64)
        .collect();
    assert_eq!(hist["value"], serde_json::json!(counts));
    let mip: ArrayD<u16> = chunkwise::open(dir.path().join("mip.zarr"))
        .unwrap()
        .compute(&exec(1))
        .unwrap();
    assert_eq!(mip.shape(), &[12, 9]);
}

#[test]
fn unknown_reduction_in_a_pipeline_is_one_error_and_nothing_is_written() {
    let dir = common::dir_with_input(&[10, 10], &[5, 5], 4);
    let file = dir.path().join("p.json");
    std::fs::write(
        &file,
        r#"{"inputs": {"vol": "in.zarr"},
            "steps": [{"id": "m", "op": "reduce", "x": "vol", "reduction": "median"}],
            "outputs": [{"from": "m", "path": "m.json"}]}"#,
    )
    .unwrap();
    let e = chunkwise::pipeline::load(&file, &Default::default()).unwrap_err();
    assert!(
        e.to_string().contains("unknown reduction \"median\""),
        "{e}"
    );
    assert!(!dir.path().join("m.json").exists());
}

#[test]
fn histograms_and_percentiles_match_numpy_exactly() {
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(fixtures().join("hist.json")).unwrap()).unwrap();
    let shape: Vec<usize> = manifest["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    for case in manifest["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let data = load_le(
            &fixtures().join(format!("hist_{name}.in.bin")),
            case["dtype"].as_str().unwrap(),
        );
        for chunks in [[4u64, 4, 4], [9, 11, 7]] {
            let x = buffer_array(data.clone(), &shape, &chunks);
            for h in case["hists"].as_array().unwrap() {
                let range = h["range"].as_array().unwrap();
                let (lo, hi) = (range[0].as_f64().unwrap(), range[1].as_f64().unwrap());
                let bins = h["bins"].as_u64().unwrap() as u32;
                let got: ArrayD<i64> = x
                    .histogram(bins, (lo, hi))
                    .unwrap()
                    .compute(&exec(2))
                    .unwrap();
                let want: Vec<i64> = h["counts"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_i64().unwrap())
                    .collect();
                assert_eq!(got.iter().copied().collect::<Vec<_>>(), want, "{name} {h}");
            }
            let ps: Vec<f64> = case["percentiles"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect();
            let got = percentiles(&x, &ps, &exec(2)).unwrap();
            let want: Vec<f64> = case["values"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| f64::from_bits(v.as_u64().unwrap()))
                .collect();
            for ((p, g), w) in ps.iter().zip(&got).zip(&want) {
                assert_eq!(
                    g.to_bits(),
                    w.to_bits(),
                    "{name} chunks {chunks:?} percentile {p}: {g} vs {w}"
                );
            }
        }
    }
}

#[test]
fn bad_histogram_and_percentile_arguments_are_errors() {
    let x = chunkwise::from_ndarray(common::random_array::<u8>(&[4, 5], 1), &[2, 2]).unwrap();
    for (r, words) in [
        (x.histogram(0, (0.0, 1.0)), "bins"),
        (x.histogram(4, (1.0, 1.0)), "lo < hi"),
        (x.histogram(4, (2.0, 1.0)), "lo < hi"),
    ] {
        match r {
            Err(Error::Invalid(m)) => assert!(m.contains(words), "{m}"),
            other => panic!("{other:?}"),
        }
    }
    for p in [-1.0, 100.5, f64::NAN] {
        assert!(matches!(
            percentiles(&x, &[p], &exec(1)),
            Err(Error::Invalid(_))
        ));
    }
}

#[test]
fn stats_summarise_in_few_passes() {
    let data = common::random_array::<u16>(&[20, 16, 12], 11).mapv(|v| v % 1000);
    let source = CountingSource::new(&data, &[8, 8, 8]);
    let x = Array::from_source(source.clone());
    let s = stats(&x, &StatsOptions::new(16, &[50.0]), &exec(2)).unwrap();
    let sorted = {
        let mut v: Vec<u16> = data.iter().copied().collect();
        v.sort_unstable();
        v
    };
    assert_eq!(s.min, f64::from(sorted[0]));
    assert_eq!(s.max, f64::from(*sorted.last().unwrap()));
    assert_eq!(s.histogram.iter().sum::<u64>(), data.len() as u64);
    assert_eq!(s.edges.len(), 17);
    let n = sorted.len();
    let median = (f64::from(sorted[(n - 1) / 2]) + f64::from(sorted[n / 2])) / 2.0;
    assert_eq!(s.percentiles, vec![(50.0, median)]);
    let mean = data.iter().map(|&v| f64::from(v)).sum::<f64>() / n as f64;
    let var = data
        .iter()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / n as f64;
    assert!((s.mean - mean).abs() < 1e-9 * mean && (s.std - var.sqrt()).abs() < 1e-9 * mean);
    // uint16: one pass counting each value gives everything.
    assert_eq!(source.elements_read(), data.len() as u64);
    // np.histogram's rule by search over the edges (last bin closed).
    let mut want = vec![0u64; 16];
    for &v in &sorted {
        let v = f64::from(v);
        let bin = (0..16).rfind(|&i| s.edges[i] <= v).unwrap();
        want[bin] += 1;
    }
    assert_eq!(s.histogram, want);
}

#[test]
fn quantiles_of_a_crowded_bin_narrow_until_exact() {
    // 80% zeros: the bin holding the median is too full to collect and is narrowed.
    let mut data = ArrayD::<f32>::zeros(vec![48, 48, 40]);
    for (i, v) in data.iter_mut().enumerate() {
        if i % 5 == 0 {
            *v = ((i * 7919) % 1013) as f32 * 0.37 - 50.0;
        }
    }
    let x = chunkwise::from_ndarray(data.clone(), &[24, 24, 20]).unwrap();
    let qs = [0.0, 0.1, 0.5, 0.85, 0.9, 0.999, 1.0];
    let got = quantiles(&x, &qs, &exec(2)).unwrap();
    let mut sorted: Vec<f64> = data.iter().map(|&v| f64::from(v)).collect();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    for (q, g) in qs.iter().zip(got) {
        let h = (n - 1) as f64 * q;
        let (a, b) = (
            sorted[h.floor() as usize],
            sorted[(h.floor() as usize + 1).min(n - 1)],
        );
        let t = h - h.floor();
        let want = if t >= 0.5 {
            b - (b - a) * (1.0 - t)
        } else {
            a + (b - a) * t
        };
        assert_eq!(g.to_bits(), want.to_bits(), "q {q}: {g} vs {want}");
    }
}

#[test]
fn a_projection_runs_in_less_memory_than_its_input() {
    // 256 x 32 x 32 uint16 = 512 KiB in 8 slabs of 64 KiB; a task reads one slab, the combine
    // task merges the 8 float64 partials (16 KiB each): far below the volume's size.
    let data = common::random_array::<u16>(&[256, 32, 32], 13);
    let x = chunkwise::from_ndarray(data.clone(), &[32, 32, 32]).unwrap();
    let mip = x.max(0).unwrap();
    let sink = Arc::new(chunkwise::engine::store::MemorySink::new(
        mip.meta().clone(),
    ));
    let mut p = Pipeline::new();
    p.write_to(&mip, sink.clone());
    let options = ExecOptions {
        threads: 2,
        memory_limit: 384 << 10,
        ..ExecOptions::default()
    };
    let stats = p.run(&options).unwrap();
    assert!(
        stats.peak_projected_bytes <= 384 << 10,
        "{}",
        stats.peak_projected_bytes
    );
    let want = data.map_axis(ndarray::Axis(0), |c| *c.iter().max().unwrap());
    assert_eq!(sink.take(), Buffer::Uint16(want.iter().copied().collect()));
}

#[test]
fn bincount_counts_each_value_as_numpy() {
    let data = common::random_array::<u16>(&[9, 11, 7], 5).mapv(|v| v % 300);
    let x = chunkwise::from_ndarray(data.clone(), &[4, 4, 4]).unwrap();
    let got = bincount(&x, &exec(2)).unwrap();
    let max = *data.iter().max().unwrap() as usize;
    let mut want = vec![0u64; max + 1];
    for &v in &data {
        want[v as usize] += 1;
    }
    assert_eq!(got, want);
    let negative = chunkwise::from_ndarray(ArrayD::from_elem(vec![3], -1i8), &[2]).unwrap();
    assert!(
        matches!(bincount(&negative, &exec(1)), Err(Error::Invalid(m)) if m.contains("non-negative"))
    );
    let float = chunkwise::from_ndarray(ArrayD::from_elem(vec![3], 1.0f32), &[2]).unwrap();
    assert!(matches!(bincount(&float, &exec(1)), Err(Error::Invalid(_))));
}

#[test]
fn a_full_reduction_writes_to_zarr_as_a_0d_array() {
    let dir = tempfile::tempdir().unwrap();
    let data = common::random_array::<u8>(&[10, 10], 2);
    let x = chunkwise::from_ndarray(data.clone(), &[4, 4]).unwrap();
    let total = x.sum(Axes::all()).unwrap();
    let r = total.to_zarr(
        dir.path().join("t.zarr"),
        &WriteOptions::default(),
        &exec(1),
    );
    match r {
        Ok(_) => {
            let back: ArrayD<u64> = chunkwise::open(dir.path().join("t.zarr"))
                .unwrap()
                .compute(&exec(1))
                .unwrap();
            assert_eq!(back.sum(), data.iter().map(|&v| u64::from(v)).sum::<u64>());
        }
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn several_reductions_of_one_input_share_its_read() {
    let data = common::random_array::<f32>(&[16, 16, 16], 4).mapv(|v| v.clamp(-1e3, 1e3));
    let source = CountingSource::new(&data, &[8, 8, 8]);
    let x = Array::from_source(source.clone());
    let reductions = [
        Reduction::Sum,
        Reduction::Max,
        Reduction::Std { ddof: 1 },
        Reduction::Argmin,
    ];
    for axes in [Axes::all(), Axes::along(&[1])] {
        let before = source.elements_read();
        let together = reduce_many(&x, &reductions, &axes).unwrap();
        let values = chunkwise::ops::reduce::compute_small(&together, &exec(2)).unwrap();
        assert_eq!(
            source.elements_read() - before,
            data.len() as u64,
            "one read"
        );
        for (r, v) in reductions.iter().zip(&values) {
            let alone = compute_buffer(&x.reduce(*r, axes.clone()).unwrap(), 1);
            assert_eq!(v.to_le_bytes(), alone.to_le_bytes(), "{r:?} {axes:?}");
        }
    }
}

#[test]
fn nanargmin_of_an_all_nan_slice_is_an_error_as_numpy() {
    let data = ArrayD::from_shape_vec(
        vec![2, 3],
        vec![f64::NAN, 1.0, 2.0, f64::NAN, f64::NAN, f64::NAN],
    )
    .unwrap();
    let x = chunkwise::from_ndarray(data, &[1, 2]).unwrap();
    let per_row = x.reduce(Reduction::NanArgmin, 1).unwrap();
    match per_row.compute::<i64>(&exec(2)) {
        Err(e) => assert!(e.to_string().contains("all-NaN"), "{e}"),
        Ok(v) => panic!("{v:?}"),
    }
    let all: ArrayD<i64> = x
        .reduce(Reduction::NanArgmin, Axes::all())
        .unwrap()
        .compute(&exec(2))
        .unwrap();
    assert_eq!(all.sum(), 1);
}
