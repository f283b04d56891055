//! Shared pieces of the voices: the step clock, closed-form LFO phases, the vibrato
//! integral used to position a carrier anywhere without rendering what precedes it.

use entrain_dsp::math;
use entrain_dsp::osc::{sine_cycle24, sine_q64_24, LfoShape, Skew};
use entrain_dsp::phase::{turns_to_q64, Phase};

/// Time base of one step (VOICES.md §0.1 "Sample grid").
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepClock {
    /// Sample rate, Hz.
    pub sr: f64,
    /// Samples in the step: `N = floor(D·sr)`.
    pub n: u64,
    /// Step duration `D`, s.
    pub duration: f64,
    /// `D/N`: the original's `t_i = i·D/N` grid (equals `1/sr` when `D·sr` is an integer).
    pub dt: f64,
}

impl StepClock {
    /// The clock of a step of `duration` seconds at `sr`.
    pub fn new(duration: f64, sr: f64) -> Self {
        let nf = math::floor(duration * sr);
        let n = if nf > 0.0 { nf as u64 } else { 0 };
        let dt = if n > 0 { duration / n as f64 } else { 1.0 / sr };
        Self {
            sr,
            n,
            duration,
            dt,
        }
    }
}

/// Q0.64 phase of a closed-form LFO `frac(rate·t_i + offset/2π)` at sample `i`
/// (`t_i = i·dt`). Exact to ~1e-12 turn for any `i` of a 10-hour step.
#[inline]
pub fn closed_phase(rate_hz: f64, dt: f64, offset_rad: f64, i: u64) -> u64 {
    turns_to_q64(rate_hz * dt)
        .wrapping_mul(i)
        .wrapping_add(turns_to_q64(offset_rad / math::TAU))
}

/// The closed-form LFO phases a ramp sample `i` reads: per ear `(AM depth, AM rate Hz,
/// AM offset rad)` and the phase oscillation's rate (`None` when it is off). A phase is
/// formed only where it is read (an ear with AM depth, an active phase oscillation), 0
/// otherwise: each is a handful of f64 operations, soft-float calls on the Cortex-M4F
/// (two thirds of a binaural ramp sample's cost there when all were formed).
#[inline]
pub fn ramp_lfo_phases(
    am: [(f32, f64, f64); 2],
    pho_rate: Option<f64>,
    dt: f64,
    i: u64,
) -> ([u64; 2], u64) {
    let am_at = |(depth, rate, off): (f32, f64, f64)| {
        if depth != 0.0 {
            closed_phase(rate, dt, off, i)
        } else {
            0
        }
    };
    let pho = pho_rate.map_or(0, |r| closed_phase(r, dt, 0.0, i));
    ([am_at(am[0]), am_at(am[1])], pho)
}

/// Frames per pass of the voices' constant-region block kernels for short blocks: small
/// enough that their per-ear arrays stay in L1 and cost little to set up (a kernel's
/// arrays are initialised per chunk; 256-frame arrays for 32-frame blocks made F19-B's
/// render a third dearer), large enough to amortise the per-chunk decisions.
pub const KERNEL: usize = 64;

/// Grid points of a [`KERNEL`]-frame chunk ([`chunk_grid_points`]).
pub const KERNEL_POINTS: usize = chunk_grid_points(KERNEL);

/// Frames per pass for blocks longer than [`KERNEL`] ([`wide_chunks`]): every chunk costs
/// each ear its set-up (the grid points' LFO values, the passes' loop heads and tails,
/// the out-of-line AM grid's dispatch), which 256 frames amortise four times better than
/// 64: F19-B 886M → 743M instructions per 20 s (callgrind), 22.6 → 17.8 s of CPU per
/// hour. Chunking does not change the bits (every grid is anchored to its region).
pub const KERNEL_WIDE: usize = 256;

/// Grid points of a [`KERNEL_WIDE`]-frame chunk.
pub const KERNEL_WIDE_POINTS: usize = chunk_grid_points(KERNEL_WIDE);

/// Whether a block of `n` frames is rendered in [`KERNEL_WIDE`]-frame chunks: when it is
/// longer than [`KERNEL`], on hosted targets only. On a microcontroller (`target_os =
/// "none"`) the wide kernels would add ~100 KB of flash (the Cortex-M4F bench: 817 →
/// 918 KB) and ~6 KiB of stack for 2 % fewer instructions at 480-frame blocks (1,413 →
/// 1,387 per frame for 8 voices + pink noise), so it keeps [`KERNEL`].
#[inline(always)]
pub fn wide_chunks(n: usize) -> bool {
    cfg!(not(target_os = "none")) && n > KERNEL
}

/// Grid points a chunk of `k` samples can touch (it may start in the middle of an
/// interval: `k/VIB_GRID + 2`), rounded up to a vector's width (8).
pub const fn chunk_grid_points(k: usize) -> usize {
    (k / VIB_GRID + 2).div_ceil(8) * 8
}

/// The vibrato of a carrier over one block-kernel chunk (VOICES.md §1.1, §2.1): for the
/// LFO phases `first + k·fm_inc`, the vibrato `vib = half·shape(phase)`, whether the
/// instantaneous frequency `f0 + vib` is above 0 Hz (`live`; a carrier at or below 0 Hz
/// stands still), and the upper 32 bits of the increment [`Phase::inc_from_f32`] adds
/// for `vib·dt` (`vinc`). Exactly the per-sample formulation's values, in loops the
/// compiler vectorises: |vib| ≤ |half| (the shapes stay within ±(1 + 2.5e-7)), so when
/// `|half·dt|` is small the increments are converted without a float-to-int instruction
/// ([`Phase::inc32_from_f32_small`]).
#[allow(clippy::too_many_arguments)] // the LFO's parameters, one per field of the ear
#[inline(always)]
fn vibrato_block(
    shape: LfoShape,
    skew: &Skew,
    half: f32,
    f0: f32,
    dt: f32,
    first: u64,
    fm_inc: u64,
    vinc: &mut [i32],
    live: &mut [bool],
) {
    let small = math::fabsf(half * dt) * math::TWO_POW_32_F32 < Phase::SMALL_INC32;
    let mut vp = first;
    match shape {
        LfoShape::Sine if small && skew.is_symmetric() => {
            for (v, l) in vinc.iter_mut().zip(live.iter_mut()) {
                let vib = half * sine_q64_24(vp);
                *l = f0 + vib > 0.0;
                *v = Phase::inc32_from_f32_small(vib * dt);
                vp = vp.wrapping_add(fm_inc);
            }
        }
        LfoShape::Triangle if small => {
            for (v, l) in vinc.iter_mut().zip(live.iter_mut()) {
                let vib = half * skew.triangle(unit(vp));
                *l = f0 + vib > 0.0;
                *v = Phase::inc32_from_f32_small(vib * dt);
                vp = vp.wrapping_add(fm_inc);
            }
        }
        _ => {
            for (v, l) in vinc.iter_mut().zip(live.iter_mut()) {
                let vib = half * shape.eval(unit(vp), skew);
                *l = f0 + vib > 0.0;
                *v = Phase::inc32_from_f32(vib * dt);
                vp = vp.wrapping_add(fm_inc);
            }
        }
    }
}

