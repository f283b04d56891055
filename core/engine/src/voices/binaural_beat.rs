//! `binaural_beat` and `binaural_beat_transition`: implements VOICES.md §1.1–§1.4.
//!
//! Two carriers `base ∓ beat/2` (swapped with `leftHigh`), each with its own vibrato
//! (skewed sine or triangle), amplitude modulation (skewed sine) and a shared interaural
//! phase oscillation.
//!
//! Phase conventions reproduced exactly: carriers POST-accumulated from the start
//! phase; static LFOs closed-form in `t_i = i·D/N`; in the transition the vibrato LFO is
//! integrated (POST, so a non-moving transition equals the static voice with the vibrato
//! one sample ahead) while the AM and phase-oscillation LFOs use `rate_i·t_i` (the
//! original's chirp quirk when their rate sweeps).
//!
//! Not implemented here: the glitch bursts of the transition (their parameters are
//! parsed and kept; the bursts are unseeded noise in the original), the per-voice
//! spatializer and flanger, and Session-Builder auto-pan (VOICES.md §1.5, §14, §15).
//!
//! Numerics: carriers and LFOs are Q0.64 accumulators; constant frequencies become exact
//! increments once, in f64. Inside a transition ramp the parameters are interpolated in
//! f64 from α (as the original does); outside it they are constant and nothing is
//! recomputed.

use super::common::{am_gain, closed_phase, shape_sum, unit, StepClock};
use crate::model::{BinauralParams, TransitionSpec};
use entrain_dsp::math;
use entrain_dsp::osc::{LfoShape, Skew};
use entrain_dsp::phase::{turns_to_q64, Phase};
use entrain_dsp::ramp::Ramp;
use entrain_dsp::Frame;

/// Parameters of one ear at one α, with derived increments.
#[derive(Clone, Copy, Debug)]
struct Ear {
    amp: f32,
    f0: f64,
    f0_f32: f32,
    inc0: u64,
    fm_half: f32,
    fm_inc: u64,
    fm_off: u64,
    fm_skew: Skew,
    fm_skew_f64: f64,
    fm_rate: f64,
    am_depth: f32,
    am_inc: u64,
    am_rate: f64,
    am_off_rad: f64,
    am_skew: Skew,
}

#[derive(Clone, Copy, Debug)]
struct Snap {
    ear: [Ear; 2],
    pho_half: f32,
    pho_rate: f64,
    pho_inc: u64,
    pho_on: bool,
}

/// Which parameter groups move during the transition (start ≠ end); only those are
/// re-evaluated per sample inside the ramp.
#[derive(Clone, Copy, Debug, Default)]
struct Vary {
    freq: bool,
    amp: [bool; 2],
    fm: [bool; 2],
    am: [bool; 2],
    pho: bool,
}

impl Vary {
    fn of(p: &BinauralParams) -> Self {
        let v = |x: &crate::model::Pair| !x.is_constant();
        Vary {
            freq: v(&p.base_freq) || v(&p.beat_freq),
            amp: [v(&p.amp[0]), v(&p.amp[1])],
            fm: core::array::from_fn(|c| {
                let f = &p.fm[c];
                v(&f.range) || v(&f.freq) || v(&f.skew) || v(&f.phase_offset)
            }),
            am: core::array::from_fn(|c| {
                let a = &p.am[c];
                v(&a.depth) || v(&a.freq) || v(&a.skew) || v(&a.phase_offset)
            }),
            pho: v(&p.phase_osc_freq) || v(&p.phase_osc_range),
        }
    }

    fn all() -> Self {
        Vary {
            freq: true,
            amp: [true; 2],
            fm: [true; 2],
            am: [true; 2],
            pho: true,
        }
    }
}

