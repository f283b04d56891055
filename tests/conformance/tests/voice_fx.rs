//! The per-voice effects: the flanger (VOICES.md §14) against a direct f64 transcription of
//! §14.2 written here (per-sample loop, a float32 ring of the original's length `M`,
//! Python's modulo), the spatializer's and flanger's unit checks through the voice slot
//! (block = per sample bit-exact, reset reproduces, seek equals render, finite and
//! bounded), and the parser's handling of every `flange*` / `spatial*` key and error.
//!
//! There are no golden flanger renders (the reference set has none); the spatializer's
//! golden cases are in golden_voices.rs.

// Test code: a failed unwrap is a test failure with its location.
#![allow(clippy::unwrap_used)]

use entrain_conformance::{parse_track, raw, voice_from_json, SlotRig};
use entrain_dsp::delay::Interp;
use entrain_dsp::flanger::{Law, Shape, StereoMode};
use entrain_dsp::spatial::{Decoder, SegmentMode};
use entrain_dsp::Frame;
use entrain_engine::model::{FlangerConfig, VoiceSpec};
use entrain_engine::voices::StepClock;
use serde_json::{json, Value};

const SR: u32 = 44_100;

fn track(function: &str, params: Value, duration: f64) -> String {
    json!({
        "global": {"sample_rate": SR},
        "progression": [{
            "duration": duration,
            "voices": [{
                "synth_function_name": function,
                "is_transition": function.ends_with("_transition"),
                "params": params,
            }],
        }],
    })
    .to_string()
}

fn voice(function: &str, params: Value, duration: f64) -> (VoiceSpec, StepClock) {
    voice_from_json(&track(function, params, duration), SR).unwrap()
}

fn render(spec: &VoiceSpec, clock: StepClock, block: usize) -> Vec<Frame> {
    SlotRig::new(&raw(spec), clock).render(clock.n as usize, block)
}

// ---- f64 transcription of VOICES.md §14.2 -------------------------------------------

fn coef(tau_ms: f64, fs: f64) -> f64 {
    if tau_ms <= 0.0 {
        return 0.0;
    }
    (-1.0 / (tau_ms * 0.001 * fs)).exp().clamp(0.0, 0.999_999)
}

fn pymod(x: f64, m: f64) -> f64 {
    let r = x % m;
    if r != 0.0 && ((r < 0.0) != (m < 0.0)) {
        r + m
    } else {
        r
    }
}

fn hp(fc: f64, fs: f64) -> f64 {
    if fc <= 0.0 {
        0.0
    } else if fc >= 0.5 * fs {
        1.0
    } else {
        (-2.0 * std::f64::consts::PI * fc / fs).exp()
    }
}

fn lp(fc: f64, fs: f64) -> f64 {
    if fc <= 0.0 {
        1.0
    } else if fc >= 0.5 * fs {
        0.0
    } else {
        (-2.0 * std::f64::consts::PI * fc / fs).exp()
    }
}

