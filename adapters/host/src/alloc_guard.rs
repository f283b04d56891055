//! Proof that real-time code does not allocate (STYLE.md §5).
//!
//! Audio callbacks and render loops call [`enter`] / [`exit`] around their work (or use
//! [`RealtimeScope`]). A test binary installs [`CountingAllocator`] as its global
//! allocator; every allocation, reallocation or free made by a thread inside a real-time
//! scope is counted in [`violations`], and the test asserts the count stays at zero.
//! Outside tests the scope markers cost one thread-local store each.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

thread_local! {
    static IN_REALTIME: Cell<bool> = const { Cell::new(false) };
}

static VIOLATIONS: AtomicUsize = AtomicUsize::new(0);

/// Marks the current thread as running real-time code.
#[inline]
pub fn enter() {
    IN_REALTIME.with(|c| c.set(true));
}

/// Leaves the real-time scope.
#[inline]
pub fn exit() {
    IN_REALTIME.with(|c| c.set(false));
}

/// Scope guard: real-time until dropped.
pub struct RealtimeScope(());

impl RealtimeScope {
    /// Enters the real-time scope.
    #[inline]
    pub fn new() -> Self {
        enter();
        Self(())
    }
}

impl Default for RealtimeScope {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for RealtimeScope {
    #[inline]
    fn drop(&mut self) {
        exit();
    }
}

/// Allocations (and frees) counted inside real-time scopes so far.
pub fn violations() -> usize {
    VIOLATIONS.load(Ordering::Relaxed)
}

#[inline]
fn check() {
    // `try_with`: allocations during thread teardown must not touch a destroyed slot.
    if IN_REALTIME.try_with(|c| c.get()).unwrap_or(false) {
        VIOLATIONS.fetch_add(1, Ordering::Relaxed);
    }
}

/// The system allocator, counting real-time violations.
pub struct CountingAllocator;

// SAFETY: forwards every call unchanged to the system allocator; the only addition is a
// thread-local read and an atomic increment, neither of which allocates.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        check();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        check();
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        check();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        check();
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}
