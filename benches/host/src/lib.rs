//! Workloads shared by the host benchmarks (`benches/render.rs`, wall time;
//! `benches/instructions.rs`, instruction counts). BENCHMARKS.md, "Host", has the numbers
//! and the commands.
//!
//! * W1: one binaural beat, 200 Hz carrier, 10 Hz beat (`benches/tracks/w1_*.json`);
//! * W2: W1 + pink background noise (`w2_*.json`);
//! * W3: 8 simultaneous binaural voices (`w3_*.json`);
//! * `binaural_voices(n, rate)`: n static binaural voices in one step, to find how many
//!   voices one core renders in real time;
//! * [`floor`]: the least any sine voice can cost, a Q0.64 phase accumulator per ear,
//!   the core's f32 sine and a store: what the engine's overhead is measured against.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use entrain_dsp::{math, Frame};
use entrain_engine::engine::{Config, Mode};
use entrain_host::{build_engine, load_track_str, HostEngine};

/// W1: 60 minutes of one binaural beat.
pub const W1: &str = include_str!("../../tracks/w1_binaural_60min.json");
/// W2: W1 with pink background noise.
pub const W2: &str = include_str!("../../tracks/w2_binaural_pink_60min.json");
/// W3: 10 minutes of 8 simultaneous binaural voices.
pub const W3: &str = include_str!("../../tracks/w3_eight_voices_10min.json");

/// Frames per render call: the CLI's block.
pub const BLOCK: usize = 4096;

/// An engine for `json` in streaming mode (the CLI's `render --mode streaming`, playback).
pub fn engine(json: &str) -> HostEngine {
    let track = load_track_str(json).expect("benchmark track");
    let cfg = Config {
        mode: Mode::Streaming,
        ..Config::default()
    };
    build_engine(&track, cfg, &mut |_| {}).expect("benchmark engine")
}

/// A one-step, one-hour track of `n` static binaural voices at `rate` Hz (carriers
/// 100 Hz apart, beats 1 to n Hz), amplitudes summing to 0.8.
pub fn binaural_voices(n: usize, rate: u32) -> String {
    let amp = 0.8 / n as f64;
    let voices: Vec<String> = (0..n)
        .map(|i| {
            format!(
                r#"{{"synth_function_name": "binaural_beat", "is_transition": false,
                    "params": {{"ampL": {amp}, "ampR": {amp}, "baseFreq": {}, "beatFreq": {}}}}}"#,
                100.0 + 100.0 * i as f64,
                1.0 + i as f64
            )
        })
        .collect();
    format!(
        r#"{{"global": {{"sample_rate": {rate}, "crossfade_duration": 0.0}},
            "progression": [{{"duration": 3600.0, "voices": [{}]}}]}}"#,
        voices.join(",")
    )
}

/// Renders `out.len()` frames, starting again at 0 when the track ends (so a long
/// benchmark never times silence). Returns the frames rendered by the last call.
pub fn render_looping(e: &mut HostEngine, out: &mut [Frame]) -> usize {
    let n = e.render(out);
    if n < out.len() {
        e.seek(0);
    }
    n
}

/// The floor: two Q0.64 phase accumulators (200 and 210 Hz at 44.1 kHz, W1's ears), the
/// core's f32 sine of each and a stereo store, no parameters, no gain, no mixing.
pub struct Floor {
    left: u64,
    right: u64,
    inc_left: u64,
    inc_right: u64,
}

impl Default for Floor {
    fn default() -> Self {
        Self::new(200.0, 210.0, 44_100.0)
    }
}

impl Floor {
    /// Oscillators at `left_hz` and `right_hz` for `rate` Hz.
    pub fn new(left_hz: f64, right_hz: f64, rate: f64) -> Self {
        let inc = |hz: f64| entrain_dsp::phase::inc_hz(hz, 1.0 / rate);
        Self {
            left: 0,
            right: 0,
            inc_left: inc(left_hz),
            inc_right: inc(right_hz),
        }
    }

    /// Fills `out` with 0.5 · sine per ear.
    pub fn render(&mut self, out: &mut [Frame]) {
        for f in out.iter_mut() {
            let l = math::sin_turns((self.left >> 32) as u32);
            let r = math::sin_turns((self.right >> 32) as u32);
            *f = [0.5 * l, 0.5 * r];
            self.left = self.left.wrapping_add(self.inc_left);
            self.right = self.right.wrapping_add(self.inc_right);
        }
    }
}

pub mod long_run;
