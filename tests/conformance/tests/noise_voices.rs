//! The noise voices (VOICES.md §12, §13.2, §13.3): `noise_swept_notch` / `noise`,
//! `noise_generator`, `generate_swept_notch_pink_sound` and their transitions.
//!
//! * Every function renders non-silent, finite, bounded output, the same bits at block
//!   sizes 1, 7, 64 and 480, and the same bits after a reset.
//! * Seek: LFO, transition and envelope are exact at any position and the noise restarts
//!   from a position-derived seed warmed up for `WARMUP` samples, so a seek within the
//!   first `WARMUP` samples equals the continuous render bit for bit; beyond, a seek is
//!   deterministic and has the continuous render's level and notch trajectory.
//! * Transitions move: the notch trajectory (and a level) at the end differ from the start.
//! * Statistics against the reference renders of `generate_swept_notch_pink_sound*`
//!   (reference README "random noise"), rendered through the voice (parser → voice slot),
//!   and against the background generator at the same parameters.
//! * The shared tour track renders these voices (no warning for them, audible).
//! * Bad parameters are located errors.

// A test file: a panic with the case name is the failure report.
#![allow(clippy::unwrap_used)]

use entrain_conformance::noise_stats::{self, channel, median, notch_track, ref_channel, stats};
use entrain_conformance::{
    hash_frames, parse_track, raw, shared_tracks_dir, voice_from_json, voice_track_json, Manifest,
    SlotRig,
};
use entrain_dsp::noise::notch::{SweptNoise, WARMUP};
use entrain_dsp::Frame;
use entrain_engine::model::{VoiceParams, VoiceSpec};
use entrain_engine::voices::noise_swept_notch::swept_params;
use entrain_engine::voices::StepClock;
use entrain_format::{ErrorKind, WarningKind};
use serde_json::{json, Value};

const SR: u32 = 44_100;

fn voice(function: &str, params: Value, duration: f64) -> (VoiceSpec, StepClock) {
    voice_from_json(&voice_track_json(function, &params, SR, duration), SR)
        .unwrap_or_else(|e| panic!("{function}: {e}"))
}

fn render(spec: &VoiceSpec, clock: StepClock, frames: usize, block: usize) -> Vec<Frame> {
    SlotRig::new(spec, clock).render(frames, block)
}

