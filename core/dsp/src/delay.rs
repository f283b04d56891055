//! Fractional delay-line reads as the original's flanger and spatializer do them
//! (VOICES.md §14.2 step 5, §15.3, §15.4), plus a correct cubic for the non-compatible
//! mode.
//!
//! The original indexes a ring of `M` samples with Python's float modulo and reads the
//! neighbours *older* than the integer position (`r1 = r0 - 1`), so its "linear" kernel
//! blends toward the older sample (the fractional part is mirrored) and its "Lagrange3"
//! kernel has coefficients that sum to 0.5 at `f = 0` and fall to 0 as `f → 1` (it halves
//! and amplitude-modulates the signal). Both are reproduced exactly for compatibility
//! ([`Interp::Linear`], [`Interp::Lagrange3`]); [`Interp::Cubic`] is a correct 4-point
//! Lagrange interpolator of the signal at the requested delay.
//!
//! Storage: callers keep the signal in a power-of-two ring indexed by the absolute sample
//! number, larger than the original's `M`, and translate the original's ring indices into
//! *lags* (`(w - q) mod M` samples back from the write position). Reads are then identical
//! to the original's for any `M` up to the ring's capacity, including the original's
//! wrap-around when a delay exceeds its ring.

use crate::math;

/// Interpolation kernel of a fractional delay read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Interp {
    /// The original's linear kernel (mode 0): `(1-f)·x[r0] + f·x[r0-1]` (mirrored).
    Linear,
    /// The original's "Lagrange3" kernel (mode 1, the spatializer's default): defective,
    /// coefficients summing to 0.5 at integer positions. Reproduced for compatibility.
    #[default]
    Lagrange3,
    /// A correct 4-point (cubic) Lagrange interpolator of the signal at the requested
    /// delay (not in the original; `"cubic"` in a track).
    Cubic,
}

/// Python's float modulo (`x % m` with the sign of `m`), as the original computes ring
/// positions: `fmod`, then `+ m` when the signs differ.
#[inline]
pub fn py_mod(x: f64, m: f64) -> f64 {
    let r = x % m;
    if r != 0.0 && ((r < 0.0) != (m < 0.0)) {
        r + m
    } else {
        r
    }
}

/// The original's "Lagrange3" weights `(c0, c1, c2, c3)` for taps `(r3, r2, r1, r0)`.
#[inline]
pub fn lagrange3_weights(mu: f64) -> [f64; 4] {
    let m = mu;
    let m1 = 1.0 - m;
    [
        -m * m1 * m1 / 6.0,
        (1.0 + m) * m1 * m1 / 2.0,
        m * (1.0 + m) * m1 / 2.0,
        -m * m * m1 / 6.0,
    ]
}

/// A read of the original's ring of `m` samples at float position `ri` (already reduced
/// modulo `m`), relative to the original's write index `w`: returns the lags of taps
/// `r0, r1, r2, r3` (`r_k = r0 - k mod m`) and the fraction `f`. The lag of ring index
/// `q` is `(w - q) mod m`.
#[inline]
pub fn taps(ri: f64, w: usize, m: usize) -> ([usize; 4], f64) {
    let r0f = math::floor(ri);
    let f = ri - r0f;
    let mut r0 = r0f as usize;
    if r0 >= m {
        // `ri` rounded up to `m` (Python's modulo can return m for tiny negative inputs);
        // numba would read past the ring, which cannot be reproduced: wrap instead.
        r0 -= m;
    }
    let lag = |q: usize| (w + m - q) % m;
    let r1 = (r0 + m - 1) % m;
    let r2 = (r1 + m - 1) % m;
    let r3 = (r2 + m - 1) % m;
    ([lag(r0), lag(r1), lag(r2), lag(r3)], f)
}

/// The original's kernels over taps read by `get(lag)`: linear (mirrored) or "Lagrange3".
#[inline]
pub fn read_compat(interp: Interp, lags: [usize; 4], f: f64, get: impl Fn(usize) -> f64) -> f64 {
    match interp {
        Interp::Linear => (1.0 - f) * get(lags[0]) + f * get(lags[1]),
        _ => {
            let c = lagrange3_weights(f);
            c[0] * get(lags[3]) + c[1] * get(lags[2]) + c[2] * get(lags[1]) + c[3] * get(lags[0])
        }
    }
}

/// The signal at fractional lag `lag` (samples back from the newest readable sample,
/// which has lag `min_lag`), by 4-point Lagrange interpolation on lags
/// `k-1, k, k+1, k+2` (`k = floor(lag)`), the stencil shifted so that it never touches a
/// lag below `min_lag` (near the newest sample it extrapolates slightly).
#[inline]
pub fn read_cubic(lag: f64, min_lag: usize, get: impl Fn(usize) -> f64) -> f64 {
    let lag = if lag < min_lag as f64 {
        min_lag as f64
    } else {
        lag
    };
    let k = math::floor(lag) as usize;
    let first = if k > min_lag { k - 1 } else { min_lag };
    // Position of `lag` relative to the stencil's first point, in [0, 3).
    let x = lag - first as f64;
    let y = [get(first), get(first + 1), get(first + 2), get(first + 3)];
    // Lagrange basis on nodes 0, 1, 2, 3.
    let (x0, x1, x2, x3) = (x, x - 1.0, x - 2.0, x - 3.0);
    let l0 = -(x1 * x2 * x3) / 6.0;
    let l1 = (x0 * x2 * x3) / 2.0;
    let l2 = -(x0 * x1 * x3) / 2.0;
    let l3 = (x0 * x1 * x2) / 6.0;
    l0 * y[0] + l1 * y[1] + l2 * y[2] + l3 * y[3]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_modulo() {
        assert_eq!(py_mod(-0.5, 12.0), 11.5);
        assert_eq!(py_mod(13.25, 12.0), 1.25);
        assert_eq!(py_mod(0.0, 12.0), 0.0);
    }

    #[test]
    fn lagrange3_is_defective_and_cubic_is_exact_on_cubics() {
        let c = lagrange3_weights(0.0);
        assert!((c.iter().sum::<f64>() - 0.5).abs() < 1e-15);
        let c = lagrange3_weights(0.999_999);
        assert!(c.iter().sum::<f64>().abs() < 1e-5);
        // a cubic polynomial of the lag is reproduced exactly
        let p = |k: f64| 0.3 - 0.2 * k + 0.05 * k * k - 0.01 * k * k * k;
        for &lag in &[1.0, 1.25, 2.5, 3.75, 7.1] {
            let v = read_cubic(lag, 1, |k| p(k as f64));
            assert!((v - p(lag)).abs() < 1e-12, "{lag}: {v} vs {}", p(lag));
        }
    }

    #[test]
    fn taps_match_the_original_ring_arithmetic() {
        // ring of 12, write index 3, position 0.25 → r0 = 0, r1 = 11, r2 = 10, r3 = 9
        let (lags, f) = taps(0.25, 3, 12);
        assert_eq!(lags, [3, 4, 5, 6]);
        assert_eq!(f, 0.25);
    }
}
