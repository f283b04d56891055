//! `spatial_angle_modulation_monaural_beat` and its transition: implements VOICES.md §10.
//!
//! As in the original, **no spatialisation happens**: the monaural beat of §3 (with its
//! own `monaural_*` AM) is averaged to mono, a second AM stage
//! `(1 - d/2) + (d/2)·sin(2π·f·t_i + φ)` (`d` clamped to [0, 2], on only where `d > 0`
//! and `f > 0`, `t_i = i/sr`) is applied in float32, both ears get `y·amp`, and if the
//! whole output's peak exceeds 1 it is divided by `peak/0.98` (float32). The spatial
//! keys (`spatialBeatFreq`, `spatialPhaseOffset`, `rotationDirection`, `pathRadius`,
//! `frame_dur_ms`, `overlap_factor`) are parsed and ignored: the original computes an
//! azimuth it never uses.
//!
//! Transition, reproduced exactly with its quirks: the monaural core runs as
//! `monaural_beat_stereo_amps_transition` with **default timing** (a linear α over the
//! whole step; the voice's `initial_offset`, `transition_duration` and
//! `transition_curve` are ignored); the second AM stage interpolates with
//! `α_i = i/(N-1)`; the output gain is `linspace(startAmp, endAmp, N)` (end included)
//! rounded to float32.
//!
//! The peak normalisation needs the whole output's peak before the first sample: when
//! the parameters allow a peak above 1 (`amp` > 1 with loud tones), `new` renders the
//! voice once to find it (O(N) at construction, no allocation); otherwise no pass is
//! made. Deviations: none known.

use super::common::StepClock;
use super::monaural_beat_stereo_amps::MonauralBeatStereoAmps;
use super::prim::{inc, lfo, rad, sin64};
use crate::model::{Pair, SamMonauralParams, TransitionSpec};
use entrain_dsp::Frame;

/// The original re-normalises an output whose peak exceeds 1 to this peak.
pub const RENORMALISED_PEAK: f32 = 0.98;

/// The second AM stage at one parameter set.
#[derive(Clone, Copy, Debug)]
struct SamAm {
    on: bool,
    half: f32,
    inc: u64,
    off: u64,
}

impl SamAm {
    fn new(depth: f64, freq: f64, phase: f64, dt: f64) -> Self {
        let d = depth.clamp(0.0, 2.0);
        SamAm {
            on: depth > 0.0 && freq > 0.0,
            half: (d / 2.0) as f32,
            inc: inc(freq, dt),
            off: rad(phase),
        }
    }

    #[inline]
    fn gain(&self, i: u64) -> f32 {
        if self.on {
            (1.0 - self.half) + self.half * sin64(lfo(self.inc, self.off, i))
        } else {
            1.0
        }
    }
}

fn constant(p: &Pair) -> bool {
    p.start == p.end
}

/// The SAM monaural-beat voice.
#[derive(Clone, Debug)]
pub struct SpatialAngleModulationMonauralBeat {
    p: SamMonauralParams,
    clock: StepClock,
    core: MonauralBeatStereoAmps,
    /// `1/sr`: the SAM stage's time step.
    dt_sr: f64,
    /// `1/(N-1)` (0 for N ≤ 1): the SAM stage's α step.
    inv_nm1: f64,
    /// The AM stage when its parameters do not move (static voice, or equal ends).
    am_fixed: Option<SamAm>,
    /// The gain when it does not move.
    amp_fixed: Option<f32>,
    /// `linspace` step of a moving gain.
    amp_step: f64,
    /// Divisor of the peak normalisation (1 when the peak is ≤ 1).
    div: f32,
    // state
    i: u64,
}

impl SpatialAngleModulationMonauralBeat {
    /// A voice over a step with `clock`; `transition` is `Some` for the `_transition`
    /// variant (whose timing keys the original ignores, see the module notes).
    pub fn new(
        p: &SamMonauralParams,
        transition: Option<&TransitionSpec>,
        clock: StepClock,
    ) -> Self {
        let is_t = transition.is_some();
        let full_step = TransitionSpec::default();
        let core =
            MonauralBeatStereoAmps::new(&p.core, if is_t { Some(&full_step) } else { None }, clock);
        let dt_sr = 1.0 / clock.sr;
        let n = clock.n;
        let am_fixed = if !is_t
            || (constant(&p.sam_am_depth)
                && constant(&p.sam_am_freq)
                && constant(&p.sam_am_phase_offset))
        {
            Some(SamAm::new(
                p.sam_am_depth.start,
                p.sam_am_freq.start,
                p.sam_am_phase_offset.start,
                dt_sr,
            ))
        } else {
            None
        };
        let amp_fixed = if !is_t || constant(&p.amp) || n <= 1 {
            Some(p.amp.start as f32)
        } else {
            None
        };
        let mut v = Self {
            p: *p,
            clock,
            core,
            dt_sr,
            inv_nm1: if n > 1 { 1.0 / (n - 1) as f64 } else { 0.0 },
            am_fixed,
            amp_fixed,
            amp_step: if n > 1 {
                (p.amp.end - p.amp.start) / (n - 1) as f64
            } else {
                0.0
            },
            div: 1.0,
            i: 0,
        };
        if v.peak_bound() > 1.0 {
            let mut peak = 0.0f32;
            for _ in 0..n {
                let f = v.next_frame();
                peak = peak.max(f[0].abs());
            }
            if peak > 1.0 {
                v.div = peak / RENORMALISED_PEAK;
            }
            v.reset();
        }
        v
    }

