//! `qam_beat` and `qam_beat_transition`: implements VOICES.md §4.2–§4.3, the INTENDED
//! behaviour.
//!
//! Per ear: a cosine carrier with a primary AM (optionally power-shaped by `modShape`),
//! a secondary AM, a delayed cross-channel coupling of the two AM envelopes, a common
//! sub-harmonic AM, an optional harmonic `cos(harmonicRatio·φ)` and beating sidebands,
//! linear attack/release inside the voice, then the output filters (`apply_filters`, a
//! 30 Hz high-pass and a 0.45·sr low-pass, both zero-phase): those run in the engine's
//! zero-phase stages ([`QamBeat::output_filters`]), not here.
//!
//! **Deviation (INTENDED vs ACTUAL PY):** in the original as registered both functions
//! raise a TypeError and render silence; this voice renders what the code was meant to
//! produce. The transition is the curve-aware one (TRACK_FORMAT.md §7.3 α); the
//! unregistered sibling module `qam_beat_transition.py` ramps `α = i/(N-1)` over the
//! whole step instead (the golden tests reproduce it with the timing
//! `initial_offset = 0, transition_duration = D - D/N`, linear).
//!
//! Conventions reproduced exactly: carriers PRE-accumulated (first sample at the start
//! phase; the transition uses only `startStartPhaseL/R`); every LFO closed-form in
//! `t_i = i·D/N` with the interpolated rate (`rate_i·t_i`); every `≠ 0` condition per
//! sample; the cross-coupling uses the opposite ear's primary×secondary envelope `Dd =
//! floor(crossModDelay·sr)` samples earlier (recomputed in closed form with the
//! parameters of that earlier sample, so no delay line is needed); the harmonic uses the
//! *unwrapped* carrier phase (a separate accumulator of `ratio·f`), so a non-integer
//! ratio has no discontinuity; no clipping (envelopes may exceed 1).
//!
//! Other deviations: `modShape ≤ 0` (the original divides by zero or returns
//! infinities near the zeros of the cosine) gives `m = 0` for `modShape = 0` and a shaped
//! value capped at ±[`MAX_SHAPED`] for negative shapes, so the output stays finite.
//! The sidebands are computed as `2·cos φ·cos(2π·offset·t)` (equal to the original's sum
//! of two cosines).

use super::common::StepClock;
use super::prim::{
    cos64, inc, lfo, rad, rad_turns_u32, sin64, span_of, sum_incs, voice_ramp, Span,
};
use crate::model::{QamParams, TransitionSpec};
use entrain_dsp::filter::{Band, Sos};
use entrain_dsp::math;
use entrain_dsp::ramp::Ramp;
use entrain_dsp::Frame;

/// Largest |shaped AM value| for a negative `modShape` (whose `|cos|^(1/shape)` is
/// unbounded near the zeros of the cosine): keeps the output finite.
pub const MAX_SHAPED: f32 = 1.0e3;

/// The output filters of `apply_filters` (VOICES.md §0.1), in order: high-pass at this
/// frequency, then low-pass at [`LOW_PASS_FRACTION`] of the sample rate.
pub const HIGH_PASS_HZ: f64 = 30.0;
/// Low-pass cut-off as a fraction of the sample rate (0.9 × Nyquist).
pub const LOW_PASS_FRACTION: f64 = 0.45;

/// The two zero-phase output filters (4th-order Butterworth, SciPy `sosfiltfilt`) of
/// `qam_beat` and `hybrid_qam_monaural_beat`, in processing order.
///
/// The high-pass is designed in f64 and its f32 feedback coefficients are chosen among
/// the few nearest f32 values so that the two quantities the response is sensitive to,
/// `1 + a1 + a2` (≈ (2π·30/sr)², 1.8e-5 at 44.1 kHz) and `1 - a2` (the damping), are
/// kept closest to the design; the gain is then set from the rounded poles (unit gain at
/// Nyquist). Plain rounding moves `1 + a1 + a2` by up to 0.3 %, which bends the pass band
/// by 3e-3 (measured 1.2e-3 error against SciPy on a 100 Hz carrier); the refined
/// coefficients measure 2.5e-4. The rest of the error is the f32 filter arithmetic.
pub fn output_filters(sr: f64) -> [Sos; 2] {
    [
        refined_high_pass(HIGH_PASS_HZ, sr),
        Sos::butterworth(4, Band::Low, LOW_PASS_FRACTION * sr, sr),
    ]
}

