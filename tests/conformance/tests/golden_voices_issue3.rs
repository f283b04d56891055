//! Golden voices of issue 3: every manifest case of `monaural_beat_stereo_amps`,
//! `qam_beat`, `hybrid_qam_monaural_beat`, `rhythmic_waveshaping`,
//! `stereo_am_independent`, `wave_shape_stereo_am` and
//! `spatial_angle_modulation_monaural_beat` (static and `_transition`), rendered raw (no
//! envelope, no click guard) through the engine's voice slot — so the qam/hybrid output
//! filters run in their zero-phase stages — and compared sample by sample.
//!
//! Tolerances (VOICES.md §17.7, reference README):
//! * exact voices: max |Δ| ≤ 1e-4 and SNR ≥ 90 dB over the whole render;
//! * filtered voices (`qam_beat*`, `hybrid_qam_monaural_beat*`): max |Δ| ≤ 1e-3 away from
//!   the first and last 100 ms and per-channel RMS within 0.01 dB; the whole render,
//!   edges included, is also compared and must reach max |Δ| ≤ [`FILTERED_FULL_MAX_ABS`]
//!   (the zero-phase stage reproduces SciPy's `sosfiltfilt` edge handling).
//!
//! `qam_beat_transition` cases whose `source` is the unregistered sibling module
//! `qam_beat_transition.py` ramp `α = i/(N-1)` over the whole step and ignore the
//! timing keys; the engine implements the curve-aware transition, so those cases are
//! rendered with the equivalent timing `initial_offset = 0`,
//! `transition_duration = D - D/N`, linear (a test-only construction). The "patched"
//! cases use the engine's behaviour as parsed.
//!
//! Run with `--nocapture` to see the table; it is also written to
//! `target/conformance/golden_voices_issue3.md`.

use entrain_conformance::{
    case_voice, compare, fmt_snr, raw, render_voice, write_report, Case, Manifest, SlotRig, Table,
    VOICE_MAX_ABS, VOICE_MIN_SNR_DB,
};
use entrain_dsp::ramp::Curve;
use entrain_dsp::Frame;
use entrain_engine::model::{TransitionSpec, VoiceSpec};
use entrain_engine::voices::{StepClock, Voice};

/// The functions of issue 3 (both variants).
const FUNCTIONS: &[&str] = &[
    "monaural_beat_stereo_amps",
    "monaural_beat_stereo_amps_transition",
    "qam_beat",
    "qam_beat_transition",
    "hybrid_qam_monaural_beat",
    "hybrid_qam_monaural_beat_transition",
    "rhythmic_waveshaping",
    "rhythmic_waveshaping_transition",
    "stereo_am_independent",
    "stereo_am_independent_transition",
    "wave_shape_stereo_am",
    "wave_shape_stereo_am_transition",
    "spatial_angle_modulation_monaural_beat",
    "spatial_angle_modulation_monaural_beat_transition",
];

/// Filtered voices: largest |Δ| away from the edges (VOICES.md §17.7).
const FILTERED_MAX_ABS: f64 = 1e-3;
/// Filtered voices: largest |Δ| over the whole render, edges included.
const FILTERED_FULL_MAX_ABS: f64 = 1e-3;
/// Filtered voices: largest per-channel RMS difference, dB.
const FILTERED_RMS_DB: f64 = 0.01;
/// Edge excluded from the interior comparison of filtered voices, s.
const EDGE_S: f64 = 0.1;

/// Block size of the renders (any block size gives the same bits, checked below).
const BLOCK: usize = 480;

fn is_filtered(function: &str) -> bool {
    function.starts_with("qam_beat") || function.starts_with("hybrid_qam_monaural_beat")
}

/// The sibling module's qam transition (`α = i/(N-1)`, timing keys ignored).
fn is_sibling(case: &Case) -> bool {
    let source = case
        .raw
        .get("source")
        .and_then(|s| s.as_str())
        .unwrap_or("");
    case.function == "qam_beat_transition" && source.contains("qam_beat_transition.py")
}

/// The spec and clock to render for `case` (see the module notes for sibling cases).
fn case_spec(case: &Case) -> Result<(VoiceSpec, StepClock), String> {
    let (mut spec, clock) = case_voice(case).map_err(|e| e.to_string())?;
    if is_sibling(case) {
        // α = t_i/(D - D/N) = i/(N-1): the sibling's ramp over the whole step.
        spec.transition = Some(TransitionSpec {
            initial_offset: 0.0,
            duration: Some(clock.duration - clock.dt),
            curve: Curve::Linear,
        });
    }
    Ok((raw(&spec), clock))
}

fn rms_db(x: &[f32], ch: usize) -> f64 {
    let (mut s, mut n) = (0.0f64, 0usize);
    for f in x.chunks_exact(2) {
        s += (f[ch] as f64) * (f[ch] as f64);
        n += 1;
    }
    10.0 * (s / n.max(1) as f64).max(1e-300).log10()
}

struct Row {
    id: String,
    max_abs: f64,
    snr_db: f64,
    interior_max: Option<f64>,
    rms_delta_db: Option<f64>,
    problem: Option<String>,
}

