"""The training worker on a real QThread, observed through its signals."""

import time

import numpy as np
import pytest
from PySide6.QtCore import QObject, Slot

from gptviz.config import preset
from gptviz.gui.payloads import Diagnostics, StepBatch
from gptviz.gui.run_thread import RunThread
from gptviz.trainer import Trainer


class Recorder(QObject):
    """Lives in the GUI thread, so the worker's signals arrive queued, as in the window."""

    def __init__(self):
        super().__init__()
        self.batches, self.evals, self.diags, self.states, self.errors = [], [], [], [], []
        self.batch_times = []

    @Slot(object)
    def on_batch(self, b):
        self.batches.append(b)
        self.batch_times.append(time.monotonic())

    @Slot(object)
    def on_eval(self, e):
        self.evals.append(e)

    @Slot(object)
    def on_diag(self, d):
        self.diags.append(d)

    @Slot(str)
    def on_state(self, s):
        self.states.append(s)

    @Slot(str)
    def on_error(self, m):
        self.errors.append(m)

    def steps(self):
        return [int(s) for b in self.batches for s in b.steps]


@pytest.fixture
def run(qtbot, small_corpus):
    runs = []

    def make(**changes):
        config = preset("tiny", max_iters=100000, eval_interval=100000, **changes)
        r = RunThread(lambda: Trainer(config, small_corpus), diagnostics_every=5)
        rec = Recorder()
        w = r.worker
        w.stepsReady.connect(rec.on_batch)
        w.evalReady.connect(rec.on_eval)
        w.diagnosticsReady.connect(rec.on_diag)
        w.stateChanged.connect(rec.on_state)
        w.failed.connect(rec.on_error)
        runs.append(r)
        return r, rec

    yield make
    for r in runs:
        assert r.shutdown(10_000)


def train_then_pause(r, rec, qtbot, steps: int, timeout: int = 30_000) -> None:
    """Start the run, let it make at least `steps` steps, pause it and wait until it has."""
    r.start()
    qtbot.waitUntil(lambda: len(rec.steps()) >= steps, timeout=timeout)
    r.worker.pause()
    qtbot.waitUntil(lambda: rec.states[-1:] == ["paused"], timeout=5_000)


def test_steps_arrive_coalesced_complete_and_as_copies(run, qtbot):
    r, rec = run()
    train_then_pause(r, rec, qtbot, 150, timeout=60_000)  # tiny steps: ~3 ms when idle
    steps = rec.steps()
    assert steps == list(range(1, len(steps) + 1))  # every step, in order, once
    span = rec.batch_times[-1] - rec.batch_times[0]
    assert len(rec.batches) <= span * 35 + 3  # about display rate (30/s) ...
    if len(steps) > span * 40:  # steps came faster than display rate (not on an overloaded machine)
        assert len(rec.batches) < len(steps) / 2  # ... so many steps share a signal
    b = rec.batches[0]
    assert isinstance(b, StepBatch) and b.loss.dtype == np.float64
    assert rec.evals and rec.evals[0].step == 0  # the initial evaluation
    d = rec.diags[0]
    assert isinstance(d, Diagnostics) and d.step % 5 == 0
    assert all(isinstance(v, float) for v in d.grad_norms.values())
    assert all(isinstance(h.counts, np.ndarray) for h in d.histograms.values())


def test_slow_steps_get_their_diagnostics_sooner_than_every_n_steps(run, qtbot, monkeypatch):
    """A step expected to end DIAGNOSTICS_AT_LEAST_EVERY seconds of training after the last
    diagnostics gets them whatever its number (here the limit is 0 s: every step once the
    first has shown how long a step takes; the fixture's cadence alone is every 5 steps)."""
    from gptviz.gui import worker
    monkeypatch.setattr(worker, "DIAGNOSTICS_AT_LEAST_EVERY", 0.0)
    r, rec = run()
    train_then_pause(r, rec, qtbot, 12)
    last = r.trainer.step_count
    qtbot.waitUntil(lambda: len(rec.diags) == last - 1, timeout=5_000)
    assert [d.step for d in rec.diags] == list(range(2, last + 1))


