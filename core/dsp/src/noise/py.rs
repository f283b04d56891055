//! The original's swept-notch algorithm over a borrowed input signal (NOISE.md §3–§5
//! with `input_audio_path`): sample-exact against the reference renders.
//!
//! When a `.noise` preset names an input file, the original notches that file's first
//! channel instead of generated noise. The input is deterministic, so this path
//! reproduces the original's arithmetic instead of its statistics:
//!
//! * pre-filters: float64 `filtfilt` of a 1st-order Butterworth low-pass at 10 kHz (odd
//!   padding 6) and a 2nd-order high-pass at 50 Hz (padding 9), with SciPy's
//!   `lfilter_zi` initial states, streamed with a bounded look-ahead ([`ZeroPhase64`]:
//!   the backward pass starts from the steady state `LOOK` samples ahead, exact at the
//!   end of the signal, truncation error `r^LOOK` ≤ 1e-12 elsewhere);
//! * peak normalisation to 0.8, `rms_in`;
//! * Hann overlap-add (B = 4096, hop 2048, blocks shorter than 100 samples skipped),
//!   notch parameters sampled at each block centre, every block filtered by
//!   `lfilter(iirnotch(...))` in float64 from zero state, accumulated in float32 exactly
//!   as the original's `+=` into a float32 array;
//! * one or two passes per channel, the transition LFO as the original's float64
//!   `cumsum`, the cascade count rounded half to even;
//! * per-channel RMS matching and the 0.95 peak stage.
//!
//! The global quantities (input peak, RMS, output RMS and peak) come from two analysis
//! passes in [`PyNotch::new`], so memory stays constant (about 270 KB, dominated by the
//! 2 × 2 overlap-add stages and the high-pass look-ahead: an offline, host-side path).
//! [`PyNotch::seek`] re-runs from the start of the input (O(t)); the input is as long as
//! the file, not the track. Limitation: when the transition's α is computed over a
//! different length than the file (the original interpolates α onto the file length),
//! α is evaluated over the file length here.

use super::notch::{iirnotch64, LfoWave, SweptParams, MAX_CASCADE, MAX_PASSES, MAX_SWEEPS};
use crate::math;
use crate::ramp::Ramp;
use crate::Frame;

/// Overlap-add block (the original's `block_size`).
pub const OLA_BLOCK: usize = 4096;
/// Overlap-add hop.
pub const OLA_HOP: usize = OLA_BLOCK / 2;
/// Blocks shorter than this are skipped (the original's rule).
const MIN_BLOCK: usize = 100;
/// Largest `padlen` used (2nd-order filter: 3 × 3).
const MAX_PAD: usize = 9;
/// Look-ahead capacity of the high-pass stage (chunk + look-ahead).
const HP_CAP: usize = 8192;
/// Look-ahead capacity of the low-pass stage (its pole is 0.07: 16 samples suffice).
const LP_CAP: usize = 256;

/// A 1st- or 2nd-order filter in SciPy's `lfilter` arithmetic (direct form II
/// transposed, float64, `a[0] = 1`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Lfilter {
    /// Numerator.
    pub b: [f64; 3],
    /// Denominator (`a[0] = 1`).
    pub a: [f64; 3],
}

impl Lfilter {
    /// One sample with state `z` (SciPy's loop order: `y = z0 + b0·x`,
    /// `z0 = z1 + x·b1 - y·a1`, `z1 = x·b2 - y·a2`).
    #[inline]
    pub fn tick(&self, z: &mut [f64; 2], x: f64) -> f64 {
        let y = z[0] + self.b[0] * x;
        z[0] = z[1] + x * self.b[1] - y * self.a[1];
        z[1] = x * self.b[2] - y * self.a[2];
        y
    }

    /// SciPy `lfilter_zi(b, a)`: the state of the steady response to a unit step.
    pub fn zi(&self) -> [f64; 2] {
        let dc = (self.b[0] + self.b[1] + self.b[2]) / (1.0 + self.a[1] + self.a[2]);
        let z1 = self.b[2] - self.a[2] * dc;
        let z0 = self.b[1] - self.a[1] * dc + z1;
        [z0, z1]
    }

