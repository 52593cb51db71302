"""Every demo, every step: it loads, renders offscreen, and its code computes what its widget shows."""

import math

import pytest
import torch
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPlainTextEdit, QPushButton

from gptviz.demos import all_demos, resolve
from gptviz.gui.demos_view import DemosView

STEPS = [(demo.name, i) for demo in all_demos() for i in range(len(demo))]


def plain(value):
    """A value as plain Python, so a tensor and the list a widget shows compare equal."""
    if isinstance(value, torch.Tensor):
        return value.detach().tolist()
    if isinstance(value, torch.Size):
        return list(value)
    if isinstance(value, torch.dtype):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def assert_same(expected, shown, where):
    expected, shown = plain(expected), plain(shown)
    if isinstance(expected, float) or isinstance(shown, float):
        assert isinstance(shown, (int, float)), (where, expected, shown)
        assert isinstance(expected, (int, float)), (where, expected, shown)
        assert math.isclose(expected, shown, rel_tol=1e-5, abs_tol=1e-6), (where, expected, shown)
    elif isinstance(expected, list):
        assert isinstance(shown, list) and len(shown) == len(expected), (where, expected, shown)
        for i, (a, b) in enumerate(zip(expected, shown)):
            assert_same(a, b, f"{where}[{i}]")
    else:
        assert expected == shown, (where, expected, shown)


@pytest.fixture
def view(qtbot):
    v = DemosView()
    qtbot.addWidget(v)
    v.resize(1300, 800)
    v.show()
    qtbot.waitExposed(v)
    yield v
    v.stop()


def test_the_demos_are_listed_in_the_order_of_their_files(view):
    demos = all_demos()
    assert [d.path.name for d in demos] == sorted(d.path.name for d in demos)
    assert [view.list.item(i).text() for i in range(view.list.count())] == \
        [f"{i}. {d.title}" for i, d in enumerate(demos, 1)]
    assert view.names()[:5] == ["tensors", "broadcasting", "matmul", "autograd", "backprop"]


@pytest.mark.parametrize("name,index", STEPS, ids=[f"{n}-{i + 1}" for n, i in STEPS])
def test_each_step_renders_and_its_code_matches_its_widget(view, name, index):
    view.open(name, index)
    demo = view.demo
    step = demo.steps[index]
    assert view.progress.text() == f"step {index + 1} of {len(demo)}"
    assert view.code.toPlainText() == step.code
    assert step.title in view.text.toPlainText()
    assert view.widget is not None and not view.problem.isVisible()
    image = view.grab().toImage()
    colours = {image.pixel(x, y) for x in range(0, image.width(), 13) for y in range(0, image.height(), 13)}
    assert len(colours) > 10, "the step rendered blank"
    if step.check is None:
        return
    variables = {"torch": torch}
    exec(compile(step.code, f"{demo.path.name}, step {index + 1}", "exec"), variables)  # our own demo data
    shown = view.widget.result()
    if isinstance(step.check, str):
        assert_same(resolve(variables, step.check), shown, step.check)
    else:
        for key, path in step.check.items():
            assert_same(resolve(variables, path), shown[key], f"{key} = {path}")


def test_keyboard_and_buttons_navigate(qtbot, view):
    view.open("backprop")
    qtbot.keyClick(view, Qt.Key.Key_PageDown)
    assert view.index == 1
    qtbot.keyClick(view, Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier)
    assert view.index == 2 and view.progress.text() == f"step 3 of {len(view.demo)}"
    qtbot.keyClick(view, Qt.Key.Key_PageUp)
    assert view.index == 1
    qtbot.keyClick(view, Qt.Key.Key_Home, Qt.KeyboardModifier.ControlModifier)
    assert view.index == 0
    assert not view.findChild(QPushButton, "demoPrev").isEnabled()
    for _ in range(len(view.demo) + 2):       # Next stops at the last step
        qtbot.mouseClick(view.findChild(QPushButton, "demoNext"), Qt.MouseButton.LeftButton)
    assert view.index == len(view.demo) - 1
    assert not view.findChild(QPushButton, "demoNext").isEnabled()
    qtbot.mouseClick(view.findChild(QPushButton, "demoRestart"), Qt.MouseButton.LeftButton)
    assert view.index == 0
    assert view.findChild(QPlainTextEdit, "demoCode").toPlainText() == view.demo.steps[0].code


def test_choosing_a_demo_in_the_list_opens_it(view):
    view.list.setCurrentRow(view.names().index("autograd"))
    assert view.demo.name == "autograd" and view.index == 0
    assert view.title.text() == "Autograd"


def test_the_window_opens_a_demo_and_the_training_view(qtbot, shakespeare_path):
    from gptviz.gui import build_main_window
    window = build_main_window(["--corpus", str(shakespeare_path), "--preset", "tiny"])
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.corpus is not None and not window.loader.busy(), timeout=15_000)
    window.show_demo("backprop", 2)
    assert window.views.currentWidget() is window.demos
    assert window.demos.progress.text() == f"step 3 of {len(window.demos.demo)}"
    window.show_training("cpu")
    assert window.views.currentIndex() == 0
    assert window.settings_panel.config().n_layer == 4 and window.settings_panel.config().max_iters == 2000
    window.shutdown()
