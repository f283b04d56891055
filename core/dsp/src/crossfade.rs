//! Crossfade gains between consecutive steps (TRACK_FORMAT.md §6.2).
//!
//! For `X` crossfade samples and `k ∈ [0, X)`: linear `g_out = linspace(1, 0, X)[k]`,
//! `g_in = linspace(0, 1, X)[k]` (NumPy's float64 arithmetic, rounded to f32); equal power `θ = k/(X-1)·π/2`, `g_out = cos θ`, `g_in = sin θ`
//! (both end points included; for `X = 1`, `g_out = 1`, `g_in = 0`).
//!
//! The equal-power angle is formed in exact integer arithmetic as a Q0.32 phase and
//! evaluated with the f32 sine ([`crate::math::sin_turns`], error 2e-7), so the end points
//! are exact (`g_in` reaches 1.0) and a Cortex-M4F pays no f64 cost inside crossfades.

use crate::linspace::linspace_at;
use crate::math;

/// The crossfade law (`crossfade_curve`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum CrossfadeCurve {
    /// Linear gains (also any unknown curve name).
    #[default]
    Linear,
    /// `cos`/`sin` gains: constant power for uncorrelated signals.
    EqualPower,
}

impl CrossfadeCurve {
    /// `(g_out, g_in)` at sample `k` of an `x`-sample crossfade.
    #[inline]
    pub fn gains(self, k: u64, x: u64) -> (f32, f32) {
        if x <= 1 {
            return (1.0, 0.0);
        }
        match self {
            CrossfadeCurve::Linear => {
                let k = k.min(x - 1);
                (
                    linspace_at(1.0, 0.0, x, true, k) as f32,
                    linspace_at(0.0, 1.0, x, true, k) as f32,
                )
            }
            CrossfadeCurve::EqualPower => {
                if k + 1 >= x {
                    return (0.0, 1.0);
                }
                // θ in Q0.32 turns: k/(x-1) of a quarter turn, exact integer division.
                let phase = ((k << 30) / (x - 1)) as u32;
                (math::cos_turns(phase), math::sin_turns(phase))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn end_points() {
        for c in [CrossfadeCurve::Linear, CrossfadeCurve::EqualPower] {
            assert_eq!(c.gains(0, 100).1, 0.0);
            assert!((c.gains(0, 100).0 - 1.0).abs() < 3e-7);
            assert_eq!(c.gains(99, 100).1, 1.0);
            assert!(c.gains(99, 100).0.abs() < 3e-7);
            assert_eq!(c.gains(0, 1), (1.0, 0.0));
        }
    }

    #[test]
    fn equal_power_keeps_power() {
        for k in 0..1000 {
            let (o, i) = CrossfadeCurve::EqualPower.gains(k, 1000);
            assert!(((o * o + i * i) - 1.0).abs() < 1e-6);
        }
    }
}