/// One configuration of every noise function (static and transition names).
fn configurations() -> Vec<(&'static str, Value)> {
    vec![
        ("noise_swept_notch", json!({})),
        (
            "noise",
            json!({"lfo_freq": 0.5, "sweeps": [[500, 1000], [1850, 3350]], "notch_q": [40, 30],
                   "casc": [15, 8], "start_lfo_phase_offset_deg": 45,
                   "start_intra_phase_offset_deg": 30, "noise_type": "brown",
                   "lfo_waveform": "triangle", "volume": 0.7}),
        ),
        (
            "noise_swept_notch_transition",
            json!({"start_lfo_freq": 0.25, "end_lfo_freq": 1.0,
                   "start_sweeps": [[1000, 2000]], "end_sweeps": [[4000, 8000]],
                   "start_q": 20, "end_q": 40, "start_casc": 4, "end_casc": 9,
                   "start_lfo_phase_offset_deg": 90, "end_lfo_phase_offset_deg": 0,
                   "noise_type": "pink", "volume": 0.5, "initial_offset": 0.5,
                   "transition_duration": 2.0, "transition_curve": "logarithmic"}),
        ),
        (
            "noise_transition",
            json!({"sweeps": [{"start_min": 300, "end_min": 600, "start_max": 900,
                               "end_max": 3000, "start_q": 10, "end_q": 30,
                               "start_casc": 2, "end_casc": 6}],
                   "noise_type": "green"}),
        ),
        (
            "noise_generator",
            json!({"sweeps": [{"min": 800, "max": 4000, "q": 20, "cascade": 5}],
                   "amp": 0.5, "amp_right": 0.3, "fade_in": 0.5, "fade_out": 0.5,
                   "amp_envelope": [[0, 1.0], [1.5, 2.5], [3, 1.0]],
                   "static_notches": [{"freq": 60, "q": 10}, [120, 5, 2]],
                   "noise_type": "blue"}),
        ),
        (
            "noise_generator_transition",
            json!({"start_lfo_freq": 0.2, "end_lfo_freq": 0.6, "amp": 0.4,
                   "start_sweeps": [[600, 1200, 25, 8]], "end_sweeps": [[3000, 6000, 25, 8]],
                   "amp_envelope": [{"time": 0, "amp": 0.5}, {"t": 3, "value": 1.0}]}),
        ),
        (
            "noise_generator",
            json!({"amp": 0.6, "spatialEnable": true, "flangeEnable": true,
                   "sweeps": [[700, 2000]], "noise_type": "pink"}),
        ),
        (
            "generate_swept_notch_pink_sound",
            json!({"lfo_freq": 0.1, "sweeps": [[1000, 8000]], "notch_q": 25, "casc": 6,
                   "noise_type": "pink", "lfo_waveform": "sine", "volume": 0.3}),
        ),
        (
            "generate_swept_notch_pink_sound_transition",
            json!({"start_lfo_freq": 0.1, "end_lfo_freq": 0.05,
                   "start_sweeps": [[1000, 8000]], "end_sweeps": [[500, 4000]],
                   "start_q": 25, "end_q": 25, "start_casc": 6, "end_casc": 6,
                   "noise_type": "brown", "volume": 0.3}),
        ),
    ]
}

#[test]
fn every_function_renders_bounded_and_block_independent() {
    let duration = 3.0;
    for (function, params) in configurations() {
        let (spec, clock) = voice(function, params, duration);
        let VoiceParams::Noise(p) = spec.params else {
            panic!("{function}: not a noise voice");
        };
        let n = clock.n as usize;
        let reference = render(&spec, clock, n, 4096);
        let bound = entrain_engine::voices::Voice::peak_bound(&spec);
        let peak = reference
            .iter()
            .fold(0.0f32, |m, f| m.max(f[0].abs()).max(f[1].abs()));
        let rms = (reference
            .iter()
            .map(|f| (f[0] as f64).powi(2) + (f[1] as f64).powi(2))
            .sum::<f64>()
            / (2 * n) as f64)
            .sqrt();
        let h = hash_frames(&reference);
        println!(
            "{function:<46} RMS {rms:.4}  peak {peak:.4}  bound {bound:.4}  gain {:?}  hash {h:016x}",
            p.gain
        );
        assert!(
            reference
                .iter()
                .all(|f| f[0].is_finite() && f[1].is_finite()),
            "{function}: non-finite"
        );
        assert!(rms > 0.02, "{function}: silent (RMS {rms})");
        assert!(
            peak as f64 <= bound + 1e-6,
            "{function}: peak {peak} > {bound}"
        );
        for block in [1, 7, 64, 480] {
            let got = render(&spec, clock, n, block);
            assert_eq!(hash_frames(&got), h, "{function}: block {block}");
        }
        // reset reproduces
        let mut rig = SlotRig::new(&spec, clock);
        let _ = rig.render(5000, 333);
        rig.seek(0);
        assert_eq!(
            hash_frames(&rig.render(n, 64)),
            h,
            "{function}: after a reset"
        );
    }
}