impl Snap {
    fn at(p: &BinauralParams, a: f64, dt: f64) -> Self {
        let blank = Ear {
            amp: 0.0,
            f0: 0.0,
            f0_f32: 0.0,
            inc0: 0,
            fm_half: 0.0,
            fm_inc: 0,
            fm_off: 0,
            fm_skew: Skew::new(0.0),
            fm_skew_f64: 0.0,
            fm_rate: 0.0,
            am_depth: 0.0,
            am_inc: 0,
            am_rate: 0.0,
            am_off_rad: 0.0,
            am_skew: Skew::new(0.0),
        };
        let mut s = Snap {
            ear: [blank; 2],
            pho_half: 0.0,
            pho_rate: 0.0,
            pho_inc: 0,
            pho_on: false,
        };
        s.update(p, a, dt, &Vary::all());
        // `update` rebuilds skews only when they move; build them once here.
        for (c, e) in s.ear.iter_mut().enumerate() {
            e.fm_skew = Skew::new(p.fm[c].skew.at(a) as f32);
            e.am_skew = Skew::new(p.am[c].skew.at(a) as f32);
        }
        s
    }

    /// Re-evaluates the groups marked in `vary` at α = `a`.
    fn update(&mut self, p: &BinauralParams, a: f64, dt: f64, vary: &Vary) {
        if vary.freq {
            let base = p.base_freq.at(a);
            let half = p.beat_freq.at(a) / 2.0;
            let f0 = if p.left_high {
                [base + half, base - half]
            } else {
                [base - half, base + half]
            };
            for (e, f) in self.ear.iter_mut().zip(f0) {
                e.f0 = f;
                e.f0_f32 = f as f32;
                e.inc0 = turns_to_q64(f * dt);
            }
        }
        for c in 0..2 {
            let e = &mut self.ear[c];
            if vary.amp[c] {
                e.amp = p.amp[c].at(a) as f32;
            }
            if vary.fm[c] {
                let fm = &p.fm[c];
                let skew = fm.skew.at(a);
                e.fm_half = (fm.range.at(a) / 2.0) as f32;
                e.fm_rate = fm.freq.at(a);
                e.fm_inc = turns_to_q64(e.fm_rate * dt);
                e.fm_off = turns_to_q64(fm.phase_offset.at(a) / math::TAU);
                if !fm.skew.is_constant() {
                    e.fm_skew = Skew::new(skew as f32);
                }
                e.fm_skew_f64 = skew;
            }
            if vary.am[c] {
                let am = &p.am[c];
                e.am_depth = am.depth.at(a) as f32;
                e.am_rate = am.freq.at(a);
                e.am_inc = turns_to_q64(e.am_rate * dt);
                e.am_off_rad = am.phase_offset.at(a);
                if !am.skew.is_constant() {
                    e.am_skew = Skew::new(am.skew.at(a) as f32);
                }
            }
        }
        if vary.pho {
            let pho_f = p.phase_osc_freq.at(a);
            let pho_r = p.phase_osc_range.at(a);
            self.pho_half = (pho_r / 2.0) as f32;
            self.pho_rate = pho_f;
            self.pho_inc = turns_to_q64(pho_f * dt);
            self.pho_on = pho_f != 0.0 || pho_r != 0.0;
        }
    }
}

/// Which constant region the accumulators were last seeded for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Region {
    Unseeded,
    Before,
    Ramp,
    After,
}

/// Oscillator state (everything that advances per sample).
#[derive(Clone, Copy, Debug)]
struct Osc {
    transition: bool,
    shape: LfoShape,
    dt_f32: f32,
    carrier: [u64; 2],
    /// Static: closed-form vibrato phase incl. offset (PRE). Transition: integrated ψ
    /// without the offset (POST).
    vib: [u64; 2],
    /// Closed-form AM phases (valid in constant regions).
    am: [u64; 2],
    /// Closed-form phase-oscillation phase (valid in constant regions).
    pho: u64,
}

