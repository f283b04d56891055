//! `entrain-py`: the Python module `realtime_backend` (PyO3, abi3, Python ≥ 3.9).
//!
//! It keeps the original application's API (FEATURES.md rows 101–111: `start_stream`,
//! `stop_stream`, `pause_stream`, `resume_stream`, `start_from`, `update_track`,
//! `set_master_gain`, `enable_gpu`, `push_clip_samples`, `render_sample_wav`,
//! `render_full_wav`) and adds what a numpy user expects: `render` (a float32 array),
//! `validate`, `track_info`, `stream_status` and a `Player` context manager.
//!
//! Rules kept throughout: bad tracks raise `ValueError` with the located message, files and
//! the audio device raise `OSError`; a Rust panic becomes a `RuntimeError` (it never
//! unwinds into the interpreter); the GIL is released while tracks load, audio renders and
//! the device opens or closes; stream state lives behind mutexes that are only locked with
//! the GIL released. The Python-facing documentation is in the docstrings below and in
//! `realtime_backend.pyi`.

mod input;
mod session;

use entrain_dsp::Frame;
use entrain_engine::engine::{Config, Mode};
use entrain_gpu::{MixerChoice, StagedRenderer};
use entrain_host::spill::{decode_frames, encode_frames};
use entrain_host::{
    build_engine, build_engine_spilling, render_spill_to_file, render_to_file_with, HostEngine,
    OutputFormat, RenderError, RenderOptions, SpillPolicy,
};
use input::{load, no_panic, track_source, Failure, TrackSource};
use pyo3::exceptions::{PyRuntimeWarning, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyDict, PyList, PyTuple};
use session::{lock, Session, Snapshot, GLOBAL};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Length of the sample render (`render_sample_wav`), seconds.
const SAMPLE_SECONDS: f64 = 60.0;

fn check_seconds(name: &str, v: f64) -> PyResult<f64> {
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        Err(PyValueError::new_err(format!(
            "{name} must be a finite number of seconds >= 0, got {v}"
        )))
    }
}

fn check_gain(g: f64) -> PyResult<f32> {
    if g.is_nan() {
        return Err(PyValueError::new_err("gain must be a number, got nan"));
    }
    Ok(g.clamp(0.0, 1.0) as f32)
}

fn parse_mode(mode: &str) -> PyResult<Mode> {
    match mode.to_ascii_lowercase().as_str() {
        "compatible" => Ok(Mode::Compatible),
        "streaming" => Ok(Mode::Streaming),
        _ => Err(PyValueError::new_err(format!(
            "mode must be \"compatible\" or \"streaming\", got {mode:?}"
        ))),
    }
}

fn warn(py: Python<'_>, msg: &std::ffi::CStr) -> PyResult<()> {
    PyErr::warn(py, py.get_type::<PyRuntimeWarning>().as_any(), msg, 1)
}

fn prefix_of(src: &TrackSource) -> String {
    match src {
        TrackSource::File(p) => format!("{}: ", p.display()),
        TrackSource::Json(_) => String::new(),
    }
}

// ---- offline rendering -------------------------------------------------------------------

/// An engine positioned for a render, and how much to render.
struct Job {
    engine: JobEngine,
    frames: u64,
}

/// How a [`Job`] renders.
enum JobEngine {
    /// Built and positioned: render.
    Ready(Box<HostEngine>),
    /// A whole track in compatible mode on the CPU: its analysis renders straight into
    /// the output array and the output is made from it in place ([`spill_into`]), one
    /// render instead of two at no extra memory.
    InPlace(Box<entrain_host::LoadedTrack>, Config),
}

fn prepare(
    src: &TrackSource,
    start: f64,
    duration: Option<f64>,
    sample_rate: Option<u32>,
    mode: Mode,
    level: f32,
) -> Result<Job, Failure> {
    let t = load(src)?;
    // At another rate the clip audio is decoded again at that rate.
    let t = match sample_rate {
        None => t,
        Some(r) => t.at_rate(r).map_err(input::load_failure)?,
    };
    let cfg = Config {
        mode,
        target_level: level,
        ..Config::default()
    };
    let build_error = |e| Failure::Value(format!("{}cannot render: {e:?}", prefix_of(src)));
    let whole = start == 0.0 && duration.is_none();
    if mode == Mode::Compatible && whole && !RENDER_GPU.load(Ordering::Relaxed) {
        // The length without the analysis: a streaming engine has none.
        let streaming = Config {
            mode: Mode::Streaming,
            ..cfg
        };
        let frames = build_engine(&t, streaming, &mut |_| {})
            .map_err(build_error)?
            .total_frames();
        return Ok(Job {
            engine: JobEngine::InPlace(Box::new(t), cfg),
            frames,
        });
    }
    let mut engine = build_engine(&t, cfg, &mut |_| {}).map_err(build_error)?;
    // Exactly the CLI's arithmetic (`realtime_backend render --start --duration`).
    let sr = engine.sample_rate() as f64;
    let start_frame = (start * sr) as u64;
    engine.seek(start_frame);
    let available = engine.total_frames().saturating_sub(start_frame);
    let frames = duration
        .map(|d| (d * sr) as u64)
        .unwrap_or(available)
        .min(available);
    Ok(Job {
        engine: JobEngine::Ready(Box::new(engine)),
        frames,
    })
}

