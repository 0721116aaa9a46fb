//! Outputs on an object store, against a local S3 server (moto, started here on loopback): arrays
//! chunkwise writes there (plain, sharded, v2) read back identical in zarr-python and TensorStore;
//! a pipeline reading S3 and writing S3 gives what the same pipeline gives on local files; a run
//! killed (SIGKILL, at a point set by its journal's progress) resumes from the journal kept in
//! the bucket to the uninterrupted result, and another pipeline may not resume it; `--overwrite`
//! removes the old array's objects and no one else's; bad outputs are one clear line and write
//! nothing; the memory limit covers the chunks read ahead and the writes behind compute; a
//! pyramid written to S3 is the local pyramid; a store that starts failing PUTs mid-run gives one
//! clear error and never a complete-looking array.
//!
//! moto, TensorStore, zarr-python and obstore come from .ci/run's pip install; a server that
//! cannot start fails the test with the reason (never a silent skip).

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use chunkwise::prelude::*;
use chunkwise::Buffer;
use common::servers::{chunkwise_s3, s3_env, start, start_with_env, Server};
use common::{assert_fails, exec};
use serde_json::{json, Value};

fn moto(dir: &Path) -> Server {
    start(
        "moto",
        &["-m", "moto.server", "-H", "127.0.0.1", "-p", "{port}"],
        dir,
    )
}

/// One unsigned request to moto (which accepts them, as it accepts any credentials):
/// the status code and the body.
fn s3_request(port: u16, method: &str, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("moto answers");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\n\
         Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    let status = reply
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = reply.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    (status, body.to_string())
}

fn create_bucket(port: u16, bucket: &str) {
    let (status, body) = s3_request(port, "PUT", &format!("/{bucket}"));
    assert_eq!(status, 200, "create bucket {bucket}: {body}");
}

/// The keys under `prefix` in `bucket` (up to 1000, enough for these tests).
fn keys(port: u16, bucket: &str, prefix: &str) -> Vec<String> {
    let (status, body) = s3_request(
        port,
        "GET",
        &format!("/{bucket}?list-type=2&prefix={prefix}"),
    );
    assert_eq!(status, 200, "list {bucket}/{prefix}: {body}");
    assert!(!body.contains("<IsTruncated>true"), "more than 1000 keys");
    body.split("<Key>")
        .skip(1)
        .filter_map(|k| k.split_once("</Key>").map(|(k, _)| k.to_string()))
        .collect()
}

fn ok(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "failed: {stderr}");
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// Writes a pipeline file reading `input`, applying `steps` (the last one's id is `y`) and
/// writing `y` to `output` with `options` (chunks, shards, zarr_format, ...).
fn pipeline(
    dir: &Path,
    name: &str,
    input: &str,
    steps: Value,
    output: &str,
    options: Value,
) -> String {
    let mut out = json!({"from": "y", "path": output});
    for (k, v) in options.as_object().unwrap() {
        out[k] = v.clone();
    }
    let p = json!({"inputs": {"x": input}, "steps": steps, "outputs": [out]});
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, p.to_string()).unwrap();
    path.display().to_string()
}

/// Every value of the array at `path` (a local folder).
fn local_values(path: &Path) -> Buffer {
    let a = chunkwise::open(path).unwrap();
    let sink = std::sync::Arc::new(chunkwise::engine::store::MemorySink::new(a.meta().clone()));
    let mut p = Pipeline::new();
    p.write_to(&a, sink.clone());
    p.run(&exec(2)).unwrap();
    sink.take()
}

/// Every value of the array at `url`, read by chunkwise (copied to a local folder first: the
/// S3 settings live in the child process's environment).
fn s3_values(port: u16, dir: &Path, url: &str, dtype: &str) -> Buffer {
    let local = dir.join(format!("fetched-{}", url.replace(['/', ':'], "_")));
    let _ = std::fs::remove_dir_all(&local);
    let steps = json!([{"id": "y", "op": "astype", "x": "x", "dtype": dtype}]);
    let p = pipeline(dir, "fetch", url, steps, local.to_str().unwrap(), json!({}));
    ok(&chunkwise_s3(port, &["run", &p, "-q"]));
    local_values(&local)
}

