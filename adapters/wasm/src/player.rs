//! The player behind the JS API, in plain Rust (unit-tested on the host).
//!
//! A [`Player`] owns one engine (two while a replaced track crossfades in), a pause flag
//! and pre-sized scratch. Rendering never allocates: the engines' memory is sized when
//! they are built ([`entrain_host::build_engine`]), and the scratch and the interleaved
//! output buffer are allocated by [`Player::new`]. Building an engine (the constructor,
//! [`Player::update_track`]) does allocate; in an AudioWorklet that happens between two
//! render quanta (WASM_GUIDE.md, "Real-time").

use entrain_dsp::crossfade::CrossfadeCurve;
use entrain_dsp::Frame;
use entrain_engine::engine::{Config, Mode};
use entrain_host::{build_engine, load_track_str_with_preset, HostEngine, LoadedTrack};

/// Length of the crossfade when the track is replaced while playing (the same as
/// entrain-cpal's `SWAP_CROSSFADE_S`).
pub const SWAP_CROSSFADE_S: f32 = 0.1;

/// Frames of the interleaved output buffer behind [`Player::render`] (the largest
/// `frames` it takes). An AudioWorklet asks for 128 per quantum; the original web UI
/// filled its ring buffer in chunks of a few thousand.
pub const MAX_BLOCK_FRAMES: usize = 8192;

/// Frames rendered per engine call by the scratch buffers.
const SCRATCH: usize = 1024;

/// Sample rates accepted for rendering (the track format's range, TRACK_FORMAT.md §14).
pub const SAMPLE_RATE_RANGE: (u32, u32) = (8_000, 192_000);

/// How a [`Player`] renders.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Options {
    /// Output chain: [`Mode::Streaming`] (fixed headroom and limiter, the live default)
    /// or [`Mode::Compatible`] (the original's offline normalisation; its analysis passes
    /// render the whole track when the player is built).
    pub mode: Mode,
    /// Render at this rate instead of the track's (the track is re-targeted, as
    /// entrain-cpal does for a device that cannot run at the track's rate).
    pub sample_rate: Option<u32>,
    /// Output peak level (the original's target amplitude).
    pub level: f32,
    /// Start position, seconds.
    pub start_s: f64,
    /// Master gain at start, 0..1.
    pub master_gain: f32,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            mode: Mode::Streaming,
            sample_rate: None,
            level: 0.25,
            start_s: 0.0,
            master_gain: 1.0,
        }
    }
}

/// Parses a track the way the host does, with the text of its noise preset handed in
/// (no file system). The error is the host's message: one located line per problem
/// (`step 1, voice 0, key `baseFreq` (line 4, column 28): …`).
pub fn load(json: &str, noise_preset: Option<&str>) -> Result<LoadedTrack, String> {
    load_track_str_with_preset(json, noise_preset.map(str::as_bytes)).map_err(|e| e.to_string())
}

/// Frames of `seconds` at `rate` (negative and NaN are 0), as entrain-cpal computes a
/// start position.
pub fn frames_at(seconds: f64, rate: u32) -> u64 {
    if seconds.is_nan() {
        return 0;
    }
    (seconds.max(0.0) * rate as f64) as u64
}

fn build(loaded: &LoadedTrack, opts: &Options, rate: u32) -> Result<Box<HostEngine>, String> {
    // Re-targeted (clip audio decoded again at `rate`) only if the rate differs.
    let at_rate;
    let loaded = if loaded.track.sample_rate == rate {
        loaded
    } else {
        at_rate = loaded.at_rate(rate).map_err(|e| e.to_string())?;
        &at_rate
    };
    let cfg = Config {
        mode: opts.mode,
        target_level: opts.level,
        ..Config::default()
    };
    build_engine(loaded, cfg, &mut |_| {})
        .map(Box::new)
        .map_err(|e| format!("cannot build the engine for this track: {e:?}"))
}

