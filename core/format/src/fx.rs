//! The per-voice effect keys: the flanger of every voice (VOICES.md §14.1, `flange*`,
//! `startFlange*`, `endFlange*`) and the spatializer of `binaural_beat` and
//! `isochronic_tone` (§15.1, `spatial*`), with the original's coercions and quirks:
//!
//! * the flanger exists only when `flangeEnable` is truthy (the original zeroes every
//!   `flange*` key otherwise, the start/end enables included); `startFlangeEnable` /
//!   `endFlangeEnable` default to it; each start/end key overrides the plain one;
//!   `flangeShape` is a sine only for exactly `"sine"`; the integer keys
//!   (`flangeStereoMode`, `flangeDelayLaw`, `flangeInterp`, `flangeLoudnessMode`) are
//!   truncated like Python's `int()`, so booleans read as 0/1;
//! * `spatialTrajectory: []` is a static source at 0°, 1 m; an absent key gives the
//!   built-in oscillation; `spatialUseItdIld` (written by the GUI) is never read — the
//!   voice reads `spatialUseIld` — and is reported as ignored when the spatializer is on;
//! * interpolation keys also accept the words `"linear"`, `"lagrange3"` and `"cubic"` (the
//!   last selects the correct cubic read, an extension).
//!
//! Capacity limits are located errors: `flangeMaxDelayMs` above
//! [`flanger::MAX_DELAY_MS`], more than [`spatial::MAX_SEGMENTS`] trajectory segments, and
//! a head radius × ITD scale whose delay line does not fit the spatializer's ring at the
//! track's sample rate.

use crate::error::{short, ErrorKind, WarningKind, TEXT_CAP};
use crate::params::{Kind, Reader};
use crate::value::{for_each_element, parse_map, Entry, Value};
use entrain_dsp::burst;
use entrain_dsp::delay::Interp;
use entrain_dsp::flanger::{self, Law, Shape, StereoMode};
use entrain_dsp::spatial::{self, Decoder, Segment, SegmentMode, Trajectory};
use entrain_engine::model::{
    BinauralParams, FlangerConfig, FlangerSpec, PathShape, SamParams, SpatialConfig,
};
use heapless::String;

/// The flanger keys after `flange` (the start/end variants insert `start`/`end` before).
const FLANGE_KEYS: [&str; 24] = [
    "DelayMs",
    "DepthMs",
    "RateHz",
    "Shape",
    "Feedback",
    "Mix",
    "LoopLpfHz",
    "LoopHpfHz",
    "StereoMode",
    "SpreadDeg",
    "DelayLaw",
    "Interp",
    "MinDelayMs",
    "MaxDelayMs",
    "DezipperDelayMs",
    "DezipperDepthMs",
    "DezipperRateMs",
    "DezipperFeedbackMs",
    "DezipperWetMs",
    "DezipperFilterMs",
    "LoudnessMode",
    "LoudnessTcMs",
    "LoudnessMinGain",
    "LoudnessMaxGain",
];

fn key(prefix: &str, stem: &str) -> String<48> {
    let mut s: String<48> = String::new();
    let _ = s.push_str(prefix);
    let _ = s.push_str(stem);
    s
}

/// Python `int(x)` of a number: truncation toward zero.
fn int_of(v: f64) -> i64 {
    v as i64
}

/// An interpolation key: a number (`int()`: 0 → linear, anything else → "Lagrange3") or
/// one of the words `linear`, `lagrange3`, `cubic`.
fn interp_of<'a>(r: &mut Reader<'_, 'a>, e: &Entry<'a>) -> Option<Interp> {
    if let Value::Str(raw) = e.value {
        let s: Option<String<TEXT_CAP>> = r.coerce_text(e);
        let s = s?;
        let t = s.trim();
        for (w, i) in [
            ("linear", Interp::Linear),
            ("lagrange3", Interp::Lagrange3),
            ("cubic", Interp::Cubic),
        ] {
            if t.eq_ignore_ascii_case(w) {
                return Some(i);
            }
        }
        if crate::params::py_float(t).is_none() {
            let l = r.loc(e);
            r.report.error(
                l,
                ErrorKind::UnknownWord {
                    found: short(raw),
                    expected: "0, 1, \"linear\", \"lagrange3\", \"cubic\"",
                },
            );
            return None;
        }
    }
    let v = r.coerce_number(e, Kind::Plain)?;
    Some(if int_of(v) == 0 {
        Interp::Linear
    } else {
        Interp::Lagrange3
    })
}

