//! Instruction counting under QEMU: with `-icount shift=0` QEMU's virtual clock advances
//! exactly 1 ns per guest instruction, and SysTick (clocked from the 25 MHz MPS2 system
//! clock) counts that virtual time. [`calibrate`] measures how many instructions one
//! SysTick tick stands for with a loop of known length, so the factor is measured, not
//! assumed. QEMU does not model the DWT cycle counter (CYCCNT reads 0): see
//! [`dwt_cycle_counter_works`].

use core::sync::atomic::{AtomicU32, Ordering};
use cortex_m::peripheral::syst::SystClkSource;
use cortex_m::peripheral::SYST;

/// SysTick's 24-bit reload value.
const RELOAD: u32 = 0x00FF_FFFF;

static WRAPS: AtomicU32 = AtomicU32::new(0);

#[cortex_m_rt::exception]
fn SysTick() {
    WRAPS.fetch_add(1, Ordering::Relaxed);
}

/// Starts SysTick free-running from the core clock, counting wraps in its interrupt.
pub fn start(mut syst: SYST) {
    syst.disable_counter();
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(RELOAD);
    syst.clear_current();
    syst.enable_interrupt();
    syst.enable_counter();
    // The current value reads 0 until the first tick loads the reload value.
    while SYST::get_current() == 0 {}
}

/// Ticks since [`start`].
pub fn ticks() -> u64 {
    loop {
        let w0 = WRAPS.load(Ordering::Relaxed);
        let cvr = SYST::get_current();
        let w1 = WRAPS.load(Ordering::Relaxed);
        // A wrap between the two reads makes `cvr` ambiguous: read again.
        if w0 == w1 {
            return (w0 as u64) * (RELOAD as u64 + 1) + (RELOAD - cvr) as u64;
        }
    }
}

/// Iterations of the calibration loop (2 instructions each).
const CAL_ITER: u32 = 2_000_000;

/// Instructions per SysTick tick, measured with a loop of exactly `2 × CAL_ITER`
/// instructions (`subs` + `bne`). Returns (instructions per tick, ticks measured).
pub fn calibrate() -> (f64, u64) {
    let t0 = ticks();
    // SAFETY: a register-only countdown loop; it clobbers only the named register and
    // the flags, touches no memory and does not use the stack.
    unsafe {
        core::arch::asm!(
            "2:",
            "subs {n}, {n}, #1",
            "bne 2b",
            n = inout(reg) CAL_ITER => _,
            options(nomem, nostack),
        );
    }
    let dt = ticks() - t0;
    ((2 * CAL_ITER) as f64 / dt as f64, dt)
}

/// Enables the DWT cycle counter and reports whether it advances.
pub fn dwt_cycle_counter_works(
    dcb: &mut cortex_m::peripheral::DCB,
    dwt: &mut cortex_m::peripheral::DWT,
) -> bool {
    dcb.enable_trace();
    dwt.enable_cycle_counter();
    let a = cortex_m::peripheral::DWT::cycle_count();
    cortex_m::asm::delay(1000);
    let b = cortex_m::peripheral::DWT::cycle_count();
    b != a
}