/// 4th-order Butterworth high-pass with refined f32 coefficients (see [`output_filters`]).
fn refined_high_pass(fc: f64, sr: f64) -> Sos {
    let mut sos = Sos::butterworth(4, Band::High, fc, sr);
    let fc = fc.clamp(1e-6 * sr, 0.499_999 * sr);
    let k = math::tan(math::PI * fc / sr);
    let k2 = k * k;
    const ORDER: usize = 4;
    for (i, sec) in sos.sections[..ORDER / 2].iter_mut().enumerate() {
        // The same pole pair as `Sos::butterworth`, in f64.
        let theta = math::PI * (2 * i + 1) as f64 / (2 * ORDER) as f64;
        let q_inv = 2.0 * math::sin(theta);
        let norm = 1.0 / (1.0 + k * q_inv + k2);
        let a1 = 2.0 * (k2 - 1.0) * norm;
        let a2 = (1.0 - k * q_inv + k2) * norm;
        let (sum, damp) = (1.0 + a1 + a2, 1.0 - a2);
        let (mut best, mut best_err) = ((a1 as f32, a2 as f32), f64::INFINITY);
        for d1 in -3i32..=3 {
            for d2 in -3i32..=3 {
                let c1 = f32::from_bits((a1 as f32).to_bits().wrapping_add_signed(d1));
                let c2 = f32::from_bits((a2 as f32).to_bits().wrapping_add_signed(d2));
                let (c1d, c2d) = (c1 as f64, c2 as f64);
                let err = math::fabs((1.0 + c1d + c2d - sum) / sum)
                    + math::fabs((1.0 - c2d - damp) / damp);
                if err < best_err {
                    best_err = err;
                    best = (c1, c2);
                }
            }
        }
        let (c1, c2) = best;
        let b0 = ((1.0 - c1 as f64 + c2 as f64) / 4.0) as f32;
        sec.a = [c1, c2];
        sec.b = [b0, -2.0 * b0, b0];
    }
    sos
}

#[derive(Clone, Copy, Debug)]
struct Ear {
    amp: f32,
    inc: u64,
    /// Harmonic phase increment `ratio·f·dt`.
    h_inc: u64,
    am_on: bool,
    am_depth: f32,
    am_inc: u64,
    am_off: u64,
    /// `modShape == 1`: plain cosine.
    am_plain: bool,
    am_inv_shape: f32,
    am2_on: bool,
    am2_depth: f32,
    am2_inc: u64,
    am2_off: u64,
}

#[derive(Clone, Copy, Debug)]
struct Snap {
    ear: [Ear; 2],
    pho_on: bool,
    pho_half: f32,
    pho_inc: u64,
    cross_depth: f32,
    sub_on: bool,
    sub_depth: f32,
    sub_inc: u64,
    harm_depth: f32,
}

