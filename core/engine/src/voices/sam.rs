//! `spatial_angle_modulation` and `spatial_angle_modulation_transition`: implements
//! VOICES.md §9 (the original's `SAMVoice`, HRIR overlap-add with slab's KEMAR set).
//!
//! A sine carrier (`amp·sin θc`, θc POST-accumulated in f64 as the original's `cumsum`)
//! moves along a path (circle, square, linear, arc, diamond, oscillating arc) whose phase
//! ψ is POST-accumulated from `beatFreq`. Every `H = F div overlap` samples a frame of
//! `F = rint(frame_dur_ms·sr/1000)` source samples is windowed (Hann, or √Hann for
//! overlap 2 and 4; numpy's `hanning` formula), filtered with the KEMAR head-related
//! impulse responses of the source position nearest to the path's azimuth at the frame's
//! midpoint `min(s + H div 2, N - 1)` (slab's nearest choice, float16 rounding included:
//! [`entrain_dsp::hrir::nearest`]), and added with its whole convolution tail (slab
//! applies an impulse response with a full `fftconvolve`) into the output. No window-sum
//! normalisation (Hann hop 8 gains ≈ 4). Finally, when the peak exceeds 1, the whole output
//! is divided by `peak/0.98`.
//!
//! Streaming design: frame `k` is computed when sample `k·H` is reached (the source is
//! deterministic, so the frame's future samples are generated then), its convolution
//! (512 taps × 2 ears per source sample, in f32) is accumulated into a ring of
//! [`FX_RING`](super::fx::FX_RING) frames held in a pool slot, and samples leave the ring
//! when all frames covering them have been added. The peak normalisation needs the whole
//! output's peak first: the slot renders the voice once when it starts (a pre-pass, O(N),
//! ~8k multiply-adds per sample; the same cost again for the render). Seeking positions
//! the accumulators (cheap per-sample sums) and recomputes only the frames covering the
//! target.
//!
//! Transition (the original's quirks): `transition_curve`, `initial_offset` and
//! `transition_duration` are ignored; numeric parameters move linearly over the whole
//! step (`p_i = p_s + (p_e - p_s)·i/N`, the last sample forced to the end value), and the
//! path shape is the start shape except on the last sample.
//!
//! Deviations: the original forces 44.1 kHz (the HRIR rate) and returns that many samples
//! whatever the track's rate, which makes the step mixer drop the voice; here the voice
//! renders at the track's rate (the intended behaviour) with the 44.1 kHz impulse
//! responses unchanged (at other rates their spectra scale with the rate). Accumulation is
//! in f32 (the original's f64 OLA differs by ~1e-6). Not suitable for a microcontroller
//! (cost and the 147 KiB table); there is no parametric stand-in here.

use crate::model::{PathShape, SamParams};
use entrain_dsp::hrir::{self, KEMAR_TAPS};
use entrain_dsp::math;
use entrain_dsp::Frame;

/// The original's re-normalised peak.
pub const RENORMALISED_PEAK: f64 = 0.98;

/// Largest frame length in samples: a frame and its 512-tap tail fit the ring.
pub const MAX_FRAME: usize = super::fx::FX_RING - KEMAR_TAPS + 1;

/// Frame length `F` for `frame_dur_ms` at `sr` (slab's `in_samples`: `rint`).
pub fn frame_len(frame_dur_ms: f64, sr: f64) -> usize {
    let f = math::rint(frame_dur_ms / 1000.0 * sr);
    if f > 0.0 {
        f as usize
    } else {
        0
    }
}

/// Parameters at one sample.
#[derive(Clone, Copy, Debug)]
struct At {
    carrier: f64,
    beat: f64,
    shape: PathShape,
    radius: f64,
    arc_start: f64,
    arc_end: f64,
}

/// The overlap-add state of a SAM voice (kept in an effect slot with its ring).
#[derive(Clone, Debug)]
pub struct SamOla {
    p: SamParams,
    transition: bool,
    n: u64,
    sr: f64,
    f: usize,
    h: usize,
    sqrt_window: bool,
    amp: f64,
    /// Divisor of the peak normalisation (1 when the peak is ≤ 1).
    div: f64,
    // state
    i: u64,
    next_frame: u64,
    car: f64,
    psi: f64,
}

impl SamOla {
    /// The state of a voice with `p` over `n` samples at `sr` (`transition`: the
    /// `_transition` variant). The peak is measured by [`SamOla::measure_peak`].
    pub fn new(p: &SamParams, transition: bool, n: u64, sr: f64) -> Self {
        let f = frame_len(p.frame_dur_ms, sr).min(MAX_FRAME);
        let ov = p.overlap_factor.max(2) as usize;
        Self {
            p: *p,
            transition,
            n,
            sr,
            f,
            h: f / ov,
            sqrt_window: ov == 2 || ov == 4,
            amp: p.amp.clamp(0.0, 1.0),
            div: 1.0,
            i: 0,
            next_frame: 0,
            car: 0.0,
            psi: 0.0,
        }
    }

