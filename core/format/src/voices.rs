//! Synth function resolution (TRACK_FORMAT.md §4.1) and the parameter tables of each
//! voice (VOICES.md), with every default, alias and transition naming pattern.

use crate::noise_voice::{noise_voice, NoiseFunc};
use crate::params::{Kind, Reader};
use entrain_dsp::osc::LfoShape;
use entrain_engine::model::{
    AmLfo, BinauralParams, DualPulseParams, FmLfo, GlitchParams, HybridParams, IsochronicParams,
    MonauralParams, Pair, PulseShape, PulseSpec, QamParams, RhythmicParams, SamMonauralParams,
    StereoAmParams, VoiceParams, WaveShapeStereoAmParams,
};

/// A synth function of the original registry (base name).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Func {
    /// `binaural_beat`.
    BinauralBeat,
    /// `isochronic_tone`.
    IsochronicTone,
    /// `monaural_beat_stereo_amps`.
    MonauralBeatStereoAmps,
    /// `qam_beat`.
    QamBeat,
    /// `hybrid_qam_monaural_beat`.
    HybridQamMonauralBeat,
    /// `rhythmic_waveshaping`.
    RhythmicWaveshaping,
    /// `stereo_am_independent`.
    StereoAmIndependent,
    /// `wave_shape_stereo_am`.
    WaveShapeStereoAm,
    /// `spatial_angle_modulation`.
    SpatialAngleModulation,
    /// `spatial_angle_modulation_monaural_beat`.
    SpatialAngleModulationMonauralBeat,
    /// `generate_swept_notch_pink_sound`.
    SweptNotchPinkSound,
    /// `subliminal_encode` (no transition variant).
    SubliminalEncode,
    /// Session-Builder `dual_pulse_binaural`.
    DualPulseBinaural,
    /// Session-Builder `noise_generator`.
    NoiseGenerator,
    /// Session-Builder / RP2 `noise_swept_notch` (also `noise`).
    NoiseSweptNotch,
}

const REGISTRY: &[(&str, Func, bool)] = &[
    ("binaural_beat", Func::BinauralBeat, true),
    ("isochronic_tone", Func::IsochronicTone, true),
    (
        "monaural_beat_stereo_amps",
        Func::MonauralBeatStereoAmps,
        true,
    ),
    ("qam_beat", Func::QamBeat, true),
    (
        "hybrid_qam_monaural_beat",
        Func::HybridQamMonauralBeat,
        true,
    ),
    ("rhythmic_waveshaping", Func::RhythmicWaveshaping, true),
    ("stereo_am_independent", Func::StereoAmIndependent, true),
    ("wave_shape_stereo_am", Func::WaveShapeStereoAm, true),
    (
        "spatial_angle_modulation",
        Func::SpatialAngleModulation,
        true,
    ),
    (
        "spatial_angle_modulation_monaural_beat",
        Func::SpatialAngleModulationMonauralBeat,
        true,
    ),
    (
        "generate_swept_notch_pink_sound",
        Func::SweptNotchPinkSound,
        true,
    ),
    ("subliminal_encode", Func::SubliminalEncode, false),
    ("dual_pulse_binaural", Func::DualPulseBinaural, true),
    ("noise_generator", Func::NoiseGenerator, true),
    ("noise_swept_notch", Func::NoiseSweptNotch, true),
    ("noise", Func::NoiseSweptNotch, true),
];

/// The outcome of resolving `synth_function_name` + `is_transition`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolved {
    /// A registry function.
    Known {
        /// The function.
        func: Func,
        /// Its transition variant is used.
        transition: bool,
        /// `is_transition` asked for a variant that does not exist.
        missing_variant: bool,
    },
    /// Not in the registry: the voice is silent.
    Unknown,
}

/// The original's rule (TRACK_FORMAT.md §4.1): `is_transition` switches between `name`
/// and `name_transition` when the other variant exists.
pub fn resolve_function(name: &str, is_transition: bool) -> Resolved {
    let lookup = |n: &str| REGISTRY.iter().find(|(k, _, _)| *k == n).copied();
    let (base, named_transition) = match name.strip_suffix("_transition") {
        Some(b) if lookup(b).is_some_and(|e| e.2) => (b, true),
        _ => (name, false),
    };
    let Some((_, func, has_t)) = lookup(base) else {
        return Resolved::Unknown;
    };
    if is_transition {
        Resolved::Known {
            func,
            transition: has_t,
            missing_variant: !has_t,
        }
    } else {
        // A `_transition` name with is_transition false: the static variant exists for
        // every function that has a transition, so it is used (rule 3).
        let _ = named_transition;
        Resolved::Known {
            func,
            transition: false,
            missing_variant: false,
        }
    }
}

/// Builds the parameters of `func` from its `params` object; `None` for functions this
/// version does not render.
pub fn build_voice(
    r: &mut Reader<'_, '_>,
    func: Func,
    transition: bool,
    _sr: u32,
) -> Option<VoiceParams> {
    match func {
        Func::BinauralBeat => Some(VoiceParams::Binaural(binaural(r, transition))),
        Func::IsochronicTone => Some(VoiceParams::Isochronic(isochronic(r, transition))),
        Func::MonauralBeatStereoAmps => Some(VoiceParams::Monaural(monaural(r, transition))),
        Func::QamBeat => Some(VoiceParams::Qam(qam(r, transition))),
        Func::HybridQamMonauralBeat => Some(VoiceParams::Hybrid(hybrid(r, transition))),
        Func::RhythmicWaveshaping => Some(VoiceParams::Rhythmic(rhythmic(r, transition))),
        Func::StereoAmIndependent => Some(VoiceParams::StereoAm(stereo_am(r, transition))),
        Func::WaveShapeStereoAm => Some(VoiceParams::WaveShapeStereoAm(wave_shape_stereo_am(
            r, transition,
        ))),
        Func::SpatialAngleModulationMonauralBeat => {
            Some(VoiceParams::SamMonaural(sam_monaural(r, transition)))
        }
        Func::DualPulseBinaural => Some(VoiceParams::DualPulse(dual_pulse(r, transition))),
        Func::SubliminalEncode => Some(VoiceParams::Subliminal(crate::subliminal::subliminal(r))),
        Func::SpatialAngleModulation => Some(VoiceParams::Sam(crate::fx::sam(r, transition, _sr))),
        Func::NoiseSweptNotch => Some(VoiceParams::Noise(noise_voice(
            r,
            NoiseFunc::SweptNotch,
            transition,
        ))),
        Func::SweptNotchPinkSound => Some(VoiceParams::Noise(noise_voice(
            r,
            NoiseFunc::PinkSound,
            transition,
        ))),
        Func::NoiseGenerator => Some(VoiceParams::Noise(noise_voice(
            r,
            NoiseFunc::Generator,
            transition,
        ))),
    }
}

