//! Swept-notch noise, streaming (NOISE.md §4, §5, §8).
//!
//! Chain per sample: [`ColourGen`] → pre-filters → swept notches (per channel, one or two
//! passes) → static notches → fixed per-channel gain → clamp at ±0.95.
//!
//! Differences from the original's whole-buffer design (NOISE.md §6.3), all deliberate:
//!
//! * **Pre-filters.** The original runs a 1st-order Butterworth low-pass at 10 kHz and a
//!   2nd-order high-pass at 50 Hz forward and backward (`filtfilt`). Here each runs twice
//!   causally: the same squared magnitude, a different (non-zero) phase, which noise
//!   does not reveal.
//! * **Notch design.** SciPy `iirnotch` (§4.2), not the RBJ notch of the Rust ports.
//!   Coefficients are recomputed **every sample** from the LFO with the f32 sine shim
//!   (`cos w0`, `tan(w0/2Q)` as sin/cos), and the biquad states persist (direct form II
//!   transposed). The original holds each notch fixed for a 4096-sample Hann block
//!   sampled at the block centre and cross-fades blocks 2048 samples apart, restarting
//!   every filter from zero state in every block (a 46 ms staircase, truncated ringing).
//!   The per-sample sweep is smooth; the measured notch trajectory and spectra agree
//!   within the statistical tolerances (`tests/conformance/tests/golden_noise.rs` prints
//!   them per case).
//! * **Cascade changes** during a transition: the original rounds the interpolated count
//!   at each block centre (half to even); here all `max(start, end)` stages always run
//!   and the output cross-fades between the taps after `⌊c⌋` and `⌊c⌋+1` stages, so a
//!   changing count never clicks and no stage starts from a stale state.
//! * **Level.** The original scales each channel to the pre-notch RMS, then the stereo
//!   pair so its peak is exactly 0.95 (hard-clipping at 0.95 if it was above), which needs
//!   the whole render. Here a deterministic calibration pre-roll (4 windows of 16384
//!   samples spread over the render, each after a 4096-sample warm-up, from derived
//!   seeds) measures each channel's RMS and zero-crossing rate; Rice's formula
//!   ([`expected_crest`]) gives the expected stereo peak over the render length; the fixed
//!   gain puts that expected peak at 0.95. Samples beyond ±0.95 (the random peak exceeds
//!   its expectation in about half of the renders, by a few percent) are clamped, the
//!   original's own rule for a peak above 0.95. No per-block rescaling.
//! * **LFO phase** is a Q0.64 integer for the static sweep (exact, wraps, O(1) seek) and
//!   `(n+1)·inc_start + Δinc·Σα` in closed form for the transition (f64, O(1) seek),
//!   never an f32 accumulator (the earlier port's sweep froze after ~8 minutes).
//! * **Seek.** LFO, transition and cascade state are functions of the absolute sample
//!   index. The random state is not: [`SweptNoise::seek`] restarts the noise from a seed
//!   derived from `max(0, t - WARMUP)` and runs the whole chain for the
//!   [`WARMUP`] samples before `t` (so every filter is in its steady state at `t`). A
//!   seek to `t` therefore gives different noise than a render that ran through `t`, with
//!   the same statistics; a seek to 0 equals a fresh start.
//!
//! Capacity (a fixed bank, no allocation): [`MAX_SWEEPS`] × [`MAX_CASCADE`] ×
//! [`MAX_PASSES`] × 2 channels = 240 biquad states, plus [`MAX_STATIC_STAGES`] per
//! channel for static notches ([`STATE_FRAMES`] frames, 4.4 KB), next to ~2 KB of
//! parameters, clocks and source ([`SweptCore`]); [`SweptNoise`] holds both (~6.5 KB).
//! The split lets a voice keep the state bank in the ring of its pool slot.

use super::colour::{expected_crest, BandLimits, Calibration, Colour, ColourGen, CAL_LEVEL};
use super::derive_seed;
use crate::filter::Biquad;
use crate::math;
use crate::phase::{inc_hz, turns_to_q64};
use crate::ramp::{Curve, Ramp};
use crate::Frame;

/// Sweeps per generator: the original GUI offers three.
pub const MAX_SWEEPS: usize = 3;
/// Cascaded notches per sweep: the GUI's range is 1–20.
pub const MAX_CASCADE: usize = 20;
/// Notch passes per channel (the second pass uses the intra-phase offset).
pub const MAX_PASSES: usize = 2;
/// Static notches (Session-Builder `static_notches`, at most 10 entries).
pub const MAX_STATIC_NOTCHES: usize = 10;
/// Largest `cascade` of a static notch accepted (Session-Builder has no upper bound; the
/// shipped presets use 1).
pub const MAX_STATIC_CASCADE: usize = 8;
/// Static notch stages per channel: each cascade step runs twice (the original's
/// `filtfilt` has the squared magnitude).
pub const MAX_STATIC_STAGES: usize = 2 * MAX_STATIC_NOTCHES * MAX_STATIC_CASCADE;
/// Output ceiling: the original scales or clips its noise to 0.95.
pub const NOISE_PEAK: f32 = 0.95;
/// Samples run before the position after a seek (and before each calibration window):
/// longer than the slowest time constant that matters after the 50 Hz high-pass (a
/// Q-25 notch at 100 Hz rings for ~3,500 samples at 44.1 kHz).
pub const WARMUP: u64 = 4096;
/// Calibration windows spread over the render.
pub const CAL_WINDOWS: u64 = 4;
/// Samples measured per calibration window.
pub const CAL_LEN: u64 = 16_384;
/// How many independent looks the correlated stereo pair gives at the peak, relative
/// to one channel (1 = the channels are identical, 2 = independent). Fitted on the
/// reference renders (`golden_noise.rs`): the original's channels correlate 0.78–0.97.
pub const STEREO_LOOKS: f64 = 1.3;

