"""Bilevel optimization with exact symbolic derivatives.

Write a problem as on paper (the language of the Rust crate's ``bilevel!`` macro), run the methods of the
literature on it, and read the run as NumPy arrays::

    import bilevel
    p = bilevel.Problem('''problem Shift {
        upper x: real; lower y: real;
        minimize upper: (y - 1)^2 + 0.1 * x^2;
        minimize lower: (y - x)^2;
    }''')
    r = bilevel.solve(p, "aid", lower_step=0.25, upper_step=0.5, iters=200)
    r.x, r.fun_at_solution, r.trace["upper"]

Every derivative is derived symbolically from the text and evaluated by the same tapes the ``bilevel`` command-line
tool runs; no Rust toolchain is needed at run time.
"""

import itertools
import math

from ._bilevel import (
    ALGORITHMS,
    DataError,
    OptionError,
    Problem,
    ProblemError,
    Result,
    RunError,
    load,
    options,
    options_table,
    solve,
)
from ._bilevel import _check, _random_starts, _solve_many, _takes

__all__ = [
    "ALGORITHMS",
    "DataError",
    "OptionError",
    "Problem",
    "ProblemError",
    "Result",
    "RunError",
    "compare",
    "load",
    "options",
    "options_table",
    "plot",
    "progress",
    "solve",
    "sweep",
]



_METRICS = {
    "upper_at_solution": lambda r: r.fun_at_solution if r.fun_at_solution is not None else r.fun,
    "upper": lambda r: r.fun,
    "bgs_residual": lambda r: float(r.trace["bgs_residual"][-1]),
    "lower_grad_norm": lambda r: float(r.trace["lower_grad_norm"][-1]),
    "seconds": lambda r: r.seconds,
}


def _ranked(results, rank_by="upper_at_solution"):
    """The results best first as the tool ranks them: by the final value of ``rank_by``, least first; faulted
    runs and NaN last; ties in the order run."""
    if rank_by not in _METRICS:
        raise ValueError(f"rank_by={rank_by!r}: use one of {', '.join(_METRICS)}")
    metric = _METRICS[rank_by]

    def key(indexed):
        i, r = indexed
        value = metric(r) if r.success else math.inf
        return (math.inf if math.isnan(value) else value, i)

    return [r for _, r in sorted(enumerate(results), key=key)]


def _run_point(point, problem, method):
    """One run of a sweep on a worker (Dask): its options and start."""
    options, x0, y0 = point
    return solve(problem, method, x0, y0, **options)


def sweep(problem, method, grid, starts=0, seed=0, start_range=1.0, rank_by="upper_at_solution", threads=None,
          client=None, **options):
    """Runs ``method`` over every combination of ``grid`` (a dict from option names to lists of values; the last
    varies fastest), each from the problem's start and from ``starts`` random starts (x uniform in the box where it
    is bounded, the start ± ``start_range`` elsewhere; y the start ± ``start_range``; the same ``seed``, the same
    starts), with the other ``options`` common to all, and returns the results best first (see ``rank_by``: the
    final ``upper_at_solution`` by default, as ``bilevel sweep`` ranks them; faulted runs last). Each result records
    its ``options`` and start (``x0``, ``y0``), so any run can be made again with ``solve``.

    The runs are independent and deterministic: on ``threads`` threads of this process (every core by default),
    or with ``client`` (a ``dask.distributed.Client``) one task per run on its workers; the results are the same
    either way. Every combination's options are checked before any run."""
    names = list(grid)
    combos = list(itertools.product(*(list(grid[n]) for n in names)))
    starts_ = _random_starts(problem, starts, seed, start_range)
    points = [({**options, **dict(zip(names, combo))}, x0, y0) for combo in combos for x0, y0 in starts_]
    if client is None:
        results = _solve_many(problem, method, points, threads)  # checks every point's options first
    else:
        for opts, _, _ in points[:: len(starts_)]:
            _check(method, opts)
        [shared] = client.scatter([problem], broadcast=True)
        futures = client.map(_run_point, points, problem=shared, method=method, pure=False)
        results = client.gather(futures)
    return _ranked(results, rank_by)


def compare(problem, methods, x0=None, y0=None, **common):
    """Runs each of ``methods`` on ``problem`` and returns the results ranked as the tool's ``compare`` ranks them
    (finished runs first, by ``fun_at_solution``).

    ``methods`` is a list of algorithm names, or of ``(name, options)`` pairs; ``common`` options go to every
    method that takes them (as ``bilevel compare`` passes them)."""
    results = []
    for entry in methods:
        name, own = (entry, {}) if isinstance(entry, str) else entry
        shared = {k: v for k, v in common.items() if _takes(name, k.replace("_", "-"))}
        results.append(solve(problem, name, x0, y0, **{**shared, **own}))
    return _ranked(results)


def plot(results, metrics=None, against="iteration", **kwargs):
    """The convergence of ``results`` (one result or a list) as a matplotlib figure; see
    ``bilevel.plots.convergence`` for the options. Needs matplotlib."""
    from .plots import convergence

    return convergence(results if isinstance(results, list) else [results], metrics, against, **kwargs)


def progress(desc=None):
    """A ``callback`` for ``solve`` that shows a tqdm progress bar (needs tqdm):
    ``bilevel.solve(p, "itd", iters=10**6, callback=bilevel.progress())``."""
    from tqdm.auto import tqdm

    bar = None

    def callback(k, iters):
        nonlocal bar
        if bar is None:
            bar = tqdm(total=iters, desc=desc, unit="it")
        bar.update(k - bar.n)
        if k >= iters:
            bar.close()

    return callback
