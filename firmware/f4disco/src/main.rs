//! entrain on an STM32F4-Discovery (STM32F407VG, 168 MHz Cortex-M4F, CS43L22 codec on
//! I2S3 + I2C1): plays a track stored in flash through the headphone jack.
//!
//! * The track is JSON in flash (`assets/demo.json` by default, another file with
//!   `ENTRAIN_TRACK=path cargo build`), parsed at boot into a static [`FwTrack`].
//! * Rendering: the engine runs in streaming mode; blocks of [`BLOCK`] frames go into
//!   the two buffers of a double-buffered DMA stream (DMA1 stream 5 → SPI3/I2S3, 16-bit
//!   Philips). When the stream finishes one buffer it moves to the other, and the main
//!   loop refills the finished one (`next_transfer_with`).
//! * The green LED (PD12) flickers at the beat frequency of the current step's first
//!   binaural voice (linear interpolation over the step; an indicator, not a stimulus).
//! * Every 10 s the log (defmt over RTT) shows the position, the render cost per block
//!   (DWT cycles: min/avg/max, as libDaisy's `CpuLoadMeter`), and the FNV-1a fingerprint
//!   of the first 10 s, which must equal `realtime_backend hash TRACK --mode streaming
//!   --duration 10` on the host.
//!
//! Limits of this board: no zero-phase filter slot (64 KiB each; harmonic suppression is
//! rejected with `BuildError::FilterSlots`), 16 voice slots, 8 steps, 32 voices.
#![no_std]
#![no_main]

use core::mem::MaybeUninit;
use core::ptr::addr_of_mut;
use cortex_m::peripheral::DWT;
use defmt_rtt as _;
use entrain_engine::model::VoiceParams;
use entrain_engine::voices::{FilterSlot, VoiceSlot};
use entrain_engine::{Config, Engine, Mode};
use entrain_format::TrackInfo;
use entrain_fw_common::dma::{Renderer, MAX_BLOCK};
use entrain_fw_common::{fpu, FwTrack, SplitMemory, POOL_VOICES};
use panic_probe as _;
use stm32f4xx_hal::dma::{config::DmaConfig, MemoryToPeripheral, Stream5, StreamsTuple, Transfer};
use stm32f4xx_hal::i2c::{self, I2c};
use stm32f4xx_hal::i2s::stm32_i2s_v12x::driver::{DataFormat, I2sDriver, I2sDriverConfig};
use stm32f4xx_hal::i2s::stm32_i2s_v12x::marker::{Master, Philips, Transmit};
use stm32f4xx_hal::i2s::I2s;
use stm32f4xx_hal::pac::{self, DMA1, SPI3};
use stm32f4xx_hal::prelude::*;
use stm32f4xx_hal::rcc::Config as RccConfig;

/// The track in flash (copied into OUT_DIR by build.rs).
static TRACK_JSON: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/track.json"));

/// Frames per DMA buffer: 10 ms at 48 kHz, the benchmark's block size.
const BLOCK: usize = MAX_BLOCK;

/// Seconds fingerprinted for the host comparison.
const HASH_SECONDS: u64 = 10;

/// CS43L22 7-bit I2C address (AD0 low on the Discovery).
const CS43L22: u8 = 0x4A;

/// Master and headphone volume register value: 0xE8 = -12 dB (0.5 dB steps below 0x00).
const VOLUME: u8 = 0xE8;

/// What lives in CCM RAM: the parser's side information and the voice pool (core-only
/// memory; DMA never reads it): 63,576 bytes at core 42e07a1 (16 voice slots and the
/// parser information).
struct Ccm {
    info: TrackInfo,
    voices: [VoiceSlot; POOL_VOICES],
}

#[link_section = ".ccmram"]
static mut CCM: MaybeUninit<Ccm> = MaybeUninit::uninit();

/// The parsed track (51,856 bytes: too much to share CCM with the pool), in SRAM. A
/// constant initialiser (`.data`, copied from flash at reset) rather than a value built
/// at boot: building it would put a track-sized temporary on the stack.
static mut TRACK: FwTrack = FwTrack::new();

