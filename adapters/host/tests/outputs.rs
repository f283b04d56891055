//! Output files: FLAC decodes to exactly the samples of the 16-bit WAV; failed renders
//! leave nothing under the final name; cancelled renders remove their temporary file.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: failures should panic

use entrain_engine::engine::Config;
use entrain_host::{
    build_engine, load_track_str, render_to_file, OutputFormat, RenderError, RenderOptions,
};
use std::sync::atomic::AtomicBool;

fn engine() -> entrain_host::HostEngine {
    let t = load_track_str(entrain_host::DEMO_TRACK).unwrap();
    build_engine(&t, Config::default(), &mut |_| {}).unwrap()
}

/// Renders the same frames to `wav` and `flac` (`bits` deep) and checks that the FLAC
/// decodes to exactly the WAV's samples and carries their MD5.
fn flac_equals_wav(wav_format: OutputFormat, flac_format: OutputFormat, bits: u32) {
    let dir = tempfile::tempdir().unwrap();
    let frames = 10 * 44100 + 123; // a short last block
    let opts = |format| RenderOptions {
        format,
        start_frame: 5 * 44100,
        frames: Some(frames),
    };
    let mut e = engine();
    render_to_file(
        &mut e,
        &dir.path().join("a.wav"),
        &opts(wav_format),
        None,
        &mut |_, _| {},
    )
    .unwrap();
    render_to_file(
        &mut e,
        &dir.path().join("a.flac"),
        &opts(flac_format),
        None,
        &mut |_, _| {},
    )
    .unwrap();
    let wav: Vec<i32> = hound::WavReader::open(dir.path().join("a.wav"))
        .unwrap()
        .samples::<i32>()
        .map(|s| s.unwrap())
        .collect();
    let mut flac = claxon::FlacReader::open(dir.path().join("a.flac")).unwrap();
    let info = flac.streaminfo();
    assert_eq!(
        (info.sample_rate, info.channels, info.bits_per_sample),
        (44100, 2, bits)
    );
    assert_eq!(info.samples, Some(frames));
    let dec: Vec<i32> = flac.samples().map(|s| s.unwrap()).collect();
    assert_eq!(dec.len(), wav.len());
    assert!(dec == wav, "FLAC samples differ from the WAV");
    // The MD5 in STREAMINFO is the one a decoder would compute.
    assert_eq!(info.md5sum, md5_of(&wav, bits as usize / 8));
}

#[test]
fn flac_equals_wav16() {
    flac_equals_wav(OutputFormat::Wav16, OutputFormat::Flac16, 16);
}

#[test]
fn flac24_equals_wav24() {
    flac_equals_wav(OutputFormat::Wav24, OutputFormat::Flac24, 24);
}

fn md5_of(samples: &[i32], width: usize) -> [u8; 16] {
    use md5::{Digest, Md5};
    let mut m = Md5::new();
    for s in samples {
        m.update(&s.to_le_bytes()[..width]);
    }
    m.finalize().into()
}

#[test]
fn failed_render_leaves_nothing_under_the_final_name() {
    let dir = tempfile::tempdir().unwrap();
    // A directory where the file should be: the final rename fails.
    let dest = dir.path().join("out.wav");
    std::fs::create_dir(&dest).unwrap();
    std::fs::write(dest.join("keep"), b"x").unwrap();
    let mut e = engine();
    let opts = RenderOptions {
        format: OutputFormat::Wav16,
        start_frame: 0,
        frames: Some(44100),
    };
    assert!(render_to_file(&mut e, &dest, &opts, None, &mut |_, _| {}).is_err());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers,
        vec![std::ffi::OsString::from("out.wav")],
        "temporary file left behind"
    );
}

#[test]
fn cancelled_render_removes_its_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("c.wav");
    let cancel = AtomicBool::new(false);
    let mut e = engine();
    let opts = RenderOptions {
        format: OutputFormat::Wav16,
        start_frame: 0,
        frames: None,
    };
    let r = render_to_file(&mut e, &dest, &opts, Some(&cancel), &mut |done, _| {
        if done > 44100 {
            cancel.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    });
    assert!(matches!(r, Err(RenderError::Cancelled)));
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing may remain"
    );
}
