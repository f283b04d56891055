//! Instruction-count benchmark under QEMU: instructions per stereo frame of
//! `Engine::render` at 48 kHz in streaming mode, for one binaural voice, one isochronic
//! voice, and 8 binaural voices, at DMA block sizes 32 and 480, with min/avg/max per
//! block (the libDaisy `CpuLoadMeter` view, STYLE.md §9).
//!
//! SysTick counts virtual time, which `-icount shift=0` ties to instructions; the factor
//! is calibrated at boot with a loop of known length. Instructions are not cycles: an
//! M4F at 168 MHz with flash wait states and FPU latencies needs more cycles than
//! instructions, so the budget (1,750 instructions per frame = 50% of 168 MHz at 48 kHz)
//! is a first bound, to be checked on the board with the DWT cycle counter.
#![no_std]
#![no_main]

use entrain_dsp::Frame;
use entrain_engine::{Config, Engine, Mode};
use entrain_fw_qemu::{exit, fpu, icount, load, stack, storage, SplitMemory};

/// Frames rendered per case: one second at 48 kHz, after the first block (which builds
/// the step's voices) is excluded from the steady-state average.
const FRAMES: usize = 48_000;

/// Budget for the 8-voice case, instructions per frame: half of a 168 MHz M4F at 48 kHz.
const BUDGET: f64 = 1750.0;

const ONE_BINAURAL: &str = r#"{"global":{"sample_rate":48000},"progression":[{"duration":60,"voices":[
{"synth_function_name":"binaural_beat","params":{"ampL":0.5,"ampR":0.5,"baseFreq":200,"beatFreq":10}}]}]}"#;

const ONE_ISOCHRONIC: &str = r#"{"global":{"sample_rate":48000},"progression":[{"duration":60,"voices":[
{"synth_function_name":"isochronic_tone","params":{"ampL":0.5,"ampR":0.5,"baseFreq":200,"beatFreq":10}}]}]}"#;

const EIGHT_BINAURAL: &str = r#"{"global":{"sample_rate":48000},"progression":[{"duration":60,"voices":[
{"synth_function_name":"binaural_beat","params":{"ampL":0.1,"ampR":0.1,"baseFreq":100,"beatFreq":2}},
{"synth_function_name":"binaural_beat","params":{"ampL":0.1,"ampR":0.1,"baseFreq":150,"beatFreq":4}},
{"synth_function_name":"binaural_beat","params":{"ampL":0.1,"ampR":0.1,"baseFreq":200,"beatFreq":6}},
{"synth_function_name":"binaural_beat","params":{"ampL":0.1,"ampR":0.1,"baseFreq":250,"beatFreq":8}},
{"synth_function_name":"binaural_beat","params":{"ampL":0.1,"ampR":0.1,"baseFreq":300,"beatFreq":10}},
{"synth_function_name":"binaural_beat","params":{"ampL":0.1,"ampR":0.1,"baseFreq":350,"beatFreq":12}},
{"synth_function_name":"binaural_beat","params":{"ampL":0.1,"ampR":0.1,"baseFreq":400,"beatFreq":14}},
{"synth_function_name":"binaural_beat","params":{"ampL":0.1,"ampR":0.1,"baseFreq":450,"beatFreq":16}}]}]}"#;

// Extra cases that locate the cost of the demo track (5,300 instructions per frame):
// each adds one feature to the single binaural voice.
const BINAURAL_TRANSITION: &str = r#"{"global":{"sample_rate":48000},"progression":[{"duration":60,"voices":[
{"synth_function_name":"binaural_beat","is_transition":true,"params":{"startAmpL":0.5,"startAmpR":0.5,"startBaseFreq":220,"endBaseFreq":200,
"startBeatFreq":12,"endBeatFreq":10,"transition_curve":"logarithmic"}}]}]}"#;

const BINAURAL_FADE: &str = r#"{"global":{"sample_rate":48000},"progression":[{"duration":60,"voices":[
{"synth_function_name":"binaural_beat","params":{"ampL":0.5,"ampR":0.5,"baseFreq":200,"beatFreq":10},
"volume_envelope":{"type":"linear_fade","params":{"fade_duration":30.0,"start_amp":0.0,"end_amp":1.0}}}]}]}"#;

