//! Runs the built `realtime_backend` binary: every subcommand, the original flags, and bad
//! input (non-zero exit, one located message per problem, no output file left behind).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: failures should panic

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_realtime_backend"));
    c.env_remove("ENTRAIN_CONFIG");
    c
}

fn shared(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared")
        .join(rel)
}

fn run(mut c: Command) -> Output {
    let o = c.output().unwrap();
    eprintln!(
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A short two-step track.
const SHORT: &str = r#"{"global": {"sample_rate": 22050, "crossfade_duration": 0.5, "output_filename": "short_out.wav"},
 "progression": [
  {"duration": 2.0, "voices": [{"synth_function_name": "binaural_beat", "params": {"baseFreq": 200, "beatFreq": 8}}]},
  {"duration": 2.0, "voices": [{"synth_function_name": "isochronic_tone", "is_transition": true, "params": {"startBeatFreq": 8, "endBeatFreq": 4}}]}
 ]}"#;

fn write_track(dir: &Path, name: &str, json: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, json).unwrap();
    p
}

fn wav_frames(p: &Path) -> (u32, u32) {
    let r = hound::WavReader::open(p).unwrap();
    (r.spec().sample_rate, r.duration())
}

#[test]
fn no_arguments_renders_the_demo() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = bin();
    c.current_dir(dir.path());
    let o = run(c);
    assert!(o.status.success());
    assert_eq!(
        wav_frames(&dir.path().join("demo.wav")),
        (44100, 89 * 44100)
    );
}

#[test]
fn render_formats_rates_and_windows() {
    let dir = tempfile::tempdir().unwrap();
    let t = write_track(dir.path(), "t.json", SHORT);
    for (args, out, check) in [
        (vec!["--format", "wav24"], "a.wav", 24u16),
        (vec!["--format", "f32", "--mode", "streaming"], "b.wav", 32),
        (
            vec![
                "--sample-rate",
                "48000",
                "--start",
                "1",
                "--duration",
                "1.5",
            ],
            "c.wav",
            16,
        ),
    ] {
        let mut c = bin();
        c.arg("render")
            .arg(&t)
            .arg("-o")
            .arg(dir.path().join(out))
            .args(&args)
            .arg("-q");
        assert!(run(c).status.success(), "{args:?}");
        let r = hound::WavReader::open(dir.path().join(out)).unwrap();
        assert_eq!(r.spec().bits_per_sample, check);
        if out == "c.wav" {
            assert_eq!((r.spec().sample_rate, r.duration()), (48000, 72000));
        } else {
            assert_eq!(r.duration(), (3.5 * 22050.0) as u32);
        }
    }
    // FLAC by extension.
    let mut c = bin();
    c.arg("render")
        .arg(&t)
        .arg("-o")
        .arg(dir.path().join("d.flac"))
        .arg("-q");
    assert!(run(c).status.success());
    let bytes = std::fs::read(dir.path().join("d.flac")).unwrap();
    assert_eq!(&bytes[..4], b"fLaC");
}

#[test]
fn original_flags_generate_under_output_dir() {
    let dir = tempfile::tempdir().unwrap();
    let t = write_track(dir.path(), "t.json", SHORT);
    let mut c = bin();
    c.current_dir(dir.path()).args(["generate-config"]);
    assert!(run(c).status.success());
    let cfg = std::fs::read_to_string(dir.path().join("config.toml")).unwrap();
    assert!(cfg.contains("output_dir = \"output\""));
    let mut c = bin();
    c.current_dir(dir.path())
        .arg("--path")
        .arg(&t)
        .args(["--generate", "true", "--start", "1"]);
    assert!(run(c).status.success());
    assert_eq!(
        wav_frames(&dir.path().join("output/short_out.wav")),
        (22050, (2.5 * 22050.0) as u32)
    );
    // The original's `run` subcommand spelling works too.
    let mut c = bin();
    c.current_dir(dir.path())
        .arg("run")
        .arg("--path")
        .arg(&t)
        .args(["--generate", "--gpu", "false"]);
    assert!(run(c).status.success());
    // generate-config refuses to overwrite.
    let mut c = bin();
    c.current_dir(dir.path()).args(["generate-config"]);
    assert!(!run(c).status.success());
}

