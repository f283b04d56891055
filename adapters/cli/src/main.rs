//! `realtime_backend`: render, play, check and inspect brainwave-entrainment tracks.
//!
//! The original command line keeps working (`--path TRACK --generate true|false --gpu
//! true|false --start S`, also as `run --path …`, and `generate-config`); the subcommands
//! are the friendlier interface. With no arguments at all, the bundled demo track is
//! rendered to `demo.wav`.

mod config;
mod timeline;

use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use config::FileConfig;
use entrain_dsp::hash::Fnv1a64;
use entrain_dsp::Frame;
use entrain_engine::engine::{Config, Mode};
use entrain_engine::model::MixGains;
use entrain_host::load::format_report;
use entrain_host::{
    build_engine, build_engine_spilling, load_track_file, load_track_str, render_spill_to_file,
    render_to_file_with, BlockRenderer, HostEngine, LoadError, LoadedTrack, OutputFormat,
    RenderError, RenderOptions, SharedTrack, SpillPolicy,
};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Parser, Debug)]
#[command(
    name = "realtime_backend",
    version,
    about = "Render, play, check and inspect brainwave-entrainment tracks",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    /// Configuration file (default: $ENTRAIN_CONFIG, then ./config.toml if present).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    legacy: Legacy,
}

/// The original command line.
#[derive(Args, Debug, Default)]
struct Legacy {
    /// Track JSON file.
    #[arg(long)]
    path: Option<PathBuf>,
    /// true: render to the track's output_filename; false: play it.
    #[arg(long, value_parser = parse_bool, num_args = 0..=1, default_missing_value = "true")]
    generate: Option<bool>,
    /// Mix the voices on the GPU when rendering (falls back to the CPU with a notice;
    /// playback always mixes on the CPU). Default: config.toml `gpu`.
    #[arg(long, value_parser = parse_bool, num_args = 0..=1, default_missing_value = "true")]
    gpu: Option<bool>,
    /// Start position in seconds.
    #[arg(long)]
    start: Option<f64>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Render a track to a file (no TRACK: the bundled demo to demo.wav).
    Render(RenderArgs),
    /// Play a track on the default audio device (p + Enter: pause/resume, s SECONDS: seek, q: quit).
    Play {
        /// Track JSON file.
        track: PathBuf,
        /// Start position, seconds.
        #[arg(long, default_value_t = 0.0)]
        start: f64,
        /// Output level.
        #[arg(long, default_value_t = 0.25)]
        level: f32,
    },
    /// Validate a track and list every problem (exit status 1 if any error).
    Check {
        /// Track JSON file.
        track: PathBuf,
    },
    /// Steps, voices, total duration and peak estimate of a track.
    Info {
        /// Track JSON file.
        track: PathBuf,
    },
    /// Print the cross-target fingerprint (FNV-1a 64 of the rendered f32 samples).
    Hash {
        /// Track JSON file.
        track: PathBuf,
        /// Render block size in frames (the hash does not depend on it).
        #[arg(long, default_value_t = 480)]
        block: usize,
        /// Output mode.
        #[arg(long, value_enum, default_value_t = ModeArg::Streaming)]
        mode: ModeArg,
        /// Only the first SECONDS of the track.
        #[arg(long)]
        duration: Option<f64>,
        /// Also write the audio the track plays from files, as prepared for the engine
        /// (arena and references; for the wasm32 cross-target check, which has no
        /// decoders). Layout: tests/wasm-probe/src/sources.rs.
        #[arg(long, hide = true, value_name = "FILE")]
        export_sources: Option<PathBuf>,
    },
    /// Draw the steps, voices and frequencies over time into a PNG.
    Timeline {
        /// Track JSON file.
        track: PathBuf,
        /// Output PNG.
        #[arg(short, long, default_value = "timeline.png")]
        output: PathBuf,
    },
    /// Write a default configuration file.
    GenerateConfig {
        /// Where to write it.
        #[arg(long, default_value = "config.toml")]
        out: PathBuf,
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
    /// The original's `run` subcommand (same flags as the top level).
    Run(Legacy),
}

#[derive(Args, Debug)]
struct RenderArgs {
    /// Track JSON file; omit to render the bundled demo track.
    track: Option<PathBuf>,
    /// Output file (default: the track's output_filename under output_dir, or demo.wav).
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Sample format: wav16, wav24, f32 (float WAV), flac (16-bit), flac24. Default: from
    /// the output extension (.flac → flac, otherwise wav16).
    #[arg(long, value_parser = parse_format)]
    format: Option<OutputFormat>,
    /// Render at this sample rate instead of the track's.
    #[arg(long)]
    sample_rate: Option<u32>,
    /// Start position, seconds.
    #[arg(long, default_value_t = 0.0)]
    start: f64,
    /// Length to render, seconds (default: to the end).
    #[arg(long)]
    duration: Option<f64>,
    /// Output chain: compatible (the original's normalisation) or streaming (fixed headroom + limiter).
    #[arg(long, value_enum, default_value_t = ModeArg::Compatible)]
    mode: ModeArg,
    /// Output peak level (the original's target amplitude).
    #[arg(long, default_value_t = 0.25)]
    level: f32,
    /// No progress bar.
    #[arg(short, long)]
    quiet: bool,
    /// Mix the voices on the GPU (wgpu; falls back to the CPU with a notice when there is
    /// no adapter). Within a stated tolerance of the CPU mix, never used for hashes.
    /// Default: config.toml `gpu`.
    #[arg(long, value_parser = parse_bool, num_args = 0..=1, default_missing_value = "true")]
    gpu: Option<bool>,
    /// Compatible mode, whole track on the CPU: keep the analysis's render in a temporary
    /// file next to the output and write the output from it, rendering the track once
    /// instead of twice (8 bytes per frame: 1.4 GB per hour at 48 kHz, removed at the
    /// end). auto: unless the track renders faster than the file would save (timed on its
    /// first seconds); always; never. Same output either way.
    #[arg(long, value_enum, default_value_t = SpillArg::Auto)]
    spill: SpillArg,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum SpillArg {
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum ModeArg {
    Compatible,
    Streaming,
}

impl From<ModeArg> for Mode {
    fn from(m: ModeArg) -> Self {
        match m {
            ModeArg::Compatible => Mode::Compatible,
            ModeArg::Streaming => Mode::Streaming,
        }
    }
}

fn parse_bool(s: &str) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(format!("expected true or false, got `{s}`")),
    }
}

fn parse_format(s: &str) -> Result<OutputFormat, String> {
    OutputFormat::parse(s)
        .ok_or_else(|| format!("unknown format `{s}` (wav16, wav24, f32, flac, flac24)"))
}

fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(cli) {
        // One located message per line, no backtrace noise.
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
    let (cfg, _) = FileConfig::load(cli.config.as_deref())?;
    match cli.command {
        Some(Command::Render(a)) => render(&cfg, a),
        Some(Command::Play {
            track,
            start,
            level,
        }) => {
            let t = load(&track)?;
            play(&cfg, &t, start, level)
        }
        Some(Command::Check { track }) => check(&track),
        Some(Command::Info { track }) => info(&track),
        Some(Command::Hash {
            track,
            block,
            mode,
            duration,
            export_sources,
        }) => hash(&track, block, mode, duration, export_sources.as_deref()),
        Some(Command::Timeline { track, output }) => {
            let t = load(&track)?;
            timeline::draw(&t, &output)?;
            eprintln!("wrote {}", output.display());
            Ok(())
        }
        Some(Command::GenerateConfig { out, force }) => generate_config(&out, force),
        Some(Command::Run(l)) => legacy(&cfg, l),
        None => legacy(&cfg, cli.legacy),
    }
}

fn generate_config(out: &Path, force: bool) -> Result<()> {
    if out.exists() && !force {
        bail!("{} exists (use --force to overwrite)", out.display());
    }
    std::fs::write(out, FileConfig::default_text())
        .with_context(|| format!("cannot write {}", out.display()))?;
    eprintln!("wrote {}", out.display());
    Ok(())
}

fn load(path: &Path) -> Result<LoadedTrack> {
    match load_track_file(path) {
        Ok(t) => {
            print_warnings(&t, Some(path));
            Ok(t)
        }
        Err(LoadError::Invalid(report, p)) => Err(anyhow!(format_report(&report, p.as_deref()))),
        Err(e @ LoadError::Io { .. }) => Err(anyhow!(e)),
        Err(e) => Err(anyhow!("{}: {e}", path.display())),
    }
}

fn print_warnings(t: &LoadedTrack, path: Option<&Path>) {
    let prefix = path
        .map(|p| format!("{}: ", p.display()))
        .unwrap_or_default();
    for w in t.warnings.warnings.iter() {
        eprintln!("warning: {prefix}{w}");
    }
    if t.warnings.more_warnings > 0 {
        eprintln!(
            "warning: {prefix}… and {} more warnings",
            t.warnings.more_warnings
        );
    }
}

fn legacy(cfg: &FileConfig, l: Legacy) -> Result<()> {
    let Some(path) = l.path else {
        if l.generate.is_some() || l.start.is_some() || l.gpu.is_some() {
            bail!("--path TRACK is required with --generate/--start/--gpu");
        }
        // No arguments at all: the friendliest thing is the demo render.
        return render(cfg, RenderArgs::demo());
    };
    let gpu = l.gpu.unwrap_or(cfg.gpu);
    let t = load(&path)?;
    let start = l.start.unwrap_or(0.0);
    if l.generate == Some(true) {
        let name = t
            .info
            .output_filename
            .as_ref()
            .map(|s| PathBuf::from(s.as_str()))
            .ok_or_else(|| {
                anyhow!(
                    "{}: the track has no `output_filename` to generate",
                    path.display()
                )
            })?;
        let out = cfg.place(&name);
        let args = RenderArgs {
            track: Some(path),
            start,
            gpu: Some(gpu),
            ..RenderArgs::demo()
        };
        render_loaded(cfg, t, out, args)
    } else {
        if gpu {
            eprintln!("note: playback mixes on the CPU (GPU mixing is for renders)");
        }
        play(cfg, &t, start, 0.25)
    }
}

impl RenderArgs {
    fn demo() -> Self {
        Self {
            track: None,
            output: None,
            format: None,
            sample_rate: None,
            start: 0.0,
            duration: None,
            mode: ModeArg::Compatible,
            level: 0.25,
            quiet: false,
            gpu: None,
            spill: SpillArg::Auto,
        }
    }
}

fn render(cfg: &FileConfig, a: RenderArgs) -> Result<()> {
    let (t, default_out) = match &a.track {
        Some(p) => {
            let t = load(p)?;
            let out = match t.info.output_filename.as_ref() {
                Some(s) => cfg.place(Path::new(s.as_str())),
                None => p
                    .with_extension("wav")
                    .file_name()
                    .map(PathBuf::from)
                    .unwrap_or_else(|| PathBuf::from("out.wav")),
            };
            (t, out)
        }
        None => {
            let t = load_track_str(entrain_host::DEMO_TRACK)
                .map_err(|e| anyhow!("bundled demo: {e}"))?;
            (t, PathBuf::from("demo.wav"))
        }
    };
    let out = a.output.clone().unwrap_or(default_out);
    render_loaded(cfg, t, out, a)
}

/// The track as this render needs it: at another sample rate (clip audio decoded again
/// at that rate) and with the configuration's layer gains.
fn prepared(t: &LoadedTrack, rate: Option<u32>, cfg: &FileConfig) -> Result<SharedTrack> {
    let mix = MixGains {
        voices: cfg.voice_gain,
        noise: cfg.noise_gain,
        clips: cfg.clip_gain,
    };
    let retargeted;
    let base = match rate {
        Some(r) if !(8000..=192_000).contains(&r) => {
            bail!("--sample-rate {r} is outside 8000..192000 Hz")
        }
        Some(r) => {
            retargeted = t.at_rate(r).map_err(|e| anyhow!("{e}"))?;
            &retargeted
        }
        None => t,
    };
    let mut shared = base.shared();
    if shared.track.mix != mix {
        let mut tr = entrain_host::load::clone_track(&shared.track);
        tr.mix = mix;
        shared.track = Arc::from(tr);
    }
    Ok(shared)
}

fn render_loaded(cfg: &FileConfig, t: LoadedTrack, out: PathBuf, a: RenderArgs) -> Result<()> {
    let format = match a.format {
        Some(f) => f,
        None => match OutputFormat::from_extension(&out) {
            Some(f) => f,
            None => bail!(
                "{}: unknown output type (use .wav or .flac, or --format)",
                out.display()
            ),
        },
    };
    if !a.start.is_finite() || a.start < 0.0 {
        bail!("--start must be a non-negative number of seconds");
    }
    if let Some(d) = a.duration {
        if !d.is_finite() || d <= 0.0 {
            bail!("--duration must be a positive number of seconds");
        }
    }
    if !(a.level.is_finite() && a.level > 0.0 && a.level <= 1.0) {
        bail!("--level must be in (0, 1]");
    }
    let gpu = a.gpu.unwrap_or(cfg.gpu);
    let track = prepared(&t, a.sample_rate, cfg)?;
    let sr = track.track.sample_rate as f64;
    let ecfg = Config {
        mode: a.mode.into(),
        target_level: a.level,
        ..Config::default()
    };
    let show = !a.quiet && std::io::stderr().is_terminal();
    let started = Instant::now();
    let cancel = Arc::new(AtomicBool::new(false));
    let analysing = Arc::new(AtomicBool::new(true));
    {
        let c = cancel.clone();
        let during_analysis = analysing.clone();
        let spill_path = entrain_host::spill::spill_path_for(&out);
        let shown = out.display().to_string();
        // Ctrl+C (or SIGTERM) stops the render; the temporary file is removed and nothing
        // remains.
        // The analysis cannot be stopped from outside, and nothing but the spill file
        // exists yet: remove it and exit at once.
        let _ = ctrlc::set_handler(move || {
            c.store(true, Ordering::Relaxed);
            if during_analysis.load(Ordering::Relaxed) {
                let _ = std::fs::remove_file(&spill_path);
                eprintln!("interrupted: {shown} was not written");
                std::process::exit(130);
            }
        });
    }
    let bar = if show {
        Some(progress_bar("analysing"))
    } else {
        None
    };
    let mut analysed = |f: f32| {
        if let Some(b) = &bar {
            b.set_position((f * 1000.0) as u64);
        }
    };
    let build_error = |e| {
        anyhow!(
            "{}: {e:?}",
            t.path.as_deref().unwrap_or(Path::new("track")).display()
        )
    };
    // Compatible mode on the CPU keeps the analysis's render in a spill file and writes
    // the output from it (entrain_host::spill): one render of the track instead of two.
    // Only for the whole track: a part (--start, --duration) renders less than the
    // analysis would store.
    let whole = a.start == 0.0 && a.duration.is_none();
    let policy = match a.spill {
        SpillArg::Auto => Some(SpillPolicy::Auto),
        SpillArg::Always => Some(SpillPolicy::Always),
        SpillArg::Never => None,
    };
    let spilling = policy.filter(|_| a.mode == ModeArg::Compatible && whole && !gpu);
    let (mut engine, mut spill) = if let Some(policy) = spilling {
        let b =
            build_engine_spilling(track, ecfg, &out, policy, &mut analysed).map_err(build_error)?;
        if let Some(why) = &b.error {
            if !a.quiet {
                eprintln!("note: {why}; rendering the track a second time instead");
            }
        }
        (b.engine, b.spill)
    } else {
        let e = build_engine(track, ecfg, &mut analysed).map_err(build_error)?;
        (e, None)
    };
    analysing.store(false, Ordering::Relaxed);
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let opts = RenderOptions {
        format,
        start_frame: (a.start * sr) as u64,
        frames: a.duration.map(|d| (d * sr) as u64),
    };
    let total_s = engine.total_frames() as f64 / sr;
    let bar = if show && total_s > 1.0 {
        Some(progress_bar("rendering"))
    } else {
        None
    };
    let mut rendered = |done: u64, total: u64| {
        if let Some(b) = &bar {
            b.set_position((done * 1000).checked_div(total).unwrap_or(1000));
        }
    };
    let res = match spill.as_mut() {
        Some(s) => render_spill_to_file(&mut engine, s, &out, &opts, Some(&cancel), &mut rendered),
        None => {
            let mut render_block = block_renderer(&mut engine, gpu, a.quiet);
            render_to_file_with(
                &mut engine,
                &mut *render_block,
                &out,
                &opts,
                Some(&cancel),
                &mut rendered,
            )
        }
    };
    // The spill file goes now, whatever the outcome.
    drop(spill);
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let stats = match res {
        Ok(s) => s,
        Err(RenderError::Cancelled) => bail!("interrupted: {} was not written", out.display()),
        Err(e) => return Err(anyhow!(e)).with_context(|| format!("rendering {}", out.display())),
    };
    let secs = stats.frames as f64 / sr;
    let wall = started.elapsed().as_secs_f64();
    if !a.quiet {
        eprintln!(
            "wrote {} ({:.1} s, {} Hz, peak {:.3}, {:.0}x real time)",
            out.display(),
            secs,
            engine.sample_rate(),
            stats.peak,
            if wall > 0.0 { secs / wall } else { 0.0 }
        );
    }
    Ok(())
}

/// Writes the PCM arena of `t` and the references into it (clips, subliminal segments
/// and normalisation, the noise input) in the layout `tests/wasm-probe/src/sources.rs`
/// reads ("ENTSRC01", little-endian).
fn export_sources(t: &LoadedTrack, out: &Path) -> Result<()> {
    use entrain_engine::model::{PcmRef, VoiceParams};
    let mut b: Vec<u8> = b"ENTSRC01".to_vec();
    let pcm_ref = |b: &mut Vec<u8>, p: PcmRef| {
        b.extend(p.offset.to_le_bytes());
        b.extend(p.frames.to_le_bytes());
    };
    b.extend((t.pcm.len() as u64).to_le_bytes());
    b.extend((t.track.clips.len() as u32).to_le_bytes());
    for c in &t.track.clips {
        pcm_ref(&mut b, c.pcm);
        b.extend(c.start.to_le_bytes());
        b.extend(c.gain.to_le_bytes());
        let (has, (l, r)) = match c.pan {
            Some(p) => (1u32, p),
            None => (0, (0.0, 0.0)),
        };
        b.extend(has.to_le_bytes());
        b.extend(l.to_le_bytes());
        b.extend(r.to_le_bytes());
        b.extend(c.fade_in.to_le_bytes());
        b.extend(c.fade_out.to_le_bytes());
    }
    let subs: Vec<_> = t
        .track
        .voices
        .iter()
        .enumerate()
        .filter_map(|(g, v)| match &v.params {
            VoiceParams::Subliminal(p) => Some((g, p)),
            _ => None,
        })
        .collect();
    b.extend((subs.len() as u32).to_le_bytes());
    for (g, p) in subs {
        b.extend((g as u32).to_le_bytes());
        b.extend(u32::from(p.segment_count).to_le_bytes());
        for s in p.segments() {
            pcm_ref(&mut b, *s);
        }
        b.extend(p.norm.to_le_bytes());
    }
    match t.track.noise.and_then(|n| n.input) {
        Some(p) => {
            b.extend(1u32.to_le_bytes());
            pcm_ref(&mut b, p);
        }
        None => b.extend(0u32.to_le_bytes()),
    }
    b.reserve(t.pcm.len() * 8);
    for f in t.pcm.iter() {
        b.extend(f[0].to_le_bytes());
        b.extend(f[1].to_le_bytes());
    }
    std::fs::write(out, b)?;
    Ok(())
}

/// How the render mixes: [`HostEngine::render`], or (`gpu`) the staged path with the
/// voices mixed on the GPU, which prints one line saying where it mixes.
#[cfg(feature = "gpu")]
fn block_renderer<'a>(engine: &mut HostEngine, gpu: bool, quiet: bool) -> Box<BlockRenderer<'a>> {
    use entrain_gpu::{MixerChoice, StagedRenderer};
    if !gpu {
        return Box::new(|e: &mut HostEngine, b: &mut [Frame]| e.render(b));
    }
    let mut r = StagedRenderer::new(engine, MixerChoice::from_flag(true));
    match (r.notice(), r.adapter()) {
        (Some(n), _) => eprintln!("note: {n}"),
        (None, Some(a)) if !quiet => eprintln!("mixing on the GPU: {a}"),
        _ => {}
    }
    Box::new(move |e: &mut HostEngine, b: &mut [Frame]| r.render(e, b))
}

/// Without the `gpu` feature every render mixes on the CPU (and says so when asked).
#[cfg(not(feature = "gpu"))]
fn block_renderer<'a>(_: &mut HostEngine, gpu: bool, _: bool) -> Box<BlockRenderer<'a>> {
    if gpu {
        eprintln!("note: GPU mixing is not available in this build; mixing on the CPU");
    }
    Box::new(|e: &mut HostEngine, b: &mut [Frame]| e.render(b))
}

fn progress_bar(what: &str) -> ProgressBar {
    let b = ProgressBar::new(1000);
    b.set_style(
        ProgressStyle::with_template(&format!("{what} [{{bar:40}}] {{percent:>3}}% ETA {{eta}}"))
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    b
}

fn play(cfg: &FileConfig, t: &LoadedTrack, start: f64, level: f32) -> Result<()> {
    use entrain_cpal::{PlayOptions, Player};
    if !start.is_finite() || start < 0.0 {
        bail!("--start must be a non-negative number of seconds");
    }
    let track = prepared(t, None, cfg)?;
    let mut p = Player::start(
        &track,
        &PlayOptions {
            start_s: start,
            level,
            master_gain: 1.0,
        },
    )?;
    if cfg.gpu {
        let _ = p.enable_gpu(true);
    }
    let rate = p.sample_rate() as f64;
    let stop = Arc::new(AtomicBool::new(false));
    {
        let s = stop.clone();
        let _ = ctrlc::set_handler(move || s.store(true, Ordering::Relaxed));
    }
    let interactive = std::io::stdin().is_terminal();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    if interactive {
        eprintln!(
            "playing at {} Hz — p + Enter: pause/resume, s SECONDS: seek, q: quit",
            p.sample_rate()
        );
        std::thread::spawn(move || {
            let mut line = String::new();
            while std::io::stdin()
                .read_line(&mut line)
                .map(|n| n > 0)
                .unwrap_or(false)
            {
                if tx.send(line.trim().to_owned()).is_err() {
                    break;
                }
                line.clear();
            }
        });
    }
    let total = {
        let e = build_engine(
            t,
            Config {
                mode: Mode::Streaming,
                ..Config::default()
            },
            &mut |_| {},
        )
        .map_err(|e| anyhow!("{e:?}"))?;
        e.total_frames() as f64 / t.track.sample_rate as f64
    };
    let show = std::io::stderr().is_terminal();
    let mut paused = false;
    loop {
        if stop.load(Ordering::Relaxed) || p.status().finished.load(Ordering::Relaxed) {
            break;
        }
        while let Ok(cmd) = rx.try_recv() {
            let mut words = cmd.split_whitespace();
            match words.next() {
                Some("p") => {
                    paused = !paused;
                    if paused {
                        p.pause()?;
                    } else {
                        p.resume()?;
                    }
                }
                Some("s") => match words.next().and_then(|w| w.parse::<f64>().ok()) {
                    Some(s) if s >= 0.0 => p.seek(s)?,
                    _ => eprintln!("\nusage: s SECONDS"),
                },
                Some("q") => stop.store(true, Ordering::Relaxed),
                _ => eprintln!("\ncommands: p (pause/resume), s SECONDS (seek), q (quit)"),
            }
        }
        if show {
            let pos = p.status().position.load(Ordering::Relaxed) as f64 / rate;
            let step = p.status().step.load(Ordering::Relaxed);
            let step = if step == u32::MAX {
                "-".to_owned()
            } else {
                (step + 1).to_string()
            };
            eprint!(
                "\r  {} / {}  step {step}{}   ",
                clock(pos),
                clock(total),
                if paused { "  (paused)" } else { "" }
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let underruns = p.status().underruns.load(Ordering::Relaxed);
    p.stop();
    if show {
        eprintln!();
    }
    if underruns > 0 {
        eprintln!("note: {underruns} buffer underrun(s) reported by the audio device");
    }
    Ok(())
}

fn clock(s: f64) -> String {
    let s = s.max(0.0) as u64;
    format!("{:02}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
}

fn check(path: &Path) -> Result<()> {
    match load_track_file(path) {
        Ok(t) => {
            print_warnings(&t, Some(path));
            let tr = t.track.view();
            let placed = tr.steps.iter().filter(|s| s.duration > 0.0).count();
            println!(
                "{}: ok ({} steps, {} voices)",
                path.display(),
                placed,
                tr.voices.len()
            );
            Ok(())
        }
        Err(e @ LoadError::Io { .. }) => Err(anyhow!(e)),
        Err(LoadError::Invalid(report, p)) => {
            for e in report.errors.iter() {
                println!("{}: {e}", p.as_deref().unwrap_or(path).display());
            }
            if report.more_errors > 0 {
                println!(
                    "{}: … and {} more errors",
                    path.display(),
                    report.more_errors
                );
            }
            bail!(
                "{}: {} problem(s) found",
                path.display(),
                report.errors.len() + report.more_errors
            )
        }
        Err(e) => Err(anyhow!("{}: {e}", path.display())),
    }
}

fn info(path: &Path) -> Result<()> {
    let t = load(path)?;
    let tr = t.track.view();
    let e = build_engine(
        &t,
        Config {
            mode: Mode::Streaming,
            ..Config::default()
        },
        &mut |_| {},
    )
    .map_err(|e| anyhow!("{}: {e:?}", path.display()))?;
    let sr = tr.sample_rate as f64;
    println!("{}", path.display());
    println!(
        "  {} Hz, crossfade {} ({:?}), total {} ({} frames)",
        tr.sample_rate,
        tr.crossfade_duration
            .map(|c| format!("{c} s"))
            .unwrap_or_else(|| "1 s (default)".into()),
        tr.crossfade_curve,
        clock(e.total_frames() as f64 / sr),
        e.total_frames()
    );
    let mut vi = 0usize;
    let mut worst = 0.0f64;
    for (i, s) in tr.steps.iter().enumerate() {
        let desc = t.info.descriptions.get(i).map(|d| d.as_str()).unwrap_or("");
        let placed = e
            .timeline()
            .placements
            .iter()
            .find(|p| p.step as usize == i);
        let when = match placed {
            Some(p) => format!(
                "{} – {}",
                clock(p.start as f64 / sr),
                clock(p.end() as f64 / sr)
            ),
            None => "skipped".into(),
        };
        println!("  step {i}: {when}  ({} s)  {desc}", s.duration);
        let mut bound = 0.0;
        for (j, v) in tr.step_voices(i).iter().enumerate() {
            let name = match t.info.voice_functions.get(vi) {
                Some(entrain_format::voices::Resolved::Known {
                    func, transition, ..
                }) => {
                    format!(
                        "{}{}",
                        entrain_format::track::function_name(*func),
                        if *transition { "_transition" } else { "" }
                    )
                }
                _ => "(unknown: silent)".into(),
            };
            let b = entrain_engine::voices::Voice::peak_bound(v);
            bound += b;
            println!("    voice {j}: {name}  peak ≤ {b:.3}");
            vi += 1;
        }
        worst = worst.max(bound);
    }
    println!("  peak estimate (sum of voice bounds, before normalisation): {worst:.3}");
    Ok(())
}

fn hash(
    path: &Path,
    block: usize,
    mode: ModeArg,
    duration: Option<f64>,
    export: Option<&Path>,
) -> Result<()> {
    if block == 0 {
        bail!("--block must be at least 1");
    }
    let t = load(path)?;
    if let Some(out) = export {
        export_sources(&t, out).with_context(|| format!("writing {}", out.display()))?;
    }
    let sr = t.track.sample_rate as f64;
    let cfg = Config {
        mode: mode.into(),
        ..Config::default()
    };
    let mut engine =
        build_engine(&t, cfg, &mut |_| {}).map_err(|e| anyhow!("{}: {e:?}", path.display()))?;
    let total = match duration {
        Some(d) => ((d * sr) as u64).min(engine.total_frames()),
        None => engine.total_frames(),
    };
    let mut h = Fnv1a64::new();
    let mut buf = vec![[0.0f32; 2]; block];
    let mut done = 0u64;
    while done < total {
        let n = ((total - done) as usize).min(block);
        engine.render(&mut buf[..n]);
        h.write_frames(&buf[..n]);
        done += n as u64;
    }
    println!("{:016x}  {} frames  {}", h.finish(), total, path.display());
    Ok(())
}
