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
//! target; the design is done once in f64.

use crate::math;
use crate::Frame;

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
    /// layout of [`Sos::tick_frame`].
    pub fn steady_state_frame(&self, u: Frame) -> FrameState {
        let (l, r) = (self.steady_state(u[0]), self.steady_state(u[1]));
        core::array::from_fn(|i| [[l[i][0], r[i][0]], [l[i][1], r[i][1]]])
    }

    /// One stereo frame through the cascade: [`Sos::tick`] on each channel, the same
    /// operations in the same order, written lane-wise (`st[section][state][channel]`) so
    /// that the two channels share vector instructions.
    #[inline]
    pub fn tick_frame(&self, st: &mut FrameState, x: Frame) -> Frame {
        let mut v = x;
        for (sec, s) in self.sections[..self.len].iter().zip(st.iter_mut()) {
            let [b0, b1, b2] = sec.b;
            let [a1, a2] = sec.a;
            let y = [b0 * v[0] + s[0][0], b0 * v[1] + s[0][1]];
            s[0] = [
                math::flush_denormal(b1 * v[0] - a1 * y[0] + s[1][0]),
                math::flush_denormal(b1 * v[1] - a1 * y[1] + s[1][1]),
            ];
            s[1] = [
                math::flush_denormal(b2 * v[0] - a2 * y[0]),
                math::flush_denormal(b2 * v[1] - a2 * y[1]),
            ];
            v = y;
        }
        v
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
/// each as `[left, right]` ([`Sos::tick_frame`]).
pub type FrameState = [[[f32; 2]; 2]; MAX_SECTIONS];

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
        let ring = MAX_PAD as u64 + 1;
        for f in out.iter() {
            let i = self.raw_pulled;
            if (i as usize) <= self.pad {
                self.head[i as usize] = *f;
            }
            if i + ring >= self.n {
                self.tail[(i % ring) as usize] = *f;
            }
            self.raw_pulled += 1;
        }
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
            for (y, x) in self.ybuf[at..at + now.len()].iter_mut().zip(now) {
                *y = sos.tick_frame(&mut st, *x);
            }
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
                for y in run.iter().rev() {
                    sos.tick_frame(&mut st, *y);
                }
            } else {
                for y in run.iter_mut().rev() {
                    *y = sos.tick_frame(&mut st, *y);
                }
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
