//! Located errors and warnings (STYLE.md §7): every problem names the step, the voice,
//! the key and the rule it breaks, and where the value sits in the file.

use core::fmt;
use heapless::{String, Vec};

/// Maximum length of a key name kept in a location (longer names are shortened with `…`).
pub const KEY_CAP: usize = 48;
/// Maximum length of a quoted text kept in an error (e.g. an unknown curve name), and of
/// a synth function name: the longest registry name,
/// `spatial_angle_modulation_monaural_beat_transition`, has 49 bytes.
pub const TEXT_CAP: usize = 64;

/// Where a problem is.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Location {
    /// Step index (0-based, file order), if inside a step.
    pub step: Option<u16>,
    /// Voice index inside the step (0-based), if inside a voice.
    pub voice: Option<u16>,
    /// Overlay clip index (0-based), if inside a clip.
    pub clip: Option<u16>,
    /// The key whose value is wrong (empty if none).
    pub key: String<KEY_CAP>,
    /// 1-based line of the value, 0 if unknown.
    pub line: u32,
    /// 1-based column of the value, 0 if unknown.
    pub column: u32,
}

impl Location {
    /// A location with a key.
    pub fn with_key(mut self, key: &str) -> Self {
        self.key = short(key);
        self
    }
}

/// Copies `s` into a fixed string, shortening visibly with `…` when it does not fit.
pub fn short<const N: usize>(s: &str) -> String<N> {
    let mut out = String::new();
    for c in s.chars() {
        if out.len() + c.len_utf8() + 3 > N {
            let _ = out.push('…');
            return out;
        }
        let _ = out.push(c);
    }
    out
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sep = "";
        if let Some(s) = self.step {
            write!(f, "step {s}")?;
            sep = ", ";
        }
        if let Some(v) = self.voice {
            write!(f, "{sep}voice {v}")?;
            sep = ", ";
        }
        if let Some(c) = self.clip {
            write!(f, "{sep}clip {c}")?;
            sep = ", ";
        }
        if !self.key.is_empty() {
            write!(f, "{sep}key `{}`", self.key)?;
            sep = " ";
        }
        if self.line > 0 {
            write!(f, "{sep}(line {}, column {})", self.line, self.column)?;
        }
        Ok(())
    }
}

/// The rule an input breaks.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Not valid JSON.
    Syntax(&'static str),
    /// A value has the wrong JSON type.
    WrongType {
        /// What was expected.
        expected: &'static str,
        /// What was found.
        found: &'static str,
    },
    /// A string where a number is expected does not read as a number.
    NotANumber(String<TEXT_CAP>),
    /// A string where a boolean is expected is not one of true/false/1/0/yes/no/on/off.
    NotABoolean(String<TEXT_CAP>),
    /// NaN or ±infinity.
    NotFinite,
    /// A frequency below zero.
    NegativeFrequency(f64),
    /// A frequency above the Nyquist frequency of the track.
    AboveNyquist {
        /// The value, Hz.
        value: f64,
        /// `sample_rate / 2`, Hz.
        nyquist: f64,
    },
    /// A duration or time below zero.
    NegativeDuration(f64),
    /// `sample_rate` outside 8,000..192,000 Hz or not an integer.
    BadSampleRate(f64),
    /// A transition curve the engine does not know.
    UnknownCurve(String<TEXT_CAP>),
    /// A curve table that is not 2..16 increasing `[α_in, α_out]` points.
    BadCurveTable,
    /// A fixed capacity was exceeded (never truncated silently).
    TooMany {
        /// What overflowed.
        what: &'static str,
        /// The limit.
        limit: usize,
    },
    /// A string is longer than its storage.
    StringTooLong {
        /// The limit in bytes.
        limit: usize,
    },
    /// An invalid escape sequence in a string.
    BadEscape,
    /// A required part is missing.
    Missing(&'static str),
    /// A value above an engine capacity limit (e.g. a delay line longer than its ring).
    AboveLimit {
        /// The value.
        value: f64,
        /// The largest value accepted.
        limit: f64,
        /// Which capacity it exceeds.
        what: &'static str,
    },
    /// A string that is not one of the accepted words.
    UnknownWord {
        /// The word found.
        found: String<TEXT_CAP>,
        /// The accepted words.
        expected: &'static str,
    },
    /// A URL or network path: only local files are read.
    RemoteLocation(String<TEXT_CAP>),
    /// A value that must be above zero (a Q factor).
    NotPositive(f64),
    /// A feature the engine does not provide (the text says which and why).
    Unsupported(&'static str),
    /// A value outside its allowed range.
    OutOfRange {
        /// The value.
        value: f64,
        /// Smallest allowed.
        min: f64,
        /// Largest allowed.
        max: f64,
    },
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::Syntax(m) => write!(f, "invalid JSON: {m}"),
            ErrorKind::WrongType { expected, found } => write!(f, "expected {expected}, found {found}"),
            ErrorKind::NotANumber(s) => write!(f, "\"{s}\" is not a number"),
            ErrorKind::NotABoolean(s) => write!(f, "\"{s}\" is not a boolean (use true/false, 1/0, yes/no, on/off)"),
            ErrorKind::NotFinite => write!(f, "value is not finite (NaN or infinity)"),
            ErrorKind::NegativeFrequency(v) => write!(f, "frequency {v} Hz is negative"),
            ErrorKind::AboveNyquist { value, nyquist } => {
                write!(f, "frequency {value} Hz is above the Nyquist frequency ({nyquist} Hz)")
            }
            ErrorKind::NegativeDuration(v) => write!(f, "duration {v} s is negative"),
            ErrorKind::BadSampleRate(v) => write!(f, "sample rate {v} is not an integer between 8000 and 192000 Hz"),
            ErrorKind::UnknownCurve(s) => write!(
                f,
                "unknown transition curve \"{s}\" (known: linear, logarithmic, exponential, sine, ease_in_out, sin_quarter, smoothstep, pow:K, or a table [[a_in, a_out], ...])"
            ),
            ErrorKind::BadCurveTable => write!(f, "a curve table needs 2 to 16 [a_in, a_out] points with increasing a_in in [0, 1]"),
            ErrorKind::TooMany { what, limit } => write!(f, "too many {what} (the limit is {limit})"),
            ErrorKind::StringTooLong { limit } => write!(f, "text longer than {limit} bytes"),
            ErrorKind::BadEscape => write!(f, "invalid escape sequence in a string"),
            ErrorKind::Missing(what) => write!(f, "missing {what}"),
            ErrorKind::AboveLimit { value, limit, what } => {
                write!(f, "{value} is above the limit {limit} ({what})")
            }
            ErrorKind::UnknownWord { found, expected } => {
                write!(f, "\"{found}\" is not one of {expected}")
            }
            ErrorKind::NotPositive(v) => write!(f, "{v} must be above 0"),
            ErrorKind::Unsupported(what) => write!(f, "not supported: {what}"),
            ErrorKind::OutOfRange { value, min, max } => {
                write!(f, "{value} is outside the allowed range {min}..{max}")
            }
            ErrorKind::RemoteLocation(p) => {
                write!(f, "\"{p}\" is a remote location: only local files are supported")
            }
        }
    }
}

