//! The `chunkwise` binary end to end: a pipeline file runs and its output is right; every kind of
//! bad input is one clear `error:` line, exit code 1, no panic, and no output left behind.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chunkwise::prelude::*;
use common::{assert_fails, assert_same, chunkwise_cmd, exec, random_array};
use ndarray::ArrayD;
use serde_json::{json, Value};

/// A work directory with a 30x20x10 uint16 input `in.zarr` (chunks 8^3).
fn setup() -> (tempfile::TempDir, ArrayD<u16>) {
    let dir = tempfile::tempdir().unwrap();
    let data: ArrayD<u16> = random_array(&[30, 20, 10], 1);
    chunkwise::from_ndarray(data.clone(), &[30, 20, 10])
        .unwrap()
        .to_zarr(
            dir.path().join("in.zarr"),
            &WriteOptions {
                chunks: Some(vec![8, 8, 8]),
                ..WriteOptions::default()
            },
            &exec(1),
        )
        .unwrap();
    (dir, data)
}

fn write_pipeline(dir: &Path, name: &str, p: &Value) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(p).unwrap()).unwrap();
    path
}

fn chain_pipeline() -> Value {
    json!({
        "inputs": {"vol": "in.zarr"},
        "steps": [
            {"id": "f", "op": "astype", "x": "vol", "dtype": "float32"},
            {"id": "s", "op": "mul", "x": "f", "y": 1.5},
            {"id": "a", "op": "add", "x": "s", "y": 100},
            {"id": "c", "op": "clip", "x": "a", "min": 0, "max": 65535},
            {"id": "h", "op": "div", "x": "c", "y": 2},
            {"id": "out", "op": "astype", "x": "h", "dtype": "uint16"}
        ],
        "outputs": [
            {"from": "out", "path": "out.zarr", "chunks": [16, 16, 16],
             "codec": {"name": "zstd", "level": 1}},
            {"from": "c", "path": "clipped_v2.zarr", "zarr_format": 2,
             "codec": {"name": "blosc", "cname": "lz4", "clevel": 5, "shuffle": true}}
        ]
    })
}

