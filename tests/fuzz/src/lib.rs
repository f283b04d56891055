//! `entrain-fuzz`: fuzz targets for the track parser, the `.noise` preset parser and the
//! engine, as plain functions over bytes.
//!
//! Each target panics when it finds a bug (a panic inside the code under test, or a
//! broken invariant checked here) and returns normally for every input the code handles,
//! valid or not. The same functions are driven by the stable runner
//! (`src/bin/fuzz-runner.rs`, seeded mutation, [`mutate`]) and by the cargo-fuzz entry
//! points in `fuzz_targets/` (libFuzzer, nightly); see README.md.
//!
//! Invariants checked besides "does not panic" (TRACK_FORMAT.md, STYLE.md §7):
//!
//! * every error and warning formats, and every located one points inside the input
//!   (line ≤ lines of the input, column ≥ 1);
//! * an accepted track is usable: sample rate in 8–192 kHz (§14), every step's voices
//!   inside the voice list, durations, starts and crossfades finite, one resolved function
//!   per voice;
//! * an accepted track renders: the engine builds (or refuses with a `BuildError`, never
//!   a panic) and its output is finite, in streaming mode within the limiter ceiling.

pub mod mutate;

use entrain_engine::engine::{Config, Engine, Memory, Mode, Parts, LIMITER_CEILING};
use entrain_engine::model::Track;
use entrain_engine::noise::{NoiseLayer, NoiseSpec};
use entrain_engine::voices::{FilterSlot, VoiceSlot};
use entrain_format::{Report, TrackInfo};

/// A target that also returns a signature of what the input did (which errors and
/// warnings, at which keys; which engines built): the stable runner keeps mutated inputs
/// whose signature it has not seen, a cheap stand-in for coverage feedback.
pub type SignedTarget = fn(&[u8]) -> u64;

/// The fuzz targets by name (runner `--target`, artifact file names).
pub const TARGETS: &[(&str, SignedTarget)] = &[
    ("track_json", track_json),
    ("noise_preset", noise_preset),
    ("noise_render", noise_render),
    ("track_render", track_render),
];

/// FNV-1a over what a report says (error/warning kinds and keys), in file order.
fn report_signature(h: &mut u64, r: &Report) {
    let mut sink = KindSink { h: *h, stop: false };
    for e in &r.errors {
        sink.stop = false;
        let _ = core::fmt::write(&mut sink, format_args!("E{:?}", e.kind));
        sink.feed(e.location.key.as_bytes());
    }
    for w in &r.warnings {
        sink.stop = false;
        let _ = core::fmt::write(&mut sink, format_args!("W{:?}", w.kind));
        sink.feed(w.location.key.as_bytes());
    }
    *h = sink.h;
}

/// Hashes a Debug rendering up to its first `(` or `{` (the variant name, not the
/// values, so that every NaN does not look new).
struct KindSink {
    h: u64,
    stop: bool,
}

impl KindSink {
    fn feed(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.h = (self.h ^ b as u64).wrapping_mul(0x0000_0100_0000_01B3);
        }
    }
}

impl core::fmt::Write for KindSink {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        if self.stop {
            return Ok(());
        }
        let cut = s.find(['(', '{', ' ']).unwrap_or(s.len());
        self.feed(&s.as_bytes()[..cut]);
        self.stop = cut < s.len();
        Ok(())
    }
}

const FNV0: u64 = 0xCBF2_9CE4_8422_2325;

/// Lines in `input` (a location's line may be one past the last newline).
fn line_count(input: &[u8]) -> u32 {
    1 + input.iter().filter(|&&b| b == b'\n').count() as u32
}

/// Every problem of `report` formats and is located inside `input`.
fn check_report(input: &[u8], report: &Report) {
    let lines = line_count(input);
    let mut sink = Sink::default();
    for e in &report.errors {
        sink.write(format_args!("{e}"));
        let l = &e.location;
        assert!(
            l.line <= lines,
            "error {e} located past the input ({lines} lines)"
        );
        assert!(l.line == 0 || l.column >= 1, "error {e} at column 0");
    }
    for w in &report.warnings {
        sink.write(format_args!("{w}"));
        let l = &w.location;
        assert!(
            l.line <= lines,
            "warning {w} located past the input ({lines} lines)"
        );
    }
}

/// A `fmt::Write` that keeps only a length: formatting is exercised without allocating.
#[derive(Default)]
struct Sink(usize);

impl Sink {
    fn write(&mut self, args: core::fmt::Arguments<'_>) {
        let _ = core::fmt::write(self, args);
    }
}

impl core::fmt::Write for Sink {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.0 += s.len();
        Ok(())
    }
}