/// The notch LFO waveform (NOISE.md §4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LfoWave {
    /// `"sine"`, which is a cosine: `cos(phase)`.
    #[default]
    Sine,
    /// `"triangle"`: SciPy `sawtooth(phase, 0.5)`, -1 at phase 0, +1 at π.
    Triangle,
}

impl LfoWave {
    /// The waveform at a Q0.64 phase.
    #[inline]
    pub fn at(&self, phase: u64) -> f32 {
        match self {
            LfoWave::Sine => math::cos_turns((phase >> 32) as u32),
            LfoWave::Triangle => {
                let u = (phase >> 40) as f32 * (1.0 / 16_777_216.0);
                if u < 0.5 {
                    -1.0 + 4.0 * u
                } else {
                    3.0 - 4.0 * u
                }
            }
        }
    }
}

/// One sweep (NOISE.md §1 sweep dict): the notch centre swings between `min` and `max`.
/// A static generator uses the `start_*` values only.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SweepSpec {
    /// `start_min`, `end_min`, Hz.
    pub min_hz: [f64; 2],
    /// `start_max`, `end_max`, Hz.
    pub max_hz: [f64; 2],
    /// `start_q`, `end_q`.
    pub q: [f64; 2],
    /// `start_casc`, `end_casc` (1..=[`MAX_CASCADE`]).
    pub casc: [f64; 2],
}

impl Default for SweepSpec {
    /// The original background renderer's defaults for missing keys: 1000 / 10000 Hz,
    /// Q 30, cascade 10.
    fn default() -> Self {
        Self {
            min_hz: [1000.0; 2],
            max_hz: [10000.0; 2],
            q: [30.0; 2],
            casc: [10.0; 2],
        }
    }
}

/// A static notch (Session-Builder, NOISE.md §4.6).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StaticNotch {
    /// Centre, Hz.
    pub freq_hz: f64,
    /// Q (≥ 0.1).
    pub q: f64,
    /// Times applied (zero-phase in the original, so each counts twice here).
    pub cascade: u8,
}

impl Default for StaticNotch {
    fn default() -> Self {
        Self {
            freq_hz: 1000.0,
            q: 25.0,
            cascade: 1,
        }
    }
}

/// Everything the swept-notch generator needs (a resolved `.noise` file, NOISE.md §1).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SweptParams {
    /// Base colour.
    pub colour: Colour,
    /// Session-Builder `lowcut`/`highcut` of the colour.
    pub band: BandLimits,
    /// LFO waveform.
    pub lfo_wave: LfoWave,
    /// Use the transition generator (§5).
    pub transition: bool,
    /// LFO rate of the static generator, Hz.
    pub lfo_freq: f64,
    /// LFO rate at the start and end of a transition, Hz.
    pub transition_lfo_freq: [f64; 2],
    /// Sweeps, the first `sweep_count` used.
    pub sweeps: [SweepSpec; MAX_SWEEPS],
    /// Number of sweeps in use.
    pub sweep_count: usize,
    /// Right-channel LFO phase offset, degrees (start, end).
    pub lfo_phase_offset_deg: [f64; 2],
    /// Second-pass phase offset, degrees (start, end).
    pub intra_phase_offset_deg: [f64; 2],
    /// Transition start, s.
    pub initial_offset: f64,
    /// Transition length, s (`None` = to the end).
    pub transition_duration: Option<f64>,
    /// Transition curve (always linear for background noise, TRACK_FORMAT.md §9.2).
    pub curve: Curve,
    /// Static notches, the first `static_count` used.
    pub static_notches: [StaticNotch; MAX_STATIC_NOTCHES],
    /// Number of static notches in use.
    pub static_count: usize,
    /// Random seed (NOISE.md: default 1).
    pub seed: u64,
}