/// The increment of a vibrato carrier at one sample of a [`vibrato_block`]: `inc0` plus
/// the vibrato's `vinc` (2^-32 turn), or 0 when the carrier is not `live`.
#[inline(always)]
fn vibrato_inc(inc0: u64, vinc: i32, live: bool) -> u64 {
    if live {
        inc0.wrapping_add(((vinc as i64) as u64) << 32)
    } else {
        0
    }
}

/// The interaural phase oscillation over one block-kernel chunk (VOICES.md §1.1): when
/// `on`, for the phases `pho + k·inc` the offset `half·sin(phase)` in Q0.32 turns that the
/// left carrier subtracts and the right one adds (`dturns`, one per sample); `pho`
/// advances by the chunk either way.
#[inline(always)]
pub fn phase_osc_block(pho: &mut u64, on: bool, half: f32, inc: u64, dturns: &mut [u32]) {
    if on {
        let mut p = *pho;
        for d in dturns.iter_mut() {
            let delta = half * math::sin_turns((p >> 32) as u32);
            *d = math::turns_f32(delta * (1.0 / core::f32::consts::TAU));
            p = p.wrapping_add(inc);
        }
    }
    *pho = pho.wrapping_add(inc.wrapping_mul(dturns.len() as u64));
}

/// One ear's carrier over a block-kernel chunk: what [`carrier_block`] needs of a
/// voice's parameter snapshot.
#[derive(Clone, Copy)]
pub struct ChunkCarrier<'a> {
    /// Q0.64 increment of the carrier frequency `f0`.
    pub inc0: u64,
    /// `f0 > 0` (a carrier at or below 0 Hz stands still when it has no vibrato).
    pub f0_positive: bool,
    /// `f0` in f32, for the vibrato's "above 0 Hz" test.
    pub f0_f32: f32,
    /// Vibrato LFO Q0.64 increment (its phase advances even when the vibrato is off).
    pub fm_inc: u64,
    /// The vibrato, `None` when it is off.
    pub vibrato: Option<ChunkVibrato<'a>>,
    /// Accumulation step (s) in f32, for the vibrato increments.
    pub dt: f32,
    /// Transition variant: the vibrato LFO is integrated (POST) and read with its offset.
    pub transition: bool,
    /// `Some(start)`: PRE accumulation, each sample reads the phase before its increment
    /// plus `start` (the isochronic transition); `None`: POST.
    pub pre: Option<u64>,
    /// `Some(m)`: the vibrato is on its grid ([`vibrato_on_grid`]) and the chunk's first
    /// sample is sample `m` of its grid interval; `None`: the vibrato per sample.
    pub grid: Option<usize>,
}

/// The vibrato LFO of a [`ChunkCarrier`].
#[derive(Clone, Copy)]
pub struct ChunkVibrato<'a> {
    /// LFO waveform.
    pub shape: LfoShape,
    /// LFO skew.
    pub skew: &'a Skew,
    /// Half the vibrato range, Hz.
    pub half: f32,
    /// LFO phase offset (Q0.64), read by the transition variant.
    pub fm_off: u64,
}

/// The carrier phases (Q0.32) of one ear over a block-kernel chunk, exactly those of the
/// voices' per-sample kernels: the vibrato's increments first ([`vibrato_block`],
/// vectorised), then their running sum; `car` and the vibrato LFO phase `vib` advance by
/// the chunk.
///
/// `TRI`: the kernel may meet a triangle vibrato on the grid. Kernels whose vibrato is
/// never a triangle pass `false` and carry none of its code: its mere presence, out of
/// line, made every voice's kernel ~2 instructions per frame dearer on the Cortex-M4F.
/// With `false` a triangle on the grid would be rendered as a sine's grid (wrong), so
/// callers pass `false` only for voices whose vibrato is not a triangle.
#[inline(always)]
pub fn carrier_block<const TRI: bool, const K: usize, const G: usize>(
    car: &mut u64,
    vib: &mut u64,
    c: &ChunkCarrier<'_>,
    ph: &mut [u32],
) {
    const { assert!(K / VIB_GRID + 2 <= G) };
    let n = ph.len();
    debug_assert!(n <= K);
    let vib0 = *vib;
    *vib = vib0.wrapping_add(c.fm_inc.wrapping_mul(n as u64));
    let mut acc = *car;
    if let Some(v) = c.vibrato {
        let first = if c.transition {
            vib0.wrapping_add(c.fm_inc).wrapping_add(v.fm_off)
        } else {
            vib0
        };
        if let Some(m0) = c.grid {
            grid_carrier::<TRI, G>(&mut acc, c, &v, first, m0, ph);
            *car = acc;
            return;
        }
        let mut vinc = [0i32; K];
        let mut live = [false; K];
        let (vinc, live) = (&mut vinc[..n], &mut live[..n]);
        vibrato_block(
            v.shape, v.skew, v.half, c.f0_f32, c.dt, first, c.fm_inc, vinc, live,
        );
        let incs = vinc.iter().zip(live.iter());
        match c.pre {
            Some(start) => {
                for (p, (v, l)) in ph.iter_mut().zip(incs) {
                    *p = (acc.wrapping_add(start) >> 32) as u32;
                    acc = acc.wrapping_add(vibrato_inc(c.inc0, *v, *l));
                }
            }
            None => {
                for (p, (v, l)) in ph.iter_mut().zip(incs) {
                    acc = acc.wrapping_add(vibrato_inc(c.inc0, *v, *l));
                    *p = (acc >> 32) as u32;
                }
            }
        }
    } else {
        let inc = if c.f0_positive { c.inc0 } else { 0 };
        match c.pre {
            Some(start) => {
                for p in ph.iter_mut() {
                    *p = (acc.wrapping_add(start) >> 32) as u32;
                    acc = acc.wrapping_add(inc);
                }
            }
            None => {
                for p in ph.iter_mut() {
                    acc = acc.wrapping_add(inc);
                    *p = (acc >> 32) as u32;
                }
            }
        }
    }
    *car = acc;
}

/// Samples between two points of a vibrato's grid: in constant regions a slow vibrato
/// is evaluated every `VIB_GRID` samples and its increment moves linearly in between.
pub const VIB_GRID: usize = 16;

/// `log2(2^32 / VIB_GRID)`: a grid interval's change of the vibrato increment (2^-32 turn)
/// shifted left by this is its change per sample in 2^-64 turn, exactly.
const VIB_GRID_SHIFT: u32 = 28;

