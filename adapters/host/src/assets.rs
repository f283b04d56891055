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

/// A track and the PCM its clips, subliminal voices and notched noise input refer to:
/// what engines render on a host.
#[derive(Debug, Clone)]
pub struct SharedTrack {
    /// The model.
    pub track: Arc<Track>,
    /// Stereo frames at the track's rate.
    pub pcm: Arc<[Frame]>,
    /// The loaded track this one came from, to prepare its audio again at another rate
    /// ([`SharedTrack::at_rate`]).
    origin: Option<Arc<crate::load::LoadedTrack>>,
}

impl SharedTrack {
    /// A track and its PCM arena.
    pub fn new(track: Arc<Track>, pcm: Arc<[Frame]>) -> Self {
        Self {
            track,
            pcm,
            origin: None,
        }
    }
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
        Self::new(track, Arc::from(Vec::new()))
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
            track: t.track.clone(),
            pcm: t.pcm.clone(),
            origin: Some(Arc::new(t)),
        }
    }
}

impl From<&crate::load::LoadedTrack> for SharedTrack {
    fn from(t: &crate::load::LoadedTrack) -> Self {
        t.clone().into()
    }
}

impl SharedTrack {
    /// The same track rendered at `rate` (used when an audio device runs at another rate
    /// than the track). A track that came from a [`crate::LoadedTrack`] has its audio
    /// prepared again at `rate` from the files (clips, subliminal sources, the noise
    /// input), keeping this track's host mix gains; otherwise the clips' PCM is
    /// resampled and their placement recomputed, and a track with other PCM users
    /// (subliminal voices, a rendered noise input) is refused.
    pub fn at_rate(&self, rate: u32) -> Result<SharedTrack, String> {
        let from = self.track.sample_rate;
        if from == rate {
            return Ok(self.clone());
        }
        if let Some(o) = self.origin.as_ref() {
            let lt = o.at_rate(rate).map_err(|e| e.to_string())?;
            let mut t = crate::load::clone_track(&lt.track);
            t.mix = self.track.mix;
            return Ok(SharedTrack {
                track: Arc::from(t),
                pcm: lt.pcm.clone(),
                origin: Some(Arc::new(lt)),
            });
        }
        let subliminal = self
            .track
            .voices
            .iter()
            .any(|v| matches!(v.params, entrain_engine::model::VoiceParams::Subliminal(_)));
        if subliminal || self.track.noise.is_some_and(|n| n.input.is_some()) {
            return Err(format!(
                "this track's audio cannot be re-targeted from {from} Hz to {rate} Hz \
                 without its files: load it from a file (LoadedTrack)"
            ));
        }
        let mut t = crate::load::clone_track(&self.track);
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
        Ok(SharedTrack::new(Arc::from(t), Arc::from(pcm)))
    }
}

