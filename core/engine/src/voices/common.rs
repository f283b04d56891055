//! Shared pieces of the voices: the step clock, closed-form LFO phases, the vibrato
//! integral used to position a carrier anywhere without rendering what precedes it.

use entrain_dsp::math;
use entrain_dsp::osc::LfoShape;
use entrain_dsp::phase::turns_to_q64;

/// Time base of one step (VOICES.md §0.1 "Sample grid").
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepClock {
    /// Sample rate, Hz.
    pub sr: f64,
    /// Samples in the step: `N = floor(D·sr)`.
    pub n: u64,
    /// Step duration `D`, s.
    pub duration: f64,
    /// `D/N`: the original's `t_i = i·D/N` grid (equals `1/sr` when `D·sr` is an integer).
    pub dt: f64,
}

impl StepClock {
    /// The clock of a step of `duration` seconds at `sr`.
    pub fn new(duration: f64, sr: f64) -> Self {
        let nf = math::floor(duration * sr);
        let n = if nf > 0.0 { nf as u64 } else { 0 };
        let dt = if n > 0 { duration / n as f64 } else { 1.0 / sr };
        Self {
            sr,
            n,
            duration,
            dt,
        }
    }
}

/// Q0.64 phase of a closed-form LFO `frac(rate·t_i + offset/2π)` at sample `i`
/// (`t_i = i·dt`). Exact to ~1e-12 turn for any `i` of a 10-hour step.
#[inline]
pub fn closed_phase(rate_hz: f64, dt: f64, offset_rad: f64, i: u64) -> u64 {
    turns_to_q64(rate_hz * dt)
        .wrapping_mul(i)
        .wrapping_add(turns_to_q64(offset_rad / math::TAU))
}

/// Q0.64 phase → cycle position in `[0, 1)` (f32, 24 bits).
#[inline]
pub fn unit(p: u64) -> f32 {
    ((p >> 40) as u32) as f32 * (1.0 / 16_777_216.0)
}

/// The AM gain `1 - depth·0.5·(1 + w)` of binaural and isochronic (VOICES.md §1.2).
#[inline]
pub fn am_gain(depth: f32, w: f32) -> f32 {
    1.0 - depth * 0.5 * (1.0 + w)
}

/// Antiderivative of one cycle of the skewed waveform, `F(p) = ∫_0^p W(v) dv`
/// (p ∈ [0, 1]), and the cycle mean `M = F(1)`; f64, for positioning only.
fn cycle_integral(shape: LfoShape, skew: f64, p: f64) -> f64 {
    let w = (0.5 + 0.5 * skew).clamp(1e-9, 1.0 - 1e-9);
    match shape {
        LfoShape::Sine => {
            if p < w {
                (w / math::PI) * (1.0 - math::cos(math::PI * p / w))
            } else {
                let fw = 2.0 * w / math::PI;
                fw - ((1.0 - w) / math::PI) * (1.0 - math::cos(math::PI * (p - w) / (1.0 - w)))
            }
        }
        LfoShape::Triangle => {
            if p < w {
                -p + p * p / w
            } else {
                let q = p - w;
                q - q * q / (1.0 - w)
            }
        }
    }
}

/// `G(u) = ∫_0^u W(frac(v)) dv` for any real `u` (cycles).
fn periodic_integral(shape: LfoShape, skew: f64, u: f64) -> f64 {
    let whole = math::floor(u);
    whole * cycle_integral(shape, skew, 1.0) + cycle_integral(shape, skew, u - whole)
}

/// Σ_{k=0}^{i-1} W(frac(θ0 + k·δ)) in closed form by the midpoint rule
/// `∫_{-1/2}^{i-1/2}` (error O(δ²) per cycle: ~1e-11 of a turn for vibrato rates).
/// Used only to position a carrier with vibrato at sample `i` (seek).
pub fn shape_sum(shape: LfoShape, skew: f64, theta0: f64, delta: f64, i: u64) -> f64 {
    if i == 0 {
        return 0.0;
    }
    if delta == 0.0 {
        return i as f64 * waveform(shape, skew, math::frac(theta0));
    }
    let a = theta0 - 0.5 * delta;
    let b = theta0 + (i as f64 - 0.5) * delta;
    (periodic_integral(shape, skew, b) - periodic_integral(shape, skew, a)) / delta
}

/// The skewed waveform in f64 (positioning only).
fn waveform(shape: LfoShape, skew: f64, p: f64) -> f64 {
    let w = (0.5 + 0.5 * skew).clamp(1e-9, 1.0 - 1e-9);
    match shape {
        LfoShape::Sine => {
            if p < w {
                math::sin(math::PI * p / w)
            } else {
                math::sin(math::PI * (1.0 + (p - w) / (1.0 - w)))
            }
        }
        LfoShape::Triangle => {
            if p < w {
                -1.0 + 2.0 * p / w
            } else {
                1.0 - 2.0 * (p - w) / (1.0 - w)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_sum_matches_direct_sum() {
        for &(shape, skew) in &[
            (LfoShape::Sine, 0.0),
            (LfoShape::Sine, 0.6),
            (LfoShape::Sine, -0.3),
            (LfoShape::Triangle, 0.0),
            (LfoShape::Triangle, 0.5),
        ] {
            let theta0 = 0.37;
            let delta = 2.0 / 44100.0;
            let n = 100_000u64;
            let mut direct = 0.0;
            for k in 0..n {
                direct += waveform(shape, skew, math::frac(theta0 + k as f64 * delta));
            }
            let closed = shape_sum(shape, skew, theta0, delta, n);
            assert!(
                (direct - closed).abs() < 1e-3,
                "{shape:?} {skew}: {direct} vs {closed}"
            );
        }
    }

    #[test]
    fn clock_truncates_like_int() {
        let c = StepClock::new(0.7, 44100.0);
        assert_eq!(c.n, 30869);
        assert!((c.dt - 0.7 / 30869.0).abs() < 1e-18);
    }
}