    /// Largest pole radius.
    fn pole_radius(&self) -> f64 {
        let (a1, a2) = (self.a[1], self.a[2]);
        let disc = a1 * a1 - 4.0 * a2;
        if disc < 0.0 {
            math::sqrt(a2.max(0.0))
        } else {
            let sq = math::sqrt(disc);
            math::fabs((-a1 + sq) / 2.0).max(math::fabs((-a1 - sq) / 2.0))
        }
    }
}

/// SciPy `butter(1, 10000, 'low', fs)` and `butter(2, 50, 'high', fs)`.
pub fn prefilters64(sr: f64) -> [Lfilter; 2] {
    let k = math::tan(math::PI * 10_000.0 / sr);
    let lp = Lfilter {
        b: [k / (1.0 + k), k / (1.0 + k), 0.0],
        a: [1.0, (k - 1.0) / (k + 1.0), 0.0],
    };
    let k = math::tan(math::PI * 50.0 / sr);
    let s2 = core::f64::consts::SQRT_2;
    let norm = 1.0 / (1.0 + s2 * k + k * k);
    let hp = Lfilter {
        b: [norm, -2.0 * norm, norm],
        a: [
            1.0,
            2.0 * (k * k - 1.0) * norm,
            (1.0 - s2 * k + k * k) * norm,
        ],
    };
    [lp, hp]
}

/// Streaming float64 `filtfilt` (odd padding, `lfilter_zi` states) of a mono signal of
/// known length pulled sample by sample; `CAP` bounds the look-ahead.
#[derive(Clone, Debug)]
pub struct ZeroPhase64<const CAP: usize> {
    f: Lfilter,
    n: u64,
    pad: usize,
    chunk: usize,
    look: usize,
    ybuf: [f64; CAP],
    head: [f64; MAX_PAD + 1],
    tail: [f64; MAX_PAD + 2],
    raw_pulled: u64,
    fwd: [f64; 2],
    produced: u64,
    ready_at: u64,
    ready_end: u64,
}

impl<const CAP: usize> ZeroPhase64<CAP> {
    /// A zero-phase `f` over `n` samples with `filtfilt`'s `padlen` (`3·max(len(a), len(b))`).
    pub fn new(f: Lfilter, n: u64, padlen: usize) -> Self {
        let r = f.pole_radius();
        let need = if r > 0.0 && r < 1.0 {
            math::ceil(math::ln(1e-12) / math::ln(r)) as usize
        } else {
            CAP / 2
        };
        let look = need.clamp(16, CAP / 2 + CAP / 4);
        let pad = padlen.min(MAX_PAD);
        Self {
            f,
            n,
            pad,
            chunk: CAP - look,
            look,
            ybuf: [0.0; CAP],
            head: [0.0; MAX_PAD + 1],
            tail: [0.0; MAX_PAD + 2],
            raw_pulled: 0,
            fwd: [0.0; 2],
            produced: 0,
            ready_at: pad as u64,
            ready_end: pad as u64,
        }
    }

    fn ext_len(&self) -> u64 {
        self.n + 2 * self.pad as u64
    }

    fn pull(&mut self, src: &mut dyn FnMut() -> f64) -> f64 {
        let x = src();
        let i = self.raw_pulled;
        if (i as usize) <= self.pad {
            self.head[i as usize] = x;
        }
        self.tail[(i % (MAX_PAD as u64 + 2)) as usize] = x;
        self.raw_pulled += 1;
        x
    }

    fn tail_at(&self, i: u64) -> f64 {
        self.tail[(i % (MAX_PAD as u64 + 2)) as usize]
    }

    fn forward_one(&mut self, x: f64) {
        if self.produced == 0 {
            let zi = self.f.zi();
            self.fwd = [zi[0] * x, zi[1] * x];
        }
        let y = self.f.tick(&mut self.fwd, x);
        self.ybuf[(self.produced % CAP as u64) as usize] = y;
        self.produced += 1;
    }

