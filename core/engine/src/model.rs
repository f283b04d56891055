//! The engine's track model: what the format crate produces and the engine renders.
//!
//! Parameters are stored already resolved (aliases, defaults, fallbacks and coercions
//! done by `entrain-format`), in f64 as the original reads them. A transitioning
//! parameter is a [`Pair`]; a static voice stores `start == end`.
//!
//! Capacities are const generics with defaults sized from the shipped presets
//! (TRACK_FORMAT.md, `tracks/original`): the largest has 26 voices in one step.

use entrain_dsp::crossfade::CrossfadeCurve;
use entrain_dsp::osc::LfoShape;
use entrain_dsp::ramp::Curve;
use heapless::Vec;

/// Default maximum number of steps in a track. The shipped examples have at most 12;
/// 64 leaves room for hand-made sessions.
pub const DEFAULT_MAX_STEPS: usize = 64;
/// Maximum number of voices in one step: the largest shipped preset (F19-B) has 26.
pub const MAX_VOICES_PER_STEP: usize = 32;
/// Default maximum number of voices in a whole track (all steps together).
pub const DEFAULT_MAX_VOICES: usize = 256;

/// A parameter that may change over a transition: `start → end` (equal for static voices).
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Pair {
    /// Value at α = 0.
    pub start: f64,
    /// Value at α = 1.
    pub end: f64,
}

impl Pair {
    /// A constant parameter.
    pub const fn fixed(v: f64) -> Self {
        Self { start: v, end: v }
    }

    /// A transitioning parameter.
    pub const fn new(start: f64, end: f64) -> Self {
        Self { start, end }
    }

    /// True when start and end are equal.
    #[inline]
    pub fn is_constant(&self) -> bool {
        self.start == self.end
    }

    /// `start + (end - start)·α`, the original's interpolation.
    #[inline]
    pub fn at(&self, alpha: f64) -> f64 {
        self.start + (self.end - self.start) * alpha
    }
}

/// Timing of a transition voice (TRACK_FORMAT.md §7.2).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TransitionSpec {
    /// Seconds from the step start before the ramp begins.
    pub initial_offset: f64,
    /// Ramp length in seconds; `None` = to the end of the step. Legacy `post_offset`
    /// is already folded in by the parser (`D - initial_offset - post_offset`).
    pub duration: Option<f64>,
    /// Ramp shape.
    pub curve: Curve,
}

impl Default for TransitionSpec {
    fn default() -> Self {
        Self {
            initial_offset: 0.0,
            duration: None,
            curve: Curve::Linear,
        }
    }
}

/// Amplitude-modulation LFO of one ear (binaural/isochronic `ampOsc*`).
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct AmLfo {
    /// `ampOscDepthX` (0..1): the gain dips to `1 - depth`.
    pub depth: Pair,
    /// `ampOscFreqX`, Hz.
    pub freq: Pair,
    /// `ampOscPhaseOffsetX`, radians.
    pub phase_offset: Pair,
    /// `ampOscSkewX` (-1..1).
    pub skew: Pair,
}

/// Vibrato (frequency-modulation) LFO of one ear (`freqOsc*`).
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct FmLfo {
    /// `freqOscRangeX`, Hz peak-to-peak.
    pub range: Pair,
    /// `freqOscFreqX`, Hz.
    pub freq: Pair,
    /// `freqOscSkewX` (-1..1).
    pub skew: Pair,
    /// `freqOscPhaseOffsetX`, radians.
    pub phase_offset: Pair,
}

/// Glitch bursts of `binaural_beat_transition` (VOICES.md §1.4).
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct GlitchParams {
    /// `glitchInterval`, s.
    pub interval: Pair,
    /// `glitchDur`, s.
    pub dur: Pair,
    /// `glitchNoiseLevel`.
    pub noise_level: Pair,
    /// `glitchFocusWidth`, Hz.
    pub focus_width: Pair,
    /// `glitchFocusExp`.
    pub focus_exp: Pair,
}

/// `binaural_beat` / `binaural_beat_transition` (VOICES.md §1).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BinauralParams {
    /// `ampL`, `ampR`.
    pub amp: [Pair; 2],
    /// `baseFreq`, Hz.
    pub base_freq: Pair,
    /// `beatFreq`, Hz.
    pub beat_freq: Pair,
    /// `leftHigh`: the left ear gets the higher tone.
    pub left_high: bool,
    /// `startPhaseL/R`, radians (the transition uses only the start value).
    pub start_phase: [Pair; 2],
    /// Per-ear amplitude modulation.
    pub am: [AmLfo; 2],
    /// Per-ear vibrato.
    pub fm: [FmLfo; 2],
    /// `freqOscShape`.
    pub fm_shape: LfoShape,
    /// `phaseOscFreq`, Hz.
    pub phase_osc_freq: Pair,
    /// `phaseOscRange`, radians.
    pub phase_osc_range: Pair,
    /// Glitch bursts (transition only).
    pub glitch: GlitchParams,
}

impl Default for BinauralParams {
    fn default() -> Self {
        Self {
            amp: [Pair::fixed(0.5); 2],
            base_freq: Pair::fixed(200.0),
            beat_freq: Pair::fixed(4.0),
            left_high: false,
            start_phase: [Pair::fixed(0.0); 2],
            am: [AmLfo::default(); 2],
            fm: [FmLfo::default(); 2],
            fm_shape: LfoShape::Sine,
            phase_osc_freq: Pair::fixed(0.0),
            phase_osc_range: Pair::fixed(0.0),
            glitch: GlitchParams::default(),
        }
    }
}

