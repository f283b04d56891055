//! The per-voice flanger: implements VOICES.md §14.2 (the original's `fx_flanger.py`).
//!
//! Per channel: dezippered parameters (one-pole smoothers with their own time
//! constants), a sine or triangle LFO whose rate is smoothed twice (the rate itself, then
//! the phase increment), three delay laws (τ-linear, 1/τ-linear, exponential τ), a
//! fractional read of a float32 delay line, a one-pole high-pass then low-pass in the
//! feedback loop, a linear dry/wet mix and an optional RMS loudness make-up, with states
//! below 1e-30 flushed to zero (denormals handled in the algorithm, STYLE.md §5).
//! Stereo modes: linked and "spread" run both channels identically (the original's
//! `spread_deg` is unused), mid-only and side-only flange one of the mid/side signals.
//!
//! Numerics: f64 states and arithmetic as the original (its Numba code is compiled with
//! `fastmath`, so the last bits may differ), the delay line and the output in f32. f64
//! maths is IEEE on every target (soft-float on a Cortex-M4F: about 60 f64 operations
//! and three libm calls per channel and sample, too slow for real time there; the
//! flanger is meant for hosts).
//!
//! Interpolation (`flangeInterp`): 0 = the original's linear read (which blends toward
//! the older neighbour: the fraction is mirrored), 1 = its "Lagrange3" kernel (defective:
//! coefficients sum to 0.5 at integer positions, so the wet signal is attenuated and
//! amplitude-modulated), both reproduced for compatibility; `"cubic"` = a correct 4-point
//! Lagrange read (not in the original). See [`crate::delay`].
//!
//! Capacity: the delay line is a ring of [`RING`] frames borrowed from the caller (a pool
//! slot), which holds the original's ring for `max_delay_ms` up to [`MAX_DELAY_MS`] at
//! 192 kHz; the parser rejects larger values with a located error.

use crate::delay::{py_mod, read_compat, read_cubic, taps, Interp};
use crate::math;
use crate::Frame;

/// Frames of delay-line ring one flanger instance needs (power of two).
pub const RING: usize = 4096;

/// Largest `flangeMaxDelayMs` accepted: the original's ring for it,
/// `ceil((max + 0.5)·sr/1000) + 8` samples, fits in [`RING`] at 192 kHz (3,944 samples).
pub const MAX_DELAY_MS: f64 = 20.0;

/// `1/√2` as the original computes it.
const INV_SQRT2: f64 = 0.707_106_781_186_547_5;

/// LFO waveform (`flangeShape`: `"sine"` → sine, anything else → triangle).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Shape {
    /// `sin(2πp)`.
    #[default]
    Sine,
    /// `4|p - 0.5| - 1`.
    Triangle,
}

/// Stereo behaviour (`flangeStereoMode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum StereoMode {
    /// 0 (and any value other than 1, 2, 3): both channels, identical parameters.
    #[default]
    Linked,
    /// 1: as linked (the original's spread offset is unused).
    Spread,
    /// 2: flange the mid signal only.
    MidOnly,
    /// 3: flange the side signal only.
    SideOnly,
}

/// Delay sweep law (`flangeDelayLaw`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Law {
    /// 0: `τ = delay + depth·l`.
    #[default]
    Linear,
    /// 1: `1/τ` linear in the LFO.
    Inverse,
    /// 2 (and any other value): `τ = tmin·(tmax/tmin)^((l+1)/2)`.
    Exponential,
}

