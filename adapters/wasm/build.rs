//! Gives the wasm32 cdylib a 4 MiB shadow stack instead of rustc's 1 MiB default (as
//! tests/wasm-probe does).
//!
//! Parsing builds the track model on the stack before it moves to the heap (about
//! 400 KiB, `Box::<Track>::default()`), with the parser's own frames and the engine build
//! on top; with 1 MiB a `new Player(…)` overflowed into the module's data and trapped
//! with "memory access out of bounds". Set here, for this crate's cdylib link only, so
//! that no other build is touched (unlike RUSTFLAGS or a target rustflags entry).

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo:rustc-link-arg-cdylib=-zstack-size={}", 4 << 20);
    }
}
