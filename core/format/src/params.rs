//! Reading parameter values the way the original does (TRACK_FORMAT.md §4.2): numbers may
//! be JSON numbers, numeric strings (`"4.0"`, read with Python `float()` rules) or
//! booleans (`true` = 1.0); `null` means "use the default"; booleans accept true/false,
//! numbers, and the strings true/false/1/0/yes/no/on/off (the original's `bool("false")`
//! being truthy is treated as the bug it is). Every rejected value is reported with its
//! step, voice, key, line and column, and the default is used so that checking can go on
//! and list every problem.

use crate::error::{short, ErrorKind, Location, Report, TEXT_CAP};
use crate::syntax::line_col;
use crate::value::{unescape_into, Entry, Map, Value};
use core::str::FromStr;
use entrain_engine::model::Pair;
use heapless::String;

/// What a numeric parameter means (selects the validation rule).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Any finite value.
    Plain,
    /// A frequency: 0 ≤ f ≤ Nyquist.
    Freq,
    /// A time or duration: ≥ 0.
    Time,
}

/// Parses a numeric string with Python `float()` rules: surrounding whitespace, an
/// optional sign, digits with `_` separators, `inf`/`infinity`/`nan` in any case.
pub fn py_float(s: &str) -> Option<f64> {
    let t = s.trim();
    if t.is_empty() || t.len() > 64 {
        return None;
    }
    let mut buf: String<64> = String::new();
    let bytes = t.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'_' {
            // only between digits
            let ok = i > 0
                && i + 1 < bytes.len()
                && bytes[i - 1].is_ascii_digit()
                && bytes[i + 1].is_ascii_digit();
            if !ok {
                return None;
            }
            continue;
        }
        buf.push(b as char).ok()?;
    }
    f64::from_str(&buf).ok()
}

/// Parses a boolean word.
pub fn bool_word(s: &str) -> Option<bool> {
    let t = s.trim();
    for (w, v) in [
        ("true", true),
        ("false", false),
        ("1", true),
        ("0", false),
        ("yes", true),
        ("no", false),
        ("on", true),
        ("off", false),
        ("1.0", true),
        ("0.0", false),
    ] {
        if t.eq_ignore_ascii_case(w) {
            return Some(v);
        }
    }
    None
}

/// Reads typed values from one JSON object, recording problems in a [`Report`].
pub struct Reader<'r, 'a> {
    /// The whole input (for line/column).
    pub input: &'a [u8],
    /// The object.
    pub map: &'r Map<'a>,
    /// Where problems go.
    pub report: &'r mut Report,
    /// Step/voice of this object.
    pub base: Location,
    /// Half the track's sample rate, Hz.
    pub nyquist: f64,
}

impl<'r, 'a> Reader<'r, 'a> {
    /// The location of an entry.
    pub fn loc(&self, e: &Entry<'_>) -> Location {
        let (line, column) = line_col(self.input, e.offset);
        let mut l = self.base.clone().with_key(e.key);
        l.line = line;
        l.column = column;
        l
    }

    fn err(&mut self, e: &Entry<'_>, kind: ErrorKind) {
        let l = self.loc(e);
        self.report.error(l, kind);
    }

