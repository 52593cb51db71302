"""The main window: its state, its slots, and closing it without losing a run.

The window never trains, evaluates or samples itself: it builds a Trainer, hands it to a
RunThread, and from then on only sends commands and draws what the worker reports.

This file holds the window's state and every slot that a button, action, the loader or
the worker is connected to; each slot hands the work to the module of its idea:
- window_views.py — the widgets and tabs; window_actions.py — actions, menus, enabling;
- corpus_choice.py — choosing and loading the text to train on;
- run_control.py — Start/Continue, Pause, Step, Stop, Sample now, the worker's reports;
- run_saving.py — Save, Save as, Open checkpoint; run_export.py — CSV and PNG export;
- run_watch.py — Watch run directory: a run another process writes, followed read-only;
- window_memory.py — geometry, splitters and settings remembered between launches.

Keep every connected slot declared here, in MainWindow itself. PySide6 connects a slot
declared in another class (a mixin) as a plain callable with no receiver once the window
has dynamic slots (from connecting an undecorated method, as `_update_controls` is):
called on the emitting thread — the worker's — and with sender() None.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer, Slot
from PySide6.QtWidgets import QApplication, QMainWindow, QMessageBox

from ..config import TrainConfig
from ..corpus import Corpus
from ..runlog import MetricsLog
from ..trainer import Trainer
from . import (
    corpus_choice,
    diagnostics_views,
    inside_views,
    run_compare,
    run_control,
    run_export,
    run_samples,
    run_saving,
    run_watch,
    window_timeline,
)
from .corpus_loader import CorpusLoader
from .frame_pacer import DEFAULT_BUDGET, PACER
from .payloads import StepBatch
from .run_dir import new_run_dir
from .run_thread import RunThread
from .window_actions import build_actions, update_controls
from .window_memory import remember, restore_layout
from .window_views import build_views


class MainWindow(QMainWindow):
    def __init__(self, config: TrainConfig, corpus_path: str | None = None):
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowTitle("gptviz — watch a GPT learn")
        self.corpus: Corpus | None = None
        self.corpus_path = corpus_path
        self.run: RunThread | None = None
        self.run_config: TrainConfig | None = None
        self.stopped_trainer: Trainer | None = None  # kept after Stop so it can still be saved
        self.run_dir: Path | None = None
        self.metrics_log: MetricsLog | None = None
        self.run_dir_step: int | None = None  # rows after this step are dropped when logging resumes
        self.runs_dialog = None  # the Runs window (run_compare.py), made on first use
        self.watch: run_watch.RunWatch | None = None  # a run directory followed (run_watch.py)
        self.state = "idle"
        self.unsaved = False
        self.last_step = 0
        self.ask_save_on_close = self._ask_save_on_close  # tests replace this

        build_views(self, config)
        self.actions_ = build_actions(self)
        restore_layout(self)
        self.loader = CorpusLoader(self)
        self.loader.loaded.connect(self._corpus_loaded)
        self.loader.failed.connect(self._corpus_failed)
        self.loader.cancelled.connect(self._corpus_cancelled)
        self._update_controls()
        QTimer.singleShot(0, lambda: self.load_corpus(corpus_path))

    # -- corpus (corpus_choice.py) ----------------------------------------------------------------
    def load_corpus(self, path: str | None) -> None:
        """Load a text file, or with None the default corpus (downloaded if needed)."""
        corpus_choice.load_corpus(self, path)

    @Slot()
    def use_default_corpus(self) -> None:
        self.load_corpus(None)

    @Slot()
    def choose_corpus(self) -> None:
        corpus_choice.choose_corpus(self)

    @Slot(object)
    def _corpus_loaded(self, corpus: Corpus) -> None:
        corpus_choice.corpus_loaded(self, corpus)

    @Slot(str)
    def _corpus_failed(self, message: str) -> None:
        corpus_choice.corpus_failed(self, message)

    @Slot()
    def _corpus_cancelled(self) -> None:
        corpus_choice.corpus_cancelled(self)

    def _check_against_corpus(self, config: TrainConfig) -> str | None:
        return corpus_choice.check_against_corpus(self, config)

    # -- tabs ---------------------------------------------------------------------------------------
    def show_training(self, preset_name: str) -> None:
        """Switch to the training view with a preset (the demos' way in); a run in progress
        keeps its settings."""
        if not self.active():
            self.settings_panel.set_preset(preset_name)
        self.views.setCurrentIndex(0)

    def show_demo(self, name: str, step: int = 0) -> None:
        """Switch to the Demos tab at demo `name`; DemoError for an unknown name."""
        self.demos.open(name, step)
        self.views.setCurrentWidget(self.demos)

    # -- training controls (run_control.py) -----------------------------------------------------------
    def active(self) -> bool:
        return self.run is not None and self.run.is_running()

    @Slot()
    def start(self) -> None:
        run_control.start(self)

    @Slot()
    def continue_run(self) -> None:
        """Train a finished run further, with the raised max_iters (see continuation.py)."""
        run_control.continue_run(self)

    @Slot()
    def toggle_pause(self) -> None:
        run_control.toggle_pause(self)

    @Slot()
    def step_once(self) -> None:
        run_control.step_once(self)

    @Slot()
    def stop(self) -> None:
        run_control.stop(self)

    @Slot()
    def sample_now(self) -> None:
        run_control.sample_now(self)

    def _push_sample_settings(self) -> None:
        run_control.push_sample_settings(self)

    @Slot(bool)
    def set_smooth_plots(self, smooth: bool) -> None:
        """Plots at up to 30 frames a second while training, whatever it costs the run."""
        PACER.budget = None if smooth else DEFAULT_BUDGET
        self.actions_["smooth_plots"].setChecked(smooth)

    # -- worker reports (queued to the GUI thread; run_control.py) -----------------------------------
    @Slot(object)
    def _on_steps(self, batch: StepBatch) -> None:
        run_control.on_steps(self, batch)
        window_timeline.on_steps(self, batch)  # a snapshot every N steps (window_timeline.py)

    @Slot(object)
    def _on_eval(self, ev) -> None:
        run_control.on_eval(self, ev)
        window_timeline.on_eval(self, ev)

    @Slot(str)
    def _on_state(self, state: str) -> None:
        run_control.on_state(self, state)

    @Slot()
    def _on_thread_finished(self) -> None:
        run_control.on_thread_finished(self, self.sender())

    @Slot(str)
    def _on_saved(self, path: str) -> None:
        run_control.on_saved(self, path)

    # -- inside the model: attention, next-character probabilities (inside_views.py) -----------------
    @Slot()
    def refresh_attention(self) -> None:
        if self.watch is not None:  # the watched run's latest checkpoint
            self.watch.refresh_attention()
        else:
            inside_views.refresh_attention(self)

    @Slot()
    def _push_attention_settings(self) -> None:
        inside_views.push_attention_settings(self)

    @Slot(object)
    def _on_attention(self, maps) -> None:
        inside_views.on_attention(self, maps)
        window_timeline.on_attention(self, maps)

    @Slot(object)
    def _on_sample_probs(self, batch) -> None:
        inside_views.on_sample_probs(self, batch)

    # -- activation statistics and training warnings (diagnostics_views.py) ---------------------------
    @Slot(object)
    def _on_diagnostics(self, d) -> None:
        diagnostics_views.on_diagnostics(self, d)
        window_timeline.on_diagnostics(self, d)

    # -- checkpoints (run_saving.py) and export (run_export.py) ----------------------------------------
    def current_trainer(self) -> Trainer | None:
        return run_saving.current_trainer(self)

    @Slot()
    def save(self) -> None:
        run_saving.save(self)

    @Slot()
    def save_as(self) -> None:
        run_saving.save_as(self)

    @Slot()
    def choose_checkpoint(self) -> None:
        run_saving.choose_checkpoint(self)

    def open_checkpoint(self, path: str) -> bool:
        """Load a checkpoint paused, ready to resume training or to sample from."""
        return run_saving.open_checkpoint(self, path)

    @Slot()
    def export_metrics_csv(self) -> None:
        run_export.export_metrics_csv(self)

    @Slot()
    def export_plots_png(self) -> None:
        run_export.export_plots_png(self)

    def export_to(self, folder: str | Path) -> list[Path]:
        """Write each plot as NAME.png, and the run's metrics.csv, into folder."""
        return run_export.export_to(self, folder)

    @Slot()
    def export_tensorboard(self) -> None:
        run_export.export_run_tensorboard(self)

    # -- other runs overlaid (run_compare.py); the run's samples kept (run_samples.py) ---------------
    @Slot()
    def choose_run(self) -> None:
        run_compare.choose_run(self)

    def open_run(self, path: str | Path) -> bool:
        """Overlay a run directory on the loss plot and show its curves and samples (read-only)."""
        return run_compare.open_run(self, path)

    @Slot()
    def show_runs(self) -> None:
        run_compare.show_runs(self)

    @Slot(object)
    def _on_sample_recorded(self, row: dict) -> None:
        run_samples.record(self, row)
        window_timeline.on_sample_recorded(self, row)

    # -- a run another process writes, followed read-only (run_watch.py) ---------------------------
    @Slot()
    def choose_watch_dir(self) -> None:
        run_watch.choose_and_watch(self)

    def watch_run(self, path: str | Path) -> bool:
        """Follow a run directory as it is written (False, and why, if it cannot be)."""
        return run_watch.watch(self, path)

    @Slot()
    def stop_watching(self) -> None:
        run_watch.stop_watching(self)

    # -- messages and enabling ------------------------------------------------------------------------
    @Slot(str)
    def show_error(self, message: str) -> None:
        self.error_banner.setText(message)
        self.error_banner.show()
        self.statusBar().showMessage(message.splitlines()[0], 10_000)

    def hide_error(self) -> None:
        self.error_banner.hide()
        self.error_banner.clear()

    def _update_controls(self) -> None:
        update_controls(self)

    # -- closing --------------------------------------------------------------------------------------
    def _ask_save_on_close(self) -> QMessageBox.StandardButton:
        return QMessageBox.question(
            self, "gptviz", "Training has unsaved progress. Save a checkpoint before closing?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Save)

    def closeEvent(self, event) -> None:
        if self.current_trainer() is not None and self.unsaved:
            answer = self.ask_save_on_close()
            if answer == QMessageBox.StandardButton.Cancel:
                event.ignore()
                return
            if answer == QMessageBox.StandardButton.Save:
                folder = self.run_dir or new_run_dir()
                if self.active():
                    self.run.worker.request_save(str(folder))  # queued before the stop below
                else:
                    run_saving.save_to(self, folder)
        self.shutdown()
        remember(self)
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop the worker, the loader and the demos, and wait for their threads (never leave
        one running).

        A step of a large model can take seconds, so the wait is long; afterwards the
        worker's last queued reports (final steps, a save) are delivered before the log
        is closed, so metrics.jsonl matches the checkpoint.
        """
        self.demos.stop()
        run_watch.stop_watching(self)
        if self.run is not None:
            while not self.run.shutdown(timeout_ms=60_000):
                self.statusBar().showMessage("Waiting for the current step to finish…")
        self.loader.shutdown()
        PACER.set_training(False)
        QApplication.sendPostedEvents()
        QApplication.processEvents()
        if self.metrics_log is not None:
            self.metrics_log.close()
            self.metrics_log = None