impl Default for SweptParams {
    /// The `.noise` defaults of the original (pink, sine, 1/12 Hz, no sweeps).
    fn default() -> Self {
        Self {
            colour: Colour::Pink,
            band: BandLimits::default(),
            lfo_wave: LfoWave::Sine,
            transition: false,
            lfo_freq: 1.0 / 12.0,
            transition_lfo_freq: [1.0 / 12.0; 2],
            sweeps: [SweepSpec::default(); MAX_SWEEPS],
            sweep_count: 0,
            lfo_phase_offset_deg: [0.0; 2],
            intra_phase_offset_deg: [0.0; 2],
            initial_offset: 0.0,
            transition_duration: None,
            curve: Curve::Linear,
            static_notches: [StaticNotch::default(); MAX_STATIC_NOTCHES],
            static_count: 0,
            seed: super::DEFAULT_SEED,
        }
    }
}

impl SweptParams {
    /// Notch passes per channel: the transition generator always runs two (the
    /// original's quirk, NOISE.md §5); the static one a second only for a non-zero intra
    /// offset.
    pub fn passes(&self) -> usize {
        if self.transition || self.intra_phase_offset_deg[0] != 0.0 {
            2
        } else {
            1
        }
    }
}

/// SciPy `iirnotch(f0, Q, sr)` in f64 (NOISE.md §4.2): `(b, a)` with `a[0] = 1`.
/// `None` where SciPy raises (`f0 < 0` or `f0 > sr/2`).
pub fn iirnotch64(f0: f64, q: f64, sr: f64) -> Option<([f64; 3], [f64; 3])> {
    let w0n = 2.0 * f0 / sr;
    if !(0.0..=1.0).contains(&w0n) {
        return None;
    }
    let bw = w0n / q * math::PI;
    let w0 = w0n * math::PI;
    let beta = math::tan(bw / 2.0);
    let gain = 1.0 / (1.0 + beta);
    let c = math::cos(w0);
    Some((
        [gain, gain * (-2.0 * c), gain],
        [1.0, -2.0 * gain * c, 2.0 * gain - 1.0],
    ))
}

/// `iirnotch` as an f32 biquad through the sine shim (per-sample path): `cos w0` and
/// `tan(w0/2Q) = sin/cos` from Q0.32 phases, error ~1e-7. `t_norm = f0/sr` must be in
/// `(0, 0.5)`; the half-bandwidth angle is capped just below π/2.
#[inline]
pub fn iirnotch_f32(t_norm: f32, q: f32) -> Biquad {
    let c = math::cos_turns(math::unit_to_turns(t_norm));
    let u = (t_norm / (2.0 * q)).min(0.249);
    let ph = math::unit_to_turns(u);
    let beta = math::sin_turns(ph) / math::cos_turns(ph);
    let g = 1.0 / (1.0 + beta);
    let b1 = -2.0 * g * c;
    Biquad {
        b: [g, b1, g],
        a: [b1, 2.0 * g - 1.0],
    }
}

/// Butterworth pre-filters of NOISE.md §3 as f32 biquads: 1st-order low-pass at 10 kHz
/// and 2nd-order high-pass at 50 Hz (bilinear transform with pre-warping, as SciPy).
pub fn prefilters(sr: f64) -> [Biquad; 2] {
    let k = math::tan(math::PI * 10_000.0f64.min(0.45 * sr) / sr);
    let lp = Biquad {
        b: [(k / (1.0 + k)) as f32, (k / (1.0 + k)) as f32, 0.0],
        a: [((k - 1.0) / (k + 1.0)) as f32, 0.0],
    };
    let k = math::tan(math::PI * 50.0 / sr);
    let norm = 1.0 / (1.0 + core::f64::consts::SQRT_2 * k + k * k);
    let hp = Biquad {
        b: [norm as f32, (-2.0 * norm) as f32, norm as f32],
        a: [
            (2.0 * (k * k - 1.0) * norm) as f32,
            ((1.0 - core::f64::consts::SQRT_2 * k + k * k) * norm) as f32,
        ],
    };
    [lp, hp]
}

/// Closed-form LFO clock: the base phase at sample `n` (Q0.64 turns).
#[derive(Clone, Copy, Debug, PartialEq)]
struct LfoClock {
    /// Static: `inc·n`; transition: `inc_start·(n+1) + Δ·S(n)`.
    transition: bool,
    inc: u64,
    /// `(f_end - f_start)/sr`, turns per sample per unit α.
    delta: f64,
    /// α model for the sum: α_k = x_a + A·(k - a) on [a, b), 0 before, 1 from b.
    a: u64,
    b: u64,
    x_a: f64,
    slope: f64,
    curve: SumCurve,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum SumCurve {
    Linear,
    Logarithmic,
    Exponential,
}

impl LfoClock {
    fn base(&self, n: u64) -> u64 {
        if !self.transition {
            return self.inc.wrapping_mul(n);
        }
        let p = self.inc.wrapping_mul(n.wrapping_add(1));
        if self.delta == 0.0 {
            return p;
        }
        p.wrapping_add(turns_to_q64(self.delta * self.alpha_sum(n)))
    }