/// Renders a whole track in compatible mode into `bytes` (little-endian interleaved f32,
/// the track's length): the analysis's frames are written there as it renders them
/// ([`entrain_engine::engine::Engine::with_spill`]) and put through
/// [`HostEngine::replay`] in place: the bits of a render, without rendering again. When
/// the engine hands nothing over (it always does in compatible mode) it renders.
fn spill_into(t: &entrain_host::LoadedTrack, cfg: Config, bytes: &mut [u8]) -> Result<(), String> {
    use entrain_engine::engine::{Engine, Spilled};
    let mem = entrain_host::HeapMemory::for_track(&t.track, &cfg).map_err(|e| format!("{e:?}"))?;
    // Bytes handed over (past the array's end they are counted, not stored).
    let mut at = 0usize;
    let mut engine = Engine::with_spill(t.into(), mem, cfg, &mut |_| {}, &mut |block| {
        let end = at + 8 * block.len();
        if let Some(b) = bytes.get_mut(at..end) {
            encode_frames(block, b);
        }
        at = end;
        // Every frame is wanted: the spill is the output array itself.
        true
    })
    .map_err(|e| format!("{e:?}"))?;
    engine.seek(0);
    if engine.spilled() == Spilled::Nothing || at != bytes.len() {
        render_into(&mut engine, &mut Mixer { staged: None }, bytes);
        return Ok(());
    }
    fill_bytes(bytes, |b, frames| {
        decode_frames(b, frames);
        engine.replay(frames);
    });
    Ok(())
}

/// `enable_gpu(True)`: offline renders mix the voices on the GPU (entrain-gpu). Streams
/// always mix on the CPU: the audio thread never waits for a GPU.
static RENDER_GPU: AtomicBool = AtomicBool::new(false);

/// How a render mixes: on the CPU ([`HostEngine::render`]), or through the staged path
/// with the fold on the GPU when [`RENDER_GPU`] is set (falling back to the CPU; the
/// reason is in `notice`).
struct Mixer {
    staged: Option<StagedRenderer>,
}

impl Mixer {
    fn new(engine: &mut HostEngine) -> Self {
        let staged = RENDER_GPU
            .load(Ordering::Relaxed)
            .then(|| StagedRenderer::new(engine, MixerChoice::from_flag(true)));
        Self { staged }
    }

    fn render(&mut self, engine: &mut HostEngine, out: &mut [Frame]) -> usize {
        match self.staged.as_mut() {
            Some(r) => r.render(engine, out),
            None => engine.render(out),
        }
    }

    /// Why the GPU asked for is not used, if so.
    fn notice(&self) -> Option<String> {
        self.staged
            .as_ref()
            .and_then(|r| r.notice().map(String::from))
    }
}

/// Issues the mixer's fallback notice as a `RuntimeWarning`.
fn warn_notice(py: Python<'_>, notice: Option<String>) -> PyResult<()> {
    match notice.and_then(|n| std::ffi::CString::new(n).ok()) {
        Some(n) => warn(py, &n),
        None => Ok(()),
    }
}

/// Renders into little-endian interleaved f32 bytes.
fn render_into(engine: &mut HostEngine, mixer: &mut Mixer, bytes: &mut [u8]) {
    fill_bytes(bytes, |_, frames| {
        mixer.render(engine, frames);
    });
}

/// Rewrites `bytes` (little-endian interleaved f32) block by block: `block` gets a
/// block's current bytes and fills its frames, which are then written over them.
fn fill_bytes(bytes: &mut [u8], mut block: impl FnMut(&[u8], &mut [Frame])) {
    const BLOCK: usize = 4096;
    let mut frames = vec![[0.0f32; 2]; BLOCK];
    for chunk in bytes.chunks_mut(BLOCK * 8) {
        let n = chunk.len() / 8;
        block(chunk, &mut frames[..n]);
        encode_frames(&frames[..n], chunk);
    }
}

