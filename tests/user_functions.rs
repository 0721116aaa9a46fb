//! The user's own functions: map_blocks, map_blocks_n, map_overlap and map_regions against
//! whole-array ndarray references and the built-in ops they can imitate (uniform_filter,
//! maximum_filter, downsample), on shapes that do not divide the chunks, 1-D to 4-D, several
//! types, chunkings and thread counts, every boundary mode; fusion by read counts; errors,
//! panics and wrong blocks; names in explain() and in the run's identity.

mod common;

use std::convert::Infallible;

use chunkwise::engine::identity;
use chunkwise::ops::stencil::{maximum_filter, Window};
use chunkwise::prelude::*;
use chunkwise::Region;
use common::{exec, random_array, shapes_and_chunkings, CountingSource, THREADS};
use ndarray::{ArrayD, ArrayViewD, IxDyn};

/// Small integers as f64: sums of them are exact in any order.
fn small_f64(shape: &[usize], seed: u64) -> ArrayD<f64> {
    random_array::<u16>(shape, seed).mapv(|v| f64::from(v % 100))
}

fn message(r: chunkwise::Result<impl std::fmt::Debug>) -> String {
    r.expect_err("an error").to_string()
}

#[test]
fn map_blocks_matches_the_whole_array_function_on_every_shape_chunking_and_thread_count() {
    for (shape, chunkings) in shapes_and_chunkings() {
        let data: ArrayD<u16> = random_array(&shape, 7);
        let want = data.mapv(|v| f32::from(v) * 0.5 + 1.0);
        for chunks in &chunkings {
            for threads in THREADS {
                let x = from_ndarray(data.clone(), chunks).unwrap();
                let y = x
                    .map_blocks(DType::Float32, |b: ArrayViewD<'_, u16>| {
                        Ok::<_, Infallible>(b.mapv(|v| f32::from(v) * 0.5 + 1.0))
                    })
                    .unwrap();
                let got: ArrayD<f32> = y.compute(&exec(threads)).unwrap();
                assert_eq!(got, want, "{shape:?} in {chunks:?}, {threads} threads");
            }
        }
    }
}

#[test]
fn map_blocks_on_several_types_and_a_non_standard_result_layout() {
    let data: ArrayD<i32> = random_array(&[9, 11], 3);
    let x = from_ndarray(data.clone(), &[4, 5]).unwrap();
    let y = x
        .map_blocks(DType::Int64, |b: ArrayViewD<'_, i32>| {
            Ok::<_, String>(b.mapv(|v| i64::from(v) * 3))
        })
        .unwrap();
    assert_eq!(
        y.compute::<i64>(&exec(2)).unwrap(),
        data.mapv(|v| i64::from(v) * 3)
    );

    let data: ArrayD<f64> = random_array(&[5, 6, 7], 4);
    let x = from_ndarray(data.clone(), &[2, 3, 4]).unwrap();
    // A result of the right shape in another memory order is read in logical order.
    let y = x
        .map_blocks(DType::Float64, |b: ArrayViewD<'_, f64>| {
            let n = b.len();
            let col = ArrayD::from_shape_vec(IxDyn(&[1, n]), b.iter().map(|v| -v).collect())
                .unwrap()
                .reversed_axes();
            Ok::<_, String>(col.into_shape_with_order(IxDyn(&[n])).unwrap())
        })
        .unwrap();
    let got: ArrayD<f64> = y.compute(&exec(1)).unwrap();
    common::assert_same(&got, &data.mapv(|v| -v), "negated f64");
}

#[test]
fn map_blocks_fuses_with_built_in_ops_into_one_read_per_element() {
    let data: ArrayD<u16> = random_array(&[40, 30, 20], 11);
    let source = CountingSource::new(&data, &[16, 16, 8]);
    let x = Array::from_source(source.clone());
    let f = UserFn::new(DType::Float32).named("denoise", "2");
    let y = x
        .astype(DType::Float32)
        .unwrap()
        .map_blocks(f, |b: ArrayViewD<'_, f32>| {
            Ok::<_, String>(b.mapv(|v| v * 2.0 - 100.0))
        })
        .unwrap()
        .clip(0.0, 60000.0)
        .unwrap();
    let plan = y.explain(&exec(2)).unwrap();
    assert!(
        plan.contains("fused into one pass over the data: 3 op(s)"),
        "{plan}"
    );
    assert!(
        plan.contains("denoise(map_blocks, version 2, float32 -> float32)"),
        "{plan}"
    );
    assert!(plan.contains("plan: 1 stage(s)"), "{plan}");
    let got: ArrayD<f32> = y.compute(&exec(2)).unwrap();
    assert_eq!(
        source.elements_read(),
        data.len() as u64,
        "each element read once"
    );
    let want = data.mapv(|v| (f32::from(v) * 2.0 - 100.0).clamp(0.0, 60000.0));
    assert_eq!(got, want);
}

