//! Differential test of the track parser: every shared track file is read a second time,
//! independently, with `serde_json::Value` and the rules of TRACK_FORMAT.md (aliases
//! §1.1–§4, numeric coercion §4.2, function resolution §4.1, transition pattern 1 §7.1),
//! and compared with what `entrain_format::parse` produced: steps and their durations,
//! sample rate, crossfade settings, each voice's resolved function, and the key numeric
//! parameters of binaural and isochronic voices.
//!
//! Then mutated copies of a track (a number written as a numeric string, a parameter set
//! to `null`, keys renamed to an alias) must parse to the same model (§1.1, §4.2).

// Test code: a failed unwrap is a test failure with its location.
#![allow(clippy::unwrap_used)]

use entrain_conformance::shared_tracks_dir;
use entrain_dsp::crossfade::CrossfadeCurve;
use entrain_engine::model::{Track, VoiceParams};
use entrain_format::track::{
    function_name, CROSSFADE_KEYS, CURVE_KEYS, DURATION_KEYS, FUNCTION_KEYS, GLOBAL_KEYS,
    PARAMS_KEYS, SAMPLE_RATE_KEYS, STEPS_KEYS, TRANSITION_KEYS,
};
use entrain_format::voices::Resolved;
use entrain_format::TrackInfo;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Every `*.json` under `dir`, recursively, sorted.
fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            json_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "json") {
            out.push(p);
        }
    }
}

/// The first present, non-null value among `keys` (canonical first, §1.1).
fn first<'a>(obj: &'a Value, keys: &[&str]) -> Option<&'a Value> {
    keys.iter()
        .filter_map(|k| obj.get(*k))
        .find(|v| !v.is_null())
}

/// A number as Python's `float()` reads it (§4.2): numbers, numeric strings, booleans.
fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        Value::String(s) => s.trim().replace('_', "").parse().ok(),
        _ => None,
    }
}

/// A flag as the parser reads it (§4.2: true/false, numbers, the usual words).
fn flag(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|x| x != 0.0),
        Value::String(s) => matches!(
            s.trim().to_ascii_lowercase().as_str(),
            "true" | "1" | "yes" | "on" | "1.0"
        ),
        _ => false,
    }
}

fn parse(json: &str) -> Result<(Box<Track>, Box<TrackInfo>), String> {
    let mut track = Box::<Track>::default();
    let mut info = Box::<TrackInfo>::default();
    entrain_format::parse(json.as_bytes(), &mut track, &mut info)
        .map(|_| (track, info))
        .map_err(|r| entrain_conformance::format_errors(&r))
}

/// Pattern 1 of §7.1 for the start value: `startX ?? X ?? default` (static: `X ?? d`).
fn start_value(params: &Value, key: &str, transition: bool, default: f64) -> f64 {
    let mut cap = key.to_owned();
    cap[..1].make_ascii_uppercase();
    let start = if transition {
        params.get(format!("start{cap}")).and_then(num)
    } else {
        None
    };
    start
        .or_else(|| params.get(key).and_then(num))
        .unwrap_or(default)
}

/// Pattern 1 for the end value: `endX ?? startX`.
fn end_value(params: &Value, key: &str, default: f64) -> f64 {
    let mut cap = key.to_owned();
    cap[..1].make_ascii_uppercase();
    params
        .get(format!("end{cap}"))
        .and_then(num)
        .unwrap_or_else(|| start_value(params, key, true, default))
}

