//! The background-noise layer (TRACK_FORMAT.md §9, NOISE.md §4–§5, §8).
//!
//! The original generates the swept-notch noise for the whole track (after the steps
//! are assembled and trimmed), pads it, delays it by `start_time`, multiplies it by
//! `gain`, the linear fades and the `amp_envelope`, and adds it before clips and the
//! final peak normalisation (§8.2). Here the same layer is a stream:
//!
//! * the generator is [`SweptNoise`] built for `floor((len/sr)·sr)` frames (the
//!   original's `int(duration_seconds·sr)` with `duration_seconds = len/sr`), where `len`
//!   is the track length; its level stage puts the expected peak at 0.95 as the
//!   original's normalisation does;
//! * track sample `i` gets generator sample `i - S`, `S = floor(start_time·sr)`, silence
//!   before `S` and after the generator's end;
//! * the envelope is evaluated per sample from the absolute index (float64): `gain`, the
//!   fade-in over the first `min(floor(fade_in·sr), len)` samples of the *padded buffer*
//!   (`linspace(0, 1, n)`, end points included; so it overlaps `start_time`'s silence,
//!   as in the original), the fade-out over the last ones (`linspace(1, 0, n)`), and
//!   `np.interp` over the `amp_envelope` breakpoints (times in seconds, negative times
//!   clamped to 0, constant beyond the first and last point).
//!
//! Seek: the envelope and the generator's LFO/transition state are exact at any
//! position; the noise itself restarts from a position-derived seed (see
//! [`SweptNoise::seek`]).
//!
//! `.noise` presets with an `input_audio_path` notch that file instead of generated
//! noise (NOISE.md §3 step 1). The algorithm is [`entrain_dsp::noise::py::PyNotch`]
//! (sample-exact against the original), but it needs two analysis passes over the whole
//! input and an O(t) seek, so the host runs it once, offline, and lends the result to
//! the engine in the track's PCM arena ([`NoiseSpec::input`]); the layer then plays those
//! frames in place of the generator, with the same delay, envelope and length rule (the
//! generated length is the input's, padded or cut to the track). A spec that names an
//! input nobody rendered ([`NoiseSpec::input_file`] without [`NoiseSpec::input`], e.g.
//! a browser without the file) renders silence, and the host warns.

use entrain_dsp::math;
use entrain_dsp::noise::notch::{SweptNoise, SweptParams};
use entrain_dsp::Frame;

use crate::model::PcmRef;

/// Maximum number of `amp_envelope` breakpoints (the GUI writes a handful).
pub const MAX_ENVELOPE_POINTS: usize = 32;

/// A track's `background_noise` (TRACK_FORMAT.md §9.1), resolved.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NoiseSpec {
    /// The generator settings (from the `.noise` file or the inline `params`).
    pub params: SweptParams,
    /// Linear gain: `gain` if present, else `amp`, else 1.0 (the original ignores `amp`).
    pub gain: f64,
    /// Delay before the noise starts, s.
    pub start_time: f64,
    /// Linear fade-in from the start of the track, s.
    pub fade_in: f64,
    /// Linear fade-out at the end of the track, s.
    pub fade_out: f64,
    /// `amp_envelope` breakpoints `(time_s, amp)`, the first `envelope_len` used.
    pub envelope: [(f64, f64); MAX_ENVELOPE_POINTS],
    /// Number of breakpoints in use.
    pub envelope_len: usize,
    /// The preset notches an input file (`input_audio_path`, module docs).
    pub input_file: bool,
    /// The notched input, rendered by the host into the track's PCM arena (stereo
    /// frames at the track's rate); `None` with `input_file` set means silence.
    pub input: Option<PcmRef>,
}

impl Default for NoiseSpec {
    fn default() -> Self {
        Self {
            params: SweptParams::default(),
            gain: 1.0,
            start_time: 0.0,
            fade_in: 0.0,
            fade_out: 0.0,
            envelope: [(0.0, 0.0); MAX_ENVELOPE_POINTS],
            envelope_len: 0,
            input_file: false,
            input: None,
        }
    }
}

/// The per-sample envelope of the layer (gain × fades × breakpoints), float64.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NoiseEnvelope {
    gain: f64,
    len: u64,
    n_in: u64,
    n_out: u64,
    points: [(f64, f64); MAX_ENVELOPE_POINTS],
    count: usize,
}

