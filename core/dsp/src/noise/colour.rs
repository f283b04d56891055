//! Noise colours as streaming IIR filters on Gaussian white noise (NOISE.md §2, §2.3, §8).
//!
//! The original shapes whole buffers (Kellett's filter for pink, `cumsum` for brown, an
//! FFT power law for the others, then a global peak normalisation). A streaming engine
//! cannot see the whole buffer, so every colour here is a fixed filter:
//!
//! | colour | filter | PSD |
//! | --- | --- | --- |
//! | white (and every unknown name, as the original) | none | flat |
//! | pink | Kellett "refined", exactly as NOISE.md §2 (six one-pole states, `0.11·Σb`) | 1/f from ~8 Hz up |
//! | brown, red | leaky integrator, corner [`BROWN_CORNER_HZ`], unit-RMS gain | 1/f² above the corner |
//! | deep brown | pink → leaky integrator (DC gain 1) | 1/f³ |
//! | blue | first difference of pink | f |
//! | purple, violet | first difference of white | f² |
//! | green | pink → 4th-order Butterworth high-pass 100 Hz → 4th-order low-pass 1 kHz | 1/f in 100–1000 Hz |
//! | grey (**extension**, not in the original) | white → low shelf +12 dB below 200 Hz, peaking −6 dB at 3.5 kHz | inverse equal-loudness (rough) |
//! | exponent model (Session-Builder `noise_parameters`) | cascade of one-pole/one-zero shelves, one per octave | `1/f^β(f)`, §2.3 profile |
//!
//! The driving noise is zero-mean (NOISE.md §6.1: the earlier port fed Kellett's filter
//! with `U[0, 1)` and produced a DC offset of ~3.8), and every filter has a pole radius
//! below one, so every output is bounded: `|y| ≤ GAUSSIAN_BOUND · Σ|h|`.
//!
//! Spectral error of the exponent model (measured by `exponent_model_error` below against
//! the ideal `f^(-β/2)` magnitude normalised at 1 kHz, 44.1 kHz, corner 1 Hz): at most
//! 0.36 dB over 20 Hz – 20 kHz for β ∈ [-2, 3] (0.20 dB for β = ±1). Without the fitted
//! Nyquist correction section the matched-z shelves were 3.3 dB off at 20 kHz for
//! β = ±2: every real filter is flat at Nyquist, the power law is not. Kellett's pink is within ±0.5 dB of
//! 1/f from 10 Hz to 15 kHz (his own figure), and the first differences lose 3 dB at
//! 20 kHz (`2 sin(πf/sr)` instead of `2πf/sr`).
//!
//! Output levels are only roughly normalised (white, brown and the exponent model have
//! unit RMS or unit gain at 1 kHz); the consumers calibrate their own level
//! ([`super::notch::SweptNoise`], [`ColoredNoise`]).

use super::Gaussian;
use crate::filter::{Band, Biquad, Sos, MAX_SECTIONS};
use crate::math;

/// Corner of the brown leaky integrator. 2 Hz gives a pole of 0.99972 at 44.1 kHz
/// (NOISE.md §6.3 asks for 0.999–0.9999); below the corner the spectrum is flat, so the
/// random walk cannot drift (the earlier port's brown was an unbounded walk).
pub const BROWN_CORNER_HZ: f64 = 2.0;
/// Lowest corner of the exponent model (below it the spectrum is flat). The original's
/// FFT generator goes down to `sr/N` (the lowest bin); a streaming filter needs a floor.
pub const EXPONENT_MIN_CORNER_HZ: f64 = 0.5;
/// Maximum number of octave sections of the exponent model: 0.5 Hz to 96 kHz is 17.6
/// octaves.
pub const MAX_SHELVES: usize = 18;

/// Session-Builder's colour model (NOISE.md §2.3): `β(f) = exponent + (high_exponent -
/// exponent)·u^curve`, `u = ln(f/f_min)/ln(f_max/f_min)`, PSD ∝ `1/f^β(f)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ExponentModel {
    /// β at the lowest frequency.
    pub exponent: f32,
    /// β at Nyquist (`None` in the file = `exponent`).
    pub high_exponent: f32,
    /// Distribution curve (`max(curve, 1e-6)` is used as the exponent of `u`).
    pub curve: f32,
}

