//! Interop with zarr-python (and NumPy as the reference for promotion): we read what zarr-python
//! writes (v2 and v3, compressed, sharded), and zarr-python reads what we write with the values
//! NumPy 2 computes for the same pipelines. Needs `python3` with zarr >= 3 (installed by .ci/run);
//! set CHUNKWISE_PYTHON to use another interpreter.

mod common;

use std::path::Path;
use std::process::Command;

use chunkwise::prelude::*;
use chunkwise::Element;
use common::{assert_same, exec, random_array};
use ndarray::ArrayD;
use serde_json::Value;

fn python(script: &str, dir: &Path) {
    let exe = std::env::var("CHUNKWISE_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/python")
        .join(script);
    let out = Command::new(&exe)
        .arg(&script)
        .arg(dir)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run {exe}: {e}; install Python 3 with zarr>=3 (see .ci/run)")
        });
    assert!(
        out.status.success(),
        "{} failed:\n{}\n{}",
        script.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn check_fixture<T: common::Exact>(dir: &Path, name: &str, dtype: &str, shape: &[usize]) {
    let want = ArrayD::from_shape_vec(
        shape.to_vec(),
        T::from_buffer(common::load_le(&dir.join(format!("{name}.bin")), dtype))
            .expect("dtype matches"),
    )
    .unwrap();
    let x = chunkwise::open(dir.join(format!("{name}.zarr"))).unwrap();
    assert_eq!(x.dtype().name(), dtype, "{name}");
    for threads in [1, 2] {
        let got: ArrayD<T> = x.compute(&exec(threads)).unwrap();
        assert_same(&got, &want, name);
    }
}

#[test]
fn chunkwise_reads_what_zarr_python_writes() {
    let dir = tempfile::tempdir().unwrap();
    python("write_fixtures.py", dir.path());
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("manifest.json")).unwrap()).unwrap();
    let cases = manifest.as_array().unwrap();
    assert!(cases.len() >= 9);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let dtype = case["dtype"].as_str().unwrap();
        let shape: Vec<usize> = case["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        match dtype {
            "bool" => check_fixture::<bool>(dir.path(), name, dtype, &shape),
            "int8" => check_fixture::<i8>(dir.path(), name, dtype, &shape),
            "int32" => check_fixture::<i32>(dir.path(), name, dtype, &shape),
            "int64" => check_fixture::<i64>(dir.path(), name, dtype, &shape),
            "uint16" => check_fixture::<u16>(dir.path(), name, dtype, &shape),
            "uint64" => check_fixture::<u64>(dir.path(), name, dtype, &shape),
            "float32" => check_fixture::<f32>(dir.path(), name, dtype, &shape),
            "float64" => check_fixture::<f64>(dir.path(), name, dtype, &shape),
            other => panic!("unexpected fixture dtype {other}"),
        }
    }
}

fn raw_bytes<T: Element>(a: &ArrayD<T>, to_le: impl Fn(&T) -> Vec<u8>) -> Vec<u8> {
    a.iter().flat_map(to_le).collect()
}

