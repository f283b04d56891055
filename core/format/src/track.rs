//! The track file: layouts, key aliases and precedence, steps, voices, envelopes,
//! transition timing and curves (TRACK_FORMAT.md §1–§7).
//!
//! Alias precedence (a file may carry two spellings of one field; the original Rust
//! ports reject that, the new engine takes the canonical one): the v2 name written by the
//! application first, then the legacy name, then the camelCase spellings of the Rust
//! ports. Unknown keys are ignored everywhere.

use crate::error::{short, ErrorKind, Location, Report, WarningKind, TEXT_CAP};
use crate::params::{Kind, Reader};
use crate::syntax::{self, line_col};
use crate::value::{for_each_element, parse_map, parse_value, DecodeError, Map, Span, Value};
use crate::voices::{build_voice, resolve_function, Func, Resolved};
use entrain_dsp::crossfade::CrossfadeCurve;
use entrain_dsp::ramp::{Curve, CurveTable, MAX_TABLE_POINTS};
use entrain_engine::model::{
    EnvelopeSpec, StepSpec, Track, TransitionSpec, VoiceParams, VoiceSpec, VoiceType,
    MAX_VOICES_PER_STEP,
};
use heapless::String;

/// Aliases of the top-level fields, canonical first.
pub const GLOBAL_KEYS: &[&str] = &["global", "global_settings", "globalSettings"];
/// Step list aliases.
pub const STEPS_KEYS: &[&str] = &["progression", "steps"];
/// Background noise aliases.
pub const NOISE_KEYS: &[&str] = &["background_noise", "noise"];
/// Overlay clip aliases.
pub const CLIPS_KEYS: &[&str] = &["overlay_clips", "clips"];
/// `sample_rate` aliases.
pub const SAMPLE_RATE_KEYS: &[&str] = &["sample_rate", "sampleRate"];
/// `crossfade_duration` aliases.
pub const CROSSFADE_KEYS: &[&str] = &["crossfade_duration", "crossfadeDuration"];
/// `crossfade_curve` aliases.
pub const CURVE_KEYS: &[&str] = &["crossfade_curve", "crossfadeCurve"];
/// `output_filename` aliases.
pub const OUTPUT_KEYS: &[&str] = &["output_filename", "outputFilename"];
/// Step `duration` aliases.
pub const DURATION_KEYS: &[&str] = &["duration", "Duration", "durationSeconds", "stepDuration"];
/// Step `start` aliases (the original reads `start`, then `start_time`).
pub const START_KEYS: &[&str] = &["start", "start_time"];
/// Voice `synth_function_name` aliases.
pub const FUNCTION_KEYS: &[&str] = &["synth_function_name", "synthFunctionName", "synth_function"];
/// Voice `params` aliases.
pub const PARAMS_KEYS: &[&str] = &["params", "parameters"];
/// Voice `is_transition` aliases.
pub const TRANSITION_KEYS: &[&str] = &["is_transition", "isTransition"];
/// Voice `volume_envelope` aliases.
pub const ENVELOPE_KEYS: &[&str] = &["volume_envelope", "volumeEnvelope"];

/// Longest output file name kept.
pub const OUTPUT_NAME_CAP: usize = 256;
/// Longest step description kept (longer ones are shortened with `…`).
pub const DESCRIPTION_CAP: usize = 64;

/// Sample rates accepted (TRACK_FORMAT.md §14).
pub const SAMPLE_RATE_RANGE: (f64, f64) = (8000.0, 192_000.0);

/// Everything the parser extracted besides the [`Track`] itself.
#[derive(Clone, Debug, Default)]
pub struct TrackInfo {
    /// `output_filename`, if given.
    pub output_filename: Option<String<OUTPUT_NAME_CAP>>,
    /// Step descriptions (shortened), in step order.
    pub descriptions: heapless::Vec<String<DESCRIPTION_CAP>, 64>,
    /// Span of the `background_noise` object, if present and not empty.
    pub noise: Option<Span>,
    /// Span of the clip list, if present and not empty.
    pub clips: Option<Span>,
    /// The `background_noise` object, resolved (`None`: no noise asked for).
    pub background: Option<crate::noise::Background>,
    /// How each voice of `Track::voices` resolved (same order).
    pub voice_functions: heapless::Vec<Resolved, 256>,
    /// The overlay clips (decoded and placed by the host).
    pub clip_entries: heapless::Vec<crate::clips::ClipEntry, { crate::clips::MAX_CLIPS }>,
}

