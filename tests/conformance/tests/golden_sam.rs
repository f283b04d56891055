//! Golden `spatial_angle_modulation(_transition)` (VOICES.md §9) against the reference
//! renders, which were made with the original's HRTF overlap-add engine and slab's KEMAR
//! set (reference/README.md). The engine embeds the same impulse responses and repeats
//! slab's nearest-position choice, so the cases rendered at 44.1 kHz are compared sample
//! by sample (max |Δ|, SNR) as well as by the statistics the README allows otherwise
//! (per-channel RMS ±0.5 dB, `dominant_freq_hz`, `lr_correlation`).
//!
//! `spatial_angle_modulation__circle_req48k` asked for 48 kHz; the original renders at
//! 44.1 kHz anyway (its quirk, §9.2 step 1), the engine at the track's rate (intended).
//! Its 48 kHz render is compared by RMS and dominant frequency (within two bins); the L/R
//! correlation is reported only (the 44.1 kHz impulse responses played at 48 kHz have 8 %
//! shorter interaural delays, and the frames and path sampling differ, which moves it from
//! 0.36 to 0.43). The same case rendered at 44.1 kHz, as the original did, is compared
//! sample by sample.
//!
//! Run with `--nocapture` for the table (also written to `target/…/golden_sam.md`).

// Test code: a failed unwrap is a test failure with its location.
#![allow(clippy::unwrap_used)]

use entrain_conformance::{
    case_voice, compare, fmt_snr, raw, render_voice, voice_from_json, voice_track_json,
    write_report, Manifest, Table,
};

const FUNCTIONS: &[&str] = &[
    "spatial_angle_modulation",
    "spatial_angle_modulation_transition",
];

/// Sample tolerance for the 44.1 kHz cases: the engine accumulates the overlap-add in f32
/// (the original in f64) and the HRIR choice is slab's, so differences are rounding only.
const MAX_ABS: f64 = 1e-4;
const MIN_SNR_DB: f64 = 80.0;
/// Statistics tolerances (reference/README.md).
const RMS_DB: f64 = 0.5;
const CORR: f64 = 0.05;

struct Stats {
    rms: [f64; 2],
    dominant: [f64; 2],
    corr: f64,
    peak: f64,
}

fn stats(x: &[[f32; 2]], sr: f64) -> Stats {
    let n = x.len();
    let ch = |c: usize| -> Vec<f64> { x.iter().map(|f| f[c] as f64).collect() };
    let (l, r) = (ch(0), ch(1));
    let rms = |v: &[f64]| (v.iter().map(|a| a * a).sum::<f64>() / n as f64).sqrt();
    let dom = |v: &[f64]| -> f64 {
        // |rfft(x·hann)| argmax (DC excluded), resolution sr/N as the manifest
        let m = n.next_power_of_two();
        let mut buf: Vec<[f64; 2]> = (0..m)
            .map(|i| {
                if i < n {
                    let w = 0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / (n - 1) as f64).cos();
                    [v[i] * w, 0.0]
                } else {
                    [0.0, 0.0]
                }
            })
            .collect();
        entrain_dsp::fft::fft(&mut buf, false);
        let k = (1..m / 2)
            .max_by(|&a, &b| {
                let pa = buf[a][0].hypot(buf[a][1]);
                let pb = buf[b][0].hypot(buf[b][1]);
                pa.total_cmp(&pb)
            })
            .unwrap();
        k as f64 * sr / m as f64
    };
    let dot: f64 = l.iter().zip(&r).map(|(a, b)| a * b).sum();
    let ll: f64 = l.iter().map(|a| a * a).sum();
    let rr: f64 = r.iter().map(|a| a * a).sum();
    Stats {
        rms: [rms(&l), rms(&r)],
        dominant: [dom(&l), dom(&r)],
        corr: dot / (ll * rr).sqrt(),
        peak: x.iter().fold(0.0f64, |m, f| {
            m.max(f[0].abs() as f64).max(f[1].abs() as f64)
        }),
    }
}

fn ref_stat(case: &entrain_conformance::Case, key: &str, c: usize) -> f64 {
    let s = &case.raw["stats"][key];
    if s.is_array() {
        s[c].as_f64().unwrap()
    } else {
        s.as_f64().unwrap()
    }
}

