//! Staged mixing (`entrain_engine::mixplan`, issue 9) reproduces `Engine::render` bit for
//! bit: for every shared track (and the bundled demo), `stage_block` → `mix_staged` →
//! `finish_block` renders the same f32 bits as `render`, in streaming mode and (tracks up
//! to [`COMPATIBLE_MAX_S`]) in compatible mode with phase-aligned crossfades, from the start
//! and from a seek just before the first crossfade window, with several buffer strides.
//! The test also checks that the tracks exercise every branch of the fold (prepared heads,
//! crossfade gains, divided and multiplied steps, several steps at once).
//!
//! This is what lets a GPU mixer be compared with the CPU on the fold alone: the CPU fold
//! is the engine.

#![allow(clippy::unwrap_used)]

use entrain_conformance::shared_tracks_dir;
use entrain_dsp::Frame;
use entrain_engine::engine::{Config, Mode, MAX_ACTIVE};
use entrain_engine::mixplan::{mix_staged, StageBuffers, StepScale};
use entrain_host::{build_engine, load_track_file, load_track_str, HostEngine, LoadedTrack};

/// Seconds compared from each starting point.
const HEAD_S: f64 = 4.0;
/// Compatible mode analyses the whole track first (about three renders of it in the test
/// profile); longer tracks run in streaming mode only. 92 s keeps the demo (89 s),
/// isochronic_focus (90 s) and crossfade_equal_power (91 s, phase-aligned heads) and leaves
/// out qam_spatial (98 s), whose analysis alone takes minutes here.
const COMPATIBLE_MAX_S: f64 = 92.0;
/// Latest seek target (s) compared.
const MAX_SEEK_S: f64 = 30.0;
/// Buffer strides (frames) and the seconds compared with each: a GPU-sized block over
/// the whole head, an odd size and a tiny one (slow) over its start.
const STRIDES: &[(usize, f64)] = &[(4096, HEAD_S), (1000, 1.0), (7, 0.25)];

/// Loud voices (a step peak above 1: divided in compatible mode, multiplied in streaming
/// mode) with short phase-aligned equal-power crossfades, so that every branch of the fold
/// is exercised within seconds.
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

#[derive(Default, Debug)]
struct Coverage {
    blocks: usize,
    prepared: usize,
    xfade: usize,
    divide: usize,
    multiply: usize,
    multi_step: usize,
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
        let t = load_track_file(&p).unwrap_or_else(|e| panic!("{name}: {e}"));
        out.push((name, t));
    }
    out
}

fn engine(t: &LoadedTrack, mode: Mode) -> HostEngine {
    let cfg = Config {
        mode,
        ..Config::default()
    };
    build_engine(t, cfg, &mut |_| {}).unwrap()
}

/// `frames` frames from `start` through `render`, in blocks of 4096.
fn reference(e: &mut HostEngine, start: u64, frames: usize) -> Vec<Frame> {
    e.seek(start);
    let mut out = vec![[0.0f32; 2]; frames];
    for c in out.chunks_mut(4096) {
        e.render(c);
    }
    out
}

/// The same through the staged path with the CPU reference fold.
fn staged(
    e: &mut HostEngine,
    start: u64,
    frames: usize,
    stride: usize,
    cov: &mut Coverage,
) -> Vec<Frame> {
    e.seek(start);
    let cap = e.stage_voice_capacity();
    let mut voices = vec![[f32::NAN; 2]; cap * stride];
    let mut gains = vec![[f32::NAN; 2]; MAX_ACTIVE * stride];
    let mut bufs = StageBuffers {
        voices: &mut voices,
        gains: &mut gains,
        stride,
    };
    let mut out = vec![[0.0f32; 2]; frames];
    let mut done = 0;
    // Output requests of 4096 frames, as `reference` makes them.
    while done < frames {
        let want = (frames - done).min(4096 - done % 4096);
        let Some(b) = e.stage_block(&mut bufs, want).unwrap() else {
            break;
        };
        cov.blocks += 1;
        cov.multi_step += usize::from(b.steps.len() > 1);
        for s in b.steps.iter() {
            cov.prepared += usize::from(s.prepared);
            cov.xfade += usize::from(s.xfade);
            cov.divide += usize::from(matches!(s.scale, StepScale::Divide(_)));
            cov.multiply += usize::from(matches!(s.scale, StepScale::Multiply(_)));
        }
        let o = &mut out[done..done + b.frames];
        mix_staged(&b, bufs.voices, bufs.gains, o);
        e.finish_block(&b, o);
        done += b.frames;
    }
    out
}

