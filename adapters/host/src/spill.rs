//! Compatible mode's analysis kept in a temporary file, so that an offline render
//! renders the track once instead of twice.
//!
//! The original normalises the assembled track to its peak (TRACK_FORMAT.md §8), so the
//! first output sample needs the last one's level: the engine's analysis renders the
//! track to measure it and the output pass renders it again. With a spill file the
//! analysis's frames go to disk as they are rendered ([`Engine::with_spill`]), and the
//! output is those frames read back and put through [`Engine::replay`] (the gains the
//! analysis found): the same bits, with the render done once. SoX's `gain -n` keeps its
//! normalisation pass in a temporary file the same way.
//!
//! The cost is 8 bytes per frame of disk (1.4 GB per hour at 48 kHz) for the length of
//! the render, next to the output (the user chose that disk for the output; `/tmp` is
//! often RAM). Memory stays constant: the frames go through the page cache, not the
//! process. When the file cannot be written (no space, no permission) the engine is
//! still built, without the spill, and renders the track a second time as before.
//!
//! A spill pays when rendering a frame costs more than storing and reloading its 8 bytes.
//! For the real presets (13–26 voices, 60–120 ns per frame on an x86_64 core) it halves
//! the time; a track of one binaural voice renders in 6–7 ns per frame, less than the
//! page cache's copy of the spill on a VM (5–15 ns per frame, write and read): there the
//! spill made a 60-minute render slower (2.6 → 4.0 s CPU). [`SpillPolicy::Auto`] therefore times
//! the analysis's first [`PROBE_FRAMES`] frames and gives the spill up (deleting the file)
//! when they rendered faster than [`MIN_RENDER_NS_PER_FRAME`]. The output is the same
//! either way; only the time differs.

use crate::assets::SharedTrack;
use crate::memory::{HeapMemory, HostEngine};
use entrain_dsp::Frame;
use entrain_engine::engine::{BuildError, Config, Engine, Spilled};
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Bytes per stored frame (two little-endian f32).
const FRAME_BYTES: u64 = 8;

/// Frames of the analysis [`SpillPolicy::Auto`] times before deciding (~6 s of audio at
/// 44.1 kHz: 2 MiB of spill written before the decision).
pub const PROBE_FRAMES: u64 = 1 << 18;

/// Render time per frame below which [`SpillPolicy::Auto`] gives the spill up. Timed by
/// the probe on the benchmark VM: one binaural voice (W1) 6–7 ns, eight voices (W3)
/// 26–28 ns, the real presets 49–90 ns. The spill cost W1 1.4 s of its 2.6 s (1.38 GB
/// through the page cache of a VM whose fresh pages are dear) and saved W3 0.4 s of
/// 1.2 s; 15 ns lies between, with room for the probe's noise on both sides.
pub const MIN_RENDER_NS_PER_FRAME: u64 = 15;

/// When [`build_engine_spilling`] keeps the spill.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SpillPolicy {
    /// When the analysis renders slower than [`MIN_RENDER_NS_PER_FRAME`] (timed over its
    /// first [`PROBE_FRAMES`] frames).
    #[default]
    Auto,
    /// Whenever the engine produces one (tests, and users who know their disk).
    Always,
}

/// Times the analysis between the sink's calls (the render, not the spill's writes).
struct Probe {
    frames: u64,
    busy: std::time::Duration,
    since: std::time::Instant,
}

/// The analysis's frames on disk; the file is removed when this is dropped.
#[derive(Debug)]
pub struct Spill {
    path: PathBuf,
    file: File,
    /// Frames stored.
    frames: u64,
    /// Frame the file's cursor is at.
    at: u64,
    bytes: Vec<u8>,
}

impl Drop for Spill {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

impl Spill {
    /// Where the spill file lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Frames stored (the track's length).
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Reads the stored frames `pos..pos + out.len()` into `out`.
    pub fn read(&mut self, pos: u64, out: &mut [Frame]) -> std::io::Result<()> {
        if pos + out.len() as u64 > self.frames {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!(
                    "frames {pos}..{} asked of a spill of {}",
                    pos + out.len() as u64,
                    self.frames
                ),
            ));
        }
        if pos != self.at {
            self.file.seek(SeekFrom::Start(pos * FRAME_BYTES))?;
            self.at = pos;
        }
        self.bytes.resize(out.len() * FRAME_BYTES as usize, 0);
        self.file.read_exact(&mut self.bytes)?;
        decode_frames(&self.bytes, out);
        self.at += out.len() as u64;
        Ok(())
    }
}

/// The spill path used while rendering to `dest` (hidden, next to it, one per process).
pub fn spill_path_for(dest: &Path) -> PathBuf {
    crate::output::hidden_sibling(dest, "spill")
}

/// Frames as little-endian interleaved f32 bytes (the spill's layout, and numpy's
/// `<f4`): `bytes` holds exactly `8 · frames.len()` bytes.
pub fn encode_frames(frames: &[Frame], bytes: &mut [u8]) {
    for (f, b) in frames.iter().zip(bytes.chunks_exact_mut(8)) {
        b[..4].copy_from_slice(&f[0].to_le_bytes());
        b[4..].copy_from_slice(&f[1].to_le_bytes());
    }
}