#[test]
fn run_writes_correct_outputs_and_plan_explains_fusion() {
    let (dir, data) = setup();
    let p = write_pipeline(dir.path(), "p.json", &chain_pipeline());
    let out = chunkwise_cmd(&[
        "run",
        p.to_str().unwrap(),
        "--threads",
        "2",
        "--memory-limit",
        "256MiB",
        "--quiet",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: ArrayD<u16> = chunkwise::open(dir.path().join("out.zarr"))
        .unwrap()
        .compute(&exec(2))
        .unwrap();
    let want = data.mapv(|v| ((((v as f32) * 1.5 + 100.0).clamp(0.0, 65535.0)) / 2.0) as u16);
    assert_same(&got, &want, "cli chain");
    let clipped: ArrayD<f32> = chunkwise::open(dir.path().join("clipped_v2.zarr"))
        .unwrap()
        .compute(&exec(2))
        .unwrap();
    assert_same(
        &clipped,
        &data.mapv(|v| ((v as f32) * 1.5 + 100.0).clamp(0.0, 65535.0)),
        "cli clipped",
    );
    assert!(dir.path().join("clipped_v2.zarr/.zarray").exists());

    let plan = chunkwise_cmd(&["plan", p.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&plan.stdout);
    assert!(plan.status.success());
    assert!(
        text.contains("astype(float32) -> mul(1.5) -> add(100) -> clip("),
        "{text}"
    );
    assert!(text.contains("projected memory per task"), "{text}");
    let dot = chunkwise_cmd(&["plan", "--dot", p.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&dot.stdout).starts_with("digraph"));

    let info = chunkwise_cmd(&[
        "info",
        dir.path().join("out.zarr").to_str().unwrap(),
        "--json",
    ]);
    let info: Value = serde_json::from_slice(&info.stdout).unwrap();
    assert_eq!(info["shape"], json!([30, 20, 10]));
    assert_eq!(info["chunks"], json!([16, 16, 16]));
    assert_eq!(info["zarr_format"], json!(3));
}

#[test]
fn yaml_pipelines_work_too() {
    let (dir, data) = setup();
    let yaml = "inputs:\n  vol: in.zarr\nsteps:\n  - {id: t, op: threshold, x: vol, value: 30000}\noutputs:\n  - {from: t, path: t.zarr}\n";
    std::fs::write(dir.path().join("p.yaml"), yaml).unwrap();
    let out = chunkwise_cmd(&["run", dir.path().join("p.yaml").to_str().unwrap(), "-q"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: ArrayD<u8> = chunkwise::open(dir.path().join("t.zarr"))
        .unwrap()
        .compute(&exec(1))
        .unwrap();
    assert_same(&got, &data.mapv(|v| u8::from(v > 30000)), "yaml threshold");
}

/// One bad pipeline per case: each fails cleanly and creates no output.
#[test]
fn bad_pipelines_fail_with_one_clear_line_and_write_nothing() {
    let (dir, _) = setup();
    let step = |name: &str, step: Value, needle: &str| {
        let mut p = chain_pipeline();
        p["steps"][1] = step;
        let path = write_pipeline(dir.path(), &format!("{name}.json"), &p);
        let out = chunkwise_cmd(&["run", path.to_str().unwrap(), "-q"]);
        assert_fails(&out, needle);
        assert!(
            !dir.path().join("out.zarr").exists(),
            "{name}: output created"
        );
    };
    step(
        "unknown_op",
        json!({"id": "s", "op": "blur", "x": "f"}),
        "unknown variant `blur`",
    );
    step(
        "wrong_type",
        json!({"id": "s", "op": "mul", "x": "f", "y": [1, 2]}),
        "invalid type",
    );
    step(
        "unknown_param",
        json!({"id": "s", "op": "mul", "x": "f", "y": 2, "z": 1}),
        "unknown field `z`",
    );
    step(
        "unknown_name",
        json!({"id": "s", "op": "mul", "x": "nope", "y": 2}),
        "unknown name \"nope\"",
    );
    step(
        "bad_dtype",
        json!({"id": "s", "op": "astype", "x": "f", "dtype": "float16"}),
        "unknown variant `float16`",
    );
    step(
        "overflow",
        json!({"id": "s", "op": "add", "x": "vol", "y": 70000}),
        "does not fit",
    );
    step(
        "downsample_factor_zero",
        json!({"id": "s", "op": "downsample", "x": "f", "factors": [2, 0, 2], "method": "mean"}),
        "at least 1",
    );
    step(
        "downsample_factor_count",
        json!({"id": "s", "op": "downsample", "x": "f", "factors": [2, 2], "method": "mean"}),
        "one factor",
    );
    step(
        "downsample_method",
        json!({"id": "s", "op": "downsample", "x": "f", "factors": [2, 2, 2], "method": "average"}),
        "unknown variant `average`",
    );
    step(
        "upsample_factor_count",
        json!({"id": "s", "op": "upsample", "x": "f", "factors": [2, 2, 2, 2]}),
        "one factor",
    );
    step(
        "upsample_method",
        json!({"id": "s", "op": "upsample", "x": "f", "factors": [2, 2, 2], "method": "cubic"}),
        "unknown variant `cubic`",
    );
}

#[test]
fn shape_mismatch_fails_before_writing() {
    let (dir, _) = setup();
    chunkwise::from_ndarray(random_array::<u16>(&[30, 20, 11], 2), &[8, 8, 8])
        .unwrap()
        .to_zarr(
            dir.path().join("other.zarr"),
            &WriteOptions::default(),
            &exec(1),
        )
        .unwrap();
    let p = json!({"inputs": {"a": "in.zarr", "b": "other.zarr"},
                   "steps": [{"id": "s", "op": "add", "x": "a", "y": "b"}],
                   "outputs": [{"from": "s", "path": "out.zarr"}]});
    let path = write_pipeline(dir.path(), "p.json", &p);
    assert_fails(
        &chunkwise_cmd(&["run", path.to_str().unwrap()]),
        "shape mismatch",
    );
    assert!(!dir.path().join("out.zarr").exists());
}

#[test]
fn missing_input_fails() {
    let (dir, _) = setup();
    let mut p = chain_pipeline();
    p["inputs"]["vol"] = json!("nowhere.zarr");
    let path = write_pipeline(dir.path(), "p.json", &p);
    assert_fails(
        &chunkwise_cmd(&["run", path.to_str().unwrap()]),
        "nowhere.zarr",
    );
    assert_fails(
        &chunkwise_cmd(&["run", "/no/such/pipeline.json"]),
        "cannot read pipeline file",
    );
    assert_fails(
        &chunkwise_cmd(&["info", "/no/such/array.zarr"]),
        "/no/such/array.zarr",
    );
}

#[test]
fn existing_output_is_refused_without_overwrite() {
    let (dir, _) = setup();
    let path = write_pipeline(dir.path(), "p.json", &chain_pipeline());
    assert!(chunkwise_cmd(&["run", path.to_str().unwrap(), "-q"])
        .status
        .success());
    let before = std::fs::read(dir.path().join("out.zarr/zarr.json")).unwrap();
    assert_fails(
        &chunkwise_cmd(&["run", path.to_str().unwrap(), "-q"]),
        "--overwrite",
    );
    assert_eq!(
        std::fs::read(dir.path().join("out.zarr/zarr.json")).unwrap(),
        before
    );
    assert!(
        chunkwise_cmd(&["run", path.to_str().unwrap(), "-q", "--overwrite"])
            .status
            .success()
    );
}

#[test]
fn corrupt_chunk_fails_and_removes_outputs() {
    let (dir, _) = setup();
    std::fs::write(dir.path().join("in.zarr/c/1/1/0"), b"garbage").unwrap();
    let path = write_pipeline(dir.path(), "p.json", &chain_pipeline());
    let err = assert_fails(
        &chunkwise_cmd(&["run", path.to_str().unwrap(), "-q"]),
        "in.zarr",
    );
    assert!(err.contains("stored chunk [1, 1, 0]"), "{err}");
    assert!(!dir.path().join("out.zarr").exists());
    assert!(!dir.path().join("clipped_v2.zarr").exists());
}

#[test]
fn memory_limit_smaller_than_a_task_fails_at_plan_time() {
    let (dir, _) = setup();
    let path = write_pipeline(dir.path(), "p.json", &chain_pipeline());
    assert_fails(
        &chunkwise_cmd(&["run", path.to_str().unwrap(), "--memory-limit", "10KiB"]),
        "raise --memory-limit",
    );
    assert!(!dir.path().join("out.zarr").exists());
    assert_fails(
        &chunkwise_cmd(&["run", path.to_str().unwrap(), "--memory-limit", "lots"]),
        "--memory-limit",
    );
}

#[test]
fn malformed_files_fail_cleanly() {
    let (dir, _) = setup();
    for (name, text, needle) in [
        ("a.json", "{\"inputs\": ", "not valid JSON"),
        ("b.json", "[1, 2]", "must be an object"),
        ("c.json", "{\"outputs\": []}", "no outputs"),
        (
            "d.json",
            "{\"outputs\": [{\"from\": \"x\"}]}",
            "missing \"path\"",
        ),
        (
            "e.json",
            "{\"inputs\": {}, \"outputs\": [], \"extra\": 1}",
            "unknown top-level key",
        ),
    ] {
        std::fs::write(dir.path().join(name), text).unwrap();
        assert_fails(
            &chunkwise_cmd(&["run", dir.path().join(name).to_str().unwrap()]),
            needle,
        );
    }
}

#[test]
fn resampling_steps_and_the_pyramid_command() {
    let (dir, data) = setup();
    let p = json!({"inputs": {"vol": "in.zarr"},
                   "steps": [{"id": "c", "op": "clip", "x": "vol", "min": 1000, "max": 60000},
                             {"id": "d", "op": "downsample", "x": "c", "factors": [2, 2, 2], "method": "max"},
                             {"id": "u", "op": "upsample", "x": "vol", "factors": [1, 1, 2]}],
                   "outputs": [{"from": "d", "path": "d.zarr"}, {"from": "u", "path": "u.zarr"}]});
    let path = write_pipeline(dir.path(), "p.json", &p);
    let out = chunkwise_cmd(&["run", path.to_str().unwrap(), "-q"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let d: ArrayD<u16> = chunkwise::open(dir.path().join("d.zarr"))
        .unwrap()
        .compute(&exec(1))
        .unwrap();
    assert_eq!(d.shape(), &[15, 10, 5]);
    let block_max = (0..2)
        .flat_map(|z| (0..2).flat_map(move |y| (0..2).map(move |x| (z, y, x))))
        .map(|(z, y, x)| data[[2 + z, 4 + y, 6 + x]].clamp(1000, 60000))
        .max()
        .unwrap();
    assert_eq!(d[[1, 2, 3]], block_max);
    let u: ArrayD<u16> = chunkwise::open(dir.path().join("u.zarr"))
        .unwrap()
        .compute(&exec(1))
        .unwrap();
    assert_eq!(
        (u[[3, 4, 10]], u[[3, 4, 11]]),
        (data[[3, 4, 5]], data[[3, 4, 5]])
    );

    let input = dir.path().join("in.zarr");
    let image = dir.path().join("image.zarr");
    let args = [
        "pyramid",
        input.to_str().unwrap(),
        image.to_str().unwrap(),
        "--levels",
        "2",
        "--unit",
        "micrometer",
        "-q",
    ];
    let out = chunkwise_cmd(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let group: Value =
        serde_json::from_slice(&std::fs::read(image.join("zarr.json")).unwrap()).unwrap();
    assert_eq!(
        group["attributes"]["ome"]["multiscales"][0]["datasets"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_fails(&chunkwise_cmd(&args), "--overwrite");
    let missing = dir.path().join("x.zarr");
    let bad = [
        "pyramid",
        input.to_str().unwrap(),
        missing.to_str().unwrap(),
        "--method",
        "average",
    ];
    assert_fails(&chunkwise_cmd(&bad), "unknown --method");
    let input = input.to_str().unwrap();
    let missing_path = missing.to_str().unwrap();
    for (flags, needle) in [
        (&["--levels", "0"][..], "at least 1"),
        (&["--levels", "9"], "would repeat level"),
        (&["--axes", "z,y"], "2 axis names given for a 3-d array"),
        (&["--axes", "y,c,x"], "time first, then channel"),
        (&["--unit", "um"], "not an NGFF space unit"),
        (&["--factors", "2,2"], "one value per axis (3)"),
        (&["--scale", "1,-1,1"], "not a positive pixel size"),
    ] {
        let mut args = vec!["pyramid", input, missing_path];
        args.extend_from_slice(flags);
        assert_fails(&chunkwise_cmd(&args), needle);
        assert!(!missing.exists(), "{flags:?}");
    }
}

#[test]
fn stencil_steps_run_from_pipeline_files_and_bad_ones_fail_cleanly() {
    let (dir, data) = setup();
    let p = json!({
        "inputs": {"vol": "in.zarr"},
        "steps": [
            {"id": "g", "op": "gaussian_filter", "x": "vol", "sigma": 1.5, "mode": "wrap"},
            {"id": "m", "op": "median_filter", "x": "vol", "footprint": [[[0, 1, 0], [1, 1, 1], [0, 1, 0]]]},
            {"id": "k", "op": "convolve", "x": "vol", "kernels": [[1, 2, 1], [1, -1], [0.5]],
             "origin": [0, -1, 0], "mode": "constant", "cval": 3},
            {"id": "e", "op": "sobel", "x": "g", "axis": 1},
            {"id": "s", "op": "add", "x": "e", "y": "m"}
        ],
        "outputs": [{"from": "s", "path": "s.zarr"}, {"from": "k", "path": "k.zarr"}]
    });
    let path = write_pipeline(dir.path(), "stencils.json", &p);
    let out = chunkwise_cmd(&["run", path.to_str().unwrap(), "-q"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The same through the API on the whole array in one chunk.
    use chunkwise::ops::stencil::{self as st, BoundaryMode, FilterOptions, Weights, Window};
    let x = chunkwise::from_ndarray(data, &[30, 20, 10]).unwrap();
    let wrap = FilterOptions {
        mode: BoundaryMode::Wrap,
        ..FilterOptions::default()
    };
    let plain = FilterOptions::default();
    let cross = Window::Footprint {
        shape: vec![1, 3, 3],
        mask: [0, 1, 0, 1, 1, 1, 0, 1, 0]
            .iter()
            .map(|&v| v == 1)
            .collect(),
    };
    let g = st::gaussian_filter(&x, &[1.5; 3], 4.0, &wrap).unwrap();
    let s = st::sobel(&g, 1, &plain)
        .unwrap()
        .add(st::median_filter(&x, &cross, &[], &plain).unwrap())
        .unwrap();
    let constant = FilterOptions {
        mode: BoundaryMode::Constant,
        cval: 3.0,
        output: None,
    };
    let kernels = Weights::Separable(vec![vec![1.0, 2.0, 1.0], vec![1.0, -1.0], vec![0.5]]);
    let k = st::convolve(&x, &kernels, &[0, -1, 0], &constant).unwrap();
    for (name, want) in [("s.zarr", s), ("k.zarr", k)] {
        let want: ArrayD<f32> = want.compute(&exec(1)).unwrap();
        let got: ArrayD<f32> = chunkwise::open(dir.path().join(name))
            .unwrap()
            .compute(&exec(2))
            .unwrap();
        assert_same(&got, &want, name);
    }

    let bad = |name: &str, step: Value, needle: &str| {
        let p = json!({
            "inputs": {"vol": "in.zarr"},
            "steps": [step],
            "outputs": [{"from": "y", "path": "bad.zarr"}]
        });
        let path = write_pipeline(dir.path(), &format!("{name}.json"), &p);
        assert_fails(
            &chunkwise_cmd(&["run", path.to_str().unwrap(), "-q"]),
            needle,
        );
        assert!(
            !dir.path().join("bad.zarr").exists(),
            "{name}: output created"
        );
    };
    bad(
        "ragged",
        json!({"id": "y", "op": "correlate", "x": "vol", "weights": [[1, 2], [3]]}),
        "ragged",
    );
    bad(
        "both",
        json!({"id": "y", "op": "correlate", "x": "vol", "weights": [[[1]]], "kernels": [[1], [1], [1]]}),
        "either weights",
    );
    bad(
        "no_window",
        json!({"id": "y", "op": "median_filter", "x": "vol"}),
        "either size",
    );
    bad(
        "rank",
        json!({"id": "y", "op": "uniform_filter", "x": "vol", "size": [3, 3]}),
        "one value per axis",
    );
    bad(
        "origin",
        json!({"id": "y", "op": "maximum_filter", "x": "vol", "size": 3, "origin": 2}),
        "origin 2",
    );
    bad(
        "string_weight",
        json!({"id": "y", "op": "convolve", "x": "vol", "weights": [["a"]]}),
        "expected numbers",
    );
    bad(
        "foreign_param",
        json!({"id": "y", "op": "uniform_filter", "x": "vol", "size": 3, "sigma": 2}),
        "uniform_filter takes no parameter `sigma`",
    );
    bad(
        "no_sigma",
        json!({"id": "y", "op": "gaussian_filter", "x": "vol"}),
        "needs sigma",
    );
    bad(
        "int_output",
        json!({"id": "y", "op": "laplace", "x": "vol", "output": "uint16"}),
        "output must be float32 or float64",
    );
}

#[test]
fn the_memory_report_puts_measured_task_memory_beside_the_projection() {
    let (dir, _) = setup();
    let p = write_pipeline(
        dir.path(),
        "p.json",
        &json!({
            "inputs": {"vol": "in.zarr"},
            "steps": [
                {"id": "g", "op": "gaussian_filter", "x": "vol", "sigma": 1.0},
                {"id": "u", "op": "astype", "x": "g", "dtype": "uint16"},
                {"id": "d", "op": "downsample", "x": "u", "factors": [2, 2, 2], "method": "mean"}
            ],
            "outputs": [{"from": "d", "path": "small.zarr"}]
        }),
    );
    let out = chunkwise_cmd(&["run", p.to_str().unwrap(), "--quiet", "--memory-report"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Rows: stage, tasks, projected (2 tokens), measured max (2), mean (2), max/projected, work.
    let rows: Vec<Vec<&str>> = text
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|t| t.len() > 9 && t[0].parse::<usize>().is_ok())
        .collect();
    assert_eq!(
        rows.len(),
        2,
        "a stencil stage and a downsample stage:\n{text}"
    );
    for row in &rows {
        // Measured (by the CLI's counting allocator) and projected are both there; on an input
        // this small fixed overheads decide their ratio.
        let ratio: f64 = row[8].parse().unwrap_or_else(|_| panic!("{text}"));
        assert!(
            ratio > 0.0 && ratio.is_finite(),
            "measured vs projected {ratio}:\n{text}"
        );
    }
    assert!(rows[0].join(" ").contains("gaussian_filter"), "{text}");
    assert!(text.contains("measured peak RSS"), "{text}");
    if cfg!(target_os = "linux") {
        assert!(!text.contains("measured peak RSS unknown"), "{text}");
    }
}

/// clip and threshold steps with scalars below, inside and above every type's range, all in one
/// pipeline file, against NumPy 2's values and result types (tests/fixtures/elementwise): two
/// runs, with chunkings that do not divide the shapes, different thread counts, plain and sharded
/// outputs. A case NumPy refuses fails on its own, with one clear line (one per input type here;
/// every one of them through the library in elementwise.rs).
#[test]
fn clip_and_threshold_steps_match_numpy_with_scalars_out_of_range() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/elementwise");
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(fixtures.join("manifest.json")).unwrap()).unwrap();
    let cases = manifest.as_array().unwrap();
    let shapes: BTreeMap<&str, Vec<usize>> = cases
        .iter()
        .map(|c| {
            let shape = serde_json::from_value(c["shape"].clone()).unwrap();
            (c["dtype"].as_str().unwrap(), shape)
        })
        .collect();
    let step = |case: &Value| {
        let mut s = json!({"id": case["name"], "op": case["op"], "x": case["dtype"]});
        for key in ["value", "min", "max"] {
            if let Some(v) = case.get(key) {
                s[key] = v.clone();
            }
        }
        s
    };
    // One Zarr input per type, in chunks of about a `part`th of each axis (none divides it).
    let chunks_of = |shape: &[usize], part: u64| -> Vec<u64> {
        shape.iter().map(|&n| n as u64 / part + 1).collect()
    };
    let write_inputs = |dir: &Path, part: u64| {
        let mut inputs = serde_json::Map::new();
        for (dtype, shape) in &shapes {
            let data = common::load_le(&fixtures.join(format!("{dtype}.in.bin")), dtype);
            common::buffer_array(data, shape, &chunks_of(shape, part))
                .to_zarr(
                    dir.join(format!("{dtype}.zarr")),
                    &WriteOptions::default(),
                    &exec(1),
                )
                .unwrap();
            inputs.insert((*dtype).into(), json!(format!("{dtype}.zarr")));
        }
        inputs
    };
    let (refused, ok): (Vec<&Value>, Vec<&Value>) =
        cases.iter().partition(|c| c.get("error").is_some());
    // The second run writes each output as one shard (of the input's chunks): one file, as this
    // disk is slow to create and delete thousands.
    for (part, threads, sharded) in [(2, "1", false), (4, "7", true)] {
        let dir = tempfile::tempdir().unwrap();
        let outputs: Vec<Value> = ok
            .iter()
            .map(|c| {
                let name = c["name"].as_str().unwrap();
                let mut out = json!({"from": name, "path": format!("{name}.zarr")});
                if sharded {
                    let shape = &shapes[c["dtype"].as_str().unwrap()];
                    let chunks = chunks_of(shape, part);
                    let shards: Vec<u64> = shape
                        .iter()
                        .zip(&chunks)
                        .map(|(&n, &c)| (n as u64).div_ceil(c) * c)
                        .collect();
                    out["shards"] = json!(shards);
                }
                out
            })
            .collect();
        let p = json!({"inputs": write_inputs(dir.path(), part),
                       "steps": ok.iter().map(|c| step(c)).collect::<Vec<_>>(),
                       "outputs": outputs});
        let path = write_pipeline(dir.path(), "p.json", &p);
        let out = chunkwise_cmd(&["run", path.to_str().unwrap(), "--threads", threads, "-q"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        for case in &ok {
            let name = case["name"].as_str().unwrap();
            let want = common::load_le(
                &fixtures.join(format!("{name}.out.bin")),
                case["out_dtype"].as_str().unwrap(),
            );
            let got = chunkwise::open(dir.path().join(format!("{name}.zarr"))).unwrap();
            let ctx = format!("{name} {case} chunks 1/{part} threads {threads}");
            common::assert_computes_to(&got, &want, 1, &ctx);
        }
    }
    // One refused case per input type (each is a run of its own).
    let dir = tempfile::tempdir().unwrap();
    let inputs = write_inputs(dir.path(), 2);
    let mut seen = BTreeSet::new();
    for case in refused.iter().filter(|c| seen.insert(c["dtype"].as_str())) {
        let p = json!({"inputs": inputs, "steps": [step(case)],
                       "outputs": [{"from": case["name"], "path": "refused.zarr"}]});
        let path = write_pipeline(dir.path(), "refused.json", &p);
        let needle = match case["error"].as_str().unwrap() {
            "OverflowError" => "is outside the range of the array's type",
            _ => "needs min, max or both",
        };
        assert_fails(&chunkwise_cmd(&["run", path.to_str().unwrap()]), needle);
        assert!(!dir.path().join("refused.zarr").exists());
    }
}
