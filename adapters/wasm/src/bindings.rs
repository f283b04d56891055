//! The JS API (wasm-bindgen). Errors become JS exceptions (`Error` with the located
//! message); `u64` values (frames) are `bigint`.
//!
//! Two layers: the [`Player`] class (any number of players, explicit options), and the
//! original package's module-level functions (`start_stream`, `process_block`, …) over one
//! implicit player.

use crate::player::{self, Options, MAX_BLOCK_FRAMES};
use entrain_engine::engine::Mode;
use std::cell::RefCell;
use wasm_bindgen::prelude::*;

fn js_err(msg: String) -> JsError {
    JsError::new(&msg)
}

fn summary_value(loaded: &entrain_host::LoadedTrack, rate: u32) -> Result<JsValue, JsError> {
    let v = crate::summary::summary(loaded, rate).map_err(js_err)?;
    js_sys::JSON::parse(&v.to_string()).map_err(|_| JsError::new("summary is not JSON"))
}

/// Reads `{mode, sample_rate, start_time, level, master_gain}` from a JS object
/// (`undefined`/`null`: defaults). Unknown keys are refused, so a typo is not ignored.
fn options_from(js: &JsValue) -> Result<(Options, Option<String>), JsError> {
    let mut o = Options::default();
    let mut preset = None;
    if js.is_undefined() || js.is_null() {
        return Ok((o, preset));
    }
    let obj: &js_sys::Object = js
        .dyn_ref()
        .ok_or_else(|| JsError::new("options must be an object"))?;
    for key in js_sys::Object::keys(obj).iter() {
        let k = key.as_string().unwrap_or_default();
        let v = js_sys::Reflect::get(obj, &key).unwrap_or(JsValue::UNDEFINED);
        if v.is_undefined() {
            continue;
        }
        let num = |what: &str| {
            v.as_f64()
                .filter(|x| x.is_finite())
                .ok_or_else(|| JsError::new(&format!("option `{what}` must be a finite number")))
        };
        match k.as_str() {
            "mode" => {
                o.mode = match v.as_string().as_deref() {
                    Some("streaming") => Mode::Streaming,
                    Some("compatible") => Mode::Compatible,
                    _ => {
                        return Err(JsError::new(
                            "option `mode` must be \"streaming\" or \"compatible\"",
                        ))
                    }
                }
            }
            "sample_rate" => o.sample_rate = Some(num("sample_rate")? as u32),
            "start_time" => o.start_s = num("start_time")?,
            "level" => o.level = num("level")? as f32,
            "master_gain" => o.master_gain = num("master_gain")? as f32,
            "noise_preset" => {
                preset = Some(
                    v.as_string()
                        .ok_or_else(|| JsError::new("option `noise_preset` must be a string"))?,
                )
            }
            other => {
                return Err(JsError::new(&format!(
                    "unknown option `{other}` (expected mode, sample_rate, start_time, level, \
                     master_gain, noise_preset)"
                )))
            }
        }
    }
    Ok((o, preset))
}

/// Parses and validates a track; returns its summary (placed steps, voices, noise,
/// warnings, length) at its own sample rate. Throws the located error message. A track
/// whose background noise names a `.noise` preset needs its text (`noise_preset`).
#[wasm_bindgen]
pub fn validate_track(json: &str, noise_preset: Option<String>) -> Result<JsValue, JsError> {
    let loaded = player::load(json, noise_preset.as_deref()).map_err(js_err)?;
    summary_value(&loaded, loaded.track.sample_rate)
}

/// The `.noise` preset path the track's background noise names (relative to the track's
/// folder), or `undefined`. Throws if the track is invalid or the path is remote (URLs and
/// network paths are refused: only local files or same-origin assets are read).
#[wasm_bindgen]
pub fn noise_preset_path(json: &str) -> Result<Option<String>, JsError> {
    let mut track = Box::<entrain_engine::model::Track>::default();
    let mut info = entrain_format::TrackInfo::default();
    if let Err(report) = entrain_format::parse(json.as_bytes(), &mut track, &mut info) {
        return Err(JsError::new(&entrain_host::load::format_report(
            &report, None,
        )));
    }
    match entrain_host::noise::preset_name(&info) {
        Some(p) if entrain_host::noise::is_remote(p) => Err(JsError::new(&format!(
            "background noise: {p}: remote locations are not supported (use a local file)"
        ))),
        Some(p) => Ok(Some(p.trim().to_owned())),
        None => Ok(None),
    }
}

/// True for URLs and network paths, which the package refuses to read.
#[wasm_bindgen]
pub fn is_remote_path(path: &str) -> bool {
    entrain_host::noise::is_remote(path)
}

