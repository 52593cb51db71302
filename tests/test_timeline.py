"""The timeline: snapshots every N steps of what the worker reported, within a memory budget."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gptviz.timeline import Snapshot, Timeline, nbytes_of


def rows(timeline, first, last):
    """Step rows first..last as the window passes them: loss = 1000 + step, lr = step / 1e4."""
    steps = np.arange(first, last + 1, dtype=np.float64)
    return timeline.add_steps(steps, {"loss": 1000 + steps, "lr": steps / 1e4}, elapsed=steps / 10)


def unique_bytes(timeline):
    parts = {id(p): p for snap in timeline for p in snap.parts.values()}
    return sum(nbytes_of(p.value) for p in parts.values())


def test_a_snapshot_every_n_steps_with_that_steps_metrics():
    t = Timeline(every=100)
    taken = rows(t, 1, 250) + rows(t, 251, 300)
    assert [s.step for s in taken] == t.steps == [100, 200, 300]
    assert t[1].metrics == {"loss": 1200.0, "lr": 0.02} and t[1].elapsed == 20.0
    t.every = 40  # a new cadence applies from the next rows on
    rows(t, 301, 400)
    assert t.steps == [100, 200, 300, 320, 360, 400]
    t.every = 0  # off
    assert rows(t, 401, 1000) == [] and len(t) == 6


def test_lookup_at_or_before_and_nearest():
    t = Timeline(every=10)
    rows(t, 1, 50)
    assert t.at(9) is None and t.at(10).step == 10 and t.at(29.9).step == 20 and t.at(10**6).step == 50
    assert t.nearest(-5).step == 10 and t.nearest(24).step == 20 and t.nearest(26).step == 30
    assert t.nearest(25).step == 20  # a tie goes to the earlier
    assert t.nearest(999).step == 50 and Timeline().nearest(3) is None
    assert t.index(t[2]) == 2 and t.index(Snapshot(30, {})) is None


def test_each_snapshot_holds_the_newest_part_of_each_kind_at_or_before_its_step():
    t = Timeline(every=10)
    t.record("attention", 0, "maps@0")
    t.record("diagnostics", 10, "diag@10")  # sent before the batch that ends at step 10
    rows(t, 1, 12)  # the snapshot at 10 takes diag@10
    t.record("attention", 10, "maps@10")  # arrived after that batch: goes into the snapshot at 10
    t.record("diagnostics", 20, "diag@20")  # after step 12: not for the snapshot at 10
    rows(t, 13, 30)
    t.record("sample", 30, {"text": "abc"})
    assert t.at(10).part("diagnostics") == "diag@10" and t.at(10).part("attention") == "maps@10"
    assert t.at(20).part("diagnostics") == "diag@20" and t.at(20).part("attention") == "maps@10"
    assert t.at(20).part("sample") is None and t.at(30).part("sample") == {"text": "abc"}
    assert t.at(30).part_step("diagnostics") == 20 and t.at(30).part_step("eval") is None


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 25), st.integers(1, 200), st.lists(st.booleans(), min_size=200, max_size=200),
       st.lists(st.booleans(), min_size=200, max_size=200))
def test_restores_the_right_step_however_the_reports_are_batched(every, last, flushes, attention_skipped):
    """Reports come in the worker's order (training_worker.py): diagnostics of a step before the
    step rows that hold it, attention maps after a flush at that step may have happened, evaluations
    and samples after a flush; step rows in batches of any length."""
    t, recorded = Timeline(every=every), {}

    def record(kind, step):
        recorded.setdefault(kind, []).append(step)
        t.record(kind, step, f"{kind}@{step}")

    pending = []

    def flush():
        if pending:
            rows(t, pending[0], pending[-1])
            pending.clear()

    record("eval", 0)
    record("attention", 0)
    for step in range(1, last + 1):
        pending.append(step)
        if step % 10 == 0:
            record("diagnostics", step)
        if flushes[step - 1]:
            flush()
        if step % 7 == 0 and not attention_skipped[step - 1]:
            record("attention", step)
        if step % 30 == 0:
            flush()
            record("eval", step)
        if step % 45 == 0:
            flush()
            record("sample", step)
    flush()
    assert t.steps == list(range(every, last + 1, every))
    for snap in t:
        assert snap.metrics["loss"] == 1000 + snap.step
        for kind, steps in recorded.items():
            newest = max((s for s in steps if s <= snap.step), default=None)
            assert snap.part_step(kind) == newest
            assert snap.part(kind) == (None if newest is None else f"{kind}@{newest}")


def test_the_memory_budget_holds_over_10k_snapshots_thinning_the_old_and_keeping_the_recent_dense():
    budget = 1_000_000
    t = Timeline(every=1, budget=budget)
    for step in range(1, 10_001):
        t.record("diagnostics", step, np.full(2500, step, dtype=np.float32))  # 10 kB each
        rows(t, step, step)
        assert t.nbytes <= budget
    steps = t.steps
    assert 40 <= len(t) <= 100  # ~10 kB a snapshot: the budget is used, not wasted
    assert steps[0] == 1 and steps[-1] == 10_000  # the first and the newest stay
    assert steps[-10:] == list(range(9_991, 10_001))  # the recent past at full resolution
    gaps = np.diff(steps)
    assert np.all(gaps[:-1] >= gaps[1:])  # coarser the further back
    assert sum(s <= 5_000 for s in steps) >= 5 and gaps.max() <= 1_500  # the whole run, no big hole
    assert unique_bytes(t) <= t.nbytes <= unique_bytes(t) + 1_000 * len(t)
    for snap in t:  # what is kept is still each step's own data
        assert snap.part("diagnostics")[0] == snap.step


def test_shared_parts_are_counted_once_and_freed_with_the_last_snapshot_holding_them():
    t = Timeline(every=1)
    maps = np.zeros(100_000, dtype=np.float32)  # 400 kB, e.g. attention maps refreshed rarely
    t.record("attention", 0, maps)
    rows(t, 1, 50)
    assert len(t) == 50 and all(snap.part("attention") is maps for snap in t)
    assert unique_bytes(t) == nbytes_of(maps) and 400_000 < t.nbytes < 420_000
    t.truncate(1)
    assert len(t) == 0 and t.nbytes == 0


def test_the_newest_snapshot_stays_even_alone_over_budget():
    t = Timeline(every=1, budget=10_000)
    for step in (1, 2, 3):
        t.record("attention", step, np.zeros(5_000, dtype=np.float32))  # 20 kB
        rows(t, step, step)
        assert t.steps == [step]


def test_rows_going_back_drop_the_later_snapshots_and_parts():
    t = Timeline(every=10)
    t.record("diagnostics", 30, "diag@30")
    rows(t, 1, 40)
    rows(t, 21, 30)  # resumed from a checkpoint at step 20
    assert t.steps == [10, 20, 30] and t.at(30).part("diagnostics") is None
    assert t.at(30).metrics["loss"] == 1030


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="cadence"):
        Timeline(every=-1)
    with pytest.raises(ValueError, match="cadence"):
        Timeline(every=2.5)
    with pytest.raises(ValueError, match="budget"):
        Timeline(budget=0)
    t = Timeline(every=10)
    rows(t, 1, 20)
    with pytest.raises(ValueError, match="not after"):
        t.add(Snapshot(20, {}))
