//! Evaluating a stage's program over a region: reading sources, assembling results kept in
//! memory, computing region ops from their sub-programs, then the fused element-wise pass.

use std::sync::Arc;

use crate::buffer::Buffer;
use crate::error::{Error, Result};
use crate::exec::tasks::PlanTasks;
use crate::geometry::{append_region, extract_region, fills_in_order, tiled_box, Region};
use crate::op::RegionData;
use crate::plan::piece_by_piece;
use crate::plan::{FusedProgram, ProgramInput};
use crate::store::Source;

/// Source reads of one block task, shared by its units.
#[derive(Default)]
pub(super) struct ReadCache {
    pub(super) entries: Vec<(Arc<dyn Source>, Region, Buffer)>,
}

impl ReadCache {
    /// A cached read of `source` that covers `needed`.
    pub(super) fn get(
        &self,
        source: &Arc<dyn Source>,
        needed: &Region,
    ) -> Option<(&Region, &Buffer)> {
        self.entries
            .iter()
            .find(|(s, r, _)| Arc::ptr_eq(s, source) && r.contains(needed))
            .map(|(_, r, b)| (r, b))
    }

    /// The cached read behind a sub-program that only passes one source through, covering
    /// `needed`.
    fn direct(&self, program: &FusedProgram, needed: &Region) -> Option<(&Region, &Buffer)> {
        match (program.passthrough().as_deref(), program.inputs.first()) {
            (Some([0]), Some(ProgramInput::Source(source))) => self.get(source, needed),
            _ => None,
        }
    }
}

/// The output of a region op that only copies its pieces ([`crate::Op::copies_pieces`]) over
/// `region`, built by appending them when the boxes asked for are consecutive runs of `region`
/// in C order ([`fills_in_order`]): no zero-filled buffer for the copies to overwrite. `None`
/// leaves the op to compute it.
fn appended(
    op: &dyn crate::Op,
    views: &[RegionData<'_>],
    region: &Region,
) -> Result<Option<Buffer>> {
    let Some(first) = views.first().filter(|_| op.copies_pieces()) else {
        return Ok(None);
    };
    let asked: Vec<Region> = views.iter().map(|v| v.asked.clone()).collect();
    if !fills_in_order(&asked, region) {
        return Ok(None);
    }
    let mut out = Buffer::with_capacity(first.data.dtype(), region.num_elements() as usize);
    for v in views {
        append_region(&mut out, v.data, v.region, v.asked)?;
    }
    Ok(Some(out))
}

/// One input box handed to a region op.
enum Piece<'a> {
    /// Computed for this op.
    Mine(Buffer),
    /// A block task's cached read.
    Borrowed(&'a Buffer),
    /// A kept result of an earlier stage.
    Shared(Arc<Buffer>),
}

impl Piece<'_> {
    fn data(&self) -> &Buffer {
        match self {
            Piece::Mine(b) => b,
            Piece::Borrowed(b) => b,
            Piece::Shared(b) => b,
        }
    }
}