#[test]
fn map_blocks_n_combines_inputs_with_different_chunk_grids() {
    let a: ArrayD<f64> = small_f64(&[13, 7, 10], 1);
    let b: ArrayD<f64> = small_f64(&[13, 7, 10], 2);
    let want = &a * 2.0 - &b;
    for threads in THREADS {
        let x = from_ndarray(a.clone(), &[5, 3, 4]).unwrap();
        let z = from_ndarray(b.clone(), &[4, 7, 3]).unwrap();
        let y = map_blocks_n(
            &[&x, &z],
            DType::Float64,
            |blocks: &[ArrayViewD<'_, f64>]| Ok::<_, String>(&blocks[0] * 2.0 - &blocks[1]),
        )
        .unwrap();
        assert_eq!(y.meta().chunks, vec![5, 3, 4], "the first input's grid");
        assert_eq!(y.compute::<f64>(&exec(threads)).unwrap(), want);
    }
    let x = from_ndarray(a.clone(), &[5, 3, 4]).unwrap();
    let short = from_ndarray(small_f64(&[13, 7], 3), &[5, 3]).unwrap();
    let m = message(map_blocks_n(
        &[&x, &short],
        DType::Float64,
        |b: &[ArrayViewD<'_, f64>]| Ok::<_, String>(b[0].to_owned()),
    ));
    assert!(m.contains("shape mismatch"), "{m}");
}

/// The mean of a `size`^nd window around each inner position of an extended block.
fn window_mean(block: ArrayViewD<'_, f64>, size: usize) -> ArrayD<f64> {
    let nd = block.ndim();
    let inner: Vec<usize> = block.shape().iter().map(|n| n + 1 - size).collect();
    let count = size.pow(nd as u32) as f64;
    let values: Vec<f64> = block
        .windows(IxDyn(&vec![size; nd]))
        .into_iter()
        .map(|w| w.sum() / count)
        .collect();
    ArrayD::from_shape_vec(IxDyn(&inner), values).unwrap()
}

/// The built-in `uniform_filter(3)` of the whole array: the reference for window means.
fn uniform3(data: &ArrayD<f64>, boundary: Boundary) -> ArrayD<f64> {
    let options = FilterOptions {
        mode: boundary.mode,
        cval: boundary.cval.as_f64(),
        output: Some(DType::Float64),
    };
    let whole: Vec<u64> = data.shape().iter().map(|&n| n as u64).collect();
    from_ndarray(data.clone(), &whole)
        .unwrap()
        .uniform_filter(&vec![3; data.ndim()], &[], &options)
        .unwrap()
        .compute(&exec(1))
        .unwrap()
}

/// `got` equals `want` within rounding (the sums run in another order).
fn assert_close(got: &ArrayD<f64>, want: &ArrayD<f64>, context: &str) {
    assert_eq!(got.shape(), want.shape(), "{context}");
    for (g, w) in got.iter().zip(want.iter()) {
        assert!(
            (g - w).abs() <= 1e-9 * w.abs().max(1.0),
            "{context}: {g} vs {w}"
        );
    }
}

#[test]
fn map_overlap_mean_matches_uniform_filter_in_every_mode_shape_chunking_and_thread_count() {
    let boundaries = [
        Boundary::from(BoundaryMode::Reflect),
        Boundary::from(BoundaryMode::Mirror),
        Boundary::from(BoundaryMode::Nearest),
        Boundary::from(BoundaryMode::Wrap),
        Boundary::constant(7.5),
    ];
    for (shape, chunkings) in shapes_and_chunkings() {
        let data = small_f64(&shape, 5);
        for boundary in boundaries {
            let want = uniform3(&data, boundary);
            for chunks in &chunkings {
                for threads in [1, 3] {
                    let x = from_ndarray(data.clone(), chunks).unwrap();
                    let y = x
                        .map_overlap(&[1], boundary, DType::Float64, |b: ArrayViewD<'_, f64>| {
                            Ok::<_, String>(window_mean(b, 3))
                        })
                        .unwrap();
                    let got: ArrayD<f64> = y.compute(&exec(threads)).unwrap();
                    let context =
                        format!("{shape:?} in {chunks:?}, {boundary:?}, {threads} threads");
                    assert_close(&got, &want, &context);
                }
            }
        }
    }
}

#[test]
fn map_overlap_keeps_integer_types_and_trims_an_extended_result() {
    let data: ArrayD<u16> = random_array(&[23, 17], 9);
    let whole = from_ndarray(data.clone(), &[23, 17]).unwrap();
    for mode in [
        BoundaryMode::Reflect,
        BoundaryMode::Wrap,
        BoundaryMode::Constant,
    ] {
        let options = FilterOptions {
            mode,
            cval: 0.0,
            output: None,
        };
        let want: ArrayD<f32> = maximum_filter(&whole, &Window::Size(vec![5, 3]), &[], &options)
            .unwrap()
            .compute(&exec(1))
            .unwrap();
        let x = from_ndarray(data.clone(), &[6, 5]).unwrap();
        // Returns the whole extended block (Dask's habit): each position the max of its window,
        // the halo positions anything; the engine keeps the inner block.
        let y = x
            .map_overlap(&[2, 1], mode, DType::Float32, |b: ArrayViewD<'_, u16>| {
                let mut out = ArrayD::<f32>::zeros(b.raw_dim());
                for ((i, j), v) in b
                    .windows(IxDyn(&[5, 3]))
                    .into_iter()
                    .map(|w| w.iter().copied().max().unwrap_or(0))
                    .enumerate()
                    .map(|(k, v)| ((k / (b.shape()[1] - 2), k % (b.shape()[1] - 2)), v))
                {
                    out[[i + 2, j + 1]] = f32::from(v);
                }
                Ok::<_, String>(out)
            })
            .unwrap();
        let got: ArrayD<f32> = y.compute(&exec(2)).unwrap();
        assert_eq!(got, want, "{mode:?}");
    }
}

