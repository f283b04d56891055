//! The one maths shim (STYLE.md §6).
//!
//! Call these as functions (`math::sinf(x)`), never as methods (`x.sin()`): with `std`
//! linked, inherent float methods shadow trait methods and host and firmware would
//! compute different bits.
//!
//! * `*_turns` functions take a phase as a fraction of a cycle in Q0.32 (`u32`,
//!   2^32 = one full turn) and are pure `f32` arithmetic: they are the hot-path sine on
//!   every target (libm's `sinf` costs ~2,000 instructions on a Cortex-M4F because it
//!   computes in f64 internally).
//! * f64 functions (`sin`, `exp`, `pow`, …) forward to libm. They are for parameter
//!   precomputation and for the few per-sample formulas that must match the original's
//!   float64 arithmetic (transition α, envelopes); libm is pure Rust, so they are
//!   deterministic on every target (soft-float on the M4F, slower but identical).

/// 2π in f64.
pub const TAU: f64 = core::f64::consts::TAU;
/// π in f64.
pub const PI: f64 = core::f64::consts::PI;
/// 2^32 as f64: the scale of a Q0.32 phase.
pub const TWO_POW_32: f64 = 4_294_967_296.0;
/// 2^32 as f32.
pub const TWO_POW_32_F32: f32 = 4_294_967_296.0;
/// 2^-32 as f32 (exact).
const TWO_POW_M32_F32: f32 = 1.0 / 4_294_967_296.0;
/// 2^64 as f64: the scale of a Q0.64 phase.
pub const TWO_POW_64: f64 = 18_446_744_073_709_551_616.0;

// Minimax-style odd polynomial for sin(2πx), x ∈ [-1/4, 1/4], evaluated as x·P(x²).
// Fitted by iteratively re-weighted least squares in float64 and rounded to f32.
// Measured error of the f32 Horner evaluation over 2,000,001 points: 2.0e-7 absolute
// (-134 dB), which is within 2 ulp of 1.0; the rounding of the f32 evaluation, not the
// polynomial, dominates (a 6-term fit measures the same).
#[allow(clippy::approx_constant)] // a fitted coefficient that happens to round near 2π
const S1: f32 = 6.283_185;
const S3: f32 = -41.341_656;
const S5: f32 = 81.601_006;
const S7: f32 = -76.549_78;
const S9: f32 = 39.536_705;

/// Sine of a Q0.32 phase: `sin(2π·phase/2^32)`, f32 only, max error 2.0e-7.
///
/// The phase is folded onto the quarter wave `[-1/4, 1/4]` with `sin(π - θ) = sin θ`
/// using exact integer arithmetic, then the odd polynomial is evaluated.
#[inline]
pub fn sin_turns(phase: u32) -> f32 {
    const QUARTER: i32 = 1 << 30;
    let s = phase as i32; // [-1/2, 1/2) turn
                          // For |s| > 1/4 turn: s' = ±1/2 - s; with wrapping arithmetic both signs are
                          // `i32::MIN - s` (e.g. s = 3/8 → -1/2 - 3/8 wraps to +1/8).
    let q = if !(-QUARTER..=QUARTER).contains(&s) {
        i32::MIN.wrapping_sub(s)
    } else {
        s
    };
    let x = q as f32 * TWO_POW_M32_F32;
    let x2 = x * x;
    let p = (((S9 * x2 + S7) * x2 + S5) * x2 + S3) * x2 + S1;
    x * p
}

/// Half-width, in Q0.32 phase units (2^-10 turn), of the windows around the sine's peaks
/// (a quarter and three quarters of a turn) outside which `|sin_turns|` is at most
/// [`SIN_TURNS_OFF_PEAK`]. A search for the largest sample of a sine may look inside the
/// windows only, once it found a sample above that value (the compatible analysis of a
/// plain binaural voice, `BinauralBeat::carrier_peak` in the engine).
pub const SIN_TURNS_PEAK_WINDOW: u32 = 1 << 22;

