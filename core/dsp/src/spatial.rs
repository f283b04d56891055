//! The per-voice spatializer of `binaural_beat` and `isochronic_tone`: implements
//! VOICES.md §15 (the original's `spatial_ambi2d.py` and `spatial_itd_stable.py`).
//!
//! * [`Trajectory`] / [`Path`]: the azimuth/distance trajectory of §15.2
//!   (`generate_azimuth_trajectory`), evaluated per sample from the absolute index (no
//!   arrays), with the original's segment rounding, truncation and padding.
//! * [`Spatializer`]: the mid/side wrapper (only the mid signal is spatialized, so the
//!   interaural frequency difference survives) around one of two decoders:
//!   - the ITD head model of §15.3 (default, exact): slew-limited and smoothed azimuth,
//!     a slewed interaural delay on one ear, ILD gains and distance roll-off;
//!   - the FOA cardioid decoder of §15.4: angle-aware smoothing, first-order ambisonic
//!     encode/decode with virtual cardioids, optional time-varying ITD/ILD and the
//!     broadband "HF roll".
//!
//! Numerics follow the original: states and gains in f64, delay lines and the
//! intermediate arrays the original keeps in float32 rounded to f32 at the same points.
//! The delay lines live in a ring borrowed from the caller (a fixed pool slot) of
//! [`RING`] frames; the original's ring of `M` samples is emulated exactly by lag
//! arithmetic ([`crate::delay`]).
//!
//! Interpolation (`spatialInterp`): the original's default 1 is its defective
//! "Lagrange3" kernel (it halves the level at integer delays and amplitude-modulates the
//! delayed ear); it is reproduced for compatibility. 0 is the original's mirrored linear
//! kernel; `"cubic"` selects a correct 4-point Lagrange read (not in the original).
//!
//! Not implemented: `spatialIldXoverHz` (read and ignored by the original too), the GUI's
//! `spatialUseItdIld` key (never read by the original; the voice reads `spatialUseIld`).

use crate::delay::{py_mod, read_compat, read_cubic, taps, Interp};
use crate::math;
use crate::Frame;

/// Maximum number of trajectory segments of one voice. The shipped tracks use at most
/// three; more is a located parse error, never a silent truncation.
pub const MAX_SEGMENTS: usize = 8;

/// Frames of delay-line ring a spatializer needs (power of two). The original's ring is
/// `ceil(r/343·|itd_scale|·sr) + 8` samples; the parser limits `r·|itd_scale|` so that it
/// fits at the track's rate ([`max_ring_for`]).
pub const RING: usize = 512;

/// Speed of sound the original uses, m/s.
const C_SOUND: f64 = 343.0;

/// `1/√2` as the original computes it (`1.0/np.sqrt(2.0)`).
const INV_SQRT2: f64 = 0.707_106_781_186_547_5;

/// The decoder (`spatialDecoder`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Decoder {
    /// `"itd_head"` (and anything that is not `"foa_cardioid"`): §15.3.
    #[default]
    ItdHead,
    /// `"foa_cardioid"` (case-insensitive): §15.4.
    FoaCardioid,
}

/// How a segment moves (`mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SegmentMode {
    /// `"rotate"` (the default when `mode` is absent): constant angular speed.
    #[default]
    Rotate,
    /// `"rotating_arc"`: an arc swept back and forth while the arc rotates.
    RotatingArc,
    /// Any other string (`"oscillate"`): a sine around `center_deg`.
    Oscillate,
}

/// One trajectory segment as written in `spatialTrajectory` (stored in f32).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Segment {
    /// `mode`.
    pub mode: SegmentMode,
    /// `start_deg` (default 0).
    pub start_deg: f32,
    /// `center_deg` (default `start_deg`).
    pub center_deg: f32,
    /// `extent_deg` (default 180).
    pub extent_deg: f32,
    /// `speed_deg_per_s` (rotate; default `extent/seconds`).
    pub speed_deg_per_s: Option<f32>,
    /// `period_s` (≤ 0 or absent: the segment's length).
    pub period_s: Option<f32>,
    /// `rotate_freq_hz` (rotating arc; default 0).
    pub rotate_freq_hz: f32,
    /// `easing == "sine"`.
    pub easing_sine: bool,
    /// `distance_m`: `[d0, d1]`, linear over the segment (a constant gives `d0 == d1`).
    pub distance_m: [f32; 2],
    /// `seconds` (the segment's length; ≤ 0 skips it). `None`: the step's duration (the
    /// built-in default trajectory).
    pub seconds: Option<f32>,
}

