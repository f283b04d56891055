//! Overlay clips in the engine: placement, extension of the track, fades, pan, layer
//! gain, and refusal of clips without audio.
#![allow(clippy::unwrap_used)] // test code

use entrain_dsp::Frame;
use entrain_engine::engine::{ArrayMemory, BuildError, Config, Engine, Mode, TrackSource};
use entrain_engine::model::{ClipSpec, PcmRef, StepSpec, Track, TrackRef};

struct WithPcm {
    track: Track<4, 4>,
    pcm: Vec<Frame>,
}

impl TrackSource for WithPcm {
    fn track(&self) -> TrackRef<'_> {
        self.track.view()
    }
    fn pcm(&self) -> &[Frame] {
        &self.pcm
    }
}

fn silent_track(seconds: f64) -> Track<4, 4> {
    let mut t = Track::<4, 4> {
        sample_rate: 1000,
        crossfade_duration: Some(0.0),
        ..Default::default()
    };
    t.steps
        .push(StepSpec {
            duration: seconds,
            start: 0.0,
            first_voice: 0,
            voice_count: 0,
            crossfade_duration: None,
            crossfade_curve: None,
        })
        .unwrap();
    t
}

fn render(src: WithPcm) -> Vec<Frame> {
    let cfg = Config {
        mode: Mode::Compatible,
        target_level: 0.25,
        phase_align: false,
    };
    let mut e = Engine::new(src, ArrayMemory::<4, 0>::new(), cfg).unwrap();
    // Compatible mode normalises the peak to 0.25; undo it to read the raw mix.
    let g = e.output_gain();
    let mut out = vec![[0.0f32; 2]; e.total_frames() as usize];
    e.render(&mut out);
    out.iter().map(|f| [f[0] / g, f[1] / g]).collect()
}

#[test]
fn placement_fades_pan_and_extension() {
    let mut t = silent_track(1.0);
    t.clips
        .push(ClipSpec {
            pcm: PcmRef {
                offset: 0,
                frames: 500,
            },
            start: 800,
            gain: 0.5,
            pan: None,
            fade_in: 101,
            fade_out: 0,
        })
        .unwrap();
    let pcm = vec![[1.0f32, -1.0]; 500];
    let out = render(WithPcm { track: t, pcm });
    // The clip ends at 1.3 s: the track is extended.
    assert_eq!(out.len(), 1300);
    assert_eq!(out[799], [0.0, 0.0]);
    assert_eq!(out[800], [0.0, 0.0], "fade-in starts at 0");
    assert!(
        (out[850][0] - 0.25).abs() < 1e-6,
        "half-way through the fade: {:?}",
        out[850]
    );
    assert!((out[1000][0] - 0.5).abs() < 1e-6 && (out[1000][1] + 0.5).abs() < 1e-6);
}

#[test]
fn pan_and_fade_out() {
    let mut t = silent_track(1.0);
    let (l, r) = entrain_dsp::pan::pan2_gains(-1.0);
    let s = core::f32::consts::SQRT_2;
    t.clips
        .push(ClipSpec {
            pcm: PcmRef {
                offset: 10,
                frames: 100,
            },
            start: 0,
            gain: 1.0,
            pan: Some((l * s, r * s)),
            fade_in: 0,
            fade_out: 11,
        })
        .unwrap();
    let mut pcm = vec![[9.0f32, 9.0]; 10];
    pcm.extend(vec![[0.5f32, 0.5]; 100]);
    let out = render(WithPcm { track: t, pcm });
    assert_eq!(out.len(), 1000);
    assert!((out[0][0] - 0.5 * core::f32::consts::SQRT_2).abs() < 1e-6 && out[0][1].abs() < 1e-6);
    assert_eq!(out[99], [0.0, 0.0], "fade-out ends at 0");
}

#[test]
fn clips_without_audio_are_refused() {
    let mut t = silent_track(1.0);
    t.clips
        .push(ClipSpec {
            pcm: PcmRef {
                offset: 0,
                frames: 10,
            },
            start: 0,
            gain: 1.0,
            pan: None,
            fade_in: 0,
            fade_out: 0,
        })
        .unwrap();
    let e = Engine::new(
        WithPcm {
            track: t,
            pcm: vec![],
        },
        ArrayMemory::<4, 0>::new(),
        Config::default(),
    );
    assert!(matches!(e.err(), Some(BuildError::MissingPcm { clip: 0 })));
}
