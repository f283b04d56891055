//! Value coercions of TRACK_FORMAT.md §4.2 and §14: numbers may be JSON numbers, numeric
//! strings (Python `float()` rules) or booleans (`true` = 1.0); booleans accept booleans,
//! numbers and the words true/false/1/0/yes/no/on/off; `null` means "use the default";
//! unknown keys are ignored everywhere (§1.1); `duration`/`sample_rate` inside `params`
//! are ignored with a warning (§4.2).
//!
//! Coverage map: `tests/README.md`.

#![allow(clippy::unwrap_used)]

mod common;

use common::{error_at, ok, one_voice_track, params, voice, voice_fails, voice_json, warning_at};
use entrain_dsp::delay::Interp;
use entrain_dsp::flanger::{Law, StereoMode};
use entrain_engine::model::{EnvelopeSpec, Pair, VoiceParams};
use entrain_format::{ErrorKind, WarningKind};

fn binaural(p: &str) -> entrain_engine::model::BinauralParams {
    match params("binaural_beat", p) {
        VoiceParams::Binaural(b) => b,
        other => panic!("{other:?}"),
    }
}

fn binaural_t(p: &str) -> entrain_engine::model::BinauralParams {
    match params("binaural_beat_transition", p) {
        VoiceParams::Binaural(b) => b,
        other => panic!("{other:?}"),
    }
}