const EARS: [&str; 2] = ["L", "R"];

/// Reads `name` + ear suffix with the static or pattern-1 rule.
fn ear_param(
    r: &mut Reader<'_, '_>,
    transition: bool,
    stem: &str,
    ear: usize,
    default: f64,
    kind: Kind,
) -> Pair {
    let mut key: heapless::String<48> = heapless::String::new();
    let _ = key.push_str(stem);
    let _ = key.push_str(EARS[ear]);
    if transition {
        r.pair1(&key, default, kind)
    } else {
        r.fixed(&key, default, kind)
    }
}

fn param(r: &mut Reader<'_, '_>, transition: bool, key: &str, default: f64, kind: Kind) -> Pair {
    if transition {
        r.pair1(key, default, kind)
    } else {
        r.fixed(key, default, kind)
    }
}

fn am_fm(r: &mut Reader<'_, '_>, t: bool) -> ([AmLfo; 2], [FmLfo; 2]) {
    let am = core::array::from_fn(|c| AmLfo {
        depth: ear_param(r, t, "ampOscDepth", c, 0.0, Kind::Plain),
        freq: ear_param(r, t, "ampOscFreq", c, 0.0, Kind::Freq),
        phase_offset: ear_param(r, t, "ampOscPhaseOffset", c, 0.0, Kind::Plain),
        skew: ear_param(r, t, "ampOscSkew", c, 0.0, Kind::Plain),
    });
    let fm = core::array::from_fn(|c| FmLfo {
        range: ear_param(r, t, "freqOscRange", c, 0.0, Kind::Plain),
        freq: ear_param(r, t, "freqOscFreq", c, 0.0, Kind::Freq),
        skew: ear_param(r, t, "freqOscSkew", c, 0.0, Kind::Plain),
        phase_offset: ear_param(r, t, "freqOscPhaseOffset", c, 0.0, Kind::Plain),
    });
    (am, fm)
}

/// `binaural_beat(_transition)`, VOICES.md §1.1/§1.3.
fn binaural(r: &mut Reader<'_, '_>, t: bool) -> BinauralParams {
    let amp = [
        ear_param(r, t, "amp", 0, 0.5, Kind::Plain),
        ear_param(r, t, "amp", 1, 0.5, Kind::Plain),
    ];
    let base_freq = param(r, t, "baseFreq", 200.0, Kind::Freq);
    let beat_freq = param(r, t, "beatFreq", 4.0, Kind::Freq);
    let start_phase = core::array::from_fn(|c| {
        if t {
            let (s, e, f) = match c {
                0 => ("startStartPhaseL", "endStartPhaseL", "startPhaseL"),
                _ => ("startStartPhaseR", "endStartPhaseR", "startPhaseR"),
            };
            r.pair1_keys(s, e, f, 0.0, Kind::Plain)
        } else {
            r.fixed(
                if c == 0 { "startPhaseL" } else { "startPhaseR" },
                0.0,
                Kind::Plain,
            )
        }
    });
    let (am, fm) = am_fm(r, t);
    let shape = match r.text::<16>("freqOscShape") {
        Some(s) if s.eq_ignore_ascii_case("triangle") => LfoShape::Triangle,
        _ => LfoShape::Sine,
    };
    let glitch = GlitchParams {
        interval: param(r, t, "glitchInterval", 0.0, Kind::Time),
        dur: param(r, t, "glitchDur", 0.0, Kind::Time),
        noise_level: param(r, t, "glitchNoiseLevel", 0.0, Kind::Plain),
        focus_width: param(r, t, "glitchFocusWidth", 0.0, Kind::Plain),
        focus_exp: param(r, t, "glitchFocusExp", 0.0, Kind::Plain),
    };
    BinauralParams {
        amp,
        base_freq,
        beat_freq,
        left_high: r.bool_or("leftHigh", false),
        start_phase,
        am,
        fm,
        fm_shape: shape,
        phase_osc_freq: param(r, t, "phaseOscFreq", 0.0, Kind::Freq),
        phase_osc_range: param(r, t, "phaseOscRange", 0.0, Kind::Plain),
        glitch,
    }
}