impl Snap {
    fn at(p: &QamParams, a: f64, dt: f64) -> Self {
        let ratio = p.harmonic_ratio;
        let ear = core::array::from_fn(|c| {
            let f = p.base_freq[c].at(a);
            let af = p.am_freq[c].at(a);
            let ad = p.am_depth[c].at(a);
            let shape = p.mod_shape[c].at(a);
            let a2f = p.am2_freq[c].at(a);
            let a2d = p.am2_depth[c].at(a);
            Ear {
                amp: p.amp[c].at(a) as f32,
                inc: inc(f, dt),
                h_inc: inc(ratio * f, dt),
                am_on: af != 0.0 && ad != 0.0,
                am_depth: ad as f32,
                am_inc: inc(af, dt),
                am_off: rad(p.am_phase_offset[c].at(a)),
                am_plain: shape == 1.0,
                am_inv_shape: (1.0 / shape) as f32,
                am2_on: a2f != 0.0 && a2d != 0.0,
                am2_depth: a2d as f32,
                am2_inc: inc(a2f, dt),
                am2_off: rad(p.am2_phase_offset[c].at(a)),
            }
        });
        let pf = p.phase_osc_freq.at(a);
        let pr = p.phase_osc_range.at(a);
        let sf = p.sub_harmonic_freq.at(a);
        let sd = p.sub_harmonic_depth.at(a);
        Snap {
            ear,
            pho_on: pf != 0.0 || pr != 0.0,
            pho_half: (pr / 2.0) as f32,
            pho_inc: inc(pf, dt),
            cross_depth: p.cross_mod_depth.at(a) as f32,
            sub_on: sf != 0.0 && sd != 0.0,
            sub_depth: sd as f32,
            sub_inc: inc(sf, dt),
            harm_depth: p.harmonic_depth.at(a) as f32,
        }
    }

    /// Primary × secondary AM envelope of each ear at sample `i`.
    #[inline]
    fn am_env(&self, i: u64) -> [f32; 2] {
        // a plain loop: `array::from_fn` is not inlined here and costs ~40 % of the voice
        let mut out = [1.0f32; 2];
        for (e, env) in self.ear.iter().zip(out.iter_mut()) {
            if e.am_on {
                let cv = cos64(lfo(e.am_inc, e.am_off, i));
                let m = if e.am_plain {
                    cv
                } else {
                    shaped(cv, e.am_inv_shape)
                };
                *env *= 1.0 + e.am_depth * m;
            }
            if e.am2_on {
                *env *= 1.0 + e.am2_depth * cos64(lfo(e.am2_inc, e.am2_off, i));
            }
        }
        out
    }
}

/// `sign(c)·|c|^(1/shape)`, finite for every shape (see the module notes).
#[inline]
fn shaped(c: f32, inv_shape: f32) -> f32 {
    if c == 0.0 {
        return 0.0;
    }
    let m = math::powf(math::fabsf(c), inv_shape).min(MAX_SHAPED);
    if c < 0.0 {
        -m
    } else {
        m
    }
}

/// The QAM beat voice (raw, before the output filters).
#[derive(Clone, Debug)]
pub struct QamBeat {
    p: QamParams,
    clock: StepClock,
    transition: bool,
    ramp: Ramp,
    before: Snap,
    after: Snap,
    /// Start phases of the carriers and of the harmonics (`ratio·startPhase`).
    start: [u64; 4],
    /// Cross-coupling delay in samples (`None`: the block is off, `crossModDelay = 0`).
    cross_delay: Option<u64>,
    /// `phaseOscPhaseOffset` as a Q0.64 phase.
    pho_off: u64,
    sb_on: bool,
    sb_depth2: f32,
    sb_inc: u64,
    attack: f64,
    release: f64,
    // state
    i: u64,
    /// Carrier phases L, R and harmonic phases L, R of the next sample (PRE).
    ph: [u64; 4],
}

