"""Problems with data from Python: P7 (per-feature ridge on the diabetes data, docs/algorithms.md) from a pandas
table, the tool's file loaders, and SciPy sparse matrices."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse

import bilevel
from conftest import ROOT

# The reference optimum of P7 to seven digits, and F there (examples/ridge_diabetes.rs).
X_STAR = [0.7386756, -8.2266066, -7.5916059, -10.3725361, -0.0763336, 0.0319212, -6.3748949, -0.0137237,
          -7.4021316, -0.1791673]
F_STAR = 1500.7740189819


def ridge():
    table = pd.read_csv(ROOT / "examples" / "data" / "diabetes_split.csv")
    features = [f"f{k}" for k in range(10)]

    def split(name):
        rows = table[table.split == name]
        return rows[features].assign(one=1.0), rows.target

    (x, t), (xv, tv) = split("train"), split("val")
    return bilevel.Problem.from_file(ROOT / "examples" / "problems" / "ridge_diabetes.bl",
                                     data={"X": x, "t": t, "Xv": xv, "tv": tv})


def test_p7_aid_and_corrected_itd_stay_at_x_star_and_a_large_cutoff_leaves_it():
    p = ridge()
    assert p.dims == (10, 11)
    y, converged = p.solve_lower(X_STAR, np.zeros(11))
    assert converged
    settings = dict(lower_step=0.4, upper_step=0.05, iters=200)
    for method, options, stays in [("aid", dict(warmup=50, xi="cg", xi_iters=20), True),
                                   ("corrected-itd", dict(inner=10, xi="pinv", rtol=1e-6), True),
                                   ("corrected-itd", dict(inner=10, xi="pinv", rtol=1e-3), False)]:
        r = bilevel.solve(p, method, X_STAR, y, **settings, **options)
        distance = np.linalg.norm(r.x - X_STAR)
        if stays:
            assert distance < 1e-6 and abs(r.fun - F_STAR) < 1e-6, (method, options, distance, r.fun)
        else:
            assert distance > 1e-3, (method, options, distance)


def test_the_tool_s_file_loaders(tmp_path):
    (tmp_path / "d.svm").write_text("1 1:0.5 3:2\n-1 2:1\n")
    assert bilevel.load(f"{tmp_path / 'd.svm'}:labels").tolist() == [1.0, -1.0]
    assert bilevel.load(str(tmp_path / "d.svm")).tolist() == [[0.5, 0.0, 2.0], [0.0, 1.0, 0.0]]
    np.save(tmp_path / "a.npy", np.arange(6.0).reshape(2, 3))
    assert bilevel.load(str(tmp_path / "a.npy")).shape == (2, 3)
    with pytest.raises(bilevel.DataError, match="no/such"):
        bilevel.load("no/such/file.csv")


FIT = """problem Fit {
    dim N, p;
    data X: real[N, p];
    upper s: real;
    lower w: real[p];
    minimize upper: norm2(w - 1) + 0.01 * s^2;
    minimize lower: norm2(X * w) / N + exp(s) * norm2(w - 1) / 2;
}"""


def test_sparse_and_frames_give_the_same_problem_as_arrays():
    dense = np.array([[1.0, 0.0, 2.0], [0.0, 3.0, 0.0]])
    a = bilevel.Problem(FIT, data={"X": dense})
    for other in (scipy.sparse.csr_matrix(dense), pd.DataFrame(dense, columns=["a", "b", "c"]), np.asfortranarray(dense)):
        b = bilevel.Problem(FIT, data={"X": other})
        assert b.values([0.3], [0.1, 0.2, 0.3]) == a.values([0.3], [0.1, 0.2, 0.3])
    with pytest.raises(bilevel.DataError, match="float64"):
        bilevel.Problem(FIT, data={"X": pd.DataFrame({"a": ["x", "y"]})})
