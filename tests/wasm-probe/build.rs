//! Gives the wasm32 cdylib a 4 MiB shadow stack instead of rustc's 1 MiB default.
//!
//! The pools are built once on the stack before they move into their static (about
//! 370 KiB, possibly twice), and compatible-mode analysis needs room on top. Setting it
//! here, for this crate's cdylib link only, leaves every other build untouched (unlike
//! `RUSTFLAGS` or `[target.wasm32-unknown-unknown] rustflags` in a root config, which
//! would also rebuild and relink the core crates and any other wasm adapter).

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo:rustc-link-arg-cdylib=-zstack-size={}", 4 << 20);
    }
}