impl Default for Segment {
    fn default() -> Self {
        Self {
            mode: SegmentMode::Rotate,
            start_deg: 0.0,
            center_deg: 0.0,
            extent_deg: 180.0,
            speed_deg_per_s: None,
            period_s: None,
            rotate_freq_hz: 0.0,
            easing_sine: false,
            distance_m: [1.0, 1.0],
            seconds: Some(0.0),
        }
    }
}

/// `spatialTrajectory`: up to [`MAX_SEGMENTS`] segments (0 = a static source at 0°, 1 m,
/// as the GUI's `[]` gives).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Trajectory {
    /// Segments; only the first `len` are used.
    pub segments: [Segment; MAX_SEGMENTS],
    /// Number of segments.
    pub len: u8,
}

impl Trajectory {
    /// No segments: a static source at 0°, 1 m.
    pub const fn empty() -> Self {
        Self {
            segments: [Segment {
                mode: SegmentMode::Rotate,
                start_deg: 0.0,
                center_deg: 0.0,
                extent_deg: 180.0,
                speed_deg_per_s: None,
                period_s: None,
                rotate_freq_hz: 0.0,
                easing_sine: false,
                distance_m: [1.0, 1.0],
                seconds: Some(0.0),
            }; MAX_SEGMENTS],
            len: 0,
        }
    }

    /// The built-in default (`spatialTrajectory` absent): one oscillate segment, centre
    /// 0°, extent 75°, period 20 s, distance 1 → 1.4 m over the whole step.
    pub fn default_oscillate() -> Self {
        let mut t = Self::empty();
        t.segments[0] = Segment {
            mode: SegmentMode::Oscillate,
            start_deg: 0.0,
            center_deg: 0.0,
            extent_deg: 75.0,
            speed_deg_per_s: None,
            period_s: Some(20.0),
            rotate_freq_hz: 0.0,
            easing_sine: false,
            distance_m: [1.0, 1.4],
            seconds: None,
        };
        t.len = 1;
        t
    }

    /// Appends a segment; `Err` (with the segment) when [`MAX_SEGMENTS`] are already held.
    pub fn push(&mut self, s: Segment) -> Result<(), Segment> {
        let n = self.len as usize;
        if n >= MAX_SEGMENTS {
            return Err(s);
        }
        self.segments[n] = s;
        self.len += 1;
        Ok(())
    }
}

/// Spatializer parameters (§15.1), stored in f32.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Config {
    /// `spatialDecoder`.
    pub decoder: Decoder,
    /// `spatialUseIld` (int ≠ 0): ILD on the ITD head; ITD+ILD stage of the FOA decoder.
    pub use_ild: bool,
    /// `spatialEarAngleDeg` (FOA virtual cardioid angle).
    pub ear_angle_deg: f32,
    /// `spatialHeadRadiusM`.
    pub head_radius_m: f32,
    /// `spatialItdScale`.
    pub itd_scale: f32,
    /// `spatialIldMaxDb`.
    pub ild_max_db: f32,
    /// `spatialRefDistanceM`.
    pub ref_distance_m: f32,
    /// `spatialRolloff`.
    pub rolloff: f32,
    /// `spatialHfRollDbPerM` (FOA only).
    pub hf_roll_db_per_m: f32,
    /// `spatialDezipperThetaMs`.
    pub dz_theta_ms: f32,
    /// `spatialDezipperDistMs`.
    pub dz_dist_ms: f32,
    /// `spatialMinDistanceM` (ITD head only; the FOA path uses 0.1 m).
    pub min_distance_m: f32,
    /// `spatialMaxDegPerS` (ITD head slew limit).
    pub max_deg_per_s: f32,
    /// `spatialMaxDelayStepSamples` (ITD head delay slew).
    pub max_delay_step_samples: f32,
    /// `spatialInterp` (ITD head; the FOA ITD stage always uses the mirrored linear read).
    pub interp: Interp,
    /// `spatialTrajectory`.
    pub trajectory: Trajectory,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            decoder: Decoder::ItdHead,
            use_ild: true,
            ear_angle_deg: 30.0,
            head_radius_m: 0.0875,
            itd_scale: 1.0,
            ild_max_db: 1.5,
            ref_distance_m: 1.0,
            rolloff: 1.0,
            hf_roll_db_per_m: 0.0,
            dz_theta_ms: 60.0,
            dz_dist_ms: 80.0,
            min_distance_m: 0.1,
            max_deg_per_s: 90.0,
            max_delay_step_samples: 0.02,
            interp: Interp::Lagrange3,
            trajectory: Trajectory::default_oscillate(),
        }
    }
}