/// Asserts `got == want` exactly (floats by their shortest exact form), naming the first difference rather than printing both.
fn same(got: &Buffer, want: &Buffer, context: &str) {
    assert_eq!(got.dtype(), want.dtype(), "{context}: type");
    assert_eq!(got.len(), want.len(), "{context}: length");
    let bits =
        |b: &Buffer, i: usize| chunkwise::engine::dispatch!(Buffer, b, v => format!("{:?}", v[i]));
    if let Some(i) = (0..got.len()).find(|&i| bits(got, i) != bits(want, i)) {
        panic!(
            "{context}: element {i} is {}, want {}",
            bits(got, i),
            bits(want, i)
        );
    }
}

/// Reads arrays `names` of `bucket` with zarr-python and TensorStore (which must agree), into
/// the folder returned: `NAME.raw` (little-endian values, `/` in names as `_`) and `NAME.json`.
fn read_with_python_clients(port: u16, dir: &Path, bucket: &str, names: &[String]) -> PathBuf {
    let read = dir.join("read");
    std::fs::create_dir_all(&read).unwrap();
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/remote/read_s3_arrays.py");
    let endpoint = format!("http://127.0.0.1:{port}");
    let readers = Command::new("python3")
        .arg(&script)
        .args([endpoint.as_str(), bucket, read.to_str().unwrap()])
        .args(names)
        .envs(s3_env(port))
        .output()
        .unwrap();
    assert!(
        readers.status.success(),
        "zarr-python / TensorStore (pip install zarr tensorstore obstore): {}",
        String::from_utf8_lossy(&readers.stderr)
    );
    read
}

/// [`input_dir`] and a moto server holding an empty `bucket`.
fn input_and_bucket(bucket: &str) -> (tempfile::TempDir, Server) {
    let dir = input_dir();
    let server = moto(dir.path());
    create_bucket(server.port, bucket);
    (dir, server)
}

/// Steps copying input `x` as `y`.
fn copy_steps() -> Value {
    json!([{"id": "y", "op": "astype", "x": "x", "dtype": "uint16"}])
}

/// A work directory holding `in.zarr`, a random uint16 (37, 29, 23) array in chunks of 8^3.
fn input_dir() -> tempfile::TempDir {
    common::dir_with_input(&[37, 29, 23], &[8, 8, 8], 17)
}

#[test]
fn outputs_on_s3_read_back_identical_in_zarr_python_and_tensorstore() {
    let (dir, server) = input_and_bucket("out");
    let input = dir.path().join("in.zarr");
    let input = input.to_str().unwrap();
    let scaled = |dtype: &str| {
        json!([{"id": "s", "op": "mul", "x": "x", "y": 0.5},
               {"id": "y", "op": "astype", "x": "s", "dtype": dtype}])
    };
    // (name, steps, output options, dtype): plain v3, sharded v3 and v2, three types.
    let cases = [
        (
            "v3",
            scaled("uint16"),
            json!({"chunks": [8, 8, 8]}),
            "uint16",
        ),
        (
            "sharded",
            scaled("int32"),
            json!({"chunks": [8, 8, 8], "shards": [16, 16, 16]}),
            "int32",
        ),
        (
            "v2",
            scaled("float32"),
            json!({"chunks": [10, 10, 10], "zarr_format": 2}),
            "float32",
        ),
    ];
    let mut names = Vec::new();
    let mut wanted = Vec::new();
    for (case, steps, options, dtype) in &cases {
        let local = dir.path().join(format!("{case}.zarr"));
        let p = pipeline(
            dir.path(),
            case,
            input,
            steps.clone(),
            local.to_str().unwrap(),
            options.clone(),
        );
        ok(&chunkwise_s3(server.port, &["run", &p, "-q"]));
        let want = local_values(&local);
        for threads in ["1", "2"] {
            let name = format!("{case}-{threads}.zarr");
            let url = format!("s3://out/{name}");
            let p = pipeline(
                dir.path(),
                case,
                input,
                steps.clone(),
                &url,
                options.clone(),
            );
            ok(&chunkwise_s3(
                server.port,
                &["run", &p, "-q", "--threads", threads],
            ));
            same(
                &s3_values(server.port, dir.path(), &url, dtype),
                &want,
                &format!("{name} read by chunkwise"),
            );
            // No journal is left behind once the output is complete.
            let left: Vec<String> = keys(server.port, "out", &name)
                .into_iter()
                .filter(|k| k.contains(".chunkwise"))
                .collect();
            assert!(left.is_empty(), "{name}: {left:?}");
            names.push(name);
            wanted.push((want.clone(), *dtype));
        }
    }
    let read = read_with_python_clients(server.port, dir.path(), "out", &names);
    for (name, (want, dtype)) in names.iter().zip(&wanted) {
        let info: Value =
            serde_json::from_slice(&std::fs::read(read.join(format!("{name}.json"))).unwrap())
                .unwrap();
        assert_eq!(info["dtype"], *dtype, "{name}");
        assert_eq!(info["shape"], json!([37, 29, 23]), "{name}");
        let got = common::load_le(&read.join(format!("{name}.raw")), dtype);
        same(
            &got,
            want,
            &format!("{name} read by zarr-python and TensorStore"),
        );
    }
}

