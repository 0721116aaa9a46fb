//! OME-Zarr pyramids: every level equals the chained downsample (itself checked against
//! TensorStore in resample.rs), each input element is read once, metadata validates against the
//! NGFF schemas and zarr-python reads every level (v2/NGFF 0.4 and v3/NGFF 0.5).

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chunkwise::engine::store::{IoContext, MemorySource, Source};
use chunkwise::prelude::*;
use chunkwise::{ArrayMeta, Buffer, Region};
use common::{assert_same, exec, random_array};
use ndarray::ArrayD;

/// A source that counts the elements read through it.
#[derive(Debug)]
struct Counting {
    inner: MemorySource,
    elements: AtomicU64,
}

impl Source for Counting {
    fn meta(&self) -> &ArrayMeta {
        self.inner.meta()
    }
    fn describe(&self) -> String {
        "counting".into()
    }
    fn read(&self, region: &Region, io: &IoContext) -> chunkwise::Result<Buffer> {
        self.elements
            .fetch_add(region.num_elements(), Ordering::Relaxed);
        self.inner.read(region, io)
    }
}

fn levels_of(data: &ArrayD<u16>, n: usize, method: DownsampleMethod) -> Vec<ArrayD<u16>> {
    let mut out = vec![data.clone()];
    for k in 0..n {
        let shape: Vec<u64> = out[k].shape().iter().map(|&s| s as u64).collect();
        let prev = chunkwise::from_ndarray(out[k].clone(), &shape).unwrap();
        out.push(
            prev.downsample(&[2, 2, 2], method)
                .unwrap()
                .compute(&exec(1))
                .unwrap(),
        );
    }
    out
}

fn write_raw(dir: &Path, levels: &[ArrayD<u16>], format: ZarrFormat) {
    let mut meta = Vec::new();
    for (k, l) in levels.iter().enumerate() {
        let bytes: Vec<u8> = l.iter().flat_map(|v| v.to_le_bytes()).collect();
        std::fs::write(dir.join(format!("{k}.bin")), bytes).unwrap();
        meta.push(serde_json::json!({"dtype": "uint16", "shape": l.shape()}));
    }
    let fmt = if format == ZarrFormat::V2 { 2 } else { 3 };
    std::fs::write(
        dir.join("levels.json"),
        serde_json::json!({"zarr_format": fmt, "levels": meta}).to_string(),
    )
    .unwrap();
}

