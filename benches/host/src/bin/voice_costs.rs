//! `cargo run --release -p entrain-benches --bin voice_costs TRACK [SECONDS]`: what each
//! voice of a track's first step costs. Every voice is rendered alone (the step cut to
//! SECONDS, default 60, streaming mode, in the CLI's 4096-frame blocks); the figure is
//! the best of three wall-time runs in nanoseconds per frame, minus the same render of
//! the step without voices (mixing, limiter: printed as `engine`). Wall time on a busy
//! machine is noisy; compare figures taken in one run. Used to find where a preset's
//! time goes (BENCHMARKS.md "Host").

#![allow(clippy::unwrap_used, clippy::expect_used)]

use entrain_benches::{engine, BLOCK};
use serde_json::Value;
use std::time::Instant;

/// Best of three: nanoseconds per frame of rendering `json` to its end.
fn ns_per_frame(json: &str) -> f64 {
    let mut out = vec![[0.0f32; 2]; BLOCK];
    let mut best = f64::INFINITY;
    for _ in 0..3 {
        let mut e = engine(json);
        let t = Instant::now();
        let mut frames = 0usize;
        loop {
            let n = e.render(&mut out);
            frames += n;
            if n < out.len() {
                break;
            }
        }
        std::hint::black_box(&out);
        best = best.min(t.elapsed().as_secs_f64() * 1e9 / frames.max(1) as f64);
    }
    best
}

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: voice_costs TRACK [SECONDS]");
    let seconds: f64 = args.next().map_or(60.0, |s| s.parse().expect("SECONDS"));
    let text = std::fs::read_to_string(&path).expect("track file");
    let mut track: Value = serde_json::from_str(&text).expect("track JSON");
    let key = if track.get("progression").is_some() {
        "progression"
    } else {
        "steps"
    };
    // Only the first step, cut to `seconds`, with no crossfade into a next step.
    let mut step = track[key][0].clone();
    step["duration"] = Value::from(seconds);
    let voices = step["voices"].as_array().cloned().unwrap_or_default();
    let mut with = |vs: Vec<Value>| {
        let mut s = step.clone();
        s["voices"] = Value::Array(vs);
        track[key] = Value::Array(vec![s]);
        track.to_string()
    };
    let base = ns_per_frame(&with(Vec::new()));
    println!("engine (no voice) {base:8.2} ns/frame");
    let mut total = 0.0;
    for (i, v) in voices.iter().enumerate() {
        let ns = ns_per_frame(&with(vec![v.clone()])) - base;
        total += ns;
        let name = v["synth_function_name"].as_str().unwrap_or("?");
        println!("voice {i:2} {name:<28} {ns:8.2} ns/frame");
    }
    println!("voices total      {total:8.2} ns/frame");
    let all = ns_per_frame(&with(voices));
    println!("whole step        {all:8.2} ns/frame");
}