/// A track being played: pull-mode rendering with live controls.
pub struct Player {
    loaded: LoadedTrack,
    opts: Options,
    rate: u32,
    engine: Box<HostEngine>,
    /// The replacement engine while it crossfades in.
    incoming: Option<Box<HostEngine>>,
    /// An engine replaced by a swap; dropped by the next control call, not while rendering.
    retired: Option<Box<HostEngine>>,
    fade_left: u32,
    fade_len: u32,
    paused: bool,
    master: f32,
    gpu: bool,
    a: Vec<Frame>,
    b: Vec<Frame>,
    out: Vec<f32>,
}

impl std::fmt::Debug for Player {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Player")
            .field("rate", &self.rate)
            .field("position", &self.position())
            .field("paused", &self.paused)
            .finish()
    }
}

impl Player {
    /// Parses `json` (with its noise preset text, if it names one), builds the engine and
    /// positions it at `opts.start_s`.
    pub fn new(json: &str, noise_preset: Option<&str>, opts: Options) -> Result<Self, String> {
        let loaded = load(json, noise_preset)?;
        Self::from_loaded(loaded, opts)
    }

    /// [`Player::new`] for an already parsed track.
    pub fn from_loaded(loaded: LoadedTrack, opts: Options) -> Result<Self, String> {
        let rate = opts.sample_rate.unwrap_or(loaded.track.sample_rate);
        if !(SAMPLE_RATE_RANGE.0..=SAMPLE_RATE_RANGE.1).contains(&rate) {
            return Err(format!(
                "sample rate {rate} Hz outside {}..={} Hz",
                SAMPLE_RATE_RANGE.0, SAMPLE_RATE_RANGE.1
            ));
        }
        let mut engine = build(&loaded, &opts, rate)?;
        engine.set_master_gain(opts.master_gain);
        engine.seek(frames_at(opts.start_s, rate));
        Ok(Self {
            loaded,
            opts,
            rate,
            engine,
            incoming: None,
            retired: None,
            fade_left: 0,
            fade_len: ((SWAP_CROSSFADE_S * rate as f32) as u32).max(1),
            paused: false,
            master: opts.master_gain,
            gpu: false,
            a: vec![[0.0; 2]; SCRATCH],
            b: vec![[0.0; 2]; SCRATCH],
            out: vec![0.0; 2 * MAX_BLOCK_FRAMES],
        })
    }

    /// The track as loaded (the one being switched to during a swap).
    pub fn loaded(&self) -> &LoadedTrack {
        &self.loaded
    }

    /// The options the player was built with.
    pub fn options(&self) -> &Options {
        &self.opts
    }

    /// Rendering sample rate, Hz.
    pub fn sample_rate(&self) -> u32 {
        self.rate
    }

    /// Frames in the whole track (at the rendering rate).
    pub fn total_frames(&self) -> u64 {
        self.current().total_frames()
    }

    /// Track position, frames (what the original calls elapsed samples).
    pub fn position(&self) -> u64 {
        self.current().position()
    }

    /// The step sounding last in file order at the position (None past the end).
    pub fn current_step(&self) -> Option<usize> {
        self.current().current_step()
    }

    /// The engine that defines the position: the incoming one during a swap (both move
    /// together), else the only one.
    fn current(&self) -> &HostEngine {
        self.incoming.as_deref().unwrap_or(&self.engine)
    }

    /// Paused (rendering outputs silence and keeps the position).
    pub fn is_paused(&self) -> bool {
        self.paused
    }

    /// The whole track has been rendered.
    pub fn finished(&self) -> bool {
        self.position() >= self.total_frames()
    }

    /// Silence from now on, keeping the position.
    pub fn pause(&mut self) {
        self.paused = true;
    }

    /// Continue from the kept position.
    pub fn resume(&mut self) {
        self.paused = false;
    }

    /// Jump to frame `frame` (clamped to the track), sample-exact, no declicking ramp.
    pub fn seek_frames(&mut self, frame: u64) {
        self.retired = None;
        self.engine.seek(frame);
        if let Some(inc) = self.incoming.as_mut() {
            inc.seek(frame);
        }
    }

    /// Jump to `seconds` (negative and NaN: the start).
    pub fn seek_seconds(&mut self, seconds: f64) {
        self.seek_frames(frames_at(seconds, self.rate));
    }