/// Largest phase error (turns) the grid may add to a carrier ([`vibrato_on_grid`]):
/// 2e-6 turn is 1.3e-5 rad, -98 dB at full scale, an eighth of the voices' golden
/// tolerance (1e-4).
const VIB_GRID_MAX_ERR: f64 = 2e-6;

/// Whether a carrier at `f0` Hz with a vibrato of half-range `half` Hz, `rate` Hz, of
/// `shape` with `skew`, is rendered on the vibrato grid in constant regions: its
/// increment evaluated at every [`VIB_GRID`]-th sample (from the region's start) and
/// linear in between, in integers, so that a grid interval's carrier phases have a closed
/// form (no per-sample LFO, no running sum: those were about 70 % of a vibrato voice's
/// time). Only where that changes nothing audible; the carrier must stay above 0 Hz with
/// a margin (no sample stands still) either way.
///
/// **Sine.** A half-wave of the skewed sine is `half·sin(ω t)` with `ω = π·rate/w` (`w =
/// (1 + skew)/2`, or `1 - w` for the other half); linear interpolation over intervals of
/// `τ = VIB_GRID·dt` misses `-f''·τ³/12` of phase per interval, which adds up over the
/// half-wave to `half·ω·τ²/6 = half·π·rate·τ²/(6w)` turns and returns over the next one
/// (no drift). A skewed sine also has a kink at its zero crossings (the slope changes by
/// `half·(ω₂ - ω₁)`); an interval across it errs by at most an eighth of that times `τ²`,
/// counted as a second half-wave's worth. The bound must stay within
/// [`VIB_GRID_MAX_ERR`] and the vibrato within ±2^21·2^-32 turn per sample (±21.5 Hz at
/// 44.1 kHz; its grid increments are then converted without a float-to-int instruction).
///
/// **Triangle.** Linear between its two corners, so the grid is exact there (grid points
/// in f64, [`triangle_grid_points`]); the intervals that hold a corner are rendered per
/// sample, as the per-sample kernels do. No interpolation error at any width; the
/// vibrato must stay within ±2^30·2^-32 turn per sample (±11 kHz at 44.1 kHz) and the
/// LFO below a quarter cycle per interval (so an interval's corners are found by
/// comparing phases).
///
/// A pure function of the parameters in f64 basic operations: the same on every target.
pub fn vibrato_on_grid(shape: LfoShape, skew: f64, f0: f64, half: f64, rate: f64, dt: f64) -> bool {
    // (Parameters are finite: the format rejects NaN and infinities.)
    if half == 0.0 || f0 <= 1.001 * math::fabs(half) {
        return false;
    }
    let tau = VIB_GRID as f64 * dt;
    let vib = math::fabs(half * dt) * math::TWO_POW_32;
    match shape {
        LfoShape::Triangle => vib < 1_073_741_824.0 && rate >= 0.0 && rate * tau < 0.25,
        LfoShape::Sine => {
            // The grid points' increments are converted exactly only below 2^22 (2^-32 turn).
            if vib >= 2_097_152.0 {
                return false;
            }
            let w = (0.5 + 0.5 * skew).clamp(1e-9, 1.0 - 1e-9);
            let narrow = if w < 1.0 - w { w } else { 1.0 - w };
            let kinks = if skew == 0.0 { 1.0 } else { 2.0 };
            let err = math::fabs(half) * core::f64::consts::PI * math::fabs(rate) * tau * tau
                / (6.0 * narrow)
                * kinks;
            err <= VIB_GRID_MAX_ERR
        }
    }
}

/// `(multiplier of the first increment, multiplier of the per-sample change)` that give
/// the phase sample `j` of a grid interval reads, from the accumulator before the
/// interval's first sample: POST `(j + 1, j(j + 1)/2)`, PRE `(j, j(j - 1)/2)`.
const GRID_POST: ([u64; VIB_GRID], [u64; VIB_GRID]) = grid_tables(1);
const GRID_PRE: ([u64; VIB_GRID], [u64; VIB_GRID]) = grid_tables(0);

const fn grid_tables(post: u64) -> ([u64; VIB_GRID], [u64; VIB_GRID]) {
    let mut m = [0u64; VIB_GRID];
    let mut t = [0u64; VIB_GRID];
    let mut j = 0;
    while j < VIB_GRID {
        let c = j as u64 + post;
        m[j] = c;
        t[j] = if c > 0 { c * (c - 1) / 2 } else { 0 };
        j += 1;
    }
    (m, t)
}

/// The carrier phases of a chunk whose vibrato is on its grid ([`vibrato_on_grid`]):
/// LFO phase `first` at the chunk's first sample, which is sample `m0` of its grid
/// interval.
#[inline(always)]
fn grid_carrier<const TRI: bool, const G: usize>(
    acc: &mut u64,
    c: &ChunkCarrier<'_>,
    v: &ChunkVibrato<'_>,
    first: u64,
    m0: usize,
    ph: &mut [u32],
) {
    let gp = first.wrapping_sub(c.fm_inc.wrapping_mul(m0 as u64));
    if TRI && v.shape == LfoShape::Triangle {
        triangle_grid_carrier::<G>(acc, c, v, gp, m0, ph);
    } else {
        let pts = grid_points::<G>(v, c.fm_inc, c.dt, gp);
        grid_phases(acc, c.inc0, &pts, m0, c.pre, ph);
    }
}

/// [`grid_carrier`] for a triangle vibrato, out of line (only the kernels of triangle
/// voices carry the call: [`carrier_block`]'s `TRI`).
#[inline(never)]
fn triangle_grid_carrier<const G: usize>(
    acc: &mut u64,
    c: &ChunkCarrier<'_>,
    v: &ChunkVibrato<'_>,
    gp: u64,
    m0: usize,
    ph: &mut [u32],
) {
    let (pts, corners) = triangle_grid_points::<G>(v, c.fm_inc, c.dt, gp);
    // The intervals this chunk touches (at most `G - 1`).
    let last = (m0 + ph.len()).saturating_sub(1) / VIB_GRID;
    if corners & ((2u32 << last) - 1) != 0 {
        triangle_corner_chunk(acc, c, v, gp, &pts, corners, m0, ph);
    } else {
        grid_phases(acc, c.inc0, &pts, m0, c.pre, ph);
    }
}