    /// Back to the state right after `new` (the ring must be cleared too); the measured
    /// normalisation is kept.
    pub fn reset(&mut self) {
        self.i = 0;
        self.next_frame = 0;
        self.car = 0.0;
        self.psi = 0.0;
    }

    /// Renders the whole voice once into nothing, to find its peak (the original's
    /// normalisation), then resets. `ring` must be zeroed and is zeroed again.
    pub fn measure_peak(&mut self, ring: &mut [Frame]) {
        self.div = 1.0;
        let mut peak = 0.0f32;
        let mut buf = [[0.0f32; 2]; 256];
        let mut left = self.n;
        while left > 0 {
            let k = left.min(256) as usize;
            self.render(&mut buf[..k], ring);
            for f in &buf[..k] {
                peak = peak.max(math::fabsf(f[0])).max(math::fabsf(f[1]));
            }
            left -= k as u64;
        }
        if peak > 1.0 {
            self.div = peak as f64 / RENORMALISED_PEAK;
        }
        self.reset();
        ring.iter_mut().for_each(|f| *f = [0.0; 2]);
    }

    fn at(&self, j: u64) -> At {
        let p = &self.p;
        if !self.transition {
            return At {
                carrier: p.carrier_freq.start,
                beat: p.beat_freq.start,
                shape: p.shape[0],
                radius: p.path_radius.start,
                arc_start: p.arc_start_deg.start,
                arc_end: p.arc_end_deg.start,
            };
        }
        let last = self.n > 0 && j + 1 >= self.n;
        let lerp = |x: &crate::model::Pair| {
            if last {
                x.end
            } else {
                x.start + (x.end - x.start) * (j as f64 / self.n as f64)
            }
        };
        At {
            carrier: lerp(&p.carrier_freq),
            beat: lerp(&p.beat_freq),
            shape: if last { p.shape[1] } else { p.shape[0] },
            radius: lerp(&p.path_radius),
            arc_start: lerp(&p.arc_start_deg),
            arc_end: lerp(&p.arc_end_deg),
        }
    }

    #[inline]
    fn car_inc(&self, a: &At) -> f64 {
        2.0 * math::PI * a.carrier.max(0.0) / self.sr
    }

    #[inline]
    fn path_inc(&self, a: &At) -> f64 {
        2.0 * math::PI * a.beat.max(0.0) / self.sr
    }

    /// Azimuth (degrees, slab's convention) of the path at a sample with parameters `a`
    /// and path phase `psi` (§9.2 step 3).
    fn azimuth(a: &At, psi: f64) -> f64 {
        let r = a.radius;
        let (x, y) = if a.beat.max(0.0) < 1e-6 {
            (0.0, r)
        } else {
            let deg = |d: f64| d * (math::PI / 180.0);
            match a.shape {
                PathShape::Circle => (r * math::sin(psi), r * math::cos(psi)),
                PathShape::Linear => (0.0, r * math::sin(psi)),
                PathShape::Arc => {
                    let prog = (1.0 - math::cos(psi)) / 2.0;
                    let ang = deg(a.arc_start + prog * (a.arc_end - a.arc_start));
                    (r * math::sin(ang), r * math::cos(ang))
                }
                PathShape::OscillatingArc => {
                    let q = entrain_dsp::delay::py_mod(psi / (2.0 * math::PI), 1.0);
                    let tri = 1.0 - 2.0 * math::fabs(q - 0.5);
                    let diff = math::fabs(a.arc_end - a.arc_start);
                    let d = if a.arc_start <= a.arc_end {
                        a.arc_start + tri * diff
                    } else {
                        a.arc_start - tri * diff
                    };
                    let ang = deg(d);
                    (r * math::sin(ang), r * math::cos(ang))
                }
                PathShape::Square | PathShape::Diamond => {
                    let (c, s) = (math::cos(psi), math::sin(psi));
                    let m = math::fabs(c).max(math::fabs(s));
                    let inv = if m > 1e-9 { 1.0 / m } else { 0.0 };
                    let (xs, ys) = (r * c * inv, r * s * inv);
                    if a.shape == PathShape::Square {
                        (xs, ys)
                    } else {
                        let (c45, s45) = (math::cos(math::PI / 4.0), math::sin(math::PI / 4.0));
                        (xs * c45 + ys * s45, -xs * s45 + ys * c45)
                    }
                }
            }
        };
        math::atan2(x, y) * (180.0 / math::PI)
    }

