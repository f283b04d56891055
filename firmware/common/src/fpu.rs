//! The floating-point status and control register. Bit-exact output needs IEEE
//! behaviour: flush-to-zero (FZ) and default-NaN (DN) must be off, as they are after
//! reset (STYLE.md §5: denormals are handled in the algorithm, never by FTZ).

/// FPSCR.FZ: flush denormals to zero.
pub const FPSCR_FZ: u32 = 1 << 24;
/// FPSCR.DN: default NaN.
pub const FPSCR_DN: u32 = 1 << 25;
/// FPSCR.AHP: alternative half-precision (irrelevant to f32, reported for completeness).
pub const FPSCR_AHP: u32 = 1 << 26;
/// FPSCR.RMode (bits 23:22): 0 = round to nearest even.
pub const FPSCR_RMODE_MASK: u32 = 0b11 << 22;

/// Reads FPSCR.
#[inline]
pub fn fpscr() -> u32 {
    let bits: u32;
    // SAFETY: `vmrs` copies FPSCR into a core register; it has no side effect, touches no
    // memory and needs the FPU enabled, which cortex-m-rt does before `main` on
    // thumbv7em-none-eabihf.
    unsafe {
        core::arch::asm!("vmrs {}, fpscr", out(reg) bits, options(nomem, nostack, preserves_flags));
    }
    bits
}

/// True when FPSCR has IEEE behaviour: no flush-to-zero, no default NaN, round to
/// nearest even.
pub fn is_ieee(fpscr: u32) -> bool {
    fpscr & (FPSCR_FZ | FPSCR_DN | FPSCR_RMODE_MASK) == 0
}