/// `_flanger_channel` of the original, transcribed sample by sample.
fn channel(x: &[f64], fs: f64, c: &FlangerConfig) -> Vec<f64> {
    let f = |v: f32| v as f64;
    let (mut min, mut max) = (f(c.min_delay_ms), f(c.max_delay_ms));
    if min < 0.05 {
        min = 0.05;
    }
    if max <= min {
        max = min + 0.01;
    }
    let t = [
        f(c.delay_ms),
        f(c.depth_ms),
        f(c.rate_hz),
        f(c.feedback),
        f(c.wet),
        f(c.loop_lpf_hz),
        f(c.loop_hpf_hz),
    ];
    let mut s = t;
    let a: Vec<f64> = c.dz_ms.iter().map(|&v| coef(v as f64, fs)).collect();
    let a_rms = if c.loudness {
        coef(f(c.loud_tc_ms), fs)
    } else {
        0.0
    };
    let clamp = |s: &mut [f64; 7]| {
        if s[0] < min {
            s[0] = min;
        }
        if s[0] > max {
            s[0] = max;
        }
        if s[1] < 0.0 {
            s[1] = 0.0;
        }
        if s[0] - s[1] < min {
            s[1] = (s[0] - min).max(0.0);
        }
        if s[0] + s[1] > max {
            s[1] = (max - s[0]).max(0.0);
        }
    };
    clamp(&mut s);
    let m = (((max + 0.5) * fs / 1000.0).ceil() as usize + 8).max(16);
    let mut buf = vec![0.0f32; m];
    let mut w = 0usize;
    let (mut a_hp, mut a_lp) = (hp(t[6], fs), lp(t[5], fs));
    let (mut hp_xp, mut hp_yp, mut lp_y) = (0.0f64, 0.0f64, 0.0f64);
    let (mut phase, mut d_lfo) = (0.0f64, t[2] / fs);
    let (mut rms_in, mut rms_out, mut makeup) = (0.0f64, 0.0f64, 1.0f64);
    let mut y = Vec::with_capacity(x.len());
    for &xn in x {
        for i in 0..5 {
            s[i] = a[i] * s[i] + (1.0 - a[i]) * t[i];
        }
        s[5] = a[5] * s[5] + (1.0 - a[5]) * t[5];
        s[6] = a[5] * s[6] + (1.0 - a[5]) * t[6];
        a_hp = a[5] * a_hp + (1.0 - a[5]) * hp(s[6], fs);
        a_lp = a[5] * a_lp + (1.0 - a[5]) * lp(s[5], fs);
        clamp(&mut s);
        let (delay, depth) = (s[0], s[1]);
        let p = phase - phase.floor();
        let l = match c.shape {
            Shape::Triangle => 4.0 * (p - 0.5).abs() - 1.0,
            Shape::Sine => (2.0 * std::f64::consts::PI * p).sin(),
        };
        let tau = match c.law {
            Law::Linear => (delay + depth * l).clamp(min, max),
            Law::Inverse => {
                let inv = 1.0 / delay + ((1.0 / (delay - depth) - 1.0 / (delay + depth)) * 0.5) * l;
                (1.0 / inv).clamp(min, max)
            }
            Law::Exponential => {
                let tmin = (delay - depth).max(min);
                let tmax = (delay + depth).min(max);
                tmin * ((tmax / tmin).ln() * (0.5 * (l + 1.0))).exp()
            }
        };
        let d = tau * fs / 1000.0;
        let ri = pymod(w as f64 - d, m as f64);
        let r0 = ri.floor() as usize;
        let fr = ri - r0 as f64;
        let r1 = (r0 + m - 1) % m;
        let delayed = match c.interp {
            Interp::Linear => (1.0 - fr) * buf[r0] as f64 + fr * buf[r1] as f64,
            _ => {
                let r2 = (r1 + m - 1) % m;
                let r3 = (r2 + m - 1) % m;
                let (mu, m1) = (fr, 1.0 - fr);
                let c0 = -mu * m1 * m1 / 6.0;
                let c1 = (1.0 + mu) * m1 * m1 / 2.0;
                let c2 = mu * (1.0 + mu) * m1 / 2.0;
                let c3 = -mu * mu * m1 / 6.0;
                c0 * buf[r3] as f64
                    + c1 * buf[r2] as f64
                    + c2 * buf[r1] as f64
                    + c3 * buf[r0] as f64
            }
        };
        let hp_y = a_hp * (hp_yp + delayed - hp_xp);
        hp_xp = delayed;
        hp_yp = hp_y;
        lp_y = (1.0 - a_lp) * hp_y + a_lp * lp_y;
        buf[w] = (xn + s[3] * lp_y) as f32;
        w = (w + 1) % m;
        let y_pre = (1.0 - s[4]) * xn + s[4] * (xn + delayed);
        let yn = if c.loudness {
            rms_in = a_rms * rms_in + (1.0 - a_rms) * (xn * xn);
            rms_out = a_rms * rms_out + (1.0 - a_rms) * (y_pre * y_pre);
            let target = if rms_out > 1e-20 {
                ((rms_in + 1e-20) / (rms_out + 1e-20)).sqrt()
            } else {
                1.0
            };
            makeup = a_rms * makeup + (1.0 - a_rms) * target;
            makeup = makeup.clamp(f(c.loud_min_gain), f(c.loud_max_gain));
            y_pre * makeup
        } else {
            y_pre
        };
        y.push(yn);
        d_lfo = a[2] * d_lfo + (1.0 - a[2]) * (s[2] / fs);
        phase += d_lfo;
        phase -= phase.floor();
        for v in [&mut lp_y, &mut hp_yp, &mut hp_xp] {
            if v.abs() < 1e-30 {
                *v = 0.0;
            }
        }
    }
    y
}

