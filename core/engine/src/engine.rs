//! The renderer: timeline, voice pool, step mixing and the output stage.
//!
//! Two output modes (TRACK_FORMAT.md §8):
//!
//! * [`Mode::Compatible`] (offline) reproduces the original chain: voices of a step are
//!   summed in f32, a step whose peak exceeds 1.0 is divided by its peak, steps are placed
//!   and crossfaded (with the original's phase alignment of the incoming segment), and the
//!   whole track is scaled so its peak equals `target_level`. The step peaks, alignment
//!   lags and the global peak are measured by [`Engine::new`] with analysis passes
//!   (rendering, never storing), so memory stays constant whatever the track length.
//! * [`Mode::Streaming`] (real time, firmware): each step gets a fixed gain from an
//!   analytic bound of its voices (`min(1, 1/Σ|amp|)`), the output is scaled by
//!   `target_level` and the live master gain, and a smooth, look-ahead-free peak limiter
//!   guarantees the ceiling. No block-wise rescaling (the earlier port's gain jumps).
//!
//! Every per-sample quantity is a function of the absolute sample index, so the output does
//! not depend on how the caller slices its buffers: rendering with blocks of 1, 7, 64 or
//! 4096 frames gives the same bits.

use crate::model::{TrackRef, VoiceSpec, MAX_VOICES_PER_STEP};
use crate::timeline::{Placement, Timeline, TimelineError, MAX_PLACEMENTS};
use crate::voices::{FilterSlot, StepClock, VoiceSlot, MAX_FILTERS_PER_VOICE, ZERO_PHASE_CAP};
use entrain_dsp::fft::{fft, Complex};
use entrain_dsp::math;
use entrain_dsp::Frame;
use heapless::Vec;

// Staged mixing (voice buffers and gains for an external mixer): a child module so that it
// reads the engine's state without widening its visibility; kept apart from `render`.
#[path = "mixplan.rs"]
pub mod mixplan;

/// Internal processing block (frames). Output never depends on it. Each block costs
/// every voice a call (region checks, dispatch, its kernels' per-chunk set-up): at 64
/// frames that was ~8 % of a 26-voice preset's instructions (F19-B: 911M → 839M for 20 s
/// at 256), and on the Cortex-M4F 8 voices at 480-frame DMA blocks went from 1,450 to
/// 1,413 instructions per frame. The block buffers live in the engine ([`Scratch`]), so
/// small host blocks (32 frames) do not pay for initialising 256.
pub const BLOCK: usize = 256;
/// Maximum number of steps sounding at once (a step and its crossfade partners).
pub const MAX_ACTIVE: usize = 4;
/// Maximum number of phase-aligned crossfade heads held at once.
pub const MAX_ALIGNED_HEADS: usize = 2;

/// Where a track comes from: anything that can lend a [`TrackRef`] (a reference to a
/// `Track`, a `Box`, an `Arc`, …).
pub trait TrackSource {
    /// The borrowed track.
    fn track(&self) -> TrackRef<'_>;

    /// The PCM arena the track's clips refer to (stereo frames at the track's rate).
    fn pcm(&self) -> &[Frame] {
        &[]
    }
}

impl<D, const S: usize, const V: usize> TrackSource for D
where
    D: core::ops::Deref<Target = crate::model::Track<S, V>>,
{
    fn track(&self) -> TrackRef<'_> {
        self.deref().view()
    }
}

/// Mutable working memory lent to the engine.
#[derive(Debug)]
pub struct Parts<'a> {
    /// The voice pool.
    pub voices: &'a mut [VoiceSlot],
    /// Post-chain pool slots: zero-phase filters and per-voice effects (spatializer,
    /// flanger, SAM overlap-add).
    pub filters: &'a mut [FilterSlot],
    /// Frames for phase alignment (compatible mode); may be empty.
    pub align: &'a mut [Frame],
    /// Complex scratch for the alignment correlation; may be empty.
    pub fft: &'a mut [Complex],
}

/// Storage for the engine's pools (fixed arrays on a microcontroller, vectors on a host).
pub trait Memory {
    /// Borrows all parts at once.
    fn parts(&mut self) -> Parts<'_>;
}

/// Fixed-size memory: `V` voice slots and `F` zero-phase filter slots, no alignment
/// scratch (compatible mode then renders without phase alignment).
#[derive(Debug)]
pub struct ArrayMemory<const V: usize, const F: usize> {
    voices: [VoiceSlot; V],
    filters: [FilterSlot; F],
}

impl<const V: usize, const F: usize> ArrayMemory<V, F> {
    /// Empty pools. `const`: a firmware puts the pools in a `static` (no stack copy).
    pub const fn new() -> Self {
        Self {
            voices: [const { VoiceSlot::idle() }; V],
            filters: [const { FilterSlot::idle() }; F],
        }
    }
}

impl<const V: usize, const F: usize> Default for ArrayMemory<V, F> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const V: usize, const F: usize> Memory for ArrayMemory<V, F> {
    fn parts(&mut self) -> Parts<'_> {
        Parts {
            voices: &mut self.voices,
            filters: &mut self.filters,
            align: &mut [],
            fft: &mut [],
        }
    }
}

/// Output mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Mode {
    /// The original's offline chain (per-step and global peak normalisation).
    #[default]
    Compatible,
    /// Fixed headroom and a smooth limiter (real time).
    Streaming,
}

/// Engine configuration.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Config {
    /// Output mode.
    pub mode: Mode,
    /// Output peak level (compatible: the track's peak is scaled to it; streaming: the
    /// gain applied after per-step headroom). The original's default is 0.25.
    pub target_level: f32,
    /// Phase-align crossfades (compatible mode; needs alignment scratch).
    pub phase_align: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            mode: Mode::Compatible,
            target_level: 0.25,
            phase_align: true,
        }
    }
}

/// Why an engine could not be built. Rendering itself never fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BuildError {
    /// The timeline could not be built.
    Timeline(TimelineError),
    /// More voices sound at once than the pool holds.
    VoicePool {
        /// Index of a step at the worst moment.
        step: usize,
        /// Voices needed at once.
        needed: usize,
        /// Pool size.
        available: usize,
    },
    /// More zero-phase filters and per-voice effects (spatializers, flangers, SAM
    /// voices) sound at once than there are pool slots.
    FilterSlots {
        /// Index of a step at the worst moment.
        step: usize,
        /// Filters needed at once.
        needed: usize,
        /// Slots available.
        available: usize,
    },
    /// More steps overlap at one instant than [`MAX_ACTIVE`].
    TooManyOverlapping {
        /// Index of a step at the worst moment.
        step: usize,
    },
    /// A step has more voices than [`MAX_VOICES_PER_STEP`].
    TooManyVoices {
        /// Step index.
        step: usize,
        /// Its voices.
        voices: usize,
    },
    /// A clip refers to frames the track source does not provide (its audio was not
    /// decoded: build the engine from the loaded track, not the bare model).
    MissingPcm {
        /// Clip index.
        clip: usize,
    },
    /// The background noise refers to a rendered input (`input_audio_path`) the track
    /// source does not provide.
    MissingNoiseInput,
    /// Phase alignment was requested but the alignment scratch is too small.
    AlignScratch {
        /// Frames needed.
        frames: usize,
        /// Complex values needed.
        fft: usize,
    },
}

