//! `entrain-simd`: runs a block kernel compiled for the widest vector unit the CPU has.
//!
//! The core's block kernels (e.g. the binaural voice's constant region) are written as
//! plain loops that LLVM vectorises. Built for the x86_64 baseline they get SSE2, four
//! f32 lanes; almost every x86_64 CPU in use has AVX2, eight lanes. [`run`] calls a
//! [`Kernel`] through a copy of itself compiled with AVX2 enabled when the CPU has it
//! (checked once with `cpuid`/`xgetbv`), and directly otherwise. On every other target
//! it is a plain call.
//!
//! **The bits do not change.** AVX2 only widens the same IEEE operations (`+ - * /`,
//! comparisons, conversions); it does not enable FMA, and Rust never contracts
//! `a * b + c` on its own, so each lane computes exactly what the SSE2 or scalar code
//! computes (STYLE.md §6). The test command checks it three ways: renders with the
//! dispatch forced off and on are compared bit for bit, and the x86_64 hashes equal the
//! wasm32 and Cortex-M ones.
//!
//! This is the one crate of the core with `unsafe`: calling a `#[target_feature]`
//! function is unsafe because the CPU must have the feature, which [`has_avx2`]
//! establishes first. Everything else in the core keeps `#![forbid(unsafe_code)]`.
#![no_std]
#![deny(unsafe_code)]
#![warn(missing_docs)]

/// A block of work to run with the widest available vectors.
///
/// Implement [`Kernel::run`] with `#[inline(always)]`: it is inlined into the
/// AVX2-enabled copy, and so are the `#[inline]` functions it calls.
pub trait Kernel {
    /// The work.
    fn run(&mut self);
}

/// Runs `k` compiled for AVX2 when the CPU has it (and wide kernels are enabled), else
/// as compiled for the target's baseline.
#[inline]
pub fn run<K: Kernel>(k: &mut K) {
    #[cfg(target_arch = "x86_64")]
    if x86::wide() {
        x86::run_avx2(k);
        return;
    }
    k.run();
}

/// Enables or disables the wide copies for the whole process (default: enabled). Only
/// for tests and benchmarks that compare the two paths: the output is the same.
pub fn set_enabled(on: bool) {
    #[cfg(target_arch = "x86_64")]
    x86::set_enabled(on);
    #[cfg(not(target_arch = "x86_64"))]
    let _ = on;
}

/// True if [`run`] uses an AVX2 copy on this CPU (false on other architectures).
pub fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    return x86::detect();
    #[cfg(not(target_arch = "x86_64"))]
    false
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod x86 {
    use super::Kernel;
    use core::arch::x86_64::{__cpuid, __cpuid_count, _xgetbv};
    use core::sync::atomic::{AtomicBool, AtomicU8, Ordering};

    /// 0: not yet detected, 1: no AVX2, 2: AVX2 usable.
    static DETECTED: AtomicU8 = AtomicU8::new(0);
    static ENABLED: AtomicBool = AtomicBool::new(true);

    pub(super) fn set_enabled(on: bool) {
        ENABLED.store(on, Ordering::Relaxed);
    }

    #[inline]
    pub(super) fn wide() -> bool {
        ENABLED.load(Ordering::Relaxed) && detect()
    }

    #[inline]
    pub(super) fn detect() -> bool {
        match DETECTED.load(Ordering::Relaxed) {
            0 => {
                let yes = probe();
                DETECTED.store(if yes { 2 } else { 1 }, Ordering::Relaxed);
                yes
            }
            d => d == 2,
        }
    }

    /// AVX2 is usable when the CPU reports it (leaf 7, EBX bit 5) and the OS saves the
    /// YMM registers: CPUID.1:ECX.OSXSAVE (bit 27) and AVX (bit 28), then XCR0 bits 1
    /// (SSE state) and 2 (AVX state), as Intel's SDM §14.3 prescribes.
    #[cold]
    fn probe() -> bool {
        // `cpuid` exists on every x86_64 CPU.
        let max_leaf = __cpuid(0).eax;
        if max_leaf < 7 {
            return false;
        }
        let l1 = __cpuid(1);
        let osxsave = l1.ecx & (1 << 27) != 0;
        let avx = l1.ecx & (1 << 28) != 0;
        if !(osxsave && avx) {
            return false;
        }
        // SAFETY: `xgetbv` needs the `xsave` feature; OSXSAVE (checked above) means the
        // OS has enabled XSAVE and `xgetbv` with ECX = 0 is available.
        let xcr0 = unsafe { xcr0() };
        if xcr0 & 0b110 != 0b110 {
            return false;
        }
        __cpuid_count(7, 0).ebx & (1 << 5) != 0
    }

    #[target_feature(enable = "xsave")]
    unsafe fn xcr0() -> u64 {
        // SAFETY: the caller checked OSXSAVE; this function's `xsave` feature is the
        // intrinsic's only requirement.
        unsafe { _xgetbv(0) }
    }

    #[inline]
    pub(super) fn run_avx2<K: Kernel>(k: &mut K) {
        // SAFETY: only called after `detect()` found AVX2 usable on this CPU and OS.
        unsafe { avx2(k) }
    }

    #[target_feature(enable = "avx2")]
    fn avx2<K: Kernel>(k: &mut K) {
        k.run();
    }
}