    fn produce(&mut self, src: &mut dyn FnMut() -> f64, upto: u64) {
        let p = self.pad as u64;
        let upto = upto.min(self.ext_len());
        while self.produced < upto {
            let j = self.produced;
            let x = if j < p {
                while self.raw_pulled <= p {
                    self.pull(src);
                }
                2.0 * self.head[0] - self.head[(p - j) as usize]
            } else if j < p + self.n {
                let i = j - p;
                if i < self.raw_pulled {
                    if (i as usize) <= self.pad {
                        self.head[i as usize]
                    } else {
                        self.tail_at(i)
                    }
                } else {
                    self.pull(src)
                }
            } else {
                let m = j - p - self.n;
                2.0 * self.tail_at(self.n - 1) - self.tail_at(self.n - 2 - m)
            };
            self.forward_one(x);
        }
    }

    fn backward_chunk(&mut self, base: u64) {
        let end = (base + (self.chunk + self.look) as u64).min(self.ext_len());
        let keep_end = (base + self.chunk as u64).min(end);
        let cap = CAP as u64;
        let zi = self.f.zi();
        let y_last = self.ybuf[((end - 1) % cap) as usize];
        let mut st = [zi[0] * y_last, zi[1] * y_last];
        let mut j = end;
        while j > base {
            j -= 1;
            let slot = (j % cap) as usize;
            let z = self.f.tick(&mut st, self.ybuf[slot]);
            if j < keep_end {
                self.ybuf[slot] = z;
            }
        }
        self.ready_at = base;
        self.ready_end = keep_end;
    }

    /// The next output sample (0 past the end; the signal must be longer than `padlen`).
    pub fn next(&mut self, src: &mut dyn FnMut() -> f64) -> f64 {
        let p = self.pad as u64;
        if self.n <= p {
            return 0.0;
        }
        if self.ready_at >= self.ready_end {
            let base = self.ready_end;
            if base >= p + self.n {
                return 0.0;
            }
            let need = base + (self.chunk + self.look) as u64;
            self.produce(src, need);
            self.backward_chunk(base);
        }
        let y = self.ybuf[(self.ready_at % CAP as u64) as usize];
        self.ready_at += 1;
        y
    }
}

/// `np.hanning(OLA_BLOCK)[i]`.
#[inline]
fn hann(i: usize) -> f64 {
    0.5 - 0.5 * math::cos(2.0 * math::PI * i as f64 / (OLA_BLOCK - 1) as f64)
}

/// `scipy.signal.sawtooth(x, 0.5)`.
fn sawtooth_half(x: f64) -> f64 {
    let mut t = x % math::TAU;
    if t < 0.0 {
        t += math::TAU;
    }
    if t < 0.5 * math::TAU {
        t / (math::PI * 0.5) - 1.0
    } else {
        (math::PI * 1.5 - t) / (math::PI * 0.5)
    }
}

/// Python's `round()` on a float64: half to even.
fn round_half_even(x: f64) -> f64 {
    let f = math::floor(x);
    let d = x - f;
    if d < 0.5 || (d == 0.5 && f % 2.0 == 0.0) {
        f
    } else {
        f + 1.0
    }
}

/// One overlap-add pass (one channel, one LFO phase).
#[derive(Clone, Debug)]
struct Stage {
    /// Input hops `k` and `k+1` (by sample index mod 2H).
    inbuf: [f64; OLA_BLOCK],
    /// float32 accumulator of hops `k`, `k+1`.
    acc: [f32; OLA_BLOCK],
    /// Input hops received.
    hops_in: u64,
    /// Right channel (adds the right LFO offset).
    right: bool,
    /// Second pass (adds the intra offset).
    second: bool,
    /// Transition: running float64 cumsum of `2π·f_k/sr` and the next index to add.
    cum: f64,
    cum_next: u64,
}

impl Stage {
    fn new(right: bool, second: bool) -> Self {
        Self {
            inbuf: [0.0; OLA_BLOCK],
            acc: [0.0; OLA_BLOCK],
            hops_in: 0,
            right,
            second,
            cum: 0.0,
            cum_next: 0,
        }
    }
}

