import gc

import pytest

from .window_helpers import LONG


@pytest.fixture(autouse=True)
def _isolated_gui_state(tmp_path, monkeypatch):
    """Each GUI test gets its own QSettings file and runs folder."""
    monkeypatch.setenv("GPTVIZ_SETTINGS_FILE", str(tmp_path / "settings.ini"))
    monkeypatch.setenv("GPTVIZ_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")


@pytest.fixture(autouse=True)
def _plots_at_full_rate():
    """No test inherits another's frame pacing (frame_pacer.py: slower redraws while training)."""
    from gptviz.gui.frame_pacer import PACER
    PACER.set_training(False)
    yield
    PACER.set_training(False)


@pytest.fixture(autouse=True)
def _collect_garbage_on_the_gui_thread(qapp):
    """As the app does (gui/gc_policy.py): no automatic collection on worker threads,
    and whatever a test left behind is collected here, on the GUI thread."""
    from gptviz.gui.gc_policy import collect_on_gui_thread
    collect_on_gui_thread()
    yield
    gc.collect()


@pytest.fixture
def demo_widget(qtbot):
    """`make(kind, state)`: a demo widget, shown at 700×600 and exposed; stopped afterwards."""
    from gptviz.gui.demo_widgets import make_widget
    made = []

    def make(kind, state):
        w = make_widget(kind, state)
        qtbot.addWidget(w)
        w.resize(700, 600)
        w.show()
        qtbot.waitExposed(w)
        made.append(w)
        return w
    yield make
    for w in made:
        w.stop()


@pytest.fixture
def make_window(qtbot, shakespeare_path):
    """`make(*argv, corpus=..., wait_corpus=True, size=None)`: the real window, shown, its
    corpus loaded; shut down (and its training thread checked stopped) afterwards."""
    from PySide6.QtWidgets import QMessageBox

    from gptviz.gui import build_main_window
    windows = []

    def make(*args, corpus=shakespeare_path, wait_corpus=True, size=None):
        argv = (["--corpus", str(corpus)] if corpus else []) + list(args or LONG)
        w = build_main_window(argv)
        w.ask_save_on_close = lambda: QMessageBox.StandardButton.Discard
        qtbot.addWidget(w)
        if size:
            w.resize(*size)
        w.show()
        windows.append(w)
        if wait_corpus:
            qtbot.waitUntil(lambda: w.corpus is not None and not w.loader.busy(), timeout=15_000)
        return w

    yield make
    for w in windows:
        w.shutdown()
        assert w.run is None or not w.run.is_running()
