//! Compatible mode's spill (engine.rs `Engine::with_spill` / `replay`, host `spill.rs`):
//! the analysis's frames put through `replay` are the frames `render` writes, bit for
//! bit, for every shape of track:
//!
//! * one step, several steps in sequence, steps with silence between them (explicit
//!   `start`), a step loud enough to be divided by its peak, the voice mix gain, a master
//!   gain: the step renders of analysis pass 1 are the track ([`Spilled::Steps`]);
//! * crossfades (with phase alignment), background noise, clips: the assembled track of
//!   pass 3 is ([`Spilled::Track`]); the shared example tracks are all of this kind;
//! * replaying from the middle (a render's `--start`) and in odd block sizes;
//! * through the host: the WAV written from the spill has the bytes of the rendered WAV,
//!   the spill file is gone afterwards, a spill that cannot be created leaves a working
//!   engine and says why, and a spill that cannot be read fails the render without
//!   leaving a file under the final name.

// Test code: a failed unwrap is a test failure with its location.
#![allow(clippy::unwrap_used)]

use entrain_conformance::shared_tracks_dir;
use entrain_dsp::Frame;
use entrain_engine::engine::{Config, Engine, Mode, Spilled};
use entrain_host::memory::HeapMemory;
use entrain_host::{
    build_engine, build_engine_spilling, load_track_file, load_track_str, render_spill_to_file,
    render_to_file, OutputFormat, RenderError, RenderOptions, SharedTrack, SpillPolicy,
};
use std::path::Path;

/// Shared tracks longer than this are left out (the analysis renders them whole, twice
/// here: once for the reference, once for the spill).
const MAX_SHARED_S: f64 = 100.0;
/// Shared tracks left out for their cost (the frames replayed do not depend on the
/// voices that made them; the other tracks cover crossfades, noise, clips and effects).
const SLOW: &[(&str, &str)] = &[(
    "qam_spatial.json",
    "its spatial SAM voices make each analysis ~20 s in the test profile",
)];

fn compatible() -> Config {
    Config {
        mode: Mode::Compatible,
        ..Config::default()
    }
}

/// The frames `render` writes over the whole track (blocks of 4096) at master gain `g`.
/// (A render that seeks first is not the reference for a replay from the middle: a
/// seek positions vibrato and noise in closed form, within 1e-4 of the continuous
/// render, while the spill holds the continuous render itself.)
fn rendered(track: &SharedTrack, g: f32) -> Vec<Frame> {
    let mut e = build_engine(track, compatible(), &mut |_| {}).unwrap();
    e.set_master_gain(g);
    let mut out = vec![[0.0f32; 2]; e.total_frames() as usize];
    for c in out.chunks_mut(4096) {
        e.render(c);
    }
    out
}

/// Index of the first frame whose bits differ.
fn first_difference(a: &[Frame], b: &[Frame]) -> Option<usize> {
    assert_eq!(a.len(), b.len(), "lengths");
    a.iter()
        .zip(b)
        .position(|(x, y)| x[0].to_bits() != y[0].to_bits() || x[1].to_bits() != y[1].to_bits())
}

/// Spills `track`'s analysis, replays it from the start (blocks of 37) and from a third
/// of the way (blocks of 480, as a render's `--start` does), and compares both with the
/// rendered track, at master gain `g`.
fn check(name: &str, track: &SharedTrack, want: Spilled, g: f32) {
    let mem = HeapMemory::for_track(&track.track, &compatible()).unwrap();
    let mut spill: Vec<Frame> = Vec::new();
    let mut e = Engine::with_spill(track.clone(), mem, compatible(), &mut |_| {}, &mut |b| {
        spill.extend_from_slice(b);
        true
    })
    .unwrap();
    assert_eq!(e.spilled(), want, "{name}: spilled");
    let total = e.total_frames();
    assert_eq!(spill.len() as u64, total, "{name}: spill length");
    let reference = rendered(track, g);
    e.set_master_gain(g);
    for (start, block) in [(0, 37), (total / 3, 480)] {
        e.seek(start);
        let mut out = spill[start as usize..].to_vec();
        for c in out.chunks_mut(block) {
            assert_eq!(e.replay(c), c.len());
        }
        assert_eq!(e.position(), total);
        if let Some(i) = first_difference(&out, &reference[start as usize..]) {
            let at = start as usize + i;
            panic!(
                "{name}: replay from {start} (block {block}) differs at frame {at}: \
                 {:?} vs rendered {:?}",
                out[i], reference[at]
            );
        }
        let peak = out.iter().flatten().fold(0.0f32, |m, x| m.max(x.abs()));
        println!(
            "{name}: {want:?}, {} frames from {start} equal (peak {peak})",
            out.len()
        );
        assert!(peak > 0.0, "{name}: silent");
    }
    // Past the end: nothing more, zeros.
    let mut past = [[1.0f32; 2]; 5];
    assert_eq!(e.replay(&mut past), 0);
    assert_eq!(past, [[0.0; 2]; 5]);
}

