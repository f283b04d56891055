//! Small pieces shared by the voices of VOICES.md §3–§10 (monaural, qam, hybrid,
//! waveshaping, stereo AM, SAM monaural): the transition ramp of a voice, stateless
//! closed-form LFO phases, fine Q0.64 increments from f32, and positioning sums.
//!
//! Closed-form LFOs (`rate·t_i + offset`) are evaluated as `inc·i + off` on Q0.64
//! phases: wrapping integer arithmetic, so the phase at any sample is exact and the
//! same whatever the block size or seek history (no accumulator to seed).

use super::common::StepClock;
use crate::model::TransitionSpec;
use entrain_dsp::math;
use entrain_dsp::phase::turns_to_q64;
use entrain_dsp::ramp::Ramp;

/// 2^64 as f32 (exact).
const TWO_POW_64_F32: f32 = 18_446_744_073_709_551_616.0;

/// The ramp of a voice: the `_transition` timing, or settled (static voice).
pub fn voice_ramp(transition: Option<&TransitionSpec>, clock: &StepClock) -> Ramp {
    match transition {
        Some(t) => Ramp::new(
            clock.duration,
            clock.n,
            t.initial_offset,
            t.duration,
            t.curve,
        ),
        None => Ramp::settled(),
    }
}

/// Which parameter set applies at a sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Span {
    /// Before the ramp: the start values (α(0)).
    Before,
    /// Inside the ramp: parameters interpolated at α(i).
    Ramp,
    /// After the ramp (and always for a static voice): the final values.
    After,
}

/// The span of sample `i` (static voices are always [`Span::After`]).
#[inline]
pub fn span_of(ramp: &Ramp, transition: bool, i: u64) -> Span {
    if !transition || ramp.is_settled(i) {
        Span::After
    } else if ramp.is_constant_over(i, 1) {
        Span::Before
    } else {
        Span::Ramp
    }
}

/// Q0.64 phase of the closed-form LFO `inc·i + off`.
#[inline]
pub fn lfo(inc: u64, off: u64, i: u64) -> u64 {
    inc.wrapping_mul(i).wrapping_add(off)
}

/// Q0.64 increment of `rate_hz` over `dt` (a thin alias of [`turns_to_q64`]).
#[inline]
pub fn inc(rate_hz: f64, dt: f64) -> u64 {
    turns_to_q64(rate_hz * dt)
}

/// Q0.64 phase of an offset in radians.
#[inline]
pub fn rad(offset_rad: f64) -> u64 {
    turns_to_q64(offset_rad / math::TAU)
}

/// `sin` of a Q0.64 phase (f32, error 2e-7).
#[inline]
pub fn sin64(p: u64) -> f32 {
    math::sin_turns((p >> 32) as u32)
}

/// `cos` of a Q0.64 phase (f32, error 2e-7).
#[inline]
pub fn cos64(p: u64) -> f32 {
    math::cos_turns((p >> 32) as u32)
}

/// A small phase offset in radians (f32, |x| < 2^20) as a Q0.32 turn offset.
#[inline]
pub fn rad_turns_u32(x: f32) -> u32 {
    math::turns_f32(x * (1.0 / core::f32::consts::TAU))
}

/// A per-sample increment of `turns` (f32, |turns| < 0.5) in Q0.64, rounded to the f32
/// mantissa (relative 6e-8, unbiased) rather than truncated to 2^-32 turn: used for
/// frequency modulation, whose increment changes every sample, so that the phase does
/// not drift (a truncated 2^-32 increment drifts up to 4e-3 rad per minute).
#[inline]
pub fn fine_inc(turns: f32) -> u64 {
    ((turns * TWO_POW_64_F32) as i64) as u64
}

/// Σ of per-sample increments over samples `[from, to)` of a voice with ramp `ramp`:
/// constant `before`/`after` increments outside the ramp (exact products), `ramp_inc(α)`
/// summed one by one inside it. Used to position accumulated phases (seek).
pub fn sum_incs<const K: usize>(
    ramp: &Ramp,
    transition: bool,
    from: u64,
    to: u64,
    before: [u64; K],
    after: [u64; K],
    mut ramp_inc: impl FnMut(f64) -> [u64; K],
) -> [u64; K] {
    let mut acc = [0u64; K];
    if to <= from {
        return acc;
    }
    let add = |acc: &mut [u64; K], v: &[u64; K], n: u64| {
        for (a, x) in acc.iter_mut().zip(v) {
            *a = a.wrapping_add(x.wrapping_mul(n));
        }
    };
    if !transition {
        add(&mut acc, &after, to - from);
        return acc;
    }
    let m0 = ramp.first_moving().clamp(from, to);
    let m1 = ramp.first_done().clamp(m0, to);
    add(&mut acc, &before, m0 - from);
    for k in m0..m1 {
        let v = ramp_inc(ramp.alpha(k));
        add(&mut acc, &v, 1);
    }
    add(&mut acc, &after, to - m1);
    acc
}

