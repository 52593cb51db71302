"""Snapshots of a run every N steps, kept within a memory budget, to look back at any of them.

Every `every` steps the timeline keeps a `Snapshot`: that step's metrics (loss, lr, grad
norm, ... from the step rows) and the newest *part* of each kind received by then — e.g.
the latest evaluation, diagnostics (gradient histograms, update:data ratios, per-layer
norms, activation statistics), attention maps and finished sample. Parts are whatever
objects the caller records (the window records the payloads its training worker already
sends: detached numpy copies, never changed afterwards), so a snapshot costs references,
not copies, and several snapshots may share one part (attention maps refreshed every 100
steps appear in every snapshot in between); shared parts are counted once in `nbytes`.

Order of arrival: a part may arrive just after the step rows that reach its step (the
worker sends step rows in coalesced batches, and an evaluation or the attention maps of
step N right after the batch ending at N). A part recorded for step s therefore also goes
into the snapshots already taken at steps >= s whose part of that kind is older, and a
snapshot taken at step m never gets a part of a later step, even one recorded earlier.

Memory: when the snapshots together exceed `budget` bytes, snapshots are let go one at a
time, each time the one whose neighbours are closest together relative to its age (the
first and the newest stay): spacing grows about geometrically with age, so the recent past
stays dense and the whole run stays covered, coarser the further back. (Halving the older
half again and again, as the plots' history does, would keep the first snapshot and then
only the last few hundred steps.) The newest snapshot is always kept, even if it alone is
over budget.

Plain Python and numpy; no Qt.
"""

from __future__ import annotations

import bisect
import dataclasses
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

DEFAULT_EVERY = 100  # steps between snapshots
DEFAULT_BUDGET = 128 * 1024 * 1024  # bytes for all the snapshots' parts together
_SNAPSHOT_OVERHEAD = 256  # bytes of bookkeeping counted per snapshot besides its parts


@dataclass(frozen=True, eq=False)
class Part:
    """One recorded object and the step it describes."""
    step: int
    value: object


@dataclass
class Snapshot:
    """What the run looked like at `step`: its metrics and the newest part of each kind."""
    step: int
    metrics: dict[str, float]
    elapsed: float | None = None  # the run's clock at this step (seconds training), if known
    parts: dict[str, Part] = field(default_factory=dict)

    def part(self, kind: str):
        """The newest `kind` object recorded at or before this step, or None."""
        p = self.parts.get(kind)
        return None if p is None else p.value

    def part_step(self, kind: str) -> int | None:
        p = self.parts.get(kind)
        return None if p is None else p.step

    @property
    def nbytes(self) -> int:
        """Bytes of this snapshot alone (its parts counted in full, shared or not)."""
        return _SNAPSHOT_OVERHEAD + sum(nbytes_of(p.value) for p in self.parts.values())


