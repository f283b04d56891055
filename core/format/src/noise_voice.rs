//! Parameters of the noise voices: `noise_swept_notch(_transition)` / `noise(_transition)`
//! (VOICES.md §13.3), `noise_generator(_transition)` (§13.2) and
//! `generate_swept_notch_pink_sound(_transition)` (§12, the intended behaviour: the same
//! generator as `noise_swept_notch`, with the offline tool's defaults and key names).
//! Sweeps and static notches are read by the `.noise` parser's readers
//! ([`crate::noise`]).
//!
//! Decisions where the spec is silent:
//!
//! * Key aliases accepted by all three functions: `sweeps` / `filter_sweeps` (the offline
//!   tool's name), `notch_q`, `casc` / `cascade_count`, `lfo_phase_offset_deg` /
//!   `start_lfo_phase_offset_deg` (the static `noise_swept_notch` reads the `start_`
//!   name), likewise for `intra_phase_offset_deg`. Transitions read
//!   `start_X ?? X ?? default`, `end_X ?? start_X` for the LFO rate and phase offsets, and
//!   `start_sweeps` / `start_filter_sweeps` (else the static list) with `end_sweeps` /
//!   `end_filter_sweeps` (else the start list), `start_q` / `start_notch_q`,
//!   `start_casc` / `start_cascade_count` and their `end_` forms. Start and end sweep
//!   lists pair up element by element (Python `zip`: the shorter list wins).
//! * `notch_q` and `casc` (a number, or a list with one value per sweep) override the
//!   sweeps' own values. A Q must be above 0; a cascade at most 20 (located errors).
//! * Defaults: `noise_swept_notch` 0.1 Hz and `volume` 1.0, right-channel offset 0°;
//!   `generate_swept_notch_pink_sound` 1/12 Hz, offset 90° and `volume` 1.0;
//!   `noise_generator` 1/12 Hz, offset 90°, `amp` 0.25. Every function: one sweep
//!   1000–10000 Hz, Q 25, cascade 10 when `sweeps` is absent or `null` (`[]` = no
//!   notches), pink noise, sine LFO.
//! * `noise_type` must be a colour of NOISE.md §2 (`pink`, `brown`, `red`, `deep brown`,
//!   `blue`, `purple`, `violet`, `green`, `white`, and the `grey` extension) and
//!   `lfo_waveform` `sine` or `triangle`: anything else is a located error (the original
//!   silently uses white noise for unknown colours and raises on unknown waveforms).
//! * The noise is seeded from `seed` (default 1, NOISE.md) mixed with the voice's step
//!   and voice index, so two noise voices of a track never play the same noise and a
//!   render reproduces.
//! * A non-empty `input_audio_path` is refused with a located error: the core reads no
//!   files, and the host renders only the background layer's input.
//! * The spatializer keys are read for `noise_generator` only (VOICES.md §15, the
//!   per-voice spatializer of the post chain); its output is clipped to ±1 before the
//!   spatializer, which runs after the voice.

use crate::error::{ErrorKind, Location};
use crate::noise::{check_casc, check_q, read_static_notches, read_sweeps};
use crate::params::{Kind, Reader};
use crate::value::{for_each_element, parse_map, parse_value, Entry, Value};
use entrain_dsp::noise::colour::Colour;
use entrain_dsp::noise::derive_seed;
use entrain_dsp::noise::notch::{LfoWave, StaticNotch, SweepSpec, MAX_STATIC_NOTCHES, MAX_SWEEPS};
use entrain_engine::model::{NoiseNotch, NoiseVoiceParams, Pair, MAX_NOISE_ENVELOPE_POINTS};

/// Which of the three noise functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoiseFunc {
    /// `noise_swept_notch` / `noise` (VOICES.md §13.3).
    SweptNotch,
    /// `generate_swept_notch_pink_sound` (§12).
    PinkSound,
    /// `noise_generator` (§13.2).
    Generator,
}

/// The default sweep of every noise voice: 1000–10000 Hz, Q 25, cascade 10 (the
/// generator's `None` and Session-Builder's default).
const DEFAULT_SWEEP: SweepSpec = SweepSpec {
    min_hz: [1000.0; 2],
    max_hz: [10000.0; 2],
    q: [25.0; 2],
    casc: [10.0; 2],
};

/// Colour names accepted (lower case), NOISE.md §2 plus the documented aliases.
const COLOURS: &str =
    "pink, brown, red, deep brown, blue, purple, violet, green, white, grey (or gray)";

