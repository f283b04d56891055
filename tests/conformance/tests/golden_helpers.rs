//! Golden helper curves: the envelope helpers of the original's `common.py`
//! (`adsr_envelope`, `linen_envelope`, `create_linear_fade_envelope`) and its
//! `calculate_transition_alpha`, against `entrain_dsp::env` and `entrain_dsp::ramp`
//! called directly with the manifest's parameters (VOICES.md §17.4: the assembler never
//! applies the envelopes, so they are compared as curves).
//!
//! Tolerance: max |Δ| ≤ 1e-7 (reference README, "helper curves"). The curves are float64
//! in the original and stored as float32; ours are rounded to f32 the same way.

// Test code: a failed unwrap is a test failure with its location (helpers outside
// #[test] functions are not covered by clippy.toml's allow-unwrap-in-tests).
#![allow(clippy::unwrap_used)]

use entrain_conformance::{compare, fmt_snr, write_report, Case, Manifest, Table, HELPER_MAX_ABS};
use entrain_dsp::env::{Envelope, FadeType};
use entrain_dsp::ramp::{Curve, Ramp};

/// Every helper case of the manifest must be one of these (a new one fails the test
/// until it is wired up here).
const HELPER_CASES: &[&str] = &[
    "helper__adsr_envelope",
    "helper__linen_envelope",
    "helper__linear_fade_in",
    "helper__linear_fade_out",
    "helper__transition_alpha_3curves",
];

fn p(case: &Case, key: &str) -> f64 {
    case.param_f64(key)
        .unwrap_or_else(|| panic!("{}: no numeric param `{key}`", case.id))
}

fn curve(name: &str) -> Curve {
    match name {
        "linear" => Curve::Linear,
        "logarithmic" => Curve::Logarithmic,
        "exponential" => Curve::Exponential,
        other => panic!("unknown curve {other}"),
    }
}

/// Samples of the curve(s) of `case`, interleaved like the reference file.
fn render(case: &Case) -> Vec<f32> {
    let sr = case.sample_rate as f64;
    let d = case.duration;
    let n = (d * sr).floor() as u64;
    let env_curve = |e: Envelope| (0..n).map(|i| e.gain64(i) as f32).collect::<Vec<_>>();
    match case.function.as_str() {
        "adsr_envelope" => env_curve(Envelope::adsr(
            p(case, "attack"),
            p(case, "decay"),
            p(case, "sustain_level"),
            p(case, "release"),
            d,
            sr,
            n,
        )),
        "linen_envelope" => env_curve(Envelope::linen(
            p(case, "attack"),
            p(case, "release"),
            d,
            sr,
            n,
        )),
        "create_linear_fade_envelope" => {
            let fade = match case.param_str("fade_type").unwrap_or("in") {
                "in" => FadeType::In,
                "out" => FadeType::Out,
                other => panic!("{}: unknown fade_type {other}", case.id),
            };
            env_curve(Envelope::linear_fade(
                p(case, "fade_duration"),
                p(case, "start_amp"),
                p(case, "end_amp"),
                sr,
                n,
                fade,
            ))
        }
        "calculate_transition_alpha" => {
            let names: Vec<&str> = case.params["curves"]
                .as_array()
                .expect("curves")
                .iter()
                .map(|v| v.as_str().expect("curve name"))
                .collect();
            assert_eq!(
                names.len(),
                case.channels,
                "{}: one channel per curve",
                case.id
            );
            let ramps: Vec<Ramp> = names
                .iter()
                .map(|c| {
                    Ramp::new(
                        d,
                        n,
                        p(case, "initial_offset"),
                        Some(p(case, "transition_duration")),
                        curve(c),
                    )
                })
                .collect();
            (0..n)
                .flat_map(|i| ramps.iter().map(move |r| r.alpha(i) as f32))
                .collect()
        }
        other => panic!("{}: no helper {other}", case.id),
    }
}

#[test]
fn golden_helper_curves() {
    let m = Manifest::load().unwrap();
    let helpers: Vec<&Case> = m.cases.iter().filter(|c| c.kind == "helper").collect();
    for c in &helpers {
        assert!(
            HELPER_CASES.contains(&c.id.as_str()),
            "helper case {} is not covered by this test",
            c.id
        );
    }
    let mut table = Table::new(&[
        "case",
        "channels",
        "frames",
        "max abs err",
        "SNR dB",
        "status",
    ]);
    let mut failures = Vec::new();
    for id in HELPER_CASES {
        let case = m
            .case(id)
            .unwrap_or_else(|| panic!("{id} missing from the manifest"));
        let reference = case.read_audio(&m.dir).unwrap();
        let ours = render(case);
        let frames = ours.len() / case.channels;
        let mut status = "ok".to_owned();
        if frames as u64 != case.frames {
            status = format!("FAIL frames {frames} vs {}", case.frames);
            failures.push(format!("{id}: {status}"));
        }
        let d = compare(&ours, &reference);
        if status == "ok" && !(d.max_abs <= HELPER_MAX_ABS && d.non_finite == 0) {
            status = "FAIL".into();
            failures.push(format!(
                "{id}: max |Δ| {:.3e} at frame {} channel {}",
                d.max_abs,
                d.max_at / case.channels,
                d.max_at % case.channels
            ));
        }
        table.row(vec![
            id.to_string(),
            case.channels.to_string(),
            frames.to_string(),
            format!("{:.3e}", d.max_abs),
            fmt_snr(d.snr_db),
            status,
        ]);
    }
    let md = format!(
        "# Golden helper curves\n\nTolerance: max abs err ≤ {HELPER_MAX_ABS:e}.\n\n{}",
        table.to_markdown()
    );
    println!("{md}");
    let path = write_report(env!("CARGO_TARGET_TMPDIR"), "golden_helpers.md", &md).unwrap();
    println!("report written to {}", path.display());
    assert!(
        failures.is_empty(),
        "failing cases:\n{}",
        failures.join("\n")
    );
}