/// `flanger_stereo` of the original.
fn stereo(x: &[Frame], fs: f64, c: &FlangerConfig) -> Vec<Frame> {
    let inv = 1.0 / 2f64.sqrt();
    match c.stereo_mode {
        StereoMode::MidOnly | StereoMode::SideOnly => {
            let mut m: Vec<f64> = x.iter().map(|f| (f[0] + f[1]) as f64 * inv).collect();
            let mut s: Vec<f64> = x.iter().map(|f| (f[0] - f[1]) as f64 * inv).collect();
            if c.stereo_mode == StereoMode::MidOnly {
                m = channel(&m, fs, c);
            } else {
                s = channel(&s, fs, c);
            }
            m.iter()
                .zip(&s)
                .map(|(m, s)| [((m + s) * inv) as f32, ((m - s) * inv) as f32])
                .collect()
        }
        _ => {
            let l = channel(&x.iter().map(|f| f[0] as f64).collect::<Vec<_>>(), fs, c);
            let r = channel(&x.iter().map(|f| f[1] as f64).collect::<Vec<_>>(), fs, c);
            l.iter()
                .zip(&r)
                .map(|(l, r)| [*l as f32, *r as f32])
                .collect()
        }
    }
}

fn max_abs(a: &[Frame], b: &[Frame]) -> f64 {
    a.iter()
        .zip(b)
        .flat_map(|(x, y)| [(x[0] - y[0]).abs() as f64, (x[1] - y[1]).abs() as f64])
        .fold(0.0, f64::max)
}

fn with(mut base: Value, extra: Value) -> Value {
    for (k, v) in extra.as_object().unwrap() {
        base[k] = v.clone();
    }
    base
}

/// The dry voice, the flanged voice, and the transcription applied to the dry voice.
fn flanger_case(function: &str, params: Value, duration: f64) -> (f64, Vec<Frame>) {
    let (dry_spec, clock) = voice(function, params.clone(), duration);
    let dry = {
        let mut s = dry_spec;
        s.flanger = None;
        render(&s, clock, 64)
    };
    let (spec, clock) = voice(function, params, duration);
    let fl = spec.flanger.expect("flanger parsed");
    let wet = render(&spec, clock, 64);
    let want = if fl.crossfades(spec.transition.is_some()) {
        let ys = if fl.enable[0] {
            stereo(&dry, SR as f64, &fl.start)
        } else {
            dry.clone()
        };
        let ye = if fl.enable[1] {
            stereo(&dry, SR as f64, &fl.end)
        } else {
            dry.clone()
        };
        let t = spec.transition.unwrap();
        let ramp = entrain_dsp::ramp::Ramp::new(
            clock.duration,
            clock.n,
            t.initial_offset,
            t.duration,
            t.curve,
        );
        ys.iter()
            .zip(&ye)
            .enumerate()
            .map(|(i, (s, e))| {
                let a = ramp.alpha(i as u64);
                [
                    (s[0] as f64 * (1.0 - a) + e[0] as f64 * a) as f32,
                    (s[1] as f64 * (1.0 - a) + e[1] as f64 * a) as f32,
                ]
            })
            .collect()
    } else {
        stereo(&dry, SR as f64, &fl.start)
    };
    (max_abs(&wet, &want), wet)
}