/// The original's name of a synth function (its base name, without `_transition`).
pub fn function_name(func: Func) -> &'static str {
    match func {
        Func::BinauralBeat => "binaural_beat",
        Func::IsochronicTone => "isochronic_tone",
        Func::MonauralBeatStereoAmps => "monaural_beat_stereo_amps",
        Func::QamBeat => "qam_beat",
        Func::HybridQamMonauralBeat => "hybrid_qam_monaural_beat",
        Func::RhythmicWaveshaping => "rhythmic_waveshaping",
        Func::StereoAmIndependent => "stereo_am_independent",
        Func::WaveShapeStereoAm => "wave_shape_stereo_am",
        Func::SpatialAngleModulation => "spatial_angle_modulation",
        Func::SpatialAngleModulationMonauralBeat => "spatial_angle_modulation_monaural_beat",
        Func::SweptNotchPinkSound => "generate_swept_notch_pink_sound",
        Func::SubliminalEncode => "subliminal_encode",
        Func::DualPulseBinaural => "dual_pulse_binaural",
        Func::NoiseGenerator => "noise_generator",
        Func::NoiseSweptNotch => "noise_swept_notch",
    }
}

fn decode_error(
    input: &[u8],
    base: &Location,
    e: DecodeError,
    report: &mut Report,
    what: &'static str,
) {
    let (kind, off) = match e {
        DecodeError::NotAnObject { offset } => {
            let found = match input.get(offset) {
                Some(b'[') => "an array",
                Some(b'"') => "a string",
                Some(b'n') => "null",
                Some(b't' | b'f') => "a boolean",
                _ => "a number",
            };
            (
                ErrorKind::WrongType {
                    expected: what,
                    found,
                },
                offset,
            )
        }
        DecodeError::TooManyKeys { offset } => (
            ErrorKind::TooMany {
                what: "keys in one object",
                limit: crate::value::MAX_KEYS,
            },
            offset,
        ),
        DecodeError::Json { offset } => (ErrorKind::Syntax("unreadable value"), offset),
    };
    let (line, column) = line_col(input, off);
    let mut l = base.clone();
    l.line = line;
    l.column = column;
    report.error(l, kind);
}

