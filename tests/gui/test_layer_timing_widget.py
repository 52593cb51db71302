"""The timing demo: Run times a loop and a matmul on a short-lived thread, never the GUI thread;
the loop's numbers equal the matmul's; a CPU-only machine is told so."""

import threading
import time

import pytest
from PySide6.QtCore import Qt

from gptviz.gui.demo_widgets import layer_timing
from gptviz.lessons.matmul_timing import DeviceRace, Timing

SMALL = {"neurons": 120, "inputs": 400, "budget_seconds": 5.0}


@pytest.fixture
def timing(demo_widget):
    return lambda state: demo_widget("layer_timing", state)


def test_run_times_the_loop_and_the_matmul_off_the_gui_thread(qtbot, timing, monkeypatch):
    threads = []
    real = layer_timing.race_loop_vs_matmul

    def spy(*args, **kwargs):
        threads.append(threading.current_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(layer_timing, "race_loop_vs_matmul", spy)
    w = timing({"part": "loop", **SMALL})
    assert w.result() == {"device": w.device, "cpu_only": w.device == "cpu", "shape": [120]}
    with qtbot.waitSignal(w.finished, timeout=20_000):
        qtbot.mouseClick(w.run_button, Qt.MouseButton.LeftButton)
        assert w.running() and not w.run_button.isEnabled() and w.progress.isVisible()
    assert threads and threads[0] is not threading.main_thread()
    qtbot.waitUntil(lambda: not threads[0].is_alive(), timeout=2000)    # it ended: short-lived
    shown = w.result()
    assert shown["agree"] is True and shown["loop_neurons"] == 120 and shown["shape"] == [120]
    assert shown["loop_seconds"] > shown["matmul_seconds"] > 0
    assert [label for label, _, _ in w.bars.rows] == ["Python loop", "one matmul"]
    assert "all 120 neurons" in w.bars.rows[0][2]
    assert "faster" in w.verdict.text() and "✓ The same numbers" in w.verdict.text()
    assert w.run_button.isEnabled() and not w.progress.isVisible()


def test_a_loop_out_of_time_is_extrapolated_and_says_so(qtbot, timing):
    w = timing({"part": "loop", "neurons": 500, "inputs": 400, "budget_seconds": 0.0})
    with qtbot.waitSignal(w.finished, timeout=20_000):
        w.run()
    assert w.result()["loop_neurons"] == 1 and w.result()["agree"] is True
    assert "extrapolated; the loop did 1 of 500 neurons" in w.bars.rows[0][2]


def test_a_cpu_only_machine_is_told_so_and_times_the_cpu(qtbot, timing, monkeypatch):
    monkeypatch.setattr(layer_timing, "available_device", lambda: "cpu")
    w = timing({"part": "device", "neurons": 64, "inputs": 128, "batch": 32})
    assert "no GPU that torch can use" in w.where.text()
    assert w.result() == {"device": "cpu", "cpu_only": True, "shape": [64, 32]}
    with qtbot.waitSignal(w.finished, timeout=20_000):
        w.run()
    assert [label for label, _, _ in w.bars.rows] == ["CPU, W @ x (1 input)", "CPU, W @ X (32 inputs)"]
    assert "No GPU here" in w.verdict.text()
    assert w.result()["device_seconds"] is None and w.result()["cpu_seconds"] > 0


def test_leaving_the_step_stops_a_run(qtbot, timing):
    w = timing({"part": "loop", "neurons": 10_000, "inputs": 2000, "budget_seconds": 60.0})   # ~1.5 s of loop
    started = time.monotonic()
    w.run()
    assert time.monotonic() - started < 0.5 and w.running()       # run() does not wait for the work
    qtbot.wait(100)
    w.stop()
    assert not w.running() and time.monotonic() - started < 5
    assert w.outcome is None


def test_a_failure_on_the_thread_is_shown(qtbot, timing, monkeypatch):
    def broken(*args, **kwargs):
        raise MemoryError("pretend")

    monkeypatch.setattr(layer_timing, "race_loop_vs_matmul", broken)
    w = timing({"part": "loop", **SMALL})
    with qtbot.waitSignal(w.finished, timeout=5000):
        w.run()
    assert w.problem.isVisible() and w.problem.text() == "MemoryError: pretend"
    assert w.run_button.isEnabled()


def test_a_gpu_race_is_shown_against_the_cpu(qtbot, timing, monkeypatch):
    """No GPU on the development machine: what a CUDA run reports is fed in through the relay."""
    monkeypatch.setattr(layer_timing, "available_device", lambda: "cuda")
    w = timing({"part": "device", "neurons": 1000, "inputs": 2000, "batch": 1000})
    assert "NVIDIA GPU (CUDA)" in w.where.text()
    race = DeviceRace("cuda", "NVIDIA H200", 1000, Timing(2e-4, 100), Timing(0.1, 4), Timing(1e-5, 500),
                      Timing(1e-4, 500), 0.004, 3e-5)
    with qtbot.waitSignal(w.finished, timeout=5000):
        w._relay.finished.emit(race)
    assert [seconds for _, seconds, _ in w.bars.rows] == [2e-4, 0.1, 1e-5, 1e-4]
    assert "NVIDIA H200</b>: the batch is 1,000× faster there; one input 20.0×" in w.verdict.text()
    assert "took 4 ms" in w.verdict.text()
    assert w.result()["device_seconds"] == 1e-4 and w.result()["device"] == "cuda"