#[test]
fn pyramid_levels_are_right_read_once_and_valid_ome_zarr() {
    let data: ArrayD<u16> = random_array(&[37, 29, 18], 4);
    for format in [ZarrFormat::V2, ZarrFormat::V3] {
        for method in [DownsampleMethod::Mean, DownsampleMethod::Mode] {
            let want = levels_of(&data, 3, method);
            for threads in [1, 2, 7] {
                let dir = tempfile::tempdir().unwrap();
                let source = Arc::new(Counting {
                    inner: MemorySource::new(
                        Buffer::Uint16(data.iter().copied().collect()),
                        vec![37, 29, 18],
                        vec![8, 8, 8],
                    )
                    .unwrap(),
                    elements: AtomicU64::new(0),
                });
                let x = Array::from_source(source.clone());
                let options = PyramidOptions {
                    levels: 3,
                    method,
                    unit: Some("micrometer".into()),
                    scale: Some(vec![2.0, 0.5, 0.5]),
                    write: WriteOptions {
                        zarr_format: format,
                        chunks: Some(vec![8, 8, 8]),
                        ..WriteOptions::default()
                    },
                    ..PyramidOptions::default()
                };
                let image = dir.path().join("image.zarr");
                write_pyramid(&x, &image, &options, &exec(threads)).unwrap();
                assert_eq!(
                    source.elements.load(Ordering::Relaxed),
                    37 * 29 * 18,
                    "each input element read once"
                );
                for (k, level) in want.iter().enumerate() {
                    let got: ArrayD<u16> = chunkwise::open(image.join(k.to_string()))
                        .unwrap()
                        .compute(&exec(2))
                        .unwrap();
                    assert_same(
                        &got,
                        level,
                        &format!("{format:?} {method:?} level {k} threads {threads}"),
                    );
                }
                if threads == 2 {
                    write_raw(dir.path(), &want, format);
                    let py = std::env::var("CHUNKWISE_PYTHON").unwrap_or_else(|_| "python3".into());
                    let script =
                        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/check_pyramid.py");
                    let out = Command::new(py)
                        .arg(script)
                        .arg(dir.path())
                        .output()
                        .unwrap();
                    assert!(
                        out.status.success(),
                        "{}\n{}",
                        String::from_utf8_lossy(&out.stdout),
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
            }
        }
    }
}

#[test]
fn pyramid_refuses_existing_output_and_bad_options() {
    let dir = tempfile::tempdir().unwrap();
    let x = chunkwise::from_ndarray(random_array::<u8>(&[16, 16], 1), &[8, 8]).unwrap();
    let image = dir.path().join("p.zarr");
    write_pyramid(
        &x,
        &image,
        &PyramidOptions {
            levels: 2,
            ..PyramidOptions::default()
        },
        &exec(2),
    )
    .unwrap();
    let err = write_pyramid(&x, &image, &PyramidOptions::default(), &exec(2)).unwrap_err();
    assert!(matches!(err, chunkwise::Error::OutputExists(_)), "{err}");
    let err = write_pyramid(
        &x,
        dir.path().join("q.zarr"),
        &PyramidOptions {
            levels: 0,
            ..PyramidOptions::default()
        },
        &exec(2),
    )
    .unwrap_err();
    assert!(err.to_string().contains("at least 1"), "{err}");
    let one_d = chunkwise::from_ndarray(random_array::<u8>(&[16], 1), &[8]).unwrap();
    let err = write_pyramid(
        &one_d,
        dir.path().join("r.zarr"),
        &PyramidOptions::default(),
        &exec(2),
    )
    .unwrap_err();
    assert!(err.to_string().contains("2 to 5 axes"), "{err}");
    assert!(!dir.path().join("q.zarr").exists() && !dir.path().join("r.zarr").exists());
}

/// From a Zarr input stored as the pyramid stores its levels, level 0 is the input's stored
/// chunks copied byte for byte (decoded once for level 1); a corrupt input chunk still fails the
/// run and leaves nothing behind.
#[test]
fn level_zero_copies_stored_chunks_and_catches_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let data: ArrayD<u16> = random_array(&[21, 18, 11], 8);
    let input = dir.path().join("in.zarr");
    chunkwise::from_ndarray(data.clone(), &[21, 18, 11])
        .unwrap()
        .to_zarr(
            &input,
            &WriteOptions {
                chunks: Some(vec![8, 8, 8]),
                ..WriteOptions::default()
            },
            &exec(1),
        )
        .unwrap();
    let image = dir.path().join("image.zarr");
    let x = chunkwise::open(&input).unwrap();
    write_pyramid(
        &x,
        &image,
        &PyramidOptions {
            levels: 2,
            ..PyramidOptions::default()
        },
        &exec(2),
    )
    .unwrap();
    for key in ["c/0/0/0", "c/2/2/1", "c/1/0/1"] {
        assert_eq!(
            std::fs::read(input.join(key)).unwrap(),
            std::fs::read(image.join("0").join(key)).unwrap(),
            "{key}"
        );
    }
    let want = levels_of(&data, 2, DownsampleMethod::Mean);
    for (k, level) in want.iter().enumerate() {
        let got: ArrayD<u16> = chunkwise::open(image.join(k.to_string()))
            .unwrap()
            .compute(&exec(2))
            .unwrap();
        assert_same(&got, level, &format!("level {k}"));
    }
    std::fs::write(input.join("c/1/1/0"), b"not zstd").unwrap();
    let broken = dir.path().join("broken.zarr");
    let err = write_pyramid(
        &x,
        &broken,
        &PyramidOptions {
            levels: 2,
            ..PyramidOptions::default()
        },
        &exec(2),
    )
    .unwrap_err();
    assert!(err.to_string().contains("[1, 1, 0]"), "{err}");
    assert!(!broken.exists());
}
