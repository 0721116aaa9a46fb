//! The Slurm backend: one job array per stage, each depending on the one before with `afterok`
//! and `--kill-on-invalid-dep=yes` (without it, dependents of a failed array would wait
//! forever), then a one-task job that finalizes the outputs. Slurm does the scheduling; each
//! element only runs `run-task` on its range.

use std::path::{Path, PathBuf};
use std::process::Command;

use chunkwise_engine::{Registry, Result};

use super::error::DistributedError;
use super::plan_file::PlanFile;
use super::setup::RunDir;
use super::status::status;

/// How to submit to Slurm.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct SlurmOptions {
    /// `--partition`.
    pub partition: Option<String>,
    /// `--time` of each job.
    pub time: Option<String>,
    /// At most this many elements of one array run at once (`--array=...%N`).
    pub max_parallel: Option<u64>,
    /// More `sbatch` arguments, each one `#SBATCH` line (`--account=proj`).
    pub sbatch_args: Vec<String>,
    /// The program each element runs (a user's own program embedding the chunkwise command
    /// line with its registered ops); default: this executable.
    pub worker: Option<PathBuf>,
    /// Print the scripts, submit nothing.
    pub dry_run: bool,
    /// Submit only the elements whose range is not all stored (and skip complete stages).
    pub only_missing: bool,
}

/// What was submitted (or, in a dry run, would be): one entry per job.
#[derive(Clone, Debug)]
pub struct Submitted {
    /// `stage N` or `finalize`, the array indices and the job id (`None` in a dry run).
    pub jobs: Vec<(String, String, Option<String>)>,
    /// The scripts, in submission order, with the `sbatch` command line of each.
    pub scripts: Vec<String>,
}

/// Submits the run planned at `plan_path` to Slurm (or prints it, `dry_run`).
///
/// # Errors
/// Plan errors; [`DistributedError::Sbatch`] when `sbatch` fails or is missing;
/// [`DistributedError::WorkerNotFound`] when no worker is given and this executable cannot be
/// found.
pub fn submit(plan_path: &Path, options: &SlurmOptions, registry: &Registry) -> Result<Submitted> {
    let plan = PlanFile::read(plan_path)?;
    let dir = RunDir::of_plan(plan_path);
    let plan_file = dir.plan();
    let worker = match &options.worker {
        Some(w) => w.clone(),
        None => {
            std::env::current_exe().map_err(|source| DistributedError::WorkerNotFound { source })?
        }
    };
    let wanted: Vec<Vec<u64>> = if options.only_missing {
        let report = status(plan_path, registry)?;
        if report.finalized {
            // Complete: nothing to run, not even the finalize job.
            return Ok(Submitted {
                jobs: Vec::new(),
                scripts: Vec::new(),
            });
        }
        report.stages.into_iter().map(|s| s.incomplete).collect()
    } else {
        plan.stages
            .iter()
            .map(|s| (0..s.elements).collect())
            .collect()
    };
    let slurm = dir.slurm();
    std::fs::create_dir_all(&slurm).map_err(|source| DistributedError::WorkIo {
        path: slurm.clone(),
        source,
    })?;
    let mut submitted = Submitted {
        jobs: Vec::new(),
        scripts: Vec::new(),
    };
    let mut previous: Option<String> = None;
    let finalize = [(usize::MAX, vec![0u64])];
    let stages = wanted.into_iter().enumerate().chain(finalize);
    for (stage, indices) in stages {
        if indices.is_empty() {
            continue;
        }
        let finalizing = stage == usize::MAX;
        let name = if finalizing {
            "finalize".to_string()
        } else {
            format!("stage{stage}")
        };
        let array = array_spec(&indices, options.max_parallel);
        let mut lines = vec![
            "#!/bin/bash".to_string(),
            format!("#SBATCH --job-name=chunkwise-{name}"),
            format!("#SBATCH --mem={}M", plan.mem_per_job.div_ceil(1 << 20)),
            format!("#SBATCH --cpus-per-task={}", plan.threads),
            format!(
                "#SBATCH --output={}",
                slurm
                    .join(if finalizing {
                        format!("{name}-%j.log")
                    } else {
                        format!("{name}-%A_%a.log")
                    })
                    .display()
            ),
        ];
        if !finalizing {
            lines.push(format!("#SBATCH --array={array}"));
        }
        lines.extend(
            options
                .partition
                .iter()
                .map(|p| format!("#SBATCH --partition={p}")),
        );
        lines.extend(options.time.iter().map(|t| format!("#SBATCH --time={t}")));
        lines.extend(options.sbatch_args.iter().map(|a| format!("#SBATCH {a}")));
        let run = if finalizing {
            format!("{} finalize {}", quote(&worker), quote(&plan_file))
        } else {
            format!(
                "{} run-task {} --stage {stage}",
                quote(&worker),
                quote(&plan_file)
            )
        };
        let records = dir.elements(stage.min(plan.stages.len()));
        lines.push(String::new());
        lines.push(run);
        lines.push("rc=$?".into());
        if !finalizing {
            // A worker that could not record its failure itself (killed, out of memory, a
            // wrapper that failed first) is recorded here, so `status` names it.
            let record = format!("{}/$SLURM_ARRAY_TASK_ID.failed", quote(&records));
            lines.push(format!(
                "if [ $rc -ne 0 ] && [ ! -e {record} ]; then mkdir -p {} && echo \"exited with \
                 code $rc (log: {})\" > {record}; fi",
                quote(&records),
                slurm
                    .join(format!(
                        "{name}-${{SLURM_ARRAY_JOB_ID}}_$SLURM_ARRAY_TASK_ID.log"
                    ))
                    .display()
            ));
        }
        lines.push("exit $rc".into());
        let script = lines.join("\n") + "\n";
        let path = slurm.join(format!("{name}.sh"));
        let mut command = vec!["sbatch".to_string(), "--parsable".to_string()];
        if let Some(job) = &previous {
            command.push(format!("--dependency=afterok:{job}"));
            command.push("--kill-on-invalid-dep=yes".into());
        }
        command.push(path.display().to_string());
        submitted
            .scripts
            .push(format!("# {}\n{script}", command.join(" ")));
        let id = if options.dry_run {
            previous = Some(format!("<job id of {name}>"));
            None
        } else {
            std::fs::write(&path, &script).map_err(|source| DistributedError::WorkIo {
                path: path.clone(),
                source,
            })?;
            let id = sbatch(&command, &name)?;
            previous = Some(id.clone());
            Some(id)
        };
        submitted.jobs.push((name, array, id));
    }
    Ok(submitted)
}