#[test]
fn flanger_matches_the_f64_transcription() {
    let base = json!({"ampL": 0.4, "ampR": 0.4, "baseFreq": 220.0, "beatFreq": 6.0,
                      "ampOscDepthL": 0.3, "ampOscFreqL": 2.0});
    let cases: Vec<(&str, &str, Value)> = vec![
        (
            "linked defaults",
            "binaural_beat",
            json!({"flangeEnable": true}),
        ),
        (
            "linked, fast sweep, Lagrange3, triangle",
            "binaural_beat",
            json!({"flangeEnable": true, "flangeRateHz": 3.0, "flangeDepthMs": 1.5,
                   "flangeDelayMs": 3.0, "flangeInterp": 1, "flangeShape": "triangle",
                   "flangeFeedback": -0.7, "flangeLoopHpfHz": 200.0}),
        ),
        (
            "mid only, exponential law",
            "binaural_beat",
            json!({"flangeEnable": true, "flangeStereoMode": 2, "flangeDelayLaw": 2,
                   "flangeRateHz": 1.0, "flangeMix": 0.6}),
        ),
        (
            "side only, 1/tau law, no make-up, no dezipper",
            "binaural_beat",
            json!({"flangeEnable": true, "flangeStereoMode": 3, "flangeDelayLaw": 1,
                   "flangeLoudnessMode": false, "flangeDezipperDelayMs": 0,
                   "flangeDezipperWetMs": 0, "flangeRateHz": 0.8}),
        ),
        (
            "spread mode, clamped depth, high max delay",
            "isochronic_tone",
            json!({"flangeEnable": true, "flangeStereoMode": 1, "flangeDelayMs": 12.0,
                   "flangeDepthMs": 9.0, "flangeMaxDelayMs": 20.0, "flangeRateHz": 0.5}),
        ),
        (
            "transition start → end (crossfade, two instances)",
            "binaural_beat_transition",
            json!({"flangeEnable": true, "startFlangeRateHz": 0.2, "endFlangeRateHz": 2.0,
                   "endFlangeMix": 0.7, "endFlangeStereoMode": 2,
                   "initial_offset": 0.2, "transition_duration": 0.8,
                   "transition_curve": "logarithmic"}),
        ),
        (
            "transition, end disabled (fades to dry)",
            "binaural_beat_transition",
            json!({"flangeEnable": true, "endFlangeEnable": false}),
        ),
    ];
    println!("| case | max abs err vs f64 transcription |\n| --- | --- |");
    for (name, f, extra) in cases {
        let (err, wet) = flanger_case(f, with(base.clone(), extra), 1.5);
        println!("| {name} | {err:.3e} |");
        assert!(wet.iter().all(|f| f[0].is_finite() && f[1].is_finite()));
        assert!(err <= 2e-7, "{name}: max |Δ| {err:e}");
    }
}

#[test]
fn flanger_static_voice_ignores_end_keys() {
    let (spec, _) = voice(
        "binaural_beat",
        json!({"flangeEnable": true, "endFlangeRateHz": 5.0}),
        0.5,
    );
    let f = spec.flanger.unwrap();
    assert!(!f.crossfades(spec.transition.is_some()));
    assert_eq!(f.start.rate_hz, 0.12);
}

/// Block = per sample (bit-exact), reset reproduces, seek = render, bounded.
fn slot_checks(name: &str, spec: &VoiceSpec, clock: StepClock, bound: f32) {
    let reference = render(spec, clock, 1);
    assert!(reference.iter().all(|f| f[0].is_finite()
        && f[1].is_finite()
        && f[0].abs() <= bound
        && f[1].abs() <= bound));
    assert!(reference.iter().any(|f| f[0] != 0.0), "{name}: silent");
    for block in [7usize, 64, 480] {
        assert!(
            render(spec, clock, block) == reference,
            "{name}: block {block} differs"
        );
    }
    let mut rig = SlotRig::new(&raw(spec), clock);
    let _ = rig.render(1000, 13);
    let n = clock.n as usize;
    for at in [0usize, 1, n / 3, n - 5] {
        rig.seek(at as u64);
        let got = rig.render(n - at, 64);
        assert!(got == reference[at..], "{name}: seek to {at} differs");
    }
}

