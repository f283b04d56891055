//! Background noise: the track's `background_noise` object (TRACK_FORMAT.md §9.1) and
//! the NoiseParams object of a `.noise` file or of the inline `params` (NOISE.md §1).
//!
//! Decisions where the originals differ or are silent:
//!
//! * File aliases, first non-empty string wins: `file_path` (Session-Builder, the GUI),
//!   `file`, `params_path`, `noise_file` (the original Python's order for the last
//!   three). A file reference wins over inline `params` (the Rust ports' rule).
//! * Gain: `gain` if present, else `amp`, else 1.0. The original Python ignores `amp`
//!   (its GUI writes `amp: 0.0`, which therefore plays at 1.0 in Session-Builder and not
//!   at all in the original, which never reads `file_path` either).
//! * Colour: a top-level `noise_type` (the original) wins; else explicit exponents
//!   (top level, then `noise_parameters`/`color_params`) select the exponent model, as
//!   the newer Rust port does (Session-Builder's Python falls back to white noise for
//!   custom names); else `noise_parameters.name` through the colour table; else pink.
//!   `lowcut`, `highcut` and `seed` are read the same way; `amplitude` is parsed but has
//!   no effect on swept-notch noise (the original's §3 normalisation removes it).
//! * Sweeps: missing `start_*` keys take the original background renderer's defaults
//!   (1000 Hz, 10000 Hz, Q 30, cascade 10); missing `end_*` keys take the `start_*`
//!   value. At most 3 sweeps and 20 cascaded notches per sweep (the GUI's limits).
//! * Transition length: `transition_duration`; else legacy `post_offset`
//!   (`max(0, duration_seconds - initial_offset - post_offset)`, the original's loader);
//!   else Session-Builder's `duration` when positive; else to the end.
//! * `lfo_waveform` other than sine/triangle (the original raises and skips the noise):
//!   a warning, sine is used.
//! * `duration_seconds`, `sample_rate` and the preset's own `start_time`, `fade_*`,
//!   `amp_envelope` are ignored (the track's object provides them, as in the original).

use crate::error::{ErrorKind, Location, Report, WarningKind};
use crate::params::{Kind, Reader};
use crate::syntax::{self, line_col};
use crate::value::{for_each_element, parse_map, parse_value, Entry, Map, Span, Value};
use entrain_dsp::noise::colour::{BandLimits, Colour, ExponentModel};
use entrain_dsp::noise::notch::{
    LfoWave, StaticNotch, SweepSpec, SweptParams, MAX_CASCADE, MAX_STATIC_CASCADE,
    MAX_STATIC_NOTCHES, MAX_SWEEPS,
};
use entrain_engine::noise::{NoiseSpec, MAX_ENVELOPE_POINTS};
use heapless::String;

/// Longest noise preset or input path kept.
pub const NOISE_PATH_CAP: usize = 512;
/// Aliases of the noise preset path, in precedence order.
pub const NOISE_FILE_KEYS: &[&str] = &["file_path", "file", "params_path", "noise_file"];

/// The `background_noise` object, resolved as far as the track alone allows.
#[derive(Clone, Debug, PartialEq)]
pub struct Background {
    /// Gain, fades, envelope, and the inline `params` if there were any.
    pub spec: NoiseSpec,
    /// The preset file named by the object (relative to the track's folder); its
    /// parameters replace `spec.params` once the host has read it.
    pub file: Option<String<NOISE_PATH_CAP>>,
    /// `input_audio_path` of the inline params, if any.
    pub input_audio_path: Option<String<NOISE_PATH_CAP>>,
    /// True when `spec` is complete (inline params, or nothing to read).
    pub has_params: bool,
}

/// A parsed `.noise` preset.
#[derive(Clone, Debug, PartialEq)]
pub struct NoiseFile {
    /// Generator settings.
    pub params: SweptParams,
    /// `input_audio_path` when not empty.
    pub input_audio_path: Option<String<NOISE_PATH_CAP>>,
}

fn reader<'r, 'a>(
    input: &'a [u8],
    map: &'r Map<'a>,
    report: &'r mut Report,
    base: &Location,
) -> Reader<'r, 'a> {
    Reader {
        input,
        map,
        report,
        base: base.clone(),
        nyquist: f64::INFINITY,
    }
}

fn wrong_type(
    input: &[u8],
    base: &Location,
    key: &str,
    offset: usize,
    expected: &'static str,
    found: &'static str,
    report: &mut Report,
) {
    let (line, column) = line_col(input, offset);
    let mut l = base.clone().with_key(key);
    l.line = line;
    l.column = column;
    report.error(l, ErrorKind::WrongType { expected, found });
}

