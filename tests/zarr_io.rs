//! Zarr through zarrs: every format and codec round-trips, rechunking on write, sharding,
//! several outputs in one run, and the failure paths (corrupt chunk, limits, existing outputs)
//! leave nothing half-written behind.

mod common;

use std::path::Path;

use chunkwise::prelude::*;
use common::{assert_same, exec, random_array};
use ndarray::ArrayD;

fn write_options(
    format: ZarrFormat,
    codec: Codec,
    chunks: &[u64],
    shards: Option<Vec<u64>>,
) -> WriteOptions {
    WriteOptions {
        zarr_format: format,
        chunks: Some(chunks.to_vec()),
        shards,
        codec,
        ..WriteOptions::default()
    }
}

fn codecs() -> Vec<Codec> {
    vec![
        Codec::None,
        Codec::Zstd { level: 3 },
        Codec::Gzip { level: 5 },
        Codec::Blosc {
            cname: "lz4".into(),
            clevel: 5,
            shuffle: true,
        },
        Codec::Blosc {
            cname: "zstd".into(),
            clevel: 3,
            shuffle: false,
        },
    ]
}

#[test]
fn every_format_and_codec_round_trips_with_rechunking() {
    let dir = tempfile::tempdir().unwrap();
    let data: ArrayD<i16> = random_array(&[21, 17, 9], 5);
    let x = chunkwise::from_ndarray(data.clone(), &[8, 8, 8]).unwrap();
    for format in [ZarrFormat::V2, ZarrFormat::V3] {
        for (k, codec) in codecs().into_iter().enumerate() {
            let path = dir.path().join(format!("{format:?}_{k}.zarr"));
            x.to_zarr(
                &path,
                &write_options(format, codec.clone(), &[5, 6, 4], None),
                &exec(2),
            )
            .unwrap();
            let back: ArrayD<i16> = chunkwise::open(&path).unwrap().compute(&exec(2)).unwrap();
            assert_same(&back, &data, &format!("{format:?} {codec:?}"));
        }
    }
}

#[test]
fn sharded_output_round_trips_and_each_shard_is_one_task() {
    let dir = tempfile::tempdir().unwrap();
    let data: ArrayD<f32> = random_array(&[30, 19, 11], 6);
    let x = chunkwise::from_ndarray(data.clone(), &[7, 7, 7]).unwrap();
    let path = dir.path().join("sharded.zarr");
    let opts = write_options(
        ZarrFormat::V3,
        Codec::Zstd { level: 1 },
        &[5, 5, 5],
        Some(vec![10, 10, 5]),
    );
    let plan = Pipeline::new()
        .write_zarr(&x, &path, &opts)
        .unwrap()
        .plan(&exec(2))
        .unwrap();
    assert_eq!(plan.num_tasks(), 3 * 2 * 3, "one task per shard");
    for threads in [1, 2, 7] {
        let opts = WriteOptions {
            overwrite: Overwrite::Replace,
            ..opts.clone()
        };
        x.to_zarr(&path, &opts, &exec(threads)).unwrap();
        let back: ArrayD<f32> = chunkwise::open(&path).unwrap().compute(&exec(2)).unwrap();
        assert_same(&back, &data, &format!("sharded, {threads} threads"));
    }
    let info = chunkwise::store::inspect_zarr(&path).unwrap();
    assert_eq!(info.shards, Some(vec![10, 10, 5]));
    assert_eq!(info.chunks, vec![5, 5, 5]);
}

#[test]
fn all_dtypes_round_trip_through_v2_and_v3() {
    let dir = tempfile::tempdir().unwrap();
    fn one<T: common::RandomElement>(dir: &Path, seed: u64) {
        let data: ArrayD<T> = random_array(&[9, 13], seed);
        let x = chunkwise::from_ndarray(data.clone(), &[4, 4]).unwrap();
        for format in [ZarrFormat::V2, ZarrFormat::V3] {
            let path = dir.join(format!("{}_{format:?}.zarr", T::DTYPE));
            x.to_zarr(
                &path,
                &write_options(format, Codec::default(), &[4, 5], None),
                &exec(2),
            )
            .unwrap();
            let back: ArrayD<T> = chunkwise::open(&path).unwrap().compute(&exec(1)).unwrap();
            assert_same(&back, &data, &format!("{} {format:?}", T::DTYPE));
        }
    }
    one::<bool>(dir.path(), 1);
    one::<i8>(dir.path(), 2);
    one::<i16>(dir.path(), 3);
    one::<i32>(dir.path(), 4);
    one::<i64>(dir.path(), 5);
    one::<u8>(dir.path(), 6);
    one::<u16>(dir.path(), 7);
    one::<u32>(dir.path(), 8);
    one::<u64>(dir.path(), 9);
    one::<f32>(dir.path(), 10);
    one::<f64>(dir.path(), 11);
}

