//! `entrain-engine`: voices, the step timeline, crossfades, mixing and the output stage.
//!
//! `no_std`, no allocation, no `unsafe`. The engine renders a [`model::Track`] (produced
//! by `entrain-format`) into stereo f32 frames, block by block, with constant memory
//! whatever the track length. Output bits do not depend on the block size and are the
//! same on every target (STYLE.md §6).
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod engine;
pub mod model;
pub mod noise;
pub mod timeline;
pub mod voices;

pub use engine::mixplan;
pub use engine::{
    ArrayMemory, BuildError, Config, Engine, Limiter, Memory, Mode, Parts, Requirements,
    TrackSource,
};
pub use model::{Track, TrackRef};
