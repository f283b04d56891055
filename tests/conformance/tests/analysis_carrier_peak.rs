//! The compatible analysis's peak of a one-voice step without rendering it (engine.rs
//! `Engine::standalone_peak`, voices `VoiceSlot::carrier_peak` /
//! `BinauralBeat::carrier_peak`, dsp `math::SIN_TURNS_OFF_PEAK`): a plain binaural voice
//! (the commonest track, W1) has its step's peak computed from its carrier instead of a
//! second render. It must never change a gain, and must happen where it can:
//!
//! * for hand-made tracks (W1's voice, several steps of plain voices with loud, quiet and
//!   silent ears, a step loud enough to be divided by its peak, next to steps that must
//!   render: two voices, a transition, AM, an envelope, a spatializer, a noise voice), for
//!   every shared example track and for random binaural tracks (proptest): the output gain
//!   and the rendered bits equal those of the full analysis (a sink that takes every
//!   frame makes the analysis render everything, as a spill does);
//! * the steps of one plain voice are not rendered at all, the others are rendered whole;
//! * a sink that declines is dropped and the rest of the step is then not rendered; through
//!   the host, a spill given up by `SpillPolicy::Auto` after its probe does the same
//!   (W1 as the CLI renders it).

// Test code: a failed unwrap is a test failure with its location.
#![allow(clippy::unwrap_used)]

use entrain_conformance::shared_tracks_dir;
use entrain_dsp::Frame;
use entrain_engine::engine::{Config, Engine, Mode, BLOCK};
use entrain_host::memory::HeapMemory;
use entrain_host::{load_track_file, load_track_str, SharedTrack};
use proptest::prelude::*;
use serde_json::{json, Value};

fn compatible() -> Config {
    Config {
        mode: Mode::Compatible,
        ..Config::default()
    }
}

/// The engine with the early stop allowed (no sink) and with a sink that takes every
/// frame (the full analysis).
fn both(track: &SharedTrack) -> (entrain_host::HostEngine, entrain_host::HostEngine) {
    let mem = || HeapMemory::for_track(&track.track, &compatible()).unwrap();
    let quick = Engine::new(track.clone(), mem(), compatible()).unwrap();
    let full = Engine::with_spill(track.clone(), mem(), compatible(), &mut |_| {}, &mut |_| {
        true
    })
    .unwrap();
    (quick, full)
}

fn render(e: &mut entrain_host::HostEngine, frames: usize) -> Vec<Frame> {
    e.seek(0);
    let mut out = vec![[0.0f32; 2]; frames];
    for c in out.chunks_mut(4096) {
        e.render(c);
    }
    out
}

/// Asserts equal gains and bits; returns the frames each analysis measured.
fn check(name: &str, track: &SharedTrack, frames: usize) -> (u64, u64) {
    let (mut quick, mut full) = both(track);
    assert_eq!(
        quick.output_gain().to_bits(),
        full.output_gain().to_bits(),
        "{name}: output gain {} vs {}",
        quick.output_gain(),
        full.output_gain()
    );
    let n = frames.min(quick.total_frames() as usize);
    let (a, b) = (render(&mut quick, n), render(&mut full, n));
    let same = a
        .iter()
        .zip(&b)
        .all(|(x, y)| x[0].to_bits() == y[0].to_bits() && x[1].to_bits() == y[1].to_bits());
    assert!(same, "{name}: rendered bits differ");
    (quick.analysed_step_frames(), full.analysed_step_frames())
}

fn track(steps: Value) -> SharedTrack {
    let json = json!({
        "global": {"sample_rate": 44100, "crossfade_duration": 0.0},
        "progression": steps,
    });
    load_track_str(&json.to_string()).unwrap().into()
}

fn binaural(amp_l: f64, amp_r: f64, base: f64, beat: f64) -> Value {
    json!({"synth_function_name": "binaural_beat", "is_transition": false,
           "params": {"ampL": amp_l, "ampR": amp_r, "baseFreq": base, "beatFreq": beat}})
}