class Timeline:
    """Snapshots in increasing step order, one every `every` steps (0: none taken)."""

    def __init__(self, every: int = DEFAULT_EVERY, budget: int = DEFAULT_BUDGET):
        self.every = every
        if not isinstance(budget, int) or budget <= 0:
            raise ValueError(f"the timeline's memory budget must be a positive number of bytes, "
                             f"got {budget!r}")
        self.budget = budget
        self._snapshots: list[Snapshot] = []
        self._steps: list[int] = []  # the snapshots' steps, for bisect
        self._pending: dict[str, list[Part]] = {}  # per kind, newest last, for snapshots to come
        self._refs: dict[int, list] = {}  # id(Part) -> [snapshots holding it, its bytes]
        # (bytes are measured when a part first enters a snapshot: most never do)
        self._nbytes = 0
        self._last_step: int | None = None  # the last step row seen

    # -- settings ------------------------------------------------------------------------------
    @property
    def every(self) -> int:
        return self._every

    @every.setter
    def every(self, value: int) -> None:
        """A new cadence applies from the next snapshot on (parts recorded just before the
        change were kept for the old one, so the first new snapshot may hold an older part)."""
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"snapshot cadence must be a whole number of steps >= 0, got {value!r}")
        self._every = int(value)

    # -- reading -------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._snapshots)

    def __getitem__(self, i: int) -> Snapshot:
        return self._snapshots[i]

    def __iter__(self):
        return iter(list(self._snapshots))

    @property
    def steps(self) -> list[int]:
        return list(self._steps)

    @property
    def nbytes(self) -> int:
        """Bytes held by the snapshots: each shared part once, plus a little per snapshot."""
        return self._nbytes + _SNAPSHOT_OVERHEAD * len(self._snapshots)

    def at(self, step: float) -> Snapshot | None:
        """The snapshot at `step` or the last one before it; None if all are later."""
        i = bisect.bisect_right(self._steps, step) - 1
        return self._snapshots[i] if i >= 0 else None

    def nearest(self, step: float) -> Snapshot | None:
        """The snapshot closest to `step` (the earlier one on a tie); None when empty."""
        if not self._steps:
            return None
        i = bisect.bisect_left(self._steps, step)
        if i == len(self._steps):
            return self._snapshots[-1]
        if i > 0 and step - self._steps[i - 1] <= self._steps[i] - step:
            return self._snapshots[i - 1]
        return self._snapshots[i]

    def index(self, snapshot: Snapshot) -> int | None:
        """Where a snapshot is kept, or None once it has been thinned away."""
        i = bisect.bisect_left(self._steps, snapshot.step)
        return i if i < len(self._snapshots) and self._snapshots[i] is snapshot else None

    # -- recording -----------------------------------------------------------------------------
    def record(self, kind: str, step: int, value) -> list[Snapshot]:
        """The newest `kind` object, describing `step`. Returns the snapshots already taken
        that now hold it (those at steps >= `step` whose part of that kind was older)."""
        part = Part(int(step), value)
        pending = self._pending.setdefault(kind, [])
        while pending and pending[-1].step >= part.step:
            pending.pop()  # a newer object for the same step (or a run gone back): replace it
        if pending and (self._every == 0 or not self._multiple_between(pending[-1].step, part.step)):
            pending.pop()  # no snapshot step lies between them: only the newer can be needed
        pending.append(part)
        changed = []
        for snap in reversed(self._snapshots):
            if snap.step < part.step:
                break
            old = snap.parts.get(kind)
            if old is None or old.step <= part.step:
                self._put(snap, kind, part)
                changed.append(snap)
        if changed:
            self._keep_within_budget()
        return changed

    def add_steps(self, steps, metrics: Mapping[str, object], elapsed=None) -> list[Snapshot]:
        """Step rows (e.g. a coalesced batch): a snapshot at each step that is a multiple of
        `every`, with that row's metrics. Returns the snapshots taken.

        Rows going back to a step already seen (a run resumed from an earlier checkpoint)
        first drop the snapshots from that step on.
        """
        steps = np.atleast_1d(np.asarray(steps))
        if not len(steps):
            return []
        def column(values):
            return np.broadcast_to(np.asarray(values, dtype=np.float64), steps.shape)
        columns = {name: column(v) for name, v in metrics.items()}
        times = None if elapsed is None else column(elapsed)
        if self._last_step is not None and steps[0] <= self._last_step:
            self.truncate(int(steps[0]))
        self._last_step = int(steps[-1])
        if self._every == 0:
            return []
        taken = []
        for i in np.flatnonzero(steps % self._every == 0):
            step = int(steps[i])
            snap = Snapshot(step, {name: float(col[i]) for name, col in columns.items()},
                            None if times is None else float(times[i]))
            for kind, pending in self._pending.items():
                part = _newest_at(pending, step)
                if part is not None:
                    snap.parts[kind] = part
            self.add(snap)
            taken.append(snap)
        return taken

    def add(self, snapshot: Snapshot) -> None:
        """Keep a snapshot made elsewhere; its step must be after the last one kept."""
        if self._steps and snapshot.step <= self._steps[-1]:
            raise ValueError(f"snapshot at step {snapshot.step} is not after the last one "
                             f"(step {self._steps[-1]})")
        for part in snapshot.parts.values():
            self._ref(part)
        self._snapshots.append(snapshot)
        self._steps.append(snapshot.step)
        self._forget_pending_before(snapshot.step)
        self._keep_within_budget()

    def truncate(self, step: int) -> None:
        """Forget the snapshots and parts from `step` on."""
        i = bisect.bisect_left(self._steps, step)
        for snap in self._snapshots[i:]:
            self._drop(snap)
        del self._snapshots[i:], self._steps[i:]
        for pending in self._pending.values():
            pending[:] = [p for p in pending if p.step < step]
        if self._last_step is not None:
            self._last_step = min(self._last_step, step - 1)

    def clear(self) -> None:
        self._snapshots.clear()
        self._steps.clear()
        self._pending.clear()
        self._refs.clear()
        self._nbytes = 0
        self._last_step = None

    # -- storage -------------------------------------------------------------------------------
    def _multiple_between(self, lo: int, hi: int) -> bool:
        """Whether a snapshot step (a multiple of `every`) lies in [lo, hi)."""
        return -(-lo // self._every) * self._every < hi

    def _forget_pending_before(self, step: int) -> None:
        """Parts older than the newest one at or before `step` are needed by no later snapshot."""
        for pending in self._pending.values():
            keep = bisect.bisect_right([p.step for p in pending], step) - 1
            if keep > 0:
                del pending[:keep]

    def _put(self, snap: Snapshot, kind: str, part: Part) -> None:
        old = snap.parts.get(kind)
        self._ref(part)
        snap.parts[kind] = part
        if old is not None:
            self._unref(old)

    def _ref(self, part: Part) -> None:
        entry = self._refs.get(id(part))
        if entry is None:
            nbytes = nbytes_of(part.value)
            self._refs[id(part)] = [1, nbytes]
            self._nbytes += nbytes
        else:
            entry[0] += 1

    def _unref(self, part: Part) -> None:
        entry = self._refs[id(part)]
        entry[0] -= 1
        if entry[0] == 0:
            del self._refs[id(part)]
            self._nbytes -= entry[1]

    def _drop(self, snap: Snapshot) -> None:
        for part in snap.parts.values():
            self._unref(part)

    def _keep_within_budget(self) -> None:
        while self.nbytes > self.budget and len(self._snapshots) > 1:
            self._drop_at(self._least_missed())

    def _least_missed(self) -> int:
        """The snapshot to let go: of those between the first and the newest, the one whose
        neighbours are closest together relative to how long ago it was. Spacing thus grows
        with age (about geometrically): the recent past dense, the whole run still covered."""
        steps = np.asarray(self._steps, dtype=np.float64)
        if len(steps) <= 2:
            return 0
        merged_gap = steps[2:] - steps[:-2]
        age = steps[-1] - steps[1:-1]
        return 1 + int(np.argmin(merged_gap / age))

    def _drop_at(self, i: int) -> None:
        self._drop(self._snapshots[i])
        del self._snapshots[i], self._steps[i]


def _newest_at(parts: list[Part], step: int) -> Part | None:
    """The newest of `parts` (in step order) at or before `step`."""
    for part in reversed(parts):
        if part.step <= step:
            return part
    return None


def nbytes_of(value, _seen: set[int] | None = None) -> int:
    """Approximate bytes held by a value: numpy arrays' buffers, strings, and the containers
    and dataclasses around them (each object counted once)."""
    seen = set() if _seen is None else _seen
    if id(value) in seen:
        return 0
    seen.add(id(value))
    if isinstance(value, np.ndarray):
        return value.nbytes + 112
    if isinstance(value, (str, bytes, int, float, bool)) or value is None:
        return sys.getsizeof(value)
    if isinstance(value, Mapping):
        return sys.getsizeof(value) + sum(nbytes_of(k, seen) + nbytes_of(v, seen) for k, v in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return sys.getsizeof(value) + sum(nbytes_of(v, seen) for v in value)
    if dataclasses.is_dataclass(value):
        return 64 + sum(nbytes_of(getattr(value, f.name), seen) for f in dataclasses.fields(value))
    return sys.getsizeof(value)
