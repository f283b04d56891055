//! Decoding audio files (WAV, FLAC, MP3, OGG/Vorbis, … through Symphonia) and resampling
//! them (rubato's FFT resampler, the counterpart of the original's FFT resampling).

use std::path::{Path, PathBuf};

/// Decoded audio.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// Sample rate, Hz.
    pub rate: u32,
    /// Channels in the file.
    pub channels: usize,
    /// Interleaved samples, f32.
    pub samples: Vec<f32>,
}

impl Decoded {
    /// Frames.
    pub fn frames(&self) -> usize {
        self.samples.len() / self.channels.max(1)
    }
}

/// Why a file could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    /// The file could not be opened.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The contents could not be decoded.
    #[error("cannot decode {path}: {message}")]
    Decode {
        /// The path.
        path: PathBuf,
        /// The decoder's message.
        message: String,
    },
}

/// Decodes a whole audio file.
pub fn decode_file(path: &Path) -> Result<Decoded, AudioError> {
    use symphonia::core::codecs::audio::AudioDecoderOptions;
    use symphonia::core::errors::Error;
    use symphonia::core::formats::probe::Hint;
    use symphonia::core::formats::{FormatOptions, TrackType};
    use symphonia::core::io::MediaSourceStream;
    use symphonia::core::meta::MetadataOptions;
    let bad = |m: String| AudioError::Decode {
        path: path.to_path_buf(),
        message: m,
    };
    let file = std::fs::File::open(path).map_err(|source| AudioError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mss = MediaSourceStream::new(Box::new(file), Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    let mut format = symphonia::default::get_probe()
        .probe(
            &hint,
            mss,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|e| bad(e.to_string()))?;
    let track = format
        .default_track(TrackType::Audio)
        .ok_or_else(|| bad("no audio track".into()))?;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or_else(|| bad("not an audio stream".into()))?
        .clone();
    let rate = params
        .sample_rate
        .ok_or_else(|| bad("unknown sample rate".into()))?;
    let track_id = track.id;
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(&params, &AudioDecoderOptions::default())
        .map_err(|e| bad(e.to_string()))?;
    let mut samples: Vec<f32> = Vec::new();
    let mut channels = params.channels.as_ref().map(|c| c.count()).unwrap_or(0);
    let mut tmp: Vec<f32> = Vec::new();
    loop {
        let packet = match format.next_packet() {
            Ok(Some(p)) => p,
            Ok(None) => break,
            Err(Error::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(bad(e.to_string())),
        };
        if packet.track_id != track_id {
            continue;
        }
        match decoder.decode(&packet) {
            Ok(buf) => {
                if channels == 0 {
                    channels = buf.spec().channels().count();
                }
                tmp.resize(buf.samples_interleaved(), 0.0);
                buf.copy_to_slice_interleaved(&mut tmp);
                samples.extend_from_slice(&tmp);
            }
            Err(Error::DecodeError(_)) => continue,
            Err(e) => return Err(bad(e.to_string())),
        }
    }
    if channels == 0 {
        return Err(bad("no channels".into()));
    }
    Ok(Decoded {
        rate,
        channels,
        samples,
    })
}

/// Stereo frames of `d` (mono duplicated; more than two channels: the first two).
pub fn to_stereo(d: &Decoded) -> Vec<[f32; 2]> {
    let ch = d.channels.max(1);
    d.samples
        .chunks_exact(ch)
        .map(|f| if ch == 1 { [f[0], f[0]] } else { [f[0], f[1]] })
        .collect()
}

/// Resamples stereo frames from `from` Hz to `to` Hz to exactly
/// `floor(len·to/from)` frames (the original's length rule).
pub fn resample_stereo(frames: &[[f32; 2]], from: u32, to: u32) -> Result<Vec<[f32; 2]>, String> {
    if from == to || frames.is_empty() {
        return Ok(frames.to_vec());
    }
    use audioadapter::Adapter;
    use rubato::{Fft, FixedSync, Resampler};
    let want = (frames.len() as u64 * to as u64 / from as u64) as usize;
    let interleaved: Vec<f64> = frames
        .iter()
        .flat_map(|f| [f[0] as f64, f[1] as f64])
        .collect();
    let input = audioadapter_buffers::direct::InterleavedSlice::new(&interleaved, 2, frames.len())
        .map_err(|e| e.to_string())?;
    let mut rs = Fft::<f64>::new(from as usize, to as usize, 1024, 2, FixedSync::Both)
        .map_err(|e| e.to_string())?;
    let out = rs
        .process_all(&input, frames.len(), None)
        .map_err(|e| e.to_string())?;
    let n = out.frames();
    let mut v: Vec<[f32; 2]> = (0..want)
        .map(|i| {
            if i < n {
                [
                    out.read_sample(0, i).unwrap_or(0.0) as f32,
                    out.read_sample(1, i).unwrap_or(0.0) as f32,
                ]
            } else {
                [0.0, 0.0]
            }
        })
        .collect();
    v.truncate(want);
    Ok(v)
}
