//! The voice pool: an enum of concrete voices (no `Box<dyn>`, STYLE.md §3) and the
//! per-voice post chain of TRACK_FORMAT.md §4.3 and VOICES.md §0.1: voice (the noise
//! voices' generator runs in a pool slot, [`noise_swept_notch`]) →
//! glitch bursts (binaural transition, VOICES.md §1.4) →
//! zero-phase filters (isochronic harmonic suppression, qam/hybrid output filters) →
//! spatializer (§15, the last stage of the original's binaural/isochronic functions) →
//! volume envelope → flanger (§14) → 10 ms click guard. (The original's mono-pan step
//! between envelope and flanger never applies: every voice here renders stereo.)

pub mod binaural_beat;
pub mod common;
pub mod dual_pulse_binaural;
pub mod fx;
pub mod hybrid_qam_monaural_beat;
pub mod isochronic_tone;
pub mod monaural_beat_stereo_amps;
pub mod noise_swept_notch;
mod prim;
pub mod qam_beat;
pub mod rhythmic_waveshaping;
pub mod sam;
pub mod spatial_angle_modulation_monaural_beat;
pub mod stereo_am_independent;
pub mod subliminal_encode;
pub mod wave_shape_stereo_am;

pub use binaural_beat::BinauralBeat;
pub use common::StepClock;
pub use dual_pulse_binaural::DualPulseBinaural;
pub use fx::{FilterSlot, FxState};
pub use hybrid_qam_monaural_beat::HybridQamMonauralBeat;
pub use isochronic_tone::IsochronicTone;
pub use monaural_beat_stereo_amps::MonauralBeatStereoAmps;
pub use noise_swept_notch::NoiseSweptNotch;
pub use qam_beat::QamBeat;
pub use rhythmic_waveshaping::RhythmicWaveshaping;
pub use spatial_angle_modulation_monaural_beat::SpatialAngleModulationMonauralBeat;
pub use stereo_am_independent::StereoAmIndependent;
pub use subliminal_encode::SubliminalEncode;
pub use wave_shape_stereo_am::WaveShapeStereoAm;

use crate::model::{EnvelopeSpec, VoiceParams, VoiceSpec};
use entrain_dsp::env::{ClickGuard, Envelope, FadeType};
use entrain_dsp::filter::{Band, Sos, PADLEN_ORDER4};
use entrain_dsp::Frame;
use prim::voice_ramp;

/// Frames of look-ahead buffer in one zero-phase filter slot (64 KiB): enough for a
/// 4th-order low-pass down to ~150 Hz at 96 kHz with error below 1e-7.
pub const ZERO_PHASE_CAP: usize = 8192;

/// Maximum number of chained zero-phase filters on one voice (qam/hybrid: a 30 Hz
/// high-pass then a 0.45·sr low-pass, VOICES.md §0.1 `apply_filters`).
pub const MAX_ZERO_PHASE: usize = 2;

/// Maximum number of pool slots ([`FilterSlot`]) one voice uses: its zero-phase filters
/// (≤ 2, qam/hybrid, which have no spatializer or bursts), glitch bursts (≤ 1, binaural
/// transition), a spatializer (≤ 1) and a flanger (≤ 1); a noise voice uses one for its
/// generator, then a spatializer and a flanger (≤ 3).
pub const MAX_FILTERS_PER_VOICE: usize = 4;

/// A concrete voice.
// Voices live in a fixed pool and are never moved in the render path, so the size of the
// largest variant is the cost of a slot whatever the variant; boxing is not an option in
// a no_std, allocation-free core.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum Voice {
    /// Silence (unknown synth function, or an unused slot).
    Silent,
    /// `binaural_beat(_transition)`.
    Binaural(BinauralBeat),
    /// `isochronic_tone(_transition)`.
    Isochronic(IsochronicTone),
    /// `monaural_beat_stereo_amps(_transition)`.
    Monaural(MonauralBeatStereoAmps),
    /// `qam_beat(_transition)` (raw; the output filters run in zero-phase slots).
    Qam(QamBeat),
    /// `hybrid_qam_monaural_beat(_transition)` (raw; output filters in slots).
    Hybrid(HybridQamMonauralBeat),
    /// `rhythmic_waveshaping(_transition)`.
    Rhythmic(RhythmicWaveshaping),
    /// `stereo_am_independent(_transition)`.
    StereoAm(StereoAmIndependent),
    /// `wave_shape_stereo_am(_transition)`.
    WaveShapeStereoAm(WaveShapeStereoAm),
    /// `spatial_angle_modulation_monaural_beat(_transition)`.
    SamMonaural(SpatialAngleModulationMonauralBeat),
    /// Session-Builder `dual_pulse_binaural(_transition)`.
    DualPulse(DualPulseBinaural),
    /// `subliminal_encode` (reads the PCM arena).
    Subliminal(SubliminalEncode),
}

