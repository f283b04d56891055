//! FNV-1a 64 over output sample bits: the cross-target fingerprint (STYLE.md §8).
//!
//! Samples are hashed as little-endian IEEE-754 bits, interleaved `L R L R …`, after NaN
//! canonicalisation. Not a security hash: it only has to differ when a bit differs.

use crate::Frame;

const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const PRIME: u64 = 0x0000_0100_0000_01b3;

/// Streaming FNV-1a 64.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fnv1a64(u64);

impl Default for Fnv1a64 {
    fn default() -> Self {
        Self(OFFSET)
    }
}

impl Fnv1a64 {
    /// A fresh hasher.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds raw bytes.
    #[inline]
    pub fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= b as u64;
            self.0 = self.0.wrapping_mul(PRIME);
        }
    }

    /// Feeds one f32 sample (canonicalised: NaN hashes as +0.0).
    #[inline]
    pub fn write_f32(&mut self, x: f32) {
        self.write(&crate::math::canonical(x).to_bits().to_le_bytes());
    }

    /// Feeds interleaved frames.
    pub fn write_frames(&mut self, frames: &[Frame]) {
        for f in frames {
            self.write_f32(f[0]);
            self.write_f32(f[1]);
        }
    }

    /// The hash value so far.
    pub fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn known_vectors() {
        // Published FNV-1a 64 test vectors.
        let mut h = Fnv1a64::new();
        assert_eq!(h.finish(), 0xcbf29ce484222325);
        h.write(b"a");
        assert_eq!(h.finish(), 0xaf63dc4c8601ec8c);
        let mut h = Fnv1a64::new();
        h.write(b"foobar");
        assert_eq!(h.finish(), 0x85944171f73967e8);
    }
}