/// `isochronic_tone` / `isochronic_tone_transition` (VOICES.md §2).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct IsochronicParams {
    /// `ampL`, `ampR`.
    pub amp: [Pair; 2],
    /// `baseFreq` (carrier), Hz.
    pub base_freq: Pair,
    /// `beatFreq` (pulse rate), Hz.
    pub beat_freq: Pair,
    /// `forceMono` (transition: a number, > 0.5 = on).
    pub force_mono: Pair,
    /// `startPhaseL/R`, radians (interpolated in the transition).
    pub start_phase: [Pair; 2],
    /// Per-ear amplitude modulation.
    pub am: [AmLfo; 2],
    /// Per-ear vibrato (always a skewed sine).
    pub fm: [FmLfo; 2],
    /// `phaseOscFreq`, Hz.
    pub phase_osc_freq: Pair,
    /// `phaseOscRange`, radians.
    pub phase_osc_range: Pair,
    /// `rampPercent`.
    pub ramp_percent: Pair,
    /// `gapPercent`.
    pub gap_percent: Pair,
    /// `harmonicSuppression`.
    pub harmonic_suppression: bool,
    /// `pan` (-1..1, not interpolated).
    pub pan: f64,
}

impl Default for IsochronicParams {
    fn default() -> Self {
        Self {
            amp: [Pair::fixed(0.5); 2],
            base_freq: Pair::fixed(200.0),
            beat_freq: Pair::fixed(4.0),
            force_mono: Pair::fixed(0.0),
            start_phase: [Pair::fixed(0.0); 2],
            am: [AmLfo::default(); 2],
            fm: [FmLfo::default(); 2],
            phase_osc_freq: Pair::fixed(0.0),
            phase_osc_range: Pair::fixed(0.0),
            ramp_percent: Pair::fixed(0.2),
            gap_percent: Pair::fixed(0.15),
            harmonic_suppression: false,
            pan: 0.0,
        }
    }
}

/// `monaural_beat_stereo_amps` / `_transition` (VOICES.md §3).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MonauralParams {
    /// `amp_lower_L`, `amp_lower_R`: level of the lower tone in each ear.
    pub amp_lower: [Pair; 2],
    /// `amp_upper_L`, `amp_upper_R`: level of the upper tone in each ear.
    pub amp_upper: [Pair; 2],
    /// `baseFreq`, Hz.
    pub base_freq: Pair,
    /// `beatFreq` (tone spacing), Hz.
    pub beat_freq: Pair,
    /// Start phase of the lower tone (`startPhaseL`; transition `startStartPhaseL`),
    /// radians. The transition uses only the start value.
    pub start_phase_lower: Pair,
    /// Start phase of the upper tone (`startPhaseR`; transition `startStartPhaseU`).
    pub start_phase_upper: Pair,
    /// `phaseOscFreq`, Hz.
    pub phase_osc_freq: Pair,
    /// `phaseOscRange`, radians.
    pub phase_osc_range: Pair,
    /// `ampOscDepth` (clamped to [0, 2] by the voice).
    pub am_depth: Pair,
    /// `ampOscFreq`, Hz.
    pub am_freq: Pair,
    /// `ampOscPhaseOffset`, radians.
    pub am_phase_offset: Pair,
}

impl Default for MonauralParams {
    fn default() -> Self {
        Self {
            amp_lower: [Pair::fixed(0.5); 2],
            amp_upper: [Pair::fixed(0.5); 2],
            base_freq: Pair::fixed(200.0),
            beat_freq: Pair::fixed(4.0),
            start_phase_lower: Pair::fixed(0.0),
            start_phase_upper: Pair::fixed(0.0),
            phase_osc_freq: Pair::fixed(0.0),
            phase_osc_range: Pair::fixed(0.0),
            am_depth: Pair::fixed(0.0),
            am_freq: Pair::fixed(0.0),
            am_phase_offset: Pair::fixed(0.0),
        }
    }
}

/// `qam_beat` / `qam_beat_transition` (VOICES.md §4, the INTENDED behaviour).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QamParams {
    /// `ampL`, `ampR`.
    pub amp: [Pair; 2],
    /// `baseFreqL`, `baseFreqR`, Hz.
    pub base_freq: [Pair; 2],
    /// `qamAmFreqL/R`, Hz.
    pub am_freq: [Pair; 2],
    /// `qamAmDepthL/R`.
    pub am_depth: [Pair; 2],
    /// `qamAmPhaseOffsetL/R`, radians.
    pub am_phase_offset: [Pair; 2],
    /// `qamAm2FreqL/R`, Hz.
    pub am2_freq: [Pair; 2],
    /// `qamAm2DepthL/R`.
    pub am2_depth: [Pair; 2],
    /// `qamAm2PhaseOffsetL/R`, radians.
    pub am2_phase_offset: [Pair; 2],
    /// `modShapeL/R` (1 = cosine).
    pub mod_shape: [Pair; 2],
    /// `crossModDepth`.
    pub cross_mod_depth: Pair,
    /// `crossModDelay`, s (not interpolated).
    pub cross_mod_delay: f64,
    /// `harmonicDepth`.
    pub harmonic_depth: Pair,
    /// `harmonicRatio` (not interpolated).
    pub harmonic_ratio: f64,
    /// `subHarmonicFreq`, Hz.
    pub sub_harmonic_freq: Pair,
    /// `subHarmonicDepth`.
    pub sub_harmonic_depth: Pair,
    /// `startPhaseL/R` (transition `startStartPhaseL/R`; start value only), radians.
    pub start_phase: [Pair; 2],
    /// `phaseOscFreq`, Hz.
    pub phase_osc_freq: Pair,
    /// `phaseOscRange`, radians.
    pub phase_osc_range: Pair,
    /// `phaseOscPhaseOffset`, radians (not interpolated).
    pub phase_osc_phase_offset: f64,
    /// `beatingSidebands`.
    pub beating_sidebands: bool,
    /// `sidebandOffset`, Hz.
    pub sideband_offset: f64,
    /// `sidebandDepth`.
    pub sideband_depth: f64,
    /// `attackTime`, s.
    pub attack_time: f64,
    /// `releaseTime`, s.
    pub release_time: f64,
}

