//! `--memory-limit` bounds the process, not only the plan's accounting (issue 18): a
//! slab-to-column rechunk that needs an intermediate chunking runs in a child `chunkwise run`
//! whose peak resident set, as the kernel counts it (`ru_maxrss` from `wait4`), stays under the
//! limit; its output holds the input's values. Two thread counts, since each worker adds its own
//! stack, codec contexts and allocator pages.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use chunkwise::engine::store::{IoContext, Source};
use chunkwise::store::open_zarr;
use chunkwise::Region;

/// The input: the synthetic volume (`chunkwise generate`, noisy, hardly compressible) of
/// SIZE^3 uint16 in (1, SIZE, SIZE) slabs: 32 MiB, more than the limit leaves the plan (the
/// plan's accounting fills up: 25 MiB of tasks and held results, 9 MiB of chunk cache, without
/// the process's share of the limit it would take the whole 96 MiB).
const SIZE: u64 = 256;
/// Room for a debug build, whose resident set before the run is about 40 MiB (measured peak
/// 85 MiB with 2 threads).
const LIMIT_MIB: u64 = 96;

/// Runs `chunkwise ARGS` to the end; its exit status and peak resident set in bytes.
fn run_measured(args: &[&str]) -> (bool, u64, String) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let errors = dir.path().join("stderr");
    let child = Command::new(env!("CARGO_BIN_EXE_chunkwise"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&errors).expect("a stderr file"))
        .spawn()
        .expect("the binary runs");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value of the plain C struct wait4 fills in.
    #[allow(unsafe_code)]
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child (not yet reaped: `child` is never waited on), with
    // pointers to live locals of the types wait4 expects.
    #[allow(unsafe_code)]
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid, "wait4: {}", std::io::Error::last_os_error());
    drop(child);
    let ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    let stderr = std::fs::read_to_string(&errors).unwrap_or_default();
    // Linux reports ru_maxrss in KiB.
    (ok, usage.ru_maxrss as u64 * 1024, stderr)
}

fn whole(path: &Path) -> Vec<u8> {
    let a = open_zarr(path).expect("an array");
    let region = Region::new(vec![0; 3], a.meta().shape.clone());
    a.read(&region, &IoContext::default())
        .expect("readable")
        .to_le_bytes()
}

/// Runs `chunkwise ARGS`, unmeasured, and panics with its output unless it succeeds.
fn chunkwise(args: &[&str]) {
    let out = common::chunkwise_cmd(args);
    assert!(
        out.status.success(),
        "chunkwise {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_rechunk_through_an_intermediate_stays_under_the_memory_limit_in_resident_set() {
    // A child's ru_maxrss starts from this process's resident set when it is spawned (Linux
    // carries the forked address space's high-water mark over exec), so this process reads no
    // array until every measured run is over; the input is made by child processes too.
    let dir = tempfile::tempdir().expect("a temporary directory");
    let at = |name: &str| dir.path().join(name).display().to_string();
    let size = SIZE.to_string();
    chunkwise(&[
        "generate",
        &at("cubes.zarr"),
        "--size",
        &size,
        "--chunk",
        "64",
        "-q",
    ]);
    let write = |name: &str, spec: serde_json::Value| {
        std::fs::write(dir.path().join(name), spec.to_string()).unwrap();
        at(name)
    };
    let slabs = write(
        "slabs.json",
        serde_json::json!({"inputs": {"x": "cubes.zarr"}, "steps": [],
            "outputs": [{"from": "x", "path": "in.zarr", "chunks": [1, SIZE, SIZE]}]}),
    );
    chunkwise(&["run", &slabs, "-q"]);
    let limit = format!("{LIMIT_MIB}MiB");
    let runs = ["1", "2"].map(|threads| {
        let pipeline = write(
            &format!("rechunk{threads}.json"),
            serde_json::json!({
                "inputs": {"x": "in.zarr"},
                // Columns through the whole depth: a second-pass task needs intermediate
                // chunks of every band, so held results fill the limit and spill.
                "steps": [{"id": "r", "op": "rechunk", "x": "x", "chunks": [SIZE, 32, 32],
                           "max_mem": "24MiB"}],
                "outputs": [{"from": "r", "path": format!("out{threads}.zarr")}]
            }),
        );
        (threads, pipeline)
    });
    let out = common::chunkwise_cmd(&["plan", &runs[0].1, "--memory-limit", &limit]);
    let plan = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(plan.contains("intermediate chunks"), "{plan}");
    assert!(plan.contains("left to the process"), "{plan}");
    for (threads, pipeline) in &runs {
        let (ok, peak, stderr) = run_measured(&[
            "run",
            pipeline,
            "-q",
            "--memory-limit",
            &limit,
            "--threads",
            threads,
        ]);
        assert!(ok, "{threads} threads: {stderr}");
        assert!(
            peak < LIMIT_MIB << 20,
            "{threads} threads: peak RSS {:.1} MiB over the {LIMIT_MIB} MiB limit",
            peak as f64 / (1 << 20) as f64
        );
    }
    let input = whole(&dir.path().join("in.zarr"));
    for (threads, _) in &runs {
        let path = dir.path().join(format!("out{threads}.zarr"));
        assert!(
            whole(&path) == input,
            "{threads} threads: the values are the input's"
        );
        let out = open_zarr(&path).unwrap();
        assert_eq!(out.meta().chunks, vec![SIZE, 32, 32]);
        assert_eq!(out.meta().shape, vec![SIZE; 3]);
    }
}
