//! Session-Builder `dual_pulse_binaural` and its transition: implements VOICES.md §13.1.
//!
//! A [`BinauralBeat`] (VOICES.md §1; `forceMono` forces `beatFreq = 0`, done by the
//! parser) whose ears are multiplied by their own pulse envelopes: the isochronic
//! trapezoid at `pulseRate` (falling back to `beatFreq`), with its own ramp, gap, phase
//! offset (cycles), shape (trapezoid, square gate, raised cosine) and depth
//! (`env = (1 - depth) + depth·env`). The envelope is closed-form in `t = i/sr`:
//! `τ = (t + frac(offset)·C) mod C`, evaluated as a Q0.64 cycle position.
//!
//! Transition (not described by VOICES.md; taken from Session-Builder's
//! `dual_pulse_binaural_transition`): the binaural core is `binaural_beat_transition`
//! with the voice's timing; the pulse envelopes are **not** interpolated parameter by
//! parameter: the start envelope and the end envelope (each with its own rate, ramp,
//! gap, offset, shape and depth) are rendered and cross-faded with the transition α
//! rounded to f32: `env = env_start·(1 - α) + env_end·α`.
//!
//! Not implemented: Session-Builder's auto-pan stage of the binaural core (VOICES.md
//! §1.5, not implemented by [`BinauralBeat`] either), its `harmonicSuppression`
//! low-pass (an SB extension absent from VOICES.md), the spatializer and the flanger. No
//! reference renders exist for this voice; it is checked by unit tests only.

use super::binaural_beat::BinauralBeat;
use super::common::{unit, StepClock};
use super::prim::{inc, lfo, voice_ramp};
use crate::model::{DualPulseParams, PulseShape, PulseSpec, TransitionSpec};
use entrain_dsp::math;
use entrain_dsp::osc::Trapezoid;
use entrain_dsp::phase::turns_to_q64;
use entrain_dsp::ramp::Ramp;
use entrain_dsp::Frame;

/// One pulse envelope, precomputed.
#[derive(Clone, Copy, Debug)]
struct Pulse {
    on: bool,
    inc: u64,
    off: u64,
    trap: Trapezoid,
    shape: PulseShape,
    depth: f32,
}

impl Pulse {
    fn new(s: &PulseSpec, sr: f64) -> Self {
        let depth = s.depth.clamp(0.0, 1.0);
        Pulse {
            on: s.rate > 0.0 && depth != 0.0,
            inc: inc(s.rate, 1.0 / sr),
            off: turns_to_q64(math::frac(s.phase_offset)),
            trap: Trapezoid::new(s.ramp.clamp(0.0, 1.0) as f32, s.gap.clamp(0.0, 1.0) as f32),
            shape: s.shape,
            depth: depth as f32,
        }
    }

    #[inline]
    fn env(&self, i: u64) -> f32 {
        if !self.on {
            return 1.0;
        }
        let e = self.trap.at(unit(lfo(self.inc, self.off, i)));
        let e = match self.shape {
            PulseShape::Trapezoid => e,
            PulseShape::Square => {
                if e > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            // cos(π·e) = cos of e/2 turns
            PulseShape::RaisedCosine => 0.5 - 0.5 * math::cos_turns(math::unit_to_turns(e * 0.5)),
        };
        if self.depth < 1.0 {
            (1.0 - self.depth) + self.depth * e
        } else {
            e
        }
    }
}

/// The dual-pulse binaural voice.
#[derive(Clone, Debug)]
pub struct DualPulseBinaural {
    core: BinauralBeat,
    clock: StepClock,
    /// `[ear][start, end]`.
    pulse: [[Pulse; 2]; 2],
    transition: bool,
    ramp: Ramp,
    i: u64,
}

impl DualPulseBinaural {
    /// A voice over a step with `clock`; `transition` carries the ramp timing of the
    /// `_transition` variant (None = static voice).
    pub fn new(p: &DualPulseParams, transition: Option<&TransitionSpec>, clock: StepClock) -> Self {
        Self {
            core: BinauralBeat::new(&p.binaural, transition, clock),
            clock,
            pulse: core::array::from_fn(|e| {
                core::array::from_fn(|k| Pulse::new(&p.pulse[e][k], clock.sr))
            }),
            transition: transition.is_some(),
            ramp: voice_ramp(transition, &clock),
            i: 0,
        }
    }

