//! Writing renders to files, atomically: the audio goes to a temporary file next to the
//! destination and is renamed over it only when complete, so a failed or interrupted
//! render never leaves a half-written file under the final name.

use crate::memory::HostEngine;
use entrain_dsp::Frame;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// Sample format of the output file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OutputFormat {
    /// 16-bit PCM WAV, the original's format: `int16(clip(x·32767, -32768, 32767))`
    /// (truncation toward zero).
    #[default]
    Wav16,
    /// 24-bit PCM WAV (`x·8388607`, same rounding).
    Wav24,
    /// 32-bit float WAV (the engine's samples, unchanged).
    WavF32,
}

impl OutputFormat {
    /// Parses `wav16`, `wav24`, `f32`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "wav16" | "wav" | "pcm16" | "16" => Some(Self::Wav16),
            "wav24" | "pcm24" | "24" => Some(Self::Wav24),
            "f32" | "float" | "wavf32" | "float32" => Some(Self::WavF32),
            _ => None,
        }
    }
}

/// What to render.
#[derive(Clone, Debug, Default)]
pub struct RenderOptions {
    /// Sample format.
    pub format: OutputFormat,
    /// First frame (the engine is positioned there).
    pub start_frame: u64,
    /// Frames to render (None = to the end of the track).
    pub frames: Option<u64>,
}

/// Statistics of a finished render.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RenderStats {
    /// Frames written.
    pub frames: u64,
    /// Peak |sample|.
    pub peak: f32,
    /// Samples clipped by the integer conversion.
    pub clipped: u64,
}

/// Why a render failed.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// File system error.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// WAV encoder error.
    #[error("cannot write {path}: {message}")]
    Encode {
        /// The path.
        path: PathBuf,
        /// The encoder's message.
        message: String,
    },
    /// The render was cancelled; nothing was left under the final name.
    #[error("render cancelled")]
    Cancelled,
}

/// Removes the temporary file unless disarmed.
struct TempGuard {
    path: PathBuf,
    armed: bool,
}

impl Drop for TempGuard {
    fn drop(&mut self) {
        if self.armed {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// The temporary path used while writing `dest`.
pub fn temp_path_for(dest: &Path) -> PathBuf {
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "render".into());
    dest.with_file_name(format!(".{name}.partial-{}", std::process::id()))
}

/// Renders `engine` into `dest` (WAV), creating missing directories, atomically.
/// `progress(done, total)` is called about every 0.1 s of audio; `cancel` stops the
/// render (the temporary file is removed).
pub fn render_to_file(
    engine: &mut HostEngine,
    dest: &Path,
    opts: &RenderOptions,
    cancel: Option<&AtomicBool>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<RenderStats, RenderError> {
    let io = |source| RenderError::Io {
        path: dest.to_path_buf(),
        source,
    };
    if let Some(dir) = dest.parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
    }
    let tmp = temp_path_for(dest);
    let mut guard = TempGuard {
        path: tmp.clone(),
        armed: true,
    };
    let file = File::create(&tmp).map_err(io)?;
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: engine.sample_rate(),
        bits_per_sample: match opts.format {
            OutputFormat::Wav16 => 16,
            OutputFormat::Wav24 => 24,
            OutputFormat::WavF32 => 32,
        },
        sample_format: match opts.format {
            OutputFormat::WavF32 => hound::SampleFormat::Float,
            _ => hound::SampleFormat::Int,
        },
    };
    let enc = |e: hound::Error| RenderError::Encode {
        path: dest.to_path_buf(),
        message: e.to_string(),
    };
    let mut w =
        hound::WavWriter::new(BufWriter::with_capacity(1 << 20, file), spec).map_err(enc)?;
    engine.seek(opts.start_frame);
    let available = engine.total_frames().saturating_sub(opts.start_frame);
    let total = opts.frames.unwrap_or(available).min(available);
    let mut stats = RenderStats::default();
    let mut buf: Vec<Frame> = vec![[0.0; 2]; 4096];
    let step = (engine.sample_rate() as u64 / 10).max(1);
    let mut next_report = 0u64;
    while stats.frames < total {
        if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
            return Err(RenderError::Cancelled);
        }
        let want = ((total - stats.frames) as usize).min(buf.len());
        let n = engine.render(&mut buf[..want]);
        let n = if n == 0 { want } else { n };
        for f in &buf[..n] {
            for &x in f {
                stats.peak = stats.peak.max(x.abs());
                match opts.format {
                    OutputFormat::Wav16 => {
                        let v = x * 32767.0;
                        if !(-32768.0..=32767.0).contains(&v) {
                            stats.clipped += 1;
                        }
                        w.write_sample(v.clamp(-32768.0, 32767.0) as i16)
                            .map_err(enc)?;
                    }
                    OutputFormat::Wav24 => {
                        let v = x * 8_388_607.0;
                        if !(-8_388_608.0..=8_388_607.0).contains(&v) {
                            stats.clipped += 1;
                        }
                        w.write_sample(v.clamp(-8_388_608.0, 8_388_607.0) as i32)
                            .map_err(enc)?;
                    }
                    OutputFormat::WavF32 => w.write_sample(x).map_err(enc)?,
                }
            }
        }
        stats.frames += n as u64;
        if stats.frames >= next_report {
            progress(stats.frames, total);
            next_report = stats.frames + step;
        }
    }
    progress(stats.frames, total);
    w.finalize().map_err(enc)?;
    // hound flushed and closed the file; make it durable before it takes the final name.
    File::open(&tmp).and_then(|f| f.sync_all()).map_err(io)?;
    std::fs::rename(&tmp, dest).map_err(io)?;
    guard.armed = false;
    Ok(stats)
}
