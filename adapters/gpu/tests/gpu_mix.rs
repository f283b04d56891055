//! GPU mixing (issue 9) against the CPU.
//!
//! * `gpu_mix_equals_cpu_on_shared_tracks` (needs a Vulkan adapter; `#[ignore]`d in plain
//!   `cargo test`, run by `scripts/test.sh --only gpu` on Mesa's lavapipe): every shared
//!   track, the bundled demo and a loud inline track, first [`HEAD_S`] seconds, streaming
//!   mode and (up to [`COMPATIBLE_MAX_S`]) compatible mode: the GPU render equals
//!   `Engine::render` within [`TOLERANCE`]; the table (max |Δ|, samples that differ) is
//!   printed and written to `target/gpu-tests/gpu_mix.md`.
//! * `fallback_without_adapter_renders_the_cpu_bits` (always runs): a mixer asked for a
//!   GPU with no backend falls back with a one-line notice and renders exactly
//!   `Engine::render`.

#![allow(clippy::unwrap_used)]

use entrain_dsp::Frame;
use entrain_engine::engine::{Config, Mode};
use entrain_gpu::{GpuOptions, MixerChoice, StagedRenderer, TOLERANCE};
use entrain_host::{build_engine, load_track_file, load_track_str, HostEngine, LoadedTrack};
use std::fmt::Write as _;
use std::path::PathBuf;

/// Seconds compared per track and mode.
const HEAD_S: f64 = 10.0;
/// Compatible mode analyses the whole track first; longer tracks run in streaming only.
const COMPATIBLE_MAX_S: f64 = 92.0;

/// Loud voices (steps divided by their peak in compatible mode) and short phase-aligned
/// equal-power crossfades: every branch of the shader within 6 s.
const LOUD_CROSSFADES: &str = r#"{
  "global": {"sample_rate": 44100, "crossfade_duration": 0.5, "crossfade_curve": "equal_power"},
  "progression": [
    {"duration": 2.0, "voices": [
      {"synth_function_name": "binaural_beat", "params": {"ampL": 0.7, "ampR": 0.7, "baseFreq": 200.0, "beatFreq": 7.0}},
      {"synth_function_name": "isochronic_tone", "params": {"ampL": 0.6, "ampR": 0.6, "baseFreq": 310.0, "beatFreq": 7.0}}]},
    {"duration": 2.0, "voices": [
      {"synth_function_name": "binaural_beat", "params": {"ampL": 0.8, "ampR": 0.8, "baseFreq": 230.0, "beatFreq": 9.0}},
      {"synth_function_name": "binaural_beat", "params": {"ampL": 0.5, "ampR": 0.5, "baseFreq": 120.0, "beatFreq": 3.0}}]},
    {"duration": 2.0, "voices": [
      {"synth_function_name": "isochronic_tone", "params": {"ampL": 0.9, "ampR": 0.9, "baseFreq": 260.0, "beatFreq": 11.0}},
      {"synth_function_name": "binaural_beat", "params": {"ampL": 0.4, "ampR": 0.4, "baseFreq": 150.0, "beatFreq": 5.0}}]}
  ]
}"#;

fn shared_tracks_dir() -> PathBuf {
    match std::env::var_os("ENTRAIN_SHARED_TRACKS") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/tracks"
        )),
    }
}