/// Flanger parameters (§14.1), stored in f32.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Config {
    /// `flangeDelayMs`: centre delay.
    pub delay_ms: f32,
    /// `flangeDepthMs`: ± sweep.
    pub depth_ms: f32,
    /// `flangeRateHz`: LFO rate.
    pub rate_hz: f32,
    /// `flangeShape`.
    pub shape: Shape,
    /// `flangeFeedback`.
    pub feedback: f32,
    /// `flangeMix` (wet).
    pub wet: f32,
    /// `flangeLoopLpfHz`.
    pub loop_lpf_hz: f32,
    /// `flangeLoopHpfHz`.
    pub loop_hpf_hz: f32,
    /// `flangeStereoMode`.
    pub stereo_mode: StereoMode,
    /// `flangeSpreadDeg` (unused, as in the original).
    pub spread_deg: f32,
    /// `flangeDelayLaw`.
    pub law: Law,
    /// `flangeInterp`.
    pub interp: Interp,
    /// `flangeMinDelayMs`.
    pub min_delay_ms: f32,
    /// `flangeMaxDelayMs`.
    pub max_delay_ms: f32,
    /// `flangeDezipper{Delay,Depth,Rate,Feedback,Wet,Filter}Ms`.
    pub dz_ms: [f32; 6],
    /// `flangeLoudnessMode` (int ≠ 0).
    pub loudness: bool,
    /// `flangeLoudnessTcMs`.
    pub loud_tc_ms: f32,
    /// `flangeLoudnessMinGain`.
    pub loud_min_gain: f32,
    /// `flangeLoudnessMaxGain`.
    pub loud_max_gain: f32,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            delay_ms: 1.2,
            depth_ms: 0.6,
            rate_hz: 0.12,
            shape: Shape::Sine,
            feedback: 0.5,
            wet: 0.3,
            loop_lpf_hz: 7000.0,
            loop_hpf_hz: 0.0,
            stereo_mode: StereoMode::Linked,
            spread_deg: 0.0,
            law: Law::Linear,
            interp: Interp::Linear,
            min_delay_ms: 0.25,
            max_delay_ms: 8.0,
            dz_ms: [30.0, 30.0, 200.0, 30.0, 40.0, 60.0],
            loudness: true,
            loud_tc_ms: 80.0,
            loud_min_gain: 0.5,
            loud_max_gain: 2.0,
        }
    }
}

impl Config {
    /// `(min, max)` delay after the original's safety fixes (`min ≥ 0.05`, `max > min`).
    pub fn delay_bounds(&self) -> (f64, f64) {
        let mut lo = self.min_delay_ms as f64;
        let mut hi = self.max_delay_ms as f64;
        if lo < 0.05 {
            lo = 0.05;
        }
        if hi <= lo {
            hi = lo + 0.01;
        }
        (lo, hi)
    }
}

/// One-pole smoothing coefficient of the original (`exp(-1/(τ/1000·fs))`, clamped to
/// [0, 0.999999]; 0 for τ ≤ 0).
pub fn one_pole(tau_ms: f64, fs: f64) -> f64 {
    if tau_ms <= 0.0 {
        return 0.0;
    }
    let a = math::exp(-1.0 / (tau_ms * 0.001 * fs));
    a.clamp(0.0, 0.999_999)
}

#[inline]
fn smooth(state: f64, target: f64, a: f64) -> f64 {
    a * state + (1.0 - a) * target
}

fn coef_hp(fc: f64, fs: f64) -> f64 {
    if fc <= 0.0 {
        0.0
    } else if fc >= 0.5 * fs {
        1.0
    } else {
        math::exp(-2.0 * math::PI * fc / fs)
    }
}

fn coef_lp(fc: f64, fs: f64) -> f64 {
    if fc <= 0.0 {
        1.0
    } else if fc >= 0.5 * fs {
        0.0
    } else {
        math::exp(-2.0 * math::PI * fc / fs)
    }
}

#[inline]
fn flush(x: f64) -> f64 {
    if math::fabs(x) < 1e-30 {
        0.0
    } else {
        x
    }
}

/// Constants of one flanger (targets and coefficients, f64).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Consts {
    fs: f64,
    t: [f64; 7],
    a: [f64; 6],
    a_rms: f64,
    min: f64,
    max: f64,
    m: usize,
    shape: Shape,
    law: Law,
    interp: Interp,
    loudness: bool,
    loud_min: f64,
    loud_max: f64,
}

// target / state indices
const DELAY: usize = 0;
const DEPTH: usize = 1;
const RATE: usize = 2;
const FEEDBACK: usize = 3;
const WET: usize = 4;
const LPF: usize = 5;
const HPF: usize = 6;
// coefficient indices (dz_ms order)
const A_FILTER: usize = 5;