impl Voice {
    /// Builds the voice of `spec` over a step with `clock`.
    pub fn new(spec: &VoiceSpec, clock: StepClock) -> Self {
        match &spec.params {
            VoiceParams::Silent => Voice::Silent,
            VoiceParams::Binaural(p) => {
                Voice::Binaural(BinauralBeat::new(p, spec.transition.as_ref(), clock))
            }
            VoiceParams::Isochronic(p) => {
                Voice::Isochronic(IsochronicTone::new(p, spec.transition.as_ref(), clock))
            }
            VoiceParams::Monaural(p) => Voice::Monaural(MonauralBeatStereoAmps::new(
                p,
                spec.transition.as_ref(),
                clock,
            )),
            VoiceParams::Qam(p) => Voice::Qam(QamBeat::new(p, spec.transition.as_ref(), clock)),
            VoiceParams::Hybrid(p) => Voice::Hybrid(HybridQamMonauralBeat::new(
                p,
                spec.transition.as_ref(),
                clock,
            )),
            VoiceParams::Rhythmic(p) => {
                Voice::Rhythmic(RhythmicWaveshaping::new(p, spec.transition.as_ref(), clock))
            }
            VoiceParams::StereoAm(p) => {
                Voice::StereoAm(StereoAmIndependent::new(p, spec.transition.as_ref(), clock))
            }
            VoiceParams::WaveShapeStereoAm(p) => {
                Voice::WaveShapeStereoAm(WaveShapeStereoAm::new(p, spec.transition.as_ref(), clock))
            }
            VoiceParams::SamMonaural(p) => Voice::SamMonaural(
                SpatialAngleModulationMonauralBeat::new(p, spec.transition.as_ref(), clock),
            ),
            VoiceParams::DualPulse(p) => {
                Voice::DualPulse(DualPulseBinaural::new(p, spec.transition.as_ref(), clock))
            }
            VoiceParams::Subliminal(p) => Voice::Subliminal(SubliminalEncode::new(p, clock)),
            // rendered by its overlap-add state in a pool slot (VoiceSlot), not here
            VoiceParams::Sam(_) => Voice::Silent,
            // rendered by its generator in a pool slot (VoiceSlot::source)
            VoiceParams::Noise(_) => Voice::Silent,
        }
    }

    /// Raw frames (before the post chain).
    #[inline]
    pub fn process(&mut self, out: &mut [Frame]) {
        self.process_with(out, &[]);
    }

    /// Raw frames, reading the host's PCM arena where the voice needs one (subliminal).
    #[inline]
    pub fn process_with(&mut self, out: &mut [Frame], pcm: &[Frame]) {
        match self {
            Voice::Silent => out.iter_mut().for_each(|f| *f = [0.0, 0.0]),
            Voice::Subliminal(v) => v.process(out, pcm),
            Voice::Binaural(v) => v.process(out),
            Voice::Isochronic(v) => v.process(out),
            Voice::Monaural(v) => v.process(out),
            Voice::Qam(v) => v.process(out),
            Voice::Hybrid(v) => v.process(out),
            Voice::Rhythmic(v) => v.process(out),
            Voice::StereoAm(v) => v.process(out),
            Voice::WaveShapeStereoAm(v) => v.process(out),
            Voice::SamMonaural(v) => v.process(out),
            Voice::DualPulse(v) => v.process(out),
        }
    }

    /// Positions the voice at sample `i` of its step.
    pub fn seek(&mut self, i: u64) {
        match self {
            Voice::Silent => {}
            Voice::Binaural(v) => v.seek(i),
            Voice::Isochronic(v) => v.seek(i),
            Voice::Monaural(v) => v.seek(i),
            Voice::Qam(v) => v.seek(i),
            Voice::Hybrid(v) => v.seek(i),
            Voice::Rhythmic(v) => v.seek(i),
            Voice::StereoAm(v) => v.seek(i),
            Voice::WaveShapeStereoAm(v) => v.seek(i),
            Voice::SamMonaural(v) => v.seek(i),
            Voice::DualPulse(v) => v.seek(i),
            Voice::Subliminal(v) => v.seek(i),
        }
    }

    /// Back to the state right after construction.
    pub fn reset(&mut self) {
        match self {
            Voice::Silent => {}
            Voice::Binaural(v) => v.reset(),
            Voice::Isochronic(v) => v.reset(),
            Voice::Monaural(v) => v.reset(),
            Voice::Qam(v) => v.reset(),
            Voice::Hybrid(v) => v.reset(),
            Voice::Rhythmic(v) => v.reset(),
            Voice::StereoAm(v) => v.reset(),
            Voice::WaveShapeStereoAm(v) => v.reset(),
            Voice::SamMonaural(v) => v.reset(),
            Voice::DualPulse(v) => v.reset(),
            Voice::Subliminal(v) => v.reset(),
        }
    }

