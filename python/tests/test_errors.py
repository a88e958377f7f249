"""Mistakes are clear errors: in the text, in the options, in the data; a faulted run keeps its finite trace."""

import numpy as np
import pytest

import bilevel

SHIFT = """problem Shift {
    upper x: real;
    lower y: real;
    minimize upper: (y - 1)^2 + 0.1 * x^2;
    minimize lower: (y - x)^2;
}"""

FIT = """problem Fit {
    dim N;
    data t: real[N];
    upper s: real;
    lower w: real;
    minimize upper: (w - 1)^2 + 0.01 * s^2;
    minimize lower: sum(i in 0..N: (w - s * t[i])^2) / N;
}"""


def test_a_mistake_is_a_positioned_problem_error():
    with pytest.raises(bilevel.ProblemError) as caught:
        bilevel.Problem(SHIFT.replace("(y - x)^2", "(y - z)^2"))
    e = caught.value
    assert "cannot find `z` in this problem" in str(e) and "--> <problem>:5:26" in str(e)
    assert (e.line, e.column) == (5, 26) and "declare it" in e.hint
    assert len(e.errors) == 1 and e.errors[0][:2] == (5, 26)


def test_options_are_checked_with_their_python_names():
    p = bilevel.Problem(SHIFT)
    with pytest.raises(bilevel.OptionError, match="bda has no option warmup; it takes iters, inner, lower_step"):
        bilevel.solve(p, "bda", warmup=3)
    with pytest.raises(bilevel.OptionError, match="unknown algorithm `newton`"):
        bilevel.solve(p, "newton")
    with pytest.raises(bilevel.OptionError, match="inner"):
        bilevel.solve(p, "itd", inner=-1)
    with pytest.raises(ValueError, match=r"lengths \(2, 1\)"):
        bilevel.solve(p, "itd", [0.0, 0.0], [0.0])


def test_data_come_as_float64_arrays_and_bad_data_are_data_errors():
    t = np.array([1.0, 2.0, 3.0])
    p = bilevel.Problem(FIT, data={"t": t})
    assert p.dims == (1, 1) and p.data_items == ["t"]
    # mean of (2 − s t)² at s = 1, w = 2: (1 + 0 + 1) / 3
    assert abs(p.values([1.0], [2.0])[1] - 2.0 / 3.0) < 1e-15
    r = bilevel.solve(p, "aid", lower_step=0.1, iters=500, upper_step=0.05)
    # w*(s) = s·mean(t) = 2s, so h(s) = (2s − 1)² + 0.01 s² is least at s = 2 / 4.01.
    assert r.success and abs(r.x[0] - 2 / 4.01) < 1e-6, r
    unattached = bilevel.Problem(FIT)
    assert unattached.dims is None
    with pytest.raises(bilevel.DataError, match="none were given"):
        bilevel.solve(unattached, "itd")
    assert unattached.with_data(t=t).dims == (1, 1)
    with pytest.raises(bilevel.DataError, match="expected a float64 NumPy array, got int64"):
        bilevel.Problem(FIT, data={"t": np.array([1, 2, 3])})
    with pytest.raises(bilevel.DataError, match=r"entry \[1\] is NaN"):
        bilevel.Problem(FIT, data={"t": np.array([1.0, np.nan])})
    with pytest.raises(bilevel.DataError, match="t"):
        bilevel.Problem(FIT, data={"t": np.ones((2, 2))})
    with pytest.raises(bilevel.DataError):
        bilevel.Problem(FIT, data={"u": t})


def test_a_faulted_run_returns_its_finite_trace_or_raises():
    p = bilevel.Problem(SHIFT)
    # α·L_G = 2·2 = 4 ≥ 2: the lower steps diverge.
    r = bilevel.solve(p, "itd", lower_step=2.0, iters=500)
    assert not r.success and r.status == "fault" and "stopped at iteration" in r.message
    assert np.all(np.isfinite(r.trace["y"])) and any("too large" in w for w in r.warnings)
    with pytest.raises(bilevel.RunError) as caught:
        bilevel.solve(p, "itd", lower_step=2.0, iters=500, raise_on_fault=True)
    assert caught.value.result.status == "fault" and caught.value.result.nit == r.nit


def test_a_callback_follows_and_can_stop_a_run():
    p = bilevel.Problem(SHIFT)
    seen = []
    r = bilevel.solve(p, "itd", iters=200, callback=lambda k, n: seen.append((k, n)))
    assert seen == [(64, 200), (128, 200), (192, 200), (200, 200)] and r.status == "max-iterations"
    stopped = bilevel.solve(p, "itd", iters=1000, callback=lambda k, n: k < 128)
    assert stopped.status == "stopped" and stopped.nit == 128 and "callback" in stopped.message
    with pytest.raises(ZeroDivisionError):
        bilevel.solve(p, "itd", iters=100, callback=lambda k, n: 1 / 0)


def test_params_and_derivatives():
    p = bilevel.Problem("problem P { upper x: real; lower y: real; param c = 2; "
                        "minimize upper: y^2 + x^2; minimize lower: (y - c * x)^2; }")
    assert p.params == ["c"]
    assert p.values([1.0], [0.0]) == (1.0, 4.0)
    assert p.with_param("c", 3.0).values([1.0], [0.0]) == (1.0, 9.0)
    with pytest.raises(ValueError, match="no param `d`"):
        p.with_param("d", 1.0)
    assert "∇y G" in p.derive()


def test_ctrl_c_stops_a_run_and_returns_what_it_has():
    import _thread
    import threading

    p = bilevel.Problem(SHIFT)
    timer = threading.Timer(0.3, _thread.interrupt_main)  # what Ctrl-C does: SIGINT to the main thread
    timer.start()
    r = bilevel.solve(p, "itd", iters=10**9, lower_step=0.25, upper_step=0.5)
    timer.join()
    assert r.status == "stopped" and "interrupted" in r.message and r.success
    assert 0 < r.nit < 10**9 and r.nit % 64 == 0 and r.trace["iteration"][-1] == r.nit