#[test]
fn map_overlap_owned_hands_over_the_extended_block_to_change_in_place_or_return() {
    for (shape, chunkings) in shapes_and_chunkings() {
        let data = small_f64(&shape, 21);
        let nd = shape.len();
        let want = uniform3(&data, BoundaryMode::Mirror.into());
        for chunks in &chunkings {
            for threads in [1, 3] {
                let x = from_ndarray(data.clone(), chunks).unwrap();
                // The window mean written over the block's own buffer, returned extended.
                let mean_in_place = move |mut b: ArrayD<f64>| {
                    let inner = window_mean(b.view(), 3);
                    let at = vec![ndarray::Slice::new(1, Some(-1), 1); nd];
                    b.slice_each_axis_mut(|ax| at[ax.axis.index()])
                        .assign(&inner);
                    Ok::<_, String>(b)
                };
                let got: ArrayD<f64> = x
                    .map_overlap_owned(&[1], BoundaryMode::Mirror, DType::Float64, mean_in_place)
                    .unwrap()
                    .compute(&exec(threads))
                    .unwrap();
                let context = format!("{shape:?} in {chunks:?}, {threads} threads");
                assert_close(&got, &want, &context);
            }
        }
    }
}

#[test]
fn map_overlap_chains_recomputed_or_held_give_the_same_result() {
    use chunkwise::engine::plan::StencilChains;
    let data = small_f64(&[30, 20, 12], 12);
    let x = from_ndarray(data.clone(), &[8, 8, 8]).unwrap();
    let mean = |b: ArrayViewD<'_, f64>| Ok::<_, String>(window_mean(b, 3));
    let y = x
        .map_overlap(&[1], BoundaryMode::Reflect, DType::Float64, mean)
        .unwrap()
        .map_overlap(&[1], BoundaryMode::Nearest, DType::Float64, mean)
        .unwrap();
    let mut results = Vec::new();
    for chains in [StencilChains::Recompute, StencilChains::Materialize] {
        let options = ExecOptions {
            stencil_chains: chains,
            ..exec(2)
        };
        results.push(y.compute::<f64>(&options).unwrap());
    }
    assert_eq!(results[0], results[1]);
}

