//! Plays through cpal for real, into ALSA's `file` plugin, and checks the captured samples
//! against offline renders bit for bit.
//!
//! Each scenario runs in a child process whose `HOME` holds an `.asoundrc` making the
//! default PCM a `type file` device (raw interleaved samples written to a file) over the
//! `null` PCM (no clock, so the stream runs as fast as the callback fills it). The child
//! installs the counting allocator and fails if the audio callback allocated.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: failures should panic

use entrain_cpal::{Command, PlayOptions, Player};
use entrain_engine::engine::{Config, Mode};
use entrain_host::alloc_guard::{self, CountingAllocator};
use entrain_host::{build_engine, load_track_str};
use std::path::{Path, PathBuf};
use std::process::Command as Proc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

#[global_allocator]
static ALLOC: CountingAllocator = CountingAllocator;

const CHILD: &str = "ENTRAIN_CPAL_CHILD";
const OUT: &str = "ENTRAIN_CPAL_OUT";

fn track_json() -> String {
    entrain_host::DEMO_TRACK.to_owned()
}

fn asoundrc(dir: &Path, out: &Path) {
    let rc = format!(
        "pcm.!default {{\n  type file\n  slave.pcm \"null\"\n  file \"{}\"\n  format \"raw\"\n}}\n",
        out.display()
    );
    std::fs::write(dir.join(".asoundrc"), rc).unwrap();
}

/// Runs `scenario` in a child process with the file device; returns the captured f32 frames.
fn capture(scenario: &str) -> Vec<[f32; 2]> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("capture.raw");
    asoundrc(dir.path(), &out);
    run_child(scenario, dir.path(), &out);
    let bytes = std::fs::read(&out).unwrap();
    let samples: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    samples.chunks_exact(2).map(|c| [c[0], c[1]]).collect()
}

fn run_child(scenario: &str, home: &Path, out: &Path) {
    let exe = std::env::current_exe().unwrap();
    let st = Proc::new(exe)
        .args(["--exact", scenario, "--nocapture", "--test-threads", "1"])
        .env(CHILD, "1")
        .env(OUT, out)
        .env("HOME", home)
        .status()
        .unwrap();
    assert!(st.success(), "child scenario {scenario} failed");
}

fn offline(start: u64, frames: usize) -> Vec<[f32; 2]> {
    offline_of(&track_json(), start, frames)
}

fn offline_of(json: &str, start: u64, frames: usize) -> Vec<[f32; 2]> {
    let t = load_track_str(json).unwrap();
    let cfg = Config {
        mode: Mode::Streaming,
        target_level: 0.25,
        phase_align: false,
    };
    let mut e = build_engine(&t, cfg, &mut |_| {}).unwrap();
    e.seek(start);
    let mut v = vec![[0.0f32; 2]; frames];
    e.render(&mut v);
    v
}

fn is_child() -> bool {
    std::env::var_os(CHILD).is_some()
}

/// Starts a player, runs `script` with it, waits until `until` frames were delivered,
/// and checks that the callback never allocated.
fn child_play(start_s: f64, until: u64, script: impl FnOnce(&mut Player)) {
    let t = load_track_str(&track_json()).unwrap();
    let mut p = Player::prepare(
        &t.track,
        &PlayOptions {
            start_s,
            ..Default::default()
        },
    )
    .expect("player");
    assert_eq!(
        p.sample_rate(),
        44100,
        "the file device should accept the track rate"
    );
    script(&mut p);
    p.play().unwrap();
    let t0 = Instant::now();
    while p.status().delivered.load(Ordering::Relaxed) < until {
        assert!(t0.elapsed() < Duration::from_secs(60), "playback stalled");
        std::thread::sleep(Duration::from_millis(5));
    }
    p.stop();
    assert_eq!(alloc_guard::violations(), 0, "the audio callback allocated");
}

#[test]
fn scenario_plain() {
    if !is_child() {
        return;
    }
    child_play(10.0, 44100, |_| {});
}

#[test]
fn scenario_pause_seek() {
    if !is_child() {
        return;
    }
    child_play(0.0, 4 * 44100, |p| {
        p.send_at(10_000, Command::Pause).unwrap();
        p.send_at(15_000, Command::Resume).unwrap();
        p.send_at(30_000, Command::Seek(20 * 44100)).unwrap();
    });
}

#[test]
fn scenario_swap() {
    if !is_child() {
        return;
    }
    let other = load_track_str(&other_json()).unwrap();
    child_play(0.0, 3 * 44100, |p| {
        p.update_track_at(20_000, &other).unwrap();
    });
}

#[test]
fn scenario_no_device() {
    if !is_child() {
        return;
    }
    let t = load_track_str(&track_json()).unwrap();
    let e = Player::start(&t, &PlayOptions::default()).expect_err("no device must be an error");
    let msg = e.to_string();
    assert!(!msg.is_empty());
    println!("no-device error: {msg}");
}

/// The demo with every amplitude halved (a different track for the swap test).
fn other_json() -> String {
    track_json().replace("0.45", "0.2")
}

fn out_path() -> PathBuf {
    PathBuf::from(std::env::var_os(OUT).unwrap())
}

fn assert_same(got: &[[f32; 2]], want: &[[f32; 2]], what: &str) {
    assert!(
        got.len() >= want.len(),
        "{what}: captured {} frames, need {}",
        got.len(),
        want.len()
    );
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            g[0].to_bits() == w[0].to_bits() && g[1].to_bits() == w[1].to_bits(),
            "{what}: frame {i} differs: {g:?} vs {w:?}"
        );
    }
}

#[test]
fn playback_equals_offline_render() {
    if is_child() {
        let _ = out_path();
        return;
    }
    let got = capture("scenario_plain");
    let want = offline(10 * 44100, 44100);
    assert_same(&got, &want, "start at 10 s");
}

#[test]
fn pause_resume_and_seek_are_sample_exact() {
    if is_child() {
        return;
    }
    let got = capture("scenario_pause_seek");
    let a = offline(0, 10_000);
    assert_same(&got[..10_000], &a, "before pause");
    assert!(
        got[10_000..15_000].iter().all(|f| *f == [0.0, 0.0]),
        "pause is silent"
    );
    // After resume the track continues where it stopped.
    let b = offline(10_000, 15_000);
    assert_same(&got[15_000..30_000], &b, "after resume");
    let c = offline(20 * 44100, 44100);
    assert_same(&got[30_000..30_000 + 44100], &c, "after seek");
}

#[test]
fn update_track_crossfades_into_the_new_track() {
    if is_child() {
        return;
    }
    let got = capture("scenario_swap");
    let a = offline(0, 20_000);
    assert_same(&got[..20_000], &a, "before the swap");
    let fade = (entrain_cpal::SWAP_CROSSFADE_S * 44100.0) as usize;
    let after = 20_000 + fade;
    let b = offline_of(&other_json(), after as u64, 44100);
    assert_same(&got[after..after + 44100], &b, "after the crossfade");
    // Inside the crossfade the level moves between the two tracks without a jump.
    let mut max_step = 0.0f32;
    for w in got[19_990..after + 10].windows(2) {
        max_step = max_step.max((w[1][0] - w[0][0]).abs());
    }
    assert!(max_step < 0.05, "discontinuity {max_step} in the crossfade");
}

#[test]
fn missing_device_is_a_clear_error() {
    if is_child() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".asoundrc"),
        "pcm.!default { type hw; card 97; device 0 }\nctl.!default { type hw; card 97 }\n",
    )
    .unwrap();
    run_child("scenario_no_device", dir.path(), &dir.path().join("unused"));
}