/// Parses `input` into `track` (cleared first), collecting every problem in `report`.
/// The track is usable only when `report.has_errors()` is false.
pub fn parse_into<const S: usize, const V: usize>(
    input: &[u8],
    track: &mut Track<S, V>,
    info: &mut TrackInfo,
    report: &mut Report,
) {
    track.clear();
    *info = TrackInfo::default();
    if let Err(e) = syntax::validate(input) {
        let (line, column) = line_col(input, e.offset);
        report.error(
            Location {
                line,
                column,
                ..Location::default()
            },
            ErrorKind::Syntax(e.message),
        );
        return;
    }
    let top = match parse_map(
        input,
        Span {
            start: 0,
            end: input.len(),
        },
    ) {
        Ok(m) => m,
        Err(e) => {
            decode_error(
                input,
                &Location::default(),
                e,
                report,
                "a JSON object (the track)",
            );
            return;
        }
    };

    // ---- global settings --------------------------------------------------------
    let mut sr = 44_100u32;
    let mut global_cf: Option<f64> = None;
    if let Some(g) = top.first_of(GLOBAL_KEYS).copied() {
        match g.value {
            Value::Object(span) => match parse_map(input, span) {
                Ok(gm) => {
                    let mut r = Reader {
                        input,
                        map: &gm,
                        report,
                        base: Location::default(),
                        nyquist: f64::INFINITY,
                    };
                    if let Some(e) = gm.first_of(SAMPLE_RATE_KEYS).copied() {
                        if let Some(v) = r.coerce_number(&e, Kind::Plain) {
                            if entrain_dsp::math::floor(v) != v
                                || v < SAMPLE_RATE_RANGE.0
                                || v > SAMPLE_RATE_RANGE.1
                            {
                                let l = r.loc(&e);
                                r.report.error(l, ErrorKind::BadSampleRate(v));
                            } else {
                                sr = v as u32;
                            }
                        }
                    }
                    global_cf = r.number_any(CROSSFADE_KEYS, Kind::Time);
                    if let Some(e) = gm.first_of(CURVE_KEYS).copied() {
                        if let Some(s) = r.coerce_text::<TEXT_CAP>(&e) {
                            track.crossfade_curve = match s.as_str() {
                                "equal_power" => CrossfadeCurve::EqualPower,
                                "linear" => CrossfadeCurve::Linear,
                                other => {
                                    let l = r.loc(&e);
                                    r.report
                                        .warn(l, WarningKind::UnknownCrossfadeCurve(short(other)));
                                    CrossfadeCurve::Linear
                                }
                            };
                        }
                    }
                    if let Some(e) = gm.first_of(OUTPUT_KEYS).copied() {
                        info.output_filename = r.coerce_text::<OUTPUT_NAME_CAP>(&e);
                    }
                }
                Err(e) => decode_error(
                    input,
                    &Location::default().with_key(g.key),
                    e,
                    report,
                    "an object",
                ),
            },
            Value::Null => {}
            other => {
                let (line, column) = line_col(input, g.offset);
                let l = Location {
                    line,
                    column,
                    ..Location::default()
                }
                .with_key(g.key);
                report.error(
                    l,
                    ErrorKind::WrongType {
                        expected: "an object",
                        found: other.type_name(),
                    },
                );
            }
        }
    }
    track.sample_rate = sr;
    track.crossfade_duration = global_cf;
    let nyquist = sr as f64 / 2.0;

    // ---- noise and clips (spans only; rendered by later stages) --------------------
    if let Some(n) = top.first_of(NOISE_KEYS).copied() {
        if let Value::Object(span) = n.value {
            if let Ok(m) = parse_map(input, span) {
                if !m.entries.is_empty() {
                    info.noise = Some(span);
                }
            }
        }
    }
    if let Some(c) = top.first_of(CLIPS_KEYS).copied() {
        if let Value::Array(span) = c.value {
            info.clip_entries = crate::clips::parse_clips(input, span, sr as f64 / 2.0, report);
            if !info.clip_entries.is_empty() {
                info.clips = Some(span);
            }
        }
    }

    // ---- steps -------------------------------------------------------------------
    let steps_entry = top.first_of(STEPS_KEYS).copied();
    let Some(steps_entry) = steps_entry else {
        report.error(
            Location::default(),
            ErrorKind::Missing("the step list (`progression` or `steps`)"),
        );
        return;
    };
    let Value::Array(steps_span) = steps_entry.value else {
        let (line, column) = line_col(input, steps_entry.offset);
        let l = Location {
            line,
            column,
            ..Location::default()
        }
        .with_key(steps_entry.key);
        report.error(
            l,
            ErrorKind::WrongType {
                expected: "an array of steps",
                found: steps_entry.value.type_name(),
            },
        );
        return;
    };
    let mut explicit_starts: heapless::Vec<Option<f64>, S> = heapless::Vec::new();
    let mut voices_overflowed = false;
    let mut own_cf: heapless::Vec<Option<f64>, S> = heapless::Vec::new();
    let _ = for_each_element::<()>(input, steps_span, |si, span| {
        let base = Location {
            step: Some(si as u16),
            ..Location::default()
        };
        if track.steps.is_full() {
            if si == S {
                let (line, column) = line_col(input, span.start);
                report.error(
                    Location {
                        line,
                        column,
                        ..base
                    },
                    ErrorKind::TooMany {
                        what: "steps",
                        limit: S,
                    },
                );
            }
            return Ok(());
        }
        let sm = match parse_map(input, span) {
            Ok(m) => m,
            Err(e) => {
                decode_error(input, &base, e, report, "an object (a step)");
                return Ok(());
            }
        };
        let mut r = Reader {
            input,
            map: &sm,
            report,
            base: base.clone(),
            nyquist,
        };
        let duration = r.number_any(DURATION_KEYS, Kind::Time).unwrap_or(0.0);
        let start = r.number_any(START_KEYS, Kind::Time);
        let step_cf = r.number("crossfade_duration", Kind::Time);
        let step_curve = match sm.get("crossfade_curve").copied() {
            Some(e) => r.coerce_text::<TEXT_CAP>(&e).map(|s| match s.as_str() {
                "equal_power" => CrossfadeCurve::EqualPower,
                _ => CrossfadeCurve::Linear,
            }),
            None => None,
        };
        let desc = r
            .text::<256>("description")
            .map(|d| short::<DESCRIPTION_CAP>(&d))
            .unwrap_or_default();
        if duration <= 0.0 {
            let l = match sm.first_of(DURATION_KEYS) {
                Some(e) => r.loc(e),
                None => base.clone().with_key("duration"),
            };
            r.report.warn(l, WarningKind::StepSkipped);
        }
        let first_voice = track.voices.len() as u16;
        let mut count = 0u16;
        if let Some(ve) = sm.get("voices").copied() {
            match ve.value {
                Value::Array(vspan) => {
                    let _ = for_each_element::<()>(input, vspan, |vi, vspan_el| {
                        let vbase = Location {
                            voice: Some(vi as u16),
                            ..base.clone()
                        };
                        if vi >= MAX_VOICES_PER_STEP {
                            if vi == MAX_VOICES_PER_STEP {
                                let (line, column) = line_col(input, vspan_el.start);
                                report.error(
                                    Location {
                                        line,
                                        column,
                                        ..vbase
                                    },
                                    ErrorKind::TooMany {
                                        what: "voices in one step",
                                        limit: MAX_VOICES_PER_STEP,
                                    },
                                );
                            }
                            return Ok(());
                        }
                        let (spec, resolved) =
                            parse_voice(input, vspan_el, &vbase, nyquist, duration, sr, report);
                        if track.voices.push(spec).is_err() {
                            if !voices_overflowed {
                                voices_overflowed = true;
                                let (line, column) = line_col(input, vspan_el.start);
                                report.error(
                                    Location {
                                        line,
                                        column,
                                        ..vbase
                                    },
                                    ErrorKind::TooMany {
                                        what: "voices in the track",
                                        limit: V,
                                    },
                                );
                            }
                            return Ok(());
                        }
                        let _ = info.voice_functions.push(resolved);
                        count += 1;
                        Ok(())
                    });
                }
                Value::Null => {}
                other => {
                    let l = r.loc(&ve);
                    r.report.error(
                        l,
                        ErrorKind::WrongType {
                            expected: "an array of voices",
                            found: other.type_name(),
                        },
                    );
                }
            }
        }
        let _ = track.steps.push(StepSpec {
            duration,
            start: 0.0,
            first_voice,
            voice_count: count,
            crossfade_duration: step_cf,
            crossfade_curve: step_curve,
        });
        let _ = explicit_starts.push(start);
        let _ = own_cf.push(step_cf);
        let _ = info.descriptions.push(desc);
        Ok(())
    });

    // ---- start times as the original's loader fills them (§6.1) -----------------------
    // `float(global.crossfade_duration or 0.0)`: the load-time default is 0.
    let cf_load_global = global_cf.unwrap_or(0.0);
    let mut t = 0.0f64;
    for (i, step) in track.steps.iter_mut().enumerate() {
        let cf = own_cf.get(i).copied().flatten().unwrap_or(cf_load_global);
        match explicit_starts.get(i).copied().flatten() {
            Some(s) => {
                step.start = s;
                t = t.max(s + step.duration);
            }
            None => {
                step.start = t;
                t += if cf > 0.0 {
                    (step.duration - cf).max(0.0)
                } else {
                    step.duration
                };
            }
        }
    }
}

