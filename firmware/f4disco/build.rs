//! Links with cortex-m-rt's `link.x` (which includes `memory.x`) and defmt's `defmt.x`,
//! and copies the track to put in flash into OUT_DIR: `ENTRAIN_TRACK` (a path to a track
//! JSON file) or, by default, the repository's `assets/demo.json`.

use std::{env, fs, path::PathBuf};

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR is set by cargo"));
    fs::copy("memory.x", out.join("memory.x")).expect("copy memory.x");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory.x");
    println!("cargo:rustc-link-arg=-Tlink.x");
    println!("cargo:rustc-link-arg=-Tdefmt.x");

    println!("cargo:rerun-if-env-changed=ENTRAIN_TRACK");
    let track = env::var_os("ENTRAIN_TRACK")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("../../assets/demo.json"));
    println!("cargo:rerun-if-changed={}", track.display());
    fs::copy(&track, out.join("track.json"))
        .unwrap_or_else(|e| panic!("reading the track {}: {e}", track.display()));
}
