//! `realtime_backend`: render, check and fingerprint brainwave-entrainment tracks.
//!
//! The original command line keeps working (`--path TRACK --generate true --start S`);
//! the subcommands are the friendlier interface. With no arguments at all, `render`
//! renders the bundled demo track to `demo.wav`.

use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use entrain_dsp::hash::Fnv1a64;
use entrain_engine::engine::{Config, Mode};
use entrain_host::load::format_report;
use entrain_host::{
    build_engine, load_track_file, load_track_str, render_to_file, LoadError, LoadedTrack,
    OutputFormat, RenderOptions,
};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Parser, Debug)]
#[command(
    name = "realtime_backend",
    version,
    about = "Render, check and fingerprint brainwave-entrainment tracks",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    legacy: Legacy,
}

/// The original command line.
#[derive(Args, Debug)]
struct Legacy {
    /// Track JSON file (original flag).
    #[arg(long)]
    path: Option<PathBuf>,
    /// true: render to the track's output_filename; false: play (original flag).
    #[arg(long, value_parser = parse_bool, num_args = 0..=1, default_missing_value = "true")]
    generate: Option<bool>,
    /// Use GPU mixing (original flag; accepted, CPU mixing is used in this build).
    #[arg(long, value_parser = parse_bool, num_args = 0..=1, default_missing_value = "true")]
    gpu: Option<bool>,
    /// Start position in seconds (original flag).
    #[arg(long)]
    start: Option<f64>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Render a track to a WAV file (no TRACK: the bundled demo to demo.wav).
    Render(RenderArgs),
    /// Validate a track and list every problem (exit status 1 if any error).
    Check {
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
    },
}

#[derive(Args, Debug)]
struct RenderArgs {
    /// Track JSON file; omit to render the bundled demo track.
    track: Option<PathBuf>,
    /// Output file (default: the track's output_filename, or demo.wav for the demo).
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Sample format.
    #[arg(long, default_value = "wav16", value_parser = parse_format)]
    format: OutputFormat,
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
    OutputFormat::parse(s).ok_or_else(|| format!("unknown format `{s}` (wav16, wav24, f32)"))
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
    match cli.command {
        Some(Command::Render(a)) => render(a),
        Some(Command::Check { track }) => check(&track),
        Some(Command::Hash {
            track,
            block,
            mode,
            duration,
        }) => hash(&track, block, mode, duration),
        None => legacy(cli.legacy),
    }
}

fn load(path: &Path) -> Result<LoadedTrack> {
    match load_track_file(path) {
        Ok(t) => {
            print_warnings(&t, Some(path));
            Ok(t)
        }
        Err(e @ (LoadError::Io { .. } | LoadError::Noise(_))) => Err(anyhow!(e)),
        Err(LoadError::Invalid(report, p)) => Err(anyhow!(format_report(&report, p.as_deref()))),
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
    if t.info.clips.is_some() {
        eprintln!("warning: {prefix}overlay clips are not rendered by this version");
    }
}

fn legacy(l: Legacy) -> Result<()> {
    let Some(path) = l.path else {
        // No arguments at all: the friendliest thing is the demo render.
        return render(RenderArgs {
            track: None,
            output: None,
            format: OutputFormat::Wav16,
            start: 0.0,
            duration: None,
            mode: ModeArg::Compatible,
            level: 0.25,
            quiet: false,
        });
    };
    if l.gpu == Some(true) {
        eprintln!("note: GPU mixing is not available in this build; mixing on the CPU");
    }
    if l.generate == Some(true) {
        let t = load(&path)?;
        let name = t
            .info
            .output_filename
            .as_ref()
            .map(|s| s.as_str().to_owned())
            .ok_or_else(|| {
                anyhow!(
                    "{}: the track has no `output_filename` to generate",
                    path.display()
                )
            })?;
        render_loaded(
            t,
            PathBuf::from(name),
            RenderArgs {
                track: Some(path),
                output: None,
                format: OutputFormat::Wav16,
                start: l.start.unwrap_or(0.0),
                duration: None,
                mode: ModeArg::Compatible,
                level: 0.25,
                quiet: false,
            },
        )
    } else {
        bail!("live playback is not available in this build; use `--generate true` or `render`")
    }
}

fn render(a: RenderArgs) -> Result<()> {
    let (t, default_out) = match &a.track {
        Some(p) => {
            let t = load(p)?;
            let out = t
                .info
                .output_filename
                .as_ref()
                .map(|s| PathBuf::from(s.as_str()))
                .unwrap_or_else(|| p.with_extension("wav"));
            (t, out)
        }
        None => {
            let t = load_track_str(entrain_host::DEMO_TRACK)
                .map_err(|e| anyhow!("bundled demo: {e}"))?;
            (t, PathBuf::from("demo.wav"))
        }
    };
    let out = a.output.clone().unwrap_or(default_out);
    render_loaded(t, out, a)
}

fn render_loaded(t: LoadedTrack, out: PathBuf, a: RenderArgs) -> Result<()> {
    let ext = out
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if ext != "wav" {
        bail!(
            "{}: only .wav output is available in this build (got .{ext})",
            out.display()
        );
    }
    if !a.start.is_finite() || a.start < 0.0 {
        bail!("--start must be a non-negative number of seconds");
    }
    let sr = t.track.sample_rate as f64;
    let cfg = Config {
        mode: a.mode.into(),
        target_level: a.level,
        ..Config::default()
    };
    let show = !a.quiet && std::io::stderr().is_terminal();
    let started = Instant::now();
    let bar = if show {
        Some(progress_bar("analysing"))
    } else {
        None
    };
    let mut engine = build_engine(t.track.clone(), cfg, &mut |f| {
        if let Some(b) = &bar {
            b.set_position((f * 1000.0) as u64);
        }
    })
    .map_err(|e| {
        anyhow!(
            "{}: {e:?}",
            t.path.as_deref().unwrap_or(Path::new("track")).display()
        )
    })?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let opts = RenderOptions {
        format: a.format,
        start_frame: (a.start * sr) as u64,
        frames: a.duration.map(|d| (d * sr) as u64),
    };
    let total_s = engine.total_frames() as f64 / sr;
    let bar = if show && total_s > 1.0 {
        Some(progress_bar("rendering"))
    } else {
        None
    };
    let stats = render_to_file(&mut engine, &out, &opts, None, &mut |done, total| {
        if let Some(b) = &bar {
            b.set_position((done * 1000).checked_div(total).unwrap_or(1000));
        }
    })
    .with_context(|| format!("rendering {}", out.display()))?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
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

fn progress_bar(what: &str) -> ProgressBar {
    let b = ProgressBar::new(1000);
    b.set_style(
        ProgressStyle::with_template(&format!("{what} [{{bar:40}}] {{percent:>3}}% ETA {{eta}}"))
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    b
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
        Err(e @ (LoadError::Io { .. } | LoadError::Noise(_))) => Err(anyhow!(e)),
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
    }
}

fn hash(path: &Path, block: usize, mode: ModeArg, duration: Option<f64>) -> Result<()> {
    if block == 0 {
        bail!("--block must be at least 1");
    }
    let t = load(path)?;
    let sr = t.track.sample_rate as f64;
    let cfg = Config {
        mode: mode.into(),
        ..Config::default()
    };
    let mut engine = build_engine(t.track.clone(), cfg, &mut |_| {})
        .map_err(|e| anyhow!("{}: {e:?}", path.display()))?;
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
