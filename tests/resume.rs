//! Chunk-level resume: the CLI killed with SIGKILL at random points, then run again with
//! `--resume`, gives bit for bit what an uninterrupted run gives; an interrupted output never
//! opens as a complete array; resuming with other settings, or a complete array, is refused.
//! Every other kill runs with `--durable` (chunks and journal entries flushed to the disk). The
//! same for `chunkwise pyramid`, killed at points set by its progress.

mod common;

use std::path::Path;
use std::process::Command;

use chunkwise::prelude::*;
use common::{assert_same, exec};
use ndarray::ArrayD;
use rand::{Rng, SeedableRng};
use serde_json::json;

fn cli(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_chunkwise"));
    c.args(args);
    c
}

fn pipeline(dir: &Path, sigma: f64) -> String {
    let p = json!({
        "inputs": {"vol": "in.zarr"},
        "steps": [
            {"id": "c", "op": "clip", "x": "vol", "min": 100, "max": 60000},
            {"id": "g", "op": "gaussian_filter", "x": "c", "sigma": sigma},
            {"id": "y", "op": "mul", "x": "g", "y": 0.5}
        ],
        "outputs": [{"from": "y", "path": "out.zarr", "chunks": [8, 8, 8]}]
    });
    let path = dir.join(format!("p{sigma}.json"));
    std::fs::write(&path, p.to_string()).unwrap();
    path.display().to_string()
}

#[test]
fn runs_killed_at_random_points_resume_to_the_same_result() {
    let dir = common::dir_with_input(&[40, 40, 40], &[8, 8, 8], 11);
    let p = pipeline(dir.path(), 1.0);
    let out = dir.path().join("out.zarr");

    assert!(cli(&["run", &p, "-q", "--threads", "2"])
        .status()
        .unwrap()
        .success());
    let want: ArrayD<f32> = chunkwise::open(&out).unwrap().compute(&exec(1)).unwrap();
    std::fs::remove_dir_all(&out).unwrap();

    // Kill points are set by progress, not time (a busy machine makes timed kills land after
    // the end): once the output holds a random number of its 125 chunks.
    let mut rng = rand::rngs::StdRng::seed_from_u64(2024);
    let mut interrupted = 0;
    for kill in 0..12 {
        let _ = std::fs::remove_dir_all(&out);
        let mut args = vec!["run", p.as_str(), "-q", "--threads", "2", "--resume"];
        if kill % 2 == 1 {
            args.push("--durable");
        }
        let at = rng.random_range(1..110);
        common::signal_once_written(cli(&args), &out.join("c"), at, &["KILL"]);
        // The metadata is written last: without it the run was interrupted (a kill just after
        // it leaves a complete array, perhaps with its journal still there).
        if out.join("zarr.json").exists() {
            let got: ArrayD<f32> = chunkwise::open(&out).unwrap().compute(&exec(1)).unwrap();
            assert_same(&got, &want, &format!("kill {kill} after completion"));
            continue;
        }
        interrupted += 1;
        assert!(
            chunkwise::open(&out).is_err(),
            "kill {kill}: opens as complete"
        );
        let resumed = cli(&args).output().unwrap();
        assert!(
            resumed.status.success(),
            "kill {kill} after {at} chunks: {}",
            String::from_utf8_lossy(&resumed.stderr)
        );
        let got: ArrayD<f32> = chunkwise::open(&out).unwrap().compute(&exec(1)).unwrap();
        assert_same(&got, &want, &format!("kill {kill} after {at} chunks"));
        assert!(
            !out.join(".chunkwise-done").exists(),
            "journal removed once complete"
        );
        assert!(
            !out.join(".chunkwise-metadata").exists(),
            "metadata staging removed once complete"
        );
    }
    assert!(interrupted >= 8, "only {interrupted} kills landed mid-run");
}

