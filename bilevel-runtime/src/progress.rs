//! Following a long run as it goes: [`observe`] calls an observer with the iteration count of every run made
//! on this thread (every 64 iterations and at the last), e.g. to draw a progress bar. Without an observer a run
//! pays one integer test per iteration.

use std::cell::RefCell;

/// What follows the runs on a thread: called with `(k, iters)`.
type Observer = Box<dyn FnMut(usize, usize)>;

thread_local! {
    static OBSERVER: RefCell<Option<Observer>> = const { RefCell::new(None) };
}

/// Runs `run` with `observer(k, iters)` called as the runs it makes on this thread progress: every 64 iterations
/// and after the last one.
///
/// ```
/// use bilevel_runtime::progress;
/// let seen = std::rc::Rc::new(std::cell::Cell::new(None));
/// let log = seen.clone();
/// // `run` would be, e.g., `|| BgsOpt::itd(5).solve(&problem, &x0, &y0)`; the observer then sees (64, K), (128, K) …
/// let value = progress::observe(move |k, iters| log.set(Some((k, iters))), || 42);
/// assert_eq!((value, seen.get()), (42, None)); // no run, no call
/// ```
pub fn observe<R>(observer: impl FnMut(usize, usize) + 'static, run: impl FnOnce() -> R) -> R {
    struct Clear;
    impl Drop for Clear {
        fn drop(&mut self) {
            OBSERVER.with(|o| *o.borrow_mut() = None);
        }
    }
    OBSERVER.with(|o| *o.borrow_mut() = Some(Box::new(observer)));
    let _clear = Clear;
    run()
}

/// Iteration `k` of `iters` is done.
#[inline]
pub(crate) fn tick(k: usize, iters: usize) {
    if k.is_multiple_of(64) || k == iters {
        OBSERVER.with(|o| {
            if let Ok(mut o) = o.try_borrow_mut() {
                if let Some(f) = o.as_mut() {
                    f(k, iters);
                }
            }
        });
    }
}
