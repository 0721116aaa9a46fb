//! The distributed run on a real Slurm (single node, on 127.0.0.1): `.ci/slurm-local` installs
//! Debian's slurm-wlm and munge when missing and starts munged, slurmctld and slurmd; if Slurm
//! cannot start, this test fails with the reason. Through Slurm, with several array elements
//! per stage: clip, the 5-op chain, gaussian, the 3-level pyramid and clip -> gaussian ->
//! downsample, each bit for bit the local `chunkwise run`; then an injected failing element:
//! its dependents do not run, `status` names it, `submit --resume` completes the run with the
//! same result. Every wait is bounded. (Kills mid-write and two elements given one range are
//! in tests/distributed.rs, without a scheduler.)

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use chunkwise::store::open_zarr;
use common::distributed::{assert_same_outputs, pipelines, run_local, write_pipeline};

const SLURM_DIR: &str = "/tmp/chunkwise-slurm-test";

/// The local Slurm, stopped (by its pid files) when dropped, whatever the test's outcome.
struct Slurm {
    conf: PathBuf,
}

impl Slurm {
    fn start() -> Slurm {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/slurm-local");
        // A Slurm left by an earlier, aborted run of this test goes first.
        let _ = Command::new(&script).args(["stop", SLURM_DIR]).status();
        std::thread::sleep(Duration::from_secs(1));
        let out = Command::new(&script)
            .args(["start", SLURM_DIR])
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
        assert!(
            out.status.success(),
            "Slurm did not start (this test needs root, apt and a free port 6817/6818):\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        Slurm {
            conf: Path::new(SLURM_DIR).join("slurm.conf"),
        }
    }

    fn command(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.env("SLURM_CONF", &self.conf);
        c
    }

    /// `chunkwise ARGS` with this Slurm; panics with its output unless it succeeds.
    fn chunkwise(&self, args: &[&str]) -> String {
        let out = self
            .command(env!("CARGO_BIN_EXE_chunkwise"))
            .args(args)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "chunkwise {args:?}: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        text
    }

    /// Waits (at most `limit`) until none of `jobs` is queued or running.
    fn wait(&self, jobs: &[String], limit: Duration) {
        let start = Instant::now();
        let list = jobs.join(",");
        loop {
            let out = self
                .command("squeue")
                .args(["-h", "-j", &list])
                .output()
                .unwrap();
            let queued = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if out.status.success() && queued.is_empty() {
                return;
            }
            if start.elapsed() > limit {
                let _ = self.command("scancel").arg(&list).status();
                panic!("jobs {list} still queued after {limit:?}:\n{queued}");
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

impl Drop for Slurm {
    fn drop(&mut self) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/slurm-local");
        let _ = Command::new(script).args(["stop", SLURM_DIR]).status();
    }
}

/// The job ids `submit` printed (`stage0: job 12 (array 0-3)`).
fn job_ids(submit_output: &str) -> Vec<String> {
    submit_output
        .lines()
        .filter_map(|l| l.split(": job ").nth(1))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

fn submit(slurm: &Slurm, pipeline: &Path, extra: &[&str]) -> String {
    let p = pipeline.display().to_string();
    let mut args = vec![
        "submit",
        &p,
        "--backend",
        "slurm",
        "--tasks-per-job",
        "5",
        "--mem-per-job",
        "512MiB",
    ];
    args.extend_from_slice(extra);
    slurm.chunkwise(&args)
}

#[test]
fn pipelines_through_slurm_match_local_runs_and_a_failed_element_is_resumed() {
    let slurm = Slurm::start();
    let dir = common::dir_with_input(&[40, 44, 36], &[16, 16, 16], 9);
    let mut jobs = Vec::new();
    let mut runs = Vec::new();
    for (name, _) in pipelines() {
        let local = write_pipeline(dir.path(), name, "local");
        run_local(&local);
        let dist = write_pipeline(dir.path(), name, "slurm");
        jobs.extend(job_ids(&submit(&slurm, &dist, &[])));
        runs.push((name, local, dist));
    }
    slurm.wait(&jobs, Duration::from_secs(300));
    for (name, local, dist) in &runs {
        assert_same_outputs(local, dist, &format!("{name} through Slurm"));
    }

    // An element of the first stage fails once (a worker wrapper injects it): the next stage
    // and the finalize job never run, status names the element, --resume completes the run.
    let local = write_pipeline(dir.path(), "seed", "local");
    let dist = write_pipeline(dir.path(), "seed", "faulty");
    let flag = dir.path().join("failed-once");
    let wrapper = dir.path().join("worker.sh");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nif [ \"$1\" = run-task ] && [ \"$4\" = 0 ] && [ \"$SLURM_ARRAY_TASK_ID\" = 1 ] \
             && [ ! -e '{flag}' ]; then touch '{flag}'; echo injected failure >&2; exit 3; fi\n\
             exec '{bin}' \"$@\"\n",
            flag = flag.display(),
            bin = env!("CARGO_BIN_EXE_chunkwise")
        ),
    )
    .unwrap();
    Command::new("chmod")
        .arg("+x")
        .arg(&wrapper)
        .status()
        .unwrap();
    let w = wrapper.display().to_string();
    let submitted = submit(&slurm, &dist, &["--worker", &w]);
    let first = job_ids(&submitted);
    assert_eq!(first.len(), 3, "two stages and finalize: {submitted}");
    slurm.wait(&first, Duration::from_secs(180));
    let plan = submitted
        .lines()
        .find_map(|l| l.strip_prefix("plan: "))
        .unwrap()
        .to_string();
    let report = slurm.chunkwise(&["status", &plan]);
    assert!(
        report.contains("element 1 failed: exited with code 3"),
        "status names the element: {report}"
    );
    assert!(
        report.contains("stage 1: 0 of"),
        "stage 1 did not run: {report}"
    );
    let out = dir.path().join("faulty/seed/seed.zarr");
    assert!(open_zarr(&out).is_err(), "not finalized after a failure");
    let resumed = slurm.chunkwise(&[
        "submit",
        &plan,
        "--backend",
        "slurm",
        "--resume",
        "--worker",
        &w,
    ]);
    let again = job_ids(&resumed);
    assert!(
        resumed.contains("stage0: job") && resumed.contains("(array 1)"),
        "only the failed element is resubmitted: {resumed}"
    );
    slurm.wait(&again, Duration::from_secs(180));
    assert!(slurm.chunkwise(&["status", &plan]).contains("complete"));
    assert_same_outputs(&local, &dist, "resumed through Slurm");
}
