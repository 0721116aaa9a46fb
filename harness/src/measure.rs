//! Timing: every run is its own process, started with no output present and with the previous
//! run's dirty pages already written back (untimed), timed by wall clock, its peak RSS taken from
//! GNU time. A tool that prints `inside_seconds=` on stdout (the Python peers and the floors) is
//! also timed from inside: from opening its input to its output written, without interpreter
//! start-up and imports; that figure then counts, the whole process beside it. Tools alternate
//! within a round (the order reverses every round) so a noisy neighbour hurts all of them alike;
//! medians are reported.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use serde::Serialize;

use crate::data::Volume;
use crate::floor::Floor;
use crate::pipelines::Pipeline;
use crate::tools::{Peer, Tool};
use crate::verify;

/// What every run shares.
#[derive(Debug, Clone)]
pub struct Context {
    /// The chunkwise CLI.
    pub chunkwise: PathBuf,
    /// This binary, which measures the floors.
    pub harness: PathBuf,
    /// Worker threads for every tool.
    pub threads: usize,
    /// chunkwise's `--memory-limit`.
    pub memory_limit: String,
    /// Scratch folder for outputs and pipeline files (it exists).
    pub work: PathBuf,
}

impl Context {
    /// The chunkwise command for `pipeline` on `src`, writing `out`.
    ///
    /// # Errors
    /// When the pipeline file cannot be written.
    pub fn chunkwise_command(
        &self,
        pipeline: Pipeline,
        src: &Path,
        out: &Path,
        threads: usize,
    ) -> Result<Vec<String>, String> {
        let mut cmd = vec![self.chunkwise.display().to_string()];
        cmd.extend(pipeline.chunkwise_args(src, out, &self.work)?);
        cmd.extend(["--quiet".into(), "--threads".into(), threads.to_string()]);
        cmd.extend(["--memory-limit".into(), self.memory_limit.clone()]);
        Ok(cmd)
    }
}

/// One timed run.
#[derive(Debug, Clone, Serialize)]
pub struct Sample {
    /// Round number, from 0.
    pub round: usize,
    /// Wall time of the whole process (for Python, interpreter start-up and imports included).
    pub process_seconds: f64,
    /// The tool's own time from opening its input to its output written, when it reports one
    /// (None: a native binary, timed as its whole process).
    pub inside_seconds: Option<f64>,
    /// Peak resident memory of the process (NaN without GNU time).
    pub peak_rss_mib: f64,
    /// chunkwise only: its own projection of that peak (running tasks, held results and the
    /// chunk cache), for calibrating the memory model against the measured RSS.
    pub projected_mib: Option<f64>,
}

impl Sample {
    /// The time that counts: from inside when the tool reported it, else the whole process.
    pub fn seconds(&self) -> f64 {
        self.inside_seconds.unwrap_or(self.process_seconds)
    }
}

/// How a peer's output compared with chunkwise's.
#[derive(Debug, Clone, Serialize)]
pub enum Check {
    /// chunkwise itself.
    Reference,
    /// A floor: nothing of its own to compare.
    Floor,
    /// Within tolerance (with the largest difference seen).
    Agrees(String),
    /// Outside tolerance: its times do not count.
    Mismatch(String),
    /// The run failed.
    Failed(String),
}

/// One tool's runs of one pipeline.
#[derive(Debug, Clone, Serialize)]
pub struct ToolRuns {
    /// "chunkwise" or a peer name.
    pub tool: String,
    /// Every timed run.
    pub samples: Vec<Sample>,
    /// The output check.
    pub check: Check,
}

impl ToolRuns {
    /// Median of the time that counts (None when no run succeeded).
    pub fn median_seconds(&self) -> Option<f64> {
        median(self.samples.iter().map(Sample::seconds).collect())
    }

    /// Median whole-process wall time.
    pub fn median_process_seconds(&self) -> Option<f64> {
        median(self.samples.iter().map(|s| s.process_seconds).collect())
    }

    /// True when the tool reported its time from inside.
    pub fn timed_inside(&self) -> bool {
        self.samples.iter().any(|s| s.inside_seconds.is_some())
    }

    /// Highest peak RSS over the runs.
    pub fn peak_rss_mib(&self) -> f64 {
        self.samples
            .iter()
            .map(|s| s.peak_rss_mib)
            .fold(f64::NAN, f64::max)
    }

    /// True when the times may be compared (the output agreed, or this is chunkwise or a floor).
    pub fn counts(&self) -> bool {
        matches!(
            self.check,
            Check::Reference | Check::Floor | Check::Agrees(_)
        )
    }
}

/// Every tool's runs of one pipeline.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// The pipeline name.
    pub pipeline: String,
    /// What it computes.
    pub description: String,
    /// chunkwise first, then the peers that run it, then the floors.
    pub tools: Vec<ToolRuns>,
}

impl Comparison {
    /// True when some peer's output differed from chunkwise's.
    pub fn mismatched(&self) -> bool {
        self.tools
            .iter()
            .any(|t| matches!(t.check, Check::Mismatch(_)))
    }
}

