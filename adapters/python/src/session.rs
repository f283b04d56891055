//! A playing stream (one [`entrain_cpal::Player`] plus what the Python API reports about
//! it), shared by the module-level functions (one process-global stream) and the
//! `Player` class (one stream per object).
//!
//! Nothing here touches Python: callers release the GIL, then lock. Locking only without
//! the GIL is what keeps a thread that waits for the lock from holding the GIL that the
//! lock's owner needs to finish (a deadlock otherwise).

use crate::input::Failure;
use entrain_cpal::{PlayError, PlayOptions, Player};
use entrain_host::LoadedTrack;
use std::sync::atomic::Ordering;
use std::sync::{Mutex, MutexGuard};

/// Samples pushed to one streaming clip.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClipFeed {
    /// Stereo frames received so far.
    pub frames: u64,
    /// `finished=True` was pushed: no more samples are accepted.
    pub finished: bool,
}

/// A stream on the default output device.
pub struct Session {
    player: Player,
    clips: Vec<ClipFeed>,
    total_s: f64,
}

/// A snapshot of a session's status.
#[derive(Debug, Clone, Copy)]
pub struct Snapshot {
    /// Track position, frames at the device rate.
    pub position: u64,
    /// Frames delivered to the device.
    pub delivered: u64,
    /// Device sample rate.
    pub sample_rate: u32,
    /// Device channels.
    pub channels: u16,
    /// Paused (as applied by the audio thread).
    pub paused: bool,
    /// The track has ended.
    pub finished: bool,
    /// Step sounding now.
    pub step: Option<u32>,
    /// Underruns reported by the device.
    pub underruns: u64,
    /// GPU mixing requested.
    pub gpu: bool,
    /// Track length, seconds.
    pub total_s: f64,
}

/// Maps a playback error: device problems are `OSError`, an unplayable track `ValueError`.
pub fn play_failure(e: PlayError) -> Failure {
    match e {
        PlayError::Engine(m) => Failure::Value(format!("cannot play this track: {m}")),
        PlayError::QueueFull => Failure::Runtime(format!(
            "the control queue is full ({} commands waiting for the audio thread); the command was not applied",
            entrain_cpal::COMMAND_QUEUE
        )),
        other => Failure::Os {
            errno: None,
            message: other.to_string(),
            path: None,
        },
    }
}

/// Track length in seconds at the track's rate.
pub fn total_seconds(t: &LoadedTrack) -> f64 {
    match entrain_engine::timeline::Timeline::new(&t.track.view()) {
        Ok(tl) => tl.total as f64 / t.track.sample_rate as f64,
        Err(_) => 0.0,
    }
}

impl Session {
    /// Opens the default output device and starts playing from `start_s`.
    pub fn start(t: &LoadedTrack, start_s: f64) -> Result<Self, Failure> {
        let player = Player::start(
            t,
            &PlayOptions {
                start_s,
                ..PlayOptions::default()
            },
        )
        .map_err(play_failure)?;
        Ok(Self {
            player,
            clips: vec![ClipFeed::default(); crate::input::clip_count(t)],
            total_s: total_seconds(t),
        })
    }

    /// Stops playback and closes the device.
    pub fn stop(self) {
        self.player.stop();
    }

    /// Pauses (silence, position kept).
    pub fn pause(&mut self) -> Result<(), Failure> {
        self.player.pause().map_err(play_failure)
    }

    /// Resumes.
    pub fn resume(&mut self) -> Result<(), Failure> {
        self.player.resume().map_err(play_failure)
    }

    /// Seeks to `seconds` (clamped to the end).
    pub fn seek(&mut self, seconds: f64) -> Result<(), Failure> {
        self.player.seek(seconds).map_err(play_failure)
    }

    /// Live master gain (0..1).
    pub fn set_master_gain(&mut self, g: f32) -> Result<(), Failure> {
        self.player.set_master_gain(g).map_err(play_failure)
    }

    /// Records the GPU request.
    pub fn enable_gpu(&mut self, on: bool) -> Result<(), Failure> {
        self.player.enable_gpu(on).map_err(play_failure)
    }

    /// Replaces the track, keeping the position (crossfaded); clip feeds restart.
    pub fn update_track(&mut self, t: &LoadedTrack) -> Result<(), Failure> {
        self.player.update_track(t).map_err(play_failure)?;
        self.clips = vec![ClipFeed::default(); crate::input::clip_count(t)];
        self.total_s = total_seconds(t);
        Ok(())
    }

    /// Accepts `frames` stereo frames for clip `index`; returns the clip's total so far.
    pub fn push_clip(&mut self, index: i64, frames: u64, finished: bool) -> Result<u64, Failure> {
        let n = self.clips.len();
        let clip = usize::try_from(index)
            .ok()
            .and_then(|i| self.clips.get_mut(i))
            .ok_or_else(|| {
                Failure::Value(format!(
                    "clip index {index} is out of range: the track has {n} overlay clip{}",
                    if n == 1 { "" } else { "s" }
                ))
            })?;
        if clip.finished {
            return Err(Failure::Value(format!(
                "clip {index} is finished: no samples are accepted after finished=True"
            )));
        }
        clip.frames += frames;
        clip.finished = finished;
        Ok(clip.frames)
    }

    /// The live status.
    pub fn snapshot(&self) -> Snapshot {
        let st = self.player.status();
        let step = st.step.load(Ordering::Relaxed);
        Snapshot {
            position: st.position.load(Ordering::Relaxed),
            delivered: st.delivered.load(Ordering::Relaxed),
            sample_rate: self.player.sample_rate(),
            channels: self.player.channels(),
            paused: st.paused.load(Ordering::Relaxed),
            finished: st.finished.load(Ordering::Relaxed),
            step: (step != u32::MAX).then_some(step),
            underruns: st.underruns.load(Ordering::Relaxed),
            gpu: st.gpu.load(Ordering::Relaxed),
            total_s: self.total_s,
        }
    }
}

/// Locks a session slot, recovering from poisoning (a panic while locked leaves the
/// slot in a usable state: every operation on it is a single call).
pub fn lock(m: &Mutex<Option<Session>>) -> MutexGuard<'_, Option<Session>> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The process-global stream of the module-level functions (`start_stream` & co.).
pub static GLOBAL: Mutex<Option<Session>> = Mutex::new(None);
