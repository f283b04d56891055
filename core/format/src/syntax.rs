//! First pass: a strict JSON syntax check that locates the first error by line and
//! column, bounds nesting depth, and accepts the non-standard literals `NaN`, `Infinity`
//! and `-Infinity` that Python's `json` module writes and reads (the validator of the
//! typed pass then rejects them with a located "not finite" error).
//!
//! serde-json-core, which decodes the typed structures in the second pass, skips unknown
//! scalars loosely and reports errors without positions; running this first means it only
//! ever sees well-formed input and every syntax error names its line and column.
//!
//! It also provides [`skip_value`], which finds the byte span of one value; the typed
//! pass uses it to record where nested arrays and objects are.

/// Maximum nesting depth accepted (the deepest shipped file nests 7 levels).
pub const MAX_DEPTH: usize = 64;

/// A syntax error at a byte offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    /// Byte offset of the offending character.
    pub offset: usize,
    /// What was wrong.
    pub message: &'static str,
}

/// Line and column (1-based, columns in characters) of byte `offset` in `input`.
pub fn line_col(input: &[u8], offset: usize) -> (u32, u32) {
    let end = offset.min(input.len());
    let mut line = 1u32;
    let mut col = 1u32;
    for &b in &input[..end] {
        if b == b'\n' {
            line += 1;
            col = 1;
        } else if (b & 0xC0) != 0x80 {
            // count characters, not UTF-8 continuation bytes
            col += 1;
        }
    }
    (line, col)
}

struct Scanner<'a> {
    s: &'a [u8],
    i: usize,
}

type R<T> = Result<T, SyntaxError>;

impl<'a> Scanner<'a> {
    fn err<T>(&self, message: &'static str) -> R<T> {
        Err(SyntaxError {
            offset: self.i,
            message,
        })
    }

    fn ws(&mut self) {
        while let Some(&b) = self.s.get(self.i) {
            if matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
                self.i += 1;
            } else {
                break;
            }
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn lit(&mut self, word: &'static [u8], message: &'static str) -> R<()> {
        if self.s.get(self.i..self.i + word.len()) == Some(word) {
            self.i += word.len();
            Ok(())
        } else {
            self.err(message)
        }
    }

    fn value(&mut self, depth: usize) -> R<()> {
        if depth > MAX_DEPTH {
            return self.err("nesting deeper than 64 levels");
        }
        self.ws();
        match self.peek() {
            None => self.err("unexpected end of input, expected a value"),
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"') => self.string(),
            Some(b't') => self.lit(b"true", "invalid literal, expected `true`"),
            Some(b'f') => self.lit(b"false", "invalid literal, expected `false`"),
            Some(b'n') => self.lit(b"null", "invalid literal, expected `null`"),
            Some(b'N') => self.lit(b"NaN", "invalid literal, expected `NaN`"),
            Some(b'I') => self.lit(b"Infinity", "invalid literal, expected `Infinity`"),
            Some(b'-') if self.s.get(self.i + 1) == Some(&b'I') => {
                self.i += 1;
                self.lit(b"Infinity", "invalid literal, expected `-Infinity`")
            }
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => self.err("expected a value"),
        }
    }

    fn object(&mut self, depth: usize) -> R<()> {
        self.i += 1; // {
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(());
        }
        loop {
            self.ws();
            if self.peek() != Some(b'"') {
                return self.err(if self.peek() == Some(b'}') {
                    "trailing comma in object"
                } else {
                    "expected a string key"
                });
            }
            self.string()?;
            self.ws();
            if self.peek() != Some(b':') {
                return self.err("expected `:` after the key");
            }
            self.i += 1;
            self.value(depth + 1)?;
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(());
                }
                None => return self.err("unexpected end of input inside an object"),
                _ => return self.err("expected `,` or `}`"),
            }
        }
    }

    fn array(&mut self, depth: usize) -> R<()> {
        self.i += 1; // [
        self.ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            return Ok(());
        }
        loop {
            self.ws();
            if self.peek() == Some(b']') {
                return self.err("trailing comma in array");
            }
            self.value(depth + 1)?;
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return Ok(());
                }
                None => return self.err("unexpected end of input inside an array"),
                _ => return self.err("expected `,` or `]`"),
            }
        }
    }

    fn string(&mut self) -> R<()> {
        self.i += 1; // "
        loop {
            match self.peek() {
                None => return self.err("unterminated string"),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    self.i += 1;
                    match self.peek() {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.i += 1,
                        Some(b'u') => {
                            self.i += 1;
                            for _ in 0..4 {
                                match self.peek() {
                                    Some(c) if c.is_ascii_hexdigit() => self.i += 1,
                                    _ => return self.err("invalid \\u escape"),
                                }
                            }
                        }
                        _ => return self.err("invalid escape in string"),
                    }
                }
                Some(c) if c < 0x20 => return self.err("control character in string"),
                Some(_) => self.i += 1,
            }
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
        self.i - start
    }

    fn number(&mut self) -> R<()> {
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => {
                self.i += 1;
            }
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return self.err("invalid number"),
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return self.err("invalid number: digits expected after `.`");
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if self.digits() == 0 {
                return self.err("invalid number: digits expected in the exponent");
            }
        }
        Ok(())
    }
}

