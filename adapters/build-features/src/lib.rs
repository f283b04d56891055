//! No code: see `Cargo.toml` (feature unification between the CLI and the Python module).
#![no_std]