#[test]
fn seek_is_exact_within_warmup_and_statistically_equal_beyond() {
    let duration = 8.0;
    for (function, params) in configurations() {
        let (spec, clock) = voice(function, params, duration);
        let spec = raw(&spec);
        let n = clock.n;
        let full = render(&spec, clock, n as usize, 4096);
        // Within WARMUP of the start: bit for bit.
        for t in [1, 777, WARMUP - 1] {
            let mut rig = SlotRig::new(&spec, clock);
            rig.seek(t);
            let got = rig.render(8192, 480);
            assert_eq!(
                hash_frames(&got),
                hash_frames(&full[t as usize..t as usize + 8192]),
                "{function}: seek to {t}"
            );
        }
        // Beyond: deterministic, same level and notch trajectory.
        let t = n / 2 + 13;
        let len = 2 * SR as usize;
        let seek_render = |t: u64| {
            let mut rig = SlotRig::new(&spec, clock);
            rig.seek(t);
            rig.render(len, 480)
        };
        let a = seek_render(t);
        assert_eq!(hash_frames(&a), hash_frames(&seek_render(t)), "{function}");
        let want = &full[t as usize..t as usize + len];
        for ch in 0..2 {
            let (x, y) = (channel(&a, ch), channel(want, ch));
            let (sa, sb) = (stats(&x, SR as f64), stats(&y, SR as f64));
            let db = 20.0 * (sa.rms / sb.rms).log10();
            println!("{function:<46} seek {t}: ch{ch} RMS {db:+.2} dB vs the continuous render");
            assert!(db.abs() < 0.5, "{function} ch{ch}: seek level {db:+.2} dB");
        }
    }
}

/// Median notch frequency of channel 0 over `[from, to)` s within `[lo, hi]` Hz.
fn notch_median(x: &[Frame], from: f64, to: f64, lo: f64, hi: f64) -> f64 {
    let a = (from * SR as f64) as usize;
    let b = (to * SR as f64) as usize;
    median(&notch_track(&channel(&x[a..b], 0), SR as f64, lo, hi))
}

#[test]
fn transitions_move_the_notches() {
    // A slow LFO over a fixed, narrow range: the notch sits in the range whatever the
    // LFO's phase, so the median tells where the range is.
    let params = json!({"start_lfo_freq": 0.05, "end_lfo_freq": 0.05,
        "start_sweeps": [[1000, 1300]], "end_sweeps": [[5000, 5600]],
        "start_q": 8, "end_q": 8, "start_casc": 8, "end_casc": 8, "noise_type": "white",
        "initial_offset": 2.0, "transition_duration": 4.0});
    for function in [
        "noise_swept_notch_transition",
        "noise_generator_transition",
        "generate_swept_notch_pink_sound_transition",
    ] {
        let (spec, clock) = voice(function, params.clone(), 8.0);
        let x = render(&raw(&spec), clock, clock.n as usize, 4096);
        let start = notch_median(&x, 0.0, 2.0, 800.0, 6000.0);
        let end = notch_median(&x, 6.0, 8.0, 800.0, 6000.0);
        println!("{function:<46} notch median {start:.0} Hz → {end:.0} Hz");
        assert!(
            (900.0..1450.0).contains(&start),
            "{function}: start {start}"
        );
        assert!((4700.0..6000.0).contains(&end), "{function}: end {end}");
    }
    // and a static voice does not move
    let (spec, clock) = voice(
        "noise_swept_notch",
        json!({"sweeps": [[1000, 1300]], "notch_q": 8, "casc": 8, "noise_type": "white"}),
        8.0,
    );
    let x = render(&raw(&spec), clock, clock.n as usize, 4096);
    let (a, b) = (
        notch_median(&x, 0.0, 2.0, 800.0, 6000.0),
        notch_median(&x, 6.0, 8.0, 800.0, 6000.0),
    );
    assert!((a - b).abs() < 200.0, "static voice moved: {a} → {b}");
}

