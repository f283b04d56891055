//! Glitch bursts of `binaural_beat_transition`: implements VOICES.md §1.4, deterministic.
//!
//! The original adds, for `k = 1..floor(D/I)`, a burst of `L = floor(G·sr)` samples
//! starting at `i0 = floor(max(0, k·I - G)·sr)` (skipped when it would run past the end):
//! Gaussian white noise shaped in the frequency domain by
//! `g(f) = exp(-0.5·((f - fc)/W)^E)` (`g = 1` when `W = 0`), normalised to peak 1,
//! multiplied by a rising ramp `linspace(0, 1, L)` (abrupt end) and by the level `Lv`,
//! and added to both channels. Its random numbers come from the unseeded global RNG, so
//! only the statistics can be matched.
//!
//! Here (deliberate deviations, all documented):
//! * every burst has its own seed, derived from a seed of the voice and the burst index
//!   ([`crate::noise::derive_seed`]), so a render is reproducible and a seek lands on the
//!   same bursts;
//! * `|f - fc|/|W|` replaces `(f - fc)/W`: with a non-integer exponent the original's
//!   negative base gives NaN and silences the whole voice;
//! * the shaping runs on a power-of-two grid `P ≥ L` (white noise of `P` samples, an f32
//!   radix-2 FFT, `g` sampled at `j·sr/P`, inverse FFT, the first `L` samples kept) instead
//!   of the original's `rfft` of exactly `L` samples: the same Gaussian process (power
//!   spectrum `∝ g²`) without an arbitrary-length FFT. The burst is computed when it
//!   starts, into half of a caller-provided buffer, so a burst needs at most
//!   [`MAX_BURST`] samples and at most two bursts may overlap (`G < 2·I`); the parser
//!   rejects larger values with a located error.

use crate::linspace::linspace_at;
use crate::math;
use crate::noise::{derive_seed, Gaussian};
use crate::Frame;

/// Largest burst length in samples (`floor(glitchDur·sr)`): one half of a 64 KiB pool
/// slot holds its complex f32 FFT buffer (93 ms at 44.1 kHz, 21 ms at 192 kHz).
pub const MAX_BURST: usize = 4096;

/// Frames of buffer a [`Bursts`] generator needs: two bursts of [`MAX_BURST`].
pub const BUFFER: usize = 2 * MAX_BURST;

/// Burst parameters (the averages of the start/end values, as the original uses).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Params {
    /// `glitchInterval`, s.
    pub interval_s: f64,
    /// `glitchDur`, s.
    pub dur_s: f64,
    /// `glitchNoiseLevel`.
    pub level: f64,
    /// `glitchFocusWidth`, Hz (0 = white).
    pub focus_width_hz: f64,
    /// `glitchFocusExp`.
    pub focus_exp: f64,
    /// Focus centre: the mean of the start and end base frequencies, Hz.
    pub focus_hz: f64,
}

impl Params {
    /// True when the original would add bursts (`I, G, Lv > 0` and `floor(G·sr) > 0`).
    pub fn active(&self, sr: f64) -> bool {
        self.interval_s > 0.0
            && self.dur_s > 0.0
            && self.level > 0.0
            && math::floor(self.dur_s * sr) >= 1.0
    }

    /// `L = floor(G·sr)`.
    pub fn len(&self, sr: f64) -> usize {
        let l = math::floor(self.dur_s * sr);
        if l > 0.0 {
            l as usize
        } else {
            0
        }
    }
}

/// A burst being played.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Playing {
    start: u64,
    half: usize,
}

/// The burst generator of one voice (state only; the buffer is borrowed per call).
#[derive(Clone, Debug)]
pub struct Bursts {
    p: Params,
    sr: f64,
    n: u64,
    len: usize,
    fft_len: usize,
    repeats: u64,
    seed: u64,
    /// Next burst index to start (1-based).
    next_k: u64,
    playing: [Option<Playing>; 2],
    i: u64,
}

impl Bursts {
    /// The bursts of a step of `duration` seconds and `n` samples at `sr`, with the
    /// voice's `seed`.
    pub fn new(p: &Params, duration: f64, n: u64, sr: f64, seed: u64) -> Self {
        let len = p.len(sr).min(MAX_BURST);
        let repeats = if p.interval_s > 0.0 {
            let r = math::floor(duration / p.interval_s);
            if r > 0.0 {
                r as u64
            } else {
                0
            }
        } else {
            0
        };
        Self {
            p: *p,
            sr,
            n,
            len,
            fft_len: len.next_power_of_two().max(2),
            repeats: if p.active(sr) { repeats } else { 0 },
            seed,
            next_k: 1,
            playing: [None; 2],
            i: 0,
        }
    }

