"""A training run's life in the main window: Start, Continue, Pause/Resume, Step, Stop and
Sample now sent to the worker, and the worker's reports (steps, evaluations, state,
saves, the thread's end) drawn, logged to metrics.jsonl and turned into control states.

The window never trains, evaluates or samples itself: `launch` gives a RunThread a
function that builds the Trainer on the worker thread, and from then on the window only
sends commands and receives reports through queued signals. The functions here take the
window and keep the run's state on it (run, run_config, state, last_step, run_dir,
metrics_log, …); the worker's signals are connected to the window's own slots
(MainWindow._on_steps, …), which call the report functions below on the GUI thread.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..config import TrainConfig
from ..corpus import CorpusError
from ..runlog import CONFIG, MetricsLog, write_config
from ..samplelog import trim_samples
from ..trainer import Trainer
from . import diagnostics_views, inside_views, window_timeline
from .continuation import CONTINUATION_FIELDS, continue_blocker, continued_config
from .frame_pacer import PACER
from .payloads import StepBatch
from .run_dir import new_run_dir
from .run_thread import RunThread
from .worker import SampleSettings

if TYPE_CHECKING:
    from PySide6.QtCore import QObject

    from .main_window import MainWindow


# -- commands -------------------------------------------------------------------------------
def start(window: MainWindow) -> None:
    if window.active() and window.state == "finished":
        window.continue_run()
        return
    if window.active() or window.corpus is None:
        return
    config = window.settings_panel.config()
    if config is None:
        window.show_error(f"Cannot start: {window.settings_panel.error()}")
        return
    corpus = window.corpus
    try:
        corpus.check_block_size(config.block_size)
    except CorpusError as e:
        window.show_error(f"Cannot start: {e}")
        return
    try:
        window.run_dir = new_run_dir()
        open_log(window, resume_step=None)
        write_config(window.run_dir, {**config.to_dict(), "corpus": window.corpus.name})
    except OSError as e:
        window.show_error(f"Cannot create a run directory: {e}")
        return
    window.loss_plot.clear()
    window.gradients.clear()
    device = window.settings_panel.device()  # built on the worker: an unavailable one says so there
    launch(window, lambda: Trainer(config, corpus, device=device), config, 0, start_paused=False)


def open_log(window: MainWindow, resume_step: int | None) -> None:
    if window.metrics_log is not None:
        window.metrics_log.close()
    window.metrics_log = MetricsLog(window.run_dir, resume_step=resume_step)
    trim_samples(window.run_dir, resume_step)  # samples.jsonl follows metrics.jsonl


def launch(window: MainWindow, make_trainer, config: TrainConfig, step: int, start_paused: bool) -> None:
    """Start a worker thread that builds its Trainer with make_trainer, there."""
    window.hide_error()
    window.stopped_trainer = None
    window.run_config = config
    window.gradients.set_clip(config.grad_clip)
    window.status.reset(step, config.max_iters)
    window.last_step = step
    if window.run is not None:  # an ended run whose `finished` is not handled yet: drop it here,
        window.run.deleteLater()  # since on_thread_finished ignores a replaced run (a leaked model)
    window.run = RunThread(make_trainer, start_paused=start_paused, parent=window)
    w = window.run.worker
    w.stepsReady.connect(window._on_steps)
    w.evalReady.connect(window._on_eval)
    w.diagnosticsReady.connect(window.gradients.set_diagnostics)
    w.sampleStarted.connect(window.samples.begin_sample)
    w.sampleText.connect(window.samples.append_text)
    w.sampleFinished.connect(window.samples.end_sample)
    w.sampleRecorded.connect(window._on_sample_recorded)  # into the run dir's samples.jsonl
    w.stateChanged.connect(window._on_state)
    w.failed.connect(window.show_error)
    w.saved.connect(window._on_saved)
    inside_views.connect_worker(window, w)  # attention maps, sample probabilities
    diagnostics_views.connect_worker(window, w, config)  # activations, warnings
    window_timeline.reset(window)  # no snapshots of an earlier run
    window.run.thread.finished.connect(window._on_thread_finished)
    push_sample_settings(window)
    window.settings_panel.setLocked(True)
    window.state = "paused" if start_paused else "running"
    window.run.start()
    window._update_controls()


def continue_run(window: MainWindow) -> None:
    """Train a finished run further, with the raised max_iters (see continuation.py)."""
    if not (window.active() and window.state == "finished"):
        return
    edited = window.settings_panel.config()
    blocker = continue_blocker(edited, window.settings_panel.error(), window.last_step)
    if blocker is not None:
        window.show_error(f"Cannot continue: {blocker}")
        return
    config = continued_config(window.run_config, edited)
    window.hide_error()
    window.run_config = config
    window.settings_panel.set_config(config)  # shows a pinned lr_decay_iters
    window.settings_panel.setLocked(True)
    if window.run_dir is not None:
        try:
            write_config(window.run_dir, {**config.to_dict(), "corpus": window.corpus.name})
        except OSError as e:
            window.show_error(f"Could not update {window.run_dir / CONFIG}: {e}")
    window.status.set_max_steps(window.last_step, config.max_iters)
    push_sample_settings(window)
    window.run.worker.reconfigure(config)


def toggle_pause(window: MainWindow) -> None:
    if not window.active():
        return
    if window.state == "running":
        window.run.worker.pause()
        window.status.state.setText("pausing…")  # until the worker is between two layers
    elif window.state == "paused":
        push_sample_settings(window)
        window.run.worker.resume()


def step_once(window: MainWindow) -> None:
    if window.active() and window.state == "paused":
        window.run.worker.step_once()


def stop(window: MainWindow) -> None:
    if window.active():
        window.run.worker.stop()
        window.status.state.setText("stopping…")


def sample_now(window: MainWindow) -> None:
    if not window.active():
        window.show_error("Sample now needs a model: start training or open a checkpoint first.")
        return
    push_sample_settings(window)
    window.run.worker.request_sample()


def push_sample_settings(window: MainWindow) -> None:
    if window.run is not None:
        s = window.samples.settings()
        window.run.worker.set_sample_settings(SampleSettings(**s))


# -- worker reports (queued to the GUI thread, through the window's slots) ------------------------
def log(window: MainWindow, row: dict) -> None:
    if window.metrics_log is None and window.run_dir is not None:
        try:
            open_log(window, resume_step=window.run_dir_step)
        except OSError as e:
            window.run_dir = None
            window.show_error(f"Metrics will not be logged: {e}")
            return
    if window.metrics_log is not None:
        window.metrics_log.write(row)


def on_steps(window: MainWindow, batch: StepBatch) -> None:
    window.loss_plot.append_steps(batch)
    window.gradients.append_steps(batch)
    diagnostics_views.on_steps(window, batch)  # loss-spike warnings
    for i in range(len(batch)):  # the same rows as StepMetrics.row() in `gptviz train`
        row = {"step": int(batch.steps[i]), "loss": float(batch.loss[i]), "lr": float(batch.lr[i]),
               "grad_norm": float(batch.grad_norm[i]), "tokens_per_sec": float(batch.tokens_per_sec[i])}
        if batch.time is not None:
            row["time"] = float(batch.time[i])
        log(window, row)
    window.last_step = int(batch.steps[-1])
    window.unsaved = True
    max_iters = window.run_config.max_iters
    window.status.update_step(window.last_step, max_iters, float(batch.loss[-1]),
                              float(batch.tokens_per_sec[-1]))


def on_eval(window: MainWindow, ev) -> None:
    window.loss_plot.append_eval(ev)
    diagnostics_views.on_eval(window, ev)  # overfitting warnings
    log(window, ev.row())


def on_state(window: MainWindow, state: str) -> None:
    window.state = state
    PACER.set_training(state == "running")  # plots redraw less often while training
    window.status.set_state(state)
    window.buttons["pauseButton"].setText("Resume" if state == "paused" else "Pause")
    finished = state == "finished" and window.active()
    window.buttons["trainButton"].setText("Continue" if finished else "Start")
    window.settings_panel.setLocked(True, editable=CONTINUATION_FIELDS if finished else ())
    window._update_controls()


def on_thread_finished(window: MainWindow, finished: QObject | None) -> None:
    """`finished` is the QThread that ended (the slot's sender)."""
    if window.run is None or finished is not window.run.thread:
        return  # a late signal from an earlier run
    PACER.set_training(False)
    window.stopped_trainer = window.run.trainer  # still saveable after Stop
    window.run.deleteLater()  # the thread and worker; the model lives on in stopped_trainer
    window.run = None
    window.state = "stopped"
    window.settings_panel.setLocked(False)
    window.buttons["trainButton"].setText("Start")
    window._update_controls()


def on_saved(window: MainWindow, path: str) -> None:
    window.unsaved = False
    window.statusBar().showMessage(f"Saved {path}", 5000)
