//! Second pass: typed decoding with serde-json-core.
//!
//! serde-json-core has no `deserialize_any`, so a JSON object whose values can be of any
//! type (a voice's `params`: numbers, numeric strings, booleans, `null`, arrays such as
//! `spatialTrajectory`, objects) cannot be decoded by a derived `Deserialize`. The
//! visitor here peeks instead: every key arrives as a `&str` borrowed from the input
//! (no unescape buffer is given), so its byte offset is known, the first byte of the
//! value after the colon tells its type, and the matching `deserialize_*` call is made.
//! Arrays and objects are skipped by serde-json-core and recorded as byte spans
//! (found by [`crate::syntax::skip_value`]) to be decoded later, when the schema that
//! applies to them is known (e.g. after `synth_function_name`, which may come after
//! `params`).
//!
//! The input has passed [`crate::syntax::validate`], so serde-json-core only sees
//! well-formed JSON.

use crate::syntax::{skip_value, skip_ws};
use core::fmt;
use heapless::Vec;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};

/// Maximum number of keys in one object. The largest shipped voice has 73 parameters.
pub const MAX_KEYS: usize = 160;

/// A byte span `[start, end)` of the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

/// A decoded JSON value (nested containers as spans).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value<'a> {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number, or Python's `NaN` / `Infinity` / `-Infinity` literals.
    Number(f64),
    /// A string, raw (still escaped) content between the quotes.
    Str(&'a str),
    /// An array.
    Array(Span),
    /// An object.
    Object(Span),
}

impl Value<'_> {
    /// The JSON type name, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::Str(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        }
    }
}

/// One `key: value` of an object.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Entry<'a> {
    /// The key (raw; keys with escapes are compared as written).
    pub key: &'a str,
    /// The value.
    pub value: Value<'a>,
    /// Byte offset of the value in the input.
    pub offset: usize,
}

/// A decoded object: its entries in order; a repeated key keeps its last value (Python
/// `json` semantics) at the position of its first occurrence.
#[derive(Clone, Debug, Default)]
pub struct Map<'a> {
    /// Entries.
    pub entries: Vec<Entry<'a>, MAX_KEYS>,
    /// Byte offset of the opening brace.
    pub offset: usize,
}

impl<'a> Map<'a> {
    /// The entry for `key`.
    pub fn get(&self, key: &str) -> Option<&Entry<'a>> {
        self.entries.iter().find(|e| e.key == key)
    }

    /// The first present (non-`null`) entry among `keys` (precedence order) — the
    /// canonical name first, then its aliases.
    pub fn first_of(&self, keys: &[&str]) -> Option<&Entry<'a>> {
        keys.iter()
            .filter_map(|k| self.get(k))
            .find(|e| e.value != Value::Null)
    }
}

/// Why decoding failed (rare: the syntax pass ran first).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// The value is not an object.
    NotAnObject {
        /// Offset of the value.
        offset: usize,
    },
    /// More than [`MAX_KEYS`] keys.
    TooManyKeys {
        /// Offset of the object.
        offset: usize,
    },
    /// serde-json-core rejected the input.
    Json {
        /// Offset of the object being decoded.
        offset: usize,
    },
}

/// A serde error that carries nothing (the real error is kept by the visitor).
#[derive(Debug)]
struct Abort;
impl fmt::Display for Abort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("abort")
    }
}

struct Ctx<'a> {
    input: &'a [u8],
}

impl<'a> Ctx<'a> {
    fn offset_of(&self, s: &str) -> usize {
        (s.as_ptr() as usize).wrapping_sub(self.input.as_ptr() as usize)
    }
}

/// Decodes the object at `span` of `input`.
pub fn parse_map<'a>(input: &'a [u8], span: Span) -> Result<Map<'a>, DecodeError> {
    let start = skip_ws(input, span.start);
    if input.get(start) != Some(&b'{') {
        return Err(DecodeError::NotAnObject { offset: start });
    }
    let ctx = Ctx { input };
    let mut map = Map {
        entries: Vec::new(),
        offset: start,
    };
    let mut overflow = false;
    let slice = &input[start..span.end.min(input.len())];
    let mut de = serde_json_core::de::Deserializer::new(slice, None);
    let res = de::Deserializer::deserialize_map(
        &mut de,
        MapVisitor {
            ctx: &ctx,
            map: &mut map,
            overflow: &mut overflow,
        },
    );
    if overflow {
        return Err(DecodeError::TooManyKeys { offset: start });
    }
    res.map_err(|_| DecodeError::Json { offset: start })?;
    Ok(map)
}

