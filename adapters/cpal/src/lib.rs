//! `entrain-cpal`: plays a track live through the default audio device.
//!
//! The [`Player`] owns the audio stream. Every control (pause, resume, seek, master gain,
//! track replacement, GPU toggle) travels to the audio callback through a fixed-capacity
//! lock-free queue ([`rtrb`]); a full queue hands the command back to the caller. The
//! callback never allocates, frees, locks, logs or panics: engines replaced by
//! [`Player::update_track`] are built on the caller's thread and the old engine travels
//! back through a second queue to be dropped there. Tests prove the absence of
//! allocation with [`entrain_host::alloc_guard`].
//!
//! Commands may be scheduled at an exact output frame ([`Player::send_at`]); the callback
//! splits its buffer there, which makes playback reproducible sample for sample (the
//! tests compare a capture of the ALSA `file` device with offline renders).
//!
//! Pause, resume and seek are sample-exact (no declicking ramps), so a click may be
//! audible; replacing the track crossfades old and new over [`SWAP_CROSSFADE_S`].

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use entrain_dsp::Frame;
use entrain_engine::engine::{Config, Mode};
use entrain_engine::model::Track;
use entrain_host::alloc_guard::RealtimeScope;
use entrain_host::{build_engine, HostEngine, SharedTrack};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;

/// Capacity of the control queue (commands in flight).
pub const COMMAND_QUEUE: usize = 1024;
/// Length of the crossfade when the track is replaced while playing.
pub const SWAP_CROSSFADE_S: f32 = 0.1;
/// Frames rendered per engine call inside the callback (scratch size).
const SCRATCH: usize = 4096;

/// A live control.
#[derive(Debug)]
pub enum Command {
    /// Output silence, keep the position.
    Pause,
    /// Continue from the kept position.
    Resume,
    /// Jump to a frame of the track.
    Seek(u64),
    /// Live output gain, 0..1.
    MasterGain(f32),
    /// Replace the engine (already positioned), crossfading.
    Swap(Box<HostEngine>),
    /// GPU mixing on/off (recorded; mixing stays on the CPU in this build).
    Gpu(bool),
}

struct Scheduled {
    at: Option<u64>,
    cmd: Command,
}

/// State shared with the audio thread (atomics only).
#[derive(Debug, Default)]
pub struct Status {
    /// Track position, frames.
    pub position: AtomicU64,
    /// Frames delivered to the device so far.
    pub delivered: AtomicU64,
    /// Device underruns reported by the backend.
    pub underruns: AtomicU64,
    /// Other stream errors reported by the backend.
    pub errors: AtomicU64,
    /// The track has ended.
    pub finished: AtomicBool,
    /// Playback is paused.
    pub paused: AtomicBool,
    /// Index of the step sounding now (u32::MAX if none).
    pub step: AtomicU32,
    /// GPU mixing requested.
    pub gpu: AtomicBool,
}

/// Why playback could not start or a control was refused.
#[derive(Debug, thiserror::Error)]
pub enum PlayError {
    /// No output device.
    #[error("no audio output device is available")]
    NoDevice,
    /// The device refused every configuration we can render.
    #[error("the audio output device cannot be used: {0}")]
    Config(String),
    /// The backend failed to open or start the stream.
    #[error("cannot open the audio stream: {0}")]
    Stream(String),
    /// The engine could not be built for this track.
    #[error("cannot play this track: {0}")]
    Engine(String),
    /// The control queue is full; the command was not sent.
    #[error("the control queue is full")]
    QueueFull,
}

/// Options of [`Player::start`].
#[derive(Debug, Clone)]
pub struct PlayOptions {
    /// Start position, seconds.
    pub start_s: f64,
    /// Output level (streaming mode headroom target).
    pub level: f32,
    /// Master gain at start.
    pub master_gain: f32,
}

impl Default for PlayOptions {
    fn default() -> Self {
        Self {
            start_s: 0.0,
            level: 0.25,
            master_gain: 1.0,
        }
    }
}

