//! The stereo sample frame used everywhere in the engine.

/// One stereo frame: `[left, right]`, nominal full scale ±1.0.
pub type Frame = [f32; 2];

/// A silent frame.
pub const SILENCE: Frame = [0.0, 0.0];