    /// `S(n) = Σ_{k ≤ n} α_k`.
    fn alpha_sum(&self, n: u64) -> f64 {
        let mut s = 0.0;
        if n >= self.a && self.a < self.b {
            let last = n.min(self.b - 1);
            let j = (last - self.a) as f64; // terms j = 0..=J
            let cnt = j + 1.0;
            let sum_j = j * cnt / 2.0;
            let sum_j2 = j * cnt * (2.0 * j + 1.0) / 6.0;
            let lin = self.x_a * cnt + self.slope * sum_j;
            let sq = self.x_a * self.x_a * cnt
                + 2.0 * self.x_a * self.slope * sum_j
                + self.slope * self.slope * sum_j2;
            s += match self.curve {
                SumCurve::Linear => lin,
                SumCurve::Exponential => sq,
                SumCurve::Logarithmic => 2.0 * lin - sq,
            };
        }
        if n >= self.b {
            s += (n - self.b + 1) as f64;
        }
        s
    }
}

/// Biquad states of the swept notches: 2 channels × [`MAX_PASSES`] × [`MAX_SWEEPS`] ×
/// [`MAX_CASCADE`].
pub const NOTCH_STATES: usize = 2 * MAX_PASSES * MAX_SWEEPS * MAX_CASCADE;
/// Frames of the filter-state bank of a generator ([`SweptCore`]): the swept notches'
/// states, then 2 × [`MAX_STATIC_STAGES`] static-notch states (one `[f32; 2]` frame per
/// biquad, 4,480 bytes in all).
pub const STATE_FRAMES: usize = NOTCH_STATES + 2 * MAX_STATIC_STAGES;

/// The streaming swept-notch generator (module docs): a [`SweptCore`] with its own
/// filter-state bank.
#[derive(Clone, Debug)]
pub struct SweptNoise {
    core: SweptCore,
    st: [Frame; STATE_FRAMES],
}

impl SweptNoise {
    /// A generator for `frames` samples at `sr` (the render length sets the transition
    /// clock and the expected peak of the level stage). Runs the calibration pre-roll.
    pub fn new(params: &SweptParams, sr: u32, frames: u64) -> Self {
        let mut st = [[0.0; 2]; STATE_FRAMES];
        let core = SweptCore::new(params, sr, frames, &mut st);
        Self { core, st }
    }

    /// A generator with unit channel gains and no calibration (for measurements).
    pub fn uncalibrated(params: &SweptParams, sr: u32, frames: u64) -> Self {
        Self {
            core: SweptCore::uncalibrated(params, sr, frames),
            st: [[0.0; 2]; STATE_FRAMES],
        }
    }

    /// The render length the generator was built for.
    pub fn frames(&self) -> u64 {
        self.core.frames()
    }

    /// The per-channel output gains of the level stage.
    pub fn gains(&self) -> [f32; 2] {
        self.core.gains()
    }

    /// Current position (frames).
    pub fn position(&self) -> u64 {
        self.core.position()
    }

    /// Back to the state right after `new` (position 0, fresh noise).
    pub fn reset(&mut self) {
        self.core.reset(&mut self.st);
    }

    /// Moves to frame `t` (see [`SweptCore::seek`]).
    pub fn seek(&mut self, t: u64) {
        self.core.seek(t, &mut self.st);
    }

    /// The next stereo frame.
    #[inline]
    pub fn next_frame(&mut self) -> Frame {
        self.core.next_frame(&mut self.st)
    }

    /// Fills `out` with the next frames (bit-identical to [`SweptNoise::next_frame`]).
    pub fn process(&mut self, out: &mut [Frame]) {
        self.core.process(out, &mut self.st);
    }

    /// Notch centre of sweep `j` for channel `ch`, pass 0, at sample `n`.
    pub fn notch_centre_hz(&self, j: usize, ch: usize, n: u64) -> f64 {
        self.core.notch_centre_hz(j, ch, n)
    }
}

/// The swept-notch generator without its filter-state bank: parameters, clocks, the
/// random source, the pre-filters and the level stage (~2 KB). Every stateful call takes
/// the bank, a slice of at least [`STATE_FRAMES`] frames that the caller keeps with the
/// core (a voice keeps it in its pool slot's ring); [`SweptNoise`] owns one.
#[derive(Clone, Debug)]
pub struct SweptCore {
    p: SweptParams,
    frames: u64,
    src: ColourGen,
    pre: [Biquad; 2],
    pre_state: [[f32; 2]; 4],
    stages: [usize; MAX_SWEEPS],
    statics: [Biquad; MAX_STATIC_NOTCHES],
    static_stages: [usize; MAX_STATIC_NOTCHES],
    ramp: Ramp,
    clock: LfoClock,
    passes: usize,
    gain: [f32; 2],
    pos: u64,
    /// Per-generator constants of `next_frame`, hoisted out of the per-sample path (each
    /// is an f64 operation, a soft-float call on the Cortex-M4F): `1/sr` and the Nyquist
    /// guard as f32, the static right-channel and intra-pass LFO offsets (Q0.64), and the
    /// sweep parameters at α = 0 (a static generator's every sample).
    inv_sr: f32,
    nyq_guard: f32,
    right0: u64,
    intra0: u64,
    now0: [SweepNow; MAX_SWEEPS],
}

/// Per-sample parameters of one sweep.
#[derive(Clone, Copy, Debug, Default)]
struct SweepNow {
    centre: f32,
    range: f32,
    q: f32,
    tap: usize,
    frac: f32,
}

impl SweptCore {
    /// A generator for `frames` samples at `sr` (see [`SweptNoise::new`]); runs the
    /// calibration pre-roll in the bank `st` and leaves it at position 0.
    pub fn new(params: &SweptParams, sr: u32, frames: u64, st: &mut [Frame]) -> Self {
        let mut g = Self::uncalibrated(params, sr, frames);
        g.calibrate(st);
        g.seek(0, st);
        g
    }

