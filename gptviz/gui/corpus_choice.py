"""Choosing the text to train on: the main window's corpus commands and how it shows the
loader's reports (corpus_loader.py reads or downloads the text off the GUI thread).

The functions take the window and use its corpus label and notice, settings panel,
loader and error banner; the loader's signals reach them through the window's slots.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFileDialog

from ..config import TrainConfig
from ..corpus import Corpus, CorpusError

if TYPE_CHECKING:
    from .main_window import MainWindow


def load_corpus(window: MainWindow, path: str | None) -> None:
    """Load a text file, or with None the default corpus (downloaded if needed)."""
    window.corpus_path = path
    window.corpus_label.setText(f"Corpus: loading {path or 'Tiny Shakespeare'}…")
    window.loader.load(path)
    window._update_controls()


def choose_corpus(window: MainWindow) -> None:
    path, _ = QFileDialog.getOpenFileName(window, "Open a UTF-8 text file", "",
                                          "Text (*.txt);;All files (*)")
    if path:
        window.load_corpus(path)


def corpus_loaded(window: MainWindow, corpus: Corpus) -> None:
    window.corpus = corpus
    window.corpus_label.setText(f"Corpus: {Path(corpus.name).name} — {len(corpus.text):,} characters, "
                                f"{corpus.vocab_size} distinct")
    window.corpus_label.setToolTip(corpus.name)
    window.corpus_notice.setText(corpus.notice or "")
    window.corpus_notice.setVisible(bool(corpus.notice))
    window.settings_panel.revalidate()
    window._update_controls()


def corpus_failed(window: MainWindow, message: str) -> None:
    label = window.corpus_label
    label.setText("Corpus: none loaded" if window.corpus is None else label.text())
    window.show_error(f"Corpus: {message}")
    window._update_controls()


def corpus_cancelled(window: MainWindow) -> None:
    window.show_error("Download cancelled. Open a text file, or retry with File → Use Tiny Shakespeare.")
    window._update_controls()


def check_against_corpus(window: MainWindow, config: TrainConfig) -> str | None:
    """The settings panel's extra check: a block_size the loaded corpus can serve."""
    if window.corpus is None:
        return None
    try:
        window.corpus.check_block_size(config.block_size)
    except CorpusError as e:
        return f"block_size: {e}"
    return None
