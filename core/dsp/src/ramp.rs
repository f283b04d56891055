//! Transition ramps: the interpolation factor α of TRACK_FORMAT.md §7.3 and its curves.
//!
//! α is a function of the absolute sample index inside the step (never of a block
//! position), so the output does not depend on the block size, and it is evaluated with
//! the original's float64 formula (`t_i = i·D/N`), so it equals the original's α bit for
//! bit once rounded to f32. Outside the ramp (before `initial_offset`, after the end) α is
//! constant and no float work is done; callers may test [`Ramp::is_settled`].

use crate::math;

/// Maximum number of points in a piecewise-linear curve table (spec §7.3: 2..16).
pub const MAX_TABLE_POINTS: usize = 16;

/// The shape applied to the clipped α.
// The table variant is 132 bytes; curves are stored once per transition voice, never in
// the per-sample path, and a no_std core cannot box it.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Curve {
    /// `α`.
    Linear,
    /// `1 - (1 - α)²`: fast start, slow end.
    Logarithmic,
    /// `α²`: slow start, fast end.
    Exponential,
    /// `0.5 - 0.5·cos(πα)` (`"sine"`, `"ease_in_out"`).
    EaseInOut,
    /// `sin(απ/2)` (`"sin_quarter"`, and the README's expression `np.sin(alpha * np.pi / 2)`).
    SinQuarter,
    /// `α²(3 - 2α)`.
    Smoothstep,
    /// `α^K` (`"pow:K"`), K > 0.
    Pow(f64),
    /// Piecewise-linear table of `(α_in, α_out)` points, monotone in α_in, 2..16 points.
    Table(CurveTable),
}

/// A piecewise-linear curve (fixed capacity, no allocation).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CurveTable {
    /// Points `(α_in, α_out)`; only the first `len` are used.
    pub points: [(f32, f32); MAX_TABLE_POINTS],
    /// Number of points in use (2..=16).
    pub len: usize,
}

impl CurveTable {
    fn eval(&self, a: f64) -> f64 {
        let pts = &self.points[..self.len.clamp(1, MAX_TABLE_POINTS)];
        if a <= pts[0].0 as f64 {
            return pts[0].1 as f64;
        }
        for w in pts.windows(2) {
            let (x0, y0) = (w[0].0 as f64, w[0].1 as f64);
            let (x1, y1) = (w[1].0 as f64, w[1].1 as f64);
            if a <= x1 {
                if x1 <= x0 {
                    return y1;
                }
                return y0 + (y1 - y0) * (a - x0) / (x1 - x0);
            }
        }
        pts[pts.len() - 1].1 as f64
    }
}

impl Curve {
    /// Applies the curve to a clipped α ∈ [0, 1].
    #[inline]
    pub fn apply(&self, a: f64) -> f64 {
        match *self {
            Curve::Linear => a,
            Curve::Logarithmic => 1.0 - (1.0 - a) * (1.0 - a),
            Curve::Exponential => a * a,
            Curve::EaseInOut => 0.5 - 0.5 * math::cos(math::PI * a),
            Curve::SinQuarter => math::sin(a * math::PI / 2.0),
            Curve::Smoothstep => a * a * (3.0 - 2.0 * a),
            Curve::Pow(k) => math::pow(a, k),
            Curve::Table(ref t) => t.eval(a),
        }
    }
}

/// The timing of a transition inside a step (TRACK_FORMAT.md §7.2–7.3).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ramp {
    /// Seconds per sample inside the step: `D/N`.
    step: f64,
    start: f64,
    inv_span: f64,
    /// `span <= 0`: a jump at `start` (if `start < D`).
    jump: bool,
    jump_active: bool,
    /// First sample index whose raw α is > 0 (jump: == 1).
    first_moving: u64,
    /// First sample index whose raw α is 1 (u64::MAX if never).
    first_done: u64,
    curve: Curve,
    /// `curve(0)` and `curve(1)`, cached for the settled regions.
    at0: f64,
    at1: f64,
}

