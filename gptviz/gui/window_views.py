"""The main window's widgets: the Training tab (corpus, settings, controls, plots, samples),
the Autograd and Demos tabs, and the status bar.

`build_views` creates them as attributes of the window (window.settings_panel,
window.loss_plot, window.buttons, window.views, …) and connects them to its slots; what
the buttons do is wired in window_actions.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSplitter, QVBoxLayout, QWidget

from ..config import TrainConfig
from . import diagnostics_views, inside_views, window_timeline
from .autograd_view import AutogradView
from .demos_view import DemosView
from .gradient_plots import GradientsPanel
from .loss_plot import LossPlot
from .quiet_tabs import QuietTabWidget
from .samples_view import SamplesView
from .settings_panel import SettingsPanel
from .status_bar import TrainingStatus

if TYPE_CHECKING:
    from .main_window import MainWindow

ERROR_STYLE = "color: #d04040; font-weight: bold;"
NOTICE_STYLE = "color: #c08000;"

CONTROL_BUTTONS = (("trainButton", "Start"), ("pauseButton", "Pause"), ("stepButton", "Step"),
                   ("stopButton", "Stop"), ("saveButton", "Save"),
                   ("openCheckpointButton", "Open checkpoint…"))


def build_views(window: MainWindow, config: TrainConfig) -> None:
    """Create the window's tabs and status bar, preconfigured with config."""
    splitter = _training_splitter(window, config)
    controls = _controls(window)
    window.error_banner = QLabel()
    window.error_banner.setObjectName("errorBanner")
    window.error_banner.setWordWrap(True)
    window.error_banner.setStyleSheet(ERROR_STYLE)
    window.error_banner.hide()

    page = QWidget()
    layout = QVBoxLayout(page)
    layout.addLayout(controls)
    layout.addWidget(window.error_banner)
    layout.addWidget(diagnostics_views.build_warnings(window))  # hidden until there is one
    layout.addWidget(splitter, 1)
    layout.addWidget(window_timeline.build(window))  # under every view it steers

    window.views = QuietTabWidget()
    window.views.setObjectName("views")
    window.views.addTab(page, "Training")
    window.autograd = AutogradView()
    window.views.addTab(window.autograd, "Autograd")
    window.demos = DemosView(host=window)
    window.views.addTab(window.demos, "Demos")
    window.setCentralWidget(window.views)
    window.status = TrainingStatus(window)
    window.setStatusBar(window.status)


def _training_splitter(window: MainWindow, config: TrainConfig) -> QSplitter:
    """Corpus and settings | tabs: loss and gradient plots, attention | samples over the
    next-character probabilities."""
    window.settings_panel = SettingsPanel()
    window.settings_panel.set_config(config)
    window.settings_panel.set_extra_check(window._check_against_corpus)
    window.settings_panel.validityChanged.connect(lambda *_: window._update_controls())
    window.settings_panel.configChanged.connect(window._update_controls)  # e.g. max_iters raised

    window.corpus_label = QLabel("Corpus: loading…")
    window.corpus_label.setObjectName("corpusLabel")
    window.corpus_label.setWordWrap(True)
    window.corpus_notice = QLabel()
    window.corpus_notice.setObjectName("corpusNotice")
    window.corpus_notice.setWordWrap(True)
    window.corpus_notice.setStyleSheet(NOTICE_STYLE)
    window.corpus_notice.hide()
    open_text = QPushButton("Open text file…")
    open_text.setObjectName("openCorpusButton")
    open_text.clicked.connect(window.choose_corpus)

    side = QWidget()
    side_layout = QVBoxLayout(side)
    side_layout.setContentsMargins(0, 0, 0, 0)
    side_layout.addWidget(window.corpus_label)
    side_layout.addWidget(window.corpus_notice)
    side_layout.addWidget(open_text)
    side_layout.addWidget(window.settings_panel, 1)

    window.loss_plot = LossPlot()
    window.gradients = GradientsPanel()
    window.gradients.set_clip(config.grad_clip)
    window.samples = SamplesView()
    window.samples.sampleRequested.connect(window.sample_now)
    window.samples.settingsChanged.connect(window._push_sample_settings)

    plots = QSplitter(Qt.Orientation.Vertical)
    plots.setObjectName("plotsSplitter")
    plots.addWidget(window.loss_plot)
    plots.addWidget(window.gradients)
    window.main_splitter = QSplitter(Qt.Orientation.Horizontal)
    window.main_splitter.setObjectName("mainSplitter")
    window.main_splitter.addWidget(side)
    window.training_tabs = QuietTabWidget()  # the curves, and views of the model's inside
    window.training_tabs.setObjectName("trainingTabs")
    window.training_tabs.addTab(plots, "Curves")
    window.training_tabs.addTab(inside_views.build_attention(window), "Attention")
    window.training_tabs.addTab(diagnostics_views.build_activations(window), "Activations")
    window.main_splitter.addWidget(window.training_tabs)
    window.main_splitter.addWidget(inside_views.build_samples_column(window))
    window.main_splitter.setStretchFactor(1, 3)
    window.plots_splitter = plots
    return window.main_splitter


def _controls(window: MainWindow) -> QHBoxLayout:
    """The row of run buttons (Start, Pause, …), as window.buttons by object name."""
    window.buttons = {}
    controls = QHBoxLayout()
    for name, text in CONTROL_BUTTONS:
        button = QPushButton(text)
        button.setObjectName(name)
        controls.addWidget(button)
        window.buttons[name] = button
    controls.addStretch(1)
    return controls