/// The seed chain (clip -> gaussian -> 2x mean downsample) reading `input`, writing `output`.
fn seed(dir: &Path, name: &str, input: &str, output: &str, sigma: f64) -> String {
    let steps = json!([
        {"id": "c", "op": "clip", "x": "x", "min": 1000, "max": 60000},
        {"id": "g", "op": "gaussian_filter", "x": "c", "sigma": sigma},
        {"id": "y", "op": "downsample", "x": "g", "factors": [2, 2, 2], "method": "mean"}
    ]);
    pipeline(
        dir,
        name,
        input,
        steps,
        output,
        json!({"chunks": [8, 8, 8]}),
    )
}

#[test]
fn a_pipeline_from_s3_to_s3_gives_what_it_gives_on_local_files() {
    let (dir, server) = input_and_bucket("data");
    let input = dir.path().join("in.zarr");
    // The input goes to S3 as chunkwise writes it (a copy).
    let p = pipeline(
        dir.path(),
        "upload",
        input.to_str().unwrap(),
        copy_steps(),
        "s3://data/in.zarr",
        json!({}),
    );
    ok(&chunkwise_s3(server.port, &["run", &p, "-q"]));

    let local_out = dir.path().join("seed.zarr");
    let local_pipeline = seed(
        dir.path(),
        "local",
        input.to_str().unwrap(),
        local_out.to_str().unwrap(),
        1.5,
    );
    ok(&chunkwise_s3(server.port, &["run", &local_pipeline, "-q"]));
    let want = local_values(&local_out);
    // Thread counts, and writes behind compute one deep, the default, and 64 deep within a
    // small memory limit.
    let runs: [&[&str]; 4] = [
        &["--threads", "1"],
        &["--threads", "2"],
        &["--threads", "2", "--io-concurrency", "1"],
        &[
            "--threads",
            "2",
            "--io-concurrency",
            "64",
            "--memory-limit",
            "4MiB",
            "--memory-limit-covers",
            "run",
        ],
    ];
    for (k, extra) in runs.iter().enumerate() {
        let url = format!("s3://data/seed-{k}.zarr");
        let p = seed(dir.path(), "remote", "s3://data/in.zarr", &url, 1.5);
        let mut args = vec!["run", p.as_str(), "-q"];
        args.extend_from_slice(extra);
        ok(&chunkwise_s3(server.port, &args));
        let got = s3_values(server.port, dir.path(), &url, "float32");
        same(&got, &want, &format!("{extra:?}"));
    }
    assert_fails(
        &chunkwise_s3(
            server.port,
            &["run", "-q", "--io-concurrency", "0", &local_pipeline],
        ),
        "--io-concurrency must be at least 1",
    );
}

/// Bytes of a size `human_bytes` printed ("3.5 MiB", "512 B"), to its 0.1 precision.
fn bytes_of(human: &str) -> f64 {
    let (value, unit) = human.trim().split_once(' ').expect("a value and a unit");
    let scale = match unit {
        "B" => 1.0,
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        "GiB" => 1024.0 * 1024.0 * 1024.0,
        other => panic!("unit {other:?}"),
    };
    value.parse::<f64>().expect("a number") * scale
}