/// FNV-1a 64 of f32 samples as little-endian bits, in order (interleaved `L R` for
/// stereo): the cross-target fingerprint printed by `realtime_backend hash`.
#[wasm_bindgen]
pub fn fnv1a64(samples: &[f32]) -> u64 {
    let mut h = entrain_dsp::hash::Fnv1a64::new();
    for s in samples {
        h.write_f32(*s);
    }
    h.finish()
}

/// The package version.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

/// A track being played: pull-mode rendering with live controls. Build with
/// `new Player(json, { noise_preset, mode, sample_rate, start_time, level, master_gain })`
/// (every option optional; defaults: the track's rate, `"streaming"`, 0 s, 0.25, 1).
#[wasm_bindgen]
pub struct Player {
    inner: player::Player,
}

#[wasm_bindgen]
impl Player {
    /// Parses the track, builds the engine and positions it at `start_time`. Throws the
    /// located error message of an invalid track or noise preset.
    #[wasm_bindgen(constructor)]
    pub fn new(json: &str, options: JsValue) -> Result<Player, JsError> {
        let (opts, preset) = options_from(&options)?;
        let inner = player::Player::new(json, preset.as_deref(), opts).map_err(js_err)?;
        Ok(Player { inner })
    }

    /// Renders `frames` frames (at most [`MAX_BLOCK_FRAMES`]) into the player's own
    /// interleaved buffer, read through `output_ptr()` as a `Float32Array` view on the
    /// module's memory (no allocation, no copy: the AudioWorklet path). Returns the frames
    /// of track written (fewer at the end; silence follows).
    pub fn render(&mut self, frames: usize) -> usize {
        self.inner.render(frames)
    }

    /// Address (in the module's memory) of the interleaved buffer `render` fills.
    /// Re-create views on it after anything that may grow the memory (`update_track`).
    pub fn output_ptr(&self) -> usize {
        self.inner.output().as_ptr() as usize
    }

    /// Frames the `render` buffer holds.
    pub fn max_block_frames(&self) -> usize {
        MAX_BLOCK_FRAMES
    }

    /// Renders `out.length / 2` interleaved frames into `out` (copied in and out of the
    /// module's memory). Returns the frames of track written.
    pub fn render_into(&mut self, out: &mut [f32]) -> usize {
        self.inner.render_interleaved(out)
    }

    /// The original's `process_block`: a new `Float32Array` of `n` interleaved samples
    /// (`n / 2` frames).
    pub fn process_block(&mut self, n: usize) -> Vec<f32> {
        let mut v = vec![0.0; n];
        self.inner.render_interleaved(&mut v);
        v
    }

    /// Silence from now on, keeping the position.
    pub fn pause(&mut self) {
        self.inner.pause();
    }

    /// Continue from the kept position.
    pub fn resume(&mut self) {
        self.inner.resume();
    }

    /// Paused?
    #[wasm_bindgen(getter)]
    pub fn paused(&self) -> bool {
        self.inner.is_paused()
    }

    /// Jump to `seconds` (sample-exact; negative or NaN: the start; past the end: the end).
    pub fn seek(&mut self, seconds: f64) {
        self.inner.seek_seconds(seconds);
    }

    /// Jump to a frame.
    pub fn seek_frames(&mut self, frame: u64) {
        self.inner.seek_frames(frame);
    }

    /// Live output gain, clamped to 0..1.
    pub fn set_master_gain(&mut self, gain: f32) {
        self.inner.set_master_gain(gain);
    }

    /// The master gain in effect.
    #[wasm_bindgen(getter)]
    pub fn master_gain(&self) -> f32 {
        self.inner.master_gain()
    }

    /// Replaces the track keeping the position, crossfading old and new over 0.1 s
    /// (equal power). Throws (and keeps playing the old track) if the new one is invalid.
    pub fn update_track(
        &mut self,
        json: &str,
        noise_preset: Option<String>,
    ) -> Result<(), JsError> {
        self.inner
            .update_track(json, noise_preset.as_deref())
            .map_err(js_err)
    }

    /// Track position, frames (`bigint`).
    #[wasm_bindgen(getter)]
    pub fn position(&self) -> u64 {
        self.inner.position()
    }

    /// Track position, seconds.
    #[wasm_bindgen(getter)]
    pub fn position_seconds(&self) -> f64 {
        self.inner.position() as f64 / self.inner.sample_rate() as f64
    }

    /// The original's name for the position: frames rendered from the start of the track
    /// (`bigint`; seeks move it).
    pub fn elapsed_samples(&self) -> u64 {
        self.inner.position()
    }

    /// Index of the step sounding (the last in file order during a crossfade), or -1 past
    /// the end.
    pub fn current_step(&self) -> i32 {
        self.inner.current_step().map(|s| s as i32).unwrap_or(-1)
    }

    /// Frames in the whole track (`bigint`).
    #[wasm_bindgen(getter)]
    pub fn total_frames(&self) -> u64 {
        self.inner.total_frames()
    }