type I2sTx = I2sDriver<I2s<SPI3>, Master, Transmit, Philips>;
type Buf = &'static mut [u16; 2 * BLOCK];
type AudioDma = Transfer<Stream5<DMA1>, 0, I2sTx, MemoryToPeripheral, Buf>;

/// Initialises CCM field by field, in place (the values are never built whole on the
/// stack), and returns it with the track (a const-initialised static). Not inlined, so
/// that its temporaries stay out of `load`'s frame.
#[inline(never)]
fn statics() -> (&'static mut FwTrack, &'static mut Ccm) {
    let t = addr_of_mut!(TRACK);
    let p = addr_of_mut!(CCM).cast::<Ccm>();
    // SAFETY: called once, from `main`, before anything else refers to TRACK or CCM. TRACK
    // is initialised by its constant. Every CCM field is written through a raw pointer
    // (the static is properly aligned: the linker honours its alignment in `.ccmram`)
    // before a reference to the whole is created, so no reference to uninitialised
    // memory ever exists; the two statics are distinct, so the two `&mut` do not alias.
    unsafe {
        addr_of_mut!((*p).info).write(TrackInfo::default());
        let v = addr_of_mut!((*p).voices).cast::<VoiceSlot>();
        for i in 0..POOL_VOICES {
            v.add(i).write(VoiceSlot::default());
        }
        (&mut *t, &mut *p)
    }
}

#[cortex_m_rt::entry]
fn main() -> ! {
    defmt::println!(
        "entrain on STM32F4-Discovery, FPSCR = {=u32:#010x}",
        fpu::fpscr()
    );
    if !fpu::is_ieee(fpu::fpscr()) {
        defmt::panic!("FPSCR is not in IEEE mode (flush-to-zero or default-NaN on)");
    }
    // Two calls, not one body: the parser's deepest frames (tens of KiB while it reads a
    // voice) and the engine's (the engine itself lives in `play`'s frame) are then never
    // on the stack at the same time.
    let (track, ccm) = load();
    play(track, ccm)
}

/// Parses the track in flash into the statics.
#[inline(never)]
fn load() -> (&'static FwTrack, &'static mut Ccm) {
    let (track, ccm) = statics();
    if let Err(report) = entrain_format::parse(TRACK_JSON, track, &mut ccm.info) {
        for e in report.errors.iter() {
            defmt::error!("track: {}", defmt::Display2Format(e));
        }
        defmt::panic!("the track in flash does not load");
    }
    if ccm
        .info
        .background
        .as_ref()
        .is_some_and(|b| b.file.is_some())
    {
        // The host reads the named `.noise` preset from the track's folder; this board
        // has no file system, and dropping the layer silently would change the output.
        defmt::panic!("the track's background noise names a .noise file: inline its params");
    }
    let track: &'static FwTrack = track;
    defmt::println!(
        "track: {=usize} steps, {=usize} voices, {=u32} Hz",
        track.steps.len(),
        track.voices.len(),
        track.sample_rate
    );
    (track, ccm)
}

