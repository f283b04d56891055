//! Step placement and crossfades (TRACK_FORMAT.md §6.1–§6.2), sample-exact.
//!
//! Placement reproduces the original assembler: step `i` starts at
//! `s0 = floor(max(0, start)·sr)`; when it overlaps what was placed before, its first
//! `X = min(overlap, C)` samples crossfade with the buffer content (which is *replaced*
//! by the blend); when it does not overlap (a file saved with `crossfade_duration` 0, or
//! explicit starts with a gap) the "forced crossfade" pulls it back to
//! `lastEnd - X` with `X = min(C, N, lastEnd)`. The track ends at the largest end placed.
//!
//! The output at sample `t` is a fold over the placements active at `t`, in file order:
//! `acc = acc·g_out + s·g_in` inside a placement's crossfade window, `acc += s` after it.

use crate::model::TrackRef;
use entrain_dsp::crossfade::CrossfadeCurve;
use entrain_dsp::math;
use heapless::Vec;

/// Maximum number of placed steps the engine handles (twice the default track capacity).
pub const MAX_PLACEMENTS: usize = 128;

/// Render-time default crossfade when the track has none (TRACK_FORMAT.md §2: the
/// original uses 1.0 when rendering, 0.0 when computing start times).
pub const RENDER_DEFAULT_CROSSFADE_S: f64 = 1.0;

/// One step placed on the output timeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placement {
    /// Index of the step in the track (file order).
    pub step: u16,
    /// First output sample.
    pub start: u64,
    /// Samples of the step used (normally `N`).
    pub len: u64,
    /// Samples of the step (`N = floor(d·sr)`), the voices' length.
    pub n: u64,
    /// Crossfade window at the head of the placement (0 = plain addition).
    pub xfade: u64,
    /// Crossfade law of the window.
    pub curve: CrossfadeCurve,
}

impl Placement {
    /// One past the last output sample.
    pub fn end(&self) -> u64 {
        self.start + self.len
    }
}

/// Timeline errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimelineError {
    /// More placed steps than [`MAX_PLACEMENTS`].
    TooManySteps {
        /// Steps in the track.
        steps: usize,
    },
}

/// The placed steps and the total length.
#[derive(Clone, Debug)]
pub struct Timeline {
    /// Placements in file order.
    pub placements: Vec<Placement, MAX_PLACEMENTS>,
    /// Output length in samples (before clips extend it).
    pub total: u64,
}

impl Timeline {
    /// Places the steps of `track` at its sample rate.
    pub fn new(track: &TrackRef<'_>) -> Result<Self, TimelineError> {
        let sr = track.sample_rate as f64;
        let global_cf = track
            .crossfade_duration
            .unwrap_or(RENDER_DEFAULT_CROSSFADE_S)
            .max(0.0);
        let mut placements: Vec<Placement, MAX_PLACEMENTS> = Vec::new();
        // Estimated length E and buffer length floor(E·sr) + sr.
        let mut e: f64 = 0.0;
        for s in track.steps {
            e = e.max(s.start + s.duration);
        }
        if e <= 0.0 || track.steps.iter().all(|s| s.duration <= 0.0) {
            // The original returns one second of silence.
            return Ok(Self {
                placements,
                total: track.sample_rate as u64,
            });
        }
        let buffer_len = math::floor(e * sr) as u64 + track.sample_rate as u64;
        let mut last_end: u64 = 0;
        for (i, step) in track.steps.iter().enumerate() {
            if step.duration <= 0.0 {
                continue;
            }
            let prev = if i > 0 { track.steps.get(i - 1) } else { None };
            let cf = prev
                .and_then(|p| p.crossfade_duration)
                .unwrap_or(global_cf)
                .max(0.0);
            let curve = prev
                .and_then(|p| p.crossfade_curve)
                .unwrap_or(track.crossfade_curve);
            let c = math::floor(cf * sr) as u64;
            let s0 = math::floor(step.start.max(0.0) * sr) as u64;
            let n = math::floor(step.duration * sr) as u64;
            let s1 = s0 + n;
            let p1 = buffer_len.min(s1);
            let overlap = p1.min(last_end) as i128 - s0 as i128;
            let p = if i > 0 && overlap > 0 && c > 0 {
                let x = (overlap as u64).min(c);
                Placement {
                    step: i as u16,
                    start: s0,
                    len: p1.saturating_sub(s0),
                    n,
                    xfade: x,
                    curve,
                }
            } else if i > 0 && c > 0 {
                let x = c.min(n).min(last_end);
                if x == 0 {
                    Placement {
                        step: i as u16,
                        start: s0,
                        len: p1.saturating_sub(s0),
                        n,
                        xfade: 0,
                        curve,
                    }
                } else {
                    Placement {
                        step: i as u16,
                        start: last_end - x,
                        len: n,
                        n,
                        xfade: x,
                        curve,
                    }
                }
            } else {
                Placement {
                    step: i as u16,
                    start: s0,
                    len: p1.saturating_sub(s0),
                    n,
                    xfade: 0,
                    curve,
                }
            };
            last_end = last_end.max(p.end());
            placements
                .push(p)
                .map_err(|_| TimelineError::TooManySteps {
                    steps: track.steps.len(),
                })?;
        }
        Ok(Self {
            placements,
            total: last_end,
        })
    }

