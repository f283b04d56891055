//! Issue 10's long render, asserted: W1 for 10 hours in streaming mode (about 20 s at the
//! test profile's optimisation) keeps its phase (the last second equals the analytic
//! signal within VOICES.md §17.7's "f64 engine" tolerance, 1e-4) and its memory (peak
//! RSS grows by less than 1 MiB after the first minute). Throughput late in the render
//! (denormals) is a benchmark, `cargo run --release -p entrain-benches --bin ten_hours`.

#![allow(clippy::unwrap_used)]

#[test]
fn ten_hour_render_keeps_phase_and_memory() {
    let r = entrain_benches::long_run::run(10.0);
    assert_eq!(r.frames, 36_000 * 44_100);
    assert!(
        r.first_second_err <= 1e-6,
        "first second: {:e}",
        r.first_second_err
    );
    assert!(
        r.last_second_err <= 1e-4,
        "last second: {:e}",
        r.last_second_err
    );
    if let (Some(a), Some(b)) = (r.rss_first_minute_kib, r.rss_end_kib) {
        assert!(b <= a + 1024, "peak RSS grew from {a} KiB to {b} KiB");
    }
}