/// An accepted track is usable by the engine (see the crate docs).
fn check_track<const S: usize, const V: usize>(track: &Track<S, V>, info: &TrackInfo) {
    assert!(
        (8_000..=192_000).contains(&track.sample_rate),
        "accepted sample rate {}",
        track.sample_rate
    );
    if let Some(cf) = track.crossfade_duration {
        assert!(cf.is_finite() && cf >= 0.0, "accepted crossfade {cf}");
    }
    for (i, s) in track.steps.iter().enumerate() {
        assert!(s.duration.is_finite(), "step {i}: duration {}", s.duration);
        assert!(s.start.is_finite(), "step {i}: start {}", s.start);
        if let Some(cf) = s.crossfade_duration {
            assert!(cf.is_finite() && cf >= 0.0, "step {i}: crossfade {cf}");
        }
        let end = s.first_voice as usize + s.voice_count as usize;
        assert!(
            end <= track.voices.len(),
            "step {i}: voices {}..{end} outside {}",
            s.first_voice,
            track.voices.len()
        );
    }
    assert_eq!(
        info.voice_functions.len(),
        track.voices.len().min(info.voice_functions.capacity()),
        "one resolved function per voice"
    );
}

/// Track parser: any bytes, full-size and tiny track capacities (so that the "too many
/// steps/voices" paths run too).
pub fn fuzz_track_json(data: &[u8]) {
    track_json(data);
}

/// [`fuzz_track_json`] returning its signature.
pub fn track_json(data: &[u8]) -> u64 {
    let mut h = FNV0;
    let mut track = Box::<Track>::default();
    let mut info = Box::<TrackInfo>::default();
    match entrain_format::parse(data, &mut track, &mut info) {
        Ok(warnings) => {
            check_report(data, &warnings);
            check_track(&track, &info);
            report_signature(&mut h, &warnings);
            h ^= 1 + track.steps.len().min(4) as u64;
        }
        Err(errors) => {
            assert!(errors.has_errors(), "Err without an error");
            check_report(data, &errors);
            report_signature(&mut h, &errors);
        }
    }
    let mut small = Box::<Track<2, 3>>::default();
    match entrain_format::parse(data, &mut small, &mut info) {
        Ok(w) => {
            check_report(data, &w);
            check_track(&small, &info);
        }
        Err(e) => {
            check_report(data, &e);
            // Only whether the small track overflowed, not the whole report again.
            h = h.rotate_left(1) ^ e.errors.len() as u64;
        }
    }
    h
}

/// `.noise` preset parser.
pub fn fuzz_noise_preset(data: &[u8]) {
    noise_preset(data);
}

/// [`fuzz_noise_preset`] returning its signature.
pub fn noise_preset(data: &[u8]) -> u64 {
    let mut h = FNV0;
    let mut report = Report::default();
    let parsed = entrain_format::noise::parse_noise_file(data, &mut report);
    check_report(data, &report);
    report_signature(&mut h, &report);
    if parsed.is_some() {
        h ^= 0x5A;
    }
    h
}

/// Frames of noise the layer is built for (0.25 s at 8 kHz): the generator's
/// calibration pre-roll costs the same whatever the length (NOISE.md §3), so this target
/// is ~50× slower than the parse and runs less often.
const NOISE_FRAMES: u64 = 2_000;

/// An accepted `.noise` preset builds a noise layer (calibration included) and renders
/// a few hundred frames from the start and after a seek; they must be finite.
pub fn fuzz_noise_render(data: &[u8]) {
    noise_render(data);
}

/// [`fuzz_noise_render`] returning its signature.
pub fn noise_render(data: &[u8]) -> u64 {
    let mut report = Report::default();
    let parsed = entrain_format::noise::parse_noise_file(data, &mut report);
    let (Some(file), false) = (parsed, report.has_errors()) else {
        return FNV0;
    };
    let spec = NoiseSpec {
        params: file.params,
        ..NoiseSpec::default()
    };
    let mut layer = NoiseLayer::new(&spec, 8_000, NOISE_FRAMES);
    let mut out = [[0.0f32; 2]; 256];
    layer.add_to(0, &mut out, 1.0);
    layer.seek(NOISE_FRAMES / 2);
    layer.add_to(NOISE_FRAMES / 2, &mut out, 1.0);
    let mut h = FNV0 ^ 1;
    for f in &out {
        assert!(f[0].is_finite() && f[1].is_finite(), "noise output {f:?}");
        h ^= (f[0] == 0.0) as u64;
    }
    h
}