    /// The zero-phase filters this voice's output goes through, in order (at most
    /// [`MAX_FILTERS_PER_VOICE`]; [`VoiceSlot::filters_needed`] must agree).
    pub fn zero_phase_filters(&self, sr: f64) -> heapless::Vec<Sos, MAX_FILTERS_PER_VOICE> {
        let mut v = heapless::Vec::new();
        match self {
            Voice::Isochronic(iso) => {
                if let Some(fc) = iso.harmonic_cutoff() {
                    let _ = v.push(Sos::butterworth(4, Band::Low, fc, sr));
                }
            }
            Voice::Qam(_) | Voice::Hybrid(_) => {
                for sos in qam_beat::output_filters(sr) {
                    let _ = v.push(sos);
                }
            }
            _ => {}
        }
        v
    }

    /// An upper bound of |output| per channel (streaming-mode headroom, TRACK_FORMAT.md §8.3),
    /// including the glitch bursts, the spatializer and the flanger (whose factor is an
    /// estimate when its feedback loop gain can reach 1: the streaming limiter keeps the
    /// ceiling in any case).
    pub fn peak_bound(spec: &VoiceSpec) -> f64 {
        let glitch = VoiceSlot::glitch_params(spec, 44_100.0).map_or(0.0, |p| p.level.abs());
        let mut b = Self::core_bound(spec) + glitch;
        if VoiceSlot::spatializes(spec) && !matches!(spec.params, VoiceParams::Sam(_)) {
            if let Some(c) = spec.spatial.as_ref() {
                b *= spatial_gain_bound(c);
            }
        }
        if let Some(f) = spec.flanger.as_ref().filter(|f| f.active()) {
            let g = |c: &crate::model::FlangerConfig, on: bool| {
                if on {
                    flanger_gain_bound(c)
                } else {
                    1.0
                }
            };
            b *= g(&f.start, f.enable[0]).max(g(&f.end, f.enable[1]));
        }
        b
    }

    /// The bound of the voice itself (before bursts and effects).
    fn core_bound(spec: &VoiceSpec) -> f64 {
        fn am_max(d: f64) -> f64 {
            1.0f64.max((1.0 - d).abs())
        }
        match &spec.params {
            VoiceParams::Silent => 0.0,
            VoiceParams::Subliminal(p) => p.amp.abs(),
            // peaks above 1 are re-normalised to 0.98
            VoiceParams::Sam(_) => 1.0,
            VoiceParams::Noise(p) => noise_swept_notch::peak_bound(p),
            VoiceParams::Binaural(p) => (0..2)
                .map(|c| {
                    let a = p.amp[c].start.abs().max(p.amp[c].end.abs());
                    let d = p.am[c].depth.start.abs().max(p.am[c].depth.end.abs());
                    a * am_max(d)
                })
                .fold(0.0, f64::max),
            VoiceParams::Isochronic(p) => {
                let b = (0..2)
                    .map(|c| {
                        let a = p.amp[c].start.abs().max(p.amp[c].end.abs());
                        let d = p.am[c].depth.start.abs().max(p.am[c].depth.end.abs());
                        a * am_max(d)
                    })
                    .fold(0.0, f64::max);
                // The Butterworth low-pass overshoots pulse edges by a few percent.
                if p.harmonic_suppression {
                    b * 1.2
                } else {
                    b
                }
            }
            VoiceParams::Monaural(p) => monaural_bound(p),
            VoiceParams::Qam(p) => qam_bound(p),
            VoiceParams::Hybrid(p) => hybrid_bound(p),
            VoiceParams::Rhythmic(p) => p.amp.abs() * am_bound(&p.mod_depth) * pan_bound(p.pan),
            VoiceParams::StereoAm(p) => {
                p.amp.abs() * am_bound(&p.mod_depth[0]).max(am_bound(&p.mod_depth[1]))
            }
            VoiceParams::WaveShapeStereoAm(p) => {
                // tanh(x·S)/tanh(S) with |x| ≤ g is at most max(1, g) (tanh is concave)
                p.amp.abs()
                    * am_bound(&p.shape_mod_depth)
                    * am_bound(&p.stereo_mod_depth[0]).max(am_bound(&p.stereo_mod_depth[1]))
            }
            VoiceParams::SamMonaural(p) => {
                let core = (0..2)
                    .map(|e| {
                        (pair_abs(&p.core.amp_lower[e]) + pair_abs(&p.core.amp_upper[e])).min(1.0)
                    })
                    .sum::<f64>()
                    / 2.0;
                // peaks above 1 are re-normalised to 0.98
                (core * pair_abs(&p.amp)).min(1.0)
            }
            // pulse envelopes are within [0, 1]
            VoiceParams::DualPulse(p) => Voice::core_bound(&VoiceSpec {
                params: VoiceParams::Binaural(p.binaural),
                ..*spec
            }),
        }
    }
}

