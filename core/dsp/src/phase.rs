//! Integer phase accumulators (VOICES.md §0.1 "Phase accumulation").
//!
//! A phase is a fraction of a turn in Q0.64 (`u64`, 2^64 = one turn). Additions wrap
//! exactly, so an accumulator never loses precision however long it runs (an f32 phase
//! drifts 1.4e-2 rad in 0.75 s), and the phase after `n` constant steps is
//! `start + n·inc` computed with `wrapping_mul`: the O(1) seek is bit-identical to
//! stepping `n` times.
//!
//! Increments for constant frequencies are computed once in f64 from `freq·dt` (exact to
//! ~1e-19 turn per sample). Increments that change every sample are computed in f32 and
//! converted with [`Phase::inc_from_f32`], whose resolution (2^-32 turn per sample,
//! 1e-5 Hz at 44.1 kHz) is finer than the f32 input.

use crate::math;

/// A Q0.64 phase (fraction of a turn).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Phase(pub u64);

impl Phase {
    /// Phase from a number of turns (any sign, any magnitude; only the fraction matters).
    pub fn from_turns(turns: f64) -> Self {
        Self(turns_to_q64(turns))
    }

    /// Phase from radians.
    pub fn from_radians(rad: f64) -> Self {
        Self(turns_to_q64(rad / math::TAU))
    }

    /// The top 32 bits, the argument of [`math::sin_turns`].
    #[inline]
    pub fn turns_u32(&self) -> u32 {
        (self.0 >> 32) as u32
    }

    /// The phase as a fraction of a turn in `[0, 1)`, f32 (24 significant bits, exact).
    #[inline]
    pub fn unit_f32(&self) -> f32 {
        ((self.0 >> 40) as u32) as f32 * (1.0 / 16_777_216.0)
    }

    /// Advances by `inc`.
    #[inline]
    pub fn advance(&mut self, inc: u64) {
        self.0 = self.0.wrapping_add(inc);
    }

    /// The phase `n` constant steps of `inc` after `self` (exact).
    #[inline]
    pub fn after(&self, inc: u64, n: u64) -> Self {
        Self(self.0.wrapping_add(inc.wrapping_mul(n)))
    }

    /// Converts a per-sample increment given in turns (f32, |x| < 0.5) to Q0.64.
    ///
    /// Resolution 2^-32 turn (1e-5 Hz at 44.1 kHz), rounded to nearest. Rounding matters:
    /// truncation toward zero is biased for an asymmetric (skewed) vibrato, whose
    /// increments are mostly of one sign, and the bias accumulates in the carrier phase
    /// (measured: 6e-4 after 2 minutes). The rounding is done with an exact split into
    /// integer and fraction, identical on every target.
    #[inline]
    pub fn inc_from_f32(turns_per_sample: f32) -> u64 {
        ((Self::inc32_from_f32(turns_per_sample) as i64) as u64) << 32
    }

    /// The increment of [`Phase::inc_from_f32`] in units of 2^-32 turn (its upper 32
    /// bits, signed). Branch-free (the rounding steps are added as 0/1 values, which
    /// lets block kernels vectorise it); the same value as the branching formulation.
    #[inline]
    pub fn inc32_from_f32(turns_per_sample: f32) -> i32 {
        let v = turns_per_sample * math::TWO_POW_32_F32;
        let i = v as i32;
        // Exact: |v| < 2^31 and `i` is `v` truncated, so `i as f32` is representable.
        let frac = v - i as f32;
        i.wrapping_add(i32::from(frac >= 0.5))
            .wrapping_sub(i32::from(frac <= -0.5))
    }

    /// Largest `|turns_per_sample| · 2^32` for which [`Phase::inc32_from_f32_small`] is
    /// exact (2^21, half of the range where the magic-number rounding is exact).
    pub const SMALL_INC32: f32 = 2_097_152.0;

    /// [`Phase::inc32_from_f32`] without a float-to-integer conversion instruction, for
    /// `|turns_per_sample| · 2^32 <` [`Phase::SMALL_INC32`] (vibrato increments: a few Hz
    /// at audio rates). The truncation is done with the magic number 1.5·2^23 (exact
    /// below 2^22) and the integer read from the bits, so a block kernel vectorises it
    /// where Rust's saturating `as i32` would stay scalar. Returns the same value as
    /// `inc32_from_f32` in that range (tested); callers check the range once per block.
    #[inline]
    pub fn inc32_from_f32_small(turns_per_sample: f32) -> i32 {
        const M: f32 = 12_582_912.0; // 1.5 · 2^23: its ulp is 1
        let v = turns_per_sample * math::TWO_POW_32_F32;
        // Nearest integer (ties to even), exact for |v| < 2^22; then toward zero.
        let r = (v + M) - M;
        let t = if v >= 0.0 {
            if r > v {
                r - 1.0
            } else {
                r
            }
        } else if r < v {
            r + 1.0
        } else {
            r
        };
        // t + M lies in [2^23, 2^24), where consecutive integers are consecutive bit patterns.
        let i = ((t + M).to_bits() as i32).wrapping_sub(M.to_bits() as i32);
        let frac = v - t;
        i.wrapping_add(i32::from(frac >= 0.5))
            .wrapping_sub(i32::from(frac <= -0.5))
    }
}

