//! `entrain-conformance`: the harness shared by the conformance tests in `tests/`.
//!
//! The tests compare entrain with golden renders of the original Python application
//! (`shared/reference`, see its README: manifest, raw little-endian f32 files and the
//! tolerances of VOICES.md §17.7) and check whole-render invariants (block-size
//! independence, reset, seek, bounds). This crate is std-only and never a dependency of
//! anything else.
//!
//! Reference data is read in place, never copied into the repository: from
//! `$ENTRAIN_REFERENCE` when set, else from `shared/reference` next to the repository
//! (`<repo>/../shared/reference`). The example tracks are read likewise from
//! `$ENTRAIN_SHARED_TRACKS` or `<repo>/../shared/tracks`.
//!
//! Reports (the per-case tables the tests print) are also written under the cargo target
//! directory, `target/conformance/*.md`, never into the repository.

pub mod noise_stats;

use entrain_dsp::hash::Fnv1a64;
use entrain_dsp::Frame;
use entrain_engine::engine::{Config, Mode};
use entrain_engine::model::{EnvelopeSpec, Track, VoiceParams, VoiceSpec};
use entrain_engine::voices::{FilterSlot, StepClock, VoiceSlot, MAX_FILTERS_PER_VOICE};
use entrain_format::{Report, TrackInfo};
use entrain_host::HostEngine;
use serde_json::Value;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Environment variable overriding the reference folder.
pub const REFERENCE_ENV: &str = "ENTRAIN_REFERENCE";
/// Environment variable overriding the example-track folder.
pub const TRACKS_ENV: &str = "ENTRAIN_SHARED_TRACKS";

/// Default reference folder: `shared/reference` beside the repository
/// (`tests/conformance` → repository root → its parent).
const DEFAULT_REFERENCE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/reference");
/// Default example-track folder.
const DEFAULT_TRACKS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/tracks");

/// The synth functions whose raw output the golden voice tests compare today.
pub const RAW_VOICE_FUNCTIONS: &[&str] = &[
    "binaural_beat",
    "binaural_beat_transition",
    "isochronic_tone",
    "isochronic_tone_transition",
];

/// Exact voices rendered by an f64 engine (VOICES.md §17.7): largest |Δ| allowed.
pub const VOICE_MAX_ABS: f64 = 1e-4;
/// Exact voices rendered by an f64 engine: smallest SNR allowed, dB.
pub const VOICE_MIN_SNR_DB: f64 = 90.0;
/// Helper curves (envelopes, transition α): largest |Δ| allowed (reference README).
pub const HELPER_MAX_ABS: f64 = 1e-7;

/// A harness failure (missing file, bad manifest, parse error): a message.
#[derive(Debug, Clone, PartialEq)]
pub struct HarnessError(pub String);

impl fmt::Display for HarnessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HarnessError {}

fn err<T>(msg: impl Into<String>) -> Result<T, HarnessError> {
    Err(HarnessError(msg.into()))
}

/// The reference folder (`$ENTRAIN_REFERENCE` or `<repo>/../shared/reference`).
pub fn reference_dir() -> PathBuf {
    match std::env::var_os(REFERENCE_ENV) {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from(DEFAULT_REFERENCE),
    }
}

/// The example-track folder (`$ENTRAIN_SHARED_TRACKS` or `<repo>/../shared/tracks`).
pub fn shared_tracks_dir() -> PathBuf {
    match std::env::var_os(TRACKS_ENV) {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from(DEFAULT_TRACKS),
    }
}

// ---- manifest --------------------------------------------------------------------

/// One case of `manifest.json` (the fields the tests use; `raw` keeps the rest).
#[derive(Debug, Clone)]
pub struct Case {
    /// Unique name, `<function>__<variant>`.
    pub id: String,
    /// `voice`, `noise`, `helper`, `colored_noise` or `track`.
    pub kind: String,
    /// The original function called.
    pub function: String,
    /// Keyword arguments of the call (`Value::Null` for tracks).
    pub params: Value,
    /// Requested sample rate, Hz.
    pub sample_rate: u32,
    /// Rate of the stored audio, Hz.
    pub output_sample_rate: u32,
    /// Requested duration, s.
    pub duration: f64,
    /// Frames of the stored audio.
    pub frames: u64,
    /// Channels of the stored audio.
    pub channels: usize,
    /// Audio file, relative to the reference folder.
    pub file: String,
    /// `samples` or `statistics`.
    pub comparison: String,
    /// The whole manifest entry.
    pub raw: Value,
}

