//! Waveshapes of VOICES.md §0.1: the skewed sine and skewed triangle used by the AM and
//! vibrato LFOs, and the pulse trapezoid of the isochronic tone.

use crate::math;

/// A precomputed skew: `w = clamp(0.5 + 0.5·k, 1e-9, 1 - 1e-9)` is the fraction of the
/// cycle spent in the first half-wave (VOICES.md §0.1 `skew_sine`/`skew_tri`).
///
/// `k = 0` is the plain (symmetric) waveform and takes a fast path that reads the phase
/// directly.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Skew {
    w: f32,
    /// 1/(2w): turns of the positive half-wave per unit of cycle position.
    inv_2w: f32,
    /// 1/(2(1-w)).
    inv_2_1mw: f32,
    /// 1/w and 1/(1-w) for the triangle.
    inv_w: f32,
    inv_1mw: f32,
    symmetric: bool,
}

impl Skew {
    /// Precomputes the skew `k` (-1..1; clamped through `w` as the original does).
    pub fn new(k: f32) -> Self {
        // In f32, 1 - 1e-9 rounds to 1.0; w = 1 is still safe because p < 1 always
        // selects the first branch.
        let w = (0.5 + 0.5 * k).clamp(1e-9, 1.0 - 1e-9);
        let omw = 1.0 - w;
        Self {
            w,
            inv_2w: 0.5 / w,
            inv_2_1mw: if omw > 0.0 { 0.5 / omw } else { 0.0 },
            inv_w: 1.0 / w,
            inv_1mw: if omw > 0.0 { 1.0 / omw } else { 0.0 },
            symmetric: k == 0.0,
        }
    }

    /// True for skew 0 (the plain sine and the symmetric triangle).
    #[inline]
    pub fn is_symmetric(&self) -> bool {
        self.symmetric
    }

    /// The cycle position `w` of the rising half's end (the triangle's peak), in (0, 1].
    #[inline]
    pub fn w(&self) -> f32 {
        self.w
    }

    /// [`Skew::sine`] at the cycle position of a Q0.64 phase, `p = (phase >> 40)·2^-24`
    /// (24 bits, as the voices sample their LFOs). Without skew the Q0.32 sine phase is
    /// taken from the integer directly (`(phase >> 40) << 8`, exactly what
    /// `unit_to_turns(p)` gives), so block kernels vectorise it; the same bits as
    /// `sine(p)`.
    #[inline]
    pub fn sine_q64(&self, phase: u64) -> f32 {
        if self.symmetric {
            sine_q64_24(phase)
        } else {
            self.sine(((phase >> 40) as u32) as f32 * (1.0 / 16_777_216.0))
        }
    }

    /// `skew_sine(p, k)` for a cycle position `p ∈ [0, 1)`.
    #[inline]
    pub fn sine(&self, p: f32) -> f32 {
        if self.symmetric {
            return math::sin_turns(math::unit_to_turns(p));
        }
        // One sine of the selected half-wave argument, negated on the second half: the
        // same bits as evaluating the branches separately, and a select instead of a
        // branch in vectorised loops.
        let rising = p < self.w;
        let arg = if rising {
            p * self.inv_2w
        } else {
            (p - self.w) * self.inv_2_1mw
        };
        let s = math::sin_turns(math::unit_to_turns(arg));
        if rising {
            s
        } else {
            -s
        }
    }

    /// `skew_tri(p, k)`: starts at -1, rises to +1 at `p = w`, falls back.
    #[inline]
    pub fn triangle(&self, p: f32) -> f32 {
        if p < self.w {
            -1.0 + 2.0 * p * self.inv_w
        } else {
            1.0 - 2.0 * (p - self.w) * self.inv_1mw
        }
    }
}

/// The unskewed sine at the 24-bit cycle position of a Q0.64 phase: [`Skew::sine_q64`]
/// for skew 0, with no branch (block kernels call it after checking the skew once).
#[inline]
pub fn sine_q64_24(phase: u64) -> f32 {
    sine_cycle24((phase >> 40) as u32)
}