/// [`grid_carrier`] for a triangle vibrato's chunk that touches a corner interval: those
/// intervals per sample, with the increments of the per-sample kernels
/// ([`vibrato_block`]), the others by the closed form. Out of line: two intervals per
/// LFO cycle take it, and merged into [`triangle_grid_carrier`] it made that function's
/// corner-free chunks dearer (~4 instructions per frame for a triangle voice, callgrind).
#[allow(clippy::too_many_arguments)] // grid_carrier's state and the grid's
#[inline(never)]
fn triangle_corner_chunk<const G: usize>(
    acc: &mut u64,
    c: &ChunkCarrier<'_>,
    v: &ChunkVibrato<'_>,
    gp: u64,
    pts: &[i64; G],
    corners: u32,
    m0: usize,
    ph: &mut [u32],
) {
    let step = c.fm_inc.wrapping_mul(VIB_GRID as u64);
    let inc_at = |g: usize, m: usize| {
        let lp = gp
            .wrapping_add(step.wrapping_mul(g as u64))
            .wrapping_add(c.fm_inc.wrapping_mul(m as u64));
        let vib = v.half * v.skew.triangle(unit(lp));
        vibrato_inc(
            c.inc0,
            Phase::inc32_from_f32(vib * c.dt),
            c.f0_f32 + vib > 0.0,
        )
    };
    grid_phases_corners(acc, c.inc0, pts, m0, c.pre, ph, corners, inc_at);
}

/// The triangle vibrato's increments (2^-32 turn) at the grid points from LFO phase `gp`
/// on, and which grid intervals hold a corner (bit `g`: interval `g`, from point `g` to
/// `g + 1`). The triangle is evaluated in f64 from the phase's upper 53 bits and rounded
/// to the nearest integer: between its corners the per-sample increments then lie on the
/// line through the grid points to within rounding (the f32 formula at each sample errs
/// by about one unit at ±100 Hz; f64 points keep the interpolated increments at least
/// that close, so the phase wanders no more than per sample). An interval is a corner's
/// when the trough (phase 0) or the peak (`w`) lies in it or within two 24-bit cycle
/// positions of it (the per-sample kernels read 24 bits), so every interval rendered by
/// the closed form is linear.
#[inline(always)]
fn triangle_grid_points<const G: usize>(
    v: &ChunkVibrato<'_>,
    fm_inc: u64,
    dt: f32,
    gp: u64,
) -> ([i64; G], u32) {
    const { assert!(G <= 32) }; // `corners` has a bit per point
    const MARGIN: u64 = 1 << 41;
    let step = fm_inc.wrapping_mul(VIB_GRID as u64);
    let w = v.skew.w();
    let wd = w as f64;
    let up = 2.0 / wd;
    let down = if wd < 1.0 { 2.0 / (1.0 - wd) } else { 0.0 };
    let scale = v.half as f64 * dt as f64 * math::TWO_POW_32;
    // The peak's phase: the per-sample kernels rise while `(phase >> 40) < w·2^24`.
    let peak = ((w * 16_777_216.0) as u32 as u64) << 40;
    // `vibrato_on_grid` keeps `step` below 2^62: the span cannot wrap.
    let span = step + 2 * MARGIN;
    let mut pts = [0i64; G];
    let mut corners = 0u32;
    let mut p = gp;
    for (g, q) in pts.iter_mut().enumerate() {
        let x = (p >> 11) as f64 * (1.0 / 9_007_199_254_740_992.0);
        let tri = if x < wd {
            -1.0 + x * up
        } else {
            1.0 - (x - wd) * down
        };
        *q = nearest_i64(tri * scale);
        let lo = p.wrapping_sub(MARGIN);
        if lo.wrapping_neg() <= span || peak.wrapping_sub(lo) <= span {
            corners |= 1 << g;
        }
        p = p.wrapping_add(step);
    }
    (pts, corners)
}

/// `x` to the nearest integer (ties to even) for |x| < 2^51, by the magic number
/// 1.5·2^52 (the f64 counterpart of [`nearest_i32`]).
#[inline(always)]
fn nearest_i64(x: f64) -> i64 {
    const M: f64 = 6_755_399_441_055_744.0;
    ((x + M).to_bits() as i64).wrapping_sub(M.to_bits() as i64)
}

/// The vibrato increments (2^-32 turn) at the grid points from LFO phase `gp` on (one
/// every [`VIB_GRID`] samples of LFO increment `fm_inc`): `half·shape(phase)·dt` to the
/// nearest integer, vectorised.
#[inline(always)]
fn grid_points<const G: usize>(v: &ChunkVibrato<'_>, fm_inc: u64, dt: f32, gp: u64) -> [i64; G] {
    let cyc = grid_cycles::<G>(gp, fm_inc);
    let mut vib = [0.0f32; G];
    if v.shape == LfoShape::Sine && v.skew.is_symmetric() {
        for (x, c) in vib.iter_mut().zip(&cyc) {
            *x = v.half * sine_cycle24(*c);
        }
    } else {
        for (x, c) in vib.iter_mut().zip(&cyc) {
            *x = v.half * v.shape.eval(unit_cycle24(*c), v.skew);
        }
    }
    let mut pts = [0i64; G];
    for (q, x) in pts.iter_mut().zip(vib) {
        *q = nearest_i32(x * dt * math::TWO_POW_32_F32) as i64;
    }
    pts
}

/// The 24-bit cycle positions (`phase >> 40`) of the `G` grid points from
/// LFO phase `gp` on, for an LFO of increment `inc` per sample. A scalar running sum of
/// its own, so that the waveforms evaluated at the points run in one vector pass:
/// interleaved with the 64-bit sum, the compiler split them into scalar and 4-lane
/// pieces (~2 % of F19-B's instructions).
#[inline(always)]
fn grid_cycles<const G: usize>(gp: u64, inc: u64) -> [u32; G] {
    let step = inc.wrapping_mul(VIB_GRID as u64);
    let mut cyc = [0u32; G];
    let mut p = gp;
    for c in cyc.iter_mut() {
        *c = (p >> 40) as u32;
        p = p.wrapping_add(step);
    }
    cyc
}

/// `x` to the nearest integer (ties to even) for |x| < 2^22: adding 1.5·2^23 (whose ulp
/// is 1) rounds, and the integer is read from the bits, with no float-to-int instruction
/// (it vectorises). [`vibrato_on_grid`] keeps the grid's increments below 2^21.
#[inline(always)]
fn nearest_i32(x: f32) -> i32 {
    const M: f32 = 12_582_912.0;
    ((x + M).to_bits() as i32).wrapping_sub(M.to_bits() as i32)
}

/// The carrier phases of one chunk on the vibrato grid: from the accumulator `acc`
/// (advanced by the chunk), carrier increment `inc0`, the grid points' vibrato increments
/// `pts` (2^-32 turn; `pts[0]` at or before the first sample, which is sample `m0` of its
/// interval) and PRE (`Some(start)`) or POST accumulation. In an interval the increment
/// of sample `j` is `b + j·d` (2^-64 turn, wrapping): `b` from the vibrato at the
/// interval's first point, `d` its change to the next point over [`VIB_GRID`] samples,
/// exact in integers; the phases are then a closed form in `j` (the values of the
/// per-sample running sum, without the serial dependency).
#[inline(always)]
fn grid_phases<const G: usize>(
    acc: &mut u64,
    inc0: u64,
    pts: &[i64; G],
    m0: usize,
    pre: Option<u64>,
    ph: &mut [u32],
) {
    // Inlined into the kernels (out of line, the closure loses their AVX2 code).
    grid_intervals(
        ph,
        m0,
        #[inline(always)]
        |ph: &mut [u32], g, m| closed_part(acc, inc0, pts, pre, ph, g, m),
    );
}