/// Scratch sizes a host should allocate for a track (see [`Engine::requirements`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Requirements {
    /// Voice slots.
    pub voices: usize,
    /// Post-chain pool slots (zero-phase filters and per-voice effects).
    pub filters: usize,
    /// Alignment frames (compatible mode with phase alignment).
    pub align_frames: usize,
    /// Alignment FFT complex values.
    pub fft: usize,
}

/// What the compatible-mode analysis handed to the spill sink of [`Engine::with_spill`]:
/// every frame of the track, in order, as it stands before the gains the analysis found.
/// A host that stores them produces the output with [`Engine::replay`] instead of
/// rendering the track again (the analysis is then the only render: about twice as fast
/// for an offline render, at 8 bytes of storage per frame).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Spilled {
    /// Nothing (streaming mode, no sink, or a track whose analysis does not see the
    /// output in order): render with [`Engine::render`].
    #[default]
    Nothing,
    /// Each step's standalone render (analysis pass 1), in time order, zeros between
    /// steps: when no two steps overlap and there is no crossfade, noise or clip, this is
    /// the track before its step gains, voice mix gain and output gain.
    Steps,
    /// The assembled track at output gain 1 (analysis pass 3): the track before its
    /// output gain.
    Track,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum StepGain {
    Unity,
    /// Compatible mode: divide by the step's peak (the original's `step /= peak`).
    Divide(f32),
    /// Streaming mode: multiply by the headroom gain.
    Multiply(f32),
}

#[derive(Clone, Debug)]
struct Active {
    placement: usize,
    /// Pool slots of this step's voices, in voice order.
    slots: Vec<u16, MAX_VOICES_PER_STEP>,
    /// Head slot (0..MAX_ALIGNED_HEADS) of this step's rotated head in the alignment scratch.
    head: Option<usize>,
}

/// A streaming peak limiter: instant attack (the gain drops exactly enough that the
/// frame meets the ceiling), exponential release. Never exceeds the ceiling; never
/// looks ahead; a no-op while the signal stays below the ceiling.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limiter {
    ceiling: f32,
    release: f32,
    gain: f32,
}

impl Limiter {
    /// A limiter with `ceiling` (linear) and a release time constant of `release_s` at `sr`.
    pub fn new(ceiling: f32, release_s: f32, sr: f32) -> Self {
        Self {
            ceiling,
            release: math::expf(-1.0 / (release_s * sr)),
            gain: 1.0,
        }
    }

    /// Back to unity gain.
    pub fn reset(&mut self) {
        self.gain = 1.0;
    }

    /// One frame through the limiter.
    #[inline]
    pub fn tick(&mut self, f: Frame) -> Frame {
        // Release toward unity first, then clamp so this frame meets the ceiling.
        self.gain = 1.0 - (1.0 - self.gain) * self.release;
        let peak = math::fabsf(f[0]).max(math::fabsf(f[1]));
        if peak * self.gain > self.ceiling {
            self.gain = self.ceiling / peak;
        }
        let o = [f[0] * self.gain, f[1] * self.gain];
        // Division rounding may leave one ulp above the ceiling: clamp.
        [
            o[0].clamp(-self.ceiling, self.ceiling),
            o[1].clamp(-self.ceiling, self.ceiling),
        ]
    }

    /// `block` through the limiter in place: exactly the frames of repeated
    /// [`Limiter::tick`]. At unity gain a block whose peak stays at or below the ceiling
    /// passes unchanged (`tick` would release 1.0 to 1.0, multiply by 1.0 and clamp
    /// nothing), which is found with one vectorisable pass instead of the per-frame
    /// dependency chain on the gain. The samples must not be NaN (the engine
    /// canonicalises them first).
    pub fn process(&mut self, block: &mut [Frame]) {
        self.process_with_peak(block, magnitude_peak_bits(block));
    }

    /// [`Limiter::process`] for a block whose [`magnitude_peak_bits`] the caller has
    /// (the output stage finds it in its own pass).
    pub fn process_with_peak(&mut self, block: &mut [Frame], peak_bits: u32) {
        if self.gain == 1.0 && peak_bits <= self.ceiling.to_bits() {
            return;
        }
        for f in block.iter_mut() {
            *f = self.tick(*f);
        }
    }
}

/// The largest `|x|` of `block` as a bit pattern: for non-NaN floats the order of the
/// magnitude bits is the order of the magnitudes.
pub fn magnitude_peak_bits(block: &[Frame]) -> u32 {
    block
        .as_flattened()
        .iter()
        .fold(0u32, |m, x| m.max(x.to_bits() & 0x7fff_ffff))
}

/// The output gain and NaN canonicalisation of a block, in place, in one pass with the
/// block's [`magnitude_peak_bits`] (of the result) for the limiter: run through
/// [`entrain_simd::run`], the same operations per sample in wider vectors.
struct OutputGain<'a> {
    out: &'a mut [Frame],
    g: f32,
    peak: u32,
}

impl entrain_simd::Kernel for OutputGain<'_> {
    #[inline(always)]
    fn run(&mut self) {
        let g = self.g;
        let mut peak = 0u32;
        for x in self.out.as_flattened_mut() {
            let y = math::canonical(*x * g);
            peak = peak.max(y.to_bits() & 0x7fff_ffff);
            *x = y;
        }
        self.peak = peak;
    }
}

/// Streaming limiter ceiling: -0.2 dBFS.
pub const LIMITER_CEILING: f32 = 0.977;
/// Streaming limiter release time constant.
pub const LIMITER_RELEASE_S: f32 = 0.25;

/// The renderer of one track.
pub struct Engine<T: TrackSource, M: Memory> {
    track: T,
    mem: M,
    cfg: Config,
    sr: u32,
    tl: Timeline,
    /// Output length: the timeline, extended by clips that end later.
    total: u64,
    gains: [StepGain; MAX_PLACEMENTS],
    lags: [u64; MAX_PLACEMENTS],
    out_gain: f32,
    master: f32,
    limiter: Limiter,
    pos: u64,
    active: Vec<Active, MAX_ACTIVE>,
    /// Placements with index ≥ mask are ignored (alignment analysis).
    mask: usize,
    next_event: u64,
    /// Largest crossfade window, frames.
    max_x: usize,
    align_on: bool,
    /// Background noise layer (TRACK_FORMAT.md §9), added after the step fold.
    noise: Option<crate::noise::NoiseLayer>,
    /// Host mix gains.
    mix: crate::model::MixGains,
    /// The render loop's block buffers, kept here so that no block initialises them.
    scratch: Scratch,
    /// What the analysis handed to a spill sink ([`Engine::replay`]).
    spilled: Spilled,
    /// Frames the analysis's step pass rendered ([`Engine::analysed_step_frames`]).
    step_frames: u64,
}