    /// A generator with unit channel gains and no calibration (for measurements).
    pub fn uncalibrated(params: &SweptParams, sr: u32, frames: u64) -> Self {
        let mut p = *params;
        p.sweep_count = p.sweep_count.min(MAX_SWEEPS);
        p.static_count = p.static_count.min(MAX_STATIC_NOTCHES);
        let srf = sr as f64;
        // α over the generator length (TRACK_FORMAT.md §7.3 with D = frames/sr).
        let d = frames as f64 / srf;
        let ramp = if p.transition {
            Ramp::new(d, frames, p.initial_offset, p.transition_duration, p.curve)
        } else {
            Ramp::settled()
        };
        let clock = if p.transition {
            let step = if frames > 0 { d / frames as f64 } else { 0.0 };
            let io = p.initial_offset.max(0.0);
            let td = p.transition_duration.unwrap_or(d - io).max(0.0);
            let start = io.min(d);
            let span = td.min((d - start).max(0.0));
            let a = ramp.first_moving();
            let b = ramp.first_done().min(frames.max(a));
            let (x_a, slope) = if span > 0.0 {
                ((a as f64 * step - start) / span, step / span)
            } else {
                (1.0, 0.0)
            };
            LfoClock {
                transition: true,
                inc: inc_hz(p.transition_lfo_freq[0], 1.0 / srf),
                delta: (p.transition_lfo_freq[1] - p.transition_lfo_freq[0]) / srf,
                a,
                b: if span > 0.0 { b } else { a },
                x_a,
                slope,
                curve: match p.curve {
                    Curve::Logarithmic => SumCurve::Logarithmic,
                    Curve::Exponential => SumCurve::Exponential,
                    _ => SumCurve::Linear,
                },
            }
        } else {
            LfoClock {
                transition: false,
                inc: inc_hz(p.lfo_freq, 1.0 / srf),
                delta: 0.0,
                a: 0,
                b: 0,
                x_a: 0.0,
                slope: 0.0,
                curve: SumCurve::Linear,
            }
        };
        let mut stages = [0usize; MAX_SWEEPS];
        for (st, sw) in stages.iter_mut().zip(p.sweeps[..p.sweep_count].iter()) {
            let hi = if p.transition {
                sw.casc[0].max(sw.casc[1])
            } else {
                sw.casc[0]
            };
            *st = (math::ceil(hi.max(1.0)) as usize).min(MAX_CASCADE);
        }
        let mut statics = [Biquad::default(); MAX_STATIC_NOTCHES];
        let mut static_stages = [0usize; MAX_STATIC_NOTCHES];
        for i in 0..p.static_count {
            let s = p.static_notches[i];
            if s.freq_hz > 0.0 && s.freq_hz < 0.49 * srf {
                if let Some((b, a)) = iirnotch64(s.freq_hz, s.q.max(0.1), srf) {
                    statics[i] = Biquad {
                        b: [b[0] as f32, b[1] as f32, b[2] as f32],
                        a: [a[1] as f32, a[2] as f32],
                    };
                    static_stages[i] = 2 * (s.cascade.max(1) as usize).min(MAX_STATIC_CASCADE);
                }
            }
        }
        let mut g = Self {
            src: ColourGen::new(p.colour, p.band, srf, srf / frames.max(1) as f64, p.seed),
            passes: p.passes(),
            p,
            frames,
            pre: prefilters(srf),
            pre_state: [[0.0; 2]; 4],
            stages,
            statics,
            static_stages,
            ramp,
            clock,
            gain: [1.0, 1.0],
            pos: 0,
            inv_sr: (1.0 / srf) as f32,
            nyq_guard: (0.49 * srf) as f32,
            right0: turns_to_q64(p.lfo_phase_offset_deg[0] / 360.0),
            intra0: turns_to_q64(p.intra_phase_offset_deg[0] / 360.0),
            now0: [SweepNow::default(); MAX_SWEEPS],
        };
        g.now0 = g.sweep_params(0.0);
        g
    }

    /// The render length the generator was built for.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// The per-channel output gains of the level stage.
    pub fn gains(&self) -> [f32; 2] {
        self.gain
    }

    /// Current position (frames).
    pub fn position(&self) -> u64 {
        self.pos
    }

