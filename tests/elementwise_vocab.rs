//! The array API element-wise vocabulary (issue 18) against NumPy 2: every function on every
//! dtype, every dtype pair of the binary functions (promotion), Python scalars in and out of
//! range on either side, NaN/inf/-0.0 (tests/fixtures/elementwise/vocab, made by
//! make_fixtures.py). Each case runs through the builders on a 7x9 array with a chunking that does
//! not divide it and a thread count, both rotating over the cases; a case NumPy refuses must fail
//! in chunkwise too (when built or when computed). Float results are bit-identical except for the
//! transcendental functions, which may differ from NumPy's SIMD versions in the last bits (the
//! manifest gives the tolerance in ulps).

mod common;

use std::path::PathBuf;

use chunkwise::engine::dispatch;
use chunkwise::ops::elementwise::{
    self as ew, Arith, BitOp, Comparison, LogicalOp, Operand, Predicate, UnaryFn,
};
use chunkwise::prelude::*;
use chunkwise::Buffer;
use common::{buffer_array, exec, Exact, THREADS};
use ndarray::ArrayD;
use serde_json::Value;

const CHUNKINGS: [[u64; 2]; 4] = [[3, 4], [7, 9], [2, 5], [1, 9]];

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/elementwise/vocab")
}

struct Fixtures {
    manifest: Value,
    data: Vec<u8>,
    shape: Vec<usize>,
}

fn fixtures() -> Fixtures {
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(dir().join("manifest.json")).unwrap())
            .unwrap();
    let data = std::fs::read(dir().join("data.bin")).unwrap();
    let shape = manifest["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    Fixtures {
        manifest,
        data,
        shape,
    }
}

impl Fixtures {
    /// The values a `{dtype, offset, len}` entry points at.
    fn buffer(&self, entry: &Value) -> Buffer {
        let start = entry["offset"].as_u64().unwrap() as usize;
        let end = start + entry["len"].as_u64().unwrap() as usize;
        let tmp = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(tmp.path(), &self.data[start..end]).unwrap();
        common::load_le(tmp.path(), entry["dtype"].as_str().unwrap())
    }

    /// An operand in `chunks`, or for an array of its own shape (the broadcasting cases) in
    /// chunks of about `1 / parts` of each axis.
    fn operand(&self, spec: &Value, chunks: &[u64], parts: u64) -> Operand {
        if let Some(name) = spec.get("array") {
            let entry = &self.manifest["arrays"][name.as_str().unwrap()];
            if let Some(shape) = entry.get("shape").and_then(Value::as_array) {
                let shape: Vec<usize> =
                    shape.iter().map(|v| v.as_u64().unwrap() as usize).collect();
                let chunks: Vec<u64> = shape
                    .iter()
                    .map(|&n| (n as u64).div_ceil(parts).max(1))
                    .collect();
                return Operand::Array(buffer_array(self.buffer(entry), &shape, &chunks));
            }
            Operand::Array(buffer_array(self.buffer(entry), &self.shape, chunks))
        } else {
            Operand::Scalar(serde_json::from_value(spec["scalar"].clone()).unwrap())
        }
    }
}

/// The builder of a function by its pipeline-file name.
fn build(
    name: &str,
    x: Operand,
    y: Option<Operand>,
    z: Option<Operand>,
) -> chunkwise::Result<Array> {
    if let (Operand::Array(mask), Some(a), Some(b)) = (&x, y.clone(), z) {
        assert_eq!(name, "where");
        return ew::where_(mask, a, b);
    }
    let Some(y) = y else {
        let Operand::Array(x) = x else {
            panic!("{name}: a unary function of a scalar")
        };
        if let Some(f) = UnaryFn::ALL.into_iter().find(|f| f.name() == name) {
            return ew::unary(f, &x);
        }
        if let Some(f) = Predicate::ALL.into_iter().find(|f| f.name() == name) {
            return ew::predicate(f, &x);
        }
        return match name {
            "positive" => x.positive(),
            "logical_not" => x.logical_not(),
            "bitwise_invert" => x.bitwise_invert(),
            _ => panic!("unknown unary function {name}"),
        };
    };
    if let Some(op) = Arith::ALL.into_iter().find(|o| o.name() == name) {
        return ew::binary(op, x, y);
    }
    if let Some(op) = Comparison::ALL.into_iter().find(|o| o.name() == name) {
        return ew::comparison(op, x, y);
    }
    if let Some(op) = LogicalOp::ALL.into_iter().find(|o| o.name() == name) {
        return ew::logical(op, x, y);
    }
    if let Some(op) = BitOp::ALL.into_iter().find(|o| o.name() == name) {
        return ew::bitwise(op, x, y);
    }
    panic!("unknown binary function {name}")
}

