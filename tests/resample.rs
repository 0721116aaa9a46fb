//! Downsample and upsample against TensorStore and SciPy fixtures (tests/fixtures/resample, with
//! the script that made them), on shapes the factors and chunks do not divide, 1-D to 4-D, every
//! method and several dtypes, chunkings and thread counts; plus fusion with element-wise ops and
//! the chunk-level plan shapes (each input chunk read once).

mod common;

use std::path::{Path, PathBuf};

use chunkwise::ops::{DownsampleMethod, ResampleExt, UpsampleMethod};
use chunkwise::prelude::*;
use chunkwise::{Array, Buffer};
use common::{assert_same, exec, Exact};
use ndarray::ArrayD;
use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/resample")
}

/// Chunkings that do not divide the shape, plus the whole array in one chunk.
fn chunkings(shape: &[u64]) -> Vec<Vec<u64>> {
    vec![
        shape.iter().map(|&n| n.div_ceil(3).max(1)).collect(),
        shape.iter().map(|&n| (n / 2 + 1).min(n)).collect(),
        shape.to_vec(),
        shape.iter().map(|_| 2).collect(),
    ]
}

fn shape_of(v: &Value) -> Vec<u64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap())
        .collect()
}

fn build(case: &Value, x: &Array) -> Array {
    let factors = shape_of(&case["factors"]);
    let method = case["method"].as_str().unwrap();
    match case["op"].as_str().unwrap() {
        "downsample" => {
            let m: DownsampleMethod = serde_json::from_value(Value::String(method.into())).unwrap();
            x.downsample(&factors, m).unwrap()
        }
        _ => {
            let m: UpsampleMethod = serde_json::from_value(Value::String(method.into())).unwrap();
            x.upsample(&factors, m).unwrap()
        }
    }
}

fn check_case<T: Exact>(case: &Value, input: Vec<T>, want: Vec<T>) {
    let name = case["name"].as_str().unwrap();
    let in_shape = shape_of(&case["in_shape"]);
    let out_shape: Vec<usize> = shape_of(&case["out_shape"])
        .iter()
        .map(|&n| n as usize)
        .collect();
    let want = ArrayD::from_shape_vec(out_shape, want).unwrap();
    let data = ArrayD::from_shape_vec(
        in_shape.iter().map(|&n| n as usize).collect::<Vec<_>>(),
        input,
    )
    .unwrap();
    for chunks in chunkings(&in_shape) {
        for threads in [1, 2, 7] {
            let x = chunkwise::from_ndarray(data.clone(), &chunks).unwrap();
            let got: ArrayD<T> = build(case, &x).compute(&exec(threads)).unwrap();
            let ctx = format!("{name} chunks {chunks:?} threads {threads}");
            assert_eq!(got.shape(), want.shape(), "{ctx}");
            for (i, (g, w)) in got.iter().zip(want.iter()).enumerate() {
                assert!(g.same(w), "{ctx}: element {i}: got {g:?}, want {w:?}");
            }
        }
    }
}

#[test]
fn resampling_matches_tensorstore_and_scipy() {
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(fixtures().join("manifest.json")).unwrap()).unwrap();
    let cases = manifest.as_array().unwrap();
    assert!(cases.len() > 380);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let dtype = case["dtype"].as_str().unwrap();
        let input = common::load_le(&fixtures().join(format!("{name}.in.bin")), dtype);
        let want = common::load_le(&fixtures().join(format!("{name}.out.bin")), dtype);
        // Bit-identical, floats included: the kernels follow TensorStore's and SciPy's order of
        // arithmetic.
        match (input, want) {
            (Buffer::Bool(a), Buffer::Bool(b)) => check_case(case, a, b),
            (Buffer::Uint8(a), Buffer::Uint8(b)) => check_case(case, a, b),
            (Buffer::Uint16(a), Buffer::Uint16(b)) => check_case(case, a, b),
            (Buffer::Int16(a), Buffer::Int16(b)) => check_case(case, a, b),
            (Buffer::Int32(a), Buffer::Int32(b)) => check_case(case, a, b),
            (Buffer::Int8(a), Buffer::Int8(b)) => check_case(case, a, b),
            (Buffer::Uint32(a), Buffer::Uint32(b)) => check_case(case, a, b),
            (Buffer::Int64(a), Buffer::Int64(b)) => check_case(case, a, b),
            (Buffer::Uint64(a), Buffer::Uint64(b)) => check_case(case, a, b),
            (Buffer::Float32(a), Buffer::Float32(b)) => check_case(case, a, b),
            (Buffer::Float64(a), Buffer::Float64(b)) => check_case(case, a, b),
            _ => panic!("{name}: unexpected types"),
        }
    }
}

