//! The stable fuzz runner: seeded mutation of a corpus (the shared example tracks and
//! presets), every input run through the targets of `entrain_fuzz` under
//! `catch_unwind`, a watchdog thread for hangs, crashing inputs saved to `artifacts/`.
//!
//! Not coverage-guided (stable Rust has no sanitizer coverage): inputs are kept when the
//! *kind* of outcome they produce (which errors and warnings, at which keys) is new.
//! See README.md for the options and for cargo-fuzz on nightly.

use entrain_fuzz::mutate::{mutate, Rng};
use entrain_fuzz::{SignedTarget, TARGETS};
use std::collections::HashSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// `<repo>/../shared/tracks`: the example corpus, read in place.
const DEFAULT_CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/tracks");
/// Where crashing inputs go.
const DEFAULT_ARTIFACTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/artifacts");
/// Kept inputs beyond the seed corpus (older ones are replaced at random past this).
const MAX_KEPT: usize = 4096;
/// Distinct crashes after which the run stops (the rest would mostly be duplicates).
const MAX_CRASHES: usize = 20;
/// Runs per target in the schedule, roughly inverse to their cost (a parse takes
/// ~0.3 ms, a track render ~8 ms, a noise layer's calibration ~25 ms), so that each
/// target gets a fair share of the time.
const WEIGHTS: &[(&str, usize)] = &[
    ("track_json", 24),
    ("noise_preset", 12),
    ("track_render", 4),
    ("noise_render", 1),
];

const USAGE: &str = "usage: fuzz-runner [--seconds N] [--seed S] [--target NAME|all] \
[--corpus DIR]... [--artifacts DIR] [--timeout-ms MS] [--max-len BYTES] [--replay FILE...]";

struct Options {
    seconds: f64,
    seed: u64,
    targets: Vec<(&'static str, SignedTarget)>,
    corpus: Vec<PathBuf>,
    artifacts: PathBuf,
    timeout: Duration,
    max_len: usize,
    replay: Vec<PathBuf>,
}

fn parse_args() -> Result<Options, String> {
    let mut o = Options {
        seconds: 60.0,
        seed: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(1),
        targets: TARGETS.to_vec(),
        corpus: Vec::new(),
        artifacts: PathBuf::from(DEFAULT_ARTIFACTS),
        timeout: Duration::from_millis(2000),
        max_len: 128 * 1024,
        replay: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || {
            args.next()
                .ok_or_else(|| format!("{a} needs a value\n{USAGE}"))
        };
        let num = |s: String| {
            s.parse::<f64>()
                .map_err(|_| format!("{a}: `{s}` is not a number"))
        };
        match a.as_str() {
            "--seconds" => o.seconds = num(val()?)?,
            "--seed" => {
                let s = val()?;
                o.seed = s.parse().map_err(|_| format!("--seed: `{s}`"))?;
            }
            "--target" => {
                let t = val()?;
                if t != "all" {
                    o.targets = TARGETS.iter().copied().filter(|(n, _)| *n == t).collect();
                    if o.targets.is_empty() {
                        let names: Vec<_> = TARGETS.iter().map(|t| t.0).collect();
                        return Err(format!("unknown target `{t}` (known: {names:?}, all)"));
                    }
                }
            }
            "--corpus" => o.corpus.push(PathBuf::from(val()?)),
            "--artifacts" => o.artifacts = PathBuf::from(val()?),
            "--timeout-ms" => o.timeout = Duration::from_millis(num(val()?)? as u64),
            "--max-len" => o.max_len = num(val()?)? as usize,
            "--replay" => {
                o.replay.extend(args.by_ref().map(PathBuf::from));
            }
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    if o.corpus.is_empty() {
        o.corpus.push(PathBuf::from(DEFAULT_CORPUS));
    }
    Ok(o)
}

/// Every `*.json` and `*.noise` file under `dir`, recursively, sorted by path.
fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            collect(&p, out)?;
        } else if p.extension().is_some_and(|x| x == "json" || x == "noise") {
            out.push(p);
        }
    }
    Ok(())
}

fn fnv(data: &[u8]) -> u64 {
    data.iter().fold(0xCBF2_9CE4_8422_2325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01B3)
    })
}

/// The first line of the panic message, without the location: crashes with the same
/// message are one bug.
fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic)".to_owned()
    }
}

/// The current input, shared with the watchdog.
struct Current {
    target: &'static str,
    data: Vec<u8>,
}

fn save(dir: &Path, kind: &str, target: &str, data: &[u8]) -> PathBuf {
    let _ = std::fs::create_dir_all(dir);
    let path = dir.join(format!("{kind}-{target}-{:016x}.json", fnv(data)));
    if let Err(e) = std::fs::write(&path, data) {
        eprintln!("cannot write {}: {e}", path.display());
    }
    path
}

/// Where the last panic happened (set by the hook, read after `catch_unwind`).
static PANIC_AT: Mutex<String> = Mutex::new(String::new());

