//! Every element-wise op against a naive whole-array reference (`ndarray::mapv` / `Zip` with the
//! NumPy rule written out per type), on shapes that do not divide the chunks, 1-D to 4-D, several
//! dtypes, chunkings and thread counts. NumPy itself checks the promotion rules in interop.rs, and
//! clip and threshold with scalars in and out of every type's range here, against NumPy fixtures
//! (tests/fixtures/elementwise, with the script that made them).

mod common;

use std::path::{Path, PathBuf};

use chunkwise::prelude::*;
use chunkwise::Element;
use common::{assert_same, exec, random_array, shapes_and_chunkings, RandomElement, THREADS};
use ndarray::{ArrayD, Zip};
use serde_json::Value;

/// Runs `build` on `data` under every chunking and thread count and compares with `want`.
fn check<T, U>(
    name: &str,
    data: &ArrayD<T>,
    chunkings: &[Vec<u64>],
    build: impl Fn(&Array) -> chunkwise::Result<Array>,
    want: &ArrayD<U>,
) where
    T: Element,
    U: common::Exact,
{
    for chunks in chunkings {
        for threads in THREADS {
            let x = chunkwise::from_ndarray(data.clone(), chunks).unwrap();
            let y = build(&x).unwrap();
            let got: ArrayD<U> = y.compute(&exec(threads)).unwrap();
            let ctx = format!(
                "{name} {} shape {:?} chunks {chunks:?} threads {threads}",
                T::DTYPE,
                data.shape()
            );
            assert_same(&got, want, &ctx);
        }
    }
}

macro_rules! int_suite {
    ($($name:ident: $t:ty),*) => {$(
        #[test]
        fn $name() {
            for (k, (shape, chunkings)) in shapes_and_chunkings().into_iter().enumerate() {
                let a: ArrayD<$t> = random_array(&shape, 10 + k as u64);
                let b: ArrayD<$t> = random_array(&shape, 20 + k as u64);
                check("clip", &a, &chunkings, |x| x.clip(10, 50),
                      &a.mapv(|v| v.max(10).min(50)));
                check("threshold", &a, &chunkings, |x| x.threshold(42),
                      &a.mapv(|v| u8::from(v > 42)));
                check("add scalar", &a, &chunkings, |x| x.add(7),
                      &a.mapv(|v| v.wrapping_add(7)));
                check("sub scalar first", &a, &chunkings, |x| chunkwise::ops::elementwise::binary(
                          chunkwise::ops::elementwise::Arith::Sub, 3, x),
                      &a.mapv(|v| (3 as $t).wrapping_sub(v)));
                check("mul scalar", &a, &chunkings, |x| x.mul(3),
                      &a.mapv(|v| v.wrapping_mul(3)));
                check("div scalar -> float64", &a, &chunkings, |x| x.div(4),
                      &a.mapv(|v| v as f64 / 4.0));
                check("minimum scalar", &a, &chunkings, |x| x.minimum(33),
                      &a.mapv(|v| v.min(33)));
                check("maximum scalar", &a, &chunkings, |x| x.maximum(33),
                      &a.mapv(|v| v.max(33)));
                // Array-array: the second operand is chunked differently (mapping is by region).
                let other_chunks: Vec<u64> = shape.iter().map(|&n| (n as u64).div_ceil(2)).collect();
                let y = chunkwise::from_ndarray(b.clone(), &other_chunks).unwrap();
                let pairs: [(&str, fn($t, $t) -> $t); 5] = [
                    ("add", |p, q| p.wrapping_add(q)),
                    ("sub", |p, q| p.wrapping_sub(q)),
                    ("mul", |p, q| p.wrapping_mul(q)),
                    ("minimum", |p, q| p.min(q)),
                    ("maximum", |p, q| p.max(q)),
                ];
                for (op, f) in pairs {
                    let want = Zip::from(&a).and(&b).map_collect(|&p, &q| f(p, q));
                    check(op, &a, &chunkings, |x| match op {
                        "add" => x.add(&y),
                        "sub" => x.sub(&y),
                        "mul" => x.mul(&y),
                        "minimum" => x.minimum(&y),
                        _ => x.maximum(&y),
                    }, &want);
                }
                let want = Zip::from(&a).and(&b).map_collect(|&p, &q| p as f64 / q as f64);
                check("div arrays", &a, &chunkings, |x| x.div(&y), &want);
                check("abs", &a, &chunkings, |x| x.abs(), &a.mapv(|v| int_abs(v)));
                let want = Zip::from(&a).and(&b).map_collect(|&p, &q| if p > 50 { p } else { q });
                check("where", &a, &chunkings, |x| where_(&x.threshold(50)?, x, &y), &want);
                check("where scalar", &a, &chunkings, |x| where_(&x.threshold(50)?, x, 5),
                      &a.mapv(|v| if v > 50 { v } else { 5 }));
            }
        }
    )*};
}