    /// Back to the state right after `new`.
    pub fn reset(&mut self) {
        self.core.reset();
        self.i = 0;
    }

    /// The next frame.
    #[inline]
    pub fn next_frame(&mut self) -> Frame {
        let i = self.i;
        self.i += 1;
        let f = self.core.next_frame();
        let a = if self.transition {
            self.ramp.alpha(i) as f32
        } else {
            0.0
        };
        let mut out = f;
        for (o, [s, t]) in out.iter_mut().zip(&self.pulse) {
            let env = if self.transition {
                s.env(i) * (1.0 - a) + t.env(i) * a
            } else {
                s.env(i)
            };
            *o *= env;
        }
        out
    }

    /// Renders `out.len()` frames (exactly the frames of repeated [`Self::next_frame`]).
    pub fn process(&mut self, out: &mut [Frame]) {
        for o in out.iter_mut() {
            *o = self.next_frame();
        }
    }

    /// Positions the voice at sample `i` (the envelopes are closed-form; the binaural
    /// core's own `seek` positions the carriers).
    pub fn seek(&mut self, i: u64) {
        let i = i.min(self.clock.n);
        self.core.seek(i);
        self.i = i;
    }
}

#[cfg(test)]
mod tests {
    use super::super::prim::testing::unit_checks;
    use super::*;
    use crate::model::Pair;
    use entrain_dsp::ramp::Curve;

    fn params() -> DualPulseParams {
        let mut p = DualPulseParams::default();
        p.binaural.base_freq = Pair::new(200.0, 180.0);
        p.binaural.beat_freq = Pair::new(6.0, 4.0);
        p.pulse[0][0].rate = 6.0;
        p.pulse[0][1] = PulseSpec {
            rate: 3.0,
            shape: PulseShape::RaisedCosine,
            depth: 0.7,
            ..PulseSpec::default()
        };
        p.pulse[1] = [
            PulseSpec {
                rate: 5.0,
                phase_offset: 1.25,
                shape: PulseShape::Square,
                ..PulseSpec::default()
            },
            PulseSpec {
                rate: 0.0,
                ..PulseSpec::default()
            },
        ];
        p
    }

    #[test]
    fn unit_contract_static_and_transition() {
        let clock = StepClock::new(0.5, 8000.0);
        let n = clock.n as usize;
        let v = DualPulseBinaural::new(&params(), None, clock);
        unit_checks(
            &v,
            n,
            0.5,
            |v, o| v.process(o),
            |v| v.reset(),
            Some(|v, i| v.seek(i)),
        );
        let t = TransitionSpec {
            initial_offset: 0.1,
            duration: Some(0.3),
            curve: Curve::Linear,
        };
        let v = DualPulseBinaural::new(&params(), Some(&t), clock);
        unit_checks(
            &v,
            n,
            0.5,
            |v, o| v.process(o),
            |v| v.reset(),
            Some(|v, i| v.seek(i)),
        );
    }

    #[test]
    fn static_envelope_matches_the_formula() {
        // τ = (t + frac(offset)·C) mod C, trapezoid with ramp 0.2, gap 0.15.
        let sr = 8000.0;
        let s = PulseSpec {
            rate: 5.0,
            phase_offset: 1.25,
            ..PulseSpec::default()
        };
        let pulse = Pulse::new(&s, sr);
        for i in [0u64, 100, 399, 777, 1600, 3999] {
            let t = i as f64 / sr;
            let c = 1.0 / s.rate;
            let tau = (t + 0.25 * c) % c;
            let (a, r) = (0.85 * c, 0.2);
            let rt = (2.0 * a * r).min(a);
            let (u, e_) = (rt / 2.0, rt / 2.0 + (a - rt));
            let want = if tau >= a {
                0.0
            } else if tau < u {
                tau / u
            } else if tau < e_ {
                1.0
            } else {
                1.0 - (tau - e_) / u
            };
            assert!((pulse.env(i) as f64 - want).abs() < 1e-5, "{i}");
        }
    }
}