fn main() -> ExitCode {
    let o = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    // Panics are expected findings: record where, print nothing (the summary does).
    std::panic::set_hook(Box::new(|info| {
        if let Ok(mut s) = PANIC_AT.lock() {
            *s = info
                .location()
                .map(|l| format!("{}:{}", l.file(), l.line()))
                .unwrap_or_default();
        }
    }));
    if !o.replay.is_empty() {
        return replay(&o);
    }
    let mut files = Vec::new();
    for d in &o.corpus {
        if let Err(e) = collect(d, &mut files) {
            eprintln!("cannot read corpus {}: {e}", d.display());
            return ExitCode::from(2);
        }
    }
    files.sort();
    let seeds: Vec<Vec<u8>> = files.iter().filter_map(|p| std::fs::read(p).ok()).collect();
    if seeds.is_empty() {
        eprintln!("empty corpus: {:?}", o.corpus);
        return ExitCode::from(2);
    }

    let current = Arc::new(Mutex::new(Current {
        target: "",
        data: Vec::new(),
    }));
    // Milliseconds since `t0` at which the running input started; u64::MAX = idle.
    let started = Arc::new(AtomicU64::new(u64::MAX));
    let done = Arc::new(AtomicBool::new(false));
    let t0 = Instant::now();
    let watchdog = {
        let (current, started, done) = (current.clone(), started.clone(), done.clone());
        let (timeout, artifacts) = (o.timeout, o.artifacts.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(50));
                let s = started.load(Ordering::Relaxed);
                let now = t0.elapsed().as_millis() as u64;
                if s != u64::MAX && now.saturating_sub(s) > timeout.as_millis() as u64 {
                    // A stuck worker cannot be stopped: save the input and end the run.
                    let (target, data) = match current.lock() {
                        Ok(c) => (c.target, c.data.clone()),
                        Err(p) => (p.get_ref().target, p.get_ref().data.clone()),
                    };
                    let path = save(&artifacts, "hang", target, &data);
                    println!(
                        "fuzz: HANG in {target}: input ran > {} ms, saved {}",
                        timeout.as_millis(),
                        path.display()
                    );
                    std::process::exit(1);
                }
            }
        })
    };

    // The worker: 8 MB of stack, as a main thread has (a stack overflow is a finding,
    // but not one caused by the runner's own thread size).
    let worker = {
        let (current, started) = (current.clone(), started.clone());
        let opts = (o.seconds, o.seed, o.max_len, o.artifacts.clone());
        let targets = o.targets.clone();
        std::thread::Builder::new()
            .stack_size(8 << 20)
            .spawn(move || run(&seeds, &targets, opts, &current, &started, t0))
    };
    let result = match worker {
        Ok(h) => h.join(),
        Err(e) => {
            eprintln!("cannot start the worker: {e}");
            return ExitCode::from(2);
        }
    };
    done.store(true, Ordering::Relaxed);
    let _ = watchdog.join();
    match result {
        Ok(s) => {
            println!("{s}");
            if s.failed() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(_) => {
            println!("fuzz: the runner itself panicked");
            ExitCode::from(1)
        }
    }
}

