//! Background noise on the host side (TRACK_FORMAT.md §9, NOISE.md §1, §3): resolving the
//! `.noise` preset and `input_audio_path` against the track's folder, rejecting remote
//! locations, reading the preset and decoding an input WAV for the core to filter.

use entrain_engine::model::Track;
use entrain_format::{Report, TrackInfo, WarningKind};
use std::path::{Path, PathBuf};

/// Why a noise preset or its input audio could not be used.
#[derive(Debug, thiserror::Error)]
pub enum NoiseLoadError {
    /// A URL or network path: the engine reads local files only.
    #[error("{0}: remote locations are not supported (use a local file)")]
    Remote(String),
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The preset is not a valid noise file; every located problem is listed.
    #[error("{}", .0)]
    Invalid(String),
    /// The track names a preset whose text the caller did not supply (no file system:
    /// [`complete_track_noise_from_text`]).
    #[error("the track's background noise names the preset {0}: supply its text")]
    MissingPreset(String),
    /// The input audio is not a readable WAV file.
    #[error("cannot decode {path}: {message}")]
    Decode {
        /// The path.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

/// True for URLs (`scheme://…`, `file:`, `http:`) and network paths (`\\server\share`,
/// `//server/share`).
pub fn is_remote(p: &str) -> bool {
    let t = p.trim();
    if t.starts_with("\\\\") || t.starts_with("//") {
        return true;
    }
    if let Some(i) = t.find("://") {
        let scheme = &t[..i];
        return !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    }
    let lower = t.to_ascii_lowercase();
    ["http:", "https:", "ftp:", "file:", "smb:"]
        .iter()
        .any(|s| lower.starts_with(s))
}

/// Resolves an asset path of a track: absolute paths as given, relative paths against
/// the track file's folder (the working directory when the track has no file).
pub fn resolve(track_dir: Option<&Path>, p: &str) -> Result<PathBuf, NoiseLoadError> {
    if is_remote(p) {
        return Err(NoiseLoadError::Remote(p.to_owned()));
    }
    let path = Path::new(p.trim());
    Ok(if path.is_absolute() {
        path.to_path_buf()
    } else {
        match track_dir {
            Some(d) => d.join(path),
            None => path.to_path_buf(),
        }
    })
}

/// Completes `track.noise` from the track's `background_noise` object: reads and parses
/// the preset file it names (relative to the track's folder). When the preset notches an
/// input file (`input_audio_path`), returns that file, resolved and checked to exist; the
/// caller renders it with [`render_noise_input`] into the track's PCM arena.
pub fn complete_track_noise(
    track: &mut Track,
    info: &TrackInfo,
    track_path: Option<&Path>,
    warnings: &mut Report,
) -> Result<Option<PathBuf>, NoiseLoadError> {
    let dir = track_path.and_then(Path::parent);
    let mut resolved = None;
    complete_with(
        track,
        info,
        warnings,
        &mut |file| {
            let path = resolve(dir, file)?;
            let bytes = std::fs::read(&path).map_err(|source| NoiseLoadError::Io {
                path: path.clone(),
                source,
            })?;
            Ok((bytes, path.display().to_string()))
        },
        &mut |input| {
            let p = resolve(dir, input)?;
            if p.is_file() {
                resolved = Some(p);
                Ok(true)
            } else {
                Err(NoiseLoadError::Io {
                    path: p,
                    source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
                })
            }
        },
    )?;
    Ok(resolved)
}

/// Runs the original's swept-notch algorithm over the first channel of `path` (NOISE.md
/// §3–§5 with `input_audio_path`; [`entrain_dsp::noise::py::PyNotch`], sample-exact
/// against the original) with `track.noise`'s parameters at the track's rate, appends the
/// stereo result to `pcm` and points `track.noise.input` at it.
///
/// The original reads the file's samples as they are, at the track's rate whatever the
/// file's own rate (a 48 kHz file in a 44.1 kHz track plays 8 % slow and flat); here a
/// file at another rate is resampled to the track's rate first, as intended. Memory:
/// the rendered input is kept whole (8 bytes per frame, the file's length).
pub fn render_noise_input(
    track: &mut Track,
    path: &Path,
    pcm: &mut Vec<entrain_dsp::Frame>,
) -> Result<(), NoiseLoadError> {
    let Some(mut spec) = track.noise else {
        return Ok(());
    };
    let rate = track.sample_rate;
    let (mut input, file_rate) = read_first_channel_at(path)?;
    if file_rate != rate && !input.is_empty() {
        let st: Vec<[f32; 2]> = input.iter().map(|&x| [x, x]).collect();
        let res = crate::audio::resample_stereo(&st, file_rate, rate).map_err(|message| {
            NoiseLoadError::Decode {
                path: path.to_path_buf(),
                message,
            }
        })?;
        input = res.iter().map(|f| f[0]).collect();
    }
    let offset = pcm.len();
    pcm.resize(offset + input.len(), [0.0, 0.0]);
    // The generator holds about 280 KB of analysis state, built by value (several copies
    // in an unoptimised build): run it on a thread with a stack sized for it rather than
    // on the caller's, which may be a small worker or audio-host thread.
    let params = spec.params;
    let out = &mut pcm[offset..];
    let input_ref = &input;
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("entrain-noise-input".into())
            .stack_size(8 << 20)
            .spawn_scoped(s, move || {
                let mut g = Box::new(entrain_dsp::noise::py::PyNotch::new(
                    &params, rate, input_ref,
                ));
                g.process(input_ref, out);
            })
            .map(|h| h.join().is_ok())
            .unwrap_or(false)
    })
    .then_some(())
    .ok_or_else(|| NoiseLoadError::Decode {
        path: path.to_path_buf(),
        message: "the notch generator could not run".into(),
    })?;
    spec.input_file = true;
    spec.input = Some(entrain_engine::model::PcmRef {
        offset: offset as u64,
        frames: input.len() as u64,
    });
    track.noise = Some(spec);
    Ok(())
}