/// The text of `report` between `before` and the next `after`.
fn between<'a>(report: &'a str, before: &str, after: &str) -> &'a str {
    let start = report.find(before).expect(before) + before.len();
    let rest = &report[start..];
    &rest[..rest.find(after).expect(after)]
}

#[test]
fn the_memory_limit_covers_the_requests_in_flight() {
    let (dir, server) = input_and_bucket("mem");
    let input = dir.path().join("in.zarr");
    let upload = pipeline(
        dir.path(),
        "upload",
        input.to_str().unwrap(),
        copy_steps(),
        "s3://mem/in.zarr",
        json!({}),
    );
    ok(&chunkwise_s3(server.port, &["run", &upload, "-q"]));
    let want = local_values(&input);
    // 1 KiB chunks, 5 x 4 x 3 of them; far more requests asked for than threads, in a limit
    // that cannot hold them all, so the reservations, not the depth, bound the bytes in flight.
    for (k, limit) in ["24KiB", "64KiB", "1MiB"].into_iter().enumerate() {
        let url = format!("s3://mem/copy-{k}.zarr");
        let p = pipeline(
            dir.path(),
            "copy",
            "s3://mem/in.zarr",
            copy_steps(),
            &url,
            json!({}),
        );
        let report = ok(&chunkwise_s3(
            server.port,
            &[
                "run",
                &p,
                "-q",
                "--threads",
                "2",
                "--io-concurrency",
                "64",
                "--memory-limit",
                limit,
                // Limits this small hold the run's own accounting, not the process.
                "--memory-limit-covers",
                "run",
                "--memory-report",
            ],
        ));
        let peak = bytes_of(between(&report, "projected peak ", " of tasks"));
        let in_flight = bytes_of(between(&report, "requests in flight (", " in flight)"));
        let limit_bytes = bytes_of(&limit.replace("KiB", " KiB").replace("MiB", " MiB"));
        assert!(
            in_flight > 0.0,
            "{limit}: no request counted in flight: {report}"
        );
        assert!(in_flight < peak, "{limit}: {report}");
        assert!(peak <= limit_bytes, "{limit}: over the limit: {report}");
        let got = s3_values(server.port, dir.path(), &url, "uint16");
        same(&got, &want, &format!("copy within {limit}"));
    }
}

/// Starts `args` on the moto at `port`, waits until output `prefix` in `bucket` holds `at`
/// chunk objects, which are its journal's list (or the run ended), then kills it with SIGKILL.
/// True when the run was interrupted (it had not finished on its own).
fn kill_once_journaled(port: u16, args: &[&str], bucket: &str, prefix: &str, at: usize) -> bool {
    let mut child = Command::new(env!("CARGO_BIN_EXE_chunkwise"))
        .args(args)
        .envs(s3_env(port))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary runs");
    let journal = format!("{prefix}/c/");
    let deadline = Instant::now() + Duration::from_secs(300);
    while child.try_wait().expect("waitable").is_none()
        && keys(port, bucket, &journal).len() < at
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let status = child.wait().expect("the run ends");
    !status.success()
}