impl Osc {
    /// One frame with parameters `s`, AM phases `am_ph` and phase-oscillation phase `pho_ph`.
    #[inline]
    fn frame(&mut self, s: &Snap, am_ph: [u64; 2], pho_ph: u64) -> Frame {
        let dturns = if s.pho_on {
            let delta = s.pho_half * math::sin_turns((pho_ph >> 32) as u32);
            math::turns_f32(delta * (1.0 / core::f32::consts::TAU))
        } else {
            0
        };
        let mut out = [0.0f32; 2];
        for (c, o) in out.iter_mut().enumerate() {
            let e = &s.ear[c];
            let vib_phase = if self.transition {
                self.vib[c] = self.vib[c].wrapping_add(e.fm_inc);
                self.vib[c].wrapping_add(e.fm_off)
            } else {
                let p = self.vib[c];
                self.vib[c] = p.wrapping_add(e.fm_inc);
                p
            };
            let inc = if e.fm_half != 0.0 {
                let vib = e.fm_half * self.shape.eval(unit(vib_phase), &e.fm_skew);
                if e.f0_f32 + vib > 0.0 {
                    e.inc0.wrapping_add(Phase::inc_from_f32(vib * self.dt_f32))
                } else {
                    0
                }
            } else if e.f0 > 0.0 {
                e.inc0
            } else {
                0
            };
            self.carrier[c] = self.carrier[c].wrapping_add(inc);
            let ph = (self.carrier[c] >> 32) as u32;
            let ph = if c == 0 {
                ph.wrapping_sub(dturns)
            } else {
                ph.wrapping_add(dturns)
            };
            let sig = math::sin_turns(ph);
            let env = if e.am_depth != 0.0 {
                am_gain(e.am_depth, e.am_skew.sine(unit(am_ph[c])))
            } else {
                1.0
            };
            *o = sig * env * e.amp;
        }
        out
    }

    /// One frame in a constant region: the closed-form phases advance by their increments.
    #[inline]
    fn constant_frame(&mut self, s: &Snap) -> Frame {
        let am = self.am;
        let pho = self.pho;
        self.am[0] = am[0].wrapping_add(s.ear[0].am_inc);
        self.am[1] = am[1].wrapping_add(s.ear[1].am_inc);
        self.pho = pho.wrapping_add(s.pho_inc);
        self.frame(s, am, pho)
    }

    fn seed_closed(&mut self, s: &Snap, dt: f64, i: u64) {
        for c in 0..2 {
            self.am[c] = closed_phase(s.ear[c].am_rate, dt, s.ear[c].am_off_rad, i);
        }
        self.pho = closed_phase(s.pho_rate, dt, 0.0, i);
    }
}

/// The binaural beat voice.
#[derive(Clone, Debug)]
pub struct BinauralBeat {
    p: BinauralParams,
    clock: StepClock,
    ramp: Ramp,
    before: Snap,
    after: Snap,
    /// Parameters at the current ramp sample (only the moving groups are updated).
    ramp_snap: Snap,
    vary: Vary,
    start_phase: [u64; 2],
    i: u64,
    osc: Osc,
    region: Region,
}

impl BinauralBeat {
    /// A voice over a step with `clock`; `transition` carries the ramp timing of the
    /// `_transition` variant (None = static voice).
    pub fn new(p: &BinauralParams, transition: Option<&TransitionSpec>, clock: StepClock) -> Self {
        let ramp = match transition {
            Some(t) => Ramp::new(
                clock.duration,
                clock.n,
                t.initial_offset,
                t.duration,
                t.curve,
            ),
            None => Ramp::settled(),
        };
        let before = Snap::at(p, ramp.alpha(0), clock.dt);
        let after = Snap::at(p, ramp.final_alpha(), clock.dt);
        let start_phase = [
            Phase::from_radians(p.start_phase[0].start).0,
            Phase::from_radians(p.start_phase[1].start).0,
        ];
        let mut v = Self {
            p: *p,
            clock,
            ramp,
            before,
            after,
            ramp_snap: before,
            vary: Vary::of(p),
            start_phase,
            i: 0,
            osc: Osc {
                transition: transition.is_some(),
                shape: p.fm_shape,
                dt_f32: clock.dt as f32,
                carrier: start_phase,
                vib: [0; 2],
                am: [0; 2],
                pho: 0,
            },
            region: Region::Unseeded,
        };
        v.reset();
        v
    }

