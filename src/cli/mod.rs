//! The `chunkwise` command line as a library function, so a program that registers its own
//! pipeline-file ops gets the whole CLI with them:
//!
//! ```no_run
//! use chunkwise::cli::Cli;
//! use chunkwise::pipeline::builtin;
//!
//! fn main() -> std::process::ExitCode {
//!     let ops = builtin();
//!     // ops.register("my_op", |params: MyParams, steps| ...);
//!     Cli::new().registry(ops).run()
//! }
//! ```

mod advice;
mod args;
pub mod colormap;
mod demo;
mod distributed;
mod histogram_png;
mod preview;
mod stats;

use std::ffi::OsString;
use std::process::ExitCode;

use chunkwise_engine::exec::BufferPool;
use chunkwise_engine::{Error, Registry, Result, RunStats};
use chunkwise_store::{inspect_zarr, Overwrite, WriteOptions};
use clap::Parser;

use crate::interrupt::Interrupts;
use crate::pipeline::{load_with, OutputSettings};
use crate::prelude::*;
use args::{Cli as Parsed, Command};
use demo::{demo, generate};

/// Where finished tasks' buffers go to be reused, if anywhere.
type Pool = Option<&'static dyn BufferPool>;

/// The command line, with the pipeline-file ops it knows and the buffer pool its runs use.
pub struct Cli {
    registry: Registry,
    pool: Pool,
}

impl std::fmt::Debug for Cli {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cli")
            .field("registry", &self.registry)
            .field("pool", &self.pool.is_some())
            .finish()
    }
}

impl Default for Cli {
    fn default() -> Self {
        Self::new()
    }
}

impl Cli {
    /// The command line with the built-in ops and no buffer pool.
    pub fn new() -> Self {
        Self {
            registry: crate::pipeline::builtin(),
            pool: None,
        }
    }

    /// Uses `registry`'s ops in pipeline files (start from [`crate::pipeline::builtin`] to keep
    /// the built-in ones).
    pub fn registry(mut self, registry: Registry) -> Self {
        self.registry = registry;
        self
    }

    /// Hands freed task buffers to `pool` for reuse ([`chunkwise_engine::ExecOptions::buffer_pool`];
    /// the `chunkwise` binary passes its recycling allocator).
    pub fn buffer_pool(mut self, pool: &'static dyn BufferPool) -> Self {
        self.pool = Some(pool);
        self
    }

    /// Parses the process's arguments, runs the command, prints errors, and returns the exit
    /// code (1 on errors; the signal's code after Ctrl-C or SIGTERM).
    pub fn run(self) -> ExitCode {
        self.run_from(std::env::args_os())
    }

    /// [`Cli::run`] with the given arguments (the first is the program name).
    pub fn run_from<I, T>(self, args: I) -> ExitCode
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        // A program may have set up its own subscriber: keep it.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_env("CHUNKWISE_LOG")
                    .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
            )
            .with_writer(std::io::stderr)
            .try_init();
        let cli = Parsed::parse_from(args);
        let resumable = matches!(cli.command, Command::Run { .. } | Command::Pyramid { .. });
        match dispatch(cli.command, &self.registry, self.pool) {
            Ok(()) => ExitCode::SUCCESS,
            Err(Error::Cancelled { done, total }) => {
                let signal = Interrupts::install().ok().and_then(Interrupts::exit_code);
                let next = if resumable {
                    "rerun with --resume to continue, or --overwrite to start over"
                } else {
                    "run it again to start over"
                };
                eprintln!("interrupted: {done} of {total} chunks stored; {next}");
                ExitCode::from(signal.unwrap_or(1))
            }
            Err(e) => {
                eprintln!("{}", advice::error_line(&e));
                ExitCode::FAILURE
            }
        }
    }
}

/// " (N already stored)" after a resumed run's task count; nothing otherwise.
fn already_stored(stats: &RunStats) -> String {
    match stats.skipped_tasks {
        0 => String::new(),
        n => format!(" ({n} already stored)"),
    }
}

/// What `--overwrite` / `--resume` ask for (clap keeps them exclusive).
fn overwrite_mode(overwrite: bool, resume: bool) -> Overwrite {
    match (overwrite, resume) {
        (true, _) => Overwrite::Replace,
        (_, true) => Overwrite::Resume,
        _ => Overwrite::Refuse,
    }
}

