//! `numpy.linspace` evaluated one element at a time, with NumPy's exact arithmetic
//! (`y[i] = i·step + start`, the last element forced to `stop` when the end point is
//! included). The original builds envelopes, fades and crossfade gains this way; doing
//! the same float64 operations reproduces its values bit for bit (VOICES.md §17.4).

/// Element `i` of `numpy.linspace(start, stop, num, endpoint)`. `i < num`.
#[inline]
pub fn linspace_at(start: f64, stop: f64, num: u64, endpoint: bool, i: u64) -> f64 {
    let div = if endpoint { num.saturating_sub(1) } else { num };
    if endpoint && num > 1 && i == num - 1 {
        return stop;
    }
    let delta = stop - start;
    if div == 0 {
        return i as f64 * delta + start;
    }
    let step = delta / div as f64;
    if step == 0.0 {
        (i as f64 / div as f64) * delta + start
    } else {
        i as f64 * step + start
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn endpoints() {
        assert_eq!(linspace_at(0.0, 1.0, 5, true, 4), 1.0);
        assert_eq!(linspace_at(0.0, 1.0, 5, true, 2), 0.5);
        assert_eq!(linspace_at(0.0, 1.0, 4, false, 2), 0.5);
        assert_eq!(linspace_at(3.0, 7.0, 1, true, 0), 3.0);
        assert_eq!(linspace_at(2.0, 2.0, 3, true, 1), 2.0);
    }
}
