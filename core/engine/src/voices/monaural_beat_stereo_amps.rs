//! `monaural_beat_stereo_amps` and its transition: implements VOICES.md §3.
//!
//! Two tones `max(0, base ∓ beat/2)` summed in each ear with their own level per tone
//! and ear, an optional phase oscillation between the tones (lower −Δ, upper +Δ), an AM
//! stage `(1 - d/2) + (d/2)·sin(…)` with `d` clamped to [0, 2], and a hard clip to ±1.
//!
//! Conventions reproduced exactly: both tones POST-accumulated from their start phases
//! (`startPhaseL` is the lower tone, `startPhaseR` the upper one; the transition uses only
//! the start value of `startStartPhaseL/U`); the phase oscillation and the AM LFO are
//! closed-form in `t_i = i·D/N` with the interpolated rate (`rate_i·t_i`, the original's
//! chirp when a rate sweeps), each applied only where its own `≠ 0` condition holds.
//!
//! Numerics: Q0.64 tone phases, constant increments computed once in f64 (per sample
//! from the f64 interpolated frequency inside a ramp); f32 sine and mixing. Deviations:
//! none known (the original computes in f64; the f32 path is within 2e-7 of it).

use super::common::StepClock;
use super::prim::{inc, lfo, rad, rad_turns_u32, sin64, span_of, sum_incs, voice_ramp, Span};
use crate::model::{MonauralParams, TransitionSpec};
use entrain_dsp::math;
use entrain_dsp::ramp::Ramp;
use entrain_dsp::Frame;

/// Parameters at one α, with derived increments.
#[derive(Clone, Copy, Debug)]
struct Snap {
    /// Lower/upper tone level in each ear: `[ear][tone]`.
    amp: [[f32; 2]; 2],
    /// Tone increments (lower, upper).
    inc: [u64; 2],
    pho_on: bool,
    pho_half: f32,
    pho_inc: u64,
    am_on: bool,
    am_half: f32,
    am_inc: u64,
    am_off: u64,
}

impl Snap {
    fn at(p: &MonauralParams, a: f64, dt: f64) -> Self {
        let base = p.base_freq.at(a);
        let half = p.beat_freq.at(a) / 2.0;
        let f = [(base - half).max(0.0), (base + half).max(0.0)];
        let pf = p.phase_osc_freq.at(a);
        let pr = p.phase_osc_range.at(a);
        let d = p.am_depth.at(a).clamp(0.0, 2.0);
        let af = p.am_freq.at(a);
        Snap {
            amp: core::array::from_fn(|e| {
                [p.amp_lower[e].at(a) as f32, p.amp_upper[e].at(a) as f32]
            }),
            inc: [inc(f[0], dt), inc(f[1], dt)],
            pho_on: pf != 0.0 || pr != 0.0,
            pho_half: (pr / 2.0) as f32,
            pho_inc: inc(pf, dt),
            am_on: d != 0.0 && af != 0.0,
            am_half: (d / 2.0) as f32,
            am_inc: inc(af, dt),
            am_off: rad(p.am_phase_offset.at(a)),
        }
    }

    /// One frame at sample `i`; `tones` are the tone phases of this sample.
    #[inline]
    fn frame(&self, tones: [u64; 2], i: u64) -> Frame {
        let d = if self.pho_on {
            rad_turns_u32(self.pho_half * sin64(lfo(self.pho_inc, 0, i)))
        } else {
            0
        };
        let lo = math::sin_turns(((tones[0] >> 32) as u32).wrapping_sub(d));
        let up = math::sin_turns(((tones[1] >> 32) as u32).wrapping_add(d));
        let mut l = lo * self.amp[0][0] + up * self.amp[0][1];
        let mut r = lo * self.amp[1][0] + up * self.amp[1][1];
        if self.am_on {
            let m = (1.0 - self.am_half) + self.am_half * sin64(lfo(self.am_inc, self.am_off, i));
            l *= m;
            r *= m;
        }
        [l.clamp(-1.0, 1.0), r.clamp(-1.0, 1.0)]
    }
}

