//! Golden voices: every `binaural_beat(_transition)` and `isochronic_tone(_transition)`
//! case of the reference manifest, rendered raw (no envelope, no 10 ms click guard — what
//! the reference voice files hold) and compared sample by sample.
//!
//! Tolerance: VOICES.md §17.7, "exact voices, f64 engine": max |Δ| ≤ 1e-4 and, from the
//! reference README, SNR ≥ 90 dB. Frames are checked first (`int(D·SR)`, truncated).
//!
//! Cases the engine cannot render yet would be listed in [`KNOWN_UNIMPLEMENTED`] with the
//! reason (the main test prints a SKIP line for each); the list is empty since the
//! per-voice spatializer (VOICES.md §15) exists. [`spatializer_cases`] prints the two
//! spatializer cases on their own (VOICES.md §17.7: ≤ 1e-3; the main table holds them to
//! the exact-voice tolerance, which they meet).
//!
//! Run with `--nocapture` to see the table; it is also written to
//! `target/conformance/golden_voices.md`.

// Test code: a failed unwrap is a test failure with its location (helpers outside
// #[test] functions are not covered by clippy.toml's allow-unwrap-in-tests).
#![allow(clippy::unwrap_used)]

use entrain_conformance::{
    case_voice, compare, fmt_snr, raw, render_voice, write_report, Case, Diff, Manifest, Table,
    RAW_VOICE_FUNCTIONS, VOICE_MAX_ABS, VOICE_MIN_SNR_DB,
};

/// Cases of [`RAW_VOICE_FUNCTIONS`] that are known not to match yet, with the reason.
const KNOWN_UNIMPLEMENTED: &[(&str, &str)] = &[];

/// The spatializer tolerance of VOICES.md §17.7.
const SPATIAL_MAX_ABS: f64 = 1e-3;

/// Block size of the renders (it must not matter: see invariants.rs; 480 is a common
/// host block).
const BLOCK: usize = 480;

struct Outcome {
    frames: u64,
    diff: Option<Diff>,
    problem: Option<String>,
}

fn run_case(m: &Manifest, case: &Case) -> Outcome {
    let fail = |frames, msg: String| Outcome {
        frames,
        diff: None,
        problem: Some(msg),
    };
    let (spec, clock) = match case_voice(case) {
        Ok(v) => v,
        Err(e) => return fail(0, format!("parse: {e}")),
    };
    if clock.n != case.frames {
        return fail(
            clock.n,
            format!("frames: engine {} vs reference {}", clock.n, case.frames),
        );
    }
    if case.channels != 2 || case.output_sample_rate != case.sample_rate {
        return fail(
            clock.n,
            "reference is not stereo at the requested rate".into(),
        );
    }
    let reference = match case.read_audio(&m.dir) {
        Ok(r) => r,
        Err(e) => return fail(clock.n, e.to_string()),
    };
    let out = render_voice(&raw(&spec), clock, BLOCK);
    let diff = compare(out.as_flattened(), &reference);
    let problem = (!diff.within(VOICE_MAX_ABS, VOICE_MIN_SNR_DB)).then(|| {
        format!(
            "max |Δ| {:.3e} at frame {} ch {}, SNR {} dB, {} non-finite (allowed ≤ {:e}, ≥ {} dB)",
            diff.max_abs,
            diff.max_at / 2,
            diff.max_at % 2,
            fmt_snr(diff.snr_db),
            diff.non_finite,
            VOICE_MAX_ABS,
            VOICE_MIN_SNR_DB
        )
    });
    Outcome {
        frames: clock.n,
        diff: Some(diff),
        problem,
    }
}

fn row(table: &mut Table, case: &Case, o: &Outcome, status: &str) {
    let (max, snr) = match &o.diff {
        Some(d) => (format!("{:.3e}", d.max_abs), fmt_snr(d.snr_db)),
        None => ("-".into(), "-".into()),
    };
    table.row(vec![
        case.id.clone(),
        case.sample_rate.to_string(),
        o.frames.to_string(),
        max,
        snr,
        status.to_owned(),
    ]);
}