/// The fixed part of a [`PyNotch`].
#[derive(Clone, Debug)]
struct PyCfg {
    p: SweptParams,
    sr: f64,
    n: u64,
    ramp: Ramp,
}

/// The original's swept-notch generator over a borrowed input (module docs).
#[derive(Clone, Debug)]
pub struct PyNotch {
    cfg: PyCfg,
    n: u64,
    lp: ZeroPhase64<LP_CAP>,
    hp: ZeroPhase64<HP_CAP>,
    lp_filter: Lfilter,
    hp_filter: Lfilter,
    src_pos: u64,
    /// `max|prefiltered| + 1e-8`.
    denom: f64,
    stages: [[Stage; MAX_PASSES]; 2],
    passes: usize,
    src_hops: u64,
    /// Final output hop (both channels) and the read position in it.
    out_hop: [[f32; OLA_HOP]; 2],
    out_hop_index: u64,
    read: usize,
    pos: u64,
    /// Level stage: per-channel RMS ratio, then divide by `max_val` or clip.
    ratio: [f64; 2],
    max_val: f32,
    analysing: bool,
    /// Analysis accumulators.
    sum_in: f64,
    sum_out: [f64; 2],
    peak_out: [f32; 2],
}

impl PyNotch {
    /// The generator for `input` (the file's first channel) at `sr`, with the notch
    /// parameters of `params` (its colour is ignored). Runs the two analysis passes.
    pub fn new(params: &SweptParams, sr: u32, input: &[f32]) -> Self {
        let srf = sr as f64;
        let n = input.len() as u64;
        let [lp, hp] = prefilters64(srf);
        let d = n as f64 / srf;
        let ramp = if params.transition {
            let io = params.initial_offset.max(0.0);
            let max_td = (d - io).max(0.0);
            let td = params
                .transition_duration
                .unwrap_or(max_td)
                .clamp(0.0, max_td);
            Ramp::new(d, n, io, Some(td), params.curve)
        } else {
            Ramp::settled()
        };
        let passes = params.passes();
        let mut g = Self {
            cfg: PyCfg {
                p: *params,
                sr: srf,
                n,
                ramp,
            },
            n,
            lp: ZeroPhase64::new(lp, n, 6),
            hp: ZeroPhase64::new(hp, n, 9),
            lp_filter: lp,
            hp_filter: hp,
            src_pos: 0,
            denom: 1.0,
            stages: [
                [Stage::new(false, false), Stage::new(false, true)],
                [Stage::new(true, false), Stage::new(true, true)],
            ],
            passes,
            src_hops: 0,
            out_hop: [[0.0; OLA_HOP]; 2],
            out_hop_index: 0,
            read: OLA_HOP,
            pos: 0,
            ratio: [1.0, 1.0],
            max_val: 0.0,
            analysing: true,
            sum_in: 0.0,
            sum_out: [0.0; 2],
            peak_out: [0.0; 2],
        };
        // Pass 1: the pre-filtered peak.
        let mut peak = 0.0f64;
        for _ in 0..n {
            peak = peak.max(math::fabs(g.prefiltered(input)));
        }
        g.denom = peak + 1e-8;
        // Pass 2: rms_in, channel RMS and peaks of the notched signal.
        g.restart();
        for _ in 0..n {
            let f = g.raw_frame(input);
            for (c, v) in f.iter().enumerate() {
                g.sum_out[c] += *v as f64 * *v as f64;
                g.peak_out[c] = g.peak_out[c].max(math::fabsf(*v));
            }
        }
        let rms_in = if n > 0 {
            math::sqrt(g.sum_in / n as f64).max(1e-8)
        } else {
            1e-8
        };
        let mut max_val = 0.0f32;
        for c in 0..2 {
            // The original's channel RMS is float32 (mean of a float32 array).
            let ms = if n > 0 {
                (g.sum_out[c] / n as f64) as f32
            } else {
                0.0
            };
            let rms = math::sqrtf(ms);
            g.ratio[c] = if rms > 1e-8 { rms_in / rms as f64 } else { 1.0 };
            let pk = (g.peak_out[c] as f64 * g.ratio[c]) as f32;
            max_val = max_val.max(pk);
        }
        g.max_val = max_val;
        g.analysing = false;
        g.restart();
        g
    }