/// The largest `|sin_turns(phase)|` over the phases farther than
/// [`SIN_TURNS_PEAK_WINDOW`] from both peaks (0.9999812; `cos(2π·2^-10)` is 0.9999812
/// in f32 too). Exact, over every phase: `sin_turns_off_peak_bound_is_exact`.
pub const SIN_TURNS_OFF_PEAK: f32 = f32::from_bits(0x3f7f_fec5);

/// Cosine of a Q0.32 phase (`sin_turns` a quarter turn ahead).
#[inline]
pub fn cos_turns(phase: u32) -> f32 {
    sin_turns(phase.wrapping_add(1 << 30))
}

/// Converts a fraction of a turn in `[0, 1)` (f32) to a Q0.32 phase.
///
/// Values outside `[0, 1)` saturate (Rust `as` semantics, identical on every target);
/// callers pass wrapped values.
#[inline]
pub fn unit_to_turns(x: f32) -> u32 {
    (x * TWO_POW_32_F32) as u32
}

/// Converts a signed number of turns (f32, any magnitude) to a Q0.32 phase, wrapping.
#[inline]
pub fn turns_f32(x: f32) -> u32 {
    let f = x - floorf(x);
    unit_to_turns(f)
}

/// `sin(x)` for x in radians, f32 in and out, through [`sin_turns`].
///
/// Accuracy is limited by the f32 argument: for |x| ≤ 2π the error is ≤ 3e-7.
#[inline]
pub fn sinf(x: f32) -> f32 {
    sin_turns(turns_f32(x * (1.0 / core::f32::consts::TAU)))
}

/// `cos(x)` for x in radians, f32, through [`sin_turns`].
#[inline]
pub fn cosf(x: f32) -> f32 {
    cos_turns(turns_f32(x * (1.0 / core::f32::consts::TAU)))
}

/// Replaces NaN by 0.0 so that output bits (and hashes) are the same on every target:
/// NaN payloads differ between x86 and ARM.
#[inline]
pub fn canonical(x: f32) -> f32 {
    if x.is_nan() {
        0.0
    } else {
        x
    }
}

/// Flushes magnitudes below 1e-30 to zero (used on filter states: denormals are handled
/// in the algorithm, never by FTZ, STYLE.md §5).
#[inline]
pub fn flush_denormal(x: f32) -> f32 {
    if fabsf(x) < 1e-30 {
        0.0
    } else {
        x
    }
}

/// `peak` and the largest `|sample|` of the stereo `frames`, NaN ignored as `f32::max`
/// ignores it: the value of the serial fold `peak.max(|l|).max(|r|)` frame after frame,
/// computed in eight independent lanes that the compiler vectorises (the fold is one
/// chain of dependent maxima, ~3 % of a compatible render's CPU in the analysis). The
/// maximum of non-negative values is exact and, NaN ignored, independent of the order:
/// the same value bit for bit.
pub fn frames_peak(peak: f32, frames: &[[f32; 2]]) -> f32 {
    let mut lanes = [peak; 8];
    let mut quads = frames.chunks_exact(4);
    for q in quads.by_ref() {
        for (k, f) in q.iter().enumerate() {
            lanes[2 * k] = lanes[2 * k].max(fabsf(f[0]));
            lanes[2 * k + 1] = lanes[2 * k + 1].max(fabsf(f[1]));
        }
    }
    let mut p = lanes.iter().fold(peak, |a, &b| a.max(b));
    for f in quads.remainder() {
        p = p.max(fabsf(f[0])).max(fabsf(f[1]));
    }
    p
}

// ---- f32 forwards to libm -------------------------------------------------------------