impl Ramp {
    /// The ramp of a step of `duration_s` seconds and `n` samples with the voice's
    /// `initial_offset`, `transition_duration` (None = to the end of the step) and curve.
    pub fn new(
        duration_s: f64,
        n: u64,
        initial_offset: f64,
        transition_duration: Option<f64>,
        curve: Curve,
    ) -> Self {
        let d = duration_s;
        let step = if n > 0 { d / n as f64 } else { 0.0 };
        let io = initial_offset.max(0.0);
        let td = match transition_duration {
            None => d - io,
            Some(td) => td,
        }
        .max(0.0);
        let start = io.min(d);
        let span = td.min((d - start).max(0.0));
        let mut r = Ramp {
            step,
            start,
            inv_span: if span > 0.0 { 1.0 / span } else { 0.0 },
            jump: span <= 0.0,
            jump_active: start < d,
            first_moving: 0,
            first_done: u64::MAX,
            curve,
            at0: curve.apply(0.0),
            at1: curve.apply(1.0),
        };
        // Both thresholds by binary search on the exact per-sample formula (monotone in i).
        r.first_moving = r.search(n, |x| x > 0.0);
        r.first_done = r.search(n, |x| x >= 1.0);
        if r.first_done >= n {
            r.first_done = u64::MAX;
        }
        r
    }

    /// A ramp that is at its end value from the first sample (a static voice).
    pub fn settled() -> Self {
        Ramp {
            step: 0.0,
            start: 0.0,
            inv_span: 0.0,
            jump: true,
            jump_active: true,
            first_moving: 0,
            first_done: 0,
            curve: Curve::Linear,
            at0: 0.0,
            at1: 1.0,
        }
    }

    fn search(&self, n: u64, pred: impl Fn(f64) -> bool) -> u64 {
        // smallest i in [0, n] with pred(raw(i)); n if none
        let (mut lo, mut hi) = (0u64, n);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if pred(self.raw(mid)) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        lo
    }

    /// Raw (pre-curve) α at sample `i`, the original's formula.
    #[inline]
    pub fn raw(&self, i: u64) -> f64 {
        let t = i as f64 * self.step;
        if self.jump {
            if self.jump_active && t >= self.start {
                1.0
            } else {
                0.0
            }
        } else {
            ((t - self.start) * self.inv_span).clamp(0.0, 1.0)
        }
    }

    /// α after the curve at a real-valued sample position `x` (the same formula on a
    /// continuous axis; used to integrate ramps in closed form when seeking).
    pub fn alpha_continuous(&self, x: f64) -> f64 {
        let raw = if self.jump {
            if self.jump_active && x * self.step >= self.start {
                1.0
            } else {
                0.0
            }
        } else {
            ((x * self.step - self.start) * self.inv_span).clamp(0.0, 1.0)
        };
        self.curve.apply(raw)
    }

    /// `Σ_{k=from}^{to-1} f(α(k))` by composite Simpson integration of `f(α(x))` over
    /// `[from - ½, to - ½]` (the midpoint rule's continuous counterpart). Inside a ramp α is
    /// smooth, so for the frequency sums of a seek this is accurate to ~1e-12 relative.
    pub fn sum_over(&self, from: u64, to: u64, f: impl Fn(f64) -> f64) -> f64 {
        if to <= from {
            return 0.0;
        }
        let len = to - from;
        if len <= 4096 {
            return (from..to).map(|k| f(self.alpha(k))).sum();
        }
        let a = from as f64 - 0.5;
        let b = to as f64 - 0.5;
        let panels = 1u64 << 14;
        let h = (b - a) / panels as f64;
        let g = |x: f64| f(self.alpha_continuous(x));
        let mut acc = g(a) + g(b);
        for j in 1..panels {
            let w = if j % 2 == 1 { 4.0 } else { 2.0 };
            acc += w * g(a + j as f64 * h);
        }
        acc * h / 3.0
    }

    /// α after the curve at sample `i`.
    #[inline]
    pub fn alpha(&self, i: u64) -> f64 {
        if i < self.first_moving {
            self.at0
        } else if i >= self.first_done {
            self.at1
        } else {
            self.curve.apply(self.raw(i))
        }
    }

