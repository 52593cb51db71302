"""The frame pacer (redraw less while training) and what the plots do with it: no redraw
behind another tab, a status line that neither floods nor relayouts the window."""

import pytest
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QTabWidget, QWidget

from gptviz.gui.frame_pacer import FASTEST_MS, ROWS_AT_LEAST_EVERY, SAMPLE_SECONDS, SLOWEST_MS, FramePacer
from gptviz.gui.plot_style import RedrawLater
from gptviz.gui.status_bar import SHOW_EVERY_S, TrainingStatus

from .window_helpers import click, pause, stop_run

pytestmark = pytest.mark.timeout(60)


class Clocks:
    """A wall clock and a GUI-thread CPU clock that the test moves by hand."""

    def __init__(self):
        self.wall = self.cpu = 0.0

    def run(self, seconds: float, share: float) -> None:
        self.wall += seconds
        self.cpu += seconds * share


def paced(budget=0.03):
    clocks = Clocks()
    return FramePacer(budget, clock=lambda: clocks.wall, cpu_clock=lambda: clocks.cpu), clocks


def settle(pacer, clocks, share_at, rounds=40):
    """Let the pacer adjust for a while, the GUI's share depending on the interval."""
    for _ in range(rounds):
        interval = pacer.interval_ms()
        clocks.run(SAMPLE_SECONDS, share_at(interval))
    return pacer.interval_ms()


def test_full_rate_unless_a_run_trains():
    pacer, clocks = paced()
    clocks.run(5.0, 0.9)  # drawing busily, but nothing trains
    assert pacer.interval_ms() == FASTEST_MS
    pacer.set_training(True)
    pacer.budget = None  # the user asked for smooth plots
    assert settle(pacer, clocks, lambda ms: 0.9) == FASTEST_MS


def test_the_interval_grows_until_drawing_fits_the_budget_and_shrinks_again():
    pacer, clocks = paced(budget=0.03)
    pacer.set_training(True)
    frame_cpu = 0.004  # seconds of GUI-thread CPU per frame

    def share(ms):
        return frame_cpu / (ms / 1000)

    interval = settle(pacer, clocks, share)
    assert share(interval) == pytest.approx(0.03, rel=0.2)  # ~133 ms for 4 ms frames
    assert FASTEST_MS < interval < SLOWEST_MS
    frame_cpu = 0.0005  # cheaper frames: back to (nearly) full rate
    assert settle(pacer, clocks, share) <= 1.2 * FASTEST_MS
    frame_cpu = 0.1  # frames too dear for any rate within budget: once a second at least
    assert settle(pacer, clocks, share) == SLOWEST_MS


def test_stopping_training_restores_the_full_rate_and_measuring_starts_afresh():
    pacer, clocks = paced()
    pacer.set_training(True)
    assert settle(pacer, clocks, lambda ms: 0.5) == SLOWEST_MS
    assert pacer.share == pytest.approx(0.5)
    clocks.run(5.0, 0.0)
    assert pacer.current_ms == SLOWEST_MS  # reading it measures nothing and changes nothing
    pacer.set_training(False)
    assert pacer.current_ms == FASTEST_MS
    assert pacer.interval_ms() == FASTEST_MS and pacer.share is None
    clocks.run(10.0, 0.9)  # busy while not training (the user's own zooming, say)...
    pacer.set_training(True)
    assert pacer.interval_ms() == SLOWEST_MS  # ...not counted: training resumes at the interval it had
    clocks.run(SAMPLE_SECONDS, 0.0)  # the first reading of the new run: an idle GUI thread
    assert pacer.interval_ms() == SLOWEST_MS // 2


def test_a_run_resumes_at_the_interval_the_last_one_settled_on():
    pacer, clocks = paced()
    pacer.set_training(True)
    settled = settle(pacer, clocks, lambda ms: 0.12 * FASTEST_MS / ms)  # 4x the budget at full rate
    assert FASTEST_MS < settled < SLOWEST_MS
    pacer.set_training(False)
    pacer.set_training(True)
    assert pacer.interval_ms() == settled


class Counting:
    def __init__(self):
        self.redraws = 0

    def __call__(self):
        self.redraws += 1


def test_a_widget_behind_another_tab_draws_when_it_is_shown(qtbot):
    tabs = QTabWidget()
    front, behind = QWidget(), QWidget()
    tabs.addTab(front, "front")
    tabs.addTab(behind, "behind")
    qtbot.addWidget(tabs)
    tabs.show()
    qtbot.waitExposed(tabs)
    redraw = Counting()
    later = RedrawLater(behind, lambda: (later.take(), redraw()))
    later.mark("steps")
    qtbot.wait(4 * FASTEST_MS)
    assert redraw.redraws == 0  # hidden behind "front": nothing drawn
    tabs.setCurrentWidget(behind)
    qtbot.waitUntil(lambda: redraw.redraws == 1, timeout=1000)
    later.mark("steps")
    qtbot.waitUntil(lambda: redraw.redraws == 2, timeout=1000)  # in front: drawn as usual


def test_new_data_waits_for_the_pacer_but_the_users_changes_do_not(qtbot):
    pacer, clocks = paced()
    pacer.set_training(True)
    settle(pacer, clocks, lambda ms: 0.5)  # a busy GUI thread: redraw once a second
    alone = QWidget()
    qtbot.addWidget(alone)
    redraw = Counting()
    later = RedrawLater(alone, lambda: (later.take(), redraw()), pacer=pacer)
    later.mark_data("steps")
    qtbot.wait(300)
    assert redraw.redraws == 0  # new data: drawn within the paced second
    later.mark("view")  # e.g. a timeline snapshot chosen: drawn at once, the data with it
    qtbot.waitUntil(lambda: redraw.redraws == 1, timeout=200)
    qtbot.wait(1200)
    assert redraw.redraws == 1  # nothing left to draw