impl Default for QamParams {
    fn default() -> Self {
        Self {
            amp: [Pair::fixed(0.5); 2],
            base_freq: [Pair::fixed(200.0), Pair::fixed(204.0)],
            am_freq: [Pair::fixed(4.0); 2],
            am_depth: [Pair::fixed(0.5); 2],
            am_phase_offset: [Pair::fixed(0.0); 2],
            am2_freq: [Pair::fixed(0.0); 2],
            am2_depth: [Pair::fixed(0.0); 2],
            am2_phase_offset: [Pair::fixed(0.0); 2],
            mod_shape: [Pair::fixed(1.0); 2],
            cross_mod_depth: Pair::fixed(0.0),
            cross_mod_delay: 0.0,
            harmonic_depth: Pair::fixed(0.0),
            harmonic_ratio: 2.0,
            sub_harmonic_freq: Pair::fixed(0.0),
            sub_harmonic_depth: Pair::fixed(0.0),
            start_phase: [Pair::fixed(0.0); 2],
            phase_osc_freq: Pair::fixed(0.0),
            phase_osc_range: Pair::fixed(0.0),
            phase_osc_phase_offset: 0.0,
            beating_sidebands: false,
            sideband_offset: 1.0,
            sideband_depth: 0.1,
            attack_time: 0.0,
            release_time: 0.0,
        }
    }
}

/// `hybrid_qam_monaural_beat` / `_transition` (VOICES.md §5).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HybridParams {
    /// `ampL`, `ampR`.
    pub amp: [Pair; 2],
    /// `qamCarrierFreqL`, Hz.
    pub qam_carrier_freq: Pair,
    /// `qamAmFreqL`, Hz.
    pub qam_am_freq: Pair,
    /// `qamAmDepthL`.
    pub qam_am_depth: Pair,
    /// `qamAmPhaseOffsetL`, radians.
    pub qam_am_phase_offset: Pair,
    /// `qamStartPhaseL`, radians (start value only).
    pub qam_start_phase: Pair,
    /// `monoCarrierFreqR`, Hz.
    pub mono_carrier_freq: Pair,
    /// `monoBeatFreqInChannelR`, Hz.
    pub mono_beat_freq: Pair,
    /// `monoAmDepthR` (clamped to [0, 1] by the voice).
    pub mono_am_depth: Pair,
    /// `monoAmFreqR`, Hz.
    pub mono_am_freq: Pair,
    /// `monoAmPhaseOffsetR`, radians.
    pub mono_am_phase_offset: Pair,
    /// `monoFmRangeR`, Hz peak-to-peak.
    pub mono_fm_range: Pair,
    /// `monoFmFreqR`, Hz.
    pub mono_fm_freq: Pair,
    /// `monoFmPhaseOffsetR`, radians.
    pub mono_fm_phase_offset: Pair,
    /// `monoStartPhaseR_Tone1`, `monoStartPhaseR_Tone2`, radians (start value only).
    pub mono_start_phase: [Pair; 2],
    /// `monoPhaseOscFreqR`, Hz.
    pub mono_phase_osc_freq: Pair,
    /// `monoPhaseOscRangeR`, radians.
    pub mono_phase_osc_range: Pair,
    /// `monoPhaseOscPhaseOffsetR`, radians.
    pub mono_phase_osc_phase_offset: Pair,
}

impl Default for HybridParams {
    fn default() -> Self {
        Self {
            amp: [Pair::fixed(0.5); 2],
            qam_carrier_freq: Pair::fixed(100.0),
            qam_am_freq: Pair::fixed(4.0),
            qam_am_depth: Pair::fixed(0.5),
            qam_am_phase_offset: Pair::fixed(0.0),
            qam_start_phase: Pair::fixed(0.0),
            mono_carrier_freq: Pair::fixed(100.0),
            mono_beat_freq: Pair::fixed(4.0),
            mono_am_depth: Pair::fixed(0.0),
            mono_am_freq: Pair::fixed(0.0),
            mono_am_phase_offset: Pair::fixed(0.0),
            mono_fm_range: Pair::fixed(0.0),
            mono_fm_freq: Pair::fixed(0.0),
            mono_fm_phase_offset: Pair::fixed(0.0),
            mono_start_phase: [Pair::fixed(0.0); 2],
            mono_phase_osc_freq: Pair::fixed(0.0),
            mono_phase_osc_range: Pair::fixed(0.0),
            mono_phase_osc_phase_offset: Pair::fixed(0.0),
        }
    }
}

