"""Convergence plots of runs with matplotlib (an optional dependency: ``pip install matplotlib``)."""

import math

import numpy as np

# The quantities plotted by default, with their labels; those that shrink towards zero get a log axis.
PANELS = {
    "upper": ("F(x, y)", False),
    "lower_grad_norm": ("‖∇y G‖", True),
    "bgs_residual": ("BGS residual", True),
}
LOG = {"lower_grad_norm", "bgs_residual", "dir_norm", "R_x", "R_w", "R_y", "xi_norm"}


def _floored(values, floor):
    """Values for a log axis: exact zeros (and negatives) drawn at ``floor`` instead of vanishing."""
    values = np.asarray(values, dtype=float).copy()
    values[values <= 0] = floor
    return values


def _labels(results):
    """Each result's method, with its settings where several results share a method."""
    methods = [r.method for r in results]
    return [m if methods.count(m) == 1 else f"{m} {r.settings}" for m, r in zip(methods, results)]


def convergence(results, metrics=None, against="iteration", labels=None, figsize=None):
    """A figure with one panel per metric (by default F, ‖∇y G‖ and the BGS residual) and one curve per result,
    against ``"iteration"`` or ``"seconds"``. Metrics that go to zero are on log axes, where an exact zero is drawn
    at the panel's floor (a tenth of its least positive value, at most 1e-3, as the tool's plots draw them; the
    panel's title says so). The legend sits below
    the panels, never over a curve. Returns the matplotlib ``Figure``."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("bilevel.plot needs matplotlib: pip install matplotlib") from e
    metrics = list(metrics or PANELS)
    labels = labels or _labels(results)
    fig, axes = plt.subplots(1, len(metrics), figsize=figsize or (4.2 * len(metrics), 3.6), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        label, log = PANELS.get(metric, (metric, metric in LOG))
        series = [(r.trace[against], r.trace[metric]) for r in results if metric in r.trace]
        finite = [v for _, ys in series for v in ys if math.isfinite(v)]
        positive = [v for v in finite if v > 0]
        zeros = log and any(v <= 0 for v in finite)
        # The tool's rule (bilevel-runtime's plot::Panel::floor): a tenth of the least positive value, at most 1e-3.
        floor = min(min(positive, default=1e-2), 1e-2) / 10
        for (xs, ys), name in zip(series, labels):
            keep = np.isfinite(ys)
            ys = _floored(ys, floor) if log else np.asarray(ys)
            ax.plot(np.asarray(xs)[keep], ys[keep], label=name)
        if log:
            ax.set_yscale("log")
        ax.set_title(label + (" (zeros at the floor)" if zeros else ""))
        ax.set_xlabel("iteration" if against == "iteration" else "seconds")
    handles, names = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=min(len(names), 3), frameon=False)
    fig.tight_layout(rect=(0, 0.08 + 0.04 * ((len(names) - 1) // 3), 1, 1))
    return fig