impl QamBeat {
    /// A voice over a step with `clock`; `transition` carries the ramp timing of the
    /// `_transition` variant (None = static voice).
    pub fn new(p: &QamParams, transition: Option<&TransitionSpec>, clock: StepClock) -> Self {
        let ramp = voice_ramp(transition, &clock);
        let sp = [p.start_phase[0].start, p.start_phase[1].start];
        let start = [
            rad(sp[0]),
            rad(sp[1]),
            rad(p.harmonic_ratio * sp[0]),
            rad(p.harmonic_ratio * sp[1]),
        ];
        let cross_delay = if p.cross_mod_delay != 0.0 {
            Some(math::floor(p.cross_mod_delay * clock.sr).max(0.0) as u64)
        } else {
            None
        };
        Self {
            p: *p,
            clock,
            transition: transition.is_some(),
            before: Snap::at(p, ramp.alpha(0), clock.dt),
            after: Snap::at(p, ramp.final_alpha(), clock.dt),
            ramp,
            start,
            cross_delay,
            pho_off: rad(p.phase_osc_phase_offset),
            sb_on: p.beating_sidebands && p.sideband_depth != 0.0,
            sb_depth2: (2.0 * p.sideband_depth) as f32,
            sb_inc: inc(p.sideband_offset, clock.dt),
            attack: p.attack_time,
            release: p.release_time,
            i: 0,
            ph: start,
        }
    }

    /// The zero-phase filters the engine runs on this voice's output, in order.
    pub fn output_filters(&self) -> [Sos; 2] {
        output_filters(self.clock.sr)
    }

    /// Back to the state right after `new`.
    pub fn reset(&mut self) {
        self.i = 0;
        self.ph = self.start;
    }

    /// Runs `f` with the parameters of sample `j`.
    #[inline]
    fn with_snap<R>(&self, j: u64, f: impl FnOnce(&Snap) -> R) -> R {
        match span_of(&self.ramp, self.transition, j) {
            Span::After => f(&self.after),
            Span::Before => f(&self.before),
            Span::Ramp => f(&Snap::at(&self.p, self.ramp.alpha(j), self.clock.dt)),
        }
    }

    /// Attack/release gain at sample `i` (f64 as the original, then f32).
    #[inline]
    fn attack_release(&self, i: u64) -> f32 {
        if self.attack <= 0.0 && self.release <= 0.0 {
            return 1.0;
        }
        let t = i as f64 * self.clock.dt;
        let mut g = 1.0f64;
        if self.attack > 0.0 && t < self.attack {
            g *= t / self.attack;
        }
        let d = self.clock.duration;
        if self.release > 0.0 && t > d - self.release {
            g *= (d - t) / self.release;
        }
        g as f32
    }

    /// The next raw frame.
    #[inline]
    pub fn next_frame(&mut self) -> Frame {
        let i = self.i;
        self.i += 1;
        let ph = self.ph;
        let (frame, incs) = self.with_snap(i, |s| {
            let mut env = s.am_env(i);
            if let Some(dd) = self.cross_delay {
                if i >= dd && s.cross_depth != 0.0 {
                    let j = i - dd;
                    let past = self.with_snap(j, |sj| sj.am_env(j));
                    let cd = s.cross_depth;
                    env = [
                        env[0] * (1.0 + cd * (past[1] - 1.0)),
                        env[1] * (1.0 + cd * (past[0] - 1.0)),
                    ];
                }
            }
            if s.sub_on {
                let m = 1.0 + s.sub_depth * cos64(lfo(s.sub_inc, 0, i));
                env = [env[0] * m, env[1] * m];
            }
            let (d, dh) = if s.pho_on {
                let delta = s.pho_half * sin64(lfo(s.pho_inc, self.pho_off, i));
                (
                    rad_turns_u32(delta),
                    rad_turns_u32(delta * self.p.harmonic_ratio as f32),
                )
            } else {
                (0, 0)
            };
            let sb = if self.sb_on {
                self.sb_depth2 * cos64(lfo(self.sb_inc, 0, i))
            } else {
                0.0
            };
            let g = self.attack_release(i);
            let mut out = [0.0f32; 2];
            for (c, o) in out.iter_mut().enumerate() {
                let e = &s.ear[c];
                let (pc, ph_h) = if c == 0 {
                    (
                        ((ph[0] >> 32) as u32).wrapping_sub(d),
                        ((ph[2] >> 32) as u32).wrapping_sub(dh),
                    )
                } else {
                    (
                        ((ph[1] >> 32) as u32).wrapping_add(d),
                        ((ph[3] >> 32) as u32).wrapping_add(dh),
                    )
                };
                let cs = math::cos_turns(pc);
                let mut sig = env[c] * cs;
                if s.harm_depth != 0.0 {
                    sig += s.harm_depth * env[c] * math::cos_turns(ph_h);
                }
                if self.sb_on {
                    sig += sb * env[c] * cs;
                }
                *o = sig * e.amp * g;
            }
            (
                out,
                [s.ear[0].inc, s.ear[1].inc, s.ear[0].h_inc, s.ear[1].h_inc],
            )
        });
        for (p, d) in self.ph.iter_mut().zip(incs) {
            *p = p.wrapping_add(d);
        }
        frame
    }