/// A base colour (NOISE.md §2).
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub enum Colour {
    /// Gaussian white noise (also the original's fallback for unknown names).
    White,
    /// Kellett's pink filter.
    #[default]
    Pink,
    /// Brown / red: leaky integrator.
    Brown,
    /// Deep brown: 1/f³.
    DeepBrown,
    /// Blue: PSD ∝ f.
    Blue,
    /// Purple / violet: PSD ∝ f².
    Purple,
    /// Green: pink band-passed to 100–1000 Hz.
    Green,
    /// Grey: an **extension** (not in the original): white shaped by a rough inverse
    /// equal-loudness curve.
    Grey,
    /// The Session-Builder exponent model.
    Exponent(ExponentModel),
}

impl Colour {
    /// The original's `noise_type` table (lower-cased exact match), plus the aliases
    /// the spec adds: `violet` = purple, `grey`/`gray` = the grey extension. Anything
    /// else is white, as in the original.
    pub fn from_name(name: &str) -> Self {
        let mut buf = [0u8; 16];
        let b = name.trim().as_bytes();
        if b.len() > buf.len() {
            return Colour::White;
        }
        for (d, s) in buf.iter_mut().zip(b) {
            *d = s.to_ascii_lowercase();
        }
        match &buf[..b.len()] {
            b"pink" => Colour::Pink,
            b"brown" | b"red" => Colour::Brown,
            b"deep brown" | b"deep_brown" => Colour::DeepBrown,
            b"blue" => Colour::Blue,
            b"purple" | b"violet" => Colour::Purple,
            b"green" => Colour::Green,
            b"grey" | b"gray" => Colour::Grey,
            _ => Colour::White,
        }
    }

    /// The power-law exponent β of a named colour, where it has one.
    pub fn beta(&self) -> Option<f32> {
        match self {
            Colour::White => Some(0.0),
            Colour::Pink => Some(1.0),
            Colour::Brown => Some(2.0),
            Colour::DeepBrown => Some(3.0),
            Colour::Blue => Some(-1.0),
            Colour::Purple => Some(-2.0),
            Colour::Exponent(m) if m.exponent == m.high_exponent => Some(m.exponent),
            _ => None,
        }
    }
}

/// Kellett's "refined" pink filter (NOISE.md §2), f32, states from zero.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Kellett {
    b: [f32; 6],
}

impl Kellett {
    /// One sample of pink noise for the white input `w`.
    #[inline]
    pub fn tick(&mut self, w: f32) -> f32 {
        let b = &mut self.b;
        b[0] = 0.99886 * b[0] + w * 0.055_517_9;
        b[1] = 0.99332 * b[1] + w * 0.075_075_9;
        b[2] = 0.969 * b[2] + w * 0.153_852;
        b[3] = 0.8665 * b[3] + w * 0.310_485_6;
        b[4] = 0.55 * b[4] + w * 0.532_952_2;
        b[5] = -0.7616 * b[5] - w * 0.016_898;
        (b[0] + b[1] + b[2] + b[3] + b[4] + b[5]) * 0.11
    }
}

/// A one-pole, one-zero section `y = x - z·x₋₁ + p·y₋₁` (f32).
#[derive(Clone, Copy, Debug, PartialEq, Default)]
struct Shelf {
    z: f32,
    p: f32,
    x1: f32,
    y1: f32,
}

impl Shelf {
    #[inline]
    fn tick(&mut self, x: f32) -> f32 {
        let y = x - self.z * self.x1 + self.p * self.y1;
        self.x1 = x;
        self.y1 = math::flush_denormal(y);
        y
    }
}

/// Magnitude of `(1 - z e^{-jω})/(1 - p e^{-jω})` at `ω` (f64).
fn shelf_mag(z: f64, p: f64, c: f64) -> f64 {
    let num = 1.0 - 2.0 * z * c + z * z;
    let den = 1.0 - 2.0 * p * c + p * p;
    math::sqrt(num / den)
}

/// The exponent model's shelf cascade, designed for a sample rate.
#[derive(Clone, Debug, PartialEq)]
struct ShelfCascade {
    shelves: [Shelf; MAX_SHELVES],
    len: usize,
    gain: f32,
    /// Nyquist correction `(1 + a·q⁻¹)` (a ≥ 0) or `1/(1 + |a|·q⁻¹)` (a < 0).
    tilt: f32,
    tilt_state: f32,
}

