//! Noise statistics of the reference README ("random noise"): per-channel RMS, peak, DC,
//! third-octave levels (Welch, Hann, 50 % overlap), their slope over 100 Hz–8 kHz, and
//! the notch trajectory (per-frame spectral minimum, 4096 Hann, hop 2048, 5-bin smoothing).
//! Shared by `golden_noise.rs` (background generator) and `noise_voices.rs` (the voices).

use entrain_dsp::fft::{fft, Complex};
use entrain_dsp::Frame;

/// Welch power spectrum (Hann, 50 % overlap) of `x`, `seg` a power of two; bins 0..=seg/2.
pub fn welch(x: &[f64], seg: usize) -> Vec<f64> {
    let mut acc = vec![0.0f64; seg / 2 + 1];
    let win: Vec<f64> = (0..seg)
        .map(|i| 0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / seg as f64).cos())
        .collect();
    let mut buf: Vec<Complex> = vec![[0.0; 2]; seg];
    let mut start = 0;
    let mut count = 0;
    while start + seg <= x.len() {
        for i in 0..seg {
            buf[i] = [x[start + i] * win[i], 0.0];
        }
        fft(&mut buf, false);
        for (k, a) in acc.iter_mut().enumerate() {
            *a += buf[k][0] * buf[k][0] + buf[k][1] * buf[k][1];
        }
        start += seg / 2;
        count += 1;
    }
    for a in acc.iter_mut() {
        *a /= count.max(1) as f64;
    }
    acc
}

/// Third-octave band levels `(centre, dB)`, scaled so the bands sum to `mean(x²)`.
pub fn third_octaves(x: &[f64], sr: f64) -> Vec<(f64, f64)> {
    let seg = 16384.min(x.len().next_power_of_two() / 2).max(1024);
    let p = welch(x, seg);
    let total: f64 = p.iter().sum();
    let ms = x.iter().map(|v| v * v).sum::<f64>() / x.len() as f64;
    let mut out = Vec::new();
    for k in -30i32..20 {
        let fc = 1000.0 * 2f64.powf(k as f64 / 3.0);
        let (lo, hi) = (fc * 2f64.powf(-1.0 / 6.0), fc * 2f64.powf(1.0 / 6.0));
        if hi > sr / 2.0 || fc < 20.0 {
            continue;
        }
        let mut band = 0.0;
        for (b, v) in p.iter().enumerate() {
            let f = b as f64 * sr / seg as f64;
            if f >= lo && f < hi {
                band += v;
            }
        }
        let lvl = if band > 0.0 {
            10.0 * (ms * band / total).log10()
        } else {
            -300.0
        };
        out.push((fc, lvl));
    }
    out
}

/// Least-squares slope of `bands` over 100 Hz–8 kHz, dB per octave.
pub fn slope(bands: &[(f64, f64)]) -> f64 {
    let pts: Vec<(f64, f64)> = bands
        .iter()
        .filter(|(f, l)| *f >= 100.0 && *f <= 8000.0 && *l > -299.0)
        .map(|(f, l)| (f.log2(), *l))
        .collect();
    let n = pts.len() as f64;
    let mx = pts.iter().map(|p| p.0).sum::<f64>() / n;
    let my = pts.iter().map(|p| p.1).sum::<f64>() / n;
    let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx) * (p.0 - mx)).sum();
    sxy / sxx
}

/// Per-frame spectral minimum inside `[0.8·lo, 1.2·hi]` (4096 Hann, hop 2048, 5-bin smoothing).
pub fn notch_track(x: &[f64], sr: f64, lo: f64, hi: f64) -> Vec<f64> {
    let n = 4096;
    let win: Vec<f64> = (0..n)
        .map(|i| 0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / (n - 1) as f64).cos())
        .collect();
    let mut out = Vec::new();
    let mut buf: Vec<Complex> = vec![[0.0; 2]; n];
    let mut s = 0;
    while s + n <= x.len() {
        for i in 0..n {
            buf[i] = [x[s + i] * win[i], 0.0];
        }
        fft(&mut buf, false);
        let mag: Vec<f64> = (0..=n / 2)
            .map(|k| (buf[k][0] * buf[k][0] + buf[k][1] * buf[k][1]).sqrt())
            .collect();
        let (kl, kh) = (
            ((0.8 * lo) * n as f64 / sr).ceil() as usize,
            ((1.2 * hi) * n as f64 / sr).floor() as usize,
        );
        let mut best = (f64::INFINITY, 0usize);
        for k in kl.max(2)..=kh.min(n / 2 - 2) {
            let m = (mag[k - 2] + mag[k - 1] + mag[k] + mag[k + 1] + mag[k + 2]) / 5.0;
            if m < best.0 {
                best = (m, k);
            }
        }
        out.push(best.1 as f64 * sr / n as f64);
        s += n / 2;
    }
    out
}

/// Median (upper) of `v`.
pub fn median(v: &[f64]) -> f64 {
    let mut w = v.to_vec();
    w.sort_by(f64::total_cmp);
    if w.is_empty() {
        0.0
    } else {
        w[w.len() / 2]
    }
}

/// Statistics of one channel.
#[derive(Debug, Clone)]
pub struct Stats {
    /// RMS.
    pub rms: f64,
    /// Largest |x|.
    pub peak: f64,
    /// Mean (DC).
    pub mean: f64,
    /// Third-octave levels `(centre Hz, dB)`.
    pub bands: Vec<(f64, f64)>,
    /// Least-squares slope of the bands over 100 Hz–8 kHz, dB/octave.
    pub slope: f64,
}