/// Gain bound of the mid-only spatializer: with `|L|, |R| ≤ B` the output is at most
/// `max(1, G)·B`, `G` the bound of the processed mid (interpolation weights × ILD gain ×
/// distance gain; the FOA decode adds its `0.5 + cos` cardioid factor).
fn spatial_gain_bound(c: &crate::model::SpatialConfig) -> f64 {
    use entrain_dsp::delay::Interp;
    use entrain_dsp::spatial::Decoder;
    let ild = entrain_dsp::math::pow(10.0, (c.ild_max_db as f64).abs() * 0.5 / 20.0);
    let rolloff = c.rolloff as f64;
    let dist = if rolloff >= 0.0 {
        1.0
    } else {
        // (ref/d)^r with r < 0 grows with d: the farthest point of the trajectory
        let t = &c.trajectory;
        let far = t.segments[..t.len as usize]
            .iter()
            .flat_map(|s| s.distance_m)
            .fold(1.0f32, f32::max) as f64;
        let near = (c.ref_distance_m as f64).max(1e-3);
        entrain_dsp::math::pow(far.max(near) / near, -rolloff)
    };
    let g = match c.decoder {
        Decoder::ItdHead => {
            let interp = match c.interp {
                Interp::Cubic => 2.0,
                _ => 1.0,
            };
            interp * if c.use_ild { ild } else { 1.0 } * dist
        }
        Decoder::FoaCardioid => 1.5 * if c.use_ild { ild } else { 1.0 } * dist,
    };
    g.max(1.0)
}

/// Gain estimate of a flanger: `(1 + |wet|·V)·make-up`, `V` the delayed signal's bound
/// through the feedback loop (loop filters' L1 gain ≤ 2: `V = 1/(1 - 2|fb|)` when that is
/// a contraction, else `1/(1 - |fb|)` capped at 20).
fn flanger_gain_bound(c: &crate::model::FlangerConfig) -> f64 {
    let fb = (c.feedback as f64).abs();
    let v = if 2.0 * fb < 1.0 {
        1.0 / (1.0 - 2.0 * fb)
    } else if fb < 0.95 {
        1.0 / (1.0 - fb)
    } else {
        20.0
    };
    let interp = match c.interp {
        entrain_dsp::delay::Interp::Cubic => 2.0,
        _ => 1.0,
    };
    let mk = if c.loudness {
        (c.loud_max_gain as f64).abs().max(1.0)
    } else {
        1.0
    };
    (1.0 + (c.wet as f64).abs() * v * interp) * mk
}

fn pair_abs(p: &crate::model::Pair) -> f64 {
    p.start.abs().max(p.end.abs())
}

/// `monaural_beat_stereo_amps`: tone levels summed, AM gain ≤ 1, hard clip at 1.
fn monaural_bound(p: &crate::model::MonauralParams) -> f64 {
    (0..2)
        .map(|e| pair_abs(&p.amp_lower[e]) + pair_abs(&p.amp_upper[e]))
        .fold(0.0, f64::max)
        .min(1.0)
}

/// max |1 - d·(1 - l)/2| over l ∈ [-1, 1] (the sine AM of §6–§8); the tanh shaper
/// `tanh(x·S)/tanh(S)` with |x| ≤ g is also at most max(1, g) (tanh is concave).
fn am_bound(d: &crate::model::Pair) -> f64 {
    1.0f64.max((1.0 - d.start).abs()).max((1.0 - d.end).abs())
}

/// Largest `pan2` gain.
fn pan_bound(pan: f64) -> f64 {
    let (l, r) = entrain_dsp::pan::pan2_gains(pan);
    l.max(r) as f64
}

/// Overshoot allowance of the qam/hybrid output filters (Butterworth step response).
const FILTER_OVERSHOOT: f64 = 1.2;

/// `qam_beat`: product of the envelope factors times the harmonic and sideband terms.
fn qam_bound(p: &crate::model::QamParams) -> f64 {
    let sub = 1.0 + pair_abs(&p.sub_harmonic_depth);
    let extra = 1.0 + pair_abs(&p.harmonic_depth) + 2.0 * p.sideband_depth.abs();
    let e = |c: usize| {
        let shaped = if p.mod_shape[c].start < 0.0 || p.mod_shape[c].end < 0.0 {
            qam_beat::MAX_SHAPED as f64
        } else {
            1.0
        };
        (1.0 + pair_abs(&p.am_depth[c]) * shaped) * (1.0 + pair_abs(&p.am2_depth[c]))
    };
    let env_max = e(0).max(e(1));
    let cross = 1.0 + pair_abs(&p.cross_mod_depth) * (env_max + 1.0);
    (0..2)
        .map(|c| pair_abs(&p.amp[c]) * e(c) * cross * sub * extra)
        .fold(0.0, f64::max)
        * FILTER_OVERSHOOT
}