/// Frequencies (Hz) at which the exponent model's Nyquist correction is fitted.
const FIT_POINTS: usize = 48;

impl ShelfCascade {
    /// Pairs one octave apart from `f_lo`: in octave k the local magnitude slope is
    /// `g = -β(f_k·√2)/2`; a falling pair has its pole at `f_k` and its zero at
    /// `f_k·2^|g|`, a rising pair the reverse. Overlapping pairs simply add their
    /// log-responses, so any slope is reachable. Matched-z mapping (`e^{-2πf/sr}`).
    fn new(m: &ExponentModel, sr: f64, f_lo: f64, f_min: f64) -> Self {
        let f_lo = f_lo.max(EXPONENT_MIN_CORNER_HZ);
        let nyq = sr / 2.0;
        let f_min = f_min.clamp(1e-3, nyq / 2.0);
        let span = math::ln(nyq / f_min);
        let curve = (m.curve as f64).max(1e-6);
        let beta_at = |f: f64| -> f64 {
            let u = (math::ln(f.max(f_min) / f_min) / span).clamp(0.0, 1.0);
            m.exponent as f64 + (m.high_exponent as f64 - m.exponent as f64) * math::pow(u, curve)
        };
        let mut c = ShelfCascade {
            shelves: [Shelf::default(); MAX_SHELVES],
            len: 0,
            gain: 1.0,
            tilt: 0.0,
            tilt_state: 0.0,
        };
        let mut f = f_lo;
        let mut zp = [(0.0f64, 0.0f64); MAX_SHELVES];
        while f < nyq && c.len < MAX_SHELVES {
            let g = -beta_at(f * core::f64::consts::SQRT_2) / 2.0;
            let ratio = math::pow(2.0, math::fabs(g));
            let (fz, fp) = if g < 0.0 {
                (f * ratio, f)
            } else {
                (f, f * ratio)
            };
            let z = math::exp(-math::TAU * fz / sr);
            let p = math::exp(-math::TAU * fp / sr);
            zp[c.len] = (z, p);
            c.shelves[c.len] = Shelf {
                z: z as f32,
                p: p as f32,
                x1: 0.0,
                y1: 0.0,
            };
            c.len += 1;
            f *= 2.0;
        }
        // Every real filter's magnitude is flat at Nyquist, where the power law is not:
        // one first-order section (a zero at -a, or a pole at -|a|) is fitted to minimise
        // the largest log error over 20 Hz – min(20 kHz, 0.45·sr), relative to 1 kHz.
        let f_ref = 1000.0f64.min(nyq / 10.0);
        let f_top = 20_000.0f64.min(0.45 * sr);
        let mut cosw = [0.0f64; FIT_POINTS];
        let mut ideal = [0.0f64; FIT_POINTS];
        let mut base = [0.0f64; FIT_POINTS];
        let ref_c = math::cos(math::TAU * f_ref / sr);
        let ref_mag: f64 = zp[..c.len]
            .iter()
            .map(|&(z, p)| math::ln(shelf_mag(z, p, ref_c)))
            .sum();
        for i in 0..FIT_POINTS {
            let f = 20.0 * math::pow(f_top / 20.0, i as f64 / (FIT_POINTS - 1) as f64);
            cosw[i] = math::cos(math::TAU * f / sr);
            ideal[i] = -0.5 * beta_at(f) * math::ln(f / f_ref);
            base[i] = zp[..c.len]
                .iter()
                .map(|&(z, p)| math::ln(shelf_mag(z, p, cosw[i])))
                .sum::<f64>()
                - ref_mag;
        }
        let tilt_ln = |a: f64, cw: f64| -> f64 {
            let m = math::ln(1.0 + 2.0 * math::fabs(a) * cw + a * a);
            if a >= 0.0 {
                0.5 * m
            } else {
                -0.5 * m
            }
        };
        let mut best = (f64::INFINITY, 0.0f64);
        for k in -90i32..=90 {
            let a = k as f64 / 100.0;
            let r = tilt_ln(a, ref_c);
            let mut worst = 0.0f64;
            for i in 0..FIT_POINTS {
                let e = base[i] + tilt_ln(a, cosw[i]) - r - ideal[i];
                worst = worst.max(math::fabs(e));
            }
            if worst < best.0 {
                best = (worst, a);
            }
        }
        c.tilt = best.1 as f32;
        // Unit gain at the reference frequency.
        let mag = math::exp(ref_mag + tilt_ln(best.1, ref_c));
        c.gain = if mag > 0.0 { (1.0 / mag) as f32 } else { 1.0 };
        c
    }

