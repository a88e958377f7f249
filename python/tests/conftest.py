import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture
def problem_file():
    """The path of one of the reference problems shipped in examples/problems/."""
    return lambda name: ROOT / "examples" / "problems" / f"{name}.bl"