fn dispatch(command: Command, registry: &Registry, pool: Pool) -> Result<()> {
    match command {
        Command::Run {
            pipeline,
            exec,
            overwrite,
            resume,
            durable,
        } => {
            let overwrite = overwrite_mode(overwrite, resume);
            let loaded = load_with(&pipeline, &OutputSettings { overwrite, durable }, registry)?;
            let (stats, threads) = exec.with_progress(pool, "run", |options| {
                let plan = loaded.pipeline.plan(options)?;
                Ok((chunkwise_engine::execute(&plan, options)?, options.threads))
            })?;
            if !exec.quiet {
                eprintln!(
                    "done: {} chunks{} in {:.2} s with {} threads",
                    stats.tasks,
                    already_stored(&stats),
                    stats.elapsed.as_secs_f64(),
                    threads
                );
            }
            exec.report(pool, &stats)?;
            Ok(())
        }
        Command::Plan {
            pipeline,
            exec,
            dot,
        } => {
            let settings = OutputSettings {
                overwrite: Overwrite::Replace,
                durable: false,
            };
            let loaded = load_with(&pipeline, &settings, registry)?;
            let plan = loaded.pipeline.plan(&exec.options(pool)?)?;
            if dot {
                print!("{}", plan.dot());
            } else {
                print!("{}", plan.explain());
            }
            Ok(())
        }
        Command::Stats {
            input,
            step,
            axis,
            percentiles,
            bins,
            no_histogram,
            json,
            output,
            overwrite,
            exec,
        } => stats::run_stats(
            &input,
            &stats::StatsArgs {
                step,
                axis,
                percentiles,
                bins,
                no_histogram,
                json,
                output,
                overwrite,
            },
            &exec,
            registry,
            pool,
        ),
        Command::Preview {
            input,
            step,
            axis,
            index,
            output,
            contrast,
            range,
            colormap,
            histogram,
            overwrite,
            exec,
        } => preview::run_preview(
            &input,
            &preview::PreviewArgs {
                step,
                axis,
                index,
                output,
                contrast,
                range,
                colormap,
                histogram,
                overwrite,
            },
            &exec,
            registry,
            pool,
        ),
        Command::Info { array, json } => {
            let info = inspect_zarr(&array)?;
            if json {
                let text = serde_json::to_string_pretty(&info)
                    .map_err(|e| Error::Invalid(e.to_string()))?;
                println!("{text}");
            } else {
                println!("array:      {}", array.display());
                println!("zarr:       v{}", info.zarr_format);
                println!("shape:      {:?}", info.shape);
                println!("chunks:     {:?}", info.chunks);
                match &info.shards {
                    Some(s) => println!("shards:     {s:?}"),
                    None => println!("shards:     none"),
                }
                println!("dtype:      {}", info.data_type);
                println!("fill value: {}", info.fill_value);
                println!("codecs:     {}", info.codecs);
                if let Some(names) = &info.dimension_names {
                    println!("dimensions: {names}");
                }
            }
            Ok(())
        }
        Command::Pyramid {
            input,
            output,
            levels,
            method,
            factors,
            axes,
            unit,
            scale,
            zarr_format,
            chunks,
            shards,
            exec,
            overwrite,
            resume,
            durable,
        } => {
            let method: DownsampleMethod =
                serde_json::from_value(serde_json::Value::String(method.clone())).map_err(
                    |_| {
                        Error::Invalid(format!(
                    "unknown --method {method:?}; use mean, min, max, median, mode or stride"))
                    },
                )?;
            let zarr_format = ZarrFormat::try_from(zarr_format).map_err(Error::Invalid)?;
            let options = PyramidOptions {
                levels,
                method,
                factors,
                axes,
                unit,
                scale,
                write: WriteOptions {
                    zarr_format,
                    chunks,
                    shards,
                    overwrite: overwrite_mode(overwrite, resume),
                    durable,
                    ..WriteOptions::default()
                },
            };
            let x = crate::open(&input)?;
            let stats = exec.with_progress(pool, "pyramid", |exec_options| {
                write_pyramid(&x, &output, &options, exec_options)
            })?;
            exec.report(pool, &stats)?;
            if !exec.quiet {
                eprintln!(
                    "done: {} levels, {} chunks{} in {:.2} s -> {}",
                    levels + 1,
                    stats.tasks,
                    already_stored(&stats),
                    stats.elapsed.as_secs_f64(),
                    output.display()
                );
            }
            Ok(())
        }
        Command::Submit(args) => distributed::run_submit(&args, registry),
        Command::RunTask { plan, stage, index } => {
            let base = ExecOptions {
                buffer_pool: pool,
                ..ExecOptions::default()
            };
            distributed::run_one_task(&plan, stage, index, registry, &base)
        }
        Command::Status { plan } => distributed::run_status(&plan, registry),
        Command::Finalize { plan } => distributed::run_finalize(&plan, registry),
        Command::Generate {
            output,
            size,
            chunk,
            codec,
            exec,
        } => generate(&output, size, chunk, &codec, &exec, pool),
        Command::Demo {
            dir,
            size,
            chunk,
            exec,
        } => demo(&dir, size, chunk, &exec, pool),
    }
}