    /// Track length, seconds.
    #[wasm_bindgen(getter)]
    pub fn duration(&self) -> f64 {
        self.inner.total_frames() as f64 / self.inner.sample_rate() as f64
    }

    /// Rendering sample rate, Hz.
    #[wasm_bindgen(getter)]
    pub fn sample_rate(&self) -> u32 {
        self.inner.sample_rate()
    }

    /// The whole track has been rendered.
    #[wasm_bindgen(getter)]
    pub fn finished(&self) -> bool {
        self.inner.finished()
    }

    /// The summary of the current track at the rendering rate (as `validate_track`).
    pub fn summary(&self) -> Result<JsValue, JsError> {
        summary_value(self.inner.loaded(), self.inner.sample_rate())
    }

    /// Accepted for compatibility and reported back by `gpu_requested`; mixing always
    /// runs on the CPU in this package (there is no GPU path in a browser build).
    pub fn enable_gpu(&mut self, enable: bool) {
        self.inner.enable_gpu(enable);
    }

    /// The last `enable_gpu` request.
    #[wasm_bindgen(getter)]
    pub fn gpu_requested(&self) -> bool {
        self.inner.gpu_requested()
    }
}

// ---- the original package's module-level API ---------------------------------------

thread_local! {
    /// The implicit player of the module-level functions (wasm is single-threaded; each
    /// AudioWorklet or worker instantiating the module has its own).
    static STREAM: RefCell<Option<player::Player>> = const { RefCell::new(None) };
}

fn with_stream<R>(f: impl FnOnce(&mut player::Player) -> R) -> Option<R> {
    STREAM.with(|s| s.borrow_mut().as_mut().map(f))
}

/// The original's `start_stream(json, sample_rate, start_time)`: builds the implicit
/// player (streaming mode) at `sample_rate` (0: the track's), positioned at `start_time`
/// seconds, replacing any previous one. `noise_preset`: the text of the `.noise` preset
/// the track names, if any. Throws the located error (the original panicked).
#[wasm_bindgen]
pub fn start_stream(
    track_json: &str,
    sample_rate: u32,
    start_time: f64,
    noise_preset: Option<String>,
) -> Result<(), JsError> {
    let opts = Options {
        sample_rate: (sample_rate != 0).then_some(sample_rate),
        start_s: start_time,
        ..Options::default()
    };
    let p = player::Player::new(track_json, noise_preset.as_deref(), opts).map_err(js_err)?;
    STREAM.with(|s| *s.borrow_mut() = Some(p));
    Ok(())
}

/// The original's `process_block(n)`: the next `n` interleaved samples (`n / 2` frames;
/// the name says frames, the original returns samples). Silence without a stream.
#[wasm_bindgen]
pub fn process_block(n: usize) -> Vec<f32> {
    let mut v = vec![0.0; n];
    with_stream(|p| p.render_interleaved(&mut v));
    v
}

/// Replaces the implicit player's track keeping the position (0.1 s equal-power
/// crossfade). Throws on an invalid track, or when no stream was started.
#[wasm_bindgen]
pub fn update_track(track_json: &str, noise_preset: Option<String>) -> Result<(), JsError> {
    with_stream(|p| p.update_track(track_json, noise_preset.as_deref()))
        .unwrap_or_else(|| Err("no stream: call start_stream first".to_owned()))
        .map_err(js_err)
}

/// Silence, keeping the position.
#[wasm_bindgen]
pub fn pause_stream() {
    with_stream(player::Player::pause);
}

/// Continue from the kept position.
#[wasm_bindgen]
pub fn resume_stream() {
    with_stream(player::Player::resume);
}

/// The original's `start_from(position)`: seek to `position` seconds (sample-exact).
#[wasm_bindgen]
pub fn start_from(position: f64) {
    with_stream(|p| p.seek_seconds(position));
}

/// Drops the implicit player.
#[wasm_bindgen]
pub fn stop_stream() {
    STREAM.with(|s| *s.borrow_mut() = None);
}

/// Live output gain of the implicit player, clamped to 0..1.
#[wasm_bindgen]
pub fn set_master_gain(gain: f32) {
    with_stream(|p| p.set_master_gain(gain));
}

/// Accepted for compatibility with the original; a no-op here (mixing always runs on
/// the CPU: there is no GPU path in a browser build).
#[wasm_bindgen]
pub fn enable_gpu(enable: bool) {
    with_stream(|p| p.enable_gpu(enable));
}

/// Index of the step sounding, or -1 (no stream, or past the end).
#[wasm_bindgen]
pub fn current_step() -> i32 {
    with_stream(|p| p.current_step().map(|s| s as i32).unwrap_or(-1)).unwrap_or(-1)
}

/// Frames rendered from the start of the track (the position; `bigint`), 0 without a
/// stream.
#[wasm_bindgen]
pub fn elapsed_samples() -> u64 {
    with_stream(|p| p.position()).unwrap_or(0)
}
