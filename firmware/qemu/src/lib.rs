//! entrain on a Cortex-M4F under QEMU (`mps2-an386`): what the demo player, the
//! on-target tests and the benchmark share.
//!
//! * Output goes through defmt over semihosting (decoded on the host by `defmt-print`);
//!   the exit status goes back to QEMU with `SYS_EXIT_EXTENDED`, so a panic or a fault
//!   makes `qemu-system-arm` exit non-zero.
//! * Tracks are JSON in flash (`include_bytes!`), parsed at boot by `entrain-format`
//!   into a `static` [`FwTrack`]. This keeps one source of truth (the same file the host
//!   renders) and exercises the real parser on the target; a compact preset compiled on
//!   the host would save most of the ~150 KiB of parser and float-parsing code and the
//!   parse time, but is a second format to keep in step.
//! * Everything large is `static` ([`Storage`]); the engine struct (~8 KiB) lives on
//!   the stack. The core itself still needs 70–140 KiB of stack when a step starts (it
//!   builds a 64 KiB zero-phase filter slot by value): measured in BENCHMARKS.md.
//! * Instructions are counted with SysTick under `-icount shift=0`
//!   ([`icount`]); QEMU does not model the DWT cycle counter.
#![no_std]
#![warn(missing_docs)]

pub mod icount;

use core::sync::atomic::{compiler_fence, Ordering};
use defmt_semihosting as _;
use entrain_engine::voices::{FilterSlot, VoiceSlot};
use entrain_engine::{BuildError, Config, Engine, Mode};
use entrain_format::{ErrorKind, TrackInfo};
use entrain_fw_common::dma::{DoubleBuffer, Half, Renderer, MAX_BLOCK};
pub use entrain_fw_common::{dma, fpu, stack, FwTrack, SplitMemory, POOL_VOICES};
use static_cell::StaticCell;

/// Zero-phase filter slots (64 KiB each; one per isochronic voice with harmonic
/// suppression). 4 covers a crossfade between two steps with two such voices each;
/// the shared tracks need at most 2.
pub const FILTER_SLOTS: usize = 4;

/// Exits QEMU with `code` (0 = success) through semihosting.
pub fn exit(code: i32) -> ! {
    semihosting::process::exit(code)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    defmt::error!("panic: {}", defmt::Display2Format(info));
    exit(101)
}

#[cortex_m_rt::exception]
unsafe fn HardFault(ef: &cortex_m_rt::ExceptionFrame) -> ! {
    defmt::error!("hard fault at pc={=u32:#010x}", ef.pc());
    exit(102)
}

defmt::timestamp!("");

/// All large state, in one `static`.
pub struct Storage {
    /// The parsed track.
    pub track: FwTrack,
    /// What the parser reports besides the track (descriptions, noise and clip spans).
    pub info: TrackInfo,
    /// The engine's voice pool.
    pub voices: [VoiceSlot; POOL_VOICES],
    /// The engine's zero-phase filter slots.
    pub filters: [FilterSlot; FILTER_SLOTS],
    /// The circular DMA buffer the codec would play.
    pub dma: DoubleBuffer,
    /// Block renderer and fingerprint.
    pub renderer: Renderer,
}

static STORAGE: StaticCell<Storage> = StaticCell::new();

/// The storage singleton. Panics if called twice. Not inlined: the initial values may
/// be built in this function's stack frame (~290 KiB), which must not stay reserved in
/// the caller's.
#[inline(never)]
pub fn storage() -> &'static mut Storage {
    STORAGE.init_with(|| Storage {
        track: FwTrack::default(),
        info: TrackInfo::default(),
        voices: core::array::from_fn(|_| VoiceSlot::default()),
        filters: core::array::from_fn(|_| FilterSlot::idle()),
        dma: DoubleBuffer::new(MAX_BLOCK),
        renderer: Renderer::new(0),
    })
}