/// Longest audio an accepted track is cut to before rendering, s: compatible mode
/// analyses the whole track before its first sample, and a fuzzed track may ask for
/// hours (a real cost, not a hang).
const RENDER_MAX_S: f64 = 1.0;
/// Frames rendered from each position.
const RENDER_FRAMES: usize = 300;
/// Voices rendered per step in [`fuzz_track_render`] (the first ones of each step).
const RENDER_MAX_VOICES: u16 = 6;

/// Heap pools sized by [`Engine::requirements`] (what the host adapter does, without
/// the host's audio-decoding dependencies).
struct Pools {
    voices: Vec<VoiceSlot>,
    filters: Vec<FilterSlot>,
    align: Vec<entrain_dsp::Frame>,
    fft: Vec<entrain_dsp::fft::Complex>,
}

impl Memory for Pools {
    fn parts(&mut self) -> Parts<'_> {
        Parts {
            voices: &mut self.voices,
            filters: &mut self.filters,
            align: &mut self.align,
            fft: &mut self.fft,
        }
    }
}

/// Parses, cuts the track to [`RENDER_MAX_S`] (steps shortened, starts and crossfades
/// kept inside it), and renders [`RENDER_FRAMES`] frames from the start and from the
/// middle in streaming and compatible mode. Output must be finite; streaming output must
/// stay within the limiter ceiling.
pub fn fuzz_track_render(data: &[u8]) {
    track_render(data);
}

/// [`fuzz_track_render`] returning its signature (which modes built, or why not).
pub fn track_render(data: &[u8]) -> u64 {
    let mut h = FNV0;
    let mut track = Box::<Track>::default();
    let mut info = Box::<TrackInfo>::default();
    if entrain_format::parse(data, &mut track, &mut info).is_err() {
        return h;
    }
    // Clips need decoded audio the host provides; the engine refuses them without it
    // (checked below as a BuildError, not a panic), so drop them to reach the render.
    track.clips.clear();
    if let Some(n) = track.noise.as_mut() {
        n.input = None;
    }
    let n = track.steps.len().max(1) as f64;
    let cap = RENDER_MAX_S / n;
    for s in track.steps.iter_mut() {
        // Cost, not robustness, grows with the voice count: a mutated step of 28
        // `spatial_angle_modulation` voices (6x real time each, BENCHMARKS.md) took 15 s
        // here and was reported as a hang. Every voice kind still renders; a step's
        // capacity handling is the parser targets' (tiny-capacity tracks).
        s.voice_count = s.voice_count.min(RENDER_MAX_VOICES);
        s.duration = s.duration.min(cap);
        s.start = s.start.clamp(0.0, RENDER_MAX_S);
        s.crossfade_duration = s.crossfade_duration.map(|c| c.min(cap));
    }
    track.crossfade_duration = track.crossfade_duration.map(|c| c.min(cap));
    for mode in [Mode::Streaming, Mode::Compatible] {
        let cfg = Config {
            mode,
            ..Config::default()
        };
        let req = match Engine::<&Track, Pools>::requirements(&track.view(), &cfg) {
            Ok(r) => r,
            Err(e) => {
                let mut s = KindSink { h, stop: false };
                let _ = core::fmt::write(&mut s, format_args!("{e:?}"));
                h = s.h;
                continue;
            }
        };
        let pools = Pools {
            voices: (0..req.voices.max(1))
                .map(|_| VoiceSlot::default())
                .collect(),
            filters: (0..req.filters).map(|_| FilterSlot::idle()).collect(),
            align: vec![[0.0; 2]; req.align_frames],
            fft: vec![[0.0; 2]; req.fft],
        };
        let mut e = match Engine::new(&*track, pools, cfg) {
            Ok(e) => e,
            Err(e) => {
                let mut s = KindSink { h, stop: false };
                let _ = core::fmt::write(&mut s, format_args!("{e:?}"));
                h = s.h;
                continue;
            }
        };
        h = h.rotate_left(7) ^ (1 + track.voices.len().min(8) as u64);
        let total = e.total_frames();
        let mut out = vec![[0.0f32; 2]; RENDER_FRAMES];
        for at in [0, total / 2] {
            e.seek(at);
            e.render(&mut out);
            for (k, f) in out.iter().enumerate() {
                assert!(
                    f[0].is_finite() && f[1].is_finite(),
                    "{mode:?}: frame {} is {f:?}",
                    at + k as u64
                );
                if mode == Mode::Streaming {
                    assert!(
                        f[0].abs() <= LIMITER_CEILING && f[1].abs() <= LIMITER_CEILING,
                        "{mode:?}: frame {} is {f:?}, above the limiter ceiling",
                        at + k as u64
                    );
                }
            }
        }
    }
    h
}