/// The first present key of `keys` as a number.
fn first_number(r: &mut Reader<'_, '_>, keys: &[&str], kind: Kind) -> Option<f64> {
    let e = r.map.first_of(keys).copied()?;
    r.coerce_number(&e, kind)
}

/// Reads a per-sweep override (`notch_q`, `casc`): a number for every sweep or a list with
/// one value per sweep. `check` validates each value.
fn per_sweep<'a>(
    r: &mut Reader<'_, 'a>,
    e: &Entry<'a>,
    check: fn(&mut Reader<'_, 'a>, &Entry<'a>) -> Option<f64>,
    out: &mut [Option<f64>; MAX_SWEEPS],
) {
    match e.value {
        Value::Array(span) => {
            let input = r.input;
            let _ = for_each_element::<()>(input, span, |j, c| {
                if j < MAX_SWEEPS {
                    if let Ok(value) = parse_value(input, c) {
                        let ce = Entry {
                            key: e.key,
                            value,
                            offset: c.start,
                        };
                        out[j] = check(r, &ce);
                    }
                }
                Ok(())
            });
        }
        _ => {
            let v = check(r, e);
            *out = [v; MAX_SWEEPS];
        }
    }
}

/// A sweep list from the first present key of `keys`; `None` when none is present.
fn sweep_list(r: &mut Reader<'_, '_>, keys: &[&str]) -> Option<([SweepSpec; MAX_SWEEPS], usize)> {
    let e = r.map.first_of(keys).copied()?;
    let mut s = [DEFAULT_SWEEP; MAX_SWEEPS];
    let n = read_sweeps(r, &e, DEFAULT_SWEEP, &mut s)?;
    Some((s, n))
}

/// Applies the `notch_q`/`casc` overrides of `keys` to end `k` (0 = start, 1 = end).
fn overrides(
    r: &mut Reader<'_, '_>,
    q_keys: &[&str],
    c_keys: &[&str],
    k: usize,
    sweeps: &mut [SweepSpec; MAX_SWEEPS],
) -> ([Option<f64>; MAX_SWEEPS], [Option<f64>; MAX_SWEEPS]) {
    let mut q = [None; MAX_SWEEPS];
    let mut c = [None; MAX_SWEEPS];
    if let Some(e) = r.map.first_of(q_keys).copied() {
        per_sweep(r, &e, check_q, &mut q);
    }
    if let Some(e) = r.map.first_of(c_keys).copied() {
        per_sweep(r, &e, check_casc, &mut c);
    }
    for (s, (q, c)) in sweeps.iter_mut().zip(q.iter().zip(c.iter())) {
        if let Some(v) = q {
            s.q[k] = *v;
        }
        if let Some(v) = c {
            s.casc[k] = *v;
        }
    }
    (q, c)
}