#[test]
fn a_killed_s3_run_resumes_from_its_journal_in_the_bucket() {
    let dir = common::dir_with_input(&[48, 48, 40], &[8, 8, 8], 5);
    let server = moto(dir.path());
    create_bucket(server.port, "data");
    let input = dir.path().join("in.zarr");
    let input = input.to_str().unwrap();
    let steps = |sigma: f64| {
        json!([{"id": "g", "op": "gaussian_filter", "x": "x", "sigma": sigma},
               {"id": "y", "op": "mul", "x": "g", "y": 0.5}])
    };
    let write = |name: &str, url: &str, sigma: f64| {
        pipeline(
            dir.path(),
            name,
            input,
            steps(sigma),
            url,
            json!({"chunks": [8, 8, 8]}),
        )
    };
    let p = write("want", "s3://data/want.zarr", 1.0);
    ok(&chunkwise_s3(server.port, &["run", &p, "-q"]));
    let want = s3_values(server.port, dir.path(), "s3://data/want.zarr", "float32");

    // 6 x 6 x 5 = 180 output chunks; kills once 10, 60 and 120 of them are stored.
    let mut interrupted = 0;
    for (k, at) in [10, 60, 120].into_iter().enumerate() {
        let name = format!("out-{k}.zarr");
        let url = format!("s3://data/{name}");
        let p = write(&format!("p{k}"), &url, 1.0);
        let args = ["run", p.as_str(), "-q", "--threads", "2", "--resume"];
        if !kill_once_journaled(server.port, &args, "data", &name, at) {
            continue;
        }
        interrupted += 1;
        let stored = keys(server.port, "data", &name);
        assert!(
            !stored.iter().any(|k| k.ends_with("zarr.json")),
            "kill {k}: the metadata, written last, is there: {stored:?}"
        );
        assert!(
            stored.iter().any(|k| k.ends_with(".chunkwise-run.json")),
            "kill {k}: no run marker in {stored:?}"
        );
        // Another pipeline (another sigma) may not continue it.
        let other = write(&format!("other{k}"), &url, 2.0);
        let e = assert_fails(
            &chunkwise_s3(server.port, &["run", &other, "-q", "--resume"]),
            "another pipeline",
        );
        assert!(e.contains(&url), "{e}");
        // The chunks stored before the kill are the journal's list: their tasks are skipped.
        let loud: Vec<&str> = args.iter().copied().filter(|a| *a != "-q").collect();
        let resumed = chunkwise_s3(server.port, &loud);
        ok(&resumed);
        let said = String::from_utf8_lossy(&resumed.stderr);
        assert!(
            said.contains("already stored"),
            "kill {k}: nothing skipped: {said}"
        );
        let got = s3_values(server.port, dir.path(), &url, "float32");
        same(&got, &want, &format!("kill {k} after {at} units"));
        let left: Vec<String> = keys(server.port, "data", &name)
            .into_iter()
            .filter(|k| k.contains(".chunkwise"))
            .collect();
        assert!(left.is_empty(), "kill {k}: journal left: {left:?}");
    }
    assert!(interrupted >= 2, "only {interrupted} kills landed mid-run");
}

#[test]
fn overwrite_removes_the_old_arrays_objects_and_nothing_else() {
    let (dir, server) = input_and_bucket("data");
    let input = dir.path().join("in.zarr");
    let input = input.to_str().unwrap();
    let write = |name: &str, url: &str, chunks: u64| {
        let options = json!({"chunks": [chunks, chunks, chunks]});
        pipeline(dir.path(), name, input, copy_steps(), url, options)
    };
    ok(&chunkwise_s3(
        server.port,
        &["run", &write("a", "s3://data/x.zarr", 8), "-q"],
    ));
    ok(&chunkwise_s3(
        server.port,
        &["run", &write("b", "s3://data/x.zarr-next", 8), "-q"],
    ));
    let neighbour = keys(server.port, "data", "x.zarr-next/");
    let p = write("c", "s3://data/x.zarr", 10);
    assert_fails(
        &chunkwise_s3(server.port, &["run", &p, "-q"]),
        "already exists",
    );
    ok(&chunkwise_s3(
        server.port,
        &["run", &p, "-q", "--overwrite"],
    ));
    ok(&chunkwise_s3(
        server.port,
        &["run", &write("d", "s3://data/fresh.zarr", 10), "-q"],
    ));
    let names = |prefix: &str| -> Vec<String> {
        keys(server.port, "data", &format!("{prefix}/"))
            .into_iter()
            .map(|k| k[prefix.len()..].to_string())
            .collect()
    };
    assert_eq!(
        names("x.zarr"),
        names("fresh.zarr"),
        "the replaced array holds exactly a fresh array's objects"
    );
    assert_eq!(keys(server.port, "data", "x.zarr-next/"), neighbour);
    // info reads the replaced array's metadata; plan works on a pipeline from S3 to S3.
    let info = ok(&chunkwise_s3(
        server.port,
        &["info", "s3://data/x.zarr", "--json"],
    ));
    let info: Value = serde_json::from_str(&info).unwrap();
    assert_eq!(info["chunks"], json!([10, 10, 10]), "{info}");
    let p = pipeline(
        dir.path(),
        "s3-to-s3",
        "s3://data/x.zarr",
        copy_steps(),
        "s3://data/y.zarr",
        json!({}),
    );
    let plan = ok(&chunkwise_s3(server.port, &["plan", &p]));
    assert!(plan.contains("s3://data/y.zarr"), "{plan}");
    assert!(
        keys(server.port, "data", "y.zarr/").is_empty(),
        "plan wrote nothing"
    );
    same(
        &s3_values(server.port, dir.path(), "s3://data/x.zarr", "uint16"),
        &local_values(&dir.path().join("in.zarr")),
        "the replaced array",
    );
}

