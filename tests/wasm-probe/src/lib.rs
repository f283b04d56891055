//! `entrain-wasm-probe`: the three core crates on bare `wasm32-unknown-unknown`.
//!
//! No allocator, no wasm-bindgen, no JS glue: the module exports plain `extern "C"`
//! functions ([`ffi`], wasm32 only) over static buffers. `tests/node/wasm_hash.mjs` writes
//! a track's JSON into the input buffer, calls `hash_track`, and compares the FNV-1a 64
//! fingerprint with `realtime_backend hash` on the host (STYLE.md §8: the same bits on
//! every target).
//!
//! What the probe does is what the host does for `realtime_backend hash`: parse with
//! [`entrain_format::parse`] ([`load_track`]), complete the background noise from its
//! `.noise` preset ([`attach_preset`]; JS reads the file, since the probe has no file
//! system), build an [`Engine`] with [`Config::default`] and the requested mode, render
//! `min(max_frames, total)` frames in blocks of `block` frames, and feed each block to
//! [`Fnv1a64`] ([`render_hash`]). Only the storage differs: fixed capacities here
//! ([`ProbeTrack`], [`Pools`], a fixed alignment scratch), heap on the host. A track that
//! does not fit is reported as a capacity problem ([`ERR_CAPACITY`]), never truncated.
//!
//! The crate is `no_std` everywhere. On non-wasm targets it links `std` only so that the
//! host `cdylib` (built by `cargo build --workspace`) gets a panic runtime and so that unit
//! tests run; no code here uses it.
#![no_std]
#![warn(missing_docs)]

#[cfg(any(test, not(target_arch = "wasm32")))]
extern crate std;

pub mod cell;
#[cfg(target_arch = "wasm32")]
pub mod ffi;
pub mod message;
pub mod sources;

use core::fmt::Write as _;
use entrain_dsp::fft::Complex;
use entrain_dsp::hash::Fnv1a64;
use entrain_dsp::Frame;
use entrain_engine::engine::TrackSource;
use entrain_engine::engine::{
    ArrayMemory, BuildError, Config, Engine, Memory, Mode, Parts, MAX_ALIGNED_HEADS,
};
use entrain_engine::model::{Track, TrackRef, VoiceParams};
use entrain_engine::noise::NoiseSpec;
use entrain_format::{ErrorKind, Report, TrackInfo};
pub use message::Message;

/// Bare wasm has no panic runtime: a panic traps (`unreachable`), which the JS caller sees
/// as a `RuntimeError`. Render paths do not panic (STYLE.md §5); this is the backstop.
#[cfg(all(target_arch = "wasm32", not(test)))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}

/// Steps a probe track may hold. The shared example tracks have at most 11 steps; a small
/// capacity keeps the static track small, and a longer track is skipped, not truncated.
pub const MAX_STEPS: usize = 16;
/// Voices a probe track may hold in all steps together. The shared examples need at most
/// 23 and the original presets (`tracks/original`, one step each) at most 26.
pub const MAX_VOICES: usize = 64;
/// Voice slots of the engine pool (voices sounding at once, crossfades included).
pub const POOL_VOICES: usize = 64;
/// Zero-phase filter slots (64 KiB each: `ZERO_PHASE_CAP` stereo f32 frames). Voices may
/// chain two filters; `all_voices_tour.json` needs 8 at once.
pub const POOL_FILTERS: usize = 8;
/// Largest render block, frames (the firmware uses 48..480, cpal up to a few thousand).
pub const MAX_BLOCK: usize = 4096;
/// Largest crossfade, frames, that compatible mode can phase-align: 2^18 frames
/// (5.9 s at 44.1 kHz). It fixes the alignment scratch at 8 MiB of frames and 16 MiB of
/// FFT values (static, zero-initialised, so it costs no bytes in the `.wasm` file).
pub const ALIGN_MAX_XFADE: usize = 1 << 18;
/// Alignment frames for [`ALIGN_MAX_XFADE`] (the engine's `Requirements::align_frames`).
pub const ALIGN_FRAMES: usize = (2 + MAX_ALIGNED_HEADS) * ALIGN_MAX_XFADE;
/// FFT scratch for [`ALIGN_MAX_XFADE`] (the engine's `Requirements::fft`).
pub const ALIGN_FFT: usize = 2 * (2 * ALIGN_MAX_XFADE).next_power_of_two();

/// The probe's track storage.
pub type ProbeTrack = Track<MAX_STEPS, MAX_VOICES>;
/// The probe's voice and filter pools.
pub type Pools = ArrayMemory<POOL_VOICES, POOL_FILTERS>;

