//! Scratch arrays for generated code: [`zeros`] hands out a zeroed buffer from the calling thread's store and
//! takes it back when it is dropped, so that a generated method whose loops keep arrays (the logits of a softmax,
//! say) allocates only on its first calls.

use std::cell::RefCell;
use std::ops::{Deref, DerefMut};

thread_local! {
    /// The buffers given back on this thread, kept with their capacity.
    static STORE: RefCell<Vec<Vec<f64>>> = const { RefCell::new(Vec::new()) };
}

/// A zeroed buffer of the calling thread's store, given back when dropped; reads and writes as a `[f64]`.
#[derive(Debug)]
pub struct Scratch(Vec<f64>);

/// `len` zeros, in a buffer taken from the calling thread's store (allocated only when the store has none of
/// that capacity). Buffers go back in the order they were taken, so a method called again with the same sizes
/// gets the same buffers and allocates nothing.
///
/// ```
/// use bilevel_runtime::scratch::zeros;
/// let mut a = zeros(3);
/// a[1] = 2.0;
/// assert_eq!(&a[..], &[0.0, 2.0, 0.0]);
/// drop(a);
/// assert_eq!(&zeros(2)[..], &[0.0, 0.0], "a buffer from the store is zeroed again");
/// ```
pub fn zeros(len: usize) -> Scratch {
    let mut buffer = STORE.with(|s| s.borrow_mut().pop()).unwrap_or_default();
    buffer.clear();
    buffer.resize(len, 0.0);
    Scratch(buffer)
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let buffer = std::mem::take(&mut self.0);
        // A thread that is shutting down has no store any more; its buffer is then freed.
        let _ = STORE.try_with(|s| s.borrow_mut().push(buffer));
    }
}

impl Deref for Scratch {
    type Target = [f64];
    #[inline]
    fn deref(&self) -> &[f64] {
        &self.0
    }
}

impl DerefMut for Scratch {
    #[inline]
    fn deref_mut(&mut self) -> &mut [f64] {
        &mut self.0
    }
}