    /// Start sample of burst `k`, or `None` when the original skips it.
    pub fn start_of(&self, k: u64) -> Option<u64> {
        if k == 0 || k > self.repeats {
            return None;
        }
        let t_end = k as f64 * self.p.interval_s;
        let t_start = (t_end - self.p.dur_s).max(0.0);
        let i0 = math::floor(t_start * self.sr) as u64;
        (i0 + self.len as u64 <= self.n).then_some(i0)
    }

    /// Number of bursts of the step (those the original does not skip).
    pub fn count(&self) -> u64 {
        (1..=self.repeats)
            .filter(|&k| self.start_of(k).is_some())
            .count() as u64
    }

    /// Burst length `L`.
    pub fn burst_len(&self) -> usize {
        self.len
    }

    /// Back to the state right after `new`.
    pub fn reset(&mut self) {
        self.next_k = 1;
        self.playing = [None; 2];
        self.i = 0;
    }

    /// Positions the generator at sample `i` (the bursts covering `i` are recomputed).
    pub fn seek(&mut self, i: u64, buf: &mut [Frame]) {
        self.reset();
        self.i = i;
        // bursts that started before i and still sound, in order
        while let Some(s) = self.start_of(self.next_k) {
            if s >= i {
                break;
            }
            if s + (self.len as u64) > i {
                self.begin(self.next_k, s, buf);
            }
            self.next_k += 1;
        }
        // skipped indices (start_of None) before i: move past them
        while self.next_k <= self.repeats && self.start_of(self.next_k).is_none() {
            self.next_k += 1;
        }
    }

    fn begin(&mut self, k: u64, start: u64, buf: &mut [Frame]) {
        // a free half (both busy cannot happen when G < 2·I: replace the older one)
        let half = match self.playing {
            [None, _] => 0,
            [Some(_), None] => 1,
            [Some(a), Some(b)] => usize::from(a.start > b.start),
        };
        self.generate(k, &mut buf[half * MAX_BURST..(half + 1) * MAX_BURST]);
        self.playing[half] = Some(Playing { start, half });
    }

    /// Computes burst `k` into `slot` (real samples in column 0 of the first `L` frames).
    fn generate(&self, k: u64, slot: &mut [Frame]) {
        let p = self.fft_len;
        let l = self.len;
        let mut g = Gaussian::new(derive_seed(self.seed, k));
        for f in slot.iter_mut().take(p) {
            *f = [g.next(), 0.0];
        }
        fft_f32(&mut slot[..p], false);
        let w = math::fabs(self.p.focus_width_hz);
        let e = self.p.focus_exp;
        let fc = self.p.focus_hz;
        if self.p.focus_width_hz != 0.0 {
            for j in 0..=p / 2 {
                let f = j as f64 * self.sr / p as f64;
                let gain = math::exp(-0.5 * math::pow(math::fabs(f - fc) / w, e));
                let gain = if gain.is_finite() { gain as f32 } else { 0.0 };
                slot[j][0] *= gain;
                slot[j][1] *= gain;
                if j > 0 && j < p / 2 {
                    slot[p - j][0] *= gain;
                    slot[p - j][1] *= gain;
                }
            }
        }
        fft_f32(&mut slot[..p], true);
        let mut peak = 0.0f32;
        for f in slot.iter().take(l) {
            peak = peak.max(math::fabsf(f[0]));
        }
        // 1/P of the inverse transform is folded into the normalisation
        let level = self.p.level;
        for (j, f) in slot.iter_mut().take(l).enumerate() {
            let v = if peak < 1e-16 {
                0.0
            } else {
                (f[0] / peak) as f64 * linspace_at(0.0, 1.0, l as u64, true, j as u64) * level
            };
            *f = [v as f32, 0.0];
        }
    }

