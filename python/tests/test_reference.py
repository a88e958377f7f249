"""The reference rows of P1–P4 (docs/algorithms.md) reproduce from Python, as the tool's tests check them."""

import math

import numpy as np
import pytest

import bilevel

P1 = dict(lower_step=0.2, upper_step=0.5, iters=3000, inner=5)


@pytest.mark.parametrize("algo, x, start", [("rhg", 0.463026, None), ("itd", 0.402028, None),
                                             ("corrected-itd", 1.5, [2.0, 2.0])])
def test_p1_bgs_rows(problem_file, algo, x, start):
    p = bilevel.Problem.from_file(problem_file("counter_example"))
    r = bilevel.solve(p, algo, None, start, **P1)
    assert r.success and r.status == "max-iterations" and r.nit == 3000
    assert abs(r.x[0] - x) < 1e-6, r


def test_p1_bda_row(problem_file):
    p = bilevel.Problem.from_file(problem_file("counter_example"))
    r = bilevel.solve(p, "bda", y0=[2.0, 2.0], inner=64, lower_step=0.2, su=0.7, mu=0.5)
    assert abs(r.x[0] - 1.02910) < 1e-5, r


def test_p2_corrected_itd_reaches_an_equilibrium(problem_file):
    p = bilevel.Problem.from_file(problem_file("mexican_hat"))
    settings = dict(inner=10, lower_step=0.05, upper_step=0.1, iters=1500)
    r = bilevel.solve(p, "corrected-itd", **settings)
    assert r.trace["bgs_residual"][-1] < 1e-8 and r.trace["lower_grad_norm"][-1] < 1e-8
    assert np.allclose(r.x, [0.3041640, 0.4005633], atol=1e-6), r.x
    zcg = bilevel.solve(p, "corrected-itd", xi="z-cg", xi_iters=1, **settings)
    assert abs(zcg.x[0] - 0.3041640) < 1e-6


def test_p3_galet_closes_the_gap(problem_file):
    p = bilevel.Problem.from_file(problem_file("galet_example"))
    r = bilevel.solve(p, "galet", [2.0], [1.0, 1.0], iters=300, lower_step=1)
    (x,), (y0, y1) = r.x, r.y
    assert (x - 0.5) ** 2 + (0.5 + y0 - math.sin(y1)) ** 2 < 1e-12
    assert "R_x" in r.trace and len(r.trace["R_x"]) == len(r.trace["iteration"])


def test_p4_dpbg_goes_to_the_minimizer_of_f(problem_file):
    p = bilevel.Problem.from_file(problem_file("huber_bilevel"))
    settings = dict(inner=9, lower_step=0.05, iters=5000)
    assert abs(bilevel.solve(p, "dpbg", upper_step=0.01, **settings).y[0] - 0.1) < 1e-4
    far = bilevel.solve(p.with_param("target", 2.0), "dpbg", upper_step=0.05, **settings)
    assert abs(far.y[0] - 2.0) < 1e-4


def test_the_trace_is_a_table_of_arrays(problem_file):
    p = bilevel.Problem.from_file(problem_file("counter_example"))
    r = bilevel.solve(p, "itd", every=100, **{k: v for k, v in P1.items()})
    t = r.trace
    assert list(t["iteration"][:3]) == [0, 100, 200] and t["iteration"][-1] == 3000
    assert t["x"].shape == (31, 1) and t["y"].shape == (31, 2)
    assert all(len(v) == 31 for v in t.values())
    assert np.isfinite(t["upper_at_solution"][-1]) and np.isnan(t["upper_at_solution"][1])
    assert r.fun == t["upper"][-1] and r.fun_at_solution == t["upper_at_solution"][-1]


def test_compare_ranks_as_the_tool_does(problem_file):
    p = bilevel.Problem.from_file(problem_file("counter_example"))
    ranked = bilevel.compare(p, ["itd", "rhg", ("corrected-itd", {"xi": "pinv"})], y0=[2.0, 2.0], **P1)
    funs = [r.fun_at_solution for r in ranked]
    assert funs == sorted(funs) and {r.method for r in ranked} == {"itd", "rhg", "corrected-itd"}