/// The original's ring length `M` for a decoder at `sr` (both decoders):
/// ITD head `max(12, ceil(r/343·|s|·sr) + 8)`, FOA `max(8, ceil(r/343·s·sr) + 4)`.
pub fn ring_len(cfg: &Config, sr: f64) -> usize {
    let r = cfg.head_radius_m as f64;
    let s = cfg.itd_scale as f64;
    match cfg.decoder {
        Decoder::ItdHead => {
            let m = math::ceil((r / C_SOUND) * math::fabs(s) * sr);
            (m.max(0.0) as usize + 8).max(12)
        }
        Decoder::FoaCardioid => {
            let m = math::ceil((r / C_SOUND) * s * sr) as i64;
            (m + 4).max(8) as usize
        }
    }
}

/// Largest `head_radius_m · |itd_scale|` (metres) whose ring fits in [`RING`] at `sr`.
pub fn max_ring_for(sr: f64) -> f64 {
    (RING as f64 - 10.0) * C_SOUND / sr
}

/// One-pole coefficient of the original (`exp(-1/(fs·τ))`, clamped to [0, 0.999999];
/// 0 for τ ≤ 0).
pub fn one_pole(tau_ms: f64, fs: f64) -> f64 {
    if tau_ms <= 0.0 {
        return 0.0;
    }
    let a = math::exp(-1.0 / (fs * (tau_ms * 1e-3)));
    a.clamp(0.0, 0.999_999)
}

/// A segment resolved for a sample rate (f64 constants of the original's formulas).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Resolved {
    start_n: u64,
    len: u64,
    mode: SegmentMode,
    start: f64,
    center: f64,
    extent: f64,
    sec: f64,
    step: f64,
    speed: f64,
    period: f64,
    omega: f64,
    rot: f64,
    easing: bool,
    th0: f64,
    d0: f64,
    d1: f64,
}

impl Resolved {
    fn at(&self, k: u64) -> (f64, f64) {
        let t = k as f64 * self.step;
        let th = self.raw_theta(t);
        let th = if self.easing {
            let u = math::sin(math::PI * (t / self.sec - 0.5)) * 0.5 + 0.5;
            self.th0 + (th - self.th0) * u
        } else {
            th
        };
        let frac = if self.sec > 0.0 { t / self.sec } else { 0.0 };
        (th, self.d0 + (self.d1 - self.d0) * frac)
    }

    fn raw_theta(&self, t: f64) -> f64 {
        match self.mode {
            SegmentMode::Rotate => self.start + self.speed * t,
            SegmentMode::RotatingArc => {
                let phase = 2.0 * math::PI * (t / self.period);
                let prog = (1.0 - math::cos(phase)) / 2.0;
                let rotation = self.rot * t;
                let arc_start = self.start + rotation;
                let arc_end = arc_start + self.extent;
                arc_start + prog * (arc_end - arc_start)
            }
            SegmentMode::Oscillate => self.center + self.extent * math::sin(self.omega * t),
        }
    }
}

/// A [`Trajectory`] resolved for a step: per-sample azimuth (degrees) and distance (m)
/// from the absolute sample index, exactly as `generate_azimuth_trajectory` fills its
/// arrays (segment lengths `round(seconds·sr)`, local time `linspace(0, seconds, Ns,
/// endpoint=False)`, padding with the last value).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Path {
    seg: [Resolved; MAX_SEGMENTS],
    len: usize,
    /// Samples covered by segments (the rest repeats `tail`).
    end: u64,
    tail: (f64, f64),
}