    /// Log-magnitude (natural log) of the whole cascade at cos ω = `cw` (for tests).
    #[cfg(test)]
    fn ln_mag(&self, cw: f64) -> f64 {
        let a = self.tilt as f64;
        let t = 0.5 * math::ln(1.0 + 2.0 * math::fabs(a) * cw + a * a);
        let t = if a >= 0.0 { t } else { -t };
        self.shelves[..self.len]
            .iter()
            .map(|s| math::ln(shelf_mag(s.z as f64, s.p as f64, cw)))
            .sum::<f64>()
            + t
            + math::ln(self.gain as f64)
    }

    #[inline]
    fn tick(&mut self, x: f32) -> f32 {
        let mut v = x * self.gain;
        for s in self.shelves[..self.len].iter_mut() {
            v = s.tick(v);
        }
        if self.tilt >= 0.0 {
            let y = v + self.tilt * self.tilt_state;
            self.tilt_state = v;
            y
        } else {
            let y = v + self.tilt * self.tilt_state;
            self.tilt_state = math::flush_denormal(y);
            y
        }
    }

    fn clear(&mut self) {
        self.tilt_state = 0.0;
        for s in self.shelves.iter_mut() {
            s.x1 = 0.0;
            s.y1 = 0.0;
        }
    }
}

/// RBJ cookbook low shelf (`gain_db` below `f0`, slope 1) or peaking EQ, designed in f64.
fn rbj(kind: u8, f0: f64, gain_db: f64, q: f64, sr: f64) -> Biquad {
    let a = math::pow(10.0, gain_db / 40.0);
    let w0 = math::TAU * f0 / sr;
    let (sw, cw) = (math::sin(w0), math::cos(w0));
    let (b0, b1, b2, a0, a1, a2) = if kind == 0 {
        // low shelf, S = 1
        let alpha = sw / 2.0 * core::f64::consts::SQRT_2;
        let sa = 2.0 * math::sqrt(a) * alpha;
        (
            a * ((a + 1.0) - (a - 1.0) * cw + sa),
            2.0 * a * ((a - 1.0) - (a + 1.0) * cw),
            a * ((a + 1.0) - (a - 1.0) * cw - sa),
            (a + 1.0) + (a - 1.0) * cw + sa,
            -2.0 * ((a - 1.0) + (a + 1.0) * cw),
            (a + 1.0) + (a - 1.0) * cw - sa,
        )
    } else {
        let alpha = sw / (2.0 * q);
        (
            1.0 + alpha * a,
            -2.0 * cw,
            1.0 - alpha * a,
            1.0 + alpha / a,
            -2.0 * cw,
            1.0 - alpha / a,
        )
    };
    Biquad {
        b: [(b0 / a0) as f32, (b1 / a0) as f32, (b2 / a0) as f32],
        a: [(a1 / a0) as f32, (a2 / a0) as f32],
    }
}

/// Optional band limits of the Session-Builder colour model (`lowcut`/`highcut`): 4th
/// order Butterworth high-/low-pass, causal, as the original's `lfilter`.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct BandLimits {
    /// High-pass corner, Hz.
    pub lowcut: Option<f64>,
    /// Low-pass corner, Hz (ignored at or above 0.49·sr).
    pub highcut: Option<f64>,
}

/// A coloured noise source: Gaussian white noise through the colour's filter, then the
/// optional band limits. One output sample per [`ColourGen::next`].
#[derive(Clone, Debug, PartialEq)]
pub struct ColourGen {
    colour: Colour,
    gauss: Gaussian,
    kellett: Kellett,
    /// Leaky integrator: pole, input gain, state.
    leak: (f32, f32, f32),
    /// Previous input of the first difference.
    prev: f32,
    sos: Sos,
    sos_state: [[f32; 2]; MAX_SECTIONS],
    shelves: Option<ShelfCascade>,
    band: Sos,
    band_state: [[f32; 2]; MAX_SECTIONS],
    band_hp: Sos,
    band_hp_state: [[f32; 2]; MAX_SECTIONS],
}