/// `hybrid_qam_monaural_beat`: left `amp·(1 + depth)`, right `2·amp`.
fn hybrid_bound(p: &crate::model::HybridParams) -> f64 {
    let l = pair_abs(&p.amp[0]) * (1.0 + pair_abs(&p.qam_am_depth));
    let r = pair_abs(&p.amp[1]) * 2.0;
    l.max(r) * FILTER_OVERSHOOT
}

/// A voice with its post chain and position, as held in the engine's pool.
#[derive(Clone, Debug)]
pub struct VoiceSlot {
    voice: Voice,
    n: u64,
    i: u64,
    envelope: Envelope,
    click: ClickGuard,
    /// Zero-phase filter slots this voice uses, in processing order.
    filter: [Option<usize>; MAX_ZERO_PHASE],
    /// Pool slot of a noise voice's generator (the voice's source).
    source: Option<usize>,
    /// Pool slot of the glitch bursts.
    glitch: Option<usize>,
    /// Pool slot of the spatializer.
    spatial: Option<usize>,
    /// Pool slot of the flanger.
    flanger: Option<usize>,
}

impl Default for VoiceSlot {
    fn default() -> Self {
        Self::idle()
    }
}

impl VoiceSlot {
    /// An empty slot (silent), `const` so that pools can live in statics.
    pub const fn idle() -> Self {
        Self {
            voice: Voice::Silent,
            n: 0,
            i: 0,
            envelope: Envelope::Flat,
            click: ClickGuard::off(),
            filter: [None; MAX_ZERO_PHASE],
            source: None,
            glitch: None,
            spatial: None,
            flanger: None,
        }
    }

    /// Builds the slot for `spec` in a step with `clock`; `slots` are the pool slots to
    /// use, [`VoiceSlot::filters_needed`] of them, in the order noise generator,
    /// zero-phase filters, glitch bursts, spatializer, flanger (initialised here, in place).
    pub fn new(
        spec: &VoiceSpec,
        clock: StepClock,
        filters: &mut [FilterSlot],
        slots: &[usize],
    ) -> Self {
        let voice = Voice::new(spec, clock);
        let n = clock.n;
        let sr = clock.sr;
        let (envelope, click) = match spec.envelope {
            EnvelopeSpec::None => (Envelope::Flat, ClickGuard::new(sr, n)),
            EnvelopeSpec::Flat => (Envelope::Flat, ClickGuard::off()),
            EnvelopeSpec::LinearFade {
                fade_duration,
                start_amp,
                end_amp,
            } => (
                Envelope::linear_fade(fade_duration, start_amp, end_amp, sr, n, FadeType::In),
                ClickGuard::off(),
            ),
            EnvelopeSpec::Adsr {
                attack,
                decay,
                sustain_level,
                release,
            } => (
                Envelope::adsr(attack, decay, sustain_level, release, clock.duration, sr, n),
                ClickGuard::off(),
            ),
            EnvelopeSpec::Linen { attack, release } => (
                Envelope::linen(attack, release, clock.duration, sr, n),
                ClickGuard::off(),
            ),
        };
        let mut filter_used = [None; MAX_ZERO_PHASE];
        let zp = voice.zero_phase_filters(sr);
        let mut next = slots.iter().copied();
        let mut source = None;
        if let VoiceParams::Noise(p) = &spec.params {
            if let Some((idx, slot)) = next.next().and_then(|i| Some((i, filters.get_mut(i)?))) {
                slot.start_noise(p, spec.transition.as_ref(), clock);
                source = Some(idx);
            }
        }
        for (k, sos) in zp.iter().enumerate().take(MAX_ZERO_PHASE) {
            let Some(idx) = next.next() else { break };
            if let Some(slot) = filters.get_mut(idx) {
                // In place: a filter slot is 64 KiB, too big to build on a small stack.
                slot.reinit_filter(*sos, n, PADLEN_ORDER4);
                filter_used[k] = Some(idx);
            }
        }
        let mut glitch = None;
        if let Some(p) = Self::glitch_params(spec, sr) {
            if let Some((idx, slot)) = next.next().and_then(|i| Some((i, filters.get_mut(i)?))) {
                let seed = glitch_seed(spec, n);
                slot.start_glitch(entrain_dsp::burst::Bursts::new(
                    &p,
                    clock.duration,
                    n,
                    sr,
                    seed,
                ));
                glitch = Some(idx);
            }
        }
        let mut spatial = None;
        if Self::spatializes(spec) {
            if let Some((idx, slot)) = next.next().and_then(|i| Some((i, filters.get_mut(i)?))) {
                match (&spec.params, spec.spatial.as_ref()) {
                    (VoiceParams::Sam(p), _) => {
                        slot.start_sam(sam::SamOla::new(p, spec.transition.is_some(), n, sr));
                    }
                    (_, Some(cfg)) => slot.start_spatial(cfg, clock.duration, sr),
                    _ => {}
                }
                spatial = Some(idx);
            }
        }
        let mut flanger = None;
        if let Some(f) = spec.flanger.as_ref().filter(|f| f.active()) {
            if let Some((idx, slot)) = next.next().and_then(|i| Some((i, filters.get_mut(i)?))) {
                let ramp = f
                    .crossfades(spec.transition.is_some())
                    .then(|| voice_ramp(spec.transition.as_ref(), &clock));
                slot.start_flanger(f, ramp, sr);
                flanger = Some(idx);
            }
        }
        Self {
            voice,
            n,
            i: 0,
            envelope,
            click,
            filter: filter_used,
            source,
            glitch,
            spatial,
            flanger,
        }
    }