struct Summary {
    execs: Vec<(&'static str, u64, f64)>,
    seconds: f64,
    corpus_start: usize,
    corpus_end: usize,
    crashes: Vec<String>,
    seed: u64,
}

impl Summary {
    fn failed(&self) -> bool {
        !self.crashes.is_empty()
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for c in &self.crashes {
            writeln!(f, "{c}")?;
        }
        let total: u64 = self.execs.iter().map(|e| e.1).sum();
        let per: Vec<String> = self
            .execs
            .iter()
            .map(|(n, k, busy)| {
                let rate = if *busy > 0.0 { *k as f64 / busy } else { 0.0 };
                format!("{n} {k} ({rate:.0}/s)")
            })
            .collect();
        write!(
            f,
            "fuzz: {total} execs in {:.1} s ({:.0} exec/s; {}), corpus {} -> {}, {} crashes, 0 hangs, seed {}",
            self.seconds,
            total as f64 / self.seconds.max(1e-9),
            per.join(", "),
            self.corpus_start,
            self.corpus_end,
            self.crashes.len(),
            self.seed
        )
    }
}

type RunOptions = (f64, u64, usize, PathBuf);

fn run(
    seeds: &[Vec<u8>],
    targets: &[(&'static str, SignedTarget)],
    (seconds, seed, max_len, artifacts): RunOptions,
    current: &Mutex<Current>,
    started: &AtomicU64,
    t0: Instant,
) -> Summary {
    let mut rng = Rng::new(seed);
    let mut corpus: Vec<Vec<u8>> = seeds.to_vec();
    let mut seen: HashSet<(usize, u64)> = HashSet::new();
    let mut crashes: Vec<String> = Vec::new();
    let mut crash_keys: HashSet<String> = HashSet::new();
    let mut execs: Vec<(&'static str, u64, f64)> = targets.iter().map(|t| (t.0, 0, 0.0)).collect();
    let schedule: Vec<usize> = targets
        .iter()
        .enumerate()
        .flat_map(|(i, (n, _))| {
            let w = WEIGHTS.iter().find(|w| w.0 == *n).map_or(1, |w| w.1);
            std::iter::repeat_n(i, w)
        })
        .collect();
    let budget = Duration::from_secs_f64(seconds.max(0.0));
    let mut last_report = Instant::now();

    // One input through one target, with the bookkeeping; returns its signature.
    type Execs = Vec<(&'static str, u64, f64)>;
    let mut exec =
        |ti: usize, data: &[u8], crashes: &mut Vec<String>, execs: &mut Execs| -> Option<u64> {
            let (name, f) = targets[ti];
            if let Ok(mut c) = current.lock() {
                c.target = name;
                c.data.clear();
                c.data.extend_from_slice(data);
            }
            let t = Instant::now();
            started.store(t0.elapsed().as_millis() as u64, Ordering::Relaxed);
            let r = catch_unwind(AssertUnwindSafe(|| f(data)));
            started.store(u64::MAX, Ordering::Relaxed);
            execs[ti].1 += 1;
            execs[ti].2 += t.elapsed().as_secs_f64();
            match r {
                Ok(sig) => Some(sig),
                Err(p) => {
                    let msg = panic_message(p.as_ref());
                    let at = PANIC_AT.lock().map(|s| s.clone()).unwrap_or_default();
                    let first = msg.lines().next().unwrap_or("").to_owned();
                    // Same place, same message start: one bug.
                    let key = format!("{name}|{at}|{}", first.chars().take(40).collect::<String>());
                    if crash_keys.insert(key) {
                        let path = save(&artifacts, "crash", name, data);
                        crashes.push(format!(
                            "fuzz: CRASH in {name} at {at}: {first}\n      input saved to {}",
                            path.display()
                        ));
                    }
                    None
                }
            }
        };

    // The seeds as they are: every shipped file must pass every target.
    for s in seeds {
        for ti in 0..targets.len() {
            if let Some(sig) = exec(ti, s, &mut crashes, &mut execs) {
                seen.insert((ti, sig));
            }
        }
    }
    let mut input = Vec::new();
    while t0.elapsed() < budget && crashes.len() < MAX_CRASHES {
        // Mostly the seeds (known-good structure), sometimes a kept mutant.
        let base = if corpus.len() > seeds.len() && rng.one_in(2) {
            &corpus[seeds.len() + rng.below(corpus.len() - seeds.len())]
        } else {
            &corpus[rng.below(seeds.len())]
        };
        input.clear();
        input.extend_from_slice(base);
        mutate(&mut rng, &mut input, &corpus, max_len);
        let ti = *rng.pick(&schedule);
        if let Some(sig) = exec(ti, &input, &mut crashes, &mut execs) {
            if seen.insert((ti, sig)) {
                if corpus.len() < seeds.len() + MAX_KEPT {
                    corpus.push(input.clone());
                } else {
                    let k = seeds.len() + rng.below(MAX_KEPT);
                    corpus[k] = input.clone();
                }
            }
        }
        if last_report.elapsed() > Duration::from_secs(10) {
            last_report = Instant::now();
            let total: u64 = execs.iter().map(|e| e.1).sum();
            eprintln!(
                "fuzz: {:.0} s, {total} execs, corpus {}, {} crashes",
                t0.elapsed().as_secs_f64(),
                corpus.len(),
                crashes.len()
            );
        }
    }
    Summary {
        execs,
        seconds: t0.elapsed().as_secs_f64(),
        corpus_start: seeds.len(),
        corpus_end: corpus.len(),
        crashes,
        seed,
    }
}

/// Runs saved inputs once through the targets (all, or `--target`), reporting each.
fn replay(o: &Options) -> ExitCode {
    let mut failed = false;
    for p in &o.replay {
        let data = match std::fs::read(p) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("{}: {e}", p.display());
                failed = true;
                continue;
            }
        };
        for (name, f) in &o.targets {
            let t = Instant::now();
            let r = catch_unwind(AssertUnwindSafe(|| f(&data)));
            let ms = t.elapsed().as_secs_f64() * 1e3;
            match r {
                Ok(_) if t.elapsed() <= o.timeout => {
                    println!("ok    {name} {} ({ms:.1} ms)", p.display());
                }
                Ok(_) => {
                    failed = true;
                    println!("SLOW  {name} {} ({ms:.1} ms)", p.display());
                }
                Err(e) => {
                    failed = true;
                    let at = PANIC_AT.lock().map(|s| s.clone()).unwrap_or_default();
                    println!(
                        "PANIC {name} {} at {at}: {}",
                        p.display(),
                        panic_message(e.as_ref())
                    );
                }
            }
        }
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