/// Fraction of `turns` as Q0.64 (wrapping for negative values).
pub fn turns_to_q64(turns: f64) -> u64 {
    let f = math::frac(turns);
    let scaled = f * math::TWO_POW_64;
    if scaled >= math::TWO_POW_64 {
        0
    } else {
        scaled as u64
    }
}

/// Per-sample Q0.64 increment for a frequency `freq_hz` sampled every `dt_s` seconds.
pub fn inc_hz(freq_hz: f64, dt_s: f64) -> u64 {
    turns_to_q64(freq_hz * dt_s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_increment_conversion_equals_the_general_one() {
        let lim = Phase::SMALL_INC32 / math::TWO_POW_32_F32;
        let mut x: u32 = 12345;
        let check = |t: f32| {
            assert_eq!(
                Phase::inc32_from_f32_small(t),
                Phase::inc32_from_f32(t),
                "{t:e}"
            );
        };
        for _ in 0..2_000_000 {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let u = (x >> 8) as f32 / 16_777_216.0; // [0, 1)
            let t = (2.0 * u - 1.0) * lim;
            check(t);
            check(t * 1e-3);
        }
        for k in -40_000i32..40_000 {
            // exact halves and integers around zero
            let v = k as f32 * 0.25;
            check(v / math::TWO_POW_32_F32);
        }
        check(0.0);
        check(-0.0);
    }

    #[test]
    fn seek_equals_stepping() {
        let inc = inc_hz(200.0, 1.0 / 44100.0);
        let mut p = Phase::from_radians(0.3);
        let start = p.clone();
        for _ in 0..100_000 {
            p.advance(inc);
        }
        assert_eq!(p, start.after(inc, 100_000));
    }

    #[test]
    fn long_run_has_no_drift() {
        // 1 hour of 200 Hz at 44.1 kHz is exactly 720,000 turns.
        let inc = inc_hz(200.0, 1.0 / 44100.0);
        let p = Phase(0).after(inc, 44100 * 3600);
        let err = p.0.min(p.0.wrapping_neg()) as f64 / math::TWO_POW_64;
        assert!(err < 1e-9, "{err}");
    }

    #[test]
    fn negative_turns_wrap() {
        assert_eq!(Phase::from_turns(-0.25).turns_u32(), 3 << 30);
        assert_eq!(Phase::from_turns(1.25).turns_u32(), 1 << 30);
    }

    #[test]
    fn f32_increment() {
        let inc = Phase::inc_from_f32(0.25);
        assert_eq!(inc, 1u64 << 62);
        let neg = Phase::inc_from_f32(-0.25);
        assert_eq!(neg, (3u64 << 62));
        // Rounded to nearest, symmetric around zero.
        let lsb = 1.0 / 4_294_967_296.0f32;
        assert_eq!(Phase::inc_from_f32(2.75 * lsb) >> 32, 3);
        assert_eq!((Phase::inc_from_f32(-2.75 * lsb) >> 32) as u32 as i32, -3);
        assert_eq!(Phase::inc_from_f32(2.25 * lsb) >> 32, 2);
    }

    #[test]
    fn rounding_is_unbiased_for_one_signed_increments() {
        // A positive increment just above an integer number of LSBs: truncation loses
        // 0.3 LSB per sample; rounding loses nothing on average.
        let lsb = 1.0 / 4_294_967_296.0f64;
        let mut acc = 0u64;
        let mut exact = 0.0f64;
        for k in 0..100_000u32 {
            let x = ((1000.05 + (k % 10) as f64 * 0.1) * lsb) as f32;
            exact += x as f64;
            acc = acc.wrapping_add(Phase::inc_from_f32(x) >> 32);
        }
        let err = (acc as f64 - exact / lsb).abs();
        // Truncation would lose 0.5 LSB per sample here (50,000 LSB).
        assert!(err < 100.0, "accumulated rounding error {err} LSB");
    }
}