    /// The glitch bursts of `spec` (binaural transitions with `I, G, Lv > 0`), VOICES.md
    /// §1.4: the averages of the start and end values, focused on the mean base frequency.
    pub fn glitch_params(spec: &VoiceSpec, sr: f64) -> Option<entrain_dsp::burst::Params> {
        let (VoiceParams::Binaural(b), Some(_)) = (&spec.params, spec.transition.as_ref()) else {
            return None;
        };
        let avg = |p: &crate::model::Pair| (p.start + p.end) / 2.0;
        let g = &b.glitch;
        let p = entrain_dsp::burst::Params {
            interval_s: avg(&g.interval),
            dur_s: avg(&g.dur),
            level: avg(&g.noise_level),
            focus_width_hz: avg(&g.focus_width),
            focus_exp: avg(&g.focus_exp),
            focus_hz: avg(&b.base_freq),
        };
        p.active(sr).then_some(p)
    }

    /// True when `spec`'s voice uses the spatial slot: the spatializer of binaural,
    /// isochronic and noise voices with `spatialEnable` (the parser reads the keys for
    /// `noise_generator` only, VOICES.md §15), or the overlap-add state of
    /// `spatial_angle_modulation`.
    pub(crate) fn spatializes(spec: &VoiceSpec) -> bool {
        matches!(spec.params, VoiceParams::Sam(_))
            || (spec.spatial.is_some()
                && matches!(
                    spec.params,
                    VoiceParams::Binaural(_) | VoiceParams::Isochronic(_) | VoiceParams::Noise(_)
                ))
    }

    /// True if this voice uses pool slot `f`.
    pub fn uses_filter(&self, f: usize) -> bool {
        self.filter.contains(&Some(f))
            || self.source == Some(f)
            || self.glitch == Some(f)
            || self.spatial == Some(f)
            || self.flanger == Some(f)
    }

    /// Number of pool slots ([`FilterSlot`]) the voice of `spec` needs: a noise
    /// generator, zero-phase filters, then a spatializer, then a flanger.
    pub fn filters_needed(spec: &VoiceSpec) -> usize {
        let src = usize::from(matches!(spec.params, VoiceParams::Noise(_)));
        let zp = match &spec.params {
            VoiceParams::Isochronic(p) if p.harmonic_suppression => 1,
            VoiceParams::Qam(_) | VoiceParams::Hybrid(_) => 2,
            _ => 0,
        };
        // glitch bursts: counted whenever I, G, Lv > 0 (at a given rate a burst shorter
        // than one sample is inactive and its slot stays unused)
        let gl = usize::from(match (&spec.params, spec.transition.as_ref()) {
            (VoiceParams::Binaural(b), Some(_)) => {
                let avg = |p: &crate::model::Pair| (p.start + p.end) / 2.0;
                avg(&b.glitch.interval) > 0.0
                    && avg(&b.glitch.dur) > 0.0
                    && avg(&b.glitch.noise_level) > 0.0
            }
            _ => false,
        });
        let sp = usize::from(Self::spatializes(spec));
        let fl = usize::from(spec.flanger.is_some_and(|f| f.active()));
        src + zp + gl + sp + fl
    }

    /// The largest `|sample|` of samples `from..to` of this voice as
    /// [`VoiceSlot::process_with`] makes them (zeros past its end), found without
    /// rendering, exactly; `None` when that is not known (the caller renders). Known for
    /// silence and for a binaural beat that is a plain carrier
    /// ([`BinauralBeat::carrier_peak`]) with nothing after it but the click guard (no
    /// filter, noise source, glitch, spatializer, flanger or envelope).
    pub fn carrier_peak(&self, from: u64, to: u64) -> Option<f32> {
        let plain = self.oscillator_only() && self.envelope.is_flat();
        match &self.voice {
            // A noise voice is silent with a source: `plain` excludes it.
            Voice::Silent if plain => Some(0.0),
            Voice::Binaural(v) if plain => v.carrier_peak(from, to.min(self.n), &self.click),
            _ => None,
        }
    }

    /// Samples in the voice.
    pub fn len(&self) -> u64 {
        self.n
    }

    /// True for a zero-length voice.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Renders the next `out.len()` frames (zeros past the end of the voice).
    pub fn process(&mut self, out: &mut [Frame], filters: &mut [FilterSlot]) {
        self.process_with(out, filters, &[]);
    }