    /// Live output gain (clamped to 0..1 by the engine; NaN is 0).
    pub fn set_master_gain(&mut self, g: f32) {
        self.engine.set_master_gain(g);
        if let Some(inc) = self.incoming.as_mut() {
            inc.set_master_gain(g);
        }
        self.master = if g.is_nan() { 0.0 } else { g.clamp(0.0, 1.0) };
    }

    /// The master gain in effect.
    pub fn master_gain(&self) -> f32 {
        self.master
    }

    /// Records a GPU request. Mixing always runs on the CPU here (the original's wgpu path
    /// does not exist in a browser build); the flag is only reported back.
    pub fn enable_gpu(&mut self, on: bool) {
        self.gpu = on;
    }

    /// The last GPU request.
    pub fn gpu_requested(&self) -> bool {
        self.gpu
    }

    /// Replaces the track, keeping the position: the new engine (same options and rate)
    /// fades in over [`SWAP_CROSSFADE_S`] with equal-power gains while the old one fades
    /// out, from the next rendered frame on. A bad track leaves playback untouched.
    pub fn update_track(&mut self, json: &str, noise_preset: Option<&str>) -> Result<(), String> {
        let loaded = load(json, noise_preset)?;
        let mut e = build(&loaded, &self.opts, self.rate)?;
        e.set_master_gain(self.master);
        self.retired = None;
        if let Some(prev) = self.incoming.take() {
            // A swap during a swap: the pending engine becomes the one fading out.
            self.engine = prev;
        }
        e.seek(self.engine.position());
        self.incoming = Some(e);
        self.fade_left = self.fade_len;
        self.loaded = loaded;
        Ok(())
    }

    /// Renders `out.len() / 2` interleaved stereo frames (`L R L R …`; a trailing odd
    /// sample is zeroed). Returns the frames of track written: fewer at the end of the
    /// track (the rest is silence), and all of them while paused (silence, position kept).
    pub fn render_interleaved(&mut self, out: &mut [f32]) -> usize {
        let mut written = 0;
        let frames = out.len() / 2;
        let mut done = 0;
        while done < frames {
            let n = (frames - done).min(SCRATCH);
            written += self.render_scratch(n);
            for (o, f) in out[2 * done..2 * (done + n)]
                .chunks_exact_mut(2)
                .zip(self.a[..n].iter())
            {
                o[0] = f[0];
                o[1] = f[1];
            }
            done += n;
        }
        for x in out[2 * frames..].iter_mut() {
            *x = 0.0;
        }
        written
    }

    /// Renders `frames` frames (at most [`MAX_BLOCK_FRAMES`]; more is clamped) into the
    /// player's own interleaved buffer ([`Player::output`]); returns the frames of track
    /// written, as [`Player::render_interleaved`].
    pub fn render(&mut self, frames: usize) -> usize {
        let n = frames.min(MAX_BLOCK_FRAMES);
        let mut out = std::mem::take(&mut self.out);
        let written = self.render_interleaved(&mut out[..2 * n]);
        self.out = out;
        written
    }

    /// The interleaved output buffer ([`MAX_BLOCK_FRAMES`] frames) that
    /// [`Player::render`] fills from its start.
    pub fn output(&self) -> &[f32] {
        &self.out
    }

