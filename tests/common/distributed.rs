//! The pipelines of issue 14 (clip, the 5-op chain, gaussian, the 3-level pyramid and
//! clip -> gaussian -> downsample with a sharded output), a rechunk through an intermediate
//! chunking (issue 18), and what the distributed-run tests do
//! with them: write them for a folder, run them locally, read their outputs back exactly.

use std::path::{Path, PathBuf};

use chunkwise::engine::store::{IoContext, Source};
use chunkwise::pipeline::{load, OutputSettings};
use chunkwise::store::open_zarr;
use chunkwise::Region;
use serde_json::{json, Value};

/// Each pipeline by name, reading `vol`, its outputs under `OUT/`.
pub fn pipelines() -> Vec<(&'static str, Value)> {
    vec![
        (
            "clip",
            json!({"steps": [{"id": "c", "op": "clip", "x": "vol", "min": 10000, "max": 40000}],
                         "outputs": [{"from": "c", "path": "OUT/clip.zarr"}]}),
        ),
        (
            "chain",
            json!({"steps": [
            {"id": "f", "op": "astype", "x": "vol", "dtype": "float32"},
            {"id": "s", "op": "mul", "x": "f", "y": 1.5},
            {"id": "a", "op": "add", "x": "s", "y": 100},
            {"id": "c", "op": "clip", "x": "a", "min": 0, "max": 65535},
            {"id": "h", "op": "div", "x": "c", "y": 2},
            {"id": "out", "op": "astype", "x": "h", "dtype": "uint16"}],
            "outputs": [{"from": "out", "path": "OUT/chain.zarr"},
                        {"from": "h", "path": "OUT/chain_f32.zarr", "chunks": [16, 8, 8]}]}),
        ),
        (
            "gaussian",
            json!({"steps": [{"id": "g", "op": "gaussian_filter", "x": "vol", "sigma": 1.5}],
                             "outputs": [{"from": "g", "path": "OUT/gauss.zarr"}]}),
        ),
        (
            "pyramid",
            json!({"steps": [
            {"id": "l1", "op": "downsample", "x": "vol", "factors": [2, 2, 2], "method": "mean"},
            {"id": "l2", "op": "downsample", "x": "l1", "factors": [2, 2, 2], "method": "mean"},
            {"id": "l3", "op": "downsample", "x": "l2", "factors": [2, 2, 2], "method": "mean"}],
            "outputs": [{"from": "vol", "path": "OUT/0"}, {"from": "l1", "path": "OUT/1"},
                        {"from": "l2", "path": "OUT/2"}, {"from": "l3", "path": "OUT/3"}]}),
        ),
        (
            "seed",
            json!({"steps": [
            {"id": "c", "op": "clip", "x": "vol", "min": 10000, "max": 40000},
            {"id": "g", "op": "gaussian_filter", "x": "c", "sigma": 2},
            {"id": "d", "op": "downsample", "x": "g", "factors": [2, 2, 2], "method": "mean"}],
            "outputs": [{"from": "d", "path": "OUT/seed.zarr", "chunks": [8, 8, 8],
                         "shards": [16, 16, 16]}]}),
        ),
        (
            // Cubes to thin slabs along the middle axis under a tiny max_mem: a first pass into
            // intermediate chunks, handed to the second pass through a scratch array.
            "rechunk",
            json!({"steps": [
            {"id": "r", "op": "rechunk", "x": "vol", "chunks": [64, 2, 64], "max_mem": "16k"}],
            "outputs": [{"from": "r", "path": "OUT/rechunk.zarr"}]}),
        ),
    ]
}

/// The pipeline `name` (input `in.zarr`), outputs under `<sub>/<name>/`, written as
/// `<name>_<sub>.json` in `dir`.
pub fn write_pipeline(dir: &Path, name: &str, sub: &str) -> PathBuf {
    let (_, spec) = pipelines()
        .into_iter()
        .find(|(n, _)| *n == name)
        .expect("a known pipeline");
    let text = spec.to_string().replace("OUT/", &format!("{sub}/{name}/"));
    let mut spec: Value = serde_json::from_str(&text).expect("JSON");
    spec["inputs"] = json!({"vol": "in.zarr"});
    let path = dir.join(format!("{name}_{sub}.json"));
    std::fs::write(&path, spec.to_string()).expect("the pipeline is written");
    path
}

/// Runs the pipeline at `path` locally (2 threads).
pub fn run_local(path: &Path) {
    let loaded = load(path, &OutputSettings::default()).expect("the pipeline loads");
    loaded.pipeline.run(&super::exec(2)).expect("the local run");
}

/// Every output of the pipeline at `path`, decoded, as little-endian bytes (exact for floats).
pub fn outputs_bytes(path: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let loaded = load(path, &OutputSettings::default()).expect("the pipeline loads");
    let base = path.parent().expect("a folder");
    let io = IoContext {
        codec_threads: 1,
        cache_bytes: 0,
        ..IoContext::default()
    };
    loaded
        .spec
        .outputs
        .iter()
        .map(|o| {
            let p = base.join(&o.path);
            let a = open_zarr(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            let full = Region::new(vec![0; a.meta().shape.len()], a.meta().shape.clone());
            (p, a.read(&full, &io).expect("readable").to_le_bytes())
        })
        .collect()
}

/// Asserts that the outputs of the pipelines at `local` and `dist` are the same, bit for bit.
pub fn assert_same_outputs(local: &Path, dist: &Path, context: &str) {
    let want = outputs_bytes(local);
    let got = outputs_bytes(dist);
    assert_eq!(want.len(), got.len(), "{context}: outputs");
    for ((wp, w), (gp, g)) in want.iter().zip(&got) {
        assert!(
            w == g,
            "{context}: {} differs from {}",
            gp.display(),
            wp.display()
        );
    }
}
