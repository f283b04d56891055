//! The wide (AVX2) copies of the block kernels give the same bits as the baseline build
//! (`entrain-simd`; STYLE.md §6): every real preset of `../shared/tracks/original` and
//! the shared tracks with every voice and transitions are rendered with the dispatch
//! forced off and on, in windows at the start and later in the track, and hashed.
//!
//! Its own test binary: the switch is process-wide, and no other test must see it off
//! (they would pass anyway, the bits being the same, but would not test the wide path).

#![allow(clippy::unwrap_used)]

use entrain_conformance::{build_engine, render_window, shared_tracks_dir};
use entrain_engine::engine::Mode;
use entrain_host::load_track_file;

/// Seconds per window.
const WINDOW_S: f64 = 2.0;
/// Window starts, as fractions of the track's length, but no later than [`LATEST_S`].
const STARTS: &[f64] = &[0.0, 0.37, 0.81];
/// Seeking a voice with a flanger or spatializer renders its effect from the start of
/// the step (O(position), BENCHMARKS.md): later windows would cost ~5 s each in the -B
/// presets.
const LATEST_S: f64 = 60.0;

#[test]
fn wide_kernels_render_the_same_bits() {
    #[cfg(target_arch = "x86_64")]
    {
        assert_eq!(
            entrain_simd::has_avx2(),
            std::arch::is_x86_feature_detected!("avx2"),
            "entrain-simd's cpuid probe disagrees with std's detection"
        );
        if !entrain_simd::has_avx2() {
            // Still compared below, but both runs take the baseline path.
            eprintln!("this CPU has no AVX2: the wide copies cannot run here");
        }
    }
    let dir = shared_tracks_dir();
    let mut files: Vec<_> = std::fs::read_dir(dir.join("original"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 8, "the real presets are missing: {files:?}");
    for name in [
        "all_voices_tour.json",
        "transitions_showcase.json",
        "isochronic_focus.json",
    ] {
        files.push(dir.join(name));
    }
    for path in &files {
        let t0 = std::time::Instant::now();
        let track = load_track_file(path).unwrap().track;
        let mut hashes = Vec::new();
        for wide in [false, true] {
            entrain_simd::set_enabled(wide);
            let mut e = build_engine(track.clone(), Mode::Streaming).unwrap();
            let sr = e.sample_rate() as f64;
            let total = e.total_frames();
            let h: Vec<_> = STARTS
                .iter()
                .map(|&f| {
                    let start = ((total as f64 * f) as u64).min((LATEST_S * sr) as u64);
                    render_window(&mut e, start, (WINDOW_S * sr) as u64, 4096)
                })
                .collect();
            hashes.push(h);
        }
        entrain_simd::set_enabled(true);
        for (base, wide) in hashes[0].iter().zip(&hashes[1]) {
            assert!(base.energy > 0.0, "{}: silent window", path.display());
            assert_eq!(
                base.hash,
                wide.hash,
                "{}: {base:?} vs {wide:?}",
                path.display()
            );
        }
        println!(
            "{}: {} windows equal ({:.1} s)",
            path.display(),
            hashes[0].len(),
            t0.elapsed().as_secs_f64()
        );
    }
}