/// `isochronic_tone(_transition)`, VOICES.md §2.1/§2.3.
fn isochronic(r: &mut Reader<'_, '_>, t: bool) -> IsochronicParams {
    let amp = [
        ear_param(r, t, "amp", 0, 0.5, Kind::Plain),
        ear_param(r, t, "amp", 1, 0.5, Kind::Plain),
    ];
    // Pattern 2 for the carrier and pulse rate of the transition: 200 Hz / 4 Hz defaults,
    // the static names are not consulted.
    let (base_freq, beat_freq) = if t {
        let b0 = r.num_or("startBaseFreq", 200.0, Kind::Freq);
        let b1 = r.num_or("endBaseFreq", b0, Kind::Freq);
        let p0 = r.num_or("startBeatFreq", 4.0, Kind::Freq);
        let p1 = r.num_or("endBeatFreq", p0, Kind::Freq);
        (Pair::new(b0, b1), Pair::new(p0, p1))
    } else {
        (
            r.fixed("baseFreq", 200.0, Kind::Freq),
            r.fixed("beatFreq", 4.0, Kind::Freq),
        )
    };
    let force_mono = if t {
        r.pair1("forceMono", 0.0, Kind::Plain)
    } else {
        Pair::fixed(if r.bool_or("forceMono", false) {
            1.0
        } else {
            0.0
        })
    };
    let start_phase = core::array::from_fn(|c| {
        if t {
            let (s, e, f) = match c {
                0 => ("startStartPhaseL", "endStartPhaseL", "startPhaseL"),
                _ => ("startStartPhaseR", "endStartPhaseR", "startPhaseR"),
            };
            r.pair1_keys(s, e, f, 0.0, Kind::Plain)
        } else {
            r.fixed(
                if c == 0 { "startPhaseL" } else { "startPhaseR" },
                0.0,
                Kind::Plain,
            )
        }
    });
    let (am, fm) = am_fm(r, t);
    let harmonic_suppression = if t {
        let s = match r.entry("startHarmonicSuppression") {
            Some(e) => r.coerce_bool(&e).unwrap_or(false),
            None => r.bool_or("harmonicSuppression", false),
        };
        let e = match r.entry("endHarmonicSuppression") {
            Some(e) => r.coerce_bool(&e).unwrap_or(s),
            None => s,
        };
        s || e
    } else {
        r.bool_or("harmonicSuppression", false)
    };
    IsochronicParams {
        amp,
        base_freq,
        beat_freq,
        force_mono,
        start_phase,
        am,
        fm,
        phase_osc_freq: param(r, t, "phaseOscFreq", 0.0, Kind::Freq),
        phase_osc_range: param(r, t, "phaseOscRange", 0.0, Kind::Plain),
        ramp_percent: param(r, t, "rampPercent", 0.2, Kind::Plain),
        gap_percent: param(r, t, "gapPercent", 0.15, Kind::Plain),
        harmonic_suppression,
        pan: r.num_or("pan", 0.0, Kind::Plain),
    }
}

/// Pattern 3 (TRACK_FORMAT.md §7.1): snake-case `start_X`/`end_X`, fallback `X`.
fn snake_pair(r: &mut Reader<'_, '_>, t: bool, name: &str, default: f64, kind: Kind) -> Pair {
    if !t {
        return r.fixed(name, default, kind);
    }
    let mut s: heapless::String<48> = heapless::String::new();
    let mut e: heapless::String<48> = heapless::String::new();
    let _ = s.push_str("start_");
    let _ = s.push_str(name);
    let _ = e.push_str("end_");
    let _ = e.push_str(name);
    r.pair1_keys(&s, &e, name, default, kind)
}

/// The four tone levels of the monaural voices (`amp_lower_L`, …), pattern 3.
fn monaural_amps(r: &mut Reader<'_, '_>, t: bool) -> ([Pair; 2], [Pair; 2]) {
    (
        [
            snake_pair(r, t, "amp_lower_L", 0.5, Kind::Plain),
            snake_pair(r, t, "amp_lower_R", 0.5, Kind::Plain),
        ],
        [
            snake_pair(r, t, "amp_upper_L", 0.5, Kind::Plain),
            snake_pair(r, t, "amp_upper_R", 0.5, Kind::Plain),
        ],
    )
}

/// `monaural_beat_stereo_amps(_transition)`, VOICES.md §3.1/§3.3.
fn monaural(r: &mut Reader<'_, '_>, t: bool) -> MonauralParams {
    let (amp_lower, amp_upper) = monaural_amps(r, t);
    let (start_phase_lower, start_phase_upper) = if t {
        (
            r.pair1_keys(
                "startStartPhaseL",
                "endStartPhaseL",
                "startPhaseL",
                0.0,
                Kind::Plain,
            ),
            r.pair1_keys(
                "startStartPhaseU",
                "endStartPhaseU",
                "startPhaseR",
                0.0,
                Kind::Plain,
            ),
        )
    } else {
        (
            r.fixed("startPhaseL", 0.0, Kind::Plain),
            r.fixed("startPhaseR", 0.0, Kind::Plain),
        )
    };
    MonauralParams {
        amp_lower,
        amp_upper,
        base_freq: param(r, t, "baseFreq", 200.0, Kind::Freq),
        beat_freq: param(r, t, "beatFreq", 4.0, Kind::Freq),
        start_phase_lower,
        start_phase_upper,
        phase_osc_freq: param(r, t, "phaseOscFreq", 0.0, Kind::Freq),
        phase_osc_range: param(r, t, "phaseOscRange", 0.0, Kind::Plain),
        am_depth: param(r, t, "ampOscDepth", 0.0, Kind::Plain),
        am_freq: param(r, t, "ampOscFreq", 0.0, Kind::Freq),
        am_phase_offset: param(r, t, "ampOscPhaseOffset", 0.0, Kind::Plain),
    }
}

/// Per-ear parameter pair `[stemL, stemR]` (static name or pattern 1).
fn ears(r: &mut Reader<'_, '_>, t: bool, stem: &str, default: [f64; 2], kind: Kind) -> [Pair; 2] {
    [
        ear_param(r, t, stem, 0, default[0], kind),
        ear_param(r, t, stem, 1, default[1], kind),
    ]
}