    /// Index of the placement covering output sample `t` last in file order, if any
    /// (the "current step" for status displays).
    pub fn current(&self, t: u64) -> Option<usize> {
        self.placements
            .iter()
            .rposition(|p| p.start <= t && t < p.end())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{StepSpec, Track};

    fn track(steps: &[(f64, f64)], cf: Option<f64>) -> Track<8, 8> {
        let mut t = Track::<8, 8> {
            crossfade_duration: cf,
            ..Default::default()
        };
        for &(start, d) in steps {
            t.steps
                .push(StepSpec {
                    duration: d,
                    start,
                    first_voice: 0,
                    voice_count: 0,
                    crossfade_duration: None,
                    crossfade_curve: None,
                })
                .unwrap();
        }
        t
    }

    #[test]
    fn two_ten_second_steps_overlap_by_one() {
        // TRACK_FORMAT.md §6.1: starts 0 and 9, 19.0 s.
        let t = track(&[(0.0, 10.0), (9.0, 10.0)], Some(1.0));
        let tl = Timeline::new(&t.view()).unwrap();
        assert_eq!(tl.total, 19 * 44100);
        assert_eq!(tl.placements[1].start, 9 * 44100);
        assert_eq!(tl.placements[1].xfade, 44100);
    }

    #[test]
    fn forced_crossfade_pulls_the_step_back() {
        // The reference case track__legacy_explicit_starts_gap: 9 s, not 10 s.
        let t = track(&[(0.0, 3.5), (4.0, 3.0), (6.5, 3.5)], Some(0.5));
        let tl = Timeline::new(&t.view()).unwrap();
        assert_eq!(tl.total, 9 * 44100);
        let p = &tl.placements[1];
        assert_eq!((p.start, p.xfade), ((3.5 * 44100.0) as u64 - 22050, 22050));
    }

    #[test]
    fn missing_crossfade_renders_with_one_second() {
        // Loaded with cf 0 (back to back), rendered with the 1 s default: forced crossfade.
        let t = track(&[(0.0, 10.0), (10.0, 10.0)], None);
        let tl = Timeline::new(&t.view()).unwrap();
        assert_eq!(tl.total, 19 * 44100);
    }

    #[test]
    fn empty_track_is_one_second_of_silence() {
        let t = track(&[], Some(1.0));
        let tl = Timeline::new(&t.view()).unwrap();
        assert_eq!(tl.total, 44100);
        assert!(tl.placements.is_empty());
    }
}
