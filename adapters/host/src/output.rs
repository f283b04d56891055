//! Writing renders to files, atomically: the audio goes to a temporary file next to the
//! destination and is renamed over it only when complete, so a failed or interrupted
//! render never leaves a half-written file under the final name.

use crate::file_sink::{FileSink, DIRECT_MIN_BYTES};
use crate::memory::HostEngine;
use crate::spill::Spill;
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
    /// 16-bit FLAC (the original's FLAC output), same quantisation as `Wav16`.
    Flac16,
    /// 24-bit FLAC.
    Flac24,
}

impl OutputFormat {
    /// Parses `wav16`, `wav24`, `f32`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "wav16" | "wav" | "pcm16" | "16" => Some(Self::Wav16),
            "wav24" | "pcm24" | "24" => Some(Self::Wav24),
            "f32" | "float" | "wavf32" | "float32" => Some(Self::WavF32),
            "flac" | "flac16" => Some(Self::Flac16),
            "flac24" => Some(Self::Flac24),
            _ => None,
        }
    }

    /// The format implied by a file extension (`.wav` → 16-bit WAV, `.flac` → 16-bit FLAC).
    pub fn from_extension(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_string_lossy().to_ascii_lowercase();
        match ext.as_str() {
            "wav" => Some(Self::Wav16),
            "flac" => Some(Self::Flac16),
            _ => None,
        }
    }

    /// True for FLAC formats.
    pub fn is_flac(self) -> bool {
        matches!(self, Self::Flac16 | Self::Flac24)
    }

    /// Bytes of one stereo frame in a WAV of this format.
    fn bytes_per_frame(self) -> u64 {
        2 * u64::from(self.bits() / 8)
    }

    fn bits(self) -> u16 {
        match self {
            Self::Wav16 | Self::Flac16 => 16,
            Self::Wav24 | Self::Flac24 => 24,
            Self::WavF32 => 32,
        }
    }
}

/// Quantises a sample like the original (`clip(x·full, -full-1, full)`, truncation toward zero).
#[inline(always)]
fn quantise(x: f32, bits: u16, clipped: &mut u32) -> i32 {
    let full = if bits == 16 { 32767.0f32 } else { 8_388_607.0 };
    let v = x * full;
    // Branch-free (a block loop vectorises it). NaN never reaches here (the engine
    // canonicalises its output); it would count as clipped and give 0, as `as i32` does.
    let c = if v.is_nan() {
        0.0
    } else {
        v.clamp(-full - 1.0, full)
    };
    // Clipped: outside the range or NaN, i.e. changed by the clamp (one comparison,
    // unordered for NaN).
    *clipped += u32::from(c != v);
    // SAFETY: `c` is finite and within [-2^23, 2^23], so it fits an i32 (the checked
    // `as i32` gives the same value but its saturation and NaN fix-ups keep the
    // conversion scalar).
    unsafe { c.to_int_unchecked::<i32>() }
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
    hidden_sibling(dest, "partial")
}

/// `.NAME.KIND-PID` next to `dest`: a hidden file of this process that belongs to it.
pub(crate) fn hidden_sibling(dest: &Path, kind: &str) -> PathBuf {
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "render".into());
    dest.with_file_name(format!(".{name}.{kind}-{}", std::process::id()))
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
    render_to_file_with(
        engine,
        &mut |e, b| e.render(b),
        dest,
        opts,
        cancel,
        progress,
    )
}

/// How [`render_to_file_with`] renders a block: [`HostEngine::render`]'s contract (fill
/// the slice, return the frames of track written). `entrain-gpu`'s staged renderer
/// (GPU mixing) is one.
pub type BlockRenderer<'a> = dyn FnMut(&mut HostEngine, &mut [Frame]) -> usize + 'a;

