//! What the entrain firmware binaries share (QEMU and board): the capacities of the
//! track and of the engine's pools, engine memory lent from `static` storage, the
//! DMA-style double buffer, FPSCR checks and stack high-water measurement.
//!
//! Nothing here allocates: the firmware has no global allocator, so any allocation in
//! the core crates (or here) fails to link (STYLE.md §2).
#![no_std]
#![warn(missing_docs)]

pub mod dma;
pub mod fpu;
pub mod stack;

use entrain_engine::voices::{FilterSlot, VoiceSlot};
use entrain_engine::{Memory, Parts, Track};

/// Steps a firmware track may hold. The bundled demo has 3 and every track of
/// `shared/tracks` but one has at most 8 (`all_voices_tour.json` has 11 and is reported
/// as too large); 8 keeps [`FwTrack`] near 16 KiB.
pub const TRACK_STEPS: usize = 8;

/// Voices a firmware track may hold (all steps together). 32 is the engine's per-step
/// limit (`MAX_VOICES_PER_STEP`, from the 26-voice F19-B preset), so one step of any
/// preset fits.
pub const TRACK_VOICES: usize = 32;

/// The track model the firmware parses into (JSON in flash, parsed at boot).
pub type FwTrack = Track<TRACK_STEPS, TRACK_VOICES>;

/// Voice slots in the engine's pool. A crossfade sounds two steps at once, and each may
/// have up to [`TRACK_VOICES`]` / 2` voices; compatible-mode analysis renders one whole
/// step. 16 slots cover every shared track (the busiest crossfade has 6 voices).
pub const POOL_VOICES: usize = 16;

/// Memory lent to the engine: voice slots and zero-phase filter slots, each a slice that
/// may live in its own memory region (on an STM32F4 the 64 KiB filter slot does not fit
/// in CCM RAM, the voices do). Built from `&'a mut` borrows of `static` storage so the
/// engine struct itself stays small and is never moved with its pools.
#[derive(Debug)]
pub struct SplitMemory<'a> {
    voices: &'a mut [VoiceSlot],
    filters: &'a mut [FilterSlot],
}

impl<'a> SplitMemory<'a> {
    /// Lends `voices` and `filters` to an engine.
    pub fn new(voices: &'a mut [VoiceSlot], filters: &'a mut [FilterSlot]) -> Self {
        Self { voices, filters }
    }
}

impl Memory for SplitMemory<'_> {
    fn parts(&mut self) -> Parts<'_> {
        Parts {
            voices: self.voices,
            filters: self.filters,
            align: &mut [],
            fft: &mut [],
        }
    }
}

/// Converts one f32 sample (nominally -1..1; the streaming limiter keeps it below
/// 0.977) to a signed 16-bit codec word: scaled by 32767, clamped, truncated toward
/// zero. NaN (which the engine never emits) maps to 0.
#[inline]
pub fn to_i16(x: f32) -> i16 {
    // `as` saturates and maps NaN to 0 (Rust float-to-int casts are total).
    (x * 32767.0) as i16
}
