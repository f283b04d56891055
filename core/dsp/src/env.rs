//! Volume envelopes and the click-guard fade (TRACK_FORMAT.md §4.3 and §5).
//!
//! Every envelope is a closed-form function of the sample index inside the voice, so a
//! voice positioned at any sample (seek) gets exactly the gain a full render would give.
//! Values are computed with NumPy's float64 `linspace` arithmetic ([`crate::linspace`])
//! and rounded to f32 once, which reproduces the original helpers bit for bit.
//!
//! These are the INTENDED envelopes of TRACK_FORMAT.md §5: the original never applies
//! them (its assembler does not import the helpers), see the format crate docs.

use crate::linspace::linspace_at;
use crate::math;

/// Where a `linear_fade` ramp sits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FadeType {
    /// Ramp over the first `F` samples, then hold `end_amp` (the only mode a track can select).
    In,
    /// Hold `start_amp`, ramp over the last `F` samples.
    Out,
}

/// A volume envelope over a voice of `n` samples.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Envelope {
    /// Constant 1.0 (no envelope, or an unknown type).
    Flat,
    /// `linear_fade`.
    LinearFade {
        /// Samples in the ramp (`F`), already clamped to the voice length.
        f: u64,
        /// Level at the start of the ramp.
        start: f64,
        /// Level at the end of the ramp (held after it).
        end: f64,
        /// Voice length.
        n: u64,
        /// In or out.
        fade: FadeType,
    },
    /// `adsr` (also `linen`, which is an ADSR with no decay and a sustain of 1).
    Adsr {
        /// Attack samples (`linspace(0, 1, A, endpoint=False)`).
        a: u64,
        /// Decay samples (`linspace(1, s, D, endpoint=False)`).
        d: u64,
        /// Sustain samples.
        s_len: u64,
        /// Release samples (`linspace(s, 0, R, endpoint=True)`).
        r: u64,
        /// Sustain level.
        level: f64,
    },
}

/// The original's effective rate for adsr/linen: `N / (t[N-1] - t[0] + t[1] - t[0])`
/// with `t = linspace(0, D, N, endpoint=False)`; equals `sr` when `D·sr` is an integer.
fn effective_rate(duration_s: f64, n: u64, sr: f64) -> f64 {
    if n < 2 || duration_s <= 0.0 {
        return sr;
    }
    let step = duration_s / n as f64;
    let span = ((n - 1) as f64 * step) + step;
    n as f64 / span
}

impl Envelope {
    /// `linear_fade(fade_duration, start_amp, end_amp)` over `n` samples at `sr`.
    pub fn linear_fade(fade_s: f64, start: f64, end: f64, sr: f64, n: u64, fade: FadeType) -> Self {
        let f = math::floor(fade_s * sr);
        let f = if f <= 0.0 { 0 } else { (f as u64).min(n) };
        Envelope::LinearFade {
            f,
            start,
            end,
            n,
            fade,
        }
    }

    /// `adsr(attack, decay, sustain_level, release)` over a voice of `duration_s` / `n`.
    pub fn adsr(
        attack: f64,
        decay: f64,
        sustain: f64,
        release: f64,
        duration_s: f64,
        sr: f64,
        n: u64,
    ) -> Self {
        let sr2 = effective_rate(duration_s, n, sr);
        let (mut a, mut d, mut r) = (
            samples(attack, sr2),
            samples(decay, sr2),
            samples(release, sr2),
        );
        // Saturating: a time of 1e300 s is a valid number (TRACK_FORMAT.md §5 has no
        // upper bound) whose sample count saturates at u64::MAX; a plain sum overflowed
        // (found by tests/fuzz). The rescale below then shrinks it to the voice.
        // The shares are taken from the f64 sum, which does not saturate.
        let total = a.saturating_add(d).saturating_add(r);
        if total > n {
            let sum = a as f64 + d as f64 + r as f64;
            a = math::floor(a as f64 * n as f64 / sum) as u64;
            d = math::floor(d as f64 * n as f64 / sum) as u64;
            r = n.saturating_sub(a + d);
        }
        let s_len = n.saturating_sub(a + d + r);
        Envelope::Adsr {
            a,
            d,
            s_len,
            r,
            level: sustain.clamp(0.0, 1.0),
        }
    }

    /// `linen(attack, release)`: attack to 1, hold, release to 0.
    pub fn linen(attack: f64, release: f64, duration_s: f64, sr: f64, n: u64) -> Self {
        let sr2 = effective_rate(duration_s, n, sr);
        let (mut a, mut r) = (samples(attack, sr2), samples(release, sr2));
        if a.saturating_add(r) > n {
            // Saturating as in `adsr`: huge times must not overflow.
            a = math::floor(a as f64 * n as f64 / (a as f64 + r as f64)) as u64;
            r = n - a;
        }
        let s_len = n.saturating_sub(a + r);
        Envelope::Adsr {
            a,
            d: 0,
            s_len,
            r,
            level: 1.0,
        }
    }

