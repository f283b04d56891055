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
//! Not here but in the voice slot's post chain ([`super::VoiceSlot`]): the transition's
//! glitch bursts (§1.4, [`entrain_dsp::burst`]), the per-voice spatializer (§15) and
//! flanger (§14). Not implemented: Session-Builder auto-pan (§1.5).
//!
//! Numerics: carriers and LFOs are Q0.64 accumulators; constant frequencies become exact
//! increments once, in f64. Inside a transition ramp the parameters are interpolated in
//! f64 from α (as the original does); outside it they are constant and nothing is
//! recomputed.

use super::common::{
    am_amp_block, am_gain, am_on_grid, carrier_block, closed_phase, phase_osc_block,
    ramp_lfo_phases, shape_sum, sine_block, unit, unit_f64, vibrato_on_grid, wide_chunks,
    ChunkCarrier, ChunkVibrato, StepClock, VibCarrier, KERNEL, KERNEL_POINTS, KERNEL_WIDE,
    KERNEL_WIDE_POINTS, VIB_GRID,
};
use crate::model::{BinauralParams, TransitionSpec};
use entrain_dsp::env::ClickGuard;
use entrain_dsp::math;
use entrain_dsp::osc::{LfoShape, Skew};
use entrain_dsp::phase::{turns_to_q64, Phase};
use entrain_dsp::ramp::{FixedAlpha, Ramp, ALPHA_ONE};
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

impl Ear {
    /// Whether `other` drives [`Osc::constant_block`]'s per-ear kernel exactly like
    /// `self` (every field it reads, floats by their bits).
    fn kernel_twin(&self, other: &Ear) -> bool {
        let bits = |e: &Ear| {
            (
                e.amp.to_bits(),
                e.f0 > 0.0,
                e.f0_f32.to_bits(),
                e.inc0,
                e.fm_half.to_bits(),
                e.fm_inc,
                e.fm_off,
                e.am_depth.to_bits(),
                e.am_inc,
            )
        };
        bits(self) == bits(other) && self.fm_skew == other.fm_skew && self.am_skew == other.am_skew
    }
}

/// [`Snap::grid`] flag: the ear's vibrato is on the grid.
const FM_GRID: u8 = 1;
/// [`Snap::grid`] flag: the ear's AM envelope is on the grid.
const AM_GRID: u8 = 2;
/// [`Snap::grid`] flag (left ear's entry): the ears are twins ([`Ear::kernel_twin`], no
/// phase oscillation, the same grid flags).
const TWINS: u8 = 4;