#[test]
fn effects_block_seek_reset_bounded() {
    let cases = vec![
        (
            "binaural + ITD spatializer (default trajectory, cubic)",
            "binaural_beat",
            json!({"spatialEnable": true, "spatialInterp": "cubic"}),
        ),
        (
            "isochronic + FOA + harmonic suppression + flanger",
            "isochronic_tone",
            json!({"spatialEnable": true, "spatialDecoder": "FOA_cardioid",
                   "harmonicSuppression": true, "flangeEnable": true,
                   "spatialHfRollDbPerM": 2.0,
                   "spatialTrajectory": [{"mode": "rotate", "extent_deg": 720, "seconds": 0.5},
                                         {"mode": "rotating_arc", "rotate_freq_hz": 1.0,
                                          "easing": "sine", "distance_m": [1, 3], "seconds": 0.4}]}),
        ),
        (
            "binaural transition + spatializer + crossfaded flanger",
            "binaural_beat_transition",
            json!({"spatialEnable": true, "spatialTrajectory": [],
                   "flangeEnable": true, "endFlangeInterp": "cubic", "endFlangeDelayLaw": 2,
                   "startBaseFreq": 200, "endBaseFreq": 300}),
        ),
        (
            "spatial_angle_modulation, oscillating arc (HRIR overlap-add)",
            "spatial_angle_modulation",
            json!({"pathShape": "oscillating_arc", "arcStartDeg": 90, "arcEndDeg": -90,
                   "beatFreq": 1.0, "overlap_factor": 4, "frame_dur_ms": 20}),
        ),
        (
            "spatial_angle_modulation transition + flanger",
            "spatial_angle_modulation_transition",
            json!({"startPathShape": "diamond", "endPathShape": "linear",
                   "startBeatFreq": 0.0, "endBeatFreq": 3.0, "flangeEnable": true}),
        ),
        (
            "qam + flanger (two zero-phase filters and an effect)",
            "qam_beat",
            json!({"flangeEnable": true, "flangeStereoMode": 3}),
        ),
    ];
    for (name, f, params) in cases {
        let (spec, clock) = voice(f, params, 1.2);
        slot_checks(name, &spec, clock, 2.5);
    }
}

#[test]
fn spatial_keys_are_parsed() {
    let (spec, _) = voice(
        "binaural_beat",
        json!({"spatialEnable": "yes", "spatialDecoder": "foa_cardioid", "spatialUseIld": 0.7,
               "spatialEarAngleDeg": 45, "spatialHeadRadiusM": "0.09", "spatialItdScale": 2,
               "spatialIldMaxDb": 3, "spatialIldXoverHz": 800, "spatialRefDistanceM": 2,
               "spatialRolloff": 0.5, "spatialHfRollDbPerM": 1, "spatialDezipperThetaMs": 25,
               "spatialDezipperDistMs": 60, "spatialMinDistanceM": 0.2, "spatialMaxDegPerS": 45,
               "spatialMaxDelayStepSamples": 0.05, "spatialInterp": 0,
               "spatialTrajectory": [{"mode": "oscillate", "start_deg": 10, "extent_deg": 30,
                                      "period_s": 2, "distance_m": 1.5, "seconds": 3}]}),
        1.0,
    );
    let c = spec.spatial.unwrap();
    assert_eq!(c.decoder, Decoder::FoaCardioid);
    assert!(!c.use_ild, "int(0.7) == 0");
    assert_eq!(c.ear_angle_deg, 45.0);
    assert_eq!(c.head_radius_m, 0.09);
    assert_eq!(c.itd_scale, 2.0);
    assert_eq!((c.ild_max_db, c.ref_distance_m, c.rolloff), (3.0, 2.0, 0.5));
    assert_eq!(
        (c.dz_theta_ms, c.dz_dist_ms, c.min_distance_m),
        (25.0, 60.0, 0.2)
    );
    assert_eq!((c.max_deg_per_s, c.max_delay_step_samples), (45.0, 0.05));
    assert_eq!(c.interp, Interp::Linear);
    assert_eq!(c.trajectory.len, 1);
    let s = c.trajectory.segments[0];
    assert_eq!(s.mode, SegmentMode::Oscillate);
    assert_eq!(
        (s.start_deg, s.center_deg, s.extent_deg),
        (10.0, 10.0, 30.0)
    );
    assert_eq!(s.distance_m, [1.5, 1.5]);
    assert_eq!(s.period_s, Some(2.0));
    // defaults, the GUI's empty trajectory, and the ignored GUI key
    let (spec, _) = voice(
        "isochronic_tone",
        json!({"spatialEnable": true, "spatialTrajectory": [], "spatialUseItdIld": true}),
        1.0,
    );
    let c = spec.spatial.unwrap();
    assert_eq!(c.decoder, Decoder::ItdHead);
    assert!(c.use_ild);
    assert_eq!(c.interp, Interp::Lagrange3);
    assert_eq!(c.trajectory.len, 0);
    let (_, warnings) = parse_track(&track(
        "isochronic_tone",
        json!({"spatialEnable": true, "spatialUseItdIld": true}),
        1.0,
    ))
    .unwrap();
    assert!(warnings
        .warnings
        .iter()
        .any(|w| w.location.key.as_str() == "spatialUseItdIld"));
    // absent trajectory: the built-in oscillation; disabled: nothing
    let (spec, _) = voice("binaural_beat", json!({"spatialEnable": 1}), 1.0);
    assert_eq!(
        spec.spatial.unwrap().trajectory.segments[0].extent_deg,
        75.0
    );
    let (spec, _) = voice("binaural_beat", json!({"spatialEnable": false}), 1.0);
    assert!(spec.spatial.is_none());
    // not read by other voices
    let (spec, _) = voice(
        "monaural_beat_stereo_amps",
        json!({"spatialEnable": true}),
        1.0,
    );
    assert!(spec.spatial.is_none());
}