/// `rhythmic_waveshaping` / `_transition` (VOICES.md §6).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RhythmicParams {
    /// `amp` (not interpolated).
    pub amp: f64,
    /// `carrierFreq`, Hz (transition 200 → 80 by default).
    pub carrier_freq: Pair,
    /// `modFreq`, Hz (transition 12 → 7.83 by default).
    pub mod_freq: Pair,
    /// `modDepth`.
    pub mod_depth: Pair,
    /// `shapeAmount` (tanh drive, clamped ≥ 1e-6 by the voice).
    pub shape_amount: Pair,
    /// `pan` (-1..1, not interpolated).
    pub pan: f64,
}

impl Default for RhythmicParams {
    fn default() -> Self {
        Self {
            amp: 0.25,
            carrier_freq: Pair::fixed(200.0),
            mod_freq: Pair::fixed(4.0),
            mod_depth: Pair::fixed(1.0),
            shape_amount: Pair::fixed(5.0),
            pan: 0.0,
        }
    }
}

/// `stereo_am_independent` / `_transition` (VOICES.md §7).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StereoAmParams {
    /// `amp` (not interpolated).
    pub amp: f64,
    /// `carrierFreq`, Hz.
    pub carrier_freq: Pair,
    /// `modFreqL/R`, Hz.
    pub mod_freq: [Pair; 2],
    /// `modDepthL/R`.
    pub mod_depth: [Pair; 2],
    /// `modPhaseL/R`, radians: LFO start phases of the static voice. The transition
    /// reads `startModPhaseL/R` into `start` but, as the original, never uses them.
    pub mod_phase: [Pair; 2],
    /// `stereo_width_hz` (transition `startStereoWidthHz`/`endStereoWidthHz`), Hz.
    pub stereo_width: Pair,
}

impl Default for StereoAmParams {
    fn default() -> Self {
        Self {
            amp: 0.25,
            carrier_freq: Pair::fixed(200.0),
            mod_freq: [Pair::fixed(4.0); 2],
            mod_depth: [Pair::fixed(0.8); 2],
            mod_phase: [Pair::fixed(0.0); 2],
            stereo_width: Pair::fixed(0.2),
        }
    }
}

/// `wave_shape_stereo_am` / `_transition` (VOICES.md §8).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WaveShapeStereoAmParams {
    /// `amp` (not interpolated).
    pub amp: f64,
    /// `carrierFreq`, Hz.
    pub carrier_freq: Pair,
    /// `shapeModFreq`, Hz.
    pub shape_mod_freq: Pair,
    /// `shapeModDepth`.
    pub shape_mod_depth: Pair,
    /// `shapeAmount` (tanh drive, clamped ≥ 1e-6 by the voice).
    pub shape_amount: Pair,
    /// `stereoModFreqL/R`, Hz.
    pub stereo_mod_freq: [Pair; 2],
    /// `stereoModDepthL/R`.
    pub stereo_mod_depth: [Pair; 2],
    /// `stereoModPhaseL/R`, radians (static voice only; read but unused by the
    /// transition, as in the original).
    pub stereo_mod_phase: [Pair; 2],
}

impl Default for WaveShapeStereoAmParams {
    fn default() -> Self {
        Self {
            amp: 0.15,
            carrier_freq: Pair::fixed(200.0),
            shape_mod_freq: Pair::fixed(4.0),
            shape_mod_depth: Pair::fixed(0.8),
            shape_amount: Pair::fixed(0.5),
            stereo_mod_freq: [Pair::fixed(4.1), Pair::fixed(4.0)],
            stereo_mod_depth: [Pair::fixed(0.8); 2],
            stereo_mod_phase: [Pair::fixed(0.0), Pair::fixed(core::f64::consts::FRAC_PI_2)],
        }
    }
}

/// `spatial_angle_modulation_monaural_beat` / `_transition` (VOICES.md §10).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SamMonauralParams {
    /// The monaural core (§3), with the `monaural_*` / `*_monaural` AM and phase keys.
    pub core: MonauralParams,
    /// `sam_ampOscDepth` (fallback `ampOscDepth`), clamped to [0, 2] by the voice.
    pub sam_am_depth: Pair,
    /// `sam_ampOscFreq` (fallback `ampOscFreq`), Hz.
    pub sam_am_freq: Pair,
    /// `sam_ampOscPhaseOffset` (fallback `ampOscPhaseOffset`), radians.
    pub sam_am_phase_offset: Pair,
    /// `amp` (transition `startAmp`/`endAmp`): output gain.
    pub amp: Pair,
    /// `spatialBeatFreq`, Hz (read; its output is unused by the original).
    pub spatial_beat_freq: Pair,
    /// `spatialPhaseOffset`, radians (unused output).
    pub spatial_phase_offset: Pair,
    /// `pathRadius` (unused output).
    pub path_radius: Pair,
    /// `rotationDirection` is not `"ccw"` (unused output).
    pub clockwise: bool,
}

impl Default for SamMonauralParams {
    fn default() -> Self {
        Self {
            core: MonauralParams {
                am_depth: Pair::fixed(0.0),
                ..MonauralParams::default()
            },
            sam_am_depth: Pair::fixed(0.0),
            sam_am_freq: Pair::fixed(0.0),
            sam_am_phase_offset: Pair::fixed(0.0),
            amp: Pair::fixed(0.7),
            spatial_beat_freq: Pair::fixed(4.0),
            spatial_phase_offset: Pair::fixed(0.0),
            path_radius: Pair::fixed(1.0),
            clockwise: true,
        }
    }
}