/// Why a track could not be rendered on this firmware.
#[derive(Debug, defmt::Format)]
pub enum Unfit {
    /// The parser ran out of a fixed capacity (the track is larger than the firmware's).
    Capacity {
        /// What overflowed.
        what: &'static str,
        /// The limit.
        limit: usize,
    },
    /// Another parse error (the file is not a valid track).
    Invalid,
    /// The track names a `.noise` preset file and none was put in flash with it.
    NoisePresetMissing,
    /// The track plays audio files (overlay clips, subliminal sources, a noise preset's
    /// `input_audio_path`): decoding and resampling them is the host's job (the engine
    /// only borrows PCM), and this firmware carries no PCM in flash. Playing such a track
    /// without them would be a silent wrong render, so it is refused.
    NeedsAudioFiles,
    /// The engine could not be built with the firmware's pools.
    Build(#[defmt(Debug2Format)] BuildError),
}

/// Parses `json` into `s.track`, completing its background noise from `noise_preset`
/// (the `.noise` file the track names, also in flash) as the host's loader does from the
/// file system: the preset's generator settings replace the inline ones. Tracks that play
/// audio files are refused ([`Unfit::NeedsAudioFiles`]).
pub fn load(s: &mut Storage, json: &[u8], noise_preset: Option<&[u8]>) -> Result<(), Unfit> {
    if let Err(report) = entrain_format::parse(json, &mut s.track, &mut s.info) {
        return Err(unfit(&report));
    }
    let subliminal = s
        .track
        .voices
        .iter()
        .any(|v| matches!(v.params, entrain_engine::model::VoiceParams::Subliminal(_)));
    if !s.info.clip_entries.is_empty() || subliminal {
        return Err(Unfit::NeedsAudioFiles);
    }
    let Some(bg) = s.info.background.as_ref() else {
        return Ok(());
    };
    if bg.input_audio_path.is_some() {
        return Err(Unfit::NeedsAudioFiles);
    }
    if bg.file.is_none() {
        return Ok(());
    }
    let Some(bytes) = noise_preset else {
        return Err(Unfit::NoisePresetMissing);
    };
    let mut report = entrain_format::Report::default();
    let parsed = entrain_format::noise::parse_noise_file(bytes, &mut report);
    if report.has_errors() {
        return Err(unfit(&report));
    }
    if let Some(nf) = parsed {
        let mut spec = bg.spec;
        if nf.input_audio_path.is_some() {
            return Err(Unfit::NeedsAudioFiles);
        }
        spec.params = nf.params;
        s.track.noise = Some(spec);
    }
    Ok(())
}

fn unfit(report: &entrain_format::Report) -> Unfit {
    for e in report.errors.iter() {
        if let ErrorKind::TooMany { what, limit } = e.kind {
            return Unfit::Capacity { what, limit };
        }
    }
    Unfit::Invalid
}

/// Renders the first `frames` frames of `s.track` in streaming mode through the DMA
/// double buffer with halves of `block` frames, and returns their fingerprint.
/// `progress(done, frames)` is called after every `every` frames.
pub fn render_hash(
    s: &mut Storage,
    block: usize,
    frames: u64,
    every: u64,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<u64, Unfit> {
    let cfg = Config {
        mode: Mode::Streaming,
        ..Config::default()
    };
    let mem = SplitMemory::new(&mut s.voices, &mut s.filters);
    let mut engine = Engine::new(&s.track, mem, cfg).map_err(Unfit::Build)?;
    s.dma.set_block(block);
    s.renderer.reset(frames);
    let mut half = Half::First;
    let mut next_report = every;
    while !s.renderer.done() {
        // On a board, this is where the half-transfer / transfer-complete interrupt
        // hands `half` back to the CPU; here the "DMA" has always finished.
        s.renderer.fill(&mut engine, s.dma.half_mut(half));
        compiler_fence(Ordering::Release);
        half = half.other();
        if s.renderer.hashed() >= next_report {
            progress(s.renderer.hashed(), frames);
            next_report += every;
        }
    }
    Ok(s.renderer.fingerprint())
}
