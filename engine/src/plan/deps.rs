//! The chunk-level task DAG, from the region mappings: a task of a stage that reads a
//! materialized array depends on the producer tasks whose regions it reads. Stored as two
//! compressed adjacency arrays (upstream and downstream, 4 bytes per edge) plus nothing per task
//! but an offset: no task objects.

use crate::geometry::Region;
use crate::plan::program::{FusedProgram, ProgramInput};
use crate::plan::Stage;

/// Compressed adjacency lists over global task ids.
#[derive(Debug, Default, Clone)]
pub struct Adjacency {
    offsets: Vec<usize>,
    targets: Vec<u32>,
}

impl Adjacency {
    fn from_lists(lists: Vec<Vec<u32>>) -> Self {
        let mut offsets = Vec::with_capacity(lists.len() + 1);
        offsets.push(0);
        let mut targets = Vec::new();
        for l in lists {
            targets.extend(l);
            offsets.push(targets.len());
        }
        Self { offsets, targets }
    }

    /// The neighbours of `task`.
    pub fn of(&self, task: usize) -> &[u32] {
        match (self.offsets.get(task), self.offsets.get(task + 1)) {
            (Some(&a), Some(&b)) => &self.targets[a..b],
            _ => &[],
        }
    }

    /// Number of edges.
    pub fn len(&self) -> usize {
        self.targets.len()
    }

    /// True without edges.
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }
}

/// Upstream (what a task reads) and downstream (who reads a task) edges.
#[derive(Debug, Default, Clone)]
pub struct TaskDeps {
    /// Producer tasks each task reads from.
    pub upstream: Adjacency,
    /// Consumer tasks of each task.
    pub downstream: Adjacency,
}

/// Every (stage, region) of materialized input that `program` needs for `region`, through
/// nested region ops.
pub fn held_regions(program: &FusedProgram, region: &Region, out: &mut Vec<(usize, Region)>) {
    program.visit_reads(region, &mut |input, r| {
        if let ProgramInput::Held { stage, .. } = input {
            out.push((*stage, r.clone()));
        }
    });
}

/// Builds the task DAG of `stages` whose first tasks have global ids `offsets`.
pub fn build(stages: &[Stage], offsets: &[u64]) -> TaskDeps {
    let total = offsets.last().copied().unwrap_or(0) as usize;
    let mut probe = Vec::new();
    let any_held = stages.iter().any(|s| {
        probe.clear();
        let first = s.tasks.chunk_region(&vec![0; s.tasks.shape().len()]);
        s.num_tasks() > 0 && {
            held_regions(&s.program, &first, &mut probe);
            !probe.is_empty()
        }
    });
    if !any_held {
        // Element-wise and single-level resampling plans: no edges, nothing per task.
        return TaskDeps::default();
    }
    let mut upstream: Vec<Vec<u32>> = vec![Vec::new(); total];
    let mut downstream: Vec<Vec<u32>> = vec![Vec::new(); total];
    let mut needs = Vec::new();
    for (s, stage) in stages.iter().enumerate() {
        for local in 0..stage.num_tasks() {
            let task = (offsets[s] + local) as usize;
            let region = stage.tasks.chunk_region(&stage.tasks.unravel(local));
            needs.clear();
            held_regions(&stage.program, &region, &mut needs);
            for (producer, r) in &needs {
                let p = &stages[*producer];
                for idx in p.tasks.chunks_overlapping(r) {
                    let linear = p.tasks.ravel(&idx);
                    upstream[task].push((offsets[*producer] + linear) as u32);
                }
            }
            let ups = &mut upstream[task];
            ups.sort_unstable();
            ups.dedup();
            for &up in ups.iter() {
                downstream[up as usize].push(task as u32);
            }
        }
    }
    TaskDeps {
        upstream: Adjacency::from_lists(upstream),
        downstream: Adjacency::from_lists(downstream),
    }
}
