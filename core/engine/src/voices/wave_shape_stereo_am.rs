//! `wave_shape_stereo_am` and its transition: implements VOICES.md §8.
//!
//! The rhythmic waveshaper of §6 (mono, unpanned: carrier × shape LFO through
//! `tanh(x·S)/tanh(S)`) multiplied per ear by a stereo AM LFO `1 - depth·(1 - l)/2`,
//! times `amp`.
//!
//! Conventions reproduced exactly: the static voice uses absolute time (frequencies
//! clamped to ≥ 1e-9 Hz, stereo LFO start phases `stereoModPhaseL/R`, default 0 and
//! π/2); the transition integrates every interpolated frequency with
//! `sine_wave_varying` (VARY, phase 0 at the first sample) with the pattern-2 defaults
//! (carrier 200 → 100 Hz, shape LFO 4 → 8 Hz, stereo L 4.1 → 6.0 Hz, R 4.0 → 6.1 Hz,
//! right depth 0.9). As in the original, `startStereoModPhaseL/R` are read but **unused**
//! by the transition (its LFOs start at phase 0; the Rust port differs). `amp` does not
//! transition.
//!
//! Numerics: Q0.64 phases, f32 sine, products and `tanh`. Deviations: none known.

use super::common::StepClock;
use super::prim::{inc, rad, sin64, span_of, sum_incs, voice_ramp, Span};
use super::rhythmic_waveshaping::{drive, shaper, MIN_FREQ_HZ};
use crate::model::{TransitionSpec, WaveShapeStereoAmParams};
use entrain_dsp::ramp::Ramp;
use entrain_dsp::Frame;

#[derive(Clone, Copy, Debug)]
struct Snap {
    /// Carrier, shape LFO, stereo LFO L, stereo LFO R increments.
    inc: [u64; 4],
    shape_depth: f32,
    s: f32,
    inv: f32,
    depth: [f32; 2],
}

impl Snap {
    fn at(p: &WaveShapeStereoAmParams, a: f64, dt: f64) -> Self {
        let (s, inv) = drive(p.shape_amount.at(a));
        Snap {
            inc: [
                inc(p.carrier_freq.at(a).max(MIN_FREQ_HZ), dt),
                inc(p.shape_mod_freq.at(a).max(MIN_FREQ_HZ), dt),
                inc(p.stereo_mod_freq[0].at(a).max(MIN_FREQ_HZ), dt),
                inc(p.stereo_mod_freq[1].at(a).max(MIN_FREQ_HZ), dt),
            ],
            shape_depth: p.shape_mod_depth.at(a) as f32,
            s,
            inv,
            depth: [
                p.stereo_mod_depth[0].at(a) as f32,
                p.stereo_mod_depth[1].at(a) as f32,
            ],
        }
    }
}

/// The waveshaped stereo AM voice.
#[derive(Clone, Debug)]
pub struct WaveShapeStereoAm {
    p: WaveShapeStereoAmParams,
    clock: StepClock,
    transition: bool,
    ramp: Ramp,
    before: Snap,
    after: Snap,
    amp: f32,
    /// Stereo LFO start phases (static voice only).
    lfo_off: [u64; 2],
    // state
    i: u64,
    /// Phases of the previous sample (VARY).
    ph: [u64; 4],
}

impl WaveShapeStereoAm {
    /// A voice over a step with `clock`; `transition` carries the ramp timing of the
    /// `_transition` variant (None = static voice).
    pub fn new(
        p: &WaveShapeStereoAmParams,
        transition: Option<&TransitionSpec>,
        clock: StepClock,
    ) -> Self {
        let ramp = voice_ramp(transition, &clock);
        let lfo_off = if transition.is_some() {
            [0; 2]
        } else {
            [
                rad(p.stereo_mod_phase[0].start),
                rad(p.stereo_mod_phase[1].start),
            ]
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
        let c = sin64(self.ph[0]);
        let g = 1.0 - s.shape_depth * (1.0 - sin64(self.ph[1])) * 0.5;
        let y = shaper(c * g, s.s, s.inv);
        let mut out = [0.0f32; 2];
        for (e, o) in out.iter_mut().enumerate() {
            let l = sin64(self.ph[2 + e].wrapping_add(self.lfo_off[e]));
            let m = 1.0 - s.depth[e] * (1.0 - l) * 0.5;
            *o = y * m * self.amp;
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
        let p = WaveShapeStereoAmParams {
            amp: 0.25,
            carrier_freq: Pair::new(240.0, 160.0),
            shape_mod_freq: Pair::new(6.0, 3.0),
            shape_mod_depth: Pair::new(0.5, 0.9),
            shape_amount: Pair::new(1.0, 4.0),
            stereo_mod_freq: [Pair::new(3.0, 5.0), Pair::new(3.3, 5.5)],
            stereo_mod_depth: [Pair::new(0.4, 0.8), Pair::new(0.8, 0.4)],
            stereo_mod_phase: [Pair::fixed(0.3), Pair::fixed(1.0)],
        };
        let clock = StepClock::new(0.5, 8000.0);
        let n = clock.n as usize;
        let v = WaveShapeStereoAm::new(&p, None, clock);
        unit_checks(
            &v,
            n,
            0.25,
            |v, o| v.process(o),
            |v| v.reset(),
            Some(|v, i| v.seek(i)),
        );
        let t = TransitionSpec {
            initial_offset: 0.05,
            duration: Some(0.4),
            curve: Curve::Linear,
        };
        let v = WaveShapeStereoAm::new(&p, Some(&t), clock);
        unit_checks(
            &v,
            n,
            0.25,
            |v, o| v.process(o),
            |v| v.reset(),
            Some(|v, i| v.seek(i)),
        );
    }
}
