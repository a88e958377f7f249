"""The README's Python example runs as written (from the repository root) and prints what it says."""

import contextlib
import io
import os

from conftest import ROOT


def test_the_readme_example_runs():
    text = (ROOT / "README.md").read_text()
    block = text.split("```python\n", 1)[1].split("```", 1)[0]
    out = io.StringIO()
    cwd = os.getcwd()
    try:
        os.chdir(ROOT)
        with contextlib.redirect_stdout(out):
            exec(block, {})
    finally:
        os.chdir(cwd)
    lines = out.getvalue().splitlines()
    assert lines[0] == "[1.5] 0.2500000000000002 max-iterations", lines
    assert lines[1].startswith("[0.4987"), lines