    fn clear_states(&mut self, st: &mut [Frame]) {
        self.pre_state = [[0.0; 2]; 4];
        st.iter_mut().take(STATE_FRAMES).for_each(|f| *f = [0.0; 2]);
    }

    /// Back to the state right after `new` (position 0, fresh noise).
    pub fn reset(&mut self, st: &mut [Frame]) {
        self.seek(0, st);
    }

    /// Moves to frame `t`: LFO and transition state exactly, the random state restarted
    /// from a seed derived from `max(0, t - WARMUP)` and warmed up to `t` (module docs).
    pub fn seek(&mut self, t: u64, st: &mut [Frame]) {
        let n0 = t.saturating_sub(WARMUP);
        let seed = if n0 == 0 {
            self.p.seed
        } else {
            derive_seed(self.p.seed, n0)
        };
        self.src.restart(seed);
        self.clear_states(st);
        self.pos = n0;
        while self.pos < t {
            self.next_frame(st);
        }
    }

    fn calibrate(&mut self, st: &mut [Frame]) {
        self.gain = [1.0, 1.0];
        let mut first = [Calibration::default(), Calibration::default()];
        self.measure(&mut first, st);
        let mut cal = [
            Calibration::with_level(&first[0], CAL_LEVEL),
            Calibration::with_level(&first[1], CAL_LEVEL),
        ];
        self.measure(&mut cal, st);
        let rate = 0.5 * (cal[0].peak_rate(CAL_LEVEL) + cal[1].peak_rate(CAL_LEVEL));
        let crest = expected_crest(self.frames.max(1), rate, STEREO_LOOKS);
        for (g, c) in self.gain.iter_mut().zip(cal.iter()) {
            let rms = c.rms();
            *g = if rms > 1e-12 {
                (NOISE_PEAK as f64 / (rms * crest)) as f32
            } else {
                0.0
            };
        }
    }

    /// Runs the calibration windows (unit gains) into `cal`.
    fn measure(&mut self, cal: &mut [Calibration; 2], st: &mut [Frame]) {
        for w in 0..CAL_WINDOWS {
            let t0 = self.frames / CAL_WINDOWS * w;
            // Distinct noise for each window, even where windows start below WARMUP.
            self.src.restart(derive_seed(self.p.seed, u64::MAX - w));
            self.clear_states(st);
            self.pos = t0.saturating_sub(WARMUP);
            while self.pos < t0 {
                self.next_frame(st);
            }
            cal[0].gap();
            cal[1].gap();
            for _ in 0..CAL_LEN {
                let f = self.next_frame(st);
                cal[0].push(f[0]);
                cal[1].push(f[1]);
            }
        }
    }

    #[inline]
    fn sweep_params(&self, alpha: f64) -> [SweepNow; MAX_SWEEPS] {
        let mut now = [SweepNow::default(); MAX_SWEEPS];
        let t = self.p.transition;
        for (o, s) in now
            .iter_mut()
            .zip(self.p.sweeps[..self.p.sweep_count].iter())
        {
            let (min, max, q, c) = if t {
                (
                    s.min_hz[0] + (s.min_hz[1] - s.min_hz[0]) * alpha,
                    s.max_hz[0] + (s.max_hz[1] - s.max_hz[0]) * alpha,
                    s.q[0] + (s.q[1] - s.q[0]) * alpha,
                    s.casc[0] + (s.casc[1] - s.casc[0]) * alpha,
                )
            } else {
                (s.min_hz[0], s.max_hz[0], s.q[0], s.casc[0])
            };
            let c = c.clamp(1.0, MAX_CASCADE as f64);
            let tap = math::floor(c);
            *o = SweepNow {
                centre: ((min + max) / 2.0) as f32,
                range: ((max - min) / 2.0) as f32,
                q: q.max(1e-3) as f32,
                tap: tap as usize,
                frac: (c - tap) as f32,
            };
        }
        now
    }