impl Case {
    fn from_json(v: &Value) -> Result<Self, HarnessError> {
        let s = |k: &str| -> Result<String, HarnessError> {
            match v.get(k).and_then(Value::as_str) {
                Some(x) => Ok(x.to_owned()),
                None => err(format!("manifest case without string `{k}`: {v}")),
            }
        };
        let u = |k: &str| -> Result<u64, HarnessError> {
            match v.get(k).and_then(Value::as_u64) {
                Some(x) => Ok(x),
                None => err(format!("manifest case without integer `{k}`: {v}")),
            }
        };
        let id = s("id")?;
        let sample_rate = u("sample_rate")?;
        let output_sample_rate = v
            .get("output_sample_rate")
            .and_then(Value::as_u64)
            .unwrap_or(sample_rate);
        let Some(duration) = v.get("duration").and_then(Value::as_f64) else {
            return err(format!("manifest case {id} without `duration`"));
        };
        Ok(Case {
            kind: s("kind")?,
            function: s("function")?,
            params: v.get("params").cloned().unwrap_or(Value::Null),
            sample_rate: u32::try_from(sample_rate)
                .map_err(|_| HarnessError(format!("{id}: bad sample_rate")))?,
            output_sample_rate: u32::try_from(output_sample_rate)
                .map_err(|_| HarnessError(format!("{id}: bad output_sample_rate")))?,
            duration,
            frames: u("frames")?,
            channels: u("channels")? as usize,
            file: s("file")?,
            comparison: s("comparison")?,
            raw: v.clone(),
            id,
        })
    }

    /// A numeric parameter.
    pub fn param_f64(&self, key: &str) -> Option<f64> {
        self.params.get(key).and_then(Value::as_f64)
    }

    /// A string parameter.
    pub fn param_str(&self, key: &str) -> Option<&str> {
        self.params.get(key).and_then(Value::as_str)
    }

    /// A parameter read as the original reads a flag (`true`, or a non-zero number).
    pub fn param_flag(&self, key: &str) -> bool {
        match self.params.get(key) {
            Some(Value::Bool(b)) => *b,
            Some(Value::Number(n)) => n.as_f64().is_some_and(|x| x != 0.0),
            _ => false,
        }
    }

    /// Path of the stored audio.
    pub fn audio_path(&self, dir: &Path) -> PathBuf {
        dir.join(&self.file)
    }

    /// Reads the stored audio (interleaved, `channels` per frame) and checks its length
    /// against `frames`.
    pub fn read_audio(&self, dir: &Path) -> Result<Vec<f32>, HarnessError> {
        let data = read_f32le(&self.audio_path(dir))?;
        let want = self.frames as usize * self.channels;
        if data.len() != want {
            return err(format!(
                "{}: {} holds {} samples, the manifest says {} frames × {} channels",
                self.id,
                self.file,
                data.len(),
                self.frames,
                self.channels
            ));
        }
        Ok(data)
    }
}

/// `manifest.json` of the reference folder.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// The folder it was read from (audio paths are relative to it).
    pub dir: PathBuf,
    /// All cases, in manifest order.
    pub cases: Vec<Case>,
}

impl Manifest {
    /// Reads the manifest of [`reference_dir`].
    pub fn load() -> Result<Self, HarnessError> {
        Self::load_from(&reference_dir())
    }

    /// Reads `dir/manifest.json`.
    pub fn load_from(dir: &Path) -> Result<Self, HarnessError> {
        let path = dir.join("manifest.json");
        let text = std::fs::read_to_string(&path).map_err(|e| {
            HarnessError(format!(
                "cannot read {} ({e}); set {REFERENCE_ENV} to the reference folder",
                path.display()
            ))
        })?;
        let v: Value = serde_json::from_str(&text)
            .map_err(|e| HarnessError(format!("{}: {e}", path.display())))?;
        let Some(list) = v.get("cases").and_then(Value::as_array) else {
            return err(format!("{}: no `cases` array", path.display()));
        };
        let cases = list.iter().map(Case::from_json).collect::<Result<_, _>>()?;
        Ok(Self {
            dir: dir.to_path_buf(),
            cases,
        })
    }