/// Path of the source of `spatial_angle_modulation` (`pathShape`, VOICES.md §9.2 step 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum PathShape {
    /// `"circle"` (default, and any unknown name).
    #[default]
    Circle,
    /// `"square"`.
    Square,
    /// `"linear"`: front/back.
    Linear,
    /// `"arc"`: a sine sweep between the arc limits.
    Arc,
    /// `"diamond"`: the square rotated by 45°.
    Diamond,
    /// `"oscillating_arc"`: a triangle sweep between the arc limits.
    OscillatingArc,
}

/// `spatial_angle_modulation` / `_transition` (VOICES.md §9).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SamParams {
    /// `amp` (clipped to [0, 1] by the voice).
    pub amp: f64,
    /// `carrierFreq` (transition `startCarrierFreq`/`endCarrierFreq`), Hz.
    pub carrier_freq: Pair,
    /// `beatFreq`: path phase speed, Hz.
    pub beat_freq: Pair,
    /// `pathShape` at the start and at the end (the end shape applies to the last sample
    /// only, as in the original).
    pub shape: [PathShape; 2],
    /// `pathRadius`.
    pub path_radius: Pair,
    /// `arcStartDeg`.
    pub arc_start_deg: Pair,
    /// `arcEndDeg`.
    pub arc_end_deg: Pair,
    /// `frame_dur_ms`: overlap-add frame length.
    pub frame_dur_ms: f64,
    /// `overlap_factor` (≥ 2): frames per frame length.
    pub overlap_factor: u32,
}

impl Default for SamParams {
    fn default() -> Self {
        Self {
            amp: 0.7,
            carrier_freq: Pair::fixed(440.0),
            beat_freq: Pair::fixed(4.0),
            shape: [PathShape::Circle; 2],
            path_radius: Pair::fixed(1.0),
            arc_start_deg: Pair::fixed(0.0),
            arc_end_deg: Pair::fixed(360.0),
            frame_dur_ms: 46.4,
            overlap_factor: 8,
        }
    }
}

/// Pulse shape of `dual_pulse_binaural` (`pulseShape`, VOICES.md §13.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum PulseShape {
    /// `"trapezoid"` (default, and any unknown name): the isochronic trapezoid.
    #[default]
    Trapezoid,
    /// `"square"`, `"pulse"`: a gate, 1 wherever the trapezoid is > 0.
    Square,
    /// `"raised_cosine"`, `"raised-cosine"`, `"cosine"`, `"hann"`: `0.5 - 0.5·cos(π·env)`.
    RaisedCosine,
}

/// One ear's pulse envelope of `dual_pulse_binaural` at one end of a transition.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PulseSpec {
    /// Pulse rate, Hz (already resolved: a rate ≤ 0 fell back to `pulseRate`, then to
    /// `beatFreq`; ≤ 0 here means "no pulse").
    pub rate: f64,
    /// `rampPercent` (clamped to [0, 1] by the voice).
    pub ramp: f64,
    /// `gapPercent` (clamped to [0, 1] by the voice).
    pub gap: f64,
    /// `pulsePhaseOffset`, cycles (only the fraction is used).
    pub phase_offset: f64,
    /// `pulseShape`.
    pub shape: PulseShape,
    /// `pulseDepth` (clamped to [0, 1] by the voice; 0 = no pulse).
    pub depth: f64,
}

impl Default for PulseSpec {
    fn default() -> Self {
        Self {
            rate: 4.0,
            ramp: 0.2,
            gap: 0.15,
            phase_offset: 0.0,
            shape: PulseShape::Trapezoid,
            depth: 1.0,
        }
    }
}

/// Session-Builder `dual_pulse_binaural` / `_transition` (VOICES.md §13.1).
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct DualPulseParams {
    /// The binaural beat (with `beatFreq` already forced to 0 by `forceMono`).
    pub binaural: BinauralParams,
    /// Pulse envelope per ear `[L, R]`, at the start and at the end of a transition
    /// (`[ear][0]` = start, `[ear][1]` = end; equal for the static voice).
    pub pulse: [[PulseSpec; 2]; 2],
}

/// Most `amp_envelope` points of a noise voice (Session-Builder `noise_generator`, whose
/// GUI writes a handful). Small on purpose: every voice of a track keeps its parameters in
/// the track model (32 of them in the firmware's `Track<8, 32>`).
pub const MAX_NOISE_ENVELOPE_POINTS: usize = 16;

/// A static notch of a noise voice (NOISE.md §4.6), stored in f32 to keep
/// [`VoiceParams`] small.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct NoiseNotch {
    /// Centre, Hz.
    pub freq_hz: f32,
    /// Q (≥ 0.1).
    pub q: f32,
    /// Times applied (1..=`MAX_STATIC_CASCADE`).
    pub cascade: u8,
}