/// Builds the parameters of a noise voice. Errors go to the reader's report, located.
pub fn noise_voice(r: &mut Reader<'_, '_>, func: NoiseFunc, transition: bool) -> NoiseVoiceParams {
    let mut p = NoiseVoiceParams::default();
    let (lfo_default, offset_default) = match func {
        NoiseFunc::SweptNotch => (0.1, 0.0),
        NoiseFunc::PinkSound | NoiseFunc::Generator => (1.0 / 12.0, 90.0),
    };

    // ---- colour and waveform -------------------------------------------------------
    if let Some(e) = r.entry("noise_type") {
        if let Some(name) = r.coerce_text::<32>(&e) {
            let c = Colour::from_name(&name);
            let t = name.trim();
            if c == Colour::White && !t.eq_ignore_ascii_case("white") {
                let l = r.loc(&e);
                r.report.error(
                    l,
                    ErrorKind::UnknownWord {
                        found: crate::error::short(t),
                        expected: COLOURS,
                    },
                );
            }
            p.colour = c;
        }
    }
    if let Some(e) = r.entry("lfo_waveform") {
        if let Some(w) = r.coerce_text::<32>(&e) {
            let t = w.trim();
            if t.eq_ignore_ascii_case("triangle") {
                p.lfo_wave = LfoWave::Triangle;
            } else if !t.eq_ignore_ascii_case("sine") {
                let l = r.loc(&e);
                r.report.error(
                    l,
                    ErrorKind::UnknownWord {
                        found: crate::error::short(t),
                        expected: "sine, triangle",
                    },
                );
            }
        }
    }

    // ---- LFO rate and phase offsets ---------------------------------------------------
    let pair =
        |r: &mut Reader<'_, '_>, plain: &[&str], start: &[&str], end: &str, d: f64, kind: Kind| {
            if transition {
                let s = first_number(r, start, kind)
                    .or_else(|| first_number(r, plain, kind))
                    .unwrap_or(d);
                Pair::new(s, r.num_or(end, s, kind))
            } else {
                Pair::fixed(
                    first_number(r, plain, kind)
                        .or_else(|| first_number(r, start, kind))
                        .unwrap_or(d),
                )
            }
        };
    p.lfo_freq = pair(
        r,
        &["lfo_freq"],
        &["start_lfo_freq"],
        "end_lfo_freq",
        lfo_default,
        Kind::Freq,
    );
    p.lfo_phase_offset_deg = pair(
        r,
        &["lfo_phase_offset_deg"],
        &["start_lfo_phase_offset_deg"],
        "end_lfo_phase_offset_deg",
        offset_default,
        Kind::Plain,
    );
    p.intra_phase_offset_deg = pair(
        r,
        &["intra_phase_offset_deg"],
        &["start_intra_phase_offset_deg"],
        "end_intra_phase_offset_deg",
        0.0,
        Kind::Plain,
    );

    // ---- sweeps --------------------------------------------------------------------------
    let statics_keys = ["sweeps", "filter_sweeps"];
    let (mut sweeps, mut count) = if transition {
        sweep_list(r, &["start_sweeps", "start_filter_sweeps"])
            .or_else(|| sweep_list(r, &statics_keys))
            .unwrap_or(([DEFAULT_SWEEP; MAX_SWEEPS], 1))
    } else {
        sweep_list(r, &statics_keys).unwrap_or(([DEFAULT_SWEEP; MAX_SWEEPS], 1))
    };
    if transition {
        if let Some((end, n)) = sweep_list(r, &["end_sweeps", "end_filter_sweeps"]) {
            count = count.min(n);
            for (s, e) in sweeps.iter_mut().zip(end.iter()) {
                s.min_hz[1] = e.min_hz[0];
                s.max_hz[1] = e.max_hz[0];
                s.q[1] = e.q[0];
                s.casc[1] = e.casc[0];
            }
        }
        let (q, c) = overrides(
            r,
            &["start_q", "start_notch_q", "notch_q"],
            &["start_casc", "start_cascade_count", "casc", "cascade_count"],
            0,
            &mut sweeps,
        );
        // An end value not given follows the start override.
        for (s, (q, c)) in sweeps.iter_mut().zip(q.iter().zip(c.iter())) {
            if let Some(v) = q {
                s.q[1] = *v;
            }
            if let Some(v) = c {
                s.casc[1] = *v;
            }
        }
        overrides(
            r,
            &["end_q", "end_notch_q"],
            &["end_casc", "end_cascade_count"],
            1,
            &mut sweeps,
        );
    } else {
        let _ = overrides(r, &["notch_q"], &["casc", "cascade_count"], 0, &mut sweeps);
        for s in sweeps.iter_mut() {
            s.min_hz[1] = s.min_hz[0];
            s.max_hz[1] = s.max_hz[0];
            s.q[1] = s.q[0];
            s.casc[1] = s.casc[0];
        }
    }
    p.sweeps = sweeps;
    p.sweep_count = count as u8;

    // ---- static notches ------------------------------------------------------------------
    if let Some(e) = r.entry("static_notches") {
        let mut st = [StaticNotch::default(); MAX_STATIC_NOTCHES];
        let n = read_static_notches(r, &e, &mut st);
        for (d, s) in p.statics.iter_mut().zip(st[..n].iter()) {
            *d = NoiseNotch {
                freq_hz: s.freq_hz as f32,
                q: s.q as f32,
                cascade: s.cascade,
            };
        }
        p.static_count = n as u8;
    }

    // ---- level, fades, envelope ----------------------------------------------------------
    match func {
        NoiseFunc::SweptNotch | NoiseFunc::PinkSound => {
            p.gain = [r.num_or("volume", 1.0, Kind::Plain); 2];
        }
        NoiseFunc::Generator => {
            let amp = r.num_or("amp", 0.25, Kind::Plain);
            p.gain = [
                r.num_or("amp_left", amp, Kind::Plain),
                r.num_or("amp_right", amp, Kind::Plain),
            ];
            p.fade_in = r.num_or("fade_in", 0.0, Kind::Time);
            p.fade_out = r.num_or("fade_out", 0.0, Kind::Time);
            if let Some(e) = r.entry("amp_envelope") {
                amp_envelope(r, &e, &mut p);
            }
            p.clip = true;
        }
    }

    // ---- seed, input file ------------------------------------------------------------------
    let seed = r
        .number("seed", Kind::Time)
        .map_or(entrain_dsp::noise::DEFAULT_SEED, |s| s as u64);
    let step = r.base.step.map_or(0, u64::from);
    let voice = r.base.voice.map_or(0, u64::from);
    p.seed = derive_seed(seed, (step << 16 | voice) + 1);
    if let Some(e) = r.entry("input_audio_path") {
        if let Some(path) = r.coerce_text::<{ crate::noise::NOISE_PATH_CAP }>(&e) {
            if !path.trim().is_empty() {
                let l = r.loc(&e);
                r.report.error(
                    l,
                    ErrorKind::Unsupported(
                        "input_audio_path on a noise voice (the engine reads no files; notch a file through background_noise)",
                    ),
                );
            }
        }
    }
    p
}

