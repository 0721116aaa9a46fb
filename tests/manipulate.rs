//! Slicing and the manipulation vocabulary (issue 18) against NumPy 2: every case of
//! tests/fixtures/manipulate (made by make_fixtures.py) is built as its pipeline-file step
//! through the op registry and computed on several chunkings that do not divide the shapes,
//! with 1, 2 and 7 threads; results must be bit-identical, and a case NumPy refuses must be
//! refused with the message the manifest gives.

mod common;

use std::collections::HashMap;
use std::path::PathBuf;

use std::sync::Arc;

use chunkwise::engine::store::MemorySink;
use chunkwise::engine::{execute, Output};
use chunkwise::pipeline::{builtin, Steps};
use chunkwise::prelude::*;
use chunkwise::{Buffer, Plan};
use common::{assert_computes_to, buffer_array, CountingSource};
use serde_json::{Map, Value};

struct Fixtures {
    manifest: Value,
    data: Vec<u8>,
}

fn fixtures() -> Fixtures {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/manipulate");
    let manifest = std::fs::read_to_string(dir.join("manifest.json")).expect("the manifest");
    Fixtures {
        manifest: serde_json::from_str(&manifest).expect("JSON"),
        data: std::fs::read(dir.join("data.bin")).expect("the data"),
    }
}

fn shape_of(entry: &Value) -> Vec<usize> {
    entry["shape"]
        .as_array()
        .expect("a shape")
        .iter()
        .map(|v| v.as_u64().expect("an extent") as usize)
        .collect()
}

impl Fixtures {
    /// The values an entry points at.
    fn buffer(&self, entry: &Value) -> Buffer {
        let start = entry["offset"].as_u64().expect("offset") as usize;
        let end = start + entry["len"].as_u64().expect("len") as usize;
        let dtype: DType = serde_json::from_value(entry["dtype"].clone()).expect("a dtype");
        Buffer::from_le_bytes(&self.data[start..end], dtype).expect("whole elements")
    }
}

/// The chunkings each case runs with, as a chunk extent per axis of `shape`, and the threads.
fn settings(shape: &[usize]) -> Vec<(Vec<u64>, usize)> {
    let parts =
        |p: usize| -> Vec<u64> { shape.iter().map(|&n| n.div_ceil(p).max(1) as u64).collect() };
    let small: Vec<u64> = shape.iter().map(|&n| n.clamp(1, 3) as u64).collect();
    vec![(parts(2), 1), (parts(3), 2), (small, 7), (parts(1), 2)]
}

/// Builds a case's step on `inputs` (named x, or a, b, c, ... for several).
fn build(op: &str, params: &Value, inputs: Vec<Array>) -> chunkwise::Result<Array> {
    let mut names = HashMap::new();
    let mut params: Map<String, Value> = params.as_object().cloned().unwrap_or_default();
    if inputs.len() == 1 && !params.contains_key("arrays") {
        names.insert("x".to_string(), inputs[0].clone());
        params.insert("x".into(), Value::from("x"));
    } else {
        for (i, a) in inputs.into_iter().enumerate() {
            names.insert(char::from(b'a' + i as u8).to_string(), a);
        }
    }
    builtin().prepare(op, params)?.build(&Steps::new(&names))
}

/// Computes `y` into memory, for the cases that must fail when run.
fn run(y: &Array, threads: usize) -> chunkwise::Result<()> {
    let sink = Arc::new(MemorySink::new(y.meta().clone()));
    let exec = common::exec(threads);
    let outputs = vec![Output {
        array: y.clone(),
        sink,
    }];
    execute(&Plan::build(outputs, &exec)?, &exec).map(|_| ())
}

