//! Property tests over random valid tracks (proptest; small case counts so the file runs
//! in seconds at the test profile's opt-level 2):
//!
//! * streaming output of any track of 1–4 steps × 1–4 voices (binaural_beat,
//!   isochronic_tone, monaural_beat_stereo_amps, static or transition with any curve of
//!   TRACK_FORMAT.md §7.3, plus inline background noise, §9) is finite and bounded by 1.0;
//! * the output does not depend on the block size (hash at a random block = block 480);
//! * `seek(t)` then render equals a render from 0 cut at `t` (within the seek tolerance of
//!   invariants.rs: transitions and vibrato are positioned in closed form);
//! * an equal-power crossfade (§6.2) between two uncorrelated steps keeps their power.

// Test code: a failed unwrap is a test failure with its location.
#![allow(clippy::unwrap_used)]

use entrain_conformance::{build_engine, compare, hash_frames, render_frames};
use entrain_engine::engine::Mode;
use entrain_host::load_track_str;
use proptest::prelude::*;
use serde_json::{json, Value};

/// Sample rate of the generated tracks (low, to keep renders short).
const SR: u32 = 22_050;
/// Largest |Δ| between seek-and-render and render-from-0 (as in invariants.rs).
const SEEK_MAX_ABS: f64 = 1e-4;

const CURVES: &[&str] = &[
    "linear",
    "logarithmic",
    "exponential",
    "sine",
    "ease_in_out",
    "sin_quarter",
    "smoothstep",
    "pow:2.5",
];

fn voice() -> impl Strategy<Value = Value> {
    (
        0..3usize,
        any::<bool>(),
        (60.0..900.0f64, 0.5..30.0f64, 0.05..0.5f64, 0.05..0.5f64),
        (60.0..900.0f64, 0.5..30.0f64),
        (0..CURVES.len(), 0.0..0.5f64, prop::option::of(0.0..1.0f64)),
    )
        .prop_map(
            |(kind, transition, (base, beat, al, ar), (base2, beat2), (c, io, td))| {
                let name = [
                    "binaural_beat",
                    "isochronic_tone",
                    "monaural_beat_stereo_amps",
                ][kind];
                let mut params = match kind {
                    2 => json!({"baseFreq": base, "beatFreq": beat, "amp_lower_L": al,
                            "amp_upper_L": ar, "amp_lower_R": ar, "amp_upper_R": al}),
                    _ => json!({"baseFreq": base, "beatFreq": beat, "ampL": al, "ampR": ar}),
                };
                if transition {
                    let m = params.as_object_mut().unwrap();
                    m.insert("startBaseFreq".into(), json!(base));
                    m.insert("endBaseFreq".into(), json!(base2));
                    m.insert("startBeatFreq".into(), json!(beat));
                    m.insert("endBeatFreq".into(), json!(beat2));
                    m.insert("initial_offset".into(), json!(io));
                    if let Some(td) = td {
                        m.insert("transition_duration".into(), json!(td));
                    }
                    m.insert("transition_curve".into(), json!(CURVES[c]));
                }
                json!({"synth_function_name": name, "is_transition": transition, "params": params})
            },
        )
}

fn step() -> impl Strategy<Value = Value> {
    (0.3..1.2f64, prop::collection::vec(voice(), 1..=4))
        .prop_map(|(d, voices)| json!({"duration": d, "voices": voices}))
}

/// A random valid track; `noise` adds inline background noise.
fn track(noise: bool) -> impl Strategy<Value = String> {
    (
        prop::collection::vec(step(), 1..=4),
        0.0..0.3f64,
        any::<bool>(),
        (0..3usize, 0.05..0.5f64),
    )
        .prop_map(move |(steps, cf, equal_power, (colour, gain))| {
            let mut t = json!({
                "global": {"sample_rate": SR, "crossfade_duration": cf,
                           "crossfade_curve": if equal_power {"equal_power"} else {"linear"}},
                "progression": steps,
            });
            if noise {
                let colour = ["pink", "brown", "white"][colour];
                t["background_noise"] = json!({
                    "gain": gain, "fade_in": 0.1,
                    "params": {"noise_type": colour},
                });
            }
            t.to_string()
        })
}

