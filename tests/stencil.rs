//! gaussian_filter against scipy.ndimage fixtures (tests/fixtures/stencil, with the script that
//! made them): every boundary mode, 1-D to 4-D, several dtypes, sigma 0 on an axis, halos larger
//! than a chunk and than the axis, several chunkings and thread counts; float32 relative error
//! <= 1e-5 and results independent of chunking and threads.

mod common;

use std::path::{Path, PathBuf};

use chunkwise::ops::stencil::{gaussian_filter, BoundaryMode};
use chunkwise::prelude::*;
use chunkwise::Buffer;
use common::exec;
use ndarray::ArrayD;
use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/stencil")
}

fn as_f64(b: Buffer) -> Vec<f64> {
    match b {
        Buffer::Float32(v) => v.into_iter().map(f64::from).collect(),
        Buffer::Float64(v) => v,
        other => panic!("unexpected output {:?}", other.dtype()),
    }
}

fn input_array(b: Buffer, shape: &[u64], chunks: &[u64]) -> Array {
    let shape_usize: Vec<usize> = shape.iter().map(|&n| n as usize).collect();
    match b {
        Buffer::Uint8(v) => {
            chunkwise::from_ndarray(ArrayD::from_shape_vec(shape_usize, v).unwrap(), chunks)
        }
        Buffer::Uint16(v) => {
            chunkwise::from_ndarray(ArrayD::from_shape_vec(shape_usize, v).unwrap(), chunks)
        }
        Buffer::Int16(v) => {
            chunkwise::from_ndarray(ArrayD::from_shape_vec(shape_usize, v).unwrap(), chunks)
        }
        Buffer::Float32(v) => {
            chunkwise::from_ndarray(ArrayD::from_shape_vec(shape_usize, v).unwrap(), chunks)
        }
        Buffer::Float64(v) => {
            chunkwise::from_ndarray(ArrayD::from_shape_vec(shape_usize, v).unwrap(), chunks)
        }
        _ => unreachable!(),
    }
    .unwrap()
}

fn compute_f64(y: &Array, threads: usize) -> Vec<f64> {
    match y.dtype() {
        DType::Float32 => y
            .compute::<f32>(&exec(threads))
            .unwrap()
            .iter()
            .map(|&v| f64::from(v))
            .collect(),
        _ => y
            .compute::<f64>(&exec(threads))
            .unwrap()
            .iter()
            .copied()
            .collect(),
    }
}

#[test]
fn gaussian_filter_matches_scipy_on_every_mode_chunking_and_thread_count() {
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(fixtures().join("manifest.json")).unwrap()).unwrap();
    for case in manifest.as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let dtype = case["dtype"].as_str().unwrap();
        let shape: Vec<u64> = case["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect();
        let sigma: Vec<f64> = case["sigma"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let mode: BoundaryMode = serde_json::from_value(case["mode"].clone()).unwrap();
        let want = as_f64(common::load_le(
            &fixtures().join(format!("{name}.out.bin")),
            case["out_dtype"].as_str().unwrap(),
        ));
        let input = common::load_le(&fixtures().join(format!("{name}.in.bin")), dtype);
        let chunkings: Vec<Vec<u64>> = vec![
            shape.clone(),
            shape.iter().map(|&n| n.div_ceil(3).max(1)).collect(),
            shape.iter().map(|_| 2).collect(),
        ];
        let mut reference: Option<Vec<f64>> = None;
        for chunks in &chunkings {
            for threads in [1, 2, 7] {
                let x = input_array(input.clone(), &shape, chunks);
                let y = gaussian_filter(
                    &x,
                    &sigma,
                    case["truncate"].as_f64().unwrap(),
                    mode,
                    case["cval"].as_f64().unwrap(),
                    None,
                )
                .unwrap();
                let got = compute_f64(&y, threads);
                let ctx = format!("{name} chunks {chunks:?} threads {threads}");
                assert_eq!(got.len(), want.len(), "{ctx}");
                let scale = want.iter().fold(1.0f64, |m, v| m.max(v.abs()));
                for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                    assert!(
                        (g - w).abs() <= 1e-5 * w.abs().max(1e-3 * scale),
                        "{ctx}: element {i}: got {g}, scipy {w}"
                    );
                }
                // Independent of chunking and threads: bit for bit.
                match &reference {
                    None => reference = Some(got),
                    Some(r) => assert!(
                        r.iter().zip(&got).all(|(a, b)| a.to_bits() == b.to_bits()),
                        "{ctx}: differs from another chunking"
                    ),
                }
            }
        }
    }
}

#[test]
fn clip_then_gaussian_fuses_and_bad_parameters_are_rejected() {
    let data: ArrayD<u16> = common::random_array(&[20, 16, 12], 2);
    let x = chunkwise::from_ndarray(data.clone(), &[8, 8, 8]).unwrap();
    let whole = chunkwise::from_ndarray(data.clone(), &[20, 16, 12]).unwrap();
    let build = |a: &Array| {
        gaussian_filter(
            &a.clip(10, 60).unwrap(),
            &[2.0, 2.0, 2.0],
            4.0,
            BoundaryMode::Reflect,
            0.0,
            None,
        )
        .unwrap()
    };
    let y = build(&x);
    let plan = ArrayExt::plan(&y, &exec(2)).unwrap();
    assert_eq!(plan.stages.len(), 1, "{}", plan.explain());
    let want: ArrayD<f32> = build(&whole).compute(&exec(1)).unwrap();
    let got: ArrayD<f32> = y.compute(&exec(2)).unwrap();
    common::assert_same(&got, &want, "clip -> gaussian");
    assert!(gaussian_filter(&x, &[1.0], 4.0, BoundaryMode::Reflect, 0.0, None).is_err());
    assert!(gaussian_filter(&x, &[1.0, -1.0, 1.0], 4.0, BoundaryMode::Reflect, 0.0, None).is_err());
    assert!(gaussian_filter(
        &x,
        &[1.0, 1.0, 1.0],
        4.0,
        BoundaryMode::Reflect,
        0.0,
        Some(DType::Uint8)
    )
    .is_err());
}