/// The monaural beat voice.
#[derive(Clone, Debug)]
pub struct MonauralBeatStereoAmps {
    p: MonauralParams,
    clock: StepClock,
    transition: bool,
    ramp: Ramp,
    before: Snap,
    after: Snap,
    start: [u64; 2],
    // state
    i: u64,
    /// Tone phases after the samples rendered so far (POST: the next sample adds its
    /// increment before use).
    tones: [u64; 2],
}

impl MonauralBeatStereoAmps {
    /// A voice over a step with `clock`; `transition` carries the ramp timing of the
    /// `_transition` variant (None = static voice).
    pub fn new(p: &MonauralParams, transition: Option<&TransitionSpec>, clock: StepClock) -> Self {
        let ramp = voice_ramp(transition, &clock);
        let start = [
            rad(p.start_phase_lower.start),
            rad(p.start_phase_upper.start),
        ];
        Self {
            p: *p,
            clock,
            transition: transition.is_some(),
            before: Snap::at(p, ramp.alpha(0), clock.dt),
            after: Snap::at(p, ramp.final_alpha(), clock.dt),
            ramp,
            start,
            i: 0,
            tones: start,
        }
    }

    /// Back to the state right after `new`.
    pub fn reset(&mut self) {
        self.i = 0;
        self.tones = self.start;
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
        self.tones[0] = self.tones[0].wrapping_add(s.inc[0]);
        self.tones[1] = self.tones[1].wrapping_add(s.inc[1]);
        s.frame(self.tones, i)
    }

    /// Renders `out.len()` frames (exactly the frames of repeated [`Self::next_frame`]).
    pub fn process(&mut self, out: &mut [Frame]) {
        for o in out.iter_mut() {
            *o = self.next_frame();
        }
    }

    /// Positions the voice at sample `i`: exact (bit-identical to rendering); O(1)
    /// outside transition ramps, the ramp's increments are summed inside one.
    pub fn seek(&mut self, i: u64) {
        let i = i.min(self.clock.n);
        let dt = self.clock.dt;
        let p = &self.p;
        let adv = sum_incs(
            &self.ramp,
            self.transition,
            0,
            i,
            self.before.inc,
            self.after.inc,
            |a| Snap::at(p, a, dt).inc,
        );
        self.tones = [
            self.start[0].wrapping_add(adv[0]),
            self.start[1].wrapping_add(adv[1]),
        ];
        self.i = i;
    }
}

#[cfg(test)]
mod tests {
    use super::super::prim::testing::unit_checks;
    use super::*;
    use crate::model::Pair;
    use entrain_dsp::ramp::Curve;

    fn params() -> MonauralParams {
        MonauralParams {
            amp_lower: [Pair::new(0.6, 0.3), Pair::fixed(0.3)],
            amp_upper: [Pair::new(0.2, 0.5), Pair::new(0.5, 0.9)],
            base_freq: Pair::new(250.0, 180.0),
            beat_freq: Pair::new(10.0, 4.0),
            phase_osc_freq: Pair::new(0.0, 1.0),
            phase_osc_range: Pair::new(0.0, 1.0),
            am_depth: Pair::new(0.0, 2.5),
            am_freq: Pair::new(2.0, 5.0),
            am_phase_offset: Pair::new(0.0, 1.0),
            ..MonauralParams::default()
        }
    }

    #[test]
    fn unit_contract_static_and_transition() {
        let clock = StepClock::new(0.5, 8000.0);
        let n = clock.n as usize;
        let v = MonauralBeatStereoAmps::new(&params(), None, clock);
        unit_checks(
            &v,
            n,
            1.0,
            |v, o| v.process(o),
            |v| v.reset(),
            Some(|v, i| v.seek(i)),
        );
        let t = TransitionSpec {
            initial_offset: 0.1,
            duration: Some(0.3),
            curve: Curve::Logarithmic,
        };
        let v = MonauralBeatStereoAmps::new(&params(), Some(&t), clock);
        unit_checks(
            &v,
            n,
            1.0,
            |v, o| v.process(o),
            |v| v.reset(),
            Some(|v, i| v.seek(i)),
        );
    }
}
