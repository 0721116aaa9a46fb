//! `chunkwise stats` end to end: an array or a pipeline's step, text and JSON, per-axis
//! statistics, and bad arguments as one clear line.

mod common;

use chunkwise::prelude::*;
use common::{assert_fails, chunkwise_cmd, dir_with_input, exec};
use ndarray::ArrayD;
use serde_json::Value;

fn stdout_json(args: &[&str]) -> Value {
    let out = chunkwise_cmd(args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

#[test]
fn stats_of_an_array_and_of_a_pipeline_step() {
    let dir = dir_with_input(&[20, 12, 9], &[8, 8, 8], 6);
    let input = dir.path().join("in.zarr");
    let data: ArrayD<u16> = chunkwise::open(&input).unwrap().compute(&exec(1)).unwrap();
    let mut sorted: Vec<u16> = data.iter().copied().collect();
    sorted.sort_unstable();
    let path = input.to_str().unwrap();
    let s = stdout_json(&[
        "stats",
        path,
        "--json",
        "--bins",
        "8",
        "--percentiles",
        "0,100",
    ]);
    assert_eq!(s["min"].as_f64(), Some(f64::from(sorted[0])));
    assert_eq!(s["max"].as_f64(), Some(f64::from(*sorted.last().unwrap())));
    assert_eq!(s["histogram"].as_array().unwrap().len(), 8);
    assert_eq!(
        s["percentiles"][1][1].as_f64(),
        Some(f64::from(*sorted.last().unwrap()))
    );

    let text = chunkwise_cmd(&["stats", path, "--quiet"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("mean:") && text.contains("histogram (256 bins)"),
        "{text}"
    );

    let pipeline = dir.path().join("p.json");
    std::fs::write(
        &pipeline,
        r#"{"inputs": {"vol": "in.zarr"},
            "steps": [{"id": "half", "op": "div", "x": "vol", "y": 2}],
            "outputs": [{"from": "half", "path": "half.zarr"}]}"#,
    )
    .unwrap();
    let p = pipeline.to_str().unwrap();
    let half = stdout_json(&["stats", p, "--json"]);
    assert_eq!(
        half["max"].as_f64(),
        Some(f64::from(*sorted.last().unwrap()) / 2.0)
    );
    let vol = stdout_json(&["stats", p, "--step", "vol", "--json"]);
    assert_eq!(vol["min"], s["min"]);
    assert!(
        !dir.path().join("half.zarr").exists(),
        "stats writes nothing"
    );

    // To a file, without the histogram pass; an existing file is kept unless --overwrite.
    let file = dir.path().join("stats.json");
    let f = file.to_str().unwrap();
    let to_file = [
        "stats",
        path,
        "--json",
        "--no-histogram",
        "-o",
        f,
        "--quiet",
    ];
    let out = chunkwise_cmd(&to_file);
    assert!(out.status.success() && out.stdout.is_empty());
    let written: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(written["min"], s["min"]);
    assert_eq!(written["histogram"], serde_json::json!([]));
    assert_fails(&chunkwise_cmd(&to_file), "exists");
    let mut again = to_file.to_vec();
    again.push("--overwrite");
    assert!(chunkwise_cmd(&again).status.success());

    let per_slice = stdout_json(&["stats", path, "--axis", "1,2", "--json"]);
    assert_eq!(per_slice["shape"], serde_json::json!([20]));
    assert_eq!(per_slice["max"].as_array().unwrap().len(), 20);
}

#[test]
fn bad_stats_arguments_fail_with_one_line() {
    let dir = dir_with_input(&[10, 10], &[5, 5], 6);
    let path = dir.path().join("in.zarr");
    let path = path.to_str().unwrap();
    assert_fails(
        &chunkwise_cmd(&["stats", path, "--axis", "2"]),
        "axis 2 is out of range",
    );
    assert_fails(&chunkwise_cmd(&["stats", path, "--bins", "0"]), "--bins");
    assert_fails(
        &chunkwise_cmd(&["stats", path, "--percentiles", "101"]),
        "percentile 101 is outside [0, 100]",
    );
    assert_fails(
        &chunkwise_cmd(&["stats", path, "--step", "x"]),
        "--step needs a pipeline",
    );
}