/// One flanger key for one end: the `prefix`ed key if present, else the plain one.
fn flange_entry<'a>(r: &Reader<'_, 'a>, prefix: &str, stem: &str) -> Option<Entry<'a>> {
    if !prefix.is_empty() {
        if let Some(e) = r.entry(&key(prefix, stem)) {
            return Some(e);
        }
    }
    r.entry(&key("flange", stem))
}

/// The configuration of one end (`prefix` = `"flange"`, `"startFlange"` or `"endFlange"`).
fn flange_config(r: &mut Reader<'_, '_>, prefix: &str) -> FlangerConfig {
    let mut c = FlangerConfig::default();
    for stem in FLANGE_KEYS {
        let Some(e) = flange_entry(r, prefix, stem) else {
            continue;
        };
        match stem {
            "Shape" => {
                // `0 if str(x) == 'sine' else 1`: exact, case-sensitive
                c.shape = match e.value {
                    Value::Str("sine") => Shape::Sine,
                    _ => Shape::Triangle,
                };
            }
            "StereoMode" => {
                if let Some(v) = r.coerce_number(&e, Kind::Plain) {
                    c.stereo_mode = match int_of(v) {
                        1 => StereoMode::Spread,
                        2 => StereoMode::MidOnly,
                        3 => StereoMode::SideOnly,
                        _ => StereoMode::Linked,
                    };
                }
            }
            "DelayLaw" => {
                if let Some(v) = r.coerce_number(&e, Kind::Plain) {
                    c.law = match int_of(v) {
                        0 => Law::Linear,
                        1 => Law::Inverse,
                        _ => Law::Exponential,
                    };
                }
            }
            "Interp" => {
                if let Some(i) = interp_of(r, &e) {
                    c.interp = i;
                }
            }
            "LoudnessMode" => {
                if let Some(v) = r.coerce_number(&e, Kind::Plain) {
                    c.loudness = int_of(v) != 0;
                }
            }
            _ => {
                let Some(v) = r.coerce_number(&e, Kind::Plain) else {
                    continue;
                };
                let v = v as f32;
                match stem {
                    "DelayMs" => c.delay_ms = v,
                    "DepthMs" => c.depth_ms = v,
                    "RateHz" => c.rate_hz = v,
                    "Feedback" => c.feedback = v,
                    "Mix" => c.wet = v,
                    "LoopLpfHz" => c.loop_lpf_hz = v,
                    "LoopHpfHz" => c.loop_hpf_hz = v,
                    "SpreadDeg" => c.spread_deg = v,
                    "MinDelayMs" => c.min_delay_ms = v,
                    "MaxDelayMs" => c.max_delay_ms = v,
                    "DezipperDelayMs" => c.dz_ms[0] = v,
                    "DezipperDepthMs" => c.dz_ms[1] = v,
                    "DezipperRateMs" => c.dz_ms[2] = v,
                    "DezipperFeedbackMs" => c.dz_ms[3] = v,
                    "DezipperWetMs" => c.dz_ms[4] = v,
                    "DezipperFilterMs" => c.dz_ms[5] = v,
                    "LoudnessTcMs" => c.loud_tc_ms = v,
                    "LoudnessMinGain" => c.loud_min_gain = v,
                    "LoudnessMaxGain" => c.loud_max_gain = v,
                    _ => {}
                }
            }
        }
    }
    // capacity: the delay line of the largest delay must fit the ring at 192 kHz
    let (_, max) = c.delay_bounds();
    if max > flanger::MAX_DELAY_MS {
        let culprit =
            flange_entry(r, prefix, "MaxDelayMs").or_else(|| flange_entry(r, prefix, "MinDelayMs"));
        let loc = match culprit {
            Some(e) => r.loc(&e),
            None => r.base.clone(),
        };
        r.report.error(
            loc,
            ErrorKind::AboveLimit {
                value: max,
                limit: flanger::MAX_DELAY_MS,
                what: "flanger maximum delay in ms (delay-line capacity at 192 kHz)",
            },
        );
        c.max_delay_ms = flanger::MAX_DELAY_MS as f32;
        c.min_delay_ms = c.min_delay_ms.min(c.max_delay_ms - 0.01);
    }
    c
}

