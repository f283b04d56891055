//! `timeline`: a picture of a track — the placed steps with their crossfades, and the beat
//! and carrier frequencies of every voice over time (people would rather look than read).
//!
//! Drawn with a small software rasteriser into an RGB buffer and written as PNG; text uses
//! the public-domain 8×8 bitmap font of `font8x8`.

use anyhow::{Context, Result};
use entrain_dsp::ramp::Ramp;
use entrain_engine::engine::{Config, Mode};
use entrain_engine::model::{Pair, VoiceParams, VoiceSpec};
use entrain_engine::voices::StepClock;
use entrain_host::{build_engine, LoadedTrack};
use font8x8::UnicodeFonts;
use std::path::Path;

const W: usize = 1600;
const MARGIN_L: usize = 70;
const MARGIN_R: usize = 20;
const STEPS_TOP: usize = 40;
const STEPS_H: usize = 70;
const PLOT_H: usize = 220;
const GAP: usize = 40;
const BG: [u8; 3] = [20, 22, 28];
const GRID: [u8; 3] = [48, 52, 62];
const TEXT: [u8; 3] = [220, 224, 232];
const DIM: [u8; 3] = [140, 146, 160];
const STEP_COLOURS: [[u8; 3]; 2] = [[52, 84, 140], [70, 112, 170]];
const XFADE: [u8; 3] = [200, 160, 60];

struct Canvas {
    w: usize,
    h: usize,
    px: Vec<u8>,
}

impl Canvas {
    fn new(w: usize, h: usize) -> Self {
        let mut px = vec![0u8; w * h * 3];
        for p in px.chunks_exact_mut(3) {
            p.copy_from_slice(&BG);
        }
        Self { w, h, px }
    }

    fn put(&mut self, x: i64, y: i64, c: [u8; 3]) {
        if x >= 0 && y >= 0 && (x as usize) < self.w && (y as usize) < self.h {
            let i = (y as usize * self.w + x as usize) * 3;
            self.px[i..i + 3].copy_from_slice(&c);
        }
    }

    fn rect(&mut self, x0: i64, y0: i64, x1: i64, y1: i64, c: [u8; 3]) {
        for y in y0.min(y1)..y0.max(y1) {
            for x in x0.min(x1)..x0.max(x1) {
                self.put(x, y, c);
            }
        }
    }

    fn line(&mut self, x0: f64, y0: f64, x1: f64, y1: f64, c: [u8; 3]) {
        let n = ((x1 - x0).abs().max((y1 - y0).abs()).ceil() as usize).max(1);
        for k in 0..=n {
            let t = k as f64 / n as f64;
            let x = x0 + (x1 - x0) * t;
            let y = y0 + (y1 - y0) * t;
            self.put(x.round() as i64, y.round() as i64, c);
            self.put(x.round() as i64, y.round() as i64 + 1, c);
        }
    }

    fn text(&mut self, x: i64, y: i64, s: &str, c: [u8; 3]) {
        let mut cx = x;
        for ch in s.chars() {
            let g = font8x8::BASIC_FONTS
                .get(ch)
                .or_else(|| font8x8::BASIC_FONTS.get('?'))
                .unwrap_or([0; 8]);
            for (row, bits) in g.iter().enumerate() {
                for col in 0..8 {
                    if bits & (1 << col) != 0 {
                        self.put(cx + col, y + row as i64, c);
                    }
                }
            }
            cx += 8;
        }
    }

    fn png(&self, path: &Path) -> Result<()> {
        let tmp = path.with_extension("png.partial");
        let f = std::fs::File::create(&tmp)
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        let mut enc = png::Encoder::new(std::io::BufWriter::new(f), self.w as u32, self.h as u32);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let res = enc
            .write_header()
            .and_then(|mut w| w.write_image_data(&self.px).and_then(|_| w.finish()));
        if let Err(e) = res {
            let _ = std::fs::remove_file(&tmp);
            return Err(anyhow::anyhow!("cannot write {}: {e}", path.display()));
        }
        std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
    }
}

