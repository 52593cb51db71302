"""The window's lifecycle: many runs started and stopped in a row, and the window closed in
every state a run can be in — starting, training, evaluating, sampling, saving, paused with
a step under way — and while the default corpus downloads. Each must end promptly with
no thread left running, no file left open or half-written, and no Qt warning about threads.

What is checked after each (`Leftovers`): the window's QThreads have finished; no Python
thread started during the test is alive; no Qt message mentions threads or timers (as
captured by pytest-qt, which does not capture under `-s`; Qt's "QThread: Destroyed while
thread is still running" aborts the process outright, so it would end the run, not just
fail it); no ResourceWarning for an unclosed file; no temp file (*.tmp, *.part) left in
the runs or cache folder. On Linux (where CI runs) also the
process's open file descriptors and OS threads, read from /proc/self: no file under the
test's folders is open, the training thread ("gptviz-training") is gone, and the counts
are back where they started. /proc is Linux's, so those checks are Linux-only.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import threading
import time
import warnings
from collections import Counter
from pathlib import Path

import pytest
from PySide6.QtCore import QtMsgType

from gptviz import batch_shards

from .window_helpers import LONG, button, click, pause, stream_a_long_sample

PROC = Path("/proc/self")
LINUX = sys.platform.startswith("linux") and PROC.is_dir()  # /proc/self/{fd,task}: Linux only
CLOSE_BOUND = 2.0  # seconds from close() to the window closed, every thread ended
TRAINING_THREAD = "gptviz-training"  # RunThread's QThread name, which Qt gives the OS thread
# Qt's GUI thread pool (painting, image conversion): its idle threads, each with an eventfd,
# stay for 30 s after their last use (measured here), unreachable from Python. Allowed.
POOLED, EVENTFD = "Thread (pooled)", "anon_inode:[eventfd]"
# Training's helper threads (batch_shards.py) are made on a run's first step and kept, idle,
# for the life of the process. Allowed, up to their number.
SHARD_HELPER, SHARD_HELPERS = batch_shards.THREAD_NAME, batch_shards.MAX_SHARDS - 1


# -- what a test may leave behind ----------------------------------------------------------------
def os_threads() -> list[str]:
    """The names of this process's OS threads (Linux)."""
    names = []
    for task in (PROC / "task").iterdir():
        try:
            names.append((task / "comm").read_text().strip())
        except OSError:
            pass  # ended while listed
    return names


def open_files() -> list[str]:
    """What this process's file descriptors point to (Linux)."""
    targets = []
    for fd in (PROC / "fd").iterdir():
        try:
            targets.append(os.readlink(fd))
        except OSError:
            pass  # the descriptor listdir itself used, now closed
    return targets


def python_threads() -> set[int]:
    """Threads started by Python code (Qt's own threads appear as 'Dummy-N' once Python runs
    on them; they are checked through /proc and the QThread objects instead)."""
    return {t.ident for t in threading.enumerate() if not t.name.startswith("Dummy-")}


def settle(condition, seconds: float = 2.0) -> None:
    """Wait (without handling events) until condition() holds or the time is up."""
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)