/// `mode` argument: the original's offline chain ([`Mode::Compatible`]).
pub const MODE_COMPATIBLE: u32 = 0;
/// `mode` argument: fixed headroom and limiter ([`Mode::Streaming`]).
pub const MODE_STREAMING: u32 = 1;

/// Success.
pub const OK: u32 = 0;
/// Bad arguments: input longer than the buffer, block 0 or above [`MAX_BLOCK`], unknown mode.
pub const ERR_ARGS: u32 = 1;
/// The track does not parse (for a reason other than a probe capacity).
pub const ERR_PARSE: u32 = 2;
/// The track exceeds a probe capacity (steps, voices, pool, filters, alignment scratch).
pub const ERR_CAPACITY: u32 = 3;
/// The engine refused the track for a reason other than a probe capacity.
pub const ERR_BUILD: u32 = 4;
/// A call arrived while another was running (re-entrancy; cannot happen single-threaded).
pub const ERR_BUSY: u32 = 5;

/// A call came in the wrong order: `render_hash` before a track was loaded, or before the
/// noise preset it names was attached; `attach_noise` for a track that names none.
pub const ERR_STATE: u32 = 6;

/// What a successful render produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Outcome {
    /// FNV-1a 64 of the interleaved f32 output.
    pub hash: u64,
    /// Frames rendered and hashed.
    pub frames: u64,
    /// Frames in the whole track.
    pub total_frames: u64,
    /// The track's sample rate, Hz.
    pub sample_rate: u32,
}

/// What [`load_track`] still needs before the track can be rendered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loaded {
    /// Nothing: render it.
    Ready,
    /// The track's `background_noise` names a `.noise` preset (its path is in
    /// `info.background`, relative to the track's folder): read it and [`attach_preset`].
    NeedsPreset,
    /// The track plays audio from files (overlay clips, `subliminal_encode` sources, a
    /// noise `input_audio_path`): attach the host's prepared audio with
    /// [`sources::attach_sources`] (after the preset, if any).
    NeedsSources,
}

/// Whether `track` (parsed, its noise preset attached) plays audio from files, which the
/// probe cannot read: the host's prepared audio must be attached before a render, or the
/// render would silently lack it.
pub fn needs_sources(track: &ProbeTrack, info: &TrackInfo) -> bool {
    !info.clip_entries.is_empty()
        || track
            .voices
            .iter()
            .any(|v| matches!(v.params, VoiceParams::Subliminal(_)))
        || track.noise.is_some_and(|n| n.input_file)
}

/// A probe track with the PCM arena its clips and sources refer to.
pub struct WithPcm<'a> {
    /// The track.
    pub track: &'a ProbeTrack,
    /// The arena (empty for tracks that play no files).
    pub pcm: &'a [Frame],
}

impl TrackSource for WithPcm<'_> {
    fn track(&self) -> TrackRef<'_> {
        self.track.view()
    }
    fn pcm(&self) -> &[Frame] {
        self.pcm
    }
}

/// What to render: the arguments of the `hash_track`/`render_hash` exports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request {
    /// Frames per `Engine::render` call (1..=[`MAX_BLOCK`]).
    pub block: usize,
    /// Output mode.
    pub mode: Mode,
    /// Frames to hash from the start (fewer if the track is shorter).
    pub max_frames: u64,
}

/// Engine working memory lent to [`render_hash`].
pub struct Scratch<'a> {
    /// Voice and filter pools.
    pub pools: &'a mut Pools,
    /// Phase-alignment frames (compatible mode; may be empty).
    pub align: &'a mut [Frame],
    /// Phase-alignment FFT scratch (compatible mode; may be empty).
    pub fft: &'a mut [Complex],
    /// Render buffer; its length caps the block size.
    pub out: &'a mut [Frame],
}

/// [`Pools`] plus borrowed alignment scratch, as one [`Memory`].
struct ProbeMemory<'a> {
    pools: &'a mut Pools,
    align: &'a mut [Frame],
    fft: &'a mut [Complex],
}

impl Memory for ProbeMemory<'_> {
    fn parts(&mut self) -> Parts<'_> {
        let p = self.pools.parts();
        Parts {
            voices: p.voices,
            filters: p.filters,
            align: &mut *self.align,
            fft: &mut *self.fft,
        }
    }
}

/// Maps the FFI `mode` argument.
pub fn mode_from_u32(mode: u32) -> Option<Mode> {
    match mode {
        MODE_COMPATIBLE => Some(Mode::Compatible),
        MODE_STREAMING => Some(Mode::Streaming),
        _ => None,
    }
}