const BINAURAL_AM: &str = r#"{"global":{"sample_rate":48000},"progression":[{"duration":60,"voices":[
{"synth_function_name":"binaural_beat","params":{"ampL":0.5,"ampR":0.5,"baseFreq":200,"beatFreq":10,
"ampOscDepthL":0.3,"ampOscDepthR":0.3,"ampOscFreqL":0.1,"ampOscFreqR":0.1}}]}]}"#;

const ISOCHRONIC_FILTERED: &str = r#"{"global":{"sample_rate":48000},"progression":[{"duration":60,"voices":[
{"synth_function_name":"isochronic_tone","params":{"ampL":0.5,"ampR":0.5,"baseFreq":200,"beatFreq":10,"harmonicSuppression":true}}]}]}"#;

const CASES: [(&str, &str); 7] = [
    ("1 binaural voice", ONE_BINAURAL),
    ("1 isochronic voice", ONE_ISOCHRONIC),
    ("8 binaural voices (no pink noise in core yet)", EIGHT_BINAURAL),
    ("1 binaural transition (logarithmic)", BINAURAL_TRANSITION),
    ("1 binaural + linear_fade envelope", BINAURAL_FADE),
    ("1 binaural + AM LFO", BINAURAL_AM),
    ("1 isochronic + harmonic suppression", ISOCHRONIC_FILTERED),
];

const BLOCKS: [usize; 2] = [32, 480];

static mut SCRATCH: [Frame; 480] = [[0.0; 2]; 480];

#[cortex_m_rt::entry]
fn main() -> ! {
    let _ = stack::paint();
    let mut p = cortex_m::Peripherals::take().unwrap_or_else(|| exit(3));
    let dwt = icount::dwt_cycle_counter_works(&mut p.DCB, &mut p.DWT);
    icount::start(p.SYST);
    let (per_tick, cal_ticks) = icount::calibrate();
    defmt::println!(
        "calibration: {=u32} instructions = {=u64} SysTick ticks -> {=f64} instructions/tick; DWT CYCCNT advances: {=bool}; FPSCR {=u32:#010x}",
        4_000_000,
        cal_ticks,
        per_tick,
        dwt,
        fpu::fpscr()
    );
    // SAFETY: `main` runs once and nothing else (no interrupt) touches SCRATCH.
    let scratch: &mut [Frame; 480] = unsafe { &mut *core::ptr::addr_of_mut!(SCRATCH) };
    let s = storage();
    let mut over_budget = false;
    for (name, json) in CASES {
        if let Err(e) = load(s, json.as_bytes()) {
            defmt::error!("{=str}: {}", name, e);
            exit(1);
        }
        for block in BLOCKS {
            let base = stack::paint();
            let cfg = Config {
                mode: Mode::Streaming,
                ..Config::default()
            };
            let mem = SplitMemory::new(&mut s.voices, &mut s.filters);
            let mut engine = match Engine::new(&s.track, mem, cfg) {
                Ok(e) => e,
                Err(e) => {
                    defmt::error!("{=str}: {}", name, defmt::Debug2Format(&e));
                    exit(1)
                }
            };
            // First block: builds the voices (not part of the steady state).
            engine.render(&mut scratch[..block]);
            let (mut min, mut max, mut sum) = (u64::MAX, 0u64, 0u64);
            let blocks = FRAMES / block;
            for _ in 0..blocks {
                let t0 = icount::ticks();
                engine.render(&mut scratch[..block]);
                let dt = icount::ticks() - t0;
                min = min.min(dt);
                max = max.max(dt);
                sum += dt;
            }
            let f = per_tick / block as f64;
            let avg = sum as f64 * per_tick / (blocks * block) as f64;
            defmt::println!(
                "BENCH {=str} | block {=usize} | {=u32} insn/frame avg (min {=u32}, max {=u32}) | {=u32}% of 168 MHz @ 48 kHz",
                name,
                block,
                avg as u32,
                (min as f64 * f) as u32,
                (max as f64 * f) as u32,
                (avg * 48_000.0 / 168e6 * 100.0) as u32
            );
            if block == BLOCKS[1] {
                defmt::println!(
                    "STACK {=str} | {=usize} bytes to build the engine and render",
                    name,
                    stack::high_water() - base
                );
            }
            if name.starts_with("8 ") && avg > BUDGET {
                over_budget = true;
            }
        }
    }
    if over_budget {
        defmt::println!("BENCH budget: OVER (8 voices above {=f64} instructions/frame)", BUDGET);
    } else {
        defmt::println!("BENCH budget: WITHIN (8 voices within {=f64} instructions/frame)", BUDGET);
    }
    exit(0)
}
