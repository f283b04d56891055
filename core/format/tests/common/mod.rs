//! Helpers shared by the parser tests: small tracks built from JSON text, parsed through
//! the public [`entrain_format::parse`] API, and lookups of located errors and warnings.

// Each test file uses its own subset of these helpers.
#![allow(dead_code)]
#![allow(clippy::result_large_err)] // test helpers: the report is returned once per parse

use entrain_engine::model::{Track, VoiceParams, VoiceSpec};
use entrain_format::{FormatError, Report, TrackInfo, Warning};

/// A parsed track with its side information and its warnings.
pub struct Parsed {
    /// The track.
    pub track: Box<Track>,
    /// Descriptions, clips, noise, resolved functions.
    pub info: Box<TrackInfo>,
    /// Warnings (no errors: the parse succeeded).
    pub report: Report,
}

/// Parses `json` with the default capacities.
pub fn parse(json: &str) -> Result<Parsed, Report> {
    let mut track = Box::<Track>::default();
    let mut info = Box::<TrackInfo>::default();
    match entrain_format::parse(json.as_bytes(), &mut track, &mut info) {
        Ok(report) => Ok(Parsed {
            track,
            info,
            report,
        }),
        Err(report) => Err(report),
    }
}

/// Parses `json`, which must be accepted.
#[track_caller]
pub fn ok(json: &str) -> Parsed {
    match parse(json) {
        Ok(p) => p,
        Err(r) => panic!("rejected: {}\n{json}", list(&r)),
    }
}

/// Parses `json`, which must be rejected; returns the errors.
#[track_caller]
pub fn fails(json: &str) -> Report {
    match parse(json) {
        Ok(_) => panic!("accepted: {json}"),
        Err(r) => r,
    }
}

/// Every error and warning of `r`, one a line (for failure messages).
pub fn list(r: &Report) -> String {
    let mut s: Vec<String> = r.errors.iter().map(|e| format!("error: {e}")).collect();
    s.extend(r.warnings.iter().map(|w| format!("warning: {w}")));
    s.join("\n")
}

/// The only error located at `key`.
#[track_caller]
pub fn error_at<'r>(r: &'r Report, key: &str) -> &'r FormatError {
    let found: Vec<_> = r
        .errors
        .iter()
        .filter(|e| e.location.key.as_str() == key)
        .collect();
    match found.as_slice() {
        [e] => e,
        _ => panic!(
            "expected one error at `{key}`, found {}:\n{}",
            found.len(),
            list(r)
        ),
    }
}

/// The only warning located at `key` (`""`: a warning with no key).
#[track_caller]
pub fn warning_at<'r>(r: &'r Report, key: &str) -> &'r Warning {
    let found: Vec<_> = r
        .warnings
        .iter()
        .filter(|w| w.location.key.as_str() == key)
        .collect();
    match found.as_slice() {
        [w] => w,
        _ => panic!(
            "expected one warning at `{key}`, found {}:\n{}",
            found.len(),
            list(r)
        ),
    }
}

/// A v2 track at 44.1 kHz with one 1 s step holding one voice (`voice`: a JSON object).
pub fn one_voice_track(voice: &str) -> String {
    format!(
        r#"{{"global": {{"sample_rate": 44100}}, "progression": [{{"duration": 1.0, "voices": [{voice}]}}]}}"#
    )
}

/// The voice object of `func` with `params` (`is_transition` from the `_transition`
/// suffix, as the GUI writes it).
pub fn voice_json(func: &str, params: &str) -> String {
    format!(
        r#"{{"synth_function_name": "{func}", "is_transition": {}, "params": {params}}}"#,
        func.ends_with("_transition")
    )
}

/// Parses a one-voice track (which must be accepted) and returns the voice.
#[track_caller]
pub fn voice(func: &str, params: &str) -> VoiceSpec {
    let p = ok(&one_voice_track(&voice_json(func, params)));
    assert_eq!(p.track.voices.len(), 1);
    p.track.voices[0]
}

/// The parameters of [`voice`].
#[track_caller]
pub fn params(func: &str, params: &str) -> VoiceParams {
    voice(func, params).params
}

/// Parses a one-voice track that must be rejected.
#[track_caller]
pub fn voice_fails(func: &str, params: &str) -> Report {
    fails(&one_voice_track(&voice_json(func, params)))
}