fn parse_voice(
    input: &[u8],
    span: Span,
    base: &Location,
    nyquist: f64,
    step_duration: f64,
    sr: u32,
    report: &mut Report,
) -> (VoiceSpec, Resolved) {
    let vm = match parse_map(input, span) {
        Ok(m) => m,
        Err(e) => {
            decode_error(input, base, e, report, "an object (a voice)");
            return (VoiceSpec::silent(), Resolved::Unknown);
        }
    };
    let mut r = Reader {
        input,
        map: &vm,
        report,
        base: base.clone(),
        nyquist,
    };
    let name: String<TEXT_CAP> = match vm.first_of(FUNCTION_KEYS).copied() {
        Some(e) => r.coerce_text::<TEXT_CAP>(&e).unwrap_or_default(),
        None => {
            r.report
                .error(base.clone(), ErrorKind::Missing("`synth_function_name`"));
            return (VoiceSpec::silent(), Resolved::Unknown);
        }
    };
    let is_transition = match vm.first_of(TRANSITION_KEYS).copied() {
        Some(e) => r.coerce_bool(&e).unwrap_or(false),
        None => false,
    };
    let voice_type = match r.text::<TEXT_CAP>("voice_type") {
        None => VoiceType::Binaural,
        Some(s) if s.as_str() == "binaural" => VoiceType::Binaural,
        Some(s) if s.as_str() == "noise" => VoiceType::Noise,
        Some(_) => VoiceType::Other,
    };
    let envelope = match vm.first_of(ENVELOPE_KEYS).copied() {
        Some(e) => parse_envelope(input, &e, base, nyquist, report),
        None => EnvelopeSpec::None,
    };
    // params
    let empty = Map::default();
    let pm_storage;
    let params_map: &Map<'_> = match vm.first_of(PARAMS_KEYS).copied() {
        Some(e) => match e.value {
            Value::Object(ps) => match parse_map(input, ps) {
                Ok(m) => {
                    pm_storage = m;
                    &pm_storage
                }
                Err(err) => {
                    decode_error(
                        input,
                        &base.clone().with_key(e.key),
                        err,
                        report,
                        "an object",
                    );
                    &empty
                }
            },
            other => {
                let (line, column) = line_col(input, e.offset);
                let l = Location {
                    line,
                    column,
                    ..base.clone()
                }
                .with_key(e.key);
                report.error(
                    l,
                    ErrorKind::WrongType {
                        expected: "an object",
                        found: other.type_name(),
                    },
                );
                &empty
            }
        },
        None => &empty,
    };
    let mut pr = Reader {
        input,
        map: params_map,
        report,
        base: base.clone(),
        nyquist,
    };
    for k in ["duration", "sample_rate"] {
        if let Some(e) = params_map.get(k) {
            let l = pr.loc(e);
            pr.report.warn(l, WarningKind::IgnoredKey);
        }
    }
    let resolved = resolve_function(&name, is_transition);
    let mut flanger = None;
    let mut spatial = None;
    let (params, transition) = match resolved {
        Resolved::Known {
            func,
            transition,
            missing_variant,
        } => {
            if missing_variant {
                pr.report
                    .warn(base.clone(), WarningKind::NoTransitionVariant(short(&name)));
            }
            let timing = if transition {
                Some(parse_timing(&mut pr, step_duration))
            } else {
                None
            };
            match build_voice(&mut pr, func, transition, sr) {
                Some(p) => {
                    flanger = crate::fx::parse_flanger(&mut pr, transition);
                    if let (VoiceParams::Binaural(b), true) = (&p, transition) {
                        crate::fx::check_glitch(&mut pr, b, sr);
                    }
                    if matches!(
                        func,
                        Func::BinauralBeat | Func::IsochronicTone | Func::NoiseGenerator
                    ) {
                        spatial = crate::fx::parse_spatial(&mut pr, sr);
                    }
                    (p, timing)
                }
                None => {
                    pr.report
                        .warn(base.clone(), WarningKind::NotImplemented(short(&name)));
                    (VoiceParams::Silent, None)
                }
            }
        }
        Resolved::Unknown => {
            pr.report.warn(
                base.clone(),
                WarningKind::UnknownSynthFunction(short(&name)),
            );
            (VoiceParams::Silent, None)
        }
    };
    (
        VoiceSpec {
            params,
            transition,
            envelope,
            voice_type,
            flanger,
            spatial,
        },
        resolved,
    )
}