/// `amp_envelope`: a list of `[t, a]` or `{time|t|x, amp|value|y}` (VOICES.md §13.2).
fn amp_envelope<'a>(r: &mut Reader<'_, 'a>, e: &Entry<'a>, p: &mut NoiseVoiceParams) {
    let input = r.input;
    let Value::Array(span) = e.value else {
        let l = r.loc(e);
        r.report.error(
            l,
            ErrorKind::WrongType {
                expected: "a list of [time_s, amp] points",
                found: e.value.type_name(),
            },
        );
        return;
    };
    let mut n = 0usize;
    let _ = for_each_element::<()>(input, span, |i, el| {
        let mut l: Location = r.base.clone().with_key(e.key);
        let (line, column) = crate::syntax::line_col(input, el.start);
        l.line = line;
        l.column = column;
        if i >= MAX_NOISE_ENVELOPE_POINTS {
            if i == MAX_NOISE_ENVELOPE_POINTS {
                r.report.error(
                    l,
                    ErrorKind::TooMany {
                        what: "amp_envelope points of a noise voice",
                        limit: MAX_NOISE_ENVELOPE_POINTS,
                    },
                );
            }
            return Ok(());
        }
        let mut xy = [f64::NAN; 2];
        match parse_value(input, el) {
            Ok(Value::Array(ps)) => {
                let _ = for_each_element::<()>(input, ps, |j, c| {
                    if let (true, Ok(Value::Number(v))) = (j < 2, parse_value(input, c)) {
                        xy[j] = v;
                    }
                    Ok(())
                });
            }
            Ok(Value::Object(os)) => {
                if let Ok(m) = parse_map(input, os) {
                    let mut pr = Reader {
                        input,
                        map: &m,
                        report: r.report,
                        base: r.base.clone(),
                        nyquist: r.nyquist,
                    };
                    xy[0] =
                        first_number(&mut pr, &["time", "t", "x"], Kind::Plain).unwrap_or(f64::NAN);
                    xy[1] = first_number(&mut pr, &["amp", "value", "y"], Kind::Plain)
                        .unwrap_or(f64::NAN);
                }
            }
            _ => {}
        }
        if xy[0].is_finite() && xy[1].is_finite() {
            p.envelope[n] = (xy[0] as f32, xy[1] as f32);
            n += 1;
        } else {
            r.report.error(
                l,
                ErrorKind::WrongType {
                    expected: "a point [time_s, amp] or {time, amp}",
                    found: "something else",
                },
            );
        }
        Ok(())
    });
    p.envelope_len = n as u8;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{parse, FormatError, TrackInfo};
    use entrain_engine::model::{Track, VoiceParams};

    fn parsed(func: &str, params: &str) -> Result<(NoiseVoiceParams, bool), Vec<FormatError>> {
        let json = format!(
            r#"{{"global":{{"sample_rate":44100}},"progression":[{{"duration":2.0,"voices":[{{"synth_function_name":"binaural_beat","params":{{}}}},{{"synth_function_name":"{func}","is_transition":{},"params":{params}}}]}}]}}"#,
            func.ends_with("_transition")
        );
        let mut track = Box::<Track>::default();
        let mut info = TrackInfo::default();
        match parse(json.as_bytes(), &mut track, &mut info) {
            Ok(_) => match track.voices[1].params {
                VoiceParams::Noise(p) => Ok((p, track.voices[1].transition.is_some())),
                other => panic!("{other:?}"),
            },
            Err(r) => Err(r.errors.to_vec()),
        }
    }

    #[test]
    fn defaults_per_function() {
        let (p, t) = parsed("noise_swept_notch", "{}").unwrap();
        assert!(!t);
        assert_eq!(p.lfo_freq, Pair::fixed(0.1));
        assert_eq!(p.lfo_phase_offset_deg, Pair::fixed(0.0));
        assert_eq!((p.sweep_count, p.sweeps[0]), (1, DEFAULT_SWEEP));
        assert_eq!((p.gain, p.clip), ([1.0; 2], false));
        assert_eq!(p.colour, Colour::Pink);
        let (p, _) = parsed("generate_swept_notch_pink_sound", "{}").unwrap();
        assert_eq!(p.lfo_freq, Pair::fixed(1.0 / 12.0));
        assert_eq!(p.lfo_phase_offset_deg, Pair::fixed(90.0));
        let (p, _) = parsed("noise_generator", r#"{"amp_right": 0.1, "sweeps": []}"#).unwrap();
        assert_eq!((p.gain, p.clip), ([0.25, 0.1], true));
        assert_eq!(p.sweep_count, 0);
        // distinct seeds for distinct positions
        let (q, _) = parsed("noise", "{}").unwrap();
        let (r, _) = parsed("noise", r#"{"seed": 2}"#).unwrap();
        assert_ne!(q.seed, r.seed);
        assert_ne!(q.seed, entrain_dsp::noise::DEFAULT_SEED);
    }

    #[test]
    fn sweeps_overrides_and_transition_pairs() {
        let (p, _) = parsed(
            "noise",
            r#"{"sweeps": [[500, 1000], {"min": 1850, "max": 3350, "q": 12}], "notch_q": [40], "casc": 8, "start_lfo_phase_offset_deg": 45}"#,
        )
        .unwrap();
        assert_eq!(p.sweep_count, 2);
        assert_eq!(p.sweeps[0].min_hz, [500.0; 2]);
        assert_eq!(p.sweeps[0].q, [40.0; 2]);
        assert_eq!(p.sweeps[1].q, [12.0; 2]);
        assert_eq!(p.sweeps[1].casc, [8.0; 2]);
        assert_eq!(p.lfo_phase_offset_deg, Pair::fixed(45.0));
        let (p, t) = parsed(
            "generate_swept_notch_pink_sound_transition",
            r#"{"start_lfo_freq": 0.1, "end_lfo_freq": 0.05, "start_sweeps": [[1000, 8000]], "end_sweeps": [[500, 4000], [1, 2]], "start_q": 25, "end_q": 30, "start_casc": 6, "end_cascade_count": 7}"#,
        )
        .unwrap();
        assert!(t);
        assert_eq!(p.lfo_freq, Pair::new(0.1, 0.05));
        assert_eq!(p.sweep_count, 1);
        assert_eq!(p.sweeps[0].min_hz, [1000.0, 500.0]);
        assert_eq!(p.sweeps[0].max_hz, [8000.0, 4000.0]);
        assert_eq!(p.sweeps[0].q, [25.0, 30.0]);
        assert_eq!(p.sweeps[0].casc, [6.0, 7.0]);
        assert_eq!(p.lfo_phase_offset_deg, Pair::fixed(90.0));
    }

    #[test]
    fn located_errors() {
        for (params, key) in [
            (r#"{"lfo_freq": NaN}"#, "lfo_freq"),
            (r#"{"notch_q": -1}"#, "notch_q"),
            (r#"{"noise_type": "mauve"}"#, "noise_type"),
            (r#"{"lfo_waveform": "saw"}"#, "lfo_waveform"),
            (r#"{"input_audio_path": "x.wav"}"#, "input_audio_path"),
        ] {
            let e = parsed("noise_swept_notch", params).unwrap_err();
            assert_eq!(e.len(), 1, "{params}: {e:?}");
            let l = &e[0].location;
            assert_eq!((l.step, l.voice, l.key.as_str()), (Some(0), Some(1), key));
            assert_eq!(l.line, 1);
        }
    }
}
