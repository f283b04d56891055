//! [`Message`]: a fixed UTF-8 buffer for error reasons (no allocation).

use core::fmt;

/// Capacity of a [`Message`], bytes.
pub const MESSAGE_CAP: usize = 512;

/// A `core::fmt::Write` sink of fixed capacity that shortens visibly (`…`) at a
/// character boundary. `repr(C)` with the bytes first, so the FFI can hand JS the
/// buffer's address.
#[repr(C)]
pub struct Message {
    buf: [u8; MESSAGE_CAP],
    len: usize,
    full: bool,
}

impl Message {
    /// An empty message.
    pub const fn new() -> Self {
        Self {
            buf: [0; MESSAGE_CAP],
            len: 0,
            full: false,
        }
    }

    /// Empties the message.
    pub fn clear(&mut self) {
        self.len = 0;
        self.full = false;
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        // Only whole characters are ever copied in (see `write_str`).
        core::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl Default for Message {
    fn default() -> Self {
        Self::new()
    }
}

impl Message {
    fn push(&mut self, c: char) {
        let n = c.len_utf8();
        c.encode_utf8(&mut self.buf[self.len..self.len + n]);
        self.len += n;
    }
}

impl fmt::Write for Message {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        const MORE: char = '…';
        for c in s.chars() {
            if self.full {
                break;
            }
            let n = c.len_utf8();
            if self.len + n + MORE.len_utf8() > MESSAGE_CAP {
                // Keep room for the mark, so a shortened reason says so.
                self.push(MORE);
                self.full = true;
                break;
            }
            self.push(c);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::fmt::Write;

    #[test]
    fn shortens_at_a_character_boundary() {
        let mut m = Message::new();
        for _ in 0..MESSAGE_CAP {
            let _ = m.write_str("é");
        }
        assert!(m.len() <= MESSAGE_CAP);
        assert!(m.as_str().ends_with("é…"), "{}", m.as_str());
        m.clear();
        let _ = m.write_str("ok");
        assert_eq!(m.as_str(), "ok");
    }
}