/// [`sine_q64_24`] of a 24-bit cycle position already taken from its phase
/// (`phase >> 40`), for kernels that hold the positions in a u32 array.
#[inline]
pub fn sine_cycle24(c: u32) -> f32 {
    math::sin_turns(c << 8)
}

/// LFO waveform selectable by `freqOscShape` and similar keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum LfoShape {
    /// Skewed sine (default).
    #[default]
    Sine,
    /// Skewed triangle.
    Triangle,
}

impl LfoShape {
    /// Evaluates the shape at cycle position `p` with skew `s`.
    #[inline]
    pub fn eval(self, p: f32, s: &Skew) -> f32 {
        match self {
            LfoShape::Sine => s.sine(p),
            LfoShape::Triangle => s.triangle(p),
        }
    }
}

/// The isochronic trapezoid `trap(τ, C, r, g)` of VOICES.md §0.1, written in units of
/// the cycle (τ/C = `pos` ∈ [0, 1)) so that the cycle length never has to be formed.
///
/// Returns 0 for a cycle position in the gap, ramps up over the first `U`, holds 1 and
/// ramps down over the last `U` of the audible part `A = 1 - gap`, where the two ramps
/// together take `min(2·A·ramp, A)`. Ramp and gap are clipped to [0, 1] as in the
/// vectorized original.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Trapezoid {
    a: f32,
    u: f32,
    e: f32,
    inv_u: f32,
}

impl Trapezoid {
    /// Precomputes the pulse shape.
    pub fn new(ramp: f32, gap: f32) -> Self {
        let ramp = ramp.clamp(0.0, 1.0);
        let gap = gap.clamp(0.0, 1.0);
        let a = 1.0 - gap;
        let rt = (2.0 * a * ramp).min(a).max(0.0);
        let u = rt * 0.5;
        let e = u + (a - rt);
        Self {
            a,
            u,
            e,
            inv_u: if u > 0.0 { 1.0 / u } else { 0.0 },
        }
    }

    /// Gain at cycle position `pos` ∈ [0, 1).
    #[inline]
    pub fn at(&self, pos: f32) -> f32 {
        if self.a <= 0.0 || pos >= self.a {
            0.0
        } else if pos < self.u {
            pos * self.inv_u
        } else if pos < self.e {
            1.0
        } else if self.u > 0.0 {
            (1.0 - (pos - self.e) * self.inv_u).clamp(0.0, 1.0)
        } else {
            0.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skew_sine_ref(p: f64, k: f64) -> f64 {
        let w = (0.5 + 0.5 * k).clamp(1e-9, 1.0 - 1e-9);
        if p < w {
            (core::f64::consts::PI * p / w).sin()
        } else {
            (core::f64::consts::PI * (1.0 + (p - w) / (1.0 - w))).sin()
        }
    }

    #[test]
    fn skew_sine_matches_reference_formula() {
        for &k in &[0.0f32, 0.5, -0.5, 0.9, -0.99, 1.0, -1.0] {
            let s = Skew::new(k);
            for i in 0..1000 {
                let p = i as f32 / 1000.0;
                let err = (s.sine(p) as f64 - skew_sine_ref(p as f64, k as f64)).abs();
                assert!(err < 2e-6, "k={k} p={p} err={err}");
            }
        }
    }

    #[test]
    fn skew_triangle_corners() {
        let s = Skew::new(0.0);
        assert_eq!(s.triangle(0.0), -1.0);
        assert_eq!(s.triangle(0.5), 1.0);
        assert_eq!(s.triangle(0.25), 0.0);
    }

    #[test]
    fn trapezoid_shape() {
        // gap 0.15, ramp 0.2 (the defaults): A = 0.85, ramps of 0.17 each... /2 → U=0.17
        let t = Trapezoid::new(0.2, 0.15);
        assert_eq!(t.at(0.0), 0.0);
        assert!((t.at(0.085) - 0.5).abs() < 1e-6);
        assert_eq!(t.at(0.4), 1.0);
        assert_eq!(t.at(0.9), 0.0);
        // no gap and no ramp: always on
        let sq = Trapezoid::new(0.0, 0.0);
        assert_eq!(sq.at(0.5), 1.0);
    }
}