/// Distance in units of the last place between two values of one type (0 when [`Exact`]ly
/// equal, `u64::MAX` for unequal integers or a NaN against a number).
trait Ulps: Exact {
    fn ulps(&self, other: &Self) -> u64;
}
macro_rules! exact_ulps {
    ($($t:ty),*) => {$(
        impl Ulps for $t {
            fn ulps(&self, o: &Self) -> u64 { if self.same(o) { 0 } else { u64::MAX } }
        }
    )*};
}
exact_ulps!(bool, i8, i16, i32, i64, u8, u16, u32, u64);
macro_rules! float_ulps {
    ($($t:ty => $i:ty),*) => {$(
        impl Ulps for $t {
            fn ulps(&self, o: &Self) -> u64 {
                if self.same(o) {
                    return 0;
                }
                if self.is_nan() || o.is_nan() || self.is_sign_negative() != o.is_sign_negative() {
                    return u64::MAX;
                }
                (self.to_bits() as $i).abs_diff(o.to_bits() as $i) as u64
            }
        }
    )*};
}
float_ulps!(f32 => i64, f64 => i128);

/// Asserts that `y` computes to `want` within `tolerance` ulps.
fn check<T: Ulps>(y: &Array, want: &[T], threads: usize, tolerance: u64, ctx: &str) {
    let got: ArrayD<T> = y
        .compute(&exec(threads))
        .unwrap_or_else(|e| panic!("{ctx}: {e}"));
    assert_eq!(got.len(), want.len(), "{ctx}: size");
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            g.ulps(w) <= tolerance,
            "{ctx}: element {k}: got {g:?}, want {w:?}"
        );
    }
}

/// Computes `a` as elements of `v`'s type (which is `a`'s).
fn compute_like<T: chunkwise::Element>(
    a: &Array,
    _v: Vec<T>,
    threads: usize,
) -> chunkwise::Result<()> {
    a.compute::<T>(&exec(threads)).map(|_| ())
}

/// Runs the cases `pick` selects; returns how many ran.
fn run(list: &str, pick: impl Fn(&Value) -> bool) -> usize {
    let f = fixtures();
    let mut ran = 0;
    for (i, case) in f.manifest[list]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .filter(|(_, c)| pick(c))
    {
        let chunks = &CHUNKINGS[i % CHUNKINGS.len()];
        let threads = THREADS[(i / CHUNKINGS.len()) % THREADS.len()];
        let name = case["fn"].as_str().unwrap();
        let ctx = format!("case {i} {case} chunks {chunks:?} threads {threads}");
        let parts = 1 + (i as u64 % 3);
        let x = f.operand(&case["x"], chunks, parts);
        let y = case.get("y").map(|y| f.operand(y, chunks, parts));
        let z = case.get("z").map(|z| f.operand(z, chunks, parts));
        let built = build(name, x, y, z);
        ran += 1;
        if case.get("error").is_some() {
            let computed = built.and_then(|a| {
                let like = Buffer::zeros(a.dtype(), 0);
                dispatch!(Buffer, like, v => compute_like(&a, v, threads))
            });
            assert!(
                computed.is_err(),
                "{ctx}: NumPy refuses this, chunkwise did not"
            );
            continue;
        }
        let y = built.unwrap_or_else(|e| panic!("{ctx}: {e}"));
        let want = f.buffer(&case["out"]);
        assert_eq!(y.dtype(), want.dtype(), "{ctx}: dtype");
        let tolerance = case["ulps"].as_u64().unwrap();
        dispatch!(Buffer, &want, w => check(&y, w, threads, tolerance, &ctx));
    }
    ran
}

#[test]
fn unary_functions_on_every_dtype_match_numpy() {
    assert!(run("cases", |c| c.get("y").is_none()) > 300);
}

#[test]
fn binary_functions_on_every_dtype_pair_match_numpy() {
    let arrays = |c: &Value| c["x"].get("array").is_some() && c["y"].get("array").is_some();
    assert!(run("cases", |c| c.get("y").is_some() && arrays(c)) > 121 * 27);
}

#[test]
fn binary_functions_with_python_scalars_match_numpy() {
    let scalar = |c: &Value| c["x"].get("scalar").is_some() || c["y"].get("scalar").is_some();
    assert!(run("cases", |c| c.get("y").is_some() && scalar(c)) > 1000);
}

