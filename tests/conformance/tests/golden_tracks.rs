//! Golden tracks: the whole-track cases of the reference manifest (`reference/tracks`),
//! assembled by the original `assemble_track_from_data`, i.e. BEFORE the final peak
//! normalisation. The engine's compatible mode scales its output by `target/peak`, so
//! its output is divided by [`HostEngine::output_gain`] before comparing.
//!
//! * Frame counts and step starts depend only on the timeline (TRACK_FORMAT.md §6.1) and
//!   must match today.
//! * Samples are compared wherever every sounding step consists only of voices the
//!   engine renders (no background noise, no clips); whole tracks are compared one test
//!   per track, the one with random background noise by statistics (RMS and 100 ms RMS).
//! * The original never applies volume envelopes (TRACK_FORMAT.md §5: `NameError`, voice
//!   flat, and no 10 ms click guard either), while the engine implements the intended
//!   envelopes; to compare with the reference, every voice that has an envelope object
//!   is rendered with [`EnvelopeSpec::Flat`], which is exactly that quirk.
//!
//! A synthetic track of binaural and isochronic voices (no reference) checks the
//! timeline arithmetic and the render invariants of `invariants.rs` end to end.

// Test code: a failed unwrap is a test failure with its location (helpers outside
// #[test] functions are not covered by clippy.toml's allow-unwrap-in-tests).
#![allow(clippy::unwrap_used)]

use entrain_conformance::{
    build_engine, compare, default_windows, fmt_snr, render_block_sizes, render_frames,
    write_report, Case, Diff, Manifest, Table, BLOCK_SIZES, VOICE_MAX_ABS, VOICE_MIN_SNR_DB,
};
use entrain_engine::engine::{Mode, LIMITER_CEILING};
use entrain_engine::model::{EnvelopeSpec, Track, VoiceParams};
use entrain_engine::timeline::Timeline;
use entrain_host::{load_track_file, load_track_str, HostEngine, LoadedTrack};
use serde_json::Value;
use std::sync::Arc;

/// Whole-track tolerance for `comparison: samples` tracks: the "f64 engine" class of
/// VOICES.md §17.7 (measured: 1.8e-7 and 2.7e-7, with phase-aligned crossfades).
const TRACK_MAX_ABS: f64 = VOICE_MAX_ABS;
/// Whole-track SNR floor, dB (measured: 141 and 137 dB).
const TRACK_MIN_SNR_DB: f64 = VOICE_MIN_SNR_DB;
/// `comparison: statistics` tracks: per-channel RMS within this many dB (reference README).
const STATS_RMS_DB: f64 = 0.5;
/// `comparison: statistics` tracks: 100 ms RMS blocks within this many dB (where the
/// reference block is above -60 dBFS).
const STATS_RMS_100MS_DB: f64 = 1.0;

fn track_cases(m: &Manifest) -> Vec<&Case> {
    m.cases.iter().filter(|c| c.kind == "track").collect()
}

fn load_case(m: &Manifest, case: &Case) -> LoadedTrack {
    let file = case.raw["track_file"]
        .as_str()
        .unwrap_or_else(|| panic!("{}: no track_file", case.id));
    match load_track_file(&m.dir.join(file)) {
        Ok(t) => t,
        Err(e) => panic!("{}: {e}", case.id),
    }
}

/// The track as the original renders it: envelope objects make a voice flat without the
/// click guard.
fn as_original_renders(t: &Track) -> Arc<Track> {
    let mut t = t.clone();
    for v in t.voices.iter_mut() {
        if v.envelope != EnvelopeSpec::None {
            v.envelope = EnvelopeSpec::Flat;
        }
    }
    Arc::new(t)
}

fn reference_frames(m: &Manifest, case: &Case) -> u64 {
    let len = std::fs::metadata(case.audio_path(&m.dir))
        .unwrap_or_else(|e| panic!("{}: {e}", case.id))
        .len();
    len / (4 * case.channels as u64)
}

