"""Sweeps: every combination of a grid from the start and random starts, ranked best first, the same on any
number of threads and on a Dask cluster; results and problems travel between processes (pickle)."""

import pickle

import numpy as np
import pytest

import bilevel

GRID = {"rtol": [1e-10, 1e-3], "inner": [1, 10]}
SETTINGS = dict(lower_step=0.05, upper_step=0.1, iters=300)


def hat(problem_file):
    return bilevel.Problem.from_file(problem_file("mexican_hat"))


def same(a, b):
    return [(r.options, r.x0.tolist(), r.x.tolist(), r.fun) for r in a] == \
        [(r.options, r.x0.tolist(), r.x.tolist(), r.fun) for r in b]


def test_a_sweep_runs_every_setting_best_first_whatever_the_threads(problem_file):
    p = hat(problem_file)
    one = bilevel.sweep(p, "corrected-itd", GRID, starts=2, seed=7, threads=1, **SETTINGS)
    two = bilevel.sweep(p, "corrected-itd", GRID, starts=2, seed=7, threads=2, **SETTINGS)
    assert len(one) == 4 * 3 and same(one, two)
    keys = [r.fun_at_solution if r.fun_at_solution is not None else r.fun for r in one]
    assert keys == sorted(keys)
    assert {(r.options["rtol"], r.options["inner"]) for r in one} == {(1e-10, 1), (1e-10, 10), (0.001, 1), (0.001, 10)}
    # Any run is made again from what it records.
    best = one[0]
    again = bilevel.solve(p, best.method, best.x0, best.y0, **best.options)
    assert again.x.tolist() == best.x.tolist()
    # Three distinct starts per setting, the problem's own among them.
    assert len({tuple(r.y0) for r in one}) == 3 and (0.6, 0.8) in {tuple(r.y0) for r in one}
    by_residual = bilevel.sweep(p, "corrected-itd", GRID, rank_by="bgs_residual", **SETTINGS)
    residuals = [r.trace["bgs_residual"][-1] for r in by_residual]
    assert residuals == sorted(residuals)


def test_every_setting_is_checked_before_any_run(problem_file):
    with pytest.raises(bilevel.OptionError, match="rtol"):
        bilevel.sweep(hat(problem_file), "itd", {"rtol": [1e-3]}, **SETTINGS)
    with pytest.raises(ValueError, match="rank_by"):
        bilevel.sweep(hat(problem_file), "itd", {"inner": [1]}, rank_by="speed", **SETTINGS)
    with pytest.raises(ValueError, match="start_range"):
        bilevel.sweep(hat(problem_file), "itd", {"inner": [1]}, starts=1, start_range=0, **SETTINGS)


def test_problems_and_results_pickle(problem_file):
    p = hat(problem_file)
    r = bilevel.solve(p, "itd", **SETTINGS)
    q = pickle.loads(pickle.dumps(p))
    assert q.values([0.1, 0.2], [0.3, 0.4]) == p.values([0.1, 0.2], [0.3, 0.4])
    s = pickle.loads(pickle.dumps(r))
    assert s.x.tolist() == r.x.tolist() and s.options == r.options and s.status == r.status
    assert all(np.array_equal(s.trace[k], r.trace[k], equal_nan=True) for k in r.trace)
    fit = bilevel.Problem("problem Fit { dim N; data t: real[N]; upper s: real; lower w: real; "
                          "minimize upper: (w - 1)^2; minimize lower: sum(i in 0..N: (w - s * t[i])^2) / N; }",
                          data={"t": np.array([1.0, 2.0, 3.0])})
    assert pickle.loads(pickle.dumps(fit)).values([1.0], [2.0]) == fit.values([1.0], [2.0])


def test_a_sweep_on_a_dask_cluster_equals_the_local_one(problem_file):
    distributed = pytest.importorskip("dask.distributed")
    p = hat(problem_file)
    local = bilevel.sweep(p, "corrected-itd", GRID, starts=1, seed=3, **SETTINGS)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c, \
            distributed.Client(c) as client:
        remote = bilevel.sweep(p, "corrected-itd", GRID, starts=1, seed=3, client=client, **SETTINGS)
    assert same(local, remote)