/// `qam_beat(_transition)`, VOICES.md §4.1/§4.3 (pattern 1; eight fixed keys).
fn qam(r: &mut Reader<'_, '_>, t: bool) -> QamParams {
    let start_phase = core::array::from_fn(|c| {
        if t {
            let (s, e, f) = match c {
                0 => ("startStartPhaseL", "endStartPhaseL", "startPhaseL"),
                _ => ("startStartPhaseR", "endStartPhaseR", "startPhaseR"),
            };
            r.pair1_keys(s, e, f, 0.0, Kind::Plain)
        } else {
            r.fixed(
                if c == 0 { "startPhaseL" } else { "startPhaseR" },
                0.0,
                Kind::Plain,
            )
        }
    });
    QamParams {
        amp: ears(r, t, "amp", [0.5, 0.5], Kind::Plain),
        base_freq: ears(r, t, "baseFreq", [200.0, 204.0], Kind::Freq),
        am_freq: ears(r, t, "qamAmFreq", [4.0, 4.0], Kind::Freq),
        am_depth: ears(r, t, "qamAmDepth", [0.5, 0.5], Kind::Plain),
        am_phase_offset: ears(r, t, "qamAmPhaseOffset", [0.0, 0.0], Kind::Plain),
        am2_freq: ears(r, t, "qamAm2Freq", [0.0, 0.0], Kind::Freq),
        am2_depth: ears(r, t, "qamAm2Depth", [0.0, 0.0], Kind::Plain),
        am2_phase_offset: ears(r, t, "qamAm2PhaseOffset", [0.0, 0.0], Kind::Plain),
        mod_shape: ears(r, t, "modShape", [1.0, 1.0], Kind::Plain),
        cross_mod_depth: param(r, t, "crossModDepth", 0.0, Kind::Plain),
        cross_mod_delay: r.num_or("crossModDelay", 0.0, Kind::Time),
        harmonic_depth: param(r, t, "harmonicDepth", 0.0, Kind::Plain),
        harmonic_ratio: r.num_or("harmonicRatio", 2.0, Kind::Plain),
        sub_harmonic_freq: param(r, t, "subHarmonicFreq", 0.0, Kind::Freq),
        sub_harmonic_depth: param(r, t, "subHarmonicDepth", 0.0, Kind::Plain),
        start_phase,
        phase_osc_freq: param(r, t, "phaseOscFreq", 0.0, Kind::Freq),
        phase_osc_range: param(r, t, "phaseOscRange", 0.0, Kind::Plain),
        phase_osc_phase_offset: r.num_or("phaseOscPhaseOffset", 0.0, Kind::Plain),
        beating_sidebands: r.bool_or("beatingSidebands", false),
        sideband_offset: r.num_or("sidebandOffset", 1.0, Kind::Freq),
        sideband_depth: r.num_or("sidebandDepth", 0.1, Kind::Plain),
        attack_time: r.num_or("attackTime", 0.0, Kind::Time),
        release_time: r.num_or("releaseTime", 0.0, Kind::Time),
    }
}

/// `hybrid_qam_monaural_beat(_transition)`, VOICES.md §5.1 (all 20 keys pattern 1).
fn hybrid(r: &mut Reader<'_, '_>, t: bool) -> HybridParams {
    let mut f = |key: &str, default: f64, kind: Kind| param(r, t, key, default, kind);
    HybridParams {
        amp: [f("ampL", 0.5, Kind::Plain), f("ampR", 0.5, Kind::Plain)],
        qam_carrier_freq: f("qamCarrierFreqL", 100.0, Kind::Freq),
        qam_am_freq: f("qamAmFreqL", 4.0, Kind::Freq),
        qam_am_depth: f("qamAmDepthL", 0.5, Kind::Plain),
        qam_am_phase_offset: f("qamAmPhaseOffsetL", 0.0, Kind::Plain),
        qam_start_phase: f("qamStartPhaseL", 0.0, Kind::Plain),
        mono_carrier_freq: f("monoCarrierFreqR", 100.0, Kind::Freq),
        mono_beat_freq: f("monoBeatFreqInChannelR", 4.0, Kind::Freq),
        mono_am_depth: f("monoAmDepthR", 0.0, Kind::Plain),
        mono_am_freq: f("monoAmFreqR", 0.0, Kind::Freq),
        mono_am_phase_offset: f("monoAmPhaseOffsetR", 0.0, Kind::Plain),
        mono_fm_range: f("monoFmRangeR", 0.0, Kind::Plain),
        mono_fm_freq: f("monoFmFreqR", 0.0, Kind::Freq),
        mono_fm_phase_offset: f("monoFmPhaseOffsetR", 0.0, Kind::Plain),
        mono_start_phase: [
            f("monoStartPhaseR_Tone1", 0.0, Kind::Plain),
            f("monoStartPhaseR_Tone2", 0.0, Kind::Plain),
        ],
        mono_phase_osc_freq: f("monoPhaseOscFreqR", 0.0, Kind::Freq),
        mono_phase_osc_range: f("monoPhaseOscRangeR", 0.0, Kind::Plain),
        mono_phase_osc_phase_offset: f("monoPhaseOscPhaseOffsetR", 0.0, Kind::Plain),
    }
}

/// A pattern-2 pair (`startX`/`endX` with fixed defaults) or, for the static voice, the
/// static key with the static default.
fn p2(
    r: &mut Reader<'_, '_>,
    t: bool,
    stat: (&str, f64),
    trans: (&str, &str, f64, f64),
    kind: Kind,
) -> Pair {
    if t {
        r.pair2(trans.0, trans.1, trans.2, trans.3, kind)
    } else {
        r.fixed(stat.0, stat.1, kind)
    }
}

/// `rhythmic_waveshaping(_transition)`, VOICES.md §6 (pattern 2; `amp`, `pan` fixed).
fn rhythmic(r: &mut Reader<'_, '_>, t: bool) -> RhythmicParams {
    RhythmicParams {
        amp: r.num_or("amp", 0.25, Kind::Plain),
        carrier_freq: p2(
            r,
            t,
            ("carrierFreq", 200.0),
            ("startCarrierFreq", "endCarrierFreq", 200.0, 80.0),
            Kind::Freq,
        ),
        mod_freq: p2(
            r,
            t,
            ("modFreq", 4.0),
            ("startModFreq", "endModFreq", 12.0, 7.83),
            Kind::Freq,
        ),
        mod_depth: p2(
            r,
            t,
            ("modDepth", 1.0),
            ("startModDepth", "endModDepth", 1.0, 1.0),
            Kind::Plain,
        ),
        shape_amount: p2(
            r,
            t,
            ("shapeAmount", 5.0),
            ("startShapeAmount", "endShapeAmount", 5.0, 5.0),
            Kind::Plain,
        ),
        pan: r.num_or("pan", 0.0, Kind::Plain),
    }
}