#[test]
fn ops_match_numpy() {
    let fx = fixtures();
    let cases = fx.manifest["cases"].as_array().expect("cases");
    assert!(cases.len() > 30, "too few cases: {}", cases.len());
    let mut checked = 0;
    for case in cases {
        let op = case["op"].as_str().expect("op");
        let params = &case["params"];
        let entries = case["inputs"].as_array().expect("inputs");
        let shape = shape_of(&entries[0]);
        for (chunks, threads) in settings(&shape) {
            let context =
                format!("{op} {params} on {shape:?} in chunks {chunks:?}, {threads} threads");
            let inputs: Vec<Array> = entries
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    let s = shape_of(e);
                    // Inputs beside the first (concat, stack) get other chunk grids.
                    let c: Vec<u64> = s
                        .iter()
                        .zip(chunks.iter().chain(std::iter::repeat(&2)))
                        .map(|(&n, &c)| (c + i as u64).min(n.max(1) as u64).max(1))
                        .collect();
                    buffer_array(fx.buffer(e), &s, &c)
                })
                .collect();
            let built = build(op, params, inputs);
            if let Some(error) = case.get("error").and_then(Value::as_str) {
                let message = match built {
                    Err(e) => e.to_string(),
                    Ok(y) => match run(&y, threads) {
                        Err(e) => e.to_string(),
                        Ok(()) => {
                            panic!("{context}: NumPy refuses this ({error}), chunkwise did not")
                        }
                    },
                };
                assert!(
                    message.contains(error),
                    "{context}: expected {error:?} in {message:?}"
                );
                continue;
            }
            let y = built.unwrap_or_else(|e| panic!("{context}: {e}"));
            let want = &case["output"];
            let want_shape: Vec<u64> = shape_of(want).iter().map(|&n| n as u64).collect();
            assert_eq!(y.shape(), want_shape.as_slice(), "{context}: shape");
            assert_computes_to(&y, &fx.buffer(want), threads, &context);
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} results checked");
}

/// Elements a slice of an in-memory source reads, and its result against ndarray's slicing.
fn elements_read(shape: &[usize], chunks: &[u64], index: &str) -> u64 {
    let data = common::random_array::<u16>(shape, 3);
    let source = CountingSource::new(&data, chunks);
    let x = Array::from_source(source.clone());
    let y = x.slice(index).expect("the slice builds");
    let got: ndarray::ArrayD<u16> = y.compute(&common::exec(2)).expect("the slice computes");
    assert_eq!(got.len() as u64, y.meta().num_elements(), "{index}");
    source.elements_read()
}

#[test]
fn a_slice_reads_only_the_chunks_it_touches() {
    // Contiguous: exactly the slice.
    assert_eq!(elements_read(&[1001], &[7], "3:900"), 897);
    // A step beyond the chunks: one element per chunk it crosses, not the span between.
    assert_eq!(elements_read(&[1001], &[4], "::10"), 101);
    assert_eq!(elements_read(&[1001], &[4], "::-10"), 101);
    // A step within a chunk: output chunks of 2 (half the input's), each reading the run
    // 4k..=4k+2 between its two indices; the last task reads 1000 alone.
    assert_eq!(elements_read(&[1001], &[4], "::2"), 250 * 3 + 1);
    // z = 5 pinned, y 2..7, x 9, 6, 3, 0 in output chunks of 2: (9, 6) reads the run 6..10,
    // (3, 0) the run 0..4.
    assert_eq!(
        elements_read(&[13, 7, 10], &[5, 3, 4], "5, 2:7, ::-3"),
        5 * 8
    );
    // x 0 and 9 only (chunks 0 and 2; chunk 1 skipped).
    assert_eq!(
        elements_read(&[13, 7, 10], &[5, 3, 4], "..., ::9"),
        13 * 7 * 2
    );
}

#[test]
fn a_slice_of_a_pipeline_computes_only_what_it_needs() {
    let data = common::random_array::<u16>(&[32, 16, 16], 8);
    let source = CountingSource::new(&data, &[4, 16, 16]);
    let x = Array::from_source(source.clone());
    let smooth = x
        .gaussian_filter(&[1.0, 1.0, 1.0], 4.0, &FilterOptions::default())
        .unwrap();
    let y = smooth.slice("10:12, ::-1, 3").unwrap();
    let got: ndarray::ArrayD<f32> = y.compute(&common::exec(2)).unwrap();
    // sigma 1, truncate 4: the slab z 6..=15 (halo 4 each side), x 0..=7, all of y.
    assert_eq!(source.elements_read(), 10 * 16 * 8);
    let full: ndarray::ArrayD<f32> = smooth.compute(&common::exec(2)).unwrap();
    let want = full
        .slice(ndarray::s![10..12, ..;-1, 3])
        .to_owned()
        .into_dyn();
    assert_eq!(got, want);
}

