//! Spilling: when the results held between stages cannot stay in memory beside the largest
//! task, they go to a temporary folder and come back when read; the run finishes within its
//! limit with the same values, and the folder is gone afterwards.

mod common;

use chunkwise::engine::plan::StencilChains;
use chunkwise::ops::stencil::{gaussian_filter, sobel, FilterOptions};
use chunkwise::prelude::*;
use common::{assert_same, exec, random_array};
use ndarray::ArrayD;

fn spill_dirs() -> usize {
    let prefix = format!("chunkwise-spill-{}-", std::process::id());
    std::fs::read_dir(std::env::temp_dir())
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn held_results_spill_to_disk_under_a_small_limit_and_the_folder_is_removed() {
    let data: ArrayD<u16> = random_array(&[48, 40, 36], 41);
    let build = |chunks: &[u64]| {
        let x = chunkwise::from_ndarray(data.clone(), chunks).unwrap();
        let o = FilterOptions::default();
        let smooth = gaussian_filter(&x, &[1.0; 3], 4.0, &o).unwrap();
        sobel(&smooth, 1, &o).unwrap()
    };
    let want: ArrayD<f32> = build(&[48, 40, 36]).compute(&exec(1)).unwrap();
    let y = build(&[8, 8, 8]);
    let roomy = ExecOptions {
        stencil_chains: StencilChains::Materialize,
        ..exec(2)
    };
    let plan = ArrayExt::plan(&y, &roomy).unwrap();
    assert_eq!(plan.stages.len(), 2, "{}", plan.explain());
    let largest = plan
        .stages
        .iter()
        .map(|s| s.task_bytes + s.held_bytes)
        .max()
        .unwrap();
    // Room for about two tasks: far less than the held front of 48 x 40 x 36 float32 results.
    let tight = ExecOptions {
        memory_limit: 2 * largest,
        ..roomy
    };
    for threads in [1, 2, 4] {
        let options = ExecOptions {
            threads,
            ..tight.clone()
        };
        let mut pipeline = Pipeline::new();
        let sink = std::sync::Arc::new(chunkwise::engine::store::MemorySink::new(y.meta().clone()));
        pipeline.write_to(&y, sink.clone());
        let stats = pipeline.run(&options).unwrap();
        assert!(
            stats.spilled_bytes > 0,
            "threads {threads}: nothing spilled"
        );
        assert!(
            stats.peak_projected_bytes <= options.memory_limit,
            "threads {threads}: peak {} over {}",
            stats.peak_projected_bytes,
            options.memory_limit
        );
        let chunkwise::Buffer::Float32(v) = sink.take() else {
            panic!("float32 output")
        };
        let got = ArrayD::from_shape_vec(want.shape(), v).unwrap();
        assert_same(&got, &want, &format!("threads {threads}"));
        assert_eq!(spill_dirs(), 0, "spill folder left behind");
    }
}