    fn render_scratch(&mut self, n: usize) -> usize {
        let a = &mut self.a[..n];
        if self.paused {
            a.fill([0.0, 0.0]);
            return n;
        }
        let mut got = self.engine.render(a);
        if let Some(inc) = self.incoming.as_mut() {
            let b = &mut self.b[..n];
            got = inc.render(b);
            for (x, y) in a.iter_mut().zip(b.iter()) {
                if self.fade_left > 0 {
                    let k = u64::from(self.fade_len - self.fade_left);
                    let (g_out, g_in) =
                        CrossfadeCurve::EqualPower.gains(k, u64::from(self.fade_len));
                    x[0] = x[0] * g_out + y[0] * g_in;
                    x[1] = x[1] * g_out + y[1] * g_in;
                    self.fade_left -= 1;
                } else {
                    *x = *y;
                }
            }
            if self.fade_left == 0 {
                if let Some(new) = self.incoming.take() {
                    // Not dropped here: freeing waits for the next control call.
                    self.retired = Some(std::mem::replace(&mut self.engine, new));
                }
            }
        }
        got
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use entrain_dsp::hash::Fnv1a64;

    const DEMO: &str = entrain_host::DEMO_TRACK;

    fn host_hash(mode: Mode, frames: u64, block: usize) -> u64 {
        let t = entrain_host::load_track_str(DEMO).unwrap();
        let cfg = Config {
            mode,
            ..Config::default()
        };
        let mut e = build_engine(t.track.clone(), cfg, &mut |_| {}).unwrap();
        let mut h = Fnv1a64::new();
        let mut buf = vec![[0.0f32; 2]; block];
        let mut done = 0;
        while done < frames {
            let n = ((frames - done) as usize).min(block);
            e.render(&mut buf[..n]);
            h.write_frames(&buf[..n]);
            done += n as u64;
        }
        h.finish()
    }

    fn hash_interleaved(x: &[f32]) -> u64 {
        let mut h = Fnv1a64::new();
        for s in x {
            h.write_f32(*s);
        }
        h.finish()
    }

    fn player(mode: Mode) -> Player {
        Player::new(
            DEMO,
            None,
            Options {
                mode,
                ..Options::default()
            },
        )
        .unwrap()
    }

    #[test]
    fn renders_the_host_bits_in_both_modes() {
        for mode in [Mode::Streaming, Mode::Compatible] {
            let mut p = player(mode);
            let mut out = vec![0.0; 2 * 44_100];
            for chunk in out.chunks_mut(2 * 128) {
                p.render_interleaved(chunk);
            }
            assert_eq!(
                hash_interleaved(&out),
                host_hash(mode, 44_100, 480),
                "{mode:?}"
            );
            assert_eq!(p.position(), 44_100);
        }
    }

    #[test]
    fn render_buffer_matches_render_interleaved() {
        let mut p = player(Mode::Streaming);
        let mut q = player(Mode::Streaming);
        let mut x = vec![0.0; 2 * 3000];
        q.render_interleaved(&mut x);
        let mut y = Vec::new();
        for n in [128, 7, 2865] {
            assert_eq!(p.render(n), n);
            y.extend_from_slice(&p.output()[..2 * n]);
        }
        assert_eq!(x, y);
    }

    #[test]
    fn pause_keeps_the_position_and_outputs_silence() {
        let mut p = player(Mode::Streaming);
        let mut q = player(Mode::Streaming);
        let mut x = vec![0.0; 2 * 1000];
        p.render_interleaved(&mut x);
        p.pause();
        assert!(p.is_paused());
        let mut s = vec![1.0; 2 * 500];
        assert_eq!(p.render_interleaved(&mut s), 500);
        assert!(s.iter().all(|v| *v == 0.0));
        assert_eq!(p.position(), 1000);
        p.resume();
        let mut y = vec![0.0; 2 * 1000];
        p.render_interleaved(&mut y);
        let mut r = vec![0.0; 2 * 2000];
        q.render_interleaved(&mut r);
        x.extend_from_slice(&y);
        assert_eq!(x, r);
    }

    #[test]
    fn seek_equals_a_fresh_start_there() {
        let mut p = player(Mode::Streaming);
        let mut x = vec![0.0; 2 * 256];
        p.render_interleaved(&mut x);
        p.seek_seconds(30.0);
        assert_eq!(p.position(), 30 * 44_100);
        p.render_interleaved(&mut x);
        let mut q = Player::new(
            DEMO,
            None,
            Options {
                start_s: 30.0,
                ..Options::default()
            },
        )
        .unwrap();
        let mut y = vec![0.0; 2 * 256];
        q.render_interleaved(&mut y);
        assert_eq!(x, y);
        p.seek_seconds(f64::NAN);
        assert_eq!(p.position(), 0);
        p.seek_seconds(1e9);
        assert_eq!(p.position(), p.total_frames());
        assert!(p.finished());
        assert_eq!(p.render_interleaved(&mut x), 0);
        assert!(x.iter().all(|v| *v == 0.0));
    }

    #[test]
    fn update_track_crossfades_to_the_new_track() {
        let mut p = player(Mode::Streaming);
        let mut x = vec![0.0; 2 * 1000];
        p.render_interleaved(&mut x);
        // The same track at half the level: after the fade, exactly the quieter render.
        p.opts.level = 0.125;
        p.update_track(DEMO, None).unwrap();
        let fade = p.fade_len as usize;
        let mut y = vec![0.0; 2 * (fade + 500)];
        p.render_interleaved(&mut y);
        assert!(p.incoming.is_none());
        assert_eq!(p.position(), 1000 + fade as u64 + 500);
        let mut q = Player::new(
            DEMO,
            None,
            Options {
                level: 0.125,
                start_s: 0.0,
                ..Options::default()
            },
        )
        .unwrap();
        q.seek_frames(1000);
        let mut z = vec![0.0; 2 * (fade + 500)];
        q.render_interleaved(&mut z);
        assert_eq!(&y[2 * fade..], &z[2 * fade..]);
        // The fade starts at the old engine's next frame (gains (≈1, 0): the table cosine
        // of 0 is within 3e-7 of 1) and differs from the new render.
        let mut old = player(Mode::Streaming);
        let mut w = vec![0.0; 2 * 1001];
        old.render_interleaved(&mut w);
        let w = &w[2 * 1000..];
        assert!(y[..2].iter().zip(w).all(|(a, b)| (a - b).abs() <= 1e-6));
        assert_eq!(
            y[1],
            w[1] * CrossfadeCurve::EqualPower.gains(0, fade as u64).0
        );
        assert_ne!(&y[2..2 * fade], &z[2..2 * fade]);
        // A bad update is refused and playback goes on.
        let err = p.update_track("{\"global\": ", None).unwrap_err();
        assert!(err.contains("line 1"), "{err}");
        assert!(p.incoming.is_none());
    }

    #[test]
    fn located_errors_and_noise_presets() {
        let bad = r#"{
  "global": {"sample_rate": 44100},
  "progression": [{"duration": 1, "voices": [{"synth_function_name": "binaural_beat", "params": {"baseFreq": 200}}]},
    {"duration": 1, "voices": [{"synth_function_name": "binaural_beat", "params": {"baseFreq": "x"}}]}]
}"#;
        let err = Player::new(bad, None, Options::default()).unwrap_err();
        assert!(
            err.contains("step 1, voice 0, key `baseFreq` (line 4"),
            "{err}"
        );

        let named = r#"{"global": {"sample_rate": 44100}, "progression": [{"duration": 1, "voices": []}],
            "background_noise": {"params_path": "noise/x.noise", "gain": 0.5}}"#;
        let err = Player::new(named, None, Options::default()).unwrap_err();
        assert!(
            err.contains("noise/x.noise") && err.contains("supply"),
            "{err}"
        );
        let err = Player::new(named, Some("{"), Options::default()).unwrap_err();
        assert!(
            err.starts_with("background noise: noise/x.noise: "),
            "{err}"
        );
        let mut p =
            Player::new(named, Some(r#"{"noise_type": "pink"}"#), Options::default()).unwrap();
        let mut x = vec![0.0; 2 * 4410];
        p.render_interleaved(&mut x);
        assert!(x.iter().any(|v| *v != 0.0));

        let remote = named.replace("noise/x.noise", "https://example.org/x.noise");
        let err = Player::new(&remote, Some("{}"), Options::default()).unwrap_err();
        assert!(err.contains("remote locations are not supported"), "{err}");
    }

    #[test]
    fn other_rates_are_retargeted_and_checked() {
        let p = Player::new(
            DEMO,
            None,
            Options {
                sample_rate: Some(48_000),
                ..Options::default()
            },
        )
        .unwrap();
        assert_eq!(p.sample_rate(), 48_000);
        assert_eq!(p.total_frames(), 89 * 48_000);
        let err = Player::new(
            DEMO,
            None,
            Options {
                sample_rate: Some(1),
                ..Options::default()
            },
        )
        .unwrap_err();
        assert!(err.contains("sample rate 1 Hz"), "{err}");
    }
}
