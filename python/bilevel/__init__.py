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
    "solve",
]


def _rank_key(result):
    """How the tool ranks runs: finished before faulted, then by F at the solved lower level (F where unknown)."""
    fun = result.fun_at_solution if result.fun_at_solution is not None else result.fun
    return (not result.success, fun)


def compare(problem, methods, x0=None, y0=None, **common):
    """Runs each of ``methods`` on ``problem`` and returns the results ranked as the tool's ``compare`` ranks them
    (finished runs first, by ``fun_at_solution``).

    ``methods`` is a list of algorithm names, or of ``(name, options)`` pairs; ``common`` options go to every
    method that takes them (as ``bilevel compare`` passes them)."""
    from ._bilevel import _takes

    results = []
    for entry in methods:
        name, own = (entry, {}) if isinstance(entry, str) else entry
        shared = {k: v for k, v in common.items() if _takes(name, k.replace("_", "-"))}
        results.append(solve(problem, name, x0, y0, **{**shared, **own}))
    return sorted(results, key=_rank_key)