    /// True when the gain is 1.0 everywhere.
    pub fn is_flat(&self) -> bool {
        matches!(self, Envelope::Flat)
    }

    /// The gain when it is the same on every sample of `[i, i + len)` (a sustain, the
    /// level before a fade-out or after a fade-in, the silence after a release);
    /// `None` inside or across a ramp. Equal to [`Envelope::gain64`] at each of them.
    pub fn constant_over(&self, i: u64, len: u64) -> Option<f64> {
        let end = i.saturating_add(len);
        match *self {
            Envelope::Flat => Some(1.0),
            Envelope::LinearFade {
                f,
                start,
                end: last,
                n,
                fade,
            } => {
                if f == 0 {
                    return Some(last);
                }
                match fade {
                    FadeType::In => (i >= f).then_some(last),
                    FadeType::Out => (end <= n - f).then_some(start),
                }
            }
            Envelope::Adsr {
                a,
                d,
                s_len,
                r,
                level,
            } => {
                let sustain = a + d;
                let release = sustain + s_len;
                if i >= sustain && end <= release {
                    Some(level)
                } else if i >= release + r {
                    Some(if r == 0 { level } else { 0.0 })
                } else {
                    None
                }
            }
        }
    }

    /// Gain at sample `i` of the voice (f64, exactly the original's value).
    pub fn gain64(&self, i: u64) -> f64 {
        match *self {
            Envelope::Flat => 1.0,
            Envelope::LinearFade {
                f,
                start,
                end,
                n,
                fade,
            } => {
                if f == 0 {
                    return end;
                }
                match fade {
                    FadeType::In => {
                        if i < f {
                            linspace_at(start, end, f, true, i)
                        } else {
                            end
                        }
                    }
                    FadeType::Out => {
                        let head = n - f;
                        if i < head {
                            start
                        } else {
                            linspace_at(start, end, f, true, i - head)
                        }
                    }
                }
            }
            Envelope::Adsr {
                a,
                d,
                s_len,
                r,
                level,
            } => {
                if i < a {
                    return linspace_at(0.0, 1.0, a, false, i);
                }
                let i = i - a;
                if i < d {
                    return linspace_at(1.0, level, d, false, i);
                }
                let i = i - d;
                if i < s_len {
                    return level;
                }
                let i = i - s_len;
                if i < r {
                    return linspace_at(level, 0.0, r, true, i);
                }
                // Padding past the constructed curve (only when rounding left it short).
                if r == 0 {
                    level
                } else {
                    0.0
                }
            }
        }
    }

    /// Gain at sample `i`, rounded to f32.
    pub fn gain(&self, i: u64) -> f32 {
        self.gain64(i) as f32
    }
}

fn samples(seconds: f64, sr: f64) -> u64 {
    let x = math::floor(seconds * sr);
    if x > 0.0 {
        x as u64
    } else {
        0
    }
}

/// The 10 ms click-guard fade the original applies to voices without an envelope
/// (TRACK_FORMAT.md §4.3): `L = min(N, floor(0.01·sr))`; when `L > 1` the first `L`
/// samples are multiplied by `linspace(0, 1, L)` and the last `L` by `linspace(1, 0, L)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClickGuard {
    l: u64,
    n: u64,
}

impl ClickGuard {
    /// The guard for a voice of `n` samples at `sr`.
    pub fn new(sr: f64, n: u64) -> Self {
        let l = (math::floor(0.01 * sr) as u64).min(n);
        Self {
            l: if l > 1 { l } else { 0 },
            n,
        }
    }

    /// A guard that does nothing.
    pub const fn off() -> Self {
        Self { l: 0, n: 0 }
    }

    /// The samples the guard leaves untouched: `start..end` (the whole voice and past it
    /// when the guard is off; an empty range for a voice too short to have any).
    pub fn unity_range(&self) -> core::ops::Range<u64> {
        if self.l == 0 {
            0..u64::MAX
        } else {
            self.l..self.n.saturating_sub(self.l).max(self.l)
        }
    }

    /// True if sample `i` is untouched (fast-path test).
    #[inline]
    pub fn is_unity(&self, i: u64) -> bool {
        self.l == 0 || (i >= self.l && i + self.l < self.n)
    }

    /// True if samples `i..i + len` (`len ≥ 1`) are all untouched: the untouched
    /// samples are one interval, so its two ends decide.
    #[inline]
    pub fn is_unity_over(&self, i: u64, len: u64) -> bool {
        self.is_unity(i) && self.is_unity(i + len - 1)
    }