/// The noise voices: `noise_swept_notch(_transition)` and its aliases `noise(_transition)`
/// (VOICES.md §13.3), `generate_swept_notch_pink_sound(_transition)` (§12, the intended
/// behaviour: the same generator) and `noise_generator(_transition)` (§13.2). All three
/// are the swept-notch generator of NOISE.md §4–§6 followed by a per-channel gain and, for
/// `noise_generator`, fades, a breakpoint envelope and a clip at ±1. The transition
/// timing keys live in the voice's [`TransitionSpec`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NoiseVoiceParams {
    /// Base colour (`noise_type`).
    pub colour: entrain_dsp::noise::colour::Colour,
    /// LFO waveform (`lfo_waveform`).
    pub lfo_wave: entrain_dsp::noise::notch::LfoWave,
    /// LFO rate, Hz (`lfo_freq`, or `start_/end_lfo_freq`).
    pub lfo_freq: Pair,
    /// Sweeps (start and end values), the first `sweep_count` used.
    pub sweeps: [entrain_dsp::noise::notch::SweepSpec; entrain_dsp::noise::notch::MAX_SWEEPS],
    /// Number of sweeps in use (0 = unswept noise).
    pub sweep_count: u8,
    /// Right-channel LFO phase offset, degrees.
    pub lfo_phase_offset_deg: Pair,
    /// Second-pass phase offset, degrees.
    pub intra_phase_offset_deg: Pair,
    /// Static notches, the first `static_count` used.
    pub statics: [NoiseNotch; entrain_dsp::noise::notch::MAX_STATIC_NOTCHES],
    /// Number of static notches in use.
    pub static_count: u8,
    /// Seed of the voice's noise (derived from the `seed` key and the voice's position).
    pub seed: u64,
    /// Linear gain per channel `[L, R]` (`volume`, or `amp`/`amp_left`/`amp_right`).
    pub gain: [f64; 2],
    /// Linear fade-in from the voice's start, s (`noise_generator`).
    pub fade_in: f64,
    /// Linear fade-out at the voice's end, s (`noise_generator`).
    pub fade_out: f64,
    /// `amp_envelope` breakpoints `(time_s, amp)`, the first `envelope_len` used.
    pub envelope: [(f32, f32); MAX_NOISE_ENVELOPE_POINTS],
    /// Number of breakpoints in use.
    pub envelope_len: u8,
    /// Clip the output to ±1 (`noise_generator`).
    pub clip: bool,
}

impl Default for NoiseVoiceParams {
    fn default() -> Self {
        Self {
            colour: entrain_dsp::noise::colour::Colour::Pink,
            lfo_wave: entrain_dsp::noise::notch::LfoWave::Sine,
            lfo_freq: Pair::fixed(0.1),
            sweeps: [entrain_dsp::noise::notch::SweepSpec::default();
                entrain_dsp::noise::notch::MAX_SWEEPS],
            sweep_count: 0,
            lfo_phase_offset_deg: Pair::fixed(0.0),
            intra_phase_offset_deg: Pair::fixed(0.0),
            statics: [NoiseNotch::default(); entrain_dsp::noise::notch::MAX_STATIC_NOTCHES],
            static_count: 0,
            seed: entrain_dsp::noise::DEFAULT_SEED,
            gain: [1.0; 2],
            fade_in: 0.0,
            fade_out: 0.0,
            envelope: [(0.0, 0.0); MAX_NOISE_ENVELOPE_POINTS],
            envelope_len: 0,
            clip: false,
        }
    }
}

/// The synth function a voice resolved to (TRACK_FORMAT.md §4.1), with the kind of
/// parameters it carries.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum VoiceParams {
    /// An unknown synth function: renders silence for the step (as the original).
    Silent,
    /// `binaural_beat`.
    Binaural(BinauralParams),
    /// `isochronic_tone`.
    Isochronic(IsochronicParams),
    /// `monaural_beat_stereo_amps`.
    Monaural(MonauralParams),
    /// `qam_beat`.
    Qam(QamParams),
    /// `hybrid_qam_monaural_beat`.
    Hybrid(HybridParams),
    /// `rhythmic_waveshaping`.
    Rhythmic(RhythmicParams),
    /// `stereo_am_independent`.
    StereoAm(StereoAmParams),
    /// `wave_shape_stereo_am`.
    WaveShapeStereoAm(WaveShapeStereoAmParams),
    /// `spatial_angle_modulation_monaural_beat`.
    SamMonaural(SamMonauralParams),
    /// Session-Builder `dual_pulse_binaural`.
    DualPulse(DualPulseParams),
    /// `spatial_angle_modulation` (HRTF overlap-add).
    Sam(SamParams),
    /// `subliminal_encode`.
    Subliminal(SubliminalParams),
    /// The noise voices (`noise_swept_notch`, `noise`, `noise_generator`,
    /// `generate_swept_notch_pink_sound`, and their transitions).
    Noise(NoiseVoiceParams),
}

/// Maximum number of source files of one subliminal voice.
pub const MAX_SUBLIMINAL_SOURCES: usize = 8;

/// A byte range of the track's JSON text (a string value, raw, still escaped).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct TextRef {
    /// First byte.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
}

/// How the sources of a subliminal voice are combined.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SubliminalMode {
    /// One after another with 1 s of silence between them, looping (the default).
    #[default]
    Sequence,
    /// All at once, each looped, averaged.
    Stack,
}

impl SubliminalParams {
    /// The named sources.
    pub fn names(&self) -> &[TextRef] {
        &self.names[..(self.name_count as usize).min(MAX_SUBLIMINAL_SOURCES)]
    }

    /// The prepared segments.
    pub fn segments(&self) -> &[PcmRef] {
        &self.segments[..(self.segment_count as usize).min(MAX_SUBLIMINAL_SOURCES)]
    }
}