#[cfg(test)]
mod tests {
    use super::*;
    use entrain_dsp::ramp::Curve;

    #[test]
    fn fine_increment_is_unbiased() {
        // 4 Hz of vibrato at 44.1 kHz for a minute: the fine increment drifts < 1e-9 turn.
        let x = 4.0f32 / 44100.0;
        let exact = (x as f64) * 44100.0 * 60.0;
        let mut acc = 0u64;
        for _ in 0..44100 * 60 {
            acc = acc.wrapping_add(fine_inc(x));
        }
        let got = acc as f64 / math::TWO_POW_64;
        let want = exact - math::floor(exact);
        assert!((got - want).abs() < 1e-9, "{got} vs {want}");
    }

    #[test]
    fn sums_match_stepping() {
        let clock = StepClock::new(1.0, 1000.0);
        let spec = TransitionSpec {
            initial_offset: 0.2,
            duration: Some(0.5),
            curve: Curve::Logarithmic,
        };
        let ramp = voice_ramp(Some(&spec), &clock);
        let f = |a: f64| [inc(100.0 + 50.0 * a, clock.dt)];
        let before = f(ramp.alpha(0));
        let after = f(ramp.final_alpha());
        for &(a, b) in &[
            (0u64, 1000u64),
            (0, 150),
            (250, 600),
            (699, 701),
            (800, 1000),
        ] {
            let mut want = 0u64;
            for k in a..b {
                let v = match span_of(&ramp, true, k) {
                    Span::Before => before,
                    Span::After => after,
                    Span::Ramp => f(ramp.alpha(k)),
                };
                want = want.wrapping_add(v[0]);
            }
            let got = sum_incs(&ramp, true, a, b, before, after, f)[0];
            assert_eq!(got, want, "{a}..{b}");
        }
    }
}

/// The three cheap checks of every unit (STYLE.md §8): block = per-sample (bit-exact),
/// reset reproduces, output finite and bounded; plus seek = render where given.
#[cfg(test)]
pub(crate) mod testing {
    use entrain_dsp::Frame;

    fn render<V>(
        v: &mut V,
        n: usize,
        block: usize,
        process: fn(&mut V, &mut [Frame]),
    ) -> Vec<Frame> {
        let mut out = vec![[0.0f32; 2]; n];
        for c in out.chunks_mut(block) {
            process(v, c);
        }
        out
    }

    fn bits(x: &[Frame]) -> Vec<[u32; 2]> {
        x.iter().map(|f| [f[0].to_bits(), f[1].to_bits()]).collect()
    }

    /// Runs the checks on a fresh voice `v` of `n` frames.
    pub fn unit_checks<V: Clone>(
        v: &V,
        n: usize,
        bound: f32,
        process: fn(&mut V, &mut [Frame]),
        reset: fn(&mut V),
        seek: Option<fn(&mut V, u64)>,
    ) {
        let mut a = v.clone();
        let reference = render(&mut a, n, 1, process);
        for &f in &reference {
            assert!(f[0].is_finite() && f[1].is_finite(), "non-finite output");
            assert!(
                f[0].abs() <= bound && f[1].abs() <= bound,
                "{f:?} above {bound}"
            );
        }
        assert!(
            reference.iter().any(|f| f[0] != 0.0 || f[1] != 0.0),
            "silent"
        );
        for block in [7usize, 64, 480] {
            let mut b = v.clone();
            assert!(
                bits(&render(&mut b, n, block, process)) == bits(&reference),
                "block {block} differs from per-sample"
            );
        }
        reset(&mut a);
        assert!(
            bits(&render(&mut a, n, 64, process)) == bits(&reference),
            "reset does not reproduce"
        );
        if let Some(seek) = seek {
            for &at in &[0usize, 1, n / 3, n / 2 + 17, n - 5] {
                let mut s = v.clone();
                // disturb the state first, then seek
                let _ = render(&mut s, 100.min(n), 13, process);
                seek(&mut s, at as u64);
                let got = render(&mut s, n - at, 64, process);
                let mut max = 0.0f32;
                for (g, r) in got.iter().zip(&reference[at..]) {
                    max = max.max((g[0] - r[0]).abs()).max((g[1] - r[1]).abs());
                }
                assert!(max < 1e-6, "seek to {at}: max error {max}");
            }
        }
    }
}
