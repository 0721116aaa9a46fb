//! A pipeline planned for a job-array system and run element by element (`run-task`) gives the
//! local `chunkwise run` result bit for bit, whatever the partition of each stage's tasks into
//! ranges, the order the elements run in, the threads per element, a range run twice (a
//! requeue, or two elements given the same range at once) or an element killed mid-write and
//! run again. No scheduler is involved here (tests/slurm.rs drives a real Slurm).

mod common;

use std::path::{Path, PathBuf};

use chunkwise::distributed::{finalize, plan_run, run_task, status, PlanFile, RunSettings};
use chunkwise::engine::store::{open_zarr, IoContext, Source};
use chunkwise::pipeline::{builtin, load, OutputSettings};
use chunkwise::Region;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde_json::{json, Value};

/// The pipelines of the issue, on input `in.zarr`, each output under `out/`.
fn pipelines() -> Vec<(&'static str, Value)> {
    let steps_chain = json!([
        {"id": "f", "op": "astype", "x": "vol", "dtype": "float32"},
        {"id": "s", "op": "mul", "x": "f", "y": 1.5},
        {"id": "a", "op": "add", "x": "s", "y": 100},
        {"id": "c", "op": "clip", "x": "a", "min": 0, "max": 65535},
        {"id": "h", "op": "div", "x": "c", "y": 2},
        {"id": "out", "op": "astype", "x": "h", "dtype": "uint16"}
    ]);
    vec![
        (
            "clip",
            json!({"steps": [{"id": "c", "op": "clip", "x": "vol", "min": 10000, "max": 40000}],
                   "outputs": [{"from": "c", "path": "out/clip.zarr"}]}),
        ),
        (
            "chain",
            json!({"steps": steps_chain,
                   "outputs": [{"from": "out", "path": "out/chain.zarr"},
                               {"from": "h", "path": "out/chain_f32.zarr", "chunks": [16, 8, 8]}]}),
        ),
        (
            "gaussian",
            json!({"steps": [{"id": "g", "op": "gaussian_filter", "x": "vol", "sigma": 1.5}],
                   "outputs": [{"from": "g", "path": "out/gauss.zarr"}]}),
        ),
        (
            "pyramid",
            json!({"steps": [
                       {"id": "l1", "op": "downsample", "x": "vol", "factors": [2, 2, 2], "method": "mean"},
                       {"id": "l2", "op": "downsample", "x": "l1", "factors": [2, 2, 2], "method": "mean"},
                       {"id": "l3", "op": "downsample", "x": "l2", "factors": [2, 2, 2], "method": "mean"}],
                   "outputs": [{"from": "vol", "path": "out/0"}, {"from": "l1", "path": "out/1"},
                               {"from": "l2", "path": "out/2"}, {"from": "l3", "path": "out/3"}]}),
        ),
        (
            "seed",
            json!({"steps": [
                       {"id": "c", "op": "clip", "x": "vol", "min": 10000, "max": 40000},
                       {"id": "g", "op": "gaussian_filter", "x": "c", "sigma": 2},
                       {"id": "d", "op": "downsample", "x": "g", "factors": [2, 2, 2], "method": "mean"}],
                   "outputs": [{"from": "d", "path": "out/seed.zarr", "shards": [16, 16, 16], "chunks": [8, 8, 8]}]}),
        ),
    ]
}

/// Writes `spec` (with input `in.zarr`) as `<name>.json` in `dir`, its outputs under `sub/`.
fn write_pipeline(dir: &Path, name: &str, spec: &Value, sub: &str) -> PathBuf {
    let mut spec = spec.clone();
    spec["inputs"] = json!({"vol": "in.zarr"});
    for out in spec["outputs"].as_array_mut().unwrap() {
        let path = out["path"]
            .as_str()
            .unwrap()
            .replacen("out/", &format!("{sub}/"), 1);
        out["path"] = json!(path);
    }
    let path = dir.join(format!("{name}_{sub}.json"));
    std::fs::write(&path, spec.to_string()).unwrap();
    path
}

