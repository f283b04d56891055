//! `isochronic_tone` and `isochronic_tone_transition`: implements VOICES.md §2.1–§2.4.
//!
//! One carrier per ear (same frequency, optional vibrato, interaural phase oscillation)
//! gated by a trapezoidal pulse at `beatFreq`, with per-ear AM.
//!
//! Conventions reproduced exactly:
//! * static: carrier POST-accumulated with `dt = D/N`; pulse position POST (the first
//!   sample is already `beat·dt` into the cycle); LFOs closed-form in `t_i = i·D/N`; a
//!   non-zero `pan` collapses to mono `(L+R)/2` and pans with `pan2`;
//! * transition: accumulations (carrier, vibrato, pulse) use `dt = 1/sr`, closed forms
//!   use `t_i = i·D/N`; the carrier is PRE-accumulated from an *interpolated* start phase;
//!   the vibrato LFO is integrated; `pan` scales L by `cos` and R by `sin` without
//!   collapsing; `startBaseFreq`/`startBeatFreq` default to 200/4 (pattern 2).
//!
//! Harmonic suppression (zero-phase 4th-order Butterworth low-pass at
//! `min(1.5·baseFreq, sr/2 - 1)`, the transition using the mean carrier of the step) is
//! not applied here: the engine runs the voice through a streaming zero-phase stage
//! ([`entrain_dsp::filter::ZeroPhase`]) whose cut-off is [`IsochronicTone::harmonic_cutoff`].
//!
//! Not here but in the voice slot's post chain ([`super::VoiceSlot`]): the per-voice
//! spatializer (§15, after the harmonic-suppression filter, as in the original) and flanger
//! (§14). Not implemented: Session-Builder auto-pan.

use super::common::{
    am_amp_block, am_gain, am_on_grid, carrier_block, closed_phase, phase_osc_block,
    ramp_lfo_phases, sine_block, unit, unit_f64, vibrato_on_grid, wide_chunks, ChunkCarrier,
    ChunkVibrato, StepClock, VibCarrier, KERNEL, KERNEL_POINTS, KERNEL_WIDE, KERNEL_WIDE_POINTS,
    VIB_GRID,
};
use crate::model::{IsochronicParams, TransitionSpec};
use entrain_dsp::math;
use entrain_dsp::osc::{LfoShape, Skew, Trapezoid};
use entrain_dsp::pan::pan2_gains;
use entrain_dsp::phase::{turns_to_q64, Phase};
use entrain_dsp::ramp::Ramp;
use entrain_dsp::Frame;

#[derive(Clone, Copy, Debug)]
struct Ear {
    amp: f32,
    fm_half: f32,
    fm_inc: u64,
    fm_off: u64,
    fm_skew: Skew,
    fm_skew_f64: f64,
    /// The vibrato is rendered on its grid in constant regions ([`vibrato_on_grid`]).
    fm_grid: bool,
    /// The AM envelope is rendered on the grid in constant regions ([`am_on_grid`]).
    am_grid: bool,
    am_depth: f32,
    am_inc: u64,
    am_rate: f64,
    am_off_rad: f64,
    am_skew: Skew,
    start_phase: u64,
}

#[derive(Clone, Copy, Debug)]
struct Snap {
    ear: [Ear; 2],
    base: f64,
    base_f32: f32,
    inc0: u64,
    /// Pulse position increment (Q0.64 cycles per sample); 0 when the pulse is off.
    pulse_inc: u64,
    pulse_on: bool,
    trap: Trapezoid,
    force_mono: bool,
    pho_half: f32,
    pho_rate: f64,
    pho_inc: u64,
    pho_on: bool,
}