/// [`Engine`]'s block buffers: a step's sum and a voice's frames on their way into it.
struct Scratch {
    step: [Frame; BLOCK],
    voice: [Frame; BLOCK],
}

impl<T: TrackSource, M: Memory> core::fmt::Debug for Engine<T, M> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Engine")
            .field("sr", &self.sr)
            .field("total", &self.total)
            .field("pos", &self.pos)
            .field("mode", &self.cfg.mode)
            .finish()
    }
}

fn step_voices<'a>(tr: &TrackRef<'a>, p: &Placement) -> &'a [VoiceSpec] {
    tr.step_voices(p.step as usize)
}

impl<T: TrackSource, M: Memory> Engine<T, M> {
    /// What a track needs from [`Memory`] under `cfg`.
    pub fn requirements(track: &TrackRef<'_>, cfg: &Config) -> Result<Requirements, BuildError> {
        let tl = Timeline::new(track).map_err(BuildError::Timeline)?;
        let (voices, filters, _) = peak_concurrency(track, &tl)?;
        let mut req = Requirements {
            voices,
            filters,
            align_frames: 0,
            fft: 0,
        };
        if cfg.mode == Mode::Compatible && cfg.phase_align {
            let x = tl
                .placements
                .iter()
                .map(|p| p.xfade as usize)
                .max()
                .unwrap_or(0);
            if x > 1 {
                req.align_frames = (2 + MAX_ALIGNED_HEADS) * x;
                req.fft = 2 * (2 * x).next_power_of_two();
            }
        }
        Ok(req)
    }

    /// Builds the engine. In [`Mode::Compatible`] this runs the analysis passes (step
    /// peaks, alignment lags, global peak), which take about twice as long as the render
    /// itself (once when no steps overlap and there is no noise, clip or crossfade: the
    /// global peak then follows from the step peaks) but keep memory constant.
    pub fn new(track: T, mem: M, cfg: Config) -> Result<Self, BuildError> {
        Self::with_progress(track, mem, cfg, &mut |_| {})
    }

    /// [`Engine::new`] with a progress callback (fraction 0..1 of the analysis).
    pub fn with_progress(
        track: T,
        mem: M,
        cfg: Config,
        progress: &mut dyn FnMut(f32),
    ) -> Result<Self, BuildError> {
        Self::build(track, mem, cfg, progress, None)
    }

    /// [`Engine::with_progress`] handing what the analysis renders to `sink`: in
    /// compatible mode, when [`Engine::spilled`] then says so, `sink` received every frame
    /// of the track in order (blocks of at most 1,024 frames), and the output is those
    /// frames put through [`Engine::replay`]: the same bits as [`Engine::render`], with
    /// one render of the track fewer. Otherwise `sink` may have received frames that are
    /// of no use, and the output comes from [`Engine::render`] as usual.
    ///
    /// `sink` returns whether it wants more: once it returns `false` it is not called
    /// again, nothing counts as spilled, and the analysis is free to skip what it need
    /// not render (a one-voice step's peak known from its carriers,
    /// [`VoiceSlot::carrier_peak`]).
    pub fn with_spill(
        track: T,
        mem: M,
        cfg: Config,
        progress: &mut dyn FnMut(f32),
        sink: &mut dyn FnMut(&[Frame]) -> bool,
    ) -> Result<Self, BuildError> {
        Self::build(track, mem, cfg, progress, Some(sink))
    }

    fn build(
        track: T,
        mut mem: M,
        cfg: Config,
        progress: &mut dyn FnMut(f32),
        sink: Option<Sink<'_, '_>>,
    ) -> Result<Self, BuildError> {
        let tr = track.track();
        let sr = tr.sample_rate;
        let tl = Timeline::new(&tr).map_err(BuildError::Timeline)?;
        for (i, _) in tr.steps.iter().enumerate() {
            let n = tr.step_voices(i).len();
            if n > MAX_VOICES_PER_STEP {
                return Err(BuildError::TooManyVoices { step: i, voices: n });
            }
        }
        let (need_v, need_f, worst) = peak_concurrency(&tr, &tl)?;
        {
            let parts = mem.parts();
            if need_v > parts.voices.len() {
                return Err(BuildError::VoicePool {
                    step: worst,
                    needed: need_v,
                    available: parts.voices.len(),
                });
            }
            if need_f > parts.filters.len() {
                return Err(BuildError::FilterSlots {
                    step: worst,
                    needed: need_f,
                    available: parts.filters.len(),
                });
            }
        }
        let max_x = tl
            .placements
            .iter()
            .map(|p| p.xfade as usize)
            .max()
            .unwrap_or(0);
        let align_on = cfg.mode == Mode::Compatible && cfg.phase_align && max_x > 1;
        let mix = tr.mix;
        let noise = tr
            .noise
            .map(|s| crate::noise::NoiseLayer::new(s, sr, tl.total));
        // Clips extend the track when they end later (TRACK_FORMAT.md §10.2); the noise
        // does not.
        let pcm_len = track.pcm().len() as u64;
        let mut total = tl.total;
        for (k, c) in tr.clips.iter().enumerate() {
            if c.pcm.offset.saturating_add(c.pcm.frames) > pcm_len {
                return Err(BuildError::MissingPcm { clip: k });
            }
            total = total.max(c.start + c.pcm.frames);
        }
        if let Some(p) = tr.noise.and_then(|n| n.input) {
            if p.offset.saturating_add(p.frames) > pcm_len {
                return Err(BuildError::MissingNoiseInput);
            }
        }
        if align_on {
            let parts = mem.parts();
            let frames = (2 + MAX_ALIGNED_HEADS) * max_x;
            let fftn = 2 * (2 * max_x).next_power_of_two();
            if parts.align.len() < frames || parts.fft.len() < fftn {
                return Err(BuildError::AlignScratch { frames, fft: fftn });
            }
        }
        let mut e = Self {
            track,
            mem,
            cfg,
            sr,
            tl,
            total,
            gains: [StepGain::Unity; MAX_PLACEMENTS],
            lags: [0; MAX_PLACEMENTS],
            out_gain: cfg.target_level,
            step_frames: 0,
            master: 1.0,
            limiter: Limiter::new(LIMITER_CEILING, LIMITER_RELEASE_S, sr as f32),
            pos: 0,
            active: Vec::new(),
            mask: usize::MAX,
            next_event: 0,
            max_x,
            align_on: false,
            noise,
            mix,
            scratch: Scratch {
                step: [[0.0; 2]; BLOCK],
                voice: [[0.0; 2]; BLOCK],
            },
            spilled: Spilled::Nothing,
        };
        match cfg.mode {
            Mode::Streaming => {
                let tr = e.track.track();
                for (k, p) in e.tl.placements.iter().enumerate() {
                    let bound: f64 = step_voices(&tr, p)
                        .iter()
                        .map(crate::voices::Voice::peak_bound)
                        .sum();
                    e.gains[k] = if bound > 1.0 {
                        StepGain::Multiply((1.0 / bound) as f32)
                    } else {
                        StepGain::Unity
                    };
                }
            }
            Mode::Compatible => {
                e.analyze(progress, align_on, sink);
            }
        }
        e.seek(0);
        Ok(e)
    }