/// Why an audio file a track refers to could not be used.
#[derive(Debug, thiserror::Error)]
#[error("{what} ({path}): {reason}")]
pub struct AssetError {
    /// Which part of the track (`clip 2`, `step 1, voice 0`).
    pub what: String,
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

/// Decodes every audio file `track` refers to at `rate` — the overlay clips of `entries`
/// and the sources of its subliminal voices (named in `json`, the track's text) — resolving
/// paths against `dir`, and fills the track's references. Returns the PCM arena.
pub fn load_assets(
    track: &mut Track,
    entries: &[ClipEntry],
    json: &str,
    dir: Option<&Path>,
    rate: u32,
) -> Result<Vec<Frame>, AssetError> {
    let mut pcm = load_clips(track, entries, dir, rate)?;
    prepare_subliminals(track, json, dir, rate, &mut pcm)?;
    Ok(pcm)
}

/// Decodes every clip of `entries` at `rate`, resolving paths against `dir`, and fills
/// `track.clips`. Returns the PCM arena.
pub fn load_clips(
    track: &mut Track,
    entries: &[ClipEntry],
    dir: Option<&Path>,
    rate: u32,
) -> Result<Vec<Frame>, AssetError> {
    track.clips.clear();
    let mut pcm: Vec<Frame> = Vec::new();
    for e in entries {
        let what = format!("clip {}", e.index);
        let path = match crate::noise::resolve(dir, &e.path) {
            Ok(p) => p,
            Err(err) => {
                return Err(AssetError {
                    what,
                    path: PathBuf::from(e.path.as_str()),
                    reason: err.to_string(),
                });
            }
        };
        let fail = |reason: String| AssetError {
            what: what.clone(),
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

/// Prepares the subliminal voices (VOICES.md §11 steps 1–2 and the normalisation of
/// step 4): each source decoded, averaged to mono, resampled to `rate`, multiplied by the
/// carrier from its own start and normalised to peak 1, appended to `pcm`; then the peak
/// of the combined signal over the step is measured with the engine's own f32 arithmetic.
/// Unlike the original, an unreadable or empty source is an error, not a silent skip.
pub fn prepare_subliminals(
    track: &mut Track,
    json: &str,
    dir: Option<&Path>,
    rate: u32,
    pcm: &mut Vec<Frame>,
) -> Result<(), AssetError> {
    use entrain_engine::model::{SubliminalMode, VoiceParams, MAX_SUBLIMINAL_SOURCES};
    for si in 0..track.steps.len() {
        let step = track.steps[si];
        for vj in 0..step.voice_count as usize {
            let g = step.first_voice as usize + vj;
            let VoiceParams::Subliminal(mut p) = track.voices[g].params else {
                continue;
            };
            let what = format!("step {si}, voice {vj}");
            let mut files: Vec<String> = Vec::new();
            for n in p.names() {
                let raw = json.get(n.start as usize..n.end as usize).unwrap_or("");
                let mut text: heapless::String<1024> = heapless::String::new();
                if !entrain_format::value::unescape_into(raw, &mut text) {
                    return Err(AssetError {
                        what,
                        path: PathBuf::from(raw),
                        reason: "file name too long or badly escaped".into(),
                    });
                }
                files.extend(
                    text.split(';')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(String::from),
                );
            }
            if files.len() > MAX_SUBLIMINAL_SOURCES {
                return Err(AssetError {
                    what,
                    path: PathBuf::from(files.join(";")),
                    reason: format!("more than {MAX_SUBLIMINAL_SOURCES} source files"),
                });
            }
            p.segment_count = 0;
            for f in &files {
                let path = crate::noise::resolve(dir, f).map_err(|e| AssetError {
                    what: what.clone(),
                    path: PathBuf::from(f),
                    reason: e.to_string(),
                })?;
                let fail = |reason: String| AssetError {
                    what: what.clone(),
                    path: path.clone(),
                    reason,
                };
                let d = decode_file(&path).map_err(|e| fail(e.to_string()))?;
                // Average the channels to mono.
                let ch = d.channels.max(1);
                let mono: Vec<Frame> = d
                    .samples
                    .chunks_exact(ch)
                    .map(|s| {
                        let m = s.iter().map(|&x| x as f64).sum::<f64>() / ch as f64;
                        [m as f32, m as f32]
                    })
                    .collect();
                let mono = resample_stereo(&mono, d.rate, rate).map_err(&fail)?;
                if mono.is_empty() {
                    return Err(fail("no audio".into()));
                }
                // DSB-SC modulation from the file's start, normalised to peak 1.
                let w = entrain_dsp::math::TAU * p.carrier_hz / rate as f64;
                let seg: Vec<f64> = mono
                    .iter()
                    .enumerate()
                    .map(|(j, x)| x[0] as f64 * entrain_dsp::math::sin(w * j as f64))
                    .collect();
                let peak = seg.iter().fold(0.0f64, |m, v| m.max(v.abs()));
                if peak <= 0.0 {
                    return Err(fail("the source is silent".into()));
                }
                let offset = pcm.len() as u64;
                pcm.extend(seg.iter().map(|v| {
                    let x = (v / peak) as f32;
                    [x, x]
                }));
                p.segments[p.segment_count as usize] = PcmRef {
                    offset,
                    frames: seg.len() as u64,
                };
                p.segment_count += 1;
            }
            // Peak of the combined signal over the step, as the voice computes it.
            let n = (step.duration * rate as f64).max(0.0) as u64;
            let segs = p.segments();
            if segs.is_empty() {
                // No sources: the voice is silent (as the original).
                p.norm = 0.0;
                track.voices[g].params = VoiceParams::Subliminal(p);
                continue;
            }
            let value = |i: u64| -> f32 {
                match p.mode {
                    SubliminalMode::Stack => {
                        let mut acc = 0.0f32;
                        for s in segs {
                            acc += pcm[(s.offset + i % s.frames) as usize][0];
                        }
                        acc / segs.len() as f32
                    }
                    SubliminalMode::Sequence => {
                        let gap = rate as u64;
                        let cycle: u64 = segs.iter().map(|s| s.frames + gap).sum();
                        let mut q = i % cycle;
                        for s in segs {
                            if q < s.frames {
                                return pcm[(s.offset + q) as usize][0];
                            }
                            q -= s.frames;
                            if q < gap {
                                return 0.0;
                            }
                            q -= gap;
                        }
                        0.0
                    }
                }
            };
            // The combination repeats with the least common multiple of the segment
            // lengths (stack) or the cycle (sequence): no need to look further.
            let period = match p.mode {
                SubliminalMode::Stack => segs.iter().fold(1u64, |l, s| lcm(l, s.frames)),
                SubliminalMode::Sequence => segs.iter().map(|s| s.frames + rate as u64).sum(),
            };
            let look = n.min(period.max(1));
            let mut peak = 0.0f32;
            for i in 0..look {
                peak = peak.max(value(i).abs());
            }
            p.norm = if peak > 0.0 { 1.0 / peak } else { 0.0 };
            track.voices[g].params = VoiceParams::Subliminal(p);
        }
    }
    Ok(())
}

fn lcm(a: u64, b: u64) -> u64 {
    fn gcd(mut a: u64, mut b: u64) -> u64 {
        while b != 0 {
            (a, b) = (b, a % b);
        }
        a
    }
    if a == 0 || b == 0 {
        return a.max(b);
    }
    (a / gcd(a, b)).saturating_mul(b)
}