impl Path {
    /// Resolves `traj` for a step of `duration` seconds at `sr`.
    pub fn new(traj: &Trajectory, duration: f64, sr: f64) -> Self {
        let blank = Resolved {
            start_n: 0,
            len: 0,
            mode: SegmentMode::Rotate,
            start: 0.0,
            center: 0.0,
            extent: 0.0,
            sec: 0.0,
            step: 0.0,
            speed: 0.0,
            period: 1.0,
            omega: 0.0,
            rot: 0.0,
            easing: false,
            th0: 0.0,
            d0: 1.0,
            d1: 1.0,
        };
        let mut p = Path {
            seg: [blank; MAX_SEGMENTS],
            len: 0,
            end: 0,
            tail: (0.0, 1.0),
        };
        let total = {
            let t = math::rint(duration * sr);
            if t > 0.0 {
                t as u64
            } else {
                0
            }
        };
        let mut idx = 0u64;
        for s in traj.segments.iter().take(traj.len as usize) {
            if idx >= total {
                break;
            }
            let sec = match s.seconds {
                Some(x) => x as f64,
                None => duration,
            };
            let nf = math::rint(sec * sr);
            if nf <= 0.0 {
                continue;
            }
            let n = nf as u64;
            let start = s.start_deg as f64;
            let extent = s.extent_deg as f64;
            let speed = match s.speed_deg_per_s {
                Some(v) => v as f64,
                None => {
                    let sign = if extent > 0.0 {
                        1.0
                    } else if extent < 0.0 {
                        -1.0
                    } else {
                        0.0
                    };
                    sign * (math::fabs(extent) / sec.max(1e-9))
                }
            };
            let period = match s.period_s {
                Some(v) if v > 0.0 => v as f64,
                _ => sec,
            };
            let mut r = Resolved {
                start_n: idx,
                len: n.min(total - idx),
                mode: s.mode,
                start,
                center: s.center_deg as f64,
                extent,
                sec,
                step: sec / n as f64,
                speed,
                period,
                omega: 2.0 * math::PI / period,
                rot: 360.0 * s.rotate_freq_hz as f64,
                easing: s.easing_sine,
                th0: 0.0,
                d0: s.distance_m[0] as f64,
                d1: s.distance_m[1] as f64,
            };
            r.th0 = r.raw_theta(0.0);
            idx += r.len;
            p.seg[p.len] = r;
            p.len += 1;
        }
        p.end = idx;
        if p.len > 0 {
            let last = p.seg[p.len - 1];
            p.tail = last.at(last.len - 1);
        }
        p
    }

    /// Azimuth (degrees) and distance (m) at sample `n`.
    #[inline]
    pub fn at(&self, n: u64) -> (f64, f64) {
        if n >= self.end {
            return self.tail;
        }
        for s in self.seg[..self.len].iter() {
            if n < s.start_n + s.len {
                return s.at(n - s.start_n);
            }
        }
        self.tail
    }
}

/// The running state of the ITD head model (§15.3).
#[derive(Clone, Copy, Debug, PartialEq)]
struct ItdState {
    prev_th: f64,
    th: f64,
    di: f64,
    d_samples: f64,
    side: i8,
    g: [f64; 2],
}

/// The running state of the FOA decoder (§15.4).
#[derive(Clone, Copy, Debug, PartialEq)]
struct FoaState {
    th: f64,
    di: f64,
    d: [f64; 2],
    g: [f64; 2],
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum State {
    Itd(ItdState),
    Foa(FoaState),
}

/// The mid-only spatializer of one voice (§15), over a ring borrowed per call.
///
/// Unit contract: `new` builds it ready to run (the caller zeroes its ring with
/// [`Spatializer::clear_ring`]); `reset` returns to that state; [`Spatializer::next_frame`]
/// is the per-sample call. The output depends only on the input and the absolute sample
/// index, not on how calls are grouped.
#[derive(Clone, Debug)]
pub struct Spatializer {
    cfg: Config,
    path: Path,
    sr: f64,
    m: usize,
    a_th: f64,
    a_di: f64,
    max_step: f64,
    r_over_c: f64,
    itd: f64,
    ear: (f64, f64),
    n: u64,
    state: State,
}

impl Spatializer {
    /// A spatializer for a step of `duration` seconds at `sr`.
    pub fn new(cfg: &Config, duration: f64, sr: f64) -> Self {
        let path = Path::new(&cfg.trajectory, duration, sr);
        let ear = cfg.ear_angle_deg as f64 * math::PI / 180.0;
        let mut s = Self {
            cfg: *cfg,
            path,
            sr,
            m: ring_len(cfg, sr).min(RING),
            a_th: one_pole(cfg.dz_theta_ms as f64, sr),
            a_di: one_pole(cfg.dz_dist_ms as f64, sr),
            max_step: cfg.max_deg_per_s as f64 / sr,
            r_over_c: cfg.head_radius_m as f64 / C_SOUND,
            itd: cfg.itd_scale as f64,
            ear: (math::cos(ear), math::sin(ear)),
            n: 0,
            state: State::Itd(ItdState {
                prev_th: 0.0,
                th: 0.0,
                di: 0.0,
                d_samples: 0.0,
                side: 0,
                g: [1.0; 2],
            }),
        };
        s.reset();
        s
    }