    /// numpy's `hanning(F)[m]` (√ for overlap 2 and 4).
    #[inline]
    fn window(&self, m: usize) -> f64 {
        let big = self.f as f64;
        if self.f < 2 {
            return 1.0;
        }
        let nn = (1.0 - big) + 2.0 * m as f64;
        let w = 0.5 + 0.5 * math::cos(math::PI * nn / (big - 1.0));
        if self.sqrt_window {
            math::sqrt(w)
        } else {
            w
        }
    }

    /// Computes frame `k` (starting at `next_frame`) into the ring.
    fn frame(&mut self, ring: &mut [Frame]) {
        let start = self.next_frame;
        let h = self.h as u64;
        // path phase at the midpoint, and at the next frame start
        let mid = (start + h / 2).min(self.n.saturating_sub(1));
        let mut psi = self.psi;
        let mut psi_mid = psi;
        let mut a_mid = self.at(mid);
        for j in start..start + h {
            let a = self.at(j);
            psi += self.path_inc(&a);
            if j == mid {
                psi_mid = psi;
                a_mid = a;
            }
        }
        if mid >= start + h {
            // (only when h == 0, excluded by validation)
            psi_mid = psi;
        }
        let k_h = hrir::nearest(Self::azimuth(&a_mid, psi_mid));
        let hp = padded_taps(&hrir::kemar::KEMAR_HRIR_Q15[k_h]);
        // Carrier and window, a chunk of source samples at a time, each chunk's convolution
        // accumulated output-major into the ring (see `convolve_chunk`).
        let mut car = self.car;
        let mut car_next = car;
        let len = (self.n.saturating_sub(start)).min(self.f as u64) as usize;
        let mut xs = [0.0f32; CHUNK];
        let mut c0 = 0;
        while c0 < len {
            let c1 = (c0 + CHUNK).min(len);
            for (m, x) in (c0..c1).zip(xs.iter_mut()) {
                let j = start + m as u64;
                let a = self.at(j);
                car += self.car_inc(&a);
                if j + 1 == start + h {
                    car_next = car;
                }
                *x = ((self.amp * math::sin(car)) * self.window(m)) as f32;
            }
            convolve_chunk(ring, start as usize + c0, &xs[..c1 - c0], &hp);
            c0 = c1;
        }
        if start + h > self.n {
            // the next frame would start past the end: no more frames
            car_next = car;
        }
        self.car = car_next;
        self.psi = psi;
        self.next_frame = start + h;
    }

    /// Renders `out.len()` samples (silence past the end), with the ring `ring` (a power of
    /// two of at least [`MAX_FRAME`]` + 511` frames).
    pub fn render(&mut self, out: &mut [Frame], ring: &mut [Frame]) {
        let mask = ring.len() - 1;
        for o in out.iter_mut() {
            let i = self.i;
            if i >= self.n || self.h == 0 {
                *o = [0.0; 2];
                self.i += 1;
                continue;
            }
            while self.next_frame <= i {
                self.frame(ring);
            }
            let slot = &mut ring[(i as usize) & mask];
            let v = *slot;
            *slot = [0.0; 2];
            *o = if self.div != 1.0 {
                [
                    (v[0] as f64 / self.div) as f32,
                    (v[1] as f64 / self.div) as f32,
                ]
            } else {
                v
            };
            self.i += 1;
        }
    }

    /// Positions the voice at sample `i`: the accumulators are summed up to the first
    /// frame still sounding at `i`, and only the frames from there on are computed.
    pub fn seek(&mut self, i: u64, ring: &mut [Frame]) {
        self.reset();
        ring.iter_mut().for_each(|f| *f = [0.0; 2]);
        let i = i.min(self.n);
        if self.h == 0 {
            self.i = i;
            return;
        }
        let h = self.h as u64;
        let span = (self.f + KEMAR_TAPS - 1) as u64;
        // first frame whose output reaches i
        let k0 = if i >= span { (i - span) / h + 1 } else { 0 };
        let s0 = k0 * h;
        for j in 0..s0.min(self.n) {
            let a = self.at(j);
            self.car += self.car_inc(&a);
            self.psi += self.path_inc(&a);
        }
        self.next_frame = s0;
        self.i = s0;
        let mut scratch = [[0.0f32; 2]; 256];
        while self.i < i {
            let k = ((i - self.i) as usize).min(256);
            self.render(&mut scratch[..k], ring);
        }
    }
}

/// Source samples per chunk of a frame's convolution (a 1 KiB stack buffer).
const CHUNK: usize = 256;

/// Output frames of a block: 64 f32 sums (left and right), which LLVM keeps in eight AVX2
/// registers (sixteen SSE) across the block's source samples; 64 frames spilled (measured:
/// 15.9 s against 13.9 s for qam_spatial.json's first 10 s in compatible mode).
const LANES: usize = 32;