/// `stereo_am_independent(_transition)`, VOICES.md §7 (pattern 2; `amp` fixed).
fn stereo_am(r: &mut Reader<'_, '_>, t: bool) -> StereoAmParams {
    let mod_phase = if t {
        // read (and validated) but unused by the original's transition
        [
            Pair::fixed(r.num_or("startModPhaseL", 0.0, Kind::Plain)),
            Pair::fixed(r.num_or("startModPhaseR", 0.0, Kind::Plain)),
        ]
    } else {
        [
            r.fixed("modPhaseL", 0.0, Kind::Plain),
            r.fixed("modPhaseR", 0.0, Kind::Plain),
        ]
    };
    StereoAmParams {
        amp: r.num_or("amp", 0.25, Kind::Plain),
        carrier_freq: p2(
            r,
            t,
            ("carrierFreq", 200.0),
            ("startCarrierFreq", "endCarrierFreq", 200.0, 250.0),
            Kind::Freq,
        ),
        mod_freq: [
            p2(
                r,
                t,
                ("modFreqL", 4.0),
                ("startModFreqL", "endModFreqL", 4.0, 6.0),
                Kind::Freq,
            ),
            p2(
                r,
                t,
                ("modFreqR", 4.0),
                ("startModFreqR", "endModFreqR", 4.1, 5.9),
                Kind::Freq,
            ),
        ],
        mod_depth: [
            p2(
                r,
                t,
                ("modDepthL", 0.8),
                ("startModDepthL", "endModDepthL", 0.8, 0.8),
                Kind::Plain,
            ),
            p2(
                r,
                t,
                ("modDepthR", 0.8),
                ("startModDepthR", "endModDepthR", 0.8, 0.8),
                Kind::Plain,
            ),
        ],
        mod_phase,
        stereo_width: p2(
            r,
            t,
            ("stereo_width_hz", 0.2),
            ("startStereoWidthHz", "endStereoWidthHz", 0.2, 0.2),
            Kind::Plain,
        ),
    }
}

/// `wave_shape_stereo_am(_transition)`, VOICES.md §8 (pattern 2; `amp` fixed).
fn wave_shape_stereo_am(r: &mut Reader<'_, '_>, t: bool) -> WaveShapeStereoAmParams {
    let stereo_mod_phase = if t {
        // read (and validated) but unused by the original's transition
        [
            Pair::fixed(r.num_or("startStereoModPhaseL", 0.0, Kind::Plain)),
            Pair::fixed(r.num_or(
                "startStereoModPhaseR",
                core::f64::consts::FRAC_PI_2,
                Kind::Plain,
            )),
        ]
    } else {
        [
            r.fixed("stereoModPhaseL", 0.0, Kind::Plain),
            r.fixed("stereoModPhaseR", core::f64::consts::FRAC_PI_2, Kind::Plain),
        ]
    };
    WaveShapeStereoAmParams {
        amp: r.num_or("amp", 0.15, Kind::Plain),
        carrier_freq: p2(
            r,
            t,
            ("carrierFreq", 200.0),
            ("startCarrierFreq", "endCarrierFreq", 200.0, 100.0),
            Kind::Freq,
        ),
        shape_mod_freq: p2(
            r,
            t,
            ("shapeModFreq", 4.0),
            ("startShapeModFreq", "endShapeModFreq", 4.0, 8.0),
            Kind::Freq,
        ),
        shape_mod_depth: p2(
            r,
            t,
            ("shapeModDepth", 0.8),
            ("startShapeModDepth", "endShapeModDepth", 0.8, 0.8),
            Kind::Plain,
        ),
        shape_amount: p2(
            r,
            t,
            ("shapeAmount", 0.5),
            ("startShapeAmount", "endShapeAmount", 0.5, 0.5),
            Kind::Plain,
        ),
        stereo_mod_freq: [
            p2(
                r,
                t,
                ("stereoModFreqL", 4.1),
                ("startStereoModFreqL", "endStereoModFreqL", 4.1, 6.0),
                Kind::Freq,
            ),
            p2(
                r,
                t,
                ("stereoModFreqR", 4.0),
                ("startStereoModFreqR", "endStereoModFreqR", 4.0, 6.1),
                Kind::Freq,
            ),
        ],
        stereo_mod_depth: [
            p2(
                r,
                t,
                ("stereoModDepthL", 0.8),
                ("startStereoModDepthL", "endStereoModDepthL", 0.8, 0.8),
                Kind::Plain,
            ),
            p2(
                r,
                t,
                ("stereoModDepthR", 0.8),
                ("startStereoModDepthR", "endStereoModDepthR", 0.9, 0.9),
                Kind::Plain,
            ),
        ],
        stereo_mod_phase,
    }
}

/// `key` (transition: `startX_monaural`/`endX_monaural`) with fallback `fallback`.
fn mono_key(
    r: &mut Reader<'_, '_>,
    t: bool,
    stem: &str,
    fallback: &str,
    default: f64,
    kind: Kind,
) -> Pair {
    if !t {
        return r.fixed(fallback, default, kind);
    }
    let mut s: heapless::String<48> = heapless::String::new();
    let mut e: heapless::String<48> = heapless::String::new();
    for (buf, pre) in [(&mut s, "start"), (&mut e, "end")] {
        let _ = buf.push_str(pre);
        let _ = buf.push_str(stem);
        let _ = buf.push_str("_monaural");
    }
    r.pair1_keys(&s, &e, fallback, default, kind)
}

