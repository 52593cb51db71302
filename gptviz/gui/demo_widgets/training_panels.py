"""Small, honest illustrations of the training view's plots, one panel per topic.

Each panel computes what it draws (gptviz/lessons/first_steps.py on the seeded tiny GPT,
the preset's own schedule), and the loss, gradient and sample panels can also show a real
run of the `tiny` preset (gptviz/lessons/preview_run.py) that the demo trains on a
short-lived thread when asked. `result()` returns what the panel shows in its first state.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ...config import preset
from ...lessons import first_steps, tiny_gpt
from ...lessons.preview_run import PreviewRun
from ...lessons.training_preset import SHOWN_SETTINGS, lr_schedule
from ..plot_style import SERIES_COLORS, FollowsPalette, apply_palette, palette_colors, prepare_plot
from .short_thread import on_short_thread

SAMPLE_PROMPT, SAMPLE_CHARS, SAMPLE_SEED = "To be", 60, 42


class Panel(FollowsPalette, QWidget):
    """A caption above one or more plots, coloured like the rest of the window."""

    uses_preview = False  # whether a preview run of the tiny preset adds to this panel

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.caption.setTextFormat(Qt.TextFormat.PlainText)
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self.layout_.addWidget(self.caption)
        self.views: list[pg.GraphicsLayoutWidget] = []
        self.plots: list[pg.PlotItem] = []

    def add_plot(self, title: str, x: str, y: str, place: bool = True) -> pg.PlotItem:
        """A new plot below the caption (or, with place=False, in self.views[-1] for the
        caller to place)."""
        view = pg.GraphicsLayoutWidget()
        view.setMinimumHeight(140)
        plot = view.addPlot(title=title)
        prepare_plot(plot, many_points=False)
        plot.setLabel("bottom", x)
        plot.setLabel("left", y)
        if place:
            self.layout_.addWidget(view, 1)
        self.views.append(view)
        self.plots.append(plot)
        apply_palette(self, [view], [plot])
        return plot

    def set_preset(self, name: str) -> None:
        """The preset chosen above changed (only some panels care)."""

    def show_preview(self, run: PreviewRun) -> None:
        """A (partial) preview run to draw (only panels with uses_preview)."""

    def result(self) -> dict:
        return {}

    def _restyle(self) -> None:
        apply_palette(self, self.views, self.plots)


class OverviewPanel(Panel):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.table = QTableWidget(len(SHOWN_SETTINGS), 2)
        self.table.setObjectName("presetSettings")
        self.table.setHorizontalHeaderLabels(["value", "what it is"])
        self.table.setVerticalHeaderLabels(list(SHOWN_SETTINGS))
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        for row, meaning in enumerate(SHOWN_SETTINGS.values()):
            self.table.setItem(row, 1, QTableWidgetItem(meaning))
        self.layout_.addWidget(self.table, 1)
        views = QLabel("What the training view draws while it trains: <b>the loss</b> (every step, "
                       "smoothed, and on held-out text) with <b>the learning rate</b> below it; "
                       "<b>the gradients</b> (their overall size, each layer's, a histogram and the "
                       "update:data ratio); and <b>samples</b> of the text the model writes.")
        views.setWordWrap(True)
        self.layout_.addWidget(views)
        self.settings: dict = {}

    def set_preset(self, name: str) -> None:
        config = preset(name)
        self.settings = {key: getattr(config, key) for key in SHOWN_SETTINGS}
        for row, key in enumerate(SHOWN_SETTINGS):
            self.table.setItem(row, 0, QTableWidgetItem(str(self.settings[key])))
        self.caption.setText(f"The preset `{name}`: {config.n_layer} blocks of {config.n_head} heads, "
                             f"{config.n_embd} dimensions, reading {config.block_size} characters; "
                             f"{config.max_iters} steps of {config.batch_size} sequences each.")

    def result(self) -> dict:
        return dict(self.settings)


class LossPanel(Panel):
    uses_preview = True

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.loss = on_short_thread(first_steps.initial_loss)
        self.uniform = first_steps.uniform_loss()
        self.plot = self.add_plot("loss", "step", "cross-entropy")
        self.plot.addLine(y=self.uniform, pen=pg.mkPen(SERIES_COLORS[8], style=Qt.PenStyle.DashLine),
                          label=f"ln 65 = {self.uniform:.2f}: guessing evenly",
                          labelOpts={"position": 0.7, "color": SERIES_COLORS[8]})
        self.plot.plot([0], [self.loss], pen=None, symbol="o", symbolBrush=SERIES_COLORS[1], symbolPen=None)
        self.curve = self.plot.plot([], [], pen=pg.mkPen(SERIES_COLORS[0], width=1))
        self.run_uniform = None
        self.plot.setXRange(0, 10)
        self.plot.setYRange(0, self.uniform * 1.15)
        self.caption.setText(f"The untrained tiny GPT's loss on \"{tiny_gpt.SENTENCE}\": {self.loss:.4f}. "
                             f"Guessing all 65 characters evenly would give ln 65 = {self.uniform:.4f}.")

    def show_preview(self, run: PreviewRun) -> None:
        self.curve.setData(np.array(run.steps, float), np.array(run.losses, float))
        self.plot.setXRange(0, max(run.steps[-1] if run.steps else 1, 10))
        if self.run_uniform is None and run.vocab_size != tiny_gpt.TINY_CONFIG.vocab_size:
            even = first_steps.uniform_loss(run.vocab_size)
            self.run_uniform = self.plot.addLine(
                y=even, pen=pg.mkPen(SERIES_COLORS[0], style=Qt.PenStyle.DotLine),
                label=f"ln {run.vocab_size} = {even:.2f}: even among this text's {run.vocab_size} characters",
                labelOpts={"position": 0.6, "color": SERIES_COLORS[0], "anchors": [(0.5, 0.0), (0.5, 0.0)]})
        step = run.steps[-1] if run.steps else 0
        self.caption.setText(f"The tiny preset on {run.corpus_name}, step {step}: "
                             f"loss {run.losses[-1]:.3f} (it started near ln {run.vocab_size}).")

    def result(self) -> dict:
        return {"loss": self.loss, "uniform": self.uniform}


class OptimizerPanel(Panel):
    def __init__(self, steps: int = 10, parent: QWidget | None = None):
        super().__init__(parent)
        self.losses = on_short_thread(lambda: first_steps.optimizer_steps(steps))
        plot = self.add_plot(f"{steps} AdamW steps on one sentence", "step", "loss")
        plot.plot(np.arange(len(self.losses), dtype=float), np.array(self.losses), pen=SERIES_COLORS[0],
                  symbol="o", symbolSize=5, symbolBrush=SERIES_COLORS[0], symbolPen=None)
        self.caption.setText(f"AdamW, lr {first_steps.OPTIMIZER_LR:g}, on \"{tiny_gpt.SENTENCE}\" alone: the "
                             f"loss goes from {self.losses[0]:.3f} to {self.losses[-1]:.3f} in {steps} steps "
                             "as the model memorises it.")

    def result(self) -> dict:
        return {"losses": list(self.losses)}


class LearningRatePanel(Panel):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.plot = self.add_plot("learning rate", "step", "lr")
        self.curve = self.plot.plot([], [], pen=pg.mkPen(SERIES_COLORS[2], width=1))
        self.lrs: list[float] = []

    def set_preset(self, name: str) -> None:
        self.lrs = lr_schedule(name)
        config = preset(name)
        self.curve.setData(np.arange(len(self.lrs), dtype=float), np.array(self.lrs))
        self.plot.setXRange(0, len(self.lrs))
        self.plot.setYRange(0, max(self.lrs) * 1.1)
        self.caption.setText(f"`{name}`: warm up over {config.warmup_iters} steps to {config.lr:g}, then "
                             f"{config.decay} decay to {config.min_lr:g} at step {config.decay_iters}.")

    def result(self) -> dict:
        return {"lrs": list(self.lrs)}


class GradientsPanel(Panel):
    uses_preview = True

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.grads = on_short_thread(first_steps.gradients)
        bars = self.add_plot("gradient norm of each parameter (one backward pass)", "norm", "", place=False)
        n = len(self.grads.norms)
        bars.addItem(pg.BarGraphItem(x0=0, y=np.arange(n, dtype=float), height=0.7,
                                     width=np.array(self.grads.norms), brush=SERIES_COLORS[0], pen=None))
        bars.invertY(True)
        bars.hideAxis("left")
        self.labels = []
        for i, (name, norm) in enumerate(zip(self.grads.names, self.grads.norms)):
            label = pg.TextItem(name, anchor=(0.0, 0.5))
            label.setFont(_small_font())
            label.setPos(norm, i)
            bars.addItem(label)
            self.labels.append(label)
        bars.setYRange(-0.5, n - 0.5, padding=0)
        bars.setXRange(0, max(self.grads.norms) * 1.45, padding=0)
        self.steps_plot = self.add_plot("global gradient norm per step (tiny preset)", "step", "norm",
                                        place=False)
        self.clip_line = None
        self.curve = self.steps_plot.plot([], [], pen=pg.mkPen(SERIES_COLORS[0], width=1))
        self.tabs = QTabWidget()
        self.tabs.setObjectName("gradientTabs")
        self.tabs.addTab(self.views[0], "One backward pass")
        self.tabs.addTab(self.views[1], "A training run")
        self.tabs.setTabEnabled(1, False)
        self.tabs.setTabToolTip(1, "Train the tiny preset (the button below) to fill this in.")
        self.layout_.addWidget(self.tabs, 1)
        self._restyle()
        self.caption.setText(f"The untrained tiny GPT on \"{tiny_gpt.SENTENCE}\": "
                             f"loss {self.grads.loss:.3f}, "
                             f"global gradient norm {self.grads.total:.3f}. The training view clips it to "
                             "1.0 (the dashed line there) so no single step can move the weights too far.")

    def _restyle(self) -> None:
        super()._restyle()
        _, fg = palette_colors(self)
        for label in getattr(self, "labels", []):
            label.setColor(fg)

    def show_preview(self, run: PreviewRun) -> None:
        if not self.tabs.isTabEnabled(1):
            self.tabs.setTabEnabled(1, True)
            self.tabs.setCurrentIndex(1)
        if self.clip_line is None:
            self.clip_line = self.steps_plot.addLine(y=run.clip, pen=pg.mkPen(SERIES_COLORS[3],
                                                                              style=Qt.PenStyle.DashLine))
        self.curve.setData(np.array(run.steps, float), np.array(run.grad_norms, float))
        self.steps_plot.setXRange(0, max(run.steps[-1] if run.steps else 1, 10))
        self.steps_plot.setYRange(0, max([run.clip, *run.grad_norms]) * 1.1)

    def result(self) -> dict:
        return {"grad_norm": self.grads.total, "norms": list(self.grads.norms)}


class SamplesPanel(Panel):
    uses_preview = True

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.text = on_short_thread(
            lambda: first_steps.generate(tiny_gpt.build(), SAMPLE_PROMPT, SAMPLE_CHARS, SAMPLE_SEED))
        self.box = QPlainTextEdit()
        self.box.setObjectName("trainingSamples")
        self.box.setReadOnly(True)
        self.box.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.box.setPlainText(f"untrained tiny GPT, seed {SAMPLE_SEED}:\n{self.text}")
        self.layout_.addWidget(self.box, 1)
        self.caption.setText(f"{SAMPLE_CHARS} characters after \"{SAMPLE_PROMPT}\" from the untrained model: "
                             "every character about equally likely, so it is noise.")

    def show_preview(self, run: PreviewRun) -> None:
        parts = [f"untrained tiny GPT, seed {SAMPLE_SEED}:\n{self.text}"]
        parts += [f"tiny preset on {run.corpus_name}, step {step}:\n{text}" for step, text in run.samples]
        self.box.setPlainText("\n\n".join(parts))

    def result(self) -> dict:
        return {"text": self.text}


def _small_font():
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.GeneralFont)
    font.setPointSizeF(max(font.pointSizeF() * 0.8, 6.0))
    return font


PANELS = {"overview": OverviewPanel, "loss": LossPanel, "optimizer": OptimizerPanel,
          "lr": LearningRatePanel, "gradients": GradientsPanel, "samples": SamplesPanel}