/// Render the track to a numpy array of shape ``(frames, 2)``, dtype ``float32``.
///
/// ``track_json`` is the track's JSON text, a ``dict``, or the path of a ``.json`` file
/// (``str`` or ``os.PathLike``; relative noise presets then resolve against the file's
/// folder, otherwise against the working directory).
///
/// ``start`` and ``duration`` are seconds (``duration=None``: to the end of the track);
/// ``sample_rate`` renders at another rate than the track's (8000..192000 Hz);
/// ``mode`` is ``"compatible"`` (the original's offline chain: per-step and whole-track
/// peak normalisation to ``level``) or ``"streaming"`` (fixed headroom and a limiter, what
/// live playback plays). The samples are bit-identical to
/// ``realtime_backend render --format f32`` with the same options. A whole track in
/// compatible mode is rendered once: its analysis (which measures the peak the output is
/// normalised to) writes into the array and the output is made from it in place.
///
/// Raises ``ValueError`` for an invalid track or argument, ``OSError`` when a file cannot
/// be read, ``ImportError`` without numpy. The GIL is released while rendering.
#[pyfunction]
#[pyo3(signature = (track_json, start=0.0, duration=None, sample_rate=None, mode="compatible", level=0.25))]
fn render<'py>(
    py: Python<'py>,
    track_json: &Bound<'py, PyAny>,
    start: f64,
    duration: Option<f64>,
    sample_rate: Option<u32>,
    mode: &str,
    level: f64,
) -> PyResult<Bound<'py, PyAny>> {
    no_panic(|| {
        let src = track_source(track_json)?;
        let start = check_seconds("start", start)?;
        let duration = duration.map(|d| check_seconds("duration", d)).transpose()?;
        if let Some(r) = sample_rate {
            if !(8000..=192_000).contains(&r) {
                return Err(PyValueError::new_err(format!(
                    "sample_rate must be within 8000..192000 Hz, got {r}"
                )));
            }
        }
        if !(level.is_finite() && level > 0.0 && level <= 1.0) {
            return Err(PyValueError::new_err(format!(
                "level must be in (0, 1], got {level}"
            )));
        }
        let mode = parse_mode(mode)?;
        let numpy = py.import("numpy")?;
        let mut job =
            py.detach(|| prepare(&src, start, duration, sample_rate, mode, level as f32))?;
        let frames = usize::try_from(job.frames)
            .ok()
            .and_then(|f| f.checked_mul(8))
            .ok_or_else(|| PyValueError::new_err("the render is too long for memory"))?;
        if frames == 0 {
            return numpy.call_method1("zeros", ((0usize, 2usize), "float32"));
        }
        let mut notice = None;
        let buf = PyByteArray::new_with(py, frames, |bytes| {
            // The bytearray is not shared yet: nothing else can reach it while the GIL is
            // released.
            py.detach(|| match &mut job.engine {
                JobEngine::Ready(engine) => {
                    let mut mixer = Mixer::new(engine);
                    render_into(engine, &mut mixer, bytes);
                    notice = mixer.notice();
                    Ok(())
                }
                JobEngine::InPlace(t, cfg) => spill_into(t, *cfg, bytes),
            })
            .map_err(|e| Failure::Value(format!("{}cannot render: {e}", prefix_of(&src))).into())
        })?;
        warn_notice(py, notice)?;
        let flat = numpy.call_method1("frombuffer", (buf, "<f4"))?;
        flat.call_method1("reshape", ((frames / 8, 2usize),))
    })
}

/// What [`write_wav`] returns: the render's statistics, its rate, its time (s) and the
/// GPU fallback notice.
type WavResult = (entrain_host::output::RenderStats, u32, f64, Option<String>);

fn write_wav(
    src: &TrackSource,
    out: &Path,
    limit_s: Option<f64>,
    spill: Option<SpillPolicy>,
) -> Result<WavResult, Failure> {
    let started = Instant::now();
    let t = load(src)?;
    let build_error = |e| Failure::Value(format!("{}cannot render: {e:?}", prefix_of(src)));
    // The whole track on the CPU: the analysis's render is kept in a spill file next to
    // the output and written out from there (entrain_host::spill), one render instead of
    // two. A sample renders a minute of the track: storing all of it would cost more.
    let gpu = RENDER_GPU.load(Ordering::Relaxed);
    let policy = spill.filter(|_| limit_s.is_none() && !gpu);
    let (mut engine, mut spill, spill_error) = if let Some(policy) = policy {
        let b = build_engine_spilling(&t, Config::default(), out, policy, &mut |_| {})
            .map_err(build_error)?;
        (b.engine, b.spill, b.error)
    } else {
        let e = build_engine(&t, Config::default(), &mut |_| {}).map_err(build_error)?;
        (e, None, None)
    };
    let sr = engine.sample_rate();
    let opts = RenderOptions {
        format: OutputFormat::Wav16,
        start_frame: 0,
        frames: limit_s.map(|d| (d * sr as f64) as u64),
    };
    let mut mixer = Mixer::new(&mut engine);
    let written = match spill.as_mut() {
        Some(s) => render_spill_to_file(&mut engine, s, out, &opts, None, &mut |_, _| {}),
        None => render_to_file_with(
            &mut engine,
            &mut |e, b| mixer.render(e, b),
            out,
            &opts,
            None,
            &mut |_, _| {},
        ),
    };
    drop(spill);
    let stats = written.map_err(|e| match e {
        RenderError::Io { path, source } => Failure::io("cannot write", &path, &source),
        RenderError::Encode { path, message } => Failure::Os {
            errno: None,
            message: format!("cannot write: {message}"),
            path: Some(path),
        },
        RenderError::Cancelled => Failure::Runtime("render cancelled".into()),
    })?;
    // A spill that could not be kept is worth a warning (the render took twice as long).
    let notice = mixer.notice().or_else(|| {
        spill_error.map(|why| format!("{why}; the track was rendered a second time instead"))
    });
    Ok((stats, sr, started.elapsed().as_secs_f64(), notice))
}

fn wav_result<'py>(
    py: Python<'py>,
    out: &Path,
    (stats, sr, elapsed, notice): WavResult,
) -> PyResult<Bound<'py, PyDict>> {
    warn_notice(py, notice)?;
    let d = PyDict::new(py);
    d.set_item("path", out.to_string_lossy())?;
    d.set_item("frames", stats.frames)?;
    d.set_item("seconds", stats.frames as f64 / sr as f64)?;
    d.set_item("sample_rate", sr)?;
    d.set_item("peak", stats.peak)?;
    d.set_item("clipped", stats.clipped)?;
    d.set_item("elapsed", elapsed)?;
    Ok(d)
}

