//! `rechunk` (issue 18): the same values in the new chunks on shapes that do not divide either
//! chunking, 1-D to 4-D, several dtypes and thread counts; and the slab-to-block case whose
//! direct plan does not fit the memory limit: through an intermediate chunking it plans and runs
//! within the limit, bit-identical.

mod common;

use chunkwise::prelude::*;
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