/// Writes the first error of `report` (and how many more there are) to `msg`.
fn first_error(report: &Report, msg: &mut Message) {
    match report.errors.first() {
        Some(e) => {
            let _ = write!(msg, "{e}");
        }
        None => {
            let _ = write!(msg, "failed without an error");
        }
    }
    let n = report.errors.len() + report.more_errors;
    if n > 1 {
        let _ = write!(msg, " (and {} more)", n - 1);
    }
}

/// Parses a track as `entrain_host::load_track_str` does, and completes inline background
/// noise as the host's `complete_track_noise` does. A capacity overflow is
/// [`ERR_CAPACITY`], any other problem [`ERR_PARSE`]; the reason goes to `msg`.
pub fn load_track(
    input: &[u8],
    track: &mut ProbeTrack,
    info: &mut TrackInfo,
    msg: &mut Message,
) -> Result<Loaded, u32> {
    msg.clear();
    if let Err(report) = entrain_format::parse(input, track, info) {
        let capacity = report
            .errors
            .iter()
            .find(|e| matches!(e.kind, ErrorKind::TooMany { .. }));
        return match capacity {
            Some(e) => {
                let _ = write!(msg, "{e}");
                Err(ERR_CAPACITY)
            }
            None => {
                first_error(&report, msg);
                Err(ERR_PARSE)
            }
        };
    }
    match info.background.as_ref() {
        Some(bg) if bg.file.is_some() => return Ok(Loaded::NeedsPreset),
        Some(bg) if bg.has_params => {
            complete_noise(track, bg.spec, bg.input_audio_path.is_some());
        }
        _ => {}
    }
    Ok(if needs_sources(track, info) {
        Loaded::NeedsSources
    } else {
        Loaded::Ready
    })
}

/// Completes the track's noise from the `.noise` preset its `background_noise` names, as
/// the host's `complete_track_noise` does once it has read the file.
pub fn attach_preset(
    preset: &[u8],
    track: &mut ProbeTrack,
    info: &TrackInfo,
    msg: &mut Message,
) -> Result<Loaded, u32> {
    msg.clear();
    let Some(bg) = info.background.as_ref().filter(|b| b.file.is_some()) else {
        let _ = write!(msg, "the track names no noise preset");
        return Err(ERR_STATE);
    };
    let mut report = Report::default();
    let parsed = entrain_format::noise::parse_noise_file(preset, &mut report);
    if report.has_errors() {
        let _ = write!(msg, "noise preset: ");
        first_error(&report, msg);
        return Err(ERR_PARSE);
    }
    if let Some(nf) = parsed {
        let mut spec = bg.spec;
        spec.params = nf.params;
        complete_noise(track, spec, nf.input_audio_path.is_some());
    }
    Ok(if needs_sources(track, info) {
        Loaded::NeedsSources
    } else {
        Loaded::Ready
    })
}

/// The host's last step: an `input_audio_path` makes the layer an input-file layer, whose
/// notched input the host renders ([`sources`] brings it here).
fn complete_noise(track: &mut ProbeTrack, mut spec: NoiseSpec, input_file: bool) {
    if input_file {
        spec.input_file = true;
    }
    track.noise = Some(spec);
}

/// Renders up to `req.max_frames` frames of `track` in blocks of `req.block` and hashes
/// them, exactly as `realtime_backend hash` does (same [`Config`] apart from the mode).
pub fn render_hash(
    track: WithPcm<'_>,
    req: Request,
    scratch: Scratch<'_>,
    msg: &mut Message,
) -> Result<Outcome, u32> {
    msg.clear();
    let Request {
        block,
        mode,
        max_frames,
    } = req;
    if block == 0 || block > scratch.out.len() {
        let _ = write!(msg, "block {block} outside 1..={}", scratch.out.len());
        return Err(ERR_ARGS);
    }
    let cfg = Config {
        mode,
        ..Config::default()
    };
    let mem = ProbeMemory {
        pools: scratch.pools,
        align: scratch.align,
        fft: scratch.fft,
    };
    let mut engine = match Engine::new(track, mem, cfg) {
        Ok(e) => e,
        Err(e) => return Err(build_error(e, msg)),
    };
    let total = max_frames.min(engine.total_frames());
    let out = &mut scratch.out[..block];
    let mut h = Fnv1a64::new();
    let mut done = 0u64;
    while done < total {
        let n = ((total - done) as usize).min(block);
        engine.render(&mut out[..n]);
        h.write_frames(&out[..n]);
        done += n as u64;
    }
    Ok(Outcome {
        hash: h.finish(),
        frames: total,
        total_frames: engine.total_frames(),
        sample_rate: engine.sample_rate(),
    })
}