/// The statistics of `x` at `sr`.
pub fn stats(x: &[f64], sr: f64) -> Stats {
    let n = x.len() as f64;
    let bands = third_octaves(x, sr);
    Stats {
        rms: (x.iter().map(|v| v * v).sum::<f64>() / n).sqrt(),
        peak: x.iter().fold(0.0f64, |m, v| m.max(v.abs())),
        mean: x.iter().sum::<f64>() / n,
        slope: slope(&bands),
        bands,
    }
}

/// Channel `ch` of stereo frames, as f64.
pub fn channel(frames: &[Frame], ch: usize) -> Vec<f64> {
    frames.iter().map(|f| f[ch] as f64).collect()
}

/// Channel `ch` of interleaved reference samples with `channels` per frame.
pub fn ref_channel(data: &[f32], channels: usize, ch: usize) -> Vec<f64> {
    data.iter()
        .skip(ch)
        .step_by(channels)
        .map(|v| *v as f64)
        .collect()
}

/// Compares one channel with the README's tolerances (RMS within `rms_tol_db`, peak ≤ 0.95
/// when the reference's is, bands ≥ 100 Hz carrying energy within ±2 dB, slope within
/// ±0.5 dB/oct), printing the figures; failures are appended to `checks`.
pub fn compare(
    id: &str,
    ch: usize,
    mine: &Stats,
    reference: &Stats,
    rms_tol_db: f64,
    checks: &mut Vec<String>,
) {
    let rms_db = 20.0 * (mine.rms / reference.rms).log10();
    // Bands ≥ 100 Hz that carry energy: within 40 dB of the reference's strongest band
    // (green noise is 60–100 dB down above 8 kHz, where only the filters' stop bands
    // and the float noise floor are compared).
    let top = reference
        .bands
        .iter()
        .map(|b| b.1)
        .fold(f64::NEG_INFINITY, f64::max);
    let live = |l: f64| l > top - 40.0;
    let mut worst_band = 0.0f64;
    let mut worst_fc = 0.0;
    for ((fc, a), (_, b)) in mine.bands.iter().zip(reference.bands.iter()) {
        if *fc >= 100.0 && live(*b) && (a - b).abs() > worst_band.abs() {
            worst_band = a - b;
            worst_fc = *fc;
        }
    }
    let dslope = mine.slope - reference.slope;
    println!(
        "  {id:<58} ch{ch}: RMS {:.4} vs {:.4} ({rms_db:+.2} dB)  peak {:.3} vs {:.3}  mean {:+.1e}  slope {:+.2} vs {:+.2}  worst band {worst_band:+.2} dB @ {worst_fc:.0} Hz",
        mine.rms, reference.rms, mine.peak, reference.peak, mine.mean, mine.slope, reference.slope
    );
    if rms_db.abs() > rms_tol_db {
        checks.push(format!("{id} ch{ch}: RMS {rms_db:+.2} dB"));
    }
    if mine.peak > 0.95 + 1e-6 && reference.peak <= 0.95 + 1e-6 {
        checks.push(format!("{id} ch{ch}: peak {}", mine.peak));
    }
    if worst_band.abs() > 2.0 {
        checks.push(format!(
            "{id} ch{ch}: band {worst_fc:.0} Hz {worst_band:+.2} dB"
        ));
    }
    let slope_live = reference
        .bands
        .iter()
        .filter(|(f, _)| *f >= 100.0 && *f <= 8000.0)
        .all(|(_, l)| live(*l));
    if slope_live && dslope.abs() > 0.5 {
        checks.push(format!("{id} ch{ch}: slope {dslope:+.2} dB/oct"));
    }
}

/// Notch trajectories against a reference case's `stats.notch_track_hz` (`{"lo-hi":
/// [[left Hz…], [right Hz…]]}`): for each sweep range and channel, the median of the
/// per-frame spectral minimum of `out` within the range against the median of the
/// reference's, printed, with the distance in 4096-point FFT bins. Returns
/// `(within 5 bins, compared)`.
pub fn notch_medians(
    id: &str,
    notch_track_hz: &serde_json::Value,
    out: &[Frame],
    sr: f64,
) -> (usize, usize) {
    let (mut ok, mut all) = (0, 0);
    let Some(tracks) = notch_track_hz.as_object() else {
        return (0, 0);
    };
    for (range, per_ch) in tracks {
        let parsed = range
            .split_once('-')
            .and_then(|(lo, hi)| Some((lo.parse::<f64>().ok()?, hi.parse::<f64>().ok()?)));
        let Some((lo, hi)) = parsed else {
            panic!("{id}: notch range {range:?} is not \"lo-hi\"");
        };
        for ch in 0..2 {
            let want: Vec<f64> = per_ch[ch]
                .as_array()
                .map(|a| a.iter().filter_map(|v| v.as_f64()).collect())
                .unwrap_or_default();
            let got = notch_track(&channel(out, ch), sr, lo, hi);
            let (a, b) = (median(&got), median(&want));
            let bins = (a - b).abs() / (sr / 4096.0);
            println!(
                "  {id:<58} ch{ch}: notch {range} Hz median {a:.1} vs {b:.1} ({bins:.1} bins)"
            );
            all += 1;
            if bins <= 5.0 {
                ok += 1;
            }
        }
    }
    (ok, all)
}
