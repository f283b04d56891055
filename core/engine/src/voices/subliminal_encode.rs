//! `subliminal_encode`: implements VOICES.md §11.
//!
//! The host prepares the segments (each source decoded, averaged to mono, resampled to the
//! track's rate, multiplied by `sin(2π·fc·j/sr)` from its own start and normalised to
//! peak 1) and the normalisation of the combined signal; this voice only combines them,
//! which is a closed-form function of the sample index (seek is exact):
//!
//!
//! * stack: `Σ_k seg_k[i mod len_k] / count`;
//! * sequence: segments one after another, each followed by 1 s of silence, looping from
//!   the first file (the original's cursor loop).
//!
//! The output is `combined · norm · amp` on both channels. No sources (or none readable
//! by the host): silence, as the original.

use crate::model::{SubliminalMode, SubliminalParams};
use crate::voices::common::StepClock;
use entrain_dsp::Frame;

/// The subliminal voice.
#[derive(Clone, Debug)]
pub struct SubliminalEncode {
    p: SubliminalParams,
    gain: f32,
    gap: u64,
    cycle: u64,
    i: u64,
}

impl SubliminalEncode {
    /// A voice over a step with `clock`.
    pub fn new(p: &SubliminalParams, clock: StepClock) -> Self {
        let gap = clock.sr as u64;
        let cycle = p.segments().iter().map(|s| s.frames + gap).sum();
        Self {
            p: *p,
            gain: p.norm * p.amp as f32,
            gap,
            cycle,
            i: 0,
        }
    }

    /// Back to the first sample.
    pub fn reset(&mut self) {
        self.i = 0;
    }

    /// Positions the voice at sample `i` (exact).
    pub fn seek(&mut self, i: u64) {
        self.i = i;
    }

    fn value(&self, i: u64, pcm: &[Frame]) -> f32 {
        let segs = self.p.segments();
        if segs.is_empty() {
            return 0.0;
        }
        match self.p.mode {
            SubliminalMode::Stack => {
                let mut acc = 0.0f32;
                for s in segs.iter() {
                    if s.frames == 0 {
                        continue;
                    }
                    let j = s.offset + i % s.frames;
                    acc += pcm.get(j as usize).map(|f| f[0]).unwrap_or(0.0);
                }
                acc / segs.len() as f32
            }
            SubliminalMode::Sequence => {
                if self.cycle == 0 {
                    return 0.0;
                }
                let mut p = i % self.cycle;
                for s in segs.iter() {
                    if p < s.frames {
                        return pcm
                            .get((s.offset + p) as usize)
                            .map(|f| f[0])
                            .unwrap_or(0.0);
                    }
                    p -= s.frames;
                    if p < self.gap {
                        return 0.0;
                    }
                    p -= self.gap;
                }
                0.0
            }
        }
    }

    /// Renders `out.len()` frames from the PCM arena.
    pub fn process(&mut self, out: &mut [Frame], pcm: &[Frame]) {
        for o in out.iter_mut() {
            let v = self.value(self.i, pcm) * self.gain;
            *o = [v, v];
            self.i += 1;
        }
    }
}
