//! `subliminal_encode` against the Python reference (VOICES.md §11): the case fed from a
//! 44.1 kHz file (no resampling) sample by sample, the stacked and resampled case by the
//! statistics the reference README allows (RMS, dominant frequency), the case without
//! sources (silence).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

use entrain_conformance::{compare, Manifest};
use entrain_engine::model::EnvelopeSpec;
use entrain_engine::voices::{FilterSlot, StepClock, VoiceSlot};
use serde_json::Value;

/// Renders a manifest case through the host (which prepares the segments) and the voice.
fn render(m: &Manifest, id: &str) -> (Vec<f32>, Vec<f32>) {
    let case = m
        .case(id)
        .unwrap_or_else(|| panic!("{id} missing from the manifest"));
    let mut params = case.params.clone();
    // File names are relative to the reference folder.
    for key in ["audio_path", "audio_paths"] {
        if let Some(Value::String(s)) = params.get(key).cloned() {
            let abs: Vec<String> = s
                .split(';')
                .map(|p| m.dir.join(p.trim()).display().to_string())
                .collect();
            params[key] = Value::String(abs.join(";"));
        }
    }
    let json = serde_json::json!({"global": {"sample_rate": case.sample_rate},
        "progression": [{"duration": case.duration, "voices": [{"synth_function_name": "subliminal_encode", "params": params}]}]});
    let t = entrain_host::load_track_str(&json.to_string()).unwrap();
    let mut spec = t.track.voices[0];
    spec.envelope = EnvelopeSpec::Flat;
    let clock = StepClock::new(case.duration, case.sample_rate as f64);
    let mut filters: Vec<FilterSlot> = vec![];
    let mut slot = VoiceSlot::new(&spec, clock, &mut filters, &[]);
    let mut out = vec![[0.0f32; 2]; clock.n as usize];
    for c in out.chunks_mut(480) {
        slot.process_with(c, &mut filters, &t.pcm);
    }
    let got: Vec<f32> = out.iter().flat_map(|f| [f[0], f[1]]).collect();
    (got, case.read_audio(&m.dir).unwrap())
}

fn rms(x: &[f32]) -> f64 {
    (x.iter().map(|v| (*v as f64).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
}

#[test]
fn sequence_of_one_file_matches_sample_by_sample() {
    let m = Manifest::load().unwrap();
    let (got, want) = render(&m, "subliminal_encode__sequence_one_file");
    let d = compare(&got, &want);
    println!(
        "subliminal_encode__sequence_one_file: max {:.3e}, SNR {:.1} dB",
        d.max_abs, d.snr_db
    );
    assert!(d.max_abs <= 1e-5 && d.snr_db >= 90.0, "{d:?}");
}

#[test]
fn without_sources_it_is_silent() {
    let m = Manifest::load().unwrap();
    let (got, want) = render(&m, "subliminal_encode__defaults_no_audio");
    assert!(want.iter().all(|v| *v == 0.0));
    assert!(got.iter().all(|v| *v == 0.0));
}

#[test]
fn stacked_resampled_sources_match_by_statistics() {
    let m = Manifest::load().unwrap();
    let (got, want) = render(&m, "subliminal_encode__stack_two_files_resampled");
    assert_eq!(got.len(), want.len());
    let l = |x: &[f32]| x.iter().step_by(2).copied().collect::<Vec<f32>>();
    let (g, w) = (l(&got), l(&want));
    let db = 20.0 * (rms(&g) / rms(&w)).log10();
    let peak_g = g.iter().fold(0.0f32, |a, v| a.max(v.abs()));
    let peak_w = w.iter().fold(0.0f32, |a, v| a.max(v.abs()));
    println!("stack: RMS {db:+.3} dB, peak {peak_g:.4} vs {peak_w:.4}");
    // Reference README: RMS ±0.1 dB for the resampling cases (the resamplers differ).
    assert!(db.abs() <= 0.1, "RMS differs by {db:.3} dB");
    assert!((peak_g - peak_w).abs() < 1e-3, "both normalised to amp");
}
