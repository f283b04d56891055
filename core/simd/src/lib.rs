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
//! It also holds [`F32x4`] (x86_64): four f32 lanes in one SSE register for latency-bound
//! recursions (the IIR filters' channels), which LLVM's vectoriser otherwise re-packs into
//! AVX2 registers with lane shuffles on the recursion's path.
//!
//! This is the one crate of the core with `unsafe`: calling a `#[target_feature]`
//! function is unsafe because the CPU must have the feature, which [`has_avx2`]
//! establishes first (and SSE, which `F32x4` uses, is the x86_64 baseline). Everything
//! else in the core keeps `#![forbid(unsafe_code)]`.
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

/// Four f32 lanes in one SSE register, for recursions the vectoriser must not touch.
///
/// A latency-bound recursion written over `[f32; 4]` arrays (an IIR filter's two channels
/// and two idle lanes) is re-packed by LLVM's vectoriser into 8-lane AVX2 registers with
/// lane shuffles on its critical path. Written with these operations it stays one
/// `__m128` per value. Each operation is the IEEE single-precision one of the same name
/// (no fused multiply-add), lane by lane: the bits of the scalar formula.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy, Debug)]
pub struct F32x4(core::arch::x86_64::__m128);

// SAFETY (every `unsafe` block below): the intrinsics need SSE, which is part of the
// x86_64 baseline (every x86_64 CPU has it and every x86_64 target enables it), checked
// at compile time here; they take no pointers.
#[cfg(target_arch = "x86_64")]
const _: () = assert!(cfg!(target_feature = "sse"));

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
impl F32x4 {
    /// The lanes `[a, b, c, d]`.
    #[inline(always)]
    pub fn new(a: f32, b: f32, c: f32, d: f32) -> Self {
        use core::arch::x86_64::_mm_setr_ps;
        // SAFETY: see the module note above the impl.
        Self(unsafe { _mm_setr_ps(a, b, c, d) })
    }

    /// `x` in every lane.
    #[inline(always)]
    pub fn splat(x: f32) -> Self {
        use core::arch::x86_64::_mm_set1_ps;
        // SAFETY: as above.
        Self(unsafe { _mm_set1_ps(x) })
    }

    /// Lanes 0 and 1.
    #[inline(always)]
    pub fn low_pair(self) -> [f32; 2] {
        use core::arch::x86_64::{_mm_cvtss_f32, _mm_shuffle_ps};
        // SAFETY: as above.
        unsafe {
            [
                _mm_cvtss_f32(self.0),
                _mm_cvtss_f32(_mm_shuffle_ps::<0b01>(self.0, self.0)),
            ]
        }
    }

    /// `self + o`, lane-wise.
    #[inline(always)]
    #[allow(clippy::should_implement_trait)] // plain methods keep the call order visible
    pub fn add(self, o: Self) -> Self {
        // SAFETY: as above.
        Self(unsafe { core::arch::x86_64::_mm_add_ps(self.0, o.0) })
    }

    /// `self - o`, lane-wise.
    #[inline(always)]
    #[allow(clippy::should_implement_trait)]
    pub fn sub(self, o: Self) -> Self {
        // SAFETY: as above.
        Self(unsafe { core::arch::x86_64::_mm_sub_ps(self.0, o.0) })
    }

    /// `self · o`, lane-wise.
    #[inline(always)]
    #[allow(clippy::should_implement_trait)]
    pub fn mul(self, o: Self) -> Self {
        // SAFETY: as above.
        Self(unsafe { core::arch::x86_64::_mm_mul_ps(self.0, o.0) })
    }

    /// Lanes with `|x| < level` set to +0.0, the others (NaN included) kept: per lane
    /// `if |x| < level { 0.0 } else { x }`.
    #[inline(always)]
    pub fn zero_below(self, level: f32) -> Self {
        use core::arch::x86_64::{_mm_andnot_ps, _mm_cmplt_ps, _mm_set1_ps};
        // SAFETY: as above.
        unsafe {
            let abs = _mm_andnot_ps(_mm_set1_ps(-0.0), self.0);
            let tiny = _mm_cmplt_ps(abs, _mm_set1_ps(level));
            Self(_mm_andnot_ps(tiny, self.0))
        }
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::F32x4;

    /// Every operation gives the scalar formula's bits in lanes 0 and 1 (the ones
    /// `low_pair` reads), including signed zeros, subnormals, infinities and NaN.
    #[test]
    fn f32x4_is_the_scalar_formula_per_lane() {
        let xs = [
            0.0f32,
            -0.0,
            1.0,
            -3.5,
            1e-30,
            -1e-21,
            1e-20,
            f32::MIN_POSITIVE / 4.0,
            f32::INFINITY,
            f32::NAN,
            0.1,
            1.0e20,
        ];
        for w in xs.windows(4) {
            for c in xs {
                let v = F32x4::new(w[0], w[1], w[2], w[3]);
                let k = F32x4::splat(c);
                let lanes = |x: F32x4, y: F32x4| {
                    let (a, b) = (x.low_pair(), y.low_pair());
                    [a[0], a[1], b[0], b[1]]
                };
                let got = lanes(v.mul(k), v.add(k));
                let want = [w[0] * c, w[1] * c, w[0] + c, w[1] + c];
                for (g, e) in got.iter().zip(want) {
                    assert_eq!(g.to_bits(), e.to_bits(), "{w:?} {c}");
                }
                let got = lanes(v.sub(k), v.zero_below(1e-20));
                let abs = |x: f32| f32::from_bits(x.to_bits() & 0x7fff_ffff);
                let z = |x: f32| if abs(x) < 1e-20 { 0.0 } else { x };
                let want = [w[0] - c, w[1] - c, z(w[0]), z(w[1])];
                for (g, e) in got.iter().zip(want) {
                    assert_eq!(g.to_bits(), e.to_bits(), "{w:?} {c}");
                }
            }
        }
    }
}
