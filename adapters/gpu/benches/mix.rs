//! CPU vs GPU mixing of staged blocks (BENCHMARKS.md, "GPU mixing").
//!
//!     cargo bench -p entrain-gpu --bench mix -- --warm-up-time 1 --measurement-time 3
//!
//! * `mix/{cpu,gpu,gpu_dispatch}/V`: the fold of one 4096-frame block of V = 8, 64, 512
//!   synthetic voice buffers. `cpu` is the reference `mix_staged`; `gpu` is
//!   `GpuMixer::mix`, what a block really costs on the GPU (parameter, voice and gain
//!   uploads, the dispatch, the copy, the mapped read-back); `gpu_dispatch` re-runs the
//!   dispatch on the buffers already on the device (no transfer), the GPU's own share.
//!   The throughput is voice frames per second (V × 4096 per iteration).
//! * `block/*`: one 4096-frame block of W3 (benches/tracks/w3_eight_voices_10min.json,
//!   8 binaural voices, streaming mode): the engine's `render`, its synthesis alone
//!   (`stage_block`), and the whole staged path on the CPU and on the GPU
//!   (`StagedRenderer`). Throughput: frames per second.
//!
//! The engine stages at most `MAX_ACTIVE` (4) steps of `MAX_VOICES_PER_STEP` (32) voices,
//! so 512 voices exist only at the mixer's level: the voice buffers are synthetic and
//! laid out as the heaviest fold the engine produces, two steps (half the voices each,
//! both scaled) the second of which crossfades in (a gains row is uploaded and read).
//! The shader and `mix_staged` do not care how many voices a step holds.
//!
//! Without a Vulkan adapter (or without `XDG_RUNTIME_DIR`, which lavapipe needs) the GPU
//! benchmarks are skipped with a note; the CPU ones still run.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use entrain_dsp::Frame;
use entrain_engine::engine::{Config, Mode, MAX_ACTIVE};
use entrain_engine::mixplan::{mix_staged, StageBuffers, StagedBlock, StagedStep, StepScale};
use entrain_gpu::{GpuMixer, GpuOptions, MixerChoice, StagedRenderer};
use entrain_host::{build_engine, load_track_str, HostEngine};
use std::hint::black_box;
use std::time::Duration;

/// Frames per block (the GPU path's block, `entrain_gpu::DEFAULT_BLOCK`).
const FRAMES: usize = entrain_gpu::DEFAULT_BLOCK;
/// Voice buffers per block.
const VOICES: [usize; 3] = [8, 64, 512];
/// 10 minutes of 8 static binaural voices, 44.1 kHz.
const W3: &str = include_str!("../../../benches/tracks/w3_eight_voices_10min.json");

/// The fold of `voices` buffers: two steps of half the voices, both multiplied by a
/// headroom gain, the second crossfading in.
fn layout(voices: usize) -> StagedBlock {
    let half = voices / 2;
    let mut block = StagedBlock {
        pos: 0,
        frames: FRAMES,
        stride: FRAMES,
        voices,
        steps: Default::default(),
        voice_gain: 1.0,
    };
    for (first, count, xfade) in [(0, half, false), (half, voices - half, true)] {
        let step = StagedStep {
            first,
            count,
            scale: StepScale::Multiply(0.25),
            prepared: false,
            xfade,
        };
        assert!(block.steps.push(step).is_ok(), "two steps fit MAX_ACTIVE");
    }
    block
}

/// Voice buffers of plausible audio (no denormals, no silence the CPU could skip).
fn voice_buffers(voices: usize) -> Vec<Frame> {
    (0..voices * FRAMES)
        .map(|i| {
            let x = i as f32 * 0.013;
            [0.1 * x.sin(), 0.1 * x.cos()]
        })
        .collect()
}

/// An equal-power crossfade row for the second step (row 1); other rows unused.
fn gain_rows() -> Vec<[f32; 2]> {
    let mut g = vec![[1.0, 1.0]; MAX_ACTIVE * FRAMES];
    for (k, row) in g[FRAMES..2 * FRAMES].iter_mut().enumerate() {
        let t = k as f32 / FRAMES as f32 * std::f32::consts::FRAC_PI_2;
        *row = [t.cos(), t.sin()];
    }
    g
}

fn gpu_mixer(voices: usize) -> Option<GpuMixer> {
    match GpuMixer::new(voices, FRAMES, &GpuOptions::default()) {
        Ok(g) => Some(g),
        Err(e) => {
            eprintln!("GPU benchmarks skipped: {e}");
            None
        }
    }
}