class Leftovers:
    """A snapshot of threads and open files, and the checks that nothing was added to it."""

    def __init__(self, folders: list[Path], qtlog):
        self.folders = folders
        self.qtlog = qtlog
        self.python = python_threads()
        self.os = os_threads() if LINUX else []
        self.fds = open_files() if LINUX else []
        self._recording = warnings.catch_warnings(record=True)
        self.caught = self._recording.__enter__()
        warnings.simplefilter("always", ResourceWarning)

    def stop_recording(self) -> None:
        if self._recording is not None:
            self._recording.__exit__(None, None, None)
            self._recording = None

    def new_os_threads(self) -> Counter:
        return Counter(os_threads()) - Counter(self.os)

    def assert_none(self, *qthreads) -> None:
        """Nothing added since the snapshot; qthreads (the window's) have finished."""
        gc.collect()  # unclosed files warn when collected
        self.stop_recording()
        for t in qthreads:
            assert t.isFinished() and not t.isRunning()
        settle(lambda: not python_threads() - self.python)  # a thread may be returning from run()
        left = [t.name for t in threading.enumerate() if t.ident in python_threads() - self.python
                and not t.name.startswith(SHARD_HELPER)]
        assert len([t for t in threading.enumerate() if t.name.startswith(SHARD_HELPER)]) <= SHARD_HELPERS
        assert left == [], f"Python threads left running: {left}"
        resource = [str(w.message) for w in self.caught if issubclass(w.category, ResourceWarning)]
        assert resource == [], resource
        thread_messages = [r.message for r in self.qtlog.records
                           if r.type != QtMsgType.QtDebugMsg and
                           ("thread" in r.message.lower() or "timer" in r.message.lower())]
        assert thread_messages == [], thread_messages
        temp = [p for folder in self.folders for p in folder.rglob("*") if p.suffix in (".tmp", ".part")]
        assert temp == [], f"temp files left: {temp}"
        if LINUX:
            assert TRAINING_THREAD not in os_threads()
            under = [f for f in open_files() if any(f.startswith(str(d)) for d in self.folders)]
            assert under == [], f"files left open: {under}"
            # an ended thread leaves /proc soon after
            settle(lambda: set(self.new_os_threads()) <= {POOLED, SHARD_HELPER})
            new = self.new_os_threads()
            pooled = new.pop(POOLED, 0)
            assert new.pop(SHARD_HELPER, 0) <= SHARD_HELPERS
            assert not new, f"more OS threads: {dict(new)}"
            added = Counter(open_files()) - Counter(self.fds)
            eventfds = added.pop(EVENTFD, 0)
            assert not added and eventfds <= pooled, f"more open: {dict(added)}, {eventfds} eventfds"


@pytest.fixture
def leftovers(tmp_path, qtlog):
    """The test's folder (runs, settings) and the download cache (tests/conftest.py)."""
    leftovers = Leftovers([tmp_path, Path(os.environ["GPTVIZ_CACHE_DIR"])], qtlog)
    yield leftovers
    leftovers.stop_recording()  # if the test failed before assert_none


def wait_stopped(qtbot, w) -> None:
    """The run's thread has ended and the window has handled its `finished` signal."""
    qtbot.waitUntil(lambda: w.run is None, timeout=5_000)
    assert w.state == "stopped" and button(w, "trainButton").isEnabled()


def timed_close(w) -> float:
    t0 = time.monotonic()
    assert w.close()
    took = time.monotonic() - t0
    assert not w.isVisible()
    return took


# -- many runs in a row --------------------------------------------------------------------------
def alive_runs(qtbot) -> dict[str, int]:
    """How many Trainers, workers and RunThreads are still alive, once the runs deleted later
    are deleted and a round of collection has run."""
    from gptviz.gui.run_thread import RunThread
    from gptviz.gui.worker import TrainingWorker
    from gptviz.trainer import Trainer
    qtbot.wait(50)  # deleteLater's deferred deletes
    gc.collect()
    return {kind.__name__: sum(type(o) is kind for o in gc.get_objects())
            for kind in (Trainer, TrainingWorker, RunThread)}


def test_fifty_starts_and_stops_in_a_row_leave_nothing_behind(make_window, qtbot, leftovers):
    w = make_window()
    threads = []
    t0 = time.monotonic()
    for i in range(50):
        click(qtbot, w, "trainButton")
        threads.append(w.run.thread)
        if i % 2:  # half stopped at once (while the model is built), half after a step
            qtbot.waitUntil(lambda: w.last_step >= 1, timeout=10_000)
        click(qtbot, w, "stopButton")
        wait_stopped(qtbot, w)
    print(f"50 starts and stops: {time.monotonic() - t0:.1f} s")
    assert alive_runs(qtbot) == {"Trainer": 1, "TrainingWorker": 0, "RunThread": 0}  # the last, for Save
    took = timed_close(w)
    assert took < CLOSE_BOUND
    leftovers.assert_none(*threads)


