"""The main window: controls, live views and the wiring between them and the worker.

The window never trains, evaluates or samples itself: it builds a Trainer, hands it to a
RunThread, and from then on only sends commands and draws what the worker reports.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ..checkpoint import CheckpointError, load_checkpoint, restore_trainer, save_checkpoint
from ..config import TrainConfig
from ..corpus import Corpus, CorpusError
from ..metrics import EvalMetrics
from ..model import ConfigError
from ..runlog import CONFIG, METRICS, MetricsLog, read_metrics, write_config
from ..trainer import Trainer
from .corpus_loader import CorpusLoader
from .gradient_plots import GradientsPanel
from .loss_plot import LossPlot
from .payloads import StepBatch
from .run_dir import export_csv, new_run_dir
from .run_thread import RunThread
from .samples_view import SamplesView
from .settings_panel import SettingsPanel
from .settings_store import app_settings, load_json, save_json
from .status_bar import TrainingStatus
from .worker import SampleSettings

ERROR_STYLE = "color: #d04040; font-weight: bold;"
NOTICE_STYLE = "color: #c08000;"


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
        self.state = "idle"
        self.unsaved = False
        self.last_step = 0
        self.ask_save_on_close = self._ask_save_on_close  # tests replace this

        self._build_views(config)
        self._build_actions()
        self._restore_layout()
        self.loader = CorpusLoader(self)
        self.loader.loaded.connect(self._corpus_loaded)
        self.loader.failed.connect(self._corpus_failed)
        self.loader.cancelled.connect(self._corpus_cancelled)
        self._update_controls()
        QTimer.singleShot(0, lambda: self.load_corpus(corpus_path))

    # -- construction -----------------------------------------------------------------------
    def _build_views(self, config: TrainConfig) -> None:
        self.settings_panel = SettingsPanel()
        self.settings_panel.set_config(config)
        self.settings_panel.set_extra_check(self._check_against_corpus)
        self.settings_panel.validityChanged.connect(lambda *_: self._update_controls())

        self.corpus_label = QLabel("Corpus: loading…")
        self.corpus_label.setObjectName("corpusLabel")
        self.corpus_label.setWordWrap(True)
        self.corpus_notice = QLabel()
        self.corpus_notice.setObjectName("corpusNotice")
        self.corpus_notice.setWordWrap(True)
        self.corpus_notice.setStyleSheet(NOTICE_STYLE)
        self.corpus_notice.hide()
        open_text = QPushButton("Open text file…")
        open_text.setObjectName("openCorpusButton")
        open_text.clicked.connect(self.choose_corpus)

        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(self.corpus_label)
        side_layout.addWidget(self.corpus_notice)
        side_layout.addWidget(open_text)
        side_layout.addWidget(self.settings_panel, 1)

        self.loss_plot = LossPlot()
        self.gradients = GradientsPanel()
        self.gradients.set_clip(config.grad_clip)
        self.samples = SamplesView()
        self.samples.sampleRequested.connect(self.sample_now)
        self.samples.settingsChanged.connect(self._push_sample_settings)

        plots = QSplitter(Qt.Orientation.Vertical)
        plots.setObjectName("plotsSplitter")
        plots.addWidget(self.loss_plot)
        plots.addWidget(self.gradients)
        self.main_splitter = QSplitter(Qt.Orientation.Horizontal)
        self.main_splitter.setObjectName("mainSplitter")
        self.main_splitter.addWidget(side)
        self.main_splitter.addWidget(plots)
        self.main_splitter.addWidget(self.samples)
        self.main_splitter.setStretchFactor(1, 3)
        self.plots_splitter = plots

        self.buttons = {}
        controls = QHBoxLayout()
        for name, text in (("trainButton", "Start"), ("pauseButton", "Pause"), ("stepButton", "Step"),
                           ("stopButton", "Stop"), ("saveButton", "Save"),
                           ("openCheckpointButton", "Open checkpoint…")):
            button = QPushButton(text)
            button.setObjectName(name)
            controls.addWidget(button)
            self.buttons[name] = button
        controls.addStretch(1)
        self.error_banner = QLabel()
        self.error_banner.setObjectName("errorBanner")
        self.error_banner.setWordWrap(True)
        self.error_banner.setStyleSheet(ERROR_STYLE)
        self.error_banner.hide()

        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addLayout(controls)
        layout.addWidget(self.error_banner)
        layout.addWidget(self.main_splitter, 1)
        self.views = QTabWidget()
        self.views.setObjectName("views")
        self.views.addTab(page, "Training")  # later views (autograd, demos) are more tabs
        self.setCentralWidget(self.views)
        self.status = TrainingStatus(self)
        self.setStatusBar(self.status)

    def _build_actions(self) -> None:
        def action(text, slot, shortcut=None, button=None):
            a = QAction(text, self)
            if shortcut:
                a.setShortcut(QKeySequence(shortcut))
            a.triggered.connect(slot)
            if button is not None:
                b = self.buttons[button]
                b.clicked.connect(slot)
                keys = a.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
                b.setToolTip(text.replace("…", "") + (f" ({keys})" if keys else ""))
            return a

        self.actions_ = {
            "start": action("Start training", self.start, "F5", "trainButton"),
            "pause": action("Pause / Resume", self.toggle_pause, "Space", "pauseButton"),
            "step": action("Step one optimizer step", self.step_once, "N", "stepButton"),
            "stop": action("Stop training", self.stop, "Shift+F5", "stopButton"),
            "save": action("Save checkpoint", self.save, "Ctrl+S", "saveButton"),
            "save_as": action("Save checkpoint as…", self.save_as, "Ctrl+Shift+S"),
            "open_ckpt": action("Open checkpoint…", self.choose_checkpoint, "Ctrl+Shift+O",
                                "openCheckpointButton"),
            "open_text": action("Open text file…", self.choose_corpus, "Ctrl+O"),
            "download": action("Use Tiny Shakespeare (download if needed)", self.use_default_corpus),
            "export_csv": action("Export metrics as CSV…", self.export_metrics_csv),
            "export_png": action("Export plots as PNG…", self.export_plots_png),
            "quit": action("Quit", self.close, "Ctrl+Q"),
        }
        menu = self.menuBar().addMenu("&File")
        for key in ("open_text", "download", "open_ckpt", "save", "save_as", None,
                    "export_csv", "export_png", None, "quit"):
            menu.addSeparator() if key is None else menu.addAction(self.actions_[key])
        menu = self.menuBar().addMenu("&Training")
        for key in ("start", "pause", "step", "stop"):
            menu.addAction(self.actions_[key])
            self.addAction(self.actions_[key])

    # -- corpus -----------------------------------------------------------------------------
    def load_corpus(self, path: str | None) -> None:
        """Load a text file, or with None the default corpus (downloaded if needed)."""
        self.corpus_path = path
        self.corpus_label.setText(f"Corpus: loading {path or 'Tiny Shakespeare'}…")
        self.loader.load(path)
        self._update_controls()

    @Slot()
    def use_default_corpus(self) -> None:
        self.load_corpus(None)

    @Slot()
    def choose_corpus(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a UTF-8 text file", "",
                                              "Text (*.txt);;All files (*)")
        if path:
            self.load_corpus(path)

    @Slot(object)
    def _corpus_loaded(self, corpus: Corpus) -> None:
        self.corpus = corpus
        self.corpus_label.setText(f"Corpus: {Path(corpus.name).name} — {len(corpus.text):,} characters, "
                                  f"{corpus.vocab_size} distinct")
        self.corpus_label.setToolTip(corpus.name)
        self.corpus_notice.setText(corpus.notice or "")
        self.corpus_notice.setVisible(bool(corpus.notice))
        self.settings_panel.revalidate()
        self._update_controls()

    @Slot(str)
    def _corpus_failed(self, message: str) -> None:
        self.corpus_label.setText("Corpus: none loaded" if self.corpus is None else self.corpus_label.text())
        self.show_error(f"Corpus: {message}")
        self._update_controls()

    @Slot()
    def _corpus_cancelled(self) -> None:
        self.show_error("Download cancelled. Open a text file, or retry with File → Use Tiny Shakespeare.")
        self._update_controls()

    def _check_against_corpus(self, config: TrainConfig) -> str | None:
        if self.corpus is None:
            return None
        try:
            self.corpus.check_block_size(config.block_size)
        except CorpusError as e:
            return f"block_size: {e}"
        return None

    # -- training controls --------------------------------------------------------------------
    def active(self) -> bool:
        return self.run is not None and self.run.is_running()

    @Slot()
    def start(self) -> None:
        if self.active() or self.corpus is None:
            return
        config = self.settings_panel.config()
        if config is None:
            self.show_error(f"Cannot start: {self.settings_panel.error()}")
            return
        corpus = self.corpus
        try:
            corpus.check_block_size(config.block_size)
        except CorpusError as e:
            self.show_error(f"Cannot start: {e}")
            return
        try:
            self.run_dir = new_run_dir()
            self._open_log(resume_step=None)
            write_config(self.run_dir, {**config.to_dict(), "corpus": self.corpus.name})
        except OSError as e:
            self.show_error(f"Cannot create a run directory: {e}")
            return
        self.loss_plot.clear()
        self.gradients.clear()
        self._launch(lambda: Trainer(config, corpus), config, 0, start_paused=False)

    def _open_log(self, resume_step: int | None) -> None:
        if self.metrics_log is not None:
            self.metrics_log.close()
        self.metrics_log = MetricsLog(self.run_dir, resume_step=resume_step)

    def _launch(self, make_trainer, config: TrainConfig, step: int, start_paused: bool) -> None:
        """Start a worker thread that builds its Trainer with make_trainer, there."""
        self.hide_error()
        self.stopped_trainer = None
        self.run_config = config
        self.gradients.set_clip(config.grad_clip)
        self.status.reset(step, config.max_iters)
        self.last_step = step
        self.run = RunThread(make_trainer, start_paused=start_paused, parent=self)
        w = self.run.worker
        w.stepsReady.connect(self._on_steps)
        w.evalReady.connect(self._on_eval)
        w.diagnosticsReady.connect(self.gradients.set_diagnostics)
        w.sampleStarted.connect(self.samples.begin_sample)
        w.sampleText.connect(self.samples.append_text)
        w.sampleFinished.connect(self.samples.end_sample)
        w.stateChanged.connect(self._on_state)
        w.failed.connect(self.show_error)
        w.saved.connect(self._on_saved)
        self.run.thread.finished.connect(self._on_thread_finished)
        self._push_sample_settings()
        self.settings_panel.setLocked(True)
        self.state = "paused" if start_paused else "running"
        self.run.start()
        self._update_controls()

    @Slot()
    def toggle_pause(self) -> None:
        if not self.active():
            return
        if self.state == "running":
            self.run.worker.pause()
        elif self.state == "paused":
            self._push_sample_settings()
            self.run.worker.resume()

    @Slot()
    def step_once(self) -> None:
        if self.active() and self.state == "paused":
            self.run.worker.step_once()

    @Slot()
    def stop(self) -> None:
        if self.active():
            self.run.worker.stop()

    @Slot()
    def sample_now(self) -> None:
        if not self.active():
            self.show_error("Sample now needs a model: start training or open a checkpoint first.")
            return
        self._push_sample_settings()
        self.run.worker.request_sample()

    def _push_sample_settings(self) -> None:
        if self.run is not None:
            s = self.samples.settings()
            self.run.worker.set_sample_settings(SampleSettings(**s))

    # -- worker reports (queued to the GUI thread) ----------------------------------------------
    def _log(self, row: dict) -> None:
        if self.metrics_log is None and self.run_dir is not None:
            try:
                self._open_log(resume_step=self.run_dir_step)
            except OSError as e:
                self.run_dir = None
                self.show_error(f"Metrics will not be logged: {e}")
                return
        if self.metrics_log is not None:
            self.metrics_log.write(row)

    @Slot(object)
    def _on_steps(self, batch: StepBatch) -> None:
        self.loss_plot.append_steps(batch)
        self.gradients.append_steps(batch)
        for i in range(len(batch)):
            self._log({"step": int(batch.steps[i]), "loss": float(batch.loss[i]), "lr": float(batch.lr[i]),
                       "grad_norm": float(batch.grad_norm[i]),
                       "tokens_per_sec": float(batch.tokens_per_sec[i])})
        self.last_step = int(batch.steps[-1])
        self.unsaved = True
        max_iters = self.run_config.max_iters
        self.status.update_step(self.last_step, max_iters, float(batch.loss[-1]),
                                float(batch.tokens_per_sec[-1]))

    @Slot(object)
    def _on_eval(self, ev) -> None:
        self.loss_plot.append_eval(ev)
        self._log(ev.row())

    @Slot(str)
    def _on_state(self, state: str) -> None:
        self.state = state
        self.status.set_state(state)
        self.buttons["pauseButton"].setText("Resume" if state == "paused" else "Pause")
        self._update_controls()

    @Slot()
    def _on_thread_finished(self) -> None:
        finished = self.sender()
        if self.run is None or finished is not self.run.thread:
            return  # a late signal from an earlier run
        self.stopped_trainer = self.run.trainer  # still saveable after Stop
        self.run.deleteLater()  # the thread and worker; the model lives on in stopped_trainer
        self.run = None
        self.state = "stopped"
        self.settings_panel.setLocked(False)
        self._update_controls()

    @Slot(str)
    def _on_saved(self, path: str) -> None:
        self.unsaved = False
        self.statusBar().showMessage(f"Saved {path}", 5000)

    # -- checkpoints ----------------------------------------------------------------------------
    def current_trainer(self) -> Trainer | None:
        return self.run.trainer if self.run is not None else self.stopped_trainer

    @Slot()
    def save(self) -> None:
        if self.run_dir is None:
            self.save_as()
            return
        self._save_to(self.run_dir)

    @Slot()
    def save_as(self) -> None:
        if self.current_trainer() is None:
            self.show_error("Nothing to save yet: start training first.")
            return
        folder = QFileDialog.getExistingDirectory(self, "Save the run into a folder")
        if folder:
            self._save_to(Path(folder), copy_logs=True)

    def _save_to(self, folder: Path, copy_logs: bool = False) -> None:
        if copy_logs and self.run_dir is not None and folder != self.run_dir:
            try:
                for name in (METRICS, CONFIG):
                    if (self.run_dir / name).exists():
                        shutil.copyfile(self.run_dir / name, folder / name)
                self.run_dir = folder
                self._open_log(resume_step=self.last_step)
            except OSError as e:
                self.show_error(f"Could not save into {folder}: {e}")
                return
        if self.active():
            self.run.worker.request_save(str(folder))
        elif self.stopped_trainer is not None:
            try:
                self._on_saved(str(save_checkpoint(folder, self.stopped_trainer)))
            except OSError as e:
                self.show_error(f"could not save the checkpoint to {folder}: {e}")
        else:
            self.show_error("Nothing to save yet: start training first.")

    @Slot()
    def choose_checkpoint(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open a run folder (with checkpoint.pt)")
        if path:
            self.open_checkpoint(path)

    def open_checkpoint(self, path: str) -> bool:
        """Load a checkpoint paused, ready to resume training or to sample from."""
        if self.active():
            self.show_error("Stop the current run before opening a checkpoint.")
            return False
        try:
            ckpt = load_checkpoint(path)
            corpus = self.corpus
            if corpus is None or corpus.tokenizer.chars != ckpt.chars:
                if Path(ckpt.corpus_name).is_file():
                    corpus = Corpus.from_file(ckpt.corpus_name)
            if corpus is None:
                raise CheckpointError(f"{ckpt.path}: load the corpus it was trained on first")
            ckpt.check_corpus(corpus)
        except (CheckpointError, CorpusError, ConfigError) as e:
            self.show_error(str(e))
            return False
        if corpus is not self.corpus:
            self._corpus_loaded(corpus)
        self.settings_panel.set_config(ckpt.config)
        self.run_dir = ckpt.path.parent
        rows = read_metrics(self.run_dir / METRICS)
        self.loss_plot.clear()
        self.gradients.clear()
        self._replay(rows, ckpt.step)
        if self.metrics_log is not None:
            self.metrics_log.close()
        self.metrics_log = None  # opened (and trimmed to ckpt.step) only if training resumes
        self.run_dir_step = ckpt.step
        self._launch(lambda: restore_trainer(ckpt, corpus), ckpt.config, ckpt.step, start_paused=True)
        self.unsaved = False
        self.statusBar().showMessage(f"Opened {ckpt.path} at step {ckpt.step}", 5000)
        return True

    def _replay(self, rows: list[dict], up_to: int) -> None:
        """Draw the curve a run directory already holds, up to the checkpoint's step."""
        def number(row, key):  # a missing value (or JSON null) is NaN; 0.0 stays 0.0
            return np.nan if row.get(key) is None else row[key]

        train = [r for r in rows if "loss" in r and r["step"] <= up_to]
        if train:
            def col(key):
                return np.array([number(r, key) for r in train], dtype=np.float64)
            batch = StepBatch(col("step"), col("loss"), col("lr"), col("grad_norm"), col("tokens_per_sec"))
            self.loss_plot.append_steps(batch)
            self.gradients.append_steps(batch)
        for r in rows:
            if "val_loss" in r and r["step"] <= up_to:
                self.loss_plot.append_eval(EvalMetrics(r["step"], number(r, "train_loss"),
                                                       number(r, "val_loss")))

    # -- export ---------------------------------------------------------------------------------
    @Slot()
    def export_metrics_csv(self) -> None:
        if self.run_dir is None:
            self.show_error("No run to export yet.")
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export metrics", "metrics.csv", "CSV (*.csv)")
        if path:
            try:
                n = export_csv(self.run_dir, path)
            except OSError as e:
                self.show_error(f"Could not write {path}: {e}")
                return
            self.statusBar().showMessage(f"Wrote {n} rows to {path}", 5000)

    @Slot()
    def export_plots_png(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export plots into a folder")
        if folder:
            names = ("loss.png", "gradients.png")
            self.loss_plot.export_png(str(Path(folder) / names[0]))
            self.gradients.export_png(str(Path(folder) / names[1]))
            if all((Path(folder) / name).is_file() for name in names):
                self.statusBar().showMessage(f"Wrote {' and '.join(names)} to {folder}", 5000)
            else:
                self.show_error(f"Could not write the plots into {folder}")

    # -- messages and enabling -------------------------------------------------------------------
    @Slot(str)
    def show_error(self, message: str) -> None:
        self.error_banner.setText(message)
        self.error_banner.show()
        self.statusBar().showMessage(message.splitlines()[0], 10_000)

    def hide_error(self) -> None:
        self.error_banner.hide()
        self.error_banner.clear()

    def _start_blocker(self) -> str | None:
        if self.active():
            return "a run is in progress"
        if self.loader.busy():
            return "the corpus is loading"
        if self.corpus is None:
            return "no corpus is loaded"
        return self.settings_panel.error()

    def _update_controls(self) -> None:
        active = self.active()
        blocker = self._start_blocker() if hasattr(self, "loader") else "starting up"
        start = self.buttons["trainButton"]
        start.setEnabled(blocker is None)
        start.setToolTip("Start training (F5)" if blocker is None else f"Cannot start: {blocker}")
        self.actions_["start"].setEnabled(blocker is None)
        self.buttons["pauseButton"].setEnabled(active and self.state in ("running", "paused"))
        self.buttons["stepButton"].setEnabled(active and self.state == "paused")
        self.buttons["stopButton"].setEnabled(active)
        can_save = self.current_trainer() is not None
        self.buttons["saveButton"].setEnabled(can_save)
        for key, button in (("pause", "pauseButton"), ("step", "stepButton"), ("stop", "stopButton"),
                            ("save", "saveButton")):
            self.actions_[key].setEnabled(self.buttons[button].isEnabled())
        self.buttons["openCheckpointButton"].setEnabled(not active)

    # -- layout memory and closing -------------------------------------------------------------------
    def _restore_layout(self) -> None:
        s = app_settings()
        geometry = s.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1400, 860)
        for key, splitter in (("window/mainSplitter", self.main_splitter),
                              ("window/plotsSplitter", self.plots_splitter)):
            state = s.value(key)
            if state is not None:
                splitter.restoreState(state)
        samples = load_json(s, "samples/settings")
        if isinstance(samples, dict):
            self.samples.set_settings(samples)

    def _remember(self) -> None:
        s = app_settings()
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/mainSplitter", self.main_splitter.saveState())
        s.setValue("window/plotsSplitter", self.plots_splitter.saveState())
        config = self.settings_panel.config()
        if config is not None:
            save_json(s, "training/config", config.to_dict())
        if self.corpus_path and Path(self.corpus_path).is_file():
            s.setValue("training/corpus", self.corpus_path)
        save_json(s, "samples/settings", self.samples.settings())
        s.sync()

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
                    self._save_to(folder)
        self.shutdown()
        self._remember()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop the worker and the loader and wait for their threads (never leave one running).

        A step of a large model can take seconds, so the wait is long; afterwards the
        worker's last queued reports (final steps, a save) are delivered before the log
        is closed, so metrics.jsonl matches the checkpoint.
        """
        if self.run is not None:
            while not self.run.shutdown(timeout_ms=60_000):
                self.statusBar().showMessage("Waiting for the current step to finish…")
        self.loader.shutdown()
        QApplication.sendPostedEvents()
        QApplication.processEvents()
        if self.metrics_log is not None:
            self.metrics_log.close()
            self.metrics_log = None