fn mix(c: &mut Criterion) {
    let gains = gain_rows();
    let mut out = vec![[0.0f32; 2]; FRAMES];
    let mut group = c.benchmark_group("mix");
    for &v in &VOICES {
        let block = layout(v);
        let voices = voice_buffers(v);
        group.throughput(Throughput::Elements((v * FRAMES) as u64));
        group.bench_with_input(BenchmarkId::new("cpu", v), &v, |b, _| {
            b.iter(|| {
                mix_staged(&block, black_box(&voices), &gains, &mut out);
                black_box(&out);
            })
        });
        let Some(mut gpu) = gpu_mixer(v) else {
            continue;
        };
        if v == VOICES[0] {
            eprintln!("GPU adapter: {}", gpu.adapter());
        }
        // The first mix also checks the GPU against the CPU: a benchmark of a wrong fold
        // would be worthless.
        let mut want = vec![[0.0f32; 2]; FRAMES];
        mix_staged(&block, &voices, &gains, &mut want);
        if let Err(e) = gpu.mix(&block, &voices, &gains, &mut out) {
            eprintln!("GPU benchmarks skipped: {e}");
            continue;
        }
        let worst = out
            .iter()
            .zip(&want)
            .flat_map(|(a, b)| [(a[0] - b[0]).abs(), (a[1] - b[1]).abs()])
            .fold(0.0f32, f32::max);
        assert!(
            worst <= entrain_gpu::TOLERANCE,
            "GPU fold differs from the CPU by {worst:e}"
        );
        group.bench_with_input(BenchmarkId::new("gpu", v), &v, |b, _| {
            b.iter(|| {
                if let Err(e) = gpu.mix(&block, black_box(&voices), &gains, &mut out) {
                    panic!("GPU mix failed: {e}");
                }
                black_box(&out);
            })
        });
        group.bench_with_input(BenchmarkId::new("gpu_dispatch", v), &v, |b, _| {
            b.iter(|| {
                if let Err(e) = gpu.dispatch_only() {
                    panic!("GPU dispatch failed: {e}");
                }
            })
        });
    }
    group.finish();
}

fn w3_engine() -> HostEngine {
    let track = match load_track_str(W3) {
        Ok(t) => t,
        Err(e) => panic!("W3: {e}"),
    };
    let cfg = Config {
        mode: Mode::Streaming,
        ..Config::default()
    };
    match build_engine(&track, cfg, &mut |_| {}) {
        Ok(e) => e,
        Err(e) => panic!("W3: {e:?}"),
    }
}

fn block(c: &mut Criterion) {
    let mut out = vec![[0.0f32; 2]; FRAMES];
    let mut group = c.benchmark_group("block");
    group.throughput(Throughput::Elements(FRAMES as u64));

    let mut e = w3_engine();
    group.bench_function("engine_render_8_binaural", |b| {
        b.iter(|| {
            // 10 minutes last ~6,000 blocks; start again rather than time silence.
            if e.render(&mut out) < FRAMES {
                e.seek(0);
            }
            black_box(&out);
        })
    });

    let mut e = w3_engine();
    let cap = e.stage_voice_capacity();
    let mut voices = vec![[0.0f32; 2]; cap * FRAMES];
    let mut gains = vec![[0.0f32; 2]; MAX_ACTIVE * FRAMES];
    group.bench_function("stage_block_8_binaural", |b| {
        b.iter(|| {
            let mut bufs = StageBuffers {
                voices: &mut voices,
                gains: &mut gains,
                stride: FRAMES,
            };
            // Synthesis only: the block is neither mixed nor finished (the output stage
            // is timed with the rest in `engine_render`).
            match e.stage_block(&mut bufs, FRAMES) {
                Ok(Some(blk)) if blk.frames == FRAMES => {
                    black_box(blk);
                }
                Ok(_) => e.seek(0),
                Err(err) => panic!("stage buffers: {err:?}"),
            }
        })
    });

    for (name, choice) in [
        ("staged_cpu_8_binaural", MixerChoice::Cpu),
        (
            "staged_gpu_8_binaural",
            MixerChoice::Gpu(GpuOptions::default()),
        ),
    ] {
        let mut e = w3_engine();
        let mut r = StagedRenderer::new(&mut e, choice);
        if let Some(n) = r.notice() {
            eprintln!("{name} skipped: {n}");
            continue;
        }
        group.bench_function(name, |b| {
            b.iter(|| {
                if r.render(&mut e, &mut out) < FRAMES {
                    e.seek(0);
                }
                black_box(&out);
            })
        });
        assert!(
            r.notice().is_none(),
            "{name} fell back mid-run: {:?}",
            r.notice()
        );
    }
    group.finish();
}

fn config() -> Criterion {
    // Short by default: the machine is small and shared (flags override it).
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30)
}

criterion_group! {
    name = benches;
    config = config();
    targets = mix, block
}
criterion_main!(benches);