#[test]
fn check_info_hash_timeline() {
    let dir = tempfile::tempdir().unwrap();
    let t = write_track(dir.path(), "t.json", SHORT);
    let mut c = bin();
    c.arg("check").arg(&t);
    let o = run(c);
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("ok (2 steps, 2 voices)"));
    let mut c = bin();
    c.arg("info").arg(&t);
    let o = run(c);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success());
    assert!(out.contains("isochronic_tone_transition"), "{out}");
    assert!(out.contains("00:00:03"), "total 3.5 s: {out}");
    // Hash is block-size independent.
    let h = |block: &str| {
        let mut c = bin();
        c.arg("hash").arg(&t).args(["--block", block]);
        let o = run(c);
        assert!(o.status.success());
        String::from_utf8_lossy(&o.stdout)
            .split_whitespace()
            .next()
            .unwrap()
            .to_owned()
    };
    assert_eq!(h("1"), h("4096"));
    let png = dir.path().join("tl.png");
    let mut c = bin();
    c.arg("timeline").arg(&t).arg("-o").arg(&png);
    assert!(run(c).status.success());
    assert_eq!(&std::fs::read(&png).unwrap()[1..4], b"PNG");
}

fn assert_fails_located(json: &str, needles: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let t = write_track(dir.path(), "bad.json", json);
    let out = dir.path().join("never.wav");
    let mut c = bin();
    c.arg("render").arg(&t).arg("-o").arg(&out);
    let o = run(c);
    assert!(!o.status.success());
    let e = stderr(&o);
    for n in needles {
        assert!(e.contains(n), "`{n}` missing from: {e}");
    }
    assert!(
        e.lines().filter(|l| l.starts_with("error:")).count() == 1,
        "one error line: {e}"
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no output may remain"
    );
}

#[test]
fn bad_input_is_located_and_leaves_nothing() {
    assert_fails_located(
        "{\"progression\": [\n  {\"duration\": 1,}\n]}",
        &["line 2", "column"],
    );
    assert_fails_located(
        r#"{"progression": [{"duration": 1, "voices": [{"synth_function_name": "binaural_beat", "params": {"baseFreq": NaN}}]}]}"#,
        &["step 0", "voice 0", "`baseFreq`", "not finite"],
    );
    assert_fails_located(
        r#"{"progression": [{"duration": 1, "voices": [{"synth_function_name": "binaural_beat", "is_transition": true, "params": {"transition_curve": "wobbly"}}]}]}"#,
        &["`transition_curve`", "wobbly"],
    );
    let mut c = bin();
    c.arg("render").arg("/nonexistent/track.json");
    let o = run(c);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("cannot read /nonexistent/track.json"));
}

#[test]
fn check_lists_every_problem() {
    let dir = tempfile::tempdir().unwrap();
    let t = write_track(
        dir.path(),
        "two.json",
        r#"{"global": {"sample_rate": 44100}, "progression": [{"duration": -1, "voices": [{"synth_function_name": "binaural_beat", "params": {"baseFreq": 30000, "beatFreq": "fast"}}]}]}"#,
    );
    let mut c = bin();
    c.arg("check").arg(&t);
    let o = run(c);
    assert!(!o.status.success());
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(out.contains("negative"), "{out}");
    assert!(out.contains("Nyquist"), "{out}");
    assert!(out.contains("\"fast\" is not a number"), "{out}");
}

#[test]
fn renders_the_shared_examples() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["focus_alpha.json", "isochronic_focus.json"] {
        let mut c = bin();
        c.arg("render")
            .arg(shared(&format!("tracks/{name}")))
            .arg("-o")
            .arg(dir.path().join("x.wav"))
            .args(["--duration", "20", "-q"]);
        assert!(run(c).status.success(), "{name}");
    }
}