/// NumPy's broadcasting, 1-D to 4-D, with 1-element axes and operands, the mask and operands of
/// `where`, and shapes that do not broadcast (an error, as NumPy's ValueError).
#[test]
fn broadcasting_matches_numpy() {
    assert!(run("broadcast_cases", |_| true) > 90);
}

fn chunkwise_cmd(args: &[&str], dir: &std::path::Path) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_chunkwise"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the binary runs")
}

/// The new ops by their pipeline-file names, through the CLI: `(x > a) & (x < b)` and a few
/// others, fused into one pass, written and read back; a bad one fails with one line.
#[test]
fn pipeline_files_name_the_functions_as_numpy_does() {
    let shape = [30, 20, 10];
    let dir = common::dir_with_input(&shape, &[8, 8, 8], 3);
    let data: ArrayD<u16> = chunkwise::open(dir.path().join("in.zarr"))
        .unwrap()
        .compute(&exec(1))
        .unwrap();
    let pipeline = serde_json::json!({
        "inputs": {"vol": "in.zarr"},
        "steps": [
            {"id": "above", "op": "greater", "x": "vol", "y": 1000},
            {"id": "below", "op": "greater", "x": 50000, "y": "vol"},
            {"id": "band", "op": "logical_and", "x": "above", "y": "below"},
            {"id": "never", "op": "greater", "x": "vol", "y": 70000},
            {"id": "either", "op": "logical_or", "x": "band", "y": "never"},
            {"id": "rem", "op": "remainder", "x": "vol", "y": 7},
            {"id": "twice", "op": "multiply", "x": 2, "y": "rem"},
            {"id": "shift", "op": "bitwise_right_shift", "x": "vol", "y": 4},
            {"id": "sin", "op": "sin", "x": "vol"},
            {"id": "rounded", "op": "round", "x": "sin"}
        ],
        "outputs": [
            {"from": "either", "path": "band.zarr"},
            {"from": "twice", "path": "rem.zarr"},
            {"from": "shift", "path": "shift.zarr"},
            {"from": "rounded", "path": "rounded.zarr"}
        ]
    });
    let p = dir.path().join("p.json");
    std::fs::write(&p, pipeline.to_string()).unwrap();
    let out = chunkwise_cmd(&["run", "p.json", "--threads", "2", "--quiet"], dir.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read = |name: &str| chunkwise::open(dir.path().join(name)).unwrap();
    let band: ArrayD<bool> = read("band.zarr").compute(&exec(2)).unwrap();
    common::assert_same(&band, &data.mapv(|v| v > 1000 && v < 50000), "band");
    let rem: ArrayD<u16> = read("rem.zarr").compute(&exec(2)).unwrap();
    common::assert_same(&rem, &data.mapv(|v| v % 7 * 2), "multiply(2, remainder)");
    let shift: ArrayD<u16> = read("shift.zarr").compute(&exec(2)).unwrap();
    common::assert_same(&shift, &data.mapv(|v| v >> 4), "shift");
    let rounded: ArrayD<f32> = read("rounded.zarr").compute(&exec(2)).unwrap();
    let want = data.mapv(|v| f32::from(v).sin().round_ties_even());
    common::assert_same(&rounded, &want, "round(sin)");

    let plan = chunkwise_cmd(&["plan", "p.json"], dir.path());
    let text = String::from_utf8_lossy(&plan.stdout);
    assert!(text.contains("greater(1000)"), "{text}");
    assert!(text.contains("logical_and"), "{text}");

    let bad = serde_json::json!({
        "inputs": {"vol": "in.zarr"},
        "steps": [{"id": "f", "op": "sin", "x": "vol"},
                  {"id": "b", "op": "bitwise_and", "x": "f", "y": 1}],
        "outputs": [{"from": "b", "path": "bad.zarr"}]
    });
    std::fs::write(dir.path().join("bad.json"), bad.to_string()).unwrap();
    let out = chunkwise_cmd(&["run", "bad.json", "--quiet"], dir.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("bitwise_and needs integer or bool"),
        "{stderr}"
    );
    assert!(!dir.path().join("bad.zarr").exists());
}

/// NaN and the infinities in a pipeline file, as text JSON can hold ("nan", "inf", "-inf"):
/// numbers where a float parameter or an operand is expected, run by the CLI against the same
/// expressions computed element by element; an input named "nan" keeps its name's meaning; a
/// word that is neither a name nor a float is one line naming what is expected.
#[test]
fn pipeline_files_write_nan_and_infinities_as_text() {
    let shape = [13, 9, 7];
    let dir = common::dir_with_input(&shape, &[4, 4, 4], 5);
    let data: ArrayD<u16> = chunkwise::open(dir.path().join("in.zarr"))
        .unwrap()
        .compute(&exec(1))
        .unwrap();
    let pipeline = serde_json::json!({
        "inputs": {"vol": "in.zarr", "nan": "in.zarr"},
        "steps": [
            {"id": "f", "op": "astype", "x": "vol", "dtype": "float64"},
            {"id": "holes", "op": "where", "mask": "vol", "a": "f", "b": "NaN"},
            {"id": "lifted", "op": "clip", "x": "holes", "min": "-inf", "max": "nan"},
            {"id": "capped", "op": "minimum", "x": "f", "y": "inf"},
            {"id": "sum", "op": "add", "x": "capped", "y": "-Infinity"},
            {"id": "named", "op": "add", "x": "f", "y": "nan"},
            {"id": "padded", "op": "pad", "x": "f", "pad_width": 1, "constant_values": "nan"}
        ],
        "outputs": [
            {"from": "lifted", "path": "lifted.zarr"},
            {"from": "sum", "path": "sum.zarr"},
            {"from": "named", "path": "named.zarr"},
            {"from": "padded", "path": "padded.zarr"}
        ]
    });
    std::fs::write(dir.path().join("p.json"), pipeline.to_string()).unwrap();
    let out = chunkwise_cmd(&["run", "p.json", "--threads", "2", "--quiet"], dir.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read = |name: &str| -> ArrayD<f64> {
        chunkwise::open(dir.path().join(name))
            .unwrap()
            .compute(&exec(2))
            .unwrap()
    };
    let f = data.mapv(f64::from);
    // np.clip with a NaN bound gives NaN everywhere; where(vol, f, nan) is NaN at zeros anyway.
    let lifted = read("lifted.zarr");
    assert!(lifted.iter().all(|v| v.is_nan()), "clip(max=nan)");
    assert!(read("sum.zarr").iter().all(|&v| v == f64::NEG_INFINITY));
    common::assert_same(
        &read("named.zarr"),
        &f.mapv(|v| v * 2.0),
        "the input named nan",
    );
    let padded = read("padded.zarr");
    assert_eq!(padded.shape(), &[15, 11, 9]);
    let (nans, inner) = padded.indexed_iter().fold((0, 0), |(n, i), (at, v)| {
        let edge = (0..3).any(|d| at[d] == 0 || at[d] == padded.shape()[d] - 1);
        match edge {
            true => (n + usize::from(v.is_nan()), i),
            false => (
                n,
                i + usize::from(*v == f[[at[0] - 1, at[1] - 1, at[2] - 1]]),
            ),
        }
    });
    assert_eq!((nans, inner), (15 * 11 * 9 - 13 * 9 * 7, 13 * 9 * 7));

    let bad = serde_json::json!({
        "inputs": {"vol": "in.zarr"},
        "steps": [{"id": "c", "op": "clip", "x": "vol", "min": "lots"}],
        "outputs": [{"from": "c", "path": "bad.zarr"}]
    });
    std::fs::write(dir.path().join("bad.json"), bad.to_string()).unwrap();
    let out = chunkwise_cmd(&["run", "bad.json", "--quiet"], dir.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("\"lots\"") && stderr.contains("\"nan\""),
        "{stderr}"
    );
    assert!(!dir.path().join("bad.zarr").exists());
}

/// The methods read as NumPy's functions and chain: `(x > a) & (x < b)` and friends.
#[test]
fn methods_chain_like_numpy_expressions() {
    let data: ArrayD<i16> = common::random_array(&[37, 23], 5);
    let x = chunkwise::from_ndarray(data.clone(), &[8, 5]).unwrap();
    let band = x
        .greater(-10)
        .unwrap()
        .logical_and(x.less_equal(40).unwrap())
        .unwrap();
    let got: ArrayD<bool> = band.compute(&exec(2)).unwrap();
    common::assert_same(&got, &data.mapv(|v| v > -10 && v <= 40), "band");
    let y = x.floor_divide(-7).unwrap().bitwise_xor(3).unwrap();
    let got: ArrayD<i16> = y.compute(&exec(7)).unwrap();
    // Python's floor division: toward -inf.
    let floor_div = |a: i16, b: i16| (f64::from(a) / f64::from(b)).floor() as i16;
    common::assert_same(
        &got,
        &data.mapv(|v| floor_div(v, -7) ^ 3),
        "floor_divide, xor",
    );
    // Out-of-range Python ints compare without error; arithmetic with them is refused.
    let none: ArrayD<bool> = x.greater(40000).unwrap().compute(&exec(1)).unwrap();
    assert!(none.iter().all(|v| !v));
    assert!(x.add(40000).is_err());
    assert!(x.pow(-1).is_err());
    assert!(x.astype(DType::Bool).unwrap().negative().is_err());
}

/// A broadcast operand is not materialized: `x / m` with a per-slice `m` of shape (40, 1, 1)
/// reads each element of `x` once and, per task, only the slices of `m` its block spans; the
/// result is the same for every chunking and thread count.
#[test]
fn a_broadcast_operand_is_read_block_by_block() {
    let data: ArrayD<f32> = common::random_array(&[40, 30, 20], 21);
    let per_slice: ArrayD<f32> = common::random_array(&[40, 1, 1], 22);
    let want = ndarray::Zip::from(&data)
        .and_broadcast(&per_slice)
        .map_collect(|&v, &m| v - m);
    for (chunks, m_chunks) in [([8, 30, 20], [8, 1, 1]), ([16, 16, 8], [40, 1, 1])] {
        for threads in THREADS {
            let xs = common::CountingSource::new(&data, &chunks);
            let ms = common::CountingSource::new(&per_slice, &m_chunks);
            let x = Array::from_source(xs.clone());
            let m = Array::from_source(ms.clone());
            let y = x.sub(&m).unwrap();
            assert_eq!(y.shape(), &[40, 30, 20]);
            let plan = y.explain(&exec(threads)).unwrap();
            assert!(plan.contains("1 stage(s)"), "{plan}");
            assert!(
                plan.contains("computes broadcast_to(shape=[40, 30, 20])"),
                "{plan}"
            );
            let got: ArrayD<f32> = y.compute(&exec(threads)).unwrap();
            common::assert_same(&got, &want, &format!("x - m, chunks {chunks:?}"));
            assert_eq!(xs.elements_read(), 40 * 30 * 20, "x read once");
            let tasks_per_slices = 30u64.div_ceil(chunks[1]) * 20u64.div_ceil(chunks[2]);
            assert_eq!(
                ms.elements_read(),
                40 * tasks_per_slices,
                "m: its slices once per task that spans them"
            );
        }
    }
    // Broadcasting from the left, and shapes that do not broadcast.
    let x = chunkwise::from_ndarray(data.clone(), &[8, 8, 8]).unwrap();
    let row = chunkwise::from_ndarray(ArrayD::<f32>::zeros(vec![20]), &[7]).unwrap();
    assert_eq!(x.greater(&row).unwrap().shape(), &[40, 30, 20]);
    let bad = chunkwise::from_ndarray(ArrayD::<f32>::zeros(vec![30]), &[7]).unwrap();
    let e = x.add(&bad).unwrap_err().to_string();
    assert!(
        e.contains("do not broadcast") && e.contains("axis -1"),
        "{e}"
    );
}

/// A broadcast feeding a stencil (halos past the array's edges) and a downsample computes what
/// the same pipeline computes with the stretched operand written out in full.
#[test]
fn a_broadcast_feeds_stencils_and_resampling_like_a_full_array() {
    let data: ArrayD<f32> = common::random_array(&[20, 13, 11], 31);
    let per_slice: ArrayD<f32> = common::random_array(&[20, 1, 1], 32);
    let full = per_slice.broadcast(data.raw_dim()).unwrap().to_owned();
    let x = chunkwise::from_ndarray(data.clone(), &[6, 5, 4]).unwrap();
    let m = chunkwise::from_ndarray(per_slice.clone(), &[7, 1, 1]).unwrap();
    let mf = chunkwise::from_ndarray(full, &[6, 5, 4]).unwrap();
    let finite = |a: &Array| a.clip(-1e6, 1e6).unwrap();
    type Chain = fn(&Array) -> Array;
    let chains: [(&str, Chain); 2] = [
        ("gaussian", |a| {
            let opts = FilterOptions::default();
            a.gaussian_filter(&[1.5, 1.5, 1.5], 4.0, &opts).unwrap()
        }),
        ("downsample", |a| {
            a.downsample(&[2, 3, 2], DownsampleMethod::Mean).unwrap()
        }),
    ];
    for (name, chain) in chains {
        let with_broadcast = chain(&finite(&x.sub(&m).unwrap()));
        let with_full = chain(&finite(&x.sub(&mf).unwrap()));
        let want: ArrayD<f32> = with_full.compute(&exec(1)).unwrap();
        for threads in THREADS {
            let got: ArrayD<f32> = with_broadcast.compute(&exec(threads)).unwrap();
            common::assert_same(&got, &want, &format!("{name}(x - m), threads {threads}"));
        }
    }
}