/// [`grid_phases`] where the intervals flagged in `corners` (bit `g`) sum `inc_at(g, m)`,
/// the increment of their sample `m`, instead (a triangle's corners). A separate walk:
/// with the corner branch in it, the plain closed form compiled worse for every voice
/// on the Cortex-M4F.
#[allow(clippy::too_many_arguments)] // the grid, the accumulation and the corners
#[inline(always)]
fn grid_phases_corners<const G: usize>(
    acc: &mut u64,
    inc0: u64,
    pts: &[i64; G],
    m0: usize,
    pre: Option<u64>,
    ph: &mut [u32],
    corners: u32,
    inc_at: impl Fn(usize, usize) -> u64,
) {
    grid_intervals(ph, m0, |ph: &mut [u32], g, m| {
        if corners & (1 << g) == 0 {
            closed_part(acc, inc0, pts, pre, ph, g, m);
            return;
        }
        for (k, p) in ph.iter_mut().enumerate() {
            let inc = inc_at(g, m + k);
            match pre {
                Some(start) => {
                    *p = (acc.wrapping_add(start) >> 32) as u32;
                    *acc = acc.wrapping_add(inc);
                }
                None => {
                    *acc = acc.wrapping_add(inc);
                    *p = (*acc >> 32) as u32;
                }
            }
        }
    });
}

/// Samples `m..m + ph.len()` of grid interval `g` ([`grid_phases`]): the closed form,
/// then the accumulator after them, `cnt·b + cnt(cnt - 1)/2·d`.
#[inline(always)]
fn closed_part<const G: usize>(
    acc: &mut u64,
    inc0: u64,
    pts: &[i64; G],
    pre: Option<u64>,
    ph: &mut [u32],
    g: usize,
    m: usize,
) {
    let (mults, tris) = if pre.is_some() { GRID_PRE } else { GRID_POST };
    let start = pre.unwrap_or(0);
    let (va, vb) = (pts[g], pts[g + 1]);
    let d = ((vb - va) as u64) << VIB_GRID_SHIFT;
    let b = inc0
        .wrapping_add((va as u64) << 32)
        .wrapping_add(d.wrapping_mul(m as u64));
    let a = acc.wrapping_add(start);
    if let Ok(whole) = <&mut [u32; VIB_GRID]>::try_from(&mut *ph) {
        whole_interval::<GRID_LANES>(a, b, d, (&mults, &tris), whole);
    } else {
        for ((p, k), t) in ph.iter_mut().zip(&mults).zip(&tris) {
            *p = (a
                .wrapping_add(k.wrapping_mul(b))
                .wrapping_add(t.wrapping_mul(d))
                >> 32) as u32;
        }
    }
    let n = ph.len() as u64;
    *acc = acc
        .wrapping_add(n.wrapping_mul(b))
        .wrapping_add((n * n.saturating_sub(1) / 2).wrapping_mul(d));
}

/// Lanes of [`whole_interval`]'s recurrence: four 64-bit lanes fill an AVX2 vector; one
/// keeps a 32-bit core's state (two 64-bit values) in registers.
#[cfg(target_arch = "x86_64")]
const GRID_LANES: usize = 4;
#[cfg(not(target_arch = "x86_64"))]
const GRID_LANES: usize = 1;

/// A whole grid interval of [`closed_part`] (its first sample `m = 0`): the phases `a +
/// k_j·b + t_j·d` (`(k, t)` the [`GRID_POST`] or [`GRID_PRE`] multipliers), by a second-order
/// recurrence over `L` lanes ([`GRID_LANES`]; `L` divides [`VIB_GRID`]) instead of two 64-bit products per sample
/// (emulated with three 32-bit ones each on AVX2, where they were the vibrato voices'
/// largest cost). From sample `j` to `j + L` the phase grows by `L·b + (t_{j+L} - t_j)·d`,
/// and that step by `L²·d` (`t` is quadratic with leading coefficient ½). Wrapping
/// integer arithmetic: exactly the closed form's values.
#[inline(always)]
fn whole_interval<const L: usize>(
    a: u64,
    b: u64,
    d: u64,
    (mults, tris): (&[u64; VIB_GRID], &[u64; VIB_GRID]),
    ph: &mut [u32; VIB_GRID],
) {
    let mut p = [0u64; L];
    let mut s = [0u64; L];
    for (l, (p, s)) in p.iter_mut().zip(s.iter_mut()).enumerate() {
        *p = a
            .wrapping_add(mults[l].wrapping_mul(b))
            .wrapping_add(tris[l].wrapping_mul(d));
        *s = (L as u64)
            .wrapping_mul(b)
            .wrapping_add((tris[l + L] - tris[l]).wrapping_mul(d));
    }
    let dd = ((L * L) as u64).wrapping_mul(d);
    for blk in ph.chunks_exact_mut(L) {
        for ((o, p), s) in blk.iter_mut().zip(p.iter_mut()).zip(s.iter_mut()) {
            *o = (*p >> 32) as u32;
            *p = p.wrapping_add(*s);
            *s = s.wrapping_add(dd);
        }
    }
}

/// Walks a chunk whose first sample is sample `m0` of its grid interval, interval by
/// interval: `part(samples, g, m)` for the samples of interval `g` (0: the one at or
/// before the first sample) that the chunk holds, the first of them sample `m` of it.
/// The rest of the first interval, then whole intervals (fixed length, so that `part`
/// unrolls into vector operations), then the start of the last one.
#[inline(always)]
fn grid_intervals<T>(s: &mut [T], m0: usize, mut part: impl FnMut(&mut [T], usize, usize)) {
    let head = ((VIB_GRID - m0) % VIB_GRID).min(s.len());
    let (first, body) = s.split_at_mut(head);
    part(first, 0, m0);
    let mut g = usize::from(head > 0);
    let mut whole = body.chunks_exact_mut(VIB_GRID);
    for blk in whole.by_ref() {
        part(blk, g, 0);
        g += 1;
    }
    part(whole.into_remainder(), g, 0);
}

/// Largest envelope error the AM grid may add ([`am_on_grid`]), relative to full scale
/// (-120 dB).
const AM_GRID_MAX_ERR: f64 = 1e-6;