/// Brings up the clocks, the codec and the DMA stream, and plays `track` forever.
#[inline(never)]
fn play(track: &'static FwTrack, ccm: &'static mut Ccm) -> ! {
    let Ccm { voices, .. } = ccm;
    let sr = track.sample_rate;

    let mut cp =
        cortex_m::Peripherals::take().unwrap_or_else(|| defmt::panic!("core peripherals taken"));
    let dp = pac::Peripherals::take().unwrap_or_else(|| defmt::panic!("peripherals taken"));
    cp.DCB.enable_trace();
    cp.DWT.enable_cycle_counter();

    // 168 MHz from the 8 MHz crystal; the I2S clock is 256·fs·12 so that the I2S
    // prescaler (12, with MCLK output) gives the track's rate as closely as PLLI2S can.
    let mut rcc = dp.RCC.freeze(
        RccConfig::hse(8.MHz())
            .sysclk(168.MHz())
            .i2s_clk((sr * 256 * 12).Hz()),
    );
    let gpioa = dp.GPIOA.split(&mut rcc);
    let gpiob = dp.GPIOB.split(&mut rcc);
    let gpioc = dp.GPIOC.split(&mut rcc);
    let gpiod = dp.GPIOD.split(&mut rcc);
    let mut led = gpiod.pd12.into_push_pull_output();
    let mut codec_reset = gpiod.pd4.into_push_pull_output();
    codec_reset.set_high();

    // I2S3: WS PA4, CK PC10, MCK PC7, SD PC12, master transmit, 16-bit Philips, MCLK on.
    let i2s = I2s::new(
        dp.SPI3,
        (gpioa.pa4, gpioc.pc10, Some(gpioc.pc7), gpioc.pc12),
        &mut rcc,
    );
    let cfg = I2sDriverConfig::new_master()
        .transmit()
        .standard(Philips)
        .data_format(DataFormat::Data16Channel16)
        .master_clock(true)
        .request_frequency(sr);
    let mut i2s: I2sTx = I2sDriver::new(i2s, cfg);
    defmt::println!(
        "I2S rate {=u32} Hz (track {=u32} Hz)",
        i2s.sample_rate(),
        sr
    );
    i2s.set_tx_dma(true);

    // The codec needs MCLK running before it is powered up.
    let mut i2c = I2c::new(
        dp.I2C1,
        (gpiob.pb6, gpiob.pb9),
        i2c::Mode::standard(100.kHz()),
        &mut rcc,
    );
    if let Err(e) = codec_init(&mut i2c) {
        defmt::panic!(
            "CS43L22 does not answer on I2C1: {}",
            defmt::Debug2Format(&e)
        );
    }

    // The engine: track in flash → CCM; voices in CCM; no zero-phase filter slot.
    let filters: &'static mut [FilterSlot] = &mut [];
    let cfg = Config {
        mode: Mode::Streaming,
        ..Config::default()
    };
    let mut engine = match Engine::new(track, SplitMemory::new(voices, filters), cfg) {
        Ok(e) => e,
        Err(e) => defmt::panic!(
            "the track does not fit this board: {}",
            defmt::Debug2Format(&e)
        ),
    };
    let mut renderer = Renderer::new(HASH_SECONDS * sr as u64);

    // Both buffers are rendered before the stream starts.
    let a: Buf = cortex_m::singleton!(: [u16; 2 * BLOCK] = [0; 2 * BLOCK])
        .unwrap_or_else(|| defmt::panic!("buffer A taken"));
    let b: Buf = cortex_m::singleton!(: [u16; 2 * BLOCK] = [0; 2 * BLOCK])
        .unwrap_or_else(|| defmt::panic!("buffer B taken"));
    renderer.fill(&mut engine, &mut a[..]);
    renderer.fill(&mut engine, &mut b[..]);
    let streams = StreamsTuple::new(dp.DMA1, &mut rcc);
    let mut dma: AudioDma = Transfer::init_memory_to_peripheral(
        streams.5,
        i2s,
        a,
        Some(b),
        DmaConfig::default()
            .memory_increment(true)
            .double_buffer(true)
            .fifo_enable(false),
    );
    dma.start(|i2s| i2s.enable());

    let mut beat = Beat::new(sr);
    let (mut min, mut max, mut sum, mut blocks) = (u32::MAX, 0u32, 0u64, 0u32);
    let mut next_report = 10 * sr as u64;
    let mut reported_hash = false;
    loop {
        if !dma.is_transfer_complete() {
            continue;
        }
        let t0 = DWT::cycle_count();
        // SAFETY: the closure runs right after a transfer-complete event (checked above),
        // well within the 10 ms the other buffer takes to play, so the buffer it refills is
        // not the one the stream is reading (no overrun).
        let refill = unsafe {
            dma.next_transfer_with(|buf, _current| {
                renderer.fill(&mut engine, &mut buf[..]);
                (buf, ())
            })
        };
        if refill.is_err() {
            defmt::warn!("DMA refill failed (overrun)");
        }
        let dt = DWT::cycle_count().wrapping_sub(t0);
        min = min.min(dt);
        max = max.max(dt);
        sum += dt as u64;
        blocks += 1;

        // LED at the beat frequency.
        if beat.advance(&engine, track, BLOCK as u64) {
            led.toggle();
        }

        let pos = engine.position();
        if !reported_hash && renderer.done() {
            defmt::println!(
                "{=u64:016x}  {=u64} frames  (fingerprint of the first {=u64} s)",
                renderer.fingerprint(),
                renderer.hashed(),
                HASH_SECONDS
            );
            reported_hash = true;
        }
        if pos >= next_report {
            let avg = sum / blocks.max(1) as u64;
            defmt::println!(
                "{=u64} s: cycles per {=usize}-frame block min {=u32} avg {=u64} max {=u32} ({=u64}% load at 168 MHz)",
                pos / sr as u64,
                BLOCK,
                min,
                avg,
                max,
                avg * 100 * sr as u64 / (168_000_000 * BLOCK as u64)
            );
            (min, max, sum, blocks) = (u32::MAX, 0, 0, 0);
            next_report += 10 * sr as u64;
        }
        if pos >= engine.total_frames() {
            // Play the track again from the start.
            engine.seek(0);
        }
    }
}