impl ColourGen {
    /// A source of `colour` at `sr` with band limits, seeded with `seed`. `f_lo_hz` is the
    /// lowest corner of the exponent model (the original's lowest FFT bin `sr/N`;
    /// floored at [`EXPONENT_MIN_CORNER_HZ`]).
    pub fn new(colour: Colour, band: BandLimits, sr: f64, f_lo_hz: f64, seed: u64) -> Self {
        let mut sos = Sos::default();
        let mut leak = (0.0, 0.0, 0.0);
        let mut shelves = None;
        match colour {
            Colour::Brown => {
                let p = math::exp(-math::TAU * BROWN_CORNER_HZ / sr);
                // unit RMS for unit-variance white input: σ² = c²/(1-p²)
                leak = (p as f32, math::sqrt(1.0 - p * p) as f32, 0.0);
            }
            Colour::DeepBrown => {
                let p = math::exp(-math::TAU * BROWN_CORNER_HZ / sr);
                leak = (p as f32, (1.0 - p) as f32 * 8.0, 0.0);
            }
            Colour::Green => {
                let hp = Sos::butterworth(4, Band::High, 100.0, sr);
                let lp = Sos::butterworth(4, Band::Low, 1000.0, sr);
                sos.sections[0] = hp.sections[0];
                sos.sections[1] = hp.sections[1];
                sos.sections[2] = lp.sections[0];
                sos.sections[3] = lp.sections[1];
                sos.len = 4;
            }
            Colour::Grey => {
                sos.sections[0] = rbj(0, 200.0, 12.0, 0.707, sr);
                sos.sections[1] = rbj(1, 3500.0, -6.0, 1.0, sr);
                sos.len = 2;
            }
            Colour::Exponent(m) => {
                shelves = Some(ShelfCascade::new(&m, sr, f_lo_hz, f_lo_hz));
            }
            _ => {}
        }
        let nyq_guard = 0.49 * sr;
        let band_lp = match band.highcut {
            Some(f) if f > 0.0 && f < nyq_guard => Sos::butterworth(4, Band::Low, f, sr),
            _ => Sos::default(),
        };
        let band_hp = match band.lowcut {
            Some(f) if f > 0.0 && f < nyq_guard => Sos::butterworth(4, Band::High, f, sr),
            _ => Sos::default(),
        };
        Self {
            colour,
            gauss: Gaussian::new(seed),
            kellett: Kellett::default(),
            leak,
            prev: 0.0,
            sos,
            sos_state: [[0.0; 2]; MAX_SECTIONS],
            shelves,
            band: band_lp,
            band_state: [[0.0; 2]; MAX_SECTIONS],
            band_hp,
            band_hp_state: [[0.0; 2]; MAX_SECTIONS],
        }
    }

    /// The colour.
    pub fn colour(&self) -> Colour {
        self.colour
    }

    /// Clears every filter state and restarts the random sequence from `seed`.
    pub fn restart(&mut self, seed: u64) {
        self.gauss.reseed(seed);
        self.kellett = Kellett::default();
        self.leak.2 = 0.0;
        self.prev = 0.0;
        self.sos_state = [[0.0; 2]; MAX_SECTIONS];
        self.band_state = [[0.0; 2]; MAX_SECTIONS];
        self.band_hp_state = [[0.0; 2]; MAX_SECTIONS];
        if let Some(s) = self.shelves.as_mut() {
            s.clear();
        }
    }

    /// Back to the state right after `new`.
    pub fn reset(&mut self) {
        let seed = self.gauss.seed();
        self.restart(seed);
    }