def test_a_window_not_shown_still_draws(qtbot):
    alone = QWidget()
    qtbot.addWidget(alone)  # never shown (tests, exports): drawing is not held back
    redraw = Counting()
    later = RedrawLater(alone, lambda: (later.take(), redraw()))
    later.mark("steps")
    qtbot.waitUntil(lambda: redraw.redraws == 1, timeout=1000)


class LayoutRequests(QObject):
    def __init__(self):
        super().__init__()
        self.count = 0

    def eventFilter(self, obj, event):  # noqa: N802
        if event.type() == QEvent.Type.LayoutRequest:
            self.count += 1
        return False


def test_the_status_line_shows_the_latest_step_a_few_times_a_second_without_relayout(qtbot):
    status = TrainingStatus()
    qtbot.addWidget(status)
    status.show()
    qtbot.waitExposed(status)
    status.reset(0, 1000)
    status.set_state("running")
    qtbot.wait(50)
    requests = LayoutRequests()
    status.installEventFilter(requests)
    status.update_step(1, 1000, 4.1234, 900.0)
    assert status.step.text() == "step 1 / 1000"  # the first is shown at once
    for step in range(2, 40):
        status.update_step(step, 1000, 4.0 - step / 100, 1000.0 + step)
    assert status.step.text() == "step 1 / 1000"  # the rest wait for the next quarter second
    qtbot.waitUntil(lambda: status.step.text() == "step 39 / 1000", timeout=int(4000 * SHOW_EVERY_S))
    assert status.loss.text() == "loss 3.6100" and status.speed.text() == "1,039 tok/s"
    status.update_step(40, 1000, 3.5, 1040.0)
    status.set_state("paused")  # a state change shows the latest step at once
    assert status.step.text() == "step 40 / 1000"
    qtbot.wait(50)
    assert requests.count == 0  # new text never relayouts the status bar (and the window)


def test_the_window_paces_its_plots_only_while_training(make_window, qtbot):
    from gptviz.gui.frame_pacer import PACER
    w = make_window()
    assert not PACER.training
    click(qtbot, w, "trainButton")
    qtbot.waitUntil(lambda: w.last_step >= 5, timeout=30_000)
    assert PACER.training
    pause(qtbot, w)
    assert not PACER.training  # paused: the plots redraw at full rate
    click(qtbot, w, "pauseButton")
    qtbot.waitUntil(lambda: w.state == "running", timeout=5_000)
    assert PACER.training
    stop_run(qtbot, w)
    assert not PACER.training


def test_smooth_plots_is_a_choice_in_the_training_menu_remembered_between_launches(make_window):
    from gptviz.gui.frame_pacer import DEFAULT_BUDGET, PACER
    w = make_window()
    smooth = w.actions_["smooth_plots"]
    assert smooth in w.menuBar().actions()[1].menu().actions()  # Training menu
    assert not smooth.isChecked() and PACER.budget == DEFAULT_BUDGET
    smooth.trigger()
    assert smooth.isChecked() and PACER.budget is None
    w.close()
    w2 = make_window()
    assert w2.actions_["smooth_plots"].isChecked() and PACER.budget is None
    w2.actions_["smooth_plots"].trigger()
    assert PACER.budget == DEFAULT_BUDGET


def _tab_switch_paints(qtbot, steady: bool) -> list[int]:
    """Paints of each plot view on a tab page that is shown again, for a few switches."""
    import pyqtgraph as pg

    from gptviz.gui.plot_style import SceneStaysActive

    paints = []

    class Counted(pg.PlotWidget):
        def paintEvent(self, event):  # noqa: N802 (Qt's name)
            paints.append(self)
            super().paintEvent(event)

    tabs = QTabWidget()
    views = []
    for name in ("a", "b"):
        view = Counted()
        view.plot([1.0, 3.0, 2.0])
        if steady:
            SceneStaysActive(view)
        tabs.addTab(view, name)
        views.append(view)
    qtbot.addWidget(tabs)
    tabs.resize(500, 400)
    tabs.show()
    qtbot.waitExposed(tabs)
    counts = []
    for index in (1, 0, 1, 0):
        qtbot.wait(100)
        paints.clear()
        tabs.setCurrentIndex(index)
        qtbot.waitUntil(lambda: len(paints) > 0, timeout=2000)
        qtbot.wait(150)  # any repaints that follow
        counts.append(len(paints))
    if steady:
        assert all(v.scene().isActive() for v in views)
    return counts


def test_a_plot_shown_again_paints_once(qtbot):
    assert _tab_switch_paints(qtbot, steady=True)[1:] == [1, 1, 1]


def test_without_it_a_plot_paints_more_than_once_when_shown(qtbot):
    """The check above can fail: a pyqtgraph view's scene passes the activation events of
    every show to its widgets, which each ask for a repaint."""
    assert max(_tab_switch_paints(qtbot, steady=False)) > 1


def test_step_rows_are_sent_as_often_as_the_plots_redraw_but_at_least_four_times_a_second():
    pacer, clocks = paced()
    assert pacer.rows_every() == FASTEST_MS / 1000  # not training: ~30 a second
    pacer.set_training(True)
    assert settle(pacer, clocks, lambda ms: 0.03 * 2 * FASTEST_MS / ms) > FASTEST_MS  # twice the budget
    assert pacer.rows_every() == pytest.approx(pacer.current_ms / 1000)
    settle(pacer, clocks, lambda ms: 0.5)  # drawing is dear: a redraw a second
    assert pacer.current_ms == SLOWEST_MS and pacer.rows_every() == ROWS_AT_LEAST_EVERY