#[test]
fn flange_keys_are_parsed() {
    let (spec, _) = voice(
        "binaural_beat_transition",
        json!({"flangeEnable": true, "flangeDelayMs": 2, "flangeDepthMs": 1, "flangeRateHz": 0.3,
               "flangeShape": "Sine", "flangeFeedback": -0.2, "flangeMix": 0.5,
               "flangeLoopLpfHz": 5000, "flangeLoopHpfHz": 50, "flangeStereoMode": 3.9,
               "flangeSpreadDeg": 90, "flangeDelayLaw": true, "flangeInterp": "lagrange3",
               "flangeMinDelayMs": 0.5, "flangeMaxDelayMs": 10, "flangeDezipperDelayMs": 1,
               "flangeDezipperDepthMs": 2, "flangeDezipperRateMs": 3,
               "flangeDezipperFeedbackMs": 4, "flangeDezipperWetMs": 5,
               "flangeDezipperFilterMs": 6, "flangeLoudnessMode": 0,
               "flangeLoudnessTcMs": 70, "flangeLoudnessMinGain": 0.25,
               "flangeLoudnessMaxGain": 4, "startFlangeMix": 0.1, "endFlangeShape": "sine",
               "endFlangeEnable": "off"}),
        1.0,
    );
    let f = spec.flanger.unwrap();
    let s = f.start;
    assert_eq!((s.delay_ms, s.depth_ms, s.rate_hz), (2.0, 1.0, 0.3));
    assert_eq!(s.shape, Shape::Triangle, "only exactly \"sine\" is a sine");
    assert_eq!((s.feedback, s.wet), (-0.2, 0.1));
    assert_eq!((s.loop_lpf_hz, s.loop_hpf_hz), (5000.0, 50.0));
    assert_eq!(s.stereo_mode, StereoMode::SideOnly, "int(3.9) == 3");
    assert_eq!(s.spread_deg, 90.0);
    assert_eq!(s.law, Law::Inverse, "int(True) == 1");
    assert_eq!(s.interp, Interp::Lagrange3);
    assert_eq!((s.min_delay_ms, s.max_delay_ms), (0.5, 10.0));
    assert_eq!(s.dz_ms, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    assert!(!s.loudness);
    assert_eq!(
        (s.loud_tc_ms, s.loud_min_gain, s.loud_max_gain),
        (70.0, 0.25, 4.0)
    );
    assert_eq!(f.end.wet, 0.5);
    assert_eq!(f.end.shape, Shape::Sine);
    assert_eq!(f.enable, [true, false]);
    assert!(f.crossfades(true));
    // flangeEnable off: every flange key is ignored, start/end enables included
    let (spec, _) = voice(
        "binaural_beat_transition",
        json!({"flangeEnable": false, "startFlangeEnable": true}),
        1.0,
    );
    assert!(spec.flanger.is_none());
    // every voice reads the flanger
    let (spec, _) = voice("rhythmic_waveshaping", json!({"flangeEnable": true}), 1.0);
    assert!(spec.flanger.is_some());
}

#[test]
fn located_errors_for_effect_limits() {
    let errs = |f: &str, p: Value| -> String {
        match parse_track(&track(f, p, 1.0)) {
            Ok(_) => String::new(),
            Err(e) => e.to_string(),
        }
    };
    let e = errs(
        "binaural_beat",
        json!({"flangeEnable": true, "flangeMaxDelayMs": 25}),
    );
    assert!(
        e.contains("flangeMaxDelayMs") && e.contains("above the limit 20"),
        "{e}"
    );
    let e = errs(
        "binaural_beat_transition",
        json!({"flangeEnable": true, "endFlangeMaxDelayMs": 40}),
    );
    assert!(e.contains("endFlangeMaxDelayMs"), "{e}");
    let segs: Vec<Value> = (0..9).map(|_| json!({"seconds": 0.1})).collect();
    let e = errs(
        "binaural_beat",
        json!({"spatialEnable": true, "spatialTrajectory": segs}),
    );
    assert!(
        e.contains("too many spatialTrajectory segments") && e.contains("8"),
        "{e}"
    );
    let e = errs(
        "isochronic_tone",
        json!({"spatialEnable": true, "spatialItdScale": 100}),
    );
    assert!(
        e.contains("spatialItdScale") && e.contains("ITD delay-line"),
        "{e}"
    );
    let e = errs(
        "binaural_beat",
        json!({"spatialEnable": true, "spatialInterp": "quintic"}),
    );
    assert!(e.contains("spatialInterp") && e.contains("quintic"), "{e}");
    let e = errs(
        "binaural_beat",
        json!({"spatialEnable": true, "spatialTrajectory": 3}),
    );
    assert!(e.contains("spatialTrajectory"), "{e}");
    let e = errs(
        "binaural_beat",
        json!({"spatialEnable": true, "spatialTrajectory": [{"distance_m": [1, 2, 3]}]}),
    );
    assert!(e.contains("distance_m"), "{e}");
    let e = errs(
        "binaural_beat",
        json!({"flangeEnable": true, "flangeMix": "lots"}),
    );
    assert!(e.contains("flangeMix"), "{e}");
    let e = errs("spatial_angle_modulation", json!({"frame_dur_ms": 200}));
    assert!(e.contains("frame_dur_ms") && e.contains("8192"), "{e}");
    let e = errs("spatial_angle_modulation", json!({"frame_dur_ms": 0}));
    assert!(e.contains("frame_dur_ms must be positive"), "{e}");
    let e = errs(
        "spatial_angle_modulation_transition",
        json!({"overlap_factor": 1}),
    );
    assert!(e.contains("overlap_factor"), "{e}");
}

#[test]
fn sam_keys_are_parsed() {
    use entrain_engine::model::{Pair, PathShape, VoiceParams};
    let (spec, _) = voice(
        "spatial_angle_modulation",
        json!({"amp": 0.5, "carrierFreq": 300, "beatFreq": 2, "pathShape": "arc",
               "pathRadius": 2, "arcStartDeg": -60, "arcEndDeg": 60, "frame_dur_ms": 23.2,
               "overlap_factor": 4.0}),
        1.0,
    );
    let VoiceParams::Sam(p) = spec.params else {
        panic!("not a SAM voice")
    };
    assert_eq!(p.amp, 0.5);
    assert_eq!(p.carrier_freq, Pair::fixed(300.0));
    assert_eq!(p.shape, [PathShape::Arc; 2]);
    assert_eq!(
        (p.path_radius, p.arc_start_deg),
        (Pair::fixed(2.0), Pair::fixed(-60.0))
    );
    assert_eq!((p.frame_dur_ms, p.overlap_factor), (23.2, 4));
    // pattern 2: static names are not read, each end has its own default
    let (spec, _) = voice(
        "spatial_angle_modulation_transition",
        json!({"carrierFreq": 300, "startCarrierFreq": 200, "endPathShape": "square",
               "startPathShape": "spiral"}),
        1.0,
    );
    let VoiceParams::Sam(p) = spec.params else {
        panic!("not a SAM voice")
    };
    assert_eq!(p.carrier_freq, Pair::new(200.0, 440.0));
    assert_eq!(p.shape, [PathShape::Circle, PathShape::Square]);
    let (_, w) = parse_track(&track(
        "spatial_angle_modulation",
        json!({"pathShape": "Circle"}),
        1.0,
    ))
    .unwrap();
    assert!(w
        .warnings
        .iter()
        .any(|w| w.location.key.as_str() == "pathShape"));
}

/// The engine counts effect slots in its requirements, refuses a pool that is too small,
/// and renders a crossfaded two-step track with effects identically for any block size
/// and after a seek into the second step.
#[test]
fn engine_pools_and_renders_effects() {
    use entrain_conformance::{build_engine, render_frames};
    use entrain_engine::engine::{ArrayMemory, BuildError, Config, Engine, Mode};
    use std::sync::Arc;
    let json = json!({
        "global": {"sample_rate": SR, "crossfade_duration": 0.5},
        "progression": [
            {"duration": 2.0, "voices": [
                {"synth_function_name": "binaural_beat", "is_transition": true,
                 "params": {"spatialEnable": true, "flangeEnable": true,
                            "glitchInterval": 0.5, "glitchDur": 0.05, "glitchNoiseLevel": 0.2}},
                {"synth_function_name": "spatial_angle_modulation", "params": {"amp": 0.3}}
            ]},
            {"duration": 2.0, "voices": [
                {"synth_function_name": "isochronic_tone",
                 "params": {"spatialEnable": true, "spatialDecoder": "foa_cardioid",
                            "harmonicSuppression": true, "flangeEnable": true}}
            ]}
        ]
    })
    .to_string();
    let (track, _) = parse_track(&json).unwrap();
    let track: Arc<entrain_engine::Track> = Arc::from(track);
    let cfg = Config {
        mode: Mode::Compatible,
        ..Config::default()
    };
    let req =
        Engine::<Arc<entrain_engine::Track>, ArrayMemory<4, 0>>::requirements(&track.view(), &cfg)
            .unwrap();
    // step 1: bursts + spatializer + flanger, and the SAM ring; step 2: filter + 2 effects;
    // during the crossfade both sound
    assert_eq!(req.filters, 7, "{req:?}");
    match Engine::new(track.clone(), ArrayMemory::<4, 2>::new(), cfg) {
        Err(BuildError::FilterSlots {
            needed, available, ..
        }) => {
            assert_eq!((needed, available), (7, 2));
        }
        other => panic!("expected FilterSlots, got {:?}", other.map(|_| ())),
    }
    let mut e = build_engine(track.clone(), Mode::Compatible).unwrap();
    let total = e.total_frames();
    let a = render_frames(&mut e, total, 480);
    assert!(a.iter().all(|f| f[0].is_finite() && f[1].is_finite()));
    assert!(a.iter().any(|f| f[0] != 0.0));
    let mut e = build_engine(track.clone(), Mode::Compatible).unwrap();
    let b = render_frames(&mut e, total, 37);
    assert!(a == b, "block size changes the render");
    let at = total - 30_000;
    e.seek(at);
    let c = render_frames(&mut e, 30_000, 64);
    assert!(c == a[at as usize..], "seek differs");
}