    /// α at the end of the ramp (`curve(1)`, or 0 for a jump that never happens).
    pub fn final_alpha(&self) -> f64 {
        if self.jump && !self.jump_active {
            self.at0
        } else {
            self.at1
        }
    }

    /// First sample whose α differs from `α(0)` (`n` if none).
    pub fn first_moving(&self) -> u64 {
        self.first_moving
    }

    /// First sample from which α stays at its final value (`u64::MAX` if never in the step).
    pub fn first_done(&self) -> u64 {
        self.first_done
    }

    /// True when α is constant from sample `i` on (the transition has finished).
    #[inline]
    pub fn is_settled(&self, i: u64) -> bool {
        i >= self.first_done
    }

    /// True when α is constant on `[i, i + len)`.
    #[inline]
    pub fn is_constant_over(&self, i: u64, len: u64) -> bool {
        i >= self.first_done || i.saturating_add(len) <= self.first_moving
    }
}

/// Linear interpolation `start + (end - start)·α` (f64).
#[inline]
pub fn lerp(start: f64, end: f64, alpha: f64) -> f64 {
    start + (end - start) * alpha
}

/// One in the Q2.62 fixed point of [`FixedAlpha`].
pub const ALPHA_ONE: u64 = 1 << 62;

/// α of a ramp in Q2.62 fixed point (`2^62` = 1), by integer arithmetic only, for the
/// curves that are polynomials of the raw α (linear, logarithmic `1-(1-x)²`,
/// exponential `x²`: the original's three).
///
/// Why: [`Ramp::alpha`] is a dozen f64 operations per sample, each a soft-float call on
/// the Cortex-M4F, whose FPU is single precision; a transition voice cost 16 static ones
/// there. The raw α is affine in the sample index, so it is the value at the first
/// moving sample plus `k` times the per-sample slope, both rounded once to 2^-62; the
/// curve is one 64×64-bit product. Against the f64 formula the difference is at most
/// the slope's rounding (2^-63) times the ramp's length: 1e-11 for an hour-long ramp at
/// 44.1 kHz, 2e-10 Hz on a 20 Hz sweep, far below f32 resolution; and the same bits on
/// every target.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FixedAlpha {
    /// First sample of the ramp and the raw α there (Q2.62).
    m0: u64,
    raw0: u64,
    /// Raw α per sample (Q2.62).
    slope: u64,
    curve: FixedCurve,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum FixedCurve {
    Linear,
    Logarithmic,
    Exponential,
}

/// `a·b` in Q2.62 for `a, b ≤ 2^62`.
#[inline]
fn mul_q62(a: u64, b: u64) -> u64 {
    ((a as u128 * b as u128) >> 62) as u64
}

fn to_q62(x: f64) -> u64 {
    crate::math::floor(x.clamp(0.0, 2.0) * ALPHA_ONE as f64 + 0.5) as u64
}

impl FixedAlpha {
    /// α at sample `i` of the ramp (`i` in `[first_moving, first_done)`), Q2.62.
    #[inline]
    pub fn at(&self, i: u64) -> u64 {
        let k = i.wrapping_sub(self.m0);
        let raw = self
            .raw0
            .saturating_add(self.slope.saturating_mul(k))
            .min(ALPHA_ONE);
        match self.curve {
            FixedCurve::Linear => raw,
            FixedCurve::Exponential => mul_q62(raw, raw),
            FixedCurve::Logarithmic => {
                let r = ALPHA_ONE - raw;
                ALPHA_ONE - mul_q62(r, r)
            }
        }
    }
}