    /// Back to the state right after `new` (the ring must be cleared too).
    pub fn reset(&mut self) {
        self.n = 0;
        let (th0, d0) = self.path.at(0);
        self.state = match self.cfg.decoder {
            Decoder::ItdHead => {
                let md = self.cfg.min_distance_m as f64;
                State::Itd(ItdState {
                    prev_th: th0,
                    th: th0,
                    di: if d0 > md { d0 } else { md },
                    d_samples: 0.0,
                    side: 0,
                    g: [1.0; 2],
                })
            }
            Decoder::FoaCardioid => State::Foa(FoaState {
                th: th0 * math::PI / 180.0,
                di: d0.max(0.1),
                d: [0.0; 2],
                g: [1.0; 2],
            }),
        };
    }

    /// Zeroes the part of `ring` this spatializer uses.
    pub fn clear_ring(ring: &mut [[f32; 2]]) {
        for f in ring.iter_mut().take(RING) {
            *f = [0.0; 2];
        }
    }

    /// The azimuth path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// One stereo frame through the mid/side spatializer. `ring` must hold at least
    /// [`RING`] frames (shorter rings return the input unchanged).
    #[inline]
    pub fn next_frame(&mut self, x: Frame, ring: &mut [[f32; 2]]) -> Frame {
        if ring.len() < RING {
            return x;
        }
        let (l, r) = (x[0], x[1]);
        let mid = ((l + r) as f64 * INV_SQRT2) as f32;
        let side = ((l - r) as f64 * INV_SQRT2) as f32;
        let [ml, mr] = match self.state {
            State::Itd(_) => self.itd_head(mid, ring),
            State::Foa(_) => self.foa(mid, ring),
        };
        self.n += 1;
        [
            ((ml + side) as f64 * INV_SQRT2) as f32,
            ((mr - side) as f64 * INV_SQRT2) as f32,
        ]
    }

    /// Renders a block in place (bit-identical to repeated [`Self::next_frame`]).
    pub fn process(&mut self, io: &mut [Frame], ring: &mut [[f32; 2]]) {
        for f in io.iter_mut() {
            *f = self.next_frame(*f, ring);
        }
    }

