//! The render loop never allocates: the counting allocator sees no allocation inside the
//! real-time scopes of a full render (compatible and streaming), and the guard itself
//! does count an allocation made inside a scope.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: failures should panic

use entrain_engine::engine::{Config, Mode};
use entrain_host::alloc_guard::{self, CountingAllocator, RealtimeScope};
use entrain_host::{
    build_engine, build_engine_spilling, load_track_str, render_spill_to_file, render_to_file,
    OutputFormat, RenderOptions, SpillPolicy,
};

#[global_allocator]
static ALLOC: CountingAllocator = CountingAllocator;

// One test function: the violation counter is process-wide and tests run in parallel.
#[test]
fn render_loop_is_allocation_free() {
    guard_counts_allocations_inside_a_scope();
    rendering_does_not_allocate();
    replaying_a_spill_does_not_allocate();
}

fn guard_counts_allocations_inside_a_scope() {
    let before = alloc_guard::violations();
    {
        let _rt = RealtimeScope::new();
        let v: Vec<u8> = Vec::with_capacity(64);
        std::hint::black_box(&v);
    }
    assert!(
        alloc_guard::violations() > before,
        "an allocation inside the scope must be counted"
    );
}

fn rendering_does_not_allocate() {
    let t = load_track_str(entrain_host::DEMO_TRACK).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (mode, fmt) in [
        (Mode::Compatible, OutputFormat::Wav16),
        (Mode::Streaming, OutputFormat::Flac16),
    ] {
        let cfg = Config {
            mode,
            ..Config::default()
        };
        let mut e = build_engine(&t, cfg, &mut |_| {}).unwrap();
        let out = dir
            .path()
            .join(if fmt.is_flac() { "x.flac" } else { "x.wav" });
        let opts = RenderOptions {
            format: fmt,
            start_frame: 0,
            frames: Some(20 * 44100),
        };
        let before = alloc_guard::violations();
        let stats = render_to_file(&mut e, &out, &opts, None, &mut |_, _| {}).unwrap();
        assert_eq!(stats.frames, 20 * 44100);
        let after = alloc_guard::violations();
        assert_eq!(after, before, "{mode:?}: the render loop allocated");
    }
}

/// The compatible render written from the analysis's spill: the replay (inside the
/// real-time scope; the file reads are outside it) allocates nothing either.
fn replaying_a_spill_does_not_allocate() {
    let t = load_track_str(entrain_host::DEMO_TRACK).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.wav");
    let mut b = build_engine_spilling(
        &t,
        Config::default(),
        &out,
        SpillPolicy::Always,
        &mut |_| {},
    )
    .unwrap();
    let mut spill = b.spill.take().expect("the demo spills");
    let opts = RenderOptions {
        format: OutputFormat::Wav16,
        start_frame: 0,
        frames: None,
    };
    let before = alloc_guard::violations();
    let stats =
        render_spill_to_file(&mut b.engine, &mut spill, &out, &opts, None, &mut |_, _| {}).unwrap();
    assert_eq!(stats.frames, b.engine.total_frames());
    assert_eq!(alloc_guard::violations(), before, "the replay allocated");
}
