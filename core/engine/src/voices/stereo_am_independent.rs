//! `stereo_am_independent` and its transition: implements VOICES.md §7.
//!
//! Two slightly detuned sine carriers (`carrierFreq ∓ stereo_width_hz/2`), each with its
//! own sine AM `m = 1 - depth·(1 - l)/2`, times `amp`.
//!
//! Conventions reproduced exactly: the static voice uses absolute time (`sin(2π·f·t_i +
//! phase)`, frequencies clamped to ≥ 1e-9 Hz, LFO start phases `modPhaseL/R`); the
//! transition integrates every interpolated frequency with `sine_wave_varying` (VARY,
//! phase 0 at the first sample) with the pattern-2 defaults (carrier 200 → 250 Hz, LFO L
//! 4 → 6 Hz, LFO R 4.1 → 5.9 Hz). As in the original, `startModPhaseL/R` are read but
//! **unused** by the transition (its LFOs start at phase 0; the Rust port differs).
//! `amp` does not transition.
//!
//! Numerics: Q0.64 phases, f32 sine and products. Deviations: none known.

use super::common::StepClock;
use super::prim::{inc, rad, sin64, span_of, sum_incs, voice_ramp, Span};
use super::rhythmic_waveshaping::MIN_FREQ_HZ;
use crate::model::{StereoAmParams, TransitionSpec};
use entrain_dsp::ramp::Ramp;
use entrain_dsp::Frame;

#[derive(Clone, Copy, Debug)]
struct Snap {
    /// Carrier L, carrier R, LFO L, LFO R increments.
    inc: [u64; 4],
    depth: [f32; 2],
}

impl Snap {
    fn at(p: &StereoAmParams, a: f64, dt: f64) -> Self {
        let cf = p.carrier_freq.at(a);
        let hw = p.stereo_width.at(a) / 2.0;
        Snap {
            inc: [
                inc((cf - hw).max(MIN_FREQ_HZ), dt),
                inc((cf + hw).max(MIN_FREQ_HZ), dt),
                inc(p.mod_freq[0].at(a).max(MIN_FREQ_HZ), dt),
                inc(p.mod_freq[1].at(a).max(MIN_FREQ_HZ), dt),
            ],
            depth: [p.mod_depth[0].at(a) as f32, p.mod_depth[1].at(a) as f32],
        }
    }
}

/// The independent stereo AM voice.
#[derive(Clone, Debug)]
pub struct StereoAmIndependent {
    p: StereoAmParams,
    clock: StepClock,
    transition: bool,
    ramp: Ramp,
    before: Snap,
    after: Snap,
    amp: f32,
    /// LFO start phases (static voice only).
    lfo_off: [u64; 2],
    // state
    i: u64,
    /// Phases of the previous sample (VARY): carriers L, R, LFOs L, R.
    ph: [u64; 4],
}

impl StereoAmIndependent {
    /// A voice over a step with `clock`; `transition` carries the ramp timing of the
    /// `_transition` variant (None = static voice).
    pub fn new(p: &StereoAmParams, transition: Option<&TransitionSpec>, clock: StepClock) -> Self {
        let ramp = voice_ramp(transition, &clock);
        let lfo_off = if transition.is_some() {
            [0; 2]
        } else {
            [rad(p.mod_phase[0].start), rad(p.mod_phase[1].start)]
        };
        Self {
            p: *p,
            clock,
            transition: transition.is_some(),
            before: Snap::at(p, ramp.alpha(0), clock.dt),
            after: Snap::at(p, ramp.final_alpha(), clock.dt),
            ramp,
            amp: p.amp as f32,
            lfo_off,
            i: 0,
            ph: [0; 4],
        }
    }

    /// Back to the state right after `new`.
    pub fn reset(&mut self) {
        self.i = 0;
        self.ph = [0; 4];
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
            for (p, d) in self.ph.iter_mut().zip(s.inc) {
                *p = p.wrapping_add(d);
            }
        }
        let mut out = [0.0f32; 2];
        for (c, o) in out.iter_mut().enumerate() {
            let l = sin64(self.ph[2 + c].wrapping_add(self.lfo_off[c]));
            let m = 1.0 - s.depth[c] * (1.0 - l) * 0.5;
            *o = sin64(self.ph[c]) * m * self.amp;
        }
        out
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
        let p = StereoAmParams {
            amp: 0.3,
            carrier_freq: Pair::new(220.0, 180.0),
            mod_freq: [Pair::new(6.0, 3.0), Pair::new(6.5, 3.5)],
            mod_depth: [Pair::new(0.5, 0.9), Pair::new(0.9, 0.5)],
            mod_phase: [Pair::fixed(0.5), Pair::fixed(2.0)],
            stereo_width: Pair::new(1.0, 4.0),
        };
        let clock = StepClock::new(0.5, 8000.0);
        let n = clock.n as usize;
        let v = StereoAmIndependent::new(&p, None, clock);
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
            curve: Curve::Exponential,
        };
        let v = StereoAmIndependent::new(&p, Some(&t), clock);
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
