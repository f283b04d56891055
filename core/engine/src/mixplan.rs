//! Staged mixing: the raw voice buffers and gains of one block, for a mixer outside the
//! engine (the wgpu compute mixer of `entrain-gpu`), and the CPU reference fold.
//!
//! [`Engine::render`] does three things per block: it synthesises the voices, folds them
//! into the step mix (voice sums in voice order, the step gain, the crossfades, the host's
//! voice gain), and runs the output stage (background noise, clips, output gain, limiter).
//! This module splits that into
//!
//! 1. [`Engine::stage_block`]: synthesises the active voices of the next block into
//!    caller-provided buffers (one buffer per voice, `stride` frames apart) and writes the
//!    per-frame crossfade gains; returns a [`StagedBlock`] describing the fold;
//! 2. a mixer: [`mix_staged`] here (the reference), or a GPU mixer given the same buffers;
//! 3. [`Engine::finish_block`]: the output stage, on the folded block.
//!
//! `stage_block` → [`mix_staged`] → `finish_block` renders exactly the bits of
//! [`Engine::render`] (tests/conformance/tests/mixplan.rs proves it on every shared track).
//! A mixer that reproduces [`mix_staged`] within a tolerance reproduces the render within
//! that tolerance times the output gain.
//!
//! Nothing here allocates. The buffers are the caller's; their sizes are checked before
//! any state changes (a [`StageError`] leaves the engine as it was).
//!
//! The fold, for each frame `k` of a block, in [`StagedBlock::steps`] order (file order):
//!
//! ```text
//! o = 0
//! for each step:
//!     s = prepared ? buf[first][k]                      (a phase-aligned head, already scaled)
//!                  : scale(0 + buf[first][k] + … + buf[first+count-1][k])   (f32, in order)
//!     o = xfade ? o·g_out[k] + s·g_in[k]                 (gains row = the step's index)
//!               : o + s
//! o = voice_gain == 1 ? o : o·voice_gain
//! ```
//!
//! where `scale` is nothing, a division by the step's peak (compatible mode) or a
//! multiplication by its headroom gain (streaming mode). Every operation is a single IEEE
//! f32 `+`, `·` or `/`: an implementation that neither fuses a multiply and an add nor
//! approximates the division gets the same bits.

use super::{Engine, Memory, StepGain, TrackSource, BLOCK, MAX_ACTIVE};
use entrain_dsp::Frame;
use heapless::Vec;

/// How a step's voice sum is scaled (the engine's per-step gain).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum StepScale {
    /// No scaling.
    Unity,
    /// Divided by the step's peak (compatible mode: the original's `step /= peak`).
    Divide(f32),
    /// Multiplied by the step's headroom gain (streaming mode).
    Multiply(f32),
}

impl From<StepGain> for StepScale {
    fn from(g: StepGain) -> Self {
        match g {
            StepGain::Unity => StepScale::Unity,
            StepGain::Divide(p) => StepScale::Divide(p),
            StepGain::Multiply(g) => StepScale::Multiply(g),
        }
    }
}

/// One sounding step of a staged block.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StagedStep {
    /// Its first voice buffer.
    pub first: usize,
    /// Its voice buffers (`first..first + count`, in voice order).
    pub count: usize,
    /// Scale of the voice sum.
    pub scale: StepScale,
    /// Buffer `first` is the finished step (a phase-aligned crossfade head, pre-rendered
    /// and already scaled): taken as is, not summed from zero (`count` is 1, `scale`
    /// [`StepScale::Unity`]).
    pub prepared: bool,
    /// The step crossfades in during the whole block: the gains row with the step's index
    /// holds `[g_out, g_in]` per frame (the fold so far is multiplied by `g_out`).
    pub xfade: bool,
}

/// What [`Engine::stage_block`] staged: the layout of one block's buffers.
#[derive(Clone, Debug, PartialEq)]
pub struct StagedBlock {
    /// Track frame of the block's first frame.
    pub pos: u64,
    /// Frames in the block (≤ the buffers' stride; blocks end where steps start or end).
    pub frames: usize,
    /// Distance between voice buffers (and between gain rows), frames.
    pub stride: usize,
    /// Voice buffers used (`0..voices`).
    pub voices: usize,
    /// The sounding steps, in file order (fold order).
    pub steps: Vec<StagedStep, MAX_ACTIVE>,
    /// The host's voice gain (config.toml `voice_gain`), applied after the fold unless 1.
    pub voice_gain: f32,
}