/// Whether an amplitude modulation of `depth` at `rate` Hz (unskewed sine) is rendered on
/// the grid in constant regions: its envelope evaluated exactly at every [`VIB_GRID`]-th
/// sample (the vibrato's grid) and linear in between, which replaces a sine per sample by
/// a multiply-add. The envelope `1 - depth·(1 + sin(ωt))/2` has `|env''| ≤ depth·ω²/2`;
/// linear interpolation over `τ = VIB_GRID·dt` errs by at most `|env''|·τ²/8`, required ≤
/// [`AM_GRID_MAX_ERR`] (about 1.75 Hz at full depth and 44.1 kHz). Skewed envelopes (a
/// kink at each zero crossing) stay per sample. Basic f64 operations: the same decision
/// on every target.
pub fn am_on_grid(symmetric: bool, depth: f64, rate: f64, dt: f64) -> bool {
    let w = core::f64::consts::TAU * rate;
    let tau = VIB_GRID as f64 * dt;
    symmetric
        && depth != 0.0
        && math::fabs(depth) * 0.5 * w * w * tau * tau / 8.0 <= AM_GRID_MAX_ERR
}

/// `m/VIB_GRID`: a sample's position in its grid interval (exact in f32).
const GRID_FRAC: [f32; VIB_GRID] = {
    let mut f = [0.0f32; VIB_GRID];
    let mut m = 0;
    while m < VIB_GRID {
        f[m] = m as f32 / VIB_GRID as f32;
        m += 1;
    }
    f
};

/// `sig · am_gain(depth, skewed sine of the AM phase) · amp` over one block-kernel chunk
/// (AM phases `am + k·am_inc`), in the per-sample order of operations; `sig · amp`
/// without AM (`· 1.0` is exact). With `grid = Some(m0)` ([`am_on_grid`]; the chunk's
/// first sample is sample `m0` of its grid interval) the envelope is `am_gain` at the
/// grid points, linear in between (`e_a + (e_b - e_a)·m/16`). The AM phase `am` advances
/// by the chunk either way.
#[inline(always)]
pub fn am_amp_block<const G: usize>(
    sig: &mut [f32],
    depth: f32,
    skew: &Skew,
    am: &mut u64,
    am_inc: u64,
    amp: f32,
    grid: Option<usize>,
) {
    let am0 = *am;
    *am = am0.wrapping_add(am_inc.wrapping_mul(sig.len() as u64));
    if depth == 0.0 {
        for o in sig.iter_mut() {
            *o *= amp;
        }
        return;
    }
    if let Some(m0) = grid {
        am_grid_block::<G>(sig, depth, am0, am_inc, amp, m0);
        return;
    }
    let mut ap = am0;
    if skew.is_symmetric() {
        for o in sig.iter_mut() {
            let env = am_gain(depth, sine_q64_24(ap));
            *o = *o * env * amp;
            ap = ap.wrapping_add(am_inc);
        }
    } else {
        for o in sig.iter_mut() {
            let env = am_gain(depth, skew.sine(unit(ap)));
            *o = *o * env * amp;
            ap = ap.wrapping_add(am_inc);
        }
    }
}

/// [`am_amp_block`] on the grid ([`am_on_grid`]): the envelope at the grid points from
/// AM phase `am0` (sample `m0` of its interval), linear in between. Kept out of line:
/// inlined into every voice's per-ear chunk it made the plain voices' kernels dearer.
/// Out of line it is outside the kernels' AVX2 copies, so it dispatches on its own
/// ([`AmGrid`]).
#[inline(never)]
fn am_grid_block<const G: usize>(
    sig: &mut [f32],
    depth: f32,
    am0: u64,
    am_inc: u64,
    amp: f32,
    m0: usize,
) {
    // The chunk's last sample lies in interval `(m0 + len - 1)/VIB_GRID`, whose end point
    // must be one of the `G`.
    debug_assert!(m0 + sig.len() <= (G - 1) * VIB_GRID);
    entrain_simd::run(&mut AmGrid::<G> {
        sig,
        depth,
        am0,
        am_inc,
        amp,
        m0,
    });
}

/// [`am_grid_block`]'s work as an [`entrain_simd::Kernel`] (the same bits with any
/// vector width).
struct AmGrid<'a, const G: usize> {
    sig: &'a mut [f32],
    depth: f32,
    am0: u64,
    am_inc: u64,
    amp: f32,
    m0: usize,
}

impl<const G: usize> entrain_simd::Kernel for AmGrid<'_, G> {
    #[inline(always)]
    fn run(&mut self) {
        let (depth, am0, am_inc, amp, m0) = (self.depth, self.am0, self.am_inc, self.amp, self.m0);
        let cyc = grid_cycles::<G>(am0.wrapping_sub(am_inc.wrapping_mul(m0 as u64)), am_inc);
        let mut env = [0.0f32; G];
        for (e, c) in env.iter_mut().zip(&cyc) {
            *e = am_gain(depth, sine_cycle24(*c));
        }
        // `sample · (e_a + (e_b - e_a)·m/16) · amp` over a part of an interval.
        grid_intervals(
            self.sig,
            m0,
            #[inline(always)]
            |sig: &mut [f32], g, m| {
                let (ea, de) = (env[g], env[g + 1] - env[g]);
                for (o, f) in sig.iter_mut().zip(&GRID_FRAC[m..]) {
                    *o = *o * (ea + de * f) * amp;
                }
            },
        );
    }
}

/// `sin_turns(phase ∓ dturns)` (minus for the left ear, `c == 0`) over one chunk.
#[inline(always)]
pub fn sine_block(sig: &mut [f32], ph: &[u32], dturns: Option<&[u32]>, c: usize) {
    match dturns {
        Some(d) if c == 0 => {
            for ((o, p), d) in sig.iter_mut().zip(ph).zip(d) {
                *o = math::sin_turns(p.wrapping_sub(*d));
            }
        }
        Some(d) => {
            for ((o, p), d) in sig.iter_mut().zip(ph).zip(d) {
                *o = math::sin_turns(p.wrapping_add(*d));
            }
        }
        None => {
            for (o, p) in sig.iter_mut().zip(ph) {
                *o = math::sin_turns(*p);
            }
        }
    }
}

/// Q0.64 phase → cycle position in `[0, 1)` (f32, 24 bits).
#[inline]
pub fn unit(p: u64) -> f32 {
    unit_cycle24((p >> 40) as u32)
}

/// [`unit`] of a 24-bit cycle position already taken from its phase (`p >> 40`).
#[inline]
fn unit_cycle24(c: u32) -> f32 {
    c as f32 * (1.0 / 16_777_216.0)
}

/// The AM gain `1 - depth·0.5·(1 + w)` of binaural and isochronic (VOICES.md §1.2).
#[inline]
pub fn am_gain(depth: f32, w: f32) -> f32 {
    1.0 - depth * 0.5 * (1.0 + w)
}