/// Transition timing keys (TRACK_FORMAT.md §7.2), with legacy `post_offset` honoured as
/// the Rust port does: `transition_duration = D - initial_offset - post_offset` when only
/// `post_offset` is given.
fn parse_timing(r: &mut Reader<'_, '_>, step_duration: f64) -> TransitionSpec {
    let io = r.num_or("initial_offset", 0.0, Kind::Time);
    let td = r.number("transition_duration", Kind::Time);
    let duration = match td {
        Some(v) => Some(v),
        None => r
            .number("post_offset", Kind::Time)
            .map(|po| (step_duration - io - po).max(0.0)),
    };
    let curve = match r.entry("transition_curve") {
        Some(e) => parse_curve(r, &e).unwrap_or(Curve::Linear),
        None => Curve::Linear,
    };
    TransitionSpec {
        initial_offset: io,
        duration,
        curve,
    }
}

/// A transition curve: a name, `pow:K`, a recognised expression, or a table.
pub fn parse_curve<'a>(r: &mut Reader<'_, 'a>, e: &crate::value::Entry<'a>) -> Option<Curve> {
    match e.value {
        Value::Str(_) => {
            let s: String<128> = r.coerce_text(e)?;
            match curve_from_name(&s) {
                Some(c) => Some(c),
                None => {
                    let l = r.loc(e);
                    r.report.error(l, ErrorKind::UnknownCurve(short(&s)));
                    None
                }
            }
        }
        Value::Array(span) => {
            let mut pts = [(0.0f32, 0.0f32); MAX_TABLE_POINTS];
            let mut len = 0usize;
            let mut ok = true;
            let input = r.input;
            let _ = for_each_element::<()>(input, span, |_, el| {
                if len >= MAX_TABLE_POINTS {
                    ok = false;
                    return Ok(());
                }
                let mut xy = [f64::NAN; 2];
                let mut k = 0;
                if let Ok(Value::Array(ps)) = parse_value(input, el) {
                    let _ = for_each_element::<()>(input, ps, |j, c| {
                        if j < 2 {
                            if let Ok(Value::Number(v)) = parse_value(input, c) {
                                xy[j] = v;
                            }
                        }
                        k = j + 1;
                        Ok(())
                    });
                }
                if k != 2
                    || !xy[0].is_finite()
                    || !xy[1].is_finite()
                    || !(0.0..=1.0).contains(&xy[0])
                {
                    ok = false;
                }
                pts[len] = (xy[0] as f32, xy[1] as f32);
                len += 1;
                Ok(())
            });
            if ok && len >= 2 && pts[..len].windows(2).all(|w| w[1].0 > w[0].0) {
                Some(Curve::Table(CurveTable { points: pts, len }))
            } else {
                let l = r.loc(e);
                r.report.error(l, ErrorKind::BadCurveTable);
                None
            }
        }
        Value::Null => None,
        other => {
            let l = r.loc(e);
            r.report.error(
                l,
                ErrorKind::WrongType {
                    expected: "a curve name or table",
                    found: other.type_name(),
                },
            );
            None
        }
    }
}

