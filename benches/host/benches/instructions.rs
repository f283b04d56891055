//! Instruction counts of the engine under valgrind (gungraun): the stable regression
//! signal (BENCHMARKS.md, "Host"), independent of the machine's load and clock.
//!
//!     cargo install gungraun-runner --version 0.20.0   # once; = the gungraun crate
//!     cargo bench -p entrain-benches --bench instructions
//!
//! Each benchmark renders one second (44,100 frames, in 4096-frame blocks) after building
//! its engine in a setup function that is not counted; divide by 44,100 for instructions
//! per stereo frame (the firmware's unit, BENCHMARKS.md "Firmware").

use entrain_benches::{engine, Floor, BLOCK, W1, W2, W3};
use entrain_host::HostEngine;
use gungraun::{library_benchmark, library_benchmark_group, main};
use std::hint::black_box;

/// One second at 44.1 kHz.
const FRAMES: usize = 44_100;

fn setup(json: &str) -> (HostEngine, Vec<[f32; 2]>) {
    (engine(json), vec![[0.0f32; 2]; BLOCK])
}

#[library_benchmark]
#[bench::w1(args = (W1), setup = setup)]
#[bench::w2(args = (W2), setup = setup)]
#[bench::w3(args = (W3), setup = setup)]
fn one_second((mut e, mut out): (HostEngine, Vec<[f32; 2]>)) -> usize {
    let mut done = 0;
    while done < FRAMES {
        let n = (FRAMES - done).min(BLOCK);
        done += e.render(&mut out[..n]);
    }
    black_box(&out);
    done
}

#[library_benchmark]
fn floor_one_second() -> f32 {
    let mut f = Floor::default();
    let mut out = vec![[0.0f32; 2]; BLOCK];
    let mut done = 0;
    let mut acc = 0.0;
    while done < FRAMES {
        let n = (FRAMES - done).min(BLOCK);
        f.render(&mut out[..n]);
        acc += out[n - 1][0];
        done += n;
    }
    black_box(acc)
}

library_benchmark_group!(
    name = engine_render;
    benchmarks = one_second, floor_one_second
);

main!(library_benchmark_groups = engine_render);