/// Decodes the single value at `span` (used for array elements).
pub fn parse_value(input: &[u8], span: Span) -> Result<Value<'_>, DecodeError> {
    let start = skip_ws(input, span.start);
    let end = span.end.min(input.len());
    match input.get(start) {
        Some(b'[') => Ok(Value::Array(Span {
            start,
            end: skip_value(input, start),
        })),
        Some(b'{') => Ok(Value::Object(Span {
            start,
            end: skip_value(input, start),
        })),
        _ => {
            let ctx = Ctx { input };
            let mut de = serde_json_core::de::Deserializer::new(&input[start..end], None);
            ValueSeed { ctx: &ctx, start }
                .deserialize(&mut de)
                .map_err(|_| DecodeError::Json { offset: start })
        }
    }
}

/// Spans of the elements of the array at `span`, passed to `f` in order with their index.
pub fn for_each_element<E>(
    input: &[u8],
    span: Span,
    mut f: impl FnMut(usize, Span) -> Result<(), E>,
) -> Result<(), E> {
    let mut i = skip_ws(input, span.start);
    if input.get(i) != Some(&b'[') {
        return Ok(());
    }
    i = skip_ws(input, i + 1);
    let mut index = 0;
    while i < span.end && input.get(i) != Some(&b']') {
        let end = skip_value(input, i);
        f(index, Span { start: i, end })?;
        index += 1;
        i = skip_ws(input, end);
        if input.get(i) == Some(&b',') {
            i = skip_ws(input, i + 1);
        }
    }
    Ok(())
}

struct MapVisitor<'c, 'a> {
    ctx: &'c Ctx<'a>,
    map: &'c mut Map<'a>,
    overflow: &'c mut bool,
}

impl<'de, 'c> Visitor<'de> for MapVisitor<'c, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<(), A::Error> {
        while let Some(key) = access.next_key::<&'de str>()? {
            let key_off = self.ctx.offset_of(key);
            // After the key: closing quote, whitespace, colon, whitespace.
            let mut i = key_off + key.len() + 1;
            i = skip_ws(self.ctx.input, i);
            if self.ctx.input.get(i) == Some(&b':') {
                i += 1;
            }
            let start = skip_ws(self.ctx.input, i);
            let value = access.next_value_seed(ValueSeed {
                ctx: self.ctx,
                start,
            })?;
            let entry = Entry {
                key,
                value,
                offset: start,
            };
            if let Some(e) = self.map.entries.iter_mut().find(|e| e.key == key) {
                *e = entry;
            } else if self.map.entries.push(entry).is_err() {
                *self.overflow = true;
                return Err(de::Error::custom(Abort));
            }
        }
        Ok(())
    }
}

struct ValueSeed<'c, 'a> {
    ctx: &'c Ctx<'a>,
    start: usize,
}

impl<'de, 'c> DeserializeSeed<'de> for ValueSeed<'c, 'de> {
    type Value = Value<'de>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value<'de>, D::Error> {
        let input = self.ctx.input;
        let first = input.get(self.start).copied();
        let second = input.get(self.start + 1).copied();
        match first {
            Some(b'"') => d.deserialize_str(StrVisitor),
            Some(b't') | Some(b'f') => d.deserialize_bool(BoolVisitor),
            Some(b'n') => d.deserialize_option(NullVisitor),
            Some(b'[') => {
                d.deserialize_ignored_any(IgnoredAny)?;
                Ok(Value::Array(Span {
                    start: self.start,
                    end: skip_value(input, self.start),
                }))
            }
            Some(b'{') => {
                d.deserialize_ignored_any(IgnoredAny)?;
                Ok(Value::Object(Span {
                    start: self.start,
                    end: skip_value(input, self.start),
                }))
            }
            // Python's non-finite literals: serde-json-core cannot parse them as numbers,
            // but skips them as an ignored scalar.
            Some(b'N') => {
                d.deserialize_ignored_any(IgnoredAny)?;
                Ok(Value::Number(f64::NAN))
            }
            Some(b'I') => {
                d.deserialize_ignored_any(IgnoredAny)?;
                Ok(Value::Number(f64::INFINITY))
            }
            Some(b'-') if second == Some(b'I') => {
                d.deserialize_ignored_any(IgnoredAny)?;
                Ok(Value::Number(f64::NEG_INFINITY))
            }
            _ => d.deserialize_f64(NumVisitor),
        }
    }
}

struct StrVisitor;
impl<'de> Visitor<'de> for StrVisitor {
    type Value = Value<'de>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Value<'de>, E> {
        Ok(Value::Str(v))
    }
}

struct BoolVisitor;
impl<'de> Visitor<'de> for BoolVisitor {
    type Value = Value<'de>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a boolean")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value<'de>, E> {
        Ok(Value::Bool(v))
    }
}