#[derive(Clone, Copy, Debug)]
struct Snap {
    ear: [Ear; 2],
    pho_half: f32,
    pho_rate: f64,
    pho_inc: u64,
    pho_on: bool,
    /// Per ear, what constant regions render on the grid: [`FM_GRID`] (the vibrato,
    /// [`vibrato_on_grid`]) and [`AM_GRID`] (the envelope, [`am_on_grid`]); and
    /// [`TWINS`] in the left ear's entry. Bit flags, where the snapshot has room for them.
    grid: [u8; 2],
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
            grid: [0; 2],
        };
        s.update(p, a, dt, &Vary::all());
        // `update` rebuilds skews only when they move; build them once here.
        for (c, e) in s.ear.iter_mut().enumerate() {
            e.fm_skew = Skew::new(p.fm[c].skew.at(a) as f32);
            e.am_skew = Skew::new(p.am[c].skew.at(a) as f32);
            // Only constant regions read it (a ramp's snapshot keeps this one's).
            let fm = vibrato_on_grid(
                p.fm_shape,
                e.fm_skew_f64,
                e.f0,
                e.fm_half as f64,
                e.fm_rate,
                dt,
            );
            let am = am_on_grid(e.am_skew.is_symmetric(), e.am_depth as f64, e.am_rate, dt);
            s.grid[c] = if fm { FM_GRID } else { 0 } | if am { AM_GRID } else { 0 };
        }
        // Decided once per snapshot (the Cortex-M4F paid ~2 instructions per frame and
        // voice comparing the ears on every block).
        if !s.pho_on && s.grid[0] == s.grid[1] && s.ear[0].kernel_twin(&s.ear[1]) {
            s.grid[0] |= TWINS;
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

    /// One frame in a constant region, sample `grid` of its vibrato grid interval: a
    /// one-frame [`Osc::constant_block`] (one definition of a constant region's samples).
    #[inline]
    fn constant_frame(&mut self, s: &Snap, grid: usize) -> Frame {
        let mut out = [[0.0f32; 2]];
        let mut sig = [[0.0; KERNEL]; 2];
        self.constant_block::<true, WRITE, KERNEL, KERNEL_POINTS>(s, grid, &mut out, &mut sig);
        out[0]
    }

    /// `out.len()` frames of a constant region: exactly the frames of repeated
    /// [`Osc::constant_frame`], computed in passes over `K`-frame chunks (per-ear
    /// phase, envelope and sine arrays) so that the compiler vectorises the sine, the LFOs
    /// and the AM (the per-sample branches on vibrato, AM and phase oscillation are
    /// hoisted to one decision per chunk). The f32 operations are the same ones in the
    /// same order as in `frame`, so the bits are identical on every target.
    ///
    /// `TRI`: the voice's vibrato may be a triangle ([`carrier_block`]); `false` only when
    /// it is not. `MODE`: how the frames reach `out` ([`put`]: written, added as the
    /// engine's mix does, [`BinauralBeat::mix_into`], or written onto zero). `K`:
    /// [`KERNEL`] or [`KERNEL_WIDE`], `G` its grid points. `sig`: the ears' sample arrays.
    #[inline(always)]
    fn constant_block<const TRI: bool, const MODE: u8, const K: usize, const G: usize>(
        &mut self,
        s: &Snap,
        grid: usize,
        out: &mut [Frame],
        sig: &mut [[f32; K]; 2],
    ) {
        let mut grid = grid;
        // The carrier phases of one ear's chunk (both ears in turn).
        let mut ph = [0u32; K];
        // Twin ears (a beat of 0 Hz: 15 of F19-B's 25 binaural voices): the same
        // parameters and, per chunk, the same states give the same samples, so the right
        // ear copies the left one's and its states follow (identical bits).
        let twins = s.grid[0] & TWINS != 0;
        for chunk in out.chunks_mut(K) {
            let n = chunk.len();
            // Phase oscillation: the offset (Q0.32 turns) subtracted from the left
            // carrier and added to the right one (off for twins; its phase advances).
            // Its array exists only when it is on: initialised for every chunk of every
            // voice it cost F19-B ~1 % of its instructions.
            let mut buf;
            let dturns = if s.pho_on {
                buf = [0u32; K];
                phase_osc_block(&mut self.pho, true, s.pho_half, s.pho_inc, &mut buf[..n]);
                Some(&buf[..n])
            } else {
                self.pho = self.pho.wrapping_add(s.pho_inc.wrapping_mul(n as u64));
                None
            };
            if twins
                && self.carrier[0] == self.carrier[1]
                && self.vib[0] == self.vib[1]
                && self.am[0] == self.am[1]
            {
                let sig = &mut sig[0][..n];
                self.ear_chunk::<TRI, K, G>(s, 0, grid, sig, &mut ph[..n], None);
                (self.carrier[1], self.vib[1], self.am[1]) =
                    (self.carrier[0], self.vib[0], self.am[0]);
                for (f, x) in chunk.iter_mut().zip(sig.iter()) {
                    put::<MODE>(f, [*x, *x]);
                }
            } else {
                for (c, sig) in sig.iter_mut().enumerate() {
                    self.ear_chunk::<TRI, K, G>(s, c, grid, &mut sig[..n], &mut ph[..n], dturns);
                }
                for (k, f) in chunk.iter_mut().enumerate() {
                    put::<MODE>(f, [sig[0][k], sig[1][k]]);
                }
            }
            grid = (grid + n) % VIB_GRID;
        }
    }

    /// What [`carrier_block`] needs of ear parameters `e` in a constant region, for a
    /// chunk starting at sample `grid` of its vibrato grid interval.
    #[inline(always)]
    fn chunk_carrier<'a>(&self, e: &'a Ear, on_grid: bool, grid: usize) -> ChunkCarrier<'a> {
        ChunkCarrier {
            inc0: e.inc0,
            f0_positive: e.f0 > 0.0,
            f0_f32: e.f0_f32,
            fm_inc: e.fm_inc,
            vibrato: (e.fm_half != 0.0).then_some(ChunkVibrato {
                shape: self.shape,
                skew: &e.fm_skew,
                half: e.fm_half,
                fm_off: e.fm_off,
            }),
            dt: self.dt_f32,
            transition: self.transition,
            pre: None,
            grid: on_grid.then_some(grid),
        }
    }

    /// Ear `c`'s samples over one chunk of [`Osc::constant_block`] (`dturns`: the phase
    /// oscillation's offsets when it is on); its carrier, vibrato and AM phases advance.
    #[inline(always)]
    fn ear_chunk<const TRI: bool, const K: usize, const G: usize>(
        &mut self,
        s: &Snap,
        c: usize,
        grid: usize,
        sig: &mut [f32],
        ph: &mut [u32],
        dturns: Option<&[u32]>,
    ) {
        let e = &s.ear[c];
        // `ph`: the carrier phases (Q0.32, after the per-sample increment).
        let carrier = self.chunk_carrier(e, s.grid[c] & FM_GRID != 0, grid);
        carrier_block::<TRI, K, G>(&mut self.carrier[c], &mut self.vib[c], &carrier, ph);
        if e.amp == 0.0 {
            // A silent ear (F19-B has one): its phases advance, its samples are +0.0
            // (the product would be ±0.0; a mix of them is +0.0 either way).
            let n = sig.len() as u64;
            self.am[c] = self.am[c].wrapping_add(e.am_inc.wrapping_mul(n));
            sig.fill(0.0);
            return;
        }
        sine_block(sig, ph, dturns, c);
        am_amp_block::<G>(
            sig,
            e.am_depth,
            &e.am_skew,
            &mut self.am[c],
            e.am_inc,
            e.amp,
            (s.grid[c] & AM_GRID != 0).then_some(grid),
        );
    }

    fn seed_closed(&mut self, s: &Snap, dt: f64, i: u64) {
        for c in 0..2 {
            self.am[c] = closed_phase(s.ear[c].am_rate, dt, s.ear[c].am_off_rad, i);
        }
        self.pho = closed_phase(s.pho_rate, dt, 0.0, i);
    }
}

