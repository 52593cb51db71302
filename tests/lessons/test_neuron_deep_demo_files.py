"""The neuron and deep-learning demo files load, with the widget kinds the window knows."""

import pytest

from gptviz.demos import DEMOS_DIR, load_demo
from gptviz.gui.demo_widgets import KINDS


@pytest.mark.parametrize("file,name,kinds", [("06-neuron.toml", "neuron", {"neuron", "feature_neuron"}),
                                             ("07-deep-learning.toml", "deep-learning", {"toy2d"})])
def test_the_demo_file_loads(file, name, kinds):
    demo = load_demo(DEMOS_DIR / file)
    assert demo.name == name
    assert 3 <= len(demo) <= 6
    assert {step.widget for step in demo.steps} == kinds <= set(KINDS)
    assert all(step.code and step.check and "steps" in step.state for step in demo.steps)
