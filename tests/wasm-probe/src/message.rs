//! [`Message`]: a fixed UTF-8 buffer for error reasons and paths (no allocation).

use core::fmt;

/// Default capacity of a [`Message`], bytes.
pub const MESSAGE_CAP: usize = 512;

/// A `core::fmt::Write` sink of `N` bytes that shortens visibly (`…`) at a character
/// boundary. `repr(C)` with the bytes first, so the FFI can hand JS the buffer's address.
#[repr(C)]
pub struct Message<const N: usize = MESSAGE_CAP> {
    buf: [u8; N],
    len: usize,
    full: bool,
}

/// The shortening mark.
const MORE: char = '…';

impl<const N: usize> Message<N> {
    /// An empty message.
    pub const fn new() -> Self {
        Self {
            buf: [0; N],
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

    fn push(&mut self, c: char) {
        let n = c.len_utf8();
        c.encode_utf8(&mut self.buf[self.len..self.len + n]);
        self.len += n;
    }
}

impl<const N: usize> fmt::Debug for Message<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl<const N: usize> Default for Message<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> fmt::Write for Message<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            if self.full {
                break;
            }
            if self.len + c.len_utf8() + MORE.len_utf8() > N {
                // Keep room for the mark, so a shortened text says so.
                if self.len + MORE.len_utf8() <= N {
                    self.push(MORE);
                }
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
        let mut m: Message = Message::new();
        for _ in 0..MESSAGE_CAP {
            let _ = m.write_str("é");
        }
        assert!(m.len() <= MESSAGE_CAP);
        assert!(m.as_str().ends_with("é…"), "{}", m.as_str());
        m.clear();
        let _ = m.write_str("ok");
        assert_eq!(m.as_str(), "ok");
    }

    #[test]
    fn text_that_fits_with_the_mark_is_kept_whole() {
        let mut m: Message<8> = Message::new();
        let _ = m.write_str("12345");
        assert_eq!(m.as_str(), "12345");
        let _ = m.write_str("6");
        assert_eq!(m.as_str(), "12345…");
    }
}