#[test]
fn zarr_python_reads_what_chunkwise_writes_with_numpy_values() {
    let dir = tempfile::tempdir().unwrap();
    let shape = [37usize, 23, 11];
    let a_data: ArrayD<u16> = random_array(&shape, 1);
    let b_data: ArrayD<i8> = random_array(&shape, 2);
    let f_data: ArrayD<f32> = random_array(&shape, 3);
    std::fs::write(
        dir.path().join("a.bin"),
        raw_bytes(&a_data, |v| v.to_le_bytes().to_vec()),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("b.bin"),
        raw_bytes(&b_data, |v| v.to_le_bytes().to_vec()),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("f.bin"),
        raw_bytes(&f_data, |v| v.to_le_bytes().to_vec()),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("inputs.json"),
        serde_json::json!({"shape": shape}).to_string(),
    )
    .unwrap();

    let a = chunkwise::from_ndarray(a_data, &[8, 8, 8]).unwrap();
    let b = chunkwise::from_ndarray(b_data, &[10, 5, 11]).unwrap();
    let f = chunkwise::from_ndarray(f_data, &[37, 23, 1]).unwrap();
    let cases: Vec<(&str, Array)> = vec![
        (
            "chain",
            a.astype(DType::Float32)
                .unwrap()
                .mul(1.5)
                .unwrap()
                .add(100)
                .unwrap()
                .clip(0, 65535)
                .unwrap()
                .div(2)
                .unwrap()
                .astype(DType::Uint16)
                .unwrap(),
        ),
        ("clip", a.clip(10000, 40000).unwrap()),
        ("threshold", a.threshold(30000).unwrap()),
        ("add_float", a.add(1.5).unwrap()),
        ("mixed", a.add(&b).unwrap()),
        ("div_int", b.div(3).unwrap()),
        ("sqrt_u16", a.sqrt().unwrap()),
        (
            "where",
            where_(&a.threshold(30000).unwrap(), &a, &b).unwrap(),
        ),
        ("minimum_f", f.minimum(0.5).unwrap()),
        ("clip_f", f.clip(0, 1).unwrap()),
        ("exp_f", f.div(100).unwrap().exp().unwrap()),
        ("abs_i8", b.abs().unwrap()),
        (
            "sub_first",
            chunkwise::ops::elementwise::binary(chunkwise::ops::elementwise::Arith::Sub, 100, &b)
                .unwrap(),
        ),
        ("max_arrays", a.maximum(&b).unwrap()),
    ];
    let layouts = [
        (ZarrFormat::V3, Codec::Zstd { level: 1 }, None),
        (
            ZarrFormat::V2,
            Codec::Blosc {
                cname: "lz4".into(),
                clevel: 5,
                shuffle: true,
            },
            None,
        ),
        (
            ZarrFormat::V3,
            Codec::Zstd { level: 3 },
            Some(vec![16, 16, 11]),
        ),
        (ZarrFormat::V2, Codec::Zstd { level: 1 }, None),
        (ZarrFormat::V3, Codec::Gzip { level: 5 }, None),
        (ZarrFormat::V2, Codec::None, None),
        (
            ZarrFormat::V3,
            Codec::Blosc {
                cname: "zstd".into(),
                clevel: 3,
                shuffle: false,
            },
            None,
        ),
    ];
    let mut pipeline = Pipeline::new();
    for (i, (name, array)) in cases.iter().enumerate() {
        let (format, codec, shards) = layouts[i % layouts.len()].clone();
        let opts = WriteOptions {
            zarr_format: format,
            chunks: Some(vec![8, 8, 11]),
            shards,
            codec,
            ..WriteOptions::default()
        };
        pipeline
            .write_zarr(array, dir.path().join(format!("{name}.zarr")), &opts)
            .unwrap();
    }
    pipeline.run(&exec(2)).unwrap();
    python("check_outputs.py", dir.path());
}

/// Chunks of 1 MiB and more are written with direct I/O (an aligned copy, padded to whole
/// blocks, then cut): zarr-python must read exactly the values, whatever the chunk's length.
#[test]
fn zarr_python_reads_large_chunks_written_past_the_page_cache() {
    let dir = tempfile::tempdir().unwrap();
    // Random float32 does not compress: a 72^3 chunk stays about 1.4 MiB with zstd too.
    let shape = [144usize, 72, 75];
    let values: ArrayD<f32> = random_array(&shape, 7);
    std::fs::write(
        dir.path().join("values.bin"),
        raw_bytes(&values, |v| v.to_le_bytes().to_vec()),
    )
    .unwrap();
    let x = chunkwise::from_ndarray(values, &[72, 72, 75]).unwrap();
    let cases = [
        ("raw_v3", Codec::None, ZarrFormat::V3, false),
        ("zstd_v3", Codec::Zstd { level: 1 }, ZarrFormat::V3, true),
        ("zstd_v2", Codec::Zstd { level: 3 }, ZarrFormat::V2, false),
    ];
    let mut pipeline = Pipeline::new();
    let mut described = Vec::new();
    for (name, codec, zarr_format, clipped) in cases {
        let array = match clipped {
            true => x.clip(0, 0.5).unwrap(),
            false => x.clone(),
        };
        let opts = WriteOptions {
            zarr_format,
            // 72 * 72 * 75 * 4 bytes: 1.48 MiB per chunk, two chunks along the first axis.
            chunks: Some(vec![72, 72, 75]),
            codec,
            ..WriteOptions::default()
        };
        pipeline
            .write_zarr(&array, dir.path().join(format!("{name}.zarr")), &opts)
            .unwrap();
        described.push(serde_json::json!({"name": name, "shape": shape, "clipped": clipped}));
    }
    pipeline.run(&exec(2)).unwrap();
    std::fs::write(
        dir.path().join("cases.json"),
        Value::Array(described).to_string(),
    )
    .unwrap();
    let chunk = dir.path().join("raw_v3.zarr/c/1/0/0");
    let len = std::fs::metadata(&chunk).unwrap().len();
    assert!(
        len >= 1 << 20,
        "{} is {len} bytes, under the direct-I/O size",
        chunk.display()
    );
    python("check_large_chunks.py", dir.path());
}