    /// Output sample rate, Hz.
    pub fn sample_rate(&self) -> u32 {
        self.sr
    }

    /// Total frames of the track.
    pub fn total_frames(&self) -> u64 {
        self.total
    }

    /// Current position, frames.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// The placed steps.
    pub fn timeline(&self) -> &Timeline {
        &self.tl
    }

    /// The step sounding last in file order at the current position.
    pub fn current_step(&self) -> Option<usize> {
        self.tl
            .current(self.pos)
            .map(|k| self.tl.placements[k].step as usize)
    }

    /// The output gain applied after mixing (compatible: `target / peak`).
    pub fn output_gain(&self) -> f32 {
        self.out_gain
    }

    /// Frames the compatible-mode analysis rendered to measure the steps' peaks: the
    /// steps' lengths summed, less what one-voice steps whose peaks were known from their
    /// carriers spared ([`VoiceSlot::carrier_peak`]). 0 in streaming mode.
    pub fn analysed_step_frames(&self) -> u64 {
        self.step_frames
    }

    /// Sets the live master gain (clamped to 0..1).
    pub fn set_master_gain(&mut self, g: f32) {
        self.master = if g.is_nan() { 0.0 } else { g.clamp(0.0, 1.0) };
    }

    /// Moves to frame `t` without rendering what precedes it.
    pub fn seek(&mut self, t: u64) {
        self.active.clear();
        self.pos = t.min(self.total);
        self.next_event = self.pos;
        self.limiter.reset();
        if let Some(n) = self.noise.as_mut() {
            n.seek(self.pos);
        }
    }

    /// Renders the next `out.len()` frames. Returns the number of frames of track
    /// written; frames past the end are zero.
    pub fn render(&mut self, out: &mut [Frame]) -> usize {
        let mut done = 0;
        while done < out.len() && self.pos < self.total {
            if self.pos >= self.next_event {
                self.update_active();
            }
            let m = (out.len() - done)
                .min(BLOCK)
                .min((self.next_event - self.pos) as usize)
                .min((self.total - self.pos) as usize);
            let m = m.max(1);
            self.mix_block(&mut out[done..done + m]);
            self.pos += m as u64;
            done += m;
        }
        for f in out[done..].iter_mut() {
            *f = [0.0, 0.0];
        }
        done
    }

    // ---- internals ---------------------------------------------------------------

    fn update_active(&mut self) {
        let t = self.pos;
        // Drop finished steps.
        let tl = &self.tl;
        self.active.retain(|a| tl.placements[a.placement].end() > t);
        // Start steps that cover t (file order is kept by sorting on placement index).
        let count = self.tl.placements.len().min(self.mask);
        for k in 0..count {
            let p = self.tl.placements[k];
            if p.start <= t && t < p.end() && !self.active.iter().any(|a| a.placement == k) {
                self.activate(k, t - p.start);
            }
        }
        // Next event: the nearest start or end after t.
        let mut next = self.total;
        for p in self.tl.placements.iter().take(count) {
            if p.start > t {
                next = next.min(p.start);
            } else if p.end() > t {
                next = next.min(p.end());
                // Phase-aligned heads end with the crossfade window.
                if p.start + p.xfade > t {
                    next = next.min(p.start + p.xfade);
                }
            }
        }
        self.next_event = next.max(t + 1);
    }

    fn activate(&mut self, k: usize, local: u64) {
        let tr = self.track.track();
        let p = self.tl.placements[k];
        let specs = step_voices(&tr, &p);
        let parts = self.mem.parts();
        let clock = StepClock::new(tr.steps[p.step as usize].duration, self.sr as f64);
        // Slots and filters held by the other active steps.
        let pool = parts.voices.len();
        let mut slots: Vec<u16, MAX_VOICES_PER_STEP> = Vec::new();
        let busy = |i: usize, act: &Vec<Active, MAX_ACTIVE>| {
            act.iter().any(|a| a.slots.iter().any(|&s| s as usize == i))
        };
        let filter_busy = |f: usize, act: &Vec<Active, MAX_ACTIVE>, voices: &[VoiceSlot]| {
            act.iter()
                .any(|a| a.slots.iter().any(|&s| voices[s as usize].uses_filter(f)))
        };
        let mut taken_filters: Vec<usize, { MAX_FILTERS_PER_VOICE * MAX_VOICES_PER_STEP }> =
            Vec::new();
        let mut next_free = 0usize;
        for spec in specs.iter() {
            while next_free < pool && busy(next_free, &self.active) {
                next_free += 1;
            }
            if next_free >= pool {
                break; // cannot happen: capacity was checked at construction
            }
            let mut filt: Vec<usize, MAX_FILTERS_PER_VOICE> = Vec::new();
            for _ in 0..VoiceSlot::filters_needed(spec) {
                let f = (0..parts.filters.len()).find(|&f| {
                    !taken_filters.contains(&f) && !filter_busy(f, &self.active, parts.voices)
                });
                if let Some(f) = f {
                    let _ = taken_filters.push(f);
                    let _ = filt.push(f);
                }
            }
            parts.voices[next_free] = VoiceSlot::new(spec, clock, parts.filters, &filt);
            let _ = slots.push(next_free as u16);
            next_free += 1;
        }
        let mut head = None;
        let lag = self.lags[k];
        if self.align_on && p.xfade > 1 && local < p.xfade && lag != 0 {
            // Pre-render the incoming segment [0, X) and serve it rotated by the lag.
            let x = p.xfade as usize;
            let free =
                (0..MAX_ALIGNED_HEADS).find(|h| !self.active.iter().any(|a| a.head == Some(*h)));
            if let Some(h) = free {
                let off = (2 + h) * self.max_x;
                if off + x <= parts.align.len() {
                    render_step_into::<false>(
                        parts.voices,
                        &slots,
                        parts.filters,
                        &mut parts.align[off..off + x],
                        self.gains[k],
                        self.track.pcm(),
                        &mut self.scratch.voice,
                    );
                    head = Some(h);
                }
            }
        }
        if head.is_none() && local > 0 {
            for &s in slots.iter() {
                parts.voices[s as usize].seek(local, parts.filters);
            }
        }
        let a = Active {
            placement: k,
            slots,
            head,
        };
        // Keep file order.
        let at = self
            .active
            .iter()
            .position(|b| b.placement > k)
            .unwrap_or(self.active.len());
        let _ = self.active.insert(at, a);
    }

