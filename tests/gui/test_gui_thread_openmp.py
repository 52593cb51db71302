"""The GUI thread runs small tensors (the autograd explorer, the demos) without ever starting
an OpenMP thread team, which would halve the training thread's speed (DEVELOPERS.md), and
paints without Qt's pool of painting threads (gui/app.py: NO_PAINT_THREADS)."""

import os
import subprocess
import sys

import pytest

CODE = r"""
import os, json
from gptviz.gui.app import ensure_app
from gptviz.gui.autograd_view import AutogradView

def threads():
    return len(os.listdir("/proc/self/task"))

ensure_app()
view = AutogradView()
before = threads()
W = json.dumps([[0.01 * (i + j) for j in range(100)] for i in range(100)])
view.set_program("h = tanh(W @ W) * 2 + W\ns = sum(h*h)", {"W": W})
view.step("backward"); view.step("backward"); view.step("backward")
import torch
torch.randn(400, 400) @ torch.randn(400, 400)      # big enough that torch would go parallel
print(before, threads())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="counts threads in /proc")
@pytest.mark.timeout(120)
def test_torch_on_the_gui_thread_starts_no_thread_team():
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "OMP_NUM_THREADS": "2"}
    r = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, env=env, timeout=100)
    assert r.returncode == 0, r.stderr
    before, after = map(int, r.stdout.split())
    assert after == before, f"{after - before} new thread(s): an OpenMP team was started on the GUI thread"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="counts threads in /proc")
@pytest.mark.timeout(120)
def test_without_the_limit_the_same_work_does_start_a_team():
    """The check above can fail: the same work without `alone()` starts a team."""
    code = CODE.replace("ensure_app()", "ensure_app()\nimport gptviz.openmp as o\n"
                        "o.openmp_runtime().omp_set_num_threads(2)")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "OMP_NUM_THREADS": "2"}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=100)
    assert r.returncode == 0, r.stderr
    before, after = map(int, r.stdout.split())
    assert after > before


PAINT = r"""
import os
from PySide6.QtGui import QColor, QImage, QPainter, QPen

def threads():
    return len(os.listdir("/proc/self/task"))

SETUP
before = threads()
image = QImage(800, 600, QImage.Format.Format_ARGB32_Premultiplied)
painter = QPainter(image)
painter.setPen(QPen(QColor(0, 0, 0, 40)))  # a faint grid line: one span per pixel row
for x in range(0, 800, 8):
    painter.drawLine(x, 0, x, 599)
painter.end()
print(before, threads())
"""


def _paint_threads(setup: str) -> tuple[int, int]:
    env = {k: v for k, v in os.environ.items() if k != "QT_NO_GUI_THREADPOOL"}
    env["QT_QPA_PLATFORM"] = "offscreen"
    r = subprocess.run([sys.executable, "-c", PAINT.replace("SETUP", setup)], capture_output=True,
                       text=True, env=env, timeout=100)
    assert r.returncode == 0, r.stderr
    before, after = map(int, r.stdout.split())
    return before, after


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="counts threads in /proc")
@pytest.mark.timeout(120)
def test_painting_in_the_app_starts_no_painting_threads():
    before, after = _paint_threads("from gptviz.gui.app import ensure_app\nensure_app()")
    assert after == before, f"{after - before} new thread(s): Qt's painting pool was started"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="counts threads in /proc")
@pytest.mark.timeout(120)
def test_a_plain_qt_app_does_start_painting_threads():
    """The check above can fail: the same painting in a QApplication made without
    ensure_app() hands its fills to Qt's pool."""
    before, after = _paint_threads("from PySide6.QtWidgets import QApplication\napp = QApplication([])")
    assert after > before
