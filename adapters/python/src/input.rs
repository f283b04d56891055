//! Arguments from Python: where a track comes from, and the errors handed back.
//!
//! Everything here that runs without the GIL (loading, rendering, the audio device) reports
//! a [`Failure`], a plain Rust value that is turned into a Python exception only after the
//! GIL is taken back.

use entrain_host::load::format_report;
use entrain_host::noise::NoiseLoadError;
use entrain_host::{load_track_file, load_track_str, LoadError, LoadedTrack};
use pyo3::exceptions::{PyOSError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyString};
use std::path::{Path, PathBuf};

/// Where a track comes from.
#[derive(Debug, Clone)]
pub enum TrackSource {
    /// JSON text (relative asset paths resolve against the working directory).
    Json(String),
    /// A track file (relative asset paths resolve against its folder).
    File(PathBuf),
}

/// Reads the `track_json` argument: JSON text (a `str` whose first non-blank character is
/// `{`, or `bytes`), a `dict` (serialised with `json.dumps`), or a path (any other `str`,
/// or an `os.PathLike`).
pub fn track_source(obj: &Bound<'_, PyAny>) -> PyResult<TrackSource> {
    if let Ok(s) = obj.cast::<PyString>() {
        let s = s.to_cow()?;
        return Ok(if looks_like_json(&s) {
            TrackSource::Json(s.into_owned())
        } else if s.trim().is_empty() {
            return Err(PyValueError::new_err(
                "track_json is empty: pass the track's JSON text or the path of a .json file",
            ));
        } else {
            TrackSource::File(PathBuf::from(s.as_ref()))
        });
    }
    if obj.is_instance_of::<PyBytes>() || obj.is_instance_of::<PyByteArray>() {
        let b: Vec<u8> = obj.extract()?;
        return String::from_utf8(b).map(TrackSource::Json).map_err(|e| {
            PyValueError::new_err(format!(
                "track: the JSON text is not valid UTF-8 (byte {})",
                e.utf8_error().valid_up_to()
            ))
        });
    }
    if obj.is_instance_of::<PyDict>() {
        let json = obj.py().import("json")?;
        let s: String = json.call_method1("dumps", (obj,))?.extract()?;
        return Ok(TrackSource::Json(s));
    }
    match obj.extract::<PathBuf>() {
        Ok(p) => Ok(TrackSource::File(p)),
        Err(_) => Err(PyTypeError::new_err(format!(
            "track_json must be JSON text (str or bytes), a dict, or a path (str or os.PathLike), not {}",
            obj.get_type().name()?
        ))),
    }
}

fn looks_like_json(s: &str) -> bool {
    s.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
        .starts_with('{')
}

/// Why a call failed, without the GIL. Converted to the Python exception by `From`.
#[derive(Debug)]
pub enum Failure {
    /// `ValueError`: the track (or an argument) is invalid.
    Value(String),
    /// `OSError` (or the errno's subclass, e.g. `FileNotFoundError`).
    Os {
        /// `errno`, when the operating system gave one.
        errno: Option<i32>,
        /// The message.
        message: String,
        /// The file concerned.
        path: Option<PathBuf>,
    },
    /// `RuntimeError`: a control could not be delivered, or an internal error.
    Runtime(String),
}

impl Failure {
    /// Prefixes the message of an `OSError` with `what` (e.g. `clip 2`).
    fn with_context(self, what: &str) -> Self {
        match self {
            Failure::Os {
                errno,
                message,
                path,
            } => Failure::Os {
                errno,
                message: format!("{what}: {message}"),
                path,
            },
            other => other,
        }
    }

    /// An `OSError` from an I/O error on `path`, with `what` as context.
    pub fn io(what: &str, path: &Path, e: &std::io::Error) -> Self {
        let errno = e.raw_os_error();
        let mut text = e.to_string();
        if let Some(n) = errno {
            // io::Error appends " (os error N)"; Python prints "[Errno N]" itself.
            if let Some(stripped) = text.strip_suffix(&format!(" (os error {n})")) {
                text = stripped.to_owned();
            }
        }
        Failure::Os {
            errno,
            message: format!("{what}: {text}"),
            path: Some(path.to_path_buf()),
        }
    }
}

impl From<Failure> for PyErr {
    fn from(f: Failure) -> Self {
        match f {
            Failure::Value(m) => PyValueError::new_err(m),
            Failure::Runtime(m) => PyRuntimeError::new_err(m),
            // OSError(errno, strerror, filename) picks the matching subclass
            // (FileNotFoundError, PermissionError, ...), as Python's own calls do.
            Failure::Os {
                errno: Some(n),
                message,
                path: Some(p),
            } => PyOSError::new_err((n, message, p.to_string_lossy().into_owned())),
            Failure::Os {
                errno: Some(n),
                message,
                path: None,
            } => PyOSError::new_err((n, message)),
            Failure::Os {
                errno: None,
                message,
                path: Some(p),
            } => PyOSError::new_err(format!("{}: {message}", p.display())),
            Failure::Os {
                errno: None,
                message,
                path: None,
            } => PyOSError::new_err(message),
        }
    }
}