/// Maps a curve name or a recognised Python expression to a [`Curve`].
///
/// Expressions are compared with whitespace removed and `np.`/`math.`/`numpy.` prefixes
/// dropped, so `np.sin(alpha * np.pi / 2)` (the original README's example) and
/// `math.sin(alpha*math.pi/2)` are both `sin_quarter`.
pub fn curve_from_name(s: &str) -> Option<Curve> {
    let mut norm: String<128> = String::new();
    let lower_eq = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    for w in ["linear", "logarithmic", "exponential"] {
        if lower_eq(s.trim(), w) {
            return Some(match w {
                "linear" => Curve::Linear,
                "logarithmic" => Curve::Logarithmic,
                _ => Curve::Exponential,
            });
        }
    }
    let t = s.trim();
    if lower_eq(t, "sine") || lower_eq(t, "ease_in_out") {
        return Some(Curve::EaseInOut);
    }
    if lower_eq(t, "sin_quarter") {
        return Some(Curve::SinQuarter);
    }
    if lower_eq(t, "smoothstep") {
        return Some(Curve::Smoothstep);
    }
    if let Some(k) = t.strip_prefix("pow:") {
        let k = crate::params::py_float(k)?;
        return if k.is_finite() && k > 0.0 {
            Some(Curve::Pow(k))
        } else {
            None
        };
    }
    // Expression forms.
    let mut rest = t;
    while !rest.is_empty() {
        let skip = ["numpy.", "np.", "math."]
            .iter()
            .find(|p| rest.starts_with(*p))
            .map(|p| p.len());
        if let Some(n) = skip {
            rest = &rest[n..];
            continue;
        }
        let c = rest.chars().next()?;
        if !c.is_whitespace() && norm.push(c).is_err() {
            return None;
        }
        rest = &rest[c.len_utf8()..];
    }
    let n = norm.as_str();
    match n {
        "alpha" => Some(Curve::Linear),
        "alpha**2" | "alpha*alpha" | "pow(alpha,2)" => Some(Curve::Exponential),
        "1-(1-alpha)**2" | "1-(1-alpha)*(1-alpha)" => Some(Curve::Logarithmic),
        "sin(alpha*pi/2)" | "sin(pi*alpha/2)" | "sin(alpha*pi*0.5)" | "sin(0.5*pi*alpha)"
        | "sin(pi/2*alpha)" => Some(Curve::SinQuarter),
        "0.5-0.5*cos(pi*alpha)"
        | "0.5-0.5*cos(alpha*pi)"
        | "(1-cos(pi*alpha))/2"
        | "(1-cos(alpha*pi))/2" => Some(Curve::EaseInOut),
        "alpha*alpha*(3-2*alpha)" | "alpha**2*(3-2*alpha)" | "3*alpha**2-2*alpha**3" => {
            Some(Curve::Smoothstep)
        }
        _ => {
            if let Some(k) = n.strip_prefix("alpha**") {
                let k = crate::params::py_float(k)?;
                if k.is_finite() && k > 0.0 {
                    return Some(Curve::Pow(k));
                }
            }
            None
        }
    }
}