def test_diagnostics_keep_to_their_share_of_training_time(run, qtbot):
    """With no step cadence to hold them back, diagnostics come as often as their measured
    cost allows: a diagnostics step costs a `tiny` step about its own length again, so at
    5 % of the training time they come every ~25 steps; with no budget, on every step."""
    r, rec = run()
    r.worker.diagnostics_every, r.worker.diagnostics_budget = 1, 0.05
    train_then_pause(r, rec, qtbot, 200, timeout=60_000)
    n = r.trainer.step_count
    qtbot.waitUntil(lambda: rec.diags and rec.diags[-1].step > n - 60, timeout=5_000)
    gaps = np.diff([d.step for d in rec.diags])
    assert len(rec.diags) < n / 4 and gaps.max() >= 5
    r.worker.diagnostics_budget = 0.0  # (read before each step)
    r.worker.resume()
    qtbot.waitUntil(lambda: len(rec.steps()) >= n + 20, timeout=30_000)
    r.worker.pause()
    qtbot.waitUntil(lambda: rec.states[-1:] == ["paused"], timeout=5_000)
    m = r.trainer.step_count
    qtbot.waitUntil(lambda: rec.diags[-1].step == m, timeout=5_000)
    assert [d.step for d in rec.diags if d.step > n] == list(range(n + 1, m + 1))


def test_pause_step_stop(run, qtbot):
    r, rec = run()
    train_then_pause(r, rec, qtbot, 20)
    n = r.trainer.step_count
    qtbot.wait(300)
    assert r.trainer.step_count == n
    for _ in range(3):
        r.worker.step_once()
    qtbot.waitUntil(lambda: len(rec.steps()) == n + 3, timeout=5_000)
    assert r.trainer.step_count == n + 3
    qtbot.waitUntil(lambda: rec.diags[-1].step == n + 3, timeout=5_000)
    assert [d.step for d in rec.diags][-3:] == [n + 1, n + 2, n + 3]  # a step by hand shows its own
    t0 = time.monotonic()
    assert r.shutdown(5_000)
    assert time.monotonic() - t0 < 2.0  # one tiny step at most, on a busy machine
    qtbot.waitUntil(lambda: rec.states[-1:] == ["stopped"], timeout=5_000)


def test_runs_to_max_iters_then_reports_finished(qtbot, small_corpus):
    r = RunThread(lambda: Trainer(preset("tiny", max_iters=30, eval_interval=10), small_corpus))
    rec = Recorder()
    r.worker.stepsReady.connect(rec.on_batch)
    r.worker.evalReady.connect(rec.on_eval)
    r.worker.stateChanged.connect(rec.on_state)
    r.start()
    qtbot.waitUntil(lambda: "finished" in rec.states, timeout=30_000)
    assert rec.steps() == list(range(1, 31))
    assert [e.step for e in rec.evals] == [0, 10, 20, 30]
    assert r.shutdown(5_000)


def test_non_finite_loss_pauses_and_reports(run, qtbot):
    r, rec = run(lr=1000.0, min_lr=1.0)
    r.start()
    qtbot.waitUntil(lambda: bool(rec.errors), timeout=30_000)
    assert "non-finite" in rec.errors[0]
    qtbot.waitUntil(lambda: rec.states[-1:] == ["paused"], timeout=5_000)
    assert rec.steps()[-1] == r.trainer.step_count