    /// Applies the guard to a sample value at index `i` (in-place semantics of the
    /// original: the f64 product rounded to f32; both fades multiply where they overlap).
    #[inline]
    pub fn apply(&self, i: u64, x: f32) -> f32 {
        if self.is_unity(i) {
            return x;
        }
        let mut v = x;
        if i < self.l {
            v = (v as f64 * linspace_at(0.0, 1.0, self.l, true, i)) as f32;
        }
        let tail = self.n - self.l;
        if i >= tail && i < self.n {
            v = (v as f64 * linspace_at(1.0, 0.0, self.l, true, i - tail)) as f32;
        }
        v
    }
}

#[cfg(test)]
mod tests {
    /// `constant_over` claims a constant only where `gain64` is that constant on every
    /// sample of the window, and finds the sustain and the settled ends.
    #[test]
    fn constant_over_agrees_with_gain64() {
        let n = 1000;
        let envs = [
            super::Envelope::Flat,
            super::Envelope::linear_fade(0.1, 0.2, 0.9, 1000.0, n, super::FadeType::In),
            super::Envelope::linear_fade(0.3, 1.0, 0.0, 1000.0, n, super::FadeType::Out),
            super::Envelope::linear_fade(0.0, 1.0, 0.5, 1000.0, n, super::FadeType::Out),
            super::Envelope::adsr(0.1, 0.05, 0.6, 0.2, 1.0, 1000.0, n),
            super::Envelope::adsr(0.1, 0.05, 0.6, 0.0, 1.0, 1000.0, n),
            super::Envelope::linen(0.2, 0.3, 1.0, 1000.0, n),
        ];
        for e in envs {
            let mut found = 0;
            for i in (0..n).step_by(7) {
                for len in [1u64, 16, 64, 333] {
                    if let Some(g) = e.constant_over(i, len) {
                        found += 1;
                        for k in i..(i + len).min(n) {
                            assert_eq!(e.gain64(k), g, "{e:?} at {k} (window {i}+{len})");
                        }
                    }
                }
            }
            assert!(found > 50, "{e:?}: constant stretches not found");
        }
    }

    #[test]
    fn huge_times_do_not_overflow() {
        // 1e300 s saturates the sample count; the envelope still fits the voice.
        let n = 1000;
        match super::Envelope::adsr(1e300, 1e300, 0.5, 1e300, 1.0, 1000.0, n) {
            super::Envelope::Adsr { a, d, s_len, r, .. } => {
                assert!(a + d + s_len + r <= n, "{a} {d} {s_len} {r}")
            }
            _ => panic!("not adsr"),
        }
        match super::Envelope::linen(1e300, 1e300, 1.0, 1000.0, n) {
            super::Envelope::Adsr { a, s_len, r, .. } => assert!(a + s_len + r <= n, "{a} {r}"),
            _ => panic!("not linen's adsr form"),
        }
    }

    use super::*;

    #[test]
    fn adsr_segments() {
        let e = Envelope::adsr(0.1, 0.2, 0.6, 0.3, 1.0, 100.0, 100);
        assert_eq!(e.gain64(0), 0.0);
        assert_eq!(e.gain64(10), 1.0);
        assert!((e.gain64(20) - 0.8).abs() < 1e-12);
        assert_eq!(e.gain64(50), 0.6);
        assert_eq!(e.gain64(99), 0.0);
    }

    #[test]
    fn adsr_rescales_when_too_long() {
        let e = Envelope::adsr(1.0, 1.0, 0.5, 2.0, 1.0, 100.0, 100);
        if let Envelope::Adsr { a, d, s_len, r, .. } = e {
            assert_eq!((a, d, r, s_len), (25, 25, 50, 0));
        } else {
            panic!()
        }
    }

    #[test]
    fn click_guard_edges() {
        let g = ClickGuard::new(44100.0, 1000);
        assert_eq!(g.apply(0, 1.0), 0.0);
        assert_eq!(g.apply(440, 1.0), 1.0);
        assert_eq!(g.apply(999, 1.0), 0.0);
        assert_eq!(g.apply(500, 0.5), 0.5);
        let short = ClickGuard::new(44100.0, 1);
        assert_eq!(short.apply(0, 0.5), 0.5);
    }

    #[test]
    fn linear_fade_in_and_out() {
        let e = Envelope::linear_fade(0.5, 0.0, 1.0, 10.0, 10, FadeType::In);
        assert_eq!(e.gain64(0), 0.0);
        assert_eq!(e.gain64(4), 1.0);
        assert_eq!(e.gain64(9), 1.0);
        let o = Envelope::linear_fade(0.5, 1.0, 0.2, 10.0, 10, FadeType::Out);
        assert_eq!(o.gain64(0), 1.0);
        assert_eq!(o.gain64(9), 0.2);
        let z = Envelope::linear_fade(0.0, 0.0, 0.7, 10.0, 10, FadeType::In);
        assert_eq!(z.gain64(3), 0.7);
    }
}