/// How [`put`] hands a frame over: written as is ([`BinauralBeat::process`]).
const WRITE: u8 = 0;
/// Added: `f[c] += x[c]`, the engine's mix of a voice's frame
/// ([`super::VoiceSlot::mix_into`]).
const ADD: u8 = 1;
/// Written as `+0.0 + x[c]`: the bits of adding the frame to a zeroed one (-0.0 becomes
/// +0.0, everything else is unchanged), without zeroing it first
/// ([`super::VoiceSlot::mix_onto_zero`]).
const ONTO_ZERO: u8 = 2;

/// Hands frame `x` to `f` as `MODE` says ([`WRITE`], [`ADD`], [`ONTO_ZERO`]).
#[inline(always)]
fn put<const MODE: u8>(f: &mut Frame, x: Frame) {
    match MODE {
        ADD => {
            f[0] += x[0];
            f[1] += x[1];
        }
        ONTO_ZERO => *f = [0.0 + x[0], 0.0 + x[1]],
        _ => *f = x,
    }
}

/// [`Osc::constant_block`] as an [`entrain_simd::Kernel`], so that it runs with the
/// widest vectors the CPU has (the same bits).
///
/// `K`, `G`: the chunk size and its grid points, chosen per block by [`wide_chunks`]
/// outside the dispatch, so that a short block's kernel keeps its small stack frame
/// (inside one function the wide chunks' arrays made every call probe and set up a
/// frame of over 4 KiB: +1.5 % instructions for F19-B in 32-frame blocks).
struct ConstantBlock<'a, const MODE: u8, const K: usize, const G: usize> {
    osc: &'a mut Osc,
    s: &'a Snap,
    grid: usize,
    out: &'a mut [Frame],
    /// Room for the ears' sample arrays (`2·K` samples), or too small (then the kernel
    /// uses its own): the engine's voice buffer, idle while a voice mixes itself, spares
    /// initialising the arrays for every block.
    scratch: &'a mut [Frame],
}

impl<const MODE: u8, const K: usize, const G: usize> entrain_simd::Kernel
    for ConstantBlock<'_, MODE, K, G>
{
    #[inline(always)]
    fn run(&mut self) {
        let mut own;
        let (arrays, _) = self.scratch.as_flattened_mut().as_chunks_mut::<K>();
        let sig: &mut [[f32; K]; 2] = match arrays.get_mut(..2).map(<&mut [_; 2]>::try_from) {
            Some(Ok(s)) => s,
            _ => {
                own = [[0.0; K]; 2];
                &mut own
            }
        };
        if self.osc.shape == LfoShape::Triangle {
            self.osc
                .constant_block::<true, MODE, K, G>(self.s, self.grid, self.out, sig);
        } else {
            self.osc
                .constant_block::<false, MODE, K, G>(self.s, self.grid, self.out, sig);
        }
    }
}