struct NullVisitor;
impl<'de> Visitor<'de> for NullVisitor {
    type Value = Value<'de>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("null")
    }
    fn visit_none<E: de::Error>(self) -> Result<Value<'de>, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: de::Deserializer<'de>>(self, _d: D) -> Result<Value<'de>, D::Error> {
        Err(de::Error::custom(Abort))
    }
}

struct NumVisitor;
impl<'de> Visitor<'de> for NumVisitor {
    type Value = Value<'de>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number")
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value<'de>, E> {
        Ok(Value::Number(v))
    }
}

/// Unescapes a raw JSON string into `out` (UTF-16 surrogate pairs combined). Returns
/// false if it does not fit or an escape is invalid.
pub fn unescape_into<const N: usize>(raw: &str, out: &mut heapless::String<N>) -> bool {
    out.clear();
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        let ch = if c == '\\' {
            match chars.next() {
                Some('"') => '"',
                Some('\\') => '\\',
                Some('/') => '/',
                Some('b') => '\u{8}',
                Some('f') => '\u{c}',
                Some('n') => '\n',
                Some('r') => '\r',
                Some('t') => '\t',
                Some('u') => {
                    let Some(hi) = hex4(&mut chars) else {
                        return false;
                    };
                    if (0xD800..0xDC00).contains(&hi) {
                        // high surrogate: expect \uDC00..\uDFFF
                        if chars.next() != Some('\\') || chars.next() != Some('u') {
                            return false;
                        }
                        let Some(lo) = hex4(&mut chars) else {
                            return false;
                        };
                        if !(0xDC00..0xE000).contains(&lo) {
                            return false;
                        }
                        let cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                        match char::from_u32(cp) {
                            Some(c) => c,
                            None => return false,
                        }
                    } else {
                        match char::from_u32(hi) {
                            Some(c) => c,
                            None => return false,
                        }
                    }
                }
                _ => return false,
            }
        } else {
            c
        };
        if out.push(ch).is_err() {
            return false;
        }
    }
    true
}

fn hex4(chars: &mut core::str::Chars<'_>) -> Option<u32> {
    let mut v = 0u32;
    for _ in 0..4 {
        v = v * 16 + chars.next()?.to_digit(16)?;
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_every_kind() {
        let src = br#"{"a": 1.5, "b": "x\"y", "c": true, "d": null, "e": [1, [2]], "f": {"g": 1}, "h": NaN, "i": -Infinity, "a": 2}"#;
        let m = parse_map(
            src,
            Span {
                start: 0,
                end: src.len(),
            },
        )
        .unwrap();
        assert_eq!(m.get("a").unwrap().value, Value::Number(2.0));
        assert_eq!(m.get("b").unwrap().value, Value::Str("x\\\"y"));
        assert_eq!(m.get("c").unwrap().value, Value::Bool(true));
        assert_eq!(m.get("d").unwrap().value, Value::Null);
        match m.get("e").unwrap().value {
            Value::Array(s) => assert_eq!(&src[s.start..s.end], b"[1, [2]]"),
            v => panic!("{v:?}"),
        }
        match m.get("f").unwrap().value {
            Value::Object(s) => {
                let inner = parse_map(src, s).unwrap();
                assert_eq!(inner.get("g").unwrap().value, Value::Number(1.0));
            }
            v => panic!("{v:?}"),
        }
        assert!(matches!(m.get("h").unwrap().value, Value::Number(x) if x.is_nan()));
        assert_eq!(m.get("i").unwrap().value, Value::Number(f64::NEG_INFINITY));
        assert_eq!(m.entries.len(), 8);
        // offsets point at the values
        let e = m.get("c").unwrap();
        assert_eq!(&src[e.offset..e.offset + 4], b"true");
    }

    #[test]
    fn elements() {
        let src = br#"[ {"a":1}, 2 , "s", [3] ]"#;
        let mut got = std::vec::Vec::new();
        for_each_element::<()>(
            src,
            Span {
                start: 0,
                end: src.len(),
            },
            |i, sp| {
                got.push((i, parse_value(src, sp).unwrap()));
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(got.len(), 4);
        assert_eq!(got[1].1, Value::Number(2.0));
        assert_eq!(got[2].1, Value::Str("s"));
    }

    #[test]
    fn unescape() {
        let mut s: heapless::String<32> = heapless::String::new();
        assert!(unescape_into(r#"a\nb\u00e9\ud83d\ude00"#, &mut s));
        assert_eq!(s.as_str(), "a\nbé😀");
        let mut small: heapless::String<2> = heapless::String::new();
        assert!(!unescape_into("abc", &mut small));
    }
}