#[test]
fn track_frame_counts_and_starts() {
    let m = Manifest::load().unwrap();
    let cases = track_cases(&m);
    assert_eq!(cases.len(), 3, "the manifest has three track cases");
    let mut table = Table::new(&[
        "case",
        "reference frames",
        "timeline",
        "streaming",
        "compatible",
    ]);
    let expected: &[(&str, u64)] = &[
        ("track__equal_power_adsr_bgnoise", 441_000),
        ("track__linear_xfade_transition_voice", 441_000),
        ("track__legacy_explicit_starts_gap", 396_900),
    ];
    for case in cases {
        let loaded = load_case(&m, case);
        let want = expected
            .iter()
            .find(|(id, _)| *id == case.id)
            .map(|(_, n)| *n)
            .unwrap_or_else(|| panic!("unexpected track case {}", case.id));
        assert_eq!(case.frames, want, "{}: manifest frames", case.id);
        assert_eq!(reference_frames(&m, case), want, "{}: file length", case.id);
        // Starts filled in by the loader (TRACK_FORMAT.md §6.1).
        let starts: Vec<f64> = case.raw["step_starts_after_load"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let ours: Vec<f64> = loaded.track.steps.iter().map(|s| s.start).collect();
        assert_eq!(ours, starts, "{}: step starts after load", case.id);
        let tl = Timeline::new(&loaded.track.view()).unwrap();
        let streaming = build_engine(loaded.track.clone(), Mode::Streaming).unwrap();
        let compatible =
            build_engine(as_original_renders(&loaded.track), Mode::Compatible).unwrap();
        table.row(vec![
            case.id.clone(),
            want.to_string(),
            tl.total.to_string(),
            streaming.total_frames().to_string(),
            compatible.total_frames().to_string(),
        ]);
        assert_eq!(tl.total, want, "{}: timeline frames", case.id);
        assert_eq!(
            streaming.total_frames(),
            want,
            "{}: streaming engine",
            case.id
        );
        assert_eq!(
            compatible.total_frames(),
            want,
            "{}: compatible engine",
            case.id
        );
    }
    let md = format!("# Golden tracks: frame counts\n\n{}", table.to_markdown());
    println!("{md}");
    write_report(env!("CARGO_TARGET_TMPDIR"), "golden_tracks_frames.md", &md).unwrap();
}

/// The whole track through the compatible engine, divided by its output gain (the
/// reference is before the final normalisation), interleaved; and the engine.
fn render_unnormalised(track: Arc<Track>) -> (Vec<f32>, HostEngine) {
    let mut e = build_engine(track, Mode::Compatible).unwrap();
    let g = e.output_gain() as f64;
    let total = e.total_frames();
    let out = render_frames(&mut e, total, 4096);
    let x = out
        .as_flattened()
        .iter()
        .map(|&v| (v as f64 / g) as f32)
        .collect();
    (x, e)
}

/// Frame ranges where every sounding placement has only voices the engine renders.
fn implemented_ranges(track: &Track, tl: &Timeline) -> Vec<(u64, u64)> {
    let view = track.view();
    let full = |k: usize| {
        let p = &tl.placements[k];
        view.step_voices(p.step as usize)
            .iter()
            .all(|v| !matches!(v.params, VoiceParams::Silent))
    };
    let mut cuts: Vec<u64> = tl
        .placements
        .iter()
        .flat_map(|p| [p.start, p.end()])
        .chain([0, tl.total])
        .collect();
    cuts.sort_unstable();
    cuts.dedup();
    let mut out: Vec<(u64, u64)> = Vec::new();
    for w in cuts.windows(2) {
        let (a, b) = (w[0], w[1]);
        let covering: Vec<usize> = (0..tl.placements.len())
            .filter(|&k| tl.placements[k].start <= a && a < tl.placements[k].end())
            .collect();
        if covering.is_empty() || !covering.iter().all(|&k| full(k)) {
            continue;
        }
        match out.last_mut() {
            Some(last) if last.1 == a => last.1 = b,
            _ => out.push((a, b)),
        }
    }
    out
}

#[test]
fn track_samples_where_implemented() {
    let m = Manifest::load().unwrap();
    let mut table = Table::new(&[
        "case",
        "range (s)",
        "frames",
        "max abs err",
        "SNR dB",
        "status",
    ]);
    let mut failures = Vec::new();
    let mut compared = 0;
    for case in track_cases(&m) {
        let loaded = load_case(&m, case);
        if loaded.info.noise.is_some() || loaded.info.clips.is_some() {
            let why = "random background noise or clips: no sample comparison (see track_whole_*)";
            println!("SKIP {} (whole track): {why}", case.id);
            table.row(vec![
                case.id.clone(),
                "-".into(),
                "-".into(),
                "-".into(),
                "-".into(),
                format!("SKIP: {why}"),
            ]);
            continue;
        }
        let track = as_original_renders(&loaded.track);
        let tl = Timeline::new(&track.view()).unwrap();
        let ranges = implemented_ranges(&track, &tl);
        if ranges.is_empty() {
            let why = "every step has a voice of issue 3";
            println!("SKIP {} (whole track): {why}", case.id);
            table.row(vec![
                case.id.clone(),
                "-".into(),
                "-".into(),
                "-".into(),
                "-".into(),
                format!("SKIP: {why}"),
            ]);
            continue;
        }
        let reference = case.read_audio(&m.dir).unwrap();
        let (x, e) = render_unnormalised(track);
        let sr = e.sample_rate() as f64;
        for (a, b) in ranges {
            let (i, j) = (2 * a as usize, 2 * b as usize);
            let d = compare(&x[i..j], &reference[i..j]);
            let ok = d.within(VOICE_MAX_ABS, VOICE_MIN_SNR_DB);
            compared += 1;
            table.row(vec![
                case.id.clone(),
                format!("{:.3}–{:.3}", a as f64 / sr, b as f64 / sr),
                (b - a).to_string(),
                format!("{:.3e}", d.max_abs),
                fmt_snr(d.snr_db),
                if ok { "ok".into() } else { "FAIL".into() },
            ]);
            if !ok {
                failures.push(format!(
                    "{} [{a}, {b}): max |Δ| {:.3e} at frame {}, SNR {} dB",
                    case.id,
                    d.max_abs,
                    a + (d.max_at / 2) as u64,
                    fmt_snr(d.snr_db)
                ));
            }
        }
    }
    let md = format!(
        "# Golden tracks: samples where every sounding voice is implemented\n\nTolerance: max abs err ≤ {VOICE_MAX_ABS:e}, SNR ≥ {VOICE_MIN_SNR_DB} dB (engine output ÷ output gain vs the un-normalised reference).\n\n{}",
        table.to_markdown()
    );
    println!("{md}");
    write_report(env!("CARGO_TARGET_TMPDIR"), "golden_tracks_partial.md", &md).unwrap();
    assert!(compared >= 1, "no implemented range compared");
    assert!(
        failures.is_empty(),
        "failing ranges:\n{}",
        failures.join("\n")
    );
}

fn rms_db(x: &[f32], ch: usize) -> f64 {
    let n = x.len() / 2;
    let s: f64 = x
        .iter()
        .skip(ch)
        .step_by(2)
        .map(|&v| (v as f64).powi(2))
        .sum();
    10.0 * (s / n.max(1) as f64).log10()
}

fn stats_problems(case: &Case, x: &[f32], sr: u32) -> Vec<String> {
    let mut p = Vec::new();
    let stats = &case.raw["stats"];
    for ch in 0..2 {
        let r = stats["rms"][ch].as_f64().unwrap();
        let diff = rms_db(x, ch) - 20.0 * r.log10();
        if diff.abs() > STATS_RMS_DB {
            p.push(format!("channel {ch}: RMS off by {diff:.2} dB"));
        }
        let block = (0.1 * sr as f64).round() as usize;
        let blocks: Vec<f64> = stats["rms_100ms"][ch]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_f64).collect())
            .unwrap_or_default();
        for (k, &r) in blocks.iter().enumerate() {
            let (i, j) = (2 * k * block, (2 * (k + 1) * block).min(x.len()));
            if j <= i || r < 1e-3 {
                continue;
            }
            let d = rms_db(&x[i..j], ch) - 20.0 * r.log10();
            if d.abs() > STATS_RMS_100MS_DB {
                p.push(format!(
                    "channel {ch}: 100 ms block {k} RMS off by {d:.2} dB"
                ));
                break;
            }
        }
    }
    p
}