#[test]
fn noise_generator_level_follows_amp_fades_and_envelope() {
    let (spec, clock) = voice(
        "noise_generator",
        json!({"amp": 0.5, "amp_right": 0.25, "fade_in": 1.0, "fade_out": 1.0,
               "amp_envelope": [[0, 1.0], [2, 1.0], [3, 0.5], [5, 0.5]], "sweeps": []}),
        5.0,
    );
    let x = render(&raw(&spec), clock, clock.n as usize, 4096);
    let rms = |ch: usize, from: f64, to: f64| {
        let a = (from * SR as f64) as usize;
        let b = (to * SR as f64) as usize;
        (x[a..b].iter().map(|f| (f[ch] as f64).powi(2)).sum::<f64>() / (b - a) as f64).sqrt()
    };
    let mid = rms(0, 1.2, 1.9);
    let later = rms(0, 3.1, 3.9);
    let right = rms(1, 1.2, 1.9);
    let head = rms(0, 0.0, 0.1);
    let tail = rms(0, 4.9, 5.0);
    println!("L {mid:.4} → {later:.4}, R {right:.4}, head {head:.4}, tail {tail:.4}");
    assert!(
        (20.0 * (later / mid).log10() + 6.02).abs() < 0.6,
        "envelope"
    );
    assert!(
        (20.0 * (right / mid).log10() + 6.02).abs() < 0.6,
        "amp_right"
    );
    assert!(head < 0.15 * mid && tail < 0.15 * mid, "fades");
}

// ---- against the reference renders and the background generator ----------------------

/// RMS tolerance of the reference comparison, dB: the README's ±0.5 dB, 1.2 dB for the
/// two cases whose single 3 s reference render has a crest far from its expectation
/// (see golden_noise.rs).
fn rms_tol(id: &str) -> f64 {
    if id.ends_with("brown_triangle_2sweeps") || id.ends_with("transition__defaults") {
        1.2
    } else {
        0.5
    }
}

#[test]
fn pink_sound_voice_matches_reference_statistics_and_the_generator() {
    let m = Manifest::load().unwrap();
    let functions = [
        "generate_swept_notch_pink_sound",
        "generate_swept_notch_pink_sound_transition",
    ];
    let mut failures = Vec::new();
    let (mut notch_ok, mut notch_all, mut checked) = (0, 0, 0);
    for case in m.cases_of(&functions) {
        if case.comparison != "statistics" || case.params.get("input_audio_path").is_some() {
            continue;
        }
        let id = case.id.as_str();
        let json = voice_track_json(
            &case.function,
            &case.params,
            case.sample_rate,
            case.duration,
        );
        let (spec, clock) = voice_from_json(&json, case.sample_rate).unwrap();
        let spec = raw(&spec);
        assert_eq!(clock.n, case.frames, "{id}");
        let sr = case.sample_rate as f64;
        let out = render(&spec, clock, clock.n as usize, 480);
        let reference = case.read_audio(&m.dir).unwrap();
        // the background generator at the same parameters (another seed)
        let VoiceParams::Noise(p) = spec.params else {
            panic!("{id}")
        };
        let mut sp = swept_params(&p, spec.transition.as_ref());
        sp.seed = 7;
        let mut g = Box::new(SweptNoise::new(&sp, case.sample_rate, clock.n));
        let mut direct = vec![[0.0f32; 2]; clock.n as usize];
        g.process(&mut direct);
        for ch in 0..2 {
            let mine = stats(&channel(&out, ch), sr);
            let r = stats(&ref_channel(&reference, 2, ch), sr);
            noise_stats::compare(id, ch, &mine, &r, rms_tol(id), &mut failures);
            let d = stats(&channel(&direct, ch), sr);
            let db = 20.0 * (mine.rms / d.rms).log10();
            let dslope = mine.slope - d.slope;
            println!("  {id:<58} ch{ch}: vs generator RMS {db:+.2} dB, slope {dslope:+.2} dB/oct");
            if db.abs() > 0.5 || dslope.abs() > 0.3 {
                failures.push(format!(
                    "{id} ch{ch}: vs generator {db:+.2} dB {dslope:+.2} dB/oct"
                ));
            }
        }
        let (ok, all) =
            noise_stats::notch_medians(id, &case.raw["stats"]["notch_track_hz"], &out, sr);
        notch_ok += ok;
        notch_all += all;
        checked += 1;
    }
    println!("notch medians within 5 bins: {notch_ok}/{notch_all}");
    assert!(checked >= 4, "{checked} cases");
    assert!(notch_ok * 4 >= notch_all * 3, "{notch_ok}/{notch_all}");
    assert!(failures.is_empty(), "{failures:#?}");
}