/// [`complete_track_noise`] without a file system (a browser): the caller hands in the
/// text of the preset the track names (`preset`, read by the caller from wherever the
/// track came from). Errors in the preset are reported under the name the track gives
/// it. A track naming a preset fails with [`NoiseLoadError::MissingPreset`] when
/// `preset` is `None`; a supplied preset is ignored when the track names none. Remote
/// names are refused as by [`resolve`]; an `input_audio_path` cannot be read here: the
/// layer is silent and a warning says so.
pub fn complete_track_noise_from_text(
    track: &mut Track,
    info: &TrackInfo,
    preset: Option<&[u8]>,
    warnings: &mut Report,
) -> Result<(), NoiseLoadError> {
    let refuse_remote = |p: &str| {
        if is_remote(p) {
            Err(NoiseLoadError::Remote(p.to_owned()))
        } else {
            Ok(())
        }
    };
    complete_with(
        track,
        info,
        warnings,
        &mut |file| {
            refuse_remote(file)?;
            match preset {
                Some(bytes) => Ok((bytes.to_vec(), file.trim().to_owned())),
                None => Err(NoiseLoadError::MissingPreset(file.trim().to_owned())),
            }
        },
        &mut |input| refuse_remote(input).map(|()| false),
    )
}

/// The preset path a track's `background_noise` names (as written, relative to the
/// track's folder), if any.
pub fn preset_name(info: &TrackInfo) -> Option<&str> {
    info.background.as_ref()?.file.as_ref().map(|f| f.as_str())
}

type ReadPreset<'a> = dyn FnMut(&str) -> Result<(Vec<u8>, String), NoiseLoadError> + 'a;
/// Vets an `input_audio_path`; `Ok(true)` when the caller will render it.
type CheckInput<'a> = dyn FnMut(&str) -> Result<bool, NoiseLoadError> + 'a;