    /// Cases whose function is one of `functions`, in manifest order.
    pub fn cases_of<'a>(&'a self, functions: &'a [&str]) -> impl Iterator<Item = &'a Case> {
        self.cases
            .iter()
            .filter(move |c| functions.contains(&c.function.as_str()))
    }

    /// The case named `id`.
    pub fn case(&self, id: &str) -> Option<&Case> {
        self.cases.iter().find(|c| c.id == id)
    }
}

/// Reads a raw little-endian f32 file.
pub fn read_f32le(path: &Path) -> Result<Vec<f32>, HarnessError> {
    let bytes = std::fs::read(path)
        .map_err(|e| HarnessError(format!("cannot read {}: {e}", path.display())))?;
    if bytes.len() % 4 != 0 {
        return err(format!(
            "{}: {} bytes is not a whole number of f32 samples",
            path.display(),
            bytes.len()
        ));
    }
    Ok(bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect())
}

// ---- comparison ------------------------------------------------------------------

/// How far a render is from its reference (float64 statistics of float32 data).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Diff {
    /// Samples compared.
    pub samples: usize,
    /// Largest `|x - ref|`.
    pub max_abs: f64,
    /// Sample index (interleaved) of the largest difference.
    pub max_at: usize,
    /// `10·log10(Σref² / Σ(x - ref)²)`, dB (`+∞` for identical data).
    pub snr_db: f64,
    /// Non-finite samples in `x`.
    pub non_finite: usize,
}

impl Diff {
    /// True when within `max_abs` and `min_snr_db`, with no non-finite sample.
    pub fn within(&self, max_abs: f64, min_snr_db: f64) -> bool {
        self.non_finite == 0 && self.max_abs <= max_abs && self.snr_db >= min_snr_db
    }
}

/// Compares `x` with `reference` sample by sample over their common length (check the
/// lengths first: a length mismatch is a failure of its own).
pub fn compare(x: &[f32], reference: &[f32]) -> Diff {
    let n = x.len().min(reference.len());
    let (mut sig, mut noise, mut max_abs, mut max_at, mut non_finite) = (0.0, 0.0, 0.0, 0, 0);
    for (i, (&a, &r)) in x.iter().zip(reference).take(n).enumerate() {
        if !a.is_finite() {
            non_finite += 1;
            continue;
        }
        let (a, r) = (a as f64, r as f64);
        let d = a - r;
        sig += r * r;
        noise += d * d;
        if d.abs() > max_abs {
            max_abs = d.abs();
            max_at = i;
        }
    }
    let snr_db = if noise == 0.0 {
        f64::INFINITY
    } else if sig == 0.0 {
        f64::NEG_INFINITY
    } else {
        10.0 * (sig / noise).log10()
    };
    Diff {
        samples: n,
        max_abs,
        max_at,
        snr_db,
        non_finite,
    }
}

/// Formats an SNR for a table (`inf` for identical data).
pub fn fmt_snr(db: f64) -> String {
    if db.is_infinite() && db > 0.0 {
        "inf".to_owned()
    } else {
        format!("{db:.1}")
    }
}

// ---- tracks and voices -------------------------------------------------------------

/// Formats a parse report, one error per line.
pub fn format_errors(r: &Report) -> String {
    let mut s: Vec<String> = r.errors.iter().map(|e| e.to_string()).collect();
    if r.more_errors > 0 {
        s.push(format!("… and {} more errors", r.more_errors));
    }
    s.join("\n")
}

/// Parses a track with `entrain_format::parse`; the error lists every located problem.
pub fn parse_track(json: &str) -> Result<(Box<Track>, Report), HarnessError> {
    let mut track = Box::<Track>::default();
    let mut info = TrackInfo::default();
    match entrain_format::parse(json.as_bytes(), &mut track, &mut info) {
        Ok(warnings) => Ok((track, warnings)),
        Err(report) => err(format_errors(&report)),
    }
}