fn engine(json: &str, mode: Mode) -> entrain_host::HostEngine {
    let t = load_track_str(json).unwrap_or_else(|e| panic!("{e}\n{json}"));
    build_engine(t.track, mode).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn streaming_output_is_finite_and_bounded(json in track(true)) {
        let mut e = engine(&json, Mode::Streaming);
        let n = e.total_frames();
        let out = render_frames(&mut e, n, 480);
        let peak = out.as_flattened().iter().fold(0.0f32, |m, x| m.max(x.abs()));
        prop_assert!(out.as_flattened().iter().all(|x| x.is_finite()), "non-finite: {}", json);
        prop_assert!(peak <= 1.0, "peak {} > 1: {}", peak, json);
    }

    #[test]
    fn block_size_does_not_change_the_output(json in track(true), block in 1usize..4096) {
        let mut a = engine(&json, Mode::Streaming);
        let n = a.total_frames();
        let want = hash_frames(&render_frames(&mut a, n, 480));
        let mut b = engine(&json, Mode::Streaming);
        let got = hash_frames(&render_frames(&mut b, n, block));
        prop_assert_eq!(got, want, "block {} differs from 480: {}", block, json);
    }

    #[test]
    fn seek_then_render_equals_render_from_start(json in track(false), at in 0.0..1.0f64) {
        let mut e = engine(&json, Mode::Streaming);
        let n = e.total_frames();
        let full = render_frames(&mut e, n, 480);
        let t = ((n as f64) * at) as u64;
        e.seek(t);
        let rest = render_frames(&mut e, n - t, 480);
        let d = compare(rest.as_flattened(), full[t as usize..].as_flattened());
        prop_assert!(d.non_finite == 0 && d.max_abs <= SEEK_MAX_ABS,
            "seek to {} of {}: max |Δ| {:e}: {}", t, n, d.max_abs, json);
    }

    #[test]
    fn equal_power_crossfade_keeps_power(
        f1 in 100.0..300.0f64,
        df in 80.0..300.0f64,
        amp in 0.1..0.5f64,
    ) {
        // Two steps of one static binaural voice each, at carriers ≥ 80 Hz apart: over a
        // 100 ms window their product averages out (|cross term| ≲ 1/(π·Δf·T) ≈ 4 %),
        // so cos² + sin² = 1 (§6.2) must keep the power of either step.
        let voice = |f: f64| json!({"synth_function_name": "binaural_beat",
            "params": {"baseFreq": f, "beatFreq": 4.0, "ampL": amp, "ampR": amp}});
        let json = json!({
            "global": {"sample_rate": SR, "crossfade_duration": 1.0,
                       "crossfade_curve": "equal_power"},
            "progression": [{"duration": 3.0, "voices": [voice(f1)]},
                            {"duration": 3.0, "voices": [voice(f1 + df)]}],
        }).to_string();
        let mut e = engine(&json, Mode::Streaming);
        let p = e.timeline().placements[1];
        let n = e.total_frames();
        let out = render_frames(&mut e, n, 480);
        let win = (SR / 10) as usize;
        let rms = |a: usize| {
            let s: f64 = out[a..a + win].as_flattened().iter().map(|&x| (x as f64).powi(2)).sum();
            (s / (2 * win) as f64).sqrt()
        };
        let steady = rms(SR as usize / 2);
        // Windows inside the crossfade, clear of the 10 ms click guards at its edges.
        let (x0, x1) = (p.start as usize + SR as usize / 40, (p.start + p.xfade) as usize - SR as usize / 40);
        let mut a = x0;
        while a + win <= x1 {
            let r = rms(a);
            prop_assert!((r / steady - 1.0).abs() <= 0.1,
                "RMS {:.4} at {} vs steady {:.4} (tolerance 10 %): {}", r, a, steady, json);
            a += win / 2;
        }
    }
}
