//! Glitch bursts of `binaural_beat_transition` (VOICES.md §1.4): statistics only (the
//! original draws them from an unseeded RNG).
//!
//! The reference statistics were computed by running the original burst code (numpy
//! `rfft` of `L` standard-normal samples, shaped by `exp(-0.5·(|f-fc|/W)^E)`, `irfft`,
//! peak-normalised, × `linspace(0, 1, L)` × level, float32) for 2,000 bursts with
//! `default_rng(1)`: sr 44.1 kHz, `glitchDur` 0.08 s (`L` = 3528), level 0.3, fc 400 Hz.
//! Per burst: mean RMS and mean spectral centroid (power-weighted over the burst's own
//! rfft). The engine renders 60 s (240 bursts); its means must fall within 5 % (≈ 4 σ of
//! the mean for 240 bursts).

// Test code: a failed unwrap is a test failure with its location.
#![allow(clippy::unwrap_used)]

use entrain_conformance::{parse_track, raw, voice_from_json, SlotRig};
use entrain_dsp::Frame;
use serde_json::{json, Value};

const SR: u32 = 44_100;
const INTERVAL: f64 = 0.25;
const DUR: f64 = 0.08;
const LEVEL: f64 = 0.3;

/// (W, E, reference mean burst RMS, reference mean centroid Hz).
const REFERENCE: &[(f64, f64, f64, f64)] = &[
    (100.0, 2.0, 0.060_391, 406.26),
    (0.0, 2.0, 0.046_156, 11_033.9),
    (300.0, 1.5, 0.056_227, 439.49),
];

fn track(params: Value, duration: f64) -> String {
    json!({
        "global": {"sample_rate": SR},
        "progression": [{"duration": duration, "voices": [{
            "synth_function_name": "binaural_beat",
            "is_transition": true,
            "params": params,
        }]}],
    })
    .to_string()
}

fn params(w: f64, e: f64) -> Value {
    json!({"ampL": 0.0, "ampR": 0.0, "baseFreq": 400.0, "beatFreq": 0.0,
           "glitchInterval": INTERVAL, "glitchDur": DUR, "glitchNoiseLevel": LEVEL,
           "glitchFocusWidth": w, "glitchFocusExp": e})
}

fn render(p: Value, duration: f64, block: usize) -> Vec<Frame> {
    let (spec, clock) = voice_from_json(&track(p, duration), SR).unwrap();
    SlotRig::new(&raw(&spec), clock).render(clock.n as usize, block)
}

/// Burst starts as the original computes them.
fn starts(duration: f64, n: usize, len: usize) -> Vec<usize> {
    let repeats = (duration / INTERVAL).floor() as usize;
    (1..=repeats)
        .map(|k| ((k as f64 * INTERVAL - DUR).max(0.0) * SR as f64).floor() as usize)
        .filter(|&i0| i0 + len <= n)
        .collect()
}

fn centroid(x: &[f64]) -> f64 {
    // direct DFT power spectrum (bursts are short; the test is not speed-critical)
    let n = x.len();
    let m = n.next_power_of_two() * 2;
    let mut buf: Vec<[f64; 2]> = (0..m)
        .map(|i| [if i < n { x[i] } else { 0.0 }, 0.0])
        .collect();
    entrain_dsp::fft::fft(&mut buf, false);
    let (mut pw, mut pf) = (0.0, 0.0);
    for (j, c) in buf.iter().enumerate().take(m / 2 + 1) {
        let p = c[0] * c[0] + c[1] * c[1];
        pw += p;
        pf += p * j as f64 * SR as f64 / m as f64;
    }
    pf / pw
}

