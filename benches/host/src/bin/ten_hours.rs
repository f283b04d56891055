//! `cargo run --release -p entrain-benches --bin ten_hours [HOURS]`: renders W1 for
//! HOURS (default 10) in streaming mode and prints the drift, memory and per-minute
//! throughput of [`entrain_benches::long_run`] (BENCHMARKS.md "Long render"). Exit
//! status 1 when the drift or memory bound is exceeded or the last minutes are more than
//! 10 % slower than the first ones.

#![allow(clippy::unwrap_used, clippy::expect_used)]

fn main() {
    let hours: f64 = std::env::args()
        .nth(1)
        .map(|h| h.parse().expect("HOURS is a number"))
        .unwrap_or(10.0);
    let r = entrain_benches::long_run::run(hours);
    let sr = 44_100.0;
    let audio_s = r.frames as f64 / sr;
    let wall: f64 = r.minute_s.iter().sum();
    // Robust to a busy machine: the fastest of the first and of the last three minutes.
    let full: Vec<f64> = r.minute_s[..r.minute_s.len().saturating_sub(1)].to_vec();
    let k = full.len().min(3);
    let first = full[..k].iter().cloned().fold(f64::INFINITY, f64::min);
    let last = full[full.len() - k..]
        .iter()
        .cloned()
        .fold(f64::INFINITY, f64::min);
    println!(
        "audio {audio_s:.0} s rendered in {wall:.1} s wall ({:.0}× real time)",
        audio_s / wall
    );
    println!(
        "drift: output level {:.6} (fitted on the first second); max |Δ| vs analytic, first second {:.2e}, last second {:.2e}",
        r.level, r.first_second_err, r.last_second_err
    );
    println!(
        "peak RSS: {:?} KiB after the first minute, {:?} KiB at the end",
        r.rss_first_minute_kib, r.rss_end_kib
    );
    println!(
        "minute of audio: fastest of the first {k} {:.3} s, of the last {k} {:.3} s ({:+.1} %)",
        first,
        last,
        (last / first - 1.0) * 100.0
    );
    let ok = r.last_second_err <= 1e-4
        && r.rss_end_kib.unwrap_or(0) <= r.rss_first_minute_kib.unwrap_or(0) + 1024
        && last <= first * 1.10;
    println!("{}", if ok { "PASS" } else { "FAIL" });
    if !ok {
        std::process::exit(1);
    }
}
