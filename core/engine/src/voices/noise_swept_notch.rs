//! The noise voices: implements VOICES.md §13.3 (`noise_swept_notch`,
//! `noise_swept_notch_transition` and their aliases `noise`, `noise_transition`), §13.2
//! (`noise_generator`, `noise_generator_transition`) and §12
//! (`generate_swept_notch_pink_sound`, `_transition`) with the streaming swept-notch
//! generator of NOISE.md §4–§6 ([`SweptNoise`](entrain_dsp::noise::notch::SweptNoise)).
//!
//! `generate_swept_notch_pink_sound(_transition)` fails in the original when called as a
//! voice (its signature is the offline tool's, so the step is silent). Implemented here is
//! the **intended** behaviour (VOICES.md §12): the same generator as `noise_swept_notch`,
//! with the offline tool's defaults.
//!
//! Signal: `y_c = SweptNoise_c · gain_c · env(i)` in f64, rounded to f32, then clipped to
//! ±1 for `noise_generator` (§13.2: "output clipped to ±1"). `env` is the background
//! layer's envelope ([`NoiseEnvelope`]: linear fades over `floor(fade·sr)` samples with
//! end points included, `np.interp` over the `amp_envelope` breakpoints), evaluated from
//! the sample index of the voice. The generator's level stage puts the expected peak of the
//! render at 0.95 (the original's whole-buffer normalisation, NOISE.md §4.5) and clamps at
//! ±0.95, so `|y_c| ≤ 0.95·|gain_c|` before the envelope.
//!
//! Transitions: α is the voice's ramp (TRACK_FORMAT.md §7.3 with the voice's
//! `initial_offset`, `transition_duration` and curve), evaluated from the absolute sample
//! index; the LFO phase integrates the moving LFO rate in closed form (exact for the
//! linear, logarithmic and exponential curves; other curves move the parameters along the
//! curve but integrate the LFO rate as if linear). As in the original's transition
//! generator, each channel runs two notch passes (NOISE.md §5).
//!
//! Deviations and limits (all shared with the background layer, see
//! [`SweptNoise`](entrain_dsp::noise::notch::SweptNoise)):
//!
//! * Static notches run causally, each cascade step twice (the original's `filtfilt`
//!   has the squared magnitude and zero phase; noise does not show the phase).
//! * Seek is O([`WARMUP`](entrain_dsp::noise::notch::WARMUP)): LFO, transition and
//!   envelope are exact at any position, the random source restarts from a seed derived
//!   from the position and is warmed up for 4096 samples. A seek within the first 4096
//!   samples equals the continuous render bit for bit; further on it gives other noise
//!   with the same statistics.
//! * No `input_audio_path` (the core reads no files; the parser refuses the key).
//!
//! Memory: the generator is ~6.6 KB, three times a voice slot, so it lives in a pool slot
//! ([`super::fx::FilterSlot`], as the SAM voice's state) and the voice enum stays small
//! (the voice uses one more pool slot than its effects). In the slot, the generator's core
//! ([`SweptCore`], ~2 KB) sits in the effect state and its 4.4 KB filter-state bank in the
//! slot's ring, so a pool slot grows by under 1 KB.

use crate::model::{NoiseVoiceParams, TransitionSpec};
use crate::noise::NoiseEnvelope;
use entrain_dsp::noise::notch::{StaticNotch, SweptCore, SweptParams, NOISE_PEAK};
use entrain_dsp::ramp::Curve;
use entrain_dsp::Frame;

use super::common::StepClock;

/// The generator settings of a noise voice.
pub fn swept_params(p: &NoiseVoiceParams, transition: Option<&TransitionSpec>) -> SweptParams {
    let mut sp = SweptParams {
        colour: p.colour,
        lfo_wave: p.lfo_wave,
        transition: transition.is_some(),
        lfo_freq: p.lfo_freq.start,
        transition_lfo_freq: [p.lfo_freq.start, p.lfo_freq.end],
        sweeps: p.sweeps,
        sweep_count: p.sweep_count as usize,
        lfo_phase_offset_deg: [p.lfo_phase_offset_deg.start, p.lfo_phase_offset_deg.end],
        intra_phase_offset_deg: [p.intra_phase_offset_deg.start, p.intra_phase_offset_deg.end],
        static_count: p.static_count as usize,
        seed: p.seed,
        ..SweptParams::default()
    };
    if transition.is_none() {
        // A static voice uses the start values only.
        sp.lfo_phase_offset_deg[1] = sp.lfo_phase_offset_deg[0];
        sp.intra_phase_offset_deg[1] = sp.intra_phase_offset_deg[0];
    }
    for (d, s) in sp.static_notches.iter_mut().zip(p.statics.iter()) {
        *d = StaticNotch {
            freq_hz: s.freq_hz as f64,
            q: s.q as f64,
            cascade: s.cascade,
        };
    }
    if let Some(t) = transition {
        sp.initial_offset = t.initial_offset;
        sp.transition_duration = t.duration;
        sp.curve = t.curve;
    } else {
        sp.curve = Curve::Linear;
    }
    sp
}