/// A track playing on the default output device.
pub struct Player {
    stream: cpal::Stream,
    ctl: rtrb::Producer<Scheduled>,
    garbage: rtrb::Consumer<Box<HostEngine>>,
    status: Arc<Status>,
    rate: u32,
    channels: u16,
    level: f32,
}

impl std::fmt::Debug for Player {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Player")
            .field("rate", &self.rate)
            .field("channels", &self.channels)
            .finish()
    }
}

/// The track re-targeted to the device rate (the engine renders at the device rate).
pub fn track_at_rate(track: &Track, rate: u32) -> Arc<Track> {
    let mut t = entrain_host::load::clone_track(track);
    t.sample_rate = rate;
    Arc::from(t)
}

fn make_engine(
    track: SharedTrack,
    rate: u32,
    level: f32,
    start_frame: u64,
) -> Result<Box<HostEngine>, PlayError> {
    let cfg = Config {
        mode: Mode::Streaming,
        target_level: level,
        phase_align: false,
    };
    // The engine renders at the device rate (clip audio resampled to it).
    let t = track.at_rate(rate).map_err(PlayError::Engine)?;
    let mut e =
        build_engine(t, cfg, &mut |_| {}).map_err(|e| PlayError::Engine(format!("{e:?}")))?;
    e.seek(start_frame);
    Ok(Box::new(e))
}

impl Player {
    /// Opens the default output device and starts playing `track` from `opts.start_s`.
    pub fn start(track: impl Into<SharedTrack>, opts: &PlayOptions) -> Result<Self, PlayError> {
        let p = Self::prepare(track, opts)?;
        p.play()?;
        Ok(p)
    }

    /// Opens the device and builds the stream without starting it (commands may be
    /// queued, e.g. scheduled with [`Player::send_at`], before [`Player::play`]).
    pub fn prepare(track: impl Into<SharedTrack>, opts: &PlayOptions) -> Result<Self, PlayError> {
        let track: SharedTrack = track.into();
        let host = cpal::default_host();
        let device = host.default_output_device().ok_or(PlayError::NoDevice)?;
        let (config, format) = choose_config(&device, track.track.sample_rate)?;
        let rate = config.sample_rate;
        let start = (opts.start_s.max(0.0) * rate as f64) as u64;
        let mut engine = make_engine(track, rate, opts.level, start)?;
        engine.set_master_gain(opts.master_gain);
        let (ctl, rx) = rtrb::RingBuffer::<Scheduled>::new(COMMAND_QUEUE);
        let (gtx, garbage) = rtrb::RingBuffer::<Box<HostEngine>>::new(8);
        let status = Arc::new(Status {
            step: AtomicU32::new(u32::MAX),
            ..Status::default()
        });
        status.position.store(start, Ordering::Relaxed);
        let channels = config.channels;
        let mut cb = Callback::new(engine, rx, gtx, status.clone(), channels as usize, rate);
        let st_err = status.clone();
        let err_fn = move |e: cpal::Error| {
            if matches!(e.kind(), cpal::ErrorKind::Xrun) {
                st_err.underruns.fetch_add(1, Ordering::Relaxed);
            } else {
                st_err.errors.fetch_add(1, Ordering::Relaxed);
            }
        };
        let stream = match format {
            cpal::SampleFormat::F32 => device.build_output_stream(
                config,
                move |d: &mut [f32], _: &cpal::OutputCallbackInfo| cb.fill(d),
                err_fn,
                None,
            ),
            cpal::SampleFormat::I16 => device.build_output_stream(
                config,
                move |d: &mut [i16], _: &cpal::OutputCallbackInfo| cb.fill(d),
                err_fn,
                None,
            ),
            cpal::SampleFormat::I32 => device.build_output_stream(
                config,
                move |d: &mut [i32], _: &cpal::OutputCallbackInfo| cb.fill(d),
                err_fn,
                None,
            ),
            cpal::SampleFormat::U16 => device.build_output_stream(
                config,
                move |d: &mut [u16], _: &cpal::OutputCallbackInfo| cb.fill(d),
                err_fn,
                None,
            ),
            other => {
                return Err(PlayError::Config(format!(
                    "unsupported sample format {other}"
                )))
            }
        }
        .map_err(|e| PlayError::Stream(e.to_string()))?;
        Ok(Self {
            stream,
            ctl,
            garbage,
            status,
            rate,
            channels,
            level: opts.level,
        })
    }

