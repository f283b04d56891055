//! The wasm exports (wasm32 only). All state lives in statics behind [`Exclusive`].
//!
//! Protocol (see `tests/node/wasm_hash.mjs`):
//!
//! 1. write the track JSON (UTF-8) at `input_ptr()`, at most `input_capacity()` bytes, and
//!    call `parse_track(len)`; it returns an error code ([`OK`] or an `ERR_*`);
//! 2. if `noise_path_len()` is not 0, the track's `background_noise` names a `.noise`
//!    preset (path at `noise_path_ptr()`, relative to the track's folder): write the
//!    file's bytes at `preset_ptr()` (at most `preset_capacity()`) and call
//!    `attach_noise(len)`;
//! 3. if `parse_track`/`attach_noise` left the track waiting for audio (`needs_sources()`
//!    is 1: it plays overlay clips, `subliminal_encode` sources or a noise input file),
//!    write the host's sources file (`realtime_backend hash --export-sources`, layout in
//!    [`crate::sources`]): its arena (the last `frames × 8` bytes) at `pcm_ptr()` (at most
//!    `pcm_capacity()` frames), everything before it at `sources_ptr()` (at most
//!    `sources_capacity()` bytes), and call `attach_sources(header_len)`;
//! 4. call `render_hash(block, mode, max_frames)` as often as needed: it returns the
//!    FNV-1a 64 hash (a JS `BigInt`), or 0 on failure; `mode` is [`MODE_COMPATIBLE`](crate::MODE_COMPATIBLE) (0)
//!    or [`MODE_STREAMING`](crate::MODE_STREAMING) (1).
//!
//! `hash_track(len, block, mode, max_frames)` does 1 and 4 at once for tracks without a
//! preset. After every call `error_code()` is [`OK`] or an `ERR_*` code; on failure
//! `error_ptr()`/`error_len()` hold the reason (UTF-8); after a render `frames()` is the
//! number of frames hashed, `total_frames()` the track's length and `sample_rate()` its
//! rate.

use crate::cell::Exclusive;
use crate::sources::attach_sources as attach;
use crate::{
    attach_preset, load_track, mode_from_u32, Loaded, Message, Outcome, Pools, ProbeTrack, Request,
    Scratch, WithPcm, ALIGN_FFT, ALIGN_FRAMES, ERR_ARGS, ERR_BUSY, ERR_STATE, MAX_BLOCK, OK,
};
use core::fmt::Write as _;
use entrain_dsp::fft::Complex;
use entrain_dsp::Frame;
use entrain_format::noise::NOISE_PATH_CAP;
use entrain_format::TrackInfo;

/// Track input buffer, bytes: the largest shipped track is about 83 KB (STYLE.md §7).
pub const INPUT_CAP: usize = 128 * 1024;
/// Noise preset input buffer, bytes (the shipped presets are under 1 KB).
pub const PRESET_CAP: usize = 16 * 1024;
/// Sources header buffer, bytes (a few dozen bytes per clip and subliminal voice).
pub const SOURCES_CAP: usize = 64 * 1024;
/// PCM arena, stereo frames: 2^22 (95 s at 44.1 kHz, 32 MiB of zero-initialised memory
/// that costs nothing in the `.wasm` file); the shared tracks need under a minute.
pub const PCM_CAP: usize = 1 << 22;

/// Where the loaded track stands.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    Empty,
    NeedsPreset,
    NeedsSources,
    Ready,
}

/// Built on first use (their constructors are not `const`).
struct Lazy {
    track: ProbeTrack,
    info: TrackInfo,
    pools: Pools,
    stage: Stage,
    /// Frames of [`PCM`] the attached sources use.
    pcm_frames: usize,
}

/// Zero-initialised scratch, kept apart from anything with a non-zero initialiser so that
/// it lands in `.bss` and costs nothing in the `.wasm` file.
struct ScratchBuffers {
    align: [Frame; ALIGN_FRAMES],
    fft: [Complex; ALIGN_FFT],
    out: [Frame; MAX_BLOCK],
}