/// An upper bound of |output| per channel.
pub fn peak_bound(p: &NoiseVoiceParams) -> f64 {
    let g = p.gain[0].abs().max(p.gain[1].abs());
    let env = p.envelope[..(p.envelope_len as usize).min(p.envelope.len())]
        .iter()
        .fold(1.0f64, |m, e| m.max((e.1 as f64).abs()));
    let b = NOISE_PEAK as f64 * g * env;
    if p.clip {
        b.min(1.0)
    } else {
        b
    }
}

/// A noise voice's state (held in a pool slot; its filter-state bank `st`, at least
/// [`STATE_FRAMES`](entrain_dsp::noise::notch::STATE_FRAMES) frames, is the slot's ring).
#[derive(Clone, Debug)]
pub struct NoiseSweptNotch {
    gen: SweptCore,
    gain: [f64; 2],
    env: NoiseEnvelope,
    flat: bool,
    clip: bool,
    i: u64,
}

impl NoiseSweptNotch {
    /// The voice of `p` over a step with `clock` (runs the generator's calibration in
    /// the bank `st`).
    pub fn new(
        p: &NoiseVoiceParams,
        transition: Option<&TransitionSpec>,
        clock: StepClock,
        st: &mut [Frame],
    ) -> Self {
        let sp = swept_params(p, transition);
        let sr = clock.sr as u32;
        let count = (p.envelope_len as usize).min(p.envelope.len());
        let env = NoiseEnvelope::from_parts(
            1.0,
            p.fade_in,
            p.fade_out,
            p.envelope[..count].iter().map(|e| (e.0 as f64, e.1 as f64)),
            clock.sr,
            clock.n,
        );
        Self {
            gen: SweptCore::new(&sp, sr, clock.n.max(1), st),
            gain: p.gain,
            flat: env.is_unity(),
            env,
            clip: p.clip,
            i: 0,
        }
    }

    /// Renders the next frames.
    pub fn process(&mut self, out: &mut [Frame], st: &mut [Frame]) {
        for o in out.iter_mut() {
            let x = self.gen.next_frame(st);
            let e = if self.flat { 1.0 } else { self.env.at(self.i) };
            let mut y = [
                (x[0] as f64 * self.gain[0] * e) as f32,
                (x[1] as f64 * self.gain[1] * e) as f32,
            ];
            if self.clip {
                y = [y[0].clamp(-1.0, 1.0), y[1].clamp(-1.0, 1.0)];
            }
            *o = y;
            self.i += 1;
        }
    }

    /// Positions the voice at sample `i` of its step (see the module docs).
    pub fn seek(&mut self, i: u64, st: &mut [Frame]) {
        self.gen.seek(i, st);
        self.i = i;
    }

    /// Back to the state right after `new`.
    pub fn reset(&mut self, st: &mut [Frame]) {
        self.seek(0, st);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::voices::{FilterSlot, FxState, Voice};

    #[test]
    fn sizes_stay_small() {
        // The generator's core is in the effect state, its bank in the ring: the voice
        // enum does not grow for it and a pool slot grows by about 1 KB. (The enum's
        // largest variant is binaural_beat, 2,208 bytes with its integer ramp.)
        assert!(core::mem::size_of::<NoiseSweptNotch>() < 3 * 1024);
        assert!(core::mem::size_of::<FxState>() < 3 * 1024);
        assert!(
            core::mem::size_of::<Voice>() <= 2208,
            "{}",
            core::mem::size_of::<Voice>()
        );
        assert!(core::mem::size_of::<FilterSlot>() < 70 * 1024);
    }

    #[test]
    fn block_equals_sample_reset_and_bound() {
        let mut p = NoiseVoiceParams {
            sweep_count: 1,
            gain: [0.5, 0.25],
            fade_in: 0.01,
            clip: true,
            ..NoiseVoiceParams::default()
        };
        p.envelope[0] = (0.0, 1.0);
        p.envelope[1] = (0.2, 3.0);
        p.envelope_len = 2;
        let clock = StepClock::new(0.25, 44_100.0);
        let mut st = [[0.0f32; 2]; entrain_dsp::noise::notch::STATE_FRAMES];
        let mut a = NoiseSweptNotch::new(&p, None, clock, &mut st);
        let mut st_b = st;
        let mut b = a.clone();
        let n = clock.n as usize;
        let mut x = [[0.0f32; 2]; 11_025];
        for f in x.iter_mut() {
            a.process(core::slice::from_mut(f), &mut st);
        }
        let mut y = [[0.0f32; 2]; 11_025];
        for c in y.chunks_mut(37) {
            b.process(c, &mut st_b);
        }
        assert_eq!(n, x.len());
        assert!(x
            .iter()
            .zip(y.iter())
            .all(|(p, q)| p[0].to_bits() == q[0].to_bits() && p[1].to_bits() == q[1].to_bits()));
        assert!(x
            .iter()
            .all(|f| f[0].abs() <= 1.0 && f[1].abs() <= 1.0 && f[0].is_finite()));
        assert_eq!(x[0], [0.0, 0.0]); // fade-in starts at 0
        b.reset(&mut st_b);
        let mut z = [[0.0f32; 2]; 100];
        b.process(&mut z, &mut st_b);
        assert_eq!(&z[..], &x[..100]);
        assert!(peak_bound(&p) <= 1.0);
    }
}