    /// An upper bound of |output| before the peak normalisation.
    fn peak_bound(&self) -> f32 {
        let c = &self.p.core;
        let ear = |e: usize| {
            (c.amp_lower[e].start.abs().max(c.amp_lower[e].end.abs())
                + c.amp_upper[e].start.abs().max(c.amp_upper[e].end.abs()))
            .min(1.0)
        };
        let mono = (ear(0) + ear(1)) / 2.0;
        (mono * self.p.amp.start.abs().max(self.p.amp.end.abs())) as f32
    }

    /// Back to the state right after `new`.
    pub fn reset(&mut self) {
        self.i = 0;
        self.core.reset();
    }

    /// The next frame.
    #[inline]
    pub fn next_frame(&mut self) -> Frame {
        let i = self.i;
        self.i += 1;
        let b = self.core.next_frame();
        let m = (b[0] + b[1]) * 0.5;
        let e = match &self.am_fixed {
            Some(am) => am.gain(i),
            None => {
                let a = i as f64 * self.inv_nm1;
                SamAm::new(
                    self.p.sam_am_depth.at(a),
                    self.p.sam_am_freq.at(a),
                    self.p.sam_am_phase_offset.at(a),
                    self.dt_sr,
                )
                .gain(i)
            }
        };
        let amp = match self.amp_fixed {
            Some(a) => a,
            None => {
                if i + 1 >= self.clock.n {
                    self.p.amp.end as f32
                } else {
                    (i as f64 * self.amp_step + self.p.amp.start) as f32
                }
            }
        };
        let y = (m * e) * amp;
        let y = if self.div != 1.0 { y / self.div } else { y };
        [y, y]
    }

    /// Renders `out.len()` frames (exactly the frames of repeated [`Self::next_frame`]).
    pub fn process(&mut self, out: &mut [Frame]) {
        for o in out.iter_mut() {
            *o = self.next_frame();
        }
    }

    /// Positions the voice at sample `i` (exact; see the monaural core's `seek`).
    pub fn seek(&mut self, i: u64) {
        let i = i.min(self.clock.n);
        self.core.seek(i);
        self.i = i;
    }
}

#[cfg(test)]
mod tests {
    use super::super::prim::testing::unit_checks;
    use super::*;
    use crate::model::MonauralParams;

    fn params(amp: Pair) -> SamMonauralParams {
        SamMonauralParams {
            core: MonauralParams {
                amp_lower: [Pair::new(0.5, 0.3), Pair::fixed(0.8)],
                amp_upper: [Pair::new(0.3, 0.5), Pair::fixed(0.8)],
                base_freq: Pair::new(200.0, 160.0),
                beat_freq: Pair::new(8.0, 4.0),
                am_depth: Pair::new(0.0, 0.6),
                am_freq: Pair::fixed(2.0),
                ..MonauralParams::default()
            },
            sam_am_depth: Pair::new(0.5, 0.0),
            sam_am_freq: Pair::new(1.0, 3.0),
            amp,
            ..SamMonauralParams::default()
        }
    }

    #[test]
    fn unit_contract_static_and_transition() {
        let clock = StepClock::new(0.5, 8000.0);
        let n = clock.n as usize;
        let t = TransitionSpec::default();
        for amp in [Pair::new(0.6, 0.9), Pair::fixed(0.7)] {
            let v = SpatialAngleModulationMonauralBeat::new(&params(amp), None, clock);
            unit_checks(
                &v,
                n,
                1.0,
                |v, o| v.process(o),
                |v| v.reset(),
                Some(|v, i| v.seek(i)),
            );
            let v = SpatialAngleModulationMonauralBeat::new(&params(amp), Some(&t), clock);
            unit_checks(
                &v,
                n,
                1.0,
                |v, o| v.process(o),
                |v| v.reset(),
                Some(|v, i| v.seek(i)),
            );
        }
    }

    #[test]
    fn loud_output_is_renormalised_to_098() {
        let clock = StepClock::new(0.5, 8000.0);
        let mut v = SpatialAngleModulationMonauralBeat::new(&params(Pair::fixed(3.0)), None, clock);
        let mut out = vec![[0.0f32; 2]; clock.n as usize];
        v.process(&mut out);
        let peak = out.iter().fold(0.0f32, |m, f| m.max(f[0].abs()));
        assert!((peak - 0.98).abs() < 1e-6, "{peak}");
    }
}