fn tracks() -> Vec<(String, LoadedTrack)> {
    let mut files: Vec<_> = std::fs::read_dir(shared_tracks_dir())
        .unwrap_or_else(|e| panic!("{}: {e}", shared_tracks_dir().display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut out = vec![
        (
            "demo".to_owned(),
            load_track_str(entrain_host::DEMO_TRACK).unwrap(),
        ),
        (
            "loud_crossfades (inline)".to_owned(),
            load_track_str(LOUD_CROSSFADES).unwrap(),
        ),
    ];
    for p in files {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        out.push((
            name.clone(),
            load_track_file(&p).unwrap_or_else(|e| panic!("{name}: {e}")),
        ));
    }
    out
}

fn engine(t: &LoadedTrack, mode: Mode) -> HostEngine {
    build_engine(
        t,
        Config {
            mode,
            ..Config::default()
        },
        &mut |_| {},
    )
    .unwrap()
}

fn render_cpu(e: &mut HostEngine, frames: usize) -> Vec<Frame> {
    e.seek(0);
    let mut out = vec![[0.0f32; 2]; frames];
    for c in out.chunks_mut(4096) {
        e.render(c);
    }
    out
}

fn render_with(r: &mut StagedRenderer, e: &mut HostEngine, frames: usize) -> Vec<Frame> {
    e.seek(0);
    let mut out = vec![[0.0f32; 2]; frames];
    for c in out.chunks_mut(4096) {
        r.render(e, c);
    }
    out
}

/// (max |Δ|, samples that differ in any bit).
fn diff(a: &[Frame], b: &[Frame]) -> (f32, usize) {
    let mut max = 0.0f32;
    let mut n = 0;
    for (x, y) in a.iter().zip(b) {
        for c in 0..2 {
            if x[c].to_bits() != y[c].to_bits() {
                n += 1;
                max = max.max((x[c] - y[c]).abs());
            }
        }
    }
    (max, n)
}

#[test]
#[ignore = "needs a Vulkan adapter (Mesa lavapipe: apt mesa-vulkan-drivers); run by scripts/test.sh --only gpu"]
fn gpu_mix_equals_cpu_on_shared_tracks() {
    let mut report = String::new();
    let mut adapter = String::new();
    let mut worst = 0.0f32;
    let mut differing = 0usize;
    let mut total = 0usize;
    writeln!(
        report,
        "| track | mode | frames | max abs diff | samples differing |"
    )
    .unwrap();
    writeln!(report, "| --- | --- | --- | --- | --- |").unwrap();
    for (name, t) in tracks() {
        let secs = {
            let e = engine(&t, Mode::Streaming);
            e.total_frames() as f64 / e.sample_rate() as f64
        };
        let mut modes = vec![Mode::Streaming];
        if secs <= COMPATIBLE_MAX_S {
            modes.push(Mode::Compatible);
        }
        for mode in modes {
            let mut e = engine(&t, mode);
            let n = ((HEAD_S * e.sample_rate() as f64) as u64).min(e.total_frames()) as usize;
            let want = render_cpu(&mut e, n);
            let mut r = StagedRenderer::new(&mut e, MixerChoice::Gpu(GpuOptions::default()));
            assert!(
                r.on_gpu(),
                "no GPU adapter: {} (install mesa-vulkan-drivers)",
                r.notice().unwrap_or("?")
            );
            adapter = r.adapter().unwrap_or("?").to_owned();
            let got = render_with(&mut r, &mut e, n);
            assert!(r.on_gpu(), "{name}: fell back mid-render: {:?}", r.notice());
            let (max, count) = diff(&got, &want);
            writeln!(report, "| {name} | {mode:?} | {n} | {max:e} | {count} |").unwrap();
            worst = worst.max(max);
            differing += count;
            total += 2 * n;
            assert!(
                max <= TOLERANCE,
                "{name} {mode:?}: GPU differs from the CPU by {max:e} > {TOLERANCE:e}"
            );
        }
    }
    writeln!(
        report,
        "\nadapter: {adapter}; {total} samples, {differing} differ, largest |Δ| {worst:e} (tolerance {TOLERANCE:e})"
    )
    .unwrap();
    println!("{report}");
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../target/gpu-tests"
    ));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("gpu_mix.md"), &report).unwrap();
}

#[test]
fn fallback_without_adapter_renders_the_cpu_bits() {
    let t = load_track_str(LOUD_CROSSFADES).unwrap();
    for mode in [Mode::Streaming, Mode::Compatible] {
        let mut e = engine(&t, mode);
        let n = e.total_frames() as usize;
        let want = render_cpu(&mut e, n);
        let mut r = StagedRenderer::new(&mut e, MixerChoice::Gpu(GpuOptions::no_adapter()));
        assert!(!r.on_gpu());
        let notice = r.notice().expect("a notice when falling back").to_owned();
        assert!(!notice.contains('\n'), "one line: {notice}");
        assert!(notice.contains("mixing on the CPU"), "{notice}");
        let got = render_with(&mut r, &mut e, n);
        assert_eq!(diff(&got, &want), (0.0, 0), "{mode:?}");
    }
}

#[test]
fn cpu_choice_renders_the_cpu_bits_without_notice() {
    let t = load_track_str(entrain_host::DEMO_TRACK).unwrap();
    let mut e = engine(&t, Mode::Streaming);
    let n = 5 * 44_100;
    let want = render_cpu(&mut e, n);
    let mut r = StagedRenderer::new(&mut e, MixerChoice::Cpu);
    assert!(!r.on_gpu() && r.notice().is_none());
    let got = render_with(&mut r, &mut e, n);
    assert_eq!(diff(&got, &want), (0.0, 0));
}
