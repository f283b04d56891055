//! IIR filters: biquad sections, Butterworth designs, and a streaming zero-phase
//! (forward-backward) filter with a bounded look-ahead.
//!
//! The original applies SciPy `filtfilt`/`sosfiltfilt` to whole buffers (isochronic
//! harmonic suppression, the qam/hybrid output filters, the noise pre-filters; VOICES.md
//! §0.1). [`ZeroPhase`] reproduces that in constant memory:
//!
//! * the forward pass runs causally over the same odd extension the original uses
//!   (`padlen` samples mirrored around the first and last sample) starting from the same
//!   steady-state initial conditions (`lfilter_zi`/`sosfilt_zi` times the first value);
//! * the backward pass needs the future: it runs over chunks of `C` samples plus a
//!   look-ahead of `L` samples, started from the steady state of the last look-ahead
//!   sample. At the real end of the signal the look-ahead reaches the end of the odd
//!   extension and the original's end condition is reproduced exactly.
//!
//! The truncation error decays like the slowest pole: `L` is chosen from the pole radius so
//! that `r^L ≤ 1e-7` whenever the capacity allows (a 4th-order low-pass at 150 Hz and
//! 44.1 kHz needs ~2,000 samples). Filters are f32 direct form II transposed on every
//! target (the zero-phase passes with a shorter critical path, [`Sos::run`]); the design
//! is done once in f64.

use crate::math;
use crate::Frame;
use core::ops::Range;

/// Maximum number of second-order sections in a cascade (order ≤ 8).
pub const MAX_SECTIONS: usize = 4;

/// One second-order section, direct form II transposed, normalised (`a0 = 1`).
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Biquad {
    /// Feed-forward coefficients.
    pub b: [f32; 3],
    /// Feedback coefficients `a1, a2`.
    pub a: [f32; 2],
}

impl Biquad {
    /// Gain at DC: `(b0 + b1 + b2) / (1 + a1 + a2)`.
    pub fn dc_gain(&self) -> f32 {
        let den = 1.0 + self.a[0] + self.a[1];
        if den == 0.0 {
            0.0
        } else {
            (self.b[0] + self.b[1] + self.b[2]) / den
        }
    }

    /// Steady-state DF2T state for a constant input `u` (SciPy `sosfilt_zi`·u), and the
    /// constant output it produces.
    pub fn steady_state(&self, u: f32) -> ([f32; 2], f32) {
        let y = self.dc_gain() * u;
        let s2 = self.b[2] * u - self.a[1] * y;
        let s1 = self.b[1] * u - self.a[0] * y + s2;
        ([s1, s2], y)
    }

    /// One sample through the section with state `s`.
    #[inline]
    pub fn tick(&self, s: &mut [f32; 2], x: f32) -> f32 {
        let y = self.b[0] * x + s[0];
        s[0] = math::flush_denormal(self.b[1] * x - self.a[0] * y + s[1]);
        s[1] = math::flush_denormal(self.b[2] * x - self.a[1] * y);
        y
    }
}

/// The response type of a Butterworth design.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Band {
    /// Low-pass.
    Low,
    /// High-pass.
    High,
}

/// A cascade of up to [`MAX_SECTIONS`] biquads (a fixed-capacity SOS matrix).
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Sos {
    /// Sections, the first `len` used.
    pub sections: [Biquad; MAX_SECTIONS],
    /// Number of sections in use.
    pub len: usize,
}

impl Sos {
    /// No sections (passes nothing through; the placeholder of idle filters).
    pub const EMPTY: Sos = Sos {
        sections: [Biquad {
            b: [0.0; 3],
            a: [0.0; 2],
        }; MAX_SECTIONS],
        len: 0,
    };

    /// Butterworth filter of even `order` (2, 4, 6, 8) with cut-off `fc` Hz at `sr`
    /// (bilinear transform with pre-warping, as SciPy `butter`). The cut-off is clamped
    /// to `(0, sr/2)`.
    pub fn butterworth(order: usize, band: Band, fc: f64, sr: f64) -> Self {
        let order = order.clamp(2, 2 * MAX_SECTIONS) & !1;
        let fc = fc.clamp(1e-6 * sr, 0.499_999 * sr);
        let k = math::tan(math::PI * fc / sr);
        let k2 = k * k;
        let mut s = Sos::default();
        let pairs = order / 2;
        for i in 0..pairs {
            // Pole pair angle of the analog prototype; Q = 1/(2 sin θ).
            let theta = math::PI * (2 * i + 1) as f64 / (2 * order) as f64;
            let q_inv = 2.0 * math::sin(theta);
            let norm = 1.0 / (1.0 + k * q_inv + k2);
            let a1 = 2.0 * (k2 - 1.0) * norm;
            let a2 = (1.0 - k * q_inv + k2) * norm;
            let (b0, b1) = match band {
                Band::Low => (k2 * norm, 2.0 * k2 * norm),
                Band::High => (norm, -2.0 * norm),
            };
            s.sections[i] = Biquad {
                b: [b0 as f32, b1 as f32, b0 as f32],
                a: [a1 as f32, a2 as f32],
            };
            // Slowest decay of the section: |pole|² = a2.
            let _ = a2;
        }
        s.len = pairs;
        s
    }

