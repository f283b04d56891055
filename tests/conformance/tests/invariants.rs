//! Whole-render invariants (STYLE.md §3, §8), no reference data needed:
//!
//! * (a) block-size independence: the shared example tracks that the engine can render
//!   (binaural and isochronic voices only) and the bundled demo give the same FNV-1a hash
//!   with blocks of 1, 7, 64, 480 and 4096 frames, in streaming and compatible mode;
//! * (b) reset reproduces: a voice slot built twice (or reset, or sought back to 0)
//!   renders the same bits; the block path equals the per-sample path;
//! * (c) output is finite and bounded: streaming output never exceeds the limiter
//!   ceiling, compatible output peaks at the target level;
//! * (d) seek: positioning a voice at sample `i` equals rendering from 0 and dropping
//!   `i` frames — bit for bit for static voices without vibrato, within 1e-4 otherwise
//!   (closed-form vibrato integral and transition state; measured maxima are printed);
//! * (e) edge cases of the format: a zero-length step is skipped, NaN is rejected with a
//!   located error naming the key;
//! * (f) compatible mode's global peak derived from the step peaks (no third pass) equals
//!   the one the render pass measures, bit for bit;
//! * (g) a voice mixed straight into the engine's sum (`VoiceSlot::mix_into`) gives the
//!   bits of its buffer summed into it.
//!
//! Tables are printed (`--nocapture`) and written to `target/conformance/invariants_*.md`.

// Test code: a failed unwrap is a test failure with its location (helpers outside
// #[test] functions are not covered by clippy.toml's allow-unwrap-in-tests).
#![allow(clippy::unwrap_used)]

use entrain_conformance::{
    build_engine, case_voice, default_windows, fmt_snr, hash_frames, raw, render_block_sizes,
    render_frames, render_voice, renders_voices_only, shared_tracks_dir, voice_from_json,
    write_report, Manifest, SlotRig, Table, Window, BLOCK_SIZES, RAW_VOICE_FUNCTIONS,
};
use entrain_dsp::Frame;
use entrain_engine::engine::{Mode, LIMITER_CEILING};
use entrain_engine::model::{EnvelopeSpec, Track, VoiceParams, VoiceSpec};
use entrain_engine::voices::{StepClock, Voice};
use entrain_format::{ErrorKind, WarningKind};
use entrain_host::{load_track_file, load_track_str, DEMO_TRACK};
use std::sync::Arc;

/// Seconds rendered from the start of each track (with every block size and mode; 10 s
/// rather than 20 keeps the file within its time budget with block size 1).
const HEAD_S: f64 = 10.0;
/// Seconds on both sides of the first crossfade window.
const XFADE_MARGIN_S: f64 = 0.5;
/// Windows starting later than this are left out (with a printed reason): positioning a
/// voice inside a long transition costs O(position), see the report of
/// `engine_seek_cost`.
const MAX_WINDOW_START_S: f64 = 300.0;
/// Compatible mode analyses the whole track before the first sample (one or two renders
/// of it); other shared tracks longer than this are checked in streaming mode only, with a
/// printed reason (the time budget of this file is ~30 s).
const COMPATIBLE_MAX_S: f64 = 100.0;
/// Shared tracks with a test of their own (always checked in both modes).
const REQUIRED: &[&str] = &["isochronic_focus.json", "focus_alpha.json"];
/// Voices with vibrato or transitions: largest |Δ| allowed between seek and render.
const SEEK_MAX_ABS: f64 = 1e-4;