/// A located error.
#[derive(Clone, Debug, PartialEq)]
pub struct FormatError {
    /// Where.
    pub location: Location,
    /// What.
    pub kind: ErrorKind,
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let loc = &self.location;
        if loc.step.is_none()
            && loc.voice.is_none()
            && loc.clip.is_none()
            && loc.key.is_empty()
            && loc.line == 0
        {
            write!(f, "{}", self.kind)
        } else {
            write!(f, "{loc}: {}", self.kind)
        }
    }
}

/// Warning kinds: the track renders, but not everything in it is used as written.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum WarningKind {
    /// Unknown synth function: the voice renders silence (as in the original).
    UnknownSynthFunction(String<TEXT_CAP>),
    /// A known synth function this engine does not render yet: silence.
    NotImplemented(String<TEXT_CAP>),
    /// `is_transition` asks for a transition variant that does not exist.
    NoTransitionVariant(String<TEXT_CAP>),
    /// A step with `duration <= 0` is skipped (as in the original).
    StepSkipped,
    /// An envelope type the engine does not know: the voice is flat.
    UnknownEnvelope(String<TEXT_CAP>),
    /// A `linear_fade` envelope without all three parameters: flat (as the original).
    IncompleteEnvelope,
    /// A crossfade curve other than `linear`/`equal_power`: linear is used.
    UnknownCrossfadeCurve(String<TEXT_CAP>),
    /// A parameter the original would choke on (`duration`, `sample_rate` in `params`).
    IgnoredKey,
    /// A part of the track this build does not render.
    NotRendered(&'static str),
    /// A `spatial_angle_modulation` path shape the original does not know: a circle.
    UnknownPathShape(String<TEXT_CAP>),
}

impl fmt::Display for WarningKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WarningKind::UnknownSynthFunction(s) => {
                write!(f, "unknown synth function \"{s}\": the voice is silent")
            }
            WarningKind::NotImplemented(s) => write!(
                f,
                "synth function \"{s}\" is not rendered by this version: the voice is silent"
            ),
            WarningKind::NoTransitionVariant(s) => write!(
                f,
                "\"{s}\" has no transition variant: the static voice is used"
            ),
            WarningKind::StepSkipped => {
                write!(f, "step duration is not positive: the step is skipped")
            }
            WarningKind::UnknownEnvelope(s) => {
                write!(f, "unknown envelope type \"{s}\": the voice is not shaped")
            }
            WarningKind::IncompleteEnvelope => {
                write!(f, "linear_fade needs fade_duration, start_amp and end_amp: the voice is not shaped")
            }
            WarningKind::UnknownCrossfadeCurve(s) => {
                write!(f, "unknown crossfade curve \"{s}\": linear is used")
            }
            WarningKind::IgnoredKey => write!(f, "key is ignored (it is set by the step)"),
            WarningKind::NotRendered(what) => write!(f, "{what} is not rendered by this version"),
            WarningKind::UnknownPathShape(s) => write!(
                f,
                "unknown path shape \"{s}\" (circle, square, linear, arc, diamond, oscillating_arc): a circle is used"
            ),
        }
    }
}

/// A located warning.
#[derive(Clone, Debug, PartialEq)]
pub struct Warning {
    /// Where.
    pub location: Location,
    /// What.
    pub kind: WarningKind,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.kind)
    }
}

/// Maximum number of warnings or errors kept; the rest are counted.
pub const MAX_REPORTS: usize = 32;

/// Collected problems.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Errors, in file order.
    pub errors: Vec<FormatError, MAX_REPORTS>,
    /// Errors beyond the capacity.
    pub more_errors: usize,
    /// Warnings, in file order.
    pub warnings: Vec<Warning, MAX_REPORTS>,
    /// Warnings beyond the capacity.
    pub more_warnings: usize,
}

impl Report {
    /// Records an error.
    pub fn error(&mut self, location: Location, kind: ErrorKind) {
        if self.errors.push(FormatError { location, kind }).is_err() {
            self.more_errors += 1;
        }
    }

    /// Records a warning.
    pub fn warn(&mut self, location: Location, kind: WarningKind) {
        if self.warnings.push(Warning { location, kind }).is_err() {
            self.more_warnings += 1;
        }
    }

    /// True when there is at least one error.
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }
}
