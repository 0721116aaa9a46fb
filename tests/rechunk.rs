//! `rechunk` (issue 18): the same values in the new chunks on shapes that do not divide either
//! chunking, 1-D to 4-D, several dtypes and thread counts; and the slab-to-block case whose
//! direct plan does not fit the memory limit: through an intermediate chunking it plans and runs
//! within the limit, bit-identical, each slab decoded once — by the `rechunk` op and by an
//! output written in other chunks, which go through the same planner.

mod common;

use chunkwise::prelude::*;
use chunkwise::store::{open_zarr, WriteOptions};
use chunkwise::{Error, Plan};
use common::{assert_same, exec, random_array, shapes_and_chunkings, THREADS};

#[test]
fn rechunked_arrays_hold_the_same_values() {
    for (case, (shape, chunkings)) in shapes_and_chunkings().into_iter().enumerate() {
        let data = random_array::<f32>(&shape, case as u64);
        for (i, from) in chunkings.iter().enumerate() {
            let to = &chunkings[(i + 1) % chunkings.len()];
            let x = chunkwise::from_ndarray(data.clone(), from).unwrap();
            // A roomy limit (direct) and a tight one (an intermediate where the grids cross).
            for max_mem in [1u64 << 30, 4096] {
                let y = x.rechunk(to, max_mem).unwrap();
                assert_eq!(&y.meta().chunks, to);
                let threads = THREADS[i % THREADS.len()];
                let got = y.compute::<f32>(&exec(threads)).unwrap();
                assert_same(
                    &got,
                    &data,
                    &format!("{shape:?} {from:?} -> {to:?}, {max_mem}"),
                );
            }
        }
    }
    let ints = random_array::<i16>(&[9, 31], 4);
    let x = chunkwise::from_ndarray(ints.clone(), &[1, 31]).unwrap();
    let got = x
        .rechunk(&[9, 4], 1024)
        .unwrap()
        .compute::<i16>(&exec(2))
        .unwrap();
    assert_same(&got, &ints, "int16 rows to columns");
}

/// A task of `y` and its projected bytes, from the plan's explanation.
fn plan(y: &Array, limit: u64) -> chunkwise::Result<Plan> {
    let sink = std::sync::Arc::new(chunkwise::engine::store::MemorySink::new(y.meta().clone()));
    let options = ExecOptions {
        memory_limit: limit,
        ..exec(2)
    };
    Plan::build(
        vec![chunkwise::engine::Output {
            array: y.clone(),
            sink,
        }],
        &options,
    )
}

#[test]
fn slabs_to_blocks_go_through_an_intermediate_within_the_limit() {
    // 64 slabs of 128 x 128 to 32^3 blocks: a direct task spanning whole slabs is a 32-slab
    // band of 1 MiB, over a limit of 768 KiB.
    let data = random_array::<u16>(&[64, 128, 128], 9);
    let limit = 768 << 10;
    let (from, to) = ([1u64, 128, 128], [32u64, 32, 32]);
    let dir = tempfile::tempdir().unwrap();
    chunkwise::from_ndarray(data.clone(), &from)
        .unwrap()
        .to_zarr(
            dir.path().join("in.zarr"),
            &WriteOptions::default(),
            &exec(2),
        )
        .unwrap();
    let x = chunkwise::open(dir.path().join("in.zarr")).unwrap();

    let op = chunkwise::ops::slice::Rechunk {
        chunks: to.to_vec(),
        span_input_chunks: true,
        note: String::new(),
    };
    let direct = Array::apply(std::sync::Arc::new(op), vec![x.clone()]).unwrap();
    match plan(&direct, limit) {
        Err(Error::MemoryLimit { task, .. }) => assert!(task > limit),
        other => panic!("the direct plan should exceed the limit: {other:?}"),
    }

    let y = x.rechunk(&to, limit).unwrap();
    let p = plan(&y, limit).expect("the plan fits the limit");
    let explained = p.explain();
    assert!(explained.contains("intermediate"), "{explained}");
    // The intermediate is its own stage, kept for the second pass (Op::materializes_inputs),
    // not recomputed inside the second pass's tasks.
    assert_eq!(p.stages.len(), 2, "{explained}");
    assert!(
        p.stages.iter().all(|s| s.task_bytes <= limit),
        "{explained}"
    );
    let options = ExecOptions {
        memory_limit: limit,
        ..exec(2)
    };
    let stats = y
        .to_zarr(
            dir.path().join("out.zarr"),
            &WriteOptions::default(),
            &options,
        )
        .expect("the rechunk runs within the limit");
    assert!(stats.peak_projected_bytes <= limit, "{stats:?}");
    let written = chunkwise::open(dir.path().join("out.zarr")).unwrap();
    assert_eq!(written.meta().chunks, to);
    let got = written.compute::<u16>(&exec(2)).unwrap();
    assert_same(&got, &data, "slabs to blocks");
}