impl Ramp {
    /// The fixed-point α generator of this ramp, for a moving ramp with a linear,
    /// logarithmic or exponential curve (`None` otherwise: jumps, settled ramps, other
    /// curves).
    pub fn fixed_alpha(&self) -> Option<FixedAlpha> {
        let curve = match self.curve {
            Curve::Linear => FixedCurve::Linear,
            Curve::Logarithmic => FixedCurve::Logarithmic,
            Curve::Exponential => FixedCurve::Exponential,
            _ => return None,
        };
        if self.jump || self.first_moving >= self.first_done {
            return None;
        }
        Some(FixedAlpha {
            m0: self.first_moving,
            raw0: to_q62(self.raw(self.first_moving)),
            slope: to_q62(self.step * self.inv_span),
            curve,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fixed-point α equals the f64 formula within 1e-12 over short ramps and 2e-11
    /// over an hour-long one (the slope's rounding accumulates; see `FixedAlpha`), for
    /// each of the three curves; other curves and jumps have none.
    #[test]
    fn fixed_alpha_matches_f64() {
        for curve in [Curve::Linear, Curve::Logarithmic, Curve::Exponential] {
            for (d, n, io, td) in [
                (0.75, 33_075u64, 0.0, None),
                (0.75, 33_075, 0.1, Some(0.4)),
                (3600.0, 158_760_000, 60.0, Some(1800.0)),
                (30.0, 1_440_000, 0.0, Some(29.999)),
            ] {
                let r = Ramp::new(d, n, io, td, curve);
                let fx = r.fixed_alpha().unwrap();
                let (m0, m1) = (r.first_moving(), r.first_done().min(n));
                let stride = ((m1 - m0) / 20_000).max(1);
                let mut worst = 0.0f64;
                let mut i = m0;
                while i < m1 {
                    let got = fx.at(i) as f64 / ALPHA_ONE as f64;
                    worst = worst.max(crate::math::fabs(got - r.alpha(i)));
                    i += if i + stride < m1 { stride } else { 1 };
                }
                let tol = if n > 10_000_000 { 2e-11 } else { 1e-12 };
                assert!(worst < tol, "{curve:?} {d} {io}: {worst:e}");
            }
        }
        let r = Ramp::new(1.0, 100, 0.0, Some(0.0), Curve::Linear);
        assert!(r.fixed_alpha().is_none(), "a jump");
        let r = Ramp::new(1.0, 100, 0.0, None, Curve::EaseInOut);
        assert!(r.fixed_alpha().is_none());
        assert!(Ramp::settled().fixed_alpha().is_none());
    }

    #[test]
    fn window_and_curves() {
        // 1 s at 100 Hz, ramp from 0.2 s over 0.5 s
        let r = Ramp::new(1.0, 100, 0.2, Some(0.5), Curve::Linear);
        assert_eq!(r.alpha(0), 0.0);
        assert_eq!(r.alpha(20), 0.0);
        assert!((r.alpha(45) - 0.5).abs() < 1e-12);
        assert_eq!(r.alpha(70), 1.0);
        assert_eq!(r.alpha(99), 1.0);
        assert!(r.is_settled(70) && !r.is_settled(69));
        let l = Ramp::new(1.0, 100, 0.2, Some(0.5), Curve::Logarithmic);
        assert!((l.alpha(45) - 0.75).abs() < 1e-12);
        let e = Ramp::new(1.0, 100, 0.2, Some(0.5), Curve::Exponential);
        assert!((e.alpha(45) - 0.25).abs() < 1e-12);
    }

    #[test]
    fn zero_duration_is_a_jump() {
        let r = Ramp::new(1.0, 100, 0.3, Some(0.0), Curve::Linear);
        assert_eq!(r.alpha(29), 0.0);
        assert_eq!(r.alpha(30), 1.0);
        // offset past the end: never jumps
        let never = Ramp::new(1.0, 100, 2.0, Some(0.0), Curve::Linear);
        assert_eq!(never.alpha(99), 0.0);
    }

    #[test]
    fn whole_step_by_default() {
        let r = Ramp::new(1.0, 100, 0.0, None, Curve::Linear);
        assert_eq!(r.alpha(0), 0.0);
        assert!((r.alpha(50) - 0.5).abs() < 1e-12);
        assert!(r.alpha(99) < 1.0);
    }

    #[test]
    fn table_curve() {
        let mut pts = [(0.0, 0.0); MAX_TABLE_POINTS];
        pts[1] = (0.5, 0.8);
        pts[2] = (1.0, 1.0);
        let c = Curve::Table(CurveTable {
            points: pts,
            len: 3,
        });
        assert!((c.apply(0.25) - 0.4).abs() < 1e-7);
        assert!((c.apply(0.75) - 0.9).abs() < 1e-7);
    }
}
