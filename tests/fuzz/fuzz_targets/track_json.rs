//! cargo-fuzz entry point for `entrain_fuzz::fuzz_track_json` (libFuzzer; nightly toolchain and
//! `--features libfuzzer`, see README.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    entrain_fuzz::fuzz_track_json(data);
});