/// The median of `v` (None when empty).
pub fn median(mut v: Vec<f64>) -> Option<f64> {
    v.retain(|x| x.is_finite());
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2]),
        _ => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
    }
}

/// Runs `pipeline` in chunkwise, every peer that can express it and the floors, `reps`
/// alternating rounds; after the first round checks each peer's output against chunkwise's.
///
/// # Errors
/// When chunkwise itself fails.
pub fn compare(
    ctx: &Context,
    pipeline: Pipeline,
    volume: &Volume,
    peers: &[Peer],
    reps: usize,
) -> Result<Comparison, String> {
    // A fresh output name every round: re-creating thousands of chunk files right where they
    // were just deleted makes ext4 search its inode bitmaps ("recently deleted" inodes), which
    // slowed small-chunk runs several times over.
    let out = |tool: Tool, round: usize| {
        let name = tool.name().replace(' ', "_");
        ctx.work.join(format!(
            "{name}-{}-r{round}.{}",
            pipeline.name(),
            pipeline.output_extension()
        ))
    };
    // chunkwise's first output is kept to the end: the codec floor writes its values again.
    let reference = out(Tool::Chunkwise, 0);
    let command = |tool: Tool, round: usize| -> Result<Option<Vec<String>>, String> {
        let target = out(tool, round);
        Ok(match tool {
            Tool::Chunkwise => {
                Some(ctx.chunkwise_command(pipeline, &volume.zstd, &target, ctx.threads)?)
            }
            Tool::Peer(peer) => {
                pipeline.peer_command(peer, &volume.zstd, &target, ctx.threads, &ctx.work)
            }
            Tool::Floor(floor) => Some(floor.command(
                &ctx.harness,
                &volume.zstd,
                &reference,
                &pipeline.compared_arrays(),
                &target,
                ctx.threads,
            )),
        })
    };
    // The floors last, so in the first round they run after chunkwise wrote the reference.
    let mut tools = vec![Tool::Chunkwise];
    for &peer in peers {
        if command(Tool::Peer(peer), 0)?.is_some() {
            tools.push(Tool::Peer(peer));
        }
    }
    // A JSON output has no codec to measure: its floor is the read.
    tools.extend(
        Floor::ALL
            .into_iter()
            .filter(|&f| f == Floor::Read || !pipeline.writes_json())
            .map(Tool::Floor),
    );
    let mut runs: Vec<ToolRuns> = tools
        .iter()
        .map(|&tool| ToolRuns {
            tool: tool.name().to_string(),
            samples: Vec::new(),
            check: match tool {
                Tool::Chunkwise => Check::Reference,
                Tool::Peer(_) => Check::Agrees(String::new()),
                Tool::Floor(_) => Check::Floor,
            },
        })
        .collect();
    println!("{}: {}", pipeline.name(), pipeline.describe());
    for round in 0..reps.max(1) {
        let mut order: Vec<usize> = (0..tools.len()).collect();
        if round % 2 == 1 {
            order.reverse();
        }
        for i in order {
            let tool = tools[i];
            if matches!(runs[i].check, Check::Failed(_) | Check::Mismatch(_)) {
                continue;
            }
            let Some(cmd) = command(tool, round)? else {
                continue;
            };
            match timed(&cmd, &out(tool, round)) {
                Ok(run) => runs[i].samples.push(Sample {
                    round,
                    process_seconds: run.process_seconds,
                    inside_seconds: run.inside_seconds,
                    peak_rss_mib: run.peak_rss_mib,
                    projected_mib: run.projected_mib,
                }),
                Err(e) if tool == Tool::Chunkwise => return Err(e),
                Err(e) => {
                    println!("  {} failed: {e}", tool.name());
                    runs[i].check = Check::Failed(e);
                }
            }
        }
        if round == 0 {
            for (i, &tool) in tools.iter().enumerate() {
                let Tool::Peer(peer) = tool else { continue };
                if matches!(runs[i].check, Check::Failed(_)) {
                    continue;
                }
                let agreement = if pipeline.writes_json() {
                    verify::numbers_agree(pipeline, &reference, &out(tool, 0), peer)
                } else {
                    verify::outputs_agree(
                        &reference,
                        &out(tool, 0),
                        &pipeline.compared_arrays(),
                        pipeline.tolerance(peer),
                    )
                };
                runs[i].check = match agreement {
                    Ok(detail) => Check::Agrees(detail),
                    Err(detail) => {
                        println!("  MISMATCH {}: {detail}", tool.name());
                        Check::Mismatch(detail)
                    }
                };
            }
        }
        let line: Vec<String> = runs
            .iter()
            .filter_map(|r| Some(format!("{} {:.2} s", r.tool, r.samples.last()?.seconds())))
            .collect();
        println!("  round {}: {}", round + 1, line.join(", "));
        for &tool in &tools {
            if out(tool, round) != reference {
                remove_output(&out(tool, round));
            }
        }
    }
    remove_output(&reference);
    Ok(Comparison {
        pipeline: pipeline.name().to_string(),
        description: pipeline.describe().to_string(),
        tools: runs,
    })
}

