//! OME-Zarr pyramids: every level equals the chained downsample (itself checked against
//! TensorStore in resample.rs), each input element is read once, metadata validates against the
//! NGFF schemas and zarr-python reads every level (v2/NGFF 0.4 and v3/NGFF 0.5).

mod common;

use chunkwise::prelude::*;
use chunkwise::Error;
use common::{assert_same, exec, random_array, CountingSource, Exact};
use ndarray::ArrayD;
use std::path::Path;
use std::process::Command;

/// The reference levels: level k+1 is the plain downsample of level k (each checked against
/// TensorStore in resample.rs), computed one level at a time on one thread.
fn levels_of<T: Exact>(
    data: &ArrayD<T>,
    n: usize,
    factors: &[u64],
    method: DownsampleMethod,
) -> Vec<ArrayD<T>> {
    let mut out = vec![data.clone()];
    for k in 0..n {
        let shape: Vec<u64> = out[k].shape().iter().map(|&s| s as u64).collect();
        let prev = chunkwise::from_ndarray(out[k].clone(), &shape).unwrap();
        out.push(
            prev.downsample(factors, method)
                .unwrap()
                .compute(&exec(1))
                .unwrap(),
        );
    }
    out
}

/// Asserts that the pyramid at `image` holds `want` as levels 0, 1, ..., read back from Zarr,
/// and that no level keeps a resume journal.
fn assert_levels<T: Exact>(image: &Path, want: &[ArrayD<T>], context: &str) {
    for (k, level) in want.iter().enumerate() {
        let level_dir = image.join(k.to_string());
        let got: ArrayD<T> = chunkwise::open(&level_dir)
            .unwrap()
            .compute(&exec(2))
            .unwrap();
        assert_same(&got, level, &format!("{context}, level {k}"));
        assert!(!chunkwise::store::holds_unfinished_run(&level_dir));
    }
}

/// Default options with `levels` levels, resuming.
fn resuming(levels: usize) -> PyramidOptions {
    PyramidOptions {
        levels,
        write: WriteOptions {
            overwrite: Overwrite::Resume,
            ..WriteOptions::default()
        },
        ..PyramidOptions::default()
    }
}

/// Writes what check_pyramid.py compares against: each level's raw values, and the scale and
/// unit each level's metadata must give.
fn write_expected<T: Exact>(
    dir: &Path,
    levels: &[ArrayD<T>],
    format: ZarrFormat,
    scales: &[Vec<f64>],
    unit: Option<&str>,
) {
    let mut meta = Vec::new();
    for (k, l) in levels.iter().enumerate() {
        let buffer = T::into_buffer(l.iter().copied().collect());
        std::fs::write(dir.join(format!("{k}.bin")), buffer.to_le_bytes()).unwrap();
        meta.push(serde_json::json!({
            "dtype": T::DTYPE.name(),
            "shape": l.shape(),
            "scale": scales[k],
        }));
    }
    let fmt = if format == ZarrFormat::V2 { 2 } else { 3 };
    std::fs::write(
        dir.join("levels.json"),
        serde_json::json!({"zarr_format": fmt, "levels": meta, "unit": unit}).to_string(),
    )
    .unwrap();
}

/// Runs tests/python/check_pyramid.py on `dir` (holding image.zarr and the expected values).
fn check_with_python(dir: &Path) {
    let py = std::env::var("CHUNKWISE_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/check_pyramid.py");
    let out = Command::new(py).arg(script).arg(dir).output().unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn pyramid_levels_are_right_read_once_and_valid_ome_zarr() {
    let data: ArrayD<u16> = random_array(&[37, 29, 18], 4);
    for format in [ZarrFormat::V2, ZarrFormat::V3] {
        for method in [DownsampleMethod::Mean, DownsampleMethod::Mode] {
            let want = levels_of(&data, 3, &[2, 2, 2], method);
            for threads in [1, 2, 7] {
                let dir = tempfile::tempdir().unwrap();
                let source = CountingSource::new(&data, &[8, 8, 8]);
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
                    source.elements_read(),
                    37 * 29 * 18,
                    "each input element read once"
                );
                assert_levels(
                    &image,
                    &want,
                    &format!("{format:?} {method:?} threads {threads}"),
                );
                if threads == 2 {
                    let scales: Vec<Vec<f64>> = (0..4)
                        .map(|k| {
                            let f = f64::from(1u32 << k);
                            vec![2.0 * f, 0.5 * f, 0.5 * f]
                        })
                        .collect();
                    write_expected(dir.path(), &want, format, &scales, Some("micrometer"));
                    check_with_python(dir.path());
                }
            }
        }
    }
}