/// `spatial_angle_modulation_monaural_beat(_transition)`, VOICES.md §10.1/§10.3.
fn sam_monaural(r: &mut Reader<'_, '_>, t: bool) -> SamMonauralParams {
    let (amp_lower, amp_upper) = monaural_amps(r, t);
    let base_freq = param(r, t, "baseFreq", 200.0, Kind::Freq);
    let beat_freq = param(r, t, "beatFreq", 4.0, Kind::Freq);
    let core = MonauralParams {
        amp_lower,
        amp_upper,
        base_freq,
        beat_freq,
        start_phase_lower: mono_key(r, t, "StartPhaseL", "startPhaseL", 0.0, Kind::Plain),
        start_phase_upper: mono_key(r, t, "StartPhaseU", "startPhaseR", 0.0, Kind::Plain),
        phase_osc_freq: mono_key(r, t, "PhaseOscFreq", "phaseOscFreq", 0.0, Kind::Freq),
        phase_osc_range: mono_key(r, t, "PhaseOscRange", "phaseOscRange", 0.0, Kind::Plain),
        am_depth: mono_key(
            r,
            t,
            "AmpOscDepth",
            "monaural_ampOscDepth",
            0.0,
            Kind::Plain,
        ),
        am_freq: mono_key(r, t, "AmpOscFreq", "monaural_ampOscFreq", 0.0, Kind::Freq),
        am_phase_offset: mono_key(
            r,
            t,
            "AmpOscPhaseOffset",
            "monaural_ampOscPhaseOffset",
            0.0,
            Kind::Plain,
        ),
    };
    // Second AM stage: static `sam_X` falls back to `X`; the transition's
    // `start_sam_X` falls back to `sam_X` only.
    let mut sam = |stem: &str, plain: &str, kind: Kind| -> Pair {
        if t {
            snake_pair(r, t, stem, 0.0, kind)
        } else {
            match r.number(stem, kind) {
                Some(v) => Pair::fixed(v),
                None => r.fixed(plain, 0.0, kind),
            }
        }
    };
    let sam_am_depth = sam("sam_ampOscDepth", "ampOscDepth", Kind::Plain);
    let sam_am_freq = sam("sam_ampOscFreq", "ampOscFreq", Kind::Freq);
    let sam_am_phase_offset = sam("sam_ampOscPhaseOffset", "ampOscPhaseOffset", Kind::Plain);
    // Spatial keys: read and validated like the original, their output is unused.
    let spatial_beat_freq = if t {
        let mean = (beat_freq.start + beat_freq.end) / 2.0;
        r.pair1_keys(
            "startSpatialBeatFreq",
            "endSpatialBeatFreq",
            "spatialBeatFreq",
            mean,
            Kind::Freq,
        )
    } else {
        r.fixed("spatialBeatFreq", beat_freq.start, Kind::Freq)
    };
    let spatial_phase_offset = param(r, t, "spatialPhaseOffset", 0.0, Kind::Plain);
    let path_radius = param(r, t, "pathRadius", 1.0, Kind::Plain);
    let clockwise = !matches!(
        r.text::<16>("rotationDirection"),
        Some(s) if s.eq_ignore_ascii_case("ccw")
    );
    let _ = r.number("frame_dur_ms", Kind::Time);
    let _ = r.number("overlap_factor", Kind::Plain);
    SamMonauralParams {
        core,
        sam_am_depth,
        sam_am_freq,
        sam_am_phase_offset,
        amp: param(r, t, "amp", 0.7, Kind::Plain),
        spatial_beat_freq,
        spatial_phase_offset,
        path_radius,
        clockwise,
    }
}

/// The first of `keys` present (and valid) as a number, else `default`: the original's
/// nested `params.get(a, params.get(b, default))`.
fn num_chain(r: &mut Reader<'_, '_>, keys: &[&str], default: f64, kind: Kind) -> f64 {
    keys.iter()
        .find_map(|k| r.number(k, kind))
        .unwrap_or(default)
}

/// The first of `keys` present as a pulse shape name (default: trapezoid).
fn shape_chain(r: &mut Reader<'_, '_>, keys: &[&str], default: PulseShape) -> PulseShape {
    for k in keys {
        if let Some(s) = r.text::<24>(k) {
            let t = s.trim();
            let is = |w: &str| t.eq_ignore_ascii_case(w);
            return if is("square") || is("pulse") {
                PulseShape::Square
            } else if is("raised_cosine") || is("raised-cosine") || is("cosine") || is("hann") {
                PulseShape::RaisedCosine
            } else {
                PulseShape::Trapezoid
            };
        }
    }
    default
}

/// A pulse rate ≤ 0 falls back (Session-Builder `_resolve_pulse_rate`).
fn resolve_rate(rate: f64, fallback: f64) -> f64 {
    if rate <= 0.0 {
        fallback
    } else {
        rate
    }
}