/// [`render_to_file`] with another block renderer.
pub fn render_to_file_with(
    engine: &mut HostEngine,
    render: &mut BlockRenderer<'_>,
    dest: &Path,
    opts: &RenderOptions,
    cancel: Option<&AtomicBool>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<RenderStats, RenderError> {
    write_file(
        engine,
        &mut Source::Render(render),
        dest,
        opts,
        cancel,
        progress,
    )
}

/// [`render_to_file`] for an engine built by [`crate::spill::build_engine_spilling`]
/// with its spill: the output is the analysis's frames read back and put through
/// [`HostEngine::replay`] (the same bits as rendering, without rendering again).
pub fn render_spill_to_file(
    engine: &mut HostEngine,
    spill: &mut Spill,
    dest: &Path,
    opts: &RenderOptions,
    cancel: Option<&AtomicBool>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<RenderStats, RenderError> {
    write_file(
        engine,
        &mut Source::Replay(spill),
        dest,
        opts,
        cancel,
        progress,
    )
}

/// Where the frames come from: a render, or a spill replayed.
enum Source<'a, 'b> {
    Render(&'a mut BlockRenderer<'b>),
    Replay(&'a mut Spill),
}

fn write_file(
    engine: &mut HostEngine,
    src: &mut Source<'_, '_>,
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
    engine.seek(opts.start_frame);
    let available = engine.total_frames().saturating_sub(opts.start_frame);
    let total = opts.frames.unwrap_or(available).min(available);
    let stats = if opts.format.is_flac() {
        write_flac(
            engine,
            src,
            File::create(&tmp).map_err(io)?,
            dest,
            opts.format,
            total,
            cancel,
            progress,
        )?
    } else {
        let bytes = total.saturating_mul(opts.format.bytes_per_frame());
        write_wav(
            engine,
            src,
            FileSink::create(&tmp, bytes >= DIRECT_MIN_BYTES).map_err(io)?,
            dest,
            opts.format,
            total,
            cancel,
            progress,
        )?
    };
    // The writer flushed and closed the file; make it durable before it takes the final name.
    File::open(&tmp).and_then(|f| f.sync_all()).map_err(io)?;
    std::fs::rename(&tmp, dest).map_err(io)?;
    guard.armed = false;
    Ok(stats)
}

/// Renders up to `total` frames in blocks of `block`, handing each block to `sink`.
fn pump(
    engine: &mut HostEngine,
    src: &mut Source<'_, '_>,
    total: u64,
    block: usize,
    cancel: Option<&AtomicBool>,
    progress: &mut dyn FnMut(u64, u64),
    mut sink: impl FnMut(&[Frame]) -> Result<(), RenderError>,
) -> Result<u64, RenderError> {
    let mut buf: Vec<Frame> = vec![[0.0; 2]; block];
    let step = (engine.sample_rate() as u64 / 10).max(1);
    let mut next_report = 0u64;
    let mut done = 0u64;
    while done < total {
        if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
            return Err(RenderError::Cancelled);
        }
        let want = ((total - done) as usize).min(block);
        match src {
            Source::Render(render) => {
                // The render loop is real-time code: no allocation inside (tests count).
                let _rt = crate::alloc_guard::RealtimeScope::new();
                render(engine, &mut buf[..want]);
            }
            Source::Replay(spill) => {
                // The read is file I/O, outside the real-time scope; a failed read fails
                // the render (nothing is left under the final name).
                spill
                    .read(engine.position(), &mut buf[..want])
                    .map_err(|source| RenderError::Io {
                        path: spill.path().to_path_buf(),
                        source,
                    })?;
                let _rt = crate::alloc_guard::RealtimeScope::new();
                engine.replay(&mut buf[..want]);
            }
        }
        sink(&buf[..want])?;
        done += want as u64;
        if done >= next_report {
            progress(done, total);
            next_report = done + step;
        }
    }
    progress(done, total);
    Ok(done)
}

/// The WAV header for `data_bytes` bytes of `spec` samples: hound's own header (the
/// `fmt ` chunk it chooses for the spec) with the sizes filled in, as hound writes it
/// when it finalizes. A RIFF file cannot describe more than 4 GiB (its sizes are u32;
/// a 10-hour 16-bit stereo render at 44.1 kHz is 6.35 GB), so larger renders get the
/// RF64 header of EBU Tech 3306 instead: `RF64`, a `ds64` chunk carrying the 64-bit
/// RIFF and data sizes and the frame count, the same `fmt ` chunk, and `0xFFFFFFFF` in
/// the 32-bit size fields. ffmpeg, SoX, libsndfile and Audacity read it.
fn wav_header(spec: hound::WavSpec, data_bytes: u64, frames: u64) -> Result<Vec<u8>, String> {
    let mut cursor = std::io::Cursor::new(Vec::new());
    hound::WavWriter::new(&mut cursor, spec)
        .and_then(|w| w.finalize())
        .map_err(|e| e.to_string())?;
    let mut h = cursor.into_inner();
    let n = h.len();
    if n < 20 || &h[..4] != b"RIFF" || &h[n - 8..n - 4] != b"data" {
        return Err("unexpected WAV header layout".into());
    }
    let riff = (n as u64 - 8) + data_bytes;
    if let (Ok(riff), Ok(data)) = (u32::try_from(riff), u32::try_from(data_bytes)) {
        h[4..8].copy_from_slice(&riff.to_le_bytes());
        h[n - 4..].copy_from_slice(&data.to_le_bytes());
        return Ok(h);
    }
    let fmt = &h[12..n - 8];
    let mut r = Vec::with_capacity(n + 36);
    r.extend_from_slice(b"RF64");
    r.extend_from_slice(&u32::MAX.to_le_bytes());
    r.extend_from_slice(b"WAVE");
    r.extend_from_slice(b"ds64");
    r.extend_from_slice(&28u32.to_le_bytes());
    let total = (n + 36) as u64 + data_bytes;
    r.extend_from_slice(&(total - 8).to_le_bytes());
    r.extend_from_slice(&data_bytes.to_le_bytes());
    r.extend_from_slice(&frames.to_le_bytes());
    r.extend_from_slice(&0u32.to_le_bytes()); // no table entries
    r.extend_from_slice(fmt);
    r.extend_from_slice(b"data");
    r.extend_from_slice(&u32::MAX.to_le_bytes());
    Ok(r)
}

/// Writes the little-endian samples of `frames` in `format` into `out` (exactly
/// `frames.len()` times the format's bytes per frame) and updates the peak and clip
/// statistics: `quantise` per sample, with the peak kept as the largest `|x|` bit
/// pattern (for non-NaN floats the order of the magnitude bits is the order of the
/// magnitudes; NaN is skipped, as `f32::max` skips it) so that the loop has no branch
/// and vectorises.
fn encode_wav_block(
    frames: &[Frame],
    format: OutputFormat,
    out: &mut [u8],
    stats: &mut RenderStats,
) {
    assert_eq!(
        out.len() as u64,
        frames.len() as u64 * format.bytes_per_frame()
    );
    entrain_simd::run(&mut Encode {
        frames,
        format,
        out,
        stats,
    });
}

/// [`encode_wav_block`] as an [`entrain_simd::Kernel`]: its loop runs with the widest
/// vectors the CPU has (the same bytes: the same operations per sample).
struct Encode<'a> {
    frames: &'a [Frame],
    format: OutputFormat,
    out: &'a mut [u8],
    stats: &'a mut RenderStats,
}

impl entrain_simd::Kernel for Encode<'_> {
    #[inline(always)]
    fn run(&mut self) {
        encode_samples(self.frames, self.format, self.out, self.stats);
    }
}