    fn mix_block(&mut self, out: &mut [Frame]) {
        let m = out.len();
        let parts = self.mem.parts();
        let Scratch { step, voice } = &mut self.scratch;
        // One step alone, past its crossfade and rendered live (most blocks of a track):
        // its voices add straight into `out`. The general path below computes
        // `out = +0.0 + step`, which differs from `step` only where `step` is -0.0; a step
        // sum starts from +0.0 and only adds, so it never is, except through a gain that
        // rounds a negative denormal to -0.0 — which is why the gain pass then adds the
        // +0.0 itself (`render_step_into`'s `ONTO_ZERO`). The same bits either way.
        let alone = match self.active.as_slice() {
            [a] => {
                let p = self.tl.placements[a.placement];
                (self.pos - p.start >= p.xfade).then_some(a)
            }
            _ => None,
        };
        if let Some(a) = alone {
            render_step_into::<true>(
                parts.voices,
                &a.slots,
                parts.filters,
                out,
                self.gains[a.placement],
                self.track.pcm(),
                voice,
            );
        } else {
            for f in out.iter_mut() {
                *f = [0.0, 0.0];
            }
        }
        for a in self.active.iter().filter(|_| alone.is_none()) {
            let p = self.tl.placements[a.placement];
            let local = self.pos - p.start;
            let st = &mut step[..m];
            match a.head {
                Some(h) if local < p.xfade => {
                    let off = (2 + h) * self.max_x;
                    let x = p.xfade;
                    let lag = self.lags[a.placement] % x;
                    for (k, f) in st.iter_mut().enumerate() {
                        let idx = (local + k as u64 + x - lag) % x;
                        *f = parts.align[off + idx as usize];
                    }
                }
                _ => render_step_into::<false>(
                    parts.voices,
                    &a.slots,
                    parts.filters,
                    st,
                    self.gains[a.placement],
                    self.track.pcm(),
                    voice,
                ),
            }
            if local < p.xfade {
                for (k, (o, s)) in out.iter_mut().zip(st.iter()).enumerate() {
                    let j = local + k as u64;
                    if j < p.xfade {
                        let (g_out, g_in) = p.curve.gains(j, p.xfade);
                        o[0] = o[0] * g_out + s[0] * g_in;
                        o[1] = o[1] * g_out + s[1] * g_in;
                    } else {
                        o[0] += s[0];
                        o[1] += s[1];
                    }
                }
            } else {
                for (o, s) in out.iter_mut().zip(st.iter()) {
                    o[0] += s[0];
                    o[1] += s[1];
                }
            }
        }
        // Host mix gains (config.toml `voice_gain`); exactly 1.0 leaves the bits alone.
        if self.mix.voices != 1.0 {
            let g = self.mix.voices;
            for f in out.iter_mut() {
                f[0] *= g;
                f[1] *= g;
            }
        }
        // Background noise: after the steps, before the output stage (TRACK_FORMAT.md
        // §8.2); not part of the crossfade-alignment analysis (masked renders).
        if self.mask == usize::MAX {
            if let Some(n) = self.noise.as_mut() {
                n.add_from(self.pos, out, self.mix.noise as f64, self.track.pcm());
            }
            // Overlay clips, after the noise (TRACK_FORMAT.md §8.2 order).
            let tr = self.track.track();
            if !tr.clips.is_empty() {
                mix_clips(tr.clips, self.track.pcm(), self.pos, out, self.mix.clips);
            }
        }
        self.output_stage(out);
    }

    /// The output gain, NaN canonicalisation and (streaming) the limiter, in place.
    pub(crate) fn output_stage(&mut self, out: &mut [Frame]) {
        let mut k = OutputGain {
            out,
            g: self.out_gain * self.master,
            peak: 0,
        };
        entrain_simd::run(&mut k);
        if self.cfg.mode == Mode::Streaming {
            self.limiter.process_with_peak(k.out, k.peak);
        }
    }

    /// Compatible-mode analysis: step peaks, alignment lags, global peak. With a `sink`,
    /// the pass that sees the output in order hands it over ([`Spilled`]).
    fn analyze(&mut self, progress: &mut dyn FnMut(f32), align: bool, sink: Option<Sink<'_, '_>>) {
        let total_work = self.tl.placements.iter().map(|p| p.n).sum::<u64>() + 2 * self.total + 1;
        let mut work = 0u64;
        // Pass 1 is the track itself (before its gains) when the steps are the track and
        // come in time order; pass 3 (below) otherwise.
        let steps_spill = sink.is_some()
            && self.steps_are_the_track()
            && self
                .tl
                .placements
                .windows(2)
                .all(|w| w[0].start <= w[1].start);
        // 1. Step peaks (each step standalone, as the original normalises it).
        self.out_gain = 1.0;
        let mut step_peaks: Vec<f32, MAX_PLACEMENTS> = Vec::new();
        let mut spilled_to = 0u64;
        // Pass 1 feeds the sink only when it is the track; otherwise pass 3 may.
        let (mut pass1_sink, mut sink) = if steps_spill {
            (sink, None)
        } else {
            (None, sink)
        };
        for k in 0..self.tl.placements.len() {
            let p = self.tl.placements[k];
            spill_zeros(&mut pass1_sink, p.start.saturating_sub(spilled_to));
            spilled_to = p.end();
            let peak = self.standalone_peak(k, p.n, &mut pass1_sink);
            let _ = step_peaks.push(peak);
            self.gains[k] = if peak > 1.0 {
                StepGain::Divide(peak)
            } else {
                StepGain::Unity
            };
            work += p.n;
            progress(work as f32 / total_work as f32);
        }
        if steps_spill {
            spill_zeros(&mut pass1_sink, self.total.saturating_sub(spilled_to));
            if pass1_sink.is_some() {
                self.spilled = Spilled::Steps;
            }
        }
        // 2. Alignment lags, in file order (a step's window sees the aligned steps before it).
        if align {
            for k in 0..self.tl.placements.len() {
                let p = self.tl.placements[k];
                if p.xfade > 1 {
                    self.lags[k] = self.measure_lag(k);
                }
            }
            self.align_on = true;
        }
        // 3. Global peak of the assembled track.
        self.mask = usize::MAX;
        if let Some(peak) = self.peak_from_steps(&step_peaks) {
            self.out_gain = if peak > 1e-9 {
                (self.cfg.target_level as f64 / peak as f64) as f32
            } else {
                1.0
            };
            self.seek(0);
            progress(1.0);
            return;
        }
        self.seek(0);
        let mut peak = 0.0f32;
        let mut buf = [[0.0f32; 2]; 1024];
        loop {
            let n = self.render(&mut buf);
            if n == 0 {
                break;
            }
            // At output gain 1 and master gain 1 (`set_master_gain` needs the built
            // engine) the output stage is `canonical(x · 1.0)`, the identity on
            // canonical values: these frames through the final output stage are the
            // output ([`Engine::replay`]).
            feed(&mut sink, &buf[..n]);
            peak = math::frames_peak(peak, &buf[..n]);
            work += n as u64;
            if work % (1 << 20) < 1024 {
                progress(work as f32 / total_work as f32);
            }
        }
        if sink.is_some() {
            self.spilled = Spilled::Track;
        }
        // The original computes target/peak in float64 and multiplies the float32 track
        // by it as float32 (NumPy's weak Python scalars).
        self.out_gain = if peak > 1e-9 {
            (self.cfg.target_level as f64 / peak as f64) as f32
        } else {
            1.0
        };
        progress(1.0);
    }