/// W1's voice (200 Hz, 10 Hz beat, amp 0.5; its carriers divide the rate, so its phases
/// repeat and never reach the sine's largest value) for 20 s: not rendered by the
/// analysis, same gain. Fails if the voice stops answering or answers wrongly.
#[test]
fn one_binaural_voice_is_not_rendered() {
    let t = track(json!([{"duration": 20.0, "voices": [binaural(0.5, 0.5, 200.0, 10.0)]}]));
    let (quick, full) = check("w1", &t, 1 << 20);
    assert_eq!(full, 20 * 44100);
    assert_eq!(quick, 0);
}

/// Steps of one plain voice (ears of different loudness, a step above 1.0 divided by its
/// exact peak, a silent ear, a low carrier) next to steps that must render: two voices,
/// a transition, AM, an envelope, a spatializer, a noise voice.
#[test]
fn steps_with_and_without_carrier_peaks_keep_their_gains() {
    let am = json!({"synth_function_name": "binaural_beat", "is_transition": false,
        "params": {"ampL": 0.4, "ampR": 0.4, "baseFreq": 150.0, "beatFreq": 6.0,
                   "ampOscDepthL": 0.5, "ampOscFreqL": 0.3}});
    let env = json!({"synth_function_name": "binaural_beat", "is_transition": false,
        "params": {"ampL": 0.4, "ampR": 0.4, "baseFreq": 150.0, "beatFreq": 6.0},
        "volume_envelope": {"type": "linen", "params": {"attack": 0.5, "release": 0.5}}});
    let spatial = json!({"synth_function_name": "binaural_beat", "is_transition": false,
        "params": {"ampL": 0.4, "ampR": 0.4, "baseFreq": 150.0, "beatFreq": 6.0,
                   "spatialEnable": true}});
    let transition = json!({"synth_function_name": "binaural_beat", "is_transition": true,
        "params": {"ampL": 0.3, "ampR": 0.3, "startBaseFreq": 180.0, "endBaseFreq": 260.0,
                   "startBeatFreq": 4.0, "endBeatFreq": 12.0}});
    let noise = json!({"synth_function_name": "noise_swept_notch", "is_transition": false,
        "params": {"amp": 0.5, "noise_type": "pink"}});
    let t = track(json!([
        {"duration": 3.0, "voices": [binaural(0.25, 0.7, 333.0, 7.5)]},
        {"duration": 3.0, "voices": [transition]},
        {"duration": 3.0, "voices": [binaural(2.5, 2.5, 97.0, 3.0)]},
        {"duration": 3.0, "voices": [binaural(0.0, 0.6, 440.0, 40.0)]},
        {"duration": 3.0, "voices": [binaural(0.3, 0.3, 200.0, 10.0), binaural(0.2, 0.2, 310.0, 5.0)]},
        {"duration": 3.0, "voices": [binaural(0.35, 0.35, 3.0, 1.0)]},
        {"duration": 2.0, "voices": [am]},
        {"duration": 2.0, "voices": [env]},
        {"duration": 2.0, "voices": [spatial]},
        {"duration": 2.0, "voices": [noise]},
    ]));
    let (quick, full) = check("steps", &t, usize::MAX);
    assert_eq!(full, 26 * 44100);
    // Rendered: the transition (3 s), the two voices (3 s), AM, envelope, spatializer
    // and noise (2 s each).
    assert_eq!(quick, 14 * 44100);
}

/// Every shared example track (crossfades, noise, clips, effects, every voice kind):
/// the same gain and bits with and without the stop.
#[test]
fn shared_tracks_keep_their_gains() {
    let dir = shared_tracks_dir();
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let Ok(loaded) = load_track_file(&path) else {
            continue; // tracks the host refuses are the loader's tests' business
        };
        let t: SharedTrack = loaded.into();
        let secs = t.track.steps.iter().map(|s| s.duration).sum::<f64>();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        // Only tracks with a step of one voice take the path under test (the others'
        // analyses are the same code with or without a sink; all_voices_tour and
        // qam_spatial, 24 s and ~20 s here, are of those); the hour-long benchmark track
        // costs minutes in the test profile.
        let one_voice = t.track.steps.iter().any(|s| s.voice_count == 1);
        if secs > 200.0 || !one_voice {
            continue;
        }
        check(name, &t, 1 << 16);
        checked += 1;
    }
    assert!(
        checked >= 7,
        "only {checked} shared tracks checked in {}",
        dir.display()
    );
}