    /// Renders `out.len()` raw frames.
    pub fn process(&mut self, out: &mut [Frame]) {
        for o in out.iter_mut() {
            *o = self.next_frame();
        }
    }

    /// Positions the voice at sample `i` (exact; O(1) outside ramps, the ramp's
    /// increments are summed inside one).
    pub fn seek(&mut self, i: u64) {
        let i = i.min(self.clock.n);
        let dt = self.clock.dt;
        let p = &self.p;
        let incs = |s: &Snap| [s.ear[0].inc, s.ear[1].inc, s.ear[0].h_inc, s.ear[1].h_inc];
        let adv = sum_incs(
            &self.ramp,
            self.transition,
            0,
            i,
            incs(&self.before),
            incs(&self.after),
            |a| incs(&Snap::at(p, a, dt)),
        );
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

    fn params() -> QamParams {
        QamParams {
            base_freq: [Pair::new(200.0, 160.0), Pair::new(210.0, 164.0)],
            am_depth: [Pair::new(0.3, 0.7), Pair::fixed(0.4)],
            am2_freq: [Pair::new(0.5, 1.0), Pair::fixed(0.75)],
            am2_depth: [Pair::new(0.0, 0.3), Pair::fixed(0.25)],
            mod_shape: [Pair::new(1.0, 2.0), Pair::fixed(0.5)],
            cross_mod_depth: Pair::new(0.0, 0.4),
            cross_mod_delay: 0.03,
            harmonic_depth: Pair::new(0.0, 0.25),
            harmonic_ratio: 1.5,
            sub_harmonic_freq: Pair::fixed(2.0),
            sub_harmonic_depth: Pair::new(0.2, 0.0),
            phase_osc_freq: Pair::new(0.0, 1.0),
            phase_osc_range: Pair::new(0.0, 0.8),
            beating_sidebands: true,
            attack_time: 0.05,
            release_time: 0.1,
            ..QamParams::default()
        }
    }

    #[test]
    fn unit_contract_static_and_transition() {
        let clock = StepClock::new(0.5, 8000.0);
        let n = clock.n as usize;
        let v = QamBeat::new(&params(), None, clock);
        unit_checks(
            &v,
            n,
            4.0,
            |v, o| v.process(o),
            |v| v.reset(),
            Some(|v, i| v.seek(i)),
        );
        let t = TransitionSpec {
            initial_offset: 0.1,
            duration: Some(0.3),
            curve: Curve::Exponential,
        };
        let v = QamBeat::new(&params(), Some(&t), clock);
        unit_checks(
            &v,
            n,
            4.0,
            |v, o| v.process(o),
            |v| v.reset(),
            Some(|v, i| v.seek(i)),
        );
    }

    #[test]
    fn negative_and_zero_shapes_stay_finite() {
        for shape in [0.0, -0.5, -3.0] {
            let p = QamParams {
                mod_shape: [Pair::fixed(shape); 2],
                ..QamParams::default()
            };
            let clock = StepClock::new(0.2, 8000.0);
            let mut v = QamBeat::new(&p, None, clock);
            let mut out = vec![[0.0f32; 2]; clock.n as usize];
            v.process(&mut out);
            assert!(out.iter().all(|f| f[0].is_finite() && f[1].is_finite()));
        }
    }
}
