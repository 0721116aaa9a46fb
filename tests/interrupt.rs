//! Ctrl-C (SIGINT) and SIGTERM during `chunkwise run`: the run stops, says how far it got and
//! how to go on, exits 130 / 143, leaves no spill folder, keeps its output for `--resume` (which
//! completes it to the uninterrupted result), and a plain rerun names `--resume`. A second
//! Ctrl-C ends the process at once. Signals are sent at progress points (chunks written), not
//! after timers.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use chunkwise::prelude::*;
use common::{assert_same, exec};
use ndarray::ArrayD;
use serde_json::json;

/// A run that spills (a materialized stencil chain under a small limit) and takes long enough
/// to be interrupted: 216 output chunks.
fn setup() -> (tempfile::TempDir, String) {
    let dir = common::dir_with_input(&[96, 96, 96], &[16, 16, 16], 31);
    let p = json!({
        "inputs": {"vol": "in.zarr"},
        "steps": [
            {"id": "g", "op": "gaussian_filter", "x": "vol", "sigma": 2},
            {"id": "h", "op": "gaussian_filter", "x": "g", "sigma": 1}
        ],
        "outputs": [{"from": "h", "path": "out.zarr"}]
    });
    let path = dir.path().join("p.json");
    std::fs::write(&path, p.to_string()).unwrap();
    std::fs::create_dir(dir.path().join("tmp")).unwrap();
    (dir, path.display().to_string())
}

fn command(dir: &Path, p: &str, extra: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_chunkwise"));
    c.args([
        "run",
        p,
        "-q",
        "--threads",
        "2",
        "--stencil-chains",
        "materialize",
    ])
    // The run's own memory only, so that this small limit makes results spill.
    .args(["--memory-limit", "3MiB", "--memory-limit-covers", "run"])
    .args(extra)
    .env("TMPDIR", dir.join("tmp"));
    c
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn no_spill_left(dir: &Path) {
    let left: Vec<_> = std::fs::read_dir(dir.join("tmp"))
        .unwrap()
        .flatten()
        .collect();
    assert!(left.is_empty(), "spill folders left: {left:?}");
}

#[test]
fn sigint_and_sigterm_stop_the_run_keep_it_resumable_and_say_so() {
    let (dir, p) = setup();
    let out = dir.path().join("out.zarr");
    let whole = command(dir.path(), &p, &[]).output().unwrap();
    assert!(whole.status.success(), "{}", stderr(&whole));
    let want: ArrayD<f32> = chunkwise::open(&out).unwrap().compute(&exec(1)).unwrap();

    for (signal, code, extra) in [("INT", 130, vec![]), ("TERM", 143, vec!["--resume"])] {
        std::fs::remove_dir_all(&out).unwrap();
        let got = common::signal_once_written(
            command(dir.path(), &p, &extra),
            &out.join("c"),
            10,
            &[signal],
        );
        let said = stderr(&got);
        assert_eq!(got.status.code(), Some(code), "SIG{signal}: {said}");
        let line = said.lines().last().unwrap_or_default();
        assert!(
            line.starts_with("interrupted: ")
                && line.contains(
                    " of 216 chunks stored; rerun with --resume to continue, or \
                                  --overwrite to start over"
                ),
            "SIG{signal}: {said}"
        );
        no_spill_left(dir.path());
        assert!(!out.join("zarr.json").exists(), "never opens as complete");
        assert!(chunkwise::open(&out).is_err());

        let rerun = command(dir.path(), &p, &[]).output().unwrap();
        assert_eq!(rerun.status.code(), Some(1));
        assert!(
            stderr(&rerun).contains("unfinished run of this same pipeline")
                && stderr(&rerun).contains("--resume"),
            "{}",
            stderr(&rerun)
        );
        let resumed = command(dir.path(), &p, &["--resume"]).output().unwrap();
        assert!(resumed.status.success(), "{}", stderr(&resumed));
        let got: ArrayD<f32> = chunkwise::open(&out).unwrap().compute(&exec(1)).unwrap();
        assert_same(&got, &want, &format!("resumed after SIG{signal}"));
        no_spill_left(dir.path());
    }
}

#[test]
fn a_second_ctrl_c_ends_at_once_and_the_run_still_resumes() {
    let (dir, p) = setup();
    let out = dir.path().join("out.zarr");
    let got = common::signal_once_written(
        command(dir.path(), &p, &[]),
        &out.join("c"),
        10,
        &["INT", "INT"],
    );
    assert_eq!(got.status.code(), Some(130), "{}", stderr(&got));
    assert!(!out.join("zarr.json").exists());
    let resumed = command(dir.path(), &p, &["--resume"]).output().unwrap();
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    assert!(chunkwise::open(&out).is_ok());
}

#[test]
fn an_interrupted_pyramid_is_kept_for_resume_and_a_plain_rerun_names_it() {
    let dir = common::dir_with_input(&[96, 96, 64], &[8, 8, 8], 32);
    let input = dir.path().join("in.zarr").display().to_string();
    let image = dir.path().join("image.zarr");
    let pyramid = |extra: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_chunkwise"));
        c.args([
            "pyramid",
            &input,
            image.to_str().unwrap(),
            "-q",
            "--levels",
            "2",
        ])
        .args(["--threads", "2"])
        .args(extra);
        c
    };
    let whole = pyramid(&[]).output().unwrap();
    assert!(whole.status.success(), "{}", stderr(&whole));
    let want: ArrayD<u16> = chunkwise::open(image.join("2"))
        .unwrap()
        .compute(&exec(1))
        .unwrap();
    std::fs::remove_dir_all(&image).unwrap();

    let got = common::signal_once_written(pyramid(&[]), &image.join("0/c"), 20, &["INT"]);
    assert_eq!(got.status.code(), Some(130), "{}", stderr(&got));
    assert!(stderr(&got).contains("rerun with --resume"));
    assert!(image.exists(), "kept for --resume");
    let rerun = pyramid(&[]).output().unwrap();
    assert_eq!(rerun.status.code(), Some(1));
    assert!(
        stderr(&rerun).contains("unfinished pyramid") && stderr(&rerun).contains("--resume"),
        "{}",
        stderr(&rerun)
    );
    let resumed = pyramid(&["--resume"]).output().unwrap();
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    let got: ArrayD<u16> = chunkwise::open(image.join("2"))
        .unwrap()
        .compute(&exec(1))
        .unwrap();
    assert_same(&got, &want, "resumed pyramid, level 2");
}