#[inline(always)]
fn encode_samples(frames: &[Frame], format: OutputFormat, out: &mut [u8], stats: &mut RenderStats) {
    #[inline(always)]
    fn magnitude_bits(x: f32) -> u32 {
        let a = x.to_bits() & 0x7fff_ffff;
        if a > 0x7f80_0000 {
            0
        } else {
            a
        }
    }
    #[inline(always)]
    fn run<const W: usize>(
        samples: &[f32],
        out: &mut [u8],
        stats: &mut RenderStats,
        bytes: impl Fn(f32, &mut u32) -> [u8; W],
    ) {
        // The clip count in 32-bit lanes (a 64-bit count costs the loop a widening per
        // sample), per piece short enough that it cannot wrap.
        const PIECE: usize = 1 << 16;
        let mut peak = magnitude_bits(stats.peak);
        for (o, s) in out.chunks_mut(PIECE * W).zip(samples.chunks(PIECE)) {
            let mut clipped = 0u32;
            for (d, &x) in o.chunks_exact_mut(W).zip(s) {
                peak = peak.max(magnitude_bits(x));
                d.copy_from_slice(&bytes(x, &mut clipped));
            }
            stats.clipped += u64::from(clipped);
        }
        stats.peak = f32::from_bits(peak);
    }
    let samples = frames.as_flattened();
    match format {
        OutputFormat::WavF32 => run(samples, out, stats, |x, _| x.to_le_bytes()),
        OutputFormat::Wav24 | OutputFormat::Flac24 => run(samples, out, stats, |x, c| {
            let b = quantise(x, 24, c).to_le_bytes();
            [b[0], b[1], b[2]]
        }),
        OutputFormat::Wav16 | OutputFormat::Flac16 => run(samples, out, stats, |x, c| {
            (quantise(x, 16, c) as i16).to_le_bytes()
        }),
    }
}

