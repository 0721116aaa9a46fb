//! PNG plots of the scaling sweeps (plotters, bitmap backend).

use std::path::{Path, PathBuf};

use plotters::prelude::*;

use crate::scaling::Sweep;

/// Writes one PNG per sweep axis into `dir`; returns their paths.
///
/// # Errors
/// When drawing or writing fails.
pub fn write(dir: &Path, sweeps: &[Sweep]) -> Result<Vec<PathBuf>, String> {
    let mut written = Vec::new();
    for (axis, title, log) in [
        ("threads", "wall time vs threads", false),
        ("size", "wall time vs voxels (log-log)", true),
        ("chunk", "wall time vs chunk edge (log x)", true),
    ] {
        let curves: Vec<&Sweep> = sweeps.iter().filter(|s| s.axis == axis).collect();
        if curves.is_empty() {
            continue;
        }
        let path = dir.join(format!("scaling_{axis}.png"));
        draw(&path, title, axis, &curves, log).map_err(|e| format!("plot {axis}: {e}"))?;
        written.push(path);
    }
    Ok(written)
}

fn draw(
    path: &Path,
    title: &str,
    axis: &str,
    curves: &[&Sweep],
    log: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    let root = BitMapBackend::new(path, (800, 500)).into_drawing_area();
    root.fill(&WHITE)?;
    let points = || curves.iter().flat_map(|c| c.points.iter());
    let x_max = points().map(|p| p.0).fold(1.0, f64::max) * 1.1;
    let x_min = points()
        .map(|p| p.0)
        .fold(f64::INFINITY, f64::min)
        .max(1e-9)
        * 0.9;
    let y_max = points().map(|p| p.1).fold(0.0, f64::max) * 1.2;
    let y_min = points()
        .map(|p| p.1)
        .fold(f64::INFINITY, f64::min)
        .max(1e-6)
        * 0.8;
    let mut builder = ChartBuilder::on(&root);
    builder
        .caption(title, ("sans-serif", 22))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(60);
    let colors = [&BLUE, &RED, &GREEN, &MAGENTA];
    macro_rules! plot {
        ($chart:expr) => {{
            let mut chart = $chart;
            chart
                .configure_mesh()
                .x_desc(axis)
                .y_desc("seconds")
                .draw()?;
            for (k, curve) in curves.iter().enumerate() {
                let color = colors[k % colors.len()];
                chart
                    .draw_series(LineSeries::new(curve.points.iter().copied(), color))?
                    .label(curve.pipeline.clone())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
                chart.draw_series(
                    curve
                        .points
                        .iter()
                        .map(|&p| Circle::new(p, 4, color.filled())),
                )?;
            }
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .draw()?;
        }};
    }
    match (axis, log) {
        ("size", true) => {
            plot!(builder
                .build_cartesian_2d((x_min..x_max).log_scale(), (y_min..y_max).log_scale())?)
        }
        (_, true) => plot!(builder.build_cartesian_2d((x_min..x_max).log_scale(), 0.0..y_max)?),
        _ => plot!(builder.build_cartesian_2d(0.0..x_max, 0.0..y_max)?),
    }
    root.present()?;
    Ok(())
}