    /// Back to the state right after `new`.
    pub fn reset(&mut self) {
        self.i = 0;
        self.osc.carrier = self.start_phase;
        self.osc.vib = if self.osc.transition {
            [0; 2]
        } else {
            [self.after.ear[0].fm_off, self.after.ear[1].fm_off]
        };
        self.region = Region::Unseeded;
    }

    /// Samples in the step.
    pub fn len(&self) -> u64 {
        self.clock.n
    }

    /// True for an empty step.
    pub fn is_empty(&self) -> bool {
        self.clock.n == 0
    }

    /// The next frame.
    #[inline]
    pub fn next_frame(&mut self) -> Frame {
        let i = self.i;
        self.i += 1;
        if !self.osc.transition || self.ramp.is_settled(i) {
            if self.region != Region::After {
                self.osc.seed_closed(&self.after, self.clock.dt, i);
                self.region = Region::After;
            }
            self.osc.constant_frame(&self.after)
        } else if self.ramp.is_constant_over(i, 1) {
            if self.region != Region::Before {
                self.osc.seed_closed(&self.before, self.clock.dt, i);
                self.region = Region::Before;
            }
            self.osc.constant_frame(&self.before)
        } else {
            if self.region != Region::Ramp {
                self.ramp_snap = self.before;
                self.region = Region::Ramp;
            }
            let a = self.ramp.alpha(i);
            let dt = self.clock.dt;
            self.ramp_snap.update(&self.p, a, dt, &self.vary);
            let s = &self.ramp_snap;
            let am = [
                closed_phase(s.ear[0].am_rate, dt, s.ear[0].am_off_rad, i),
                closed_phase(s.ear[1].am_rate, dt, s.ear[1].am_off_rad, i),
            ];
            let pho = closed_phase(s.pho_rate, dt, 0.0, i);
            self.osc.frame(s, am, pho)
        }
    }

    /// Renders `out.len()` frames (exactly the frames of repeated [`Self::next_frame`]).
    pub fn process(&mut self, out: &mut [Frame]) {
        // Fast path: a whole block inside the final constant region.
        if (!self.osc.transition || self.ramp.is_settled(self.i)) && self.region == Region::After {
            for o in out.iter_mut() {
                *o = self.osc.constant_frame(&self.after);
            }
            self.i += out.len() as u64;
            return;
        }
        for o in out.iter_mut() {
            *o = self.next_frame();
        }
    }

