//! The run's identity: `--resume` continues only an output that the same computation started.
//! For every op, changing any one parameter makes `--resume` refuse with a line naming the step
//! and the parameter; a changed input or other output settings are refused too; the same
//! pipeline resumes; a plain rerun of an unfinished run points to `--resume`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use chunkwise::engine::identity;
use chunkwise::ArrayExt;
use serde_json::{json, Value};

fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chunkwise"))
        .args(args)
        .output()
        .expect("the binary runs")
}

/// A pipeline computing `step` (with id `y`) from the uint16 input `vol`, written to out.zarr.
fn pipeline(dir: &Path, name: &str, step: &Value, output: &Value) -> PathBuf {
    let mut step = step.clone();
    step["id"] = json!("y");
    let mut out = output.clone();
    out["from"] = json!("y");
    out["path"] = json!("out.zarr");
    let p = json!({"inputs": {"vol": "in.zarr"}, "steps": [step], "outputs": [out]});
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(&p).unwrap()).unwrap();
    path
}

/// `base` with the keys of `patch` set (a null removes the key).
fn patched(base: &Value, patch: &Value) -> Value {
    let mut v = base.clone();
    for (k, x) in patch.as_object().unwrap() {
        match x {
            Value::Null => {
                v.as_object_mut().unwrap().remove(k);
            }
            x => v[k] = x.clone(),
        }
    }
    v
}

/// Leaves an unfinished run of `p` in out.zarr: the run fails on a corrupt input chunk, and
/// under `--resume` it keeps its journal. The chunk is restored afterwards.
fn interrupt(dir: &Path, p: &Path) {
    let _ = std::fs::remove_dir_all(dir.join("out.zarr"));
    let chunk = dir.join("in.zarr/c/1/1/1");
    let stored = std::fs::read(&chunk).unwrap();
    std::fs::write(&chunk, b"not zstd").unwrap();
    let failed = cli(&["run", p.to_str().unwrap(), "-q", "--resume"]);
    std::fs::write(&chunk, stored).unwrap();
    assert_eq!(
        failed.status.code(),
        Some(1),
        "{}: the run over a corrupt chunk fails",
        p.display()
    );
    assert!(dir.join("out.zarr/.chunkwise-run.json").exists());
}

/// Runs `p` with `--resume` and returns its error line, asserting that it was refused.
fn refusal(p: &Path) -> String {
    let out = cli(&["run", p.to_str().unwrap(), "-q", "--resume"]);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(1), "{}: {stderr}", p.display());
    assert!(stderr.contains("another pipeline"), "{stderr}");
    stderr
}