    /// What [`Engine::with_spill`]'s sink received: whether [`Engine::replay`] applies.
    pub fn spilled(&self) -> Spilled {
        self.spilled
    }

    /// The output from the analysis's frames ([`Engine::with_spill`]): `out` holds the
    /// frames the sink received from the current position on; they become the frames
    /// [`Engine::render`] would write there (the same operations on the same values:
    /// the step gain, the voice mix gain, the output stage),
    /// and the position advances. Returns the frames of track written, as `render` does
    /// (frames past the end become zero). When nothing was spilled, `out` is zeroed and
    /// 0 returned.
    pub fn replay(&mut self, out: &mut [Frame]) -> usize {
        let n = (self.total - self.pos).min(out.len() as u64) as usize;
        let (body, tail) = out.split_at_mut(n);
        for f in tail.iter_mut() {
            *f = [0.0, 0.0];
        }
        match self.spilled {
            Spilled::Nothing => {
                for f in body.iter_mut() {
                    *f = [0.0, 0.0];
                }
                return 0;
            }
            Spilled::Track => {}
            Spilled::Steps => {
                let mut t = self.pos;
                let mut i = 0;
                while i < n {
                    let left = (n - i) as u64;
                    // The placement under `t` (no two overlap), or the gap up to the next.
                    let under = self
                        .tl
                        .placements
                        .iter()
                        .enumerate()
                        .find(|(_, p)| p.start <= t && t < p.end());
                    let m = match under {
                        Some((k, p)) => {
                            let m = (p.end() - t).min(left) as usize;
                            // `render` then adds the step into a zeroed sum: the identity
                            // here, since a step's sum starts at +0.0 and so is never -0.0.
                            apply_step_gain::<false>(&mut body[i..i + m], self.gains[k]);
                            m
                        }
                        None => {
                            let next = self
                                .tl
                                .placements
                                .iter()
                                .map(|p| p.start)
                                .filter(|&s| s > t)
                                .min()
                                .unwrap_or(self.total);
                            (next - t).min(left) as usize
                        }
                    };
                    t += m as u64;
                    i += m;
                }
                if self.mix.voices != 1.0 {
                    let g = self.mix.voices;
                    for f in body.iter_mut() {
                        f[0] *= g;
                        f[1] *= g;
                    }
                }
            }
        }
        self.output_stage(body);
        self.pos += n as u64;
        n
    }

    /// The assembled track's peak (analysis pass 3) without rendering it again, when the
    /// assembled track is, sample for sample, one step's standalone render (pass 1) put
    /// through the same per-sample gains: no two placements overlap, none has a
    /// crossfade window or is cut short, and there is no background noise and no clip.
    /// Each stage of that chain (`/ step peak`, `· voice gain`, `· output gain`, `|·|`) is
    /// sign-symmetric and monotone in |x| under IEEE rounding, so the largest output is
    /// the chain applied to the largest |x|: the same f32 as the render pass would find
    /// (NaN is dropped by both: `max` ignores it, the output stage zeroes it). A track of
    /// one 60-minute step (every shipped preset) is then rendered twice instead of three
    /// times. `None` when the condition does not hold.
    fn peak_from_steps(&self, step_peaks: &[f32]) -> Option<f32> {
        if !self.steps_are_the_track() {
            return None;
        }
        let g = self.out_gain * self.master;
        let mut peak = 0.0f32;
        for (k, &x) in step_peaks.iter().enumerate() {
            let mut f = [[x, 0.0f32]];
            apply_step_gain::<false>(&mut f, self.gains[k]);
            let mut y = f[0][0];
            if self.mix.voices != 1.0 {
                y *= self.mix.voices;
            }
            peak = peak.max(math::fabsf(math::canonical(y * g)));
        }
        Some(peak)
    }

    /// Whether the assembled track is, sample for sample, the steps' standalone renders
    /// (pass 1) put through per-sample gains ([`Engine::peak_from_steps`]).
    fn steps_are_the_track(&self) -> bool {
        let pl = &self.tl.placements;
        if self.noise.is_some() || !self.track.track().clips.is_empty() {
            return false;
        }
        if pl.iter().any(|p| p.xfade != 0 || p.len != p.n) {
            return false;
        }
        for (i, a) in pl.iter().enumerate() {
            if pl[i + 1..]
                .iter()
                .any(|b| a.start < b.end() && b.start < a.end())
            {
                return false;
            }
        }
        true
    }

