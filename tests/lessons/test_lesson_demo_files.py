"""The tensors, broadcasting and matmul demo files load, with the widget kinds the window knows."""

import pytest

from gptviz.demos import DEMOS_DIR, load_demo
from gptviz.gui.demo_widgets import KINDS


@pytest.mark.parametrize("file,name", [("01-tensors.toml", "tensors"),
                                       ("02-broadcasting.toml", "broadcasting"),
                                       ("03-matmul.toml", "matmul")])
def test_the_demo_file_loads(file, name):
    demo = load_demo(DEMOS_DIR / file)
    assert demo.name == name
    assert 3 <= len(demo) <= 6
    assert all(step.widget in KINDS and step.code and step.check for step in demo.steps)