/// The flanger of a voice, or `None` when `flangeEnable` is off (or both ends are off).
/// `transition`: the voice is a transition variant (its start/end keys are read).
pub fn parse_flanger(r: &mut Reader<'_, '_>, transition: bool) -> Option<FlangerSpec> {
    if !r.bool_or("flangeEnable", false) {
        return None;
    }
    let enable_start = r.bool_or("startFlangeEnable", true);
    let enable_end = r.bool_or("endFlangeEnable", true);
    if !enable_start && !enable_end {
        return None;
    }
    let start = flange_config(r, "startFlange");
    let end = if transition {
        flange_config(r, "endFlange")
    } else {
        // static voices apply the start configuration once; the end keys are still read
        // (and validated) as the original parses them
        let _ = flange_config(r, "endFlange");
        start
    };
    Some(FlangerSpec {
        start,
        end,
        enable: [enable_start, enable_end],
    })
}

fn seg_number(r: &mut Reader<'_, '_>, k: &str) -> Option<f32> {
    r.number(k, Kind::Plain).map(|v| v as f32)
}

/// One trajectory segment object.
fn segment(r: &mut Reader<'_, '_>) -> Segment {
    let mode = match r.entry("mode") {
        None => SegmentMode::Rotate,
        Some(e) => match e.value {
            Value::Str("rotate") => SegmentMode::Rotate,
            Value::Str("rotating_arc") => SegmentMode::RotatingArc,
            _ => SegmentMode::Oscillate,
        },
    };
    let start = seg_number(r, "start_deg").unwrap_or(0.0);
    let distance = match r.entry("distance_m") {
        None => [1.0, 1.0],
        Some(e) => match e.value {
            Value::Array(span) => {
                let mut vals: heapless::Vec<f32, 2> = heapless::Vec::new();
                let mut count = 0usize;
                let input = r.input;
                let _ = for_each_element(input, span, |_, sp| -> Result<(), ()> {
                    count += 1;
                    if let Ok(v) = crate::value::parse_value(input, sp) {
                        let el = Entry {
                            key: "distance_m",
                            value: v,
                            offset: sp.start,
                        };
                        if let Some(x) = r.coerce_number(&el, Kind::Plain) {
                            let _ = vals.push(x as f32);
                        }
                    }
                    Ok(())
                });
                if count == 2 && vals.len() == 2 {
                    [vals[0], vals[1]]
                } else {
                    let l = r.loc(&e);
                    r.report.error(
                        l,
                        ErrorKind::WrongType {
                            expected: "a number or a [start, end] pair",
                            found: "an array of another length",
                        },
                    );
                    [1.0, 1.0]
                }
            }
            _ => {
                let d = r.coerce_number(&e, Kind::Plain).unwrap_or(1.0) as f32;
                [d, d]
            }
        },
    };
    Segment {
        mode,
        start_deg: start,
        center_deg: seg_number(r, "center_deg").unwrap_or(start),
        extent_deg: seg_number(r, "extent_deg").unwrap_or(180.0),
        speed_deg_per_s: seg_number(r, "speed_deg_per_s"),
        period_s: seg_number(r, "period_s"),
        rotate_freq_hz: seg_number(r, "rotate_freq_hz").unwrap_or(0.0),
        easing_sine: matches!(r.entry("easing").map(|e| e.value), Some(Value::Str("sine"))),
        distance_m: distance,
        seconds: Some(seg_number(r, "seconds").unwrap_or(0.0)),
    }
}