/// Runs a [`ConstantBlock`] in chunks of the block's size class ([`wide_chunks`]).
#[inline(always)]
fn constant_run<const MODE: u8>(
    osc: &mut Osc,
    s: &Snap,
    grid: usize,
    out: &mut [Frame],
    scratch: &mut [Frame],
) {
    if wide_chunks(out.len()) {
        entrain_simd::run(
            &mut ConstantBlock::<MODE, KERNEL_WIDE, KERNEL_WIDE_POINTS> {
                osc,
                s,
                grid,
                out,
                scratch,
            },
        );
    } else {
        entrain_simd::run(&mut ConstantBlock::<MODE, KERNEL, KERNEL_POINTS> {
            osc,
            s,
            grid,
            out,
            scratch,
        });
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
    /// Where the current region started, for re-anchoring vibrato carriers.
    anchor: Anchor,
    /// The ramp's carrier advance has a closed form (vibrato constant, carrier > 0).
    ramp_closed: bool,
    /// Integer evaluation of a ramp that moves only the carriers and amplitudes.
    fast: Option<FastRamp>,
}

/// A ramp whose only moving parameters are the carrier frequencies (and amplitudes),
/// with a linear, logarithmic or exponential curve, no vibrato and carriers above 0 Hz
/// throughout: the common transition, evaluated per sample with integers instead of
/// [`Snap::update`]'s f64 (soft-float on the Cortex-M4F, where such a voice cost 16
/// static ones). The carrier's frequency is affine in α, so its Q0.64 increment is the
/// start increment plus `Δ·α` with α in Q2.62 ([`FixedAlpha`]); it differs from
/// `turns_to_q64(f(α)·dt)` by a few 2^-64 turn per sample, and the ramp's carrier is
/// re-anchored to its closed form every [`ANCHOR`] samples as before.
#[derive(Clone, Copy, Debug)]
struct FastRamp {
    alpha: FixedAlpha,
    /// Change of the carrier increments from α = 0 (`before`'s) to α = 1, 2^-64 turn.
    inc_delta: [i64; 2],
}

impl FastRamp {
    /// Carrier increment of ear `c` at α = `aq` (Q2.62), from the increment `inc0` at
    /// α = 0.
    #[inline]
    fn inc(&self, c: usize, inc0: u64, aq: u64) -> u64 {
        let d = (self.inc_delta[c] as i128 * aq as i128) >> 62;
        inc0.wrapping_add(d as i64 as u64)
    }
}

/// Vibrato carriers are re-anchored to their closed form every `ANCHOR` samples of a
/// constant region: the f32 vibrato increments carry small systematic rounding errors
/// (a skewed vibrato drifted 3.7e-5 in 2 minutes), and anchoring bounds that drift to one
/// anchor period. Anchors sit at fixed distances from the region start, so rendering
/// stays independent of the block size, and a seek (closed form at the last anchor, then
/// the same per-sample steps) reproduces the render bit for bit.
pub const ANCHOR: u64 = 1 << 16;

/// The state of a constant region at its first sample.
#[derive(Clone, Copy, Debug, Default)]
struct Anchor {
    start: u64,
    /// Carrier accumulators before the region's first sample.
    carrier0: [u64; 2],
    /// Vibrato LFO phase (Q0.64) used by the region's first sample.
    vphase0: [u64; 2],
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
            anchor: Anchor::default(),
            ramp_closed: false,
            fast: None,
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
        v.ramp_closed = v.compute_ramp_closed();
        v.fast = v.compute_fast();
        v.reset();
        v
    }

    /// Carrier frequency of ear `c` at α (the ramp's moving part).
    fn f0_at(&self, a: f64, c: usize) -> f64 {
        let base = self.p.base_freq.at(a);
        let half = self.p.beat_freq.at(a) / 2.0;
        match (c, self.p.left_high) {
            (0, false) | (1, true) => base - half,
            _ => base + half,
        }
    }

    fn compute_fast(&self) -> Option<FastRamp> {
        let v = &self.vary;
        if !self.osc.transition || v.fm != [false; 2] || v.am != [false; 2] || v.pho {
            return None;
        }
        if self.before.ear.iter().any(|e| e.fm_half != 0.0) {
            return None;
        }
        let alpha = self.ramp.fixed_alpha()?;
        if self.ramp.alpha(0) != 0.0 {
            return None; // `before` must be the parameters at α = 0
        }
        let dt = self.clock.dt;
        let mut inc_delta = [0i64; 2];
        for (c, delta) in inc_delta.iter_mut().enumerate() {
            // α stays in [0, 1] for these curves and f is affine in α: positive at both
            // ends means positive throughout (`Osc::frame` reads only the sign of `f0`,
            // which `ramp_snap` keeps from the start).
            let (f0, f1) = (self.f0_at(0.0, c), self.f0_at(1.0, c));
            let d = (f1 - f0) * dt;
            if !(f0 > 0.0 && f1 > 0.0 && math::fabs(d) < 0.25) {
                return None;
            }
            *delta = math::floor(d * math::TWO_POW_64 + 0.5) as i64;
        }
        Some(FastRamp { alpha, inc_delta })
    }

    fn compute_ramp_closed(&self) -> bool {
        if !self.osc.transition || self.vary.fm[0] || self.vary.fm[1] {
            return false;
        }
        let (m0, m1) = (
            self.ramp.first_moving(),
            self.ramp.first_done().min(self.clock.n),
        );
        if m1 <= m0 {
            return false;
        }
        // The carrier must stay above 0 Hz (no clamping) over the whole ramp.
        (0..=64).all(|j| {
            let a = self
                .ramp
                .alpha_continuous(m0 as f64 + (m1 - m0) as f64 * j as f64 / 64.0);
            (0..2).all(|c| self.f0_at(a, c) - self.before.ear[c].fm_half as f64 > 0.0)
        })
    }

    /// Closed-form carrier advance of ear `c` over ramp samples `[anchor.start, i)`.
    fn ramp_advance(&self, c: usize, i: u64) -> u64 {
        let a = self.anchor;
        let dt = self.clock.dt;
        let turns = self.ramp.sum_over(a.start, i, |al| self.f0_at(al, c) * dt);
        let e = &self.before.ear[c];
        let vib = if e.fm_half != 0.0 {
            let sum = shape_sum(
                self.osc.shape,
                e.fm_skew_f64,
                unit_f64(a.vphase0[c]),
                e.fm_rate * dt,
                i - a.start,
            );
            turns_to_q64(e.fm_half as f64 * dt * sum)
        } else {
            0
        };
        turns_to_q64(turns).wrapping_add(vib)
    }

    /// The largest `|sample|` of samples `from..to` put through `guard` (the slot's click
    /// guard), found without rendering them, exactly: the value a render's peak
    /// (`f32::max` of the magnitudes) would give. `None` when the voice is not a plain
    /// carrier or the search is inconclusive; the caller then renders.
    ///
    /// A plain carrier is a static voice without vibrato, phase oscillation or amplitude
    /// modulation: sample `i` of ear `c` is `sin_turns((C + (i+1)·I) >> 32) · amp` (the
    /// carrier accumulated from its start phase `C` by its increment `I`, 0 for a
    /// carrier at or below 0 Hz, POST as [`carrier_block`] does; the product as
    /// [`am_amp_block`] at depth 0 makes it; +0.0 for a silent ear), so any sample can be
    /// computed on its own. Where the guard acts every sample is computed. Elsewhere only
    /// the samples within [`math::SIN_TURNS_PEAK_WINDOW`] of the sine's peaks are, found
    /// by stepping the carrier from window to window in integers (`y`: the carrier's
    /// position past the start of a window, modulo the half turn between windows): every
    /// other sample is at most `SIN_TURNS_OFF_PEAK · |amp|` (rounding is monotonic),
    /// which the ear's largest window sample, or the other ear's peak, must reach for the
    /// answer to be exact. A binaural beat's carrier is looked at about once per cycle
    /// instead of its ~200 samples.
    pub fn carrier_peak(&self, from: u64, to: u64, guard: &ClickGuard) -> Option<f32> {
        const HALF_TURN: u64 = 1 << 63;
        const MASK: u64 = HALF_TURN - 1;
        // The window's start, lowered to 0; its width: phases whose top 32 bits lie within
        // the window of a peak (2^62 and 3·2^62 as Q0.64), inclusive.
        const LO: u64 = (math::SIN_TURNS_PEAK_WINDOW as u64) << 32;
        const WIDTH: u64 = (2 * math::SIN_TURNS_PEAK_WINDOW as u64 + 1) << 32;
        let s = &self.after;
        if self.osc.transition || s.pho_on {
            return None;
        }
        let mut ears = [(0u64, 0u64, 0.0f32); 2];
        for (c, ear) in ears.iter_mut().enumerate() {
            let e = &s.ear[c];
            if e.fm_half != 0.0 || e.am_depth != 0.0 || !e.amp.is_finite() {
                return None;
            }
            let inc = if e.f0 > 0.0 { e.inc0 } else { 0 };
            *ear = (self.start_phase[c], inc, e.amp);
        }
        let sample = |c: usize, i: u64| {
            let (c0, inc, amp) = ears[c];
            let x = if amp == 0.0 {
                0.0
            } else {
                let ph = c0.wrapping_add(inc.wrapping_mul(i.wrapping_add(1)));
                math::sin_turns((ph >> 32) as u32) * amp
            };
            math::fabsf(guard.apply(i, x))
        };
        let mut peak = 0.0f32;
        let unity = guard.unity_range();
        let (a, b) = (from.max(unity.start), to.min(unity.end));
        // Guarded samples, each computed.
        for i in (from..to.min(unity.start)).chain(from.max(unity.end)..to) {
            for c in 0..2 {
                peak = peak.max(sample(c, i));
            }
        }
        if a >= b {
            return Some(peak);
        }
        // The largest value an ear's samples outside the windows may have, for ears whose
        // windows did not reach it (their answer holds if the peak is at least that).
        let mut unseen = 0.0f32;
        for (c, &(c0, inc, amp)) in ears.iter().enumerate() {
            let step = inc & MASK;
            if amp == 0.0 {
                continue; // +0.0 throughout
            }
            if step == 0 {
                // A still carrier, or one turning half a turn per sample (the same
                // magnitude every sample): two samples say it all.
                for i in a..b.min(a + 2) {
                    peak = peak.max(sample(c, i));
                }
                continue;
            }
            // The largest |sine| of the windows' samples; the guard is off here, and
            // rounding is monotonic, so the largest |sin · amp| is `max|sin| · |amp|`.
            let mut top = 0.0f32;
            let mut ph = c0.wrapping_add(inc.wrapping_mul(a + 1));
            let mut y = ph.wrapping_add((1 << 62) + LO) & MASK;
            // Steps from `y` to the next window's start (the first t with
            // y + t·step ≥ 2^63) without a division: past a window, `y` is `WIDTH + e`
            // (e < step); past a jump, `y` is below `step`. The first one divides.
            let (q0, r0) = (HALF_TURN / step, HALF_TURN % step);
            let (q1, r1) = ((HALF_TURN - WIDTH) / step, (HALF_TURN - WIDTH) % step);
            let mut i = a;
            while i < b {
                if y < WIDTH {
                    top = top.max(math::fabsf(math::sin_turns((ph >> 32) as u32)));
                    i += 1;
                    ph = ph.wrapping_add(inc);
                    y = (y + step) & MASK;
                    continue;
                }
                let t = if y < step {
                    q0 + u64::from(y < r0)
                } else if y - WIDTH < step {
                    q1 + u64::from(y - WIDTH < r1)
                } else {
                    (HALF_TURN - y).div_ceil(step)
                };
                i = i.saturating_add(t);
                ph = ph.wrapping_add(t.wrapping_mul(inc));
                y = y.wrapping_add(t.wrapping_mul(step)).wrapping_sub(HALF_TURN);
            }
            peak = peak.max(top * math::fabsf(amp));
            if top < math::SIN_TURNS_OFF_PEAK {
                unseen = unseen.max(math::SIN_TURNS_OFF_PEAK * math::fabsf(amp));
            }
        }
        (peak >= unseen).then_some(peak)
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

    /// The vibrato phase (Q0.64) the next sample will use for ear `c` with parameters `s`.
    fn next_vphase(&self, s: &Snap, c: usize) -> u64 {
        if self.osc.transition {
            self.osc.vib[c]
                .wrapping_add(s.ear[c].fm_inc)
                .wrapping_add(s.ear[c].fm_off)
        } else {
            self.osc.vib[c]
        }
    }

    fn enter(&mut self, region: Region, i: u64) {
        let s = if region == Region::After {
            self.after
        } else {
            self.before
        };
        self.osc.seed_closed(&s, self.clock.dt, i);
        self.anchor = Anchor {
            start: i,
            carrier0: self.osc.carrier,
            vphase0: [self.next_vphase(&s, 0), self.next_vphase(&s, 1)],
        };
        self.region = region;
    }

    fn vib_carrier(&self, s: &Snap, c: usize) -> VibCarrier {
        let e = &s.ear[c];
        VibCarrier {
            inc0: e.inc0,
            f0: e.f0,
            half: e.fm_half,
            shape: self.osc.shape,
            skew: e.fm_skew,
            skew_f64: e.fm_skew_f64,
            fm_inc: e.fm_inc,
            fm_rate: e.fm_rate,
        }
    }

    /// Re-anchors vibrato carriers at an anchor sample of the current constant region.
    #[inline]
    fn reanchor(&mut self, i: u64) {
        let k = i - self.anchor.start;
        if k == 0 || !k.is_multiple_of(ANCHOR) {
            return;
        }
        if self.region == Region::Ramp {
            if self.ramp_closed {
                for c in 0..2 {
                    self.osc.carrier[c] =
                        self.anchor.carrier0[c].wrapping_add(self.ramp_advance(c, i));
                }
            }
            return;
        }
        let s = if self.region == Region::After {
            self.after
        } else {
            self.before
        };
        for c in 0..2 {
            if s.ear[c].fm_half != 0.0 {
                let adv = self.vib_carrier(&s, c).advance(
                    unit_f64(self.anchor.vphase0[c]),
                    k,
                    self.clock.dt,
                );
                self.osc.carrier[c] = self.anchor.carrier0[c].wrapping_add(adv);
            }
        }
    }

    /// The next frame.
    #[inline]
    pub fn next_frame(&mut self) -> Frame {
        let i = self.i;
        self.i += 1;
        if !self.osc.transition || self.ramp.is_settled(i) {
            if self.region != Region::After {
                self.enter(Region::After, i);
            }
            self.reanchor(i);
            let grid = self.grid(i);
            self.osc.constant_frame(&self.after, grid)
        } else if self.ramp.is_constant_over(i, 1) {
            if self.region != Region::Before {
                self.enter(Region::Before, i);
            }
            self.reanchor(i);
            let grid = self.grid(i);
            self.osc.constant_frame(&self.before, grid)
        } else {
            if self.region != Region::Ramp {
                self.enter(Region::Ramp, i);
            }
            self.reanchor(i);
            let dt = self.clock.dt;
            if let Some(fr) = self.fast {
                let aq = fr.alpha.at(i);
                for c in 0..2 {
                    let e = &mut self.ramp_snap.ear[c];
                    e.inc0 = fr.inc(c, self.before.ear[c].inc0, aq);
                    if self.vary.amp[c] {
                        e.amp = self.p.amp[c].at(aq as f64 * (1.0 / ALPHA_ONE as f64)) as f32;
                    }
                }
            } else {
                let a = self.ramp.alpha(i);
                self.ramp_snap.update(&self.p, a, dt, &self.vary);
            }
            let s = &self.ramp_snap;
            let (am, pho) = ramp_lfo_phases(
                s.ear.map(|e| (e.am_depth, e.am_rate, e.am_off_rad)),
                s.pho_on.then_some(s.pho_rate),
                dt,
                i,
            );
            self.osc.frame(s, am, pho)
        }
    }

    /// Renders `out.len()` frames (exactly the frames of repeated [`Self::next_frame`]).
    pub fn process(&mut self, out: &mut [Frame]) {
        self.render::<WRITE>(out, &mut []);
    }

    /// Adds the next `out.len()` frames to `out` (`out[k][c] += frame[c]`): the bits of
    /// [`Self::process`] into a buffer summed into `out`, without the buffer (the
    /// engine's mix of a voice with nothing after it, [`super::VoiceSlot::mix_into`]).
    ///
    /// `scratch`: room the kernel may use for its arrays (any length; two of its frames
    /// per frame of a chunk spare it initialising its own).
    pub fn mix_into(&mut self, out: &mut [Frame], scratch: &mut [Frame]) {
        self.render::<ADD>(out, scratch);
    }

    /// Writes the next `out.len()` frames as `+0.0 + frame`: the bits of
    /// [`Self::mix_into`] on zeroed frames, without zeroing them first.
    pub fn mix_onto_zero(&mut self, out: &mut [Frame], scratch: &mut [Frame]) {
        self.render::<ONTO_ZERO>(out, scratch);
    }

    #[inline(always)]
    fn render<const MODE: u8>(&mut self, out: &mut [Frame], scratch: &mut [Frame]) {
        let mut k = 0;
        while k < out.len() {
            let i = self.i;
            // Fast path: a run inside an entered constant region, up to the next anchor
            // (and, before the ramp, up to its start).
            let (region, end) = if !self.osc.transition || self.ramp.is_settled(i) {
                (Region::After, u64::MAX)
            } else if self.ramp.is_constant_over(i, 1) {
                (Region::Before, self.ramp.first_moving())
            } else {
                (Region::Ramp, i)
            };
            if region != Region::Ramp && self.region == region {
                let since = i - self.anchor.start;
                let to_anchor = ANCHOR - since % ANCHOR;
                let run = ((out.len() - k) as u64)
                    .min(if since == 0 { ANCHOR } else { to_anchor })
                    .min(end - i) as usize;
                self.reanchor(i);
                let s = if region == Region::After {
                    &self.after
                } else {
                    &self.before
                };
                constant_run::<MODE>(
                    &mut self.osc,
                    s,
                    (since % VIB_GRID as u64) as usize,
                    &mut out[k..k + run],
                    scratch,
                );
                self.i += run as u64;
                k += run;
            } else {
                let f = self.next_frame();
                put::<MODE>(&mut out[k], f);
                k += 1;
            }
        }
    }

    /// Sample `i`'s position in its vibrato grid interval (the grid starts at the
    /// region's first sample; anchors are multiples of [`VIB_GRID`] apart).
    fn grid(&self, i: u64) -> usize {
        ((i - self.anchor.start) % VIB_GRID as u64) as usize
    }

    /// Positions the voice at sample `i` of the step without rendering what precedes it.
    ///
    /// Bit-identical to rendering outside transition ramps (with or without vibrato:
    /// closed form at the last anchor, then at most [`ANCHOR`] cheap integer steps). A
    /// ramp without vibrato is integrated in closed form (~1e-12 relative); a ramp with
    /// vibrato is stepped (integrated state only, no output formed).
    pub fn seek(&mut self, i: u64) {
        self.reset();
        let i = i.min(self.clock.n);
        if !self.osc.transition {
            self.enter(Region::After, 0);
            self.jump_in_region(i);
            self.i = i;
            return;
        }
        let m0 = self.ramp.first_moving().min(self.clock.n);
        let m1 = self.ramp.first_done();
        if i <= m0 {
            self.enter(Region::Before, 0);
            self.jump_in_region(i);
            self.i = i;
            return;
        }
        self.enter(Region::Before, 0);
        self.jump_in_region(m0);
        self.i = m0;
        let r_end = i.min(m1);
        self.skip_ramp(m0, r_end);
        self.i = r_end;
        if i > m1 {
            self.enter(Region::After, m1);
            self.jump_in_region(i);
            self.i = i;
        }
    }

    /// Moves the integrated state from the current region's anchor to sample `t` of the
    /// same constant region, exactly as rendering would have.
    fn jump_in_region(&mut self, t: u64) {
        let s = if self.region == Region::After {
            self.after
        } else {
            self.before
        };
        let a = self.anchor;
        let k = t - a.start;
        let dt = self.clock.dt;
        for c in 0..2 {
            let e = s.ear[c];
            let vc = self.vib_carrier(&s, c);
            self.osc.carrier[c] = if e.fm_half == 0.0 {
                let inc = if e.f0 > 0.0 { e.inc0 } else { 0 };
                a.carrier0[c].wrapping_add(inc.wrapping_mul(k))
            } else {
                let base = k / ANCHOR * ANCHOR;
                let mut car = a.carrier0[c].wrapping_add(if base > 0 {
                    vc.advance(unit_f64(a.vphase0[c]), base, dt)
                } else {
                    0
                });
                // From the anchor at `base` (a grid point), the carrier as rendering
                // steps it, in chunks (no output is formed).
                let vph = a.vphase0[c].wrapping_add(e.fm_inc.wrapping_mul(base));
                self.osc.vib[c] = if self.osc.transition {
                    vph.wrapping_sub(e.fm_inc).wrapping_sub(e.fm_off)
                } else {
                    vph
                };
                let mut left = (k - base) as usize;
                let mut grid = 0;
                let mut ph = [0u32; KERNEL];
                while left > 0 {
                    let n = left.min(KERNEL);
                    let carrier = self.osc.chunk_carrier(&e, s.grid[c] & FM_GRID != 0, grid);
                    carrier_block::<true, KERNEL, KERNEL_POINTS>(
                        &mut car,
                        &mut self.osc.vib[c],
                        &carrier,
                        &mut ph[..n],
                    );
                    grid = (grid + n) % VIB_GRID;
                    left -= n;
                }
                car
            };
            let next = a.vphase0[c].wrapping_add(e.fm_inc.wrapping_mul(k));
            self.osc.vib[c] = if self.osc.transition {
                next.wrapping_sub(e.fm_inc).wrapping_sub(e.fm_off)
            } else {
                next
            };
        }
        self.osc.seed_closed(&s, dt, t);
    }

    /// Advances the integrated state over ramp samples `[m0, end)`, exactly as rendering
    /// does: closed form at the last ramp anchor when the ramp has one, then per-sample
    /// steps of the integrated state (no output is formed).
    fn skip_ramp(&mut self, m0: u64, end: u64) {
        if end <= m0 {
            return;
        }
        let dt = self.clock.dt;
        self.enter(Region::Ramp, m0);
        let mut from = m0;
        if self.ramp_closed {
            let base = (end - m0) / ANCHOR * ANCHOR;
            if base > 0 {
                for c in 0..2 {
                    let adv = self.ramp_advance(c, m0 + base);
                    self.osc.carrier[c] = self.anchor.carrier0[c].wrapping_add(adv);
                    self.osc.vib[c] =
                        self.osc.vib[c].wrapping_add(self.before.ear[c].fm_inc.wrapping_mul(base));
                }
            }
            from = m0 + base;
        }
        // Step the integrated state exactly as rendering does (no output is formed).
        let mut s = self.before;
        for k in from..end {
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
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Pair;

    /// The peak of `from..to` as a render makes it: the voice rendered from 0 (blocks of
    /// 256), the guard applied, `f32::max` of the magnitudes.
    fn rendered_peak(
        p: &BinauralParams,
        clock: StepClock,
        guard: &ClickGuard,
        from: u64,
        to: u64,
    ) -> f32 {
        let mut v = BinauralBeat::new(p, None, clock);
        let mut buf = [[0.0f32; 2]; 256];
        let mut peak = 0.0f32;
        let mut i = 0u64;
        while i < to {
            let m = (to - i).min(256) as usize;
            v.process(&mut buf[..m]);
            for (k, f) in buf[..m].iter().enumerate() {
                let j = i + k as u64;
                if j >= from {
                    for x in f {
                        peak = peak.max(math::fabsf(guard.apply(j, *x)));
                    }
                }
            }
            i += m as u64;
        }
        peak
    }

    /// `carrier_peak` is the rendered peak, bit for bit, whenever it answers: random
    /// plain voices (carriers from 0 Hz and below to past Nyquist, carriers dividing the
    /// rate exactly as W1's 195 and 205 Hz at 44.1 kHz do, a quarter and half the rate,
    /// silent and loud ears, start phases), whole steps and parts of them, with the click
    /// guard on and off, steps shorter than the guard. It must answer for the common
    /// voices (W1, low carriers), and must refuse voices that are not plain.
    #[test]
    fn carrier_peak_is_the_rendered_peak() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut rnd = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut answered = 0;
        let cases = 300;
        for case in 0..cases {
            let sr = [44_100.0, 48_000.0, 22_050.0][case % 3];
            let (base, beat) = match case % 6 {
                0 => (200.0, 10.0),
                1 => (sr / 4.0, 0.0),
                2 => (sr / 4.0, sr / 2.0),
                3 => (rnd() * 30.0, rnd() * 80.0),
                _ => (20.0 + rnd() * 1500.0, rnd() * 40.0),
            };
            let amp = |r: f64| if r < 0.1 { 0.0 } else { r * 3.0 - 0.5 };
            let p = BinauralParams {
                base_freq: Pair::fixed(base),
                beat_freq: Pair::fixed(beat),
                left_high: case % 5 == 0,
                amp: [Pair::fixed(amp(rnd())), Pair::fixed(amp(rnd()))],
                start_phase: [Pair::fixed(rnd() * 7.0), Pair::fixed(rnd() * 7.0)],
                ..BinauralParams::default()
            };
            let duration = [0.015, 0.4, 2.5][(case / 3) % 3];
            let clock = StepClock::new(duration + rnd() * 0.1, sr);
            let guard = if case % 2 == 0 {
                ClickGuard::new(sr, clock.n)
            } else {
                ClickGuard::off()
            };
            let from = if case % 4 == 3 {
                (rnd() * clock.n as f64) as u64
            } else {
                0
            };
            let v = BinauralBeat::new(&p, None, clock);
            let want = rendered_peak(&p, clock, &guard, from, clock.n);
            if let Some(got) = v.carrier_peak(from, clock.n, &guard) {
                assert_eq!(
                    got.to_bits(),
                    want.to_bits(),
                    "case {case}: {got:e} vs {want:e}"
                );
                answered += 1;
            } else if case % 6 == 0 && clock.n > sr as u64 {
                // A second of W1's carriers crosses every phase they ever take.
                panic!("case {case}: W1's voice must be answered");
            }
        }
        assert!(answered >= cases * 3 / 4, "answered {answered} of {cases}");
        // Not plain: vibrato, AM, phase oscillation, a transition.
        let clock = StepClock::new(1.0, 44_100.0);
        let mut vib = BinauralParams::default();
        vib.fm[0].range = Pair::fixed(2.0);
        vib.fm[0].freq = Pair::fixed(0.5);
        let mut am = BinauralParams::default();
        am.am[1].depth = Pair::fixed(0.3);
        let pho = BinauralParams {
            phase_osc_freq: Pair::fixed(0.2),
            phase_osc_range: Pair::fixed(1.0),
            ..BinauralParams::default()
        };
        for (name, p) in [("vibrato", vib), ("am", am), ("phase osc", pho)] {
            let v = BinauralBeat::new(&p, None, clock);
            assert_eq!(
                v.carrier_peak(0, clock.n, &ClickGuard::off()),
                None,
                "{name}"
            );
        }
        let t = TransitionSpec::default();
        let v = BinauralBeat::new(&BinauralParams::default(), Some(&t), clock);
        assert_eq!(
            v.carrier_peak(0, clock.n, &ClickGuard::off()),
            None,
            "transition"
        );
    }
}
