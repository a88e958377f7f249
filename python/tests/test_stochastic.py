"""The stochastic methods from Python: SABA on the shipped subset of the reference benchmark's data
(examples/data/stochastic, NumPy arrays), from benchopt's start, with h(x) = F(x, y*(x)) every 100 steps."""

import numpy as np

import bilevel
from conftest import ROOT

DATA = ROOT / "examples" / "data" / "stochastic"


def test_saba_lowers_h_and_counts_its_oracle_calls():
    load = lambda name: np.load(DATA / f"{name}.npy")
    p = bilevel.Problem.from_file(ROOT / "examples" / "problems" / "stochastic_logistic.bl",
                                  data={"X": load("X_train"), "t": load("y_train"),
                                        "Xv": load("X_val"), "tv": load("y_val")})
    r = bilevel.solve(p, "saba", load("x0"), load("z0"), iters=300, eval_every=100, outer_ratio=0.1)
    h = np.asarray(r.trace["upper_at_solution"])
    assert len(h) == 4 and h[3] < h[1] < h[0], h
    calls = np.asarray(r.trace["oracle_grad"])
    assert calls[0] == 0 and 0 < calls[1] <= 100 * 128 and np.all(np.diff(calls) > 0), calls
    # The same seed, the same run; another seed, another.
    again = bilevel.solve(p, "saba", load("x0"), load("z0"), iters=300, eval_every=100, outer_ratio=0.1)
    other = bilevel.solve(p, "saba", load("x0"), load("z0"), iters=300, eval_every=100, outer_ratio=0.1, seed=2)
    assert np.array_equal(r.x, again.x) and not np.array_equal(r.x, other.x)
