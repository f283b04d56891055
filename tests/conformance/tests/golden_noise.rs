//! Background noise against the original (NOISE.md, reference README "random noise" and
//! "swept-notch noise from an input WAV").
//!
//! * `noise` cases fed from `inputs/notch_input_44k.wav` are deterministic: the
//!   original's algorithm over the borrowed input ([`PyNotch`]) is compared sample by
//!   sample.
//! * Random `noise` and `colored_noise` cases are compared by statistics (RMS ±0.5 dB,
//!   peak ≤ 0.95, third-octave levels ±2 dB for bands ≥ 100 Hz, band slope ±0.5 dB/oct,
//!   median notch track within a few bins), rendered by the streaming generators.
//! * A 10-minute render keeps level, slope and DC stable.
//! * `track__equal_power_adsr_bgnoise`: statistics and `rms_100ms` of the whole track.
//!
//! Every case prints its measured statistics next to the reference's.

use entrain_dsp::noise::colour::{BandLimits, ColoredNoise, Colour, ExponentModel};
use entrain_dsp::noise::notch::{LfoWave, SweepSpec, SweptNoise, SweptParams};
use entrain_dsp::noise::py::PyNotch;
use entrain_dsp::ramp::Curve;
use entrain_dsp::Frame;
use serde_json::Value;
use std::path::PathBuf;

fn reference_dir() -> PathBuf {
    match std::env::var_os("ENTRAIN_REFERENCE") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/reference"
        )),
    }
}