    /// The next stereo frame (`st`: the bank, at least [`STATE_FRAMES`] frames).
    #[inline]
    pub fn next_frame(&mut self, st: &mut [Frame]) -> Frame {
        let (notch, statics) = st[..STATE_FRAMES].split_at_mut(NOTCH_STATES);
        let n = self.pos;
        self.pos += 1;
        let x = self.src.next();
        let [lp, hp] = self.pre;
        let v = lp.tick(&mut self.pre_state[0], x);
        let v = lp.tick(&mut self.pre_state[1], v);
        let v = hp.tick(&mut self.pre_state[2], v);
        let v = hp.tick(&mut self.pre_state[3], v);
        // A static generator's sweep parameters and offsets are the constants computed
        // at construction (the same values `sweep_params(0.0)` and the α-interpolation
        // give at α = 0); without sweeps the LFO is not evaluated at all.
        let sweeps = self.p.sweep_count;
        let (now, base, right, intra) = if self.p.transition {
            let alpha = self.ramp.alpha(n);
            let r = self.p.lfo_phase_offset_deg;
            let i = self.p.intra_phase_offset_deg;
            (
                self.sweep_params(alpha),
                self.clock.base(n),
                turns_to_q64((r[0] + (r[1] - r[0]) * alpha) / 360.0),
                turns_to_q64((i[0] + (i[1] - i[0]) * alpha) / 360.0),
            )
        } else if sweeps > 0 {
            (self.now0, self.clock.base(n), self.right0, self.intra0)
        } else {
            (self.now0, 0, 0, 0)
        };
        let inv_sr = self.inv_sr;
        let nyq_guard = self.nyq_guard;
        let passes = if sweeps > 0 { self.passes } else { 0 };
        let mut out = [0.0f32; 2];
        for (ch, o) in out.iter_mut().enumerate() {
            let mut y = v;
            let ch_off = if ch == 1 { right } else { 0 };
            for pass in 0..passes {
                let ph = base
                    .wrapping_add(ch_off)
                    .wrapping_add(if pass == 1 { intra } else { 0 });
                let lfo = self.p.lfo_wave.at(ph);
                for (j, s) in now[..self.p.sweep_count].iter().enumerate() {
                    let f0 = s.centre + s.range * lfo;
                    if !(f0 > 0.0 && f0 < nyq_guard) {
                        continue;
                    }
                    let bq = iirnotch_f32(f0 * inv_sr, s.q);
                    let at = ((ch * MAX_PASSES + pass) * MAX_SWEEPS + j) * MAX_CASCADE;
                    let states = &mut notch[at..at + MAX_CASCADE];
                    let mut tap_k = y;
                    let mut tap_k1 = y;
                    for (k, st) in states[..self.stages[j]].iter_mut().enumerate() {
                        y = bq.tick(st, y);
                        if k + 1 == s.tap {
                            tap_k = y;
                        }
                        if k == s.tap {
                            tap_k1 = y;
                        }
                    }
                    y = if s.frac > 0.0 {
                        tap_k + (tap_k1 - tap_k) * s.frac
                    } else {
                        tap_k
                    };
                }
            }
            let mut k = ch * MAX_STATIC_STAGES;
            for (bq, &n_st) in self.statics.iter().zip(self.static_stages.iter()) {
                for _ in 0..n_st {
                    y = bq.tick(&mut statics[k], y);
                    k += 1;
                }
            }
            *o = math::canonical(y * self.gain[ch]).clamp(-NOISE_PEAK, NOISE_PEAK);
        }
        out
    }

    /// Fills `out` with the next frames (bit-identical to [`SweptCore::next_frame`]).
    pub fn process(&mut self, out: &mut [Frame], st: &mut [Frame]) {
        for f in out.iter_mut() {
            *f = self.next_frame(st);
        }
    }