def test_a_run_started_before_the_last_ones_end_was_handled_is_not_leaked(make_window, qtbot):
    """Start between the training thread's end and the window handling its `finished`
    signal (queued) replaced the run, and the ended RunThread — with its Trainer, model and
    optimizer — stayed a child of the window until it closed (seen 2 times in 30 quick
    Stop/Start pairs). RunThread.shutdown() waits for the thread without handling events,
    which makes that moment certain here."""
    w = make_window()
    for _ in range(5):
        w.start()
        qtbot.waitUntil(lambda: w.last_step >= 1, timeout=10_000)
        assert w.run.shutdown(5_000) and not w.active()
        ended = w.run
        w.start()  # what Start does once the controls show no run in progress
        assert w.run is not ended and w.active()
        del ended
        qtbot.waitUntil(lambda: w.last_step >= 1, timeout=10_000)
        w.stop()
        wait_stopped(qtbot, w)
    assert alive_runs(qtbot) == {"Trainer": 1, "TrainingWorker": 0, "RunThread": 0}


# -- closing the window whatever the run is doing -------------------------------------------------
# Each puts the window in a state (they take the window, qtbot and monkeypatch).
def starting(w, qtbot, monkeypatch):
    click(qtbot, w, "trainButton")  # closed at once: the model is being built


def training(w, qtbot, monkeypatch=None):
    click(qtbot, w, "trainButton")
    qtbot.waitUntil(lambda: w.last_step >= 5, timeout=20_000)


def evaluating(w, qtbot, monkeypatch):
    click(qtbot, w, "trainButton")  # eval_iters=100000: the step-0 evaluation takes minutes
    qtbot.waitUntil(lambda: w.run.trainer is not None and w.state == "running", timeout=10_000)
    qtbot.wait(300)


def paused(w, qtbot, monkeypatch=None):
    training(w, qtbot)
    pause(qtbot, w)


def sampling(w, qtbot, monkeypatch):
    paused(w, qtbot)
    stream_a_long_sample(qtbot, w)


def stepping(w, qtbot, monkeypatch):
    paused(w, qtbot)
    click(qtbot, w, "stepButton")  # closed at once: the step is queued or under way


SAVE_SECONDS = 0.5  # how long the save below keeps its written temp file before moving it into place


def saving(w, qtbot, monkeypatch):
    """Save clicked, and the checkpoint written to its temp file but not yet in place."""
    import torch
    real_save, written = torch.save, threading.Event()

    def slow_save(*args, **kwargs):
        real_save(*args, **kwargs)
        written.set()
        time.sleep(SAVE_SECONDS)

    training(w, qtbot)
    monkeypatch.setattr(torch, "save", slow_save)
    click(qtbot, w, "saveButton")
    qtbot.waitUntil(written.is_set, timeout=10_000)
    assert list(w.run_dir.glob("checkpoint.pt.*.tmp"))  # the save is under way


EVALUATING = [*LONG, "--set", "eval_iters=100000"]


@pytest.mark.parametrize("state, argv", [
    ("starting", LONG), ("training", LONG), ("evaluating", EVALUATING), ("sampling", LONG),
    ("saving", LONG), ("stepping", LONG)])