/// `subliminal_encode` (VOICES.md §11): recorded audio amplitude-modulated onto a 15–20 kHz
/// carrier. The host decodes the sources, mixes each to mono, resamples it to the track's
/// rate, multiplies it by the carrier and normalises it to peak 1 (`segments`), and
/// measures the peak of the combined signal over the step (`norm`); the engine plays.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SubliminalParams {
    /// Sequence or stack.
    pub mode: SubliminalMode,
    /// `carrierFreq`, clipped to 15,000..20,000 Hz.
    pub carrier_hz: f64,
    /// `amp`: peak level of the output.
    pub amp: f64,
    /// Where the file names are written in the track's JSON (`audio_paths`, a list or one
    /// `;`-separated string, else `audio_path`): the first `name_count` entries.
    pub names: [TextRef; MAX_SUBLIMINAL_SOURCES],
    /// Entries of `names` in use.
    pub name_count: u8,
    /// The prepared segments in the PCM arena (mono, stored as L = R): the first
    /// `segment_count` entries.
    pub segments: [PcmRef; MAX_SUBLIMINAL_SOURCES],
    /// Entries of `segments` in use.
    pub segment_count: u8,
    /// `1 / peak` of the combined signal over the step (0 when there is nothing).
    pub norm: f32,
}

/// A voice's volume envelope (TRACK_FORMAT.md §5), the INTENDED behaviour.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum EnvelopeSpec {
    /// No envelope: the 10 ms click-guard fade applies.
    None,
    /// An envelope object of an unknown type: flat, and no click guard.
    Flat,
    /// `linear_fade`.
    LinearFade {
        /// `fade_duration`, s.
        fade_duration: f64,
        /// `start_amp`.
        start_amp: f64,
        /// `end_amp`.
        end_amp: f64,
    },
    /// `adsr`.
    Adsr {
        /// `attack`, s.
        attack: f64,
        /// `decay`, s.
        decay: f64,
        /// `sustain_level` (clipped to [0, 1]).
        sustain_level: f64,
        /// `release`, s.
        release: f64,
    },
    /// `linen`.
    Linen {
        /// `attack`, s.
        attack: f64,
        /// `release`, s.
        release: f64,
    },
}

/// Mixing group of a voice (RP2 `voice_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum VoiceType {
    /// `"binaural"` (the default).
    #[default]
    Binaural,
    /// `"noise"`.
    Noise,
    /// Anything else.
    Other,
}

/// One voice of a step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VoiceSpec {
    /// The generator and its parameters.
    pub params: VoiceParams,
    /// `Some` for a `_transition` function (its timing keys).
    pub transition: Option<TransitionSpec>,
    /// Volume envelope.
    pub envelope: EnvelopeSpec,
    /// Mixing group.
    pub voice_type: VoiceType,
    /// Per-voice flanger (VOICES.md §14), when `flangeEnable` is on.
    pub flanger: Option<FlangerSpec>,
    /// Per-voice spatializer (VOICES.md §15; binaural and isochronic voices), when
    /// `spatialEnable` is on.
    pub spatial: Option<SpatialConfig>,
}

/// The per-voice flanger of a voice (VOICES.md §14.1): the start and end configurations
/// (`startFlange…`/`endFlange…` over the plain `flange…` keys) and whether each end is
/// enabled. A static voice, or a transition whose two ends are equal, runs the start
/// configuration once; otherwise two instances run side by side and are crossfaded by α.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FlangerSpec {
    /// The start configuration.
    pub start: FlangerConfig,
    /// The end configuration.
    pub end: FlangerConfig,
    /// `[startFlangeEnable, endFlangeEnable]` (each defaulting to `flangeEnable`).
    pub enable: [bool; 2],
}

impl FlangerSpec {
    /// True when the voice needs two instances crossfaded by α (a transition voice whose
    /// ends differ in configuration or enable).
    pub fn crossfades(&self, transition: bool) -> bool {
        transition && (self.start != self.end || self.enable[0] != self.enable[1])
    }

    /// True when any end is enabled.
    pub fn active(&self) -> bool {
        self.enable[0] || self.enable[1]
    }
}

pub use entrain_dsp::flanger::Config as FlangerConfig;
pub use entrain_dsp::spatial::Config as SpatialConfig;

impl VoiceSpec {
    /// A silent voice (unknown function).
    pub const fn silent() -> Self {
        Self {
            params: VoiceParams::Silent,
            transition: None,
            envelope: EnvelopeSpec::None,
            voice_type: VoiceType::Binaural,
            flanger: None,
            spatial: None,
        }
    }
}

/// One step of the progression.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepSpec {
    /// `duration`, s. Steps with `duration <= 0` are kept in the list (their index is
    /// part of every location) but never placed.
    pub duration: f64,
    /// Absolute start, s, as the original's loader fills it (TRACK_FORMAT.md §6.1).
    pub start: f64,
    /// First voice of this step in [`Track::voices`].
    pub first_voice: u16,
    /// Number of voices.
    pub voice_count: u16,
    /// Session-Builder per-step crossfade override (the crossfade *after* this step).
    pub crossfade_duration: Option<f64>,
    /// Session-Builder per-step crossfade curve override.
    pub crossfade_curve: Option<CrossfadeCurve>,
}