/// `np.abs` on integers: wraps at the minimum, identity on unsigned.
trait IntAbs {
    fn int_abs(self) -> Self;
}
macro_rules! int_abs_signed { ($($t:ty),*) => {$( impl IntAbs for $t { fn int_abs(self) -> Self { self.wrapping_abs() } } )*}; }
macro_rules! int_abs_unsigned { ($($t:ty),*) => {$( impl IntAbs for $t { fn int_abs(self) -> Self { self } } )*}; }
int_abs_signed!(i8, i16, i32, i64);
int_abs_unsigned!(u8, u16, u32, u64);
fn int_abs<T: IntAbs>(v: T) -> T {
    v.int_abs()
}

int_suite!(int8_ops: i8, int16_ops: i16, int32_ops: i32, int64_ops: i64,
           uint8_ops: u8, uint16_ops: u16, uint32_ops: u32, uint64_ops: u64);

/// NaN-propagating minimum/maximum as `np.minimum` / `np.maximum`.
fn nan_min<F: num_like::F>(p: F, q: F) -> F {
    if p.is_nan() || q.is_nan() {
        F::nan()
    } else if p < q {
        p
    } else {
        q
    }
}
fn nan_max<F: num_like::F>(p: F, q: F) -> F {
    if p.is_nan() || q.is_nan() {
        F::nan()
    } else if p > q {
        p
    } else {
        q
    }
}

/// `np.clip` on floats, as NumPy 2 computes it: the bound where `v` lies beyond it, else `v`
/// itself (so -0.0 clipped at 0.0 stays -0.0, and NaN stays NaN).
fn np_clip<F: num_like::F>(v: F, lo: F, hi: F) -> F {
    let v = if v < lo { lo } else { v };
    if v > hi {
        hi
    } else {
        v
    }
}

mod num_like {
    pub trait F: Copy + PartialOrd {
        fn is_nan(self) -> bool;
        fn nan() -> Self;
    }
    impl F for f32 {
        fn is_nan(self) -> bool {
            f32::is_nan(self)
        }
        fn nan() -> Self {
            f32::NAN
        }
    }
    impl F for f64 {
        fn is_nan(self) -> bool {
            f64::is_nan(self)
        }
        fn nan() -> Self {
            f64::NAN
        }
    }
}