#[test]
fn config_gains_change_the_mix() {
    // noise_only_pink: one silent step + background noise. noise_gain 0 must silence it.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.toml"), "noise_gain = 0.0\n").unwrap();
    let out = dir.path().join("n.wav");
    let mut c = bin();
    c.current_dir(dir.path())
        .arg("render")
        .arg(shared("tracks/noise_only_pink.json"))
        .arg("-o")
        .arg(&out)
        .args(["--mode", "streaming", "--duration", "5", "-q"]);
    assert!(run(c).status.success());
    let peak = hound::WavReader::open(&out)
        .unwrap()
        .samples::<i16>()
        .map(|s| s.unwrap().unsigned_abs())
        .max()
        .unwrap();
    assert_eq!(peak, 0, "noise_gain = 0 must silence the noise layer");
    // A bad config is a located error.
    std::fs::write(dir.path().join("config.toml"), "voice_gain = -1.0\n").unwrap();
    let mut c = bin();
    c.current_dir(dir.path())
        .arg("render")
        .arg(shared("tracks/noise_only_pink.json"))
        .arg("-o")
        .arg(&out);
    let o = run(c);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("voice_gain"));
}

#[test]
fn clips_are_rendered_and_remote_clips_refused() {
    let dir = tempfile::tempdir().unwrap();
    // A copy of the shared example next to its assets would need copying; render in place.
    let out = dir.path().join("c.wav");
    let mut c = bin();
    c.arg("render")
        .arg(shared("tracks/subliminal_and_clips.json"))
        .arg("-o")
        .arg(&out)
        .args(["--start", "36", "-q"]);
    assert!(run(c).status.success());
    let r = hound::WavReader::open(&out).unwrap();
    // The last clip (a 2 s phrase at 37 s) ends the 39 s track.
    assert_eq!(r.duration(), 3 * 44100);
    // A remote clip is a located error and nothing is written.
    let t = write_track(
        dir.path(),
        "remote.json",
        r#"{"progression": [{"duration": 1, "voices": []}], "overlay_clips": [{"file_path": "https://example.com/a.wav", "start": 0}]}"#,
    );
    let out2 = dir.path().join("never.wav");
    let mut c = bin();
    c.arg("render").arg(&t).arg("-o").arg(&out2);
    let o = run(c);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(e.contains("clip 0") && e.contains("remote location"), "{e}");
    assert!(!out2.exists());
    // A missing clip file names the clip and the file.
    let t = write_track(
        dir.path(),
        "missing.json",
        r#"{"progression": [{"duration": 1, "voices": []}], "clips": [{"path": "nope.wav"}]}"#,
    );
    let mut c = bin();
    c.arg("render").arg(&t).arg("-o").arg(&out2);
    let o = run(c);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("clip 0") && stderr(&o).contains("nope.wav"),
        "{}",
        stderr(&o)
    );
}

/// `play` for real: ALSA's default PCM is a `type file` device (an `.asoundrc` under a
/// test HOME, over the clock-less null PCM), so the binary plays as fast as it renders
/// and the captured samples must equal the offline streaming render from `--start` to
/// the end of the track, after which `play` exits by itself.
#[test]
fn play_through_an_alsa_file_device() {
    let dir = tempfile::tempdir().unwrap();
    let track = write_track(dir.path(), "short.json", SHORT);
    let capture = dir.path().join("capture.raw");
    std::fs::write(
        dir.path().join(".asoundrc"),
        format!(
            "pcm.!default {{\n  type file\n  slave.pcm \"null\"\n  file \"{}\"\n  format \"raw\"\n}}\n",
            capture.display()
        ),
    )
    .unwrap();
    let mut c = bin();
    c.arg("play")
        .arg(&track)
        .args(["--start", "1.5"])
        .env("HOME", dir.path())
        .stdin(std::process::Stdio::null());
    let o = run(c);
    assert!(o.status.success(), "{}", stderr(&o));
    let bytes = std::fs::read(&capture).unwrap();
    let got: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect();

    let t = entrain_host::load_track_file(&track).unwrap();
    let cfg = entrain_engine::engine::Config {
        mode: entrain_engine::engine::Mode::Streaming,
        target_level: 0.25,
        phase_align: false,
    };
    let mut e = entrain_host::build_engine(&t, cfg, &mut |_| {}).unwrap();
    let start = (1.5 * 22050.0) as u64;
    e.seek(start);
    let mut want = vec![[0.0f32; 2]; (e.total_frames() - start) as usize];
    e.render(&mut want);
    let want: Vec<f32> = want.into_iter().flatten().collect();
    // The device may be handed a last partial period of silence after the end.
    assert!(
        got.len() >= want.len(),
        "captured {} samples, the track has {} left",
        got.len(),
        want.len()
    );
    assert!(
        got[..want.len()] == want[..],
        "the captured audio differs from the offline render"
    );
    assert!(got[want.len()..].iter().all(|x| *x == 0.0));
}