/// The one-voice track the golden voice tests render: the case's function and params in
/// one step of the case's duration (`is_transition` from the `_transition` suffix).
pub fn voice_track_json(function: &str, params: &Value, sr: u32, duration: f64) -> String {
    let params = if params.is_null() {
        Value::Object(Default::default())
    } else {
        params.clone()
    };
    serde_json::json!({
        "global": {"sample_rate": sr},
        "progression": [{
            "duration": duration,
            "voices": [{
                "synth_function_name": function,
                "is_transition": function.ends_with("_transition"),
                "params": params,
            }],
        }],
    })
    .to_string()
}

/// The voice of a manifest voice case, parsed through the format crate, with the clock
/// of its step. The envelope is left as parsed (`EnvelopeSpec::None`: click guard on).
pub fn case_voice(case: &Case) -> Result<(VoiceSpec, StepClock), HarnessError> {
    voice_from_json(
        &voice_track_json(
            &case.function,
            &case.params,
            case.sample_rate,
            case.duration,
        ),
        case.sample_rate,
    )
}

/// The first voice of a one-step track and the clock of that step.
pub fn voice_from_json(json: &str, sr: u32) -> Result<(VoiceSpec, StepClock), HarnessError> {
    let (track, _warnings) = parse_track(json)?;
    let (Some(spec), Some(step)) = (track.voices.first(), track.steps.first()) else {
        return err("the track has no voice");
    };
    if matches!(spec.params, VoiceParams::Silent) {
        return err("the voice parsed as Silent (function not implemented?)");
    }
    Ok((*spec, StepClock::new(step.duration, sr as f64)))
}

/// `spec` without its envelope and without the 10 ms click guard: the raw voice the
/// reference voice files contain.
pub fn raw(spec: &VoiceSpec) -> VoiceSpec {
    VoiceSpec {
        envelope: EnvelopeSpec::Flat,
        ..*spec
    }
}

/// A voice slot with its own zero-phase filter slots (harmonic suppression needs one).
pub struct SlotRig {
    /// The slot.
    pub slot: VoiceSlot,
    /// Its zero-phase filter slots.
    pub filters: Vec<FilterSlot>,
}

impl SlotRig {
    /// Builds the slot of `spec` over `clock`.
    pub fn new(spec: &VoiceSpec, clock: StepClock) -> Self {
        let mut filters: Vec<FilterSlot> = (0..MAX_FILTERS_PER_VOICE)
            .map(|_| FilterSlot::idle())
            .collect();
        let slots: Vec<usize> = (0..MAX_FILTERS_PER_VOICE).collect();
        let slot = VoiceSlot::new(spec, clock, &mut filters, &slots);
        Self { slot, filters }
    }

    /// Renders `frames` frames in blocks of `block` (≥ 1).
    pub fn render(&mut self, frames: usize, block: usize) -> Vec<Frame> {
        let mut out = vec![[0.0f32; 2]; frames];
        for chunk in out.chunks_mut(block.max(1)) {
            self.slot.process(chunk, &mut self.filters);
        }
        out
    }

    /// Positions the slot at sample `i`.
    pub fn seek(&mut self, i: u64) {
        self.slot.seek(i, &mut self.filters);
    }
}

/// Renders the whole voice `spec` over `clock` in blocks of `block`.
pub fn render_voice(spec: &VoiceSpec, clock: StepClock, block: usize) -> Vec<Frame> {
    SlotRig::new(spec, clock).render(clock.n as usize, block)
}

/// FNV-1a 64 of frames (the cross-target fingerprint of STYLE.md §8).
pub fn hash_frames(frames: &[Frame]) -> u64 {
    let mut h = Fnv1a64::new();
    h.write_frames(frames);
    h.finish()
}

/// True when `track` has voices and every one is binaural or isochronic (the voices the
/// engine renders today; a track with a silent placeholder for a voice of a later issue
/// is left out).
pub fn renders_voices_only(track: &Track) -> bool {
    !track.voices.is_empty()
        && track.voices.iter().all(|v| {
            matches!(
                v.params,
                VoiceParams::Binaural(_) | VoiceParams::Isochronic(_)
            )
        })
}

/// Builds a host engine for `track` in `mode` (default target level and phase alignment).
pub fn build_engine(track: Arc<Track>, mode: Mode) -> Result<HostEngine, HarnessError> {
    let cfg = Config {
        mode,
        ..Config::default()
    };
    entrain_host::build_engine(track, cfg, &mut |_| {})
        .map_err(|e| HarnessError(format!("engine build failed: {e:?}")))
}