/// The running state of one channel.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Channel {
    s: [f64; 7],
    a_hp: f64,
    a_lp: f64,
    /// Cached loop coefficients: the cut-off they were computed for.
    hp_for: f64,
    hp_t: f64,
    lp_for: f64,
    lp_t: f64,
    hp_xp: f64,
    hp_yp: f64,
    lp_y: f64,
    phase: f64,
    d_lfo: f64,
    rms_in: f64,
    rms_out: f64,
    makeup: f64,
}

impl Channel {
    fn new(k: &Consts) -> Self {
        let mut s = k.t;
        // the original clamps the (initial) smoothed states before the loop
        clamp_states(&mut s, k.min, k.max);
        let a_hp = coef_hp(k.t[HPF], k.fs);
        let a_lp = coef_lp(k.t[LPF], k.fs);
        Self {
            s,
            a_hp,
            a_lp,
            hp_for: f64::NAN,
            hp_t: 0.0,
            lp_for: f64::NAN,
            lp_t: 0.0,
            hp_xp: 0.0,
            hp_yp: 0.0,
            lp_y: 0.0,
            phase: 0.0,
            d_lfo: k.t[RATE] / k.fs,
            rms_in: 0.0,
            rms_out: 0.0,
            makeup: 1.0,
        }
    }

    /// One sample `x` at absolute index `n` through the channel, with the delay line
    /// in column `ch` of `ring`.
    #[inline]
    fn tick(&mut self, k: &Consts, x: f64, n: u64, ring: &mut [[f32; 2]], ch: usize) -> f64 {
        // 1. dezipper
        for i in 0..5 {
            self.s[i] = smooth(self.s[i], k.t[i], k.a[i]);
        }
        let af = k.a[A_FILTER];
        self.s[LPF] = smooth(self.s[LPF], k.t[LPF], af);
        self.s[HPF] = smooth(self.s[HPF], k.t[HPF], af);
        if self.s[HPF].to_bits() != self.hp_for.to_bits() {
            self.hp_for = self.s[HPF];
            self.hp_t = coef_hp(self.s[HPF], k.fs);
        }
        if self.s[LPF].to_bits() != self.lp_for.to_bits() {
            self.lp_for = self.s[LPF];
            self.lp_t = coef_lp(self.s[LPF], k.fs);
        }
        self.a_hp = smooth(self.a_hp, self.hp_t, af);
        self.a_lp = smooth(self.a_lp, self.lp_t, af);
        // 2. clamps
        clamp_states(&mut self.s, k.min, k.max);
        let (delay, depth) = (self.s[DELAY], self.s[DEPTH]);
        // 3. LFO
        let p = self.phase - math::floor(self.phase);
        let l = match k.shape {
            Shape::Triangle => 4.0 * math::fabs(p - 0.5) - 1.0,
            Shape::Sine => math::sin(2.0 * math::PI * p),
        };
        // 4. delay law
        let tau = match k.law {
            Law::Linear => (delay + depth * l).clamp(k.min, k.max),
            Law::Inverse => {
                let inv_tau0 = 1.0 / delay;
                let inv_span = (1.0 / (delay - depth) - 1.0 / (delay + depth)) * 0.5;
                let inv_tau = inv_tau0 + inv_span * l;
                let t = 1.0 / inv_tau;
                // NaN-safe clamp in the original's order
                let t = if t < k.min { k.min } else { t };
                if t > k.max {
                    k.max
                } else {
                    t
                }
            }
            Law::Exponential => {
                let tmin = (delay - depth).max(k.min);
                let tmax = (delay + depth).min(k.max);
                let u = 0.5 * (l + 1.0);
                tmin * math::exp(math::ln(tmax / tmin) * u)
            }
        };
        // 5. fractional read (lags counted from the write position of x[n])
        let mask = ring.len() - 1;
        let d = tau * k.fs / 1000.0;
        let get =
            |lag: usize| -> f64 { ring[(n.wrapping_sub(lag as u64) as usize) & mask][ch] as f64 };
        let delayed = match k.interp {
            Interp::Cubic => read_cubic(d, 1, get),
            i => {
                let w = (n % k.m as u64) as usize;
                let ri = py_mod(w as f64 - d, k.m as f64);
                let (lags, f) = taps(ri, w, k.m);
                read_compat(i, lags, f, get)
            }
        };
        let delayed = if delayed.is_finite() { delayed } else { 0.0 };
        // 6. loop filters
        let hp_y = self.a_hp * (self.hp_yp + delayed - self.hp_xp);
        self.hp_xp = delayed;
        self.hp_yp = hp_y;
        self.lp_y = (1.0 - self.a_lp) * hp_y + self.a_lp * self.lp_y;
        // 7. write
        ring[(n as usize) & mask][ch] = (x + self.s[FEEDBACK] * self.lp_y) as f32;
        // 8. mix
        let wet = self.s[WET];
        let y_pre = (1.0 - wet) * x + wet * (x + delayed);
        // 9. loudness
        let y = if k.loudness {
            let a = k.a_rms;
            self.rms_in = a * self.rms_in + (1.0 - a) * (x * x);
            self.rms_out = a * self.rms_out + (1.0 - a) * (y_pre * y_pre);
            let target = if self.rms_out > 1e-20 {
                math::sqrt((self.rms_in + 1e-20) / (self.rms_out + 1e-20))
            } else {
                1.0
            };
            self.makeup = a * self.makeup + (1.0 - a) * target;
            if self.makeup < k.loud_min {
                self.makeup = k.loud_min;
            }
            if self.makeup > k.loud_max {
                self.makeup = k.loud_max;
            }
            y_pre * self.makeup
        } else {
            y_pre
        };
        // 10. LFO advance
        self.d_lfo = smooth(self.d_lfo, self.s[RATE] / k.fs, k.a[RATE]);
        self.phase += self.d_lfo;
        self.phase -= math::floor(self.phase);
        // 11. denormal guard
        self.lp_y = flush(self.lp_y);
        self.hp_yp = flush(self.hp_yp);
        self.hp_xp = flush(self.hp_xp);
        y
    }
}