    /// The next sample.
    #[inline]
    pub fn next(&mut self) -> f32 {
        let w = self.gauss.next();
        let y = match self.colour {
            Colour::White => w,
            Colour::Pink => self.kellett.tick(w),
            Colour::Brown => {
                let (p, c, s) = self.leak;
                let y = p * s + c * w;
                self.leak.2 = y;
                y
            }
            Colour::DeepBrown => {
                let x = self.kellett.tick(w);
                let (p, c, s) = self.leak;
                let y = p * s + c * x;
                self.leak.2 = y;
                y
            }
            Colour::Blue => {
                let x = self.kellett.tick(w);
                let y = x - self.prev;
                self.prev = x;
                y
            }
            Colour::Purple => {
                let y = w - self.prev;
                self.prev = w;
                y * core::f32::consts::FRAC_1_SQRT_2
            }
            Colour::Green => {
                let x = self.kellett.tick(w);
                self.sos.tick(&mut self.sos_state, x)
            }
            Colour::Grey => self.sos.tick(&mut self.sos_state, w),
            Colour::Exponent(_) => match self.shelves.as_mut() {
                Some(s) => s.tick(w),
                None => w,
            },
        };
        let y = if self.band_hp.len > 0 {
            self.band_hp.tick(&mut self.band_hp_state, y)
        } else {
            y
        };
        if self.band.len > 0 {
            self.band.tick(&mut self.band_state, y)
        } else {
            y
        }
    }

    /// Fills `out` with the next samples (bit-identical to calling [`ColourGen::next`]).
    pub fn process(&mut self, out: &mut [f32]) {
        for o in out.iter_mut() {
            *o = self.next();
        }
    }
}

/// Level statistics of a calibration pre-roll.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Calibration {
    /// Sum of squares.
    pub sum_sq: f64,
    /// Zero crossings counted.
    pub crossings: u64,
    /// Samples seen.
    pub count: u64,
    last_sign: i8,
    /// Level of the excursion count (0 = not counted).
    pub level: f64,
    /// Times `|x|` rose above `level`.
    pub excursions: u64,
    above: bool,
}

impl Calibration {
    /// Adds one sample.
    #[inline]
    pub fn push(&mut self, x: f32) {
        self.sum_sq += x as f64 * x as f64;
        self.count += 1;
        let s = if x > 0.0 {
            1
        } else if x < 0.0 {
            -1
        } else {
            0
        };
        if s != 0 {
            if self.last_sign != 0 && s != self.last_sign {
                self.crossings += 1;
            }
            self.last_sign = s;
        }
        if self.level > 0.0 {
            let above = math::fabs(x as f64) > self.level;
            if above && !self.above {
                self.excursions += 1;
            }
            self.above = above;
        }
    }

    /// A calibration that also counts excursions of `|x|` above `k` times the RMS
    /// measured by `first`.
    pub fn with_level(first: &Calibration, k: f64) -> Self {
        Self {
            level: first.rms() * k,
            ..Self::default()
        }
    }

    /// Rate of peaks per sample extrapolated from the excursions above `level`
    /// (`level` = `k·σ`): Rice's `ν(u) = ν₀·e^{-u²/2}` solved for ν₀ at `u = k`. Counting
    /// at 2σ rather than at zero discounts the small fast wiggles that never reach a
    /// peak (brown and band-limited noise: zero crossings overestimate their peaks by
    /// 0.5σ); falls back to the zero-crossing rate when nothing was counted.
    pub fn peak_rate(&self, k: f64) -> f64 {
        if self.excursions == 0 || self.count == 0 {
            return self.crossing_rate();
        }
        self.excursions as f64 / self.count as f64 * math::exp(k * k / 2.0)
    }

    /// Marks a discontinuity (the next sample does not follow the previous one).
    pub fn gap(&mut self) {
        self.last_sign = 0;
        self.above = false;
    }

    /// Root mean square.
    pub fn rms(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            math::sqrt(self.sum_sq / self.count as f64)
        }
    }

    /// Zero crossings per sample.
    pub fn crossing_rate(&self) -> f64 {
        if self.count < 2 {
            0.0
        } else {
            self.crossings as f64 / self.count as f64
        }
    }
}

/// Expected peak-to-RMS ratio of a stationary Gaussian process observed for `frames`
/// samples that crosses zero `rate` times per sample, with `channels` partly independent
/// looks at it.
///
/// Rice's formula: level `u` (in σ) is exceeded about `M·e^{-u²/2}` times, where `M` is
/// the number of zero crossings (both polarities); the maximum is Gumbel-distributed
/// around `a + γ/a`, `a = sqrt(2 ln M)`. `channel_factor` scales `M` for the extra
/// channels (1 for mono; the swept-notch stereo pair, correlated ~0.8, uses
/// [`super::notch::STEREO_LOOKS`]). Measured against the reference renders in
/// `tests/conformance/tests/golden_noise.rs`.
pub fn expected_crest(frames: u64, rate: f64, channel_factor: f64) -> f64 {
    let m = (frames as f64 * rate * channel_factor).max(3.0);
    let a = math::sqrt(2.0 * math::ln(m));
    a + 0.577_215_664_9 / a
}