/// Every track of the shared folder that parses and has only binaural/isochronic voices,
/// and the reasons the others are left out.
fn shared_tracks() -> (Vec<(String, Arc<Track>)>, Vec<String>) {
    let mut tracks = Vec::new();
    let mut skipped = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(shared_tracks_dir())
        .unwrap_or_else(|e| panic!("{}: {e}", shared_tracks_dir().display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        match load_track_file(&path) {
            Err(e) => skipped.push(format!("- SKIP `{name}`: does not parse: {e}")),
            Ok(t) if !renders_voices_only(&t.track) => skipped.push(format!(
                "- SKIP `{name}`: has voices other than binaural/isochronic (outside this test, see the unit tests of each voice)"
            )),
            Ok(t) => tracks.push((name, t.track)),
        }
    }
    (tracks, skipped)
}

fn shared_track(name: &str) -> Arc<Track> {
    let (tracks, skipped) = shared_tracks();
    match tracks.into_iter().find(|(n, _)| n == name) {
        Some((_, t)) => t,
        None => panic!("{name} must be checked but was left out: {skipped:?}"),
    }
}

// ---- (a) + (c): block-size independence and bounds on real tracks -----------------------

/// Renders the windows of `track` with every block size in both modes; returns the table
/// rows, the failures and the SKIP lines (windows or modes left out, with the reason).
fn check_blocks(
    name: &str,
    track: &Arc<Track>,
    compatible_max_s: f64,
) -> (Table, Vec<String>, Vec<String>) {
    let mut table = Table::new(&[
        "track",
        "mode",
        "window",
        "peak",
        "hash (all block sizes)",
        "status",
    ]);
    let mut failures = Vec::new();
    let mut skipped = Vec::new();
    for mode in [Mode::Streaming, Mode::Compatible] {
        if mode == Mode::Compatible {
            // Decide before building: the build runs the analysis passes.
            let tl = entrain_engine::timeline::Timeline::new(&track.view()).unwrap();
            let seconds = tl.total as f64 / track.sample_rate as f64;
            if seconds > compatible_max_s {
                let why = format!(
                    "compatible mode analyses all {seconds:.0} s before rendering (> {compatible_max_s} s budget); streaming mode checked"
                );
                println!("SKIP {name} {mode:?}: {why}");
                skipped.push(format!("- SKIP `{name}` {mode:?}: {why}"));
                continue;
            }
        }
        let t0 = std::time::Instant::now();
        let mut e = build_engine(track.clone(), mode).unwrap();
        let sr = e.sample_rate() as f64;
        let mut windows = default_windows(&e, HEAD_S, XFADE_MARGIN_S);
        windows.retain(|w| {
            let late = w.start as f64 / sr > MAX_WINDOW_START_S;
            if late {
                let why = format!(
                    "window at {:.0} s left out (seeking into a long transition is O(position); > {MAX_WINDOW_START_S} s budget)",
                    w.start as f64 / sr
                );
                println!("SKIP {name} {mode:?}: {why}");
                skipped.push(format!("- SKIP `{name}` {mode:?}: {why}"));
            }
            !late
        });
        let runs = render_block_sizes(&mut e, &windows, BLOCK_SIZES);
        let bound = match mode {
            Mode::Streaming => LIMITER_CEILING,
            // Normalised to the target level; f32 rounding of x·(target/peak).
            Mode::Compatible => 0.25 * (1.0 + 1e-6),
        };
        for r in &runs {
            let mut problems = Vec::new();
            if !r.consistent() {
                problems.push(format!("hashes differ: {}", r.describe()));
            }
            if r.non_finite() > 0 {
                problems.push(format!("{} non-finite samples", r.non_finite()));
            }
            if r.peak() > bound {
                problems.push(format!("peak {} above {bound}", r.peak()));
            }
            let first = r.first().unwrap();
            if first.frames != r.window.frames || first.energy == 0.0 {
                problems.push("short or silent".into());
            }
            table.row(vec![
                name.to_owned(),
                format!("{mode:?}"),
                format!(
                    "{:.1}–{:.1} s",
                    r.window.start as f64 / sr,
                    (r.window.start + r.window.frames) as f64 / sr
                ),
                format!("{:.6}", r.peak()),
                format!("{:016x}", first.hash),
                if problems.is_empty() {
                    "ok".into()
                } else {
                    "FAIL".into()
                },
            ]);
            if !problems.is_empty() {
                failures.push(format!(
                    "{name} {mode:?} {:?}: {}",
                    r.window,
                    problems.join("; ")
                ));
            }
        }
        println!("{name} {mode:?}: {:.2} s", t0.elapsed().as_secs_f64());
    }
    (table, failures, skipped)
}

fn blocks_report(file: &str, tables: &[Table], skipped: &[String]) {
    let body: String = tables
        .iter()
        .map(Table::to_markdown)
        .collect::<Vec<_>>()
        .join("\n");
    let md = format!(
        "# Block-size independence and bounds\n\nBlock sizes {BLOCK_SIZES:?}; windows: first {HEAD_S} s and the first crossfade ± {XFADE_MARGIN_S} s. Bounds: streaming ≤ {LIMITER_CEILING}, compatible ≤ 0.25.\n\n{body}\n{}\n",
        skipped.join("\n")
    );
    println!("{md}");
    write_report(env!("CARGO_TARGET_TMPDIR"), file, &md).unwrap();
}

fn blocks_one(name: &str, report: &str, track: Arc<Track>) {
    let (table, failures, skipped) = check_blocks(name, &track, f64::INFINITY);
    blocks_report(report, &[table], &skipped);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn blocks_demo() {
    blocks_one(
        "demo",
        "invariants_blocks_demo.md",
        load_track_str(DEMO_TRACK).unwrap().track,
    );
}

#[test]
fn blocks_isochronic_focus() {
    let name = "isochronic_focus.json";
    blocks_one(
        name,
        "invariants_blocks_isochronic_focus.md",
        shared_track(name),
    );
}

#[test]
fn blocks_focus_alpha() {
    let name = "focus_alpha.json";
    blocks_one(name, "invariants_blocks_focus_alpha.md", shared_track(name));
}

/// Every other shared track the engine can render (streaming mode always; compatible
/// mode up to [`COMPATIBLE_MAX_S`]).
#[test]
fn blocks_other_shared_tracks() {
    let (tracks, mut skipped) = shared_tracks();
    let mut tables = Vec::new();
    let mut failures = Vec::new();
    for (name, track) in tracks
        .iter()
        .filter(|(n, _)| !REQUIRED.contains(&n.as_str()))
    {
        let (t, f, s) = check_blocks(name, track, COMPATIBLE_MAX_S);
        tables.push(t);
        failures.extend(f);
        skipped.extend(s);
    }
    assert!(!tables.is_empty(), "no other shared track qualifies");
    blocks_report("invariants_blocks_other.md", &tables, &skipped);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---- voices of the manifest, with a few envelopes ----------------------------------------

/// Every binaural/isochronic voice of the manifest (spatial cases included: the engine
/// renders them without the spatializer, which is all these invariants need), with its
/// id.
fn manifest_voices() -> Vec<(String, VoiceSpec, StepClock)> {
    let m = Manifest::load().unwrap();
    m.cases_of(RAW_VOICE_FUNCTIONS)
        .map(|c| {
            let (spec, clock) = case_voice(c).unwrap_or_else(|e| panic!("{}: {e}", c.id));
            (c.id.clone(), spec, clock)
        })
        .collect()
}

/// The voice with the post chains worth exercising: raw, click guard, each envelope.
fn post_chains(spec: &VoiceSpec) -> Vec<(&'static str, VoiceSpec)> {
    let with = |envelope| VoiceSpec { envelope, ..*spec };
    vec![
        ("raw", raw(spec)),
        ("click guard", with(EnvelopeSpec::None)),
        (
            "linear_fade",
            with(EnvelopeSpec::LinearFade {
                fade_duration: 0.2,
                start_amp: 0.0,
                end_amp: 1.0,
            }),
        ),
        (
            "adsr",
            with(EnvelopeSpec::Adsr {
                attack: 0.1,
                decay: 0.1,
                sustain_level: 0.7,
                release: 0.2,
            }),
        ),
        (
            "linen",
            with(EnvelopeSpec::Linen {
                attack: 0.1,
                release: 0.1,
            }),
        ),
    ]
}

// ---- (g) a voice mixed straight into the engine's sum ----------------------------------

/// `VoiceSlot::mix_into` (the engine's mix of a binaural voice with nothing after it)
/// equals `process_with` into a buffer summed into the mix, bit for bit, and
/// `VoiceSlot::mix_onto_zero` (the first voice of a step's block) equals zeroing the
/// frames and then doing that: for every manifest voice with each post chain (where a
/// chain needs a gain the slot declines and the engine takes the buffer), over a mix
/// whose frames hold +0.0, -0.0 (a sum's sign of zero depends on both terms) and
/// ordinary values, past the voice's end included. In blocks of 37 frames (not a
/// multiple of the kernels' 64-frame chunks) with a scratch too small for the kernel's
/// arrays and with the engine's 256-frame one, and in blocks of 300 (the 256-frame
/// chunks); the scratch starts full of NaN, so a kernel reading an array it did not
/// write shows.
#[test]
fn voice_mixed_into_the_sum_gives_the_bits_of_the_buffer() {
    let mut failures = Vec::new();
    let (mut mixed, mut blocks) = (0usize, 0usize);
    let cases = [
        (37, 37, false),
        (37, 256, false),
        (300, 256, false),
        (37, 256, true),
        (300, 256, true),
    ];
    for (id, spec, clock) in manifest_voices() {
        for (chain, s) in post_chains(&spec) {
            for (block, room, onto_zero) in cases {
                let n = clock.n as usize + 100;
                let bed: Vec<Frame> = (0..n)
                    .map(|k| match k % 3 {
                        0 => [0.0, -0.0],
                        1 => [-0.0, 0.0],
                        _ => [0.25 * (k % 7) as f32, -0.125],
                    })
                    .collect();
                let (mut a, mut b) = (SlotRig::new(&s, clock), SlotRig::new(&s, clock));
                let (mut via_mix, mut via_buffer) = (bed.clone(), bed.clone());
                let mut scratch = vec![[f32::NAN; 2]; room.max(block)];
                let mut tmp = vec![[0.0f32; 2]; block];
                for (o, p) in via_mix.chunks_mut(block).zip(via_buffer.chunks_mut(block)) {
                    blocks += 1;
                    let done = if onto_zero {
                        a.slot.mix_onto_zero(o, &mut scratch[..room])
                    } else {
                        a.slot.mix_into(o, &mut scratch[..room])
                    };
                    if done {
                        mixed += 1;
                    } else {
                        if onto_zero {
                            o.fill([0.0, 0.0]);
                        }
                        let t = &mut scratch[..o.len()];
                        a.slot.process_with(t, &mut a.filters, &[]);
                        sum_into(o, t);
                    }
                    if onto_zero {
                        p.fill([0.0, 0.0]);
                    }
                    let t = &mut tmp[..p.len()];
                    b.slot.process_with(t, &mut b.filters, &[]);
                    sum_into(p, t);
                }
                let bits = |v: &[Frame]| -> Vec<u32> {
                    v.iter()
                        .flat_map(|f| [f[0].to_bits(), f[1].to_bits()])
                        .collect()
                };
                if bits(&via_mix) != bits(&via_buffer) {
                    let how = if onto_zero {
                        "mix_onto_zero"
                    } else {
                        "mix_into"
                    };
                    failures.push(format!(
                        "{id} ({chain}, blocks of {block}, scratch {room}): {how} differs from the buffer"
                    ));
                }
            }
        }
    }
    println!("the direct paths took {mixed} of {blocks} blocks");
    // Raw binaural voices must take the direct path, or this test compares nothing.
    assert!(
        mixed > blocks / 10,
        "the direct paths took {mixed} of {blocks} blocks"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The engine's sum of a voice's frames into the mix.
fn sum_into(o: &mut [Frame], t: &[Frame]) {
    for (a, b) in o.iter_mut().zip(t) {
        a[0] += b[0];
        a[1] += b[1];
    }
}

// ---- (b) + (c): reset, block path, finite and bounded per voice ------------------------

#[test]
fn voice_reset_block_and_bounds() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for (id, spec, clock) in manifest_voices() {
        for (chain, s) in post_chains(&spec) {
            let n = clock.n as usize;
            let a = render_voice(&s, clock, 64);
            let b = render_voice(&s, clock, 64);
            let single = render_voice(&s, clock, 1);
            let big = render_voice(&s, clock, 4096);
            let h = hash_frames(&a);
            let mut p = Vec::new();
            if hash_frames(&b) != h {
                p.push("second build differs".to_owned());
            }
            if hash_frames(&single) != h || hash_frames(&big) != h {
                p.push("block sizes 1/64/4096 differ".into());
            }
            // Seeking back to 0 after a full render reproduces the first render.
            let mut rig = SlotRig::new(&s, clock);
            rig.render(n, 480);
            rig.seek(0);
            if hash_frames(&rig.render(n, 480)) != h {
                p.push("seek(0) after a render differs".into());
            }
            // Past the end: zeros.
            if rig.render(3, 3).iter().any(|f| *f != [0.0, 0.0]) {
                p.push("non-zero past the end".into());
            }
            // Finite and bounded by the voice's own analytic bound (the streaming headroom).
            let bound = Voice::peak_bound(&s) as f32 * (1.0 + 1e-6);
            let peak = a.as_flattened().iter().fold(0.0f32, |m, x| m.max(x.abs()));
            if a.as_flattened().iter().any(|x| !x.is_finite()) {
                p.push("non-finite output".into());
            }
            if peak > bound {
                p.push(format!("peak {peak} above peak_bound {bound}"));
            }
            if peak == 0.0 {
                p.push("silent".into());
            }
            checked += 1;
            if !p.is_empty() {
                failures.push(format!("{id} [{chain}]: {}", p.join("; ")));
            }
        }
        // The bare voice: reset() reproduces new().
        let mut v = Voice::new(&raw(&spec), clock);
        let mut first = vec![[0.0f32; 2]; clock.n as usize];
        v.process(&mut first);
        v.reset();
        let mut again = vec![[0.0f32; 2]; clock.n as usize];
        v.process(&mut again);
        if hash_frames(&first) != hash_frames(&again) {
            failures.push(format!("{id}: Voice::reset does not reproduce"));
        }
    }
    println!("reset/block/bounds: {checked} voice × post-chain combinations checked");
    assert!(checked >= 70, "only {checked} combinations");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---- (d) seek --------------------------------------------------------------------------

/// True for a static voice without vibrato (seek must be bit-exact).
fn exact_seek_expected(spec: &VoiceSpec) -> bool {
    let no_vibrato = match &spec.params {
        VoiceParams::Binaural(p) => {
            p.fm.iter()
                .all(|f| f.range.start == 0.0 && f.range.end == 0.0)
        }
        VoiceParams::Isochronic(p) => {
            p.fm.iter()
                .all(|f| f.range.start == 0.0 && f.range.end == 0.0)
        }
        _ => false,
    };
    spec.transition.is_none() && no_vibrato
}

/// Frames compared after each seek point.
const SEEK_WINDOW: u64 = 8192;

/// Largest |Δ| between "seek to i, render" and "render from 0, drop i" over
/// [`SEEK_WINDOW`] frames after each of `points`, and whether all were bit-identical.
fn seek_error(
    spec: &VoiceSpec,
    clock: StepClock,
    points: &[u64],
    reference: &[Frame],
) -> (f64, bool) {
    let mut max = 0.0f64;
    let mut bit_exact = true;
    for &i in points {
        let i = i.min(clock.n);
        let len = SEEK_WINDOW.min(clock.n - i) as usize;
        let mut rig = SlotRig::new(spec, clock);
        rig.seek(i);
        let got = rig.render(len, 4096);
        let want = &reference[i as usize..i as usize + len];
        if hash_frames(&got) != hash_frames(want) {
            bit_exact = false;
        }
        for (g, w) in got.as_flattened().iter().zip(want.as_flattened()) {
            max = max.max((*g as f64 - *w as f64).abs());
        }
    }
    (max, bit_exact)
}

#[test]
fn voice_seek_matches_render() {
    let mut cases = manifest_voices();
    // Long voices: the seek error of the vibrato integral grows with the position.
    let long: &[(&str, &str, u32, f64)] = &[
        (
            "long binaural vibrato+AM+phaseOsc 120 s (symmetric vibrato, see long_accuracy.rs)",
            r#"{"global":{"sample_rate":44100},"progression":[{"duration":120,"voices":[{"synth_function_name":"binaural_beat","params":{"baseFreq":180,"beatFreq":6.5,"ampOscDepthL":0.4,"ampOscFreqL":3,"freqOscRangeL":8,"freqOscFreqL":0.75,"freqOscRangeR":5,"freqOscFreqR":1.25,"phaseOscFreq":0.2,"phaseOscRange":0.5}}]}]}"#,
            44_100,
            120.0,
        ),
        (
            "long binaural transition with vibrato 120 s",
            r#"{"global":{"sample_rate":48000},"progression":[{"duration":120,"voices":[{"synth_function_name":"binaural_beat_transition","is_transition":true,"params":{"startBaseFreq":220,"endBaseFreq":180,"startBeatFreq":10,"endBeatFreq":4,"startFreqOscRangeL":4,"endFreqOscRangeL":8,"startFreqOscFreqL":0.5,"endFreqOscFreqL":1.0,"initial_offset":10,"transition_duration":90,"transition_curve":"exponential"}}]}]}"#,
            48_000,
            120.0,
        ),
        (
            "long isochronic vibrato 120 s",
            r#"{"global":{"sample_rate":44100},"progression":[{"duration":120,"voices":[{"synth_function_name":"isochronic_tone","params":{"baseFreq":220,"beatFreq":7,"freqOscRangeL":10,"freqOscFreqL":2,"freqOscRangeR":4,"freqOscFreqR":3.5,"freqOscSkewL":-0.3}}]}]}"#,
            44_100,
            120.0,
        ),
        (
            "long isochronic static 120 s",
            r#"{"global":{"sample_rate":44100},"progression":[{"duration":120,"voices":[{"synth_function_name":"isochronic_tone","params":{"baseFreq":220,"beatFreq":7,"ampOscDepthL":0.3,"ampOscFreqL":1.5,"phaseOscFreq":0.3,"phaseOscRange":0.4}}]}]}"#,
            44_100,
            120.0,
        ),
    ];
    for (name, json, sr, _) in long {
        let (spec, clock) = voice_from_json(json, *sr).unwrap();
        cases.push((name.to_string(), spec, clock));
    }
    let mut table = Table::new(&[
        "voice",
        "frames",
        "class",
        "max abs err",
        "bit-exact",
        "status",
    ]);
    let mut failures = Vec::new();
    let mut worst_inexact = 0.0f64;
    for (id, spec, clock) in &cases {
        let s = raw(spec);
        let n = clock.n;
        let reference = render_voice(&s, *clock, 4096);
        let points = [1, 777, n / 3, n / 2 + 13, n - 5];
        let (max, bit_exact) = seek_error(&s, *clock, &points, &reference);
        let exact = exact_seek_expected(spec);
        let ok = if exact {
            bit_exact
        } else {
            max <= SEEK_MAX_ABS
        };
        if !exact {
            worst_inexact = worst_inexact.max(max);
        }
        table.row(vec![
            id.clone(),
            n.to_string(),
            if exact {
                "static, no vibrato: bit-exact".into()
            } else {
                format!("≤ {SEEK_MAX_ABS:e}")
            },
            format!("{max:.3e}"),
            bit_exact.to_string(),
            if ok { "ok".into() } else { "FAIL".into() },
        ]);
        if !ok {
            failures.push(format!(
                "{id}: seek max |Δ| {max:.3e}, bit-exact {bit_exact}"
            ));
        }
    }
    let md = format!(
        "# Voice seek vs render-and-drop\n\nSeek points: 1, 777, N/3, N/2+13, N-5; {SEEK_WINDOW} frames compared after each. Largest error where not required bit-exact: {worst_inexact:.3e}.\n\n{}",
        table.to_markdown()
    );
    println!("{md}");
    write_report(env!("CARGO_TARGET_TMPDIR"), "invariants_seek.md", &md).unwrap();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Engine-level seek (compatible mode, no limiter state): seeking into the middle of a
/// step, and into a crossfade, gives what a continuous render gives.
#[test]
fn engine_seek_matches_render() {
    let track = load_track_str(DEMO_TRACK).unwrap().track;
    let mut e = build_engine(track, Mode::Compatible).unwrap();
    let sr = e.sample_rate() as u64;
    let p1 = e.timeline().placements[1];
    // 1 s into the first crossfade, and 10 s into step 2 (vibrato), 2 s each.
    let targets = [p1.start + sr, p1.start + p1.xfade + 10 * sr];
    let end = targets[1] + 2 * sr;
    e.seek(0);
    let continuous = render_frames(&mut e, end, 4096);
    let mut table = Table::new(&["seek to (s)", "frames", "max abs err", "SNR dB"]);
    for &t in &targets {
        e.seek(t);
        let got = render_frames(&mut e, 2 * sr, 480);
        let want = &continuous[t as usize..(t + 2 * sr) as usize];
        let d = entrain_conformance::compare(got.as_flattened(), want.as_flattened());
        table.row(vec![
            format!("{:.2}", t as f64 / sr as f64),
            (2 * sr).to_string(),
            format!("{:.3e}", d.max_abs),
            fmt_snr(d.snr_db),
        ]);
        // Compatible output is scaled to 0.25 peak, so 1e-4 of a full-scale voice is 2.5e-5.
        assert!(
            d.max_abs <= SEEK_MAX_ABS,
            "seek to {t}: max |Δ| {}",
            d.max_abs
        );
    }
    let md = format!(
        "# Engine seek (demo, compatible mode)\n\n{}",
        table.to_markdown()
    );
    println!("{md}");
    write_report(
        env!("CARGO_TARGET_TMPDIR"),
        "invariants_engine_seek.md",
        &md,
    )
    .unwrap();
}

// ---- (e) format edge cases ---------------------------------------------------------------

const STEP_A: &str = r#"{"duration": 2.0, "voices": [{"synth_function_name": "binaural_beat", "params": {"baseFreq": 200, "beatFreq": 6}}]}"#;
const STEP_B: &str = r#"{"duration": 2.0, "voices": [{"synth_function_name": "isochronic_tone", "params": {"baseFreq": 300, "beatFreq": 8}}]}"#;
const STEP_ZERO: &str = r#"{"duration": 0.0, "voices": [{"synth_function_name": "binaural_beat", "params": {"baseFreq": 500}}]}"#;

fn two_step_track(middle: &str) -> String {
    format!(
        r#"{{"global": {{"sample_rate": 44100, "crossfade_duration": 0.5}}, "progression": [{STEP_A}, {middle}{STEP_B}]}}"#
    )
}

#[test]
fn zero_duration_step_is_skipped() {
    let with_zero = load_track_str(&two_step_track(&format!("{STEP_ZERO}, "))).unwrap();
    let without = load_track_str(&two_step_track("")).unwrap();
    // Kept in the list (its index is part of every location), flagged, never placed.
    assert_eq!(with_zero.track.steps.len(), 3);
    assert!(
        with_zero
            .warnings
            .warnings
            .iter()
            .any(|w| { w.kind == WarningKind::StepSkipped && w.location.step == Some(1) }),
        "no StepSkipped warning at step 1: {:?}",
        with_zero.warnings.warnings
    );
    for mode in [Mode::Compatible, Mode::Streaming] {
        let mut a = build_engine(with_zero.track.clone(), mode).unwrap();
        let mut b = build_engine(without.track.clone(), mode).unwrap();
        // 2 + 2 - 0.5 s.
        assert_eq!(a.total_frames(), 154_350);
        assert_eq!(a.timeline().placements.len(), 2);
        assert_eq!(a.total_frames(), b.total_frames());
        let n = a.total_frames();
        let x = render_frames(&mut a, n, 480);
        let y = render_frames(&mut b, n, 480);
        assert!(x.as_flattened().iter().all(|v| v.is_finite()));
        assert!(x.as_flattened().iter().any(|v| *v != 0.0));
        assert_eq!(
            hash_frames(&x),
            hash_frames(&y),
            "{mode:?}: the zero step changed the output"
        );
    }
    // A track whose only step has duration 0 builds and renders nothing.
    let empty = load_track_str(&format!(
        r#"{{"global": {{"sample_rate": 44100}}, "progression": [{STEP_ZERO}]}}"#
    ))
    .unwrap();
    let mut e = build_engine(empty.track, Mode::Streaming).unwrap();
    let mut buf = [[1.0f32; 2]; 64];
    let written = e.render(&mut buf);
    assert_eq!(written as u64, e.total_frames().min(64));
    assert!(buf.iter().all(|f| f.iter().all(|v| v.is_finite())));
}

#[test]
fn nan_and_infinity_are_rejected_with_a_located_error() {
    let cases: &[(&str, &str)] = &[
        ("baseFreq", "NaN"),
        ("beatFreq", "Infinity"),
        ("ampL", "-Infinity"),
        ("ampOscDepthR", "NaN"),
    ];
    for (key, literal) in cases {
        let json = format!(
            "{{\"global\": {{\"sample_rate\": 44100}},\n \"progression\": [{STEP_A},\n  {{\"duration\": 1.0, \"voices\": [{{\"synth_function_name\": \"binaural_beat\",\n    \"params\": {{\"{key}\": {literal}}}}}]}}]}}"
        );
        let err = match load_track_str(&json) {
            Ok(_) => panic!("{key}: {literal} was accepted"),
            Err(e) => e,
        };
        let report = err.report().expect("a parse report");
        let e = report
            .errors
            .iter()
            .find(|e| e.location.key.as_str() == *key)
            .unwrap_or_else(|| panic!("{key}: no error located at the key: {:?}", report.errors));
        assert_eq!(e.kind, ErrorKind::NotFinite, "{key}");
        assert_eq!(e.location.step, Some(1), "{key}");
        assert_eq!(e.location.voice, Some(0), "{key}");
        assert_eq!(e.location.line, 4, "{key}: line of the value");
        let msg = err.to_string();
        assert!(
            msg.contains(key),
            "{key}: message does not name the key: {msg}"
        );
        println!("{key} = {literal}: {msg}");
    }
    // Also at the top level.
    let err = load_track_str(r#"{"global": {"sample_rate": NaN}, "progression": []}"#).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("sample_rate"), "{msg}");
}

/// `Window` is part of the harness API; make sure a hand-built one renders as the
/// default ones do (guards the helper against off-by-one window arithmetic).
#[test]
fn windows_cover_what_they_say() {
    let track = load_track_str(DEMO_TRACK).unwrap().track;
    let mut e = build_engine(track, Mode::Streaming).unwrap();
    let w = default_windows(&e, 2.0, 0.5);
    assert_eq!(
        w[0],
        Window {
            start: 0,
            frames: 88_200
        }
    );
    let p1 = e.timeline().placements[1];
    assert_eq!(w[1].start, p1.start - 22_050);
    assert_eq!(w[1].frames, p1.xfade + 44_100);
    let runs = render_block_sizes(&mut e, &w, &[64]);
    assert_eq!(runs[1].first().unwrap().frames, w[1].frames);
}

/// Measurement, not a check: how long `Engine::seek` + the first block take deep inside
/// long steps (the 60-minute benchmark track: a 20-minute binaural transition plus an
/// isochronic voice). Transition voices and isochronic voices with vibrato are positioned
/// by stepping through the samples before the target, so the cost grows with the
/// position. Run with `--ignored --nocapture`.
#[test]
#[ignore = "measurement (seconds of CPU); run explicitly with --ignored --nocapture"]
fn engine_seek_cost() {
    let path = shared_tracks_dir().join("bench_60min_theta.json");
    let track = load_track_file(&path).unwrap().track;
    let mut e = build_engine(track, Mode::Streaming).unwrap();
    let sr = e.sample_rate() as u64;
    let mut table = Table::new(&["seek to (s)", "seek + first 64 frames (ms)"]);
    for t in [0u64, 60, 600, 1189, 1800, 3000] {
        let t0 = std::time::Instant::now();
        e.seek(t * sr);
        let mut buf = [[0.0f32; 2]; 64];
        e.render(&mut buf);
        let ms = t0.elapsed().as_secs_f64() * 1e3;
        table.row(vec![t.to_string(), format!("{ms:.1}")]);
    }
    let md = format!(
        "# Engine seek cost (bench_60min_theta, streaming)\n\n{}",
        table.to_markdown()
    );
    println!("{md}");
    write_report(env!("CARGO_TARGET_TMPDIR"), "invariants_seek_cost.md", &md).unwrap();
}

/// Renders `n` frames with `process` in blocks of odd sizes.
fn in_odd_blocks(n: usize, mut process: impl FnMut(&mut [Frame])) -> Vec<Frame> {
    let mut got = vec![[0.0f32; 2]; n];
    let mut at = 0;
    for size in [1usize, 37, 480, 4093, 5, 64].iter().cycle() {
        if at >= n {
            break;
        }
        let end = (at + size).min(n);
        process(&mut got[at..end]);
        at = end;
    }
    got
}

fn same_bits(a: &[Frame], b: &[Frame]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x[0].to_bits() == y[0].to_bits() && x[1].to_bits() == y[1].to_bits())
}

fn sample_rate_of(json: &str) -> u32 {
    if json.contains("48000") {
        48_000
    } else {
        44_100
    }
}

/// `IsochronicTone::process` (constant regions in blocks) equals `next_frame` sample by
/// sample, for static voices (vibrato on and off the grid, AM, phase oscillation, pan)
/// and a transition whose ramp ends inside a block, with blocks of odd sizes.
#[test]
fn isochronic_blocks_equal_per_sample_frames() {
    use entrain_engine::voices::IsochronicTone;
    let cases = [
        r#"{"global":{"sample_rate":44100},"progression":[{"duration":3,"voices":[{"synth_function_name":"isochronic_tone","params":{"baseFreq":220,"beatFreq":8,"freqOscRangeL":4,"freqOscFreqL":0.5,"ampOscDepthR":0.5,"ampOscFreqR":2,"phaseOscFreq":0.3,"phaseOscRange":0.4,"panFreq":0.125,"panRangeMin":-1,"panRangeMax":1}}]}]}"#,
        // Vibrato off the grid (fast) and skewed on it.
        r#"{"global":{"sample_rate":44100},"progression":[{"duration":2,"voices":[{"synth_function_name":"isochronic_tone","params":{"baseFreq":300,"beatFreq":6,"freqOscRangeL":30,"freqOscFreqL":7,"freqOscRangeR":3,"freqOscFreqR":0.4,"freqOscSkewR":0.3}}]}]}"#,
        r#"{"global":{"sample_rate":48000},"progression":[{"duration":2,"voices":[{"synth_function_name":"isochronic_tone","is_transition":true,"params":{"startBaseFreq":200,"endBaseFreq":260,"startBeatFreq":6,"endBeatFreq":10,"initial_offset":0.2,"transition_duration":1.1}}]}]}"#,
        // A transition with a vibrato on the grid before and after its ramp.
        r#"{"global":{"sample_rate":44100},"progression":[{"duration":2,"voices":[{"synth_function_name":"isochronic_tone","is_transition":true,"params":{"startBaseFreq":200,"endBaseFreq":260,"startBeatFreq":6,"endBeatFreq":10,"startFreqOscRangeL":2,"endFreqOscRangeL":2,"startFreqOscFreqL":0.7,"endFreqOscFreqL":0.7,"initial_offset":0.3,"transition_duration":0.9}}]}]}"#,
    ];
    for json in cases {
        let (spec, clock) = voice_from_json(json, sample_rate_of(json)).unwrap();
        let VoiceParams::Isochronic(p) = spec.params else {
            panic!("not isochronic")
        };
        let mut a = IsochronicTone::new(&p, spec.transition.as_ref(), clock);
        let mut b = a.clone();
        let n = clock.n as usize;
        let want: Vec<Frame> = (0..n).map(|_| a.next_frame()).collect();
        let got = in_odd_blocks(n, |o| b.process(o));
        assert!(same_bits(&want, &got), "{json}");
    }
}

/// `BinauralBeat::process` (constant regions in blocks, ears computed once when they are
/// twins) equals `next_frame` sample by sample: static voices with vibratos on and off
/// the grid (sine, skewed, triangle), AM, phase oscillation, a beat of 0 Hz with equal
/// and unequal ears, and transitions whose constant regions before and after the ramp
/// carry a vibrato on the grid, over a vibrato anchor (`ANCHOR` = 65,536 samples).
#[test]
fn binaural_blocks_equal_per_sample_frames() {
    use entrain_engine::voices::BinauralBeat;
    let cases = [
        r#"{"global":{"sample_rate":44100},"progression":[{"duration":2,"voices":[{"synth_function_name":"binaural_beat","params":{"baseFreq":200,"beatFreq":7,"freqOscRangeL":4,"freqOscFreqL":0.5,"freqOscRangeR":3,"freqOscFreqR":0.4,"freqOscSkewR":0.3,"ampOscDepthR":0.5,"ampOscFreqR":2,"phaseOscFreq":0.3,"phaseOscRange":0.4}}]}]}"#,
        r#"{"global":{"sample_rate":48000},"progression":[{"duration":2,"voices":[{"synth_function_name":"binaural_beat","params":{"baseFreq":500,"beatFreq":4,"freqOscShape":"triangle","freqOscRangeL":40,"freqOscFreqL":0.4,"freqOscRangeR":30,"freqOscFreqR":9}}]}]}"#,
        // Twins (beat 0, equal ears) and near-twins (amplitudes differ), over an anchor.
        r#"{"global":{"sample_rate":44100},"progression":[{"duration":2,"voices":[{"synth_function_name":"binaural_beat","params":{"baseFreq":958.8,"beatFreq":0,"freqOscRangeL":16,"freqOscFreqL":0.26667,"freqOscRangeR":16,"freqOscFreqR":0.26667,"ampOscDepthL":1,"ampOscFreqL":0.5333,"ampOscDepthR":1,"ampOscFreqR":0.5333}}]}]}"#,
        r#"{"global":{"sample_rate":44100},"progression":[{"duration":2,"voices":[{"synth_function_name":"binaural_beat","params":{"ampL":0.8,"ampR":0.64,"baseFreq":16,"beatFreq":0,"freqOscRangeL":1,"freqOscFreqL":1,"freqOscRangeR":1,"freqOscFreqR":1}}]}]}"#,
        // Transitions: vibrato on the grid before and after the ramp (and moving in it).
        r#"{"global":{"sample_rate":44100},"progression":[{"duration":2,"voices":[{"synth_function_name":"binaural_beat_transition","params":{"startBaseFreq":200,"endBaseFreq":300,"startBeatFreq":4,"endBeatFreq":8,"startFreqOscRangeL":3,"endFreqOscRangeL":3,"startFreqOscFreqL":0.6,"endFreqOscFreqL":0.6,"startFreqOscRangeR":2,"endFreqOscRangeR":5,"startFreqOscFreqR":0.5,"endFreqOscFreqR":0.9,"initial_offset":0.35,"transition_duration":0.8}}]}]}"#,
        r#"{"global":{"sample_rate":44100},"progression":[{"duration":2,"voices":[{"synth_function_name":"binaural_beat_transition","params":{"startBaseFreq":400,"endBaseFreq":400,"startBeatFreq":0,"endBeatFreq":0,"startFreqOscRangeL":2,"endFreqOscRangeL":2,"startFreqOscFreqL":0.3,"endFreqOscFreqL":0.3,"startFreqOscRangeR":2,"endFreqOscRangeR":2,"startFreqOscFreqR":0.3,"endFreqOscFreqR":0.3,"startAmpL":0.5,"endAmpL":0.9,"startAmpR":0.5,"endAmpR":0.9,"initial_offset":1.6,"transition_duration":0.2}}]}]}"#,
    ];
    for json in cases {
        let (spec, clock) = voice_from_json(json, sample_rate_of(json)).unwrap();
        let VoiceParams::Binaural(p) = spec.params else {
            panic!("not binaural: {json}")
        };
        let mut a = BinauralBeat::new(&p, spec.transition.as_ref(), clock);
        let mut b = a.clone();
        let n = clock.n as usize;
        assert!(n > 65_536, "the case must cross an anchor");
        let want: Vec<Frame> = (0..n).map(|_| a.next_frame()).collect();
        let got = in_odd_blocks(n, |o| b.process(o));
        assert!(same_bits(&want, &got), "{json}");
        // And the ears differ where they should (the twin path must not leak).
        let differ = want.iter().any(|f| f[0].to_bits() != f[1].to_bits());
        let twins = p.beat_freq.start == 0.0 && p.amp[0] == p.amp[1];
        assert_eq!(differ, !twins, "{json}");
    }
}

/// The compatible-mode gain of `json` and the progress values the analysis reported.
fn compatible_gain(json: &str) -> (f32, Vec<f32>) {
    let loaded = load_track_str(json).unwrap();
    let cfg = entrain_engine::engine::Config {
        mode: Mode::Compatible,
        ..Default::default()
    };
    let mut seen = Vec::new();
    let e = entrain_host::build_engine(loaded.track, cfg, &mut |p| seen.push(p)).unwrap();
    (e.output_gain(), seen)
}

/// (f) Compatible mode skips the third analysis pass (the assembled track's peak) when
/// no placements overlap and there is no crossfade, noise or clip, deriving the peak from
/// the step peaks (engine.rs `peak_from_steps`). Each track is compared with the same
/// track plus a voiceless step overlapping it, which adds exact zeros but takes the full
/// pass: the output gains must be the same bits. The progress reports show which path
/// ran (the full pass reports between a third of the way and the end).
#[test]
fn compatible_peak_shortcut_equals_the_render_pass() {
    let voice = |base: f64, amp: f64, iso: bool| {
        let f = if iso {
            "isochronic_tone"
        } else {
            "binaural_beat"
        };
        format!(
            r#"{{"synth_function_name": "{f}", "is_transition": false, "params": {{
                "ampL": {amp}, "ampR": {amp}, "baseFreq": {base}, "beatFreq": 7.0,
                "freqOscRangeL": 3.0, "freqOscFreqL": 0.7, "ampOscDepthR": 0.4,
                "ampOscFreqR": 0.3}}}}"#
        )
    };
    let loud = [voice(220.0, 0.9, false), voice(330.0, 0.7, true)].join(",");
    let quiet = [voice(110.0, 0.2, false), voice(440.0, 0.3, true)].join(",");
    let quieter = [voice(150.0, 0.1, false), voice(250.0, 0.25, true)].join(",");
    let tracks = [
        // One step below full scale (unity gain: the global peak is its own).
        format!(r#"{{"duration": 150.0, "voices": [{quiet}]}}"#),
        // Two quiet steps in sequence with different peaks.
        format!(
            r#"{{"duration": 70.0, "voices": [{quieter}]}},
               {{"duration": 80.0, "voices": [{quiet}]}}"#
        ),
        // A quiet step and one whose peak exceeds 1 (divided by it: peak 1 exactly).
        format!(
            r#"{{"duration": 70.0, "voices": [{quiet}]}},
               {{"duration": 80.0, "voices": [{loud}]}}"#
        ),
    ];
    let wrap = |steps: &str| {
        format!(
            r#"{{"global": {{"sample_rate": 8000, "crossfade_duration": 0.0}},
                "progression": [{steps}]}}"#
        )
    };
    for steps in &tracks {
        let (fast, p_fast) = compatible_gain(&wrap(steps));
        let silent = r#"{"start": 40.0, "duration": 20.0, "voices": []}"#;
        let (full, p_full) = compatible_gain(&wrap(&format!("{steps}, {silent}")));
        let late = |p: &[f32]| p.iter().filter(|&&x| x > 0.4 && x < 1.0).count();
        assert_eq!(late(&p_fast), 0, "the shortcut did not run: {p_fast:?}");
        assert!(late(&p_full) > 0, "the full pass did not run: {p_full:?}");
        println!("compatible gain {fast:e} (shortcut) vs {full:e} (render pass)");
        assert_eq!(fast.to_bits(), full.to_bits(), "{steps}");
    }
}