impl Snap {
    fn at(p: &IsochronicParams, a: f64, dt_t: f64, dt_acc: f64, transition: bool) -> Self {
        let (base, beat) = if transition {
            (p.base_freq.at(a).max(0.0), p.beat_freq.at(a).max(0.0))
        } else {
            (p.base_freq.at(a), p.beat_freq.at(a))
        };
        let fm_dt = if transition { dt_acc } else { dt_t };
        let ear = core::array::from_fn(|c| {
            let fm = &p.fm[c];
            let am = &p.am[c];
            Ear {
                amp: p.amp[c].at(a) as f32,
                fm_half: (fm.range.at(a) / 2.0) as f32,
                fm_inc: turns_to_q64(fm.freq.at(a) * fm_dt),
                fm_off: turns_to_q64(fm.phase_offset.at(a) / math::TAU),
                fm_skew: Skew::new(fm.skew.at(a) as f32),
                fm_skew_f64: fm.skew.at(a),
                fm_grid: false,
                am_grid: false,
                am_depth: am.depth.at(a) as f32,
                am_inc: turns_to_q64(am.freq.at(a) * dt_t),
                am_rate: am.freq.at(a),
                am_off_rad: am.phase_offset.at(a),
                am_skew: Skew::new(am.skew.at(a) as f32),
                start_phase: Phase::from_radians(p.start_phase[c].at(a)).0,
            }
        });
        let pho_f = p.phase_osc_freq.at(a);
        let pho_r = p.phase_osc_range.at(a);
        let (ramp, gap) = if transition {
            (
                p.ramp_percent.at(a).clamp(0.0, 1.0),
                p.gap_percent.at(a).clamp(0.0, 1.0),
            )
        } else {
            (p.ramp_percent.at(a), p.gap_percent.at(a))
        };
        Snap {
            ear,
            base,
            base_f32: base as f32,
            inc0: turns_to_q64(base * dt_acc),
            pulse_inc: if beat > 1e-9 {
                turns_to_q64(beat * dt_acc)
            } else {
                0
            },
            pulse_on: beat > 1e-9,
            trap: Trapezoid::new(ramp as f32, gap as f32),
            force_mono: if transition {
                p.force_mono.at(a) > 0.5
            } else {
                p.force_mono.start != 0.0
            },
            pho_half: (pho_r / 2.0) as f32,
            pho_rate: pho_f,
            pho_inc: turns_to_q64(pho_f * dt_t),
            pho_on: pho_f != 0.0 || pho_r != 0.0,
        }
    }