/// Runs `sbatch --parsable ...` and returns the job id.
fn sbatch(command: &[String], what: &str) -> Result<String, DistributedError> {
    let failed = |detail: String| DistributedError::Sbatch {
        what: what.to_string(),
        detail,
    };
    let out = Command::new(&command[0])
        .args(&command[1..])
        .output()
        .map_err(|e| failed(format!("cannot run sbatch ({e}); is Slurm installed here?")))?;
    if !out.status.success() {
        return Err(failed(
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    // --parsable prints `id` or `id;cluster`.
    text.trim()
        .split(';')
        .next()
        .filter(|id| !id.is_empty())
        .map(str::to_string)
        .ok_or_else(|| failed(format!("no job id in its output {text:?}")))
}

/// `0-3,7,9-10%4`: the indices as ranges, with the concurrency cap.
fn array_spec(indices: &[u64], max_parallel: Option<u64>) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < indices.len() {
        let mut j = i;
        while j + 1 < indices.len() && indices[j + 1] == indices[j] + 1 {
            j += 1;
        }
        parts.push(if i == j {
            indices[i].to_string()
        } else {
            format!("{}-{}", indices[i], indices[j])
        });
        i = j + 1;
    }
    let mut spec = parts.join(",");
    if let Some(n) = max_parallel {
        spec.push_str(&format!("%{n}"));
    }
    spec
}

/// `path` quoted for a POSIX shell.
fn quote(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn array_specs_compress_runs_and_cap_concurrency() {
        assert_eq!(array_spec(&[0, 1, 2, 3], None), "0-3");
        assert_eq!(array_spec(&[0, 1, 2, 3, 7, 9, 10], Some(4)), "0-3,7,9-10%4");
        assert_eq!(array_spec(&[5], None), "5");
    }

    #[test]
    fn paths_are_quoted_for_the_shell() {
        assert_eq!(quote(Path::new("/a b/it's")), r"'/a b/it'\''s'");
    }
}
