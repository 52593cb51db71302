"""The way from the demos into the training view, with one of its plots explained.

At the top: which preset suits this machine and why, a choice of preset, and the button
that opens the training view with it (`host.show_training`). Below: a panel for the step's
topic (gptviz/gui/demo_widgets/training_panels.py). The loss, gradient and sample panels
can also show a real run of the `tiny` preset, trained here on a short-lived thread.
"""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from ...lessons import training_preset
from ...lessons.preview_run import PRESET, PreviewRun, preview_corpus, preview_run
from .background import BackgroundJob
from .base import DemoWidget
from .training_panels import PANELS, OptimizerPanel


class TrainingLinkDemo(DemoWidget):
    """state: topic (one of overview, loss, optimizer, lr, gradients, samples; default
    overview), preset (default: the one suited to this machine), preview_steps (the tiny
    run's length, default 300), optimizer_steps (default 10)."""

    def __init__(self, state: dict, host=None, parent=None):
        super().__init__(state, host, parent)
        topic = state.get("topic", "overview")
        if topic not in PANELS:
            raise ValueError(f"topic must be one of {', '.join(PANELS)}, got {topic!r}")
        self.suggested = training_preset.preset_for_machine()
        chosen = state.get("preset", self.suggested)
        if chosen not in training_preset.preset_names():
            raise ValueError(f"unknown preset {chosen!r}")
        self.preview_steps = int(state.get("preview_steps", 300))
        self.preview: PreviewRun | None = None

        self.machine = QLabel()
        self.machine.setObjectName("trainingMachine")
        self.machine.setWordWrap(True)
        self.presets = QComboBox()
        self.presets.setObjectName("trainingPreset")
        self.presets.addItems(training_preset.preset_names())
        self.presets.setCurrentText(chosen)
        self.open_button = QPushButton()
        self.open_button.setObjectName("openTraining")
        self.open_button.setEnabled(host is not None)
        if host is None:
            self.open_button.setToolTip("The training view is part of the main window.")
        self.panel = (OptimizerPanel(int(state.get("optimizer_steps", 10))) if topic == "optimizer"
                      else PANELS[topic]())
        self.panel.setObjectName(f"{topic}Panel")
        self.run_button = QPushButton(f"Train the `{PRESET}` preset for {self.preview_steps} steps here")
        self.run_button.setObjectName("runPreview")
        self.run_button.setVisible(self.panel.uses_preview)
        self.run_status = QLabel()
        self.run_status.setObjectName("previewStatus")
        self.run_status.setWordWrap(True)
        self.job = BackgroundJob(self)
        self.job.progress.connect(self._on_preview)
        self.job.finished.connect(self._on_preview_done)
        self.job.failed.connect(self._on_preview_failed)

        choice = QHBoxLayout()
        choice.addWidget(QLabel("Preset"))
        choice.addWidget(self.presets)
        choice.addWidget(self.open_button, 1)
        run = QHBoxLayout()
        run.addWidget(self.run_button)
        run.addWidget(self.run_status, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.machine)
        layout.addLayout(choice)
        layout.addWidget(self.panel, 1)
        layout.addLayout(run)

        self.presets.currentTextChanged.connect(self._on_preset_chosen)
        self.open_button.clicked.connect(self.open_training)
        self.run_button.clicked.connect(self.run_preview)
        self._on_preset_chosen(chosen)

    @property
    def preset_name(self) -> str:
        return self.presets.currentText()

    def open_training(self) -> None:
        if self.host is not None:
            self.host.show_training(self.preset_name)

    def _on_preset_chosen(self, name: str) -> None:
        self.open_button.setText(f"Open the training view with preset `{name}`")
        self.machine.setText(training_preset.why(name))
        self.panel.set_preset(name)

    # -- a real run of the tiny preset, on a short-lived thread ------------------------------------
    def run_preview(self) -> None:
        steps = self.preview_steps

        def work(should_stop, report):
            return preview_run(preview_corpus(), steps=steps, on_progress=report, should_stop=should_stop)

        if self.job.start(work):
            self.run_button.setEnabled(False)
            self.run_status.setText("Training on a background thread…")

    def _on_preview(self, run: PreviewRun) -> None:
        self.preview = run
        self.panel.show_preview(run)
        self.run_status.setText(f"step {run.steps[-1] if run.steps else 0} of {self.preview_steps} "
                                f"on {run.corpus_name}")

    def _on_preview_done(self, run: PreviewRun) -> None:
        self._on_preview(run)
        self.run_button.setEnabled(True)
        self.run_status.setText(f"Done: {len(run.steps)} steps of `{PRESET}` on {run.corpus_name}, "
                                f"loss {run.losses[0]:.2f} → {run.losses[-1]:.2f}.")

    def _on_preview_failed(self, message: str) -> None:
        self.run_button.setEnabled(True)
        self.run_status.setText(f"The run failed: {message}")

    def result(self) -> dict:
        """The chosen preset's name and what the panel shows in its first state."""
        return {"preset": self.preset_name, **self.panel.result()}

    def stop(self) -> None:
        self.job.stop()