fn parse_envelope(
    input: &[u8],
    e: &crate::value::Entry<'_>,
    base: &Location,
    nyquist: f64,
    report: &mut Report,
) -> EnvelopeSpec {
    let span = match e.value {
        Value::Null => return EnvelopeSpec::None,
        Value::Object(span) => span,
        other => {
            let (line, column) = line_col(input, e.offset);
            report.error(
                Location {
                    line,
                    column,
                    ..base.clone()
                }
                .with_key(e.key),
                ErrorKind::WrongType {
                    expected: "an envelope object",
                    found: other.type_name(),
                },
            );
            return EnvelopeSpec::None;
        }
    };
    let em = match parse_map(input, span) {
        Ok(m) => m,
        Err(err) => {
            decode_error(input, base, err, report, "an object");
            return EnvelopeSpec::None;
        }
    };
    if em.entries.is_empty() {
        return EnvelopeSpec::None;
    }
    let mut r = Reader {
        input,
        map: &em,
        report,
        base: base.clone(),
        nyquist,
    };
    let ty: String<TEXT_CAP> = r.text("type").unwrap_or_default();
    let empty = Map::default();
    let pm_storage;
    let pmap: &Map<'_> = match em.get("params").copied() {
        Some(pe) => match pe.value {
            Value::Object(ps) => match parse_map(input, ps) {
                Ok(m) => {
                    pm_storage = m;
                    &pm_storage
                }
                Err(_) => &empty,
            },
            _ => &empty,
        },
        None => &empty,
    };
    let mut p = Reader {
        input,
        map: pmap,
        report,
        base: base.clone(),
        nyquist,
    };
    match ty.as_str() {
        "linear_fade" => {
            let fd = p.number("fade_duration", Kind::Time);
            let sa = p.number("start_amp", Kind::Plain);
            let ea = p.number("end_amp", Kind::Plain);
            match (fd, sa, ea) {
                (Some(fade_duration), Some(start_amp), Some(end_amp)) => EnvelopeSpec::LinearFade {
                    fade_duration,
                    start_amp,
                    end_amp,
                },
                _ => {
                    p.report.warn(
                        base.clone().with_key("volume_envelope"),
                        WarningKind::IncompleteEnvelope,
                    );
                    EnvelopeSpec::Flat
                }
            }
        }
        "adsr" => EnvelopeSpec::Adsr {
            attack: p.num_or("attack", 0.01, Kind::Time),
            decay: p.num_or("decay", 0.1, Kind::Time),
            sustain_level: p.num_or("sustain_level", 0.8, Kind::Plain),
            release: p.num_or("release", 0.1, Kind::Time),
        },
        "linen" => EnvelopeSpec::Linen {
            attack: p.num_or("attack", 0.1, Kind::Time),
            release: p.num_or("release", 0.1, Kind::Time),
        },
        other => {
            p.report.warn(
                base.clone().with_key("volume_envelope"),
                WarningKind::UnknownEnvelope(short(other)),
            );
            EnvelopeSpec::Flat
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curve_names_and_expressions() {
        assert_eq!(curve_from_name("linear"), Some(Curve::Linear));
        assert_eq!(curve_from_name("Logarithmic"), Some(Curve::Logarithmic));
        assert_eq!(
            curve_from_name("np.sin(alpha * np.pi / 2)"),
            Some(Curve::SinQuarter)
        );
        assert_eq!(
            curve_from_name("math.sin(alpha*math.pi/2)"),
            Some(Curve::SinQuarter)
        );
        assert_eq!(curve_from_name("alpha ** 3"), Some(Curve::Pow(3.0)));
        assert_eq!(curve_from_name("pow:0.5"), Some(Curve::Pow(0.5)));
        assert_eq!(curve_from_name("ease_in_out"), Some(Curve::EaseInOut));
        assert_eq!(curve_from_name("wobbly"), None);
        assert_eq!(curve_from_name("pow:-1"), None);
    }
}
