//! Stack high-water measurement: paint the free stack with a pattern at boot, and later
//! find the lowest word that was overwritten. cortex-m-rt places the stack at the top of
//! RAM, growing down to `_stack_end` (the end of `.bss`/`.uninit`).

/// The paint pattern.
const PAINT: u32 = 0xDEAD_BEEF;

/// Bytes left unpainted below the caller's stack pointer (its own frame and callees').
const MARGIN: usize = 256;

extern "C" {
    static mut _stack_end: u32;
    static mut _stack_start: u32;
}

fn bounds() -> (usize, usize) {
    // Only the addresses of the linker symbols are taken, never their contents.
    (
        core::ptr::addr_of_mut!(_stack_end) as usize,
        core::ptr::addr_of_mut!(_stack_start) as usize,
    )
}

/// Stack size, bytes (from `_stack_end` to `_stack_start`).
pub fn size() -> usize {
    let (lo, hi) = bounds();
    hi - lo
}

/// Paints the unused stack below the current stack pointer, and returns the stack
/// already in use (bytes), to subtract from a later [`high_water`].
#[inline(never)]
pub fn paint() -> usize {
    let (lo, hi) = bounds();
    let sp = cortex_m::register::msp::read() as usize;
    let top = sp.saturating_sub(MARGIN) & !3;
    let mut p = lo;
    while p < top {
        // SAFETY: `lo..top` lies between the end of the statics and the live stack minus
        // a margin; nothing else uses it, and `p` is word-aligned (both bounds are).
        unsafe { core::ptr::write_volatile(p as *mut u32, PAINT) };
        p += 4;
    }
    hi - sp
}

/// Deepest stack use since [`paint`], bytes (from the top of the stack).
pub fn high_water() -> usize {
    let (lo, hi) = bounds();
    let mut p = lo;
    while p < hi {
        // SAFETY: `p` is a word-aligned address inside the stack region.
        if unsafe { core::ptr::read_volatile(p as *const u32) } != PAINT {
            break;
        }
        p += 4;
    }
    hi - p
}
