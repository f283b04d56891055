//! Heap-allocated working memory for the engine, sized for one track.

use crate::assets::SharedTrack;
use entrain_dsp::fft::Complex;
use entrain_dsp::Frame;
use entrain_engine::engine::{BuildError, Config, Engine, Memory, Parts};
use entrain_engine::model::Track;
use entrain_engine::voices::{FilterSlot, VoiceSlot};

/// Pools and scratch on the heap (allocated once, before rendering starts).
#[derive(Debug)]
pub struct HeapMemory {
    voices: Vec<VoiceSlot>,
    filters: Vec<FilterSlot>,
    align: Vec<Frame>,
    fft: Vec<Complex>,
}

impl HeapMemory {
    /// Memory sized for `track` rendered with `cfg`.
    pub fn for_track(track: &Track, cfg: &Config) -> Result<Self, BuildError> {
        let req = Engine::<SharedTrack, HeapMemory>::requirements(&track.view(), cfg)?;
        Ok(Self {
            voices: (0..req.voices.max(1))
                .map(|_| VoiceSlot::default())
                .collect(),
            filters: (0..req.filters).map(|_| FilterSlot::idle()).collect(),
            align: vec![[0.0; 2]; req.align_frames],
            fft: vec![[0.0; 2]; req.fft],
        })
    }
}

impl Memory for HeapMemory {
    fn parts(&mut self) -> Parts<'_> {
        Parts {
            voices: &mut self.voices,
            filters: &mut self.filters,
            align: &mut self.align,
            fft: &mut self.fft,
        }
    }
}

/// The engine type hosts use.
pub type HostEngine = Engine<SharedTrack, HeapMemory>;

/// Builds an engine for a track (analysis passes run here in compatible mode). Pass a
/// [`crate::LoadedTrack`] (by reference) so that its clips' audio comes along; a bare
/// `Arc<Track>` renders tracks without clips (and refuses tracks with clips).
pub fn build_engine(
    track: impl Into<SharedTrack>,
    cfg: Config,
    progress: &mut dyn FnMut(f32),
) -> Result<HostEngine, BuildError> {
    let track = track.into();
    let mem = HeapMemory::for_track(&track.track, &cfg)?;
    Engine::with_progress(track, mem, cfg, progress)
}