#[test]
fn methods_chain_as_numpy_expressions() {
    // np.pad(np.flip(x, 0)[1:, ::2], ((1, 0), (0, 2)), "edge") moved to (y, z), then
    // concatenated with itself tiled: checked against ndarray's own operations.
    let data = common::random_array::<i32>(&[9, 8], 5);
    let x = chunkwise::from_ndarray(data.clone(), &[4, 3]).unwrap();
    let y = x
        .flip(Some(&[0]))
        .unwrap()
        .slice("1:, ::2")
        .unwrap()
        .pad(&[[1, 0], [0, 2]], PadMode::Edge, None)
        .unwrap()
        .permute_dims(&[1, 0])
        .unwrap();
    let z = concat(
        &[y.clone(), y.tile(&[1, 2]).unwrap().slice(":, :3").unwrap()],
        1,
    )
    .unwrap();
    let got: ndarray::ArrayD<i32> = z.compute(&common::exec(2)).unwrap();
    let mut f = data.clone();
    f.invert_axis(ndarray::Axis(0));
    let s = f.slice(ndarray::s![1.., ..;2]).to_owned();
    // Edge padding by hand: one row before (a copy of row 0), two columns after (of the last).
    let (r, c) = (s.nrows(), s.ncols());
    let padded = ndarray::Array2::from_shape_fn((r + 1, c + 2), |(i, j)| {
        s[[i.saturating_sub(1), j.min(c - 1)]]
    });
    let t = padded.t().to_owned();
    let want = ndarray::concatenate(ndarray::Axis(1), &[t.view(), t.slice(ndarray::s![.., ..3])])
        .unwrap()
        .into_dyn();
    assert_eq!(got, want);
}

/// A pipeline file slicing, padding, flipping and joining an input, run by the binary.
fn manipulation_pipeline() -> Value {
    serde_json::json!({
        "inputs": {"vol": "in.zarr"},
        "steps": [
            {"id": "s", "op": "slice", "x": "vol", "index": "2:, ::-2, 1:9"},
            {"id": "p", "op": "pad", "x": "s", "pad_width": [[0, 0], [1, 2], [3, 0]],
             "mode": "reflect"},
            {"id": "f", "op": "flip", "x": "p", "axis": -1},
            {"id": "j", "op": "concat", "arrays": ["p", "f"], "axis": 0},
            {"id": "m", "op": "moveaxis", "x": "j", "source": 0, "destination": -1}
        ],
        "outputs": [{"from": "m", "path": "out.zarr"}]
    })
}