impl NoiseEnvelope {
    /// The envelope of `spec` over a buffer of `len` samples at `sr`.
    pub fn new(spec: &NoiseSpec, sr: f64, len: u64) -> Self {
        let count = spec.envelope_len.min(MAX_ENVELOPE_POINTS);
        Self::from_parts(
            spec.gain,
            spec.fade_in,
            spec.fade_out,
            spec.envelope[..count].iter().copied(),
            sr,
            len,
        )
    }

    /// The envelope `gain` × fades (s) × breakpoints `(time_s, amp)` over a buffer of
    /// `len` samples at `sr` (at most [`MAX_ENVELOPE_POINTS`] points are used). The noise
    /// voices use it too.
    pub fn from_parts(
        gain: f64,
        fade_in: f64,
        fade_out: f64,
        envelope: impl Iterator<Item = (f64, f64)>,
        sr: f64,
        len: u64,
    ) -> Self {
        let frames = |s: f64| -> u64 {
            if s > 0.0 {
                (math::floor(s * sr) as u64).min(len)
            } else {
                0
            }
        };
        let mut points = [(0.0, 0.0); MAX_ENVELOPE_POINTS];
        let mut count = 0;
        for (d, s) in points.iter_mut().zip(envelope) {
            *d = (s.0.max(0.0) * sr, s.1);
            count += 1;
        }
        Self {
            gain,
            len,
            n_in: frames(fade_in),
            n_out: frames(fade_out),
            points,
            count,
        }
    }

    /// True when the envelope is a constant 1.
    pub fn is_unity(&self) -> bool {
        self.gain == 1.0 && self.n_in == 0 && self.n_out == 0 && self.count == 0
    }

    /// True when the envelope at buffer sample `i` is `gain` alone (no fade, no
    /// breakpoints): then [`NoiseEnvelope::at`] returns exactly `gain`.
    #[inline]
    pub fn is_gain_at(&self, i: u64) -> bool {
        self.count == 0 && i >= self.n_in && (self.n_out == 0 || i < self.len - self.n_out)
    }

    /// The envelope at buffer sample `i`.
    #[inline]
    pub fn at(&self, i: u64) -> f64 {
        let mut e = self.gain;
        if i < self.n_in {
            e *= if self.n_in > 1 {
                i as f64 / (self.n_in - 1) as f64
            } else {
                0.0
            };
        }
        let out_start = self.len - self.n_out;
        if self.n_out > 0 && i >= out_start {
            let j = i - out_start;
            e *= if self.n_out > 1 {
                1.0 - j as f64 / (self.n_out - 1) as f64
            } else {
                1.0
            };
        }
        if self.count > 0 {
            e *= interp(i as f64, &self.points[..self.count]);
        }
        e
    }
}

/// `np.interp(x, xp, fp)` for increasing `xp`.
fn interp(x: f64, pts: &[(f64, f64)]) -> f64 {
    let first = pts[0];
    if x <= first.0 {
        return first.1;
    }
    for w in pts.windows(2) {
        let (x0, y0) = w[0];
        let (x1, y1) = w[1];
        if x <= x1 {
            if x1 <= x0 {
                return y1;
            }
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0);
        }
    }
    pts[pts.len() - 1].1
}

/// The streaming background-noise layer of an engine.
#[derive(Clone, Debug)]
pub struct NoiseLayer {
    gen: SweptNoise,
    env: NoiseEnvelope,
    /// First track sample with noise (`floor(start_time·sr)`).
    start: u64,
    /// Generator length.
    gen_frames: u64,
    /// The host-rendered notched input played instead of the generator.
    input: Option<PcmRef>,
    /// Track length: the padded buffer ends there (TRACK_FORMAT.md §9.2 step 3), even
    /// when clips extend the output.
    len: u64,
    silent: bool,
}

impl NoiseLayer {
    /// The layer of `spec` for a track of `len` samples at `sr` (runs the generator's
    /// calibration pre-roll).
    pub fn new(spec: &NoiseSpec, sr: u32, len: u64) -> Self {
        let srf = sr as f64;
        let gen_frames = match spec.input {
            Some(p) => p.frames,
            None => math::floor(len as f64 / srf * srf) as u64,
        };
        let start = if spec.start_time > 0.0 {
            math::floor(spec.start_time * srf) as u64
        } else {
            0
        };
        // With a rendered input the generator is never run: build the cheapest one.
        let gen_len = if spec.input.is_some() {
            1
        } else {
            gen_frames.max(1)
        };
        Self {
            gen: SweptNoise::new(&spec.params, sr, gen_len),
            env: NoiseEnvelope::new(spec, srf, len),
            start,
            gen_frames,
            input: spec.input,
            len,
            silent: (spec.input_file && spec.input.is_none()) || spec.gain == 0.0,
        }
    }