/// PY `ColoredNoiseGenerator` (NOISE.md §2.2) as a stream: power-law noise with
/// exponent β (and the Session-Builder profile), peak-normalised to 1 *before* the
/// optional band filters, times `amplitude`.
///
/// The original normalises the whole buffer by its peak; here the gain comes from a
/// deterministic calibration pre-roll (RMS and zero-crossing rate of 1 s of the same
/// colour from a derived seed) and [`expected_crest`] for the render length, so the
/// expected peak before the band filters is 1. Peaks above 1 (about half the renders
/// exceed the expectation slightly) are clamped to ±1 before the filters, as the
/// original's output never exceeds its normalised peak.
#[derive(Clone, Debug, PartialEq)]
pub struct ColoredNoise {
    raw: ColourGen,
    gain: f32,
    amplitude: f32,
    band_lp: Sos,
    lp_state: [[f32; 2]; MAX_SECTIONS],
    band_hp: Sos,
    hp_state: [[f32; 2]; MAX_SECTIONS],
}

/// Calibration pre-roll of [`ColoredNoise`], seconds.
const COLORED_CAL_SECONDS: f64 = 1.0;
/// Level (in σ) at which calibrations count excursions for the peak rate.
pub const CAL_LEVEL: f64 = 2.0;

impl ColoredNoise {
    /// `frames` samples at `sr` of `model` noise, band-limited, times `amplitude`.
    pub fn new(
        model: ExponentModel,
        band: BandLimits,
        amplitude: f32,
        sr: f64,
        frames: u64,
        seed: u64,
    ) -> Self {
        let f_lo = sr / frames.max(1) as f64;
        let colour = Colour::Exponent(model);
        let mut cal_src = ColourGen::new(
            colour,
            BandLimits::default(),
            sr,
            f_lo,
            super::derive_seed(seed, u64::MAX),
        );
        let mut cal = Calibration::default();
        let n_cal = (COLORED_CAL_SECONDS * sr) as u64;
        // settle the slowest shelf first (its time constant is 1/(2π f_lo))
        let settle = ((sr / (math::TAU * f_lo.max(EXPONENT_MIN_CORNER_HZ))) * 3.0) as u64;
        let first_seed = super::derive_seed(seed, u64::MAX);
        for pass in 0..2 {
            if pass == 1 {
                cal = Calibration::with_level(&cal, CAL_LEVEL);
                cal_src.restart(first_seed);
            }
            for _ in 0..settle.min(10 * n_cal) {
                cal_src.next();
            }
            for _ in 0..n_cal {
                cal.push(cal_src.next());
            }
        }
        let crest = expected_crest(frames, cal.peak_rate(CAL_LEVEL), 1.0);
        let rms = cal.rms();
        let gain = if rms > 0.0 { 1.0 / (rms * crest) } else { 0.0 };
        let nyq_guard = 0.49 * sr;
        let band_lp = match band.highcut {
            Some(f) if f > 0.0 && f < nyq_guard => Sos::butterworth(4, Band::Low, f, sr),
            _ => Sos::default(),
        };
        let band_hp = match band.lowcut {
            Some(f) if f > 0.0 && f < nyq_guard => Sos::butterworth(4, Band::High, f, sr),
            _ => Sos::default(),
        };
        Self {
            raw: ColourGen::new(colour, BandLimits::default(), sr, f_lo, seed),
            gain: gain as f32,
            amplitude,
            band_lp,
            lp_state: [[0.0; 2]; MAX_SECTIONS],
            band_hp,
            hp_state: [[0.0; 2]; MAX_SECTIONS],
        }
    }

    /// Back to the state right after `new`.
    pub fn reset(&mut self) {
        self.raw.reset();
        self.lp_state = [[0.0; 2]; MAX_SECTIONS];
        self.hp_state = [[0.0; 2]; MAX_SECTIONS];
    }