/// Waits (up to 120 s) until a file of `dir` whose name holds `marker` has grown past
/// `bytes` while `child` runs, then sends it `signal`; returns the file's path.
fn signal_once_grown(
    child: &mut std::process::Child,
    dir: &Path,
    marker: &str,
    bytes: u64,
    signal: &str,
) -> PathBuf {
    let t0 = std::time::Instant::now();
    let grown = loop {
        let found = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.to_string_lossy().contains(marker));
        if let Some(p) = found {
            if std::fs::metadata(&p)
                .map(|m| m.len() > bytes)
                .unwrap_or(false)
            {
                break p;
            }
        }
        assert!(
            t0.elapsed() < std::time::Duration::from_secs(120),
            "no {marker} file grew past {bytes} bytes"
        );
        assert!(child.try_wait().unwrap().is_none(), "render ended early");
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let st = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    grown
}

/// Starts a quiet render of the 60-minute shared track to `out` with the extra `args`,
/// stderr captured, for the tests that interrupt it.
fn spawn_long_render(out: &Path, args: &[&str]) -> std::process::Child {
    let mut c = bin();
    c.arg("render")
        .arg(shared("tracks/bench_60min_theta.json"))
        .arg("-o")
        .arg(out)
        .arg("--quiet")
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    c.spawn().unwrap()
}

/// Ctrl+C during a render: the binary stops, exits non-zero, and leaves neither the
/// output nor its temporary file.
#[test]
fn interrupted_render_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("long.wav");
    let mut child = spawn_long_render(&out, &["--mode", "streaming"]);
    // Wait until the temporary file exists and has grown past its header.
    let partial = signal_once_grown(&mut child, dir.path(), ".partial-", 100_000, "INT");
    let o = child.wait_with_output().unwrap();
    assert!(!o.status.success(), "an interrupted render must fail");
    assert!(!out.exists(), "no output under the final name");
    assert!(!partial.exists(), "temporary file removed");
    let msg = stderr(&o);
    assert!(
        msg.to_lowercase().contains("interrupt") || msg.to_lowercase().contains("cancel"),
        "{msg}"
    );
}

/// A compatible render of a whole track writes the output from its analysis's spill
/// file (one render, not two): the same bytes as `--spill never`, for a track whose step
/// renders are the track (steps in sequence without crossfade) and for a
/// crossfaded one (the assembled track is spilled), in 16-bit and float WAV and FLAC;
/// nothing but the output is left in its folder. A part of a track (`--start`) does not
/// spill and gives the bytes of the same render without it.
#[test]
fn spilled_render_equals_two_renders_and_cleans_up() {
    let dir = tempfile::tempdir().unwrap();
    let sequence = r#"{"global": {"sample_rate": 22050, "crossfade_duration": 0.0},
     "progression": [
      {"duration": 3.0, "voices": [{"synth_function_name": "binaural_beat", "params": {"baseFreq": 200, "beatFreq": 8, "ampL": 0.9, "ampR": 0.9}},
                                   {"synth_function_name": "isochronic_tone", "params": {"baseFreq": 300, "beatFreq": 6, "ampL": 0.6, "ampR": 0.6}}]},
      {"duration": 2.5, "voices": [{"synth_function_name": "binaural_beat", "params": {"baseFreq": 150, "beatFreq": 4, "freqOscRangeL": 2.0, "freqOscFreqL": 0.5}}]}
     ]}"#;
    let tracks = [
        ("sequence", write_track(dir.path(), "seq.json", sequence)),
        ("crossfaded", write_track(dir.path(), "short.json", SHORT)),
    ];
    for (name, track) in &tracks {
        let formats = [
            ("wav", &[][..]),
            ("wav", &["--format", "f32"][..]),
            ("flac", &[][..]),
        ];
        for (i, (ext, extra)) in formats.into_iter().enumerate() {
            let once = dir.path().join(format!("once-{name}-{i}/out.{ext}"));
            let twice = dir.path().join(format!("twice-{name}-{i}.{ext}"));
            let (always, never) = (&["--spill", "always"][..], &["--spill", "never"][..]);
            for (out, flags) in [(&once, always), (&twice, never)] {
                let mut c = bin();
                c.arg("render").arg(track).arg("-o").arg(out).arg("--quiet");
                c.args(extra).args(flags);
                assert!(run(c).status.success(), "{name} {ext} {extra:?} {flags:?}");
            }
            let (a, b) = (
                std::fs::read(&once).unwrap(),
                std::fs::read(&twice).unwrap(),
            );
            assert!(a == b, "{name} {ext} {extra:?}: spilled render differs");
            let left: Vec<_> = std::fs::read_dir(once.parent().unwrap())
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            assert_eq!(left.len(), 1, "{name}: stray files {left:?}");
        }
    }
    let part = dir.path().join("part.wav");
    let mut c = bin();
    c.arg("render").arg(&tracks[0].1).arg("-o").arg(&part);
    c.args(["--quiet", "--start", "1.0", "--format", "f32"]);
    assert!(run(c).status.success());
    let whole = std::fs::read(dir.path().join("once-sequence-1/out.wav")).unwrap();
    let part = std::fs::read(&part).unwrap();
    assert_eq!(part.len(), whole.len() - 22050 * 8, "one second shorter");
}