#[allow(clippy::too_many_arguments)] // the render's parts, passed through once
fn write_wav(
    engine: &mut HostEngine,
    src: &mut Source<'_, '_>,
    mut sink: FileSink,
    dest: &Path,
    format: OutputFormat,
    total: u64,
    cancel: Option<&AtomicBool>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<RenderStats, RenderError> {
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: engine.sample_rate(),
        bits_per_sample: format.bits(),
        sample_format: match format {
            OutputFormat::WavF32 => hound::SampleFormat::Float,
            _ => hound::SampleFormat::Int,
        },
    };
    let io = |source| RenderError::Io {
        path: dest.to_path_buf(),
        source,
    };
    // The length is known before the first sample (the engine's frame count), so the
    // header is written once with its final sizes; a render that stops early is an error
    // and its temporary file is removed.
    let bytes_per_frame = format.bytes_per_frame();
    let header =
        wav_header(spec, total * bytes_per_frame, total).map_err(|m| RenderError::Encode {
            path: dest.to_path_buf(),
            message: m,
        })?;
    sink.write_all(&header).map_err(io)?;
    let mut stats = RenderStats::default();
    const BLOCK: usize = 4096;
    // The samples are encoded straight into the sink's buffer (no copy on the way).
    stats.frames = pump(engine, src, total, BLOCK, cancel, progress, |frames| {
        let n = frames.len() * bytes_per_frame as usize;
        encode_wav_block(frames, format, sink.space(n).map_err(io)?, &mut stats);
        sink.commit(n);
        Ok(())
    })?;
    sink.finish().map_err(io)?;
    Ok(stats)
}

