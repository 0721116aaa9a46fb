//! The memory report of a finished run: the plan's projection beside what was measured, per
//! stage (op kind) and for the whole process — the calibration of the memory model.

use std::fmt::Write;

use chunkwise_engine::plan::human_bytes;
use chunkwise_engine::RunStats;

/// A table of projected vs measured task memory per stage (from [`RunStats::stage_memory`], so
/// the run needs a task meter), then the whole run's projected peak, cache and limit beside the
/// measured peak RSS.
pub fn memory_report(stats: &RunStats, limit: u64, peak_rss: Option<u64>) -> String {
    let mut s = String::from(
        "memory per task, projected by the plan vs measured (heap bytes held at once; a task \
         that decodes chunks into the shared chunk cache counts them too):\n",
    );
    let _ = writeln!(
        s,
        "  {:<5} {:>6} {:>12} {:>12} {:>12} {:>9}  work",
        "stage", "tasks", "projected", "measured max", "mean", "max/proj"
    );
    for (i, m) in stats.stage_memory.iter().enumerate() {
        let ratio = if m.projected_task_bytes > 0 && m.tasks > 0 {
            format!(
                "{:.2}",
                m.measured_max_bytes as f64 / m.projected_task_bytes as f64
            )
        } else {
            "-".to_string()
        };
        let _ = writeln!(
            s,
            "  {i:<5} {:>6} {:>12} {:>12} {:>12} {ratio:>9}  {}",
            m.tasks,
            human_bytes(m.projected_task_bytes),
            human_bytes(m.measured_max_bytes),
            human_bytes(m.measured_mean_bytes),
            m.work
        );
    }
    let rss = peak_rss.map_or_else(|| "unknown".to_string(), human_bytes);
    let _ = writeln!(
        s,
        "whole run: projected peak {} of tasks, held results and requests in flight ({} in \
         flight), chunk cache {} reserved ({} used at most), limit {}; measured peak RSS {rss} \
         (includes the process itself and the allocator's recycled blocks)",
        human_bytes(stats.peak_projected_bytes),
        human_bytes(stats.in_flight_peak_bytes),
        human_bytes(stats.chunk_cache_bytes),
        human_bytes(stats.chunk_cache_peak_bytes),
        human_bytes(limit),
    );
    s
}