fn voice(f: &str, base: f64, amp: f64) -> String {
    format!(
        r#"{{"synth_function_name": "{f}", "is_transition": false, "params": {{
            "ampL": {amp}, "ampR": {amp}, "baseFreq": {base}, "beatFreq": 7.0,
            "freqOscRangeL": 3.0, "freqOscFreqL": 0.7, "ampOscDepthR": 0.4,
            "ampOscFreqR": 0.3}}}}"#
    )
}

fn track(json: &str) -> SharedTrack {
    SharedTrack::from(load_track_str(json).unwrap())
}

/// A track of `steps` (JSON objects) at 8 kHz without crossfades.
fn steps_track(steps: &str) -> String {
    format!(
        r#"{{"global": {{"sample_rate": 8000, "crossfade_duration": 0.0}},
            "progression": [{steps}]}}"#
    )
}

#[test]
fn replayed_steps_are_the_rendered_track() {
    let quiet = [
        voice("binaural_beat", 110.0, 0.2),
        voice("isochronic_tone", 440.0, 0.3),
    ]
    .join(",");
    let loud = [
        voice("binaural_beat", 220.0, 0.9),
        voice("isochronic_tone", 330.0, 0.7),
    ]
    .join(",");
    // A voice with a silent left channel: its samples there are ±0.0 (`sin · 0`); the
    // step's sum starts at +0.0, so replay and render both see +0.0.
    let half = voice("binaural_beat", 180.0, 0.5).replace(r#""ampL": 0.5"#, r#""ampL": 0.0"#);
    assert!(half.contains(r#""ampL": 0.0"#));
    let cases = [
        (
            "one step",
            steps_track(&format!(r#"{{"duration": 20.0, "voices": [{quiet}]}}"#)),
        ),
        (
            "a quiet and a loud step",
            steps_track(&format!(
                r#"{{"duration": 7.0, "voices": [{quiet}]}},
                   {{"duration": 8.0, "voices": [{loud}]}}"#
            )),
        ),
        (
            "steps with silence between and after",
            steps_track(&format!(
                r#"{{"start": 1.5, "duration": 5.0, "voices": [{loud}]}},
                   {{"start": 9.25, "duration": 4.0, "voices": [{quiet}]}},
                   {{"start": 13.25, "duration": 3.0, "voices": []}}"#
            )),
        ),
        (
            "a silent left channel",
            steps_track(&format!(r#"{{"duration": 4.0, "voices": [{half}]}}"#)),
        ),
    ];
    for (name, json) in &cases {
        check(name, &track(json), Spilled::Steps, 1.0);
    }
    check("master gain 0.5", &track(&cases[2].1), Spilled::Steps, 0.5);
    // The voice mix gain (config.toml `voice_gain`) between the step gains and the output.
    let mut t = track(&cases[1].1);
    std::sync::Arc::make_mut(&mut t.track).mix.voices = 0.7;
    check("voice mix gain 0.7", &t, Spilled::Steps, 1.0);
}

#[test]
fn replayed_assembly_is_the_rendered_track() {
    let dir = shared_tracks_dir();
    let mut checked = 0;
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    names.sort();
    for path in names {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let loaded = match load_track_file(&path) {
            Ok(t) => t,
            Err(e) => {
                println!("{name}: left out, does not load: {e}");
                continue;
            }
        };
        if let Some((_, why)) = SLOW.iter().find(|(n, _)| *n == name) {
            println!("{name}: left out, {why}");
            continue;
        }
        let t = SharedTrack::from(loaded);
        // Streaming mode for the length: no analysis.
        let streaming = Config {
            mode: Mode::Streaming,
            ..Config::default()
        };
        let e = build_engine(&t, streaming, &mut |_| {}).unwrap();
        let secs = e.total_frames() as f64 / e.sample_rate() as f64;
        if secs > MAX_SHARED_S {
            println!("{name}: left out, {secs:.0} s is longer than {MAX_SHARED_S} s");
            continue;
        }
        let t0 = std::time::Instant::now();
        check(&name, &t, Spilled::Track, 1.0);
        println!("{name}: {:.1} s", t0.elapsed().as_secs_f64());
        checked += 1;
    }
    assert!(checked >= 6, "only {checked} shared tracks checked");
}

fn wav(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

#[test]
fn host_spill_writes_the_rendered_file_and_cleans_up() {
    let dir = tempfile::tempdir().unwrap();
    let json = steps_track(&format!(
        r#"{{"duration": 12.0, "voices": [{}]}}"#,
        voice("binaural_beat", 200.0, 0.6)
    ));
    let t = track(&json);
    for (format, file) in [
        (OutputFormat::Wav16, "out.wav"),
        (OutputFormat::WavF32, "f.wav"),
    ] {
        let opts = RenderOptions {
            format,
            start_frame: 8000,
            frames: Some(40_000),
        };
        let plain = dir.path().join(format!("plain-{file}"));
        let mut e = build_engine(&t, compatible(), &mut |_| {}).unwrap();
        render_to_file(&mut e, &plain, &opts, None, &mut |_, _| {}).unwrap();

        let dest = dir.path().join(format!("{format:?}")).join(file);
        let mut b =
            build_engine_spilling(&t, compatible(), &dest, SpillPolicy::Always, &mut |_| {})
                .unwrap();
        assert!(b.error.is_none(), "{:?}", b.error);
        let mut spill = b.spill.take().expect("a one-step track spills");
        let spill_path = spill.path().to_path_buf();
        assert!(spill_path.exists());
        assert_eq!(spill.frames(), b.engine.total_frames());
        let stats = render_spill_to_file(
            &mut b.engine,
            &mut spill,
            &dest,
            &opts,
            None,
            &mut |_, _| {},
        )
        .unwrap();
        assert_eq!(stats.frames, 40_000);
        assert!(wav(&dest) == wav(&plain), "{file}: spilled WAV differs");
        drop(spill);
        assert!(!spill_path.exists(), "spill file left behind");
        let left: Vec<_> = std::fs::read_dir(dest.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, vec![std::ffi::OsString::from(file)], "stray files");
    }
    // Streaming mode keeps nothing.
    let streaming = Config {
        mode: Mode::Streaming,
        ..Config::default()
    };
    let b = build_engine_spilling(
        &t,
        streaming,
        &dir.path().join("s.wav"),
        SpillPolicy::Always,
        &mut |_| {},
    )
    .unwrap();
    assert!(b.spill.is_none() && b.error.is_none());
}

#[test]
fn host_spill_failures_fall_back_or_fail_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let json = steps_track(&format!(
        r#"{{"duration": 6.0, "voices": [{}]}}"#,
        voice("isochronic_tone", 300.0, 0.5)
    ));
    let t = track(&json);
    // A destination under a regular file: no spill can be created; the engine is built
    // and renders as usual, and the reason is given.
    let blocker = dir.path().join("not-a-dir");
    std::fs::write(&blocker, b"x").unwrap();
    let b = build_engine_spilling(
        &t,
        compatible(),
        &blocker.join("out.wav"),
        SpillPolicy::Always,
        &mut |_| {},
    )
    .unwrap();
    assert!(b.spill.is_none());
    let why = b.error.expect("the failure is reported");
    assert!(why.contains("not-a-dir"), "{why}");
    assert_eq!(b.engine.spilled(), Spilled::Nothing);
    assert_eq!(b.engine.total_frames(), 48_000);

    // A spill cut short after the analysis: the render fails naming the spill, and
    // nothing is left under the final name.
    let dest = dir.path().join("cut.wav");
    let mut b =
        build_engine_spilling(&t, compatible(), &dest, SpillPolicy::Always, &mut |_| {}).unwrap();
    let mut spill = b.spill.take().unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(spill.path())
        .unwrap()
        .set_len(8 * 10_000)
        .unwrap();
    let opts = RenderOptions {
        format: OutputFormat::Wav16,
        start_frame: 0,
        frames: None,
    };
    let err = render_spill_to_file(
        &mut b.engine,
        &mut spill,
        &dest,
        &opts,
        None,
        &mut |_, _| {},
    )
    .unwrap_err();
    match &err {
        RenderError::Io { path, .. } => assert_eq!(path, spill.path(), "{err}"),
        other => panic!("unexpected error {other}"),
    }
    assert!(!dest.exists(), "a file was left under the final name");
}

/// [`SpillPolicy::Auto`] gives the spill up when the analysis renders faster than storing
/// and reloading frames would save: a track of silence (no voices: ~1 ns per frame, a
/// tenth of the threshold or less) keeps no spill and leaves no file, tells the engine so
/// (it hands nothing more over), and renders the same.
#[test]
fn auto_policy_gives_a_cheap_track_up() {
    let dir = tempfile::tempdir().unwrap();
    let json = r#"{"global": {"sample_rate": 48000, "crossfade_duration": 0.0},
        "progression": [{"duration": 30.0, "voices": []}]}"#;
    let t = track(json);
    let dest = dir.path().join("quiet.wav");
    let b = build_engine_spilling(&t, compatible(), &dest, SpillPolicy::Auto, &mut |_| {}).unwrap();
    assert!(b.spill.is_none() && b.error.is_none());
    assert_eq!(
        b.engine.spilled(),
        Spilled::Nothing,
        "the sink declined after the probe: the engine stopped handing frames over"
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no file left"
    );
}