/// What [`render_window`] saw.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WindowStats {
    /// FNV-1a 64 of the frames.
    pub hash: u64,
    /// Frames of track written (the rest were past the end).
    pub frames: u64,
    /// Largest |sample|.
    pub peak: f32,
    /// Non-finite samples.
    pub non_finite: usize,
    /// Sum of squares (f64), to tell silence from sound.
    pub energy: f64,
}

/// Seeks `engine` to `start` and renders `frames` frames in blocks of `block`, hashing
/// them on the way (nothing is stored).
pub fn render_window(
    engine: &mut HostEngine,
    start: u64,
    frames: u64,
    block: usize,
) -> WindowStats {
    engine.seek(start);
    let mut buf = vec![[0.0f32; 2]; block.max(1)];
    let mut h = Fnv1a64::new();
    let mut stats = WindowStats {
        hash: 0,
        frames: 0,
        peak: 0.0,
        non_finite: 0,
        energy: 0.0,
    };
    let mut left = frames;
    while left > 0 {
        let m = (left as usize).min(buf.len());
        let n = engine.render(&mut buf[..m]);
        stats.frames += n as u64;
        h.write_frames(&buf[..m]);
        for &x in buf[..m].as_flattened() {
            if !x.is_finite() {
                stats.non_finite += 1;
            }
            stats.peak = stats.peak.max(x.abs());
            stats.energy += (x as f64) * (x as f64);
        }
        left -= m as u64;
    }
    stats.hash = h.finish();
    stats
}

/// The block sizes every invariant test renders with (STYLE.md §8, plus a large host
/// buffer).
pub const BLOCK_SIZES: &[usize] = &[1, 7, 64, 480, 4096];

/// A stretch of output to render: `frames` frames from `start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// First frame.
    pub start: u64,
    /// Frames.
    pub frames: u64,
}

/// The windows the block-size tests render: the first `head_s` seconds, and (when the
/// track has a second placement) its crossfade window with `margin_s` on both sides
/// (merged into the first window when they overlap).
pub fn default_windows(engine: &HostEngine, head_s: f64, margin_s: f64) -> Vec<Window> {
    let sr = engine.sample_rate() as f64;
    let total = engine.total_frames();
    let mut w = vec![Window {
        start: 0,
        frames: ((head_s * sr) as u64).min(total),
    }];
    if let Some(p) = engine.timeline().placements.get(1) {
        let margin = (margin_s * sr) as u64;
        let start = p.start.saturating_sub(margin);
        let end = (p.start + p.xfade + margin).min(total);
        if start > w[0].frames {
            w.push(Window {
                start,
                frames: end - start,
            });
        } else {
            // Overlaps the head: extend the head over it.
            w[0].frames = w[0].frames.max(end);
        }
    }
    w
}

/// One window rendered with every block size.
#[derive(Debug, Clone)]
pub struct BlockRun {
    /// The window.
    pub window: Window,
    /// `(block size, stats)` per render.
    pub runs: Vec<(usize, WindowStats)>,
}

impl BlockRun {
    /// True when every block size gave the same hash.
    pub fn consistent(&self) -> bool {
        self.runs.windows(2).all(|p| p[0].1.hash == p[1].1.hash)
    }

    /// The stats of the first render.
    pub fn first(&self) -> Option<&WindowStats> {
        self.runs.first().map(|r| &r.1)
    }

    /// Largest peak over all renders.
    pub fn peak(&self) -> f32 {
        self.runs.iter().map(|r| r.1.peak).fold(0.0, f32::max)
    }

    /// Non-finite samples over all renders.
    pub fn non_finite(&self) -> usize {
        self.runs.iter().map(|r| r.1.non_finite).sum()
    }