/// [`load_track`] then [`render_hash`], for tracks that name no noise preset
/// ([`ERR_STATE`] otherwise: the probe cannot read files).
pub fn hash_json(
    input: &[u8],
    req: Request,
    track: &mut ProbeTrack,
    info: &mut TrackInfo,
    scratch: Scratch<'_>,
    msg: &mut Message,
) -> Result<Outcome, u32> {
    match load_track(input, track, info, msg)? {
        Loaded::Ready => {}
        Loaded::NeedsPreset => {
            let _ = write!(msg, "the track names a noise preset: attach it first");
            return Err(ERR_STATE);
        }
        Loaded::NeedsSources => {
            let _ = write!(msg, "the track plays audio files: attach their audio first");
            return Err(ERR_STATE);
        }
    }
    render_hash(WithPcm { track, pcm: &[] }, req, scratch, msg)
}

fn build_error(e: BuildError, msg: &mut Message) -> u32 {
    match e {
        BuildError::VoicePool {
            step,
            needed,
            available,
        } => {
            let _ = write!(
                msg,
                "{needed} voices at once > {available} pool slots (step {step})"
            );
            ERR_CAPACITY
        }
        BuildError::FilterSlots {
            step,
            needed,
            available,
        } => {
            let _ = write!(
                msg,
                "{needed} zero-phase filters at once > {available} slots (step {step})"
            );
            ERR_CAPACITY
        }
        BuildError::AlignScratch { frames, fft } => {
            let _ = write!(
                msg,
                "phase alignment needs {frames} frames and {fft} FFT values > \
                 {ALIGN_FRAMES} and {ALIGN_FFT} (crossfade longer than {ALIGN_MAX_XFADE} frames)"
            );
            ERR_CAPACITY
        }
        other => {
            let _ = write!(msg, "{other:?}");
            ERR_BUILD
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::boxed::Box;
    use std::string::String;
    use std::vec;

    const DEMO: &[u8] = include_bytes!("../../../assets/demo.json");

    struct Heap {
        track: Box<ProbeTrack>,
        info: Box<TrackInfo>,
        pools: Box<Pools>,
        out: std::vec::Vec<Frame>,
    }

    impl Heap {
        fn new() -> Self {
            Self {
                track: Box::default(),
                info: Box::default(),
                pools: Box::default(),
                out: vec![[0.0; 2]; MAX_BLOCK],
            }
        }

        fn run(
            &mut self,
            input: &[u8],
            block: usize,
            mode: Mode,
            max: u64,
        ) -> Result<Outcome, (u32, String)> {
            let mut msg = Message::new();
            let scratch = Scratch {
                pools: &mut self.pools,
                align: &mut [],
                fft: &mut [],
                out: &mut self.out,
            };
            let req = Request {
                block,
                mode,
                max_frames: max,
            };
            hash_json(
                input,
                req,
                &mut self.track,
                &mut self.info,
                scratch,
                &mut msg,
            )
            .map_err(|c| (c, msg.as_str().into()))
        }
    }

    #[test]
    fn block_size_does_not_change_the_hash() {
        let mut heap = Heap::new();
        let a = heap.run(DEMO, 480, Mode::Streaming, 44_100).unwrap();
        let b = heap.run(DEMO, 7, Mode::Streaming, 44_100).unwrap();
        let c = heap.run(DEMO, 1, Mode::Streaming, 44_100).unwrap();
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(a.frames, 44_100);
    }

    #[test]
    fn errors_are_reported_with_a_reason() {
        let mut heap = Heap::new();
        let (code, msg) = heap
            .run(b"{\"global\": ", 64, Mode::Streaming, 10)
            .unwrap_err();
        assert_eq!(code, ERR_PARSE);
        assert!(msg.contains("invalid JSON"), "{msg}");
        let (code, _) = heap.run(DEMO, 0, Mode::Streaming, 10).unwrap_err();
        assert_eq!(code, ERR_ARGS);
        let (code, _) = heap
            .run(DEMO, MAX_BLOCK + 1, Mode::Streaming, 10)
            .unwrap_err();
        assert_eq!(code, ERR_ARGS);
    }

    #[test]
    fn too_many_steps_is_a_capacity_problem() {
        let step = r#"{"duration": 1, "voices": [{"synth_function_name": "binaural_beat", "params": {}}]}"#;
        let mut json = String::from(r#"{"global": {"sample_rate": 44100}, "progression": ["#);
        for i in 0..=MAX_STEPS {
            if i > 0 {
                json.push(',');
            }
            json.push_str(step);
        }
        json.push_str("]}");
        let mut heap = Heap::new();
        let (code, msg) = heap
            .run(json.as_bytes(), 64, Mode::Streaming, 10)
            .unwrap_err();
        assert_eq!(code, ERR_CAPACITY, "{msg}");
        assert!(msg.contains("too many steps"), "{msg}");
    }

    #[test]
    fn a_named_noise_preset_must_be_attached() {
        let json =
            br#"{"global": {"sample_rate": 44100}, "progression": [{"duration": 1, "voices": []}],
            "background_noise": {"params_path": "x.noise", "gain": 0.5}}"#;
        let mut heap = Heap::new();
        let (code, msg) = heap.run(json, 64, Mode::Streaming, 10).unwrap_err();
        assert_eq!(code, ERR_STATE, "{msg}");
        let mut msg = Message::new();
        assert_eq!(
            load_track(json, &mut heap.track, &mut heap.info, &mut msg),
            Ok(Loaded::NeedsPreset)
        );
        assert_eq!(
            attach_preset(b"{", &mut heap.track, &heap.info, &mut msg),
            Err(ERR_PARSE)
        );
        assert!(msg.as_str().starts_with("noise preset: "), "{msg:?}");
    }

    #[test]
    fn a_track_playing_files_waits_for_their_audio() {
        let json =
            br#"{"global": {"sample_rate": 44100}, "progression": [{"duration": 1, "voices": []}],
            "overlay_clips": [{"path": "a.wav", "start": 0.5}]}"#;
        let mut heap = Heap::new();
        let (code, msg) = heap.run(json, 64, Mode::Streaming, 10).unwrap_err();
        assert_eq!(code, ERR_STATE, "{msg}");
        assert!(msg.contains("audio files"), "{msg}");
        let mut msg = Message::new();
        assert_eq!(
            load_track(json, &mut heap.track, &mut heap.info, &mut msg),
            Ok(Loaded::NeedsSources)
        );
        // One clip of 3 frames at 0.5 s, gain 0.5, no pan, no fades; no subliminal, no noise.
        let mut h = std::vec::Vec::from(&sources::MAGIC[..]);
        h.extend(3u64.to_le_bytes());
        h.extend(1u32.to_le_bytes());
        for v in [0u64, 3, 22_050] {
            h.extend(v.to_le_bytes());
        }
        h.extend(0.5f32.to_le_bytes());
        h.extend(0u32.to_le_bytes());
        h.extend([0u8; 8]);
        h.extend([0u8; 16]);
        h.extend(0u32.to_le_bytes());
        h.extend(0u32.to_le_bytes());
        assert_eq!(
            sources::attach_sources(&h, 2, &mut heap.track, &mut msg),
            Err(ERR_CAPACITY),
            "an arena larger than the buffer is refused"
        );
        assert_eq!(
            sources::attach_sources(&h, 3, &mut heap.track, &mut msg),
            Ok(3)
        );
        assert_eq!(heap.track.clips.len(), 1);
        assert_eq!(heap.track.clips[0].start, 22_050);
        h.push(0);
        assert_eq!(
            sources::attach_sources(&h, 3, &mut heap.track, &mut msg),
            Err(ERR_ARGS)
        );
        // The render borrows the arena: the clip sounds at 0.5 s.
        let pcm = [[1.0f32, 1.0]; 3];
        let mut out = vec![[0.0f32; 2]; 64];
        let scratch = Scratch {
            pools: &mut heap.pools,
            align: &mut [],
            fft: &mut [],
            out: &mut out,
        };
        let req = Request {
            block: 64,
            mode: Mode::Streaming,
            max_frames: 44_100,
        };
        let with = render_hash(
            WithPcm {
                track: &heap.track,
                pcm: &pcm,
            },
            req,
            scratch,
            &mut msg,
        )
        .unwrap();
        let scratch = Scratch {
            pools: &mut heap.pools,
            align: &mut [],
            fft: &mut [],
            out: &mut out,
        };
        // Without the arena the engine refuses the clip instead of playing silence.
        assert!(render_hash(
            WithPcm {
                track: &heap.track,
                pcm: &[],
            },
            req,
            scratch,
            &mut msg,
        )
        .is_err());
        assert_eq!(with.frames, 44_100);
    }
}