    /// The next sample.
    #[inline]
    pub fn next(&mut self) -> f32 {
        let mut y = (self.raw.next() * self.gain).clamp(-1.0, 1.0);
        if self.band_hp.len > 0 {
            y = self.band_hp.tick(&mut self.hp_state, y);
        }
        if self.band_lp.len > 0 {
            y = self.band_lp.tick(&mut self.lp_state, y);
        }
        y * self.amplitude
    }

    /// Fills `out` (bit-identical to [`ColoredNoise::next`]).
    pub fn process(&mut self, out: &mut [f32]) {
        for o in out.iter_mut() {
            *o = self.next();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SR: f64 = 44100.0;

    fn all_colours() -> Vec<Colour> {
        vec![
            Colour::White,
            Colour::Pink,
            Colour::Brown,
            Colour::DeepBrown,
            Colour::Blue,
            Colour::Purple,
            Colour::Green,
            Colour::Grey,
            Colour::Exponent(ExponentModel {
                exponent: 1.25,
                high_exponent: 2.0,
                curve: 1.0,
            }),
        ]
    }

    #[test]
    fn names() {
        assert_eq!(Colour::from_name("Pink"), Colour::Pink);
        assert_eq!(Colour::from_name("red"), Colour::Brown);
        assert_eq!(Colour::from_name("deep brown"), Colour::DeepBrown);
        assert_eq!(Colour::from_name("violet"), Colour::Purple);
        assert_eq!(Colour::from_name("grey"), Colour::Grey);
        assert_eq!(Colour::from_name("white"), Colour::White);
        assert_eq!(Colour::from_name("whatever"), Colour::White);
    }

    #[test]
    fn block_equals_sample_reset_reproduces_bounded() {
        for c in all_colours() {
            let band = BandLimits {
                lowcut: Some(50.0),
                highcut: Some(16000.0),
            };
            let mut a = ColourGen::new(c, band, SR, 1.0, 3);
            let mut b = a.clone();
            let per: Vec<f32> = (0..20_000).map(|_| a.next()).collect();
            let mut blk = vec![0.0f32; 20_000];
            for ch in blk.chunks_mut(77) {
                b.process(ch);
            }
            assert!(per
                .iter()
                .zip(&blk)
                .all(|(x, y)| x.to_bits() == y.to_bits()));
            b.reset();
            assert_eq!(b.next().to_bits(), per[0].to_bits(), "{c:?}");
            let mut long = ColourGen::new(c, BandLimits::default(), SR, 1.0, 9);
            let (mut sum, mut sq) = (0.0f64, 0.0f64);
            let n = 2_000_000;
            for _ in 0..n {
                let y = long.next();
                assert!(y.is_finite() && y.abs() < 100.0, "{c:?} {y}");
                sum += y as f64;
                sq += y as f64 * y as f64;
            }
            // No DC: the earlier port's pink sat at +3.8 for an RMS of ~0.3. The bound
            // leaves room for the statistical spread of the mean of low-pass noise.
            let (mean, rms) = (sum / n as f64, (sq / n as f64).sqrt());
            assert!(mean.abs() < 0.3 * rms, "{c:?} mean {mean} rms {rms}");
        }
    }

    /// Response of the exponent model vs the ideal power law.
    #[test]
    fn exponent_model_error() {
        for beta in [-2.0f32, -1.0, 0.5, 1.0, 2.0, 3.0] {
            let m = ExponentModel {
                exponent: beta,
                high_exponent: beta,
                curve: 1.0,
            };
            let c = ShelfCascade::new(&m, SR, 1.0, 1.0);
            let mag = |f: f64| -> f64 {
                c.ln_mag((math::TAU * f / SR).cos()) * 20.0 / std::f64::consts::LN_10
            };
            let mut worst = 0.0f64;
            let mut f: f64 = 20.0;
            while f <= 20000.0 {
                let ideal = -10.0 * beta as f64 * (f / 1000.0).log10();
                worst = worst.max((mag(f) - ideal).abs());
                f *= 1.1;
            }
            println!(
                "beta {beta}: worst {worst:.2} dB, at 20k {:.2} dB",
                mag(20000.0) + 10.0 * beta as f64 * 20f64.log10()
            );
            assert!(worst < 0.4, "beta {beta}: {worst} dB");
        }
    }
}