/// The inverse of [`encode_frames`].
pub fn decode_frames(bytes: &[u8], frames: &mut [Frame]) {
    for (f, b) in frames.iter_mut().zip(bytes.chunks_exact(8)) {
        *f = [
            f32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            f32::from_le_bytes([b[4], b[5], b[6], b[7]]),
        ];
    }
}

/// What [`build_engine_spilling`] built.
#[derive(Debug)]
pub struct SpillingBuild {
    /// The engine (positioned at frame 0).
    pub engine: HostEngine,
    /// The analysis's frames, when the engine produced them in order and they were
    /// stored: render with [`crate::output::render_spill_to_file`]. `None`: render as usual.
    pub spill: Option<Spill>,
    /// Why a spill was wanted but not kept (the file could not be written), for a notice.
    pub error: Option<String>,
}

/// [`crate::build_engine`] keeping the analysis's frames in a spill file next to `dest`
/// (see the module documentation). In streaming mode nothing is stored.
pub fn build_engine_spilling(
    track: impl Into<SharedTrack>,
    cfg: Config,
    dest: &Path,
    policy: SpillPolicy,
    progress: &mut dyn FnMut(f32),
) -> Result<SpillingBuild, BuildError> {
    let track = track.into();
    let mem = HeapMemory::for_track(&track.track, &cfg)?;
    if cfg.mode != entrain_engine::engine::Mode::Compatible {
        let engine = Engine::with_progress(track, mem, cfg, progress)?;
        return Ok(SpillingBuild {
            engine,
            spill: None,
            error: None,
        });
    }
    let path = spill_path_for(dest);
    let opened = dest
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| {
            OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(&path)
        });
    let file = match opened {
        Ok(f) => f,
        Err(e) => {
            let engine = Engine::with_progress(track, mem, cfg, progress)?;
            return Ok(SpillingBuild {
                engine,
                spill: None,
                error: Some(format!("cannot create {}: {e}", path.display())),
            });
        }
    };
    let mut writer = BufWriter::with_capacity(1 << 20, file);
    let mut failed: Option<std::io::Error> = None;
    let mut frames = 0u64;
    let mut bytes: Vec<u8> = Vec::with_capacity(1024 * FRAME_BYTES as usize);
    let mut probe = (policy == SpillPolicy::Auto).then(|| Probe {
        frames: 0,
        busy: std::time::Duration::ZERO,
        since: std::time::Instant::now(),
    });
    let mut given_up = false;
    // The sink says when it wants no more frames (a failed write, a spill given up): the
    // engine stops handing them over, and its analysis may then skip what it need not
    // render (a one-voice step's peak known from its carriers).
    let built = Engine::with_spill(track, mem, cfg, progress, &mut |block: &[Frame]| {
        if failed.is_some() || given_up {
            return false;
        }
        if let Some(p) = probe.as_mut() {
            p.busy += p.since.elapsed();
            p.frames += block.len() as u64;
            if p.frames >= PROBE_FRAMES {
                let ns = p.busy.as_nanos() / u128::from(p.frames);
                probe = None;
                if ns < u128::from(MIN_RENDER_NS_PER_FRAME) {
                    given_up = true;
                    return false;
                }
            }
        }
        bytes.resize(block.len() * FRAME_BYTES as usize, 0);
        encode_frames(block, &mut bytes);
        match writer.write_all(&bytes) {
            Ok(()) => frames += block.len() as u64,
            Err(e) => failed = Some(e),
        }
        if let Some(p) = probe.as_mut() {
            p.since = std::time::Instant::now();
        }
        failed.is_none()
    });
    let flushed = writer.into_inner();
    let engine = built.inspect_err(|_| {
        let _ = std::fs::remove_file(&path);
    })?;
    // The file, when it holds the whole track in the order `replay` reads it; otherwise
    // why it was not kept (`None`: given up, or nothing usable, which is not an error).
    let kept = match (failed, flushed) {
        (Some(e), _) => Err(Some(format!("cannot write {}: {e}", path.display()))),
        (None, Err(e)) => Err(Some(format!(
            "cannot write {}: {}",
            path.display(),
            e.error()
        ))),
        // Defensively, not the track's length: render as usual.
        (None, Ok(f))
            if !given_up
                && engine.spilled() != Spilled::Nothing
                && frames == engine.total_frames() =>
        {
            Ok(f)
        }
        (None, Ok(_)) => Err(None),
    };
    match kept {
        Ok(file) => Ok(SpillingBuild {
            engine,
            spill: Some(Spill {
                path,
                file,
                frames,
                at: frames,
                bytes: Vec::new(),
            }),
            error: None,
        }),
        Err(error) => {
            let _ = std::fs::remove_file(&path);
            Ok(SpillingBuild {
                engine,
                spill: None,
                error,
            })
        }
    }
}