#[derive(Clone, Copy)]
struct Status {
    code: u32,
    frames: u64,
    total_frames: u64,
    sample_rate: u32,
}

impl Status {
    const fn failed(code: u32) -> Self {
        Self {
            code,
            frames: 0,
            total_frames: 0,
            sample_rate: 0,
        }
    }
}

/// A preset path never needs shortening: [`NOISE_PATH_CAP`] plus room for the mark.
type PathText = Message<{ NOISE_PATH_CAP + 3 }>;

static INPUT: Exclusive<[u8; INPUT_CAP]> = Exclusive::new([0; INPUT_CAP]);
static PRESET: Exclusive<[u8; PRESET_CAP]> = Exclusive::new([0; PRESET_CAP]);
static SOURCES: Exclusive<[u8; SOURCES_CAP]> = Exclusive::new([0; SOURCES_CAP]);
static PCM: Exclusive<[Frame; PCM_CAP]> = Exclusive::new([[0.0; 2]; PCM_CAP]);
static LAZY: Exclusive<Option<Lazy>> = Exclusive::new(None);
static SCRATCH: Exclusive<ScratchBuffers> = Exclusive::new(ScratchBuffers {
    align: [[0.0; 2]; ALIGN_FRAMES],
    fft: [[0.0; 2]; ALIGN_FFT],
    out: [[0.0; 2]; MAX_BLOCK],
});
static MESSAGE: Exclusive<Message> = Exclusive::new(Message::new());
static NOISE_PATH: Exclusive<PathText> = Exclusive::new(PathText::new());
static STATUS: Exclusive<Status> = Exclusive::new(Status::failed(OK));

/// Runs `f` with the message buffer and the lazily built state; [`ERR_BUSY`] if either is
/// already borrowed (re-entrancy).
fn with_state<R>(f: impl FnOnce(&mut Message, &mut Lazy) -> Result<R, u32>) -> Result<R, u32> {
    MESSAGE
        .with(|msg| {
            msg.clear();
            LAZY.with(|lazy| {
                let lazy = lazy.get_or_insert_with(|| Lazy {
                    track: ProbeTrack::default(),
                    info: TrackInfo::default(),
                    pools: Pools::new(),
                    stage: Stage::Empty,
                    pcm_frames: 0,
                });
                f(msg, lazy)
            })
        })
        .flatten()
        .unwrap_or(Err(ERR_BUSY))
}

fn set_status(status: Status) {
    let _ = STATUS.with(|s| *s = status);
}

/// Records a parse/attach result and returns its code.
fn record(result: Result<(), u32>) -> u32 {
    let code = result.err().unwrap_or(OK);
    set_status(Status::failed(code));
    code
}

/// Records a render result and returns its hash (0 on failure).
fn record_render(result: Result<Outcome, u32>) -> u64 {
    match result {
        Ok(o) => {
            set_status(Status {
                code: OK,
                frames: o.frames,
                total_frames: o.total_frames,
                sample_rate: o.sample_rate,
            });
            o.hash
        }
        Err(code) => {
            set_status(Status::failed(code));
            0
        }
    }
}

/// Address of the track input buffer (JS writes the track JSON here).
#[no_mangle]
pub extern "C" fn input_ptr() -> *mut u8 {
    INPUT.as_ptr().cast()
}

/// Size of the track input buffer, bytes.
#[no_mangle]
pub extern "C" fn input_capacity() -> usize {
    INPUT_CAP
}

/// Address of the noise preset input buffer.
#[no_mangle]
pub extern "C" fn preset_ptr() -> *mut u8 {
    PRESET.as_ptr().cast()
}

/// Size of the noise preset input buffer, bytes.
#[no_mangle]
pub extern "C" fn preset_capacity() -> usize {
    PRESET_CAP
}

/// Largest accepted `block`, frames.
#[no_mangle]
pub extern "C" fn max_block() -> usize {
    MAX_BLOCK
}