    /// The raw entry for `key` if present and not `null`.
    pub fn entry(&self, key: &str) -> Option<Entry<'a>> {
        self.map
            .get(key)
            .copied()
            .filter(|e| e.value != Value::Null)
    }

    /// Coerces an entry to a finite number checked against `kind`.
    pub fn coerce_number(&mut self, e: &Entry<'a>, kind: Kind) -> Option<f64> {
        let v = match e.value {
            Value::Null => return None,
            Value::Number(x) => x,
            Value::Bool(b) => {
                if b {
                    1.0
                } else {
                    0.0
                }
            }
            Value::Str(raw) => {
                let mut s: String<64> = String::new();
                let parsed = if unescape_into(raw, &mut s) {
                    py_float(&s)
                } else {
                    None
                };
                match parsed {
                    Some(x) => x,
                    None => {
                        self.err(e, ErrorKind::NotANumber(short(raw)));
                        return None;
                    }
                }
            }
            other => {
                self.err(
                    e,
                    ErrorKind::WrongType {
                        expected: "a number",
                        found: other.type_name(),
                    },
                );
                return None;
            }
        };
        if !v.is_finite() {
            self.err(e, ErrorKind::NotFinite);
            return None;
        }
        match kind {
            Kind::Plain => {}
            Kind::Freq => {
                if v < 0.0 {
                    self.err(e, ErrorKind::NegativeFrequency(v));
                    return None;
                }
                if v > self.nyquist {
                    self.err(
                        e,
                        ErrorKind::AboveNyquist {
                            value: v,
                            nyquist: self.nyquist,
                        },
                    );
                    return None;
                }
            }
            Kind::Time => {
                if v < 0.0 {
                    self.err(e, ErrorKind::NegativeDuration(v));
                    return None;
                }
            }
        }
        Some(v)
    }

    /// `key` as a number, if present and valid.
    pub fn number(&mut self, key: &str, kind: Kind) -> Option<f64> {
        let e = self.entry(key)?;
        self.coerce_number(&e, kind)
    }

    /// `key` as a number or `default`.
    pub fn num_or(&mut self, key: &str, default: f64, kind: Kind) -> f64 {
        self.number(key, kind).unwrap_or(default)
    }

    /// The first present key of `keys` (precedence order) as a number.
    pub fn number_any(&mut self, keys: &[&str], kind: Kind) -> Option<f64> {
        let e = self.map.first_of(keys).copied()?;
        self.coerce_number(&e, kind)
    }

    /// Coerces an entry to a boolean.
    pub fn coerce_bool(&mut self, e: &Entry<'a>) -> Option<bool> {
        match e.value {
            Value::Null => None,
            Value::Bool(b) => Some(b),
            Value::Number(x) => {
                if x.is_nan() {
                    self.err(e, ErrorKind::NotFinite);
                    None
                } else {
                    Some(x != 0.0)
                }
            }
            Value::Str(raw) => match bool_word(raw) {
                Some(b) => Some(b),
                None => {
                    self.err(e, ErrorKind::NotABoolean(short(raw)));
                    None
                }
            },
            other => {
                self.err(
                    e,
                    ErrorKind::WrongType {
                        expected: "a boolean",
                        found: other.type_name(),
                    },
                );
                None
            }
        }
    }

    /// `key` as a boolean or `default`.
    pub fn bool_or(&mut self, key: &str, default: bool) -> bool {
        match self.entry(key) {
            Some(e) => self.coerce_bool(&e).unwrap_or(default),
            None => default,
        }
    }

    /// Coerces an entry to an (unescaped) string of at most `N` bytes.
    pub fn coerce_text<const N: usize>(&mut self, e: &Entry<'a>) -> Option<String<N>> {
        match e.value {
            Value::Null => None,
            Value::Str(raw) => {
                let mut s = String::new();
                if unescape_into(raw, &mut s) {
                    Some(s)
                } else if raw.len() > N {
                    self.err(e, ErrorKind::StringTooLong { limit: N });
                    None
                } else {
                    self.err(e, ErrorKind::BadEscape);
                    None
                }
            }
            other => {
                self.err(
                    e,
                    ErrorKind::WrongType {
                        expected: "a string",
                        found: other.type_name(),
                    },
                );
                None
            }
        }
    }

    /// `key` as a string.
    pub fn text<const N: usize>(&mut self, key: &str) -> Option<String<N>> {
        let e = self.entry(key)?;
        self.coerce_text(&e)
    }

    /// A static parameter as a constant [`Pair`].
    pub fn fixed(&mut self, key: &str, default: f64, kind: Kind) -> Pair {
        Pair::fixed(self.num_or(key, default, kind))
    }

    /// Pattern 1 (TRACK_FORMAT.md §7.1): `startX = startX ?? X ?? default`,
    /// `endX = endX ?? startX`, where `X` is the static name (`ampL` → `startAmpL`).
    pub fn pair1(&mut self, name: &str, default: f64, kind: Kind) -> Pair {
        let start_key = prefixed::<TEXT_CAP>("start", name);
        let end_key = prefixed::<TEXT_CAP>("end", name);
        let start = match self.number(&start_key, kind) {
            Some(v) => v,
            None => self.num_or(name, default, kind),
        };
        let end = self.number(&end_key, kind).unwrap_or(start);
        Pair::new(start, end)
    }

    /// Pattern 1 with an explicit fallback key (e.g. `startStartPhaseL` → `startPhaseL`).
    pub fn pair1_keys(
        &mut self,
        start_key: &str,
        end_key: &str,
        fallback: &str,
        default: f64,
        kind: Kind,
    ) -> Pair {
        let start = match self.number(start_key, kind) {
            Some(v) => v,
            None => self.num_or(fallback, default, kind),
        };
        let end = self.number(end_key, kind).unwrap_or(start);
        Pair::new(start, end)
    }

    /// Pattern 2: `startX = startX ?? default_start`, `endX = endX ?? default_end`; the
    /// static name is not consulted.
    pub fn pair2(
        &mut self,
        start_key: &str,
        end_key: &str,
        default_start: f64,
        default_end: f64,
        kind: Kind,
    ) -> Pair {
        let start = self.num_or(start_key, default_start, kind);
        let end = self.num_or(end_key, default_end, kind);
        Pair::new(start, end)
    }
}

/// `prefix` + `name` with the first letter of `name` upper-cased.
pub fn prefixed<const N: usize>(prefix: &str, name: &str) -> String<N> {
    let mut s: String<N> = String::new();
    let _ = s.push_str(prefix);
    let mut chars = name.chars();
    if let Some(c) = chars.next() {
        let _ = s.push(c.to_ascii_uppercase());
    }
    let _ = s.push_str(chars.as_str());
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_float_rules() {
        assert_eq!(py_float(" 4.0 "), Some(4.0));
        assert_eq!(py_float("1_000.5"), Some(1000.5));
        assert_eq!(py_float("-1e3"), Some(-1000.0));
        assert!(py_float("inf").unwrap().is_infinite());
        assert!(py_float("Infinity").unwrap().is_infinite());
        assert!(py_float("nan").unwrap().is_nan());
        assert_eq!(py_float("1__0"), None);
        assert_eq!(py_float("_1"), None);
        assert_eq!(py_float("abc"), None);
        assert_eq!(py_float(""), None);
    }

    #[test]
    fn bool_words() {
        assert_eq!(bool_word("False"), Some(false));
        assert_eq!(bool_word("on"), Some(true));
        assert_eq!(bool_word("maybe"), None);
    }

    #[test]
    fn key_prefixing() {
        assert_eq!(prefixed::<32>("start", "ampL").as_str(), "startAmpL");
        assert_eq!(
            prefixed::<32>("end", "startPhaseL").as_str(),
            "endStartPhaseL"
        );
    }
}
