//! `entrain-dsp`: the numeric heart of entrain.
//!
//! Everything here is `no_std`, allocation-free and deterministic: the same inputs give
//! the same output bits on x86_64, wasm32 and Cortex-M. The rules that make that true
//! (STYLE.md §6):
//!
//! * every transcendental function goes through [`math`] (libm, or the f32-only sine
//!   polynomial in [`math::sin_turns`]); inherent float methods such as `x.sin()` are
//!   never called, because with `std` linked they silently shadow the shim;
//! * no `mul_add`, no fast-math: plain IEEE `+ - * /` round identically everywhere;
//! * oscillator phases are integer accumulators ([`phase`]), so they wrap exactly and
//!   can be positioned at any sample in O(1);
//! * NaN never leaves the engine ([`math::canonical`]).
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod burst;
pub mod crossfade;
pub mod delay;
pub mod env;
pub mod fft;
pub mod filter;
pub mod flanger;
pub mod frame;
pub mod hash;
pub mod hrir;
pub mod linspace;
pub mod math;
pub mod noise;
pub mod osc;
pub mod pan;
pub mod phase;
pub mod ramp;
pub mod spatial;

pub use frame::Frame;