/// One op: its step from `vol`, then each change of one parameter with the words the refusal
/// must contain.
struct Case {
    step: Value,
    changes: Vec<(Value, &'static str)>,
}

fn cases() -> Vec<Case> {
    let case = |step: Value, changes: Vec<(Value, &'static str)>| Case { step, changes };
    // Every stencil: the boundary mode and the output type.
    let with_common = |step: Value, mut changes: Vec<(Value, &'static str)>| {
        changes.push((json!({"mode": "nearest"}), "mode was reflect, now nearest"));
        changes.push((
            json!({"output": "float64"}),
            "output was float32, now float64",
        ));
        case(step, changes)
    };
    let weights = json!([[[1, 2, 1]], [[2, 4, 2]], [[1, 2, 1]]]);
    let weights5 = json!([[[1, 2, 1]], [[2, 5, 2]], [[1, 2, 1]]]);
    vec![
        case(
            json!({"op": "astype", "x": "vol", "dtype": "float32"}),
            vec![(
                json!({"dtype": "float64"}),
                "astype (expression node 2): dtype was float32, now float64",
            )],
        ),
        case(
            json!({"op": "clip", "x": "vol", "min": 100, "max": 60000}),
            vec![
                (
                    json!({"min": 101}),
                    "clip (expression node 2): min was 100, now 101",
                ),
                (json!({"max": 59999}), "max was 60000, now 59999"),
                (json!({"max": null}), "max was 60000, now unset"),
            ],
        ),
        case(
            json!({"op": "threshold", "x": "vol", "value": 30000}),
            vec![(json!({"value": 30001}), "value was 30000, now 30001")],
        ),
        case(
            json!({"op": "add", "x": "vol", "y": 3}),
            vec![
                (
                    json!({"y": 4}),
                    "add (expression node 2): scalar was 3, now 4",
                ),
                (
                    json!({"x": 3, "y": "vol"}),
                    "scalar_first was false, now true",
                ),
                (json!({"op": "sub"}), "expression node 2 was add, now sub"),
            ],
        ),
        case(
            json!({"op": "mul", "x": "vol", "y": "vol"}),
            vec![(
                json!({"op": "maximum"}),
                "expression node 2 was mul, now maximum",
            )],
        ),
        case(
            json!({"op": "sqrt", "x": "vol"}),
            vec![(json!({"op": "log"}), "was sqrt, now log")],
        ),
        case(
            json!({"op": "where", "mask": "vol", "a": 1, "b": 0}),
            vec![
                (json!({"a": 2}), "a was 1, now 2"),
                (json!({"b": 1.5}), "b was 0, now 1.5"),
            ],
        ),
        case(
            json!({"op": "downsample", "x": "vol", "factors": [2, 2, 2]}),
            vec![
                (json!({"factors": [2, 2, 3]}), "factors[2] was 2, now 3"),
                (json!({"method": "max"}), "method was mean, now max"),
            ],
        ),
        case(
            json!({"op": "upsample", "x": "vol", "factors": [2, 1, 1]}),
            vec![
                (json!({"factors": [1, 1, 2]}), "factors[0] was 2, now 1"),
                (
                    json!({"method": "linear"}),
                    "method was nearest, now linear",
                ),
            ],
        ),
        with_common(
            json!({"op": "gaussian_filter", "x": "vol", "sigma": 1.0}),
            vec![
                (
                    json!({"sigma": [1.0, 1.0, 1.5]}),
                    "sigma[2] was 1.0, now 1.5",
                ),
                (json!({"truncate": 3.0}), "truncate was 4.0, now 3.0"),
                (
                    json!({"mode": "constant", "cval": 7.0}),
                    "mode was reflect, now constant",
                ),
            ],
        ),
        case(
            json!({"op": "gaussian_filter", "x": "vol", "sigma": 1.0, "mode": "constant"}),
            vec![(json!({"cval": 2.5}), "cval was 0.0, now 2.5")],
        ),
        with_common(
            json!({"op": "uniform_filter", "x": "vol", "size": 3}),
            vec![
                (json!({"size": [3, 3, 5]}), "size[2] was 3, now 5"),
                (json!({"origin": [0, 1, 0]}), "origin[1] was 0, now 1"),
            ],
        ),
        // The case the issue found: one weight of a full kernel.
        with_common(
            json!({"op": "correlate", "x": "vol", "weights": weights}),
            vec![
                (
                    json!({"weights": weights5}),
                    "correlate (expression node 2): weights[4] was 4.0, now 5.0",
                ),
                (json!({"origin": [1, 0, 0]}), "origin[0] was 0, now 1"),
            ],
        ),
        with_common(
            json!({"op": "convolve", "x": "vol", "kernels": [[1, 2], [1], [1, 1, 1]]}),
            vec![
                (
                    json!({"kernels": [[1, 3], [1], [1, 1, 1]]}),
                    "kernels[0][1] was 2.0, now 3.0",
                ),
                (json!({"origin": [-1, 0, 0]}), "origin[0] was 0, now -1"),
            ],
        ),
        with_common(
            json!({"op": "median_filter", "x": "vol", "size": 3}),
            vec![(json!({"size": [3, 1, 3]}), "size[1] was 3, now 1")],
        ),
        with_common(
            json!({"op": "minimum_filter", "x": "vol",
                   "footprint": [[[1, 0, 1]], [[0, 1, 0]]]}),
            vec![(
                json!({"footprint": [[[1, 0, 1]], [[1, 1, 0]]]}),
                "footprint[3] was false, now true",
            )],
        ),
        with_common(
            json!({"op": "maximum_filter", "x": "vol", "size": 2}),
            vec![(json!({"origin": -1}), "origin[0] was 0, now -1")],
        ),
        with_common(
            json!({"op": "sobel", "x": "vol"}),
            vec![(json!({"axis": 0}), "axis was 2, now 0")],
        ),
        with_common(json!({"op": "laplace", "x": "vol"}), vec![]),
        with_common(
            json!({"op": "gaussian_gradient_magnitude", "x": "vol", "sigma": 1.0}),
            vec![(json!({"truncate": 2.0}), "truncate was 4.0, now 2.0")],
        ),
    ]
}

#[test]
fn changing_any_parameter_of_any_op_is_refused_naming_it_and_the_same_pipeline_resumes() {
    let dir = common::dir_with_input(&[20, 17, 18], &[8, 8, 8], 21);
    let output = json!({"chunks": [8, 8, 8]});
    let mut checked = 0;
    for (k, case) in cases().iter().enumerate() {
        let base = pipeline(dir.path(), &format!("base{k}.json"), &case.step, &output);
        interrupt(dir.path(), &base);
        for (j, (patch, want)) in case.changes.iter().enumerate() {
            let step = patched(&case.step, patch);
            let changed = pipeline(dir.path(), &format!("changed{k}_{j}.json"), &step, &output);
            let line = refusal(&changed);
            assert!(
                line.contains(want),
                "{}: {patch} should be named as \"{want}\"; got: {line}",
                case.step["op"]
            );
            checked += 1;
        }
        let resumed = cli(&["run", base.to_str().unwrap(), "-q", "--resume"]);
        assert!(
            resumed.status.success(),
            "{}: {}",
            case.step["op"],
            String::from_utf8_lossy(&resumed.stderr)
        );
        assert!(!dir.path().join("out.zarr/.chunkwise-run.json").exists());
    }
    assert!(checked >= 40, "only {checked} changes checked");
}

#[test]
fn other_output_settings_or_a_changed_input_are_refused_naming_them() {
    let dir = common::dir_with_input(&[20, 17, 18], &[8, 8, 8], 22);
    let step = json!({"op": "clip", "x": "vol", "min": 10});
    let output = json!({"chunks": [8, 8, 8], "codec": {"name": "zstd", "level": 1}});
    let base = pipeline(dir.path(), "base.json", &step, &output);
    interrupt(dir.path(), &base);

    for (patch, want) in [
        (
            json!({"codec": {"name": "zstd", "level": 3}}),
            "level was 1, now 3",
        ),
        (json!({"chunks": [8, 8, 4]}), "the output settings differ"),
        (json!({"zarr_format": 2}), "the output settings differ"),
    ] {
        let changed = pipeline(dir.path(), "changed.json", &step, &patched(&output, &patch));
        let line = refusal(&changed);
        assert!(line.contains(want), "{patch}: want \"{want}\" in {line}");
    }

    // The same values, stored with other chunks: another input.
    let input = dir.path().join("in.zarr");
    let moved = dir.path().join("in-8.zarr");
    std::fs::rename(&input, &moved).unwrap();
    let data: ndarray::ArrayD<u16> = chunkwise::open(&moved)
        .unwrap()
        .compute(&common::exec(1))
        .unwrap();
    chunkwise::from_ndarray(data, &[4, 8, 8])
        .unwrap()
        .to_zarr(
            &input,
            &chunkwise::store::WriteOptions::default(),
            &common::exec(1),
        )
        .unwrap();
    let line = refusal(&base);
    assert!(
        line.contains("input") && line.contains("in.zarr differs") && line.contains("[0] was 8"),
        "{line}"
    );
    std::fs::remove_dir_all(&input).unwrap();
    std::fs::rename(&moved, &input).unwrap();

    // A plain rerun of the same pipeline says what is there and names --resume; another
    // pipeline gets the usual refusal of an existing output.
    let rerun = cli(&["run", base.to_str().unwrap(), "-q"]);
    let line = String::from_utf8_lossy(&rerun.stderr);
    assert_eq!(rerun.status.code(), Some(1));
    assert!(
        line.contains("unfinished run of this same pipeline") && line.contains("--resume"),
        "{line}"
    );
    let other = pipeline(
        dir.path(),
        "other.json",
        &patched(&step, &json!({"min": 11})),
        &output,
    );
    let line =
        String::from_utf8_lossy(&cli(&["run", other.to_str().unwrap(), "-q"]).stderr).to_string();
    assert!(line.contains("already exists"), "{line}");
    assert!(cli(&["run", base.to_str().unwrap(), "-q", "--resume"])
        .status
        .success());
}

#[test]
fn an_in_memory_input_is_identified_by_its_contents() {
    let a: ndarray::ArrayD<u16> = common::random_array(&[9, 7], 1);
    let mut b = a.clone();
    b[[8, 6]] = b[[8, 6]].wrapping_add(1);
    let id = |x: &ndarray::ArrayD<u16>, chunks: &[u64]| {
        identity::hash(&identity::expression(
            &chunkwise::from_ndarray(x.clone(), chunks).unwrap(),
        ))
    };
    assert_eq!(id(&a, &[4, 4]), id(&a, &[4, 4]));
    assert_ne!(id(&a, &[4, 4]), id(&b, &[4, 4]), "one element changed");
    assert_ne!(id(&a, &[4, 4]), id(&a, &[3, 4]), "other chunks");
}