/// Render the first min(60 s, track length) to a 16-bit stereo WAV file at the track's rate.
///
/// Compatible mode (the original's normalisation over the whole track, so the sample is
/// the first minute of ``render_full_wav``'s output). The file is written atomically
/// (a temporary file renamed into place; missing folders are created) and always as
/// 16-bit WAV, whatever the extension. Returns a dict: ``path``, ``frames``, ``seconds``,
/// ``sample_rate``, ``peak``, ``clipped`` (samples clipped by the 16-bit conversion) and
/// ``elapsed`` (render time, s; the original printed it instead).
///
/// Raises ``ValueError`` for an invalid track, ``OSError`` when a file cannot be read or
/// written. The GIL is released while rendering.
#[pyfunction]
fn render_sample_wav<'py>(
    py: Python<'py>,
    track_json: &Bound<'py, PyAny>,
    out_path: PathBuf,
) -> PyResult<Bound<'py, PyDict>> {
    no_panic(|| {
        let src = track_source(track_json)?;
        let r = py.detach(|| write_wav(&src, &out_path, Some(SAMPLE_SECONDS), None))?;
        wav_result(py, &out_path, r)
    })
}

/// Render the whole track to a 16-bit stereo WAV file at the track's rate.
///
/// Byte-identical to ``realtime_backend render TRACK -o OUT.wav`` (compatible mode, level
/// 0.25). The length is the track's real length (the original's Rust port appended
/// (n-1)·crossfade of trailing silence). Written atomically; missing folders are created.
/// Returns the same dict as ``render_sample_wav``.
///
/// The analysis's render (compatible mode measures the whole track's peak first) is kept
/// in a temporary file next to the output and the WAV written from it, one render instead
/// of two (8 bytes per frame: 1.4 GB per hour at 48 kHz; removed at the end): ``spill``
/// ``None`` (default) does so unless the track renders faster than the file would save,
/// ``True`` always, ``False`` never (two renders, nothing else written). Not with GPU
/// mixing. The bytes are the same either way; a spill that cannot be written gives a
/// ``RuntimeWarning`` and two renders.
///
/// Raises ``ValueError`` for an invalid track, ``OSError`` when a file cannot be read or
/// written. The GIL is released while rendering.
#[pyfunction]
#[pyo3(signature = (track_json, out_path, *, spill = None))]
fn render_full_wav<'py>(
    py: Python<'py>,
    track_json: &Bound<'py, PyAny>,
    out_path: PathBuf,
    spill: Option<bool>,
) -> PyResult<Bound<'py, PyDict>> {
    no_panic(|| {
        let src = track_source(track_json)?;
        let policy = match spill {
            None => Some(SpillPolicy::Auto),
            Some(true) => Some(SpillPolicy::Always),
            Some(false) => None,
        };
        let r = py.detach(|| write_wav(&src, &out_path, None, policy))?;
        wav_result(py, &out_path, r)
    })
}

// ---- inspection --------------------------------------------------------------------------

/// List every problem of a track: one located string each; an empty list means the track
/// loads and renders.
///
/// Problems are parse and validation errors (with their location, e.g.
/// ``progression[2].voices[0].params.beatFreq: ...``; prefixed with the file name when a
/// path was given), a missing or invalid background-noise preset, and tracks that exceed
/// the engine's capacities. With ``warnings=True`` the track's warnings follow, each
/// prefixed ``warning: `` (then a non-empty list can still be a valid track).
///
/// Raises ``OSError`` only when the track file itself cannot be read.
#[pyfunction]
#[pyo3(signature = (track_json, warnings=false))]
fn validate<'py>(
    py: Python<'py>,
    track_json: &Bound<'py, PyAny>,
    warnings: bool,
) -> PyResult<Vec<String>> {
    no_panic(|| {
        let src = track_source(track_json)?;
        Ok(py.detach(|| input::problems(&src, warnings))?)
    })
}

fn curve_name(c: entrain_dsp::crossfade::CrossfadeCurve) -> &'static str {
    match c {
        entrain_dsp::crossfade::CrossfadeCurve::Linear => "linear",
        entrain_dsp::crossfade::CrossfadeCurve::EqualPower => "equal_power",
    }
}