/// `floor` (f32).
#[inline]
pub fn floorf(x: f32) -> f32 {
    libm::floorf(x)
}
/// `|x|` (f32).
#[inline]
pub fn fabsf(x: f32) -> f32 {
    libm::fabsf(x)
}
/// `sqrt` (f32, correctly rounded).
#[inline]
pub fn sqrtf(x: f32) -> f32 {
    libm::sqrtf(x)
}
/// `exp` (f32).
#[inline]
pub fn expf(x: f32) -> f32 {
    libm::expf(x)
}
/// Natural logarithm (f32).
#[inline]
pub fn lnf(x: f32) -> f32 {
    libm::logf(x)
}
/// `tanh` (f32).
#[inline]
pub fn tanhf(x: f32) -> f32 {
    libm::tanhf(x)
}
/// `pow` (f32).
#[inline]
pub fn powf(x: f32, y: f32) -> f32 {
    libm::powf(x, y)
}

// ---- f64 forwards to libm (precomputation and float64-exact formulas) -------------------

/// `sin` (f64).
#[inline]
pub fn sin(x: f64) -> f64 {
    libm::sin(x)
}
/// `cos` (f64).
#[inline]
pub fn cos(x: f64) -> f64 {
    libm::cos(x)
}
/// `tan` (f64).
#[inline]
pub fn tan(x: f64) -> f64 {
    libm::tan(x)
}
/// `atan2` (f64).
#[inline]
pub fn atan2(y: f64, x: f64) -> f64 {
    libm::atan2(y, x)
}
/// `exp` (f64).
#[inline]
pub fn exp(x: f64) -> f64 {
    libm::exp(x)
}
/// `ln` (f64).
#[inline]
pub fn ln(x: f64) -> f64 {
    libm::log(x)
}
/// `pow` (f64).
#[inline]
pub fn pow(x: f64, y: f64) -> f64 {
    libm::pow(x, y)
}
/// `sqrt` (f64).
#[inline]
pub fn sqrt(x: f64) -> f64 {
    libm::sqrt(x)
}
/// `floor` (f64).
#[inline]
pub fn floor(x: f64) -> f64 {
    libm::floor(x)
}
/// `ceil` (f64).
#[inline]
pub fn ceil(x: f64) -> f64 {
    libm::ceil(x)
}
/// `round` half away from zero (f64).
#[inline]
pub fn round(x: f64) -> f64 {
    libm::round(x)
}
/// Round half to even (f64): Python's `round()` and NumPy's `rint`.
#[inline]
pub fn rint(x: f64) -> f64 {
    libm::rint(x)
}
/// `|x|` (f64).
#[inline]
pub fn fabs(x: f64) -> f64 {
    libm::fabs(x)
}
/// `x - floor(x)`, in `[0, 1)` for finite x (also for negative x).
#[inline]
pub fn frac(x: f64) -> f64 {
    x - libm::floor(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `frames_peak` is the serial fold's value for every length (the lanes and the
    /// remainder), with NaN, infinities, signed zeros and subnormals anywhere, from a zero
    /// and a non-zero starting peak.
    #[test]
    fn frames_peak_equals_the_serial_fold() {
        let special = [
            f32::NAN,
            -f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            -0.0,
            0.0,
            1e-40,
            -3.0,
        ];
        let mut seed = 0x9e37_79b9_u32;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed
        };
        for case in 0..600 {
            let n = case % 23;
            let frames: [[f32; 2]; 23] = core::array::from_fn(|_| {
                core::array::from_fn(|_| {
                    let r = next();
                    if r % 5 == 0 {
                        special[(r / 5) as usize % special.len()]
                    } else {
                        (r as f32 / u32::MAX as f32 - 0.5) * 4.0
                    }
                })
            });
            let start = if case % 3 == 0 { 0.0 } else { 1.5 };
            let want = frames[..n]
                .iter()
                .fold(start, |p: f32, f| p.max(fabsf(f[0])).max(fabsf(f[1])));
            let got = frames_peak(start, &frames[..n]);
            assert_eq!(
                got.to_bits(),
                want.to_bits(),
                "case {case}: {:?}",
                &frames[..n]
            );
        }
    }

    #[test]
    fn sin_turns_accuracy_over_a_dense_grid() {
        let mut max = 0.0f64;
        // every 4099th phase (coprime stride) plus the quadrant edges
        let mut p: u32 = 0;
        for _ in 0..1_100_000 {
            let y = sin_turns(p) as f64;
            let r = libm::sin(p as f64 / TWO_POW_32 * TAU);
            max = max.max((y - r).abs());
            p = p.wrapping_add(3_904_399);
        }
        for &p in &[
            0u32,
            1 << 30,
            1 << 31,
            3 << 30,
            u32::MAX,
            (1 << 30) + 1,
            (1 << 30) - 1,
        ] {
            let y = sin_turns(p) as f64;
            let r = libm::sin(p as f64 / TWO_POW_32 * TAU);
            max = max.max((y - r).abs());
        }
        assert!(max < 2.5e-7, "max error {max}");
    }

    /// [`SIN_TURNS_OFF_PEAK`] is the maximum of `|sin_turns|` outside the peak windows.
    /// Every phase folds to `q ∈ [-2^30, 2^30]` (`|q| = 2^30` at a peak, so a phase
    /// farther than the window from both peaks has `|q| ≤ 2^30 - W - 1`), and the
    /// polynomial sees `q as f32`, an odd function of it (`x·P(x²)`, exact under negation:
    /// `sin_turns_symmetry_and_special_points`). Conversion to f32 is monotonic, so the
    /// magnitudes are those of `sin_turns(v)` for each distinct `v = q as f32` up to
    /// `(2^30 - W - 1) as f32`: every integer below 2^24, then every f32 (all integers
    /// there): about 2^26 evaluations instead of 2^32, over a superset of the outputs.
    #[test]
    fn sin_turns_off_peak_bound_is_exact() {
        let limit = (1u32 << 30) - SIN_TURNS_PEAK_WINDOW - 1;
        let mut max = 0.0f32;
        let mut see = |q: u32| max = max.max(fabsf(sin_turns(q)));
        for q in 0..1u32 << 24 {
            see(q);
        }
        for bits in ((1u32 << 24) as f32).to_bits()..=(limit as f32).to_bits() {
            see(f32::from_bits(bits) as u32);
        }
        assert_eq!(max.to_bits(), SIN_TURNS_OFF_PEAK.to_bits(), "{max:e}");
        // The bound is tight: a little inside a window (2^16 phase units, a few f32 steps
        // of the sine there) the sine exceeds it, at both peaks.
        let inside = (1u32 << 30) - SIN_TURNS_PEAK_WINDOW + (1 << 16);
        assert!(fabsf(sin_turns(inside)) > SIN_TURNS_OFF_PEAK);
        assert!(fabsf(sin_turns(inside.wrapping_add(1 << 31))) > SIN_TURNS_OFF_PEAK);
    }

    #[test]
    fn sin_turns_symmetry_and_special_points() {
        assert_eq!(sin_turns(0), 0.0);
        assert!((sin_turns(1 << 30) - 1.0).abs() < 2e-7);
        assert!((sin_turns(3 << 30) + 1.0).abs() < 2e-7);
        assert!(sin_turns(1 << 31).abs() < 1e-7);
        for p in [12345u32, 1 << 29, 987_654_321] {
            assert_eq!(sin_turns(p), -sin_turns(p.wrapping_neg()));
        }
    }

    #[test]
    fn radians_wrappers() {
        for i in -100..100 {
            let x = i as f32 * 0.173;
            assert!((sinf(x) as f64 - (x as f64).sin()).abs() < 3e-6, "{x}");
            assert!((cosf(x) as f64 - (x as f64).cos()).abs() < 3e-6, "{x}");
        }
    }

    #[test]
    fn canonical_nan() {
        assert_eq!(canonical(f32::NAN).to_bits(), 0);
        assert_eq!(canonical(-1.5), -1.5);
    }
}
