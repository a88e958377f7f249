"""Plots and progress bars through their optional dependencies (matplotlib, tqdm)."""

import io

import pytest

import bilevel

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")


def test_convergence_plots_keep_zeros_on_log_axes_and_the_legend_off_the_curves(problem_file):
    p = bilevel.Problem.from_file(problem_file("counter_example"))
    settings = dict(lower_step=0.2, upper_step=0.5, iters=300, inner=5, every=10)
    runs = [bilevel.solve(p, a, **settings) for a in ("itd", "corrected-itd")]
    fig = bilevel.plot(runs)
    axes = fig.axes
    assert [a.get_yscale() for a in axes] == ["linear", "log", "log"]
    assert all(len(a.lines) == 2 for a in axes)
    # corrected ITD's BGS residual reaches exactly 0 on P1: drawn at the floor, not dropped.
    residual = axes[2].lines[1].get_ydata()
    assert len(residual) == len(runs[1].trace["iteration"]) and min(residual) > 0
    assert "zeros at the floor" in axes[2].get_title()
    assert fig.legends and not any(a.get_legend() for a in axes)
    png = io.BytesIO()
    fig.savefig(png, format="png")
    assert png.getvalue().startswith(b"\x89PNG")
    one = bilevel.plot(runs[0], metrics=["dir_norm"], against="seconds")
    assert len(one.axes) == 1 and one.axes[0].get_xlabel() == "seconds"


def test_a_progress_bar_follows_a_run(capsys):
    pytest.importorskip("tqdm")
    p = bilevel.Problem("problem P { upper x: real; lower y: real; minimize upper: (y - 1)^2 + x^2; "
                        "minimize lower: (y - x)^2; }")
    r = bilevel.solve(p, "itd", iters=640, lower_step=0.25, callback=bilevel.progress("itd"))
    assert r.status == "max-iterations"
    assert "640/640" in capsys.readouterr().err