#[test]
fn pipeline_files_run_and_bad_steps_fail_with_one_line() {
    let dir = common::dir_with_input(&[11, 13, 10], &[4, 5, 3], 21);
    let write = |name: &str, p: &Value| {
        let path = dir.path().join(name);
        std::fs::write(&path, p.to_string()).unwrap();
        path
    };
    let path = write("ok.json", &manipulation_pipeline());
    let out = common::chunkwise_cmd(&["run", path.to_str().unwrap(), "-q", "--threads", "2"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: ndarray::ArrayD<u16> = chunkwise::open(dir.path().join("out.zarr"))
        .unwrap()
        .compute(&common::exec(1))
        .unwrap();
    // The same with ndarray: slice, reflect-pad (by index), flip, concatenate, move axis 0 last.
    let x: ndarray::ArrayD<u16> = chunkwise::open(dir.path().join("in.zarr"))
        .unwrap()
        .compute(&common::exec(1))
        .unwrap();
    let s = x.slice(ndarray::s![2.., ..;-2, 1..9]).to_owned();
    let reflect = |i: i64, n: i64| {
        let m = i.rem_euclid(2 * n - 2);
        (if m >= n { 2 * n - 2 - m } else { m }) as usize
    };
    let (a, b, c) = s.dim();
    let p = ndarray::Array3::from_shape_fn((a, b + 3, c + 3), |(i, j, k)| {
        s[[
            i,
            reflect(j as i64 - 1, b as i64),
            reflect(k as i64 - 3, c as i64),
        ]]
    });
    let mut f = p.clone();
    f.invert_axis(ndarray::Axis(2));
    let j = ndarray::concatenate(ndarray::Axis(0), &[p.view(), f.view()]).unwrap();
    let want = j
        .permuted_axes([1, 2, 0])
        .as_standard_layout()
        .to_owned()
        .into_dyn();
    assert_eq!(got, want);
    std::fs::remove_dir_all(dir.path().join("out.zarr")).unwrap();

    let bad = |name: &str, k: usize, step: Value, needle: &str| {
        let mut p = manipulation_pipeline();
        p["steps"][k] = step;
        let out = common::chunkwise_cmd(&["run", write(name, &p).to_str().unwrap(), "-q"]);
        common::assert_fails(&out, needle);
        assert!(
            !dir.path().join("out.zarr").exists(),
            "{name}: output created"
        );
    };
    let slice =
        |index: &str| serde_json::json!({"id": "s", "op": "slice", "x": "vol", "index": index});
    bad(
        "parse",
        0,
        slice("2:, ::-2, 1:9x"),
        "column 14: expected an integer, found \"9x\"",
    );
    bad(
        "bounds",
        0,
        slice("11"),
        "index 11 is out of bounds for axis 0 with size 11",
    );
    bad(
        "too_many",
        0,
        slice("1, 2, 3, 4"),
        "too many indices for array",
    );
    bad(
        "negative_pad",
        1,
        serde_json::json!({"id": "p", "op": "pad", "x": "s", "pad_width": -1}),
        "index can't contain negative values",
    );
    bad(
        "pad_mode",
        1,
        serde_json::json!({"id": "p", "op": "pad", "x": "s", "pad_width": 1, "mode": "mean"}),
        "unknown variant `mean`",
    );
    bad(
        "axis",
        2,
        serde_json::json!({"id": "f", "op": "flip", "x": "p", "axis": 3}),
        "axis 3 is out of bounds for array of dimension 3",
    );
    bad(
        "concat_shapes",
        3,
        serde_json::json!({"id": "j", "op": "concat", "arrays": ["p", "vol"], "axis": 0}),
        "all the input array dimensions except for the concatenation axis must match",
    );
}

#[test]
fn absurd_parameters_are_errors_not_panics() {
    let x = chunkwise::from_ndarray(common::random_array::<u8>(&[6, 4], 2), &[4, 4]).unwrap();
    let big = 1i64 << 40;
    let cases: Vec<(&str, chunkwise::Result<Array>)> = vec![
        ("reshape", x.reshape(&[-1, big, big])),
        ("reshape", x.reshape(&[big, big, big])),
        ("tile", x.tile(&[i64::MAX, i64::MAX])),
        ("repeat", x.repeat(i64::MAX, Some(0))),
        (
            "pad",
            x.pad(&[[i64::MAX, i64::MAX]], PadMode::Constant, None),
        ),
        ("slice", x.slice(&format!("{}:, {}", i64::MIN, i64::MIN))),
        (
            "slice",
            x.slice("::-9223372036854775808, 99999999999999999999"),
        ),
        ("roll", x.roll(&[i64::MAX, i64::MAX], Some(&[0, 0]))),
        ("expand_dims", x.expand_dims(&[i64::MIN])),
    ];
    for (name, result) in cases {
        match result {
            Err(e) => assert!(name != "roll" && !e.to_string().is_empty(), "{name}: {e}"),
            // A roll by any amount is valid: it must compute.
            Ok(y) => {
                assert_eq!(name, "roll", "{name} should be refused");
                let got: ndarray::ArrayD<u8> = y.compute(&common::exec(1)).unwrap();
                assert_eq!(got.len(), 24, "{name}");
            }
        }
    }
}