fn known(id: &str) -> Option<&'static str> {
    KNOWN_UNIMPLEMENTED
        .iter()
        .find(|(k, _)| *k == id)
        .map(|(_, r)| *r)
}

#[test]
fn known_unimplemented_list_is_current() {
    let m = Manifest::load().unwrap();
    for (id, _) in KNOWN_UNIMPLEMENTED {
        let c = m
            .case(id)
            .unwrap_or_else(|| panic!("{id} is listed as unimplemented but not in the manifest"));
        assert!(RAW_VOICE_FUNCTIONS.contains(&c.function.as_str()));
    }
}

#[test]
fn golden_binaural_and_isochronic() {
    let m = Manifest::load().unwrap();
    let mut table = Table::new(&["case", "sr", "frames", "max abs err", "SNR dB", "status"]);
    let mut failures = Vec::new();
    let mut skipped = Vec::new();
    let mut compared = 0;
    for case in m.cases_of(RAW_VOICE_FUNCTIONS) {
        if let Some(reason) = known(&case.id) {
            println!("SKIP {}: {reason}", case.id);
            skipped.push(format!("- SKIP `{}`: {reason}", case.id));
            let o = Outcome {
                frames: case.frames,
                diff: None,
                problem: None,
            };
            row(&mut table, case, &o, "SKIP (known unimplemented)");
            continue;
        }
        let o = run_case(&m, case);
        compared += 1;
        match &o.problem {
            None => row(&mut table, case, &o, "ok"),
            Some(p) => {
                row(&mut table, case, &o, "FAIL");
                failures.push(format!("{}: {p}", case.id));
            }
        }
    }
    let md = format!(
        "# Golden voices (raw, no click guard)\n\nTolerance: max |Δ| ≤ {VOICE_MAX_ABS:e}, SNR ≥ {VOICE_MIN_SNR_DB} dB.\n\n{}\n{}\n",
        table.to_markdown(),
        skipped.join("\n")
    );
    println!("{md}");
    let path = write_report(env!("CARGO_TARGET_TMPDIR"), "golden_voices.md", &md).unwrap();
    println!("report written to {}", path.display());
    // The manifest has 15 comparable cases today (13 plus the two spatializer cases); a
    // shrinking count means cases were lost.
    assert!(compared >= 15, "only {compared} cases compared");
    assert!(
        failures.is_empty(),
        "failing cases:\n{}",
        failures.join("\n")
    );
}

/// The spatializer cases (`spatialEnable`), compared against the spatializer tolerance of
/// VOICES.md §17.7 (max |Δ| ≤ 1e-3): the ITD head model with the default defective
/// "Lagrange3" read, and the FOA cardioid decoder with its ITD/ILD stage.
#[test]
fn spatializer_cases() {
    let m = Manifest::load().unwrap();
    let mut failures = Vec::new();
    let mut seen = 0;
    for case in m.cases_of(RAW_VOICE_FUNCTIONS) {
        if !case.param_flag("spatialEnable") {
            continue;
        }
        seen += 1;
        let o = run_case(&m, case);
        match &o.diff {
            Some(d) => {
                println!(
                    "{}: frames {} max |Δ| {:.3e} SNR {}",
                    case.id,
                    o.frames,
                    d.max_abs,
                    fmt_snr(d.snr_db)
                );
                if d.max_abs > SPATIAL_MAX_ABS || d.non_finite > 0 {
                    failures.push(format!("{}: max |Δ| {:.3e}", case.id, d.max_abs));
                }
            }
            None => failures.push(format!("{}: {:?}", case.id, o.problem)),
        }
    }
    assert!(seen >= 2, "only {seen} spatializer cases in the manifest");
    assert!(
        failures.is_empty(),
        "failing cases:\n{}",
        failures.join("\n")
    );
}