fn trajectory(r: &mut Reader<'_, '_>) -> Trajectory {
    let Some(e) = r.entry("spatialTrajectory") else {
        return Trajectory::default_oscillate();
    };
    let Value::Array(span) = e.value else {
        let l = r.loc(&e);
        r.report.error(
            l,
            ErrorKind::WrongType {
                expected: "an array of segments",
                found: e.value.type_name(),
            },
        );
        return Trajectory::default_oscillate();
    };
    let mut t = Trajectory::empty();
    let input = r.input;
    let _ = for_each_element(input, span, |i, sp| -> Result<(), ()> {
        let (line, column) = crate::syntax::line_col(input, sp.start);
        let mut loc = r.base.clone().with_key("spatialTrajectory");
        loc.line = line;
        loc.column = column;
        let map = match parse_map(input, sp) {
            Ok(m) => m,
            Err(_) => {
                r.report.error(
                    loc,
                    ErrorKind::WrongType {
                        expected: "an object (a trajectory segment)",
                        found: "another value",
                    },
                );
                return Ok(());
            }
        };
        let mut sr_reader = Reader {
            input,
            map: &map,
            report: &mut *r.report,
            base: r.base.clone(),
            nyquist: r.nyquist,
        };
        let seg = segment(&mut sr_reader);
        if t.push(seg).is_err() && i == spatial::MAX_SEGMENTS {
            r.report.error(
                loc,
                ErrorKind::TooMany {
                    what: "spatialTrajectory segments",
                    limit: spatial::MAX_SEGMENTS,
                },
            );
        }
        Ok(())
    });
    t
}

/// The spatializer of a binaural or isochronic voice, or `None` when `spatialEnable` is
/// off. `sr`: the track's sample rate (for the delay-line capacity check).
pub fn parse_spatial(r: &mut Reader<'_, '_>, sr: u32) -> Option<SpatialConfig> {
    if !r.bool_or("spatialEnable", false) {
        return None;
    }
    if let Some(e) = r.entry("spatialUseItdIld") {
        let l = r.loc(&e);
        r.report.warn(l, WarningKind::IgnoredKey);
    }
    let mut c = SpatialConfig {
        trajectory: trajectory(r),
        ..SpatialConfig::default()
    };
    if let Some(e) = r.entry("spatialDecoder") {
        c.decoder = match e.value {
            Value::Str(raw) => {
                let s: String<TEXT_CAP> = r.coerce_text(&e).unwrap_or_default();
                let _ = raw;
                if s.eq_ignore_ascii_case("foa_cardioid") {
                    Decoder::FoaCardioid
                } else {
                    Decoder::ItdHead
                }
            }
            _ => Decoder::ItdHead,
        };
    }
    if let Some(e) = r.entry("spatialUseIld") {
        if let Some(v) = r.coerce_number(&e, Kind::Plain) {
            c.use_ild = int_of(v) != 0;
        }
    }
    if let Some(e) = r.entry("spatialInterp") {
        if let Some(i) = interp_of(r, &e) {
            c.interp = i;
        }
    }
    let mut f = |k: &str, slot: &mut f32| {
        if let Some(v) = r.number(k, Kind::Plain) {
            *slot = v as f32;
        }
    };
    f("spatialEarAngleDeg", &mut c.ear_angle_deg);
    f("spatialHeadRadiusM", &mut c.head_radius_m);
    f("spatialItdScale", &mut c.itd_scale);
    f("spatialIldMaxDb", &mut c.ild_max_db);
    f("spatialRefDistanceM", &mut c.ref_distance_m);
    f("spatialRolloff", &mut c.rolloff);
    f("spatialHfRollDbPerM", &mut c.hf_roll_db_per_m);
    f("spatialDezipperThetaMs", &mut c.dz_theta_ms);
    f("spatialDezipperDistMs", &mut c.dz_dist_ms);
    f("spatialMinDistanceM", &mut c.min_distance_m);
    f("spatialMaxDegPerS", &mut c.max_deg_per_s);
    f("spatialMaxDelayStepSamples", &mut c.max_delay_step_samples);
    // read (and validated) but unused, as in the original
    let _ = r.number("spatialIldXoverHz", Kind::Plain);
    // capacity: the ITD delay line must fit the ring at this rate
    let span = c.head_radius_m.abs() as f64 * c.itd_scale.abs() as f64;
    let limit = spatial::max_ring_for(sr as f64);
    if span > limit {
        let culprit = r
            .entry("spatialItdScale")
            .or_else(|| r.entry("spatialHeadRadiusM"));
        let loc = match culprit {
            Some(e) => r.loc(&e),
            None => r.base.clone(),
        };
        r.report.error(
            loc,
            ErrorKind::AboveLimit {
                value: span,
                limit,
                what: "head radius × ITD scale in metres (ITD delay-line capacity at this sample rate)",
            },
        );
        c.itd_scale = 0.0;
    }
    Some(c)
}

