//! Arrays at URLs, all on loopback: a local S3 server (moto, started here on a free port) holding
//! arrays that TensorStore's s3 driver and zarr-python wrote, and `python3 -m http.server`
//! serving Zarr folders. chunkwise must read them as the same values as local copies, read a
//! missing chunk (404) as the fill value, retry a failing server a bounded number of times and
//! then name the URL, and refuse bad URLs with one clear line, writing nothing.
//!
//! moto, TensorStore and zarr-python come from .ci/run's pip install; a server that cannot start
//! fails the test with the reason (never a silent skip).

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use chunkwise::prelude::*;
use chunkwise::Buffer;
use common::servers::{chunkwise_s3, s3_env, start, start_with_env};
use common::{assert_fails, count_files, exec};
use serde_json::json;

fn ok(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "failed: {stderr}");
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// A pipeline reading `input` (a path or URL) and writing it unchanged, as `dtype`, to `output`.
fn copy_pipeline(dir: &Path, input: &str, output: &str, dtype: &str) -> String {
    let p = json!({
        "inputs": {"x": input},
        "steps": [{"id": "y", "op": "astype", "x": "x", "dtype": dtype}],
        "outputs": [{"from": "y", "path": output, "chunks": [16, 16, 16]}]
    });
    let path = dir.join(format!("copy-{}.json", output.replace(['/', ':'], "_")));
    std::fs::write(&path, p.to_string()).unwrap();
    path.display().to_string()
}

/// Every value of the array at `path` (a local folder).
fn values(path: &Path) -> Buffer {
    let a = chunkwise::open(path).unwrap();
    let meta = a.meta().clone();
    let sink = Arc::new(chunkwise::engine::store::MemorySink::new(meta));
    let mut p = Pipeline::new();
    p.write_to(&a, sink.clone());
    p.run(&exec(2)).unwrap();
    sink.take()
}

#[test]
fn arrays_written_to_s3_by_tensorstore_and_zarr_python_read_back_identical() {
    let dir = tempfile::tempdir().unwrap();
    let moto = start(
        "moto",
        &["-m", "moto.server", "-H", "127.0.0.1", "-p", "{port}"],
        dir.path(),
    );
    let endpoint = format!("http://127.0.0.1:{}", moto.port);
    let local = dir.path().join("local");
    std::fs::create_dir_all(&local).unwrap();
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/remote/make_s3_arrays.py");
    let made = Command::new("python3")
        .arg(&script)
        .args([endpoint.as_str(), "arrays", local.to_str().unwrap()])
        .envs(s3_env(moto.port))
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "fixtures: {}",
        String::from_utf8_lossy(&made.stderr)
    );

    for (name, dtype) in [
        ("ts_v3.zarr", "uint16"),
        ("ts_sharded.zarr", "int32"),
        ("zp_v2.zarr", "float32"),
    ] {
        let url = format!("s3://arrays/{name}");
        // info on the URL reads the metadata the writer stored.
        let info = ok(&chunkwise_s3(moto.port, &["info", &url, "--json"]));
        let info: serde_json::Value = serde_json::from_str(&info).unwrap();
        assert_eq!(info["shape"], json!([37, 29, 23]), "{name}: {info}");
        for threads in ["1", "2"] {
            let out = dir.path().join(format!("{name}-{threads}.out.zarr"));
            let p = copy_pipeline(dir.path(), &url, out.to_str().unwrap(), dtype);
            ok(&chunkwise_s3(moto.port, &["run", &p, "--threads", threads]));
            assert_eq!(
                values(&out),
                values(&local.join(name)),
                "{name}, {threads} threads"
            );
        }
    }
    // --s3-endpoint stands in for AWS_ENDPOINT_URL.
    let out = dir.path().join("flag.out.zarr");
    let p = copy_pipeline(
        dir.path(),
        "s3://arrays/ts_v3.zarr",
        out.to_str().unwrap(),
        "uint16",
    );
    let mut env = s3_env(moto.port);
    env.retain(|(k, _)| *k != "AWS_ENDPOINT_URL");
    let flagged = Command::new(env!("CARGO_BIN_EXE_chunkwise"))
        .args(["run", &p, "--s3-endpoint", &endpoint])
        .env_remove("AWS_ENDPOINT_URL")
        .envs(env)
        .output()
        .unwrap();
    ok(&flagged);
    assert_eq!(values(&out), values(&local.join("ts_v3.zarr")));

    // Bad input: a bucket that does not exist, a missing array, an output on https: one line
    // each, nothing written (outputs on S3: tests/remote_write.rs).
    let e = assert_fails(
        &chunkwise_s3(moto.port, &["info", "s3://no-such-bucket/a.zarr"]),
        "s3://no-such-bucket/a.zarr",
    );
    assert!(
        e.contains("cannot open array") && e.contains("NoSuchBucket"),
        "{e}"
    );
    assert_fails(
        &chunkwise_s3(moto.port, &["info", "s3://arrays/nothing.zarr"]),
        "s3://arrays/nothing.zarr",
    );
    let output = "https://127.0.0.1:1/out.zarr";
    let p = copy_pipeline(dir.path(), "s3://arrays/ts_v3.zarr", output, "uint16");
    assert_fails(
        &chunkwise_s3(moto.port, &["run", &p]),
        &format!("cannot write to {output}"),
    );
}