/// Caller-provided buffers for [`Engine::stage_block`].
#[derive(Debug)]
pub struct StageBuffers<'a> {
    /// Voice buffers: buffer `b` is `voices[b·stride .. b·stride + frames]`. At least
    /// [`Engine::stage_voice_capacity`] · `stride` frames.
    pub voices: &'a mut [Frame],
    /// Crossfade gains `[g_out, g_in]`: row `i` (the `i`-th staged step) is
    /// `gains[i·stride .. i·stride + frames]`. At least [`MAX_ACTIVE`] · `stride`.
    pub gains: &'a mut [[f32; 2]],
    /// Frames per buffer: the largest block staged.
    pub stride: usize,
}

/// Buffers too small for [`Engine::stage_block`] (a caller bug; nothing was rendered).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StageError {
    /// Voice frames needed (`stage_voice_capacity · stride`).
    pub voice_frames: usize,
    /// Gain frames needed (`MAX_ACTIVE · stride`).
    pub gain_frames: usize,
}

impl<T: TrackSource, M: Memory> Engine<T, M> {
    /// Voice buffers a staged block may need: the voice pool, plus one per step for a
    /// phase-aligned head of a step without voices.
    pub fn stage_voice_capacity(&mut self) -> usize {
        self.mem.parts().voices.len() + MAX_ACTIVE
    }

    /// Synthesises the next block (at most `max_frames` and `bufs.stride` frames, ending
    /// where a step starts or ends) into `bufs`, advances the position past it and
    /// describes it; `Ok(None)` at the end of the track.
    ///
    /// Pass the result, once mixed, to [`Engine::finish_block`], block by block in order
    /// (the noise generator and the limiter run on): `stage_block`, mix, `finish_block`
    /// renders what [`Engine::render`] renders. Another block may be staged before the
    /// previous one is finished (to overlap synthesis with a GPU mix); do not seek or
    /// render in between.
    pub fn stage_block(
        &mut self,
        bufs: &mut StageBuffers<'_>,
        max_frames: usize,
    ) -> Result<Option<StagedBlock>, StageError> {
        let stride = bufs.stride;
        let err = StageError {
            voice_frames: self.stage_voice_capacity().saturating_mul(stride),
            gain_frames: MAX_ACTIVE.saturating_mul(stride),
        };
        if stride == 0 || bufs.voices.len() < err.voice_frames || bufs.gains.len() < err.gain_frames
        {
            return Err(err);
        }
        if self.pos >= self.total || max_frames == 0 {
            return Ok(None);
        }
        if self.pos >= self.next_event {
            self.update_active();
        }
        // As `render`: the active set is constant up to the next event.
        let m = max_frames
            .min(stride)
            .min((self.next_event - self.pos) as usize)
            .min((self.total - self.pos) as usize)
            .max(1);
        let pos = self.pos;
        let parts = self.mem.parts();
        let pcm = self.track.pcm();
        let mut steps: Vec<StagedStep, MAX_ACTIVE> = Vec::new();
        let mut b = 0usize;
        for (i, a) in self.active.iter().enumerate() {
            let p = self.tl.placements[a.placement];
            let local = pos - p.start;
            let first = b;
            let (count, scale, prepared) = match a.head {
                Some(h) if local < p.xfade => {
                    // The rotated pre-rendered head, exactly as `mix_block` reads it.
                    let off = (2 + h) * self.max_x;
                    let x = p.xfade;
                    let lag = self.lags[a.placement] % x;
                    let dst = &mut bufs.voices[b * stride..b * stride + m];
                    for (k, f) in dst.iter_mut().enumerate() {
                        let idx = (local + k as u64 + x - lag) % x;
                        *f = parts.align[off + idx as usize];
                    }
                    b += 1;
                    (1, StepScale::Unity, true)
                }
                _ => {
                    for &s in a.slots.iter() {
                        let Some(v) = parts.voices.get_mut(s as usize) else {
                            continue;
                        };
                        let dst = &mut bufs.voices[b * stride..b * stride + m];
                        // In the engine's block size, as `render_step_into` drives voices.
                        for chunk in dst.chunks_mut(BLOCK) {
                            v.process_with(chunk, parts.filters, pcm);
                        }
                        b += 1;
                    }
                    (b - first, self.gains[a.placement].into(), false)
                }
            };
            let xfade = local < p.xfade;
            if xfade {
                let row = &mut bufs.gains[i * stride..i * stride + m];
                for (k, g) in row.iter_mut().enumerate() {
                    let j = local + k as u64;
                    // Past the window (never inside a block: windows end at events) the
                    // gains are 1, and o·1 + s·1 has the bits of o + s.
                    *g = if j < p.xfade {
                        let (g_out, g_in) = p.curve.gains(j, p.xfade);
                        [g_out, g_in]
                    } else {
                        [1.0, 1.0]
                    };
                }
            }
            let _ = steps.push(StagedStep {
                first,
                count,
                scale,
                prepared,
                xfade,
            });
        }
        self.pos += m as u64;
        Ok(Some(StagedBlock {
            pos,
            frames: m,
            stride,
            voices: b,
            steps,
            voice_gain: self.mix.voices,
        }))
    }