macro_rules! float_suite {
    ($($name:ident: $t:ty),*) => {$(
        #[test]
        fn $name() {
            for (k, (shape, chunkings)) in shapes_and_chunkings().into_iter().enumerate() {
                let a: ArrayD<$t> = random_array(&shape, 30 + k as u64);
                let b: ArrayD<$t> = random_array(&shape, 40 + k as u64);
                check("clip", &a, &chunkings, |x| x.clip(-10.5, 50),
                      &a.mapv(|v| np_clip(v, -10.5, 50.0)));
                check("clip at zero", &a, &chunkings, |x| x.clip(0, 1),
                      &a.mapv(|v| np_clip(v, 0.0, 1.0)));
                check("clip NaN bound", &a, &chunkings, |x| x.clip(f64::NAN, 1),
                      &a.mapv(|_| <$t>::NAN));
                check("threshold", &a, &chunkings, |x| x.threshold(1.5),
                      &a.mapv(|v| u8::from(v > 1.5)));
                check("add", &a, &chunkings, |x| x.add(2.25), &a.mapv(|v| v + 2.25));
                check("sub", &a, &chunkings, |x| x.sub(2.25), &a.mapv(|v| v - 2.25));
                check("mul", &a, &chunkings, |x| x.mul(1.5), &a.mapv(|v| v * 1.5));
                check("div", &a, &chunkings, |x| x.div(3), &a.mapv(|v| v / 3.0));
                check("minimum", &a, &chunkings, |x| x.minimum(0.5), &a.mapv(|v| nan_min(v, 0.5)));
                check("maximum", &a, &chunkings, |x| x.maximum(0.5), &a.mapv(|v| nan_max(v, 0.5)));
                check("abs", &a, &chunkings, |x| x.abs(), &a.mapv(|v| v.abs()));
                check("sqrt", &a, &chunkings, |x| x.sqrt(), &a.mapv(|v| v.sqrt()));
                check("exp", &a, &chunkings, |x| x.exp(), &a.mapv(|v| v.exp()));
                check("log", &a, &chunkings, |x| x.log(), &a.mapv(|v| v.ln()));
                let other_chunks: Vec<u64> = shape.iter().map(|&n| (n as u64).div_ceil(3)).collect();
                let y = chunkwise::from_ndarray(b.clone(), &other_chunks).unwrap();
                let want = Zip::from(&a).and(&b).map_collect(|&p, &q| p / q);
                check("div arrays", &a, &chunkings, |x| x.div(&y), &want);
                let want = Zip::from(&a).and(&b).map_collect(|&p, &q| nan_max(p, q));
                check("maximum arrays", &a, &chunkings, |x| x.maximum(&y), &want);
                let want = Zip::from(&a).and(&b).map_collect(|&p, &q| if p != 0.0 { p } else { q });
                check("where float mask", &a, &chunkings, |x| where_(x, x, &y), &want);
            }
        }
    )*};
}
float_suite!(float32_ops: f32, float64_ops: f64);

/// `astype` between every pair of types, against Rust `as` (the documented semantics: float to
/// int truncates and saturates, NaN -> 0; int to int wraps; to bool is `!= 0`).
#[test]
fn astype_between_all_types() {
    fn to_all<T: RandomElement + CastAll>(seed: u64) {
        let shape = [13usize, 7, 10];
        let a: ArrayD<T> = random_array(&shape, seed);
        let chunkings = [vec![5, 3, 4], vec![13, 7, 10]];
        T::check_all(&a, &chunkings);
    }
    to_all::<bool>(1);
    to_all::<i8>(2);
    to_all::<i16>(3);
    to_all::<i32>(4);
    to_all::<i64>(5);
    to_all::<u8>(6);
    to_all::<u16>(7);
    to_all::<u32>(8);
    to_all::<u64>(9);
    to_all::<f32>(10);
    to_all::<f64>(11);
}

trait CastAll: Element + Sized {
    fn check_all(a: &ArrayD<Self>, chunkings: &[Vec<u64>]);
}

macro_rules! cast_all_numeric {
    ($($s:ty),*) => {$(
        impl CastAll for $s {
            fn check_all(a: &ArrayD<Self>, chunkings: &[Vec<u64>]) {
                macro_rules! to {
                    ($d:ty, $dt:expr) => {
                        check(concat!("astype ", stringify!($d)), a, chunkings, |x| x.astype($dt),
                              &a.mapv(|v| v as $d));
                    };
                }
                to!(i8, DType::Int8); to!(i16, DType::Int16); to!(i32, DType::Int32);
                to!(i64, DType::Int64); to!(u8, DType::Uint8); to!(u16, DType::Uint16);
                to!(u32, DType::Uint32); to!(u64, DType::Uint64); to!(f32, DType::Float32);
                to!(f64, DType::Float64);
                #[allow(clippy::float_cmp)]
                check("astype bool", a, chunkings, |x| x.astype(DType::Bool),
                      &a.mapv(|v| v != (0 as $s)));
            }
        }
    )*};
}
cast_all_numeric!(i8, i16, i32, i64, u8, u16, u32, u64, f32, f64);