    /// Peak of step `k` rendered alone over its `n` samples (handed to `sink` too).
    ///
    /// A step of one voice is that voice's samples (`+0.0 + v` has the magnitude of `v`):
    /// when nothing wants the frames, the voice may know their peak without rendering them
    /// ([`VoiceSlot::carrier_peak`]: one binaural voice, the commonest track, whose
    /// analysis was otherwise a second render of it). Asked once, from where the render
    /// is (a spill given up after its probe); when the voice cannot say, the rest renders.
    fn standalone_peak(&mut self, k: usize, n: u64, sink: &mut Option<Sink<'_, '_>>) -> f32 {
        let tr = self.track.track();
        let p = self.tl.placements[k];
        let specs = step_voices(&tr, &p);
        let clock = StepClock::new(tr.steps[p.step as usize].duration, self.sr as f64);
        let parts = self.mem.parts();
        let count = specs.len().min(parts.voices.len());
        let mut fslot = 0;
        for (j, spec) in specs.iter().take(count).enumerate() {
            let need = VoiceSlot::filters_needed(spec);
            let filt: Vec<usize, MAX_FILTERS_PER_VOICE> = (fslot..fslot + need).collect();
            fslot += need;
            parts.voices[j] = VoiceSlot::new(spec, clock, parts.filters, &filt);
        }
        let slots: Vec<u16, MAX_VOICES_PER_STEP> = (0..count as u16).collect();
        let mut peak = 0.0f32;
        let Scratch { step: buf, voice } = &mut self.scratch;
        let mut left = n;
        let mut ask = count == 1;
        while left > 0 {
            if ask && sink.is_none() {
                ask = false;
                if let Some(p) = parts.voices[0].carrier_peak(n - left, n) {
                    peak = peak.max(p);
                    break;
                }
            }
            let m = left.min(BLOCK as u64) as usize;
            render_step_into::<false>(
                parts.voices,
                &slots,
                parts.filters,
                &mut buf[..m],
                StepGain::Unity,
                self.track.pcm(),
                voice,
            );
            feed(sink, &buf[..m]);
            peak = math::frames_peak(peak, &buf[..m]);
            left -= m as u64;
            self.step_frames += m as u64;
        }
        peak
    }

    /// The original's phase alignment (TRACK_FORMAT.md §6.3) for placement `k`: the lag
    /// `L*` maximising the channel-summed cross-correlation of the buffer content in the
    /// window (steps before `k`) and the step's head, by FFT.
    fn measure_lag(&mut self, k: usize) -> u64 {
        let p = self.tl.placements[k];
        let x = p.xfade as usize;
        // prev: render placements < k over the window.
        self.mask = k;
        self.out_gain = 1.0;
        self.seek(p.start);
        let mut prev_done = 0;
        while prev_done < x {
            let m = (x - prev_done).min(BLOCK);
            let mut tmp = [[0.0f32; 2]; BLOCK];
            let n = self.render(&mut tmp[..m]);
            let parts = self.mem.parts();
            parts.align[prev_done..prev_done + m].copy_from_slice(&tmp[..m]);
            if n < m {
                for f in parts.align[prev_done + n..prev_done + m].iter_mut() {
                    *f = [0.0, 0.0];
                }
            }
            prev_done += m;
        }
        self.active.clear();
        // next: the step's head, normalised, alone.
        {
            let tr = self.track.track();
            let specs = step_voices(&tr, &p);
            let clock = StepClock::new(tr.steps[p.step as usize].duration, self.sr as f64);
            let parts = self.mem.parts();
            let count = specs.len().min(parts.voices.len());
            let mut fslot = 0;
            for (j, spec) in specs.iter().take(count).enumerate() {
                let need = VoiceSlot::filters_needed(spec);
                let filt: Vec<usize, MAX_FILTERS_PER_VOICE> = (fslot..fslot + need).collect();
                fslot += need;
                parts.voices[j] = VoiceSlot::new(spec, clock, parts.filters, &filt);
            }
            let slots: Vec<u16, MAX_VOICES_PER_STEP> = (0..count as u16).collect();
            let (head, _) = parts.align[x..].split_at_mut(x);
            render_step_into::<false>(
                parts.voices,
                &slots,
                parts.filters,
                head,
                self.gains[k],
                self.track.pcm(),
                &mut self.scratch.voice,
            );
        }
        let parts = self.mem.parts();
        let lag = correlate_lag(&parts.align[..x], &parts.align[x..2 * x], parts.fft);
        self.mask = usize::MAX;
        self.seek(0);
        lag
    }
}

/// Adds the clips sounding in `[pos, pos + out.len())`.
fn mix_clips(
    clips: &[crate::model::ClipSpec],
    pcm: &[Frame],
    pos: u64,
    out: &mut [Frame],
    layer_gain: f32,
) {
    let end = pos + out.len() as u64;
    for c in clips {
        let (c0, c1) = (c.start, c.start + c.pcm.frames);
        if c1 <= pos || c0 >= end {
            continue;
        }
        let from = c0.max(pos);
        let to = c1.min(end);
        let n = c.pcm.frames;
        for t in from..to {
            let j = t - c0;
            let Some(x) = pcm.get((c.pcm.offset + j) as usize) else {
                break;
            };
            let mut g = c.gain * layer_gain;
            if j < c.fade_in {
                g *= entrain_dsp::linspace::linspace_at(0.0, 1.0, c.fade_in, true, j) as f32;
            }
            if c.fade_out > 0 && j >= n - c.fade_out {
                g *= entrain_dsp::linspace::linspace_at(
                    1.0,
                    0.0,
                    c.fade_out,
                    true,
                    j - (n - c.fade_out),
                ) as f32;
            }
            let (l, r) = match c.pan {
                Some((pl, pr)) => (x[0] * pl, x[1] * pr),
                None => (x[0], x[1]),
            };
            let o = &mut out[(t - pos) as usize];
            o[0] += l * g;
            o[1] += r * g;
        }
    }
}

/// Lag (as a rotation amount mod `n`) of numpy's full cross-correlation argmax, summed over
/// channels: `c[L] = Σ_j a[j+L]·b[j]`, `L ∈ [-(n-1), n-1]`, first maximum.
fn correlate_lag(a: &[Frame], b: &[Frame], scratch: &mut [Complex]) -> u64 {
    let n = a.len().min(b.len());
    if n <= 1 {
        return 0;
    }
    let m = (2 * n).next_power_of_two();
    if scratch.len() < 2 * m {
        return 0;
    }
    let (fa, rest) = scratch.split_at_mut(m);
    let fb = &mut rest[..m];
    for i in 0..m {
        fa[i] = if i < n {
            [a[i][0] as f64, a[i][1] as f64]
        } else {
            [0.0, 0.0]
        };
        fb[i] = if i < n {
            [b[i][0] as f64, b[i][1] as f64]
        } else {
            [0.0, 0.0]
        };
    }
    fft(fa, false);
    fft(fb, false);
    for i in 0..m {
        // fa · conj(fb)
        let (ar, ai) = (fa[i][0], fa[i][1]);
        let (br, bi) = (fb[i][0], -fb[i][1]);
        fa[i] = [ar * br - ai * bi, ar * bi + ai * br];
    }
    fft(fa, true);
    let mut best = f64::NEG_INFINITY;
    let mut best_l: i64 = 0;
    for l in -(n as i64 - 1)..=(n as i64 - 1) {
        let idx = l.rem_euclid(m as i64) as usize;
        let c = fa[idx][0];
        if c > best {
            best = c;
            best_l = l;
        }
    }
    best_l.rem_euclid(n as i64) as u64
}