/// A folder of Zarr arrays written by chunkwise, one chunk of `a.zarr` deleted.
fn served_folder(root: &Path) -> Buffer {
    let data: ndarray::ArrayD<u16> = common::random_array(&[30, 20, 10], 3);
    chunkwise::from_ndarray(data.clone(), &[30, 20, 10])
        .unwrap()
        .to_zarr(
            root.join("a.zarr"),
            &WriteOptions {
                chunks: Some(vec![8, 8, 8]),
                ..WriteOptions::default()
            },
            &exec(1),
        )
        .unwrap();
    // Chunk (1, 0, 0) goes: the server answers 404, which Zarr reads as the fill value.
    std::fs::remove_file(root.join("a.zarr/c/1/0/0")).unwrap();
    let mut want = data;
    want.slice_mut(ndarray::s![8..16, 0..8, 0..8]).fill(0);
    Buffer::Uint16(want.iter().copied().collect())
}

#[test]
fn a_pipeline_reads_over_http_and_a_missing_chunk_is_the_fill_value() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("served");
    std::fs::create_dir_all(&root).unwrap();
    let want = served_folder(&root);
    let server = start(
        "http.server",
        &[
            "-m",
            "http.server",
            "{port}",
            "--bind",
            "127.0.0.1",
            "--directory",
            root.to_str().unwrap(),
        ],
        dir.path(),
    );
    let url = format!("http://127.0.0.1:{}/a.zarr", server.port);
    let info = ok(&common::chunkwise_cmd(&["info", &url]));
    assert!(info.contains("30") && info.contains("uint16"), "{info}");
    for threads in ["1", "2"] {
        let out = dir.path().join(format!("out-{threads}.zarr"));
        let p = copy_pipeline(dir.path(), &url, out.to_str().unwrap(), "uint16");
        ok(&common::chunkwise_cmd(&["run", &p, "--threads", threads]));
        assert_eq!(values(&out), want, "{threads} threads");
    }
    // Writing to the server is refused before anything is created.
    let p = copy_pipeline(
        dir.path(),
        &url,
        &format!("http://127.0.0.1:{}/b.zarr", server.port),
        "uint16",
    );
    assert_fails(&common::chunkwise_cmd(&["run", &p]), "read only");
    assert!(!root.join("b.zarr").exists());
}

/// A server on loopback that answers every request with `reply` (or closes the connection when
/// `reply` is empty), counting requests.
fn failing_server(reply: &'static str) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            seen.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            if !reply.is_empty() {
                let _ = stream.write_all(reply.as_bytes());
            }
        }
    });
    (port, count)
}

#[test]
fn a_failing_server_is_retried_a_few_times_then_named() {
    for reply in [
        "HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
        "",
    ] {
        let (port, count) = failing_server(reply);
        let url = format!("http://127.0.0.1:{port}/a.zarr");
        let out = common::chunkwise_cmd(&["info", &url]);
        let e = assert_fails(&out, &url);
        assert!(e.contains("after 4 attempts"), "{e}");
        let requests = count.load(Ordering::SeqCst);
        // zarrs asks for zarr.json, then for .zarray (v2) and its neighbours: each retried.
        assert!((4..=40).contains(&requests), "{requests} requests: {e}");
    }
}

#[test]
fn wrong_credentials_are_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    // With no unauthenticated actions allowed, moto checks every request's access key against
    // its (empty) IAM users: any key is refused, as a wrong one is by S3.
    let moto = start_with_env(
        "moto (authenticating)",
        &["-m", "moto.server", "-H", "127.0.0.1", "-p", "{port}"],
        &[("INITIAL_NO_AUTH_ACTION_COUNT", "0")],
        dir.path(),
    );
    let out = dir.path().join("o.zarr");
    let p = copy_pipeline(
        dir.path(),
        "s3://arrays/a.zarr",
        out.to_str().unwrap(),
        "uint16",
    );
    let e = assert_fails(&chunkwise_s3(moto.port, &["run", &p]), "s3://arrays/a.zarr");
    assert!(e.contains("InvalidAccessKeyId"), "{e}");
    assert!(!out.exists());
}

#[test]
fn an_unknown_scheme_is_one_clear_line() {
    let e = assert_fails(
        &common::chunkwise_cmd(&["info", "ftp://host/a.zarr"]),
        "unknown scheme",
    );
    assert!(e.contains("s3://"), "{e}");
    let dir = tempfile::tempdir().unwrap();
    let p = copy_pipeline(
        dir.path(),
        "ftp://host/a.zarr",
        dir.path().join("o.zarr").to_str().unwrap(),
        "uint16",
    );
    assert_fails(&common::chunkwise_cmd(&["run", &p]), "unknown scheme");
    assert_eq!(count_files(dir.path()), 1, "only the pipeline file");
    // A JSON output (a reduction's value) at a URL is refused as well: JSON outputs are files.
    let local = dir.path().join("in.zarr");
    chunkwise::from_ndarray(common::random_array::<u16>(&[10, 10], 5), &[5, 5])
        .unwrap()
        .to_zarr(&local, &WriteOptions::default(), &exec(1))
        .unwrap();
    let p = dir.path().join("sum.json");
    let spec = json!({
        "inputs": {"x": local},
        "steps": [{"id": "total", "op": "reduce", "x": "x", "reduction": "sum"}],
        "outputs": [{"from": "total", "path": "s3://bucket/total.json"}]
    });
    std::fs::write(&p, spec.to_string()).unwrap();
    assert_fails(
        &common::chunkwise_cmd(&["run", p.to_str().unwrap()]),
        "cannot write to s3://bucket/total.json: JSON outputs are local files",
    );
    assert!(!dir.path().join("s3:").exists());
}