/// One whole track against its reference: `comparison: samples` tracks sample by sample
/// (plus the global peak), `comparison: statistics` tracks (random background noise) by
/// RMS and 100 ms RMS.
fn whole_track(id: &str) {
    let m = Manifest::load().unwrap();
    let case = m
        .case(id)
        .unwrap_or_else(|| panic!("{id} not in the manifest"));
    let loaded = load_case(&m, case);
    let reference = case.read_audio(&m.dir).unwrap();
    let (x, e) = render_unnormalised(as_original_renders(&loaded.track));
    let ref_peak = case.raw["final_normalization"]["input_peak"]
        .as_f64()
        .unwrap();
    // The engine's global peak, recovered from its output gain `target/peak`.
    let our_peak = 0.25 / e.output_gain() as f64;
    let mut problems = Vec::new();
    if x.len() != reference.len() {
        problems.push(format!("frames {} vs {}", x.len() / 2, reference.len() / 2));
    }
    let d: Diff = compare(&x, &reference);
    if case.comparison == "samples" {
        if !d.within(TRACK_MAX_ABS, TRACK_MIN_SNR_DB) {
            problems.push(format!(
                "max |Δ| {:.3e} at frame {}, SNR {} dB",
                d.max_abs,
                d.max_at / 2,
                fmt_snr(d.snr_db)
            ));
        }
        if (our_peak / ref_peak - 1.0).abs() > 1e-3 {
            problems.push(format!("peak {our_peak} vs {ref_peak}"));
        }
    } else {
        problems.extend(stats_problems(case, &x, e.sample_rate()));
    }
    let mut table = Table::new(&[
        "case",
        "comparison",
        "frames",
        "max abs err",
        "SNR dB",
        "peak (ours / ref)",
        "status",
    ]);
    table.row(vec![
        case.id.clone(),
        case.comparison.clone(),
        (x.len() / 2).to_string(),
        format!("{:.3e}", d.max_abs),
        fmt_snr(d.snr_db),
        format!("{our_peak:.4} / {ref_peak:.4}"),
        if problems.is_empty() {
            "ok".into()
        } else {
            "FAIL".into()
        },
    ]);
    let md = format!(
        "# Golden track `{id}`\n\nsamples: max abs err ≤ {TRACK_MAX_ABS:e}, SNR ≥ {TRACK_MIN_SNR_DB} dB, global peak within 0.1 %; statistics: RMS ±{STATS_RMS_DB} dB, 100 ms RMS ±{STATS_RMS_100MS_DB} dB.\n\n{}",
        table.to_markdown()
    );
    println!("{md}");
    write_report(env!("CARGO_TARGET_TMPDIR"), &format!("golden_{id}.md"), &md).unwrap();
    assert!(problems.is_empty(), "{id}: {}", problems.join("; "));
}

