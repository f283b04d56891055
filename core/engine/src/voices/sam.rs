//! `spatial_angle_modulation` and its transition (VOICES.md §9): placeholder state.

/// The overlap-add state of a SAM voice (kept in an effect slot).
#[derive(Clone, Debug, Default)]
pub struct SamOla {}

impl SamOla {
    /// Back to the state right after construction.
    pub fn reset(&mut self) {}
}