/// Parses a `.noise` file. Errors go to `report` (located by key, line and column).
pub fn parse_noise_file(input: &[u8], report: &mut Report) -> Option<NoiseFile> {
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
        return None;
    }
    let span = Span {
        start: 0,
        end: input.len(),
    };
    parse_params_object(input, span, &Location::default(), report)
}

/// Parses a NoiseParams object at `span` of `input`.
pub fn parse_params_object(
    input: &[u8],
    span: Span,
    base: &Location,
    report: &mut Report,
) -> Option<NoiseFile> {
    let map = match parse_map(input, span) {
        Ok(m) => m,
        Err(_) => {
            wrong_type(
                input,
                base,
                "",
                span.start,
                "a JSON object (noise parameters)",
                "something else",
                report,
            );
            return None;
        }
    };
    let mut p = SweptParams::default();
    let mut r = reader(input, &map, report, base);

    // ---- colour ------------------------------------------------------------------
    let np_storage;
    let empty = Map::default();
    let np: &Map<'_> = match map
        .get("noise_parameters")
        .or_else(|| map.get("color_params"))
        .copied()
    {
        Some(e) => match e.value {
            Value::Object(s) => match parse_map(input, s) {
                Ok(m) => {
                    np_storage = m;
                    &np_storage
                }
                Err(_) => &empty,
            },
            Value::Null => &empty,
            other => {
                let l = r.loc(&e);
                r.report.error(
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
    let top_type: Option<String<32>> = r.text("noise_type");
    // Reads `key` from the top level first, then from noise_parameters.
    let both = |r: &mut Reader<'_, '_>, key: &str, kind: Kind| -> Option<f64> {
        match r.number(key, kind) {
            Some(v) => Some(v),
            None => {
                let mut nr = reader(input, np, r.report, base);
                nr.number(key, kind)
            }
        }
    };
    let exponent = both(&mut r, "exponent", Kind::Plain);
    let high = both(&mut r, "high_exponent", Kind::Plain);
    let curve = both(&mut r, "distribution_curve", Kind::Plain);
    let lowcut = both(&mut r, "lowcut", Kind::Time);
    let highcut = both(&mut r, "highcut", Kind::Time);
    let seed = both(&mut r, "seed", Kind::Time);
    let _amplitude = both(&mut r, "amplitude", Kind::Plain);
    let name: Option<String<32>> = {
        let mut nr = reader(input, np, r.report, base);
        nr.text("name")
    };
    p.colour = match (&top_type, exponent) {
        (Some(t), _) => Colour::from_name(t),
        (None, Some(e)) => Colour::Exponent(ExponentModel {
            exponent: e as f32,
            high_exponent: high.unwrap_or(e) as f32,
            curve: curve.unwrap_or(1.0) as f32,
        }),
        (None, None) => match &name {
            Some(n) => Colour::from_name(n),
            None => Colour::Pink,
        },
    };
    p.band = BandLimits { lowcut, highcut };
    if let Some(s) = seed {
        p.seed = s as u64;
    }

    // ---- LFO and transition ---------------------------------------------------------
    if let Some(e) = r.entry("lfo_waveform") {
        if let Some(w) = r.coerce_text::<32>(&e) {
            if w.eq_ignore_ascii_case("triangle") {
                p.lfo_wave = LfoWave::Triangle;
            } else if !w.eq_ignore_ascii_case("sine") {
                let l = r.loc(&e);
                r.report.warn(
                    l,
                    WarningKind::NotRendered("this lfo_waveform (sine is used)"),
                );
            }
        }
    }
    p.transition = r.bool_or("transition", false);
    let twelfth = 1.0 / 12.0;
    p.lfo_freq = r.num_or("lfo_freq", twelfth, Kind::Time);
    p.transition_lfo_freq = [
        r.num_or("start_lfo_freq", twelfth, Kind::Time),
        r.num_or("end_lfo_freq", twelfth, Kind::Time),
    ];
    let s = r.num_or("start_lfo_phase_offset_deg", 0.0, Kind::Plain);
    p.lfo_phase_offset_deg = [s, r.num_or("end_lfo_phase_offset_deg", s, Kind::Plain)];
    let s = r.num_or("start_intra_phase_offset_deg", 0.0, Kind::Plain);
    p.intra_phase_offset_deg = [s, r.num_or("end_intra_phase_offset_deg", s, Kind::Plain)];
    p.initial_offset = r.num_or("initial_offset", 0.0, Kind::Time);
    let duration_seconds = r.num_or("duration_seconds", 60.0, Kind::Time);
    p.transition_duration = match r.number("transition_duration", Kind::Time) {
        Some(v) => Some(v),
        None => match r.number("post_offset", Kind::Time) {
            Some(po) => Some((duration_seconds - p.initial_offset - po).max(0.0)),
            None => r.number("duration", Kind::Time).filter(|d| *d > 0.0),
        },
    };

    // ---- sweeps -----------------------------------------------------------------------
    if let Some(e) = r.entry("sweeps") {
        if let Some(n) = read_sweeps(&mut r, &e, SweepSpec::default(), &mut p.sweeps) {
            p.sweep_count = n;
        }
    }

    // ---- static notches (Session-Builder) --------------------------------------------------
    if let Some(e) = r.entry("static_notches") {
        p.static_count = read_static_notches(&mut r, &e, &mut p.static_notches);
    }

    let input_audio_path = r
        .text::<NOISE_PATH_CAP>("input_audio_path")
        .filter(|s| !s.trim().is_empty());
    Some(NoiseFile {
        params: p,
        input_audio_path,
    })
}

/// The location of an array element `el` of the entry `key`.
fn element_loc(r: &Reader<'_, '_>, key: &str, at: usize) -> Location {
    let mut l = r.base.clone().with_key(key);
    let (line, column) = line_col(r.input, at);
    l.line = line;
    l.column = column;
    l
}

/// A Q factor: a finite number above zero (located error otherwise).
pub(crate) fn check_q<'a>(r: &mut Reader<'_, 'a>, e: &Entry<'a>) -> Option<f64> {
    let q = r.coerce_number(e, Kind::Plain)?;
    if q > 0.0 {
        Some(q)
    } else {
        let l = r.loc(e);
        r.report.error(l, ErrorKind::NotPositive(q));
        None
    }
}

/// A cascade count: 1..=[`MAX_CASCADE`] (located error above).
pub(crate) fn check_casc<'a>(r: &mut Reader<'_, 'a>, e: &Entry<'a>) -> Option<f64> {
    let c = r.coerce_number(e, Kind::Time)?;
    if c > MAX_CASCADE as f64 {
        let l = r.loc(e);
        r.report.error(
            l,
            ErrorKind::TooMany {
                what: "cascaded notches in a sweep",
                limit: MAX_CASCADE,
            },
        );
        return None;
    }
    Some(c)
}

/// Reads the sweep list of entry `e` into `out` (at most [`MAX_SWEEPS`], a located error
/// beyond). Each sweep is an object (`start_min`/`min`, `end_min`, `start_max`/`max`,
/// `end_max`, `start_q`/`q`, `end_q`, `start_casc`/`casc`/`cascade`, `end_casc`; a
/// missing `start_*` takes `default`, a missing `end_*` the start value) or an array
/// `[min, max, q, casc]` whose missing tail takes `default` (Session-Builder's tuples,
/// the offline tool's `[(min, max)]`). Returns the number of sweeps, `None` when the
/// value is not an array (reported).
pub(crate) fn read_sweeps<'a>(
    r: &mut Reader<'_, 'a>,
    e: &Entry<'a>,
    default: SweepSpec,
    out: &mut [SweepSpec; MAX_SWEEPS],
) -> Option<usize> {
    let input = r.input;
    let key = e.key;
    let Value::Array(span) = e.value else {
        let l = r.loc(e);
        r.report.error(
            l,
            ErrorKind::WrongType {
                expected: "an array of sweeps",
                found: e.value.type_name(),
            },
        );
        return None;
    };
    let mut count = 0usize;
    let _ = for_each_element::<()>(input, span, |i, el| {
        let sb = element_loc(r, key, el.start);
        if i >= MAX_SWEEPS {
            if i == MAX_SWEEPS {
                r.report.error(
                    sb,
                    ErrorKind::TooMany {
                        what: "sweeps",
                        limit: MAX_SWEEPS,
                    },
                );
            }
            return Ok(());
        }
        let d = default;
        let spec = match parse_value(input, el) {
            Ok(Value::Object(os)) => {
                let Ok(m) = parse_map(input, os) else {
                    return Ok(());
                };
                let mut sr = reader(input, &m, r.report, &r.base);
                let smin = sr
                    .number_any(&["start_min", "min"], Kind::Time)
                    .unwrap_or(d.min_hz[0]);
                let smax = sr
                    .number_any(&["start_max", "max"], Kind::Time)
                    .unwrap_or(d.max_hz[0]);
                let mut q = [d.q[0], f64::NAN];
                let mut c = [d.casc[0], f64::NAN];
                for (j, keys) in [&["start_q", "q"][..], &["end_q"][..]].iter().enumerate() {
                    if let Some(e) = m.first_of(keys).copied() {
                        if let Some(v) = check_q(&mut sr, &e) {
                            q[j] = v;
                        }
                    }
                }
                for (j, keys) in [&["start_casc", "casc", "cascade"][..], &["end_casc"][..]]
                    .iter()
                    .enumerate()
                {
                    if let Some(e) = m.first_of(keys).copied() {
                        if let Some(v) = check_casc(&mut sr, &e) {
                            c[j] = v;
                        }
                    }
                }
                SweepSpec {
                    min_hz: [smin, sr.num_or("end_min", smin, Kind::Time)],
                    max_hz: [smax, sr.num_or("end_max", smax, Kind::Time)],
                    q: [q[0], if q[1].is_nan() { q[0] } else { q[1] }],
                    casc: [c[0], if c[1].is_nan() { c[0] } else { c[1] }],
                }
            }
            Ok(Value::Array(a)) => {
                let mut vals = [d.min_hz[0], d.max_hz[0], d.q[0], d.casc[0]];
                let _ = for_each_element::<()>(input, a, |j, c| {
                    let Ok(value) = parse_value(input, c) else {
                        return Ok(());
                    };
                    let ce = Entry {
                        key,
                        value,
                        offset: c.start,
                    };
                    let v = match j {
                        0 | 1 => r.coerce_number(&ce, Kind::Time),
                        2 => check_q(r, &ce),
                        3 => check_casc(r, &ce),
                        _ => None,
                    };
                    if let Some(v) = v {
                        vals[j] = v;
                    }
                    Ok(())
                });
                SweepSpec {
                    min_hz: [vals[0]; 2],
                    max_hz: [vals[1]; 2],
                    q: [vals[2]; 2],
                    casc: [vals[3]; 2],
                }
            }
            _ => {
                r.report.error(
                    sb,
                    ErrorKind::WrongType {
                        expected: "a sweep object or [min, max, q, cascade]",
                        found: "something else",
                    },
                );
                return Ok(());
            }
        };
        out[count] = spec;
        count += 1;
        Ok(())
    });
    Some(count)
}

/// Reads Session-Builder `static_notches` (NOISE.md §4.6) of entry `e` into `out`
/// (objects `{freq|frequency|hz, q|quality, cascade|count}` or `[freq, q, casc]`);
/// returns how many. More than [`MAX_STATIC_NOTCHES`], or a cascade above
/// [`MAX_STATIC_CASCADE`], is a located error.
pub(crate) fn read_static_notches<'a>(
    r: &mut Reader<'_, 'a>,
    e: &Entry<'a>,
    out: &mut [StaticNotch; MAX_STATIC_NOTCHES],
) -> usize {
    let input = r.input;
    let key = e.key;
    let Value::Array(span) = e.value else {
        let l = r.loc(e);
        r.report.error(
            l,
            ErrorKind::WrongType {
                expected: "an array of notches",
                found: e.value.type_name(),
            },
        );
        return 0;
    };
    let mut count = 0usize;
    let _ = for_each_element::<()>(input, span, |i, el| {
        let nb = element_loc(r, key, el.start);
        if i >= MAX_STATIC_NOTCHES {
            if i == MAX_STATIC_NOTCHES {
                r.report.error(
                    nb,
                    ErrorKind::TooMany {
                        what: "static notches",
                        limit: MAX_STATIC_NOTCHES,
                    },
                );
            }
            return Ok(());
        }
        let mut n = StaticNotch::default();
        match parse_value(input, el) {
            Ok(Value::Object(os)) => {
                if let Ok(m) = parse_map(input, os) {
                    let mut nr = reader(input, &m, r.report, &r.base);
                    n.freq_hz = nr
                        .number_any(&["freq", "frequency", "hz"], Kind::Time)
                        .unwrap_or(1000.0);
                    n.q = nr.number_any(&["q", "quality"], Kind::Time).unwrap_or(25.0);
                    let c = nr
                        .number_any(&["cascade", "count"], Kind::Time)
                        .unwrap_or(1.0);
                    n.cascade = c.clamp(1.0, 255.0) as u8;
                }
            }
            Ok(Value::Array(a)) => {
                let mut vals = [1000.0, 25.0, 1.0];
                let _ = for_each_element::<()>(input, a, |j, c| {
                    if let (true, Ok(Value::Number(v))) = (j < 3, parse_value(input, c)) {
                        vals[j] = v;
                    }
                    Ok(())
                });
                n.freq_hz = vals[0];
                n.q = vals[1];
                n.cascade = vals[2].clamp(1.0, 255.0) as u8;
            }
            _ => {}
        }
        n.freq_hz = n.freq_hz.max(1.0);
        n.q = n.q.max(0.1);
        if n.cascade as usize > MAX_STATIC_CASCADE {
            r.report.error(
                nb,
                ErrorKind::TooMany {
                    what: "cascaded passes of a static notch",
                    limit: MAX_STATIC_CASCADE,
                },
            );
        }
        out[count] = n;
        count += 1;
        Ok(())
    });
    count.min(MAX_STATIC_NOTCHES)
}

