//! `entrain-wasm`: the package `realtime_backend` (wasm-bindgen) that runs the entrain
//! engine in a browser (an AudioWorklet, see `web/`) or in node.
//!
//! The package the original shipped as `pkg/realtime_backend.js` +
//! `pkg/realtime_backend_bg.wasm`: `./build.sh` runs cargo for `wasm32-unknown-unknown`,
//! `wasm-bindgen --target web --out-name realtime_backend` and, when present, `wasm-opt`.
//! WASM_GUIDE.md (repository root) documents the API, the AudioWorklet integration and
//! why the engine runs inside the worklet.
//!
//! * [`player`]: the player in plain Rust (load with an explicit noise preset text,
//!   render, pause, seek, crossfaded track replacement), unit-tested on the host.
//! * [`summary`]: the track summary the page draws its timeline from.
//! * [`bindings`]: the JS API: the `Player` class and the original's module-level
//!   functions (`start_stream`, `process_block`, `update_track`, …).
//!
//! The engine is the same core as the host's, built with the same configuration, so the
//! output has the same bits as `realtime_backend hash` for the same track, rate and mode
//! (tests/web checks it in node and in Chromium). There is no file system: the text of
//! a track's `.noise` preset is handed in by the caller, and remote preset paths are
//! refused. Everything compiles on the host too (`cargo build --workspace`), where the
//! wasm-bindgen exports are inert.
#![warn(missing_docs)]

pub mod bindings;
pub mod player;
pub mod summary;