def test_evaluation_gives_way_to_pause(qtbot, small_corpus):
    config = preset("tiny", max_iters=100000, eval_iters=100000)  # a very long evaluation
    r = RunThread(lambda: Trainer(config, small_corpus))
    rec = Recorder()
    r.worker.stateChanged.connect(rec.on_state)
    r.worker.evalReady.connect(rec.on_eval)
    r.start()
    qtbot.waitUntil(lambda: rec.states == ["running"], timeout=10_000)  # built; evaluation begins
    qtbot.wait(200)
    t0 = time.monotonic()
    r.worker.pause()
    qtbot.waitUntil(lambda: rec.states[-1:] == ["paused"], timeout=5_000)
    assert time.monotonic() - t0 < 1.0  # 100000 batches would take minutes
    assert r.trainer.step_count == 0
    assert rec.evals == []  # the interrupted evaluation reported nothing
    assert r.shutdown(5_000)


def test_save_failure_is_reported_not_raised(run, qtbot, tmp_path):
    r, rec = run()
    r.start()
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r.worker.request_save(str(blocker / "sub"))  # a path under a regular file
    qtbot.waitUntil(lambda: bool(rec.errors), timeout=5_000)
    assert "could not save" in rec.errors[0]
    qtbot.waitUntil(lambda: len(rec.steps()) > 10, timeout=10_000)  # training goes on


def test_starting_a_run_moves_garbage_collection_to_the_gui_thread(qtbot, small_corpus, monkeypatch):
    """Automatic collection on the training thread could destroy Qt objects there and
    deadlock with the GUI thread (seen: a loader thread's gc destroying a closed window)."""
    import gc

    from gptviz.gui import gc_policy
    monkeypatch.setattr(gc_policy, "_collector", None)
    gc.enable()
    try:
        r = RunThread(lambda: Trainer(preset("tiny", max_iters=5), small_corpus))
        assert not gc.isenabled() and gc_policy._collector is not None
        r.start()
        assert r.shutdown(10_000)
    finally:
        gc.disable()


def test_the_trainer_is_built_on_the_worker_thread(qtbot, small_corpus):
    """The GUI thread must not run torch's parallel ops (it halves training speed on
    another thread): the model is built where it is trained."""
    import threading
    built_on = []

    def make():
        built_on.append(threading.get_ident())
        return Trainer(preset("tiny", max_iters=3), small_corpus)

    r = RunThread(make)
    r.start()
    qtbot.waitUntil(lambda: r.trainer is not None and r.trainer.done, timeout=10_000)
    assert built_on and built_on[0] != threading.get_ident()
    assert r.shutdown(5_000)


def test_a_trainer_that_cannot_be_built_is_reported(qtbot, small_corpus):
    from gptviz.corpus import CorpusError

    def make():
        raise CorpusError("tiny.txt: the val split has 3 characters")

    r = RunThread(make)
    rec = Recorder()
    r.worker.failed.connect(rec.on_error)
    r.worker.stateChanged.connect(rec.on_state)
    r.start()
    qtbot.waitUntil(lambda: rec.states[-1:] == ["stopped"], timeout=5_000)
    assert "cannot start: tiny.txt" in rec.errors[0]
    assert r.shutdown(5_000)


class WatchRecorder(Trainer):
    """Records whether each step was watched for Pause/Stop; pretends step 3 took 150 ms."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.watched = []

    def step(self, diagnostics=False, should_stop=None):
        self.watched.append(should_stop is not None)
        m = super().step(diagnostics=diagnostics, should_stop=should_stop)
        if m.step == 3:
            m.dt = 0.15
        return m


def test_only_steps_that_may_be_long_are_watched_from_inside(qtbot, small_corpus):
    """Watching costs ~1% of a step; a step under 100 ms ends soon enough for Pause anyway.
    (That a watched long step gives way to Pause and Stop: test_main_window.)"""
    config = preset("tiny", max_iters=100000, eval_interval=100000)
    r = RunThread(lambda: WatchRecorder(config, small_corpus))
    r.start()
    qtbot.waitUntil(lambda: r.trainer is not None and len(r.trainer.watched) >= 6, timeout=30_000)
    assert r.shutdown(10_000)
    # the first (length unknown), then fast ones not, then the one after the 150 ms step
    assert r.trainer.watched[:6] == [True, False, False, True, False, False]
