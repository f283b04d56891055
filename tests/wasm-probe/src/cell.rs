//! [`Exclusive`]: a `static` that hands out one `&mut` at a time, without spinning.
//!
//! The FFI keeps its buffers in statics. `static mut` would need an `unsafe` block at every
//! use; instead one small type owns the single `unsafe impl` and the single dereference,
//! and guards them with a flag: a second borrow while the first is live gets `None` (a
//! try-lock, never a wait). wasm32 without the `atomics` feature is single-threaded, so
//! the flag only catches re-entrancy, but the type stays sound on any target.

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};

/// A value behind a non-blocking exclusive borrow flag.
pub struct Exclusive<T> {
    busy: AtomicBool,
    value: UnsafeCell<T>,
}

// SAFETY: the only access to `value` as a reference is `with`, which first wins the
// `busy` flag (an acquire swap from false to true) and gives it back (release store)
// after the closure returns, so at most one `&mut T` exists at a time, on any thread.
// `T: Send` because the value may be used from whichever thread wins the flag.
unsafe impl<T: Send> Sync for Exclusive<T> {}

impl<T> Exclusive<T> {
    /// Wraps `value` (usable in a `static` initialiser).
    pub const fn new(value: T) -> Self {
        Self {
            busy: AtomicBool::new(false),
            value: UnsafeCell::new(value),
        }
    }

    /// Runs `f` with exclusive access, or returns `None` if the value is already borrowed.
    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        if self.busy.swap(true, Ordering::Acquire) {
            return None;
        }
        // SAFETY: we turned `busy` from false to true, so no other reference to the value
        // exists, and none can be created until we clear it below. A panic in `f` does
        // not unwind on wasm32 (the panic handler traps), and elsewhere it leaves the flag
        // set, which only makes later borrows fail.
        let r = f(unsafe { &mut *self.value.get() });
        self.busy.store(false, Ordering::Release);
        Some(r)
    }

    /// The address of the value, for a caller outside Rust (JS writing the input buffer
    /// between calls). Creating the pointer is safe; Rust code here never reads through it.
    pub const fn as_ptr(&self) -> *mut T {
        self.value.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_borrow_is_refused() {
        let x = Exclusive::new(1u32);
        let r = x.with(|a| {
            *a += 1;
            x.with(|b| *b += 1)
        });
        assert_eq!(r, Some(None));
        assert_eq!(x.with(|a| *a), Some(2));
    }
}