/// binaural_beat (with a linear_fade the original never applies) + stereo_am_independent,
/// then binaural_beat_transition + rhythmic_waveshaping; linear 1 s crossfade.
#[test]
fn track_whole_linear_xfade_transition_voice() {
    whole_track("track__linear_xfade_transition_voice");
}

/// Legacy layout, explicit starts with a gap (forced crossfade): wave_shape_stereo_am,
/// spatial_angle_modulation_monaural_beat, isochronic_tone_transition.
#[test]
fn track_whole_legacy_explicit_starts_gap() {
    whole_track("track__legacy_explicit_starts_gap");
}

/// monaural_beat_stereo_amps (adsr) and hybrid_qam_monaural_beat (linen) under random
/// swept pink background noise: compared by statistics.
#[test]
fn track_whole_equal_power_adsr_bgnoise() {
    whole_track("track__equal_power_adsr_bgnoise");
}

// ---- synthetic track -------------------------------------------------------------------

/// Binaural and isochronic voices only: static and transition voices, vibrato, AM,
/// harmonic suppression with pan, all three envelope types, an equal-power crossfade and
/// an explicit start with a gap (the original's "forced crossfade").
const SYNTHETIC: &str = r#"{
  "global": {"sample_rate": 44100, "crossfade_duration": 1.0, "crossfade_curve": "equal_power"},
  "progression": [
    {"duration": 4.0, "voices": [
      {"synth_function_name": "binaural_beat", "is_transition": false,
       "params": {"baseFreq": 200, "beatFreq": 8, "ampL": 0.6, "ampR": 0.6,
                  "ampOscDepthL": 0.3, "ampOscFreqL": 2, "freqOscRangeL": 3, "freqOscFreqL": 0.5}},
      {"synth_function_name": "isochronic_tone", "is_transition": false,
       "params": {"baseFreq": 300, "beatFreq": 10, "ampL": 0.5, "ampR": 0.5,
                  "harmonicSuppression": true, "pan": 0.3},
       "volume_envelope": {"type": "linen", "params": {"attack": 0.5, "release": 0.5}}}]},
    {"duration": 4.0, "voices": [
      {"synth_function_name": "binaural_beat", "is_transition": true,
       "params": {"startBaseFreq": 200, "endBaseFreq": 150, "startBeatFreq": 8, "endBeatFreq": 4,
                  "startAmpL": 0.6, "endAmpL": 0.4, "startAmpR": 0.6, "endAmpR": 0.4,
                  "initial_offset": 0.5, "transition_duration": 2.0, "transition_curve": "logarithmic"},
       "volume_envelope": {"type": "adsr", "params": {"attack": 0.2, "decay": 0.3, "sustain_level": 0.8, "release": 0.5}}},
      {"synth_function_name": "isochronic_tone", "is_transition": true,
       "params": {"startBaseFreq": 300, "endBaseFreq": 250, "startBeatFreq": 10, "endBeatFreq": 6,
                  "startRampPercent": 0.2, "endRampPercent": 0.4}}]},
    {"start": 8.5, "duration": 3.0, "voices": [
      {"synth_function_name": "binaural_beat", "is_transition": false,
       "params": {"baseFreq": 150, "beatFreq": 4, "ampL": 0.5, "ampR": 0.5},
       "volume_envelope": {"type": "linear_fade", "params": {"fade_duration": 1.0, "start_amp": 0.0, "end_amp": 1.0}}}]}
  ]
}"#;