    /// The largest pole radius of the cascade (for sizing look-ahead).
    pub fn max_pole_radius(&self) -> f64 {
        let mut r: f64 = 0.0;
        for sec in &self.sections[..self.len] {
            let a2 = sec.a[1] as f64;
            let a1 = sec.a[0] as f64;
            let disc = a1 * a1 - 4.0 * a2;
            let rad = if disc < 0.0 {
                math::sqrt(a2.max(0.0))
            } else {
                let sq = math::sqrt(disc);
                (math::fabs((-a1 + sq) / 2.0)).max(math::fabs((-a1 - sq) / 2.0))
            };
            r = r.max(rad);
        }
        r
    }

    /// Steady-state states of the whole cascade for a constant input `u`.
    pub fn steady_state(&self, u: f32) -> [[f32; 2]; MAX_SECTIONS] {
        let mut st = [[0.0; 2]; MAX_SECTIONS];
        let mut x = u;
        for (i, sec) in self.sections[..self.len].iter().enumerate() {
            let (s, y) = sec.steady_state(x);
            st[i] = s;
            x = y;
        }
        st
    }

    /// Steady-state states of the cascade for a constant stereo input, in the two-lane
    /// layout of [`Sos::run`].
    pub fn steady_state_frame(&self, u: Frame) -> FrameState {
        let (l, r) = (self.steady_state(u[0]), self.steady_state(u[1]));
        core::array::from_fn(|i| [[l[i][0], r[i][0]], [l[i][1], r[i][1]]])
    }

    /// The cascade over a run of stereo frames (`pass`), both channels lane-wise
    /// (`st[section][state][channel]`), for the zero-phase filter. The section count is
    /// fixed at compile time (no per-section bounds in the per-frame loop; coefficients
    /// and state stay in registers) and the run goes through the widest vector unit.
    /// The recursion is [`Sos::tick`]'s with two changes that shorten its critical path
    /// (it is latency-bound: the isochronic harmonic suppression took a quarter of a
    /// preset's time at a tenth of its instructions): the first state is updated as
    /// `(b1·x + s1) - a1·y` and the state is flushed ([`FLUSH_LEVEL`]) after the frames
    /// at multiples of `every` ([`flush_interval`]: a power of two up to
    /// [`FLUSH_EVERY`]) rather than after every sample. The result depends only on the positions, not on how
    /// the signal is split into runs (tested), and is the same on every target.
    pub fn run(&self, st: &mut FrameState, pass: Pass<'_>, every: u64) {
        // Through the widest vector unit: AVX's three-operand forms save the register
        // copies SSE2 needs (same operations, same bits; `entrain_simd`).
        entrain_simd::run(&mut RunKernel {
            sos: self,
            st,
            pass: Some(pass),
            every: every.clamp(1, FLUSH_EVERY),
        });
    }

    /// One sample through the cascade.
    #[inline]
    pub fn tick(&self, st: &mut [[f32; 2]; MAX_SECTIONS], x: f32) -> f32 {
        let mut v = x;
        for (sec, s) in self.sections[..self.len].iter().zip(st.iter_mut()) {
            v = sec.tick(s, v);
        }
        v
    }
}

/// The state of a cascade filtering a stereo signal: per section, the two DF2T states,
/// each as `[left, right]` ([`Sos::run`]).
pub type FrameState = [[[f32; 2]; 2]; MAX_SECTIONS];