def test_closing_the_window_while_a_run_is(state, argv, make_window, qtbot, monkeypatch, leftovers):
    from gptviz.checkpoint import load_checkpoint
    from gptviz.runlog import read_metrics
    w = make_window(*argv)
    {"starting": starting, "training": training, "evaluating": evaluating, "sampling": sampling,
     "saving": saving, "stepping": stepping}[state](w, qtbot, monkeypatch)
    last_seen = w.last_step
    thread = w.run.thread
    took = timed_close(w)
    print(f"close while {state}: {took * 1000:.0f} ms")
    assert took < CLOSE_BOUND + (SAVE_SECONDS if state == "saving" else 0)
    assert w.run is None and w.state == "stopped"  # the thread's end was handled before closing
    leftovers.assert_none(thread)

    model = w.stopped_trainer
    steps = [r["step"] for r in read_metrics(w.run_dir / "metrics.jsonl") if "loss" in r]
    assert steps == list(range(1, (model.step_count if model else 0) + 1))  # the log holds every step
    if state == "evaluating":  # closed inside the step-0 evaluation: nothing trained or reported
        assert model.step_count == 0 and len(w.loss_plot.evals) == 0
    if state == "sampling":  # the sample was cut short and kept whole
        lines = (w.run_dir / "samples.jsonl").read_text(encoding="utf-8").splitlines()
        last = json.loads(lines[-1])
        assert 0 < len(last["text"]) < 100_000 and last["step"] == model.step_count
    if state == "saving":  # close waited for the save under way, which is complete and in place
        assert load_checkpoint(w.run_dir).step == model.step_count
    else:
        assert not (w.run_dir / "checkpoint.pt").exists()  # Discard was the answer
    if state == "stepping":  # the step was done whole, or not begun
        assert model.step_count in (last_seen, last_seen + 1)


def test_close_while_the_default_corpus_downloads(make_window, qtbot, monkeypatch, shakespeare_path,
                                                  leftovers):
    from PySide6.QtWidgets import QProgressDialog

    from gptviz.default_corpus import cached_path
    from tests.loopback import LoopbackServer
    with LoopbackServer() as server:
        server.body = shakespeare_path.read_bytes()
        server.trickle = 0.02  # 1 KiB every 20 ms: about a minute for the whole text
        monkeypatch.setenv("GPTVIZ_CORPUS_URL", server.url)
        w = make_window(corpus=None, wait_corpus=False)
        qtbot.waitUntil(lambda: w.findChild(QProgressDialog, "downloadDialog") is not None, timeout=10_000)
        qtbot.wait(400)  # the dialog is shown after 300 ms
        assert w.loader.busy() and server.requests == 1
        thread = w.loader._thread
        took = timed_close(w)
    print(f"close while downloading: {took * 1000:.0f} ms")
    assert took < CLOSE_BOUND
    assert w.corpus is None and not cached_path().exists()
    dialog = w.findChild(QProgressDialog, "downloadDialog")
    assert dialog is None or not dialog.isVisible()
    leftovers.assert_none(thread)


def test_close_while_the_offline_fallback_is_built(make_window, qtbot, monkeypatch, leftovers):
    """Offline, the default corpus falls back to the standard library's docstrings, parsed
    from ~150 source files on the loader's thread (1–6 s here); closing meanwhile waited for
    all of it, then loaded it into the closed window. Here each file takes 20 ms more, so
    that the close surely comes while the files are read (~3 s of them)."""
    import ast

    import gptviz.default_corpus as default_corpus
    parsing = threading.Event()

    class SlowAst:
        """The ast module, as default_corpus sees it, with a slower parse."""
        def __getattr__(self, name):
            return getattr(ast, name)

        @staticmethod
        def parse(source, *args, **kwargs):
            parsing.set()
            time.sleep(0.02)
            return ast.parse(source, *args, **kwargs)

    monkeypatch.setattr(default_corpus, "ast", SlowAst())
    w = make_window(corpus=None, wait_corpus=False)  # the tests' corpus URL refuses connections
    qtbot.waitUntil(parsing.is_set, timeout=10_000)
    qtbot.wait(100)
    assert w.loader.busy()
    thread = w.loader._thread
    took = timed_close(w)
    print(f"close while the fallback is built: {took * 1000:.0f} ms")
    assert took < CLOSE_BOUND
    assert w.corpus is None
    leftovers.assert_none(thread)
