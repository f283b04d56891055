//! In-place iterative radix-2 complex FFT in f64 on caller-provided buffers (no
//! allocation). Used offline only: the phase alignment of crossfades in the compatible
//! render mode (TRACK_FORMAT.md §6.3), which needs the full cross-correlation of two
//! multi-second segments (an O(n²) direct correlation takes seconds per crossfade).

use crate::math;

/// A complex number `[re, im]`.
pub type Complex = [f64; 2];

/// In-place FFT of `x` (length a power of two); `inverse` computes the unnormalised
/// inverse transform. Lengths that are not a power of two are left untouched.
pub fn fft(x: &mut [Complex], inverse: bool) {
    let n = x.len();
    if n < 2 || !n.is_power_of_two() {
        return;
    }
    // bit reversal
    let bits = n.trailing_zeros();
    for i in 0..n {
        let j = i.reverse_bits() >> (usize::BITS - bits);
        if j > i {
            x.swap(i, j);
        }
    }
    let sign = if inverse { 1.0 } else { -1.0 };
    let mut len = 2;
    while len <= n {
        let ang = sign * math::TAU / len as f64;
        let (ws, wc) = (math::sin(ang), math::cos(ang));
        let half = len / 2;
        for start in (0..n).step_by(len) {
            // Twiddles by recurrence, re-anchored every 64 steps against drift.
            let (mut wr, mut wi) = (1.0f64, 0.0f64);
            for k in 0..half {
                if k % 64 == 0 && k > 0 {
                    let a = ang * k as f64;
                    wr = math::cos(a);
                    wi = math::sin(a);
                }
                let a = x[start + k];
                let b = x[start + k + half];
                let tr = b[0] * wr - b[1] * wi;
                let ti = b[0] * wi + b[1] * wr;
                x[start + k] = [a[0] + tr, a[1] + ti];
                x[start + k + half] = [a[0] - tr, a[1] - ti];
                let nwr = wr * wc - wi * ws;
                wi = wr * ws + wi * wc;
                wr = nwr;
            }
        }
        len <<= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn round_trip_and_impulse() {
        let n = 1024;
        let mut x: Vec<Complex> = (0..n)
            .map(|i| [((i * 7) % 13) as f64 - 6.0, (i % 5) as f64])
            .collect();
        let orig = x.clone();
        fft(&mut x, false);
        fft(&mut x, true);
        for (a, b) in x.iter().zip(orig.iter()) {
            assert!((a[0] / n as f64 - b[0]).abs() < 1e-9 && (a[1] / n as f64 - b[1]).abs() < 1e-9);
        }
        let mut d = vec![[0.0; 2]; 8];
        d[0] = [1.0, 0.0];
        fft(&mut d, false);
        assert!(d
            .iter()
            .all(|c| (c[0] - 1.0).abs() < 1e-12 && c[1].abs() < 1e-12));
    }
}