    fn itd_head(&mut self, x: f32, ring: &mut [[f32; 2]]) -> [f32; 2] {
        let n = self.n;
        let (th_in, d_in) = self.path.at(n);
        let cfg = self.cfg;
        let State::Itd(mut st) = self.state else {
            return [x, x];
        };
        // 1. slew limit (the first sample is taken as is)
        let th_lim = if n == 0 {
            st.prev_th
        } else {
            let mut d = th_in - st.prev_th;
            while d >= 180.0 {
                d -= 360.0;
            }
            while d < -180.0 {
                d += 360.0;
            }
            let unw = st.prev_th + d;
            let mut step = unw - st.prev_th;
            if step > self.max_step {
                step = self.max_step;
            }
            if step < -self.max_step {
                step = -self.max_step;
            }
            let cur = st.prev_th + step;
            st.prev_th = cur;
            cur
        };
        // 2. smoothing
        let md = cfg.min_distance_m as f64;
        let a = self.a_th;
        st.th = a * st.th + (1.0 - a) * th_lim;
        let dt = if d_in > md { d_in } else { md };
        st.di = self.a_di * st.di + (1.0 - self.a_di) * dt;
        let th_rad = st.th * math::PI / 180.0;
        // 4. delay and gains
        let s = math::sin(th_rad);
        let tau = self.r_over_c * s * self.itd;
        let d_target = math::fabs(tau) * self.sr;
        let side_t: i8 = if tau > 0.0 {
            1
        } else if tau < 0.0 {
            -1
        } else {
            0
        };
        let mds = cfg.max_delay_step_samples as f64;
        let mut dd = d_target - st.d_samples;
        if dd > mds {
            dd = mds;
        }
        if dd < -mds {
            dd = -mds;
        }
        st.d_samples += dd;
        if st.d_samples > 1e-6 {
            st.side = side_t;
        } else {
            st.side = 0;
            st.d_samples = 0.0;
        }
        let gain = if st.di < cfg.ref_distance_m as f64 {
            1.0
        } else {
            math::pow(cfg.ref_distance_m as f64 / st.di, cfg.rolloff as f64)
        };
        let m = self.m;
        let w = (n % m as u64) as usize;
        let base = (w + m - 1) % m;
        let mask = RING - 1;
        // Ring index q of the original holds x[n - 1 - ((base - q) mod M)]: lag from w - 1.
        let read = |side_on: bool, ch: usize| -> f64 {
            let get = |lag_from_w: usize| -> f64 {
                // lag_from_w = (w - q) mod M ≥ 1 here (reads never touch w)
                let idx = n.wrapping_sub(lag_from_w as u64);
                ring[(idx as usize) & mask][ch] as f64
            };
            if !side_on {
                // integer position `base`: taps lag 1, 2, 3, 4 from w
                return match cfg.interp {
                    Interp::Cubic => get(1),
                    i => read_compat(i, [1, 2, 3, 4], 0.0, get),
                };
            }
            match cfg.interp {
                Interp::Cubic => read_cubic(st.d_samples, 0, |k| get(k + 1)),
                i => {
                    let ri = py_mod(base as f64 - st.d_samples, m as f64);
                    let (lags, f) = taps(ri, w, m);
                    read_compat(i, lags, f, get)
                }
            }
        };
        let y_l = read(st.side == 1, 0);
        let y_r = read(st.side == -1, 0);
        if cfg.use_ild {
            let ild = cfg.ild_max_db as f64 * 0.5 * s;
            let gl_t = math::pow(10.0, ild / 20.0);
            let gr_t = math::pow(10.0, -ild / 20.0);
            st.g[0] = a * st.g[0] + (1.0 - a) * gl_t;
            st.g[1] = a * st.g[1] + (1.0 - a) * gr_t;
        }
        ring[(n as usize) & mask][0] = x;
        self.state = State::Itd(st);
        [(y_l * st.g[0] * gain) as f32, (y_r * st.g[1] * gain) as f32]
    }

