//! Wall time of the engine's hot path (BENCHMARKS.md, "Host").
//!
//!     cargo bench -p entrain-benches --bench render
//!
//! Every benchmark renders one 4096-frame block (the CLI's) per iteration in streaming
//! mode; the throughput is frames per second, so the real-time factor is
//! throughput / sample rate (44.1 kHz for W1–W3 and the floor, 48 kHz for `voices/N`).
//!
//! * `floor`: a phase accumulator and the core's f32 sine per ear, stored (lib.rs
//!   [`entrain_benches::Floor`]); the engine's W1 against it is its overhead.
//! * `workload/{w1,w2,w3}`: the engine on W1 (one binaural beat), W2 (+ pink noise) and
//!   W3 (8 binaural voices).
//! * `voices/N`: N static binaural voices at 48 kHz, N = 1, 8, 16, 32 (32 is the most one
//!   step holds): how many voices one core renders in real time with 50 % headroom is
//!   the N whose throughput is still ≥ 2 × 48,000 frames/s.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use entrain_benches::{binaural_voices, engine, render_looping, Floor, BLOCK, W1, W2, W3};
use std::hint::black_box;
use std::time::Duration;

fn floor(c: &mut Criterion) {
    let mut out = vec![[0.0f32; 2]; BLOCK];
    let mut g = c.benchmark_group("floor");
    g.throughput(Throughput::Elements(BLOCK as u64));
    let mut f = Floor::default();
    g.bench_function("sine_store_stereo", |b| {
        b.iter(|| {
            f.render(&mut out);
            black_box(&out);
        })
    });
    g.finish();
}

fn workloads(c: &mut Criterion) {
    let mut out = vec![[0.0f32; 2]; BLOCK];
    let mut g = c.benchmark_group("workload");
    g.throughput(Throughput::Elements(BLOCK as u64));
    for (name, json) in [("w1", W1), ("w2", W2), ("w3", W3)] {
        let mut e = engine(json);
        g.bench_function(name, |b| {
            b.iter(|| {
                black_box(render_looping(&mut e, &mut out));
            })
        });
    }
    g.finish();
}

fn voices(c: &mut Criterion) {
    let mut out = vec![[0.0f32; 2]; BLOCK];
    let mut g = c.benchmark_group("voices");
    g.throughput(Throughput::Elements(BLOCK as u64));
    for n in [1usize, 8, 16, 32] {
        let mut e = engine(&binaural_voices(n, 48_000));
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| {
                black_box(render_looping(&mut e, &mut out));
            })
        });
    }
    g.finish();
}

fn config() -> Criterion {
    // Short by default: the machine is small and shared (command-line flags override).
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30)
}

criterion_group! {
    name = benches;
    config = config();
    targets = floor, workloads, voices
}
criterion_main!(benches);