#[test]
fn burst_statistics_match_the_original() {
    let duration = 60.0;
    let len = (DUR * SR as f64) as usize;
    println!("| W | E | bursts | mean RMS (ref) | mean centroid Hz (ref) |\n| --- | --- | --- | --- | --- |");
    for &(w, e, ref_rms, ref_centroid) in REFERENCE {
        let out = render(params(w, e), duration, 480);
        let st = starts(duration, out.len(), len);
        assert_eq!(st.len(), 240);
        let mut inside = vec![false; out.len()];
        let (mut rms_sum, mut cent_sum) = (0.0, 0.0);
        for &s in &st {
            let b: Vec<f64> = out[s..s + len].iter().map(|f| f[0] as f64).collect();
            assert!(
                out[s..s + len].iter().all(|f| f[0] == f[1]),
                "channels differ"
            );
            let peak = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            assert!(peak <= LEVEL + 1e-6 && peak > 0.0, "peak {peak}");
            // rising ramp, abrupt end
            let q = len / 4;
            let e0: f64 = b[..q].iter().map(|v| v * v).sum();
            let e3: f64 = b[3 * q..].iter().map(|v| v * v).sum();
            assert!(e3 > 5.0 * e0, "ramp: {e0} vs {e3}");
            rms_sum += (b.iter().map(|v| v * v).sum::<f64>() / len as f64).sqrt();
            cent_sum += centroid(&b);
            inside[s..s + len].iter_mut().for_each(|x| *x = true);
        }
        assert!(out
            .iter()
            .zip(&inside)
            .all(|(f, &i)| i || (f[0] == 0.0 && f[1] == 0.0)));
        let rms = rms_sum / st.len() as f64;
        let cent = cent_sum / st.len() as f64;
        println!(
            "| {w} | {e} | {} | {rms:.5} ({ref_rms:.5}) | {cent:.1} ({ref_centroid:.1}) |",
            st.len()
        );
        assert!((rms / ref_rms - 1.0).abs() < 0.05, "RMS {rms} vs {ref_rms}");
        assert!(
            (cent / ref_centroid - 1.0).abs() < 0.05,
            "centroid {cent} vs {ref_centroid}"
        );
    }
}

#[test]
fn bursts_are_deterministic_and_block_independent() {
    let p = params(100.0, 2.0);
    let a = render(p.clone(), 2.0, 1);
    assert!(a.iter().any(|f| f[0] != 0.0));
    for block in [7, 64, 480] {
        assert!(render(p.clone(), 2.0, block) == a, "block {block}");
    }
    // seek lands on the same bursts; reset reproduces
    let (spec, clock) = voice_from_json(&track(p, 2.0), SR).unwrap();
    let mut rig = SlotRig::new(&raw(&spec), clock);
    let first = rig.render(clock.n as usize, 64);
    assert!(first == a);
    for at in [0u64, 15_000, 44_000, 80_000] {
        rig.seek(at);
        let got = rig.render((clock.n - at) as usize, 333);
        assert!(got == a[at as usize..], "seek {at}");
    }
    // a different voice gets different noise
    let b = render(params(101.0, 2.0), 2.0, 64);
    assert!(a != b);
    // the static voice has no bursts (the original's code is commented out)
    let (spec, clock) = voice_from_json(
        &track(params(100.0, 2.0), 1.0)
            .replace("\"is_transition\":true", "\"is_transition\":false"),
        SR,
    )
    .unwrap();
    let out = SlotRig::new(&raw(&spec), clock).render(clock.n as usize, 64);
    assert!(out.iter().all(|f| f[0] == 0.0));
}

#[test]
fn glitch_limits_are_located_errors() {
    let err = |p: Value| match parse_track(&track(p, 2.0)) {
        Ok(_) => String::new(),
        Err(e) => e.to_string(),
    };
    let mut p = params(100.0, 2.0);
    p["glitchDur"] = json!(0.2); // 8820 samples > 4096
    let e = err(p);
    assert!(e.contains("glitchDur") && e.contains("burst buffer"), "{e}");
    let mut p = params(100.0, 2.0);
    p["glitchInterval"] = json!(0.03); // 0.08 ≥ 2 × 0.03
    let e = err(p);
    assert!(e.contains("glitchDur") && e.contains("overlap"), "{e}");
    // averages decide: start 0.2 s, end 0 s → 0.1 s → 4410 samples > 4096
    let mut p = params(100.0, 2.0);
    p.as_object_mut().unwrap().remove("glitchDur");
    p["startGlitchDur"] = json!(0.2);
    p["endGlitchDur"] = json!(0.0);
    let e = err(p);
    assert!(e.contains("startGlitchDur"), "{e}");
}