/// Session-Builder `dual_pulse_binaural(_transition)`, VOICES.md §13.1, with the
/// fallback chains of its source (the transition's are not in VOICES.md).
fn dual_pulse(r: &mut Reader<'_, '_>, t: bool) -> DualPulseParams {
    let mut binaural = binaural(r, t);
    let pk = Kind::Plain;
    let mut pulse = [[PulseSpec::default(); 2]; 2];
    if !t {
        if r.bool_or("forceMono", false) {
            binaural.beat_freq = Pair::fixed(0.0);
        }
        let beat = r.num_or("beatFreq", 4.0, Kind::Freq);
        let rate = resolve_rate(r.num_or("pulseRate", 0.0, pk), beat);
        let ramp = r.num_or("rampPercent", 0.2, pk);
        let gap = r.num_or("gapPercent", 0.15, pk);
        let off = r.num_or("pulsePhaseOffset", 0.0, pk);
        let shape = shape_chain(r, &["pulseShape"], PulseShape::Trapezoid);
        let depth = r.num_or("pulseDepth", 1.0, pk);
        for (e, x) in ["L", "R"].iter().enumerate() {
            let key = |stem: &str| {
                let mut k: heapless::String<32> = heapless::String::new();
                let _ = k.push_str(stem);
                let _ = k.push_str(x);
                k
            };
            let spec = PulseSpec {
                rate: resolve_rate(r.num_or(&key("pulseRate"), rate, pk), rate),
                ramp: r.num_or(&key("rampPercent"), ramp, pk),
                gap: r.num_or(&key("gapPercent"), gap, pk),
                phase_offset: r.num_or(&key("pulsePhaseOffset"), off, pk),
                shape: shape_chain(r, &[&key("pulseShape")], shape),
                depth: r.num_or(&key("pulseDepth"), depth, pk),
            };
            pulse[e] = [spec, spec];
        }
        return DualPulseParams { binaural, pulse };
    }
    let fm_s = match r.entry("startForceMono") {
        Some(e) => r.coerce_bool(&e).unwrap_or(false),
        None => r.bool_or("forceMono", false),
    };
    let fm_e = match r.entry("endForceMono") {
        Some(e) => r.coerce_bool(&e).unwrap_or(false),
        None => r.bool_or("forceMono", false),
    };
    if fm_s || fm_e {
        binaural.beat_freq = Pair::fixed(0.0);
    }
    let beat_s = num_chain(r, &["startBeatFreq", "beatFreq"], 4.0, Kind::Freq);
    let beat_e = num_chain(r, &["endBeatFreq"], beat_s, Kind::Freq);
    let rate_s = resolve_rate(
        num_chain(r, &["startPulseRate", "pulseRate"], beat_s, pk),
        beat_s,
    );
    let rate_e = resolve_rate(
        num_chain(r, &["endPulseRate", "pulseRate"], beat_e, pk),
        beat_e,
    );
    let ramp_s = num_chain(r, &["startRampPercent", "rampPercent"], 0.2, pk);
    let ramp_e = num_chain(r, &["endRampPercent"], ramp_s, pk);
    let gap_s = num_chain(r, &["startGapPercent", "gapPercent"], 0.15, pk);
    let gap_e = num_chain(r, &["endGapPercent"], gap_s, pk);
    let off_s = num_chain(r, &["startPulsePhaseOffset", "pulsePhaseOffset"], 0.0, pk);
    let off_e = num_chain(r, &["endPulsePhaseOffset"], off_s, pk);
    let shape_s = shape_chain(r, &["startPulseShape", "pulseShape"], PulseShape::Trapezoid);
    let shape_e = shape_chain(r, &["endPulseShape"], shape_s);
    let depth_s = num_chain(r, &["startPulseDepth", "pulseDepth"], 1.0, pk);
    let depth_e = num_chain(r, &["endPulseDepth"], depth_s, pk);
    for (e, x) in ["L", "R"].iter().enumerate() {
        let key = |pre: &str, stem: &str| {
            let mut k: heapless::String<40> = heapless::String::new();
            let _ = k.push_str(pre);
            let _ = k.push_str(stem);
            let _ = k.push_str(x);
            k
        };
        // start: startXL ?? xL ?? start; end: endXL ?? xL ?? end
        let mut side =
            |pre: &str, rate: f64, ramp: f64, gap: f64, off: f64, shape, depth| PulseSpec {
                rate: resolve_rate(
                    num_chain(
                        r,
                        &[&key(pre, "PulseRate"), &key("", "pulseRate")],
                        rate,
                        pk,
                    ),
                    rate,
                ),
                ramp: num_chain(
                    r,
                    &[&key(pre, "RampPercent"), &key("", "rampPercent")],
                    ramp,
                    pk,
                ),
                gap: num_chain(
                    r,
                    &[&key(pre, "GapPercent"), &key("", "gapPercent")],
                    gap,
                    pk,
                ),
                phase_offset: num_chain(
                    r,
                    &[&key(pre, "PulsePhaseOffset"), &key("", "pulsePhaseOffset")],
                    off,
                    pk,
                ),
                shape: shape_chain(r, &[&key(pre, "PulseShape"), &key("", "pulseShape")], shape),
                depth: num_chain(
                    r,
                    &[&key(pre, "PulseDepth"), &key("", "pulseDepth")],
                    depth,
                    pk,
                ),
            };
        pulse[e] = [
            side("start", rate_s, ramp_s, gap_s, off_s, shape_s, depth_s),
            side("end", rate_e, ramp_e, gap_e, off_e, shape_e, depth_e),
        ];
    }
    DualPulseParams { binaural, pulse }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolution_rules() {
        let k = |f, t| Resolved::Known {
            func: f,
            transition: t,
            missing_variant: false,
        };
        assert_eq!(
            resolve_function("binaural_beat", true),
            k(Func::BinauralBeat, true)
        );
        assert_eq!(
            resolve_function("binaural_beat", false),
            k(Func::BinauralBeat, false)
        );
        assert_eq!(
            resolve_function("binaural_beat_transition", true),
            k(Func::BinauralBeat, true)
        );
        assert_eq!(
            resolve_function("binaural_beat_transition", false),
            k(Func::BinauralBeat, false)
        );
        assert_eq!(
            resolve_function("subliminal_encode", true),
            Resolved::Known {
                func: Func::SubliminalEncode,
                transition: false,
                missing_variant: true
            }
        );
        assert_eq!(resolve_function("no_such_voice", false), Resolved::Unknown);
        assert_eq!(
            resolve_function("noise", false),
            k(Func::NoiseSweptNotch, false)
        );
    }

    /// Parses a one-voice track and returns the voice's parameters.
    fn voice(func: &str, params: &str) -> VoiceParams {
        let json = format!(
            r#"{{"global":{{"sample_rate":44100}},"progression":[{{"duration":1.0,"voices":[{{"synth_function_name":"{func}","is_transition":{},"params":{params}}}]}}]}}"#,
            func.ends_with("_transition")
        );
        let mut track = Box::<entrain_engine::model::Track>::default();
        let mut info = crate::TrackInfo::default();
        crate::parse(json.as_bytes(), &mut track, &mut info).expect("parses");
        track.voices[0].params
    }

    #[test]
    fn monaural_snake_case_amps_and_phase_fallbacks() {
        let VoiceParams::Monaural(p) = voice(
            "monaural_beat_stereo_amps_transition",
            r#"{"amp_lower_L":0.1,"end_amp_lower_L":0.2,"start_amp_upper_R":0.3,"startPhaseR":1.5,"endStartPhaseU":2.0,"ampOscDepth":1.0}"#,
        ) else {
            panic!()
        };
        assert_eq!(p.amp_lower[0], Pair::new(0.1, 0.2));
        assert_eq!(p.amp_upper[1], Pair::new(0.3, 0.3));
        assert_eq!(p.amp_upper[0], Pair::fixed(0.5));
        assert_eq!(p.start_phase_upper, Pair::new(1.5, 2.0));
        assert_eq!(p.am_depth, Pair::fixed(1.0));
    }

    #[test]
    fn qam_defaults_and_fixed_keys() {
        let VoiceParams::Qam(p) = voice("qam_beat", "{}") else {
            panic!()
        };
        assert_eq!(p.base_freq, [Pair::fixed(200.0), Pair::fixed(204.0)]);
        assert_eq!(p.am_depth[1], Pair::fixed(0.5));
        let VoiceParams::Qam(p) = voice(
            "qam_beat_transition",
            r#"{"baseFreqL":150,"endBaseFreqL":100,"startStartPhaseR":0.5,"crossModDelay":0.05,"beatingSidebands":true}"#,
        ) else {
            panic!()
        };
        assert_eq!(p.base_freq[0], Pair::new(150.0, 100.0));
        assert_eq!(p.start_phase[1], Pair::new(0.5, 0.5));
        assert_eq!(p.cross_mod_delay, 0.05);
        assert!(p.beating_sidebands);
    }

    #[test]
    fn pattern_two_defaults_ignore_static_names() {
        let VoiceParams::Rhythmic(p) =
            voice("rhythmic_waveshaping_transition", r#"{"carrierFreq":300}"#)
        else {
            panic!()
        };
        assert_eq!(p.carrier_freq, Pair::new(200.0, 80.0));
        assert_eq!(p.mod_freq, Pair::new(12.0, 7.83));
        let VoiceParams::WaveShapeStereoAm(p) = voice("wave_shape_stereo_am_transition", "{}")
        else {
            panic!()
        };
        assert_eq!(p.stereo_mod_depth[1], Pair::fixed(0.9));
        assert_eq!(p.stereo_mod_freq[1], Pair::new(4.0, 6.1));
        let VoiceParams::StereoAm(p) = voice("stereo_am_independent", r#"{"stereo_width_hz":1.5}"#)
        else {
            panic!()
        };
        assert_eq!(p.stereo_width, Pair::fixed(1.5));
    }

    #[test]
    fn sam_monaural_keys() {
        let VoiceParams::SamMonaural(p) = voice(
            "spatial_angle_modulation_monaural_beat",
            r#"{"ampOscDepth":0.4,"monaural_ampOscFreq":3,"beatFreq":6}"#,
        ) else {
            panic!()
        };
        assert_eq!(p.sam_am_depth, Pair::fixed(0.4));
        assert_eq!(p.core.am_depth, Pair::fixed(0.0));
        assert_eq!(p.core.am_freq, Pair::fixed(3.0));
        assert_eq!(p.spatial_beat_freq, Pair::fixed(6.0));
        assert_eq!(p.amp, Pair::fixed(0.7));
        let VoiceParams::SamMonaural(p) = voice(
            "spatial_angle_modulation_monaural_beat_transition",
            r#"{"ampOscDepth":0.4,"sam_ampOscFreq":2,"end_sam_ampOscFreq":3,"startAmpOscDepth_monaural":0.2,"phaseOscFreq":1,"startBeatFreq":8,"endBeatFreq":4,"endAmp":0.9}"#,
        ) else {
            panic!()
        };
        // the transition does not fall back to `ampOscDepth`
        assert_eq!(p.sam_am_depth, Pair::fixed(0.0));
        assert_eq!(p.sam_am_freq, Pair::new(2.0, 3.0));
        assert_eq!(p.core.am_depth, Pair::fixed(0.2));
        assert_eq!(p.core.phase_osc_freq, Pair::fixed(1.0));
        assert_eq!(p.spatial_beat_freq, Pair::fixed(6.0));
        assert_eq!(p.amp, Pair::new(0.7, 0.9));
    }

    #[test]
    fn dual_pulse_fallback_chains() {
        let VoiceParams::DualPulse(p) = voice(
            "dual_pulse_binaural",
            r#"{"beatFreq":6,"forceMono":true,"pulseRateR":-1,"rampPercentL":0.4,"pulseShape":"Hann","pulseDepthR":0.5}"#,
        ) else {
            panic!()
        };
        assert_eq!(p.binaural.beat_freq, Pair::fixed(0.0));
        assert_eq!(p.pulse[0][0].rate, 6.0);
        assert_eq!(p.pulse[1][0].rate, 6.0);
        assert_eq!(p.pulse[0][0].ramp, 0.4);
        assert_eq!(p.pulse[1][0].ramp, 0.2);
        assert_eq!(p.pulse[0][1].shape, PulseShape::RaisedCosine);
        assert_eq!(p.pulse[1][0].depth, 0.5);
        let VoiceParams::DualPulse(p) = voice(
            "dual_pulse_binaural_transition",
            r#"{"startBeatFreq":4,"endBeatFreq":8,"pulseRateL":3,"endPulseShape":"square","pulseDepthR":0.5}"#,
        ) else {
            panic!()
        };
        assert_eq!(p.binaural.beat_freq, Pair::new(4.0, 8.0));
        assert_eq!([p.pulse[0][0].rate, p.pulse[0][1].rate], [3.0, 3.0]);
        assert_eq!([p.pulse[1][0].rate, p.pulse[1][1].rate], [4.0, 8.0]);
        assert_eq!(p.pulse[1][0].shape, PulseShape::Trapezoid);
        assert_eq!(p.pulse[1][1].shape, PulseShape::Square);
        assert_eq!(p.pulse[1][1].depth, 0.5);
    }
}