impl PlanTasks<'_> {
    /// The kept result behind a sub-program that only passes one earlier stage's output
    /// through, when `needed` is exactly one of that stage's task regions.
    fn whole_held(&self, program: &FusedProgram, needed: &Region) -> Result<Option<Arc<Buffer>>> {
        match (program.passthrough().as_deref(), program.inputs.first()) {
            (Some([0]), Some(ProgramInput::Held { stage, output, .. })) => self.held.whole(
                &self.plan.stages[*stage].tasks,
                self.plan.offsets[*stage],
                *output,
                needed,
            ),
            _ => Ok(None),
        }
    }

    /// The decoded chunk a source keeps that holds `needed`, shared ([`Source::read_shared`]),
    /// when `program` only passes that source through.
    fn shared_source_read(
        &self,
        program: &FusedProgram,
        needed: &Region,
    ) -> Result<Option<(Region, Arc<Buffer>)>> {
        match (program.passthrough().as_deref(), program.inputs.first()) {
            (Some([0]), Some(ProgramInput::Source(source))) => source
                .read_shared(needed, &self.io)
                .map_err(|e| Error::Invalid(format!("reading {}: {e}", source.describe()))),
            _ => Ok(None),
        }
    }

    /// One read of the box that `pieces` tile, when `program` only passes a source through, that
    /// source reads whole boxes best ([`Source::reads_whole_boxes`]), and no block read already
    /// holds them.
    fn whole_box_read(
        &self,
        program: &FusedProgram,
        pieces: &[Region],
        cache: Option<&ReadCache>,
    ) -> Result<Option<(Region, Buffer)>> {
        let (Some(source), Some(bounds)) = (program.whole_box_source(), tiled_box(pieces)) else {
            return Ok(None);
        };
        if cache.is_some_and(|c| c.get(source, &bounds).is_some()) {
            return Ok(None);
        }
        let data = source
            .read(&bounds, &self.io)
            .map_err(|e| Error::Invalid(format!("reading {}: {e}", source.describe())))?;
        Ok(Some((bounds, data)))
    }

    /// A piecewise region op ([`crate::Op::piecewise`]) over `region`, its input boxes `boxes`
    /// of `program` read (or borrowed) one at a time, each dropped before the next is read.
    #[allow(clippy::too_many_arguments)]
    fn piece_by_piece(
        &self,
        op: &dyn crate::Op,
        program: &FusedProgram,
        boxes: &[Region],
        region: &Region,
        dtype: crate::DType,
        regs: &mut Vec<Buffer>,
        cache: Option<&ReadCache>,
    ) -> Result<Buffer> {
        let len = region.num_elements() as usize;
        let appending = op.copies_pieces() && fills_in_order(boxes, region);
        let mut out = match appending {
            true => Buffer::with_capacity(dtype, len),
            false => Buffer::zeros(dtype, len),
        };
        for asked in boxes {
            let piece = self.piece(program, asked, regs, cache)?;
            if appending {
                append_region(&mut out, piece.1.data(), &piece.0, asked)?;
                continue;
            }
            let view = RegionData {
                region: &piece.0,
                asked,
                data: piece.1.data(),
            };
            op.compute_piece(&view, region, &mut out)?;
        }
        Ok(out)
    }

    /// One input box `asked` of a region op, computed by `program`, with the region its data
    /// covers: a block task's cached read borrowed as is (it may cover more), a kept result
    /// shared as is (one producer task's whole region), a source's cached chunk shared as is
    /// (it may cover more), or else computed for the op.
    fn piece<'c>(
        &self,
        program: &FusedProgram,
        asked: &Region,
        regs: &mut Vec<Buffer>,
        cache: Option<&'c ReadCache>,
    ) -> Result<(Region, Piece<'c>)> {
        if let Some((cached, data)) = cache.and_then(|c| c.direct(program, asked)) {
            return Ok((cached.clone(), Piece::Borrowed(data)));
        }
        if let Some(kept) = self.whole_held(program, asked)? {
            return Ok((asked.clone(), Piece::Shared(kept)));
        }
        if let Some((covers, data)) = self.shared_source_read(program, asked)? {
            return Ok((covers, Piece::Shared(data)));
        }
        let mut computed = vec![Buffer::default()];
        self.eval(program, asked, &mut computed, regs, cache)?;
        Ok((
            asked.clone(),
            Piece::Mine(computed.pop().unwrap_or_default()),
        ))
    }

    /// Computes `program`'s outputs over `region` into `outputs`.
    pub(super) fn eval(
        &self,
        program: &FusedProgram,
        region: &Region,
        outputs: &mut [Buffer],
        regs: &mut Vec<Buffer>,
        cache: Option<&ReadCache>,
    ) -> Result<()> {
        let regions = program.input_regions(region);
        let mut inputs = program
            .inputs
            .iter()
            .zip(&regions)
            .map(|(input, r)| self.input(input, r, regs, cache))
            .collect::<Result<Vec<Buffer>>>()?;
        if let Some(sources) = program.passthrough() {
            // Outputs that are inputs unchanged (a resample written as is): move, don't copy.
            for (k, &i) in sources.iter().enumerate() {
                outputs[k] = if sources[k + 1..].contains(&i) {
                    inputs[i].clone()
                } else {
                    std::mem::take(&mut inputs[i])
                };
            }
            return Ok(());
        }
        program.run(&inputs, outputs, regs, region.num_elements() as usize)
    }

    /// Reads every source the program needs for `region` into `cache`, once.
    pub(super) fn prefetch(
        &self,
        program: &FusedProgram,
        region: &Region,
        cache: &mut ReadCache,
    ) -> Result<()> {
        let mut outcome = Ok(());
        program.visit_reads(region, &mut |input, r| {
            let ProgramInput::Source(source) = input else {
                return;
            };
            if outcome.is_err() || cache.get(source, r).is_some() {
                return;
            }
            match source.read(r, &self.io) {
                Ok(data) => cache.entries.push((Arc::clone(source), r.clone(), data)),
                Err(e) => {
                    outcome = Err(Error::Invalid(format!(
                        "reading {}: {e}",
                        source.describe()
                    )))
                }
            }
        });
        outcome
    }

    fn input(
        &self,
        input: &ProgramInput,
        region: &Region,
        regs: &mut Vec<Buffer>,
        cache: Option<&ReadCache>,
    ) -> Result<Buffer> {
        match input {
            ProgramInput::Source(source) => match cache.and_then(|c| c.get(source, region)) {
                Some((cached, data)) => Ok(extract_region(data, cached, region)),
                None => source
                    .read(region, &self.io)
                    .map_err(|e| Error::Invalid(format!("reading {}: {e}", source.describe()))),
            },
            ProgramInput::Held {
                stage,
                output,
                meta,
            } => self.held.assemble(
                &self.plan.stages[*stage].tasks,
                self.plan.offsets[*stage],
                *output,
                region,
                meta.dtype,
            ),
            ProgramInput::Region {
                op,
                inputs,
                input_metas,
                dtype,
            } => {
                let in_pieces = op.input_pieces(region, input_metas);
                if piece_by_piece(op.as_ref(), inputs, &in_pieces) {
                    return self
                        .piece_by_piece(
                            op.as_ref(),
                            &inputs[0],
                            &in_pieces[0],
                            region,
                            *dtype,
                            regs,
                            cache,
                        )
                        .map_err(|e| {
                            Error::Invalid(format!("{}({}): {e}", op.name(), op.describe()))
                        });
                }
                // Per box: where its data lies, the box asked for, the data.
                let mut owned: Vec<(Region, &Region, Piece<'_>)> = Vec::with_capacity(inputs.len());
                let mut pieces = Vec::new();
                for (sub, rs) in inputs.iter().zip(&in_pieces) {
                    // Boxes tiling one box of a source that reads whole boxes best (sharded):
                    // read once, shared by every box.
                    if let Some(whole) = self.whole_box_read(sub, rs, cache)? {
                        let (bounds, data) = (whole.0, Arc::new(whole.1));
                        for r in rs {
                            owned.push((bounds.clone(), r, Piece::Shared(Arc::clone(&data))));
                        }
                        continue;
                    }
                    pieces.extend(rs.iter().map(|r| (sub, r)));
                }
                for (sub, r) in pieces {
                    let (bounds, piece) = self.piece(sub, r, regs, cache)?;
                    owned.push((bounds, r, piece));
                }
                let views: Vec<RegionData<'_>> = owned
                    .iter()
                    .map(|(region, asked, piece)| RegionData {
                        region,
                        asked,
                        data: piece.data(),
                    })
                    .collect();
                match appended(op.as_ref(), &views, region)? {
                    Some(out) => Ok(out),
                    None => op.compute_region(&views, region),
                }
                .map_err(|e| Error::Invalid(format!("{}({}): {e}", op.name(), op.describe())))
            }
        }
    }
}
