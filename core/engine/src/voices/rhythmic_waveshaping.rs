//! `rhythmic_waveshaping` and its transition: implements VOICES.md §6.
//!
//! A sine carrier amplitude-modulated by a sine LFO (`g = 1 - depth·(1 - l)/2`), driven
//! through `tanh(x·S)/tanh(S)` (`S = max(1e-6, shapeAmount)`), scaled by `amp` and
//! panned with `pan2`.
//!
//! Conventions reproduced exactly: the static voice uses absolute time (`sin(2π·f·t_i)`,
//! phase 0, `f` clamped to ≥ 1e-9 Hz); the transition integrates the interpolated
//! carrier and LFO frequencies with the original's `sine_wave_varying` (VARY: phase 0 at
//! the first sample, then each step uses the *current* sample's frequency), with the
//! pattern-2 defaults (carrier 200 → 80 Hz, LFO 12 → 7.83 Hz) applied by the parser.
//! `amp` and `pan` do not transition.
//!
//! Numerics: Q0.64 phases (for constant frequencies ABS and VARY give the same bits),
//! f32 sine, f32 `tanh` through the maths shim. Deviations: none known.

use super::common::StepClock;
use super::prim::{inc, sin64, span_of, sum_incs, voice_ramp, Span};
use crate::model::{RhythmicParams, TransitionSpec};
use entrain_dsp::math;
use entrain_dsp::pan::pan2_gains;
use entrain_dsp::ramp::Ramp;
use entrain_dsp::Frame;

/// Smallest `shapeAmount` (the original's clamp).
pub const MIN_SHAPE: f64 = 1e-6;
/// Smallest frequency of `sine_wave`/`sine_wave_varying` (the original's clamp), Hz.
pub const MIN_FREQ_HZ: f64 = 1e-9;

/// `tanh(x·S)/tanh(S)`: the normalised tanh shaper (`inv` = 1/tanh(S)).
#[inline]
pub(crate) fn shaper(x: f32, s: f32, inv: f32) -> f32 {
    math::tanhf(x * s) * inv
}

/// Drive `S` and `1/tanh(S)` of a `shapeAmount`.
pub(crate) fn drive(shape_amount: f64) -> (f32, f32) {
    let s = shape_amount.max(MIN_SHAPE) as f32;
    (s, 1.0 / math::tanhf(s))
}

#[derive(Clone, Copy, Debug)]
struct Snap {
    /// Carrier and LFO increments.
    inc: [u64; 2],
    depth: f32,
    s: f32,
    inv: f32,
}

impl Snap {
    fn at(p: &RhythmicParams, a: f64, dt: f64) -> Self {
        let (s, inv) = drive(p.shape_amount.at(a));
        Snap {
            inc: [
                inc(p.carrier_freq.at(a).max(MIN_FREQ_HZ), dt),
                inc(p.mod_freq.at(a).max(MIN_FREQ_HZ), dt),
            ],
            depth: p.mod_depth.at(a) as f32,
            s,
            inv,
        }
    }
}

/// The rhythmic waveshaping voice.
#[derive(Clone, Debug)]
pub struct RhythmicWaveshaping {
    p: RhythmicParams,
    clock: StepClock,
    transition: bool,
    ramp: Ramp,
    before: Snap,
    after: Snap,
    gain: [f32; 2],
    // state
    i: u64,
    /// Carrier and LFO phases of the previous sample (VARY).
    ph: [u64; 2],
}

impl RhythmicWaveshaping {
    /// A voice over a step with `clock`; `transition` carries the ramp timing of the
    /// `_transition` variant (None = static voice).
    pub fn new(p: &RhythmicParams, transition: Option<&TransitionSpec>, clock: StepClock) -> Self {
        let ramp = voice_ramp(transition, &clock);
        let (gl, gr) = pan2_gains(p.pan);
        let amp = p.amp as f32;
        Self {
            p: *p,
            clock,
            transition: transition.is_some(),
            before: Snap::at(p, ramp.alpha(0), clock.dt),
            after: Snap::at(p, ramp.final_alpha(), clock.dt),
            ramp,
            gain: [amp * gl, amp * gr],
            i: 0,
            ph: [0; 2],
        }
    }

    /// Back to the state right after `new`.
    pub fn reset(&mut self) {
        self.i = 0;
        self.ph = [0; 2];
    }

    /// The next frame.
    #[inline]
    pub fn next_frame(&mut self) -> Frame {
        let i = self.i;
        self.i += 1;
        let tmp;
        let s = match span_of(&self.ramp, self.transition, i) {
            Span::After => &self.after,
            Span::Before => &self.before,
            Span::Ramp => {
                tmp = Snap::at(&self.p, self.ramp.alpha(i), self.clock.dt);
                &tmp
            }
        };
        if i > 0 {
            self.ph[0] = self.ph[0].wrapping_add(s.inc[0]);
            self.ph[1] = self.ph[1].wrapping_add(s.inc[1]);
        }
        let c = sin64(self.ph[0]);
        let l = sin64(self.ph[1]);
        let g = 1.0 - s.depth * (1.0 - l) * 0.5;
        let y = shaper(c * g, s.s, s.inv);
        [y * self.gain[0], y * self.gain[1]]
    }

    /// Renders `out.len()` frames (exactly the frames of repeated [`Self::next_frame`]).
    pub fn process(&mut self, out: &mut [Frame]) {
        for o in out.iter_mut() {
            *o = self.next_frame();
        }
    }

    /// Positions the voice at sample `i`: exact; O(1) outside ramps, the ramp's
    /// increments are summed inside one.
    pub fn seek(&mut self, i: u64) {
        let i = i.min(self.clock.n);
        let dt = self.clock.dt;
        let p = &self.p;
        self.ph = sum_incs(
            &self.ramp,
            self.transition,
            1,
            i,
            self.before.inc,
            self.after.inc,
            |a| Snap::at(p, a, dt).inc,
        );
        self.i = i;
    }
}

#[cfg(test)]
mod tests {
    use super::super::prim::testing::unit_checks;
    use super::*;
    use crate::model::Pair;
    use entrain_dsp::ramp::Curve;

    #[test]
    fn unit_contract_static_and_transition() {
        let p = RhythmicParams {
            amp: 0.3,
            carrier_freq: Pair::new(250.0, 150.0),
            mod_freq: Pair::new(10.0, 5.0),
            mod_depth: Pair::new(0.6, 1.0),
            shape_amount: Pair::new(2.0, 6.0),
            pan: -0.3,
        };
        let clock = StepClock::new(0.5, 8000.0);
        let n = clock.n as usize;
        let v = RhythmicWaveshaping::new(&p, None, clock);
        unit_checks(
            &v,
            n,
            0.3,
            |v, o| v.process(o),
            |v| v.reset(),
            Some(|v, i| v.seek(i)),
        );
        let t = TransitionSpec {
            initial_offset: 0.1,
            duration: Some(0.3),
            curve: Curve::Logarithmic,
        };
        let v = RhythmicWaveshaping::new(&p, Some(&t), clock);
        unit_checks(
            &v,
            n,
            0.3,
            |v, o| v.process(o),
            |v| v.reset(),
            Some(|v, i| v.seek(i)),
        );
    }
}
