//! The audio a track plays from files (overlay clips, `subliminal_encode` sources, a noise
//! preset's `input_audio_path`), as the host prepared it.
//!
//! The probe has no file system and no decoders, and decoding is the host's job anyway
//! (the engine only borrows PCM, TRACK_FORMAT.md §10). What must be the same on every
//! target is what the engine does with that PCM, so the host exports its prepared arena and
//! the references into it (`realtime_backend hash TRACK --export-sources FILE`), JS copies
//! them into the probe, and [`attach_sources`] writes the references into the parsed track
//! exactly where the host's loader put them. The render then borrows the arena.
//!
//! File layout (little-endian), written by the CLI's `export_sources`:
//!
//! ```text
//! "ENTSRC01"
//! u64 arena frames
//! u32 clips,  then per clip: u64 offset, u64 frames, u64 start, f32 gain,
//!             u32 has_pan, f32 pan_l, f32 pan_r, u64 fade_in, u64 fade_out
//! u32 subliminal voices, then per voice: u32 voice (index in the track's voice list),
//!             u32 segments, segments × (u64 offset, u64 frames), f32 norm
//! u32 has_noise_input, then u64 offset, u64 frames
//! arena: frames × (f32 left, f32 right)
//! ```
//!
//! [`attach_sources`] reads everything before the arena; JS copies the arena itself into
//! the probe's PCM buffer.

use crate::{ProbeTrack, ERR_ARGS, ERR_CAPACITY, ERR_STATE};
use core::fmt::Write as _;
use entrain_engine::model::{ClipSpec, PcmRef, VoiceParams, MAX_SUBLIMINAL_SOURCES};

/// The file's first bytes.
pub const MAGIC: &[u8; 8] = b"ENTSRC01";

/// A little-endian reader over the header bytes.
struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let s = self.b.get(self.at..self.at.checked_add(N)?)?;
        self.at += N;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Some(a)
    }
    fn u32(&mut self) -> Option<u32> {
        self.take::<4>().map(u32::from_le_bytes)
    }
    fn u64(&mut self) -> Option<u64> {
        self.take::<8>().map(u64::from_le_bytes)
    }
    fn f32(&mut self) -> Option<f32> {
        self.take::<4>().map(f32::from_le_bytes)
    }
    fn pcm(&mut self) -> Option<PcmRef> {
        Some(PcmRef {
            offset: self.u64()?,
            frames: self.u64()?,
        })
    }
}

/// Writes the references of `header` (the file up to its arena) into `track`. Returns the
/// number of arena frames the file holds (and JS copied into the PCM buffer), which must
/// be at most `pcm_capacity`. Errors: [`ERR_ARGS`] for a malformed file, [`ERR_CAPACITY`]
/// when the arena or a list does not fit, [`ERR_STATE`] when a reference does not match
/// the parsed track (a subliminal index that is not a subliminal voice).
pub fn attach_sources(
    header: &[u8],
    pcm_capacity: usize,
    track: &mut ProbeTrack,
    msg: &mut crate::Message,
) -> Result<u64, u32> {
    msg.clear();
    let malformed = |msg: &mut crate::Message, what: &str| {
        let _ = write!(msg, "sources file: {what}");
        ERR_ARGS
    };
    if header.get(..8) != Some(&MAGIC[..]) {
        return Err(malformed(msg, "bad magic"));
    }
    let mut r = Reader { b: header, at: 8 };
    let short = |msg: &mut crate::Message| {
        let _ = write!(msg, "sources file: truncated");
        ERR_ARGS
    };
    let frames = r.u64().ok_or_else(|| short(msg))?;
    if frames > pcm_capacity as u64 {
        let _ = write!(
            msg,
            "sources: {frames} frames of audio > probe buffer of {pcm_capacity}"
        );
        return Err(ERR_CAPACITY);
    }
    let in_arena = |p: PcmRef| p.offset.checked_add(p.frames).is_some_and(|e| e <= frames);

    let clips = r.u32().ok_or_else(|| short(msg))?;
    track.clips.clear();
    for k in 0..clips {
        let mut read = || -> Option<ClipSpec> {
            let pcm = r.pcm()?;
            let start = r.u64()?;
            let gain = r.f32()?;
            let has_pan = r.u32()?;
            let (pl, pr) = (r.f32()?, r.f32()?);
            Some(ClipSpec {
                pcm,
                start,
                gain,
                pan: (has_pan != 0).then_some((pl, pr)),
                fade_in: r.u64()?,
                fade_out: r.u64()?,
            })
        };
        let c = read().ok_or_else(|| short(msg))?;
        if !in_arena(c.pcm) {
            return Err(malformed(msg, "clip outside the arena"));
        }
        if track.clips.push(c).is_err() {
            let _ = write!(msg, "sources: clip {k} exceeds the probe's clip capacity");
            return Err(ERR_CAPACITY);
        }
    }

    let subs = r.u32().ok_or_else(|| short(msg))?;
    for _ in 0..subs {
        let g = r.u32().ok_or_else(|| short(msg))? as usize;
        let n = r.u32().ok_or_else(|| short(msg))? as usize;
        if n > MAX_SUBLIMINAL_SOURCES {
            return Err(malformed(msg, "too many subliminal segments"));
        }
        let mut segs = [PcmRef::default(); MAX_SUBLIMINAL_SOURCES];
        for s in segs.iter_mut().take(n) {
            *s = r.pcm().ok_or_else(|| short(msg))?;
            if !in_arena(*s) {
                return Err(malformed(msg, "subliminal segment outside the arena"));
            }
        }
        let norm = r.f32().ok_or_else(|| short(msg))?;
        let Some(VoiceParams::Subliminal(p)) = track.voices.get_mut(g).map(|v| &mut v.params)
        else {
            let _ = write!(
                msg,
                "sources: voice {g} of the track is not subliminal_encode"
            );
            return Err(ERR_STATE);
        };
        p.segments = segs;
        p.segment_count = n as u8;
        p.norm = norm;
    }

    let has_noise = r.u32().ok_or_else(|| short(msg))?;
    if has_noise != 0 {
        let p = r.pcm().ok_or_else(|| short(msg))?;
        if !in_arena(p) {
            return Err(malformed(msg, "noise input outside the arena"));
        }
        let Some(noise) = track.noise.as_mut() else {
            let _ = write!(msg, "sources: a noise input, but the track has no noise");
            return Err(ERR_STATE);
        };
        noise.input = Some(p);
    }
    if r.at != header.len() {
        return Err(malformed(msg, "trailing bytes before the arena"));
    }
    Ok(frames)
}