fn parse(len: usize) -> Result<(), u32> {
    let _ = NOISE_PATH.with(|p| p.clear());
    with_state(|msg, lazy| {
        lazy.stage = Stage::Empty;
        lazy.pcm_frames = 0;
        if len > INPUT_CAP {
            let _ = write!(msg, "input of {len} bytes > buffer of {INPUT_CAP}");
            return Err(ERR_ARGS);
        }
        let loaded = INPUT
            .with(|input| load_track(&input[..len], &mut lazy.track, &mut lazy.info, msg))
            .unwrap_or(Err(ERR_BUSY))?;
        lazy.stage = match loaded {
            Loaded::Ready => Stage::Ready,
            Loaded::NeedsSources => Stage::NeedsSources,
            Loaded::NeedsPreset => {
                let file = lazy.info.background.as_ref().and_then(|b| b.file.as_ref());
                if let Some(file) = file {
                    let _ = NOISE_PATH.with(|p| write!(p, "{}", file.as_str()));
                }
                Stage::NeedsPreset
            }
        };
        Ok(())
    })
}

/// Parses the `len` bytes at `input_ptr()` into the probe's track. Returns the error code.
#[no_mangle]
pub extern "C" fn parse_track(len: usize) -> u32 {
    record(parse(len))
}

/// Address of the `.noise` preset path the parsed track names (UTF-8).
#[no_mangle]
pub extern "C" fn noise_path_ptr() -> *const u8 {
    // `Message` is `repr(C)` with its bytes first.
    NOISE_PATH.as_ptr().cast_const().cast()
}

/// Length of the preset path, bytes; 0 when the track names no preset.
#[no_mangle]
pub extern "C" fn noise_path_len() -> usize {
    NOISE_PATH.with(|p| p.len()).unwrap_or(0)
}

/// Completes the parsed track's noise from the `len` preset bytes at `preset_ptr()`.
/// Returns the error code.
#[no_mangle]
pub extern "C" fn attach_noise(len: usize) -> u32 {
    record(with_state(|msg, lazy| {
        if lazy.stage != Stage::NeedsPreset {
            let _ = write!(msg, "no parsed track is waiting for a noise preset");
            return Err(ERR_STATE);
        }
        if len > PRESET_CAP {
            let _ = write!(msg, "preset of {len} bytes > buffer of {PRESET_CAP}");
            return Err(ERR_ARGS);
        }
        let loaded = PRESET
            .with(|p| attach_preset(&p[..len], &mut lazy.track, &lazy.info, msg))
            .unwrap_or(Err(ERR_BUSY))?;
        lazy.stage = if loaded == Loaded::NeedsSources {
            Stage::NeedsSources
        } else {
            Stage::Ready
        };
        Ok(())
    }))
}

/// 1 when the parsed track waits for the audio of its files (`attach_sources`), else 0.
#[no_mangle]
pub extern "C" fn needs_sources() -> u32 {
    LAZY.with(|l| l.as_ref().is_some_and(|l| l.stage == Stage::NeedsSources))
        .map_or(0, u32::from)
}

/// Address of the sources header buffer.
#[no_mangle]
pub extern "C" fn sources_ptr() -> *mut u8 {
    SOURCES.as_ptr().cast()
}

/// Size of the sources header buffer, bytes.
#[no_mangle]
pub extern "C" fn sources_capacity() -> usize {
    SOURCES_CAP
}

/// Address of the PCM arena (stereo f32 frames).
#[no_mangle]
pub extern "C" fn pcm_ptr() -> *mut u8 {
    PCM.as_ptr().cast()
}

/// Size of the PCM arena, frames.
#[no_mangle]
pub extern "C" fn pcm_capacity() -> usize {
    PCM_CAP
}