    /// Adds the next `out.len()` frames to `out` (`out[k][c] += frame[c]`) when the voice
    /// can render straight into the mix: a binaural beat (most of a preset's voices) with
    /// nothing after its oscillators over these frames (no filter, effect, envelope gain
    /// or click guard, and not past its end). The bits are those of
    /// [`VoiceSlot::process_with`] into a buffer summed into `out`; without the buffer a
    /// pass over the frames per voice is saved. `false`: nothing was done.
    ///
    /// `scratch`: room for the voice's kernel arrays (the engine's voice buffer, idle
    /// while a voice mixes itself; any length, unused when too short).
    pub fn mix_into(&mut self, out: &mut [Frame], scratch: &mut [Frame]) -> bool {
        self.mix::<false>(out, scratch)
    }

    /// [`VoiceSlot::mix_into`] onto zeroed frames without zeroing them first: `out`'s
    /// frames become `+0.0 + frame` (the first voice of a step's block). `false`:
    /// nothing was done (`out` is as it was).
    pub fn mix_onto_zero(&mut self, out: &mut [Frame], scratch: &mut [Frame]) -> bool {
        self.mix::<true>(out, scratch)
    }

    #[inline(always)]
    fn mix<const ONTO_ZERO: bool>(&mut self, out: &mut [Frame], scratch: &mut [Frame]) -> bool {
        let m = out.len() as u64;
        let (i0, end) = (self.i, self.i + m);
        let plain = matches!(self.voice, Voice::Binaural(_))
            && end <= self.n
            && m > 0
            && self.oscillator_only()
            && (self.envelope.is_flat() || self.envelope.constant_over(i0, m) == Some(1.0))
            && self.click.is_unity_over(i0, m);
        if !plain {
            return false;
        }
        if let Voice::Binaural(v) = &mut self.voice {
            if ONTO_ZERO {
                v.mix_onto_zero(out, scratch);
            } else {
                v.mix_into(out, scratch);
            }
            self.i = end;
        }
        true
    }

    /// Whether the voice's samples are its oscillator's alone, but for the envelope and
    /// the click guard: no zero-phase filter, noise source, glitch, spatializer or
    /// flanger ([`VoiceSlot::mix_into`], [`VoiceSlot::carrier_peak`]).
    #[inline(always)]
    fn oscillator_only(&self) -> bool {
        self.filter == [None; MAX_ZERO_PHASE]
            && self.source.is_none()
            && self.glitch.is_none()
            && self.spatial.is_none()
            && self.flanger.is_none()
    }

    /// [`VoiceSlot::process`] with the host's PCM arena (needed by subliminal voices).
    pub fn process_with(&mut self, out: &mut [Frame], filters: &mut [FilterSlot], pcm: &[Frame]) {
        let remaining = self.n.saturating_sub(self.i);
        let m = (out.len() as u64).min(remaining) as usize;
        let (live, past) = out.split_at_mut(m);
        past.iter_mut().for_each(|f| *f = [0.0, 0.0]);
        if m == 0 {
            return;
        }
        match self.source.and_then(|k| filters.get_mut(k)) {
            Some(slot) => slot.process_fx(live),
            None => run_chain(&mut self.voice, &self.filter, filters, live, pcm),
        }
        if let Some(slot) = self.glitch.and_then(|k| filters.get_mut(k)) {
            slot.process_fx(live);
        }
        if let Some(slot) = self.spatial.and_then(|k| filters.get_mut(k)) {
            slot.process_fx(live);
        }
        if !self.envelope.is_flat() {
            // The gain is the original's f64 value rounded to f32 and applied in f32 (an
            // f64 product per sample is three soft-float calls on the Cortex-M4F; the
            // difference is at most one f32 rounding). Constant stretches take the gain
            // once per block; a gain of exactly 1.0 leaves the samples alone.
            match self.envelope.constant_over(self.i, m as u64) {
                Some(1.0) => {}
                Some(g) => {
                    let g = g as f32;
                    for f in live.iter_mut() {
                        f[0] *= g;
                        f[1] *= g;
                    }
                }
                None => {
                    for (k, f) in live.iter_mut().enumerate() {
                        let g = self.envelope.gain(self.i + k as u64);
                        f[0] *= g;
                        f[1] *= g;
                    }
                }
            }
        }
        if let Some(slot) = self.flanger.and_then(|k| filters.get_mut(k)) {
            slot.process_fx(live);
        }
        let i0 = self.i;
        if !self.click.is_unity_over(i0, m as u64) {
            for (k, f) in live.iter_mut().enumerate() {
                let i = i0 + k as u64;
                f[0] = self.click.apply(i, f[0]);
                f[1] = self.click.apply(i, f[1]);
            }
        }
        self.i += m as u64;
    }