    /// Length of the output (= the input), frames.
    pub fn frames(&self) -> u64 {
        self.n
    }

    fn restart(&mut self) {
        self.lp = ZeroPhase64::new(self.lp_filter, self.n, 6);
        self.hp = ZeroPhase64::new(self.hp_filter, self.n, 9);
        self.src_pos = 0;
        self.stages = [
            [Stage::new(false, false), Stage::new(false, true)],
            [Stage::new(true, false), Stage::new(true, true)],
        ];
        self.src_hops = 0;
        self.out_hop_index = 0;
        self.read = OLA_HOP;
        self.pos = 0;
    }

    /// Back to the start.
    pub fn reset(&mut self) {
        self.restart();
    }

    /// Moves to frame `t` by re-running from the start (O(t), offline path).
    pub fn seek(&mut self, input: &[f32], t: u64) {
        self.restart();
        while self.pos < t.min(self.n) {
            self.next_frame(input);
        }
    }

    /// The next pre-filtered (not yet normalised) input sample.
    fn prefiltered(&mut self, input: &[f32]) -> f64 {
        let lp = &mut self.lp;
        let src_pos = &mut self.src_pos;
        let mut raw = || {
            let v = input.get(*src_pos as usize).copied().unwrap_or(0.0) as f64;
            *src_pos += 1;
            v
        };
        let mut lp_src = || lp.next(&mut raw);
        self.hp.next(&mut lp_src)
    }
}

impl PyCfg {
    /// Notch frequency and parameters of sweep `j` at block centre `c` for a stage.
    fn block_notches(
        &self,
        stage: &mut Stage,
        c: u64,
        out: &mut [(f64, f64, usize); MAX_SWEEPS],
    ) -> usize {
        let p = &self.p;
        let count = p.sweep_count.min(MAX_SWEEPS);
        let deg2rad = |x: f64| x * (math::PI / 180.0);
        if !p.transition {
            let t = c as f64 / self.sr;
            let mut phase_offset = if stage.right {
                deg2rad(p.lfo_phase_offset_deg[0])
            } else {
                0.0
            };
            if stage.second {
                phase_offset += deg2rad(p.intra_phase_offset_deg[0]);
            }
            let arg = 2.0 * math::PI * p.lfo_freq * t + phase_offset;
            let lfo = match p.lfo_wave {
                LfoWave::Sine => math::cos(arg),
                LfoWave::Triangle => sawtooth_half(arg),
            };
            for (o, s) in out.iter_mut().zip(p.sweeps[..count].iter()) {
                let centre = (s.min_hz[0] + s.max_hz[0]) / 2.0;
                let range = (s.max_hz[0] - s.min_hz[0]) / 2.0;
                *o = (centre + range * lfo, s.q[0], s.casc[0] as usize);
            }
        } else {
            // phase_base = cumsum(2π·f_k/sr), f_k = start + (end - start)·α_k
            let [fs, fe] = p.transition_lfo_freq;
            while stage.cum_next <= c {
                let a = self.ramp.alpha(stage.cum_next);
                let f = fs + (fe - fs) * a;
                stage.cum += 2.0 * math::PI * f / self.sr;
                stage.cum_next += 1;
            }
            let a = self.ramp.alpha(c);
            let lerp = |v: [f64; 2]| v[0] + (v[1] - v[0]) * a;
            let mut ph = stage.cum;
            if stage.right {
                ph += deg2rad(lerp(p.lfo_phase_offset_deg));
            }
            if stage.second {
                ph += deg2rad(lerp(p.intra_phase_offset_deg));
            }
            let lfo = match p.lfo_wave {
                LfoWave::Sine => math::cos(ph),
                LfoWave::Triangle => sawtooth_half(ph),
            };
            for (o, s) in out.iter_mut().zip(p.sweeps[..count].iter()) {
                let min_f = lerp(s.min_hz);
                let max_f = lerp(s.max_hz);
                let centre = (min_f + max_f) / 2.0;
                let range = (max_f - min_f) / 2.0;
                let casc = round_half_even(lerp(s.casc)).max(1.0) as usize;
                *o = (centre + range * lfo, lerp(s.q), casc);
            }
        }
        count
    }