fn run_case(m: &Manifest, case: &Case) -> Row {
    let mut row = Row {
        id: case.id.clone(),
        max_abs: f64::NAN,
        snr_db: f64::NAN,
        interior_max: None,
        rms_delta_db: None,
        problem: None,
    };
    let (spec, clock) = match case_spec(case) {
        Ok(v) => v,
        Err(e) => {
            row.problem = Some(format!("parse: {e}"));
            return row;
        }
    };
    if clock.n != case.frames || case.channels != 2 || case.output_sample_rate != case.sample_rate {
        row.problem = Some(format!(
            "shape: engine {} frames vs reference {} × {} ch at {} Hz",
            clock.n, case.frames, case.channels, case.output_sample_rate
        ));
        return row;
    }
    let reference = match case.read_audio(&m.dir) {
        Ok(r) => r,
        Err(e) => {
            row.problem = Some(e.to_string());
            return row;
        }
    };
    let out = render_voice(&spec, clock, BLOCK);
    let flat = out.as_flattened();
    let full = compare(flat, &reference);
    row.max_abs = full.max_abs;
    row.snr_db = full.snr_db;
    if full.non_finite > 0 {
        row.problem = Some(format!("{} non-finite samples", full.non_finite));
        return row;
    }
    if is_filtered(&case.function) {
        let edge = (EDGE_S * case.sample_rate as f64) as usize * 2;
        let n = flat.len();
        let interior = if n > 2 * edge {
            compare(&flat[edge..n - edge], &reference[edge..n - edge]).max_abs
        } else {
            full.max_abs
        };
        let rms = (0..2)
            .map(|c| (rms_db(flat, c) - rms_db(&reference, c)).abs())
            .fold(0.0, f64::max);
        row.interior_max = Some(interior);
        row.rms_delta_db = Some(rms);
        if interior > FILTERED_MAX_ABS
            || rms > FILTERED_RMS_DB
            || full.max_abs > FILTERED_FULL_MAX_ABS
        {
            row.problem = Some(format!(
                "filtered: interior max {interior:.3e} (≤ {FILTERED_MAX_ABS:e}), full max {:.3e} \
                 (≤ {FILTERED_FULL_MAX_ABS:e}), RMS Δ {rms:.4} dB (≤ {FILTERED_RMS_DB})",
                full.max_abs
            ));
        }
    } else if !full.within(VOICE_MAX_ABS, VOICE_MIN_SNR_DB) {
        row.problem = Some(format!(
            "max |Δ| {:.3e} at frame {} ch {}, SNR {} dB (allowed ≤ {:e}, ≥ {} dB)",
            full.max_abs,
            full.max_at / 2,
            full.max_at % 2,
            fmt_snr(full.snr_db),
            VOICE_MAX_ABS,
            VOICE_MIN_SNR_DB
        ));
    }
    row
}

#[test]
fn issue3_voices_match_the_reference() {
    let m = Manifest::load().expect("reference manifest");
    let cases: Vec<&Case> = m.cases_of(FUNCTIONS).collect();
    assert!(!cases.is_empty(), "no issue-3 cases in the manifest");
    for f in FUNCTIONS {
        assert!(
            cases.iter().any(|c| c.function == *f),
            "the manifest has no case of {f}"
        );
    }
    let mut table = Table::new(&[
        "case",
        "max |Δ|",
        "SNR dB",
        "interior max |Δ|",
        "RMS Δ dB",
        "result",
    ]);
    let mut failures = Vec::new();
    for case in &cases {
        let r = run_case(&m, case);
        table.row(vec![
            r.id.clone(),
            format!("{:.3e}", r.max_abs),
            fmt_snr(r.snr_db),
            r.interior_max.map_or("-".into(), |x| format!("{x:.3e}")),
            r.rms_delta_db.map_or("-".into(), |x| format!("{x:.5}")),
            if r.problem.is_some() { "FAIL" } else { "ok" }.into(),
        ]);
        if let Some(p) = r.problem {
            failures.push(format!("{}: {p}", r.id));
        }
    }
    let md = table.to_markdown();
    println!("{md}");
    if let Ok(path) = write_report(env!("CARGO_TARGET_TMPDIR"), "golden_voices_issue3.md", &md) {
        println!("written to {}", path.display());
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn bits(x: &[Frame]) -> Vec<[u32; 2]> {
    x.iter().map(|f| [f[0].to_bits(), f[1].to_bits()]).collect()
}

/// Per function: block sizes 1, 7, 64 and 480 give the same bits (filters included),
/// a re-positioned slot reproduces, and the output is finite and within the voice's
/// `peak_bound`.
#[test]
fn issue3_voices_are_block_independent_reproducible_and_bounded() {
    let m = Manifest::load().expect("reference manifest");
    for f in FUNCTIONS {
        // the case with the most parameters set: the last one of each function
        let one = [*f];
        let Some(case) = m.cases_of(&one).last() else {
            panic!("no case of {f}")
        };
        let (spec, clock) = case_spec(case).expect("parse");
        let n = clock.n as usize;
        let reference = render_voice(&spec, clock, 1);
        for block in [7usize, 64, 480] {
            let got = render_voice(&spec, clock, block);
            assert!(bits(&got) == bits(&reference), "{}: block {block}", case.id);
        }
        let mut rig = SlotRig::new(&spec, clock);
        let _ = rig.render(n / 3, 64);
        rig.seek(0);
        assert!(
            bits(&rig.render(n, 64)) == bits(&reference),
            "{}: seek(0) does not reproduce",
            case.id
        );
        let bound = Voice::peak_bound(&spec) as f32;
        for fr in &reference {
            assert!(
                fr[0].is_finite() && fr[1].is_finite(),
                "{}: non-finite",
                case.id
            );
            assert!(
                fr[0].abs() <= bound && fr[1].abs() <= bound,
                "{}: {fr:?} above the peak bound {bound}",
                case.id
            );
        }
    }
}