/// Compares one file; returns the mismatches and the number of values compared.
fn compare(name: &str, json: &str) -> (Vec<String>, usize) {
    let v: Value = serde_json::from_str(json).unwrap();
    let (track, info) = match parse(json) {
        Ok(t) => t,
        Err(e) => return (vec![format!("{name}: does not parse: {e}")], 0),
    };
    let mut bad = Vec::new();
    let mut n = 0;
    let mut check = |what: String, ok: bool| {
        n += 1;
        if !ok {
            bad.push(format!("{name}: {what}"));
        }
    };
    let global = first(&v, GLOBAL_KEYS).cloned().unwrap_or(Value::Null);
    let sr = first(&global, SAMPLE_RATE_KEYS)
        .and_then(num)
        .unwrap_or(44_100.0);
    check(
        format!("sample rate {} vs {sr}", track.sample_rate),
        track.sample_rate as f64 == sr,
    );
    let cf = first(&global, CROSSFADE_KEYS).and_then(num);
    check(
        format!("crossfade {:?} vs {cf:?}", track.crossfade_duration),
        track.crossfade_duration == cf,
    );
    let curve = match first(&global, CURVE_KEYS).and_then(Value::as_str) {
        Some("equal_power") => CrossfadeCurve::EqualPower,
        _ => CrossfadeCurve::Linear,
    };
    check(
        format!("crossfade curve {:?} vs {curve:?}", track.crossfade_curve),
        track.crossfade_curve == curve,
    );
    let steps = first(&v, STEPS_KEYS)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    check(
        format!("{} steps vs {}", track.steps.len(), steps.len()),
        track.steps.len() == steps.len(),
    );
    let mut vi = 0;
    for (si, (step, js)) in track.steps.iter().zip(&steps).enumerate() {
        let d = first(js, DURATION_KEYS).and_then(num).unwrap_or(0.0);
        check(
            format!("step {si}: duration {} vs {d}", step.duration),
            step.duration == d,
        );
        let own_cf = js.get("crossfade_duration").and_then(num);
        check(
            format!(
                "step {si}: crossfade {:?} vs {own_cf:?}",
                step.crossfade_duration
            ),
            step.crossfade_duration == own_cf,
        );
        let voices = js
            .get("voices")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        check(
            format!("step {si}: {} voices vs {}", step.voice_count, voices.len()),
            step.voice_count as usize == voices.len(),
        );
        for (k, jv) in voices.iter().enumerate() {
            let spec = &track.voices[vi];
            let resolved = info.voice_functions[vi];
            vi += 1;
            let fname = first(jv, FUNCTION_KEYS)
                .and_then(Value::as_str)
                .unwrap_or("");
            let base = fname.strip_suffix("_transition").unwrap_or(fname);
            let is_t = first(jv, TRANSITION_KEYS).is_some_and(flag);
            let at = format!("step {si} voice {k} ({fname})");
            let transition = match resolved {
                Resolved::Known {
                    func, transition, ..
                } => {
                    check(
                        format!("{at}: resolved to {}", function_name(func)),
                        function_name(func) == base,
                    );
                    transition
                }
                Resolved::Unknown => {
                    check(format!("{at}: unknown"), false);
                    continue;
                }
            };
            check(
                format!("{at}: transition {transition}, flag {is_t}"),
                !transition || is_t || fname.ends_with("_transition"),
            );
            let params = first(jv, PARAMS_KEYS).cloned().unwrap_or(Value::Null);
            match &spec.params {
                VoiceParams::Binaural(p) => {
                    for (key, got, default) in [
                        ("baseFreq", p.base_freq, 200.0),
                        ("beatFreq", p.beat_freq, 4.0),
                        ("ampL", p.amp[0], 0.5),
                        ("ampR", p.amp[1], 0.5),
                    ] {
                        let s = start_value(&params, key, transition, default);
                        check(
                            format!("{at}: {key} start {} vs {s}", got.start),
                            got.start == s,
                        );
                        if transition {
                            let e = end_value(&params, key, default);
                            check(format!("{at}: {key} end {} vs {e}", got.end), got.end == e);
                        }
                    }
                }
                VoiceParams::Isochronic(p) => {
                    for (key, got) in [("ampL", p.amp[0]), ("ampR", p.amp[1])] {
                        let s = start_value(&params, key, transition, 0.5);
                        check(
                            format!("{at}: {key} start {} vs {s}", got.start),
                            got.start == s,
                        );
                    }
                    if !transition {
                        for (key, got, default) in [
                            ("baseFreq", p.base_freq, 200.0),
                            ("beatFreq", p.beat_freq, 4.0),
                        ] {
                            let s = start_value(&params, key, false, default);
                            check(format!("{at}: {key} {} vs {s}", got.start), got.start == s);
                        }
                    }
                }
                _ => {}
            }
        }
    }
    (bad, n)
}

