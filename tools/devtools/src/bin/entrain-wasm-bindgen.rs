//! `entrain-wasm-bindgen INPUT.wasm OUT_DIR OUT_NAME`: what
//! `wasm-bindgen INPUT.wasm --target web --out-dir OUT_DIR --out-name OUT_NAME` does, with
//! the generator library pinned in the workspace's Cargo.lock to the same version as the
//! `wasm-bindgen` crate that `entrain-wasm` links (adapters/wasm/build.sh runs it).

use std::process::ExitCode;

use anyhow::Context as _;

fn run(args: &[String]) -> anyhow::Result<()> {
    let [input, out_dir, out_name] = args else {
        anyhow::bail!("usage: entrain-wasm-bindgen INPUT.wasm OUT_DIR OUT_NAME");
    };
    // The CLI's defaults for `--target web`: TypeScript declarations, demangled names.
    wasm_bindgen_cli_support::Bindgen::new()
        .web(true)?
        .input_path(input)
        .typescript(true)
        .demangle(true)
        .out_name(out_name)
        .generate(out_dir)
        .with_context(|| format!("wasm-bindgen {input} -> {out_dir}/{out_name}.js"))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("entrain-wasm-bindgen: {e:#}");
            ExitCode::FAILURE
        }
    }
}
