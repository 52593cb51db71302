"""The GUI thread runs small tensors (the autograd explorer, the demos) without ever starting
an OpenMP thread team, which would halve the training thread's speed (DEVELOPERS.md)."""

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