impl CastAll for bool {
    fn check_all(a: &ArrayD<Self>, chunkings: &[Vec<u64>]) {
        check(
            "astype u16",
            a,
            chunkings,
            |x| x.astype(DType::Uint16),
            &a.mapv(u16::from),
        );
        check(
            "astype f32",
            a,
            chunkings,
            |x| x.astype(DType::Float32),
            &a.mapv(|v| f32::from(u8::from(v))),
        );
        check(
            "astype i64",
            a,
            chunkings,
            |x| x.astype(DType::Int64),
            &a.mapv(i64::from),
        );
        check("add bool = or", a, chunkings, |x| x.add(x), a);
        check("abs bool", a, chunkings, |x| x.abs(), a);
    }
}

/// The 5-op chain of the benchmarks, fused, against the reference written out.
#[test]
fn five_op_chain_matches_reference() {
    let a: ArrayD<u16> = random_array(&[33, 20, 17], 99);
    let want = a.mapv(|v| ((((v as f32) * 1.5 + 100.0).clamp(0.0, 65535.0)) / 2.0) as u16);
    check(
        "chain",
        &a,
        &[vec![8, 8, 8], vec![33, 20, 17], vec![5, 20, 3]],
        |x| {
            x.astype(DType::Float32)?
                .mul(1.5)?
                .add(100)?
                .clip(0, 65535)?
                .div(2)?
                .astype(DType::Uint16)
        },
        &want,
    );
}

/// Promotion errors NumPy 2 also raises, caught when building, before any data is read.
#[test]
fn invalid_combinations_are_rejected_when_building() {
    let a = chunkwise::from_ndarray(random_array::<u16>(&[10], 1), &[4]).unwrap();
    let b = chunkwise::from_ndarray(random_array::<u16>(&[11], 1), &[4]).unwrap();
    let m = chunkwise::from_ndarray(random_array::<bool>(&[10], 1), &[4]).unwrap();
    let err = a.add(&b).unwrap_err().to_string();
    assert!(err.contains("shape mismatch"), "{err}");
    let err = a.add(70000).unwrap_err().to_string();
    assert!(err.contains("does not fit"), "{err}");
    let err = m.sub(&m).unwrap_err().to_string();
    assert!(err.contains("bool"), "{err}");
    assert_eq!(a.add(1.5).unwrap().dtype(), DType::Float64);
    assert_eq!(
        a.astype(DType::Float32).unwrap().mul(1.5).unwrap().dtype(),
        DType::Float32
    );
    assert_eq!(a.clip(0, 100).unwrap().dtype(), DType::Uint16);
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/elementwise")
}

/// A manifest case's scalar parameter (`None` when absent or null).
fn scalar(case: &Value, key: &str) -> Option<Scalar> {
    serde_json::from_value(case.get(key).cloned().unwrap_or(Value::Null)).unwrap()
}

/// The op a manifest case names, on `x`, through the public API.
fn build_case(case: &Value, x: &Array) -> chunkwise::Result<Array> {
    match case["op"].as_str().unwrap() {
        "threshold" => x.threshold(scalar(case, "value").unwrap()),
        "clip" => chunkwise::ops::elementwise::clip(x, scalar(case, "min"), scalar(case, "max")),
        other => panic!("unknown op {other}"),
    }
}

