//! Noise: a seedable PRNG, Gaussian white noise, the colours of NOISE.md §2 as
//! streaming filters, the swept-notch generator of NOISE.md §4–§5 in a streaming design
//! (§8), and the original's block overlap-add design for inputs read from a file (§3).
//!
//! Implements NOISE.md §2, §3, §4, §5 and §8. Module map:
//!
//! * [`Rng`] / [`Gaussian`] (this file): xoshiro128++ seeded through SplitMix64, and
//!   Box–Muller Gaussians computed with the f32 shim. 32-bit integer arithmetic and
//!   correctly rounded or pure-Rust maths only, so the sequence for a seed is the same
//!   bits on x86_64, wasm32 and Cortex-M.
//! * [`colour`]: white, pink (Kellett), brown/red, deep brown, blue, purple/violet,
//!   green, grey (extension) and the Session-Builder exponent model, as IIR filters.
//! * [`notch`]: SciPy `iirnotch` coefficients and the streaming swept-notch generator
//!   ([`notch::SweptNoise`]).
//! * [`py`]: the original's whole-file algorithm (zero-phase pre-filters, 4096/2048
//!   Hann overlap-add, global RMS and peak stages) over a borrowed input signal, for
//!   `input_audio_path` (sample-exact against the reference renders).
//!
//! What is not here: the flanger tools of NOISE.md §7 (offline only, not reachable from
//! tracks), and the FFT power-law generator itself (the colours are IIR fits with the
//! spectral error documented in [`colour`]).

// `next()` is the unit contract's per-sample call (STYLE.md §3); these are endless
// sources with `reset`/`seek`, not iterators.
#![allow(clippy::should_implement_trait)]

pub mod colour;
pub mod notch;
pub mod py;

use crate::math;

/// Default seed (Session-Builder's `seed` default, NOISE.md §1).
pub const DEFAULT_SEED: u64 = 1;

/// SplitMix64 step: expands a 64-bit seed into well-mixed state words (Vigna).
#[inline]
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Mixes a seed and a stream index (e.g. a sample position) into a new seed.
#[inline]
pub fn derive_seed(seed: u64, stream: u64) -> u64 {
    let mut s = seed ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03);
    splitmix64(&mut s)
}

/// xoshiro128++ (Blackman & Vigna, 2019): 128-bit state, 32-bit output, period 2^128 - 1.
///
/// Chosen for the Cortex-M targets: every operation is a 32-bit add, xor, shift or
/// rotate. Seeded from a `u64` through SplitMix64 (the generator authors'
/// recommendation), so nearby seeds give unrelated sequences; the all-zero state cannot
/// occur.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rng {
    s: [u32; 4],
}

impl Rng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Self {
        let mut sm = seed;
        let a = splitmix64(&mut sm);
        let b = splitmix64(&mut sm);
        let mut s = [a as u32, (a >> 32) as u32, b as u32, (b >> 32) as u32];
        if s == [0; 4] {
            s[0] = 1;
        }
        Self { s }
    }

    /// The next 32 random bits.
    #[inline]
    pub fn next_u32(&mut self) -> u32 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(7).wrapping_add(s[0]);
        let t = s[1] << 9;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(11);
        result
    }

    /// Uniform in `[0, 1)` with 24 bits of resolution (exact in f32).
    #[inline]
    pub fn uniform(&mut self) -> f32 {
        (self.next_u32() >> 8) as f32 * (1.0 / 16_777_216.0)
    }
}

/// Largest magnitude a [`Gaussian`] sample can take: `sqrt(-2 ln 2^-24)` ≈ 5.77 (the
/// smallest uniform the Box–Muller radius sees is 2^-24).
pub const GAUSSIAN_BOUND: f32 = 5.77;

/// Zero-mean, unit-variance Gaussian white noise (Box–Muller, both outputs used).
///
/// `r = sqrt(-2 ln u1)` with `u1 ∈ (0, 1]` on a 2^-24 grid and the angle taken directly
/// as a Q0.32 phase for [`math::sin_turns`]/[`math::cos_turns`]: no `f64`, no tables, the
/// same bits on every target. The tail is truncated at [`GAUSSIAN_BOUND`] (probability
/// of a larger value in a true Gaussian: 8e-9), which keeps every colour filter bounded.
#[derive(Clone, Debug, PartialEq)]
pub struct Gaussian {
    rng: Rng,
    spare: Option<f32>,
    seed: u64,
}

impl Gaussian {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            rng: Rng::new(seed),
            spare: None,
            seed,
        }
    }

    /// Back to the state right after `new`.
    pub fn reset(&mut self) {
        *self = Self::new(self.seed);
    }

    /// Restarts the sequence from another seed.
    pub fn reseed(&mut self, seed: u64) {
        *self = Self::new(seed);
    }

    /// The seed given to `new`/`reseed`.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The next sample.
    #[inline]
    pub fn next(&mut self) -> f32 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        let u1 = ((self.rng.next_u32() >> 8) + 1) as f32 * (1.0 / 16_777_216.0);
        let theta = self.rng.next_u32();
        let r = math::sqrtf(-2.0 * math::lnf(u1));
        self.spare = Some(r * math::sin_turns(theta));
        r * math::cos_turns(theta)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xoshiro_reference_sequence() {
        // Reference values of xoshiro128++ for the state [1, 2, 3, 4] (the authors'
        // C implementation).
        let mut r = Rng { s: [1, 2, 3, 4] };
        let got: Vec<u32> = (0..4).map(|_| r.next_u32()).collect();
        assert_eq!(got, vec![641, 1_573_767, 3_222_811_527, 3_517_856_514]);
    }

    #[test]
    fn seeds_reproduce_and_differ() {
        let a: Vec<f32> = {
            let mut g = Gaussian::new(7);
            (0..1000).map(|_| g.next()).collect()
        };
        let b: Vec<f32> = {
            let mut g = Gaussian::new(7);
            (0..1000).map(|_| g.next()).collect()
        };
        let c: Vec<f32> = {
            let mut g = Gaussian::new(8);
            (0..1000).map(|_| g.next()).collect()
        };
        assert!(a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()));
        assert!(a.iter().zip(&c).filter(|(x, y)| x != y).count() > 990);
        let mut g = Gaussian::new(7);
        for _ in 0..37 {
            g.next();
        }
        g.reset();
        assert_eq!(g.next().to_bits(), a[0].to_bits());
    }

    #[test]
    fn gaussian_moments_and_bound() {
        let mut g = Gaussian::new(DEFAULT_SEED);
        let n = 1_000_000;
        let (mut s1, mut s2, mut s4, mut max) = (0.0f64, 0.0f64, 0.0f64, 0.0f32);
        for _ in 0..n {
            let z = g.next();
            assert!(z.is_finite());
            max = max.max(z.abs());
            let z = z as f64;
            s1 += z;
            s2 += z * z;
            s4 += z * z * z * z;
        }
        let mean = s1 / n as f64;
        let var = s2 / n as f64 - mean * mean;
        let kurt = s4 / n as f64 / (var * var);
        assert!(mean.abs() < 3e-3, "mean {mean}");
        assert!((var - 1.0).abs() < 5e-3, "var {var}");
        assert!((kurt - 3.0).abs() < 0.05, "kurtosis {kurt}");
        assert!(max <= GAUSSIAN_BOUND, "max {max}");
    }
}