#[test]
fn numeric_strings_in_params() {
    // Python float(): surrounding whitespace, sign, exponent, `_` between digits.
    let b = binaural(
        r#"{"baseFreq": "250", "beatFreq": " 7.5 ", "ampL": "-0.25", "ampR": "5e-1", "phaseOscFreq": "1_0"}"#,
    );
    assert_eq!(b.base_freq, Pair::fixed(250.0));
    assert_eq!(b.beat_freq, Pair::fixed(7.5));
    assert_eq!(b.amp, [Pair::fixed(-0.25), Pair::fixed(0.5)]);
    assert_eq!(b.phase_osc_freq, Pair::fixed(10.0));
    // Transition pairs too.
    let b = binaural_t(r#"{"startBaseFreq": "300", "endBaseFreq": "150.5"}"#);
    assert_eq!(b.base_freq, Pair::new(300.0, 150.5));
}

#[test]
fn booleans_in_numeric_slots() {
    let b = binaural(r#"{"ampL": true, "ampR": false, "beatFreq": true}"#);
    assert_eq!(b.amp, [Pair::fixed(1.0), Pair::fixed(0.0)]);
    assert_eq!(b.beat_freq, Pair::fixed(1.0));
}

#[test]
fn numeric_strings_outside_params() {
    // §14: numbers anywhere may arrive as strings (global, steps, envelopes, clips, noise).
    let p = ok(
        r#"{"global": {"sample_rate": "48000", "crossfade_duration": "1.5"},
        "progression": [{"duration": "2.5", "start": "1", "voices": [
            {"synth_function_name": "binaural_beat_transition", "is_transition": "true",
             "params": {"initial_offset": "0.5", "transition_duration": "1"},
             "volume_envelope": {"type": "linear_fade", "params": {"fade_duration": "0.2", "start_amp": "0", "end_amp": "1"}}}]}],
        "background_noise": {"gain": "0.3", "fade_in": "2", "params": {"lfo_freq": "0.1"}},
        "overlay_clips": [{"path": "a.wav", "start": "1.5", "amp": "0.5"}]}"#,
    );
    assert_eq!(p.track.sample_rate, 48000);
    assert_eq!(p.track.crossfade_duration, Some(1.5));
    assert_eq!(
        (p.track.steps[0].duration, p.track.steps[0].start),
        (2.5, 1.0)
    );
    let v = &p.track.voices[0];
    let t = v.transition.unwrap();
    assert_eq!((t.initial_offset, t.duration), (0.5, Some(1.0)));
    assert_eq!(
        v.envelope,
        EnvelopeSpec::LinearFade {
            fade_duration: 0.2,
            start_amp: 0.0,
            end_amp: 1.0
        }
    );
    let n = p.track.noise.unwrap();
    assert_eq!((n.gain, n.fade_in, n.params.lfo_freq), (0.3, 2.0, 0.1));
    let c = &p.info.clip_entries[0];
    assert_eq!((c.start, c.gain), (1.5, 0.5));
}

#[test]
fn null_params_mean_default() {
    // §4.2: keys whose value is `null` are removed before the call: the default applies,
    // and for transitions the fallback chain continues (`startX ?? X ?? default`).
    let b = binaural(r#"{"baseFreq": null, "ampL": null, "leftHigh": null, "freqOscShape": null}"#);
    assert_eq!(b.base_freq, Pair::fixed(200.0));
    assert_eq!(b.amp[0], Pair::fixed(0.5));
    assert!(!b.left_high);
    let b = binaural_t(r#"{"startBaseFreq": null, "baseFreq": 300, "endBaseFreq": null}"#);
    assert_eq!(b.base_freq, Pair::fixed(300.0));
    // Timing keys and envelopes too.
    let v = voice(
        "binaural_beat_transition",
        r#"{"initial_offset": null, "transition_duration": null, "transition_curve": null}"#,
    );
    assert_eq!(v.transition.unwrap(), Default::default());
    // Outside params: a null global value is the default.
    let p = ok(
        r#"{"global": {"sample_rate": null, "crossfade_duration": null}, "progression": [{"duration": 1, "start": null}]}"#,
    );
    assert_eq!(p.track.sample_rate, 44100);
    assert_eq!(p.track.crossfade_duration, None);
    assert_eq!(p.track.steps[0].start, 0.0);
    // A null canonical alias falls through to the next spelling.
    let p = ok(r#"{"progression": [{"duration": null, "Duration": 3}]}"#);
    assert_eq!(p.track.steps[0].duration, 3.0);
}

#[test]
fn boolean_words() {
    // Booleans accept true/false, numbers (non-zero = true) and the words
    // true/false/1/0/yes/no/on/off in any case (isochronic_tone's harmonicSuppression
    // parser, used for every boolean here).
    for (lit, want) in [
        ("true", true),
        ("false", false),
        ("1", true),
        ("0", false),
        ("2.5", true),
        ("\"yes\"", true),
        ("\"No\"", false),
        ("\"ON\"", true),
        ("\"off\"", false),
        ("\"1\"", true),
        ("\"0\"", false),
        ("\"True\"", true),
    ] {
        let b = binaural(&format!(r#"{{"leftHigh": {lit}}}"#));
        assert_eq!(b.left_high, want, "leftHigh: {lit}");
        let VoiceParams::Isochronic(i) = params(
            "isochronic_tone",
            &format!(r#"{{"harmonicSuppression": {lit}}}"#),
        ) else {
            panic!()
        };
        assert_eq!(i.harmonic_suppression, want, "harmonicSuppression: {lit}");
    }
}

#[test]
fn the_string_false_is_false() {
    // PY's `bool("false")` is True (TRACK_FORMAT.md §4.2 quirk); the engine reads the word,
    // as isochronic_tone's stricter parser does, instead of reproducing the quirk.
    assert!(!binaural(r#"{"leftHigh": "false"}"#).left_high);
    let p = ok(&one_voice_track(
        r#"{"synth_function_name": "binaural_beat", "is_transition": "false"}"#,
    ));
    assert!(p.track.voices[0].transition.is_none());
    let v = voice("binaural_beat", r#"{"flangeEnable": "false"}"#);
    assert!(v.flanger.is_none());
}

#[test]
fn is_transition_coercions() {
    for lit in ["true", "1", "\"yes\"", "\"true\""] {
        let p = ok(&one_voice_track(&format!(
            r#"{{"synth_function_name": "binaural_beat", "is_transition": {lit}}}"#
        )));
        assert!(p.track.voices[0].transition.is_some(), "{lit}");
    }
}

#[test]
fn integer_keys_truncate_like_python_int() {
    // VOICES.md §14.1 mapping: `int(x)`, so 2.7 → 2 and true → 1.
    let v = voice(
        "binaural_beat",
        r#"{"flangeEnable": true, "flangeStereoMode": 2.7, "flangeDelayLaw": true, "flangeInterp": "1", "flangeLoudnessMode": 0.4}"#,
    );
    let f = v.flanger.unwrap().start;
    assert_eq!(f.stereo_mode, StereoMode::MidOnly);
    assert_eq!(f.law, Law::Inverse);
    assert_eq!(f.interp, Interp::Lagrange3);
    assert!(!f.loudness);
}

#[test]
fn duration_and_sample_rate_in_params_are_ignored_with_a_warning() {
    // §4.2: PY passes them twice (the voice fails); recommendation: ignore them.
    let json = r#"{"global": {"sample_rate": 44100}, "progression": [
        {"duration": 2.0, "voices": [{"synth_function_name": "binaural_beat",
          "params": {"duration": 99, "sample_rate": 8000, "baseFreq": 10000}}]}]}"#;
    let p = ok(json);
    assert_eq!(p.track.steps[0].duration, 2.0);
    assert_eq!(p.track.sample_rate, 44100);
    for key in ["duration", "sample_rate"] {
        let w = warning_at(&p.report, key);
        assert_eq!(w.kind, WarningKind::IgnoredKey);
        assert_eq!((w.location.step, w.location.voice), (Some(0), Some(0)));
    }
    // baseFreq 10000 is accepted: the params' sample_rate (Nyquist 4000) was not used.
    let VoiceParams::Binaural(b) = p.track.voices[0].params else {
        panic!()
    };
    assert_eq!(b.base_freq, Pair::fixed(10000.0));
}

#[test]
fn unknown_keys_are_ignored_everywhere() {
    // §1.1: no `deny_unknown_fields`; real files carry extra global keys.
    let plain = r#"{"global": {"sample_rate": 44100},
      "progression": [{"duration": 2, "voices": [{"synth_function_name": "binaural_beat",
          "params": {"baseFreq": 210},
          "volume_envelope": {"type": "linen", "params": {"attack": 0.2}}}]}],
      "background_noise": {"gain": 0.5, "params": {"noise_type": "pink"}},
      "overlay_clips": [{"path": "a.wav", "start": 1}]}"#;
    let extra = r#"{"version": 3, "author": {"name": "x"},
      "global": {"sample_rate": 44100, "parallel_backend": "joblib", "parallel_max_memory_gb": 4,
                 "parallel_voices": true, "parallel_voices_max_workers": 8, "normalization_level": 0.95},
      "progression": [{"duration": 2, "binaural_volume": 0.6, "noise_volume": 0.6, "normalization_level": 0.9, "color": [1, 2],
          "voices": [{"synth_function_name": "binaural_beat", "description": "d", "ui": {"collapsed": true},
          "params": {"baseFreq": 210, "notAParameter": "abc", "someList": [1, {"a": null}]},
          "volume_envelope": {"type": "linen", "params": {"attack": 0.2, "bogus": "x"}, "extra": 1}}]}],
      "background_noise": {"gain": 0.5, "pan": 0.2, "type": "pink", "params": {"noise_type": "pink", "comment": "c"}},
      "overlay_clips": [{"path": "a.wav", "start": 1, "description": "chime", "id": 7}]}"#;
    let a = ok(plain);
    let b = ok(extra);
    assert!(b.report.warnings.is_empty(), "{:?}", b.report.warnings);
    assert_eq!(a.track.voices[0], b.track.voices[0]);
    assert_eq!(a.track.steps[0], b.track.steps[0]);
    assert_eq!(a.track.noise, b.track.noise);
    assert_eq!(a.info.clip_entries[0].path, b.info.clip_entries[0].path);
    assert_eq!(a.info.clip_entries[0].start, b.info.clip_entries[0].start);
}

#[test]
fn repeated_key_keeps_the_last_value() {
    // Python's `json` keeps the last of two identical keys.
    let b = binaural(r#"{"baseFreq": 100, "baseFreq": 300}"#);
    assert_eq!(b.base_freq, Pair::fixed(300.0));
}

#[test]
fn rejected_coercions_are_located() {
    // A string that is not a number, and a word that is not a boolean.
    let r = voice_fails(
        "binaural_beat",
        r#"{"baseFreq": "fast", "leftHigh": "maybe", "ampL": [1]}"#,
    );
    let e = error_at(&r, "baseFreq");
    assert!(matches!(&e.kind, ErrorKind::NotANumber(s) if s == "fast"));
    assert_eq!((e.location.step, e.location.voice), (Some(0), Some(0)));
    let e = error_at(&r, "leftHigh");
    assert!(matches!(&e.kind, ErrorKind::NotABoolean(s) if s == "maybe"));
    let e = error_at(&r, "ampL");
    assert_eq!(
        e.kind,
        ErrorKind::WrongType {
            expected: "a number",
            found: "an array"
        }
    );
    // `"inf"` reads as a number (Python float) and is then rejected as not finite.
    let r = voice_fails("binaural_beat", r#"{"beatFreq": "-inf"}"#);
    assert_eq!(error_at(&r, "beatFreq").kind, ErrorKind::NotFinite);
}

#[test]
fn coerced_voice_equals_the_plain_one() {
    // The same voice written with numbers and with strings/booleans parses identically.
    let a = voice_json(
        "isochronic_tone_transition",
        r#"{"startBaseFreq": 300, "endBaseFreq": 200, "ampL": 1, "forceMono": 1, "harmonicSuppression": true}"#,
    );
    let b = voice_json(
        "isochronic_tone_transition",
        r#"{"startBaseFreq": "300", "endBaseFreq": "2e2", "ampL": true, "forceMono": "1.0", "harmonicSuppression": "yes"}"#,
    );
    assert_eq!(
        ok(&one_voice_track(&a)).track.voices[0],
        ok(&one_voice_track(&b)).track.voices[0]
    );
}