fn random_voice() -> impl Strategy<Value = Value> {
    (
        (0.0..1.5f64, 0.0..1.5f64, 40.0..1500.0f64, 0.0..40.0f64),
        any::<bool>(),
        (0.0..3.0f64, 0.0..200.0f64),
    )
        .prop_map(|((al, ar, base, beat), transition, (pho_f, vib))| {
            let mut p = json!({"ampL": al, "ampR": ar, "baseFreq": base, "beatFreq": beat,
                               "phaseOscFreq": pho_f, "phaseOscRange": 0.5,
                               "freqOscRangeL": vib / 100.0, "freqOscFreqL": 0.7});
            if transition {
                let m = p.as_object_mut().unwrap();
                m.insert("startBaseFreq".into(), json!(base));
                m.insert("endBaseFreq".into(), json!(base * 1.5));
            }
            json!({"synth_function_name": "binaural_beat", "is_transition": transition,
                   "params": p})
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Random binaural steps (any amplitudes, carriers, beats, phase oscillation,
    /// vibrato, transitions; one or two voices): the same gain and bits.
    #[test]
    fn random_binaural_tracks_keep_their_gains(
        steps in prop::collection::vec(
            (0.2..1.5f64, prop::collection::vec(random_voice(), 1..=2)),
            1..=3,
        )
    ) {
        let steps: Vec<Value> = steps
            .into_iter()
            .map(|(d, v)| json!({"duration": d, "voices": v}))
            .collect();
        check("random", &track(Value::Array(steps)), usize::MAX);
    }
}

/// Through the host as the CLI renders: `SpillPolicy::Auto` gives the spill of a fast
/// track up after its probe, the sink says so, and the analysis renders no more: W1's
/// voice for 30 s is rendered up to the end of the probe's block. When the probe finds
/// the render slow (a loaded machine) the spill is kept and everything was rendered.
#[test]
fn a_spill_given_up_stops_the_analysis_render() {
    let t = track(json!([{"duration": 30.0, "voices": [binaural(0.5, 0.5, 200.0, 10.0)]}]));
    let dir = tempfile::tempdir().unwrap();
    let built = entrain_host::build_engine_spilling(
        t.clone(),
        compatible(),
        &dir.path().join("w1.wav"),
        entrain_host::SpillPolicy::Auto,
        &mut |_| {},
    )
    .unwrap();
    let (_, full) = both(&t);
    assert_eq!(
        built.engine.output_gain().to_bits(),
        full.output_gain().to_bits()
    );
    let rendered = built.engine.analysed_step_frames();
    if built.spill.is_some() {
        assert_eq!(rendered, 30 * 44100);
    } else {
        let probe = entrain_host::spill::PROBE_FRAMES;
        assert!(
            (probe..probe + BLOCK as u64).contains(&rendered),
            "rendered {rendered} frames after a probe of {probe}"
        );
    }
}

/// A sink that declines after its first frames is not called again, nothing counts as
/// spilled, and the rest of the step is not rendered (deterministic, unlike the host's
/// probe).
#[test]
fn a_declining_sink_is_dropped_and_the_analysis_stops() {
    let t = track(json!([{"duration": 20.0, "voices": [binaural(0.5, 0.5, 200.0, 10.0)]}]));
    let mem = HeapMemory::for_track(&t.track, &compatible()).unwrap();
    let mut calls = 0u32;
    let e = Engine::with_spill(t.clone(), mem, compatible(), &mut |_| {}, &mut |_| {
        calls += 1;
        calls < 3
    })
    .unwrap();
    assert_eq!(calls, 3, "called until it declined, then never again");
    assert_eq!(e.spilled(), entrain_engine::engine::Spilled::Nothing);
    assert_eq!(e.analysed_step_frames(), 3 * BLOCK as u64);
    let (_, full) = both(&t);
    assert_eq!(e.output_gain().to_bits(), full.output_gain().to_bits());
}