    /// Starts (or restarts) the device stream.
    pub fn play(&self) -> Result<(), PlayError> {
        self.stream
            .play()
            .map_err(|e| PlayError::Stream(e.to_string()))
    }

    /// The device (and rendering) sample rate.
    pub fn sample_rate(&self) -> u32 {
        self.rate
    }

    /// Channels of the device stream.
    pub fn channels(&self) -> u16 {
        self.channels
    }

    /// Live status.
    pub fn status(&self) -> &Status {
        &self.status
    }

    /// Sends a command to be applied at the start of the next callback.
    pub fn send(&mut self, cmd: Command) -> Result<(), PlayError> {
        self.collect_garbage();
        self.ctl
            .push(Scheduled { at: None, cmd })
            .map_err(|_| PlayError::QueueFull)
    }

    /// Sends a command to be applied exactly when `frame` output frames have been
    /// delivered (sample-exact scheduling).
    pub fn send_at(&mut self, frame: u64, cmd: Command) -> Result<(), PlayError> {
        self.collect_garbage();
        self.ctl
            .push(Scheduled {
                at: Some(frame),
                cmd,
            })
            .map_err(|_| PlayError::QueueFull)
    }

    /// Pauses (silence, position kept).
    pub fn pause(&mut self) -> Result<(), PlayError> {
        self.send(Command::Pause)
    }

    /// Resumes.
    pub fn resume(&mut self) -> Result<(), PlayError> {
        self.send(Command::Resume)
    }

    /// Seeks to `seconds`.
    pub fn seek(&mut self, seconds: f64) -> Result<(), PlayError> {
        self.send(Command::Seek((seconds.max(0.0) * self.rate as f64) as u64))
    }

    /// Sets the master gain (clamped to 0..1 by the engine).
    pub fn set_master_gain(&mut self, g: f32) -> Result<(), PlayError> {
        self.send(Command::MasterGain(g))
    }

    /// Requests GPU mixing on or off.
    pub fn enable_gpu(&mut self, on: bool) -> Result<(), PlayError> {
        self.send(Command::Gpu(on))
    }

    /// Replaces the track while playing, keeping the position (crossfaded over
    /// [`SWAP_CROSSFADE_S`]). The new engine is built here; the audio thread positions it.
    pub fn update_track(&mut self, track: impl Into<SharedTrack>) -> Result<(), PlayError> {
        let e = make_engine(track.into(), self.rate, self.level, 0)?;
        self.send(Command::Swap(e))
    }

    /// [`Player::update_track`] taking effect exactly after `frame` delivered frames.
    pub fn update_track_at(
        &mut self,
        frame: u64,
        track: impl Into<SharedTrack>,
    ) -> Result<(), PlayError> {
        let e = make_engine(track.into(), self.rate, self.level, 0)?;
        self.send_at(frame, Command::Swap(e))
    }

    /// Drops engines the audio thread has finished with (called by every control).
    pub fn collect_garbage(&mut self) {
        while let Ok(old) = self.garbage.pop() {
            drop(old);
        }
    }

    /// Stops playback and closes the device.
    pub fn stop(mut self) {
        let _ = self.stream.pause();
        self.collect_garbage();
    }
}