    /// Positions the slot at sample `i` of its step. With a zero-phase filter or an
    /// effect (spatializer, flanger: recursive states and delay lines) the chain is re-run
    /// from the start of the voice, which is exact but costs O(i).
    pub fn seek(&mut self, i: u64, filters: &mut [FilterSlot]) {
        let i = i.min(self.n);
        // A noise voice positions its generator (without effects, whose input would have to
        // be replayed).
        if let (Some(k), None, None, None) = (self.source, self.spatial, self.glitch, self.flanger)
        {
            if let Some(slot) = filters.get_mut(k) {
                if slot.seek_fx(i) {
                    self.i = i;
                    return;
                }
            }
        }
        // The SAM voice positions its own state (no flanger: its input must be replayed).
        if let (None, Some(k), None, None) = (self.source, self.spatial, self.glitch, self.flanger)
        {
            if let Some(slot) = filters.get_mut(k) {
                if slot.seek_fx(i) {
                    self.voice.seek(i);
                    self.i = i;
                    return;
                }
            }
        }
        if self.glitch.is_some() || self.spatial.is_some() || self.flanger.is_some() {
            self.reset_chain(filters);
            self.i = 0;
            let mut skip = [[0.0f32; 2]; 256];
            while self.i < i {
                let k = (i - self.i).min(256) as usize;
                self.process(&mut skip[..k], filters);
            }
            return;
        }
        if self.filter[0].is_some() {
            for f in self.filter.iter().flatten() {
                if let Some(zp) = filters.get_mut(*f).and_then(FilterSlot::filter_mut) {
                    zp.reset();
                }
            }
            self.voice.reset();
            let mut skip = [[0.0f32; 2]; 256];
            let mut left = i;
            while left > 0 {
                let k = left.min(256) as usize;
                run_chain(&mut self.voice, &self.filter, filters, &mut skip[..k], &[]);
                left -= k as u64;
            }
        } else {
            self.voice.seek(i);
        }
        self.i = i;
    }
}

/// The seed of a voice's glitch bursts: FNV-1a 64 of its parameters and length, so that
/// a render reproduces (and seeks land on the same bursts) while different voices get
/// different noise.
fn glitch_seed(spec: &VoiceSpec, n: u64) -> u64 {
    let mut h = entrain_dsp::hash::Fnv1a64::new();
    if let VoiceParams::Binaural(b) = &spec.params {
        let g = &b.glitch;
        for p in [
            &b.amp[0],
            &b.amp[1],
            &b.base_freq,
            &b.beat_freq,
            &g.interval,
            &g.dur,
            &g.noise_level,
            &g.focus_width,
            &g.focus_exp,
        ] {
            h.write(&p.start.to_bits().to_le_bytes());
            h.write(&p.end.to_bits().to_le_bytes());
        }
    }
    h.write(&n.to_le_bytes());
    h.finish()
}

impl VoiceSlot {
    /// The voice, its zero-phase filters and its effects back to their initial state.
    fn reset_chain(&mut self, filters: &mut [FilterSlot]) {
        self.voice.reset();
        for f in self.filter.iter().flatten() {
            if let Some(zp) = filters.get_mut(*f).and_then(FilterSlot::filter_mut) {
                zp.reset();
            }
        }
        for k in [self.source, self.glitch, self.spatial, self.flanger]
            .into_iter()
            .flatten()
        {
            if let Some(slot) = filters.get_mut(k) {
                slot.reset_fx();
            }
        }
    }
}

/// Renders `out` from `voice` through its zero-phase filter chain.
fn run_chain(
    voice: &mut Voice,
    chain: &[Option<usize>; MAX_ZERO_PHASE],
    filters: &mut [FilterSlot],
    out: &mut [Frame],
    pcm: &[Frame],
) {
    match *chain {
        [None, _] => voice.process_with(out, pcm),
        [Some(a), None] => match filters.get_mut(a).and_then(FilterSlot::filter_mut) {
            Some(zp) => zp.process(&mut |buf: &mut [Frame]| voice.process_with(buf, pcm), out),
            None => voice.process_with(out, pcm),
        },
        [Some(a), Some(b)] => {
            // Two disjoint slots of the same pool.
            let (first, second) = if a < b {
                let (lo, hi) = filters.split_at_mut(b);
                (lo.get_mut(a), hi.get_mut(0))
            } else {
                let (lo, hi) = filters.split_at_mut(a);
                (hi.get_mut(0), lo.get_mut(b))
            };
            match (
                first.and_then(FilterSlot::filter_mut),
                second.and_then(FilterSlot::filter_mut),
            ) {
                (Some(z1), Some(z2)) => {
                    let mut inner = |buf: &mut [Frame]| {
                        z1.process(&mut |b2: &mut [Frame]| voice.process_with(b2, pcm), buf)
                    };
                    z2.process(&mut inner, out);
                }
                _ => voice.process_with(out, pcm),
            }
        }
    }
}