/// Describe a track: a dict with ``sample_rate`` (Hz), ``total_seconds``, ``total_frames``,
/// ``crossfade_duration`` (s, ``None`` when the track gives none: 1 s is used),
/// ``crossfade_curve``, ``output_filename``, ``background_noise`` (bool), ``clips``
/// (number of overlay clips), ``warnings`` (list of str) and
/// ``steps``: one dict per step in file order with ``index``, ``start`` and ``end``
/// (seconds on the output timeline; ``None`` for a step that is never placed, e.g.
/// duration 0), ``duration`` (s, as written), ``description`` and ``voices`` (the
/// resolved synth function of each voice, e.g. ``"binaural_beat_transition"``;
/// ``"unknown"`` for a function the engine does not know: it is silent).
///
/// Raises ``ValueError`` for an invalid track, ``OSError`` when a file cannot be read.
#[pyfunction]
fn track_info<'py>(
    py: Python<'py>,
    track_json: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyDict>> {
    no_panic(|| {
        let src = track_source(track_json)?;
        let t = py.detach(|| load(&src))?;
        let tr = t.track.view();
        let tl = entrain_engine::timeline::Timeline::new(&tr).map_err(|e| {
            PyValueError::new_err(format!("{}cannot place the steps: {e:?}", prefix_of(&src)))
        })?;
        let sr = tr.sample_rate as f64;
        let d = PyDict::new(py);
        d.set_item("sample_rate", tr.sample_rate)?;
        d.set_item("total_seconds", tl.total as f64 / sr)?;
        d.set_item("total_frames", tl.total)?;
        d.set_item("crossfade_duration", tr.crossfade_duration)?;
        d.set_item("crossfade_curve", curve_name(tr.crossfade_curve))?;
        d.set_item(
            "output_filename",
            t.info.output_filename.as_ref().map(|s| s.as_str()),
        )?;
        d.set_item("background_noise", tr.noise.is_some())?;
        d.set_item("clips", input::clip_count(&t))?;
        let warnings: Vec<String> = t.warnings.warnings.iter().map(|w| w.to_string()).collect();
        d.set_item("warnings", warnings)?;
        let steps = PyList::empty(py);
        let mut vi = 0usize;
        for (i, s) in tr.steps.iter().enumerate() {
            let sd = PyDict::new(py);
            sd.set_item("index", i)?;
            let placed = tl.placements.iter().find(|p| p.step as usize == i);
            sd.set_item("start", placed.map(|p| p.start as f64 / sr))?;
            sd.set_item("end", placed.map(|p| p.end() as f64 / sr))?;
            sd.set_item("duration", s.duration)?;
            sd.set_item(
                "description",
                t.info.descriptions.get(i).map(|d| d.as_str()).unwrap_or(""),
            )?;
            let mut voices = Vec::new();
            for _ in tr.step_voices(i) {
                voices.push(match t.info.voice_functions.get(vi) {
                    Some(entrain_format::voices::Resolved::Known {
                        func, transition, ..
                    }) => format!(
                        "{}{}",
                        entrain_format::track::function_name(*func),
                        if *transition { "_transition" } else { "" }
                    ),
                    _ => "unknown".to_owned(),
                });
                vi += 1;
            }
            sd.set_item("voices", voices)?;
            steps.append(sd)?;
        }
        d.set_item("steps", steps)?;
        Ok(d)
    })
}

// ---- live playback: shared pieces -------------------------------------------------------

fn status_dict<'py>(py: Python<'py>, s: &Snapshot) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    let sr = s.sample_rate as f64;
    d.set_item("position", s.position as f64 / sr)?;
    d.set_item("position_frames", s.position)?;
    d.set_item("delivered_frames", s.delivered)?;
    d.set_item("duration", s.total_s)?;
    d.set_item("sample_rate", s.sample_rate)?;
    d.set_item("channels", s.channels)?;
    d.set_item("paused", s.paused)?;
    d.set_item("finished", s.finished)?;
    d.set_item("step", s.step)?;
    d.set_item("underruns", s.underruns)?;
    d.set_item("gpu", s.gpu)?;
    Ok(d)
}

/// Reads `samples` (a flat sequence of floats, or a numpy array of any shape, flattened in
/// C order) and returns the number of stereo frames, checking the samples.
fn count_clip_frames(samples: &Bound<'_, PyAny>) -> PyResult<u64> {
    let flat = if samples.hasattr("reshape")? && !samples.is_instance_of::<PyList>() {
        samples.call_method1("reshape", (-1i64,))?
    } else {
        samples.clone()
    };
    let mut n = 0u64;
    for item in flat.try_iter()? {
        let x: f64 = item?.extract()?;
        if !x.is_finite() {
            return Err(PyValueError::new_err(format!(
                "samples[{n}] is {x}: samples must be finite"
            )));
        }
        n += 1;
    }
    if !n.is_multiple_of(2) {
        return Err(PyValueError::new_err(format!(
            "samples holds {n} values: interleaved stereo needs an even number (L, R, L, R, ...)"
        )));
    }
    Ok(n / 2)
}

const CLIP_WARNING: &std::ffi::CStr =
    c"pushed clip samples are not played: this version renders overlay clips from their files only (the samples are checked and counted)";
const GPU_WARNING: &std::ffi::CStr =
    c"playback mixes on the CPU (the audio thread never waits for a GPU): the request is recorded; module-level enable_gpu() moves offline renders to the GPU";

/// Runs `f` on a session slot with the GIL released (`None` when the slot is empty).
fn with_slot<R: Send>(
    py: Python<'_>,
    slot: &Mutex<Option<Session>>,
    f: impl FnOnce(&mut Session) -> Result<R, Failure> + Send,
) -> PyResult<Option<R>> {
    Ok(py.detach(|| lock(slot).as_mut().map(f).transpose())?)
}

// ---- live playback: the original module-level API ---------------------------------------

