//! `chunkwise preview --histogram`: the slice's histogram as a PNG, with the display range
//! shaded, so a user choosing `--range` or `--contrast` sees what falls outside it.

use std::path::Path;

use chunkwise_engine::{Error, Result};
use plotters::prelude::*;

/// What the histogram image shows.
pub struct HistogramPlot<'a> {
    /// Bin edges (`counts.len() + 1`).
    pub edges: &'a [f64],
    /// Counts per bin.
    pub counts: &'a [u64],
    /// The display range (`lo` black, `hi` white).
    pub display: (f64, f64),
    /// The chart's caption.
    pub title: &'a str,
}

/// Draws `plot` into the PNG at `path`.
///
/// # Errors
/// [`Error::Invalid`] naming the file when drawing or writing fails (an unwritable directory,
/// no usable font).
pub fn write_histogram(path: &Path, plot: &HistogramPlot<'_>) -> Result<()> {
    draw(path, plot)
        .map_err(|e| Error::Invalid(format!("drawing the histogram {}: {e}", path.display())))
}

fn draw(
    path: &Path,
    plot: &HistogramPlot<'_>,
) -> std::result::Result<(), Box<dyn std::error::Error>> {
    let (Some(&x0), Some(&x1)) = (plot.edges.first(), plot.edges.last()) else {
        return Err("the slice has no finite values to count".into());
    };
    let top = plot.counts.iter().copied().max().unwrap_or(0).max(1) as f64 * 1.05;
    let root = BitMapBackend::new(path, (800, 400)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(plot.title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(64)
        .build_cartesian_2d(x0..x1, 0.0..top)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_desc("value (shaded: the display range)")
        .y_desc("voxels")
        .y_label_formatter(&|v| format!("{v:.0}"))
        .draw()?;
    let (lo, hi) = plot.display;
    let shade = RGBColor(255, 220, 160).mix(0.5).filled();
    chart.draw_series(std::iter::once(Rectangle::new(
        [(lo.clamp(x0, x1), 0.0), (hi.clamp(x0, x1), top)],
        shade,
    )))?;
    let bar = RGBColor(60, 60, 60).filled();
    chart.draw_series(
        plot.counts
            .iter()
            .zip(plot.edges.windows(2))
            .map(|(&c, e)| Rectangle::new([(e[0], 0.0), (e[1], c as f64)], bar)),
    )?;
    root.present()?;
    Ok(())
}
