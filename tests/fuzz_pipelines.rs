//! Pipeline files are untrusted input: 250 random files (random ops, parameters of random JSON
//! types and sizes, missing and unknown fields, broken references), fixed seed, through the CLI.
//! None may panic, hang or crash; each either runs or fails with one `error:` line and exit 1.

mod common;

use std::process::Command;

use chunkwise::prelude::*;
use common::{exec, random_array};
use ndarray::ArrayD;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Map, Value};

const OPS: &[&str] = &[
    "astype", "clip", "threshold", "add", "sub", "mul", "div", "minimum", "maximum", "abs",
    "sqrt", "exp", "log", "where", "downsample", "upsample", "gaussian_filter", "uniform_filter",
    "correlate", "convolve", "median_filter", "minimum_filter", "maximum_filter", "sobel",
    "laplace", "gaussian_gradient_magnitude", "blur",
];
const KEYS: &[&str] = &[
    "x", "y", "a", "b", "mask", "min", "max", "value", "dtype", "factors", "method", "sigma",
    "truncate", "mode", "cval", "output", "size", "footprint", "origin", "weights", "kernels",
    "axis", "bogus",
];
const WORDS: &[&str] = &[
    "vol", "s0", "s1", "", "float32", "uint8", "int64", "bool", "reflect", "wrap", "constant",
    "mean", "median", "nearest", "linear", "nonsense", "..", "/",
];

fn value(rng: &mut StdRng, depth: u32) -> Value {
    match rng.random_range(0..10) {
        0 => json!(rng.random_range(-3i64..10)),
        1 => json!([i64::MAX, i64::MIN, u64::MAX as f64, 1e300, -1e300, 0][rng.random_range(0..6)]),
        2 => json!(rng.random_range(-4.0..8.0)),
        3 => json!(WORDS[rng.random_range(0..WORDS.len())]),
        4 => json!(rng.random_bool(0.5)),
        5 => Value::Null,
        6 | 7 if depth < 3 => {
            let n = rng.random_range(0..5);
            Value::Array((0..n).map(|_| value(rng, depth + 1)).collect())
        }
        8 if depth < 3 => {
            let mut m = Map::new();
            for _ in 0..rng.random_range(0..3) {
                m.insert(KEYS[rng.random_range(0..KEYS.len())].into(), value(rng, depth + 1));
            }
            Value::Object(m)
        }
        _ => json!(rng.random_range(1u64..5)),
    }
}

fn step(rng: &mut StdRng, i: usize) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(format!("s{i}")));
    m.insert("op".into(), json!(OPS[rng.random_range(0..OPS.len())]));
    if rng.random_bool(0.8) {
        let name = if i > 0 && rng.random_bool(0.5) { format!("s{}", i - 1) } else { "vol".into() };
        m.insert("x".into(), json!(name));
    }
    for key in KEYS {
        if rng.random_bool(0.2) {
            let v = match (*key, rng.random_range(0..3)) {
                ("sigma" | "size" | "factors" | "origin", 0) => {
                    json!([rng.random_range(0..4), rng.random_range(0..4), rng.random_range(0..4)])
                }
                _ => value(rng, 0),
            };
            m.insert((*key).into(), v);
        }
    }
    Value::Object(m)
}

fn document(rng: &mut StdRng) -> Value {
    let steps: Vec<Value> = (0..rng.random_range(1..4)).map(|i| step(rng, i)).collect();
    let last = format!("s{}", steps.len() - 1);
    let mut output = json!({"from": last, "path": "out.zarr"});
    if rng.random_bool(0.3) {
        output[KEYS[rng.random_range(0..KEYS.len())]] = value(rng, 0);
    }
    if rng.random_bool(0.2) {
        output["chunks"] = value(rng, 0);
    }
    let mut doc = json!({"inputs": {"vol": "in.zarr"}, "steps": steps, "outputs": [output]});
    if rng.random_bool(0.1) {
        doc[["inputs", "steps", "outputs", "extra"][rng.random_range(0..4)]] = value(rng, 0);
    }
    doc
}

#[test]
fn random_pipeline_files_never_panic_and_fail_with_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let data: ArrayD<u16> = random_array(&[6, 5, 4], 31);
    chunkwise::from_ndarray(data, &[4, 4, 4])
        .unwrap()
        .to_zarr(dir.path().join("in.zarr"), &WriteOptions::default(), &exec(1))
        .unwrap();
    let mut rng = StdRng::seed_from_u64(77);
    let (mut ran, mut refused) = (0, 0);
    for case in 0..250 {
        let doc = document(&mut rng);
        let file = dir.path().join("p.json");
        std::fs::write(&file, doc.to_string()).unwrap();
        let _ = std::fs::remove_dir_all(dir.path().join("out.zarr"));
        let out = Command::new(env!("CARGO_BIN_EXE_chunkwise"))
            .args(["run", file.to_str().unwrap(), "-q", "--memory-limit", "256MiB"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let ctx = format!("case {case}: {doc}\n{stderr}");
        assert!(!stderr.contains("panicked"), "{ctx}");
        match out.status.code() {
            Some(0) => ran += 1,
            Some(1) => {
                refused += 1;
                let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
                assert_eq!(lines.len(), 1, "{ctx}");
                assert!(lines[0].starts_with("error: "), "{ctx}");
            }
            other => panic!("exit {other:?} (a crash or a signal): {ctx}"),
        }
    }
    assert!(ran > 5 && refused > 100, "ran {ran}, refused {refused}");
}
