//! Background noise that notches an input file (`.noise` preset with `input_audio_path`,
//! NOISE.md §3 step 1, TRACK_FORMAT.md §9.2) rendered end to end: track file → host
//! loader (preset, input decoded and notched into the PCM arena) → engine → output.
//!
//! * The original's own case `generate_swept_notch_pink_sound__input_file` written as a
//!   track whose only sound is that noise: the compatible render is the reference up to
//!   the global peak normalisation (one scale factor), sample for sample.
//! * Delay, fades and gain apply to the rendered input as to generated noise, blocks and
//!   seeks do not change a bit, and the notched input survives re-targeting to another
//!   rate (prepared again from the file).

#![allow(clippy::unwrap_used)]

use entrain_conformance::{read_f32le, reference_dir};
use entrain_engine::engine::{Config, Mode, MAX_ACTIVE};
use entrain_engine::mixplan::StageBuffers;
use entrain_host::{build_engine, load_track_file, HostEngine};
use std::path::{Path, PathBuf};

/// The reference case's parameters as a `.noise` preset (the background renderer's
/// keys: non-transition generator from `lfo_freq` and the sweeps' `start_*` values).
fn preset(input: &Path) -> String {
    format!(
        r#"{{
  "duration_seconds": 60.0, "sample_rate": 44100, "lfo_waveform": "sine",
  "transition": false, "lfo_freq": 0.5,
  "sweeps": [{{"start_min": 800, "end_min": 800, "start_max": 4000, "end_max": 4000,
               "start_q": 20, "end_q": 20, "start_casc": 6, "end_casc": 6}}],
  "start_lfo_phase_offset_deg": 90, "end_lfo_phase_offset_deg": 90,
  "start_intra_phase_offset_deg": 60, "end_intra_phase_offset_deg": 60,
  "input_audio_path": {}, "noise_type": "pink"
}}"#,
        serde_json::to_string(&input.display().to_string()).unwrap()
    )
}

fn track(duration: f64, rate: u32, noise_extra: &str) -> String {
    format!(
        r#"{{"global": {{"sample_rate": {rate}, "crossfade_duration": 0.0}},
  "progression": [{{"duration": {duration}, "voices": []}}],
  "background_noise": {{"params_path": "in.noise", "gain": 1.0 {noise_extra}}}}}"#
    )
}