    /// `block:hash` for every render, for failure messages.
    pub fn describe(&self) -> String {
        self.runs
            .iter()
            .map(|(b, s)| format!("{b}:{:016x}", s.hash))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Renders each window with each block size on one engine (positioned with
/// [`HostEngine::seek`] before each render; the first render of the first window runs on
/// the freshly built engine).
pub fn render_block_sizes(
    engine: &mut HostEngine,
    windows: &[Window],
    blocks: &[usize],
) -> Vec<BlockRun> {
    windows
        .iter()
        .map(|&window| BlockRun {
            window,
            runs: blocks
                .iter()
                .map(|&b| (b, render_window(engine, window.start, window.frames, b)))
                .collect(),
        })
        .collect()
}

/// Renders `frames` frames from the current position of `engine` in blocks of `block`
/// and returns them.
pub fn render_frames(engine: &mut HostEngine, frames: u64, block: usize) -> Vec<Frame> {
    let mut out = vec![[0.0f32; 2]; frames as usize];
    for chunk in out.chunks_mut(block.max(1)) {
        engine.render(chunk);
    }
    out
}

// ---- f64 oracle ----------------------------------------------------------------------

/// Independent float64 implementations of the exact formulas of VOICES.md, written from
/// the spec (not from the engine) to check long renders, where the short golden files
/// cannot see drift. They use std's `f64::sin`: this is a test oracle on the host, not
/// engine code, so the maths-shim rule of STYLE.md §6 does not apply.
pub mod oracle {
    use entrain_dsp::osc::LfoShape;
    use entrain_dsp::Frame;
    use entrain_engine::model::BinauralParams;
    use entrain_engine::voices::StepClock;
    use std::f64::consts::{PI, TAU};

    /// Neumaier-compensated running sum (the phase of a 1-hour step stays exact to
    /// ~1e-12 turn).
    #[derive(Debug, Clone, Copy, Default)]
    struct Sum {
        s: f64,
        c: f64,
    }

    impl Sum {
        fn add(&mut self, x: f64) {
            let t = self.s + x;
            if self.s.abs() >= x.abs() {
                self.c += (self.s - t) + x;
            } else {
                self.c += (x - t) + self.s;
            }
            self.s = t;
        }

        /// Fractional part of the sum, in [0, 1).
        fn frac(&self) -> f64 {
            let whole = self.s.floor();
            let f = (self.s - whole) + self.c;
            f - f.floor()
        }
    }

    fn frac(x: f64) -> f64 {
        x - x.floor()
    }

    fn width(skew: f64) -> f64 {
        (0.5 + 0.5 * skew).clamp(1e-9, 1.0 - 1e-9)
    }

    /// `skew_sine(p, k)` (VOICES.md §0.1).
    pub fn skew_sine(p: f64, k: f64) -> f64 {
        let w = width(k);
        if p < w {
            (PI * p / w).sin()
        } else {
            (PI * (1.0 + (p - w) / (1.0 - w))).sin()
        }
    }

    /// `skew_tri(p, k)` (VOICES.md §0.1).
    pub fn skew_tri(p: f64, k: f64) -> f64 {
        let w = width(k);
        if p < w {
            -1.0 + 2.0 * p / w
        } else {
            1.0 - 2.0 * (p - w) / (1.0 - w)
        }
    }

    /// Static `binaural_beat` (VOICES.md §1.2, exact) at samples `from..from + frames`
    /// of a step with `clock`, using the `start` value of every parameter. The carrier
    /// phase is summed from sample 0 (POST), so the cost is O(from + frames).
    pub fn binaural_static(
        p: &BinauralParams,
        clock: StepClock,
        from: u64,
        frames: u64,
    ) -> Vec<Frame> {
        let dt = clock.dt;
        let base = p.base_freq.start;
        let half = p.beat_freq.start / 2.0;
        let f0 = if p.left_high {
            [base + half, base - half]
        } else {
            [base - half, base + half]
        };
        let mut phase = [Sum::default(), Sum::default()];
        for (c, ph) in phase.iter_mut().enumerate() {
            ph.add(p.start_phase[c].start / TAU);
        }
        let pho_on = p.phase_osc_freq.start != 0.0 || p.phase_osc_range.start != 0.0;
        let end = (from + frames).min(clock.n);
        let mut out = Vec::with_capacity(end.saturating_sub(from) as usize);
        for i in 0..end {
            let t = i as f64 * dt;
            let mut frame = [0.0f32; 2];
            let delta = if pho_on {
                (p.phase_osc_range.start / 2.0) * (TAU * p.phase_osc_freq.start * t).sin()
            } else {
                0.0
            };
            for c in 0..2 {
                let fm = &p.fm[c];
                let pos = frac(fm.freq.start * t + fm.phase_offset.start / TAU);
                let w = match p.fm_shape {
                    LfoShape::Triangle => skew_tri(pos, fm.skew.start),
                    _ => skew_sine(pos, fm.skew.start),
                };
                let inst = (f0[c] + (fm.range.start / 2.0) * w).max(0.0);
                phase[c].add(inst * dt);
                if i >= from {
                    let am = &p.am[c];
                    let env = 1.0
                        - am.depth.start
                            * 0.5
                            * (1.0
                                + skew_sine(
                                    frac(am.freq.start * t + am.phase_offset.start / TAU),
                                    am.skew.start,
                                ));
                    let shift = if c == 0 { -delta } else { delta };
                    let phi = TAU * phase[c].frac() + shift;
                    frame[c] = (phi.sin() * env * p.amp[c].start) as f32;
                }
            }
            if i >= from {
                out.push(frame);
            }
        }
        out
    }
}

// ---- reports -------------------------------------------------------------------------

/// A Markdown table built row by row.
#[derive(Debug, Clone, Default)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column titles.
    pub fn new(header: &[&str]) -> Self {
        Self {
            header: header.iter().map(|s| (*s).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a row.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Rows so far.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when no row was added.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The table as aligned Markdown.
    pub fn to_markdown(&self) -> String {
        let cols = self.header.len();
        let mut w: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for r in &self.rows {
            for (i, c) in r.iter().enumerate().take(cols) {
                w[i] = w[i].max(c.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let mut s = String::from("|");
            for (i, width) in w.iter().enumerate() {
                let c = cells.get(i).map(String::as_str).unwrap_or("");
                let pad = width.saturating_sub(c.chars().count());
                s.push(' ');
                s.push_str(c);
                s.push_str(&" ".repeat(pad));
                s.push_str(" |");
            }
            s.push('\n');
            s
        };
        let mut out = line(&self.header);
        out.push('|');
        for width in &w {
            out.push_str(&"-".repeat(width + 2));
            out.push('|');
        }
        out.push('\n');
        for r in &self.rows {
            out.push_str(&line(r));
        }
        out
    }
}

/// Writes `text` to `target/conformance/<name>` given an integration test's
/// `CARGO_TARGET_TMPDIR` (`target/tmp`); returns the path written.
pub fn write_report(target_tmpdir: &str, name: &str, text: &str) -> Result<PathBuf, HarnessError> {
    let tmp = Path::new(target_tmpdir);
    let dir = tmp.parent().unwrap_or(tmp).join("conformance");
    std::fs::create_dir_all(&dir)
        .map_err(|e| HarnessError(format!("cannot create {}: {e}", dir.display())))?;
    let path = dir.join(name);
    std::fs::write(&path, text)
        .map_err(|e| HarnessError(format!("cannot write {}: {e}", path.display())))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compare_identical_and_offset() {
        let r = [0.5f32, -0.25, 0.0, 1.0];
        let d = compare(&r, &r);
        assert_eq!(d.max_abs, 0.0);
        assert!(d.snr_db.is_infinite());
        let x = [0.5f32, -0.25, 0.001, 1.0];
        let d = compare(&x, &r);
        assert!((d.max_abs - 0.001).abs() < 1e-9);
        assert_eq!(d.max_at, 2);
        // Σref² = 1.3125, Σerr² = 1e-6
        assert!((d.snr_db - 10.0 * (1.3125f64 / 1e-6).log10()).abs() < 1e-3);
    }

    #[test]
    fn voice_json_marks_transitions() {
        let j = voice_track_json("binaural_beat_transition", &Value::Null, 44_100, 1.0);
        let v: Value = serde_json::from_str(&j).unwrap();
        let voice = &v["progression"][0]["voices"][0];
        assert_eq!(voice["is_transition"], Value::Bool(true));
        assert!(voice["params"].is_object());
    }

    #[test]
    fn table_markdown() {
        let mut t = Table::new(&["a", "bb"]);
        t.row(vec!["xyz".into(), "1".into()]);
        assert_eq!(
            t.to_markdown(),
            "| a   | bb |\n|-----|----|\n| xyz | 1  |\n"
        );
    }
}
