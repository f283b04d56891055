//! Links with cortex-m-rt's `link.x` (which includes this crate's `memory.x`) and
//! defmt's `defmt.x`, and provides the on-target tests with their cases: the file
//! named by `ENTRAIN_FW_EXPECTED` (written by `firmware/run-tests.sh` from the host CLI's
//! `hash` command), or an empty list that makes the hash test fail with a hint.

use std::{env, fs, path::PathBuf};

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR is set by cargo"));
    fs::copy("memory.x", out.join("memory.x")).expect("copy memory.x");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory.x");
    println!("cargo:rustc-link-arg=-Tlink.x");
    println!("cargo:rustc-link-arg=-Tdefmt.x");

    println!("cargo:rerun-if-env-changed=ENTRAIN_FW_EXPECTED");
    let cases = out.join("expected.rs");
    match env::var_os("ENTRAIN_FW_EXPECTED") {
        Some(p) => {
            let p = PathBuf::from(p);
            println!("cargo:rerun-if-changed={}", p.display());
            fs::copy(&p, &cases).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()));
        }
        None => fs::write(
            &cases,
            "/// No expected hashes: run firmware/run-tests.sh, which generates them.\n\
             pub const GENERATED: bool = false;\n\
             pub const SECONDS: f64 = 0.0;\n\
             pub const CASES: &[Case] = &[];\n",
        )
        .expect("write expected.rs"),
    }
}