#[test]
fn several_outputs_share_one_pass() {
    let dir = tempfile::tempdir().unwrap();
    let data: ArrayD<u16> = random_array(&[20, 20, 20], 7);
    let x = chunkwise::from_ndarray(data.clone(), &[8, 8, 8]).unwrap();
    let shared = x.astype(DType::Float32).unwrap().mul(2).unwrap();
    let a = shared.add(1).unwrap();
    let b = shared.sqrt().unwrap();
    let opts = write_options(ZarrFormat::V3, Codec::default(), &[8, 8, 8], None);
    let mut p = Pipeline::new();
    p.write_zarr(&a, dir.path().join("a.zarr"), &opts).unwrap();
    p.write_zarr(&b, dir.path().join("b.zarr"), &opts).unwrap();
    p.write_zarr(&shared, dir.path().join("shared.zarr"), &opts)
        .unwrap();
    let plan = p.plan(&exec(2)).unwrap();
    assert_eq!(plan.stages.len(), 1, "{}", plan.explain());
    // astype and mul appear once in the fused program although three outputs use them.
    assert_eq!(plan.stages[0].program.instrs.len(), 4, "{}", plan.explain());
    p.run(&exec(2)).unwrap();
    let s = data.mapv(|v| v as f32 * 2.0);
    let read = |name: &str| -> ArrayD<f32> {
        chunkwise::open(dir.path().join(name))
            .unwrap()
            .compute(&exec(2))
            .unwrap()
    };
    assert_same(&read("a.zarr"), &s.mapv(|v| v + 1.0), "a");
    assert_same(&read("b.zarr"), &s.mapv(f32::sqrt), "b");
    assert_same(&read("shared.zarr"), &s, "shared");
}

#[test]
fn reading_zarr_inputs_with_different_chunk_grids() {
    let dir = tempfile::tempdir().unwrap();
    let a: ArrayD<u8> = random_array(&[25, 31], 8);
    let b: ArrayD<u8> = random_array(&[25, 31], 9);
    let (pa, pb) = (dir.path().join("a.zarr"), dir.path().join("b.zarr"));
    chunkwise::from_ndarray(a.clone(), &[25, 31])
        .unwrap()
        .to_zarr(
            &pa,
            &write_options(ZarrFormat::V3, Codec::default(), &[4, 7], None),
            &exec(1),
        )
        .unwrap();
    chunkwise::from_ndarray(b.clone(), &[25, 31])
        .unwrap()
        .to_zarr(
            &pb,
            &write_options(ZarrFormat::V2, Codec::default(), &[10, 3], None),
            &exec(1),
        )
        .unwrap();
    let sum = chunkwise::open(&pa)
        .unwrap()
        .maximum(chunkwise::open(&pb).unwrap())
        .unwrap();
    for threads in [1, 2, 7] {
        let got: ArrayD<u8> = sum.compute(&exec(threads)).unwrap();
        let want = ndarray::Zip::from(&a)
            .and(&b)
            .map_collect(|&p, &q| p.max(q));
        assert_same(&got, &want, "maximum of differently chunked zarr arrays");
    }
}