/// `--resume` with pipeline file `p` fails, naming another pipeline's unfinished output.
fn refused_as_another_pipeline(p: &str) {
    let out = cli(&["run", p, "-q", "--resume"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("another pipeline"));
}

#[test]
fn resuming_other_settings_or_a_complete_array_is_refused() {
    let dir = common::dir_with_input(&[16, 16, 16], &[8, 8, 8], 12);
    let p = pipeline(dir.path(), 1.0);
    let out = dir.path().join("out.zarr");
    // Nothing there: --resume starts a fresh run.
    assert!(cli(&["run", &p, "-q", "--resume"])
        .status()
        .unwrap()
        .success());
    let complete = cli(&["run", &p, "-q", "--resume"]).output().unwrap();
    assert!(String::from_utf8_lossy(&complete.stderr).contains("no unfinished chunkwise run"));
    // An unfinished run of another pipeline (another sigma, same output layout) is not
    // continued, nor one of other settings. The unfinished run: one that fails on a corrupt
    // input chunk keeps what it stored under --resume.
    let other_sigma = pipeline(dir.path(), 2.0);
    std::fs::remove_dir_all(&out).unwrap();
    let chunk = dir.path().join("in.zarr/c/1/1/1");
    let stored = std::fs::read(&chunk).unwrap();
    std::fs::write(&chunk, b"not zstd").unwrap();
    let failed = cli(&["run", &p, "-q", "--resume"]).output().unwrap();
    assert_eq!(failed.status.code(), Some(1));
    assert!(out.join(".chunkwise-run.json").exists() && !out.join("zarr.json").exists());
    std::fs::write(&chunk, stored).unwrap();
    refused_as_another_pipeline(&other_sigma);
    // The same pipeline continues it.
    assert!(cli(&["run", &p, "-q", "--resume"])
        .status()
        .unwrap()
        .success());
    std::fs::remove_dir_all(&out).unwrap();
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join(".chunkwise-run.json"), "{\"other\": 1}").unwrap();
    refused_as_another_pipeline(&p);
    assert!(cli(&["run", &p, "-q", "--overwrite"])
        .status()
        .unwrap()
        .success());
}

/// `chunkwise pyramid` killed at random points (plain runs and `--resume` runs alike keep their
/// journals), then `pyramid --resume`, gives every level of an uninterrupted pyramid; an
/// interrupted pyramid never carries the group metadata. Kill points are set by progress, not
/// time (a busy machine makes timed kills land after the end): once level 0 holds a random
/// number of its 384 chunks.
#[test]
fn pyramids_killed_at_random_points_resume_to_the_same_levels() {
    let dir = common::dir_with_input(&[64, 64, 48], &[8, 8, 8], 13);
    let input = dir.path().join("in.zarr").display().to_string();
    let image = dir.path().join("image.zarr");
    let image_arg = image.display().to_string();
    let args = |resume: bool| {
        let mut a = vec!["pyramid", input.as_str(), image_arg.as_str(), "-q"];
        a.extend(["--levels", "3", "--threads", "2"]);
        if resume {
            a.push("--resume");
        }
        a
    };
    let read_levels = || -> Vec<ArrayD<u16>> {
        (0..4)
            .map(|k| {
                chunkwise::open(image.join(k.to_string()))
                    .unwrap()
                    .compute(&exec(1))
                    .unwrap()
            })
            .collect()
    };
    assert!(cli(&args(false)).status().unwrap().success());
    let want = read_levels();

    let mut rng = rand::rngs::StdRng::seed_from_u64(2025);
    let mut interrupted = 0;
    for kill in 0..10 {
        std::fs::remove_dir_all(&image).unwrap();
        let target = rng.random_range(1..300);
        common::signal_once_written(
            cli(&args(kill % 2 == 0)),
            &image.join("0/c"),
            target,
            &["KILL"],
        );
        if image.join("zarr.json").exists() {
            continue; // finished before the kill
        }
        interrupted += 1;
        let resumed = cli(&args(true)).output().unwrap();
        assert!(
            resumed.status.success(),
            "kill {kill} after {target} chunks: {}",
            String::from_utf8_lossy(&resumed.stderr)
        );
        for (k, (got, level)) in read_levels().iter().zip(&want).enumerate() {
            assert_same(
                got,
                level,
                &format!("kill {kill} after {target} chunks, level {k}"),
            );
        }
    }
    assert!(interrupted >= 8, "only {interrupted} kills landed mid-run");
}
