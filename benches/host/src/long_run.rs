//! The long-render check of issue 10's hardening list: W1 (one binaural beat, 200 Hz
//! carrier, 10 Hz beat, amplitude 0.5) stretched to `hours`, rendered continuously in
//! streaming mode through [`entrain_host`]'s engine (the CLI's `render` and `hash` path),
//! 4096 frames at a time, reporting
//!
//! * phase drift: the first and the last second against the analytic signal in f64
//!   (`g·sin(2π·f·(i+1)/sr)`, carriers 195 Hz left and 205 Hz right, POST-accumulated
//!   as VOICES.md §1.2 says), leaving out the 10 ms click guard at each end of the step
//!   (TRACK_FORMAT.md §4.3). The level `g` (the voice's amplitude through the output
//!   stage) is fitted by least squares on the first second and then held for the last;
//! * memory: the process's peak resident set (`VmHWM`) after the first minute and at the
//!   end;
//! * throughput per minute of audio (wall time), so that a denormal slowdown (state
//!   decaying into subnormals late in a render) would show as slower late minutes.
//!
//! `tests/ten_hours.rs` asserts the drift and memory bounds; `src/bin/ten_hours.rs`
//! prints the throughput too (a benchmark: timing is never asserted in a unit test).

use crate::{engine, BLOCK, W1};
use entrain_dsp::Frame;
use std::time::Instant;

/// W1's carriers (left = base - beat/2).
const LEFT_HZ: f64 = 195.0;
const RIGHT_HZ: f64 = 205.0;

/// What a long render measured.
#[derive(Clone, Debug)]
pub struct Report {
    /// Frames rendered.
    pub frames: u64,
    /// The fitted output level of the voice.
    pub level: f64,
    /// Max |Δ| against the analytic signal over the first and the last second.
    pub first_second_err: f64,
    /// See `first_second_err`.
    pub last_second_err: f64,
    /// Peak RSS (KiB) after the first minute and at the end (`None` without /proc).
    pub rss_first_minute_kib: Option<u64>,
    /// See `rss_first_minute_kib`.
    pub rss_end_kib: Option<u64>,
    /// Wall time of each minute of audio, s.
    pub minute_s: Vec<f64>,
}

fn vm_hwm_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The unit analytic W1 frame at step sample `i`. The integer part of `(i+1)·f` is
/// removed before dividing, so that the f64 argument stays small for 10 hours.
fn analytic(i: u64, sr: u64) -> [f64; 2] {
    let phase = |hz: f64| {
        let cycles = ((i + 1) as u128 * hz as u128) % sr as u128;
        core::f64::consts::TAU * cycles as f64 / sr as f64
    };
    [phase(LEFT_HZ).sin(), phase(RIGHT_HZ).sin()]
}

/// The frames of `frames` (starting at step sample `first`) that lie outside the click
/// guard (`guard` frames at either end of the `total`-frame step), with their analytic
/// values.
fn pairs(
    frames: &[Frame],
    first: u64,
    total: u64,
    sr: u64,
    guard: u64,
) -> impl Iterator<Item = ([f32; 2], [f64; 2])> + '_ {
    frames.iter().enumerate().filter_map(move |(k, f)| {
        let i = first + k as u64;
        (i >= guard && i + guard < total).then(|| (*f, analytic(i, sr)))
    })
}

/// Least-squares level of `frames` against the unit analytic signal.
fn fit_level(frames: &[Frame], first: u64, total: u64, sr: u64, guard: u64) -> f64 {
    let (mut xy, mut yy) = (0.0, 0.0);
    for (f, a) in pairs(frames, first, total, sr, guard) {
        for c in 0..2 {
            xy += f[c] as f64 * a[c];
            yy += a[c] * a[c];
        }
    }
    xy / yy
}

/// Max |Δ| of `frames` against `level` times the analytic signal.
fn analytic_err(frames: &[Frame], first: u64, total: u64, sr: u64, guard: u64, level: f64) -> f64 {
    pairs(frames, first, total, sr, guard)
        .flat_map(|(f, a)| {
            [
                (f[0] as f64 - level * a[0]).abs(),
                (f[1] as f64 - level * a[1]).abs(),
            ]
        })
        .fold(0.0, f64::max)
}

/// Renders W1 stretched to `hours` and measures it (module docs).
pub fn run(hours: f64) -> Report {
    assert!(
        W1.contains("\"duration\": 3600.0"),
        "W1's duration field moved"
    );
    let json = W1.replace(
        "\"duration\": 3600.0",
        &format!("\"duration\": {:.1}", hours * 3600.0),
    );
    let mut e = engine(&json);
    let sr = e.sample_rate() as u64;
    let total = e.total_frames();
    let guard = sr / 100;
    let mut buf = vec![[0.0f32; 2]; BLOCK];
    let mut first = Vec::with_capacity(sr as usize);
    let mut last = vec![[0.0f32; 2]; sr as usize];
    let last_start = total.saturating_sub(sr);
    let minute = 60 * sr;
    let mut report = Report {
        frames: 0,
        level: 0.0,
        first_second_err: 0.0,
        last_second_err: 0.0,
        rss_first_minute_kib: None,
        rss_end_kib: None,
        minute_s: Vec::new(),
    };
    let mut pos = 0u64;
    let mut t0 = Instant::now();
    let mut next_minute = minute;
    loop {
        let n = e.render(&mut buf);
        if n == 0 {
            break;
        }
        for (k, f) in buf[..n].iter().enumerate() {
            let i = pos + k as u64;
            if i < sr {
                first.push(*f);
            }
            if i >= last_start {
                last[(i - last_start) as usize] = *f;
            }
        }
        pos += n as u64;
        if pos >= next_minute || pos >= total {
            report.minute_s.push(t0.elapsed().as_secs_f64());
            t0 = Instant::now();
            next_minute += minute;
            if report.rss_first_minute_kib.is_none() {
                report.rss_first_minute_kib = vm_hwm_kib();
            }
        }
    }
    report.frames = pos;
    report.rss_end_kib = vm_hwm_kib();
    report.level = fit_level(&first, 0, total, sr, guard);
    report.first_second_err = analytic_err(&first, 0, total, sr, guard, report.level);
    report.last_second_err = analytic_err(&last, last_start, total, sr, guard, report.level);
    report
}