fn clamp_states(s: &mut [f64; 7], min: f64, max: f64) {
    if s[DELAY] < min {
        s[DELAY] = min;
    }
    if s[DELAY] > max {
        s[DELAY] = max;
    }
    if s[DEPTH] < 0.0 {
        s[DEPTH] = 0.0;
    }
    if s[DELAY] - s[DEPTH] < min {
        s[DEPTH] = s[DELAY] - min;
        if s[DEPTH] < 0.0 {
            s[DEPTH] = 0.0;
        }
    }
    if s[DELAY] + s[DEPTH] > max {
        s[DEPTH] = max - s[DELAY];
        if s[DEPTH] < 0.0 {
            s[DEPTH] = 0.0;
        }
    }
}

/// One stereo flanger instance (§14.2 per channel, with the stereo modes).
///
/// Unit contract: `new` builds it ready to run (the caller zeroes its ring with
/// [`Flanger::clear_ring`]); `reset` returns to that state; [`Flanger::next_frame`] is the
/// per-sample call, and the output depends only on the input and the sample count since
/// `new`/`reset`.
#[derive(Clone, Debug)]
pub struct Flanger {
    k: Consts,
    mode: StereoMode,
    ch: [Channel; 2],
    n: u64,
}

impl Flanger {
    /// A flanger with `cfg` at `sr`.
    pub fn new(cfg: &Config, sr: f64) -> Self {
        let (min, max) = cfg.delay_bounds();
        let m = {
            let s = math::ceil((max + 0.5) * sr / 1000.0) as usize + 8;
            s.max(16)
        };
        let dz = cfg.dz_ms.map(|v| one_pole(v as f64, sr));
        let k = Consts {
            fs: sr,
            t: [
                cfg.delay_ms as f64,
                cfg.depth_ms as f64,
                cfg.rate_hz as f64,
                cfg.feedback as f64,
                cfg.wet as f64,
                cfg.loop_lpf_hz as f64,
                cfg.loop_hpf_hz as f64,
            ],
            a: dz,
            a_rms: if cfg.loudness {
                one_pole(cfg.loud_tc_ms as f64, sr)
            } else {
                0.0
            },
            min,
            max,
            m: m.min(RING),
            shape: cfg.shape,
            law: cfg.law,
            interp: cfg.interp,
            loudness: cfg.loudness,
            loud_min: cfg.loud_min_gain as f64,
            loud_max: cfg.loud_max_gain as f64,
        };
        let c = Channel::new(&k);
        Self {
            k,
            mode: cfg.stereo_mode,
            ch: [c, c],
            n: 0,
        }
    }