#[test]
fn golden_spatial_angle_modulation() {
    let m = Manifest::load().unwrap();
    let mut table = Table::new(&[
        "case",
        "sr",
        "max abs err",
        "SNR dB",
        "RMS L/R dB Δ",
        "dominant Hz (ref)",
        "L/R corr (ref)",
        "status",
    ]);
    let mut failures = Vec::new();
    let mut seen = 0;
    for case in m.cases_of(FUNCTIONS) {
        seen += 1;
        let (spec, clock) = case_voice(case).unwrap();
        let out = render_voice(&raw(&spec), clock, 480);
        let reference = case.read_audio(&m.dir).unwrap();
        let st = stats(&out, case.sample_rate as f64);
        let mut problems = Vec::new();
        let same_rate = case.sample_rate == case.output_sample_rate;
        let (max_s, snr_s) = if same_rate {
            assert_eq!(clock.n, case.frames, "{}: frames", case.id);
            let d = compare(out.as_flattened(), &reference);
            if !d.within(MAX_ABS, MIN_SNR_DB) {
                problems.push(format!(
                    "samples: max |Δ| {:.3e} at frame {}, SNR {}",
                    d.max_abs,
                    d.max_at / 2,
                    fmt_snr(d.snr_db)
                ));
            }
            (format!("{:.3e}", d.max_abs), fmt_snr(d.snr_db))
        } else {
            ("-".into(), "-".into())
        };
        let mut rms_db = [0.0; 2];
        let mut dom = String::new();
        for (c, db) in rms_db.iter_mut().enumerate() {
            *db = 20.0 * (st.rms[c] / ref_stat(case, "rms", c)).log10();
            if db.abs() > RMS_DB {
                problems.push(format!("RMS ch{c} {db:+.2} dB"));
            }
            let rd = ref_stat(case, "dominant_freq_hz", c);
            let bin = case.output_sample_rate as f64 / case.frames as f64;
            let ours_bin = case.sample_rate as f64 / out.len() as f64;
            if (st.dominant[c] - rd).abs() > 2.0 * bin.max(ours_bin) {
                problems.push(format!(
                    "dominant ch{c} {:.1} vs {rd:.1} Hz",
                    st.dominant[c]
                ));
            }
            dom.push_str(&format!("{:.1} ({rd:.1}) ", st.dominant[c]));
        }
        let rc = ref_stat(case, "lr_correlation", 0);
        if same_rate && (st.corr - rc).abs() > CORR {
            problems.push(format!("L/R correlation {:.4} vs {rc:.4}", st.corr));
        }
        if !same_rate {
            // the original's render: the same voice at the HRIR rate
            let sr = case.output_sample_rate;
            let (spec44, clock44) = voice_from_json(
                &voice_track_json(&case.function, &case.params, sr, case.duration),
                sr,
            )
            .unwrap();
            assert_eq!(clock44.n, case.frames);
            let out44 = render_voice(&raw(&spec44), clock44, 480);
            let d = compare(out44.as_flattened(), &reference);
            println!(
                "{} rendered at {sr} Hz as the original: max |Δ| {:.3e}, SNR {}",
                case.id,
                d.max_abs,
                fmt_snr(d.snr_db)
            );
            if !d.within(MAX_ABS, MIN_SNR_DB) {
                problems.push(format!("at {sr} Hz: max |Δ| {:.3e}", d.max_abs));
            }
        }
        assert!(st.peak <= 1.0, "{}: peak {}", case.id, st.peak);
        let status = if problems.is_empty() {
            "ok".to_string()
        } else {
            failures.push(format!("{}: {}", case.id, problems.join("; ")));
            "FAIL".to_string()
        };
        table.row(vec![
            case.id.clone(),
            case.sample_rate.to_string(),
            max_s,
            snr_s,
            format!("{:+.3} / {:+.3}", rms_db[0], rms_db[1]),
            dom,
            format!("{:.4} ({rc:.4})", st.corr),
            status,
        ]);
    }
    let md = format!(
        "# Golden spatial_angle_modulation\n\nSamples (44.1 kHz cases): max |Δ| ≤ {MAX_ABS:e}, SNR ≥ {MIN_SNR_DB} dB. Statistics: RMS ±{RMS_DB} dB, dominant frequency within two bins, L/R correlation ±{CORR}.\n\n{}\n",
        table.to_markdown()
    );
    println!("{md}");
    write_report(env!("CARGO_TARGET_TMPDIR"), "golden_sam.md", &md).unwrap();
    assert!(seen >= 7, "only {seen} SAM cases");
    assert!(
        failures.is_empty(),
        "failing cases:\n{}",
        failures.join("\n")
    );
}