    fn foa(&mut self, x: f32, ring: &mut [[f32; 2]]) -> [f32; 2] {
        let n = self.n;
        let (th_in, d_in) = self.path.at(n);
        let cfg = self.cfg;
        let State::Foa(mut st) = self.state else {
            return [x, x];
        };
        let a = self.a_th;
        let t_t = th_in * math::PI / 180.0;
        let d_t = d_in.max(0.1);
        let diff = math::atan2(math::sin(t_t - st.th), math::cos(t_t - st.th));
        st.th += (1.0 - a) * diff;
        st.di = self.a_di * st.di + (1.0 - self.a_di) * d_t;
        let dist = st.di.max(0.1);
        let refd = cfg.ref_distance_m as f64;
        let g = math::pow(refd / refd.max(dist), cfg.rolloff as f64) as f32;
        let xs = x * g;
        let (c, s) = (math::cos(st.th), math::sin(st.th));
        let w_ch = (INV_SQRT2 * xs as f64) as f32;
        let x_ch = (xs as f64 * c) as f32;
        let y_ch = (xs as f64 * s) as f32;
        let w2 = w_ch as f64 * INV_SQRT2;
        let (ca, sa) = self.ear;
        let lc = (w2 + (x_ch as f64 * ca + y_ch as f64 * sa)) as f32;
        let rc = (w2 + (x_ch as f64 * ca - y_ch as f64 * sa)) as f32;
        let (mut l, mut r) = (lc, rc);
        if cfg.use_ild {
            // write, then read (lag 0 = this sample)
            let mask = RING - 1;
            ring[(n as usize) & mask] = [lc, rc];
            let sth = math::sin(st.th);
            let tau = self.r_over_c * sth * self.itd;
            let dl_t = tau.max(0.0) * self.sr;
            let dr_t = (-tau).max(0.0) * self.sr;
            if n == 0 {
                st.d = [dl_t, dr_t];
            } else {
                st.d[0] = a * st.d[0] + (1.0 - a) * dl_t;
                st.d[1] = a * st.d[1] + (1.0 - a) * dr_t;
            }
            let m = self.m;
            let w = (n % m as u64) as usize;
            let mut y = [0.0f64; 2];
            for (ch, yc) in y.iter_mut().enumerate() {
                let get = |lag: usize| -> f64 {
                    let idx = n.wrapping_sub(lag as u64);
                    ring[(idx as usize) & mask][ch] as f64
                };
                let ri = py_mod(w as f64 - st.d[ch], m as f64);
                let (lags, f) = taps(ri, w, m);
                *yc = read_compat(Interp::Linear, lags, f, get);
            }
            let g_near = cfg.ild_max_db as f64 * 0.5 * sth;
            let gl_t = math::pow(10.0, g_near / 20.0);
            let gr_t = math::pow(10.0, -g_near / 20.0);
            st.g[0] = a * st.g[0] + (1.0 - a) * gl_t;
            st.g[1] = a * st.g[1] + (1.0 - a) * gr_t;
            l = (y[0] * st.g[0]) as f32;
            r = (y[1] * st.g[1]) as f32;
        }
        if cfg.hf_roll_db_per_m != 0.0 {
            let att_db = cfg.hf_roll_db_per_m as f64 * (st.di - refd);
            let att = math::pow(10.0, -att_db.max(0.0) / 20.0);
            l = (l as f64 * att) as f32;
            r = (r as f64 * att) as f32;
        }
        self.state = State::Foa(st);
        [l, r]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_trajectory_is_static_front() {
        let p = Path::new(&Trajectory::empty(), 1.0, 1000.0);
        assert_eq!(p.at(0), (0.0, 1.0));
        assert_eq!(p.at(999), (0.0, 1.0));
    }

    #[test]
    fn segments_concatenate_and_pad() {
        let mut t = Trajectory::empty();
        t.push(Segment {
            mode: SegmentMode::Rotate,
            start_deg: 10.0,
            extent_deg: 90.0,
            seconds: Some(0.5),
            ..Segment::default()
        })
        .unwrap();
        t.push(Segment {
            mode: SegmentMode::Oscillate,
            center_deg: -20.0,
            extent_deg: 10.0,
            period_s: Some(0.1),
            distance_m: [2.0, 3.0],
            seconds: Some(0.25),
            ..Segment::default()
        })
        .unwrap();
        let p = Path::new(&t, 1.0, 1000.0);
        assert_eq!(p.at(0).0, 10.0);
        assert!((p.at(250).0 - (10.0 + 180.0 * 0.25)).abs() < 1e-12);
        assert_eq!(p.at(500), (-20.0, 2.0));
        let last = p.at(749);
        assert_eq!(p.at(750), last);
        assert_eq!(p.at(999), last);
    }

    #[test]
    fn itd_head_bounded_and_reset() {
        let cfg = Config::default();
        let mut ring = vec![[0.0f32; 2]; RING];
        let mut s = Spatializer::new(&cfg, 2.0, 8000.0);
        let run = |s: &mut Spatializer, ring: &mut Vec<[f32; 2]>| -> Vec<Frame> {
            (0..16000)
                .map(|i| {
                    let v = (i as f32 * 0.05).sin() * 0.5;
                    s.next_frame([v, v * 0.8], ring)
                })
                .collect()
        };
        let a = run(&mut s, &mut ring);
        assert!(a.iter().all(|f| f[0].abs() <= 1.0 && f[1].abs() <= 1.0));
        s.reset();
        Spatializer::clear_ring(&mut ring);
        let b = run(&mut s, &mut ring);
        assert!(a == b);
    }
}
