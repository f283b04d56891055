//! Plays the bundled demo track (`assets/demo.json`, embedded at build time) through the
//! DMA double buffer under QEMU, printing progress, the fingerprint of the output, the
//! instructions spent per frame and the stack used.
//!
//! `cargo run --release` (runner: `qemu-run.sh`, QEMU with semihosting and `-icount
//! shift=0`). The excerpt length is [`SECONDS`]; the host prints the same fingerprint with
//! `realtime_backend hash assets/demo.json --mode streaming --duration 10`.
#![no_std]
#![no_main]

use entrain_fw_qemu::{exit, fpu, icount, load, render_hash, stack, storage};

/// The demo track, from the repository's `assets/` (not copied).
static DEMO: &[u8] = include_bytes!("../../../assets/demo.json");

/// Seconds of the demo to play: long enough to hear the first step settle, short enough
/// for a quick run (about 15 s of wall time under QEMU).
const SECONDS: f64 = 10.0;

/// DMA half size, frames (10 ms at 48 kHz; 10.9 ms at the demo's 44.1 kHz).
const BLOCK: usize = 480;

#[cortex_m_rt::entry]
fn main() -> ! {
    let _ = stack::paint();
    let p = cortex_m::Peripherals::take().unwrap_or_else(|| exit(3));
    icount::start(p.SYST);
    let (per_tick, _) = icount::calibrate();
    defmt::println!("entrain demo on Cortex-M4F (QEMU mps2-an386), FPSCR = {=u32:#010x}", fpu::fpscr());

    let s = storage();
    // Building the statics may use the stack (large values are built, then moved).
    let init_stack = stack::high_water();
    let base = stack::paint();
    let t0 = icount::ticks();
    if let Err(e) = load(s, DEMO) {
        defmt::error!("demo.json: {}", e);
        exit(1);
    }
    let parse_insn = (icount::ticks() - t0) as f64 * per_tick;
    let sr = s.track.sample_rate;
    defmt::println!(
        "demo.json: {=usize} steps, {=usize} voices, {=u32} Hz (parsed in {=u64} instructions)",
        s.track.steps.len(),
        s.track.voices.len(),
        sr,
        parse_insn as u64
    );
    let frames = (SECONDS * sr as f64) as u64;
    let t1 = icount::ticks();
    let r = render_hash(s, BLOCK, frames, sr as u64, &mut |done, total| {
        defmt::println!("  {=u64} / {=u64} s", done / sr as u64, total / sr as u64);
    });
    let ticks = icount::ticks() - t1;
    match r {
        Ok(h) => {
            let per_frame = ticks as f64 * per_tick / frames as f64;
            defmt::println!("{=u64:016x}  {=u64} frames  assets/demo.json", h, frames);
            defmt::println!(
                "{=u32} instructions per frame ({=u32}% of a 168 MHz M4F at {=u32} Hz); stack: {=usize} bytes to build the engine and render, {=usize} to build the statics (of {=usize})",
                per_frame as u32,
                (per_frame * sr as f64 / 168e6 * 100.0) as u32,
                sr,
                stack::high_water() - base,
                init_stack,
                stack::size()
            );
            exit(0)
        }
        Err(e) => {
            defmt::error!("demo.json: {}", e);
            exit(1)
        }
    }
}