fn first_mismatch(a: &[Frame], b: &[Frame]) -> Option<(usize, Frame, Frame)> {
    a.iter()
        .zip(b)
        .enumerate()
        .find(|(_, (x, y))| x[0].to_bits() != y[0].to_bits() || x[1].to_bits() != y[1].to_bits())
        .map(|(k, (x, y))| (k, *x, *y))
}

#[test]
fn staged_cpu_mix_equals_render_bit_for_bit() {
    let mut cov = Coverage::default();
    let mut checked = 0;
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
            let t0 = std::time::Instant::now();
            let mut e = engine(&t, mode);
            let t1 = t0.elapsed();
            let sr = e.sample_rate() as f64;
            let n = ((HEAD_S * sr) as u64).min(e.total_frames()) as usize;
            // From the start, and from half a second before the first crossfade window.
            let mut starts = vec![0u64];
            // Windows later than MAX_SEEK_S are left out: positioning some voices (the
            // spatializer's trajectory) costs O(position).
            if let Some(p) = e.timeline().placements.iter().find(|p| p.xfade > 1) {
                let at = p.start.saturating_sub((sr / 2.0) as u64);
                if at as f64 <= MAX_SEEK_S * sr {
                    starts.push(at);
                }
            }
            for start in starts {
                let n = n.min((e.total_frames() - start) as usize);
                let want = reference(&mut e, start, n);
                for &(stride, secs) in STRIDES {
                    let n = n.min((secs * sr) as usize);
                    let got = staged(&mut e, start, n, stride, &mut cov);
                    if let Some((k, x, y)) = first_mismatch(&got, &want[..n]) {
                        panic!(
                            "{name} {mode:?} from frame {start}, stride {stride}: frame {} differs: staged {x:?}, render {y:?}",
                            start + k as u64
                        );
                    }
                    checked += n;
                }
            }
            println!("{name} {mode:?}: build {t1:?}, total {:?}", t0.elapsed());
        }
    }
    println!("mixplan: {checked} frames equal bit for bit; branches exercised: {cov:?}");
    assert!(
        cov.prepared > 0,
        "no phase-aligned head was staged: {cov:?}"
    );
    assert!(cov.xfade > 0 && cov.divide > 0 && cov.multiply > 0 && cov.multi_step > 0);
}

#[test]
fn stage_refuses_small_buffers_and_leaves_the_engine_alone() {
    let t = load_track_str(entrain_host::DEMO_TRACK).unwrap();
    let mut e = engine(&t, Mode::Streaming);
    let stride = 64;
    let cap = e.stage_voice_capacity();
    let mut voices = vec![[0.0f32; 2]; cap * stride - 1];
    let mut gains = vec![[0.0f32; 2]; MAX_ACTIVE * stride];
    let mut bufs = StageBuffers {
        voices: &mut voices,
        gains: &mut gains,
        stride,
    };
    let err = e.stage_block(&mut bufs, 64).unwrap_err();
    assert_eq!(err.voice_frames, cap * stride);
    assert_eq!(e.position(), 0);
    // At the end of the track: Ok(None).
    let mut voices = vec![[0.0f32; 2]; cap * stride];
    let mut bufs = StageBuffers {
        voices: &mut voices,
        gains: &mut gains,
        stride,
    };
    e.seek(e.total_frames());
    assert!(e.stage_block(&mut bufs, 64).unwrap().is_none());
}