/// Validates the glitch bursts of a `binaural_beat_transition` (VOICES.md §1.4) against
/// the engine's burst buffer: `floor(glitchDur·sr) ≤` [`burst::MAX_BURST`] samples and at
/// most two overlapping bursts (`glitchDur < 2·glitchInterval`), on the start/end averages
/// the original uses. Errors are located at the `glitchDur` key actually written.
pub fn check_glitch(r: &mut Reader<'_, '_>, p: &BinauralParams, sr: u32) {
    let avg = |x: &entrain_engine::model::Pair| (x.start + x.end) / 2.0;
    let g = &p.glitch;
    let params = burst::Params {
        interval_s: avg(&g.interval),
        dur_s: avg(&g.dur),
        level: avg(&g.noise_level),
        focus_width_hz: avg(&g.focus_width),
        focus_exp: avg(&g.focus_exp),
        focus_hz: avg(&p.base_freq),
    };
    if !params.active(sr as f64) {
        return;
    }
    let culprit = ["glitchDur", "startGlitchDur", "endGlitchDur"]
        .iter()
        .find_map(|k| r.entry(k));
    let loc = match culprit {
        Some(e) => r.loc(&e),
        None => r.base.clone(),
    };
    let len = params.len(sr as f64);
    if len > burst::MAX_BURST {
        r.report.error(
            loc,
            ErrorKind::AboveLimit {
                value: params.dur_s,
                limit: burst::MAX_BURST as f64 / sr as f64,
                what: "glitch duration in s (burst buffer of 4096 samples)",
            },
        );
    } else if params.dur_s >= 2.0 * params.interval_s {
        r.report.error(
            loc,
            ErrorKind::AboveLimit {
                value: params.dur_s,
                limit: 2.0 * params.interval_s,
                what: "glitch duration in s: at most two bursts may overlap (glitchDur < 2 × glitchInterval)",
            },
        );
    }
}

fn path_shape(r: &mut Reader<'_, '_>, key: &str) -> PathShape {
    let Some(e) = r.entry(key) else {
        return PathShape::Circle;
    };
    let s: String<TEXT_CAP> = match e.value {
        Value::Str(_) => r.coerce_text(&e).unwrap_or_default(),
        _ => String::new(),
    };
    // `str(x)` compared exactly with the original's list
    match s.as_str() {
        "circle" => PathShape::Circle,
        "square" => PathShape::Square,
        "linear" => PathShape::Linear,
        "arc" => PathShape::Arc,
        "diamond" => PathShape::Diamond,
        "oscillating_arc" => PathShape::OscillatingArc,
        other => {
            let l = r.loc(&e);
            r.report
                .warn(l, WarningKind::UnknownPathShape(short(other)));
            PathShape::Circle
        }
    }
}