/// Removes an output directory or JSON file (absent is fine).
fn remove_output(path: &Path) {
    let _ = std::fs::remove_dir_all(path);
    let _ = std::fs::remove_file(path);
}

/// What one run measured.
pub struct Measured {
    /// Wall time of the whole process.
    pub process_seconds: f64,
    /// The time the tool printed as `inside_seconds=` on stdout, if it did.
    pub inside_seconds: Option<f64>,
    /// Peak RSS (NaN without GNU time).
    pub peak_rss_mib: f64,
    /// chunkwise's projected peak, from its `finished` log line.
    pub projected_mib: Option<f64>,
}

/// Runs `cmd` once with no `output` present.
///
/// # Errors
/// When the command cannot start or exits with an error (its stderr is returned).
pub fn timed(cmd: &[String], output: &Path) -> Result<Measured, String> {
    remove_output(output);
    // Write back the previous run's output before the clock starts.
    let _ = Command::new("sync").status();
    let rss_file = output.with_extension("rss");
    let gnu_time = Path::new("/usr/bin/time").exists();
    let mut command = if gnu_time {
        let mut c = Command::new("/usr/bin/time");
        c.args(["-f", "%M", "-o"]).arg(&rss_file).args(cmd);
        c
    } else {
        let mut c = Command::new(&cmd[0]);
        c.args(&cmd[1..]);
        c
    };
    let start = Instant::now();
    let result = command
        .env("CHUNKWISE_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", cmd[0]))?;
    let process_seconds = start.elapsed().as_secs_f64();
    if !result.status.success() {
        let stderr = String::from_utf8_lossy(&result.stderr);
        let last: Vec<&str> = stderr.lines().rev().take(3).collect();
        return Err(format!(
            "{} exited with {}: {}",
            cmd[0],
            result.status,
            last.join(" | ")
        ));
    }
    let rss = std::fs::read_to_string(&rss_file)
        .ok()
        .and_then(|s| s.lines().last()?.trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kib| kib / 1024.0);
    let _ = std::fs::remove_file(&rss_file);
    let log = String::from_utf8_lossy(&result.stderr);
    let field = |name: &str| logged_number(&log, name);
    let projected_mib = field("peak_projected_bytes")
        .map(|p| (p + field("chunk_cache_bytes").unwrap_or(0.0)) / f64::from(1u32 << 20));
    Ok(Measured {
        process_seconds,
        inside_seconds: logged_number(&String::from_utf8_lossy(&result.stdout), "inside_seconds"),
        peak_rss_mib: rss,
        projected_mib,
    })
}

/// The last number after `name=` in a tracing log or a tool's output (colour codes removed
/// first).
fn logged_number(log: &str, name: &str) -> Option<f64> {
    let mut plain = String::with_capacity(log.len());
    let mut chars = log.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // An escape sequence: ESC [ parameters, ended by a letter.
            for e in chars.by_ref() {
                if e.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    let key = format!("{name}=");
    let at = plain.rfind(&key)? + key.len();
    let digits: String = plain[at..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::{logged_number, median, Check, Sample, ToolRuns};

    #[test]
    fn numbers_are_read_from_coloured_log_fields() {
        let log = "INFO finished \u{1b}[3mpeak_projected_bytes\u{1b}[0m\u{1b}[2m=\u{1b}[0m102760448 \u{1b}[3mchunk_cache_bytes\u{1b}[0m=0";
        assert_eq!(
            logged_number(log, "peak_projected_bytes"),
            Some(102_760_448.0)
        );
        assert_eq!(logged_number(log, "chunk_cache_bytes"), Some(0.0));
        assert_eq!(logged_number(log, "missing"), None);
        let stdout = "some output\ninside_seconds=1.234500\n";
        assert_eq!(logged_number(stdout, "inside_seconds"), Some(1.2345));
    }

    #[test]
    fn a_reported_inside_time_counts_with_the_process_time_kept_beside_it() {
        let sample = |process_seconds, inside_seconds| Sample {
            round: 0,
            process_seconds,
            inside_seconds,
            peak_rss_mib: f64::NAN,
            projected_mib: None,
        };
        let python = ToolRuns {
            tool: "dask".into(),
            samples: vec![
                sample(2.0, Some(0.5)),
                sample(3.0, Some(0.7)),
                sample(2.5, Some(0.6)),
            ],
            check: Check::Agrees(String::new()),
        };
        assert_eq!(python.median_seconds(), Some(0.6));
        assert_eq!(python.median_process_seconds(), Some(2.5));
        assert!(python.timed_inside());
        let native = ToolRuns {
            tool: "chunkwise".into(),
            samples: vec![sample(0.4, None)],
            check: Check::Reference,
        };
        assert_eq!(native.median_seconds(), Some(0.4));
        assert!(!native.timed_inside());
    }

    #[test]
    fn median_of_odd_even_and_empty_ignores_failed_runs() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(vec![f64::NAN, 5.0]), Some(5.0));
        assert_eq!(median(Vec::new()), None);
    }
}