fn manifest() -> Value {
    let p = reference_dir().join("manifest.json");
    serde_json::from_slice(&std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .expect("manifest")
}

fn cases(kind: &str) -> Vec<Value> {
    manifest()["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .filter(|c| c["kind"] == kind)
        .cloned()
        .collect()
}

fn read_f32(rel: &str) -> Vec<f32> {
    let p = reference_dir().join(rel);
    let b = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    b.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

fn num(v: &Value, key: &str, default: f64) -> f64 {
    v.get(key).and_then(Value::as_f64).unwrap_or(default)
}

/// Sweeps from `[[min, max], ...]` (None → the generator's default `[(1000, 10000)]`).
fn sweeps_of(v: Option<&Value>) -> Vec<(f64, f64)> {
    match v.and_then(Value::as_array) {
        Some(a) => a
            .iter()
            .map(|s| (s[0].as_f64().unwrap(), s[1].as_f64().unwrap()))
            .collect(),
        None => vec![(1000.0, 10000.0)],
    }
}

fn per_sweep(v: Option<&Value>, default: f64, n: usize) -> Vec<f64> {
    match v {
        Some(Value::Array(a)) => a.iter().map(|x| x.as_f64().unwrap()).collect(),
        Some(x) => vec![x.as_f64().unwrap(); n],
        None => vec![default; n],
    }
}

/// Parameters of a `generate_swept_notch_pink_sound[_transition]` call, with that
/// wrapper's defaults (q 25, cascade 10, right offset 90°).
fn swept_params(case: &Value) -> SweptParams {
    let p = &case["params"];
    let transition = case["function"].as_str().unwrap().ends_with("_transition");
    let mut sp = SweptParams {
        colour: Colour::from_name(
            p.get("noise_type")
                .and_then(Value::as_str)
                .unwrap_or("pink"),
        ),
        lfo_wave: match p.get("lfo_waveform").and_then(Value::as_str) {
            Some("triangle") => LfoWave::Triangle,
            _ => LfoWave::Sine,
        },
        transition,
        seed: 1000 + case["seed"]["numpy_legacy_seed"].as_u64().unwrap_or(1),
        ..SweptParams::default()
    };
    if !transition {
        sp.lfo_freq = num(p, "lfo_freq", 1.0 / 12.0);
        let sw = sweeps_of(p.get("filter_sweeps"));
        let q = per_sweep(p.get("notch_q"), 25.0, sw.len());
        let c = per_sweep(p.get("cascade_count"), 10.0, sw.len());
        for (i, (mn, mx)) in sw.iter().enumerate() {
            sp.sweeps[i] = SweepSpec {
                min_hz: [*mn; 2],
                max_hz: [*mx; 2],
                q: [q[i]; 2],
                casc: [c[i]; 2],
            };
        }
        sp.sweep_count = sw.len();
        sp.lfo_phase_offset_deg = [num(p, "lfo_phase_offset_deg", 90.0); 2];
        sp.intra_phase_offset_deg = [num(p, "intra_phase_offset_deg", 0.0); 2];
    } else {
        sp.transition_lfo_freq = [
            num(p, "start_lfo_freq", 1.0 / 12.0),
            num(p, "end_lfo_freq", 1.0 / 12.0),
        ];
        let s = sweeps_of(p.get("start_filter_sweeps"));
        let e = match p.get("end_filter_sweeps") {
            Some(v) => sweeps_of(Some(v)),
            None => s.clone(),
        };
        let n = s.len();
        let qs = per_sweep(p.get("start_notch_q"), 25.0, n);
        let qe = per_sweep(p.get("end_notch_q"), 25.0, n);
        let cs = per_sweep(p.get("start_cascade_count"), 10.0, n);
        let ce = per_sweep(p.get("end_cascade_count"), 10.0, n);
        for i in 0..n {
            sp.sweeps[i] = SweepSpec {
                min_hz: [s[i].0, e[i].0],
                max_hz: [s[i].1, e[i].1],
                q: [qs[i], qe[i]],
                casc: [cs[i], ce[i]],
            };
        }
        sp.sweep_count = n;
        sp.lfo_phase_offset_deg = [
            num(p, "start_lfo_phase_offset_deg", 90.0),
            num(p, "end_lfo_phase_offset_deg", 90.0),
        ];
        sp.intra_phase_offset_deg = [
            num(p, "start_intra_phase_offset_deg", 0.0),
            num(p, "end_intra_phase_offset_deg", 0.0),
        ];
        sp.initial_offset = num(p, "initial_offset", 0.0);
        sp.transition_duration = p.get("transition_duration").and_then(Value::as_f64);
        sp.curve = match p.get("transition_curve").and_then(Value::as_str) {
            Some("logarithmic") => Curve::Logarithmic,
            Some("exponential") => Curve::Exponential,
            _ => Curve::Linear,
        };
    }
    sp
}

#[test]
fn swept_notch_from_input_file_is_sample_exact() {
    let mut checked = 0;
    for case in cases("noise") {
        let Some(input) = case["params"]
            .get("input_audio_path")
            .and_then(Value::as_str)
        else {
            continue;
        };
        let samples =
            entrain_host::noise::read_first_channel(&reference_dir().join(input)).expect("wav");
        let sp = swept_params(&case);
        let sr = case["sample_rate"].as_u64().unwrap() as u32;
        let mut g = Box::new(PyNotch::new(&sp, sr, &samples));
        let reference = read_f32(case["file"].as_str().unwrap());
        let frames = case["frames"].as_u64().unwrap() as usize;
        assert_eq!(g.frames() as usize, frames, "{}", case["id"]);
        let mut out = vec![[0.0f32; 2]; frames];
        for c in out.chunks_mut(333) {
            g.process(&samples, c);
        }
        let (mut max, mut sig, mut err) = (0.0f64, 0.0f64, 0.0f64);
        for (i, f) in out.iter().enumerate() {
            for ch in 0..2 {
                let r = reference[2 * i + ch] as f64;
                let d = f[ch] as f64 - r;
                max = max.max(d.abs());
                sig += r * r;
                err += d * d;
            }
        }
        let snr = 10.0 * (sig / err.max(1e-300)).log10();
        println!(
            "{:<70} frames {frames}  max|Δ| {max:.3e}  SNR {snr:.1} dB",
            case["id"].as_str().unwrap()
        );
        assert!(
            max <= 1e-5 && snr >= 90.0,
            "{}: max {max} snr {snr}",
            case["id"]
        );
        checked += 1;
    }
    assert_eq!(checked, 4);
}
