//! Reading track files.

use entrain_engine::model::Track;
use entrain_format::{Report, TrackInfo};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A parsed track with what was learned while parsing it.
#[derive(Debug, Clone)]
pub struct LoadedTrack {
    /// The track model (shared: engines borrow it).
    pub track: Arc<Track>,
    /// Output file name, descriptions, noise and clip spans.
    pub info: TrackInfo,
    /// Warnings (the track renders, but not everything is used as written).
    pub warnings: Report,
    /// The JSON text (noise and clip sections are read from it later).
    pub json: String,
    /// The file the track came from (relative asset paths resolve against its folder).
    pub path: Option<PathBuf>,
    /// Decoded clip audio at the track's rate (the arena the clips refer to).
    pub pcm: Arc<[entrain_dsp::Frame]>,
    /// The file the background noise notches (`input_audio_path`), resolved.
    pub noise_input: Option<PathBuf>,
}

impl LoadedTrack {
    /// The track and its clip audio, for an engine.
    pub fn shared(&self) -> crate::SharedTrack {
        self.into()
    }

    /// The same track rendered at `rate`: clip audio decoded again at that rate.
    pub fn at_rate(&self, rate: u32) -> Result<LoadedTrack, LoadError> {
        if rate == self.track.sample_rate {
            return Ok(self.clone());
        }
        let mut t = clone_track(&self.track);
        t.sample_rate = rate;
        let dir = self.path.as_deref().and_then(Path::parent);
        let mut pcm =
            crate::assets::load_assets(&mut t, &self.info.clip_entries, &self.json, dir, rate)?;
        if let Some(p) = self.noise_input.as_deref() {
            crate::noise::render_noise_input(&mut t, p, &mut pcm)?;
        }
        Ok(LoadedTrack {
            track: Arc::from(t),
            pcm: Arc::from(pcm),
            ..self.clone()
        })
    }
}

/// A heap copy of `t`. The model is about 400 KB (fixed capacities); cloning it into a
/// local and then into an `Arc` keeps several copies on the stack in unoptimised builds,
/// more than a 2 MB worker thread holds.
#[inline(never)]
pub fn clone_track(t: &Track) -> Box<Track> {
    Box::new(t.clone())
}

/// Why a track could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The track is invalid; every located problem is listed.
    #[error("{}", format_report(.0, .1.as_deref()))]
    Invalid(Box<Report>, Option<PathBuf>),
    /// The background noise preset (or its input audio) could not be used.
    #[error("background noise: {0}")]
    Noise(#[from] crate::noise::NoiseLoadError),
    /// An audio file the track refers to (clip, subliminal source) could not be used.
    #[error("{0}")]
    Asset(#[from] crate::assets::AssetError),
}

impl LoadError {
    /// The report of an invalid track.
    pub fn report(&self) -> Option<&Report> {
        match self {
            LoadError::Invalid(r, _) => Some(r),
            LoadError::Io { .. } | LoadError::Noise(_) | LoadError::Asset(_) => None,
        }
    }
}

/// One line per error (`file: location: message`), then a count of omitted ones.
pub fn format_report(r: &Report, path: Option<&Path>) -> String {
    let prefix = path
        .map(|p| format!("{}: ", p.display()))
        .unwrap_or_default();
    let mut lines: Vec<String> = r.errors.iter().map(|e| format!("{prefix}{e}")).collect();
    if r.more_errors > 0 {
        lines.push(format!("{prefix}… and {} more errors", r.more_errors));
    }
    lines.join("\n")
}

/// Parses a track from JSON text.
pub fn load_track_str(json: &str) -> Result<LoadedTrack, LoadError> {
    load(json.to_owned(), None)
}

/// Parses a track from JSON text without a file system (a browser): `preset` is the text
/// of the `.noise` preset its background noise names, if it names one (see
/// [`crate::noise::complete_track_noise_from_text`]).
pub fn load_track_str_with_preset(
    json: &str,
    preset: Option<&[u8]>,
) -> Result<LoadedTrack, LoadError> {
    let mut track = Box::<Track>::default();
    let mut info = TrackInfo::default();
    match entrain_format::parse(json.as_bytes(), &mut track, &mut info) {
        Ok(mut warnings) => {
            crate::noise::complete_track_noise_from_text(&mut track, &info, preset, &mut warnings)?;
            // Clip and subliminal audio: read from the working directory when there is a
            // file system; in a browser a track naming audio files fails with a clear error.
            let rate = track.sample_rate;
            let pcm = crate::assets::load_assets(&mut track, &info.clip_entries, json, None, rate)?;
            Ok(LoadedTrack {
                track: Arc::from(track),
                info,
                warnings,
                json: json.to_owned(),
                path: None,
                pcm: Arc::from(pcm),
                noise_input: None,
            })
        }
        Err(report) => Err(LoadError::Invalid(Box::new(report), None)),
    }
}

/// Reads and parses a track file.
pub fn load_track_file(path: &Path) -> Result<LoadedTrack, LoadError> {
    let json = std::fs::read(path).map_err(|source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let json = match String::from_utf8(json) {
        Ok(s) => s,
        Err(e) => {
            // Let the parser locate the bad byte.
            let bytes = e.into_bytes();
            let mut track = Box::<Track>::default();
            let mut info = TrackInfo::default();
            let report = entrain_format::parse(&bytes, &mut track, &mut info)
                .err()
                .unwrap_or_default();
            return Err(LoadError::Invalid(
                Box::new(report),
                Some(path.to_path_buf()),
            ));
        }
    };
    load(json, Some(path.to_path_buf()))
}

fn load(json: String, path: Option<PathBuf>) -> Result<LoadedTrack, LoadError> {
    let mut track = Box::<Track>::default();
    let mut info = TrackInfo::default();
    match entrain_format::parse(json.as_bytes(), &mut track, &mut info) {
        Ok(mut warnings) => {
            // Background noise preset, read before the track is shared.
            let noise_input = crate::noise::complete_track_noise(
                &mut track,
                &info,
                path.as_deref(),
                &mut warnings,
            )?;
            // Clip audio, decoded and resampled once, before the track is shared; then
            // the notched noise input, rendered once (offline algorithm).
            let dir = path.as_deref().and_then(Path::parent);
            let rate = track.sample_rate;
            let mut pcm =
                crate::assets::load_assets(&mut track, &info.clip_entries, &json, dir, rate)?;
            if let Some(p) = noise_input.as_deref() {
                crate::noise::render_noise_input(&mut track, p, &mut pcm)?;
            }
            Ok(LoadedTrack {
                track: Arc::from(track),
                info,
                warnings,
                json,
                path,
                pcm: Arc::from(pcm),
                noise_input,
            })
        }
        Err(report) => Err(LoadError::Invalid(Box::new(report), path)),
    }
}
