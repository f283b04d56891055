//! Overlay clips (TRACK_FORMAT.md §10): the clip list of a track, read with the aliases
//! of every original writer and reader, and the GUI's intended keys that the original
//! renderers ignore (`pan`, `fade_in`, `fade_out`, `duration`).
//!
//! Precedence of aliases: the GUI's names first (`file_path`, `start`, `amp`), then the
//! Python reference's (`path`, `start_time`, `gain`), then the Rust port's `file`.
//! Audio decoding happens in the host: this only reads the entries.

use crate::error::{short, ErrorKind, Location, Report, TEXT_CAP};
use crate::params::{Kind, Reader};
use crate::syntax::line_col;
use crate::value::{for_each_element, parse_map, parse_value, Span, Value};
use heapless::{String, Vec};

/// Maximum number of overlay clips in a track.
pub const MAX_CLIPS: usize = 32;
/// Longest clip path kept (longer is an error, never a silent truncation).
pub const PATH_CAP: usize = 512;

/// Clip path aliases, canonical first.
pub const PATH_KEYS: &[&str] = &["file_path", "path", "file"];
/// Clip start aliases.
pub const START_KEYS: &[&str] = &["start", "start_time"];
/// Clip gain aliases.
pub const GAIN_KEYS: &[&str] = &["amp", "gain"];

/// One overlay clip as written in the track.
#[derive(Clone, Debug, PartialEq)]
pub struct ClipEntry {
    /// Index in the clip list (locations in messages).
    pub index: u16,
    /// The audio file, as written (the host resolves it against the track's folder).
    pub path: String<PATH_CAP>,
    /// Placement, seconds.
    pub start: f64,
    /// Linear gain.
    pub gain: f64,
    /// Equal-power pan (-1..1; 0 = as recorded).
    pub pan: f64,
    /// Linear fade-in, seconds.
    pub fade_in: f64,
    /// Linear fade-out, seconds.
    pub fade_out: f64,
    /// Maximum play length, seconds (None or ≤ 0 = the whole file).
    pub duration: Option<f64>,
    /// Line and column of the entry (for the host's decode errors).
    pub line: u32,
    /// Column of the entry.
    pub column: u32,
}

/// True for URLs (`scheme://…`, `http:`, `file:` …) and network paths (`\\server`,
/// `//server`): only local files are read (the original GUI refuses them too).
pub fn is_remote(p: &str) -> bool {
    let t = p.trim();
    if t.starts_with("\\\\") || t.starts_with("//") {
        return true;
    }
    if let Some(i) = t.find("://") {
        let scheme = &t[..i];
        if !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        {
            return true;
        }
    }
    // Compared as bytes: a path may start with a multi-byte character, and slicing the
    // str at the scheme's length would then cut inside it (found by tests/fuzz).
    ["http:", "https:", "ftp:", "file:", "smb:", "data:"]
        .iter()
        .any(|s| {
            t.as_bytes()
                .get(..s.len())
                .is_some_and(|b| b.eq_ignore_ascii_case(s.as_bytes()))
        })
}