/// `data` as one chunk: the references below apply one op at a time to whole arrays, so
/// nothing is fused and each op is one checked on its own (here against TensorStore and SciPy,
/// in elementwise.rs against plain Rust).
fn whole<T: Exact>(data: ArrayD<T>) -> Array {
    let shape: Vec<u64> = data.shape().iter().map(|&n| n as u64).collect();
    chunkwise::from_ndarray(data, &shape).unwrap()
}

/// clip -> downsample -> astype, and clip -> upsample -> astype, each fuse into one stage and
/// equal the ops applied one at a time to whole arrays. Downsample and nearest upsample read
/// every input element once; linear upsample reads a one-element halo around each task, and
/// from Zarr decodes each chunk about once (the chunk cache serves the halos).
#[test]
fn elementwise_ops_fuse_around_resampling() {
    let data: ArrayD<u16> = common::random_array(&[33, 20, 17], 5);
    let clipped: ArrayD<u16> = whole(data.clone())
        .clip(10, 60)
        .unwrap()
        .compute(&exec(1))
        .unwrap();
    type Resample = fn(&Array) -> Array;
    let cases: [(&str, Resample); 3] = [
        ("mean downsample", |a| {
            a.downsample(&[2, 3, 2], DownsampleMethod::Mean).unwrap()
        }),
        ("nearest upsample", |a| {
            a.upsample(&[2, 1, 3], UpsampleMethod::Nearest).unwrap()
        }),
        ("linear upsample", |a| {
            a.upsample(&[3, 2, 2], UpsampleMethod::Linear).unwrap()
        }),
    ];
    let pipeline = |x: &Array, resample: Resample| {
        resample(&x.clip(10, 60).unwrap())
            .astype(DType::Uint8)
            .unwrap()
    };
    for (name, resample) in cases {
        let resampled: ArrayD<u16> = resample(&whole(clipped.clone())).compute(&exec(1)).unwrap();
        let want: ArrayD<u8> = whole(resampled)
            .astype(DType::Uint8)
            .unwrap()
            .compute(&exec(1))
            .unwrap();
        for chunks in [vec![8, 8, 8], vec![5, 7, 3]] {
            for threads in [1, 2, 7] {
                let source = common::CountingSource::new(&data, &chunks);
                let y = pipeline(&Array::from_source(source.clone()), resample);
                let plan = ArrayExt::plan(&y, &exec(threads)).unwrap();
                assert_eq!(plan.stages.len(), 1, "{name}: {}", plan.explain());
                let ctx = format!("{name} chunks {chunks:?} threads {threads}");
                assert_same(&y.compute::<u8>(&exec(threads)).unwrap(), &want, &ctx);
                if name != "linear upsample" {
                    assert_eq!(source.elements_read(), 33 * 20 * 17, "{ctx}: read once");
                }
            }
        }
        if name != "linear upsample" {
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.zarr");
        chunkwise::from_ndarray(data.clone(), &[8, 8, 8])
            .unwrap()
            .to_zarr(&path, &WriteOptions::default(), &exec(1))
            .unwrap();
        for threads in [1, 2] {
            let source = std::sync::Arc::new(chunkwise::store::open_zarr(&path).unwrap());
            let y = pipeline(&Array::from_source(source.clone()), resample);
            let ctx = format!("{name} from zarr, threads {threads}");
            assert_same(&y.compute::<u8>(&exec(threads)).unwrap(), &want, &ctx);
            // 5 x 3 x 3 chunks; two workers may both decode a chunk they miss at the same time.
            let chunks = 5 * 3 * 3;
            assert!(
                (chunks..=chunks + chunks / 2).contains(&source.chunks_decoded()),
                "{ctx}: {} decodes of {chunks} chunks",
                source.chunks_decoded()
            );
        }
    }
}

/// Linear upsampling of a mask interpolates it as 0/1 and keeps what rounds to 1: the same as
/// the uint8 result (checked against SciPy) above 0. SciPy's zoom on bool arrays is not a usable
/// reference (it does not round).
#[test]
fn linear_upsample_of_bool_is_the_uint8_result_above_zero() {
    let mask: ArrayD<bool> = common::random_array(&[9, 7, 5], 6);
    let as_u8: ArrayD<u8> = whole(mask.clone())
        .astype(DType::Uint8)
        .unwrap()
        .upsample(&[3, 2, 2], UpsampleMethod::Linear)
        .unwrap()
        .compute(&exec(1))
        .unwrap();
    let want = as_u8.mapv(|v| v > 0);
    for chunks in [vec![4, 4, 4], vec![9, 2, 3]] {
        for threads in [1, 2] {
            let got: ArrayD<bool> = chunkwise::from_ndarray(mask.clone(), &chunks)
                .unwrap()
                .upsample(&[3, 2, 2], UpsampleMethod::Linear)
                .unwrap()
                .compute(&exec(threads))
                .unwrap();
            assert_same(&got, &want, &format!("chunks {chunks:?} threads {threads}"));
        }
    }
}

/// A 2x nearest upsample with equal chunks plans one task per input chunk (2x2x2 output
/// chunks each), so every input chunk is decoded once.
#[test]
fn upsample_tasks_cover_whole_input_chunks() {
    let x =
        chunkwise::from_ndarray(common::random_array::<u8>(&[16, 16, 16], 3), &[8, 8, 8]).unwrap();
    let y = x.upsample(&[2, 2, 2], UpsampleMethod::Nearest).unwrap();
    let plan = ArrayExt::plan(&y, &exec(2)).unwrap();
    assert_eq!(plan.stages[0].block, vec![2, 2, 2]);
    assert_eq!(plan.num_tasks(), 8, "{}", plan.explain());
}

/// Chained downsamples (a pyramid) materialize each level in memory for the next: one stage per
/// level, with level k+1 tasks depending on the level k tasks they read.
#[test]
fn chained_downsamples_are_computed_from_memory() {
    let data: ArrayD<u16> = common::random_array(&[40, 36, 20], 9);
    let x = chunkwise::from_ndarray(data.clone(), &[8, 8, 8]).unwrap();
    let l1 = x.downsample(&[2, 2, 2], DownsampleMethod::Mean).unwrap();
    let l2 = l1.downsample(&[2, 2, 2], DownsampleMethod::Mean).unwrap();
    let l3 = l2.downsample(&[2, 2, 2], DownsampleMethod::Mean).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut p = Pipeline::new();
    for (i, a) in [&l1, &l2, &l3].iter().enumerate() {
        p.write_zarr(
            a,
            dir.path().join(format!("s{i}.zarr")),
            &WriteOptions::default(),
        )
        .unwrap();
    }
    let plan = p.plan(&exec(2)).unwrap();
    assert_eq!(plan.stages.len(), 3, "{}", plan.explain());
    assert!(plan.stages[0].outputs[0].held && plan.stages[1].outputs[0].held);
    assert!(!plan.deps.upstream.is_empty());
    for threads in [1, 2, 7] {
        let opts = WriteOptions {
            overwrite: Overwrite::Replace,
            ..WriteOptions::default()
        };
        let mut p = Pipeline::new();
        for (i, a) in [&l1, &l2, &l3].iter().enumerate() {
            p.write_zarr(a, dir.path().join(format!("s{i}.zarr")), &opts)
                .unwrap();
        }
        p.run(&exec(threads)).unwrap();
        // Reference: each level computed on its own from the previous level in one chunk.
        let mut level = chunkwise::from_ndarray(data.clone(), &[40, 36, 20]).unwrap();
        for i in 0..3 {
            let next: ArrayD<u16> = level
                .downsample(&[2, 2, 2], DownsampleMethod::Mean)
                .unwrap()
                .compute(&exec(1))
                .unwrap();
            let got: ArrayD<u16> = chunkwise::open(dir.path().join(format!("s{i}.zarr")))
                .unwrap()
                .compute(&exec(1))
                .unwrap();
            assert_same(
                &got,
                &next,
                &format!("level {} with {threads} threads", i + 1),
            );
            let shape: Vec<u64> = next.shape().iter().map(|&n| n as u64).collect();
            level = chunkwise::from_ndarray(next, &shape).unwrap();
        }
    }
}

/// Output chunks that align neither with the input chunks nor with factor x input chunk, written
/// to Zarr (v2 and v3, sharded): every layout gives the same array, and each input chunk is
/// still decoded about once (tasks share the decoded chunks through the chunk cache).
#[test]
fn unaligned_output_chunks_give_the_same_result() {
    let data: ArrayD<i16> = common::random_array(&[29, 23, 14], 12);
    let whole = chunkwise::from_ndarray(data.clone(), &[29, 23, 14]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.zarr");
    let stored = WriteOptions {
        chunks: Some(vec![8, 8, 8]),
        ..WriteOptions::default()
    };
    whole.to_zarr(&input, &stored, &exec(1)).unwrap();
    // 4 x 3 x 2 input chunks; two workers may both decode a chunk they miss at the same time.
    let (input_chunks, about_once) = (24, 36);
    for method in [DownsampleMethod::Mean, DownsampleMethod::Median] {
        let want: ArrayD<i16> = whole
            .downsample(&[3, 2, 4], method)
            .unwrap()
            .compute(&exec(1))
            .unwrap();
        let x = chunkwise::from_ndarray(data.clone(), &[8, 8, 8]).unwrap();
        let y = x.downsample(&[3, 2, 4], method).unwrap();
        let layouts = [
            (ZarrFormat::V3, vec![5, 3, 2], None),
            (ZarrFormat::V2, vec![7, 12, 4], None),
            (ZarrFormat::V3, vec![2, 2, 2], Some(vec![4, 6, 4])),
        ];
        for (i, (format, chunks, shards)) in layouts.into_iter().enumerate() {
            let path = dir.path().join(format!("{method:?}_{i}.zarr"));
            let opts = WriteOptions {
                zarr_format: format,
                chunks: Some(chunks),
                shards,
                ..WriteOptions::default()
            };
            y.to_zarr(&path, &opts, &exec(2)).unwrap();
            let got: ArrayD<i16> = chunkwise::open(&path).unwrap().compute(&exec(2)).unwrap();
            assert_same(&got, &want, &format!("{method:?} layout {i}"));
            let source = std::sync::Arc::new(chunkwise::store::open_zarr(&input).unwrap());
            let from_zarr = Array::from_source(source.clone())
                .downsample(&[3, 2, 4], method)
                .unwrap();
            let out = dir.path().join(format!("{method:?}_{i}_from_zarr.zarr"));
            from_zarr.to_zarr(&out, &opts, &exec(2)).unwrap();
            let decoded = source.chunks_decoded();
            assert!(
                (input_chunks..=about_once).contains(&decoded),
                "{method:?} layout {i}: {decoded} decodes of {input_chunks} chunks"
            );
            let got: ArrayD<i16> = chunkwise::open(&out).unwrap().compute(&exec(2)).unwrap();
            assert_same(&got, &want, &format!("{method:?} layout {i} from Zarr"));
        }
        let up = x.upsample(&[2, 3, 1], UpsampleMethod::Linear).unwrap();
        let want_up: ArrayD<i16> = whole
            .upsample(&[2, 3, 1], UpsampleMethod::Linear)
            .unwrap()
            .compute(&exec(1))
            .unwrap();
        let path = dir.path().join(format!("up_{method:?}.zarr"));
        up.to_zarr(
            &path,
            &WriteOptions {
                chunks: Some(vec![9, 5, 6]),
                ..WriteOptions::default()
            },
            &exec(2),
        )
        .unwrap();
        let got: ArrayD<i16> = chunkwise::open(&path).unwrap().compute(&exec(2)).unwrap();
        assert_same(&got, &want_up, "upsample, unaligned chunks");
    }
}

#[test]
fn bad_factors_are_rejected_when_building() {
    let x = chunkwise::from_ndarray(common::random_array::<u8>(&[10, 10], 1), &[4, 4]).unwrap();
    let err = x
        .downsample(&[2], DownsampleMethod::Mean)
        .unwrap_err()
        .to_string();
    assert!(err.contains("one factor"), "{err}");
    let err = x
        .upsample(&[2, 0], UpsampleMethod::Nearest)
        .unwrap_err()
        .to_string();
    assert!(err.contains("at least 1"), "{err}");
}

/// Regressions from review: two in-memory outputs of a chain of downsamples are both filled;
/// one source read over two different regions by one block task (nearest and linear upsample
/// together) is read for each region; degenerate shapes are rejected or planned without panics.
#[test]
fn review_regressions() {
    use chunkwise::engine::store::MemorySink;
    use std::sync::Arc;
    let data: ArrayD<u8> = common::random_array(&[8, 8], 3);
    let x = chunkwise::from_ndarray(data.clone(), &[4, 4]).unwrap();
    let whole = chunkwise::from_ndarray(data.clone(), &[8, 8]).unwrap();
    let l1 = x.downsample(&[2, 2], DownsampleMethod::Mean).unwrap();
    let l2 = l1.downsample(&[2, 2], DownsampleMethod::Mean).unwrap();
    let (m1, m2) = (
        Arc::new(MemorySink::new(l1.meta().clone())),
        Arc::new(MemorySink::new(l2.meta().clone())),
    );
    Pipeline::new()
        .write_to(&l1, m1.clone())
        .write_to(&l2, m2.clone())
        .run(&exec(2))
        .unwrap();
    let w1: ArrayD<u8> = whole
        .downsample(&[2, 2], DownsampleMethod::Mean)
        .unwrap()
        .compute(&exec(1))
        .unwrap();
    let w2: ArrayD<u8> = chunkwise::from_ndarray(w1.clone(), &[4, 4])
        .unwrap()
        .downsample(&[2, 2], DownsampleMethod::Mean)
        .unwrap()
        .compute(&exec(1))
        .unwrap();
    assert_eq!(m1.take(), Buffer::Uint8(w1.iter().copied().collect()));
    assert_eq!(m2.take(), Buffer::Uint8(w2.iter().copied().collect()));

    let build = |a: &Array| {
        let near = a.upsample(&[2, 2], UpsampleMethod::Nearest).unwrap();
        let lin = a.upsample(&[2, 2], UpsampleMethod::Linear).unwrap();
        where_(&near.threshold(100).unwrap(), &lin, 0).unwrap()
    };
    let want: ArrayD<u8> = build(&whole).compute(&exec(1)).unwrap();
    for threads in [1, 2, 7] {
        assert_same(
            &build(&x).compute::<u8>(&exec(threads)).unwrap(),
            &want,
            "nearest + linear",
        );
    }

    let huge = chunkwise::from_ndarray(ArrayD::<u8>::zeros(vec![2]), &[2]).unwrap();
    assert!(huge.upsample(&[1 << 63], UpsampleMethod::Nearest).is_err());
    let scalar = chunkwise::from_ndarray(ArrayD::<u8>::zeros(vec![]), &[]).unwrap();
    assert!(scalar.downsample(&[], DownsampleMethod::Mean).is_err());
    assert!(scalar.upsample(&[], UpsampleMethod::Nearest).is_err());
    let empty = chunkwise::from_ndarray(ArrayD::<u8>::zeros(vec![0, 10]), &[4, 4]).unwrap();
    let up: ArrayD<u8> = empty
        .upsample(&[2, 2], UpsampleMethod::Linear)
        .unwrap()
        .compute(&exec(2))
        .unwrap();
    assert_eq!(up.shape(), &[0, 20]);
}

/// A downsample inside a block task that also runs a stencil on the same source: the cached
/// block it is handed is larger than the chunk-sized boxes it asked for (it carries the
/// stencil's halo). Regression: the box was taken as the piece, and a block starting before it
/// underflowed. Compared with the ops applied one at a time to whole arrays.
#[test]
fn downsample_beside_a_stencil_on_one_source() {
    use chunkwise::ops::stencil::{uniform_filter, FilterOptions};
    // Chunks large enough that the downsample is recomputed inside the task, not kept.
    let data: ArrayD<u16> = common::random_array(&[128, 64, 64], 9);
    let pipeline = |vol: &Array| {
        let d = vol.downsample(&[2, 2, 2], DownsampleMethod::Max).unwrap();
        let u = d.upsample(&[2, 2, 2], UpsampleMethod::Linear).unwrap();
        let g = uniform_filter(vol, &[3, 3, 3], &[], &FilterOptions::default()).unwrap();
        g.add(&u).unwrap()
    };
    let down: ArrayD<u16> = whole(data.clone())
        .downsample(&[2, 2, 2], DownsampleMethod::Max)
        .unwrap()
        .compute(&exec(1))
        .unwrap();
    let up: ArrayD<u16> = whole(down)
        .upsample(&[2, 2, 2], UpsampleMethod::Linear)
        .unwrap()
        .compute(&exec(1))
        .unwrap();
    let smooth: ArrayD<f32> = uniform_filter(
        &whole(data.clone()),
        &[3, 3, 3],
        &[],
        &FilterOptions::default(),
    )
    .unwrap()
    .compute(&exec(1))
    .unwrap();
    let want: ArrayD<f32> = whole(smooth)
        .add(whole(up))
        .unwrap()
        .compute(&exec(1))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    for chunks in [vec![32, 32, 32]] {
        // From Zarr: block tasks read their sources once into a shared cache.
        let path = dir.path().join(format!("{chunks:?}.zarr"));
        whole(data.clone())
            .to_zarr(
                &path,
                &WriteOptions {
                    chunks: Some(chunks.clone()),
                    ..WriteOptions::default()
                },
                &exec(1),
            )
            .unwrap();
        for threads in [1, 2] {
            let x = chunkwise::open(&path).unwrap();
            let got: ArrayD<f32> = pipeline(&x).compute(&exec(threads)).unwrap();
            assert_same(&got, &want, &format!("chunks {chunks:?} threads {threads}"));
        }
    }
}

/// From a sharded input, the chunk-sized boxes a downsample asks for are read as one box per
/// task (the shard index read once) and reduced in one pass: same values as the whole-array
/// reference, each method.
#[test]
fn downsample_of_a_sharded_input() {
    let data: ArrayD<i16> = common::random_array(&[40, 36, 33], 17);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sharded.zarr");
    let sharded = WriteOptions {
        chunks: Some(vec![8, 8, 8]),
        shards: Some(vec![16, 16, 16]),
        ..WriteOptions::default()
    };
    whole(data.clone())
        .to_zarr(&path, &sharded, &exec(1))
        .unwrap();
    for method in [DownsampleMethod::Mean, DownsampleMethod::Mode] {
        let want: ArrayD<i16> = whole(data.clone())
            .downsample(&[2, 2, 2], method)
            .unwrap()
            .compute(&exec(1))
            .unwrap();
        for threads in [1, 2] {
            let got: ArrayD<i16> = chunkwise::open(&path)
                .unwrap()
                .downsample(&[2, 2, 2], method)
                .unwrap()
                .compute(&exec(threads))
                .unwrap();
            assert_same(&got, &want, &format!("{method:?} threads {threads}"));
        }
    }
}