    /// The snapshot of a constant region: [`Snap::at`] with the vibrato grid decided
    /// (only constant regions read it; the ramp's per-sample snapshots skip the f64 work).
    fn constant(p: &IsochronicParams, a: f64, dt_t: f64, dt_acc: f64, transition: bool) -> Self {
        let mut s = Self::at(p, a, dt_t, dt_acc, transition);
        let fm_dt = if transition { dt_acc } else { dt_t };
        for (c, e) in s.ear.iter_mut().enumerate() {
            e.fm_grid = !s.force_mono
                && vibrato_on_grid(
                    LfoShape::Sine,
                    e.fm_skew_f64,
                    s.base,
                    e.fm_half as f64,
                    p.fm[c].freq.at(a),
                    fm_dt,
                );
            e.am_grid = am_on_grid(e.am_skew.is_symmetric(), e.am_depth as f64, e.am_rate, dt_t);
        }
        s
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Region {
    Unseeded,
    Before,
    Ramp,
    After,
}

/// The isochronic tone voice (raw, before harmonic suppression).
#[derive(Clone, Debug)]
pub struct IsochronicTone {
    p: IsochronicParams,
    clock: StepClock,
    /// Accumulation step: `D/N` (static) or `1/sr` (transition).
    dt_acc: f64,
    dt_acc_f32: f32,
    transition: bool,
    ramp: Ramp,
    before: Snap,
    after: Snap,
    /// Pan gains: static (mono collapse) or transition (per channel).
    pan: Option<(f32, f32)>,
    cutoff: Option<f64>,
    // state
    i: u64,
    carrier: [u64; 2],
    vib: [u64; 2],
    pulse: u64,
    am: [u64; 2],
    pho: u64,
    region: Region,
}

impl IsochronicTone {
    /// A voice over a step with `clock` (`transition`: the `_transition` variant's timing).
    pub fn new(
        p: &IsochronicParams,
        transition: Option<&TransitionSpec>,
        clock: StepClock,
    ) -> Self {
        let is_t = transition.is_some();
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
        let dt_acc = if is_t { 1.0 / clock.sr } else { clock.dt };
        let before = Snap::constant(p, ramp.alpha(0), clock.dt, dt_acc, is_t);
        let after = Snap::constant(p, ramp.final_alpha(), clock.dt, dt_acc, is_t);
        let pan = if p.pan != 0.0 {
            Some(pan2_gains(p.pan))
        } else {
            None
        };
        let cutoff = if p.harmonic_suppression {
            let base = if is_t {
                mean_base(p, &ramp, clock.n)
            } else {
                p.base_freq.start
            };
            Some((1.5 * base).min(clock.sr / 2.0 - 1.0))
        } else {
            None
        };
        let mut v = Self {
            p: *p,
            clock,
            dt_acc,
            dt_acc_f32: dt_acc as f32,
            transition: is_t,
            ramp,
            before,
            after,
            pan,
            cutoff,
            i: 0,
            carrier: [0; 2],
            vib: [0; 2],
            pulse: 0,
            am: [0; 2],
            pho: 0,
            region: Region::Unseeded,
        };
        v.reset();
        v
    }

    /// The harmonic-suppression low-pass cut-off (Hz), if enabled.
    pub fn harmonic_cutoff(&self) -> Option<f64> {
        self.cutoff
    }

    /// Back to the state right after `new`.
    pub fn reset(&mut self) {
        self.i = 0;
        // Static carriers start at their start phase (POST); the transition keeps the
        // start phase out of the accumulator because it is interpolated per sample.
        self.carrier = if self.transition {
            [0; 2]
        } else {
            [self.after.ear[0].start_phase, self.after.ear[1].start_phase]
        };
        self.vib = if self.transition {
            [0; 2]
        } else {
            [self.after.ear[0].fm_off, self.after.ear[1].fm_off]
        };
        self.pulse = 0;
        self.region = Region::Unseeded;
    }

    fn seed_closed(&mut self, s: &Snap, i: u64) {
        let dt = self.clock.dt;
        for c in 0..2 {
            self.am[c] = closed_phase(s.ear[c].am_rate, dt, s.ear[c].am_off_rad, i);
        }
        self.pho = closed_phase(s.pho_rate, dt, 0.0, i);
    }

    #[inline]
    fn kernel(&mut self, s: &Snap, am_ph: [u64; 2], pho_ph: u64) -> Frame {
        let dturns = if s.pho_on {
            let delta = s.pho_half * math::sin_turns((pho_ph >> 32) as u32);
            math::turns_f32(delta * (1.0 / core::f32::consts::TAU))
        } else {
            0
        };
        // Pulse (POST in both variants).
        self.pulse = self.pulse.wrapping_add(s.pulse_inc);
        let iso = if s.pulse_on {
            s.trap.at(unit(self.pulse))
        } else {
            0.0
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
            let inc = if e.fm_half != 0.0 && !s.force_mono {
                let vib = e.fm_half * e.fm_skew.sine(unit(vib_phase));
                if s.base_f32 + vib > 0.0 {
                    s.inc0
                        .wrapping_add(Phase::inc_from_f32(vib * self.dt_acc_f32))
                } else {
                    0
                }
            } else if s.base > 0.0 {
                s.inc0
            } else {
                0
            };
            let ph = if self.transition {
                // PRE: the output uses the phase before this sample's increment.
                let before = self.carrier[c];
                self.carrier[c] = before.wrapping_add(inc);
                before.wrapping_add(e.start_phase)
            } else {
                self.carrier[c] = self.carrier[c].wrapping_add(inc);
                self.carrier[c]
            };
            let ph = (ph >> 32) as u32;
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
            *o = sig * iso * env * e.amp;
        }
        match self.pan {
            None => out,
            Some((gl, gr)) => {
                if self.transition {
                    [out[0] * gl, out[1] * gr]
                } else {
                    let m = (out[0] + out[1]) * 0.5;
                    [m * gl, m * gr]
                }
            }
        }
    }

    /// One frame of a constant region, sample `grid` of its vibrato grid interval: a
    /// one-frame [`Self::constant_block`] (one definition of a constant region's samples).
    #[inline]
    fn constant_frame(&mut self, after: bool, grid: usize) -> Frame {
        let mut out = [[0.0f32; 2]];
        self.constant_block::<KERNEL, KERNEL_POINTS>(after, grid, &mut out);
        out[0]
    }

    /// Sample `i`'s position in its vibrato grid interval: the grid starts at the
    /// constant region's first sample (0, or the end of the transition's ramp).
    fn grid(&self, after: bool, i: u64) -> usize {
        let start = if after && self.transition {
            self.ramp.first_done()
        } else {
            0
        };
        ((i - start) % VIB_GRID as u64) as usize
    }

    /// `out.len()` frames of a constant region (`after`: the final one, else the one
    /// before the ramp), the first one sample `grid` of its vibrato grid interval, computed
    /// in passes over `K`-frame chunks ([`KERNEL`] or [`KERNEL_WIDE`], `G` its grid
    /// points; pulse, per-ear phase, sine and envelope arrays) that the compiler
    /// vectorises, with the per-sample decisions (vibrato, AM, phase oscillation, pan)
    /// taken once per chunk. The f32 operations are those of
    /// [`Self::kernel`] in the same order: the same bits on every target.
    #[inline(always)]
    fn constant_block<const K: usize, const G: usize>(
        &mut self,
        after: bool,
        grid: usize,
        out: &mut [Frame],
    ) {
        let s = if after { self.after } else { self.before };
        let mut grid = grid;
        for chunk in out.chunks_mut(K) {
            let n = chunk.len();
            let mut dturns = [0u32; K];
            phase_osc_block(
                &mut self.pho,
                s.pho_on,
                s.pho_half,
                s.pho_inc,
                &mut dturns[..n],
            );
            // The pulse gain (POST: the first sample is one increment into the cycle).
            let mut iso = [0.0f32; K];
            if s.pulse_on {
                let mut p = self.pulse;
                for g in iso[..n].iter_mut() {
                    p = p.wrapping_add(s.pulse_inc);
                    *g = s.trap.at(unit(p));
                }
            }
            self.pulse = self.pulse.wrapping_add(s.pulse_inc.wrapping_mul(n as u64));
            let mut sig = [[0.0f32; K]; 2];
            for (c, sig) in sig.iter_mut().enumerate() {
                let e = &s.ear[c];
                let sig = &mut sig[..n];
                let mut ph = [0u32; K];
                let ph = &mut ph[..n];
                let carrier = ChunkCarrier {
                    inc0: s.inc0,
                    f0_positive: s.base > 0.0,
                    f0_f32: s.base_f32,
                    fm_inc: e.fm_inc,
                    vibrato: (e.fm_half != 0.0 && !s.force_mono).then_some(ChunkVibrato {
                        shape: LfoShape::Sine,
                        skew: &e.fm_skew,
                        half: e.fm_half,
                        fm_off: e.fm_off,
                    }),
                    dt: self.dt_acc_f32,
                    transition: self.transition,
                    // The transition's carrier is PRE-accumulated from its start phase.
                    pre: self.transition.then_some(e.start_phase),
                    grid: e.fm_grid.then_some(grid),
                };
                // The isochronic vibrato is always a sine.
                carrier_block::<false, K, G>(&mut self.carrier[c], &mut self.vib[c], &carrier, ph);
                sine_block(sig, ph, s.pho_on.then_some(&dturns[..n]), c);
                // `sig · iso · env · amp`, left to right as in `kernel`.
                for (o, g) in sig.iter_mut().zip(iso[..n].iter()) {
                    *o *= *g;
                }
                am_amp_block::<G>(
                    sig,
                    e.am_depth,
                    &e.am_skew,
                    &mut self.am[c],
                    e.am_inc,
                    e.amp,
                    e.am_grid.then_some(grid),
                );
            }
            match self.pan {
                None => {
                    for (k, f) in chunk.iter_mut().enumerate() {
                        *f = [sig[0][k], sig[1][k]];
                    }
                }
                Some((gl, gr)) if self.transition => {
                    for (k, f) in chunk.iter_mut().enumerate() {
                        *f = [sig[0][k] * gl, sig[1][k] * gr];
                    }
                }
                Some((gl, gr)) => {
                    for (k, f) in chunk.iter_mut().enumerate() {
                        let m = (sig[0][k] + sig[1][k]) * 0.5;
                        *f = [m * gl, m * gr];
                    }
                }
            }
            grid = (grid + n) % VIB_GRID;
        }
    }

    /// Enters the constant region (`after` or the one before the ramp) at sample `i`.
    fn enter_constant(&mut self, after: bool, i: u64) {
        let (region, s) = if after {
            (Region::After, self.after)
        } else {
            (Region::Before, self.before)
        };
        if self.region != region {
            self.seed_closed(&s, i);
            self.region = region;
        }
    }

    /// The next raw frame.
    #[inline]
    pub fn next_frame(&mut self) -> Frame {
        let i = self.i;
        self.i += 1;
        if !self.transition || self.ramp.is_settled(i) {
            self.enter_constant(true, i);
            self.constant_frame(true, self.grid(true, i))
        } else if self.ramp.is_constant_over(i, 1) {
            self.enter_constant(false, i);
            self.constant_frame(false, self.grid(false, i))
        } else {
            self.region = Region::Ramp;
            let a = self.ramp.alpha(i);
            let s = Snap::at(&self.p, a, self.clock.dt, self.dt_acc, true);
            let dt = self.clock.dt;
            let (am, pho) = ramp_lfo_phases(
                s.ear.map(|e| (e.am_depth, e.am_rate, e.am_off_rad)),
                s.pho_on.then_some(s.pho_rate),
                dt,
                i,
            );
            self.kernel(&s, am, pho)
        }
    }

    /// Renders `out.len()` raw frames (exactly the frames of repeated
    /// [`Self::next_frame`]): constant regions in blocks, the ramp sample by sample.
    pub fn process(&mut self, out: &mut [Frame]) {
        let mut k = 0;
        while k < out.len() {
            let i = self.i;
            let left = (out.len() - k) as u64;
            let (after, run) = if !self.transition || self.ramp.is_settled(i) {
                (true, left)
            } else if self.ramp.is_constant_over(i, 1) {
                (false, left.min(self.ramp.first_moving() - i))
            } else {
                out[k] = self.next_frame();
                k += 1;
                continue;
            };
            let run = run as usize;
            self.enter_constant(after, i);
            let grid = self.grid(after, i);
            let out = &mut out[k..k + run];
            // The chunk size is chosen outside the dispatch (see the binaural voice's
            // `ConstantBlock`).
            if wide_chunks(run) {
                entrain_simd::run(&mut ConstantBlock::<KERNEL_WIDE, KERNEL_WIDE_POINTS> {
                    v: self,
                    after,
                    grid,
                    out,
                });
            } else {
                entrain_simd::run(&mut ConstantBlock::<KERNEL, KERNEL_POINTS> {
                    v: self,
                    after,
                    grid,
                    out,
                });
            }
            self.i += run as u64;
            k += run;
        }
    }

    /// Positions the voice at sample `i` without rendering what precedes it: exact for
    /// the pulse and for carriers without vibrato outside ramps; the vibrato integral in
    /// closed form (~1e-9 turn); ramps without vibrato by integrating their frequencies
    /// (~1e-12 relative); ramps with vibrato by stepping the integrated state.
    pub fn seek(&mut self, i: u64) {
        self.reset();
        let i = i.min(self.clock.n);
        let dt = self.dt_acc;
        if !self.transition {
            let s = self.after;
            for c in 0..2 {
                let e = s.ear[c];
                self.vib[c] = e.fm_off.wrapping_add(e.fm_inc.wrapping_mul(i));
                let adv = self.carrier(&s, c).advance(unit_f64(e.fm_off), i, dt);
                self.carrier[c] = self.carrier[c].wrapping_add(adv);
            }
            self.pulse = s.pulse_inc.wrapping_mul(i);
            self.i = i;
            self.region = Region::Unseeded;
            return;
        }
        let m0 = self.ramp.first_moving().min(i);
        let m1 = self.ramp.first_done().min(i);
        // Before the ramp: constant parameters, vibrato ψ POST from 0.
        let b = self.before;
        for c in 0..2 {
            let e = b.ear[c];
            let theta0 = unit_f64(e.fm_off) + self.fm_rate(&b, c) * dt;
            self.carrier[c] = self.carrier(&b, c).advance(theta0, m0, dt);
            self.vib[c] = e.fm_inc.wrapping_mul(m0);
        }
        self.pulse = b.pulse_inc.wrapping_mul(m0);
        self.i = m0;
        // The ramp.
        let p = self.p;
        let no_vib =
            p.fm.iter()
                .all(|f| f.range.start == 0.0 && f.range.end == 0.0);
        if m1 > m0 && no_vib {
            let base = self
                .ramp
                .sum_over(m0, m1, |a| p.base_freq.at(a).max(0.0) * dt);
            let beat = self.ramp.sum_over(m0, m1, |a| {
                let f = p.beat_freq.at(a).max(0.0);
                if f > 1e-9 {
                    f * dt
                } else {
                    0.0
                }
            });
            for c in 0..2 {
                self.carrier[c] = self.carrier[c].wrapping_add(turns_to_q64(base));
                let fm = p.fm[c].freq;
                let v = self.ramp.sum_over(m0, m1, |a| fm.at(a) * dt);
                self.vib[c] = self.vib[c].wrapping_add(turns_to_q64(v));
            }
            self.pulse = self.pulse.wrapping_add(turns_to_q64(beat));
            self.i = m1;
        } else {
            self.region = Region::Unseeded;
            while self.i < m1 {
                let _ = self.next_frame();
            }
        }
        // After the ramp: constant parameters; vibrato continues from ψ.
        if i > m1 {
            let a = self.after;
            for c in 0..2 {
                let e = a.ear[c];
                let theta0 =
                    unit_f64(self.vib[c].wrapping_add(e.fm_off)) + self.fm_rate(&a, c) * dt;
                let adv = self.carrier(&a, c).advance(theta0, i - m1, dt);
                self.carrier[c] = self.carrier[c].wrapping_add(adv);
                self.vib[c] = self.vib[c].wrapping_add(e.fm_inc.wrapping_mul(i - m1));
            }
            self.pulse = self.pulse.wrapping_add(a.pulse_inc.wrapping_mul(i - m1));
        }
        self.i = i;
        self.region = Region::Unseeded;
    }

    fn fm_rate(&self, s: &Snap, c: usize) -> f64 {
        // The vibrato rate of the snapshot's α is not kept; recover it from the increment.
        unit_f64(s.ear[c].fm_inc) / self.dt_acc
    }

    /// The carrier of ear `c` with the parameters of snapshot `s`.
    fn carrier(&self, s: &Snap, c: usize) -> VibCarrier {
        let e = &s.ear[c];
        VibCarrier {
            inc0: s.inc0,
            f0: s.base,
            half: if s.force_mono { 0.0 } else { e.fm_half },
            shape: LfoShape::Sine,
            skew: e.fm_skew,
            skew_f64: e.fm_skew_f64,
            fm_inc: e.fm_inc,
            fm_rate: self.fm_rate(s, c),
        }
    }
}

/// [`IsochronicTone::constant_block`] as an [`entrain_simd::Kernel`] (widest vectors,
/// the same bits).
struct ConstantBlock<'a, const K: usize, const G: usize> {
    v: &'a mut IsochronicTone,
    after: bool,
    grid: usize,
    out: &'a mut [Frame],
}

impl<const K: usize, const G: usize> entrain_simd::Kernel for ConstantBlock<'_, K, G> {
    #[inline(always)]
    fn run(&mut self) {
        self.v
            .constant_block::<K, G>(self.after, self.grid, self.out);
    }
}

/// Mean of `max(0, base_i)` over the step (the transition's harmonic-suppression
/// cut-off). Exact sum over the ramp when it is short, sampled (64k points) otherwise.
fn mean_base(p: &IsochronicParams, ramp: &Ramp, n: u64) -> f64 {
    if n == 0 {
        return p.base_freq.start.max(0.0);
    }
    let f = |a: f64| p.base_freq.at(a).max(0.0);
    let m0 = ramp.first_moving().min(n);
    let m1 = ramp.first_done().min(n);
    let mut sum = m0 as f64 * f(ramp.alpha(0)) + (n - m1) as f64 * f(ramp.final_alpha());
    let len = m1.saturating_sub(m0);
    const EXACT: u64 = 1 << 22;
    if len <= EXACT {
        for i in m0..m1 {
            sum += f(ramp.alpha(i));
        }
    } else {
        let k = 65_536u64;
        let mut s = 0.0;
        for j in 0..k {
            let i = m0 + (j * len + len / 2) / k;
            s += f(ramp.alpha(i));
        }
        sum += s * len as f64 / k as f64;
    }
    sum / n as f64
}