/// Reads the clip list at `span` (an array). Entries without a path are skipped with
/// nothing to render (the original skips them too); every other problem is reported.
pub fn parse_clips(
    input: &[u8],
    span: Span,
    nyquist: f64,
    report: &mut Report,
) -> Vec<ClipEntry, MAX_CLIPS> {
    let mut out = Vec::new();
    let mut overflow = false;
    let _ = for_each_element::<()>(input, span, |ci, el| {
        let (line, column) = line_col(input, el.start);
        let base = Location {
            clip: Some(ci as u16),
            line,
            column,
            ..Location::default()
        };
        let map = match parse_value(input, el) {
            Ok(Value::Object(s)) => match parse_map(input, s) {
                Ok(m) => m,
                Err(_) => {
                    report.error(base, ErrorKind::Syntax("unreadable clip"));
                    return Ok(());
                }
            },
            Ok(v) => {
                report.error(
                    base,
                    ErrorKind::WrongType {
                        expected: "a clip object",
                        found: v.type_name(),
                    },
                );
                return Ok(());
            }
            Err(_) => {
                report.error(base, ErrorKind::Syntax("unreadable clip"));
                return Ok(());
            }
        };
        let mut r = Reader {
            input,
            map: &map,
            report,
            base: Location {
                clip: Some(ci as u16),
                ..Location::default()
            },
            nyquist,
        };
        let Some(pe) = map.first_of(PATH_KEYS).copied() else {
            return Ok(());
        };
        let path: String<PATH_CAP> = match r.coerce_text(&pe) {
            Some(p) => p,
            None => return Ok(()),
        };
        if path.trim().is_empty() {
            return Ok(());
        }
        if is_remote(&path) {
            let l = r.loc(&pe);
            r.report
                .error(l, ErrorKind::RemoteLocation(short::<TEXT_CAP>(&path)));
            return Ok(());
        }
        let start = r.number_any(START_KEYS, Kind::Time).unwrap_or(0.0);
        let gain = r.number_any(GAIN_KEYS, Kind::Plain).unwrap_or(1.0);
        let pan = match r.number("pan", Kind::Plain) {
            Some(p) if !(-1.0..=1.0).contains(&p) => {
                if let Some(e) = map.get("pan").copied() {
                    let l = r.loc(&e);
                    r.report.error(
                        l,
                        ErrorKind::OutOfRange {
                            value: p,
                            min: -1.0,
                            max: 1.0,
                        },
                    );
                }
                0.0
            }
            Some(p) => p,
            None => 0.0,
        };
        let fade_in = r.num_or("fade_in", 0.0, Kind::Time);
        let fade_out = r.num_or("fade_out", 0.0, Kind::Time);
        let duration = r.number("duration", Kind::Time).filter(|d| *d > 0.0);
        let entry = ClipEntry {
            index: ci as u16,
            path,
            start,
            gain,
            pan,
            fade_in,
            fade_out,
            duration,
            line,
            column,
        };
        if out.push(entry).is_err() && !overflow {
            overflow = true;
            report.error(
                base,
                ErrorKind::TooMany {
                    what: "overlay clips",
                    limit: MAX_CLIPS,
                },
            );
        }
        Ok(())
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_ascii_paths_are_local() {
        // Multi-byte characters where the scheme's colon would be (a panic before).
        for p in ["é€😀", "ü.wav", "日本語.wav", "abcé:x", "€"] {
            assert!(!is_remote(p), "{p}");
        }
    }

    #[test]
    fn remote_locations() {
        for p in [
            "http://x/a.wav",
            "https://x",
            "HTTP:x",
            "\\\\server\\share\\a.wav",
            "//server/a.wav",
            "data:audio/wav;base64,AAAA",
            "s3://bucket/a",
        ] {
            assert!(is_remote(p), "{p}");
        }
        for p in [
            "a.wav",
            "/home/me/a.wav",
            "C:\\music\\a.wav",
            "../clips/a.flac",
        ] {
            assert!(!is_remote(p), "{p}");
        }
    }

    #[test]
    fn aliases_and_keys() {
        let src = br#"[{"path": "b.wav", "file_path": "a.wav", "start_time": 2, "start": 1.5, "gain": 0.5, "amp": 0.8, "pan": -0.5, "fade_in": 1, "duration": 3},
                      {"file": "c.wav"}, {"path": ""}, {"path": "https://x/y.wav"}]"#;
        let mut rep = Report::default();
        let clips = parse_clips(
            src,
            Span {
                start: 0,
                end: src.len(),
            },
            22050.0,
            &mut rep,
        );
        assert_eq!(clips.len(), 2);
        let c = &clips[0];
        assert_eq!(
            (
                c.path.as_str(),
                c.start,
                c.gain,
                c.pan,
                c.fade_in,
                c.duration
            ),
            ("a.wav", 1.5, 0.8, -0.5, 1.0, Some(3.0))
        );
        assert_eq!(
            (clips[1].path.as_str(), clips[1].gain, clips[1].start),
            ("c.wav", 1.0, 0.0)
        );
        assert_eq!(rep.errors.len(), 1);
        let e = &rep.errors[0];
        assert_eq!(e.location.clip, Some(3));
        assert!(matches!(e.kind, ErrorKind::RemoteLocation(_)));
    }
}