    /// The output stage of a staged block: `out[..block.frames]` holds its fold (from
    /// [`mix_staged`] or another mixer); adds the background noise and clips, applies the
    /// output gain and (streaming) the limiter, as [`Engine::render`] does.
    pub fn finish_block(&mut self, block: &StagedBlock, out: &mut [Frame]) {
        let m = block.frames.min(out.len());
        let out = &mut out[..m];
        if let Some(n) = self.noise.as_mut() {
            // With the PCM arena, as `Engine::render` does: a noise layer rendered from an
            // input file plays from there (without it the staged path was silent).
            n.add_from(block.pos, out, self.mix.noise as f64, self.track.pcm());
        }
        let tr = self.track.track();
        if !tr.clips.is_empty() {
            super::mix_clips(tr.clips, self.track.pcm(), block.pos, out, self.mix.clips);
        }
        self.output_stage(out);
    }

    /// [`Engine::render`] through the staged path with the CPU reference mixer: same
    /// contract, same bits (the equivalence test's subject). `bufs` as for
    /// [`Engine::stage_block`].
    pub fn render_staged(
        &mut self,
        bufs: &mut StageBuffers<'_>,
        out: &mut [Frame],
    ) -> Result<usize, StageError> {
        let mut done = 0;
        while done < out.len() {
            let Some(block) = self.stage_block(bufs, out.len() - done)? else {
                break;
            };
            let o = &mut out[done..done + block.frames];
            mix_staged(&block, bufs.voices, bufs.gains, o);
            self.finish_block(&block, o);
            done += block.frames;
        }
        for f in out[done..].iter_mut() {
            *f = [0.0, 0.0];
        }
        Ok(done)
    }
}

/// The reference fold of a staged block (see the module docs) into `out[..block.frames]`.
/// `voices` and `gains` are the buffers [`Engine::stage_block`] filled.
pub fn mix_staged(block: &StagedBlock, voices: &[Frame], gains: &[[f32; 2]], out: &mut [Frame]) {
    let m = block.frames.min(out.len());
    let stride = block.stride;
    let out = &mut out[..m];
    for f in out.iter_mut() {
        *f = [0.0, 0.0];
    }
    let mut step = [[0.0f32; 2]; BLOCK];
    for chunk in (0..m).step_by(BLOCK) {
        let n = (m - chunk).min(BLOCK);
        let o = &mut out[chunk..chunk + n];
        for (i, st) in block.steps.iter().enumerate() {
            let s = &mut step[..n];
            let at = |b: usize| b * stride + chunk;
            if st.prepared {
                s.copy_from_slice(&voices[at(st.first)..at(st.first) + n]);
            } else {
                for f in s.iter_mut() {
                    *f = [0.0, 0.0];
                }
                for b in st.first..st.first + st.count {
                    for (a, v) in s.iter_mut().zip(&voices[at(b)..at(b) + n]) {
                        a[0] += v[0];
                        a[1] += v[1];
                    }
                }
                match st.scale {
                    StepScale::Unity => {}
                    StepScale::Divide(p) => {
                        for f in s.iter_mut() {
                            f[0] /= p;
                            f[1] /= p;
                        }
                    }
                    StepScale::Multiply(g) => {
                        for f in s.iter_mut() {
                            f[0] *= g;
                            f[1] *= g;
                        }
                    }
                }
            }
            if st.xfade {
                let row = &gains[at(i)..at(i) + n];
                for ((o, s), g) in o.iter_mut().zip(s.iter()).zip(row) {
                    o[0] = o[0] * g[0] + s[0] * g[1];
                    o[1] = o[1] * g[0] + s[1] * g[1];
                }
            } else {
                for (o, s) in o.iter_mut().zip(s.iter()) {
                    o[0] += s[0];
                    o[1] += s[1];
                }
            }
        }
    }
    if block.voice_gain != 1.0 {
        let g = block.voice_gain;
        for f in out.iter_mut() {
            f[0] *= g;
            f[1] *= g;
        }
    }
}