/// One pyramid case beyond 3-D uint16: its data, options and the scales its levels must carry.
fn check_case<T: Exact>(
    data: &ArrayD<T>,
    chunks: &[u64],
    options: &PyramidOptions,
    factors: &[u64],
    with_python: bool,
) {
    let want = levels_of(data, options.levels, factors, options.method);
    let scales: Vec<Vec<f64>> = (0..=options.levels)
        .map(|k| {
            let base = options.scale.clone().unwrap_or(vec![1.0; data.ndim()]);
            base.iter()
                .zip(factors)
                .map(|(s, &f)| s * (f as f64).powi(k as i32))
                .collect()
        })
        .collect();
    for threads in [1, 2] {
        let dir = tempfile::tempdir().unwrap();
        let x = chunkwise::from_ndarray(data.clone(), chunks).unwrap();
        let image = dir.path().join("image.zarr");
        write_pyramid(&x, &image, options, &exec(threads)).unwrap();
        assert_levels(&image, &want, &format!("{options:?} threads {threads}"));
        if with_python && threads == 2 {
            let format = options.write.zarr_format;
            write_expected(dir.path(), &want, format, &scales, options.unit.as_deref());
            check_with_python(dir.path());
        }
    }
}

/// 4-D with a channel axis (never downsampled by default), 5-D, 2-D, sharded levels, custom
/// factors and named axes, float and signed data, and max, median, min and stride: every level equals the chained
/// downsample, and the NGFF metadata (scale per level, units, v2 `/` keys) passes
/// check_pyramid.py.
#[test]
fn pyramids_of_channels_planes_floats_and_every_method() {
    let volume: ArrayD<f32> = random_array(&[3, 21, 17, 9], 11);
    for format in [ZarrFormat::V2, ZarrFormat::V3] {
        let options = PyramidOptions {
            levels: 2,
            method: DownsampleMethod::Max,
            unit: Some("nanometer".into()),
            scale: Some(vec![1.0, 4.0, 0.25, 0.25]),
            write: WriteOptions {
                zarr_format: format,
                chunks: Some(vec![2, 8, 8, 4]),
                ..WriteOptions::default()
            },
            ..PyramidOptions::default()
        };
        check_case(&volume, &[3, 5, 6, 4], &options, &[1, 2, 2, 2], true);
    }
    let stack: ArrayD<i16> = random_array(&[2, 3, 19, 26, 13], 12);
    let options = PyramidOptions {
        levels: 2,
        method: DownsampleMethod::Median,
        factors: Some(vec![1, 1, 1, 3, 2]),
        axes: Some(
            ["t", "stain:channel", "z", "y", "x"]
                .map(String::from)
                .to_vec(),
        ),
        ..PyramidOptions::default()
    };
    check_case(&stack, &[1, 2, 7, 8, 8], &options, &[1, 1, 1, 3, 2], true);
    // Sharded levels (one file per shard; shards larger than the small levels).
    let sharded: ArrayD<u16> = random_array(&[40, 36, 33], 14);
    let options = PyramidOptions {
        levels: 3,
        write: WriteOptions {
            chunks: Some(vec![4, 4, 4]),
            shards: Some(vec![16, 16, 8]),
            ..WriteOptions::default()
        },
        ..PyramidOptions::default()
    };
    check_case(&sharded, &[8, 8, 8], &options, &[2, 2, 2], true);
    let plane: ArrayD<u8> = random_array(&[45, 31], 13);
    for method in [DownsampleMethod::Min, DownsampleMethod::Stride] {
        let options = PyramidOptions {
            levels: 3,
            method,
            axes: Some(vec!["row".into(), "col".into()]),
            write: WriteOptions {
                chunks: Some(vec![16, 8]),
                ..WriteOptions::default()
            },
            ..PyramidOptions::default()
        };
        check_case(
            &plane,
            &[10, 10],
            &options,
            &[2, 2],
            method == DownsampleMethod::Min,
        );
    }
}