/// A termination request (SIGTERM, handled like Ctrl+C) during a compatible render's
/// analysis (the spill file growing): the binary exits at once, non-zero, and leaves
/// neither the spill nor an output.
#[test]
fn interrupted_analysis_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("long.wav");
    let mut child = spawn_long_render(&out, &["--spill", "always"]);
    let spill = signal_once_grown(&mut child, dir.path(), ".spill-", 4_000_000, "TERM");
    let o = child.wait_with_output().unwrap();
    assert!(!o.status.success(), "an interrupted render must fail");
    assert!(!spill.exists(), "spill file removed");
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "nothing left: {left:?}");
    assert!(stderr(&o).contains("interrupted"), "{}", stderr(&o));
}

/// A spill that cannot be written to the end (here a file-size limit, `ulimit -f`, lets
/// the 882 kB WAV through but stops the 1.76 MB spill half-way): the render says why,
/// renders the track a second time, writes the bytes of `--spill never`, and leaves no
/// spill behind.
#[test]
fn spill_cut_short_falls_back_to_two_renders() {
    let dir = tempfile::tempdir().unwrap();
    let track = write_track(
        dir.path(),
        "ten.json",
        r#"{"global": {"sample_rate": 22050, "crossfade_duration": 0.0},
         "progression": [{"duration": 10.0, "voices": [
           {"synth_function_name": "binaural_beat", "params": {"baseFreq": 200, "beatFreq": 8}}]}]}"#,
    );
    let twice = dir.path().join("twice.wav");
    let mut c = bin();
    c.arg("render").arg(&track).arg("-o").arg(&twice);
    c.args(["--quiet", "--spill", "never"]);
    assert!(run(c).status.success());

    let out_dir = dir.path().join("limited");
    std::fs::create_dir(&out_dir).unwrap();
    let out = out_dir.join("once.wav");
    // SIGXFSZ ignored, so that a write past the limit fails with EFBIG instead of
    // killing the process; the limit is in 1024-byte blocks.
    let mut c = Command::new("bash");
    c.arg("-c")
        .arg(r#"trap "" XFSZ; ulimit -f 1200; exec "$0" "$@""#)
        .arg(env!("CARGO_BIN_EXE_realtime_backend"))
        .arg("render")
        .arg(&track)
        .arg("-o")
        .arg(&out)
        .args(["--spill", "always"])
        .env_remove("ENTRAIN_CONFIG");
    let o = run(c);
    assert!(o.status.success(), "{}", stderr(&o));
    let msg = stderr(&o);
    assert!(
        msg.contains("cannot write") && msg.contains(".spill-") && msg.contains("second time"),
        "{msg}"
    );
    assert!(std::fs::read(&out).unwrap() == std::fs::read(&twice).unwrap());
    let left: Vec<_> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, vec![std::ffi::OsString::from("once.wav")]);
}