/// Sums the voices of a step into `out` (voice order, f32) and applies the step gain.
///
/// `tmp` holds a voice's frames on their way into the sum (a voice that cannot mix
/// straight into it, [`VoiceSlot::mix_into`]); the render loop lends the engine's own,
/// so that no block pays for initialising one.
fn render_step_into<const ONTO_ZERO: bool>(
    voices: &mut [VoiceSlot],
    slots: &[u16],
    filters: &mut [FilterSlot],
    out: &mut [Frame],
    gain: StepGain,
    pcm: &[Frame],
    tmp: &mut [Frame; BLOCK],
) {
    for chunk_start in (0..out.len()).step_by(BLOCK) {
        let end = (chunk_start + BLOCK).min(out.len());
        let o = &mut out[chunk_start..end];
        // The chunk is the voices' sum on +0.0: the first voice that can writes its
        // frames as `+0.0 + frame` instead (the same bits, one pass fewer).
        let mut zeroed = false;
        for &k in slots {
            let Some(v) = voices.get_mut(k as usize) else {
                continue;
            };
            if !zeroed {
                zeroed = true;
                if v.mix_onto_zero(o, tmp) {
                    continue;
                }
                o.fill([0.0, 0.0]);
            }
            if v.mix_into(o, tmp) {
                continue;
            }
            let t = &mut tmp[..end - chunk_start];
            v.process_with(t, filters, pcm);
            for (a, b) in o.iter_mut().zip(t.iter()) {
                a[0] += b[0];
                a[1] += b[1];
            }
        }
        if !zeroed {
            o.fill([0.0, 0.0]);
        }
    }
    apply_step_gain::<ONTO_ZERO>(out, gain);
}

/// Where the analysis hands its frames ([`Engine::with_spill`]); the two lifetimes let a
/// borrow of the sink be passed on while the sink itself lives longer. It returns
/// whether it wants more.
type Sink<'a, 'b> = &'a mut (dyn FnMut(&[Frame]) -> bool + 'b);

/// Hands `frames` to the sink, if there is one; a sink that wants no more is dropped.
fn feed(sink: &mut Option<Sink<'_, '_>>, frames: &[Frame]) {
    if let Some(s) = sink.as_deref_mut() {
        if !s(frames) {
            *sink = None;
        }
    }
}

/// Hands `n` frames of silence to a spill sink (the gaps between steps).
fn spill_zeros(sink: &mut Option<Sink<'_, '_>>, mut n: u64) {
    const ZEROS: [Frame; BLOCK] = [[0.0; 2]; BLOCK];
    while n > 0 && sink.is_some() {
        let m = n.min(BLOCK as u64) as usize;
        feed(sink, &ZEROS[..m]);
        n -= m as u64;
    }
}

/// Applies a step's gain to its summed voices; with `ONTO_ZERO` the result is also added
/// to +0.0 (`+0.0 + x` is `x` except that -0.0 becomes +0.0): what mixing the step onto a
/// zeroed block would do (`Engine::mix_block`'s lone-step path).
#[inline]
fn apply_step_gain<const ONTO_ZERO: bool>(out: &mut [Frame], gain: StepGain) {
    let z = |x: f32| if ONTO_ZERO { 0.0 + x } else { x };
    match gain {
        StepGain::Unity => {}
        StepGain::Divide(p) => {
            for f in out.iter_mut() {
                f[0] = z(f[0] / p);
                f[1] = z(f[1] / p);
            }
        }
        StepGain::Multiply(g) => {
            for f in out.iter_mut() {
                f[0] = z(f[0] * g);
                f[1] = z(f[1] * g);
            }
        }
    }
}

/// Peak voice and filter concurrency over the timeline, and a step at the worst moment.
fn peak_concurrency(tr: &TrackRef<'_>, tl: &Timeline) -> Result<(usize, usize, usize), BuildError> {
    let mut best = (0usize, 0usize, 0usize);
    for (k, p) in tl.placements.iter().enumerate() {
        // At each placement start, count placements overlapping it.
        let t = p.start;
        let mut v = 0;
        let mut f = 0;
        let mut overlapping = 0;
        for q in tl.placements.iter() {
            if q.start <= t && t < q.end() {
                overlapping += 1;
                let specs = step_voices(tr, q);
                v += specs.len();
                f += specs.iter().map(VoiceSlot::filters_needed).sum::<usize>();
            }
        }
        if overlapping > MAX_ACTIVE {
            return Err(BuildError::TooManyOverlapping {
                step: p.step as usize,
            });
        }
        let _ = k;
        if v > best.0 || f > best.1 {
            best = (best.0.max(v), best.1.max(f), p.step as usize);
        }
    }
    // Standalone analysis renders a single step with all its voices.
    for (i, _) in tr.steps.iter().enumerate() {
        let specs = tr.step_voices(i);
        best.0 = best.0.max(specs.len());
        best.1 = best
            .1
            .max(specs.iter().map(VoiceSlot::filters_needed).sum::<usize>());
    }
    Ok(best)
}

// Re-exported for hosts sizing memory.
#[doc(hidden)]
pub const _ZERO_PHASE_CAP: usize = ZERO_PHASE_CAP;

#[cfg(test)]
mod tests {
    use super::*;

    /// The lone-step path's gain pass (`ONTO_ZERO`) gives the general path's bits: a step
    /// scaled in its own buffer and then added to a zeroed block (`mix_block`). Negative
    /// denormals that the gain rounds to -0.0 are where the two would part without the
    /// +0.0.
    #[test]
    fn lone_step_gain_equals_the_step_added_to_zero() {
        let values = [
            -f32::from_bits(1),
            f32::from_bits(1),
            -0.0,
            0.0,
            -1e-39,
            0.7,
            -0.7,
            3.5,
            f32::INFINITY,
        ];
        // A step's sum starts from +0.0 and only adds: it never holds -0.0.
        let frames: std::vec::Vec<Frame> = values
            .iter()
            .flat_map(|&a| values.iter().map(move |&b| [0.0 + a, 0.0 + b]))
            .collect();
        for gain in [
            StepGain::Unity,
            StepGain::Divide(3.0),
            StepGain::Multiply(0.25),
        ] {
            let mut lone = frames.clone();
            apply_step_gain::<true>(&mut lone, gain);
            let mut step = frames.clone();
            apply_step_gain::<false>(&mut step, gain);
            let general: std::vec::Vec<Frame> =
                step.iter().map(|s| [0.0 + s[0], 0.0 + s[1]]).collect();
            let bits = |v: &[Frame]| -> std::vec::Vec<u32> {
                v.iter()
                    .flat_map(|f| [f[0].to_bits(), f[1].to_bits()])
                    .collect()
            };
            assert_eq!(bits(&lone), bits(&general), "{gain:?}");
            if gain != StepGain::Unity {
                // The case exists: without the +0.0 the bits would differ.
                assert_ne!(bits(&step), bits(&general), "{gain:?}");
            }
        }
    }
}