/// A 3x mean downsample of `x` as a user writes it with `map_regions`, in chunks of `chunks`.
fn mean3(x: &Array, chunks: &[u64]) -> chunkwise::Result<Array> {
    let limits = x.shape().to_vec();
    let out_shape: Vec<u64> = limits.iter().map(|n| n.div_ceil(3)).collect();
    let mapping = move |out: &Region| {
        let start: Vec<u64> = out.start.iter().map(|s| s * 3).collect();
        let shape = start
            .iter()
            .zip(out.end())
            .zip(&limits)
            .map(|((s, e), n)| (e * 3).min(*n) - s)
            .collect();
        vec![Region::new(start, shape)]
    };
    let mean = |inputs: &[ArrayViewD<'_, f64>], out: &Region| {
        let block = &inputs[0];
        let shape: Vec<usize> = out.shape.iter().map(|&n| n as usize).collect();
        let mut result = ArrayD::<f64>::zeros(IxDyn(&shape));
        for (idx, v) in result.indexed_iter_mut() {
            let cell = block.slice_each_axis(|ax| {
                let k = ax.axis.index();
                let s = idx[k] * 3;
                ndarray::Slice::from(s..(s + 3).min(block.shape()[k]))
            });
            *v = cell.sum() / cell.len() as f64;
        }
        Ok::<_, String>(result)
    };
    let f = UserFn::new(DType::Float64).named("mean3", "1");
    map_regions(&[x], &out_shape, chunks, f, mapping, mean)
}

#[test]
fn map_regions_three_times_downsample_matches_the_built_in_downsample() {
    for (shape, chunkings) in shapes_and_chunkings() {
        let data = small_f64(&shape, 21);
        let nd = shape.len();
        for chunks in &chunkings {
            let x = from_ndarray(data.clone(), chunks).unwrap();
            let want: ArrayD<f64> = x
                .downsample(&vec![3; nd], DownsampleMethod::Mean)
                .unwrap()
                .compute(&exec(1))
                .unwrap();
            for threads in [1, 2] {
                let got: ArrayD<f64> = mean3(&x, chunks).unwrap().compute(&exec(threads)).unwrap();
                assert_eq!(got, want, "{shape:?} in {chunks:?}, {threads} threads");
            }
        }
    }
}

#[test]
fn map_regions_chains_like_pyramid_levels_and_counts_declared_regions_in_memory() {
    let data = small_f64(&[50, 40, 31], 8);
    let source = CountingSource::new(&data, &[9, 9, 9]);
    let x = Array::from_source(source.clone());
    let twice = mean3(&mean3(&x, &[9, 9, 9]).unwrap(), &[9, 9, 9]).unwrap();
    let want: ArrayD<f64> = from_ndarray(data.clone(), &[9, 9, 9])
        .unwrap()
        .downsample(&[3, 3, 3], DownsampleMethod::Mean)
        .unwrap()
        .downsample(&[3, 3, 3], DownsampleMethod::Mean)
        .unwrap()
        .compute(&exec(1))
        .unwrap();
    let plan = twice.explain(&exec(2)).unwrap();
    assert!(plan.contains("mean3(map_regions, version 1"), "{plan}");
    let got = twice.compute::<f64>(&exec(2)).unwrap();
    assert_eq!(got.shape(), want.shape());
    // Means of means: the sums run in another order than the built-in's.
    for (g, w) in got.iter().zip(&want) {
        assert!((g - w).abs() <= 1e-12 * w.abs().max(1.0), "{g} vs {w}");
    }
    assert_eq!(
        source.elements_read(),
        data.len() as u64,
        "each element read once"
    );

    // A mapping that asks for the whole input per chunk is costed as such.
    let whole = map_regions(
        &[&x],
        &[50, 40, 31],
        &[9, 9, 9],
        DType::Float64,
        |_: &Region| vec![Region::whole(&[50, 40, 31])],
        |b: &[ArrayViewD<'_, f64>], out: &Region| {
            let s: Vec<usize> = out.start.iter().map(|&v| v as usize).collect();
            let e: Vec<usize> = out.end().iter().map(|&v| v as usize).collect();
            Ok::<_, String>(
                b[0].slice_each_axis(|ax| {
                    let k = ax.axis.index();
                    ndarray::Slice::from(s[k]..e[k])
                })
                .to_owned(),
            )
        },
    )
    .unwrap();
    let small = ExecOptions {
        memory_limit: 400_000,
        ..exec(1)
    };
    let m = message(whole.compute::<f64>(&small));
    assert!(m.contains("memory limit"), "{m}");
    assert_eq!(whole.compute::<f64>(&exec(2)).unwrap(), data);
}

