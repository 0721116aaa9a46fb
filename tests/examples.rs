//! The examples run in CI: `custom_op` (a crate's own region op through the API and a pipeline
//! file) as it is; `plugin_cli` (a program that registers its own op) through the whole command
//! line, the op fusing with the built-in steps, unknown ops listing it beside the built-in ones.

mod common;

#[allow(dead_code)]
#[path = "../examples/plugin_cli.rs"]
mod plugin_cli;

#[path = "../examples/custom_op.rs"]
mod custom_op;

use std::process::ExitCode;

use chunkwise::cli::Cli;
use chunkwise::prelude::*;
use common::{dir_with_input, random_array};
use ndarray::ArrayD;
use serde_json::json;

fn run(args: &[&str]) -> ExitCode {
    let mut all = vec!["chunkwise"];
    all.extend_from_slice(args);
    Cli::new().registry(plugin_cli::registry()).run_from(all)
}

#[test]
fn a_registered_op_runs_from_a_pipeline_file_fused_with_built_in_steps() {
    let dir = dir_with_input(&[20, 18, 9], &[8, 8, 4], 3);
    let data: ArrayD<u16> = random_array(&[20, 18, 9], 3);
    let p = json!({"inputs": {"vol": "in.zarr"},
                   "steps": [{"id": "g", "op": "gamma", "x": "vol", "gamma": 0.5, "max": 65535},
                             {"id": "out", "op": "mul", "x": "g", "y": 255}],
                   "outputs": [{"from": "out", "path": "out.zarr"}]});
    let path = dir.path().join("p.json");
    std::fs::write(&path, p.to_string()).unwrap();
    let path = path.to_str().unwrap();
    assert_eq!(
        run(&["run", path, "-q", "--threads", "2"]),
        ExitCode::SUCCESS
    );
    let got: ArrayD<f32> = chunkwise::open(dir.path().join("out.zarr"))
        .unwrap()
        .compute(&common::exec(1))
        .unwrap();
    let want = data.mapv(|v| (f32::from(v) / 65535.0).powf(0.5) * 255.0);
    assert_eq!(got, want);
    let settings = chunkwise::pipeline::OutputSettings {
        overwrite: Overwrite::Replace,
        ..Default::default()
    };
    let loaded =
        chunkwise::pipeline::load_with(path.as_ref(), &settings, &plugin_cli::registry()).unwrap();
    let plan = loaded.pipeline.plan(&common::exec(1)).unwrap().explain();
    assert!(plan.contains("plan: 1 stage(s)"), "{plan}");
    assert!(
        plan.contains("astype(float32) -> gamma(map_blocks, version 1, float32 -> float32) -> mul"),
        "{plan}"
    );
    // Ops the registry knows are listed by an unknown one; a bad parameter names the step.
    let bad = json!({"inputs": {"vol": "in.zarr"},
                     "steps": [{"id": "g", "op": "gamma", "x": "vol", "gama": 2}],
                     "outputs": [{"from": "g", "path": "bad.zarr"}]});
    std::fs::write(dir.path().join("bad.json"), bad.to_string()).unwrap();
    let bad = dir.path().join("bad.json");
    assert_eq!(run(&["plan", bad.to_str().unwrap()]), ExitCode::FAILURE);
    assert!(!dir.path().join("bad.zarr").exists());
    let err = chunkwise::pipeline::load_with(
        &bad,
        &chunkwise::pipeline::OutputSettings::default(),
        &plugin_cli::registry(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("step \"g\": unknown field `gama`"), "{err}");
    let unknown = chunkwise::pipeline::builtin()
        .prepare("blur", serde_json::Map::new())
        .unwrap_err()
        .to_string();
    assert!(
        unknown.contains("`gaussian_filter`") && !unknown.contains("`gamma`"),
        "{unknown}"
    );
    let unknown = plugin_cli::registry()
        .prepare("blur", serde_json::Map::new())
        .unwrap_err()
        .to_string();
    assert!(
        unknown.contains("`clip`") && unknown.contains("`gamma`"),
        "{unknown}"
    );
}

#[test]
fn the_custom_op_example_runs() {
    custom_op::main().unwrap();
}