fn choose_config(
    device: &cpal::Device,
    track_rate: u32,
) -> Result<(cpal::StreamConfig, cpal::SampleFormat), PlayError> {
    let mut best: Option<(u32, cpal::StreamConfig, cpal::SampleFormat)> = None;
    let ranges = device
        .supported_output_configs()
        .map_err(|e| PlayError::Config(e.to_string()))?;
    for r in ranges {
        let fmt = r.sample_format();
        let fmt_rank = match fmt {
            cpal::SampleFormat::F32 => 0,
            cpal::SampleFormat::I32 => 1,
            cpal::SampleFormat::I16 => 2,
            cpal::SampleFormat::U16 => 3,
            _ => continue,
        };
        let ch = r.channels();
        if ch == 0 {
            continue;
        }
        let ch_rank = if ch == 2 { 0 } else { 1 };
        let rate = track_rate.clamp(r.min_sample_rate(), r.max_sample_rate());
        let rate_rank = if rate == track_rate { 0 } else { 1 };
        let score = rate_rank * 100 + ch_rank * 10 + fmt_rank;
        let cfg = cpal::StreamConfig {
            channels: ch,
            sample_rate: rate,
            buffer_size: cpal::BufferSize::Default,
        };
        if best.as_ref().is_none_or(|b| score < b.0) {
            best = Some((score, cfg, fmt));
        }
    }
    match best {
        Some((_, c, f)) => Ok((c, f)),
        None => {
            let d = device
                .default_output_config()
                .map_err(|e| PlayError::Config(e.to_string()))?;
            Ok((d.config(), d.sample_format()))
        }
    }
}

/// Everything the audio callback owns. Nothing here allocates after construction.
struct Callback {
    engine: Box<HostEngine>,
    incoming: Option<Box<HostEngine>>,
    fade_left: u32,
    fade_len: u32,
    retired: Option<Box<HostEngine>>,
    rx: rtrb::Consumer<Scheduled>,
    gtx: rtrb::Producer<Box<HostEngine>>,
    pending: Option<Scheduled>,
    status: Arc<Status>,
    channels: usize,
    paused: bool,
    delivered: u64,
    a: Vec<Frame>,
    b: Vec<Frame>,
}

impl Callback {
    fn new(
        engine: Box<HostEngine>,
        rx: rtrb::Consumer<Scheduled>,
        gtx: rtrb::Producer<Box<HostEngine>>,
        status: Arc<Status>,
        channels: usize,
        rate: u32,
    ) -> Self {
        Self {
            engine,
            incoming: None,
            fade_left: 0,
            fade_len: ((SWAP_CROSSFADE_S * rate as f32) as u32).max(1),
            retired: None,
            rx,
            gtx,
            pending: None,
            status,
            channels,
            paused: false,
            delivered: 0,
            a: vec![[0.0; 2]; SCRATCH],
            b: vec![[0.0; 2]; SCRATCH],
        }
    }

    fn apply(&mut self, cmd: Command) {
        match cmd {
            Command::Pause => self.paused = true,
            Command::Resume => self.paused = false,
            Command::Seek(f) => {
                self.engine.seek(f);
                if let Some(inc) = self.incoming.as_mut() {
                    inc.seek(f);
                }
            }
            Command::MasterGain(g) => {
                self.engine.set_master_gain(g);
                if let Some(inc) = self.incoming.as_mut() {
                    inc.set_master_gain(g);
                }
            }
            Command::Swap(mut e) => {
                // Positioned here, at the exact frame the swap takes effect.
                e.seek(self.engine.position());
                if let Some(prev) = self.incoming.take() {
                    // A swap during a swap: the pending engine is superseded.
                    self.retire(prev);
                }
                self.incoming = Some(e);
                self.fade_left = self.fade_len;
            }
            Command::Gpu(on) => self.status.gpu.store(on, Ordering::Relaxed),
        }
        self.status.paused.store(self.paused, Ordering::Relaxed);
    }