    /// The burst sample to add at the next sample index, `None` outside bursts (and
    /// advances).
    #[inline]
    pub fn next(&mut self, buf: &mut [Frame]) -> Option<f32> {
        let i = self.i;
        self.i += 1;
        while let Some(s) = self.start_of(self.next_k) {
            if s != i {
                break;
            }
            let k = self.next_k;
            self.next_k += 1;
            self.begin(k, s, buf);
        }
        if self.next_k <= self.repeats && self.start_of(self.next_k).is_none() {
            // a skipped burst runs past the end: so do all later ones
            self.next_k = self.repeats + 1;
        }
        let mut acc: Option<f32> = None;
        for slot in self.playing.iter_mut() {
            if let Some(pl) = *slot {
                let j = (i - pl.start) as usize;
                if j < self.len {
                    let v = buf[pl.half * MAX_BURST + j][0];
                    acc = Some(acc.map_or(v, |a| a + v));
                }
                if j + 1 >= self.len {
                    *slot = None;
                }
            }
        }
        acc
    }

    /// Adds the bursts to a block of frames (bit-identical to repeated [`Self::next`]).
    pub fn add_to(&mut self, io: &mut [Frame], buf: &mut [Frame]) {
        for f in io.iter_mut() {
            if let Some(b) = self.next(buf) {
                f[0] += b;
                f[1] += b;
            }
        }
    }
}

/// In-place radix-2 complex FFT in f32 (length a power of two; others are left alone).
/// `inverse` computes the unnormalised inverse transform. Twiddles are computed in f64
/// with libm and rounded, so the bits are the same on every target.
pub fn fft_f32(x: &mut [Frame], inverse: bool) {
    let n = x.len();
    if n < 2 || !n.is_power_of_two() {
        return;
    }
    let bits = n.trailing_zeros();
    for i in 0..n {
        let j = i.reverse_bits() >> (usize::BITS - bits);
        if j > i {
            x.swap(i, j);
        }
    }
    let sign = if inverse { 1.0 } else { -1.0 };
    let mut len = 2;
    while len <= n {
        let half = len / 2;
        let ang = sign * math::TAU / len as f64;
        for k in 0..half {
            let a = ang * k as f64;
            let (wr, wi) = (math::cos(a) as f32, math::sin(a) as f32);
            let mut start = 0;
            while start < n {
                let u = x[start + k];
                let v = x[start + k + half];
                let tr = v[0] * wr - v[1] * wi;
                let ti = v[0] * wi + v[1] * wr;
                x[start + k] = [u[0] + tr, u[1] + ti];
                x[start + k + half] = [u[0] - tr, u[1] - ti];
                start += len;
            }
        }
        len <<= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fft_round_trip() {
        let mut x: Vec<Frame> = (0..256)
            .map(|i| [((i * 7) % 13) as f32 - 6.0, (i % 5) as f32])
            .collect();
        let orig = x.clone();
        fft_f32(&mut x, false);
        fft_f32(&mut x, true);
        for (a, b) in x.iter().zip(&orig) {
            assert!((a[0] / 256.0 - b[0]).abs() < 1e-4 && (a[1] / 256.0 - b[1]).abs() < 1e-4);
        }
    }

    #[test]
    fn bursts_positions_and_peaks() {
        let p = Params {
            interval_s: 0.5,
            dur_s: 0.05,
            level: 0.3,
            focus_width_hz: 100.0,
            focus_exp: 2.0,
            focus_hz: 440.0,
        };
        let sr = 8000.0;
        let n = 16000;
        let mut b = Bursts::new(&p, 2.0, n, sr, 99);
        // k = 1..4 end at 0.5, 1.0, 1.5, 2.0 s; the last runs past the end? 2.0 - 0.05 → fits
        assert_eq!(b.start_of(1), Some(3600));
        assert_eq!(b.count(), 4);
        let mut buf = vec![[0.0f32; 2]; BUFFER];
        let out: Vec<f32> = (0..n).map(|_| b.next(&mut buf).unwrap_or(0.0)).collect();
        let peak = out.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert!(peak <= 0.3 + 1e-6 && peak > 0.2, "{peak}");
        assert!(out[..3600].iter().all(|&v| v == 0.0));
        // seek reproduces
        let mut c = Bursts::new(&p, 2.0, n, sr, 99);
        c.seek(3700, &mut buf);
        for (k, &want) in out[3700..].iter().enumerate() {
            let got = c.next(&mut buf).unwrap_or(0.0);
            assert_eq!(got.to_bits(), want.to_bits(), "at {}", 3700 + k);
        }
    }
}
