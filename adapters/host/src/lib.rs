//! `entrain-host`: the std side of entrain shared by every adapter (CLI, Python, cpal,
//! wasm host tests): loading a track file, sizing the engine's memory on the heap, and
//! writing renders to files atomically (a failed render never leaves a file under the
//! final name).

pub mod alloc_guard;
pub mod assets;
pub mod audio;
pub mod file_sink;
pub mod load;
pub mod memory;
pub mod noise;
pub mod output;
pub mod spill;

pub use assets::SharedTrack;
pub use load::{
    load_track_file, load_track_str, load_track_str_with_preset, LoadError, LoadedTrack,
};
pub use memory::{build_engine, HeapMemory, HostEngine};
pub use output::{
    render_spill_to_file, render_to_file, render_to_file_with, BlockRenderer, OutputFormat,
    RenderError, RenderOptions,
};
pub use spill::{build_engine_spilling, Spill, SpillPolicy, SpillingBuild};

/// The bundled demo track (rendered by `realtime_backend render` with no arguments).
pub const DEMO_TRACK: &str = include_str!("../../../assets/demo.json");
