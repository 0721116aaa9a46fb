//! Which tasks a resumed run skips, and the tasks any run skips because nothing reads their
//! results.
//!
//! A task is skipped when every write unit it covers is already stored and nothing later needs
//! the results it keeps in memory: it keeps none, or every task that reads them is skipped too.
//! Consumers are decided before their producers (later stages have higher task ids). Without
//! the second rule a producer whose results are kept (a pyramid level feeding the next) would
//! have to be computed again on every resume, whatever it had stored. With it, a pyramid
//! killed mid-run redoes only the blocks whose top-level chunk it had not written: tasks run
//! depth first, so a stored chunk of the last level means its whole block below is stored too.

use std::ops::Range;

use crate::plan::{Plan, Stage};

use super::tasks::locate;

/// Whether some stage of `plan` writes nothing and only keeps results for later stages: its
/// tasks that no later task reads are skipped, resumed run or not (see [`skippable_tasks`]).
pub(super) fn keeps_only(plan: &Plan) -> bool {
    plan.stages
        .iter()
        .any(|s| !s.outputs.is_empty() && s.outputs.iter().all(|o| o.sink.is_none() && o.held))
}

/// One flag per task of `plan`: true when a run may skip it (of a run that is not resumed,
/// only tasks that keep results nobody reads: a sink that is not resuming has nothing stored). Call it after the sinks
/// are prepared (a resuming sink reads its journal there).
pub(super) fn skippable_tasks(plan: &Plan) -> Vec<bool> {
    let total = plan.offsets.last().copied().unwrap_or(0) as usize;
    let mut skip = vec![false; total];
    for task in (0..total).rev() {
        let (_, stage, index) = locate(plan, task);
        if stage.outputs.is_empty() {
            continue;
        }
        let stored = is_stored(stage, &index);
        let kept_for_nothing = || {
            !stage.outputs.iter().any(|o| o.held)
                || plan
                    .deps
                    .downstream
                    .of(task)
                    .iter()
                    .all(|&d| skip[d as usize])
        };
        skip[task] = stored && kept_for_nothing();
    }
    skip
}

/// Per task of `tasks` (global indices of a plan whose tasks keep nothing for each other):
/// whether it is stored, so a part of the plan run again skips it.
pub(super) fn stored_tasks(plan: &Plan, tasks: Range<usize>) -> Vec<bool> {
    tasks
        .map(|task| {
            let (_, stage, index) = locate(plan, task);
            !stage.outputs.is_empty() && is_stored(stage, &index)
        })
        .collect()
}

/// Whether every write unit task `index` of `stage` covers is stored in every sink (a result
/// only kept in memory counts as stored: whether it is needed is decided apart).
fn is_stored(stage: &Stage, index: &[u64]) -> bool {
    let region = stage.tasks.chunk_region(index);
    let units = stage.units.chunks_overlapping(&region);
    stage.outputs.iter().all(|o| match &o.sink {
        Some(sink) => units.iter().all(|u| sink.is_done(u)),
        None => o.held,
    })
}