    /// Positions the layer at track sample `t`.
    pub fn seek(&mut self, t: u64) {
        if self.input.is_none() {
            self.gen.seek(t.saturating_sub(self.start));
        }
    }

    /// The PCM arena frames the layer reads (`None`: generated noise).
    pub fn input(&self) -> Option<PcmRef> {
        self.input
    }

    /// Adds the layer to `out`, whose first frame is track sample `pos`.
    /// `gain` is the host's noise multiplier (1.0 = as written). A layer with a rendered
    /// input needs [`NoiseLayer::add_from`].
    pub fn add_to(&mut self, pos: u64, out: &mut [Frame], gain: f64) {
        self.add_from(pos, out, gain, &[]);
    }

    /// [`NoiseLayer::add_to`] with the track's PCM arena (where a rendered input lives;
    /// frames beyond the arena are silence — the engine checks the range when built).
    pub fn add_from(&mut self, pos: u64, out: &mut [Frame], gain: f64, pcm: &[Frame]) {
        if self.silent {
            return;
        }
        // The layer is added in f32, as the original adds its float32 noise array scaled
        // by a Python float to the float32 track (TRACK_FORMAT.md §8.2). The envelope is
        // evaluated in f64 and rounded once per sample; where neither a fade nor a
        // breakpoint covers the sample it is `gain` exactly, so that product is rounded
        // once per call instead (the same value: a soft-float f64 multiply per sample
        // costs more than the rest of the pink layer on the Cortex-M4F).
        let flat = (self.env.gain * gain) as f32;
        for (k, o) in out.iter_mut().enumerate() {
            let i = pos + k as u64;
            if i < self.start || i - self.start >= self.gen_frames || i >= self.len {
                continue;
            }
            let f = match self.input {
                Some(p) => pcm
                    .get((p.offset + (i - self.start)) as usize)
                    .copied()
                    .unwrap_or([0.0, 0.0]),
                None => self.gen.next_frame(),
            };
            let e = if self.env.is_gain_at(i) {
                flat
            } else {
                (self.env.at(i) * gain) as f32
            };
            o[0] += f[0] * e;
            o[1] += f[1] * e;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_fades_and_breakpoints() {
        let mut s = NoiseSpec {
            gain: 0.5,
            fade_in: 1.0,
            fade_out: 1.0,
            ..NoiseSpec::default()
        };
        let e = NoiseEnvelope::new(&s, 10.0, 100);
        assert_eq!(e.at(0), 0.0);
        assert!((e.at(9) - 0.5).abs() < 1e-12);
        assert!((e.at(50) - 0.5).abs() < 1e-12);
        assert!((e.at(90) - 0.5).abs() < 1e-12);
        assert_eq!(e.at(99), 0.0);
        s.fade_in = 0.0;
        s.fade_out = 0.0;
        s.envelope[0] = (0.0, 1.0);
        s.envelope[1] = (5.0, 0.0);
        s.envelope_len = 2;
        let e = NoiseEnvelope::new(&s, 10.0, 100);
        assert!((e.at(25) - 0.25).abs() < 1e-12);
        assert_eq!(e.at(80), 0.0);
    }

    #[test]
    fn start_time_delays_and_blocks_do_not_matter() {
        let mut s = NoiseSpec {
            start_time: 0.01,
            ..NoiseSpec::default()
        };
        s.params.sweep_count = 1;
        let mut a = NoiseLayer::new(&s, 44100, 20_000);
        let mut b = a.clone();
        let mut x = vec![[0.0f32; 2]; 20_000];
        let mut y = vec![[0.0f32; 2]; 20_000];
        a.add_to(0, &mut x, 1.0);
        let mut pos = 0;
        for c in y.chunks_mut(37) {
            b.add_to(pos, c, 1.0);
            pos += c.len() as u64;
        }
        assert_eq!(x, y);
        assert!(x[..441].iter().all(|f| *f == [0.0, 0.0]));
        assert!(x[441] != [0.0, 0.0]);
    }
}
