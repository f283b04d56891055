//! Pool slots of the per-voice post chain: zero-phase filters and the per-voice effects
//! (spatializer, flanger, the SAM voice's overlap-add ring), and the state of the noise
//! voices (the swept-notch generator, ~6.6 KB, which would triple the size of every voice
//! slot).
//!
//! A [`FilterSlot`] holds either a streaming zero-phase filter
//! ([`entrain_dsp::filter::ZeroPhase`]: isochronic harmonic suppression, the qam/hybrid
//! output filters) or an effect ([`FxState`]), which then uses the filter's 64 KiB frame
//! buffer as its ring ([`FX_RING`] frames): the delay lines of a spatializer (§15, 512
//! frames used), of one or two flanger instances (§14, 4,096 frames each: the start and
//! end flangers of a transition run side by side), or the overlap-add accumulator of
//! `spatial_angle_modulation` (§9). Keeping this state out of the voices keeps every voice
//! slot small (~2 KiB; these buffers would multiply it by thirty), one pool type keeps the
//! engine's memory API unchanged (hosts allocate [`crate::engine::Requirements::filters`]
//! slots, which counts effects), and switching a slot between uses happens in place,
//! without a 64 KiB stack temporary.

use crate::model::{FlangerSpec, NoiseVoiceParams, TransitionSpec};
use entrain_dsp::burst::{self, Bursts};
use entrain_dsp::filter::{Sos, ZeroPhase};
use entrain_dsp::flanger::{self, Flanger};
use entrain_dsp::ramp::Ramp;
use entrain_dsp::spatial::{self, Spatializer};
use entrain_dsp::Frame;

use super::noise_swept_notch::NoiseSweptNotch;
use super::sam::SamOla;
use super::StepClock;
use super::ZERO_PHASE_CAP;

/// Frames of an effect's ring: two flanger instances (2 × [`flanger::RING`]), or the SAM
/// overlap-add accumulator. It is the zero-phase filter's buffer.
pub const FX_RING: usize = ZERO_PHASE_CAP;

const _: () = assert!(
    FX_RING >= 2 * flanger::RING
        && FX_RING >= spatial::RING
        && FX_RING >= burst::BUFFER
        && FX_RING >= entrain_dsp::noise::notch::STATE_FRAMES
);

/// One slot of the post-chain pool: a zero-phase filter, or an effect using the filter's
/// buffer as its ring.
#[derive(Clone, Debug)]
pub struct FilterSlot {
    zp: ZeroPhase<ZERO_PHASE_CAP>,
    fx: FxState,
}

impl FilterSlot {
    /// An unused slot. `const`, so that pools can live in statics without a stack
    /// temporary.
    pub const fn idle() -> Self {
        Self {
            zp: ZeroPhase::idle(),
            fx: FxState::Idle,
        }
    }

    /// Re-initialises the slot in place as the zero-phase filter `sos` over `n` frames.
    pub fn reinit_filter(&mut self, sos: Sos, n: u64, padlen: usize) {
        self.fx = FxState::Idle;
        self.zp.reinit(sos, n, padlen);
    }

    /// The zero-phase filter, if the slot holds no effect.
    pub fn filter_mut(&mut self) -> Option<&mut ZeroPhase<ZERO_PHASE_CAP>> {
        match self.fx {
            FxState::Idle => Some(&mut self.zp),
            _ => None,
        }
    }

    /// The effect held, if any.
    pub fn fx(&self) -> &FxState {
        &self.fx
    }

    /// Starts a spatializer in place.
    pub fn start_spatial(&mut self, cfg: &spatial::Config, duration: f64, sr: f64) {
        self.fx = FxState::Spatial(Spatializer::new(cfg, duration, sr));
        Spatializer::clear_ring(self.zp.scratch_mut());
    }

    /// Starts the flanger of `spec` in place; `ramp` is the voice's transition ramp when
    /// the two ends are crossfaded.
    pub fn start_flanger(&mut self, spec: &FlangerSpec, ramp: Option<Ramp>, sr: f64) {
        self.fx = FxState::Flanger(FlangerFx::new(spec, ramp, sr));
        clear(self.zp.scratch_mut());
    }

    /// Starts the glitch bursts of a binaural transition in place.
    pub fn start_glitch(&mut self, bursts: Bursts) {
        self.fx = FxState::Glitch(bursts);
    }

    /// Starts a SAM overlap-add state in place, measuring its peak (a pre-pass over the
    /// whole voice, VOICES.md §9.2 step 5).
    pub fn start_sam(&mut self, mut ola: SamOla) {
        let ring = self.zp.scratch_mut();
        clear(ring);
        ola.measure_peak(ring);
        self.fx = FxState::Sam(ola);
    }

    /// Starts the generator of a noise voice in place (the slot is the voice's source; the
    /// ring holds the generator's filter states).
    pub fn start_noise(
        &mut self,
        p: &NoiseVoiceParams,
        transition: Option<&TransitionSpec>,
        clock: StepClock,
    ) {
        let ring = self.zp.scratch_mut();
        self.fx = FxState::Noise(NoiseSweptNotch::new(p, transition, clock, ring));
    }

