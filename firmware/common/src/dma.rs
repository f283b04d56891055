//! The DMA-style double buffer: a circular buffer of two halves, as an I2S or SAI DMA
//! stream plays them. While the DMA reads one half, the CPU renders the next block into
//! the other; the half-transfer and transfer-complete interrupts say which half is free.
//!
//! Samples go to the codec as interleaved 16-bit words (`L R L R …`, the I2S Philips
//! 16-bit frame of the CS43L22). The fingerprint is taken on the f32 frames before
//! conversion, exactly where the host's `hash` command takes it, so the firmware and
//! the host can be compared bit for bit.

use crate::to_i16;
use entrain_dsp::hash::Fnv1a64;
use entrain_dsp::Frame;
use entrain_engine::{Engine, Memory, TrackSource};

/// Largest DMA half, frames: 10 ms at 48 kHz, the block size of the benchmark and the
/// larger of the two block sizes the on-target tests use.
pub const MAX_BLOCK: usize = 480;

/// Words in one half of a buffer for `MAX_BLOCK` stereo frames.
pub const MAX_HALF_WORDS: usize = 2 * MAX_BLOCK;

/// One of the two halves of the circular buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum Half {
    /// Words `0..len/2`: free after the half-transfer interrupt.
    First,
    /// Words `len/2..len`: free after the transfer-complete interrupt.
    Second,
}

impl Half {
    /// The other half.
    pub fn other(self) -> Self {
        match self {
            Half::First => Half::Second,
            Half::Second => Half::First,
        }
    }
}

/// The interleaved 16-bit words a DMA stream plays in a loop: two halves of
/// `MAX_HALF_WORDS` words, of which the first `2 × block` are used.
#[derive(Debug)]
pub struct DoubleBuffer {
    words: [[u16; MAX_HALF_WORDS]; 2],
    block: usize,
}

impl DoubleBuffer {
    /// A silent buffer with halves of `block` frames (clamped to 1..=[`MAX_BLOCK`]).
    pub const fn new(block: usize) -> Self {
        let block = if block == 0 {
            1
        } else if block > MAX_BLOCK {
            MAX_BLOCK
        } else {
            block
        };
        Self {
            words: [[0; MAX_HALF_WORDS]; 2],
            block,
        }
    }

    /// Frames per half.
    pub fn block(&self) -> usize {
        self.block
    }

    /// Changes the block size (clamped as in [`DoubleBuffer::new`]) and silences the buffer.
    pub fn set_block(&mut self, block: usize) {
        *self = Self::new(block);
    }

    /// The words of `half` (what the DMA reads).
    pub fn half(&self, half: Half) -> &[u16] {
        let w = 2 * self.block;
        match half {
            Half::First => &self.words[0][..w],
            Half::Second => &self.words[1][..w],
        }
    }

    /// The words of `half` for the CPU to fill.
    pub fn half_mut(&mut self, half: Half) -> &mut [u16] {
        let w = 2 * self.block;
        match half {
            Half::First => &mut self.words[0][..w],
            Half::Second => &mut self.words[1][..w],
        }
    }
}

/// Renders blocks from an engine into DMA halves and fingerprints the first `limit`
/// frames of output.
#[derive(Debug)]
pub struct Renderer {
    scratch: [Frame; MAX_BLOCK],
    hash: Fnv1a64,
    hashed: u64,
    limit: u64,
}

impl Renderer {
    /// A renderer that fingerprints the first `limit` frames.
    pub fn new(limit: u64) -> Self {
        Self {
            scratch: [[0.0; 2]; MAX_BLOCK],
            hash: Fnv1a64::new(),
            hashed: 0,
            limit,
        }
    }

    /// Starts over with a new frame limit.
    pub fn reset(&mut self, limit: u64) {
        self.hash = Fnv1a64::new();
        self.hashed = 0;
        self.limit = limit;
    }

    /// Renders `half.len() / 2` frames into `half` (16-bit words, interleaved). Returns
    /// the frames of track rendered (fewer than the half at the end of the track; the
    /// rest is silence).
    pub fn fill<T: TrackSource, M: Memory>(
        &mut self,
        engine: &mut Engine<T, M>,
        half: &mut [u16],
    ) -> usize {
        let n = (half.len() / 2).min(MAX_BLOCK);
        let frames = &mut self.scratch[..n];
        let rendered = engine.render(frames);
        let take = (self.limit - self.hashed).min(n as u64) as usize;
        self.hash.write_frames(&frames[..take]);
        self.hashed += take as u64;
        for (w, f) in half.chunks_exact_mut(2).zip(frames.iter()) {
            w[0] = to_i16(f[0]) as u16;
            w[1] = to_i16(f[1]) as u16;
        }
        rendered
    }

    /// Frames fingerprinted so far.
    pub fn hashed(&self) -> u64 {
        self.hashed
    }

    /// True once `limit` frames have been fingerprinted.
    pub fn done(&self) -> bool {
        self.hashed >= self.limit
    }

    /// The FNV-1a 64 fingerprint of the frames hashed so far.
    pub fn fingerprint(&self) -> u64 {
        self.hash.finish()
    }
}