/// Parses the `background_noise` object at `span`. `None` when it asks for no noise
/// (no preset path and no inline params).
pub fn parse_background(input: &[u8], span: Span, report: &mut Report) -> Option<Background> {
    let base = Location::default().with_key("background_noise");
    let map = parse_map(input, span).ok()?;
    let mut r = reader(input, &map, report, &base);
    let mut spec = NoiseSpec {
        gain: match r.number("gain", Kind::Plain) {
            Some(g) => g,
            None => r.num_or("amp", 1.0, Kind::Plain),
        },
        // §9.1: RP2 also reads `start_time_seconds`; `start_time` wins when both are given.
        start_time: r
            .number_any(&["start_time", "start_time_seconds"], Kind::Time)
            .unwrap_or(0.0),
        fade_in: r.num_or("fade_in", 0.0, Kind::Time),
        fade_out: r.num_or("fade_out", 0.0, Kind::Time),
        ..NoiseSpec::default()
    };
    if let Some(e) = r.entry("amp_envelope") {
        match e.value {
            Value::Array(a) => {
                let mut n = 0usize;
                let mut bad = false;
                let _ = for_each_element::<()>(input, a, |_, el| {
                    let mut xy = [f64::NAN; 2];
                    let mut k = 0;
                    if let Ok(Value::Array(ps)) = parse_value(input, el) {
                        let _ = for_each_element::<()>(input, ps, |j, c| {
                            if let (true, Ok(Value::Number(v))) = (j < 2, parse_value(input, c)) {
                                xy[j] = v;
                            }
                            k = j + 1;
                            Ok(())
                        });
                    }
                    if k != 2
                        || !xy[0].is_finite()
                        || !xy[1].is_finite()
                        || n >= MAX_ENVELOPE_POINTS
                    {
                        bad = true;
                    } else {
                        spec.envelope[n] = (xy[0], xy[1]);
                        n += 1;
                    }
                    Ok(())
                });
                if bad {
                    let l = r.loc(&e);
                    r.report.error(
                        l,
                        ErrorKind::TooMany {
                            what: "amp_envelope points, or a point that is not [time_s, amp]",
                            limit: MAX_ENVELOPE_POINTS,
                        },
                    );
                }
                spec.envelope_len = n;
            }
            other => {
                let l = r.loc(&e);
                r.report.error(
                    l,
                    ErrorKind::WrongType {
                        expected: "a list of [time_s, amp] points",
                        found: other.type_name(),
                    },
                );
            }
        }
    }
    let mut file = None;
    for k in NOISE_FILE_KEYS {
        if let Some(e) = r.entry(k) {
            if let Some(s) = r.coerce_text::<NOISE_PATH_CAP>(&e) {
                if !s.trim().is_empty() {
                    file = Some(s);
                    break;
                }
            }
        }
    }
    let mut input_audio_path = None;
    let mut has_params = false;
    if file.is_none() {
        match map.get("params").copied().map(|e| e.value) {
            Some(Value::Object(ps)) => {
                let pbase = base.clone().with_key("params");
                if let Some(nf) = parse_params_object(input, ps, &pbase, report) {
                    spec.params = nf.params;
                    spec.input_file = nf.input_audio_path.is_some();
                    input_audio_path = nf.input_audio_path;
                    has_params = true;
                }
            }
            _ => return None,
        }
    }
    Some(Background {
        spec,
        file,
        input_audio_path,
        has_params,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole(s: &[u8]) -> Span {
        Span {
            start: 0,
            end: s.len(),
        }
    }

    #[test]
    fn py_preset() {
        let src = br#"{"duration_seconds": 60.0, "noise_type": "brown", "lfo_waveform": "triangle",
            "transition": true, "start_lfo_freq": 0.05, "end_lfo_freq": 0.025,
            "sweeps": [{"start_min": 500, "end_min": 300, "start_max": 4000, "end_max": 2500,
                        "start_q": 20, "end_q": 30, "start_casc": 6, "end_casc": 8},
                       {"start_min": 1850}],
            "start_lfo_phase_offset_deg": 180, "end_lfo_phase_offset_deg": 90,
            "start_intra_phase_offset_deg": 30, "end_intra_phase_offset_deg": 60,
            "initial_offset": 10.0, "post_offset": 20.0, "input_audio_path": ""}"#;
        let mut rep = Report::default();
        let f = parse_noise_file(src, &mut rep).unwrap();
        assert!(!rep.has_errors(), "{:?}", rep.errors);
        let p = f.params;
        assert_eq!(p.colour, Colour::Brown);
        assert_eq!(p.lfo_wave, LfoWave::Triangle);
        assert!(p.transition);
        assert_eq!(p.transition_lfo_freq, [0.05, 0.025]);
        assert_eq!(p.sweep_count, 2);
        assert_eq!(p.sweeps[0].min_hz, [500.0, 300.0]);
        assert_eq!(p.sweeps[0].casc, [6.0, 8.0]);
        assert_eq!(p.sweeps[1].min_hz, [1850.0, 1850.0]);
        assert_eq!(p.sweeps[1].max_hz, [10000.0, 10000.0]);
        assert_eq!(p.sweeps[1].q, [30.0, 30.0]);
        assert_eq!(p.lfo_phase_offset_deg, [180.0, 90.0]);
        assert_eq!(p.intra_phase_offset_deg, [30.0, 60.0]);
        assert_eq!(p.transition_duration, Some(30.0));
        assert_eq!(f.input_audio_path, None);
    }

    #[test]
    fn sb_preset_and_limits() {
        let src =
            br#"{"noise_parameters": {"name": "low pink", "exponent": 1.25, "high_exponent": 2.0,
            "distribution_curve": 1.0, "lowcut": 50, "highcut": 20000, "seed": 7},
            "static_notches": [{"freq": 60, "q": 10}, [120, 5, 2]],
            "sweeps": [{}, {}, {}, {}]}"#;
        let mut rep = Report::default();
        let f = parse_noise_file(src, &mut rep).unwrap();
        assert_eq!(
            f.params.colour,
            Colour::Exponent(ExponentModel {
                exponent: 1.25,
                high_exponent: 2.0,
                curve: 1.0
            })
        );
        assert_eq!(f.params.band.lowcut, Some(50.0));
        assert_eq!(f.params.seed, 7);
        assert_eq!(f.params.static_count, 2);
        assert_eq!(f.params.static_notches[1].cascade, 2);
        assert_eq!(rep.errors.len(), 1, "{:?}", rep.errors);
        assert!(matches!(
            rep.errors[0].kind,
            ErrorKind::TooMany { what: "sweeps", .. }
        ));
        assert_eq!(rep.errors[0].location.line, 4);
    }

    #[test]
    fn background_object() {
        let src = br#"{"noise_file": "a.noise", "file_path": "", "amp": 0.5, "fade_in": 2,
            "amp_envelope": [[0, 1], [5, 0.5]]}"#;
        let mut rep = Report::default();
        let b = parse_background(src, whole(src), &mut rep).unwrap();
        assert_eq!(b.file.as_deref(), Some("a.noise"));
        assert_eq!(b.spec.gain, 0.5);
        assert_eq!(b.spec.fade_in, 2.0);
        assert_eq!(b.spec.envelope_len, 2);
        let src = br#"{"gain": 0.3, "amp": 0.9, "params": {"noise_type": "green"}}"#;
        let b = parse_background(src, whole(src), &mut rep).unwrap();
        assert!(b.has_params && b.file.is_none());
        assert_eq!(b.spec.gain, 0.3);
        assert_eq!(b.spec.params.colour, Colour::Green);
        let src = br#"{"amp": 0.0, "file_path": ""}"#;
        assert!(parse_background(src, whole(src), &mut rep).is_none());
        assert!(!rep.has_errors());
    }
}
