//! Every key alias of TRACK_FORMAT.md (§1.1 top level, §2 global settings, §3 steps,
//! §4 voices, §5 envelopes, §9.1 background noise, §10.1 overlay clips) and the per-voice
//! parameter aliases and fallback chains of VOICES.md, read through the public
//! `entrain_format::parse` API. Each alias is tested alone (it is read) and together with
//! the other spellings of its field (the documented precedence: the canonical name, the
//! first of each row of the spec's tables, wins; TRACK_FORMAT.md §1.1 "Pitfalls").
//!
//! Coverage map: `tests/README.md`.

#![allow(clippy::unwrap_used)]

mod common;

use common::{ok, one_voice_track, params, voice, voice_json, warning_at, Parsed};
use entrain_dsp::crossfade::CrossfadeCurve;
use entrain_dsp::delay::Interp;
use entrain_dsp::flanger::{Shape, StereoMode};
use entrain_dsp::noise::colour::{Colour, ExponentModel};
use entrain_dsp::ramp::Curve;
use entrain_dsp::spatial::{Decoder, Trajectory};
use entrain_engine::model::{
    EnvelopeSpec, Pair, PathShape, SubliminalMode, VoiceParams, VoiceType,
};
use entrain_format::voices::{Func, Resolved};
use entrain_format::WarningKind;

// ---- §1.1 top-level keys ------------------------------------------------------------------

/// The parts of a track that the top-level aliases select, for comparing layouts.
#[derive(Debug, PartialEq)]
struct TopLevel {
    sample_rate: u32,
    crossfade: Option<f64>,
    curve: CrossfadeCurve,
    output: Option<String>,
    durations: Vec<f64>,
    noise_gain: Option<f64>,
    clip_paths: Vec<String>,
}

fn top_level(p: &Parsed) -> TopLevel {
    TopLevel {
        sample_rate: p.track.sample_rate,
        crossfade: p.track.crossfade_duration,
        curve: p.track.crossfade_curve,
        output: p.info.output_filename.as_ref().map(|s| s.to_string()),
        durations: p.track.steps.iter().map(|s| s.duration).collect(),
        noise_gain: p.track.noise.map(|n| n.gain),
        clip_paths: p
            .info
            .clip_entries
            .iter()
            .map(|c| c.path.to_string())
            .collect(),
    }
}

/// A track written with the given names for the four top-level fields.
fn layout(global: &str, steps: &str, noise: &str, clips: &str) -> String {
    format!(
        r#"{{"{global}": {{"sample_rate": 48000, "crossfade_duration": 2.0, "crossfade_curve": "equal_power", "output_filename": "x.flac"}},
 "{steps}": [{{"duration": 3.0, "voices": []}}, {{"duration": 4.0, "voices": []}}],
 "{noise}": {{"gain": 0.3, "params": {{"noise_type": "green"}}}},
 "{clips}": [{{"path": "chime.wav"}}]}}"#
    )
}

fn expected_top_level() -> TopLevel {
    TopLevel {
        sample_rate: 48000,
        crossfade: Some(2.0),
        curve: CrossfadeCurve::EqualPower,
        output: Some("x.flac".into()),
        durations: vec![3.0, 4.0],
        noise_gain: Some(0.3),
        clip_paths: vec!["chime.wav".into()],
    }
}

#[test]
fn top_level_v2_names() {
    let p = ok(&layout(
        "global",
        "progression",
        "background_noise",
        "overlay_clips",
    ));
    assert_eq!(top_level(&p), expected_top_level());
}

#[test]
fn top_level_legacy_names() {
    let p = ok(&layout(
        "global_settings",
        "steps",
        "background_noise",
        "clips",
    ));
    assert_eq!(top_level(&p), expected_top_level());
}

#[test]
fn top_level_rust_port_names() {
    // RP/RP2 serde aliases: `globalSettings` and the optional `noise`.
    let p = ok(&layout("globalSettings", "steps", "noise", "clips"));
    assert_eq!(top_level(&p), expected_top_level());
}

#[test]
fn top_level_precedence_canonical_first() {
    let all = r#"{
 "globalSettings": {"sample_rate": 32000}, "global_settings": {"sample_rate": 22050}, "global": {"sample_rate": 48000},
 "steps": [{"duration": 9.0}], "progression": [{"duration": 1.0}, {"duration": 2.0}],
 "noise": {"gain": 0.9, "params": {}}, "background_noise": {"gain": 0.2, "params": {}},
 "clips": [{"path": "legacy.wav"}], "overlay_clips": [{"path": "v2.wav"}]}"#;
    let p = ok(all);
    let t = top_level(&p);
    assert_eq!(t.sample_rate, 48000);
    assert_eq!(t.durations, vec![1.0, 2.0]);
    assert_eq!(t.noise_gain, Some(0.2));
    assert_eq!(t.clip_paths, vec!["v2.wav".to_string()]);
    // Without the canonical global name, the legacy one wins over the camelCase one.
    let p = ok(
        r#"{"globalSettings": {"sample_rate": 32000}, "global_settings": {"sample_rate": 22050}, "steps": []}"#,
    );
    assert_eq!(p.track.sample_rate, 22050);
    // A `null` canonical value counts as absent.
    let p = ok(r#"{"global": null, "global_settings": {"sample_rate": 22050}, "steps": []}"#);
    assert_eq!(p.track.sample_rate, 22050);
}

