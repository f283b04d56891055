//! `hybrid_qam_monaural_beat` and its transition: implements VOICES.md §5.
//!
//! Left ear: a cosine carrier with AM `1 + depth·cos(…)`. Right ear: a monaural beat,
//! two sines `max(0, c ∓ beat/2)` around a centre `c` with its own vibrato (FM), AM
//! `1 - clamp(depth, 0, 1)·0.5·(1 + sin(…))` and phase oscillation between the tones.
//! The output filters (`apply_filters`: 30 Hz high-pass then 0.45·sr low-pass, both
//! zero-phase) run in the engine's zero-phase stages, see
//! [`super::qam_beat::output_filters`].
//!
//! Conventions reproduced exactly: all three carriers PRE-accumulated (first sample at
//! the start phase; the transition uses only the start values of the start phases) with
//! `dt = D/N`; every LFO closed-form in `t_i = i·D/N` with the interpolated rate
//! (`rate_i·t_i`, not integrated); every `≠ 0` condition per sample.
//!
//! Numerics: Q0.64 phases. With vibrato the right-ear increments change every sample:
//! when the tones can never reach 0 Hz they are the constant increment plus an f32
//! deviation converted with [`super::prim::fine_inc`] (no drift); otherwise the clamped
//! frequencies are formed in f64 per sample. Deviations: none known.

use super::common::StepClock;
use super::prim::{
    cos64, fine_inc, inc, lfo, rad, rad_turns_u32, sin64, span_of, sum_incs, voice_ramp, Span,
};
use crate::model::{HybridParams, TransitionSpec};
use entrain_dsp::filter::Sos;
use entrain_dsp::math;
use entrain_dsp::ramp::Ramp;
use entrain_dsp::Frame;

#[derive(Clone, Copy, Debug)]
struct Snap {
    amp: [f32; 2],
    // left
    l_inc: u64,
    l_am_on: bool,
    l_am_depth: f32,
    l_am_inc: u64,
    l_am_off: u64,
    // right
    centre: f64,
    half_beat: f64,
    /// Tone increments without vibrato (`max(0, max(0, c) ∓ beat/2)·dt`).
    r_inc: [u64; 2],
    fm_on: bool,
    fm_half: f32,
    fm_inc: u64,
    fm_off: u64,
    /// With vibrato, neither tone can reach 0 Hz: the increment is `r_inc + fine(vib)`.
    fm_linear: bool,
    pho_on: bool,
    pho_half: f32,
    pho_inc: u64,
    pho_off: u64,
    r_am_on: bool,
    r_am_depth: f32,
    r_am_inc: u64,
    r_am_off: u64,
}

impl Snap {
    fn at(p: &HybridParams, a: f64, dt: f64) -> Self {
        let l_af = p.qam_am_freq.at(a);
        let l_ad = p.qam_am_depth.at(a);
        let centre = p.mono_carrier_freq.at(a);
        let half_beat = p.mono_beat_freq.at(a) / 2.0;
        let c0 = centre.max(0.0);
        let fr = p.mono_fm_range.at(a);
        let ff = p.mono_fm_freq.at(a);
        let of = p.mono_phase_osc_freq.at(a);
        let or = p.mono_phase_osc_range.at(a);
        let r_ad = p.mono_am_depth.at(a);
        let r_af = p.mono_am_freq.at(a);
        Snap {
            amp: [p.amp[0].at(a) as f32, p.amp[1].at(a) as f32],
            l_inc: inc(p.qam_carrier_freq.at(a), dt),
            l_am_on: l_af != 0.0 && l_ad != 0.0,
            l_am_depth: l_ad as f32,
            l_am_inc: inc(l_af, dt),
            l_am_off: rad(p.qam_am_phase_offset.at(a)),
            centre,
            half_beat,
            r_inc: [
                inc((c0 - half_beat).max(0.0), dt),
                inc((c0 + half_beat).max(0.0), dt),
            ],
            fm_on: ff != 0.0 && fr != 0.0,
            fm_half: (fr / 2.0) as f32,
            fm_inc: inc(ff, dt),
            fm_off: rad(p.mono_fm_phase_offset.at(a)),
            // margin of 1e-3 Hz covers the f32 rounding of the deviation
            fm_linear: centre - math::fabs(fr / 2.0) - math::fabs(half_beat) > 1e-3,
            pho_on: of != 0.0 || or != 0.0,
            pho_half: (or / 2.0) as f32,
            pho_inc: inc(of, dt),
            pho_off: rad(p.mono_phase_osc_phase_offset.at(a)),
            r_am_on: r_af != 0.0 && r_ad != 0.0,
            r_am_depth: r_ad.clamp(0.0, 1.0) as f32,
            r_am_inc: inc(r_af, dt),
            r_am_off: rad(p.mono_am_phase_offset.at(a)),
        }
    }