#[test]
fn shared_tracks_match_an_independent_reading() {
    let mut files = Vec::new();
    json_files(&shared_tracks_dir(), &mut files);
    files.sort();
    let mut failures = Vec::new();
    let mut compared = 0;
    let mut checked_files = 0;
    for p in &files {
        let json = std::fs::read_to_string(p).unwrap();
        let v: Value = serde_json::from_str(&json).unwrap();
        let name = p
            .strip_prefix(shared_tracks_dir())
            .unwrap_or(p)
            .display()
            .to_string();
        // Files of the legacy visual-sequence tool are not tracks (no step list).
        if first(&v, STEPS_KEYS).is_none() {
            println!("SKIP {name}: no step list (not a track file)");
            continue;
        }
        let (bad, n) = compare(&name, &json);
        println!("{name}: {n} values compared, {} mismatches", bad.len());
        compared += n;
        checked_files += 1;
        failures.extend(bad);
    }
    println!("{checked_files} files, {compared} values compared");
    assert!(
        checked_files >= 10,
        "only {checked_files} track files found"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Rewrites every value of `key` anywhere in `v` with `f`.
fn rewrite(v: &mut Value, key: &str, f: &dyn Fn(&Value) -> Value) {
    match v {
        Value::Object(m) => {
            if let Some(x) = m.get_mut(key) {
                *x = f(x);
            }
            for (_, x) in m.iter_mut() {
                rewrite(x, key, f);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| rewrite(x, key, f)),
        _ => {}
    }
}

/// Renames `from` to `to` in every object of `v`.
fn rename(v: &mut Value, from: &str, to: &str) {
    match v {
        Value::Object(m) => {
            if let Some(x) = m.remove(from) {
                m.insert(to.to_owned(), x);
            }
            for (_, x) in m.iter_mut() {
                rename(x, from, to);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| rename(x, from, to)),
        _ => {}
    }
}

/// The parts of the model a mutation must not change.
fn model(json: &str) -> String {
    let (t, info) = parse(json).unwrap();
    format!(
        "{} {:?} {:?} {:?} {:?} {:?}",
        t.sample_rate,
        t.crossfade_duration,
        t.crossfade_curve,
        t.steps,
        t.voices,
        info.voice_functions
    )
}

#[test]
fn mutated_copies_parse_to_the_same_model() {
    let path = shared_tracks_dir().join("spec_example_relax.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let original: Value = serde_json::from_str(&text).unwrap();
    let want = model(&text);
    type Mutation = (&'static str, Box<dyn Fn(&mut Value)>);
    let to_string = |x: &Value| match x {
        Value::Number(n) => Value::String(format!(" {n} ")),
        other => other.clone(),
    };
    let mutations: Vec<Mutation> = vec![
        // §4.2: numeric strings are read with Python float() rules.
        (
            "baseFreq as a string",
            Box::new(move |v| rewrite(v, "baseFreq", &to_string)),
        ),
        (
            "beatFreq as a string",
            Box::new(move |v| rewrite(v, "beatFreq", &to_string)),
        ),
        (
            "duration as a string",
            Box::new(move |v| rewrite(v, "duration", &to_string)),
        ),
        (
            "sample_rate as a string",
            Box::new(move |v| rewrite(v, "sample_rate", &to_string)),
        ),
        // §4.2: null means "use the default" — an added null key changes nothing.
        (
            "null keys added",
            Box::new(|v| {
                rewrite(v, "params", &|p| {
                    let mut p = p.clone();
                    if let Some(m) = p.as_object_mut() {
                        m.insert("ampOscDepthL".into(), Value::Null);
                        m.insert("freqOscRangeR".into(), Value::Null);
                    }
                    p
                })
            }),
        ),
        // §1.1, §3, §4: aliases.
        (
            "progression → steps",
            Box::new(|v| rename(v, "progression", "steps")),
        ),
        (
            "global → global_settings",
            Box::new(|v| rename(v, "global", "global_settings")),
        ),
        (
            "global → globalSettings",
            Box::new(|v| rename(v, "global", "globalSettings")),
        ),
        (
            "sample_rate → sampleRate",
            Box::new(|v| rename(v, "sample_rate", "sampleRate")),
        ),
        (
            "crossfade_duration → crossfadeDuration",
            Box::new(|v| {
                if let Some(g) = v.get_mut("global") {
                    rename(g, "crossfade_duration", "crossfadeDuration");
                }
            }),
        ),
        (
            "duration → durationSeconds",
            Box::new(|v| rename(v, "duration", "durationSeconds")),
        ),
        (
            "synth_function_name → synthFunctionName",
            Box::new(|v| rename(v, "synth_function_name", "synthFunctionName")),
        ),
        (
            "params → parameters",
            Box::new(|v| rename(v, "params", "parameters")),
        ),
    ];
    let mut failures = Vec::new();
    for (what, m) in &mutations {
        let mut v = original.clone();
        m(&mut v);
        let json = serde_json::to_string_pretty(&v).unwrap();
        assert_ne!(
            json,
            serde_json::to_string_pretty(&original).unwrap(),
            "{what}: no change"
        );
        match parse(&json) {
            Ok(_) if model(&json) == want => println!("ok: {what}"),
            Ok(_) => failures.push(format!("{what}: a different model")),
            Err(e) => failures.push(format!("{what}: rejected: {e}")),
        }
    }
    // §4.2: a null parameter is the default, i.e. the same as leaving it out.
    let mut with_null = original.clone();
    let mut without = original.clone();
    rewrite(&mut with_null, "beatFreq", &|_| Value::Null);
    if let Some(steps) = without["progression"].as_array_mut() {
        for s in steps {
            for voice in s["voices"].as_array_mut().into_iter().flatten() {
                if let Some(p) = voice["params"].as_object_mut() {
                    p.remove("beatFreq");
                }
            }
        }
    }
    let a = model(&serde_json::to_string(&with_null).unwrap());
    let b = model(&serde_json::to_string(&without).unwrap());
    if a != b {
        failures.push("beatFreq: null differs from absent".into());
    }
    // A non-numeric string is rejected, located at its key (STYLE.md §7).
    let mut bad = original.clone();
    rewrite(&mut bad, "baseFreq", &|_| Value::String("fast".into()));
    match parse(&serde_json::to_string_pretty(&bad).unwrap()) {
        Ok(_) => failures.push("\"fast\" accepted as baseFreq".into()),
        Err(e) => {
            if !e.contains("baseFreq") || !e.contains("step 0") || !e.contains("voice 0") {
                failures.push(format!("error not located at step/voice/key: {e}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