    /// Back to the state right after `new` (the ring must be cleared too).
    pub fn reset(&mut self) {
        let c = Channel::new(&self.k);
        self.ch = [c, c];
        self.n = 0;
    }

    /// Zeroes `ring` (at most [`RING`] frames).
    pub fn clear_ring(ring: &mut [[f32; 2]]) {
        for f in ring.iter_mut().take(RING) {
            *f = [0.0; 2];
        }
    }

    /// One frame through the flanger; `ring` must be exactly [`RING`] frames (otherwise
    /// the input is returned unchanged).
    #[inline]
    pub fn next_frame(&mut self, x: Frame, ring: &mut [[f32; 2]]) -> Frame {
        if ring.len() != RING {
            return x;
        }
        let n = self.n;
        self.n += 1;
        let k = &self.k;
        match self.mode {
            StereoMode::Linked | StereoMode::Spread => {
                let l = self.ch[0].tick(k, x[0] as f64, n, ring, 0);
                let r = self.ch[1].tick(k, x[1] as f64, n, ring, 1);
                [l as f32, r as f32]
            }
            StereoMode::MidOnly | StereoMode::SideOnly => {
                let mut mid = (x[0] + x[1]) as f64 * INV_SQRT2;
                let mut side = (x[0] - x[1]) as f64 * INV_SQRT2;
                if self.mode == StereoMode::MidOnly {
                    mid = self.ch[0].tick(k, mid, n, ring, 0);
                } else {
                    side = self.ch[0].tick(k, side, n, ring, 0);
                }
                [
                    ((mid + side) * INV_SQRT2) as f32,
                    ((mid - side) * INV_SQRT2) as f32,
                ]
            }
        }
    }

    /// Renders a block in place (bit-identical to repeated [`Self::next_frame`]).
    pub fn process(&mut self, io: &mut [Frame], ring: &mut [[f32; 2]]) {
        for f in io.iter_mut() {
            *f = self.next_frame(*f, ring);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(cfg: &Config, n: usize) -> Vec<Frame> {
        let mut f = Flanger::new(cfg, 44100.0);
        let mut ring = vec![[0.0f32; 2]; RING];
        (0..n)
            .map(|i| {
                let t = i as f32 / 44100.0;
                let v = 0.5 * (core::f32::consts::TAU * 220.0 * t).sin();
                f.next_frame([v, -v * 0.5], &mut ring)
            })
            .collect()
    }

    #[test]
    fn bounded_and_finite_in_every_mode() {
        for mode in [
            StereoMode::Linked,
            StereoMode::MidOnly,
            StereoMode::SideOnly,
        ] {
            for law in [Law::Linear, Law::Inverse, Law::Exponential] {
                for interp in [Interp::Linear, Interp::Lagrange3, Interp::Cubic] {
                    let cfg = Config {
                        stereo_mode: mode,
                        law,
                        interp,
                        feedback: 0.9,
                        ..Config::default()
                    };
                    let out = render(&cfg, 20_000);
                    for f in &out {
                        assert!(f[0].is_finite() && f[1].is_finite());
                        assert!(f[0].abs() < 4.0 && f[1].abs() < 4.0, "{f:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn zero_wet_without_makeup_is_transparent() {
        let cfg = Config {
            wet: 0.0,
            loudness: false,
            ..Config::default()
        };
        let mut f = Flanger::new(&cfg, 48000.0);
        let mut ring = vec![[0.0f32; 2]; RING];
        for i in 0..1000 {
            let x = [(i as f32 * 0.01).sin(), 0.25];
            assert_eq!(f.next_frame(x, &mut ring), x);
        }
    }
}
