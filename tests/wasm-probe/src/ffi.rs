//! The wasm exports (wasm32 only). All state lives in statics behind [`Exclusive`].
//!
//! Protocol (see `tests/node/wasm_hash.mjs`):
//!
//! 1. write the track JSON (UTF-8) at `input_ptr()`, at most `input_capacity()` bytes;
//! 2. `hash_track(len, block, mode, max_frames)` → the FNV-1a 64 hash (a JS `BigInt`), or 0
//!    on failure; `mode` is [`MODE_COMPATIBLE`] (0) or [`MODE_STREAMING`] (1);
//! 3. `error_code()` is [`OK`] or an `ERR_*` code; on failure `error_ptr()`/`error_len()`
//!    hold the reason as UTF-8; on success `frames()` is the number of frames hashed,
//!    `total_frames()` the track's length and `sample_rate()` its rate.

use crate::cell::Exclusive;
use crate::{
    hash_json, mode_from_u32, Message, Pools, ProbeTrack, Work, ALIGN_FFT, ALIGN_FRAMES, ERR_ARGS,
    ERR_BUSY, MAX_BLOCK, OK,
};
use core::fmt::Write as _;
use entrain_dsp::fft::Complex;
use entrain_dsp::Frame;
use entrain_format::TrackInfo;

/// Input buffer, bytes: the largest shipped track is about 83 KB (STYLE.md §7).
pub const INPUT_CAP: usize = 128 * 1024;

/// Built on first use (their constructors are not `const`).
struct Lazy {
    track: ProbeTrack,
    info: TrackInfo,
    pools: Pools,
}

/// Zero-initialised scratch, kept apart from anything with a non-zero initialiser so that
/// it lands in `.bss` and costs nothing in the `.wasm` file.
struct Scratch {
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

static INPUT: Exclusive<[u8; INPUT_CAP]> = Exclusive::new([0; INPUT_CAP]);
static LAZY: Exclusive<Option<Lazy>> = Exclusive::new(None);
static SCRATCH: Exclusive<Scratch> = Exclusive::new(Scratch {
    align: [[0.0; 2]; ALIGN_FRAMES],
    fft: [[0.0; 2]; ALIGN_FFT],
    out: [[0.0; 2]; MAX_BLOCK],
});
static MESSAGE: Exclusive<Message> = Exclusive::new(Message::new());
static STATUS: Exclusive<Status> = Exclusive::new(Status {
    code: OK,
    frames: 0,
    total_frames: 0,
    sample_rate: 0,
});

/// Address of the input buffer (JS writes the track JSON here).
#[no_mangle]
pub extern "C" fn input_ptr() -> *mut u8 {
    INPUT.as_ptr().cast()
}

/// Size of the input buffer, bytes.
#[no_mangle]
pub extern "C" fn input_capacity() -> usize {
    INPUT_CAP
}

/// Largest accepted `block`, frames.
#[no_mangle]
pub extern "C" fn max_block() -> usize {
    MAX_BLOCK
}

/// Parses the `len` input bytes, renders `min(max_frames, track length)` frames in blocks
/// of `block` frames in `mode`, and returns the FNV-1a 64 hash; 0 on failure (then see
/// `error_code`).
#[no_mangle]
pub extern "C" fn hash_track(len: usize, block: usize, mode: u32, max_frames: u64) -> u64 {
    let result = MESSAGE
        .with(|msg| {
            msg.clear();
            let Some(mode) = mode_from_u32(mode) else {
                let _ = write!(
                    msg,
                    "mode {mode} is neither 0 (compatible) nor 1 (streaming)"
                );
                return Err(ERR_ARGS);
            };
            if len > INPUT_CAP {
                let _ = write!(msg, "input of {len} bytes > buffer of {INPUT_CAP}");
                return Err(ERR_ARGS);
            }
            let run = |input: &mut [u8; INPUT_CAP]| {
                LAZY.with(|lazy| {
                    let lazy = lazy.get_or_insert_with(|| Lazy {
                        track: ProbeTrack::default(),
                        info: TrackInfo::default(),
                        pools: Pools::new(),
                    });
                    SCRATCH.with(|s| {
                        let work = Work {
                            track: &mut lazy.track,
                            info: &mut lazy.info,
                            pools: &mut lazy.pools,
                            align: &mut s.align,
                            fft: &mut s.fft,
                            out: &mut s.out,
                        };
                        hash_json(&input[..len], block, mode, max_frames, work, msg)
                    })
                })
            };
            INPUT.with(run).flatten().flatten().unwrap_or(Err(ERR_BUSY))
        })
        .unwrap_or(Err(ERR_BUSY));
    let (status, hash) = match result {
        Ok(o) => (
            Status {
                code: OK,
                frames: o.frames,
                total_frames: o.total_frames,
                sample_rate: o.sample_rate,
            },
            o.hash,
        ),
        Err(code) => (
            Status {
                code,
                frames: 0,
                total_frames: 0,
                sample_rate: 0,
            },
            0,
        ),
    };
    let _ = STATUS.with(|s| *s = status);
    hash
}

/// [`OK`] after a successful `hash_track`, else an `ERR_*` code.
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

/// Frames hashed by the last successful `hash_track`.
#[no_mangle]
pub extern "C" fn frames() -> u64 {
    STATUS.with(|s| s.frames).unwrap_or(0)
}

/// Length of the track of the last successful `hash_track`, frames.
#[no_mangle]
pub extern "C" fn total_frames() -> u64 {
    STATUS.with(|s| s.total_frames).unwrap_or(0)
}

/// Sample rate of the track of the last successful `hash_track`, Hz.
#[no_mangle]
pub extern "C" fn sample_rate() -> u32 {
    STATUS.with(|s| s.sample_rate).unwrap_or(0)
}