/// `spatial_angle_modulation(_transition)` (VOICES.md §9.1): static keys, or pattern 2
/// (`startX`/`endX` with the static defaults; the static names are not consulted) for the
/// transition, whose `amp`, `frame_dur_ms` and `overlap_factor` are fixed. The frame must
/// fit the engine's overlap-add ring at the track's rate, `overlap_factor` must be an
/// integer ≥ 2 (the original raises otherwise and the voice is silent) and the hop
/// `F div overlap` at least one sample: located errors.
pub fn sam(r: &mut Reader<'_, '_>, t: bool, sr: u32) -> SamParams {
    let d = SamParams::default();
    let pair = |r: &mut Reader<'_, '_>, stat: &str, s: &str, e: &str, def: f64, kind: Kind| {
        if t {
            r.pair2(s, e, def, def, kind)
        } else {
            r.fixed(stat, def, kind)
        }
    };
    let carrier_freq = pair(
        r,
        "carrierFreq",
        "startCarrierFreq",
        "endCarrierFreq",
        440.0,
        Kind::Freq,
    );
    let beat_freq = pair(
        r,
        "beatFreq",
        "startBeatFreq",
        "endBeatFreq",
        4.0,
        Kind::Freq,
    );
    let shape = if t {
        [
            path_shape(r, "startPathShape"),
            path_shape(r, "endPathShape"),
        ]
    } else {
        let s = path_shape(r, "pathShape");
        [s, s]
    };
    let path_radius = pair(
        r,
        "pathRadius",
        "startPathRadius",
        "endPathRadius",
        1.0,
        Kind::Plain,
    );
    let arc_start_deg = pair(
        r,
        "arcStartDeg",
        "startArcStartDeg",
        "endArcStartDeg",
        0.0,
        Kind::Plain,
    );
    let arc_end_deg = pair(
        r,
        "arcEndDeg",
        "startArcEndDeg",
        "endArcEndDeg",
        360.0,
        Kind::Plain,
    );
    let amp = r.num_or("amp", d.amp, Kind::Plain);
    let mut frame_dur_ms = d.frame_dur_ms;
    if let Some(e) = r.entry("frame_dur_ms") {
        if let Some(v) = r.coerce_number(&e, Kind::Plain) {
            let f = crate::fx::sam_frame_len(v, sr);
            let l = r.loc(&e);
            if v <= 0.0 || f == 0 {
                r.report.error(
                    l,
                    ErrorKind::AboveLimit {
                        value: -v,
                        limit: 0.0,
                        what: "frame_dur_ms must be positive",
                    },
                );
            } else if f > entrain_engine::voices::sam::MAX_FRAME {
                r.report.error(
                    l,
                    ErrorKind::AboveLimit {
                        value: v,
                        limit: entrain_engine::voices::sam::MAX_FRAME as f64 * 1000.0 / sr as f64,
                        what: "frame_dur_ms (overlap-add ring of 8192 frames at this sample rate)",
                    },
                );
            } else {
                frame_dur_ms = v;
            }
        }
    }
    let mut overlap_factor = d.overlap_factor;
    if let Some(e) = r.entry("overlap_factor") {
        if let Some(v) = r.coerce_number(&e, Kind::Plain) {
            let l = r.loc(&e);
            let k = int_of(v);
            if k < 2 {
                r.report.error(
                    l,
                    ErrorKind::AboveLimit {
                        value: -v,
                        limit: -2.0,
                        what: "overlap_factor must be an integer of at least 2",
                    },
                );
            } else if (sam_frame_len(frame_dur_ms, sr) as i64) < k {
                r.report.error(
                    l,
                    ErrorKind::AboveLimit {
                        value: v,
                        limit: sam_frame_len(frame_dur_ms, sr) as f64,
                        what: "overlap_factor: the hop frame_len div overlap_factor would be 0",
                    },
                );
            } else {
                overlap_factor = k.min(u32::MAX as i64) as u32;
            }
        }
    }
    SamParams {
        amp,
        carrier_freq,
        beat_freq,
        shape,
        path_radius,
        arc_start_deg,
        arc_end_deg,
        frame_dur_ms,
        overlap_factor,
    }
}

/// The SAM frame length at `sr` (slab's `rint`).
pub fn sam_frame_len(frame_dur_ms: f64, sr: u32) -> usize {
    entrain_engine::voices::sam::frame_len(frame_dur_ms, sr as f64)
}