/// Under a memory limit of an eighth of the volume, levels are still exact: results held for the
/// next level go to disk instead.
#[test]
fn pyramid_under_a_tight_memory_limit_spills_and_stays_exact() {
    let data: ArrayD<u16> = random_array(&[96, 80, 61], 21);
    let want = levels_of(&data, 3, &[2, 2, 2], DownsampleMethod::Mean);
    for threads in [1, 2] {
        let dir = tempfile::tempdir().unwrap();
        let x = chunkwise::from_ndarray(data.clone(), &[16, 16, 16]).unwrap();
        let image = dir.path().join("image.zarr");
        let tight = ExecOptions {
            memory_limit: 128 << 10,
            ..exec(threads)
        };
        let stats = write_pyramid(&x, &image, &PyramidOptions::default(), &tight).unwrap();
        assert!(stats.spilled_bytes > 0, "the limit should force spilling");
        assert!(stats.peak_projected_bytes <= 128 << 10, "{stats:?}");
        assert_levels(&image, &want, &format!("threads {threads}"));
    }
}

/// A pyramid replaces its whole group: a group that holds the input, or lies inside it, is
/// refused before anything is deleted.
#[test]
fn pyramid_never_replaces_its_own_input() {
    let dir = tempfile::tempdir().unwrap();
    let group = dir.path().join("img.zarr");
    let raw = group.join("raw");
    let data: ArrayD<u8> = random_array(&[20, 20], 3);
    chunkwise::from_ndarray(data.clone(), &[8, 8])
        .unwrap()
        .to_zarr(&raw, &WriteOptions::default(), &exec(1))
        .unwrap();
    let replace = PyramidOptions {
        write: WriteOptions {
            overwrite: Overwrite::Replace,
            ..WriteOptions::default()
        },
        levels: 1,
        ..PyramidOptions::default()
    };
    let x = chunkwise::open(&raw).unwrap();
    for output in [group.clone(), raw.clone(), raw.join("pyramid")] {
        let err = write_pyramid(&x, &output, &replace, &exec(2)).unwrap_err();
        assert!(err.to_string().contains("is an input"), "{err}");
    }
    let kept: ArrayD<u8> = chunkwise::open(&raw).unwrap().compute(&exec(1)).unwrap();
    assert_same(&kept, &data, "the input after the refusals");
}