/// A fresh folder under the target directory holding the track and its preset.
fn setup(name: &str, track_json: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("entrain-noise-input-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = reference_dir().join("inputs/notch_input_44k.wav");
    std::fs::write(dir.join("in.noise"), preset(&input)).unwrap();
    let t = dir.join("track.json");
    std::fs::write(&t, track_json).unwrap();
    t
}

fn render_all(e: &mut HostEngine, block: usize) -> Vec<[f32; 2]> {
    let mut out = vec![[0.0f32; 2]; e.total_frames() as usize];
    for c in out.chunks_mut(block) {
        e.render(c);
    }
    out
}

fn compatible() -> Config {
    Config {
        mode: Mode::Compatible,
        ..Config::default()
    }
}

#[test]
fn input_file_noise_in_a_track_matches_the_original_case() {
    let path = setup("golden", &track(1.5, 44100, ""));
    let t = load_track_file(&path).expect("track loads");
    assert!(
        t.warnings.warnings.is_empty(),
        "no 'not rendered' warning: {:?}",
        t.warnings.warnings
    );
    let mut e = build_engine(&t, compatible(), &mut |_| {}).expect("engine");
    let out = render_all(&mut e, 4096);
    let reference =
        read_f32le(&reference_dir().join("voices/generate_swept_notch_pink_sound__input_file.f32"))
            .expect("reference");
    assert_eq!(out.len() * 2, reference.len());
    // One scale factor (the global peak normalisation) relates the two.
    let (mut xy, mut yy) = (0.0f64, 0.0f64);
    for (f, r) in out.iter().flatten().zip(reference.iter()) {
        xy += *f as f64 * *r as f64;
        yy += *r as f64 * *r as f64;
    }
    let g = xy / yy;
    assert!(g > 0.0, "silent or inverted noise (g = {g})");
    let (mut max, mut err) = (0.0f64, 0.0f64);
    for (f, r) in out.iter().flatten().zip(reference.iter()) {
        let d = *f as f64 / g - *r as f64;
        max = max.max(d.abs());
        err += d * d;
    }
    let snr = 10.0 * (yy / err.max(1e-300)).log10();
    println!("input-file noise in a track: scale {g:.6}, max|Δ| {max:.3e}, SNR {snr:.1} dB");
    assert!(max <= 2e-5 && snr >= 90.0, "max {max} snr {snr}");
}

#[test]
fn delay_fades_blocks_seek_and_rate() {
    // 2.5 s track, noise delayed by 0.5 s and faded: the 1.5 s input ends at 2.0 s.
    let path = setup(
        "envelope",
        &track(
            2.5,
            44100,
            r#", "start_time": 0.5, "fade_in": 1.0, "fade_out": 0.2"#,
        ),
    );
    let t = load_track_file(&path).expect("track loads");
    let mut e = build_engine(&t, compatible(), &mut |_| {}).expect("engine");
    let a = render_all(&mut e, 4096);
    assert_eq!(a.len(), 110_250);
    let silent = |r: &[[f32; 2]]| r.iter().all(|f| *f == [0.0, 0.0]);
    assert!(silent(&a[..22_050]), "silence before start_time");
    assert!(!silent(&a[22_050..22_050 + 4410]), "noise after start_time");
    assert!(
        silent(&a[22_050 + 66_150..]),
        "silence after the input ends"
    );
    // Fade-in from the start of the padded buffer: still rising at 0.6 s.
    let rms = |r: &[[f32; 2]]| {
        (r.iter().map(|f| (f[0] * f[0]) as f64).sum::<f64>() / r.len() as f64).sqrt()
    };
    assert!(rms(&a[26_460..30_870]) < rms(&a[48_510..52_920]));

    // Any block size and a seek give the same bits.
    let mut e7 = build_engine(&t, compatible(), &mut |_| {}).expect("engine");
    assert_eq!(render_all(&mut e7, 7), a);
    let mut es = build_engine(&t, compatible(), &mut |_| {}).expect("engine");
    es.seek(40_000);
    let mut tail = vec![[0.0f32; 2]; a.len() - 40_000];
    es.render(&mut tail);
    assert_eq!(tail, a[40_000..]);

    // The staged path (GPU mixing and its CPU reference fold) plays the rendered input
    // too, with the same bits.
    let mut eg = build_engine(&t, compatible(), &mut |_| {}).expect("engine");
    let stride = 4096;
    let mut voices = vec![[0.0f32; 2]; eg.stage_voice_capacity().max(1) * stride];
    let mut gains = vec![[0.0f32; 2]; MAX_ACTIVE * stride];
    let mut bufs = StageBuffers {
        voices: &mut voices,
        gains: &mut gains,
        stride,
    };
    let mut staged = vec![[0.0f32; 2]; a.len()];
    assert_eq!(eg.render_staged(&mut bufs, &mut staged).unwrap(), a.len());
    assert_eq!(staged, a, "staged render of the input-file noise");

    // At 48 kHz the file is resampled first and notched at 48 kHz: the input now ends
    // at 0.5 s + 1.5 s again.
    let t48 = t.shared().at_rate(48_000).expect("re-targeted");
    let mut e48 = build_engine(t48, compatible(), &mut |_| {}).expect("engine");
    let b = render_all(&mut e48, 4096);
    assert_eq!(b.len(), 120_000);
    assert!(silent(&b[..24_000]));
    assert!(!silent(&b[24_000..24_000 + 4800]));
    let end = 24_000 + 72_000;
    assert!(!silent(&b[end - 480..end]), "input lasts 1.5 s at 48 kHz");
    assert!(silent(&b[end + 10..]), "and no longer");
}

#[test]
fn a_missing_input_file_is_a_located_error() {
    let dir = std::env::temp_dir().join(format!(
        "entrain-noise-input-{}-missing",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("in.noise"), preset(Path::new("no/such.wav"))).unwrap();
    std::fs::write(dir.join("track.json"), track(1.0, 44100, "")).unwrap();
    let err = load_track_file(&dir.join("track.json")).expect_err("missing input");
    let msg = err.to_string();
    assert!(
        msg.contains("background noise") && msg.contains("no/such.wav"),
        "{msg}"
    );
}