/// Antiderivative of one cycle of the skewed waveform, `F(p) = ∫_0^p W(v) dv`
/// (p ∈ [0, 1]), and the cycle mean `M = F(1)`; f64, for positioning only.
fn cycle_integral(shape: LfoShape, skew: f64, p: f64) -> f64 {
    let w = (0.5 + 0.5 * skew).clamp(1e-9, 1.0 - 1e-9);
    match shape {
        LfoShape::Sine => {
            if p < w {
                (w / math::PI) * (1.0 - math::cos(math::PI * p / w))
            } else {
                let fw = 2.0 * w / math::PI;
                fw - ((1.0 - w) / math::PI) * (1.0 - math::cos(math::PI * (p - w) / (1.0 - w)))
            }
        }
        LfoShape::Triangle => {
            if p < w {
                -p + p * p / w
            } else {
                let q = p - w;
                q - q * q / (1.0 - w)
            }
        }
    }
}

/// `G(u) = ∫_0^u W(frac(v)) dv` for any real `u` (cycles).
fn periodic_integral(shape: LfoShape, skew: f64, u: f64) -> f64 {
    let whole = math::floor(u);
    whole * cycle_integral(shape, skew, 1.0) + cycle_integral(shape, skew, u - whole)
}

/// Σ_{k=0}^{i-1} W(frac(θ0 + k·δ)) in closed form by the midpoint rule
/// `∫_{-1/2}^{i-1/2}` (error O(δ²) per cycle: ~1e-11 of a turn for vibrato rates).
/// Used only to position a carrier with vibrato at sample `i` (seek).
pub fn shape_sum(shape: LfoShape, skew: f64, theta0: f64, delta: f64, i: u64) -> f64 {
    if i == 0 {
        return 0.0;
    }
    if delta == 0.0 {
        return i as f64 * waveform(shape, skew, math::frac(theta0));
    }
    let a = theta0 - 0.5 * delta;
    let b = theta0 + (i as f64 - 0.5) * delta;
    (periodic_integral(shape, skew, b) - periodic_integral(shape, skew, a)) / delta
}

/// The skewed waveform in f64 (positioning only).
fn waveform(shape: LfoShape, skew: f64, p: f64) -> f64 {
    let w = (0.5 + 0.5 * skew).clamp(1e-9, 1.0 - 1e-9);
    match shape {
        LfoShape::Sine => {
            if p < w {
                math::sin(math::PI * p / w)
            } else {
                math::sin(math::PI * (1.0 + (p - w) / (1.0 - w)))
            }
        }
        LfoShape::Triangle => {
            if p < w {
                -1.0 + 2.0 * p / w
            } else {
                1.0 - 2.0 * (p - w) / (1.0 - w)
            }
        }
    }
}

/// A carrier with constant parameters and an optional vibrato, as the voices accumulate
/// it: per sample `inc0 + q(vib·dt)` (0 when the instantaneous frequency is ≤ 0), with the
/// vibrato LFO at cycle position `θ0 + k·δ` for the k-th sample.
#[derive(Clone, Copy, Debug)]
pub struct VibCarrier {
    /// Q0.64 increment of the base frequency.
    pub inc0: u64,
    /// Base frequency, Hz.
    pub f0: f64,
    /// Half the vibrato range, Hz (0 = no vibrato).
    pub half: f32,
    /// Vibrato waveform.
    pub shape: LfoShape,
    /// Vibrato skew.
    pub skew: Skew,
    /// Vibrato skew as given (f64, for the integral).
    pub skew_f64: f64,
    /// Q0.64 vibrato LFO increment.
    pub fm_inc: u64,
    /// Vibrato LFO rate, Hz.
    pub fm_rate: f64,
}

impl VibCarrier {
    /// The carrier's advance over `n` samples from LFO position `theta0` (cycles), with
    /// sample period `dt`. Closed form (the vibrato integral by [`shape_sum`]) when the
    /// carrier cannot reach 0 Hz; stepped otherwise.
    pub fn advance(&self, theta0: f64, n: u64, dt: f64) -> u64 {
        if n == 0 {
            return 0;
        }
        if self.half == 0.0 {
            return if self.f0 > 0.0 {
                self.inc0.wrapping_mul(n)
            } else {
                0
            };
        }
        let half = self.half as f64;
        let dt_f32 = dt as f32;
        if self.f0 - half <= 0.0 {
            let mut acc = 0u64;
            let mut th = Phase::from_turns(theta0).0;
            let f0_f32 = self.f0 as f32;
            for _ in 0..n {
                let vib = self.half * self.shape.eval(unit(th), &self.skew);
                th = th.wrapping_add(self.fm_inc);
                if f0_f32 + vib > 0.0 {
                    acc =
                        acc.wrapping_add(self.inc0.wrapping_add(Phase::inc_from_f32(vib * dt_f32)));
                }
            }
            return acc;
        }
        let sum = shape_sum(self.shape, self.skew_f64, theta0, self.fm_rate * dt, n);
        self.inc0
            .wrapping_mul(n)
            .wrapping_add(turns_to_q64(half * dt * sum))
    }
}