/// Checks that `input` is one JSON value (with Python's non-finite literals) followed only
/// by whitespace.
pub fn validate(input: &[u8]) -> Result<(), SyntaxError> {
    if input.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return Err(SyntaxError {
            offset: 0,
            message: "byte-order mark at the start (save the file as UTF-8 without BOM)",
        });
    }
    if core::str::from_utf8(input).is_err() {
        let bad = match core::str::from_utf8(input) {
            Err(e) => e.valid_up_to(),
            Ok(_) => 0,
        };
        return Err(SyntaxError {
            offset: bad,
            message: "invalid UTF-8",
        });
    }
    let mut sc = Scanner { s: input, i: 0 };
    sc.value(0)?;
    sc.ws();
    if sc.i < input.len() {
        return sc.err("unexpected characters after the JSON value");
    }
    Ok(())
}

/// The end (exclusive) of the value starting at `start` (after optional whitespace) in
/// already validated input.
pub fn skip_value(input: &[u8], start: usize) -> usize {
    let mut sc = Scanner { s: input, i: start };
    match sc.value(0) {
        Ok(()) => sc.i,
        Err(e) => e.offset,
    }
}

/// Offset of the first non-whitespace byte at or after `i`.
pub fn skip_ws(input: &[u8], mut i: usize) -> usize {
    while let Some(&b) = input.get(i) {
        if matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
            i += 1;
        } else {
            break;
        }
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_valid_and_python_literals() {
        assert!(
            validate(br#"{"a": [1, -2.5e3, true, false, null, "x\u00e9\n"], "b": {}}"#).is_ok()
        );
        assert!(validate(br#"{"a": NaN, "b": Infinity, "c": -Infinity}"#).is_ok());
    }

    #[test]
    fn locates_errors() {
        let src = b"{\n  \"a\": 1,\n  \"b\": [1, 2,]\n}";
        let e = validate(src).unwrap_err();
        assert_eq!(e.message, "trailing comma in array");
        assert_eq!(line_col(src, e.offset), (3, 14)); // at the `]` after the comma
        let e = validate(b"{\"a\": 01}").unwrap_err();
        assert_eq!(e.message, "expected `,` or `}`");
        let e = validate(b"{\"a\" 1}").unwrap_err();
        assert_eq!(e.message, "expected `:` after the key");
        let e = validate(b"[1] x").unwrap_err();
        assert_eq!(e.offset, 4);
        assert!(validate(b"").is_err());
        assert!(validate(b"\"abc").is_err());
    }

    #[test]
    fn depth_is_bounded() {
        let mut s = std::vec::Vec::new();
        s.extend(core::iter::repeat_n(b'[', 100));
        s.extend(core::iter::repeat_n(b']', 100));
        assert_eq!(
            validate(&s).unwrap_err().message,
            "nesting deeper than 64 levels"
        );
    }

    #[test]
    fn skip_finds_spans() {
        let s = br#"{"a": [1, {"b": "]"}], "c": 2}"#;
        let start = 6;
        let end = skip_value(s, start);
        assert_eq!(&s[start..end], br#"[1, {"b": "]"}]"#);
    }
}
