//! Synth function resolution (TRACK_FORMAT.md §4.1) and the parameter tables of each
//! voice (VOICES.md), with every default, alias and transition naming pattern.

use crate::params::{Kind, Reader};
use entrain_dsp::osc::LfoShape;
use entrain_engine::model::{
    AmLfo, BinauralParams, FmLfo, GlitchParams, IsochronicParams, Pair, VoiceParams,
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
        _ => None,
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
}