/// A Q0.64 phase as cycles in `[0, 1)` (f64).
pub fn unit_f64(p: u64) -> f64 {
    p as f64 / math::TWO_POW_64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_sum_matches_direct_sum() {
        for &(shape, skew) in &[
            (LfoShape::Sine, 0.0),
            (LfoShape::Sine, 0.6),
            (LfoShape::Sine, -0.3),
            (LfoShape::Triangle, 0.0),
            (LfoShape::Triangle, 0.5),
        ] {
            let theta0 = 0.37;
            let delta = 2.0 / 44100.0;
            let n = 100_000u64;
            let mut direct = 0.0;
            for k in 0..n {
                direct += waveform(shape, skew, math::frac(theta0 + k as f64 * delta));
            }
            let closed = shape_sum(shape, skew, theta0, delta, n);
            assert!(
                (direct - closed).abs() < 1e-3,
                "{shape:?} {skew}: {direct} vs {closed}"
            );
        }
    }

    /// A whole interval's recurrence equals the closed form `a + k_j·b + t_j·d` with 1,
    /// 2, 4 and 8 lanes (the targets use 4 or 1), POST and PRE, per-sample changes of
    /// both signs.
    #[test]
    fn whole_interval_recurrence_equals_the_closed_form() {
        fn check<const L: usize>(a: u64, b: u64, d: u64, pre: bool) {
            let (mults, tris) = if pre { GRID_PRE } else { GRID_POST };
            let mut got = [0u32; VIB_GRID];
            whole_interval::<L>(a, b, d, (&mults, &tris), &mut got);
            for j in 0..VIB_GRID {
                let want = a
                    .wrapping_add(mults[j].wrapping_mul(b))
                    .wrapping_add(tris[j].wrapping_mul(d));
                assert_eq!(got[j], (want >> 32) as u32, "L {L} j {j}");
            }
        }
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for case in 0..2000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let (a, b) = (seed, seed.rotate_left(17) ^ 0x5555);
            // Per-sample changes of either sign, wrapping (large ones too).
            let d = if case % 2 == 0 {
                seed.rotate_left(40)
            } else {
                ((seed % (1 << 22)) << VIB_GRID_SHIFT).wrapping_neg()
            };
            for pre in [false, true] {
                check::<1>(a, b, d, pre);
                check::<2>(a, b, d, pre);
                check::<4>(a, b, d, pre);
                check::<8>(a, b, d, pre);
            }
        }
    }

    /// The grid's closed form equals its definition, the running sum of the per-sample
    /// increments `inc0 + pts[g]·2^32 + m·(pts[g+1] - pts[g])·2^28` (interval `g`, sample
    /// `m` of it; a corner interval's own increments instead), for POST and PRE, every
    /// start offset and chunk length, vibrato increments of both signs and accumulators
    /// near the wrap.
    #[test]
    fn grid_phases_equal_the_running_sum() {
        grid_phases_case::<KERNEL, KERNEL_POINTS>();
        grid_phases_case::<KERNEL_WIDE, KERNEL_WIDE_POINTS>();
    }

    fn grid_phases_case<const K: usize, const G: usize>() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for case in 0..400 {
            let mut pts = [0i64; G];
            for p in pts.iter_mut() {
                *p = (next() % (1 << 22)) as i64 - (1 << 21);
            }
            let inc0 = next() >> 2;
            let acc0 = if case % 3 == 0 {
                u64::MAX - (next() % 1000)
            } else {
                next()
            };
            let m0 = (next() % VIB_GRID as u64) as usize;
            let n = 1 + (next() % K as u64) as usize;
            let pre = (case % 2 == 0).then(&mut next);
            // Corner intervals (a triangle's) sum their own increments.
            let corners = if case % 5 < 2 { 0 } else { next() as u32 };
            let salt = next();
            let inc_at = |g: usize, m: usize| {
                (salt ^ (g as u64) << 8 ^ m as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
            };
            let mut acc = acc0;
            let mut got = [0u32; K];
            grid_phases_corners(
                &mut acc,
                inc0,
                &pts,
                m0,
                pre,
                &mut got[..n],
                corners,
                inc_at,
            );
            if corners == 0 {
                let (mut acc2, mut got2) = (acc0, [0u32; K]);
                grid_phases(&mut acc2, inc0, &pts, m0, pre, &mut got2[..n]);
                assert_eq!((acc2, &got2[..n]), (acc, &got[..n]), "K {K}, case {case}");
            }
            let mut want_acc = acc0;
            for (k, w) in got[..n].iter().enumerate() {
                let (g, m) = ((m0 + k) / VIB_GRID, (m0 + k) % VIB_GRID);
                let slope = ((pts[g + 1] - pts[g]) as u64) << 28;
                let inc = if corners & (1 << g) != 0 {
                    inc_at(g, m)
                } else {
                    inc0.wrapping_add((pts[g] as u64) << 32)
                        .wrapping_add(slope.wrapping_mul(m as u64))
                };
                let want = match pre {
                    Some(start) => {
                        let p = (want_acc.wrapping_add(start) >> 32) as u32;
                        want_acc = want_acc.wrapping_add(inc);
                        p
                    }
                    None => {
                        want_acc = want_acc.wrapping_add(inc);
                        (want_acc >> 32) as u32
                    }
                };
                assert_eq!(*w, want, "K {K}, case {case}, sample {k}");
            }
            assert_eq!(acc, want_acc, "K {K}, case {case}: accumulator");
        }
    }

    /// The grid points' conversion is round-to-nearest-even over its whole range.
    #[test]
    fn nearest_i32_rounds_to_nearest_even() {
        for &x in &[
            0.0f32,
            0.5,
            1.5,
            2.5,
            -0.5,
            -1.5,
            -2.5,
            0.49999997,
            -0.49999997,
        ] {
            assert_eq!(nearest_i32(x), x.round_ties_even() as i32, "{x}");
        }
        let mut x = -4_194_303.5f32;
        while x < 4_194_303.5 {
            assert_eq!(nearest_i32(x), x.round_ties_even() as i32, "{x}");
            x += 997.3125;
        }
    }

    /// The grid is used for the presets' slow vibratos and refused where its bound or the
    /// conversion's range would not hold.
    #[test]
    fn vibrato_grid_decision() {
        let dt = 1.0 / 44_100.0;
        // F19-B: ±8 Hz at 0.267 Hz on ~1 kHz; ±0.5 Hz at 1 Hz on 16 Hz.
        assert!(vibrato_on_grid(
            LfoShape::Sine,
            0.0,
            958.8,
            8.0,
            0.26667,
            dt
        ));
        assert!(vibrato_on_grid(LfoShape::Sine, 0.0, 16.0, 0.5, 1.0, dt));
        // Bound: half·π·rate·τ²/3 ≤ 2e-6 turn; ±8 Hz allows up to ≈ 1.8 Hz.
        assert!(vibrato_on_grid(LfoShape::Sine, 0.0, 500.0, 8.0, 1.7, dt));
        assert!(!vibrato_on_grid(LfoShape::Sine, 0.0, 500.0, 8.0, 2.0, dt));
        // Skew narrows a half-wave and adds kinks.
        assert!(!vibrato_on_grid(LfoShape::Sine, 0.8, 500.0, 8.0, 1.0, dt));
        // Triangles at any width (F12-B: ±265 Hz at 0.4 Hz on 15.7 kHz), not too fast
        // (a quarter cycle per interval: 689 Hz at 44.1 kHz), not reaching 0 Hz, within
        // ±2^30·2^-32 turn per sample (±11 kHz).
        let tri = |f0, half, rate| vibrato_on_grid(LfoShape::Triangle, 0.0, f0, half, rate, dt);
        assert!(tri(500.0, 0.5, 0.1));
        assert!(tri(15_665.0, 265.0, 0.4));
        assert!(vibrato_on_grid(
            LfoShape::Triangle,
            -0.7,
            500.0,
            40.0,
            9.0,
            dt
        ));
        assert!(tri(500.0, 40.0, 689.0));
        assert!(!tri(500.0, 40.0, 690.0));
        assert!(!tri(500.0, 40.0, -1.0));
        assert!(!tri(500.0, 499.6, 1.0));
        assert!(tri(20_000.0, 10_900.0, 1.0));
        assert!(!tri(20_000.0, 11_100.0, 1.0));
        // Sines: carriers that may reach 0 Hz, vibratos beyond ±2^21 (±21.5 Hz).
        assert!(!vibrato_on_grid(LfoShape::Sine, 0.0, 8.0, 8.0, 0.1, dt));
        assert!(!vibrato_on_grid(
            LfoShape::Sine,
            0.0,
            5000.0,
            25.0,
            0.01,
            dt
        ));
        assert!(!vibrato_on_grid(LfoShape::Sine, 0.0, 500.0, 0.0, 1.0, dt));
    }

    #[test]
    fn clock_truncates_like_int() {
        let c = StepClock::new(0.7, 44100.0);
        assert_eq!(c.n, 30869);
        assert!((c.dt - 0.7 / 30869.0).abs() < 1e-18);
    }
}