    fn retire(&mut self, e: Box<HostEngine>) {
        if let Some(old) = self.retired.take() {
            if let Err(rtrb::PushError::Full(back)) = self.gtx.push(old) {
                // Keep the oldest; the newer one waits in `retired` (never freed here).
                self.retired = Some(back);
                // `e` cannot be stored: keep it as the engine to retry (rare: 8 swaps in flight).
                let _ = self
                    .gtx
                    .push(e)
                    .map_err(|rtrb::PushError::Full(x)| core::mem::forget(x));
                return;
            }
        }
        if let Err(rtrb::PushError::Full(x)) = self.gtx.push(e) {
            self.retired = Some(x);
        }
    }

    /// Frames until the next scheduled command (None if none waiting with a time).
    fn next_due(&mut self) -> Option<u64> {
        loop {
            if self.pending.is_none() {
                self.pending = self.rx.pop().ok();
            }
            let p = self.pending.as_ref()?;
            match p.at {
                Some(at) if at > self.delivered => return Some(at - self.delivered),
                _ => {
                    let s = self.pending.take()?;
                    self.apply(s.cmd);
                }
            }
        }
    }

    fn fill<T: cpal::SizedSample + cpal::FromSample<f32>>(&mut self, data: &mut [T]) {
        let _rt = RealtimeScope::new();
        if let Some(old) = self.retired.take() {
            self.retire(old);
        }
        let ch = self.channels.max(1);
        let frames = data.len() / ch;
        let mut done = 0usize;
        while done < frames {
            let due = self.next_due();
            let mut n = (frames - done).min(SCRATCH);
            if let Some(d) = due {
                n = n.min(d as usize);
            }
            let n = n.max(1);
            self.render(n);
            let out = &mut data[done * ch..(done + n) * ch];
            for (f, o) in self.a[..n].iter().zip(out.chunks_exact_mut(ch)) {
                match ch {
                    1 => o[0] = T::from_sample((f[0] + f[1]) * 0.5),
                    _ => {
                        o[0] = T::from_sample(f[0]);
                        o[1] = T::from_sample(f[1]);
                        for x in o[2..].iter_mut() {
                            *x = T::from_sample(0.0f32);
                        }
                    }
                }
            }
            done += n;
            self.delivered += n as u64;
        }
        // Trailing samples of a partial frame.
        for x in data[frames * ch..].iter_mut() {
            *x = T::from_sample(0.0f32);
        }
        self.status
            .delivered
            .store(self.delivered, Ordering::Relaxed);
        self.status
            .position
            .store(self.engine.position(), Ordering::Relaxed);
        self.status.step.store(
            self.engine
                .current_step()
                .map(|s| s as u32)
                .unwrap_or(u32::MAX),
            Ordering::Relaxed,
        );
    }

    fn render(&mut self, n: usize) {
        let a = &mut self.a[..n];
        if self.paused {
            a.iter_mut().for_each(|f| *f = [0.0, 0.0]);
            return;
        }
        let got = self.engine.render(a);
        if got < n && self.incoming.is_none() {
            self.status.finished.store(true, Ordering::Relaxed);
        }
        if let Some(inc) = self.incoming.as_mut() {
            let b = &mut self.b[..n];
            inc.render(b);
            let len = self.fade_len as f32;
            for (x, y) in a.iter_mut().zip(b.iter()) {
                if self.fade_left > 0 {
                    // Equal-power crossfade old → new.
                    let t = 1.0 - self.fade_left as f32 / len;
                    let (g_out, g_in) = entrain_dsp::crossfade::CrossfadeCurve::EqualPower
                        .gains((t * 1_000_000.0) as u64, 1_000_001);
                    x[0] = x[0] * g_out + y[0] * g_in;
                    x[1] = x[1] * g_out + y[1] * g_in;
                    self.fade_left -= 1;
                } else {
                    *x = *y;
                }
            }
            if self.fade_left == 0 {
                if let Some(new) = self.incoming.take() {
                    let old = core::mem::replace(&mut self.engine, new);
                    self.retire(old);
                }
            }
        }
    }
}