// ---- the shared tour track -------------------------------------------------------------

#[test]
fn tour_track_plays_the_noise_voices() {
    let path = shared_tracks_dir().join("all_voices_tour.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let (track, report) = parse_track(&text).unwrap();
    let names: Vec<String> = {
        let v: Value = serde_json::from_str(&text).unwrap();
        v["progression"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["voices"].as_array().unwrap().clone())
            .map(|v| v["synth_function_name"].as_str().unwrap().to_owned())
            .collect()
    };
    let mut found = 0;
    for (k, (spec, name)) in track.voices.iter().zip(&names).enumerate() {
        if !name.contains("swept_notch") && !name.starts_with("noise") {
            continue;
        }
        found += 1;
        assert!(
            matches!(spec.params, VoiceParams::Noise(_)),
            "voice {k} ({name}) is not a noise voice"
        );
    }
    assert_eq!(found, 2);
    // Pool slots at the busiest moment: the wasm probe (tests/wasm-probe) lends 8.
    let req = entrain_engine::engine::Engine::<
        Box<entrain_engine::model::Track>,
        entrain_engine::engine::ArrayMemory<1, 1>,
    >::requirements(&track.view(), &entrain_engine::engine::Config::default())
    .unwrap();
    println!("tour requirements: {req:?}");
    assert!(req.filters <= 8, "{req:?}");
    for w in &report.warnings {
        let about_noise = matches!(
            &w.kind,
            WarningKind::NotImplemented(n) | WarningKind::UnknownSynthFunction(n)
                if n.contains("noise") || n.contains("swept")
        );
        assert!(!about_noise, "{w:?}");
    }
    // The step with the noise voices renders them audibly.
    let step = track
        .steps
        .iter()
        .position(|s| {
            track.voices[s.first_voice as usize..(s.first_voice + s.voice_count) as usize]
                .iter()
                .any(|v| matches!(v.params, VoiceParams::Noise(_)))
        })
        .unwrap();
    let s = track.steps[step];
    let clock = StepClock::new(s.duration, track.sample_rate as f64);
    for spec in &track.voices[s.first_voice as usize..(s.first_voice + s.voice_count) as usize] {
        if let VoiceParams::Noise(_) = spec.params {
            let x = render(spec, clock, 3 * SR as usize, 480);
            let r = stats(&channel(&x, 0), SR as f64);
            println!(
                "tour step {step}: noise voice RMS {:.4} peak {:.3}",
                r.rms, r.peak
            );
            assert!(r.rms > 0.02 && r.peak <= 0.3 * 0.95 + 1e-6, "{r:?}");
        }
    }
}

#[test]
fn tour_track_engine_renders_the_noise_step() {
    // The whole track through the host (subliminal files decoded), streaming mode: the
    // step with the two noise voices is audible, finite, and the same bits for any block
    // size after the same seek.
    let path = shared_tracks_dir().join("all_voices_tour.json");
    let t = entrain_host::load_track_file(&path).expect("tour loads");
    let cfg = entrain_engine::engine::Config {
        mode: entrain_engine::engine::Mode::Streaming,
        ..Default::default()
    };
    let sr = t.track.sample_rate as u64;
    let start = t.track.steps[10].start;
    let at = ((start + 3.0) * sr as f64) as u64;
    let mut hashes = Vec::new();
    for block in [480usize, 7] {
        let mut e = entrain_host::build_engine(&t, cfg, &mut |_| {}).expect("engine");
        e.seek(at);
        let mut out = vec![[0.0f32; 2]; 2 * sr as usize];
        for c in out.chunks_mut(block) {
            e.render(c);
        }
        let r = stats(&channel(&out, 0), sr as f64);
        println!(
            "tour engine, block {block}, {:.1} s: RMS {:.4} peak {:.3}",
            at as f64 / sr as f64,
            r.rms,
            r.peak
        );
        assert!(out.iter().all(|f| f[0].is_finite() && f[1].is_finite()));
        assert!(r.rms > 0.005, "{r:?}");
        hashes.push(hash_frames(&out));
    }
    assert_eq!(hashes[0], hashes[1]);
}

// ---- parser errors -----------------------------------------------------------------------

fn errors(function: &str, params: Value) -> Vec<entrain_format::FormatError> {
    let json = voice_track_json(function, &params, SR, 1.0);
    let mut track = Box::<entrain_engine::model::Track>::default();
    let mut info = entrain_format::TrackInfo::default();
    match entrain_format::parse(json.as_bytes(), &mut track, &mut info) {
        Ok(_) => Vec::new(),
        Err(r) => r.errors.to_vec(),
    }
}

#[test]
fn bad_parameters_are_located_errors() {
    let cases: Vec<(&str, Value, &str)> = vec![
        ("noise_swept_notch", json!({"lfo_freq": "nan"}), "lfo_freq"),
        ("noise_swept_notch", json!({"lfo_freq": -1}), "lfo_freq"),
        ("noise_swept_notch", json!({"notch_q": -5}), "notch_q"),
        ("noise", json!({"notch_q": [25, 0]}), "notch_q"),
        (
            "noise_generator",
            json!({"sweeps": [[100, 200, -3, 4]]}),
            "sweeps",
        ),
        (
            "noise_generator",
            json!({"sweeps": [{"min": 100, "q": 0}]}),
            "q",
        ),
        ("noise_swept_notch", json!({"casc": 40}), "casc"),
        (
            "noise_swept_notch",
            json!({"noise_type": "plaid"}),
            "noise_type",
        ),
        (
            "generate_swept_notch_pink_sound",
            json!({"lfo_waveform": "square"}),
            "lfo_waveform",
        ),
        (
            "noise_transition",
            json!({"end_lfo_freq": "NaN"}),
            "end_lfo_freq",
        ),
        ("noise_transition", json!({"end_q": -1}), "end_q"),
        (
            "noise_swept_notch",
            json!({"sweeps": [[1, 2], [3, 4], [5, 6], [7, 8]]}),
            "sweeps",
        ),
        (
            "noise_swept_notch",
            json!({"input_audio_path": "a.wav"}),
            "input_audio_path",
        ),
        (
            "noise_generator",
            json!({"amp_envelope": (0..20).map(|i| json!([i, 1])).collect::<Vec<_>>()}),
            "amp_envelope",
        ),
    ];
    for (function, params, key) in cases {
        let errs = errors(function, params.clone());
        assert!(!errs.is_empty(), "{function} {params}: no error");
        let e = &errs[0];
        println!("{function} {params}: {}", e);
        assert_eq!(e.location.step, Some(0), "{function} {params}");
        assert_eq!(e.location.voice, Some(0), "{function} {params}");
        assert_eq!(e.location.key.as_str(), key, "{function} {params}");
        assert!(e.location.line > 0, "{function} {params}");
    }
    let e = &errors("noise", json!({"notch_q": -5}))[0];
    assert_eq!(e.kind, ErrorKind::NotPositive(-5.0));
    // unknown words name what is accepted
    let e = &errors("noise", json!({"noise_type": "plaid"}))[0];
    assert!(matches!(e.kind, ErrorKind::UnknownWord { .. }), "{e:?}");
    // an empty input path (the GUI writes one) is no error
    assert!(errors("noise_swept_notch", json!({"input_audio_path": ""})).is_empty());
}