/// Start playing a track on the default output device from ``start_time`` seconds.
///
/// ``track_json``: JSON text, a ``dict``, or the path of a ``.json`` file (see ``render``).
/// ``start_time=None`` (the original's default) means 0. The device is opened at the
/// track's rate when it supports it (else the closest rate; the engine renders at the
/// device rate) in streaming mode (fixed headroom, level 0.25), GPU off, master gain 1.
///
/// There is one module-level stream per process. Calling ``start_stream`` while it plays
/// stops the old stream first (the original leaked it and both played); if the new one
/// then fails to start, no stream is left.
///
/// Raises ``ValueError`` for an invalid track or start time, ``OSError`` when no output
/// device can be opened.
#[pyfunction]
#[pyo3(signature = (track_json, start_time=0.0))]
fn start_stream(
    py: Python<'_>,
    track_json: &Bound<'_, PyAny>,
    start_time: Option<f64>,
) -> PyResult<()> {
    no_panic(|| {
        let src = track_source(track_json)?;
        let start = check_seconds("start_time", start_time.unwrap_or(0.0))?;
        py.detach(|| -> Result<(), Failure> {
            let t = load(&src)?;
            let mut g = lock(&GLOBAL);
            if let Some(old) = g.take() {
                old.stop();
            }
            *g = Some(Session::start(&t, start)?);
            Ok(())
        })?;
        Ok(())
    })
}

/// Stop the module-level stream and close the device. Without a stream this does nothing
/// (returns ``None``), so it is always safe to call. It is also registered with ``atexit``.
#[pyfunction]
fn stop_stream(py: Python<'_>) -> PyResult<()> {
    no_panic(|| {
        py.detach(|| {
            if let Some(s) = lock(&GLOBAL).take() {
                s.stop();
            }
        });
        Ok(())
    })
}

/// Pause the module-level stream: the device plays silence and the position is kept.
/// Without a stream this does nothing. Raises ``RuntimeError`` if the control queue is full.
#[pyfunction]
fn pause_stream(py: Python<'_>) -> PyResult<()> {
    no_panic(|| with_slot(py, &GLOBAL, |s| s.pause()).map(drop))
}

/// Resume the module-level stream where it was paused. Without a stream this does
/// nothing. Raises ``RuntimeError`` if the control queue is full.
#[pyfunction]
fn resume_stream(py: Python<'_>) -> PyResult<()> {
    no_panic(|| with_slot(py, &GLOBAL, |s| s.resume()).map(drop))
}

/// Seek the module-level stream to ``position`` seconds (past the end: the track ends).
///
/// Unlike the original, voices are positioned exactly (a seek into a transition continues
/// the ramp where it is instead of restarting it). Without a stream this does nothing.
/// Raises ``ValueError`` for a negative or non-finite position.
#[pyfunction]
fn start_from(py: Python<'_>, position: f64) -> PyResult<()> {
    no_panic(|| {
        let p = check_seconds("position", position)?;
        with_slot(py, &GLOBAL, |s| s.seek(p)).map(drop)
    })
}

/// Replace the module-level stream's track while it plays, keeping the position (old and
/// new are crossfaded over 0.1 s). The track is loaded and checked even without a stream
/// (then nothing else happens). Raises ``ValueError`` for an invalid track.
#[pyfunction]
fn update_track(py: Python<'_>, track_json: &Bound<'_, PyAny>) -> PyResult<()> {
    no_panic(|| {
        let src = track_source(track_json)?;
        py.detach(|| -> Result<(), Failure> {
            let t = load(&src)?;
            if let Some(s) = lock(&GLOBAL).as_mut() {
                s.update_track(&t)?;
            }
            Ok(())
        })?;
        Ok(())
    })
}

/// Set the module-level stream's master gain, clamped to 0..1, applied live. Without a
/// stream this does nothing (a new stream starts at 1.0). Raises ``ValueError`` for NaN.
#[pyfunction]
fn set_master_gain(py: Python<'_>, gain: f64) -> PyResult<()> {
    no_panic(|| {
        let g = check_gain(gain)?;
        with_slot(py, &GLOBAL, |s| s.set_master_gain(g)).map(drop)
    })
}

/// Turn GPU mixing on or off.
///
/// From then on, offline renders (``render``, ``render_sample_wav``, ``render_full_wav``)
/// mix the voices on the GPU through wgpu: the same samples as the CPU mix within
/// ``1e-5`` (Mesa's lavapipe measures bit-identical). Without a usable adapter they mix on
/// the CPU and issue a ``RuntimeWarning`` saying why. Streams always mix on the CPU (the
/// audio thread never waits for a GPU): for the module-level stream the request is only
/// recorded (``stream_status()["gpu"]``); without a stream nothing else happens (a new
/// stream starts with GPU off, as in the original).
#[pyfunction]
fn enable_gpu(py: Python<'_>, enable: bool) -> PyResult<()> {
    no_panic(|| {
        RENDER_GPU.store(enable, Ordering::Relaxed);
        with_slot(py, &GLOBAL, |s| s.enable_gpu(enable)).map(drop)
    })
}