    /// Feeds input hop `h` (samples `[hH, hH + H)`) to a stage; returns output hop
    /// `h - 1` when `h ≥ 1`.
    fn stage_push(&self, stage: &mut Stage, hop: &[f64; OLA_HOP]) -> Option<[f32; OLA_HOP]> {
        let h = stage.hops_in;
        let base = ((h as usize) % 2) * OLA_HOP;
        stage.inbuf[base..base + OLA_HOP].copy_from_slice(hop);
        stage.hops_in += 1;
        if h == 0 {
            return None;
        }
        let k = h - 1; // block k = input [kH, kH + B)
        let s = k * OLA_HOP as u64;
        let e = (s + OLA_BLOCK as u64).min(self.n);
        let len = e.saturating_sub(s) as usize;
        let kb = ((k as usize) % 2) * OLA_HOP; // ring offset of sample s
        if len >= MIN_BLOCK {
            let mut blk = [0.0f64; OLA_BLOCK];
            for (i, b) in blk.iter_mut().enumerate().take(len) {
                *b = stage.inbuf[(kb + i) % OLA_BLOCK] * hann(i);
            }
            let c = s + (len / 2) as u64;
            let mut notches = [(0.0, 0.0, 0usize); MAX_SWEEPS];
            let count = self.block_notches(stage, c, &mut notches);
            for &(f0, q, casc) in notches[..count].iter() {
                if f0 >= self.sr * 0.49 {
                    continue;
                }
                let Some((b, a)) = iirnotch64(f0, q, self.sr) else {
                    continue;
                };
                let f = Lfilter { b, a };
                for _ in 0..casc.min(MAX_CASCADE) {
                    let mut z = [0.0f64; 2];
                    for v in blk.iter_mut() {
                        *v = f.tick(&mut z, *v);
                    }
                }
            }
            for (i, v) in blk.iter().enumerate() {
                let slot = (kb + i) % OLA_BLOCK;
                stage.acc[slot] = (stage.acc[slot] as f64 + v) as f32;
            }
        }
        // Hop k is final: blocks k-1 and k contributed. Divide by the float32 window sum.
        let prev_active = k >= 1 && {
            let ps = (k - 1) * OLA_HOP as u64;
            (ps + OLA_BLOCK as u64).min(self.n).saturating_sub(ps) as usize >= MIN_BLOCK
        };
        let mut out = [0.0f32; OLA_HOP];
        for (i, o) in out.iter_mut().enumerate() {
            let mut w = 0.0f32;
            if prev_active {
                w = (w as f64 + hann(OLA_HOP + i)) as f32;
            }
            if len >= MIN_BLOCK {
                w = (w as f64 + hann(i)) as f32;
            }
            let slot = kb + i;
            let a = stage.acc[slot];
            *o = if w > 1e-8 { a / w } else { a };
            stage.acc[slot] = 0.0;
        }
        Some(out)
    }
}

impl PyNotch {
    /// Produces the next final hop (both channels) of the notched, unscaled signal.
    fn next_hop(&mut self, input: &[f32]) {
        let want = self.out_hop_index;
        loop {
            // Source hop h.
            let mut hop = [0.0f64; OLA_HOP];
            for (i, v) in hop.iter_mut().enumerate() {
                let idx = self.src_hops * OLA_HOP as u64 + i as u64;
                if idx < self.n {
                    let x = self.prefiltered(input) / self.denom * 0.8;
                    if self.analysing {
                        self.sum_in += x * x;
                    }
                    *v = x;
                }
            }
            self.src_hops += 1;
            let mut produced = false;
            let cfg = &self.cfg;
            for (ch, chain) in self.stages.iter_mut().enumerate() {
                let mut cur: Option<[f64; OLA_HOP]> = Some(hop);
                for (si, st) in chain.iter_mut().take(self.passes).enumerate() {
                    let Some(inp) = cur else { break };
                    let o = cfg.stage_push(st, &inp);
                    cur = o.map(|o32| {
                        let mut v = [0.0f64; OLA_HOP];
                        for (d, s) in v.iter_mut().zip(o32.iter()) {
                            *d = *s as f64;
                        }
                        v
                    });
                    if si + 1 == self.passes {
                        if let Some(o32) = o {
                            self.out_hop[ch] = o32;
                            produced = true;
                        }
                    }
                }
            }
            if produced {
                // Final hop index = src hop - passes.
                if self.src_hops - self.passes as u64 > want {
                    break;
                }
            }
        }
        self.out_hop_index += 1;
        self.read = 0;
    }