#[test]
fn bad_outputs_are_one_clear_line_and_write_nothing() {
    let (dir, server) = input_and_bucket("data");
    let input = dir.path().join("in.zarr");
    let input = input.to_str().unwrap();

    let p = pipeline(
        dir.path(),
        "nb",
        input,
        copy_steps(),
        "s3://no-such-bucket/o.zarr",
        json!({}),
    );
    let e = assert_fails(
        &chunkwise_s3(server.port, &["run", &p]),
        "s3://no-such-bucket/o.zarr",
    );
    assert!(e.contains("NoSuchBucket"), "{e}");
    let (status, _) = s3_request(server.port, "GET", "/no-such-bucket?list-type=2");
    assert_eq!(status, 404, "the bucket was not created");

    let p = pipeline(
        dir.path(),
        "root",
        input,
        copy_steps(),
        "s3://data",
        json!({}),
    );
    assert_fails(
        &chunkwise_s3(server.port, &["run", &p]),
        "needs its own prefix",
    );
    assert!(keys(server.port, "data", "").is_empty());

    // With no unauthenticated actions allowed, moto checks every request's access key against
    // its (empty) IAM users: any key is refused, as a wrong one is by S3.
    let strict = start_with_env(
        "moto (authenticating)",
        &["-m", "moto.server", "-H", "127.0.0.1", "-p", "{port}"],
        &[("INITIAL_NO_AUTH_ACTION_COUNT", "0")],
        dir.path(),
    );
    let p = pipeline(
        dir.path(),
        "creds",
        input,
        copy_steps(),
        "s3://data/o.zarr",
        json!({}),
    );
    let e = assert_fails(&chunkwise_s3(strict.port, &["run", &p]), "s3://data/o.zarr");
    assert!(e.contains("InvalidAccessKeyId"), "{e}");
}

