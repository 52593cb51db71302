"""Saving a run and opening it again: Save / Save as (checkpoint, with the run's metrics
and config), and Open checkpoint, which replays the run's curve from metrics.jsonl and
resumes the model paused.

A running model is saved by its worker (on its thread); a stopped one, here. The
functions take the window and use the run state that run_control.py keeps there.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtWidgets import QFileDialog

from ..checkpoint import CheckpointError, load_checkpoint, restore_trainer, save_checkpoint
from ..corpus import Corpus, CorpusError
from ..metrics import EvalMetrics
from ..model import ConfigError
from ..runlog import CONFIG, METRICS, read_metrics
from ..samplelog import SAMPLES
from ..trainer import Trainer
from .payloads import StepBatch
from .run_control import launch, open_log

if TYPE_CHECKING:
    from .main_window import MainWindow


def current_trainer(window: MainWindow) -> Trainer | None:
    return window.run.trainer if window.run is not None else window.stopped_trainer


def save(window: MainWindow) -> None:
    if window.run_dir is None:
        window.save_as()
        return
    save_to(window, window.run_dir)


def save_as(window: MainWindow) -> None:
    if window.current_trainer() is None:
        window.show_error("Nothing to save yet: start training first.")
        return
    folder = QFileDialog.getExistingDirectory(window, "Save the run into a folder")
    if folder:
        save_to(window, Path(folder), copy_logs=True)


def save_to(window: MainWindow, folder: Path, copy_logs: bool = False) -> None:
    if copy_logs and window.run_dir is not None and folder != window.run_dir:
        try:
            for name in (METRICS, CONFIG, SAMPLES):
                if (window.run_dir / name).exists():
                    shutil.copyfile(window.run_dir / name, folder / name)
            window.run_dir = folder
            open_log(window, resume_step=window.last_step)
        except OSError as e:
            window.show_error(f"Could not save into {folder}: {e}")
            return
    if window.active():
        window.run.worker.request_save(str(folder))
    elif window.stopped_trainer is not None:
        try:
            window._on_saved(str(save_checkpoint(folder, window.stopped_trainer)))
        except OSError as e:
            window.show_error(f"could not save the checkpoint to {folder}: {e}")
    else:
        window.show_error("Nothing to save yet: start training first.")


def choose_checkpoint(window: MainWindow) -> None:
    path = QFileDialog.getExistingDirectory(window, "Open a run folder (with checkpoint.pt)")
    if path:
        window.open_checkpoint(path)


def open_checkpoint(window: MainWindow, path: str) -> bool:
    """Load a checkpoint paused, ready to resume training or to sample from."""
    if window.active():
        window.show_error("Stop the current run before opening a checkpoint.")
        return False
    try:
        ckpt = load_checkpoint(path)
        corpus = window.corpus
        if corpus is None or corpus.tokenizer.chars != ckpt.chars:
            if Path(ckpt.corpus_name).is_file():
                corpus = Corpus.from_file(ckpt.corpus_name)
        if corpus is None:
            raise CheckpointError(f"{ckpt.path}: load the corpus it was trained on first")
        ckpt.check_corpus(corpus)
    except (CheckpointError, CorpusError, ConfigError) as e:
        window.show_error(str(e))
        return False
    if corpus is not window.corpus:
        window._corpus_loaded(corpus)
    window.settings_panel.set_config(ckpt.config)
    window.run_dir = ckpt.path.parent
    rows = read_metrics(window.run_dir / METRICS)
    window.loss_plot.clear()
    window.gradients.clear()
    replay(window, rows, ckpt.step)
    if window.metrics_log is not None:
        window.metrics_log.close()
    window.metrics_log = None  # opened (and trimmed to ckpt.step) only if training resumes
    window.run_dir_step = ckpt.step
    device = window.settings_panel.device()
    launch(window, lambda: restore_trainer(ckpt, corpus, device=device), ckpt.config, ckpt.step,
           start_paused=True)
    window.unsaved = False
    window.statusBar().showMessage(f"Opened {ckpt.path} at step {ckpt.step}", 5000)
    return True


def replay(window: MainWindow, rows: list[dict], up_to: int) -> None:
    """Draw the curve a run directory already holds, up to the checkpoint's step."""
    def number(row, key):  # a missing value (or JSON null) is NaN; 0.0 stays 0.0
        return np.nan if row.get(key) is None else row[key]

    train = [r for r in rows if "loss" in r and r["step"] <= up_to]
    if train:
        def col(key):
            return np.array([number(r, key) for r in train], dtype=np.float64)
        batch = StepBatch(col("step"), col("loss"), col("lr"), col("grad_norm"), col("tokens_per_sec"))
        window.loss_plot.append_steps(batch)
        window.gradients.append_steps(batch)
    for r in rows:
        if "val_loss" in r and r["step"] <= up_to:
            window.loss_plot.append_eval(EvalMetrics(r["step"], number(r, "train_loss"),
                                                     number(r, "val_loss")))
