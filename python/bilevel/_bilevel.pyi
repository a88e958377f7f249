"""Type stubs of the native module `bilevel._bilevel` (re-exported by `bilevel`)."""

from os import PathLike
from typing import Callable, Mapping, Optional, Sequence, Union

import numpy as np
import numpy.typing as npt

ALGORITHMS: list[str]

class ProblemError(ValueError):
    line: int
    column: int
    hint: Optional[str]
    errors: list[tuple[int, int, str, Optional[str]]]

class OptionError(ValueError): ...
class DataError(ValueError): ...

class RunError(RuntimeError):
    result: "Result"

_Param = Union[float, Sequence[float]]
# A float64 NumPy array, a SciPy sparse matrix (read densely) or a pandas DataFrame / Series (by its values).
_Data = object

class Problem:
    def __init__(
        self,
        text: str,
        data: Optional[Mapping[str, "_Data"]] = None,
        params: Optional[Mapping[str, _Param]] = None,
    ) -> None: ...
    @staticmethod
    def from_file(
        path: Union[str, PathLike[str]],
        data: Optional[Mapping[str, "_Data"]] = None,
        params: Optional[Mapping[str, _Param]] = None,
    ) -> "Problem": ...
    def with_data(self, **data: _Data) -> "Problem": ...
    def with_param(self, name: str, value: _Param) -> "Problem": ...
    @property
    def name(self) -> str: ...
    @property
    def dims(self) -> Optional[tuple[int, int]]: ...
    @property
    def params(self) -> list[str]: ...
    @property
    def data_items(self) -> list[str]: ...
    @property
    def start(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]: ...
    def derive(self) -> str: ...
    def values(self, x: Sequence[float], y: Sequence[float]) -> tuple[float, float]: ...
    def solve_lower(
        self, x: Sequence[float], y0: Optional[Sequence[float]] = None, tol: float = 1e-10, iters: int = 100
    ) -> tuple[npt.NDArray[np.float64], bool]: ...

class Result:
    x: npt.NDArray[np.float64]
    y: npt.NDArray[np.float64]
    fun: float
    fun_at_solution: Optional[float]
    status: str
    success: bool
    message: str
    nit: int
    seconds: float
    warnings: list[str]
    notes: list[str]
    method: str
    settings: str
    options: dict[str, Union[int, float, str, bool]]
    x0: npt.NDArray[np.float64]
    y0: npt.NDArray[np.float64]
    trace: dict[str, np.ndarray]

def solve(
    problem: Problem,
    method: str,
    x0: Optional[Sequence[float]] = None,
    y0: Optional[Sequence[float]] = None,
    *,
    callback: Optional[Callable[[int, int], Optional[bool]]] = None,
    raise_on_fault: bool = False,
    **options: Union[int, float, str, bool, None],
) -> Result: ...
def load(path: str) -> npt.NDArray[np.float64]: ...
def options() -> list[dict[str, str]]: ...
def options_table(algorithms: Sequence[str]) -> str: ...
def _takes(algo: str, name: str) -> bool: ...
def _check(method: str, options: Optional[Mapping[str, object]] = None) -> None: ...
def _random_starts(
    problem: Problem, k: int, seed: int, range: float
) -> list[tuple[list[float], list[float]]]: ...
def _solve_many(
    problem: Problem,
    method: str,
    points: Sequence[tuple[Mapping[str, object], Sequence[float], Sequence[float]]],
    threads: Optional[int] = None,
) -> list[Result]: ...
def _result(state: Mapping[str, object]) -> Result: ...