/// The JSON object at `key` in `bucket`, fetched through obstore (moto answers unsigned
/// requests for listings, not for objects).
fn json_at(port: u16, bucket: &str, key: &str) -> Value {
    let fetch = format!(
        "import os, sys; from obstore.store import S3Store; import obstore\n\
         s = S3Store({bucket:?}, endpoint='http://127.0.0.1:{port}', region='us-east-1', \
         access_key_id=os.environ['AWS_ACCESS_KEY_ID'], \
         secret_access_key=os.environ['AWS_SECRET_ACCESS_KEY'], \
         client_options={{'allow_http': True}})\n\
         sys.stdout.buffer.write(bytes(obstore.get(s, {key:?}).bytes()))"
    );
    let out = Command::new("python3")
        .args(["-c", &fetch])
        .envs(s3_env(port))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "get {bucket}/{key} through obstore: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_pyramid_on_s3_is_the_local_pyramid_and_keeps_its_guarantees() {
    let (dir, server) = input_and_bucket("data");
    let input = dir.path().join("in.zarr");
    let input = input.to_str().unwrap();
    let mut names = Vec::new();
    let mut wanted = Vec::new();
    for format in ["3", "2"] {
        let local = dir.path().join(format!("p{format}.zarr"));
        let url = format!("s3://data/p{format}.zarr");
        for out in [local.to_str().unwrap(), url.as_str()] {
            ok(&chunkwise_s3(
                server.port,
                &[
                    "pyramid",
                    input,
                    out,
                    "--levels",
                    "2",
                    "--zarr-format",
                    format,
                    "-q",
                ],
            ));
        }
        // The group metadata, written last, is the local pyramid's (NGFF 0.5 or 0.4).
        let group = if format == "3" {
            vec!["zarr.json"]
        } else {
            vec![".zgroup", ".zattrs"]
        };
        for file in group {
            let want = std::fs::read(local.join(file))
                .unwrap_or_else(|e| panic!("{}: {e}", local.join(file).display()));
            let want: Value = serde_json::from_slice(&want).unwrap();
            assert_eq!(
                json_at(server.port, "data", &format!("p{format}.zarr/{file}")),
                want,
                "{url}: {file}"
            );
        }
        for level in 0..=2 {
            names.push(format!("p{format}.zarr/{level}"));
            wanted.push(local_values(&local.join(level.to_string())));
        }
        let left: Vec<String> = keys(server.port, "data", &format!("p{format}.zarr/"))
            .into_iter()
            .filter(|k| k.contains(".chunkwise"))
            .collect();
        assert!(left.is_empty(), "{url}: journal left: {left:?}");
        // An existing pyramid is refused, then replaced with --overwrite: the same objects.
        let before = keys(server.port, "data", &format!("p{format}.zarr/"));
        let again = [
            "pyramid",
            input,
            &url,
            "-q",
            "--levels",
            "2",
            "--zarr-format",
            format,
        ];
        assert_fails(&chunkwise_s3(server.port, &again), "already exists");
        ok(&chunkwise_s3(
            server.port,
            &[&again[..], &["--overwrite"]].concat(),
        ));
        assert_eq!(
            keys(server.port, "data", &format!("p{format}.zarr/")),
            before
        );
    }
    let read = read_with_python_clients(server.port, dir.path(), "data", &names);
    for (name, want) in names.iter().zip(&wanted) {
        let got = common::load_le(
            &read.join(format!("{}.raw", name.replace('/', "_"))),
            "uint16",
        );
        same(
            &got,
            want,
            &format!("{name} read by zarr-python and TensorStore"),
        );
    }
    // A run that fails (a corrupt input chunk) leaves nothing in the bucket.
    let bad = dir.path().join("bad.zarr");
    ok(&chunkwise_s3(
        server.port,
        &[
            "run",
            &pipeline(
                dir.path(),
                "bad",
                input,
                copy_steps(),
                bad.to_str().unwrap(),
                json!({}),
            ),
            "-q",
        ],
    ));
    std::fs::write(bad.join("c/1/1/1"), b"not zstd").unwrap();
    assert_fails(
        &chunkwise_s3(
            server.port,
            &["pyramid", bad.to_str().unwrap(), "s3://data/bad.zarr", "-q"],
        ),
        "stored chunk [1, 1, 1]",
    );
    assert!(
        keys(server.port, "data", "bad.zarr/").is_empty(),
        "a failed pyramid leaves nothing"
    );
}

#[test]
fn a_store_failing_mid_run_is_one_clear_error_and_no_complete_array() {
    let (dir, server) = input_and_bucket("data");
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/remote/failing_proxy.py");
    let target = server.port.to_string();
    let input = dir.path().join("in.zarr");
    let p = pipeline(
        dir.path(),
        "copy",
        input.to_str().unwrap(),
        copy_steps(),
        "s3://data/out.zarr",
        json!({}),
    );
    for resume in [false, true] {
        // Five chunk PUTs get through, then every chunk PUT (retries too) is answered 500.
        let proxy = start(
            "failing proxy",
            &[script.to_str().unwrap(), "{port}", &target, "5"],
            dir.path(),
        );
        let mut args = vec!["run", p.as_str(), "-q", "--threads", "2"];
        if resume {
            args.push("--resume");
        }
        let err = assert_fails(&chunkwise_s3(proxy.port, &args), "s3://data/out.zarr");
        assert!(err.contains("500") || err.contains("nternal"), "{err}");
        let stored = keys(server.port, "data", "out.zarr/");
        assert!(
            !stored.iter().any(|k| k.ends_with("zarr.json")),
            "resume {resume}: metadata of an incomplete array stored: {stored:?}"
        );
        if resume {
            // Kept for the resume: the journal and the chunks stored before the failure.
            assert!(
                stored.iter().any(|k| k.contains(".chunkwise")),
                "{stored:?}"
            );
            assert!(stored.len() > 1, "{stored:?}");
        } else {
            assert!(
                stored.is_empty(),
                "a failed run removes what it stored: {stored:?}"
            );
        }
    }
    // Against the server itself, the resume completes the array to the input's values.
    ok(&chunkwise_s3(server.port, &["run", &p, "-q", "--resume"]));
    same(
        &s3_values(server.port, dir.path(), "s3://data/out.zarr", "uint16"),
        &local_values(&input),
        "the resumed array",
    );
}