/// A whole track, stored in fixed capacity: `S` steps and `V` voices in total.
#[derive(Clone, Debug)]
pub struct Track<const S: usize = DEFAULT_MAX_STEPS, const V: usize = DEFAULT_MAX_VOICES> {
    /// `sample_rate`, Hz (validated 8,000..192,000).
    pub sample_rate: u32,
    /// `crossfade_duration` as given (None when absent: load uses 0, render uses 1.0).
    pub crossfade_duration: Option<f64>,
    /// `crossfade_curve`.
    pub crossfade_curve: CrossfadeCurve,
    /// Steps in file order.
    pub steps: Vec<StepSpec, S>,
    /// All voices of all steps, step after step.
    pub voices: Vec<VoiceSpec, V>,
    /// Background noise (TRACK_FORMAT.md §9), if the track has one.
    pub noise: Option<crate::noise::NoiseSpec>,
    /// Level multipliers of the layers of the mix, set by the host (the original Rust
    /// port's `config.toml` `voice_gain`/`noise_gain`/`clip_gain`); 1.0 = as written.
    pub mix: MixGains,
    /// Overlay clips (filled by the host once their audio is decoded).
    pub clips: Vec<ClipSpec, MAX_CLIPS>,
}

/// Maximum number of overlay clips in a track.
pub const MAX_CLIPS: usize = 32;

/// A range of stereo frames in the host's PCM arena (decoded audio, resampled to the
/// track's rate; see `TrackSource::pcm`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct PcmRef {
    /// First frame in the arena.
    pub offset: u64,
    /// Frames.
    pub frames: u64,
}

/// An overlay clip (TRACK_FORMAT.md §10), decoded, resampled and cut by the host; the
/// engine only places it. The GUI's `pan`, `fade_in`, `fade_out` and `duration`, which
/// no original renderer honours, are implemented as intended.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClipSpec {
    /// The clip's frames.
    pub pcm: PcmRef,
    /// First output frame (`floor(start·sr)`).
    pub start: u64,
    /// Linear gain.
    pub gain: f32,
    /// Channel gains of an equal-power pan normalised to unity at the centre
    /// (`pan2(pan)·√2`), or `None` for no pan.
    pub pan: Option<(f32, f32)>,
    /// Frames of the linear fade-in (`linspace(0, 1, n)`, end point included).
    pub fade_in: u64,
    /// Frames of the linear fade-out at the end.
    pub fade_out: u64,
}

/// Level multipliers of the three layers of the mix.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MixGains {
    /// Multiplier of the assembled steps (all voices).
    pub voices: f32,
    /// Multiplier of the background noise.
    pub noise: f32,
    /// Multiplier of the overlay clips.
    pub clips: f32,
}

impl MixGains {
    /// Every layer as written.
    pub const UNITY: MixGains = MixGains {
        voices: 1.0,
        noise: 1.0,
        clips: 1.0,
    };
}

impl Default for MixGains {
    fn default() -> Self {
        Self::UNITY
    }
}

impl<const S: usize, const V: usize> Default for Track<S, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const S: usize, const V: usize> Track<S, V> {
    /// An empty track (44.1 kHz, no steps). `const`, so that firmware can place a track in
    /// a static without building it on the stack first (a `Track<8, 32>` is ~50 KiB).
    pub const fn new() -> Self {
        Self {
            sample_rate: 44_100,
            crossfade_duration: None,
            crossfade_curve: CrossfadeCurve::Linear,
            steps: Vec::new(),
            voices: Vec::new(),
            noise: None,
            mix: MixGains::UNITY,
            clips: Vec::new(),
        }
    }

    /// Back to [`Track::new`] in place: the same value, without a track-sized temporary
    /// (`*track = Track::default()` built one on the stack).
    pub fn clear(&mut self) {
        self.sample_rate = 44_100;
        self.crossfade_duration = None;
        self.crossfade_curve = CrossfadeCurve::Linear;
        self.steps.clear();
        self.voices.clear();
        self.noise = None;
        self.mix = MixGains::UNITY;
        self.clips.clear();
    }
}

impl<const S: usize, const V: usize> Track<S, V> {
    /// A borrowed, capacity-free view of the track: what the engine renders.
    pub fn view(&self) -> TrackRef<'_> {
        TrackRef {
            sample_rate: self.sample_rate,
            crossfade_duration: self.crossfade_duration,
            crossfade_curve: self.crossfade_curve,
            steps: &self.steps,
            voices: &self.voices,
            noise: self.noise.as_ref(),
            mix: self.mix,
            clips: &self.clips,
        }
    }
}

/// A borrowed track, independent of storage capacities.
#[derive(Clone, Copy, Debug)]
pub struct TrackRef<'a> {
    /// Sample rate, Hz.
    pub sample_rate: u32,
    /// Global crossfade duration as given.
    pub crossfade_duration: Option<f64>,
    /// Global crossfade curve.
    pub crossfade_curve: CrossfadeCurve,
    /// Steps.
    pub steps: &'a [StepSpec],
    /// Voices of all steps.
    pub voices: &'a [VoiceSpec],
    /// Background noise.
    pub noise: Option<&'a crate::noise::NoiseSpec>,
    /// Layer level multipliers.
    pub mix: MixGains,
    /// Overlay clips.
    pub clips: &'a [ClipSpec],
}

impl<'a> TrackRef<'a> {
    /// The voices of step `i`.
    pub fn step_voices(&self, i: usize) -> &'a [VoiceSpec] {
        let s = &self.steps[i];
        let a = s.first_voice as usize;
        let b = (a + s.voice_count as usize).min(self.voices.len());
        &self.voices[a.min(b)..b]
    }
}