/// Writes the references of the `len`-byte sources header at `sources_ptr()` into the
/// parsed track (its arena already at `pcm_ptr()`). Returns the error code.
#[no_mangle]
pub extern "C" fn attach_sources(len: usize) -> u32 {
    record(with_state(|msg, lazy| {
        if lazy.stage != Stage::NeedsSources {
            let _ = write!(msg, "no parsed track is waiting for audio sources");
            return Err(ERR_STATE);
        }
        if len > SOURCES_CAP {
            let _ = write!(
                msg,
                "sources header of {len} bytes > buffer of {SOURCES_CAP}"
            );
            return Err(ERR_ARGS);
        }
        let frames = SOURCES
            .with(|h| attach(&h[..len], PCM_CAP, &mut lazy.track, msg))
            .unwrap_or(Err(ERR_BUSY))?;
        // `attach` checked frames <= PCM_CAP.
        lazy.pcm_frames = frames as usize;
        lazy.stage = Stage::Ready;
        Ok(())
    }))
}

fn render(block: usize, mode: u32, max_frames: u64) -> Result<Outcome, u32> {
    with_state(|msg, lazy| {
        let Some(mode) = mode_from_u32(mode) else {
            let _ = write!(
                msg,
                "mode {mode} is neither 0 (compatible) nor 1 (streaming)"
            );
            return Err(ERR_ARGS);
        };
        match lazy.stage {
            Stage::Ready => {}
            Stage::Empty => {
                let _ = write!(msg, "no track parsed");
                return Err(ERR_STATE);
            }
            Stage::NeedsPreset => {
                let _ = write!(msg, "the track names a noise preset: attach_noise first");
                return Err(ERR_STATE);
            }
            Stage::NeedsSources => {
                let _ = write!(msg, "the track plays audio files: attach_sources first");
                return Err(ERR_STATE);
            }
        }
        let req = Request {
            block,
            mode,
            max_frames,
        };
        let n = lazy.pcm_frames;
        PCM.with(|pcm| {
            SCRATCH
                .with(|s| {
                    let scratch = Scratch {
                        pools: &mut lazy.pools,
                        align: &mut s.align,
                        fft: &mut s.fft,
                        out: &mut s.out,
                    };
                    let track = WithPcm {
                        track: &lazy.track,
                        pcm: &pcm[..n],
                    };
                    crate::render_hash(track, req, scratch, msg)
                })
                .unwrap_or(Err(ERR_BUSY))
        })
        .unwrap_or(Err(ERR_BUSY))
    })
}

/// Renders `min(max_frames, track length)` frames of the parsed track in blocks of `block`
/// frames in `mode` and returns the FNV-1a 64 hash; 0 on failure (see `error_code`).
#[no_mangle]
pub extern "C" fn render_hash(block: usize, mode: u32, max_frames: u64) -> u64 {
    record_render(render(block, mode, max_frames))
}

/// `parse_track(len)` then `render_hash(block, mode, max_frames)`, for tracks that
/// name no noise preset.
#[no_mangle]
pub extern "C" fn hash_track(len: usize, block: usize, mode: u32, max_frames: u64) -> u64 {
    record_render(parse(len).and_then(|()| render(block, mode, max_frames)))
}

/// [`OK`] after a successful call, else an `ERR_*` code.
#[no_mangle]
pub extern "C" fn error_code() -> u32 {
    STATUS.with(|s| s.code).unwrap_or(ERR_BUSY)
}

/// Address of the last failure's reason (UTF-8, `error_len()` bytes).
#[no_mangle]
pub extern "C" fn error_ptr() -> *const u8 {
    // `Message` is `repr(C)` with its bytes first.
    MESSAGE.as_ptr().cast_const().cast()
}

/// Length of the last failure's reason, bytes.
#[no_mangle]
pub extern "C" fn error_len() -> usize {
    MESSAGE.with(|m| m.len()).unwrap_or(0)
}

/// Frames hashed by the last successful render.
#[no_mangle]
pub extern "C" fn frames() -> u64 {
    STATUS.with(|s| s.frames).unwrap_or(0)
}

/// Length of the track of the last successful render, frames.
#[no_mangle]
pub extern "C" fn total_frames() -> u64 {
    STATUS.with(|s| s.total_frames).unwrap_or(0)
}

/// Sample rate of the track of the last successful render, Hz.
#[no_mangle]
pub extern "C" fn sample_rate() -> u32 {
    STATUS.with(|s| s.sample_rate).unwrap_or(0)
}
