//! A pipeline planned for a job-array system and run element by element (`run-task`) gives the
//! local `chunkwise run` result bit for bit, whatever the partition of each stage's tasks into
//! ranges, the order the elements run in, the threads per element, a range run twice (a
//! requeue, or two elements given the same range at once) or an element killed mid-write and
//! run again. No scheduler is involved here (tests/slurm.rs drives a real Slurm).

mod common;

use std::path::Path;

use chunkwise::distributed::{
    finalize, plan_run, run_task, status, DistributedError, PlanFile, RunSettings,
};
use chunkwise::engine::store::{IoContext, Source};
use chunkwise::pipeline::builtin;
use chunkwise::store::open_zarr;
use chunkwise::Region;
use common::distributed::{assert_same_outputs, pipelines, run_local, write_pipeline};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde_json::{json, Value};

/// The distributed layer's error inside the engine's, if that is what `e` is.
fn distributed_error(e: &chunkwise::Error) -> Option<&DistributedError> {
    match e {
        chunkwise::Error::Other(inner) => inner.downcast_ref(),
        _ => None,
    }
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

#[test]
fn any_partition_in_any_order_gives_the_local_result() {
    // Shapes that do not divide the chunks; two chunkings.
    for (shape, chunks, seed) in [
        ([37usize, 45, 29], [8u64, 16, 8], 1u64),
        ([33, 20, 26], [16, 8, 8], 2),
    ] {
        let dir = common::dir_with_input(&shape, &chunks, seed);
        for (name, _) in pipelines() {
            let local = write_pipeline(dir.path(), name, "local");
            run_local(&local);
            for (k, (per_job, threads)) in
                [(1u64, 1usize), (3, 2), (1000, 1)].into_iter().enumerate()
            {
                let dist = write_pipeline(dir.path(), name, "dist");
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
    let dist = write_pipeline(dir.path(), "pyramid", "dist");
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
    assert!(open_zarr(dir.path().join("dist/pyramid/1")).is_err());
    finalize(&plan, &builtin()).unwrap();
    assert!(open_zarr(dir.path().join("dist/pyramid/1")).is_ok());
}

#[test]
fn a_rechunk_hands_its_intermediate_chunks_to_the_second_pass_through_a_scratch_array() {
    let dir = common::dir_with_input(&[21, 19, 23], &[8, 8, 8], 6);
    let local = write_pipeline(dir.path(), "rechunk", "local");
    run_local(&local);
    let dist = write_pipeline(dir.path(), "rechunk", "dist");
    let plan = plan_run(&dist, &settings(7, 1), &builtin()).unwrap();
    let p = PlanFile::read(&plan).unwrap();
    assert_eq!(p.stages.len(), 2, "first pass, then the output's stage");
    let scratch = p.scratch.join("0.zarr");
    let mid = open_zarr(&scratch).expect("the intermediate is a scratch array");
    assert_eq!(mid.meta().chunks, vec![8, 2, 8], "the intermediate chunks");
    assert!(p.stages[0]
        .writes
        .iter()
        .any(|w| w.contains("scratch/0.zarr")));
    run_all(&plan, 6);
    finalize(&plan, &builtin()).unwrap();
    assert_same_outputs(&local, &dist, "rechunk through scratch");
    let out = open_zarr(dir.path().join("dist/rechunk/rechunk.zarr")).unwrap();
    assert_eq!(out.meta().chunks, vec![64, 2, 64]);
    let got = common::distributed::outputs_bytes(&local);
    let whole = Region::new(vec![0; 3], vec![21, 19, 23]);
    let want = open_zarr(dir.path().join("in.zarr"))
        .unwrap()
        .read(&whole, &IoContext::default())
        .unwrap()
        .to_le_bytes();
    assert!(got[0].1 == want, "the values are the input's");
}

#[test]
fn a_range_run_twice_at_once_or_again_stores_the_same_result() {
    let dir = common::dir_with_input(&[30, 30, 30], &[8, 8, 8], 4);
    let local = write_pipeline(dir.path(), "seed", "local");
    run_local(&local);
    let dist = write_pipeline(dir.path(), "seed", "dist");
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
    let local = write_pipeline(dir.path(), "gaussian", "local");
    run_local(&local);
    let dist = write_pipeline(dir.path(), "gaussian", "dist");
    let plan = plan_run(&dist, &settings(1000, 1), &builtin()).unwrap();
    let plan_arg = plan.display().to_string();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_chunkwise"));
    command.args(["run-task", &plan_arg, "--stage", "0", "--index", "0"]);
    let out = common::signal_once_written(
        command,
        &dir.path().join("dist/gaussian/gauss.zarr"),
        40,
        &["KILL"],
    );
    assert!(
        !out.status.success(),
        "the element was killed before it finished"
    );
    let report = status(&plan, &builtin()).unwrap();
    assert!(report.stages[0].done < report.stages[0].tasks);
    assert_eq!(report.stages[0].incomplete, vec![0]);
    let e = finalize(&plan, &builtin()).unwrap_err();
    assert!(
        matches!(
            distributed_error(&e),
            Some(DistributedError::Incomplete { stage: 0, .. })
        ),
        "{e:?}"
    );
    assert!(!e.to_string().contains("--"), "a flag in the library: {e}");
    // The command line adds what to do next.
    let out = common::chunkwise_cmd(&["finalize", &plan_arg]);
    let said = common::assert_fails(&out, "stage 0 of the run planned in");
    assert!(
        said.contains("chunkwise status") && said.contains("--resume"),
        "{said}"
    );
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
    let dist = write_pipeline(dir.path(), "clip", "dist");
    let plan = plan_run(&dist, &settings(2, 1), &builtin()).unwrap();
    // Outputs and the run folder exist now: planning again is refused without --overwrite.
    let again = plan_run(&dist, &settings(2, 1), &builtin()).unwrap_err();
    assert!(
        matches!(
            distributed_error(&again),
            Some(DistributedError::AlreadyPlanned { .. })
        ),
        "{again:?}"
    );
    assert!(!again.to_string().contains("--"), "{again}");
    let out = common::chunkwise_cmd(&[
        "submit",
        &dist.display().to_string(),
        "--backend",
        "slurm",
        "--dry-run",
    ]);
    let said = common::assert_fails(&out, "a run is already planned in");
    assert!(
        said.contains("--resume") && said.contains("--overwrite"),
        "{said}"
    );
    // The input is replaced by one of another shape.
    std::fs::remove_dir_all(dir.path().join("in.zarr")).unwrap();
    drop(common::dir_with_input(&[4, 4], &[2, 2], 1));
    let other = common::dir_with_input(&[20, 20, 21], &[8, 8, 8], 7);
    std::fs::rename(other.path().join("in.zarr"), dir.path().join("in.zarr")).unwrap();
    let e = run_task(&plan, 0, 0, &builtin(), &common::exec(1)).unwrap_err();
    assert!(
        matches!(
            distributed_error(&e),
            Some(DistributedError::IdentityChanged { .. })
        ),
        "{e:?}"
    );
    let e = e.to_string();
    assert!(
        e.contains("no longer matches") && e.contains("shape[2] was 20, now 21"),
        "{e}"
    );
    assert!(!e.contains("--"), "a flag in the library: {e}");
    let p = PlanFile::read(&plan).unwrap();
    let range = run_task(&plan, 0, p.stages[0].elements, &builtin(), &common::exec(1));
    assert!(range.unwrap_err().to_string().contains("out of range"));

    let big = write_pipeline(dir.path(), "gaussian", "big");
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
