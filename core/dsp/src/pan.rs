//! Equal-power panning (`pan2` of VOICES.md §0.1).

use crate::math;

/// Gains `(L, R)` of `pan2`: `pan` clipped to [-1, 1], `a = (pan + 1)·π/4`,
/// `L = cos a`, `R = sin a` (centre = 0.7071 each). Computed in f64 once per voice.
pub fn pan2_gains(pan: f64) -> (f32, f32) {
    let p = pan.clamp(-1.0, 1.0);
    let a = (p + 1.0) * core::f64::consts::FRAC_PI_4;
    (math::cos(a) as f32, math::sin(a) as f32)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn centre_and_edges() {
        let (l, r) = pan2_gains(0.0);
        assert!((l - core::f32::consts::FRAC_1_SQRT_2).abs() < 1e-7 && (l - r).abs() < 1e-7);
        let (l, r) = pan2_gains(-1.0);
        assert_eq!((l, r), (1.0, 0.0));
        let (l, r) = pan2_gains(5.0);
        assert!(l.abs() < 1e-7 && r == 1.0);
    }
}