/// The shared rule of [`complete_track_noise`] and [`complete_track_noise_from_text`]:
/// `read` fetches the named preset (bytes and the name its errors are reported under),
/// `check_input` vets an `input_audio_path`.
fn complete_with(
    track: &mut Track,
    info: &TrackInfo,
    warnings: &mut Report,
    read: &mut ReadPreset<'_>,
    check_input: &mut CheckInput<'_>,
) -> Result<(), NoiseLoadError> {
    let Some(bg) = info.background.as_ref() else {
        return Ok(());
    };
    let mut spec = bg.spec;
    let mut input = bg.input_audio_path.as_ref().map(|s| s.as_str().to_owned());
    if let Some(file) = bg.file.as_ref() {
        let (bytes, name) = read(file)?;
        let mut report = Report::default();
        let parsed = entrain_format::noise::parse_noise_file(&bytes, &mut report);
        if report.has_errors() {
            return Err(NoiseLoadError::Invalid(crate::load::format_report(
                &report,
                Some(Path::new(&name)),
            )));
        }
        let Some(nf) = parsed else {
            return Ok(());
        };
        spec.params = nf.params;
        input = nf.input_audio_path.map(|s| s.as_str().to_owned());
        for w in report.warnings {
            warnings.warn(w.location, w.kind);
        }
    } else if !bg.has_params {
        return Ok(());
    }
    if let Some(inp) = input {
        let rendered = check_input(&inp)?;
        spec.input_file = true;
        if !rendered {
            warnings.warn(
                entrain_format::Location::default().with_key("input_audio_path"),
                WarningKind::NotRendered("background noise from an input_audio_path file"),
            );
        }
    }
    track.noise = Some(spec);
    Ok(())
}

/// The first channel of a WAV file as f32 in [-1, 1) (integer PCM divided by
/// 2^(bits-1), as the original's `soundfile` reads it; 16-bit values are exact in f32).
pub fn read_first_channel(path: &Path) -> Result<Vec<f32>, NoiseLoadError> {
    read_first_channel_at(path).map(|(x, _)| x)
}

/// [`read_first_channel`] and the file's sample rate. Files other than WAV (FLAC, OGG,
/// MP3, …) are decoded through Symphonia.
pub fn read_first_channel_at(path: &Path) -> Result<(Vec<f32>, u32), NoiseLoadError> {
    let is_wav = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("wav") || e.eq_ignore_ascii_case("wave"));
    if !is_wav {
        let d = crate::audio::decode_file(path).map_err(|e| match e {
            crate::audio::AudioError::Io { path, source } => NoiseLoadError::Io { path, source },
            crate::audio::AudioError::Decode { path, message } => {
                NoiseLoadError::Decode { path, message }
            }
        })?;
        let ch = d.channels.max(1);
        return Ok((d.samples.iter().step_by(ch).copied().collect(), d.rate));
    }
    let dec = |e: hound::Error| match e {
        hound::Error::IoError(source) => NoiseLoadError::Io {
            path: path.to_path_buf(),
            source,
        },
        other => NoiseLoadError::Decode {
            path: path.to_path_buf(),
            message: other.to_string(),
        },
    };
    let mut r = hound::WavReader::open(path).map_err(dec)?;
    let spec = r.spec();
    let ch = spec.channels.max(1) as usize;
    let mut out = Vec::with_capacity(r.len() as usize / ch);
    match spec.sample_format {
        hound::SampleFormat::Float => {
            for (i, s) in r.samples::<f32>().enumerate() {
                let s = s.map_err(dec)?;
                if i % ch == 0 {
                    out.push(s);
                }
            }
        }
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample.clamp(1, 32) - 1)) as f64;
            for (i, s) in r.samples::<i32>().enumerate() {
                let s = s.map_err(dec)?;
                if i % ch == 0 {
                    out.push((s as f64 * scale) as f32);
                }
            }
        }
    }
    Ok((out, spec.sample_rate))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_paths_are_rejected() {
        for p in [
            "http://example.org/a.noise",
            "https://x/y.noise",
            "file:///tmp/a.noise",
            "\\\\server\\share\\a.noise",
            "//server/share/a.noise",
            "s3://bucket/a.noise",
        ] {
            assert!(is_remote(p), "{p}");
            assert!(matches!(resolve(None, p), Err(NoiseLoadError::Remote(_))));
        }
        for p in [
            "noise/a.noise",
            "/abs/a.noise",
            "C:\\x\\a.noise",
            "a:b.noise",
        ] {
            assert!(!is_remote(p), "{p}");
        }
        assert_eq!(
            resolve(Some(Path::new("/t")), "noise/a.noise").unwrap(),
            PathBuf::from("/t/noise/a.noise")
        );
    }
}