    /// Increments of the left carrier and the two right tones at sample `i`.
    #[inline]
    fn incs(&self, i: u64, dt: f64, dt_f32: f32) -> [u64; 3] {
        if !self.fm_on {
            return [self.l_inc, self.r_inc[0], self.r_inc[1]];
        }
        let vib = self.fm_half * sin64(lfo(self.fm_inc, self.fm_off, i));
        if self.fm_linear {
            let d = fine_inc(vib * dt_f32);
            [
                self.l_inc,
                self.r_inc[0].wrapping_add(d),
                self.r_inc[1].wrapping_add(d),
            ]
        } else {
            let c = (self.centre + vib as f64).max(0.0);
            [
                self.l_inc,
                inc((c - self.half_beat).max(0.0), dt),
                inc((c + self.half_beat).max(0.0), dt),
            ]
        }
    }

    #[inline]
    fn frame(&self, ph: [u64; 3], i: u64) -> Frame {
        let l_env = if self.l_am_on {
            1.0 + self.l_am_depth * cos64(lfo(self.l_am_inc, self.l_am_off, i))
        } else {
            1.0
        };
        let l = l_env * cos64(ph[0]) * self.amp[0];
        let d = if self.pho_on {
            rad_turns_u32(self.pho_half * sin64(lfo(self.pho_inc, self.pho_off, i)))
        } else {
            0
        };
        let t1 = math::sin_turns(((ph[1] >> 32) as u32).wrapping_sub(d));
        let t2 = math::sin_turns(((ph[2] >> 32) as u32).wrapping_add(d));
        let r_env = if self.r_am_on {
            1.0 - self.r_am_depth * 0.5 * (1.0 + sin64(lfo(self.r_am_inc, self.r_am_off, i)))
        } else {
            1.0
        };
        [l, (t1 + t2) * r_env * self.amp[1]]
    }
}

fn nonzero(p: &crate::model::Pair) -> bool {
    p.start != 0.0 || p.end != 0.0
}

/// The hybrid QAM / monaural voice (raw, before the output filters).
#[derive(Clone, Debug)]
pub struct HybridQamMonauralBeat {
    p: HybridParams,
    clock: StepClock,
    dt_f32: f32,
    transition: bool,
    ramp: Ramp,
    before: Snap,
    after: Snap,
    start: [u64; 3],
    /// The vibrato can be on somewhere in the step (its rate and range are both non-zero
    /// at some α): positioning must step the increments.
    fm_possible: bool,
    // state
    i: u64,
    /// Phases of the next sample (PRE): left carrier, right tones 1 and 2.
    ph: [u64; 3],
}

impl HybridQamMonauralBeat {
    /// A voice over a step with `clock`; `transition` carries the ramp timing of the
    /// `_transition` variant (None = static voice).
    pub fn new(p: &HybridParams, transition: Option<&TransitionSpec>, clock: StepClock) -> Self {
        let ramp = voice_ramp(transition, &clock);
        let start = [
            rad(p.qam_start_phase.start),
            rad(p.mono_start_phase[0].start),
            rad(p.mono_start_phase[1].start),
        ];
        Self {
            p: *p,
            clock,
            dt_f32: clock.dt as f32,
            transition: transition.is_some(),
            before: Snap::at(p, ramp.alpha(0), clock.dt),
            after: Snap::at(p, ramp.final_alpha(), clock.dt),
            ramp,
            start,
            fm_possible: nonzero(&p.mono_fm_freq) && nonzero(&p.mono_fm_range),
            i: 0,
            ph: start,
        }
    }

    /// The zero-phase filters the engine runs on this voice's output, in order.
    pub fn output_filters(&self) -> [Sos; 2] {
        super::qam_beat::output_filters(self.clock.sr)
    }