    /// Notch centre of sweep `j` for channel `ch`, pass 0, at sample `n` (for tests and
    /// plots): what the filters are tuned to.
    pub fn notch_centre_hz(&self, j: usize, ch: usize, n: u64) -> f64 {
        let alpha = if self.p.transition {
            self.ramp.alpha(n)
        } else {
            0.0
        };
        let now = self.sweep_params(alpha);
        let r = self.p.lfo_phase_offset_deg;
        let off = if ch == 1 {
            turns_to_q64((r[0] + (r[1] - r[0]) * alpha) / 360.0)
        } else {
            0
        };
        let lfo = self.p.lfo_wave.at(self.clock.base(n).wrapping_add(off));
        (now[j].centre + now[j].range * lfo) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> SweptParams {
        let mut p = SweptParams {
            sweep_count: 2,
            lfo_freq: 0.5,
            lfo_phase_offset_deg: [45.0, 45.0],
            intra_phase_offset_deg: [30.0, 30.0],
            ..SweptParams::default()
        };
        p.sweeps[0] = SweepSpec {
            min_hz: [500.0; 2],
            max_hz: [1000.0; 2],
            q: [40.0; 2],
            casc: [15.0; 2],
        };
        p.sweeps[1] = SweepSpec {
            min_hz: [1850.0; 2],
            max_hz: [3350.0; 2],
            q: [30.0; 2],
            casc: [8.0; 2],
        };
        p
    }

    fn transition_params() -> SweptParams {
        let mut p = params();
        p.transition = true;
        p.transition_lfo_freq = [0.25, 1.0];
        p.sweeps[0].min_hz = [1000.0, 500.0];
        p.sweeps[0].casc = [5.0, 10.0];
        p.lfo_phase_offset_deg = [90.0, 0.0];
        p.intra_phase_offset_deg = [0.0, 45.0];
        p.initial_offset = 0.3;
        p.transition_duration = Some(1.0);
        p
    }

    #[test]
    fn scipy_iirnotch_values() {
        // scipy.signal.iirnotch(1000, 30, 44100)
        let (b, a) = iirnotch64(1000.0, 30.0, 44100.0).unwrap();
        assert!((b[0] - 0.997_631_023_292_033_5).abs() < 1e-15, "{b:?}");
        assert!((b[1] - (-1.975_044_999_585_904_3)).abs() < 1e-15, "{b:?}");
        assert!((a[1] - (-1.975_044_999_585_904_3)).abs() < 1e-15, "{a:?}");
        assert!((a[2] - 0.995_262_046_584_066_9).abs() < 1e-15, "{a:?}");
        let f = iirnotch_f32(1000.0 / 44100.0, 30.0);
        assert!((f.b[0] as f64 - b[0]).abs() < 2e-7);
        assert!((f.a[0] as f64 - a[1]).abs() < 4e-7);
        assert!((f.a[1] as f64 - a[2]).abs() < 4e-7);
        assert!(iirnotch64(-1.0, 30.0, 44100.0).is_none());
        assert!(iirnotch64(30_000.0, 30.0, 44100.0).is_none());
    }

    #[test]
    fn block_equals_sample_and_reset_reproduces() {
        for p in [params(), transition_params()] {
            let n = 30_000u64;
            let mut a = SweptNoise::new(&p, 44100, n);
            let mut b = a.clone();
            let per: Vec<Frame> = (0..n).map(|_| a.next_frame()).collect();
            let mut blk = vec![[0.0f32; 2]; n as usize];
            for c in blk.chunks_mut(61) {
                b.process(c);
            }
            assert!(
                per.iter()
                    .zip(&blk)
                    .all(|(x, y)| x[0].to_bits() == y[0].to_bits()
                        && x[1].to_bits() == y[1].to_bits())
            );
            b.reset();
            let again: Vec<Frame> = (0..1000).map(|_| b.next_frame()).collect();
            assert_eq!(&again[..], &per[..1000]);
            // a fresh generator with the same seed reproduces bit for bit
            let mut c = SweptNoise::new(&p, 44100, n);
            assert_eq!(c.next_frame(), per[0]);
            assert!(per.iter().all(|f| f[0].is_finite()
                && f[1].is_finite()
                && f[0].abs() <= NOISE_PEAK
                && f[1].abs() <= NOISE_PEAK));
        }
    }

    #[test]
    fn seek_is_deterministic_and_short_seeks_are_exact() {
        let p = transition_params();
        let mut a = SweptNoise::new(&p, 44100, 60_000);
        let lin: Vec<Frame> = (0..3000).map(|_| a.next_frame()).collect();
        let mut b = a.clone();
        b.seek(2000); // within WARMUP of the start: identical to the linear render
        assert_eq!(b.next_frame(), lin[2000]);
        let mut c = a.clone();
        c.seek(50_000);
        let x = c.next_frame();
        c.seek(50_000);
        assert_eq!(c.next_frame(), x);
    }

    #[test]
    fn lfo_clock_matches_cumulative_sum() {
        for curve in [Curve::Linear, Curve::Logarithmic, Curve::Exponential] {
            let mut p = transition_params();
            p.curve = curve;
            let g = SweptNoise::uncalibrated(&p, 1000, 3000);
            let mut acc = 0.0f64;
            for n in 0..3000u64 {
                let f = p.transition_lfo_freq[0]
                    + (p.transition_lfo_freq[1] - p.transition_lfo_freq[0]) * g.core.ramp.alpha(n);
                acc += f / 1000.0;
                let want = turns_to_q64(acc);
                let got = g.core.clock.base(n);
                let err = got.wrapping_sub(want) as i64 as f64 / math::TWO_POW_64;
                assert!(err.abs() < 1e-9, "{curve:?} n {n}: {err}");
            }
        }
    }

    #[test]
    fn lfo_does_not_freeze_after_hours() {
        // The earlier port's f32 phase froze after ~8 minutes at 1/12 Hz.
        let p = SweptParams {
            sweep_count: 1,
            ..SweptParams::default()
        };
        let g = SweptNoise::uncalibrated(&p, 44100, 44100 * 7200);
        let n = 44100 * 3600 * 2 - 1000;
        let a = g.notch_centre_hz(0, 0, n);
        let b = g.notch_centre_hz(0, 0, n + 44100);
        assert!((a - b).abs() > 100.0, "{a} {b}");
    }

    #[test]
    fn level_is_near_the_target_and_stable() {
        let p = params();
        let n = 44100 * 20;
        let mut g = SweptNoise::new(&p, 44100, n);
        let mut sq = [0.0f64; 2];
        let mut peak = 0.0f32;
        for _ in 0..n {
            let f = g.next_frame();
            sq[0] += f[0] as f64 * f[0] as f64;
            sq[1] += f[1] as f64 * f[1] as f64;
            peak = peak.max(f[0].abs()).max(f[1].abs());
        }
        let rms = [(sq[0] / n as f64).sqrt(), (sq[1] / n as f64).sqrt()];
        let crest = NOISE_PEAK as f64 / rms[0];
        assert!(crest > 4.0 && crest < 6.5, "crest {crest}");
        assert!((rms[0] / rms[1] - 1.0).abs() < 0.05, "{rms:?}");
        assert!(peak > 0.8 && peak <= NOISE_PEAK, "{peak}");
    }
}