/// Beat (pulse) and carrier frequency of a voice, if it has such parameters.
fn voice_freqs(v: &VoiceSpec) -> Option<(Pair, Pair, [u8; 3])> {
    match &v.params {
        VoiceParams::Binaural(p) => Some((p.beat_freq, p.base_freq, [80, 200, 230])),
        VoiceParams::Isochronic(p) => Some((p.beat_freq, p.base_freq, [240, 150, 60])),
        _ => None,
    }
}

fn nice_step(range: f64, target: usize) -> f64 {
    let raw = range / target as f64;
    let mag = 10f64.powf(raw.log10().floor());
    for m in [1.0, 2.0, 5.0, 10.0] {
        if m * mag >= raw {
            return m * mag;
        }
    }
    10.0 * mag
}

fn mmss(s: f64) -> String {
    let s = s.max(0.0).round() as u64;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// Draws the timeline of `t` into the PNG `out`.
pub fn draw(t: &LoadedTrack, out: &Path) -> Result<()> {
    let tr = t.track.view();
    let engine = build_engine(
        t,
        Config {
            mode: Mode::Streaming,
            ..Config::default()
        },
        &mut |_| {},
    )
    .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let sr = tr.sample_rate as f64;
    let total_s = (engine.total_frames() as f64 / sr).max(1e-3);
    let h = STEPS_TOP + STEPS_H + 2 * (GAP + PLOT_H) + 40;
    let mut c = Canvas::new(W, h);
    let plot_w = (W - MARGIN_L - MARGIN_R) as f64;
    let x_of = |s: f64| MARGIN_L as f64 + s / total_s * plot_w;

    let title = match &t.path {
        Some(p) => p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        None => "track".into(),
    };
    c.text(
        MARGIN_L as i64,
        12,
        &format!("{title}  -  {} - {} Hz", mmss(total_s), tr.sample_rate),
        TEXT,
    );

    // Time grid.
    let step = nice_step(total_s, 12);
    let beat_top = STEPS_TOP + STEPS_H + GAP;
    let car_top = beat_top + PLOT_H + GAP;
    let mut g = 0.0;
    while g <= total_s + 1e-9 {
        let x = x_of(g) as i64;
        c.rect(x, STEPS_TOP as i64, x + 1, (car_top + PLOT_H) as i64, GRID);
        c.text(x - 12, (car_top + PLOT_H + 8) as i64, &mmss(g), DIM);
        g += step;
    }

    // Steps and crossfades.
    c.text(4, (STEPS_TOP + 4) as i64, "steps", DIM);
    for (k, p) in engine.timeline().placements.iter().enumerate() {
        let x0 = x_of(p.start as f64 / sr) as i64;
        let x1 = x_of(p.end() as f64 / sr) as i64;
        let lane = (k % 2) as i64;
        let y0 = STEPS_TOP as i64 + lane * (STEPS_H as i64 / 2);
        let y1 = y0 + STEPS_H as i64 / 2 - 4;
        c.rect(x0, y0, x1.max(x0 + 1), y1, STEP_COLOURS[k % 2]);
        if p.xfade > 0 {
            let xf = x_of((p.start + p.xfade) as f64 / sr) as i64;
            c.rect(x0, y1 - 4, xf.max(x0 + 1), y1, XFADE);
        }
        let desc = t
            .info
            .descriptions
            .get(p.step as usize)
            .map(|d| d.as_str())
            .unwrap_or("");
        let room = ((x1 - x0 - 8) / 8).max(0) as usize;
        let label: String = format!("{} {desc}", p.step + 1)
            .chars()
            .take(room)
            .collect();
        c.text(x0 + 4, y0 + 8, &label, TEXT);
    }

    // Frequency curves, sampled along every voice's ramp.
    struct Curve {
        pts: Vec<(f64, f64, f64)>, // time, beat, carrier
        colour: [u8; 3],
    }
    let mut curves = Vec::new();
    let (mut max_beat, mut min_car, mut max_car) = (1.0f64, f64::MAX, 1.0f64);
    for p in engine.timeline().placements.iter() {
        let step = &tr.steps[p.step as usize];
        let clock = StepClock::new(step.duration, sr);
        for v in tr.step_voices(p.step as usize) {
            let Some((beat, car, colour)) = voice_freqs(v) else {
                continue;
            };
            let ramp = match &v.transition {
                Some(tspec) => Ramp::new(
                    clock.duration,
                    clock.n,
                    tspec.initial_offset,
                    tspec.duration,
                    tspec.curve,
                ),
                None => Ramp::settled(),
            };
            let n = 200usize;
            let mut pts = Vec::with_capacity(n + 1);
            for k in 0..=n {
                let i = (p.len.saturating_sub(1)) * k as u64 / n as u64;
                let a = ramp.alpha(i);
                let (b, cf) = (beat.at(a), car.at(a));
                max_beat = max_beat.max(b);
                if cf > 0.0 {
                    min_car = min_car.min(cf);
                    max_car = max_car.max(cf);
                }
                pts.push(((p.start + i) as f64 / sr, b, cf));
            }
            curves.push(Curve { pts, colour });
        }
    }
    if min_car == f64::MAX {
        min_car = 10.0;
    }
    let beat_max = max_beat * 1.15;
    let (lc0, lc1) = ((min_car * 0.8).max(1.0).log10(), (max_car * 1.25).log10());
    let y_beat = |b: f64| (beat_top + PLOT_H) as f64 - b / beat_max * PLOT_H as f64;
    let y_car = |f: f64| {
        let l = f.max(1.0).log10();
        (car_top + PLOT_H) as f64 - (l - lc0) / (lc1 - lc0).max(1e-9) * PLOT_H as f64
    };
    // Axes labels.
    c.text(4, beat_top as i64 - 14, "beat / pulse rate (Hz)", DIM);
    c.text(4, car_top as i64 - 14, "carrier (Hz, log)", DIM);
    let bstep = nice_step(beat_max, 5);
    let mut b = 0.0;
    while b <= beat_max {
        let y = y_beat(b) as i64;
        c.rect(MARGIN_L as i64, y, (W - MARGIN_R) as i64, y + 1, GRID);
        c.text(8, y - 4, &format!("{b:.0}"), DIM);
        b += bstep;
    }
    for dec in [1.0, 10.0, 100.0, 1000.0, 10_000.0] {
        for m in [1.0, 2.0, 5.0] {
            let f = dec * m;
            let l = f64::log10(f);
            if l >= lc0 && l <= lc1 {
                let y = y_car(f) as i64;
                c.rect(MARGIN_L as i64, y, (W - MARGIN_R) as i64, y + 1, GRID);
                c.text(8, y - 4, &format!("{f:.0}"), DIM);
            }
        }
    }
    for cu in &curves {
        for w in cu.pts.windows(2) {
            let (t0, b0, c0) = w[0];
            let (t1, b1, c1) = w[1];
            c.line(x_of(t0), y_beat(b0), x_of(t1), y_beat(b1), cu.colour);
            if c0 > 0.0 && c1 > 0.0 {
                c.line(x_of(t0), y_car(c0), x_of(t1), y_car(c1), cu.colour);
            }
        }
    }
    // Legend.
    let ly = (h - 16) as i64;
    c.rect(
        MARGIN_L as i64,
        ly + 2,
        MARGIN_L as i64 + 16,
        ly + 6,
        [80, 200, 230],
    );
    c.text(MARGIN_L as i64 + 22, ly, "binaural", TEXT);
    c.rect(
        MARGIN_L as i64 + 120,
        ly + 2,
        MARGIN_L as i64 + 136,
        ly + 6,
        [240, 150, 60],
    );
    c.text(MARGIN_L as i64 + 142, ly, "isochronic", TEXT);
    c.rect(
        MARGIN_L as i64 + 250,
        ly + 2,
        MARGIN_L as i64 + 266,
        ly + 6,
        XFADE,
    );
    c.text(MARGIN_L as i64 + 272, ly, "crossfade", TEXT);
    c.png(out)
}