/// A run of frames for [`Sos::run`], with the position (in the filtered signal) of its
/// first frame, which places the periodic flush ([`flush_interval`]).
pub enum Pass<'a> {
    /// Forwards: `ys[k]` = the cascade's output for `xs[k]` (the shorter length).
    Forward(&'a [Frame], &'a mut [Frame], u64),
    /// Backwards over the frames, the state only (outputs discarded).
    BackwardState(&'a [Frame], u64),
    /// Backwards over the frames, each replaced by the cascade's output.
    BackwardInPlace(&'a mut [Frame], u64),
}

/// The longest interval (frames) between two flushes of [`Sos::run`]'s state: a filter
/// flushes after each frame whose position is a multiple of its interval
/// ([`flush_interval`]) instead of after every frame (the flush was a quarter of the
/// recursion's critical path).
pub const FLUSH_EVERY: u64 = 64;

/// State values below this are set to 0 at a flush (-400 dB: nothing audible, and far
/// above the denormal range even after an interval's decay and a small coefficient).
pub const FLUSH_LEVEL: f32 = 1e-20;

/// The flush interval for a cascade whose slowest pole has radius `r`: the largest power
/// of two up to [`FLUSH_EVERY`] over which the state decays by at most 1e-7, so that
/// between two flushes it stays above `FLUSH_LEVEL·1e-7 = 1e-27` (and its products with
/// coefficients down to 1e-10 above the denormal range, 1.2e-38). Basic f64 operations:
/// the same on every target.
pub fn flush_interval(r: f64) -> u64 {
    let mut every = FLUSH_EVERY;
    let mut decay = 1.0f64;
    for _ in 0..FLUSH_EVERY {
        decay *= r;
    }
    while every > 1 && decay < 1e-7 {
        // r^(every/2) from r^every: a square root, exact enough for a decision that
        // only has to be the same everywhere (sqrt is correctly rounded in IEEE 754).
        decay = math::sqrt(decay);
        every /= 2;
    }
    every
}

/// The flush of one state value: `|x| < FLUSH_LEVEL` → +0.0. (On x86_64 the lanes do it
/// with [`entrain_simd::F32x4::zero_below`], the same per lane.)
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn flush_tiny(x: f32) -> f32 {
    if math::fabsf(x) < FLUSH_LEVEL {
        0.0
    } else {
        x
    }
}

/// One section's DF2T step on a stereo frame, lane-wise (`s[state]`, both channels in
/// one [`Lanes`]), without the flush, and with the first state's update ordered `(b1·x +
/// s1) - a1·y`: its sum does not wait for `y`, so the recursion's critical path is one
/// multiply, one subtraction and one addition per sample. The channels' bits are those
/// of the scalar formula on every target (the same operations per lane).
#[inline(always)]
fn section_frame(sec: &Biquad, s: &mut [Lanes; 2], v: Lanes) -> Lanes {
    let [b0, b1, b2] = sec.b;
    let [a1, a2] = sec.a;
    let (s1, s2) = (s[0], s[1]);
    let y = v.scale(b0).add(s1);
    s[0] = v.scale(b1).add(s2).sub(y.scale(a1));
    s[1] = v.scale(b2).sub(y.scale(a2));
    y
}

/// The two channels of a frame as the lanes of one vector, for [`section_frame`].
///
/// On x86_64 an SSE register (left, right and two zeros, [`entrain_simd::F32x4`]). Written
/// as `[f32; 4]` arrays the recursion compiled badly either way: out of line (a closure
/// the compiler would not inline) it ran as SSE2 outside the AVX2 copies, the state
/// through memory and the coefficients broadcast again every frame; inlined, the
/// vectoriser re-packed a cascade's states into 8-lane AVX2 registers with lane shuffles
/// on the recursion's path (with `[f32; 2]` it had packed both states of a section the
/// same way). F19-B's isochronic voice alone, 10 minutes through `hash`: 0.94 → 0.67 s of
/// CPU, the same bits. Elsewhere a plain pair: the Cortex-M4F's scalar FPU computes
/// exactly the two channels.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
struct Lanes(entrain_simd::F32x4);

#[cfg(target_arch = "x86_64")]
impl Lanes {
    #[inline(always)]
    fn of(f: Frame) -> Self {
        Self(entrain_simd::F32x4::new(f[0], f[1], 0.0, 0.0))
    }

    #[inline(always)]
    fn frame(self) -> Frame {
        self.0.low_pair()
    }

    #[inline(always)]
    fn scale(self, c: f32) -> Self {
        Self(entrain_simd::F32x4::splat(c).mul(self.0))
    }

    #[inline(always)]
    fn add(self, o: Self) -> Self {
        Self(self.0.add(o.0))
    }

    #[inline(always)]
    fn sub(self, o: Self) -> Self {
        Self(self.0.sub(o.0))
    }

    /// The flush per lane (`|x| < FLUSH_LEVEL` → +0.0, NaN kept).
    #[inline(always)]
    fn flush_tiny(self) -> Self {
        Self(self.0.zero_below(FLUSH_LEVEL))
    }
}

#[cfg(not(target_arch = "x86_64"))]
#[derive(Clone, Copy)]
struct Lanes([f32; 2]);

#[cfg(not(target_arch = "x86_64"))]
impl Lanes {
    #[inline(always)]
    fn of(f: Frame) -> Self {
        Self(f)
    }

    #[inline(always)]
    fn frame(self) -> Frame {
        self.0
    }

    #[inline(always)]
    fn scale(self, c: f32) -> Self {
        Self(self.0.map(|x| c * x))
    }

    #[inline(always)]
    fn add(self, o: Self) -> Self {
        Self([self.0[0] + o.0[0], self.0[1] + o.0[1]])
    }

    #[inline(always)]
    fn sub(self, o: Self) -> Self {
        Self([self.0[0] - o.0[0], self.0[1] - o.0[1]])
    }

    #[inline(always)]
    fn flush_tiny(self) -> Self {
        Self(self.0.map(flush_tiny))
    }
}

/// [`Sos::run`] as an [`entrain_simd::Kernel`].
struct RunKernel<'a, 'b> {
    sos: &'a Sos,
    st: &'a mut FrameState,
    pass: Option<Pass<'b>>,
    every: u64,
}

impl entrain_simd::Kernel for RunKernel<'_, '_> {
    #[inline(always)]
    fn run(&mut self) {
        let Some(pass) = self.pass.take() else {
            return;
        };
        let (secs, st) = (&self.sos.sections, &mut *self.st);
        match self.sos.len {
            1 => run_n::<1>(secs, st, pass, self.every),
            2 => run_n::<2>(secs, st, pass, self.every),
            3 => run_n::<3>(secs, st, pass, self.every),
            4 => run_n::<4>(secs, st, pass, self.every),
            _ => {
                // No sections: the identity.
                if let Pass::Forward(xs, ys, _) = pass {
                    for (y, x) in ys.iter_mut().zip(xs) {
                        *y = *x;
                    }
                }
            }
        }
    }
}

/// [`Sos::run`] for `N` sections, the state in locals for the run.
#[inline(always)]
fn run_n<const N: usize>(
    secs: &[Biquad; MAX_SECTIONS],
    st: &mut FrameState,
    pass: Pass<'_>,
    every: u64,
) {
    let (Some(secs), Some(state)) = (secs.first_chunk::<N>(), st.first_chunk_mut::<N>()) else {
        return; // N ≤ MAX_SECTIONS: not reached
    };
    let mut loc: [[Lanes; 2]; N] = core::array::from_fn(|i| state[i].map(Lanes::of));
    match pass {
        Pass::Forward(xs, ys, pos) => {
            let n = xs.len().min(ys.len());
            forward_runs(n, pos, every, |r, then_flush| {
                for (y, x) in ys[r.clone()].iter_mut().zip(&xs[r]) {
                    *y = tick_n(secs, &mut loc, *x);
                }
                if then_flush {
                    flush_n(&mut loc);
                }
            });
        }
        Pass::BackwardState(ys, pos) => {
            backward_runs(ys.len(), pos, every, |r, then_flush| {
                for y in ys[r].iter().rev() {
                    tick_n(secs, &mut loc, *y);
                }
                if then_flush {
                    flush_n(&mut loc);
                }
            });
        }
        Pass::BackwardInPlace(ys, pos) => {
            backward_runs(ys.len(), pos, every, |r, then_flush| {
                for y in ys[r].iter_mut().rev() {
                    *y = tick_n(secs, &mut loc, *y);
                }
                if then_flush {
                    flush_n(&mut loc);
                }
            });
        }
    }
    *state = core::array::from_fn(|i| loc[i].map(Lanes::frame));
}

/// One frame through the `N` sections of [`run_n`] (state `loc`). A function, not a
/// closure: called from the three passes, a closure was kept out of line, outside the
/// AVX2 copies, with the state through memory and the coefficients broadcast again for
/// every frame.
#[inline(always)]
fn tick_n<const N: usize>(secs: &[Biquad; N], loc: &mut [[Lanes; 2]; N], x: Frame) -> Frame {
    let mut v = Lanes::of(x);
    for (sec, s) in secs.iter().zip(loc.iter_mut()) {
        v = section_frame(sec, s, v);
    }
    v.frame()
}

/// [`flush_tiny`] over a state of [`run_n`].
#[inline(always)]
fn flush_n<const N: usize>(loc: &mut [[Lanes; 2]; N]) {
    for v in loc.as_flattened_mut() {
        *v = v.flush_tiny();
    }
}

/// Splits frames `0..n` (positions `pos..pos + n`) into the runs a forward pass filters
/// between flushes: `run(range, then_flush)`, each run up to and including the next frame
/// at a multiple of `every` (then the state is flushed).
#[inline(always)]
fn forward_runs(n: usize, pos: u64, every: u64, mut run: impl FnMut(Range<usize>, bool)) {
    let mut k = 0;
    while k < n {
        let ahead = ((every - (pos + k as u64) % every) % every) as usize;
        let end = (k + ahead + 1).min(n);
        run(k..end, k + ahead < n);
        k = end;
    }
}

/// [`forward_runs`] for a backward pass: from the last frame down, each run (filtered
/// from its end) down to and including the next frame at a multiple of `every`.
#[inline(always)]
fn backward_runs(n: usize, pos: u64, every: u64, mut run: impl FnMut(Range<usize>, bool)) {
    let mut hi = n;
    while hi > 0 {
        let back = ((pos + hi as u64 - 1) % every) as usize;
        let lo = (hi - 1).saturating_sub(back);
        run(lo..hi, back < hi);
        hi = lo;
    }
}

/// A source of stereo frames pulled by a filter stage.
pub trait FrameSource {
    /// Fills `out` with the next frames of the source.
    fn fill(&mut self, out: &mut [Frame]);
}

impl<F: FnMut(&mut [Frame])> FrameSource for F {
    fn fill(&mut self, out: &mut [Frame]) {
        self(out)
    }
}

/// `padlen` of SciPy `filtfilt`/`sosfiltfilt` for an order-4 design (3 × 5 taps).
pub const PADLEN_ORDER4: usize = 15;
const MAX_PAD: usize = 3 * (2 * MAX_SECTIONS + 1);
/// Smallest chunk of outputs produced per backward pass. The backward pass costs
/// `(chunk + look)/chunk` passes per output sample: with 1,024 a 30 Hz high-pass (which
/// wants ~9,800 samples of look-ahead at 44.1 kHz) gets 7,168 samples of look-ahead
/// (truncation ~1e-5 relative) for 8 backward passes, instead of 32 with 256.
const MIN_CHUNK: usize = 1024;
/// Raw frames pulled from the source per forward-filter batch.
const PULL: usize = 64;

/// Streaming forward-backward filter with SciPy edge handling, over a signal of known
/// length `n` (the voice length). `CAP` is the look-ahead buffer in frames
/// (chunk + look-ahead); it bounds memory to `CAP × 8` bytes.
#[derive(Clone, Debug)]
pub struct ZeroPhase<const CAP: usize> {
    sos: Sos,
    n: u64,
    pad: usize,
    chunk: usize,
    look: usize,
    /// The state's flush interval ([`flush_interval`]).
    every: u64,
    /// Forward outputs (and, for the ready chunk, final outputs) by extended index mod CAP.
    ybuf: [Frame; CAP],
    /// First raw frames x[0..=pad] (odd extension of the head).
    head: [Frame; MAX_PAD + 1],
    /// Last raw frames (ring, odd extension of the tail).
    tail: [Frame; MAX_PAD + 1],
    raw_pulled: u64,
    fwd: FrameState,
    /// Extended samples forward-filtered so far.
    produced: u64,
    /// Extended index of the first ready output, and the end of the ready region.
    ready_at: u64,
    ready_end: u64,
    started: bool,
    /// The signal is too short for the original's padding: it renders silence.
    silent: bool,
}

impl<const CAP: usize> ZeroPhase<CAP> {
    /// A zero-phase filter `sos` over a signal of `n` frames with SciPy's `padlen`.
    ///
    /// This returns the whole `CAP`-frame buffer by value; pools should prefer
    /// [`ZeroPhase::idle`] in a static and [`ZeroPhase::reinit`] in place.
    pub fn new(sos: Sos, n: u64, padlen: usize) -> Self {
        let mut z = Self::idle();
        z.reinit(sos, n, padlen);
        z
    }

    /// An unused filter (placeholder for a pool slot); renders silence. `const`, so that
    /// pools can live in statics without a stack temporary.
    pub const fn idle() -> Self {
        Self {
            sos: Sos::EMPTY,
            n: 0,
            pad: 0,
            chunk: 0,
            look: 0,
            every: FLUSH_EVERY,
            ybuf: [[0.0; 2]; CAP],
            head: [[0.0; 2]; MAX_PAD + 1],
            tail: [[0.0; 2]; MAX_PAD + 1],
            raw_pulled: 0,
            fwd: [[[0.0; 2]; 2]; MAX_SECTIONS],
            produced: 0,
            ready_at: 0,
            ready_end: 0,
            started: false,
            silent: true,
        }
    }

    /// Re-initialises the filter in place for `sos` over `n` frames (the buffers are
    /// reused without being cleared: every slot is written before it is read).
    pub fn reinit(&mut self, sos: Sos, n: u64, padlen: usize) {
        let pad = padlen.min(MAX_PAD);
        let r = sos.max_pole_radius();
        // r^L ≤ 1e-7  →  L = ln(1e-7)/ln(r)
        let need = if r > 0.0 && r < 1.0 {
            math::ceil(math::ln(1e-7) / math::ln(r)) as usize
        } else {
            CAP / 2
        };
        let cap = CAP.max(2 * MIN_CHUNK);
        let look = need.clamp(16, cap - MIN_CHUNK);
        self.sos = sos;
        self.n = n;
        self.pad = pad;
        self.chunk = cap - look;
        self.look = look;
        self.every = flush_interval(r);
        self.raw_pulled = 0;
        self.fwd = [[[0.0; 2]; 2]; MAX_SECTIONS];
        self.produced = 0;
        self.ready_at = pad as u64;
        self.ready_end = pad as u64;
        self.started = false;
        self.silent = n <= pad as u64;
    }

    /// The frame buffer as scratch storage, for a pool slot that holds something other
    /// than a running filter (the engine's per-voice effects). Its contents are
    /// unspecified; [`ZeroPhase::reinit`] does not need them cleared.
    pub fn scratch_mut(&mut self) -> &mut [Frame; CAP] {
        &mut self.ybuf
    }

    /// The look-ahead in frames actually used.
    pub fn lookahead(&self) -> usize {
        self.look
    }

    /// Back to the state right after `new`.
    pub fn reset(&mut self) {
        self.reinit(self.sos, self.n, self.pad);
    }

    fn ext_len(&self) -> u64 {
        self.n + 2 * self.pad as u64
    }

    fn pull_raw<S: FrameSource>(&mut self, src: &mut S, out: &mut [Frame]) {
        src.fill(out);
        // The head keeps x[0..=pad]; the tail ring is read only for the signal's last
        // MAX_PAD + 1 frames (the tail's odd extension), so only those are stored.
        // (Index ranges rather than a test per frame.)
        let ring = MAX_PAD as u64 + 1;
        let start = self.raw_pulled;
        let end = start + out.len() as u64;
        for i in start..end.min(self.pad as u64 + 1) {
            self.head[i as usize] = out[(i - start) as usize];
        }
        for i in self.n.saturating_sub(ring).max(start)..end {
            self.tail[(i % ring) as usize] = out[(i - start) as usize];
        }
        self.raw_pulled = end;
    }

    fn raw_from_tail(&self, i: u64) -> Frame {
        self.tail[(i % (MAX_PAD as u64 + 1)) as usize]
    }

    fn forward_one(&mut self, x: Frame) {
        self.forward_block(&[x]);
    }

    /// Forward-filters the extended frames `xs` (from extended index `produced` on) into
    /// the ring, in contiguous runs with the filter state in locals.
    fn forward_block(&mut self, xs: &[Frame]) {
        let Some(x0) = xs.first() else {
            return;
        };
        if !self.started {
            self.fwd = self.sos.steady_state_frame(*x0);
            self.started = true;
        }
        let sos = self.sos;
        let mut st = self.fwd;
        let mut xs = xs;
        while !xs.is_empty() {
            let at = (self.produced % CAP as u64) as usize;
            let (now, rest) = xs.split_at(xs.len().min(CAP - at));
            sos.run(
                &mut st,
                Pass::Forward(now, &mut self.ybuf[at..at + now.len()], self.produced),
                self.every,
            );
            self.produced += now.len() as u64;
            xs = rest;
        }
        self.fwd = st;
    }

    /// Forward-filters the extended signal up to extended index `upto` (exclusive).
    fn produce<S: FrameSource>(&mut self, src: &mut S, upto: u64) {
        let p = self.pad as u64;
        let ext_len = self.ext_len();
        let upto = upto.min(ext_len);
        while self.produced < upto {
            let j = self.produced;
            if j < p {
                // Head: needs x[0..=pad].
                while self.raw_pulled <= p {
                    let mut one = [[0.0f32; 2]; 1];
                    self.pull_raw(src, &mut one);
                }
                let x0 = self.head[0];
                let xm = self.head[(p - j) as usize];
                self.forward_one([2.0 * x0[0] - xm[0], 2.0 * x0[1] - xm[1]]);
            } else if j < p + self.n {
                let i = j - p; // raw index
                if i < self.raw_pulled {
                    // Already pulled (the head frames): replay from the head/tail stores.
                    let x = if (i as usize) <= self.pad {
                        self.head[i as usize]
                    } else {
                        self.raw_from_tail(i)
                    };
                    self.forward_one(x);
                } else {
                    let want = ((upto - j).min(self.n - i) as usize).min(PULL);
                    let mut tmp = [[0.0f32; 2]; PULL];
                    self.pull_raw(src, &mut tmp[..want]);
                    self.forward_block(&tmp[..want]);
                }
            } else {
                // Tail: x_ext[p + n + m] = 2·x[n-1] - x[n-2-m].
                let m = j - p - self.n;
                let last = self.raw_from_tail(self.n - 1);
                let xm = self.raw_from_tail(self.n - 2 - m);
                self.forward_one([2.0 * last[0] - xm[0], 2.0 * last[1] - xm[1]]);
            }
        }
    }

    /// Runs the backward pass for the chunk starting at extended index `base`: from the
    /// steady state of the last look-ahead frame backwards over the look-ahead (state
    /// only) and the chunk (outputs stored in place), in contiguous runs of the ring.
    fn backward_chunk(&mut self, base: u64) {
        let ext_len = self.ext_len();
        let end = (base + (self.chunk + self.look) as u64).min(ext_len);
        let keep_end = (base + self.chunk as u64).min(end);
        let cap = CAP as u64;
        let y_last = self.ybuf[((end - 1) % cap) as usize];
        let sos = self.sos;
        let mut st = sos.steady_state_frame(y_last);
        let mut j = end;
        while j > base {
            // Down to the chunk's end (look-ahead) or its start, within one ring run.
            let stop = if j > keep_end { keep_end } else { base };
            let hi = ((j - 1) % cap) as usize;
            let len = ((j - stop) as usize).min(hi + 1);
            let run = &mut self.ybuf[hi + 1 - len..=hi];
            if j > keep_end {
                sos.run(
                    &mut st,
                    Pass::BackwardState(run, j - len as u64),
                    self.every,
                );
            } else {
                sos.run(
                    &mut st,
                    Pass::BackwardInPlace(run, j - len as u64),
                    self.every,
                );
            }
            j -= len as u64;
        }
        self.ready_at = base;
        self.ready_end = keep_end;
    }

    /// Produces the next `out.len()` filtered frames, pulling raw frames from `src`.
    /// Frames past the signal length are zero.
    pub fn process<S: FrameSource>(&mut self, src: &mut S, out: &mut [Frame]) {
        let p = self.pad as u64;
        let mut k = 0;
        while k < out.len() {
            if self.silent {
                out[k..].fill([0.0, 0.0]);
                return;
            }
            if self.ready_at >= self.ready_end {
                let base = self.ready_end;
                if base >= p + self.n {
                    out[k..].fill([0.0, 0.0]);
                    return;
                }
                let need = base + (self.chunk + self.look) as u64;
                self.produce(src, need);
                self.backward_chunk(base);
            }
            // Ready frames, up to the ring's end.
            let at = (self.ready_at % CAP as u64) as usize;
            let len = (out.len() - k)
                .min((self.ready_end - self.ready_at) as usize)
                .min(CAP - at);
            out[k..k + len].copy_from_slice(&self.ybuf[at..at + len]);
            self.ready_at += len as u64;
            k += len;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whole-buffer reference filtfilt in f64 (SciPy semantics) for testing.
    fn filtfilt_ref(sos: &Sos, x: &[f64], pad: usize) -> Vec<f64> {
        let n = x.len();
        let mut ext = Vec::with_capacity(n + 2 * pad);
        for j in 0..pad {
            ext.push(2.0 * x[0] - x[pad - j]);
        }
        ext.extend_from_slice(x);
        for m in 0..pad {
            ext.push(2.0 * x[n - 1] - x[n - 2 - m]);
        }
        let run = |v: &[f64]| -> Vec<f64> {
            let mut out = Vec::with_capacity(v.len());
            let mut st = [[0.0f64; 2]; MAX_SECTIONS];
            // steady state in f64
            let mut u = v[0];
            for (i, s) in sos.sections[..sos.len].iter().enumerate() {
                let b: Vec<f64> = s.b.iter().map(|&c| c as f64).collect();
                let a: Vec<f64> = s.a.iter().map(|&c| c as f64).collect();
                let g = (b[0] + b[1] + b[2]) / (1.0 + a[0] + a[1]);
                let y = g * u;
                st[i][1] = b[2] * u - a[1] * y;
                st[i][0] = b[1] * u - a[0] * y + st[i][1];
                u = y;
            }
            for &xv in v {
                let mut t = xv;
                for (i, s) in sos.sections[..sos.len].iter().enumerate() {
                    let b: Vec<f64> = s.b.iter().map(|&c| c as f64).collect();
                    let a: Vec<f64> = s.a.iter().map(|&c| c as f64).collect();
                    let y = b[0] * t + st[i][0];
                    st[i][0] = b[1] * t - a[0] * y + st[i][1];
                    st[i][1] = b[2] * t - a[1] * y;
                    t = y;
                }
                out.push(t);
            }
            out
        };
        let mut y = run(&ext);
        y.reverse();
        let mut z = run(&y);
        z.reverse();
        z[pad..pad + n].to_vec()
    }

    #[test]
    fn butterworth_dc_and_nyquist() {
        let lp = Sos::butterworth(4, Band::Low, 1000.0, 44100.0);
        let g: f32 = lp.sections[..lp.len].iter().map(|s| s.dc_gain()).product();
        assert!((g - 1.0).abs() < 1e-5);
        let hp = Sos::butterworth(4, Band::High, 30.0, 44100.0);
        let g: f32 = hp.sections[..hp.len].iter().map(|s| s.dc_gain()).product();
        assert!(g.abs() < 1e-6);
    }

    #[test]
    fn zero_phase_matches_whole_buffer_reference() {
        let sr = 44100.0;
        let sos = Sos::butterworth(4, Band::Low, 450.0, sr);
        let n = 20_000usize;
        let sig: Vec<f64> = (0..n)
            .map(|i| {
                let t = i as f64 / sr;
                (2.0 * std::f64::consts::PI * 300.0 * t).sin() * 0.5
                    + (2.0 * std::f64::consts::PI * 2700.0 * t).sin() * 0.3
                    + 0.1
            })
            .collect();
        let reference = filtfilt_ref(&sos, &sig, 15);
        for block in [1usize, 7, 64, 480, 4096] {
            let mut zp: ZeroPhase<4096> = ZeroPhase::new(sos, n as u64, 15);
            let mut pos = 0usize;
            let mut src = |out: &mut [Frame]| {
                for o in out.iter_mut() {
                    let v = sig.get(pos).copied().unwrap_or(0.0) as f32;
                    *o = [v, -v];
                    pos += 1;
                }
            };
            let mut got = vec![[0.0f32; 2]; n];
            for c in got.chunks_mut(block) {
                zp.process(&mut src, c);
            }
            let mut max = 0.0f64;
            for i in 0..n {
                max = max.max((got[i][0] as f64 - reference[i]).abs());
                max = max.max((got[i][1] as f64 + reference[i]).abs());
            }
            assert!(max < 2e-5, "block {block}: max error {max}");
        }
    }

    /// A signal whose states cross the flush level (1e-20) often, so that where the
    /// flushes fall shows in the bits.
    fn tiny_signal(n: usize) -> Vec<Frame> {
        (0..n)
            .map(|i| {
                let a = 1e-18 * ((i as f32 * 0.013).sin() + 0.2 * (i as f32 * 0.31).sin());
                [a, if i % 700 < 300 { 0.0 } else { -a }]
            })
            .collect()
    }

    fn bits(v: &[Frame]) -> Vec<u32> {
        v.iter()
            .flat_map(|f| [f[0].to_bits(), f[1].to_bits()])
            .collect()
    }

    /// `Sos::run` gives the same bits however a pass is split into runs (the flush is
    /// placed by position), forwards and backwards, for two flush intervals; a different
    /// start position changes them (so the check can see a misplaced flush).
    #[test]
    fn runs_split_anywhere_give_the_same_bits() {
        let sos = Sos::butterworth(4, Band::Low, 450.0, 44_100.0);
        let x = tiny_signal(5_000);
        let pos0 = 1_000_003u64;
        for every in [64u64, 16] {
            let mut y_whole = vec![[0.0f32; 2]; x.len()];
            let mut st_whole = sos.steady_state_frame(x[0]);
            sos.run(&mut st_whole, Pass::Forward(&x, &mut y_whole, pos0), every);
            let mut b_whole = x.clone();
            let mut bst_whole = sos.steady_state_frame(x[0]);
            sos.run(
                &mut bst_whole,
                Pass::BackwardInPlace(&mut b_whole, pos0),
                every,
            );
            for sizes in [&[1usize][..], &[7], &[64], &[63, 65, 1], &[480], &[4_999]] {
                // Forwards in runs of the given sizes (cycled).
                let mut st = sos.steady_state_frame(x[0]);
                let mut y = vec![[0.0f32; 2]; x.len()];
                let mut k = 0;
                for &n in sizes.iter().cycle() {
                    if k >= x.len() {
                        break;
                    }
                    let e = (k + n).min(x.len());
                    let pass = Pass::Forward(&x[k..e], &mut y[k..e], pos0 + k as u64);
                    sos.run(&mut st, pass, every);
                    k = e;
                }
                assert_eq!(bits(&y), bits(&y_whole), "forward, {every}, runs {sizes:?}");
                assert_eq!(st, st_whole, "forward state, {every}, runs {sizes:?}");
                // Backwards, in place and state-only, from the end down.
                let mut st = sos.steady_state_frame(x[0]);
                let mut st_only = st;
                let mut b = x.clone();
                let mut hi = x.len();
                for &n in sizes.iter().cycle() {
                    if hi == 0 {
                        break;
                    }
                    let lo = hi.saturating_sub(n);
                    let at = pos0 + lo as u64;
                    sos.run(&mut st_only, Pass::BackwardState(&x[lo..hi], at), every);
                    sos.run(&mut st, Pass::BackwardInPlace(&mut b[lo..hi], at), every);
                    hi = lo;
                }
                assert_eq!(
                    bits(&b),
                    bits(&b_whole),
                    "backward, {every}, runs {sizes:?}"
                );
                assert_eq!(st, bst_whole, "backward state, {every}, runs {sizes:?}");
                assert_eq!(st_only, bst_whole, "backward state only, runs {sizes:?}");
            }
            let mut y_shift = vec![[0.0f32; 2]; x.len()];
            let mut st = sos.steady_state_frame(x[0]);
            sos.run(&mut st, Pass::Forward(&x, &mut y_shift, pos0 + 1), every);
            assert_ne!(bits(&y_shift), bits(&y_whole), "the flush's position shows");
        }
    }

    /// The flush interval shrinks for fast poles so that the state decays by at most
    /// 1e-7 between flushes.
    #[test]
    fn flush_interval_follows_the_slowest_pole() {
        assert_eq!(flush_interval(0.9999), 64);
        assert_eq!(flush_interval(0.78), 64); // 0.78^64 = 1.2e-7
        assert_eq!(flush_interval(0.77), 32);
        assert_eq!(flush_interval(0.5), 16);
        assert_eq!(flush_interval(0.0), 1);
        for fc in [30.0, 150.0, 450.0, 5_000.0, 15_000.0, 22_000.0] {
            for band in [Band::Low, Band::High] {
                let r = Sos::butterworth(4, band, fc, 44_100.0).max_pole_radius();
                let every = flush_interval(r);
                assert!(every.is_power_of_two() && every <= FLUSH_EVERY);
                assert!(every == 1 || r.powi(every as i32) >= 1e-7, "{fc} {band:?}");
            }
        }
    }

    /// After the input stops, the output and the state reach exact zero and never pass
    /// through subnormal values (slow on x86), forwards and backwards, for slow and fast
    /// poles: the state is checked after every frame.
    #[test]
    fn silence_decays_to_exact_zero_without_subnormals() {
        for (band, fc) in [
            (Band::Low, 150.0),
            (Band::High, 30.0),
            (Band::Low, 15_000.0),
            (Band::High, 12_000.0),
        ] {
            let sos = Sos::butterworth(4, band, fc, 44_100.0);
            let every = flush_interval(sos.max_pole_radius());
            let n = 60_000usize;
            let x: Vec<Frame> = (0..n)
                .map(|i| {
                    let v = if i < 4_000 {
                        (i as f32 * 0.05).sin()
                    } else {
                        0.0
                    };
                    [v, -v]
                })
                .collect();
            let sub = |v: &[f32]| v.iter().any(|s| s.is_subnormal());
            let mut y = vec![[0.0f32; 2]; n];
            let mut st = sos.steady_state_frame(x[0]);
            for k in 0..n {
                let pass = Pass::Forward(&x[k..k + 1], &mut y[k..k + 1], k as u64);
                sos.run(&mut st, pass, every);
                assert!(
                    !sub(st.as_flattened().as_flattened()),
                    "{band:?} {fc}: state"
                );
            }
            assert!(
                !sub(y.as_flattened()),
                "{band:?} {fc}: forward output subnormal"
            );
            let tail = y[n - 1000..].as_flattened();
            assert!(tail.iter().all(|s| *s == 0.0), "{band:?} {fc}: not silent");
            let mut st = sos.steady_state_frame([0.0, 0.0]);
            let mut b = x.clone();
            b.reverse();
            for k in (0..n).rev() {
                sos.run(
                    &mut st,
                    Pass::BackwardInPlace(&mut b[k..k + 1], k as u64),
                    every,
                );
                assert!(
                    !sub(st.as_flattened().as_flattened()),
                    "{band:?} {fc}: state"
                );
            }
            assert!(
                !sub(b.as_flattened()),
                "{band:?} {fc}: backward output subnormal"
            );
            let head = b[..1000].as_flattened();
            assert!(head.iter().all(|s| *s == 0.0), "{band:?} {fc}: not silent");
        }
    }

    #[test]
    fn too_short_is_silent() {
        let sos = Sos::butterworth(4, Band::Low, 450.0, 44100.0);
        let mut zp: ZeroPhase<1024> = ZeroPhase::new(sos, 10, 15);
        let mut src = |out: &mut [Frame]| out.iter_mut().for_each(|o| *o = [1.0, 1.0]);
        let mut out = [[9.0f32; 2]; 12];
        zp.process(&mut src, &mut out);
        assert!(out.iter().all(|f| *f == [0.0, 0.0]));
    }
}