    /// Positions the voice at sample `i` of the step without rendering what precedes it.
    ///
    /// Exact (bit-identical to rendering) for carriers without vibrato outside transition
    /// ramps; with vibrato the carrier phase is the closed-form integral of the vibrato
    /// (error ~1e-9 turn); inside or after a ramp the increments of the ramp are summed.
    pub fn seek(&mut self, i: u64) {
        self.reset();
        let dt = self.clock.dt;
        let i = i.min(self.clock.n);
        if !self.osc.transition {
            for c in 0..2 {
                let e = self.after.ear[c];
                self.osc.vib[c] = e.fm_off.wrapping_add(e.fm_inc.wrapping_mul(i));
                self.osc.carrier[c] =
                    self.start_phase[c].wrapping_add(self.carrier_advance(&e, 0, i, false));
            }
        } else {
            // Before the ramp: constant; ramp: summed; after: constant.
            let m0 = self.ramp.first_moving().min(i);
            let m1 = self.ramp.first_done().min(i);
            let b = self.before;
            let a = self.after;
            for c in 0..2 {
                // Vibrato ψ is POST: after k samples it holds k increments.
                self.osc.carrier[c] =
                    self.start_phase[c].wrapping_add(self.carrier_advance(&b.ear[c], 0, m0, true));
                self.osc.vib[c] = b.ear[c].fm_inc.wrapping_mul(m0);
            }
            // Ramp part by stepping the integrated state (no output is formed).
            let mut s = b;
            for k in m0..m1 {
                s.update(&self.p, self.ramp.alpha(k), dt, &self.vary);
                for c in 0..2 {
                    let e = &s.ear[c];
                    self.osc.vib[c] = self.osc.vib[c].wrapping_add(e.fm_inc);
                    let inc = if e.fm_half != 0.0 {
                        let ph = self.osc.vib[c].wrapping_add(e.fm_off);
                        let vib = e.fm_half * self.osc.shape.eval(unit(ph), &e.fm_skew);
                        if e.f0_f32 + vib > 0.0 {
                            e.inc0
                                .wrapping_add(Phase::inc_from_f32(vib * self.osc.dt_f32))
                        } else {
                            0
                        }
                    } else if e.f0 > 0.0 {
                        e.inc0
                    } else {
                        0
                    };
                    self.osc.carrier[c] = self.osc.carrier[c].wrapping_add(inc);
                }
            }
            if i > m1 {
                for c in 0..2 {
                    let e = a.ear[c];
                    // Vibrato continues integrating from its value at m1.
                    let theta0 = unit_f64(self.osc.vib[c].wrapping_add(e.fm_off)) + e.fm_rate * dt;
                    let adv = self.carrier_advance_from(&e, theta0, i - m1);
                    self.osc.carrier[c] = self.osc.carrier[c].wrapping_add(adv);
                    self.osc.vib[c] = self.osc.vib[c].wrapping_add(e.fm_inc.wrapping_mul(i - m1));
                }
            }
        }
        self.i = i;
        self.region = Region::Unseeded;
    }

    /// Carrier advance over samples `[from, to)` with constant parameters `e`
    /// (static voice: vibrato phase PRE from `fm_off`; transition: POST).
    fn carrier_advance(&self, e: &Ear, from: u64, to: u64, post: bool) -> u64 {
        let n = to.saturating_sub(from);
        if n == 0 {
            return 0;
        }
        let dt = self.clock.dt;
        if e.fm_half == 0.0 {
            return if e.f0 > 0.0 {
                e.inc0.wrapping_mul(n)
            } else {
                0
            };
        }
        // vibrato phase at sample k (cycles): θ0 + k·δ
        let delta = e.fm_rate * dt;
        let theta0 = unit_f64(e.fm_off) + if post { delta } else { 0.0 } + from as f64 * delta;
        self.carrier_advance_from(e, theta0, n)
    }

    fn carrier_advance_from(&self, e: &Ear, theta0: f64, n: u64) -> u64 {
        let dt = self.clock.dt;
        if e.fm_half == 0.0 {
            return if e.f0 > 0.0 {
                e.inc0.wrapping_mul(n)
            } else {
                0
            };
        }
        let half = e.fm_half as f64;
        if e.f0 - half <= 0.0 {
            // The carrier can clamp at 0 Hz: no closed form, step it.
            let mut acc = 0u64;
            let mut th = Phase::from_turns(theta0).0;
            let inc = e.fm_inc;
            for _ in 0..n {
                let vib = e.fm_half * self.osc.shape.eval(unit(th), &e.fm_skew);
                th = th.wrapping_add(inc);
                if e.f0_f32 + vib > 0.0 {
                    acc = acc.wrapping_add(
                        e.inc0
                            .wrapping_add(Phase::inc_from_f32(vib * self.osc.dt_f32)),
                    );
                }
            }
            return acc;
        }
        let delta = e.fm_rate * dt;
        let sum = shape_sum(self.osc.shape, e.fm_skew_f64, theta0, delta, n);
        e.inc0
            .wrapping_mul(n)
            .wrapping_add(turns_to_q64(half * dt * sum))
    }
}

fn unit_f64(p: u64) -> f64 {
    p as f64 / math::TWO_POW_64
}