#[test]
fn v2_with_only_progression_uses_defaults() {
    // §1.1: "A v2 file with only `progression` loads with empty global settings".
    let p = ok(r#"{"progression": [{"duration": 1.5, "voices": []}]}"#);
    assert_eq!(p.track.sample_rate, 44100);
    assert_eq!(p.track.crossfade_duration, None);
    assert_eq!(p.track.crossfade_curve, CrossfadeCurve::Linear);
    assert_eq!(p.info.output_filename, None);
    assert_eq!(p.track.steps.len(), 1);
    assert!(p.track.noise.is_none() && p.info.noise.is_none() && p.info.clips.is_none());
}

// ---- §2 global settings -------------------------------------------------------------------

fn global(body: &str) -> Parsed {
    ok(&format!(r#"{{"global": {{{body}}}, "progression": []}}"#))
}

#[test]
fn global_setting_camel_case_aliases() {
    let p = global(
        r#""sampleRate": 96000, "crossfadeDuration": 0.5, "crossfadeCurve": "equal_power", "outputFilename": "a.wav""#,
    );
    assert_eq!(p.track.sample_rate, 96000);
    assert_eq!(p.track.crossfade_duration, Some(0.5));
    assert_eq!(p.track.crossfade_curve, CrossfadeCurve::EqualPower);
    assert_eq!(p.info.output_filename.as_deref(), Some("a.wav"));
}

#[test]
fn global_setting_precedence_snake_case_first() {
    let p = global(
        r#""sampleRate": 96000, "sample_rate": 22050,
           "crossfadeDuration": 0.5, "crossfade_duration": 3.0,
           "crossfadeCurve": "equal_power", "crossfade_curve": "linear",
           "outputFilename": "camel.wav", "output_filename": "snake.wav""#,
    );
    assert_eq!(p.track.sample_rate, 22050);
    assert_eq!(p.track.crossfade_duration, Some(3.0));
    assert_eq!(p.track.crossfade_curve, CrossfadeCurve::Linear);
    assert_eq!(p.info.output_filename.as_deref(), Some("snake.wav"));
}

#[test]
fn crossfade_curve_unknown_name_is_linear_with_a_warning() {
    // §2: `"equal_power"` or anything else (= linear).
    let p = global(r#""crossfade_curve": "equal-power""#);
    assert_eq!(p.track.crossfade_curve, CrossfadeCurve::Linear);
    let w = warning_at(&p.report, "crossfade_curve");
    assert!(matches!(&w.kind, WarningKind::UnknownCrossfadeCurve(s) if s == "equal-power"));
}

// ---- §3 steps -----------------------------------------------------------------------------

fn step_durations(step: &str) -> f64 {
    let p = ok(&format!(r#"{{"progression": [{{{step}, "voices": []}}]}}"#));
    p.track.steps[0].duration
}

#[test]
fn step_duration_aliases() {
    assert_eq!(step_durations(r#""duration": 2.5"#), 2.5);
    assert_eq!(step_durations(r#""Duration": 3.5"#), 3.5);
    assert_eq!(step_durations(r#""durationSeconds": 4.5"#), 4.5);
    assert_eq!(step_durations(r#""stepDuration": 5.5"#), 5.5);
}

#[test]
fn step_duration_precedence() {
    let all = r#""stepDuration": 5, "durationSeconds": 4, "Duration": 3, "duration": 2"#;
    assert_eq!(step_durations(all), 2.0);
    assert_eq!(
        step_durations(r#""stepDuration": 5, "durationSeconds": 4, "Duration": 3"#),
        3.0
    );
    assert_eq!(
        step_durations(r#""stepDuration": 5, "durationSeconds": 4"#),
        4.0
    );
}

#[test]
fn step_start_aliases_and_precedence() {
    // §6.1: a step with `start`/`start_time` is placed there; the others follow on.
    let p = ok(r#"{"global": {"crossfade_duration": 1.0}, "progression": [
        {"duration": 10},
        {"duration": 10, "start_time": 30},
        {"duration": 10, "start": 50, "start_time": 70},
        {"duration": 10}]}"#);
    let starts: Vec<f64> = p.track.steps.iter().map(|s| s.start).collect();
    // step 3 follows step 2's end: t = max(t, 50 + 10) = 60.
    assert_eq!(starts, vec![0.0, 30.0, 50.0, 60.0]);
}

#[test]
fn step_start_defaults_follow_the_load_time_crossfade() {
    // §6.1: `t += max(0, d - cf)` when cf > 0, else `t += d`; cf defaults to 0 on load.
    let p = ok(r#"{"progression": [{"duration": 10}, {"duration": 10}, {"duration": 5}]}"#);
    let starts: Vec<f64> = p.track.steps.iter().map(|s| s.start).collect();
    assert_eq!(starts, vec![0.0, 10.0, 20.0]);
    let p = ok(
        r#"{"global": {"crossfade_duration": 1.0}, "progression": [{"duration": 10}, {"duration": 10}]}"#,
    );
    let starts: Vec<f64> = p.track.steps.iter().map(|s| s.start).collect();
    assert_eq!(starts, vec![0.0, 9.0]);
}

#[test]
fn step_crossfade_overrides_and_description() {
    // §6.4 (Session-Builder): per-step crossfade keys; §3 `description`.
    let p = ok(r#"{"global": {"crossfade_duration": 1.0}, "progression": [
        {"duration": 10, "crossfade_duration": 4.0, "crossfade_curve": "equal_power", "description": "first"},
        {"duration": 10, "crossfade_curve": "linear"},
        {"duration": 10}]}"#);
    let s = &p.track.steps;
    assert_eq!(s[0].crossfade_duration, Some(4.0));
    assert_eq!(s[0].crossfade_curve, Some(CrossfadeCurve::EqualPower));
    assert_eq!(s[1].crossfade_duration, None);
    assert_eq!(s[1].crossfade_curve, Some(CrossfadeCurve::Linear));
    assert_eq!(s[2].crossfade_curve, None);
    // The start advance uses the step's own crossfade: 10 - 4, then 10 - 1.
    assert_eq!(s[1].start, 6.0);
    assert_eq!(s[2].start, 15.0);
    let d: Vec<&str> = p.info.descriptions.iter().map(|d| d.as_str()).collect();
    assert_eq!(d, vec!["first", "", ""]);
}

#[test]
fn step_without_voices_is_silent() {
    // §3: `voices` defaults to `[]` (PY); `null` is the same.
    let p = ok(r#"{"progression": [{"duration": 2}, {"duration": 3, "voices": null}]}"#);
    assert_eq!(p.track.steps.len(), 2);
    assert!(p.track.steps.iter().all(|s| s.voice_count == 0));
    assert!(p.report.warnings.is_empty());
}

// ---- §4 voices ----------------------------------------------------------------------------

fn only_voice(v: &str) -> Parsed {
    ok(&one_voice_track(v))
}

#[test]
fn voice_function_name_aliases() {
    for key in ["synth_function_name", "synthFunctionName", "synth_function"] {
        let p = only_voice(&format!(r#"{{"{key}": "isochronic_tone"}}"#));
        assert!(
            matches!(p.track.voices[0].params, VoiceParams::Isochronic(_)),
            "{key}"
        );
    }
    let p = only_voice(
        r#"{"synth_function": "qam_beat", "synthFunctionName": "isochronic_tone", "synth_function_name": "binaural_beat"}"#,
    );
    assert!(matches!(p.track.voices[0].params, VoiceParams::Binaural(_)));
    let p = only_voice(r#"{"synth_function": "qam_beat", "synthFunctionName": "isochronic_tone"}"#);
    assert!(matches!(
        p.track.voices[0].params,
        VoiceParams::Isochronic(_)
    ));
}

fn base_freq(p: &Parsed) -> Pair {
    match p.track.voices[0].params {
        VoiceParams::Binaural(b) => b.base_freq,
        ref other => panic!("{other:?}"),
    }
}

#[test]
fn voice_params_alias_and_precedence() {
    let p =
        only_voice(r#"{"synth_function_name": "binaural_beat", "parameters": {"baseFreq": 300}}"#);
    assert_eq!(base_freq(&p), Pair::fixed(300.0));
    let p = only_voice(
        r#"{"synth_function_name": "binaural_beat", "parameters": {"baseFreq": 300}, "params": {"baseFreq": 150}}"#,
    );
    assert_eq!(base_freq(&p), Pair::fixed(150.0));
}

#[test]
fn voice_is_transition_alias_and_precedence() {
    let p = only_voice(
        r#"{"synth_function_name": "binaural_beat", "isTransition": true, "params": {"startBaseFreq": 300, "endBaseFreq": 100}}"#,
    );
    assert!(p.track.voices[0].transition.is_some());
    assert_eq!(base_freq(&p), Pair::new(300.0, 100.0));
    let p = only_voice(
        r#"{"synth_function_name": "binaural_beat", "isTransition": true, "is_transition": false, "params": {"baseFreq": 250}}"#,
    );
    assert!(p.track.voices[0].transition.is_none());
    assert_eq!(base_freq(&p), Pair::fixed(250.0));
    assert_eq!(
        p.info.voice_functions[0],
        Resolved::Known {
            func: Func::BinauralBeat,
            transition: false,
            missing_variant: false
        }
    );
}

#[test]
fn voice_envelope_alias_and_precedence() {
    let p = only_voice(
        r#"{"synth_function_name": "binaural_beat", "volumeEnvelope": {"type": "linen", "params": {"attack": 0.5, "release": 0.25}}}"#,
    );
    assert_eq!(
        p.track.voices[0].envelope,
        EnvelopeSpec::Linen {
            attack: 0.5,
            release: 0.25
        }
    );
    let p = only_voice(
        r#"{"synth_function_name": "binaural_beat", "volumeEnvelope": {"type": "linen", "params": {}}, "volume_envelope": {"type": "adsr", "params": {}}}"#,
    );
    assert!(matches!(
        p.track.voices[0].envelope,
        EnvelopeSpec::Adsr { .. }
    ));
}

#[test]
fn voice_type_groups() {
    // §4 (RP2): "binaural", "noise", anything else = "other"; default "binaural".
    let ty = |extra: &str| {
        only_voice(&format!(
            r#"{{"synth_function_name": "binaural_beat"{extra}}}"#
        ))
        .track
        .voices[0]
            .voice_type
    };
    assert_eq!(ty(""), VoiceType::Binaural);
    assert_eq!(ty(r#", "voice_type": "binaural""#), VoiceType::Binaural);
    assert_eq!(ty(r#", "voice_type": "noise""#), VoiceType::Noise);
    assert_eq!(ty(r#", "voice_type": "pad""#), VoiceType::Other);
}

#[test]
fn transition_flag_selects_the_variant() {
    // §4.1 rules 2 and 3: base name + flag, `_transition` name without the flag, and a
    // function without a transition variant (static, with a warning).
    let resolved = |v: &str| only_voice(v).info.voice_functions[0];
    let known = |func, transition| Resolved::Known {
        func,
        transition,
        missing_variant: false,
    };
    assert_eq!(
        resolved(r#"{"synth_function_name": "isochronic_tone", "is_transition": true}"#),
        known(Func::IsochronicTone, true)
    );
    assert_eq!(
        resolved(
            r#"{"synth_function_name": "isochronic_tone_transition", "is_transition": false}"#
        ),
        known(Func::IsochronicTone, false)
    );
    assert_eq!(
        resolved(r#"{"synth_function_name": "isochronic_tone_transition"}"#),
        known(Func::IsochronicTone, false)
    );
    let p = only_voice(
        r#"{"synth_function_name": "subliminal_encode", "is_transition": true, "params": {}}"#,
    );
    assert!(p.track.voices[0].transition.is_none());
    assert!(matches!(
        p.track.voices[0].params,
        VoiceParams::Subliminal(_)
    ));
    assert!(p.report.warnings.iter().any(|w| matches!(
        &w.kind,
        WarningKind::NoTransitionVariant(n) if n == "subliminal_encode"
    ) && w.location.step == Some(0)
        && w.location.voice == Some(0)));
}

// ---- §5 envelopes -------------------------------------------------------------------------

fn envelope(env: &str) -> Parsed {
    only_voice(&format!(
        r#"{{"synth_function_name": "binaural_beat", "volume_envelope": {env}}}"#
    ))
}

#[test]
fn envelope_types_and_defaults() {
    let e = |env: &str| envelope(env).track.voices[0].envelope;
    // null, missing or {} = no envelope: the click guard applies (§4.3).
    assert_eq!(e("null"), EnvelopeSpec::None);
    assert_eq!(e("{}"), EnvelopeSpec::None);
    assert_eq!(
        only_voice(r#"{"synth_function_name": "binaural_beat"}"#)
            .track
            .voices[0]
            .envelope,
        EnvelopeSpec::None
    );
    assert_eq!(
        e(
            r#"{"type": "linear_fade", "params": {"fade_duration": 0.1, "start_amp": 0.0, "end_amp": 1.0}}"#
        ),
        EnvelopeSpec::LinearFade {
            fade_duration: 0.1,
            start_amp: 0.0,
            end_amp: 1.0
        }
    );
    // §5 table defaults.
    assert_eq!(
        e(r#"{"type": "adsr", "params": {}}"#),
        EnvelopeSpec::Adsr {
            attack: 0.01,
            decay: 0.1,
            sustain_level: 0.8,
            release: 0.1
        }
    );
    assert_eq!(
        e(
            r#"{"type": "adsr", "params": {"attack": 0.2, "decay": 0.3, "sustain_level": 0.5, "release": 0.4}}"#
        ),
        EnvelopeSpec::Adsr {
            attack: 0.2,
            decay: 0.3,
            sustain_level: 0.5,
            release: 0.4
        }
    );
    assert_eq!(
        e(r#"{"type": "linen"}"#),
        EnvelopeSpec::Linen {
            attack: 0.1,
            release: 0.1
        }
    );
}

#[test]
fn envelope_incomplete_or_unknown_is_flat_with_a_warning() {
    // §5: PY requires all three linear_fade params, else flat; other types: flat + warning.
    let p =
        envelope(r#"{"type": "linear_fade", "params": {"fade_duration": 0.1, "end_amp": 1.0}}"#);
    assert_eq!(p.track.voices[0].envelope, EnvelopeSpec::Flat);
    let w = warning_at(&p.report, "volume_envelope");
    assert_eq!(w.kind, WarningKind::IncompleteEnvelope);
    assert_eq!((w.location.step, w.location.voice), (Some(0), Some(0)));
    let p = envelope(r#"{"type": "exp_decay", "params": {}}"#);
    assert_eq!(p.track.voices[0].envelope, EnvelopeSpec::Flat);
    let w = warning_at(&p.report, "volume_envelope");
    assert!(matches!(&w.kind, WarningKind::UnknownEnvelope(s) if s == "exp_decay"));
}

// ---- §7 transition timing keys ------------------------------------------------------------

fn timing(params: &str) -> entrain_engine::model::TransitionSpec {
    let p = ok(&format!(
        r#"{{"progression": [{{"duration": 100, "voices": [{}]}}]}}"#,
        voice_json("binaural_beat_transition", params)
    ));
    p.track.voices[0].transition.unwrap()
}

#[test]
fn transition_timing_keys() {
    // §7.2 defaults: offset 0, duration None (= rest of the step), linear.
    let t = timing("{}");
    assert_eq!(
        (t.initial_offset, t.duration, t.curve),
        (0.0, None, Curve::Linear)
    );
    let t = timing(
        r#"{"initial_offset": 5, "transition_duration": 20, "transition_curve": "logarithmic"}"#,
    );
    assert_eq!(
        (t.initial_offset, t.duration, t.curve),
        (5.0, Some(20.0), Curve::Logarithmic)
    );
    // 0 = an instantaneous jump, not "whole step" (§7.2 GUI quirk).
    assert_eq!(timing(r#"{"transition_duration": 0}"#).duration, Some(0.0));
    // Legacy post_offset (§7.2, honoured as RP does): D - initial_offset - post_offset.
    let t = timing(r#"{"initial_offset": 15, "post_offset": 25}"#);
    assert_eq!(t.duration, Some(60.0));
    // transition_duration wins over post_offset; a post_offset past the end clamps to 0.
    assert_eq!(
        timing(r#"{"transition_duration": 7, "post_offset": 25}"#).duration,
        Some(7.0)
    );
    assert_eq!(timing(r#"{"post_offset": 150}"#).duration, Some(0.0));
}

#[test]
fn transition_curve_names() {
    // §7.3 named curves and the recommended closed set.
    let c = |name: &str| timing(&format!(r#"{{"transition_curve": "{name}"}}"#)).curve;
    assert_eq!(c("linear"), Curve::Linear);
    assert_eq!(c("logarithmic"), Curve::Logarithmic);
    assert_eq!(c("exponential"), Curve::Exponential);
    assert_eq!(c("sine"), Curve::EaseInOut);
    assert_eq!(c("ease_in_out"), Curve::EaseInOut);
    assert_eq!(c("sin_quarter"), Curve::SinQuarter);
    assert_eq!(c("smoothstep"), Curve::Smoothstep);
    assert_eq!(c("pow:2.5"), Curve::Pow(2.5));
    // The README's example expression is recognised textually.
    assert_eq!(c("np.sin(alpha * np.pi / 2)"), Curve::SinQuarter);
    // An inline table.
    let t = timing(r#"{"transition_curve": [[0, 0], [0.5, 0.8], [1, 1]]}"#).curve;
    match t {
        Curve::Table(tab) => {
            assert_eq!(tab.len, 3);
            assert_eq!(&tab.points[..3], &[(0.0, 0.0), (0.5, 0.8), (1.0, 1.0)]);
        }
        other => panic!("{other:?}"),
    }
}

// ---- §9.1 background noise ----------------------------------------------------------------

fn background(obj: &str) -> Parsed {
    ok(&format!(
        r#"{{"progression": [], "background_noise": {obj}}}"#
    ))
}

fn noise_file(obj: &str) -> Option<String> {
    background(obj)
        .info
        .background
        .and_then(|b| b.file.map(|f| f.to_string()))
}

#[test]
fn background_noise_file_aliases() {
    for key in ["file_path", "file", "params_path", "noise_file"] {
        assert_eq!(
            noise_file(&format!(r#"{{"{key}": "n.noise"}}"#)).as_deref(),
            Some("n.noise"),
            "{key}"
        );
    }
}

#[test]
fn background_noise_file_precedence() {
    // First non-empty of file_path, file, params_path, noise_file (noise.rs decisions).
    let all = r#"{"noise_file": "d.noise", "params_path": "c.noise", "file": "b.noise", "file_path": "a.noise"}"#;
    assert_eq!(noise_file(all).as_deref(), Some("a.noise"));
    assert_eq!(
        noise_file(r#"{"noise_file": "d.noise", "params_path": "c.noise", "file": "b.noise", "file_path": ""}"#)
            .as_deref(),
        Some("b.noise")
    );
    assert_eq!(
        noise_file(r#"{"noise_file": "d.noise", "params_path": "c.noise", "file": ""}"#).as_deref(),
        Some("c.noise")
    );
}

#[test]
fn background_noise_gain_aliases() {
    // §9.1 recommendation: gain = `gain` if present, else `amp`, else 1.0.
    let gain = |obj: &str| background(obj).info.background.unwrap().spec.gain;
    assert_eq!(gain(r#"{"params_path": "n.noise", "gain": 0.3}"#), 0.3);
    assert_eq!(gain(r#"{"params_path": "n.noise", "amp": 0.4}"#), 0.4);
    assert_eq!(
        gain(r#"{"params_path": "n.noise", "amp": 0.4, "gain": 0.3}"#),
        0.3
    );
    assert_eq!(gain(r#"{"params_path": "n.noise"}"#), 1.0);
}

#[test]
fn background_noise_start_time_alias() {
    // §9.1: `start_time`, read by RP2 also as `start_time_seconds`.
    let start = |obj: &str| background(obj).info.background.unwrap().spec.start_time;
    assert_eq!(start(r#"{"params_path": "n.noise", "start_time": 4}"#), 4.0);
    assert_eq!(
        start(r#"{"params_path": "n.noise", "start_time_seconds": 6}"#),
        6.0
    );
    assert_eq!(
        start(r#"{"params_path": "n.noise", "start_time_seconds": 6, "start_time": 4}"#),
        4.0
    );
    assert_eq!(start(r#"{"params_path": "n.noise"}"#), 0.0);
}

#[test]
fn background_noise_fades_envelope_and_inline_params() {
    let p = background(
        r#"{"gain": 0.5, "fade_in": 2, "fade_out": 3, "amp_envelope": [[0, 1], [10, 0.5]], "pan": 0.7, "type": "ignored",
            "params": {"noise_type": "brown", "lfo_freq": 0.1}}"#,
    );
    let n = p.track.noise.unwrap();
    assert_eq!((n.gain, n.fade_in, n.fade_out), (0.5, 2.0, 3.0));
    assert_eq!(&n.envelope[..n.envelope_len], &[(0.0, 1.0), (10.0, 0.5)]);
    assert_eq!(n.params.colour, Colour::Brown);
    assert_eq!(n.params.lfo_freq, 0.1);
    assert!(p.report.warnings.is_empty() && p.report.errors.is_empty());
}

#[test]
fn background_noise_file_wins_over_inline_params() {
    let p = background(r#"{"params_path": "n.noise", "params": {"noise_type": "brown"}}"#);
    let b = p.info.background.unwrap();
    assert_eq!(b.file.as_deref(), Some("n.noise"));
    assert!(!b.has_params);
    // The host completes the noise from the file.
    assert!(p.track.noise.is_none());
}

#[test]
fn background_noise_absent_or_empty_is_no_noise() {
    // The GUI writes `file_path: ""` and `amp: 0.0` when no noise is chosen.
    for obj in ["{}", "null", r#"{"file_path": "", "amp": 0.0, "pan": 0.0}"#] {
        let p = background(obj);
        assert!(p.info.background.is_none(), "{obj}");
        assert!(p.track.noise.is_none(), "{obj}");
    }
}

#[test]
fn noise_parameters_alias_color_params() {
    // NOISE.md §1 (SB): `noise_parameters` (alias `color_params`).
    let colour = |inner: &str| {
        background(&format!(r#"{{"params": {{{inner}}}}}"#))
            .track
            .noise
            .unwrap()
            .params
            .colour
    };
    let exp = |e: f32| {
        Colour::Exponent(ExponentModel {
            exponent: e,
            high_exponent: e,
            curve: 1.0,
        })
    };
    assert_eq!(colour(r#""color_params": {"exponent": 1.5}"#), exp(1.5));
    assert_eq!(colour(r#""noise_parameters": {"exponent": 0.5}"#), exp(0.5));
    assert_eq!(
        colour(r#""color_params": {"exponent": 1.5}, "noise_parameters": {"exponent": 0.5}"#),
        exp(0.5)
    );
}

#[test]
fn noise_sweep_defaults_and_static_notch_aliases() {
    // §9.3: missing sweep keys default to 1000 / 10000 / 30 / 10.
    let p = background(
        r#"{"params": {"sweeps": [{}],
            "static_notches": [{"frequency": 50, "quality": 5, "count": 2}, {"hz": 60}, {"freq": 70, "frequency": 80, "q": 9, "quality": 8, "cascade": 3, "count": 4}]}}"#,
    );
    let s = p.track.noise.unwrap().params;
    assert_eq!(s.sweep_count, 1);
    assert_eq!(s.sweeps[0].min_hz, [1000.0, 1000.0]);
    assert_eq!(s.sweeps[0].max_hz, [10000.0, 10000.0]);
    assert_eq!(s.sweeps[0].q, [30.0, 30.0]);
    assert_eq!(s.sweeps[0].casc, [10.0, 10.0]);
    // VOICES.md §13.2: `{freq|frequency|hz, q|quality, cascade|count}`, first name wins.
    assert_eq!(s.static_count, 3);
    let n = &s.static_notches;
    assert_eq!((n[0].freq_hz, n[0].q, n[0].cascade), (50.0, 5.0, 2));
    assert_eq!((n[1].freq_hz, n[1].q, n[1].cascade), (60.0, 25.0, 1));
    assert_eq!((n[2].freq_hz, n[2].q, n[2].cascade), (70.0, 9.0, 3));
}

// ---- §10.1 overlay clips ------------------------------------------------------------------

fn clips(list: &str) -> Parsed {
    ok(&format!(
        r#"{{"progression": [], "overlay_clips": {list}}}"#
    ))
}

#[test]
fn clip_aliases_each_alone() {
    let p = clips(
        r#"[{"file_path": "a.wav"}, {"path": "b.wav", "start_time": 2.5, "gain": 0.25}, {"file": "c.wav", "start": 1.5, "amp": 0.75}]"#,
    );
    let c = &p.info.clip_entries;
    let got: Vec<(&str, f64, f64)> = c
        .iter()
        .map(|c| (c.path.as_str(), c.start, c.gain))
        .collect();
    assert_eq!(
        got,
        vec![
            ("a.wav", 0.0, 1.0),
            ("b.wav", 2.5, 0.25),
            ("c.wav", 1.5, 0.75)
        ]
    );
}

#[test]
fn clip_alias_precedence() {
    // GUI names first (`file_path`, `start`, `amp`), then PY's (`path`, `start_time`,
    // `gain`), then RP's `file`.
    let p = clips(
        r#"[{"file": "c.wav", "path": "b.wav", "file_path": "a.wav", "start_time": 9, "start": 1, "gain": 0.1, "amp": 0.9},
            {"file": "c.wav", "path": "b.wav"}]"#,
    );
    let c = &p.info.clip_entries;
    assert_eq!(
        (c[0].path.as_str(), c[0].start, c[0].gain),
        ("a.wav", 1.0, 0.9)
    );
    assert_eq!(c[1].path.as_str(), "b.wav");
}

#[test]
fn clip_gui_keys() {
    // §10.1: pan, fade_in, fade_out and duration implemented as the GUI intends; a
    // duration <= 0 means the whole file; `description` is a label.
    let p = clips(
        r#"[{"path": "a.wav", "pan": -0.5, "fade_in": 1, "fade_out": 2, "duration": 3, "description": "x"},
            {"path": "b.wav", "duration": 0}]"#,
    );
    let c = &p.info.clip_entries;
    assert_eq!(
        (c[0].pan, c[0].fade_in, c[0].fade_out, c[0].duration),
        (-0.5, 1.0, 2.0, Some(3.0))
    );
    assert_eq!((c[1].pan, c[1].fade_in, c[1].duration), (0.0, 0.0, None));
    assert_eq!(c[1].index, 1);
}

// ---- VOICES.md per-voice aliases and fallback chains ---------------------------------------

#[test]
fn binaural_transition_pattern_one() {
    // VOICES.md §1.3 / TRACK_FORMAT.md §7.1 pattern 1:
    // startP = startP ?? P ?? default, endP = endP ?? startP.
    let VoiceParams::Binaural(b) = params(
        "binaural_beat_transition",
        r#"{"ampL": 0.3, "startAmpR": 0.2, "endAmpR": 0.1, "baseFreq": 180, "endBaseFreq": 120,
            "endBeatFreq": 2, "ampOscDepthL": 0.4, "startFreqOscRangeR": 3,
            "startPhaseL": 1.0, "endStartPhaseL": 2.0, "startStartPhaseR": 0.5,
            "glitchInterval": 4, "endGlitchDur": 0.2, "leftHigh": true, "freqOscShape": "Triangle"}"#,
    ) else {
        panic!()
    };
    assert_eq!(b.amp, [Pair::new(0.3, 0.3), Pair::new(0.2, 0.1)]);
    assert_eq!(b.base_freq, Pair::new(180.0, 120.0));
    assert_eq!(b.beat_freq, Pair::new(4.0, 2.0));
    assert_eq!(b.am[0].depth, Pair::fixed(0.4));
    assert_eq!(b.fm[1].range, Pair::fixed(3.0));
    assert_eq!(b.start_phase, [Pair::new(1.0, 2.0), Pair::fixed(0.5)]);
    assert_eq!(b.glitch.interval, Pair::fixed(4.0));
    assert_eq!(b.glitch.dur, Pair::new(0.0, 0.2));
    assert!(b.left_high);
    assert_eq!(b.fm_shape, entrain_dsp::osc::LfoShape::Triangle);
}

#[test]
fn binaural_static_reads_static_names_only() {
    let VoiceParams::Binaural(b) = params(
        "binaural_beat",
        r#"{"baseFreq": 220, "startBaseFreq": 999, "endBeatFreq": 9, "ampR": 0.1}"#,
    ) else {
        panic!()
    };
    assert_eq!(b.base_freq, Pair::fixed(220.0));
    assert_eq!(b.beat_freq, Pair::fixed(4.0));
    assert_eq!(b.amp, [Pair::fixed(0.5), Pair::fixed(0.1)]);
}

#[test]
fn isochronic_transition_keys() {
    // VOICES.md §2.3: pattern 1 except startBaseFreq/startBeatFreq (200 / 4, the static
    // names not consulted); ForceMono as a number; HarmonicSuppression on if either end
    // is; `pan` not interpolated.
    let VoiceParams::Isochronic(i) = params(
        "isochronic_tone_transition",
        r#"{"baseFreq": 300, "beatFreq": 10, "endBaseFreq": 250, "ampL": 0.3, "endAmpL": 0.1,
            "rampPercent": 0.3, "endGapPercent": 0.5, "forceMono": 1, "endForceMono": 0,
            "endHarmonicSuppression": true, "pan": -0.5, "startPan": 0.9}"#,
    ) else {
        panic!()
    };
    assert_eq!(i.base_freq, Pair::new(200.0, 250.0));
    assert_eq!(i.beat_freq, Pair::fixed(4.0));
    assert_eq!(i.amp[0], Pair::new(0.3, 0.1));
    assert_eq!(i.ramp_percent, Pair::fixed(0.3));
    assert_eq!(i.gap_percent, Pair::new(0.15, 0.5));
    assert_eq!(i.force_mono, Pair::new(1.0, 0.0));
    assert!(i.harmonic_suppression);
    assert_eq!(i.pan, -0.5);
    let VoiceParams::Isochronic(i) = params(
        "isochronic_tone",
        r#"{"baseFreq": 300, "beatFreq": 10, "forceMono": "yes", "harmonicSuppression": "on"}"#,
    ) else {
        panic!()
    };
    assert_eq!(
        (i.base_freq, i.beat_freq, i.force_mono),
        (Pair::fixed(300.0), Pair::fixed(10.0), Pair::fixed(1.0))
    );
    assert!(i.harmonic_suppression);
}

#[test]
fn hybrid_transition_pattern_one() {
    // VOICES.md §5: all 20 keys pair as startX/endX with fallback to the static name.
    let VoiceParams::Hybrid(h) = params(
        "hybrid_qam_monaural_beat_transition",
        r#"{"monoStartPhaseR_Tone1": 0.5, "startMonoStartPhaseR_Tone2": 0.25, "endMonoStartPhaseR_Tone2": 0.75,
            "qamCarrierFreqL": 150, "endQamCarrierFreqL": 120, "startMonoBeatFreqInChannelR": 6}"#,
    ) else {
        panic!()
    };
    assert_eq!(
        h.mono_start_phase,
        [Pair::fixed(0.5), Pair::new(0.25, 0.75)]
    );
    assert_eq!(h.qam_carrier_freq, Pair::new(150.0, 120.0));
    assert_eq!(h.mono_beat_freq, Pair::fixed(6.0));
    assert_eq!(h.mono_carrier_freq, Pair::fixed(100.0));
}

#[test]
fn stereo_am_transition_pattern_two() {
    // VOICES.md §7: built-in start/end defaults; the static names are not consulted.
    let VoiceParams::StereoAm(s) = params(
        "stereo_am_independent_transition",
        r#"{"carrierFreq": 500, "modFreqR": 9, "startStereoWidthHz": 1.0, "stereo_width_hz": 7, "amp": 0.5}"#,
    ) else {
        panic!()
    };
    assert_eq!(s.carrier_freq, Pair::new(200.0, 250.0));
    assert_eq!(s.mod_freq, [Pair::new(4.0, 6.0), Pair::new(4.1, 5.9)]);
    assert_eq!(s.stereo_width, Pair::new(1.0, 0.2));
    assert_eq!(s.amp, 0.5);
}

#[test]
fn sam_static_and_transition_keys() {
    // VOICES.md §9.1: static names; the transition is pattern 2 with the static defaults
    // (static names not consulted); amp, frame_dur_ms, overlap_factor fixed.
    let VoiceParams::Sam(s) = params(
        "spatial_angle_modulation",
        r#"{"carrierFreq": 300, "beatFreq": 2, "pathShape": "arc", "arcEndDeg": 90, "amp": 0.4, "overlap_factor": 4}"#,
    ) else {
        panic!()
    };
    assert_eq!(s.carrier_freq, Pair::fixed(300.0));
    assert_eq!(s.beat_freq, Pair::fixed(2.0));
    assert_eq!(s.shape, [PathShape::Arc, PathShape::Arc]);
    assert_eq!(s.arc_end_deg, Pair::fixed(90.0));
    assert_eq!((s.amp, s.overlap_factor), (0.4, 4));
    let VoiceParams::Sam(s) = params(
        "spatial_angle_modulation_transition",
        r#"{"carrierFreq": 300, "endCarrierFreq": 500, "startPathShape": "square", "endPathShape": "diamond", "pathRadius": 3}"#,
    ) else {
        panic!()
    };
    assert_eq!(s.carrier_freq, Pair::new(440.0, 500.0));
    assert_eq!(s.shape, [PathShape::Square, PathShape::Diamond]);
    assert_eq!(s.path_radius, Pair::fixed(1.0));
}

#[test]
fn sam_unknown_path_shape_is_a_circle_with_a_warning() {
    let json = one_voice_track(&voice_json(
        "spatial_angle_modulation",
        r#"{"pathShape": "spiral"}"#,
    ));
    let p = ok(&json);
    let VoiceParams::Sam(s) = p.track.voices[0].params else {
        panic!()
    };
    assert_eq!(s.shape, [PathShape::Circle; 2]);
    let w = warning_at(&p.report, "pathShape");
    assert!(matches!(&w.kind, WarningKind::UnknownPathShape(n) if n == "spiral"));
}

fn subliminal_names(params_json: &str) -> (Vec<String>, entrain_engine::model::SubliminalParams) {
    let json = one_voice_track(&voice_json("subliminal_encode", params_json));
    let p = ok(&json);
    let VoiceParams::Subliminal(s) = p.track.voices[0].params else {
        panic!()
    };
    let names = s
        .names()
        .iter()
        .map(|r| json[r.start as usize..r.end as usize].to_string())
        .collect();
    (names, s)
}

#[test]
fn subliminal_source_keys() {
    // VOICES.md §11: `audio_paths` (a list, or one `;`-separated string) takes precedence
    // over `audio_path`; `mode` case-insensitive; `carrierFreq` clipped to 15..20 kHz.
    let (names, s) = subliminal_names(r#"{"audio_path": "one.wav"}"#);
    assert_eq!(names, vec!["one.wav"]);
    assert_eq!(s.mode, SubliminalMode::Sequence);
    assert_eq!((s.carrier_hz, s.amp), (17_500.0, 0.5));
    let (names, s) = subliminal_names(
        r#"{"audio_path": "one.wav", "audio_paths": ["a.wav", "b.wav"], "mode": "STACK", "carrierFreq": 25000, "amp": 0.2}"#,
    );
    assert_eq!(names, vec!["a.wav", "b.wav"]);
    assert_eq!(s.mode, SubliminalMode::Stack);
    assert_eq!((s.carrier_hz, s.amp), (20_000.0, 0.2));
    let (names, s) = subliminal_names(r#"{"audio_paths": "a.wav;b.wav", "carrierFreq": 1000}"#);
    // One `;`-separated string: kept whole, split by the host.
    assert_eq!(names, vec!["a.wav;b.wav"]);
    assert_eq!(s.carrier_hz, 15_000.0);
}

#[test]
fn flanger_start_end_keys_fall_back_to_plain_keys() {
    // VOICES.md §14.1: startFlange…/endFlange… inherit the plain flange… value.
    let v = voice(
        "binaural_beat_transition",
        r#"{"flangeEnable": true, "flangeDelayMs": 2.0, "endFlangeDelayMs": 3.0, "startFlangeMix": 0.9,
            "flangeShape": "triangle", "endFlangeShape": "sine", "flangeStereoMode": 2, "endFlangeEnable": false}"#,
    );
    let f = v.flanger.unwrap();
    assert_eq!((f.start.delay_ms, f.end.delay_ms), (2.0, 3.0));
    assert_eq!((f.start.wet, f.end.wet), (0.9, 0.3));
    assert_eq!((f.start.shape, f.end.shape), (Shape::Triangle, Shape::Sine));
    assert_eq!(f.end.stereo_mode, StereoMode::MidOnly);
    assert_eq!(f.enable, [true, false]);
}

#[test]
fn flanger_off_unless_flange_enable_is_truthy() {
    // TRACK_FORMAT.md §4.2: if flangeEnable is falsy, all flange keys are forced off,
    // including startFlangeEnable/endFlangeEnable.
    for enable in [
        "",
        r#""flangeEnable": false, "#,
        r#""flangeEnable": 0, "#,
        r#""flangeEnable": "off", "#,
    ] {
        let v = voice(
            "binaural_beat_transition",
            &format!(
                r#"{{{enable}"startFlangeEnable": true, "endFlangeEnable": true, "flangeDelayMs": 2.0}}"#
            ),
        );
        assert!(v.flanger.is_none(), "{enable}");
    }
    // Both ends disabled: no flanger either.
    let v = voice(
        "binaural_beat",
        r#"{"flangeEnable": 1, "startFlangeEnable": false, "endFlangeEnable": false}"#,
    );
    assert!(v.flanger.is_none());
}

#[test]
fn spatializer_keys() {
    // VOICES.md §15.1: `[]` = static source, absent = the built-in oscillation;
    // `spatialUseItdIld` (written by the GUI) is not read: a warning.
    let v = voice(
        "binaural_beat",
        r#"{"spatialEnable": true, "spatialTrajectory": []}"#,
    );
    assert_eq!(v.spatial.unwrap().trajectory, Trajectory::empty());
    let json = one_voice_track(&voice_json(
        "isochronic_tone",
        r#"{"spatialEnable": 1, "spatialUseItdIld": 0, "spatialDecoder": "FOA_Cardioid", "spatialInterp": "linear", "spatialUseIld": 0}"#,
    ));
    let p = ok(&json);
    let s = p.track.voices[0].spatial.unwrap();
    assert_eq!(s.trajectory, Trajectory::default_oscillate());
    assert_eq!(s.decoder, Decoder::FoaCardioid);
    assert_eq!(s.interp, Interp::Linear);
    assert!(!s.use_ild);
    assert_eq!(
        warning_at(&p.report, "spatialUseItdIld").kind,
        WarningKind::IgnoredKey
    );
    // Off unless spatialEnable is truthy.
    assert!(voice("binaural_beat", r#"{"spatialTrajectory": []}"#)
        .spatial
        .is_none());
}