#[test]
fn errors_and_panics_name_the_function_and_the_region_and_stop_the_run() {
    let data: ArrayD<f32> = random_array(&[20, 20], 1);
    let x = from_ndarray(data, &[5, 5]).unwrap();
    let failing = UserFn::new(DType::Float32).named("denoise", "2");
    for threads in [1, 4] {
        let y = x
            .map_blocks(
                failing.clone(),
                |b: ArrayViewD<'_, f32>| -> Result<ArrayD<f32>, String> {
                    if b.iter().any(|v| v.is_nan()) {
                        return Err("NaN in the block".to_string());
                    }
                    Err("always".to_string())
                },
            )
            .unwrap();
        let m = message(y.compute::<f32>(&exec(threads)));
        assert!(m.contains("user function denoise returned an error"), "{m}");
        assert!(m.contains("output chunk"), "{m}");

        let y = x
            .map_overlap(
                &[1],
                BoundaryMode::Reflect,
                failing.clone(),
                |b: ArrayViewD<'_, f32>| {
                    if !b.is_empty() {
                        panic!("kaboom");
                    }
                    Ok::<_, String>(b.to_owned())
                },
            )
            .unwrap();
        let m = message(y.compute::<f32>(&exec(threads)));
        assert!(
            m.contains("user function denoise panicked for output region ["),
            "{m}"
        );
        assert!(m.contains("kaboom"), "{m}");

        let y = x
            .map_blocks(DType::Float32, |b: ArrayViewD<'_, f32>| {
                if !b.is_empty() {
                    panic!("block of {}", b.len());
                }
                Ok::<_, String>(b.to_owned())
            })
            .unwrap();
        let m = message(y.compute::<f32>(&exec(threads)));
        assert!(m.contains("user function map_blocks panicked"), "{m}");
    }
    // The workers survive: the same options run another pipeline.
    let ok = x
        .map_blocks(DType::Float32, |b: ArrayViewD<'_, f32>| {
            Ok::<_, String>(b.to_owned())
        })
        .unwrap();
    assert!(ok.compute::<f32>(&exec(4)).is_ok());
}