/// clip and threshold of every integer type, bool and the floats, with integer scalars below,
/// inside and above each range (and float and bool ones), either bound missing, min > max: the
/// values, the result type and the errors are NumPy 2's, under several chunkings that do not
/// divide the shapes and every thread count.
#[test]
fn clip_and_threshold_match_numpy_with_scalars_in_and_out_of_range() {
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(fixtures().join("manifest.json")).unwrap()).unwrap();
    let cases = manifest.as_array().unwrap();
    assert!(cases.len() > 500);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let dtype = case["dtype"].as_str().unwrap();
        let shape: Vec<usize> = serde_json::from_value(case["shape"].clone()).unwrap();
        let input = common::load_le(&fixtures().join(format!("{dtype}.in.bin")), dtype);
        let chunkings: Vec<Vec<u64>> = vec![
            shape.iter().map(|&n| n as u64).collect(),
            shape.iter().map(|&n| (n as u64).div_ceil(3)).collect(),
            shape.iter().map(|&n| n as u64 / 2 + 1).collect(),
            shape.iter().map(|_| 2).collect(),
        ];
        if let Some(error) = case["error"].as_str() {
            let x = common::buffer_array(input, &shape, &chunkings[1]);
            let err = build_case(case, &x).unwrap_err().to_string();
            let needle = match error {
                "OverflowError" => "outside the range",
                _ => "needs min, max or both",
            };
            assert!(
                err.contains(needle),
                "{name}: NumPy raises {error}; got {err}"
            );
            continue;
        }
        let want = common::load_le(
            &fixtures().join(format!("{name}.out.bin")),
            case["out_dtype"].as_str().unwrap(),
        );
        for chunks in &chunkings {
            let x = common::buffer_array(input.clone(), &shape, chunks);
            let y = build_case(case, &x).unwrap_or_else(|e| panic!("{name}: {e}"));
            for threads in THREADS {
                let ctx = format!("{name} {case} chunks {chunks:?} threads {threads}");
                common::assert_computes_to(&y, &want, threads, &ctx);
            }
        }
    }
}

/// The cases the NumPy fixtures are about, spelled out: the examples, and arithmetic,
/// which keeps the error.
#[test]
fn out_of_range_integer_scalars_follow_numpy_2() {
    let data: ArrayD<u8> = random_array(&[37, 23], 5);
    let x = chunkwise::from_ndarray(data.clone(), &[8, 5]).unwrap();
    let y = x.clip(-42, 419).unwrap();
    assert_eq!(y.dtype(), DType::Uint8);
    let got: ArrayD<u8> = y.compute(&exec(2)).unwrap();
    assert_same(&got, &data, "clip(-42, 419) is the array");
    let got: ArrayD<u8> = x.threshold(724).unwrap().compute(&exec(2)).unwrap();
    assert_same(&got, &data.mapv(|_| 0), "x > 724");
    let got: ArrayD<u8> = x.threshold(-1).unwrap().compute(&exec(2)).unwrap();
    assert_same(&got, &data.mapv(|_| 1), "x > -1");
    let wide: ArrayD<u16> = random_array(&[37, 23], 6);
    let w = chunkwise::from_ndarray(wide.clone(), &[8, 5]).unwrap();
    let got: ArrayD<u16> = w.clip(-66, 107).unwrap().compute(&exec(2)).unwrap();
    assert_same(&got, &wide.mapv(|v| v.min(107)), "clip(-66, 107)");

    let err = x.add(724).unwrap_err().to_string();
    assert!(
        err.contains("NumPy 2 raises OverflowError for arithmetic too"),
        "{err}"
    );
    assert!(x.maximum(724).is_err());
    assert!(x.sub(-1).is_err());
    // True division computes in float64, where 724 fits (NumPy 2 too).
    let got: ArrayD<f64> = x.div(724).unwrap().compute(&exec(2)).unwrap();
    assert_same(&got, &data.mapv(|v| f64::from(v) / 724.0), "x / 724");
    let err = chunkwise::ops::elementwise::clip(&x, Some(300.into()), None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("clip min 300 is outside the range"), "{err}");
    let err = where_(&x.threshold(5).unwrap(), &x, 300)
        .unwrap_err()
        .to_string();
    assert!(err.contains("NumPy 2 would wrap it silently"), "{err}");
}