fn chunk_files(path: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![path.to_path_buf()];
    while let Some(p) = stack.pop() {
        for e in std::fs::read_dir(&p).unwrap() {
            let e = e.unwrap().path();
            if e.is_dir() {
                stack.push(e);
            } else if e
                .file_name()
                .is_some_and(|n| n != "zarr.json" && n != ".zarray" && n != ".zattrs")
            {
                out.push(e);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn corrupt_chunk_fails_with_its_index_and_removes_the_output() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.zarr");
    let data: ArrayD<u16> = random_array(&[16, 16], 3);
    chunkwise::from_ndarray(data, &[16, 16])
        .unwrap()
        .to_zarr(
            &input,
            &write_options(ZarrFormat::V3, Codec::Zstd { level: 1 }, &[8, 8], None),
            &exec(1),
        )
        .unwrap();
    let victim = chunk_files(&input).pop().unwrap();
    std::fs::write(&victim, b"definitely not zstd").unwrap();
    let out = dir.path().join("out.zarr");
    let err = chunkwise::open(&input)
        .unwrap()
        .clip(1, 2)
        .unwrap()
        .to_zarr(&out, &WriteOptions::default(), &exec(2))
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("chunk [1, 1]") && msg.contains("in.zarr"),
        "{msg}"
    );
    assert!(!out.exists(), "partial output must be removed");
}

#[test]
fn memory_limit_smaller_than_one_task_is_a_plan_error() {
    let dir = tempfile::tempdir().unwrap();
    let x = chunkwise::from_ndarray(random_array::<f64>(&[64, 64], 1), &[64, 64]).unwrap();
    let out = dir.path().join("out.zarr");
    let tiny = ExecOptions {
        memory_limit: 10_000,
        ..exec(1)
    };
    let err = x
        .sqrt()
        .unwrap()
        .to_zarr(&out, &WriteOptions::default(), &tiny)
        .unwrap_err();
    assert!(matches!(err, chunkwise::Error::MemoryLimit { .. }), "{err}");
    // The library states the fact; the command line adds its flag (tests/cli.rs).
    assert!(
        err.to_string().contains("the limit must be at least") && !err.to_string().contains("--"),
        "{err}"
    );
    assert!(!out.exists());
    // A limit that fits one task but not two still completes (tasks queue for memory).
    let plan = Pipeline::new()
        .write_zarr(
            &x,
            &out,
            &write_options(ZarrFormat::V3, Codec::None, &[8, 64], None),
        )
        .unwrap()
        .plan(&exec(2))
        .unwrap();
    let one_task = plan.stages[0].task_bytes;
    let snug = ExecOptions {
        memory_limit: one_task + one_task / 2,
        ..exec(2)
    };
    let stats = x
        .to_zarr(
            &out,
            &write_options(ZarrFormat::V3, Codec::None, &[8, 64], None),
            &snug,
        )
        .unwrap();
    assert!(stats.peak_projected_bytes <= snug.memory_limit);
}

#[test]
fn existing_output_is_refused_unless_replaced_and_inputs_are_never_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let x = chunkwise::from_ndarray(random_array::<u8>(&[10], 1), &[4]).unwrap();
    let out = dir.path().join("out.zarr");
    x.to_zarr(&out, &WriteOptions::default(), &exec(1)).unwrap();
    let err = x
        .to_zarr(&out, &WriteOptions::default(), &exec(1))
        .unwrap_err();
    assert!(matches!(err, chunkwise::Error::OutputExists(_)), "{err}");
    let replace = WriteOptions {
        overwrite: Overwrite::Replace,
        ..WriteOptions::default()
    };
    x.add(1).unwrap().to_zarr(&out, &replace, &exec(1)).unwrap();
    let y = chunkwise::open(&out).unwrap();
    let err = y
        .add(1)
        .unwrap()
        .to_zarr(&out, &replace, &exec(1))
        .unwrap_err();
    assert!(err.to_string().contains("is an input"), "{err}");
    assert!(chunkwise::open(&out).is_ok(), "the input survived");
}

#[test]
fn missing_input_is_a_clear_error() {
    let err = chunkwise::open("/definitely/not/here.zarr").unwrap_err();
    assert!(
        err.to_string().contains("/definitely/not/here.zarr"),
        "{err}"
    );
}

#[test]
fn an_output_containing_an_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("data/in.zarr");
    let x = chunkwise::from_ndarray(random_array::<u8>(&[10], 1), &[4]).unwrap();
    x.to_zarr(&input, &WriteOptions::default(), &exec(1))
        .unwrap();
    let y = chunkwise::open(&input).unwrap().add(1).unwrap();
    let replace = WriteOptions {
        overwrite: Overwrite::Replace,
        ..WriteOptions::default()
    };
    let err = y
        .to_zarr(dir.path().join("data"), &replace, &exec(1))
        .unwrap_err();
    assert!(err.to_string().contains("contains or lies inside"), "{err}");
    assert!(input.join("zarr.json").exists(), "the input survived");
}