/// Maps a load error: bad track or preset → `ValueError`, unreadable file → `OSError`.
pub fn load_failure(e: LoadError) -> Failure {
    match e {
        LoadError::Io { path, source } => Failure::io("cannot read track file", &path, &source),
        LoadError::Invalid(report, path) => Failure::Value(format_report(&report, path.as_deref())),
        LoadError::Noise(n) => noise_failure(n),
        // Clip or subliminal audio that cannot be read or decoded: a file problem.
        LoadError::Asset(a) => Failure::Os {
            errno: None,
            message: a.reason.clone(),
            path: Some(a.path.clone()),
        }
        .with_context(&a.what),
        other => Failure::Value(other.to_string()),
    }
}

fn noise_failure(e: NoiseLoadError) -> Failure {
    match e {
        NoiseLoadError::Io { path, source } => {
            Failure::io("background noise: cannot read", &path, &source)
        }
        other => Failure::Value(format!("background noise: {other}")),
    }
}

/// Loads a track (call without the GIL: a file read and the parse).
pub fn load(src: &TrackSource) -> Result<LoadedTrack, Failure> {
    match src {
        TrackSource::Json(s) => load_track_str(s),
        TrackSource::File(p) => load_track_file(p),
    }
    .map_err(load_failure)
}

/// Every located problem of a track, one string each (empty: the track loads and renders),
/// then its warnings prefixed `warning: ` when `warnings` is set. I/O errors are returned
/// as `Err` (they are not problems of the track).
pub fn problems(src: &TrackSource, warnings: bool) -> Result<Vec<String>, Failure> {
    let path = match src {
        TrackSource::File(p) => Some(p.as_path()),
        TrackSource::Json(_) => None,
    };
    let prefix = path
        .map(|p| format!("{}: ", p.display()))
        .unwrap_or_default();
    let loaded = match src {
        TrackSource::Json(s) => load_track_str(s),
        TrackSource::File(p) => load_track_file(p),
    };
    let t = match loaded {
        Ok(t) => t,
        Err(LoadError::Invalid(report, _)) => {
            let mut v: Vec<String> = report
                .errors
                .iter()
                .map(|e| format!("{prefix}{e}"))
                .collect();
            if report.more_errors > 0 {
                v.push(format!("{prefix}… and {} more errors", report.more_errors));
            }
            return Ok(v);
        }
        // A missing or bad noise preset is a problem of the track (a dangling reference).
        Err(LoadError::Noise(n)) => return Ok(vec![format!("{prefix}background noise: {n}")]),
        // A missing clip or subliminal source: a dangling reference, like a preset.
        Err(LoadError::Asset(a)) => return Ok(vec![format!("{prefix}{a}")]),
        Err(e) => return Err(load_failure(e)),
    };
    let mut out = Vec::new();
    // A track that parses may still exceed the engine's capacities.
    for mode in [
        entrain_engine::engine::Mode::Compatible,
        entrain_engine::engine::Mode::Streaming,
    ] {
        let cfg = entrain_engine::engine::Config {
            mode,
            ..Default::default()
        };
        if let Err(e) = entrain_host::HeapMemory::for_track(&t.track, &cfg) {
            out.push(format!("{prefix}cannot render ({mode:?} mode): {e:?}"));
            break;
        }
    }
    if warnings {
        for w in t.warnings.warnings.iter() {
            out.push(format!("warning: {prefix}{w}"));
        }
        if t.warnings.more_warnings > 0 {
            out.push(format!(
                "warning: {prefix}… and {} more warnings",
                t.warnings.more_warnings
            ));
        }
        if t.info.clips.is_some() {
            out.push(format!(
                "warning: {prefix}overlay clips are not rendered by this version"
            ));
        }
    }
    Ok(out)
}

/// Number of overlay clips in a loaded track (the clip list's entries).
pub fn clip_count(t: &LoadedTrack) -> usize {
    let Some(span) = t.info.clips else {
        return 0;
    };
    t.json
        .get(span.start..span.end)
        .and_then(|s| serde_json::from_str::<Vec<serde_json::Value>>(s).ok())
        .map(|v| v.len())
        .unwrap_or(0)
}

/// Runs `f`, turning a Rust panic into a `RuntimeError` instead of letting it unwind
/// into the interpreter.
pub fn no_panic<R>(f: impl FnOnce() -> PyResult<R>) -> PyResult<R> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => {
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            Err(PyRuntimeError::new_err(format!(
                "internal error in realtime_backend: {msg}"
            )))
        }
    }
}