/// Append interleaved stereo samples (L, R, L, R, …) to overlay clip ``index`` of the
/// playing track (the original's streaming clips).
///
/// The original streamed samples into clips whose file failed to load. This version renders
/// overlay clips from their files, and a clip file that cannot be read makes the track fail
/// to load (``OSError``), so no clip waits for samples: they are checked and counted but not
/// played, and a ``RuntimeWarning`` says so. Returns the number of stereo frames
/// received for that clip so far. ``finished=True`` marks the clip complete; pushing to it
/// again raises ``ValueError``. ``samples`` is a sequence of floats or a numpy array
/// (flattened in C order, so a ``(frames, 2)`` array works).
///
/// Raises ``ValueError`` for an odd number of values, a non-finite value, or an index that
/// is not a clip of the playing track (``update_track`` restarts the count for the new
/// track's clips). Without a stream the samples are checked, nothing else happens and 0 is
/// returned.
#[pyfunction]
#[pyo3(signature = (index, samples, finished=false))]
fn push_clip_samples(
    py: Python<'_>,
    index: i64,
    samples: &Bound<'_, PyAny>,
    finished: bool,
) -> PyResult<u64> {
    no_panic(|| {
        let frames = count_clip_frames(samples)?;
        warn(py, CLIP_WARNING)?;
        Ok(with_slot(py, &GLOBAL, |s| s.push_clip(index, frames, finished))?.unwrap_or(0))
    })
}

/// The module-level stream's status as a dict, or ``None`` without a stream: ``position``
/// (s) and ``position_frames`` (track position at the device rate), ``delivered_frames``
/// (frames sent to the device), ``duration`` (track length, s), ``sample_rate`` and
/// ``channels`` (of the device), ``paused``, ``finished`` (the track has ended), ``step``
/// (index of the step sounding, or ``None``), ``underruns`` and ``gpu``.
#[pyfunction]
fn stream_status<'py>(py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
    no_panic(|| {
        let snap = py.detach(|| lock(&GLOBAL).as_ref().map(Session::snapshot));
        snap.map(|s| status_dict(py, &s)).transpose()
    })
}

// ---- the Player class --------------------------------------------------------------------

/// A track playing on the default output device, independent of the module-level stream.
///
/// ``Player(track_json, start=0.0)`` opens the device and starts playing at once
/// (``track_json`` as in ``render``). Use it as a context manager so the device is closed
/// even on errors::
///
///     with realtime_backend.Player("track.json") as p:
///         p.seek(10)
///         p.pause(); p.resume()
///         p.wait(timeout=5)
///
/// ``close()`` (alias ``stop()``) is idempotent; any other method on a closed player raises
/// ``ValueError``, as a closed file does. Several players may play at once. The controls
/// reach the audio thread through a lock-free queue; ``RuntimeError`` if it is full.
/// Raises ``ValueError`` for an invalid track, ``OSError`` when no device can be opened.
#[pyclass(frozen, name = "Player", module = "realtime_backend")]
struct PyPlayer {
    slot: Mutex<Option<Session>>,
}

impl PyPlayer {
    fn run<R: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut Session) -> Result<R, Failure> + Send,
    ) -> PyResult<R> {
        with_slot(py, &self.slot, f)?.ok_or_else(|| PyValueError::new_err("the player is closed"))
    }
}

#[pymethods]
impl PyPlayer {
    #[new]
    #[pyo3(signature = (track_json, start=0.0))]
    fn new(py: Python<'_>, track_json: &Bound<'_, PyAny>, start: f64) -> PyResult<Self> {
        no_panic(|| {
            let src = track_source(track_json)?;
            let start = check_seconds("start", start)?;
            let s = py.detach(|| -> Result<Session, Failure> {
                let t = load(&src)?;
                Session::start(&t, start)
            })?;
            Ok(Self {
                slot: Mutex::new(Some(s)),
            })
        })
    }

    fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    /// Closes the player; exceptions propagate.
    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, PyTuple>) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }

    /// Stop playing and close the device. Idempotent.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        no_panic(|| {
            py.detach(|| {
                if let Some(s) = lock(&self.slot).take() {
                    s.stop();
                }
            });
            Ok(())
        })
    }

    /// Alias of ``close()``.
    fn stop(&self, py: Python<'_>) -> PyResult<()> {
        self.close(py)
    }

    /// Pause: the device plays silence, the position is kept.
    fn pause(&self, py: Python<'_>) -> PyResult<()> {
        no_panic(|| self.run(py, |s| s.pause()))
    }

    /// Resume where it was paused.
    fn resume(&self, py: Python<'_>) -> PyResult<()> {
        no_panic(|| self.run(py, |s| s.resume()))
    }

    /// Jump to ``seconds`` (past the end: the track ends). ``ValueError`` if negative.
    fn seek(&self, py: Python<'_>, seconds: f64) -> PyResult<()> {
        no_panic(|| {
            let p = check_seconds("seconds", seconds)?;
            self.run(py, |s| s.seek(p))
        })
    }

    /// Master gain, clamped to 0..1, applied live. ``ValueError`` for NaN.
    fn set_master_gain(&self, py: Python<'_>, gain: f64) -> PyResult<()> {
        no_panic(|| {
            let g = check_gain(gain)?;
            self.run(py, |s| s.set_master_gain(g))
        })
    }

    /// Request GPU mixing for this stream: recorded, but playback mixes on the CPU (the
    /// audio thread never waits for a GPU), so ``True`` warns; module-level ``enable_gpu``
    /// moves offline renders to the GPU.
    fn enable_gpu(&self, py: Python<'_>, enable: bool) -> PyResult<()> {
        no_panic(|| {
            if enable {
                warn(py, GPU_WARNING)?;
            }
            self.run(py, |s| s.enable_gpu(enable))
        })
    }

    /// Replace the track, keeping the position (crossfaded over 0.1 s).
    fn update_track(&self, py: Python<'_>, track_json: &Bound<'_, PyAny>) -> PyResult<()> {
        no_panic(|| {
            let src = track_source(track_json)?;
            let t = py.detach(|| load(&src))?;
            self.run(py, |s| s.update_track(&t))
        })
    }

    /// As the module-level ``push_clip_samples``, for this player's track.
    #[pyo3(signature = (index, samples, finished=false))]
    fn push_clip_samples(
        &self,
        py: Python<'_>,
        index: i64,
        samples: &Bound<'_, PyAny>,
        finished: bool,
    ) -> PyResult<u64> {
        no_panic(|| {
            let frames = count_clip_frames(samples)?;
            warn(py, CLIP_WARNING)?;
            self.run(py, |s| s.push_clip(index, frames, finished))
        })
    }

    /// Block until the track has ended (``True``) or ``timeout`` seconds have passed
    /// (``False``; ``None`` waits for the end). The GIL is released while waiting and
    /// Ctrl+C interrupts it.
    #[pyo3(signature = (timeout=None))]
    fn wait(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<bool> {
        no_panic(|| {
            let limit = timeout
                .map(|t| check_seconds("timeout", t))
                .transpose()?
                .map(|t| Instant::now() + Duration::from_secs_f64(t.min(1e9)));
            loop {
                if self.run(py, |s| Ok(s.snapshot().finished))? {
                    return Ok(true);
                }
                if limit.is_some_and(|l| Instant::now() >= l) {
                    return Ok(false);
                }
                py.detach(|| std::thread::sleep(Duration::from_millis(10)));
                py.check_signals()?;
            }
        })
    }

    /// The status dict (as ``stream_status()``).
    fn status<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        no_panic(|| {
            let s = self.run(py, |s| Ok(s.snapshot()))?;
            status_dict(py, &s)
        })
    }

    /// Position in the track, seconds.
    #[getter]
    fn position(&self, py: Python<'_>) -> PyResult<f64> {
        let s = self.run(py, |s| Ok(s.snapshot()))?;
        Ok(s.position as f64 / s.sample_rate as f64)
    }

    /// Track length, seconds.
    #[getter]
    fn duration(&self, py: Python<'_>) -> PyResult<f64> {
        Ok(self.run(py, |s| Ok(s.snapshot()))?.total_s)
    }

    /// The device (and rendering) sample rate, Hz.
    #[getter]
    fn sample_rate(&self, py: Python<'_>) -> PyResult<u32> {
        Ok(self.run(py, |s| Ok(s.snapshot()))?.sample_rate)
    }

    /// Paused (as applied by the audio thread).
    #[getter]
    fn paused(&self, py: Python<'_>) -> PyResult<bool> {
        Ok(self.run(py, |s| Ok(s.snapshot()))?.paused)
    }

    /// The track has ended (the device plays silence until closed).
    #[getter]
    fn finished(&self, py: Python<'_>) -> PyResult<bool> {
        Ok(self.run(py, |s| Ok(s.snapshot()))?.finished)
    }

    /// ``close()`` was called.
    #[getter]
    fn closed(&self, py: Python<'_>) -> bool {
        py.detach(|| lock(&self.slot).is_none())
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        match py.detach(|| lock(&self.slot).as_ref().map(Session::snapshot)) {
            None => "<realtime_backend.Player closed>".to_owned(),
            Some(s) => format!(
                "<realtime_backend.Player {:.2}/{:.2} s at {} Hz{}{}>",
                s.position as f64 / s.sample_rate as f64,
                s.total_s,
                s.sample_rate,
                if s.paused { ", paused" } else { "" },
                if s.finished { ", finished" } else { "" }
            ),
        }
    }
}

/// Brainwave-entrainment audio from the original application's JSON track files,
/// rendered by the entrain engine (Rust).
///
/// The original API (``start_stream``, ``stop_stream``, ``pause_stream``,
/// ``resume_stream``, ``start_from``, ``update_track``, ``set_master_gain``,
/// ``enable_gpu``, ``push_clip_samples``, ``render_sample_wav``, ``render_full_wav``) plus
/// ``render`` (numpy), ``validate``, ``track_info``, ``stream_status`` and ``Player``.
/// Tracks are given as JSON text, a dict, or a path to a ``.json`` file (relative noise
/// presets resolve against its folder). Invalid tracks raise ``ValueError`` with located
/// messages; files and the audio device raise ``OSError``.
#[pymodule(name = "realtime_backend")]
mod realtime_backend {
    #[pymodule_export]
    use super::{
        enable_gpu, pause_stream, push_clip_samples, render, render_full_wav, render_sample_wav,
        resume_stream, set_master_gain, start_from, start_stream, stop_stream, stream_status,
        track_info, update_track, validate, PyPlayer,
    };

    #[pymodule_init]
    fn init(m: &pyo3::Bound<'_, pyo3::types::PyModule>) -> pyo3::PyResult<()> {
        use pyo3::prelude::*;
        m.add("__version__", env!("CARGO_PKG_VERSION"))?;
        m.add("SAMPLE_SECONDS", super::SAMPLE_SECONDS)?;
        // The module-level stream is a static that is never dropped: close the device
        // cleanly when the interpreter exits (players close when they are collected).
        let atexit = m.py().import("atexit")?;
        atexit.call_method1("register", (m.getattr("stop_stream")?,))?;
        Ok(())
    }
}