#[test]
fn pyramid_options_ngff_forbids_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let x = chunkwise::from_ndarray(random_array::<u8>(&[16, 12], 1), &[8, 8]).unwrap();
    type Edit = fn(&mut PyramidOptions);
    let cases: [(Edit, &str); 8] = [
        (|o| o.levels = 5, "level 5 would repeat level 4"),
        (|o| o.unit = Some("um".into()), "not an NGFF space unit"),
        (
            |o| o.scale = Some(vec![1.0, 0.0]),
            "not a positive pixel size",
        ),
        (
            |o| o.factors = Some(vec![2, 2, 2]),
            "one value per axis (2)",
        ),
        (|o| o.factors = Some(vec![1, 1]), "needs a factor above 1"),
        (|o| o.factors = Some(vec![0, 2]), "factor"),
        (
            |o| o.axes = Some(vec!["c".into(), "x".into()]),
            "2 or 3 space axes",
        ),
        (
            |o| o.axes = Some(vec!["x".into()]),
            "1 axis names given for a 2-d array",
        ),
    ];
    for (k, (edit, want)) in cases.iter().enumerate() {
        let mut options = PyramidOptions::default();
        edit(&mut options);
        let output = dir.path().join(format!("p{k}.zarr"));
        let err = write_pyramid(&x, &output, &options, &exec(2)).unwrap_err();
        assert!(err.to_string().contains(want), "{options:?}: {err}");
        assert!(!output.exists(), "{options:?} left {}", output.display());
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
    let want = levels_of(&data, 2, &[2, 2, 2], DownsampleMethod::Mean);
    assert_levels(&image, &want, "from stored chunks");
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

/// A pyramid that fails mid-run under resume keeps what it stored; once the input is repaired,
/// resuming skips the stored blocks and gives the levels of an uninterrupted run. A complete
/// pyramid, or an unfinished one of another method, is not resumed.
#[test]
fn an_interrupted_pyramid_resumes_from_what_it_stored() {
    let dir = common::dir_with_input(&[40, 36, 33], &[8, 8, 8], 31);
    let input = dir.path().join("in.zarr");
    let x = chunkwise::open(&input).unwrap();
    let data: ArrayD<u16> = x.compute(&exec(1)).unwrap();
    let want = levels_of(&data, 2, &[2, 2, 2], DownsampleMethod::Mean);
    let resume = resuming(2);
    let image = dir.path().join("image.zarr");
    // Depth first in Morton order: the last chunk is read last, after most blocks are done.
    let chunk = input.join("c/4/4/4");
    let stored = std::fs::read(&chunk).unwrap();
    std::fs::write(&chunk, b"not zstd").unwrap();
    let err = write_pyramid(&x, &image, &resume, &exec(2)).unwrap_err();
    assert!(err.to_string().contains("[4, 4, 4]"), "{err}");
    assert!(image.join("0").exists() && !image.join("zarr.json").exists());
    std::fs::write(&chunk, stored).unwrap();

    let other = PyramidOptions {
        method: DownsampleMethod::Max,
        ..resuming(2)
    };
    let err = write_pyramid(&x, &image, &other, &exec(2)).unwrap_err();
    assert!(err.to_string().contains("another pipeline"), "{err}");
    let fewer = resuming(1);
    let err = write_pyramid(&x, &image, &fewer, &exec(2)).unwrap_err();
    assert!(err.to_string().contains("more than 1 levels"), "{err}");
    assert!(matches!(err, Error::NotResumable { .. }), "{err:?}");
    assert_no_flag_named(&err);
    // Neither resuming nor replacing: the interrupted pyramid is named as such, in library words.
    let refuse = PyramidOptions {
        write: WriteOptions::default(),
        ..resuming(2)
    };
    let err = write_pyramid(&x, &image, &refuse, &exec(2)).unwrap_err();
    assert!(
        matches!(
            err,
            Error::UnfinishedOutput {
                what: "pyramid",
                ..
            }
        ),
        "{err:?}"
    );
    assert_no_flag_named(&err);

    let stats = write_pyramid(&x, &image, &resume, &exec(2)).unwrap();
    assert!(
        stats.skipped_tasks > stats.tasks / 2 && stats.skipped_tasks < stats.tasks,
        "{} of {} tasks skipped",
        stats.skipped_tasks,
        stats.tasks
    );
    assert_levels(&image, &want, "resumed");
    let err = write_pyramid(&x, &image, &resume, &exec(2)).unwrap_err();
    assert!(err.to_string().contains("complete pyramid"), "{err}");
    assert!(matches!(err, Error::NotResumable { .. }), "{err:?}");
    assert_no_flag_named(&err);
}

/// The library states facts; which command-line flag or Python argument helps is the front
/// end's to say.
fn assert_no_flag_named(err: &Error) {
    let text = err.to_string();
    for advice in ["--", "=True", "pass "] {
        assert!(
            !text.contains(advice),
            "{advice:?} in the library's error: {text}"
        );
    }
}

/// Opening the pyramid's group instead of one of its arrays names the array to give.
#[test]
fn opening_the_image_group_points_to_its_full_resolution_array() {
    let dir = tempfile::tempdir().unwrap();
    let x = chunkwise::from_ndarray(random_array::<u8>(&[16, 16], 1), &[8, 8]).unwrap();
    for format in [ZarrFormat::V2, ZarrFormat::V3] {
        let image = dir.path().join(format!("{format:?}.zarr"));
        let options = PyramidOptions {
            levels: 1,
            write: WriteOptions {
                zarr_format: format,
                ..WriteOptions::default()
            },
            ..PyramidOptions::default()
        };
        write_pyramid(&x, &image, &options, &exec(1)).unwrap();
        let err = chunkwise::open(&image).unwrap_err().to_string();
        let level0 = image.join("0").display().to_string();
        assert!(
            err.contains("OME-Zarr image") && err.contains(&level0),
            "{err}"
        );
        // A group that is not an image lists its arrays.
        std::fs::remove_file(image.join(if format == ZarrFormat::V2 {
            ".zattrs"
        } else {
            "zarr.json"
        }))
        .unwrap();
        if format == ZarrFormat::V3 {
            std::fs::write(
                image.join("zarr.json"),
                r#"{"zarr_format": 3, "node_type": "group", "attributes": {}}"#,
            )
            .unwrap();
        }
        let err = chunkwise::open(&image).unwrap_err().to_string();
        assert!(err.contains("arrays inside: 0, 1"), "{err}");
    }
}

/// A pyramid stopped after its levels were finished but before the group metadata (here: the
/// group's `zarr.json` cannot be written) resumes: the finished levels keep their journals until
/// the group is written, so nothing is recomputed and nothing is refused.
#[test]
fn a_pyramid_stopped_before_its_group_metadata_resumes() {
    let dir = common::dir_with_input(&[20, 18, 17], &[8, 8, 8], 41);
    let input = dir.path().join("in.zarr");
    let x = chunkwise::open(&input).unwrap();
    let data: ArrayD<u16> = x.compute(&exec(1)).unwrap();
    let image = dir.path().join("image.zarr");
    let resume = resuming(2);
    // First an interrupted run (a corrupt input chunk), so that the output holds its journals.
    let chunk = input.join("c/2/2/2");
    let stored = std::fs::read(&chunk).unwrap();
    std::fs::write(&chunk, b"not zstd").unwrap();
    write_pyramid(&x, &image, &resume, &exec(2)).unwrap_err();
    std::fs::write(&chunk, stored).unwrap();
    // Then a directory where the group's zarr.json goes: the resumed run's last write fails.
    std::fs::create_dir_all(image.join("zarr.json")).unwrap();
    let err = write_pyramid(&x, &image, &resume, &exec(2)).unwrap_err();
    assert!(err.to_string().contains("metadata"), "{err}");
    assert!(image.join("2/zarr.json").is_file(), "levels were finished");
    std::fs::remove_dir(image.join("zarr.json")).unwrap();

    let stats = write_pyramid(&x, &image, &resume, &exec(2)).unwrap();
    assert_eq!(stats.skipped_tasks, stats.tasks, "everything was stored");
    let want = levels_of(&data, 2, &[2, 2, 2], DownsampleMethod::Mean);
    assert_levels(&image, &want, "resumed after the group failed");
    let err = write_pyramid(&x, &image, &resume, &exec(2)).unwrap_err();
    assert!(err.to_string().contains("complete pyramid"), "{err}");
}

/// `--resume` writes only into what an interrupted pyramid left: an existing array (v2 or v3)
/// or other data at the output is refused and left as it was.
#[test]
fn resume_never_writes_into_an_array_or_other_data() {
    let dir = tempfile::tempdir().unwrap();
    let data: ArrayD<u8> = random_array(&[16, 16], 2);
    let x = chunkwise::from_ndarray(data.clone(), &[8, 8]).unwrap();
    let resume = resuming(1);
    for format in [ZarrFormat::V2, ZarrFormat::V3] {
        let array = dir.path().join(format!("{format:?}.zarr"));
        let write = WriteOptions {
            zarr_format: format,
            ..WriteOptions::default()
        };
        x.to_zarr(&array, &write, &exec(1)).unwrap();
        let listing = || {
            let mut names: Vec<_> = std::fs::read_dir(&array)
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            names.sort();
            names
        };
        let before = listing();
        let err = write_pyramid(&x, &array, &resume, &exec(1)).unwrap_err();
        assert!(err.to_string().contains("no unfinished pyramid"), "{err}");
        let kept: ArrayD<u8> = chunkwise::open(&array).unwrap().compute(&exec(1)).unwrap();
        assert_same(&kept, &data, &format!("{format:?} array after the refusal"));
        assert_eq!(listing(), before, "{format:?}: nothing added");
    }
    let other = dir.path().join("notes");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("readme.txt"), "mine").unwrap();
    let err = write_pyramid(&x, &other, &resume, &exec(1)).unwrap_err();
    assert!(err.to_string().contains("no unfinished pyramid"), "{err}");
    // An empty folder is a fresh start.
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    write_pyramid(&x, &empty, &resume, &exec(1)).unwrap();
}