/// Streaming FLAC: the STREAMINFO block is written first as a placeholder and rewritten
/// with the sample count and MD5 at the end, so memory stays constant.
#[allow(clippy::too_many_arguments)] // the render's parts, passed through once
fn write_flac(
    engine: &mut HostEngine,
    src: &mut Source<'_, '_>,
    file: File,
    dest: &Path,
    format: OutputFormat,
    total: u64,
    cancel: Option<&AtomicBool>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<RenderStats, RenderError> {
    use flacenc::component::BitRepr;
    use flacenc::error::Verify;
    use flacenc::source::Fill;
    use md5::{Digest, Md5};
    use std::io::{Seek, SeekFrom, Write};
    const BLOCK: usize = 4096;
    let bits = format.bits();
    let io = |source| RenderError::Io {
        path: dest.to_path_buf(),
        source,
    };
    let enc = |m: String| RenderError::Encode {
        path: dest.to_path_buf(),
        message: m,
    };
    let config = flacenc::config::Encoder::default()
        .into_verified()
        .map_err(|e| enc(format!("{e:?}")))?;
    let mut info =
        flacenc::component::StreamInfo::new(engine.sample_rate() as usize, 2, bits as usize)
            .map_err(|e| enc(format!("{e:?}")))?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    let header_len = 4 + 4 + 34;
    w.write_all(b"fLaC").map_err(io)?;
    w.write_all(&[0x80, 0, 0, 34]).map_err(io)?;
    w.write_all(&[0u8; 34]).map_err(io)?;
    let mut md5 = Md5::new();
    let mut stats = RenderStats::default();
    let mut ints: Vec<i32> = vec![0; 2 * BLOCK];
    let mut bytes: Vec<u8> = Vec::new();
    let mut fb =
        flacenc::source::FrameBuf::with_size(2, BLOCK).map_err(|e| enc(format!("{e:?}")))?;
    let mut frame_no = 0usize;
    stats.frames = pump(engine, src, total, BLOCK, cancel, progress, |frames| {
        let n = frames.len();
        // The STREAMINFO MD5 covers the little-endian samples: the bytes a WAV of this
        // depth holds, quantised (with the peak and clip counts) as the WAV writer does.
        // (`resize` zero-fills only when the length changes: the last, shorter block.)
        bytes.resize(n * format.bytes_per_frame() as usize, 0);
        encode_wav_block(frames, format, &mut bytes, &mut stats);
        md5.update(&bytes);
        // The encoder takes the same samples as i32: each one sign-extended from its
        // `width` little-endian bytes (placed at the top of a word, shifted back down).
        let width = bits as usize / 8;
        for (v, b) in ints.iter_mut().zip(bytes.chunks_exact(width)) {
            let mut word = [0u8; 4];
            word[4 - width..].copy_from_slice(b);
            *v = i32::from_le_bytes(word) >> (8 * (4 - width));
        }
        if n != BLOCK {
            fb = flacenc::source::FrameBuf::with_size(2, n).map_err(|e| enc(format!("{e:?}")))?;
        }
        fb.fill_interleaved(&ints[..2 * n])
            .map_err(|e| enc(format!("{e:?}")))?;
        let frame = flacenc::encode_fixed_size_frame(&config, &fb, frame_no, &info)
            .map_err(|e| enc(format!("{e:?}")))?;
        info.update_frame_info(&frame);
        let mut sink = flacenc::bitsink::ByteSink::new();
        frame.write(&mut sink).map_err(|e| enc(format!("{e:?}")))?;
        w.write_all(sink.as_slice()).map_err(io)?;
        frame_no += 1;
        Ok(())
    })?;
    // STREAMINFO block sizes exclude the (shorter) last frame; a single frame is its own size.
    let blk = if frame_no <= 1 {
        (stats.frames as usize).clamp(16, BLOCK)
    } else {
        BLOCK
    };
    info.set_block_sizes(blk, blk)
        .map_err(|e| enc(format!("{e:?}")))?;
    info.set_total_samples(stats.frames as usize);
    let digest: [u8; 16] = md5.finalize().into();
    info.set_md5_digest(&digest);
    let mut sink = flacenc::bitsink::ByteSink::new();
    info.write(&mut sink).map_err(|e| enc(format!("{e:?}")))?;
    let si = sink.as_slice();
    if si.len() != 34 {
        return Err(enc(format!("unexpected STREAMINFO size {}", si.len())));
    }
    let mut file = w.into_inner().map_err(|e| io(e.into_error()))?;
    file.seek(SeekFrom::Start(8)).map_err(io)?;
    file.write_all(si).map_err(io)?;
    file.seek(SeekFrom::Start(header_len as u64)).map_err(io)?;
    file.flush().map_err(io)?;
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(bits: u16, float: bool) -> hound::WavSpec {
        hound::WavSpec {
            channels: 2,
            sample_rate: 44_100,
            bits_per_sample: bits,
            sample_format: if float {
                hound::SampleFormat::Float
            } else {
                hound::SampleFormat::Int
            },
        }
    }

    /// The bulk writer produces the bytes hound's sample-by-sample writer produced (the
    /// format of every earlier render), for each sample format, with clipping and NaN.
    #[test]
    fn bulk_encoding_equals_hound_sample_by_sample() {
        let frames: Vec<Frame> = (0..1000)
            .map(|i| {
                let x = (i as f32 * 0.37).sin() * 1.3;
                [x, -x * 0.5]
            })
            .chain([[f32::NAN, 1.0], [-1.0, 2.0], [0.0, -0.0]])
            .collect();
        for (format, bits, float) in [
            (OutputFormat::Wav16, 16, false),
            (OutputFormat::Wav24, 24, false),
            (OutputFormat::WavF32, 32, true),
        ] {
            let mut want = std::io::Cursor::new(Vec::new());
            let mut w = hound::WavWriter::new(&mut want, spec(bits, float)).unwrap();
            let mut want_clipped = 0u32;
            for &x in frames.as_flattened() {
                match format {
                    OutputFormat::WavF32 => w.write_sample(x).unwrap(),
                    OutputFormat::Wav16 => w
                        .write_sample(quantise(x, 16, &mut want_clipped) as i16)
                        .unwrap(),
                    _ => w.write_sample(quantise(x, 24, &mut want_clipped)).unwrap(),
                }
            }
            w.finalize().unwrap();
            let bytes_per_frame = 2 * u64::from(bits / 8);
            let n = frames.len() as u64;
            let mut got = wav_header(spec(bits, float), n * bytes_per_frame, n).unwrap();
            let h = got.len();
            got.resize(h + (n * bytes_per_frame) as usize, 0);
            let mid = h + 600 * bytes_per_frame as usize;
            let mut stats = RenderStats::default();
            // Two blocks, as the render loop hands them over.
            encode_wav_block(&frames[..600], format, &mut got[h..mid], &mut stats);
            encode_wav_block(&frames[600..], format, &mut got[mid..], &mut stats);
            assert_eq!(got, want.into_inner(), "{format:?}");
            assert_eq!(stats.peak, 2.0);
            if format != OutputFormat::WavF32 {
                assert_eq!(stats.clipped, u64::from(want_clipped), "{format:?}");
                assert!(stats.clipped > 100);
            }
        }
    }

    /// Above 4 GiB of data the header is RF64 (EBU Tech 3306) with the 64-bit sizes in
    /// `ds64` and the same `fmt ` chunk; at the limit it is still RIFF.
    #[test]
    fn rf64_header_above_4_gib() {
        let s = spec(16, false);
        let riff = wav_header(s, 1000, 250).unwrap();
        let n = riff.len() as u64;
        let limit = u64::from(u32::MAX) - (n - 8);
        let at_limit = wav_header(s, limit, limit / 4).unwrap();
        assert_eq!(&at_limit[..4], b"RIFF");
        assert_eq!(at_limit[4..8], u32::MAX.to_le_bytes());
        // 10 hours at 44.1 kHz, 16-bit stereo.
        let frames = 36_000u64 * 44_100;
        let data = frames * 4;
        let h = wav_header(s, data, frames).unwrap();
        assert_eq!(&h[..4], b"RF64");
        assert_eq!(h[4..8], u32::MAX.to_le_bytes());
        assert_eq!(&h[8..16], b"WAVEds64");
        assert_eq!(h[16..20], 28u32.to_le_bytes());
        let u64_at = |k: usize| u64::from_le_bytes(h[k..k + 8].try_into().unwrap());
        assert_eq!(u64_at(20), h.len() as u64 + data - 8, "RIFF size");
        assert_eq!(u64_at(28), data);
        assert_eq!(u64_at(36), frames);
        assert_eq!(h[44..48], 0u32.to_le_bytes(), "table length");
        // The fmt chunk is hound's, byte for byte.
        assert_eq!(&h[48..h.len() - 8], &riff[12..riff.len() - 8]);
        assert_eq!(&h[h.len() - 8..h.len() - 4], b"data");
        assert_eq!(h[h.len() - 4..], u32::MAX.to_le_bytes());
    }
}