    /// Back to the state right after `new`.
    pub fn reset(&mut self) {
        self.i = 0;
        self.ph = self.start;
    }

    /// The next raw frame.
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
        let out = s.frame(self.ph, i);
        let d = s.incs(i, self.clock.dt, self.dt_f32);
        for (p, d) in self.ph.iter_mut().zip(d) {
            *p = p.wrapping_add(d);
        }
        out
    }

    /// Renders `out.len()` raw frames.
    pub fn process(&mut self, out: &mut [Frame]) {
        for o in out.iter_mut() {
            *o = self.next_frame();
        }
    }

    /// Positions the voice at sample `i`: exact, O(1) without vibrato outside ramps;
    /// with vibrato (or inside a ramp) the per-sample increments are summed (O(i), no
    /// output formed).
    pub fn seek(&mut self, i: u64) {
        let i = i.min(self.clock.n);
        let (dt, dtf) = (self.clock.dt, self.dt_f32);
        let p = &self.p;
        let adv = if self.fm_possible {
            let mut acc = [0u64; 3];
            for k in 0..i {
                let d = match span_of(&self.ramp, self.transition, k) {
                    Span::After => self.after.incs(k, dt, dtf),
                    Span::Before => self.before.incs(k, dt, dtf),
                    Span::Ramp => Snap::at(p, self.ramp.alpha(k), dt).incs(k, dt, dtf),
                };
                for (a, d) in acc.iter_mut().zip(d) {
                    *a = a.wrapping_add(d);
                }
            }
            acc
        } else {
            let incs = |s: &Snap| [s.l_inc, s.r_inc[0], s.r_inc[1]];
            sum_incs(
                &self.ramp,
                self.transition,
                0,
                i,
                incs(&self.before),
                incs(&self.after),
                |a| incs(&Snap::at(p, a, dt)),
            )
        };
        for (k, p) in self.ph.iter_mut().enumerate() {
            *p = self.start[k].wrapping_add(adv[k]);
        }
        self.i = i;
    }
}

#[cfg(test)]
mod tests {
    use super::super::prim::testing::unit_checks;
    use super::*;
    use crate::model::Pair;
    use entrain_dsp::ramp::Curve;

    fn params() -> HybridParams {
        HybridParams {
            qam_carrier_freq: Pair::new(120.0, 180.0),
            qam_am_depth: Pair::new(0.2, 0.8),
            mono_carrier_freq: Pair::new(130.0, 190.0),
            mono_beat_freq: Pair::new(8.0, 4.0),
            mono_am_depth: Pair::new(0.0, 1.6),
            mono_am_freq: Pair::new(1.0, 3.0),
            mono_fm_range: Pair::new(0.0, 6.0),
            mono_fm_freq: Pair::fixed(1.0),
            mono_phase_osc_freq: Pair::fixed(0.5),
            mono_phase_osc_range: Pair::new(0.0, 1.0),
            ..HybridParams::default()
        }
    }

    #[test]
    fn unit_contract_static_and_transition() {
        let clock = StepClock::new(0.5, 8000.0);
        let n = clock.n as usize;
        let v = HybridQamMonauralBeat::new(&params(), None, clock);
        unit_checks(
            &v,
            n,
            2.0,
            |v, o| v.process(o),
            |v| v.reset(),
            Some(|v, i| v.seek(i)),
        );
        let t = TransitionSpec {
            initial_offset: 0.1,
            duration: Some(0.3),
            curve: Curve::Linear,
        };
        let v = HybridQamMonauralBeat::new(&params(), Some(&t), clock);
        unit_checks(
            &v,
            n,
            2.0,
            |v, o| v.process(o),
            |v| v.reset(),
            Some(|v, i| v.seek(i)),
        );
        // vibrato deep enough to clamp the lower tone at 0 Hz: the f64 path
        let deep = HybridParams {
            mono_carrier_freq: Pair::fixed(20.0),
            mono_fm_range: Pair::fixed(60.0),
            mono_fm_freq: Pair::fixed(3.0),
            ..params()
        };
        let v = HybridQamMonauralBeat::new(&deep, None, clock);
        unit_checks(
            &v,
            n,
            2.0,
            |v, o| v.process(o),
            |v| v.reset(),
            Some(|v, i| v.seek(i)),
        );
    }
}