#[test]
fn rechunk_steps_in_pipeline_files() {
    use chunkwise::pipeline::{builtin, Steps};
    let x = chunkwise::from_ndarray(random_array::<u8>(&[20, 30], 1), &[1, 30]).unwrap();
    let names = std::collections::HashMap::from([("x".to_string(), x)]);
    let step = |params: serde_json::Value| {
        let params = params.as_object().cloned().unwrap();
        builtin()
            .prepare("rechunk", params)
            .and_then(|p| p.build(&Steps::new(&names)))
    };
    let y = step(serde_json::json!({"x": "x", "chunks": [20, 5], "max_mem": "1MiB"})).unwrap();
    assert_eq!(y.meta().chunks, [20, 5]);
    let y = step(serde_json::json!({"x": "x", "chunks": [7, 7], "max_mem": 4096})).unwrap();
    assert_eq!(y.meta().chunks, [7, 7]);
    let e = |p| step(p).unwrap_err().to_string();
    assert!(e(serde_json::json!({"x": "x", "chunks": [5]})).contains("has 1 axes"));
    assert!(e(serde_json::json!({"x": "x", "chunks": [5, 0]})).contains("zero extent"));
    assert!(
        e(serde_json::json!({"x": "x", "chunks": [5, 5], "max_mem": "lots"}))
            .contains("cannot read \"lots\" as a size")
    );
}

/// Slabs of `shape` with `dtype`'s values stored at `dir/in.zarr` (chunks `(1, ny, nx)`), opened
/// so that its decode counts can be read.
fn slabs<T: common::RandomElement>(
    dir: &std::path::Path,
    shape: &[usize],
    seed: u64,
) -> (
    ndarray::ArrayD<T>,
    std::sync::Arc<chunkwise::store::ZarrSource>,
) {
    let data = common::random_array::<T>(shape, seed);
    let slab: Vec<u64> = std::iter::once(1)
        .chain(shape[1..].iter().map(|&n| n as u64))
        .collect();
    chunkwise::from_ndarray(data.clone(), &slab)
        .unwrap()
        .to_zarr(dir.join("in.zarr"), &WriteOptions::default(), &exec(2))
        .unwrap();
    (
        data,
        std::sync::Arc::new(open_zarr(dir.join("in.zarr")).unwrap()),
    )
}

