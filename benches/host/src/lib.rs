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

    /// Fills `out` with 0.5 · sine per ear. Written as the engine's kernels are, so that
    /// it bounds them: through [`entrain_simd::run`] (AVX2 where the CPU has it), in
    /// 256-frame chunks of planar per-ear arrays (phases, then sines) interleaved at the
    /// end. A plain per-frame loop in the x86_64 baseline was slower than the engine's W1
    /// (BENCHMARKS.md).
    pub fn render(&mut self, out: &mut [Frame]) {
        entrain_simd::run(&mut FloorBlock { f: self, out });
    }
}

/// [`Floor::render`]'s work as an [`entrain_simd::Kernel`].
struct FloorBlock<'a> {
    f: &'a mut Floor,
    out: &'a mut [Frame],
}

impl entrain_simd::Kernel for FloorBlock<'_> {
    #[inline(always)]
    fn run(&mut self) {
        const K: usize = 256;
        let f = &mut *self.f;
        let mut ph = [0u32; K];
        let mut sig = [[0.0f32; K]; 2];
        for chunk in self.out.chunks_mut(K) {
            let n = chunk.len();
            for (c, (acc, inc)) in [(&mut f.left, f.inc_left), (&mut f.right, f.inc_right)]
                .into_iter()
                .enumerate()
            {
                let mut a = *acc;
                for p in ph[..n].iter_mut() {
                    *p = (a >> 32) as u32;
                    a = a.wrapping_add(inc);
                }
                *acc = a;
                for (o, p) in sig[c][..n].iter_mut().zip(&ph[..n]) {
                    *o = 0.5 * math::sin_turns(*p);
                }
            }
            for (k, o) in chunk.iter_mut().enumerate() {
                *o = [sig[0][k], sig[1][k]];
            }
        }
    }
}

pub mod long_run;

#[cfg(test)]
mod tests {
    use super::*;

    /// The chunked, dispatched floor computes the per-frame loop's samples, bit for bit,
    /// across chunk and call boundaries (a call of 4096 + 37 frames, then one of 5).
    #[test]
    fn floor_is_the_per_frame_loop() {
        let mut f = Floor::default();
        let mut got = vec![[0.0f32; 2]; 4096 + 37 + 5];
        let (a, b) = got.split_at_mut(4096 + 37);
        f.render(a);
        f.render(b);
        let mut r = Floor::default();
        for (k, g) in got.iter().enumerate() {
            let l = math::sin_turns((r.left >> 32) as u32);
            let rr = math::sin_turns((r.right >> 32) as u32);
            r.left = r.left.wrapping_add(r.inc_left);
            r.right = r.right.wrapping_add(r.inc_right);
            let want = [0.5 * l, 0.5 * rr];
            assert_eq!(
                [g[0].to_bits(), g[1].to_bits()],
                [want[0].to_bits(), want[1].to_bits()],
                "frame {k}"
            );
        }
        assert_eq!((f.left, f.right), (r.left, r.right));
    }
}