/// Every output of the pipeline at `path`, decoded, as little-endian bytes (exact for floats).
fn outputs_bytes(path: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let loaded = load(path, &OutputSettings::default()).unwrap();
    let base = path.parent().unwrap();
    loaded
        .spec
        .outputs
        .iter()
        .map(|o| {
            let p = base.join(&o.path);
            let array = open_zarr(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            let full = Region::new(
                vec![0; array.meta().shape.len()],
                array.meta().shape.clone(),
            );
            let io = IoContext {
                codec_threads: 1,
                cache_bytes: 0,
            };
            (p, array.read(&full, &io).unwrap().to_le_bytes())
        })
        .collect()
}

fn run_local(path: &Path) {
    let loaded = load(path, &OutputSettings::default()).unwrap();
    loaded.pipeline.run(&common::exec(2)).unwrap();
}

fn settings(tasks_per_job: u64, threads: usize) -> RunSettings {
    let mut s = RunSettings::default();
    s.tasks_per_job = tasks_per_job;
    s.threads = threads;
    s.mem_per_job = 1 << 30;
    s
}

/// Runs every element of every stage of `plan` in a shuffled order (stage by stage).
fn run_all(plan: &Path, seed: u64) {
    let p = PlanFile::read(plan).unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    for (s, stage) in p.stages.iter().enumerate() {
        let mut order: Vec<u64> = (0..stage.elements).collect();
        order.shuffle(&mut rng);
        for i in order {
            run_task(plan, s, i, &builtin(), &common::exec(1)).unwrap();
        }
    }
}

/// Asserts that the distributed outputs (under `dist/`) equal the local ones (under `local/`).
fn assert_same_outputs(local: &Path, dist: &Path, context: &str) {
    let want = outputs_bytes(local);
    let got = outputs_bytes(dist);
    assert_eq!(want.len(), got.len());
    for ((wp, w), (gp, g)) in want.iter().zip(&got) {
        assert!(
            w == g,
            "{context}: {} differs from {}",
            gp.display(),
            wp.display()
        );
    }
}

#[test]
fn any_partition_in_any_order_gives_the_local_result() {
    // Shapes that do not divide the chunks; two chunkings.
    for (shape, chunks, seed) in [
        ([37usize, 45, 29], [8u64, 16, 8], 1u64),
        ([33, 20, 26], [16, 8, 8], 2),
    ] {
        let dir = common::dir_with_input(&shape, &chunks, seed);
        for (name, spec) in pipelines() {
            let local = write_pipeline(dir.path(), name, &spec, "local");
            run_local(&local);
            for (k, (per_job, threads)) in
                [(1u64, 1usize), (3, 2), (1000, 1)].into_iter().enumerate()
            {
                let dist = write_pipeline(dir.path(), name, &spec, "dist");
                let mut s = settings(per_job, threads);
                s.overwrite = true;
                let plan = plan_run(&dist, &s, &builtin()).unwrap();
                run_all(&plan, seed * 10 + k as u64);
                finalize(&plan, &builtin()).unwrap();
                let context = format!("{name} on {shape:?}/{chunks:?}, {per_job} tasks per job");
                assert_same_outputs(&local, &dist, &context);
                assert!(status(&plan, &builtin()).unwrap().finalized);
                let scratch = PlanFile::read(&plan).unwrap().scratch;
                assert!(!scratch.exists(), "{context}: scratch removed");
            }
        }
    }
}

#[test]
fn stages_that_pass_results_in_memory_locally_go_through_scratch_arrays() {
    let dir = common::dir_with_input(&[20, 20, 20], &[8, 8, 8], 3);
    let (_, spec) = pipelines()
        .into_iter()
        .find(|(n, _)| *n == "pyramid")
        .unwrap();
    let dist = write_pipeline(dir.path(), "pyramid", &spec, "dist");
    let plan = plan_run(&dist, &settings(2, 1), &builtin()).unwrap();
    let p = PlanFile::read(&plan).unwrap();
    // Levels 0, 1 and 2 are read by the next level: each is a stage with a scratch copy.
    assert_eq!(p.stages.len(), 4);
    for s in 0..3 {
        assert!(p.stages[s]
            .writes
            .iter()
            .any(|w| w.contains(&format!("scratch/{s}.zarr"))));
        assert!(p
            .scratch
            .join(format!("{s}.zarr"))
            .join("zarr.json")
            .is_file());
    }
    // Nothing of an output opens as complete before finalize.
    run_all(&plan, 5);
    assert!(open_zarr(dir.path().join("dist/1")).is_err());
    finalize(&plan, &builtin()).unwrap();
    assert!(open_zarr(dir.path().join("dist/1")).is_ok());
}

#[test]
fn a_range_run_twice_at_once_or_again_stores_the_same_result() {
    let dir = common::dir_with_input(&[30, 30, 30], &[8, 8, 8], 4);
    let (_, spec) = pipelines().into_iter().find(|(n, _)| *n == "seed").unwrap();
    let local = write_pipeline(dir.path(), "seed", &spec, "local");
    run_local(&local);
    let dist = write_pipeline(dir.path(), "seed", &spec, "dist");
    let plan = plan_run(&dist, &settings(5, 1), &builtin()).unwrap();
    let p = PlanFile::read(&plan).unwrap();
    for (s, stage) in p.stages.iter().enumerate() {
        for i in 0..stage.elements {
            // Two processes given the same range at the same time (a requeue racing the
            // original), then the range again: the last computes nothing.
            std::thread::scope(|scope| {
                for _ in 0..2 {
                    scope.spawn(|| run_task(&plan, s, i, &builtin(), &common::exec(1)).unwrap());
                }
            });
            let again = run_task(&plan, s, i, &builtin(), &common::exec(1)).unwrap();
            assert_eq!(again.skipped_tasks, again.tasks, "stage {s} element {i}");
        }
    }
    finalize(&plan, &builtin()).unwrap();
    assert_same_outputs(&local, &dist, "same range twice");
}

#[test]
fn an_element_killed_mid_write_and_run_again_gives_the_same_result() {
    let dir = common::dir_with_input(&[48, 48, 48], &[8, 8, 8], 6);
    let (_, spec) = pipelines()
        .into_iter()
        .find(|(n, _)| *n == "gaussian")
        .unwrap();
    let local = write_pipeline(dir.path(), "gaussian", &spec, "local");
    run_local(&local);
    let dist = write_pipeline(dir.path(), "gaussian", &spec, "dist");
    let plan = plan_run(&dist, &settings(1000, 1), &builtin()).unwrap();
    let plan_arg = plan.display().to_string();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_chunkwise"));
    command.args(["run-task", &plan_arg, "--stage", "0", "--index", "0"]);
    let out =
        common::signal_once_written(command, &dir.path().join("dist/gauss.zarr"), 40, &["KILL"]);
    assert!(
        !out.status.success(),
        "the element was killed before it finished"
    );
    let report = status(&plan, &builtin()).unwrap();
    assert!(report.stages[0].done < report.stages[0].tasks);
    assert_eq!(report.stages[0].incomplete, vec![0]);
    let e = finalize(&plan, &builtin()).unwrap_err().to_string();
    assert!(e.contains("stage 0 has") && e.contains("submit"), "{e}");
    let rerun = common::chunkwise_cmd(&["run-task", &plan_arg, "--stage", "0", "--index", "0"]);
    assert!(
        rerun.status.success(),
        "{}",
        String::from_utf8_lossy(&rerun.stderr)
    );
    let said = String::from_utf8_lossy(&rerun.stderr);
    assert!(
        !said.contains("(0 already stored)"),
        "the rerun kept what was stored: {said}"
    );
    finalize(&plan, &builtin()).unwrap();
    assert_same_outputs(&local, &dist, "killed and rerun");
}

#[test]
fn a_worker_refuses_a_plan_whose_inputs_changed_and_submit_refuses_tasks_too_large() {
    let dir = common::dir_with_input(&[20, 20, 20], &[8, 8, 8], 7);
    let (_, spec) = pipelines().into_iter().find(|(n, _)| *n == "clip").unwrap();
    let dist = write_pipeline(dir.path(), "clip", &spec, "dist");
    let plan = plan_run(&dist, &settings(2, 1), &builtin()).unwrap();
    // Outputs and the run folder exist now: planning again is refused without --overwrite.
    let again = plan_run(&dist, &settings(2, 1), &builtin())
        .unwrap_err()
        .to_string();
    assert!(
        again.contains("--resume") && again.contains("--overwrite"),
        "{again}"
    );
    // The input is replaced by one of another shape.
    std::fs::remove_dir_all(dir.path().join("in.zarr")).unwrap();
    drop(common::dir_with_input(&[4, 4], &[2, 2], 1));
    let other = common::dir_with_input(&[20, 20, 21], &[8, 8, 8], 7);
    std::fs::rename(other.path().join("in.zarr"), dir.path().join("in.zarr")).unwrap();
    let e = run_task(&plan, 0, 0, &builtin(), &common::exec(1))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("no longer matches") && e.contains("shape[2] was 20, now 21"),
        "{e}"
    );
    let p = PlanFile::read(&plan).unwrap();
    let range = run_task(&plan, 0, p.stages[0].elements, &builtin(), &common::exec(1));
    assert!(range.unwrap_err().to_string().contains("out of range"));

    let (_, spec) = pipelines()
        .into_iter()
        .find(|(n, _)| *n == "gaussian")
        .unwrap();
    let big = write_pipeline(dir.path(), "gaussian", &spec, "big");
    let mut text: Value = serde_json::from_str(&std::fs::read_to_string(&big).unwrap()).unwrap();
    text["outputs"][0]["chunks"] = json!([20, 20, 21]);
    std::fs::write(&big, text.to_string()).unwrap();
    let big_arg = big.display().to_string();
    let out = common::chunkwise_cmd(&[
        "submit",
        &big_arg,
        "--backend",
        "slurm",
        "--dry-run",
        "--mem-per-job",
        "201326593",
    ]);
    let e = common::assert_fails(&out, "raise --mem-per-job to at least");
    assert!(e.contains("MiB"), "{e}");
    assert!(
        !dir.path().join("big").exists(),
        "nothing left of a refused submit"
    );
}