/// Runs slabs of every dtype of the test to blocks under a limit their direct plan exceeds —
/// through the `rechunk` op, or by writing the slabs with the blocks as output chunks — and
/// checks the plan (an intermediate, amplifications in `explain()`), the values, the memory and
/// that each slab was decoded once.
fn slabs_to_blocks<T: common::RandomElement + chunkwise::Element>(
    shape: &[usize],
    to: &[u64],
    limit: u64,
    through_output_chunks: bool,
    seed: u64,
) {
    for threads in THREADS {
        let context = format!(
            "{} {shape:?} -> {to:?}, limit {limit}, {threads} threads, output chunks: \
             {through_output_chunks}",
            T::DTYPE
        );
        let dir = tempfile::tempdir().unwrap();
        let (data, source) = slabs::<T>(dir.path(), shape, seed);
        let x = Array::from_source(source.clone());
        let options = ExecOptions {
            memory_limit: limit,
            ..exec(threads)
        };
        let (y, write) = if through_output_chunks {
            let write = WriteOptions {
                chunks: Some(to.to_vec()),
                ..WriteOptions::default()
            };
            (x.clone(), write)
        } else {
            (x.rechunk(to, limit).unwrap(), WriteOptions::default())
        };
        let mut pipeline = Pipeline::new();
        pipeline
            .write_zarr(&y, dir.path().join("out.zarr"), &write)
            .unwrap();
        let p = pipeline.plan(&options).expect("the plan fits the limit");
        let explained = p.explain();
        assert!(
            explained.contains("intermediate chunks") && explained.contains("reads 2.0x"),
            "{context}: {explained}"
        );
        assert_eq!(p.stages.len(), 2, "{context}: {explained}");
        let stats = pipeline
            .run(&options)
            .expect("the rechunk runs within the limit");
        assert!(stats.peak_projected_bytes <= limit, "{context}: {stats:?}");
        if threads <= 2 {
            // A band's tasks share its slabs through the chunk cache, one decode each (a
            // worker that misses a slab another is decoding waits for it). Where two workers are
            // on two bands at once, a cache only twice a band's size (these tiny limits) gives
            // some slabs up — to disk, read back rather than decoded again, or, cut to what later
            // reads need, decoded again. How many depends on how the two workers interleave:
            // 15-45 read-backs of 40 slabs on a quiet machine, 95 in a loaded CI run; 42 decodes
            // of 40 and 37 of 33. None of either on the 1024^3 benchmark. The two-worker bounds
            // leave room for that timing and still catch the order this replaced (35 read-backs
            // per slab); one worker is exact.
            let slabs = shape[0] as u64;
            let (decoded, restored) = (source.chunks_decoded(), source.chunks_restored());
            let (most_decoded, most_restored) = if threads == 1 {
                (slabs, 2 * slabs)
            } else {
                (2 * slabs, 4 * slabs)
            };
            assert!(
                (slabs..=most_decoded).contains(&decoded),
                "{context}: {decoded} slab decodes"
            );
            assert!(
                restored <= most_restored,
                "{context}: {restored} slabs read back"
            );
        }
        let written = chunkwise::open(dir.path().join("out.zarr")).unwrap();
        assert_eq!(written.meta().chunks, to, "{context}");
        assert_same(&written.compute::<T>(&exec(2)).unwrap(), &data, &context);
    }
}

#[test]
fn slabs_to_blocks_decode_each_slab_once_on_both_paths() {
    for through_output_chunks in [false, true] {
        // Shapes dividing the blocks and not; a direct task spanning whole slabs (a band of
        // 32 slabs) is over a quarter of each limit.
        slabs_to_blocks::<u16>(
            &[64, 128, 128],
            &[32, 32, 32],
            768 << 10,
            through_output_chunks,
            1,
        );
        slabs_to_blocks::<u8>(
            &[70, 100, 90],
            &[32, 32, 32],
            512 << 10,
            through_output_chunks,
            2,
        );
        slabs_to_blocks::<f32>(
            &[40, 64, 96],
            &[16, 16, 32],
            768 << 10,
            through_output_chunks,
            3,
        );
        slabs_to_blocks::<f64>(
            &[33, 48, 40],
            &[16, 16, 16],
            512 << 10,
            through_output_chunks,
            4,
        );
        slabs_to_blocks::<i16>(
            &[20, 40, 20, 12],
            &[8, 8, 8, 12],
            256 << 10,
            through_output_chunks,
            5,
        );
    }
}

#[test]
fn outputs_in_other_chunks_stay_direct_when_that_fits() {
    // Blocks to slabs of a small array: a direct rewrite fits, nothing is added to the plan.
    let data = random_array::<u16>(&[16, 32, 32], 6);
    let x = chunkwise::from_ndarray(data.clone(), &[8, 8, 8]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let write = WriteOptions {
        chunks: Some(vec![1, 32, 32]),
        ..WriteOptions::default()
    };
    let mut pipeline = Pipeline::new();
    pipeline
        .write_zarr(&x, dir.path().join("out.zarr"), &write)
        .unwrap();
    let p = pipeline.plan(&exec(2)).unwrap();
    assert_eq!(p.stages.len(), 1, "{}", p.explain());
    assert!(!p.explain().contains("rechunk"), "{}", p.explain());
    pipeline.run(&exec(2)).unwrap();
    let got = chunkwise::open(dir.path().join("out.zarr")).unwrap();
    assert_same(
        &got.compute::<u16>(&exec(1)).unwrap(),
        &data,
        "blocks to slabs",
    );
}
