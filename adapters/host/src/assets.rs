//! The audio a track refers to — overlay clips (TRACK_FORMAT.md §10) — decoded,
//! resampled to the rendering rate and placed in one PCM arena that the engine borrows
//! ([`SharedTrack`]). The engine never opens a file.

use crate::audio::{decode_file, resample_stereo, to_stereo, AudioError};
use entrain_dsp::Frame;
use entrain_engine::engine::TrackSource;
use entrain_engine::model::{ClipSpec, PcmRef, Track, TrackRef};
use entrain_format::clips::ClipEntry;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A track and the PCM its clips refer to: what engines render on a host.
#[derive(Debug, Clone)]
pub struct SharedTrack {
    /// The model.
    pub track: Arc<Track>,
    /// Stereo frames at the track's rate.
    pub pcm: Arc<[Frame]>,
}

impl TrackSource for SharedTrack {
    fn track(&self) -> TrackRef<'_> {
        self.track.view()
    }
    fn pcm(&self) -> &[Frame] {
        &self.pcm
    }
}

impl From<Arc<Track>> for SharedTrack {
    /// A track without clip audio (an engine refuses to render clips it has no PCM for).
    fn from(track: Arc<Track>) -> Self {
        Self {
            track,
            pcm: Arc::from(Vec::new()),
        }
    }
}

impl From<&Arc<Track>> for SharedTrack {
    fn from(track: &Arc<Track>) -> Self {
        track.clone().into()
    }
}

impl From<&Track> for SharedTrack {
    fn from(track: &Track) -> Self {
        Arc::new(track.clone()).into()
    }
}

impl From<&SharedTrack> for SharedTrack {
    fn from(t: &SharedTrack) -> Self {
        t.clone()
    }
}

impl From<crate::load::LoadedTrack> for SharedTrack {
    fn from(t: crate::load::LoadedTrack) -> Self {
        Self {
            track: t.track,
            pcm: t.pcm,
        }
    }
}

impl From<&crate::load::LoadedTrack> for SharedTrack {
    fn from(t: &crate::load::LoadedTrack) -> Self {
        Self {
            track: t.track.clone(),
            pcm: t.pcm.clone(),
        }
    }
}

impl SharedTrack {
    /// The same track rendered at `rate`: the clips' PCM is resampled and their placement
    /// recomputed (used when an audio device runs at another rate than the track).
    pub fn at_rate(&self, rate: u32) -> Result<SharedTrack, String> {
        let from = self.track.sample_rate;
        if from == rate {
            return Ok(self.clone());
        }
        let mut t = (*self.track).clone();
        t.sample_rate = rate;
        let scale = |n: u64| (n as u128 * rate as u128 / from as u128) as u64;
        let mut pcm: Vec<Frame> = Vec::new();
        for c in t.clips.iter_mut() {
            let src = &self.pcm[c.pcm.offset as usize..(c.pcm.offset + c.pcm.frames) as usize];
            let res = resample_stereo(src, from, rate)?;
            c.pcm = PcmRef {
                offset: pcm.len() as u64,
                frames: res.len() as u64,
            };
            c.start = scale(c.start);
            c.fade_in = scale(c.fade_in).min(c.pcm.frames);
            c.fade_out = scale(c.fade_out).min(c.pcm.frames);
            pcm.extend_from_slice(&res);
        }
        Ok(SharedTrack {
            track: Arc::new(t),
            pcm: Arc::from(pcm),
        })
    }
}

/// Why a clip could not be used.
#[derive(Debug, thiserror::Error)]
#[error("clip {index} ({path}): {reason}")]
pub struct ClipLoadError {
    /// Clip index in the track.
    pub index: u16,
    /// The path as resolved.
    pub path: PathBuf,
    /// What went wrong.
    pub reason: String,
}

/// Linear gain of the SB duration cut's fade-out: 50 ms, at most a quarter of the kept
/// length (Session-Builder, TRACK_FORMAT.md §10.1 `duration`).
fn cut_fade_frames(keep: usize, rate: u32) -> usize {
    ((0.05 * rate as f64) as usize).min(keep / 4)
}

/// Decodes every clip of `entries` at `rate`, resolving paths against `dir`, and fills
/// `track.clips`. Returns the PCM arena.
pub fn load_clips(
    track: &mut Track,
    entries: &[ClipEntry],
    dir: Option<&Path>,
    rate: u32,
) -> Result<Vec<Frame>, ClipLoadError> {
    track.clips.clear();
    let mut pcm: Vec<Frame> = Vec::new();
    for e in entries {
        let path = match crate::noise::resolve(dir, &e.path) {
            Ok(p) => p,
            Err(err) => {
                return Err(ClipLoadError {
                    index: e.index,
                    path: PathBuf::from(e.path.as_str()),
                    reason: err.to_string(),
                });
            }
        };
        let fail = |reason: String| ClipLoadError {
            index: e.index,
            path: path.clone(),
            reason,
        };
        let decoded = decode_file(&path).map_err(|err| match err {
            AudioError::Io { source, .. } => fail(format!("cannot read: {source}")),
            AudioError::Decode { message, .. } => fail(format!("cannot decode: {message}")),
        })?;
        let mut frames =
            resample_stereo(&to_stereo(&decoded), decoded.rate, rate).map_err(&fail)?;
        // `duration`: cut with a short fade-out at the cut.
        if let Some(d) = e.duration {
            let keep = (d * rate as f64) as usize;
            if keep < frames.len() {
                frames.truncate(keep);
                let f = cut_fade_frames(keep, rate);
                for k in 0..f {
                    let g = entrain_dsp::linspace::linspace_at(1.0, 0.0, f as u64, true, k as u64)
                        as f32;
                    let i = keep - f + k;
                    frames[i][0] *= g;
                    frames[i][1] *= g;
                }
            }
        }
        let n = frames.len() as u64;
        let pan = if e.pan != 0.0 {
            let (l, r) = entrain_dsp::pan::pan2_gains(e.pan);
            Some((l * core::f32::consts::SQRT_2, r * core::f32::consts::SQRT_2))
        } else {
            None
        };
        let spec = ClipSpec {
            pcm: PcmRef {
                offset: pcm.len() as u64,
                frames: n,
            },
            start: (e.start * rate as f64) as u64,
            gain: e.gain as f32,
            pan,
            fade_in: ((e.fade_in * rate as f64) as u64).min(n),
            fade_out: ((e.fade_out * rate as f64) as u64).min(n),
        };
        pcm.extend_from_slice(&frames);
        track
            .clips
            .push(spec)
            .map_err(|_| fail("too many clips".into()))?;
    }
    Ok(pcm)
}