#[test]
fn wrong_blocks_and_types_are_refused_naming_expected_and_received() {
    let data: ArrayD<u16> = random_array(&[12, 9], 2);
    let x = from_ndarray(data, &[5, 4]).unwrap();
    // Build time: the closure's input type against the array's, its output against the declared.
    let m = message(x.map_blocks(DType::Float32, |b: ArrayViewD<'_, f32>| {
        Ok::<_, String>(b.to_owned())
    }));
    assert!(
        m.contains("takes float32 blocks but input 0 is uint16"),
        "{m}"
    );
    let m = message(x.map_blocks(DType::Float64, |b: ArrayViewD<'_, u16>| {
        Ok::<_, String>(b.mapv(f32::from))
    }));
    assert!(
        m.contains("returns float32 blocks but the output type was declared float64"),
        "{m}"
    );
    let m = message(x.map_overlap(
        &[1, 1, 1],
        BoundaryMode::Reflect,
        DType::Uint16,
        |b: ArrayViewD<'_, u16>| Ok::<_, String>(b.to_owned()),
    ));
    assert!(m.contains("depth must give one value per axis"), "{m}");
    let m = message(x.map_overlap(
        &[1],
        Boundary::constant(70000),
        DType::Uint16,
        |b: ArrayViewD<'_, u16>| Ok::<_, String>(b.to_owned()),
    ));
    assert!(m.contains("cval 70000 does not fit"), "{m}");

    // Run time: a block of the wrong shape.
    let y = x
        .map_blocks(
            UserFn::new(DType::Uint16).named("halve", ""),
            |b: ArrayViewD<'_, u16>| {
                Ok::<_, String>(b.slice(ndarray::s![..b.len() / 2]).to_owned().into_dyn())
            },
        )
        .unwrap();
    let m = message(y.compute::<u16>(&exec(2)));
    assert!(
        m.contains("user function halve returned a block of shape"),
        "{m}"
    );
    assert!(m.contains("expected ["), "{m}");
    let y = x
        .map_overlap(
            &[1],
            BoundaryMode::Nearest,
            DType::Uint16,
            |_: ArrayViewD<'_, u16>| Ok::<_, String>(ArrayD::<u16>::zeros(IxDyn(&[1, 1]))),
        )
        .unwrap();
    let m = message(y.compute::<u16>(&exec(1)));
    assert!(
        m.contains("returned a block of shape [1, 1] for output region"),
        "{m}"
    );

    // A mapping that leaves the input: refused when building, for the first or last chunk.
    let m = message(map_regions(
        &[&x],
        &[12, 9],
        &[5, 4],
        DType::Uint16,
        |out: &Region| vec![Region::new(out.start.clone(), vec![6, 6])],
        |b: &[ArrayViewD<'_, u16>], _: &Region| Ok::<_, String>(b[0].to_owned()),
    ));
    assert!(
        m.contains("region mapping of map_regions asked for [10..16, 8..14] of input 0"),
        "{m}"
    );
    let m = message(map_regions(
        &[&x],
        &[12, 9],
        &[5, 4],
        DType::Uint16,
        |_: &Region| Vec::new(),
        |b: &[ArrayViewD<'_, u16>], _: &Region| Ok::<_, String>(b[0].to_owned()),
    ));
    assert!(m.contains("gave 0 regions"), "{m}");
}

#[test]
fn a_renamed_or_re_versioned_function_is_another_computation() {
    let x = from_ndarray(random_array::<f32>(&[8, 8], 1), &[4, 4]).unwrap();
    let build = |f: UserFn| {
        x.map_overlap(&[1], BoundaryMode::Reflect, f, |b: ArrayViewD<'_, f32>| {
            Ok::<_, String>(b.to_owned())
        })
        .unwrap()
    };
    let hash = |f: UserFn| identity::hash(&identity::expression(&build(f)));
    let base = UserFn::new(DType::Float32).named("denoise", "2");
    assert_eq!(hash(base.clone()), hash(base.clone()));
    assert_ne!(
        hash(base.clone()),
        hash(UserFn::new(DType::Float32).named("denoise", "3"))
    );
    assert_ne!(
        hash(base.clone()),
        hash(UserFn::new(DType::Float32).named("smooth", "2"))
    );
    // Scratch memory decides no result.
    assert_eq!(hash(base.clone()), hash(base.clone().with_scratch(1 << 20)));
    let was = identity::run_identity(identity::expression(&build(base)), serde_json::json!({}));
    let now = identity::run_identity(
        identity::expression(&build(UserFn::new(DType::Float32).named("denoise", "3"))),
        serde_json::json!({}),
    );
    let why = identity::difference(&was, &now).unwrap();
    assert!(
        why.contains("denoise (expression node 2): version was 2, now 3"),
        "{why}"
    );
}

#[test]
fn resuming_an_output_a_renamed_function_started_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.zarr");
    let values = ArrayD::from_shape_vec(IxDyn(&[16, 16]), (0..256).map(|v| v as f32).collect());
    let x = from_ndarray(values.unwrap(), &[4, 4]).unwrap();
    let resume = WriteOptions {
        overwrite: Overwrite::Resume,
        ..WriteOptions::default()
    };
    let fails_late = |b: ArrayViewD<'_, f32>| {
        if b.iter().any(|v| *v >= 200.0) {
            return Err("bad block");
        }
        Ok(b.to_owned())
    };
    let first = x
        .map_blocks(
            UserFn::new(DType::Float32).named("denoise", "1"),
            fails_late,
        )
        .unwrap();
    assert!(first.to_zarr(&out, &resume, &exec(1)).is_err());
    let renamed = x
        .map_blocks(
            UserFn::new(DType::Float32).named("denoise", "2"),
            |b: ArrayViewD<'_, f32>| Ok::<_, String>(b.to_owned()),
        )
        .unwrap();
    let m = message(renamed.to_zarr(&out, &resume, &exec(1)));
    assert!(m.contains("another pipeline"), "{m}");
    assert!(m.contains("version was 1, now 2"), "{m}");
}

#[test]
fn declared_scratch_counts_against_the_memory_limit() {
    let x = from_ndarray(random_array::<f32>(&[64, 64], 1), &[32, 32]).unwrap();
    let f = UserFn::new(DType::Float32)
        .named("hungry", "")
        .with_scratch(1 << 40);
    let y = x
        .map_overlap(&[1], BoundaryMode::Reflect, f, |b: ArrayViewD<'_, f32>| {
            Ok::<_, String>(b.to_owned())
        })
        .unwrap();
    let m = message(y.compute::<f32>(&exec(1)));
    assert!(m.contains("memory limit"), "{m}");
}
