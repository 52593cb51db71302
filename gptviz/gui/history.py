"""A bounded table of per-step values that the plots draw from.

Training can run for hundreds of thousands of steps and the plots redraw ~30 times a
second, so the table must append in O(new rows), hand out its columns without copying,
and never grow without bound. When it is full, the oldest half is thinned to every
second row: memory stays fixed, the whole run stays visible, and only the old part
loses resolution (which a plot several hundred pixels wide could not show anyway).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .payloads import StepBatch

#: The StepBatch fields a History made with `for_steps()` keeps.
STEP_COLUMNS = ("loss", "lr", "grad_norm", "tokens_per_sec")

_MIN_CAPACITY = 16


@dataclass
class _Smoothing:
    """Where the incremental EMA of one column stands."""
    weight: float
    done: int = 0  # rows already smoothed
    last: float = math.nan  # smoothed value at row done - 1


class History:
    """Rows of (step, named float64 columns), in increasing step order.

    Arrays returned by `x`, `history[name]` and `smoothed()` are views of the storage,
    not copies: read them right away (e.g. hand them to `setData`); the next append or
    clear may change or replace what they show.
    """

    def __init__(self, columns: tuple[str, ...] | list[str], capacity: int = 200_000,
                 initial_rows: int = 1024):
        if capacity < _MIN_CAPACITY:
            raise ValueError(f"capacity must be at least {_MIN_CAPACITY}, got {capacity}")
        if "step" in columns or len(set(columns)) != len(columns):
            raise ValueError(f"column names must be unique and not 'step': {columns!r}")
        self.columns = tuple(columns)
        self.capacity = capacity
        size = min(initial_rows, capacity)
        self._data = {name: np.empty(size) for name in ("step", *self.columns)}
        self._smoothing: dict[str, _Smoothing] = {}
        self._n = 0

    @classmethod
    def for_steps(cls, capacity: int = 200_000) -> History:
        """A History with one column per StepBatch series (see `STEP_COLUMNS`)."""
        return cls(STEP_COLUMNS, capacity)

    # -- reading -------------------------------------------------------------------

    def __len__(self) -> int:
        return self._n

    @property
    def x(self) -> np.ndarray:
        """The steps, float64 (float64 keeps pyqtgraph's clip-to-view search fast)."""
        return self._data["step"][: self._n]

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self.columns:
            raise KeyError(f"no column {name!r}; columns are {self.columns}")
        return self._data[name][: self._n]

    def rows_between(self, x_lo: float, x_hi: float) -> slice:
        """The rows whose step lies in [x_lo, x_hi] (binary search, no scan)."""
        x = self.x
        return slice(int(np.searchsorted(x, x_lo, "left")), int(np.searchsorted(x, x_hi, "right")))

    def smoothed(self, name: str, weight: float) -> np.ndarray:
        """Exponential moving average of a column: s = weight * s + (1 - weight) * value.

        weight 0 returns the column itself. Only rows appended since the last call are
        computed; a new weight recomputes once. Non-finite values (a diverged step) are
        skipped, so one NaN does not poison the rest of the curve.
        """
        if not 0.0 <= weight < 1.0:
            raise ValueError(f"smoothing weight must be in [0, 1), got {weight}")
        column = self[name]
        if weight == 0.0:
            return column
        state = self._smoothing.get(name)
        key = _ema_key(name)
        if state is None or state.weight != weight:
            state = self._smoothing[name] = _Smoothing(weight)
            self._data[key] = np.empty_like(self._data["step"])
        out = self._data[key]
        state.last = _ema_into(column, out, state.done, self._n, weight, state.last)
        state.done = self._n
        return out[: self._n]

    # -- writing -------------------------------------------------------------------

    def append_batch(self, batch: StepBatch) -> None:
        """Append the rows of a StepBatch (the fields named like this table's columns)."""
        self.append(batch.steps, {name: getattr(batch, name) for name in self.columns})

    def append(self, steps, values: Mapping[str, object]) -> None:
        """Append rows; `values` maps column names to arrays (or scalars) as long as `steps`.

        Missing columns get NaN. A batch whose first step is not after the last stored
        step (a run resumed from an earlier checkpoint) first drops the rows it replaces,
        so steps stay increasing.
        """
        steps = np.atleast_1d(np.asarray(steps, dtype=np.float64))
        unknown = set(values) - set(self.columns)
        if unknown:
            raise KeyError(f"unknown columns {sorted(unknown)}; columns are {self.columns}")
        if len(steps) == 0:
            return
        if self._n and steps[0] <= self._data["step"][self._n - 1]:
            self._truncate(int(np.searchsorted(self.x, steps[0], "left")))
        columns = {name: np.broadcast_to(np.asarray(values.get(name, np.nan), dtype=np.float64),
                                         steps.shape) for name in self.columns}
        chunk = self.capacity // 4  # small enough that thinning always makes room
        for start in range(0, len(steps), chunk):
            stop = start + chunk
            self._append_rows(steps[start:stop], {k: v[start:stop] for k, v in columns.items()})

    def clear(self) -> None:
        self._n = 0
        self._smoothing.clear()

    # -- storage -------------------------------------------------------------------

    def _append_rows(self, steps: np.ndarray, columns: dict[str, np.ndarray]) -> None:
        k = len(steps)
        while self._n + k > self.capacity:
            self._thin_oldest_half()
        if self._n + k > len(self._data["step"]):
            self._grow(self._n + k)
        rows = slice(self._n, self._n + k)
        self._data["step"][rows] = steps
        for name, values in columns.items():
            self._data[name][rows] = values
        self._n += k

    def _grow(self, needed: int) -> None:
        size = min(self.capacity, max(needed, 2 * len(self._data["step"])))
        for key, old in self._data.items():
            new = np.empty(size)
            new[: self._n] = old[: self._n]
            self._data[key] = new

    def _thin_oldest_half(self) -> None:
        self._catch_up_smoothing()  # smoothed columns are thinned like the others
        n, half = self._n, self._n // 2
        kept = (half + 1) // 2  # rows 0, 2, 4, ... of the oldest half: the first step stays
        for arr in self._data.values():
            arr[:kept] = arr[0:half:2]
            arr[kept: kept + n - half] = arr[half:n]
        self._n = kept + n - half
        for state in self._smoothing.values():
            state.done = self._n

    def _truncate(self, n: int) -> None:
        self._n = n
        for name, state in self._smoothing.items():
            state.done = min(state.done, n)
            state.last = self._data[_ema_key(name)][state.done - 1] if state.done else math.nan

    def _catch_up_smoothing(self) -> None:
        for name, state in list(self._smoothing.items()):
            self.smoothed(name, state.weight)


def _ema_key(name: str) -> str:
    return f"{name} (smoothed)"


def _ema_into(src: np.ndarray, dst: np.ndarray, start: int, stop: int,
              weight: float, last: float) -> float:
    """Fill dst[start:stop] with the EMA of src continuing from `last`; return the new last."""
    keep = 1.0 - weight
    out = []
    for value in src[start:stop].tolist():
        if math.isfinite(value):
            last = value if math.isnan(last) else weight * last + keep * value
        out.append(last)
    dst[start:stop] = out
    return last