/// Zero taps on either side of the impulse response, so that every lane of a block can
/// read its tap without a bounds test.
const PAD: usize = LANES - 1;

/// Interleaved `[L, R]` taps in f32 (Q15 / 32768), with `PAD` zero frames before and after.
fn padded_taps(taps: &[[i16; KEMAR_TAPS]; 2]) -> [f32; 2 * (KEMAR_TAPS + 2 * PAD)] {
    let mut hp = [0.0f32; 2 * (KEMAR_TAPS + 2 * PAD)];
    for (t, pair) in hp[2 * PAD..2 * (PAD + KEMAR_TAPS)]
        .chunks_exact_mut(2)
        .enumerate()
    {
        pair[0] = taps[0][t] as f32 * (1.0 / 32768.0);
        pair[1] = taps[1][t] as f32 * (1.0 / 32768.0);
    }
    hp
}

/// Adds the convolution of the source samples `xs` (the first at ring position `pos`) with
/// the padded taps `hp` into the ring, output-major: a block of [`LANES`] output frames is
/// copied to an aligned buffer, the sources covering it are added in ascending order, and
/// the block is written back, so every ring slot receives exactly the additions, in
/// exactly the order, of a source-by-source `ring[pos + m + t] += x_m·h_t` (the same bits).
/// The source-by-source form shifted its 512-float window by one frame per sample: every
/// load waited for the previous sample's overlapping, misaligned store, which the CPU
/// cannot forward (~3 cycles per multiply-add; one voice streamed at ~6× real time). The padding's
/// extra terms are `x·0 = ±0`, which leave a sum unchanged: a slot starts at +0 and a sum
/// of round-to-nearest additions from +0 never becomes -0. Lanes past the chunk's last
/// output only receive such zeros.
fn convolve_chunk(
    ring: &mut [Frame],
    pos: usize,
    xs: &[f32],
    hp: &[f32; 2 * (KEMAR_TAPS + 2 * PAD)],
) {
    entrain_simd::run(&mut Convolve { ring, pos, xs, hp });
}

/// [`convolve_chunk`] as a kernel for the widest vectors (the same bits at every width).
struct Convolve<'a> {
    ring: &'a mut [Frame],
    pos: usize,
    xs: &'a [f32],
    hp: &'a [f32; 2 * (KEMAR_TAPS + 2 * PAD)],
}

impl entrain_simd::Kernel for Convolve<'_> {
    #[inline(always)]
    fn run(&mut self) {
        let (xs, hp, pos) = (self.xs, self.hp, self.pos);
        let ring_len = self.ring.len();
        let mask = ring_len - 1;
        let flat = self.ring.as_flattened_mut();
        let n_out = xs.len() + KEMAR_TAPS - 1;
        let mut acc = Block([0.0; 2 * LANES]);
        let mut u0 = 0;
        while u0 < n_out {
            // the block's ring frames [b, b + LANES), as one or two runs, summed in an
            // aligned copy: a store split across cache lines is not forwarded to the next
            // source sample's load
            let b = (pos + u0) & mask;
            let first = 2 * (ring_len - b).min(LANES);
            let (ring_a, ring_b) = flat.split_at_mut(2 * b);
            let (acc_a, acc_b) = acc.0.split_at_mut(first);
            acc_a.copy_from_slice(&ring_b[..first]);
            acc_b.copy_from_slice(&ring_a[..acc_b.len()]);
            let m_lo = (u0 + 1).saturating_sub(KEMAR_TAPS);
            let m_hi = (u0 + LANES).min(xs.len());
            for (m, &x) in xs.iter().enumerate().take(m_hi).skip(m_lo) {
                // lane e of source m reads tap u0 + e - m ∈ [-PAD, KEMAR_TAPS - 1 + PAD]
                let off = 2 * (u0 + PAD - m);
                axpy(&mut acc.0, &hp[off..off + 2 * LANES], x);
            }
            let (acc_a, acc_b) = acc.0.split_at(first);
            ring_b[..first].copy_from_slice(acc_a);
            ring_a[..acc_b.len()].copy_from_slice(acc_b);
            u0 += LANES;
        }
    }
}

/// A block's sums, cache-line aligned.
#[repr(align(64))]
struct Block([f32; 2 * LANES]);

/// `y += a·x` element by element (plain multiply and add: no fused multiply-add, the same
/// bits on every target; the loop vectorises).
#[inline(always)]
fn axpy(y: &mut [f32], x: &[f32], a: f32) {
    for (o, h) in y.iter_mut().zip(x) {
        *o += a * *h;
    }
}