    /// Positions an effect at sample `i` when it can do so without replaying its input
    /// (the SAM and noise voices); `false` otherwise.
    pub fn seek_fx(&mut self, i: u64) -> bool {
        let ring = self.zp.scratch_mut();
        match &mut self.fx {
            FxState::Sam(s) => {
                s.seek(i, ring);
                true
            }
            FxState::Noise(v) => {
                v.seek(i, ring);
                true
            }
            _ => false,
        }
    }

    /// Back to the state right after `start_*` (a filter is reset by its voice slot).
    pub fn reset_fx(&mut self) {
        let ring = self.zp.scratch_mut();
        match &mut self.fx {
            FxState::Idle => {}
            FxState::Spatial(s) => {
                s.reset();
                Spatializer::clear_ring(ring);
            }
            FxState::Flanger(f) => {
                f.reset();
                clear(ring);
            }
            FxState::Sam(s) => {
                s.reset();
                clear(ring);
            }
            FxState::Glitch(b) => b.reset(),
            FxState::Noise(v) => v.reset(ring),
        }
    }

    /// Runs the effect over `io` in place (the SAM state writes its voice's output).
    pub fn process_fx(&mut self, io: &mut [Frame]) {
        let ring = self.zp.scratch_mut();
        match &mut self.fx {
            FxState::Spatial(s) => s.process(io, &mut ring[..spatial::RING]),
            FxState::Flanger(f) => f.process(io, ring),
            FxState::Glitch(b) => b.add_to(io, &mut ring[..burst::BUFFER]),
            FxState::Sam(s) => s.render(io, ring),
            FxState::Noise(v) => v.process(io, ring),
            FxState::Idle => {}
        }
    }
}

fn clear(ring: &mut [Frame]) {
    ring.iter_mut().for_each(|f| *f = [0.0; 2]);
}

/// What an effect slot runs.
// Held once per pool slot next to a 64 KiB buffer; boxing is not an option in no_std.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum FxState {
    /// Nothing (the slot is a zero-phase filter, possibly idle).
    Idle,
    /// A mid/side spatializer (ring frames `[0, spatial::RING)`).
    Spatial(Spatializer),
    /// A flanger, or two crossfaded (rings `[0, 4096)` and `[4096, 8192)`).
    Flanger(FlangerFx),
    /// The SAM voice's overlap-add state (the whole ring).
    Sam(SamOla),
    /// Glitch bursts of a binaural transition (two burst buffers in the ring).
    Glitch(Bursts),
    /// A noise voice's generator (writes the voice's output; its filter states are the
    /// first `STATE_FRAMES` frames of the ring).
    Noise(NoiseSweptNotch),
}

/// The flanger of one voice: one instance, or the start and end instances crossfaded by
/// the voice's transition α (VOICES.md §14.1: `y = y_s·(1-α) + y_e·α` in f64, each end
/// dry when disabled).
#[derive(Clone, Debug)]
pub struct FlangerFx {
    start: Option<Flanger>,
    end: Option<Flanger>,
    fade: Option<Ramp>,
    i: u64,
}

impl FlangerFx {
    /// The flanger of `spec`; `ramp` (the voice's transition ramp) selects the crossfade.
    pub fn new(spec: &FlangerSpec, ramp: Option<Ramp>, sr: f64) -> Self {
        match ramp {
            Some(r) => Self {
                start: spec.enable[0].then(|| Flanger::new(&spec.start, sr)),
                end: spec.enable[1].then(|| Flanger::new(&spec.end, sr)),
                fade: Some(r),
                i: 0,
            },
            None => Self {
                start: Some(Flanger::new(&spec.start, sr)),
                end: None,
                fade: None,
                i: 0,
            },
        }
    }

    /// Back to the state right after `new` (the ring must be cleared too).
    pub fn reset(&mut self) {
        if let Some(f) = self.start.as_mut() {
            f.reset();
        }
        if let Some(f) = self.end.as_mut() {
            f.reset();
        }
        self.i = 0;
    }

    /// Renders a block in place.
    pub fn process(&mut self, io: &mut [Frame], ring: &mut [Frame; FX_RING]) {
        let (ra, rb) = ring.split_at_mut(flanger::RING);
        let rb = &mut rb[..flanger::RING];
        match &self.fade {
            None => {
                if let Some(f) = self.start.as_mut() {
                    f.process(io, ra);
                }
                self.i += io.len() as u64;
            }
            Some(ramp) => {
                for x in io.iter_mut() {
                    let ys = match self.start.as_mut() {
                        Some(f) => f.next_frame(*x, ra),
                        None => *x,
                    };
                    let ye = match self.end.as_mut() {
                        Some(f) => f.next_frame(*x, rb),
                        None => *x,
                    };
                    let a = ramp.alpha(self.i);
                    *x = [
                        (ys[0] as f64 * (1.0 - a) + ye[0] as f64 * a) as f32,
                        (ys[1] as f64 * (1.0 - a) + ye[1] as f64 * a) as f32,
                    ];
                    self.i += 1;
                }
            }
        }
    }
}