    fn raw_frame(&mut self, input: &[f32]) -> Frame {
        if self.read >= OLA_HOP {
            self.next_hop(input);
        }
        let f = [self.out_hop[0][self.read], self.out_hop[1][self.read]];
        self.read += 1;
        self.pos += 1;
        f
    }

    /// The next output frame (silence past the end of the input).
    pub fn next_frame(&mut self, input: &[f32]) -> Frame {
        if self.pos >= self.n {
            return [0.0, 0.0];
        }
        let f = self.raw_frame(input);
        let mut o = [0.0f32; 2];
        for ((o, &v), &r) in o.iter_mut().zip(f.iter()).zip(self.ratio.iter()) {
            let x = (v as f64 * r) as f32;
            *o = if self.max_val > 0.95 {
                x.clamp(-0.95, 0.95)
            } else if self.max_val > 0.0 {
                x / self.max_val * 0.95
            } else {
                x
            };
        }
        o
    }

    /// Fills `out` (bit-identical to [`PyNotch::next_frame`]).
    pub fn process(&mut self, input: &[f32], out: &mut [Frame]) {
        for f in out.iter_mut() {
            *f = self.next_frame(input);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_round() {
        assert_eq!(round_half_even(7.5), 8.0);
        assert_eq!(round_half_even(6.5), 6.0);
        assert_eq!(round_half_even(6.6), 7.0);
        assert_eq!(round_half_even(2.5), 2.0);
    }

    #[test]
    fn sawtooth_matches_scipy_shape() {
        assert!((sawtooth_half(0.0) + 1.0).abs() < 1e-15);
        assert!((sawtooth_half(math::PI) - 1.0).abs() < 1e-15);
        assert!((sawtooth_half(-math::PI / 2.0) - 0.0).abs() < 1e-15);
    }

    #[test]
    fn zero_phase64_matches_direct_filtfilt() {
        let sr = 44100.0;
        let [lp, hp] = prefilters64(sr);
        let n = 30_000usize;
        let x: Vec<f64> = (0..n)
            .map(|i| ((i * 7919) % 1000) as f64 / 500.0 - 1.0 + (i as f64 * 0.01).sin())
            .collect();
        for (f, pad) in [(lp, 6usize), (hp, 9)] {
            // direct whole-buffer filtfilt
            let mut ext = Vec::new();
            for j in 0..pad {
                ext.push(2.0 * x[0] - x[pad - j]);
            }
            ext.extend_from_slice(&x);
            for m in 0..pad {
                ext.push(2.0 * x[n - 1] - x[n - 2 - m]);
            }
            let run = |v: &[f64]| -> Vec<f64> {
                let zi = f.zi();
                let mut z = [zi[0] * v[0], zi[1] * v[0]];
                v.iter().map(|&s| f.tick(&mut z, s)).collect()
            };
            let mut y = run(&ext);
            y.reverse();
            let mut zz = run(&y);
            zz.reverse();
            let want = &zz[pad..pad + n];
            let mut zp: Box<ZeroPhase64<HP_CAP>> = Box::new(ZeroPhase64::new(f, n as u64, pad));
            let mut i = 0usize;
            let mut src = || {
                let v = x[i];
                i += 1;
                v
            };
            let mut max = 0.0f64;
            for w in want.iter() {
                max = max.max((zp.next(&mut src) - w).abs());
            }
            assert!(max < 1e-10, "max {max}");
        }
    }
}