#[test]
fn synthetic_track_timeline_and_invariants() {
    let loaded = load_track_str(SYNTHETIC).unwrap();
    assert!(loaded.warnings.errors.is_empty());
    // Load-time starts: 0, 4 - 1, explicit 8.5.
    let starts: Vec<f64> = loaded.track.steps.iter().map(|s| s.start).collect();
    assert_eq!(starts, [0.0, 3.0, 8.5]);
    // Render-time placement (TRACK_FORMAT.md §6.1): step 1 overlaps step 0 by 1 s; step 2
    // starts after a gap, so it is pulled back to lastEnd - X with X = 1 s.
    let tl = Timeline::new(&loaded.track.view()).unwrap();
    let placed: Vec<(u64, u64, u64)> = tl
        .placements
        .iter()
        .map(|p| (p.start, p.len, p.xfade))
        .collect();
    assert_eq!(
        placed,
        [
            (0, 176_400, 0),
            (132_300, 176_400, 44_100),
            (264_600, 132_300, 44_100)
        ]
    );
    assert_eq!(tl.total, 396_900);

    let mut table = Table::new(&[
        "mode",
        "window",
        "frames",
        "peak",
        "hash (all block sizes)",
        "status",
    ]);
    let mut failures = Vec::new();
    for mode in [Mode::Streaming, Mode::Compatible] {
        let mut e = build_engine(loaded.track.clone(), mode).unwrap();
        assert_eq!(e.total_frames(), 396_900);
        // The whole track (9 s) is cheap: render all of it with every block size.
        let mut windows = vec![entrain_conformance::Window {
            start: 0,
            frames: e.total_frames(),
        }];
        windows.extend(default_windows(&e, 0.0, 0.5).into_iter().skip(1));
        let runs = render_block_sizes(&mut e, &windows, BLOCK_SIZES);
        for r in &runs {
            let first = r.first().unwrap();
            let bound = match mode {
                Mode::Streaming => LIMITER_CEILING,
                // Normalised to the target level; f32 rounding of peak·(target/peak).
                Mode::Compatible => 0.25 * (1.0 + 1e-6),
            };
            let mut status = Vec::new();
            if !r.consistent() {
                status.push(format!("block sizes differ: {}", r.describe()));
            }
            if r.non_finite() > 0 {
                status.push(format!("{} non-finite samples", r.non_finite()));
            }
            if r.peak() > bound {
                status.push(format!("peak {} above {bound}", r.peak()));
            }
            if first.energy == 0.0 || first.frames != r.window.frames {
                status.push("silent or short".into());
            }
            // The whole render of a compatible track reaches the target level exactly.
            if mode == Mode::Compatible && r.window.start == 0 && (r.peak() - 0.25).abs() > 1e-6 {
                status.push(format!("global peak {} is not the target 0.25", r.peak()));
            }
            table.row(vec![
                format!("{mode:?}"),
                format!("{}+{}", r.window.start, r.window.frames),
                first.frames.to_string(),
                format!("{:.6}", r.peak()),
                format!("{:016x}", first.hash),
                if status.is_empty() {
                    "ok".into()
                } else {
                    "FAIL".into()
                },
            ]);
            if !status.is_empty() {
                failures.push(format!("{mode:?} {:?}: {}", r.window, status.join("; ")));
            }
        }
    }
    let md = format!(
        "# Synthetic track (binaural + isochronic only)\n\nBlock sizes {BLOCK_SIZES:?}.\n\n{}",
        table.to_markdown()
    );
    println!("{md}");
    write_report(
        env!("CARGO_TARGET_TMPDIR"),
        "golden_tracks_synthetic.md",
        &md,
    )
    .unwrap();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