/// Brings the CS43L22 up: the datasheet's power-up sequence (§4.11), I2S slave 16-bit,
/// headphone output on, volume [`VOLUME`].
fn codec_init(i2c: &mut I2c<pac::I2C1>) -> Result<(), i2c::Error> {
    let mut w = |reg: u8, val: u8| i2c.write(CS43L22, &[reg, val]);
    w(0x02, 0x01)?; // Power Ctl 1: powered down
    w(0x04, 0xAF)?; // Power Ctl 2: headphone on, speaker off
    w(0x05, 0x80)?; // Clocking: auto-detect speed, MCLK not divided
    w(0x06, 0x04)?; // Interface Ctl 1: slave, I2S (Philips), 16-bit data
                    // Required initialisation settings (datasheet §4.11).
    w(0x00, 0x99)?;
    w(0x47, 0x80)?;
    w(0x32, 0x80)?;
    w(0x32, 0x00)?;
    w(0x00, 0x00)?;
    w(0x20, VOLUME)?; // Master volume A
    w(0x21, VOLUME)?; // Master volume B
    w(0x22, VOLUME)?; // Headphone volume A
    w(0x23, VOLUME)?; // Headphone volume B
    w(0x02, 0x9E) // Power Ctl 1: powered up
}

/// The LED's half period, from the beat frequency of the current step's first binaural
/// or isochronic voice.
struct Beat {
    sr: u32,
    frames: u64,
}

impl Beat {
    fn new(sr: u32) -> Self {
        Self { sr, frames: 0 }
    }

    /// Advances by `n` frames; true when the LED should toggle.
    fn advance<M: entrain_engine::Memory>(
        &mut self,
        engine: &Engine<&'static FwTrack, M>,
        track: &FwTrack,
        n: u64,
    ) -> bool {
        let Some(hz) = current_beat_hz(engine, track) else {
            return false;
        };
        if hz <= 0.0 {
            return false;
        }
        let half = (self.sr as f32 / (2.0 * hz)) as u64;
        self.frames += n;
        if self.frames >= half.max(1) {
            self.frames = 0;
            true
        } else {
            false
        }
    }
}

/// Beat frequency of the current step's first binaural or isochronic voice, its
/// start→end pair interpolated linearly over the step (transition timing ignored).
fn current_beat_hz<M: entrain_engine::Memory>(
    engine: &Engine<&'static FwTrack, M>,
    track: &FwTrack,
) -> Option<f32> {
    let step = engine.current_step()?;
    let tl = engine.timeline();
    let p = tl.placements.iter().find(|p| p.step as usize == step)?;
    let alpha = if p.n > 0 {
        (engine.position().saturating_sub(p.start) as f64 / p.n as f64).min(1.0)
    } else {
        0.0
    };
    track
        .view()
        .step_voices(step)
        .iter()
        .find_map(|v| match &v.params {
            VoiceParams::Binaural(b) => Some(b.beat_freq.at(alpha) as f32),
            VoiceParams::Isochronic(i) => Some(i.beat_freq.at(alpha) as f32),
            _ => None,
        })
}
