"""The live plots: History storage, LossPlot and GradientsPanel with synthetic data."""

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPalette
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QListWidget

from gptviz.gui.gradient_plots import GradientsPanel, is_weight_matrix, layer_group
from gptviz.gui.history import History
from gptviz.gui.loss_plot import LossPlot
from gptviz.gui.payloads import Diagnostics, StepBatch
from gptviz.metrics import EvalMetrics, Histogram

pytestmark = pytest.mark.timeout(30)

PARAMS = ["wte.weight", "wpe.weight", "blocks.0.ln_1.weight", "blocks.0.attn.c_attn.weight",
          "blocks.0.attn.c_attn.bias", "blocks.0.mlp.c_fc.weight", "blocks.1.attn.c_attn.weight",
          "ln_f.weight", "ln_f.bias"]


def batch(first: int, n: int, seed: int = 0) -> StepBatch:
    rng = np.random.default_rng(seed + first)
    steps = np.arange(first, first + n, dtype=np.float64)
    loss = 2.0 + np.exp(-steps / 200) + rng.normal(0, 0.05, n)
    lr = np.full(n, 1e-3)
    return StepBatch(steps, loss, lr, 0.5 + rng.random(n), np.full(n, 1000.0))


def direct_ema(values, weight):
    out, last = [], None
    for v in values:
        last = v if last is None else weight * last + (1 - weight) * v
        out.append(last)
    return np.array(out)


def diagnostics(step: int, scale: float = 1.0) -> Diagnostics:
    d = Diagnostics(step)
    for i, name in enumerate(PARAMS):
        d.grad_norms[name] = scale * (i + 1) * 0.1
        d.update_ratios[name] = 1e-3 * (i + 1) / 3
        counts = np.zeros(64, np.float32)
        counts[i] = 10 * (i + 1) * scale  # one distinctive bin per parameter
        d.histograms[name] = Histogram(counts, -0.01 * (i + 1), 0.01 * (i + 1))
    return d


def curves(plot: pg.PlotItem) -> dict:
    return {c.name(): c for c in plot.listDataItems()}


def n_points(curve: pg.PlotDataItem) -> int:
    return 0 if curve.xData is None else len(curve.xData)


def not_one_colour(path) -> bool:
    image = QImage(str(path))
    assert not image.isNull()
    first = image.pixel(0, 0)
    return any(image.pixel(x, y) != first
               for x in range(0, image.width(), 7) for y in range(0, image.height(), 7))


@pytest.fixture
def loss_plot(qtbot):
    w = LossPlot()
    qtbot.addWidget(w)
    w.resize(600, 400)
    w.show()
    return w


@pytest.fixture
def grads(qtbot):
    w = GradientsPanel()
    qtbot.addWidget(w)
    w.resize(900, 600)
    w.show()
    return w


def loss_items(w: LossPlot) -> tuple[pg.PlotItem, pg.PlotItem]:
    layout = w.findChild(pg.GraphicsLayoutWidget).ci
    return layout.getItem(0, 0), layout.getItem(1, 0)


def panel_plot(w: GradientsPanel, title_start: str) -> pg.PlotItem:
    for pw in w.findChildren(pg.PlotWidget):
        if pw.getPlotItem().titleLabel.text.startswith(title_start):
            return pw.getPlotItem()
    raise LookupError(title_start)


# -- History ---------------------------------------------------------------------------

def test_history_appends_batches_into_growing_arrays():
    h = History.for_steps()
    for first in range(1, 3001, 100):
        h.append_batch(batch(first, 100))
    assert len(h) == 3000
    assert h.x.dtype == np.float64
    np.testing.assert_array_equal(h.x, np.arange(1, 3001))
    np.testing.assert_array_equal(h["loss"][-100:], batch(2901, 100).loss)
    assert h.x.base is not None  # a view of the storage, not a fresh copy


def test_history_thins_old_rows_and_keeps_first_and_last_steps():
    h = History(("loss",), capacity=1000)
    for first in range(1, 20_001, 250):
        h.append(np.arange(first, first + 250), {"loss": np.ones(250)})
    assert len(h) <= 1000
    assert all(len(a) <= 1000 for a in h._data.values())  # memory bounded
    assert h.x[0] == 1 and h.x[-1] == 20_000
    assert np.all(np.diff(h.x) > 0)
    assert np.all(np.diff(h.x[-200:]) == 1)  # the newest rows keep full resolution


def test_history_ema_is_incremental_and_matches_direct_computation():
    h = History(("loss",))
    values = np.random.default_rng(1).normal(size=500)
    for start in range(0, 500, 37):  # smoothed() called between appends: incremental
        h.append(np.arange(start, min(start + 37, 500)), {"loss": values[start:start + 37]})
        h.smoothed("loss", 0.9)
    np.testing.assert_allclose(h.smoothed("loss", 0.9), direct_ema(values, 0.9))
    np.testing.assert_allclose(h.smoothed("loss", 0.5), direct_ema(values, 0.5))
    np.testing.assert_array_equal(h.smoothed("loss", 0.0), values)


def test_history_ema_skips_non_finite_values():
    h = History(("loss",))
    h.append([1, 2, 3], {"loss": [1.0, np.nan, 3.0]})
    np.testing.assert_allclose(h.smoothed("loss", 0.5), [1.0, 1.0, 2.0])


def test_history_rewinds_when_steps_restart_earlier():
    h = History(("loss",))
    h.append(np.arange(1, 101), {"loss": np.zeros(100)})
    h.smoothed("loss", 0.5)
    h.append(np.arange(51, 61), {"loss": np.ones(10)})
    assert len(h) == 60 and h.x[-1] == 60 and h["loss"][-1] == 1
    np.testing.assert_allclose(h.smoothed("loss", 0.5)[-10:], direct_ema([0] + [1] * 10, 0.5)[1:])


# -- LossPlot ----------------------------------------------------------------------

def test_loss_plot_has_its_controls(loss_plot):
    assert loss_plot.objectName() == "lossPlot"
    assert loss_plot.findChild(QDoubleSpinBox, "smoothingSpin")
    assert loss_plot.findChild(QCheckBox, "logScaleCheck")
    assert loss_plot.findChild(QCheckBox, "followLatestCheck").isChecked()


def test_appended_steps_reach_the_curves(loss_plot):
    loss_plot.append_steps(batch(1, 50))
    loss_plot.append_steps(batch(51, 50))
    loss_plot.redraw()
    loss, lr = loss_items(loss_plot)
    x, y = curves(loss)["loss per step"].getData()
    np.testing.assert_array_equal(x, np.arange(1, 101))
    np.testing.assert_array_equal(y, np.concatenate([batch(1, 50).loss, batch(51, 50).loss]))
    np.testing.assert_array_equal(lr.listDataItems()[0].getData()[1], np.full(100, 1e-3))
    np.testing.assert_array_equal(loss_plot.history["loss"], y)


def test_redraw_comes_from_the_timer(loss_plot, qtbot):
    loss_plot.append_steps(batch(1, 10))
    raw = curves(loss_items(loss_plot)[0])["loss per step"]
    qtbot.waitUntil(lambda: raw.getData()[0] is not None and len(raw.getData()[0]) == 10, timeout=1000)


def test_smoothed_curve_is_the_ema(loss_plot):
    loss_plot.set_smoothing(0.8)
    for first in range(1, 201, 20):
        loss_plot.append_steps(batch(first, 20))
        loss_plot.redraw()
    smooth = curves(loss_items(loss_plot)[0])["smoothed"]
    np.testing.assert_allclose(smooth.getData()[1], direct_ema(loss_plot.history["loss"], 0.8))
    assert loss_plot.findChild(QDoubleSpinBox, "smoothingSpin").value() == pytest.approx(0.8)
    loss_plot.set_smoothing(0.0)
    loss_plot.redraw()
    assert n_points(smooth) == 0


def test_log_scale_toggles(loss_plot):
    loss_plot.append_steps(batch(1, 100))
    loss_plot.redraw()
    loss, _ = loss_items(loss_plot)
    loss_plot.findChild(QCheckBox, "logScaleCheck").setChecked(True)
    loss_plot.redraw()
    assert loss.getAxis("left").logMode
    assert curves(loss)["loss per step"].opts["logMode"][1]
    y_lo, y_hi = loss.getViewBox().viewRange()[1]
    values = np.log10(loss_plot.history["loss"])
    assert y_lo <= values.min() and values.max() <= y_hi < 1.0  # the range is in log10 units
    loss_plot.set_log_scale(False)
    loss_plot.redraw()
    assert not loss.getAxis("left").logMode
    assert not loss_plot.findChild(QCheckBox, "logScaleCheck").isChecked()


def test_follow_latest_keeps_the_last_step_in_view(loss_plot):
    vb = loss_items(loss_plot)[0].getViewBox()
    loss_plot.append_steps(batch(1, 1000))
    loss_plot.redraw()
    lo, hi = vb.viewRange()[0]
    assert lo <= 1 and 1000 <= hi

    vb.setXRange(100, 200, padding=0)  # the user looks back...
    vb.sigRangeChangedManually.emit([True, True])
    follow = loss_plot.findChild(QCheckBox, "followLatestCheck")
    assert not follow.isChecked()
    loss_plot.append_steps(batch(1001, 1000))
    loss_plot.redraw()
    assert vb.viewRange()[0] == pytest.approx([100, 200])  # ...and the view stays put

    follow.setChecked(True)  # follow a window as wide as the zoom
    loss_plot.redraw()
    lo, hi = vb.viewRange()[0]
    assert lo <= 2000 <= hi and hi - lo == pytest.approx(100)
    loss_plot.append_steps(batch(2001, 500))
    loss_plot.redraw()
    lo, hi = vb.viewRange()[0]
    assert lo <= 2500 <= hi

    vb.enableAutoRange()  # pyqtgraph's "A" button: back to the whole run
    loss_plot.redraw()
    lo, hi = vb.viewRange()[0]
    assert follow.isChecked() and lo <= 1 and 2500 <= hi
    assert not any(vb.autoRangeEnabled())  # no per-frame auto-range


def test_eval_points_appear(loss_plot):
    loss_plot.append_steps(batch(1, 300))
    for step, train, val in [(0, 4.2, 4.3), (100, 2.5, 2.6), (200, 2.1, 2.3)]:
        loss_plot.append_eval(EvalMetrics(step, train, val))
    loss_plot.redraw()
    c = curves(loss_items(loss_plot)[0])
    np.testing.assert_array_equal(c["eval: train"].getData()[0], [0, 100, 200])
    np.testing.assert_array_equal(c["eval: train"].getData()[1], [4.2, 2.5, 2.1])
    np.testing.assert_array_equal(c["eval: val"].getData()[1], [4.3, 2.6, 2.3])
    lo, hi = loss_items(loss_plot)[0].getViewBox().viewRange()[1]
    assert lo <= 2.1 and 4.3 <= hi  # the view holds the eval points too


def test_clear_empties_the_loss_plot(loss_plot):
    loss_plot.append_steps(batch(1, 100))
    loss_plot.append_eval(EvalMetrics(50, 3.0, 3.1))
    loss_plot.clear()
    loss_plot.redraw()
    assert len(loss_plot.history) == 0 and len(loss_plot.evals) == 0
    assert n_points(curves(loss_items(loss_plot)[0])["loss per step"]) == 0


def test_loss_plot_exports_a_png(loss_plot, tmp_path):
    loss_plot.append_steps(batch(1, 500))
    loss_plot.append_eval(EvalMetrics(250, 2.5, 2.6))
    path = tmp_path / "loss.png"
    loss_plot.export_png(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not_one_colour(path)


# -- GradientsPanel ------------------------------------------------------------------

def test_parameters_group_by_layer():
    assert layer_group("blocks.0.attn.c_attn.weight") == "blocks.0"
    assert layer_group("blocks.11.mlp.c_fc.bias") == "blocks.11"
    assert layer_group("wte.weight") == layer_group("wpe.weight") == "embeddings"
    assert layer_group("ln_f.bias") == "ln_f"
    assert is_weight_matrix("blocks.0.attn.c_attn.weight")
    assert not is_weight_matrix("blocks.0.ln_1.weight") and not is_weight_matrix("ln_f.bias")


def test_global_grad_norm_and_clip_line(grads):
    grads.append_steps(batch(1, 100))
    grads.set_clip(1.0)
    grads.redraw()
    plot = panel_plot(grads, "Gradient norm, all")
    x, y = plot.listDataItems()[0].getData()
    np.testing.assert_array_equal(y, batch(1, 100).grad_norm)
    lines = [i for i in plot.items if isinstance(i, pg.InfiniteLine)]
    assert len(lines) == 1 and lines[0].isVisible() and lines[0].value() == 1.0
    assert plot.getViewBox().viewRange()[1][1] >= 1.0  # the line is in view
    grads.set_clip(0)
    assert not lines[0].isVisible()


def test_layer_norms_legend_and_toggles(grads):
    for step in (10, 20, 30):
        grads.set_diagnostics(diagnostics(step))
    grads.redraw()
    layers = grads.findChild(QListWidget, "layerList")
    names = [layers.item(i).text() for i in range(layers.count())]
    assert names == ["embeddings", "blocks.0", "blocks.1", "ln_f"]
    c = curves(panel_plot(grads, "Gradient norm per layer"))
    x, y = c["blocks.0"].getData()
    np.testing.assert_array_equal(x, [10, 20, 30])
    expected = np.sqrt(sum(((PARAMS.index(n) + 1) * 0.1) ** 2 for n in PARAMS[2:6]))
    np.testing.assert_allclose(y, expected)
    layers.item(1).setCheckState(Qt.CheckState.Unchecked)
    assert not c["blocks.0"].isVisible()
    ratio = curves(panel_plot(grads, "Update : data"))
    assert not ratio["blocks.0.attn.c_attn.weight"].isVisible()
    assert ratio["blocks.1.attn.c_attn.weight"].isVisible()


def test_histogram_combobox_switches_parameter(grads):
    grads.set_diagnostics(diagnostics(10))
    grads.set_diagnostics(diagnostics(20, scale=2.0))
    grads.redraw()
    combo = grads.findChild(QComboBox, "histogramParam")
    assert [combo.itemText(i) for i in range(combo.count())] == PARAMS
    hist = panel_plot(grads, "Gradient histogram")
    for name in ("ln_f.weight", "blocks.0.attn.c_attn.weight"):
        combo.setCurrentText(name)
        grads.redraw()
        i = PARAMS.index(name)
        x, y = hist.listDataItems()[0].xData, hist.listDataItems()[0].yData
        assert np.argmax(y) == i and y[i] == 20 * (i + 1)  # the latest step's bins
        assert x[0] == pytest.approx(-0.01 * (i + 1)) and len(x) == 65
        assert hist.getViewBox().viewRange()[1][1] >= y.max()
    assert "step 20" in hist.titleLabel.text


def test_update_ratio_plot_is_logarithmic_with_guide(grads):
    for step in (10, 20):
        grads.set_diagnostics(diagnostics(step))
    grads.redraw()
    plot = panel_plot(grads, "Update : data")
    c = curves(plot)
    assert "blocks.0.attn.c_attn.weight" in c and "blocks.0.attn.c_attn.bias" not in c
    assert plot.getAxis("left").logMode
    guide = [i for i in plot.items if isinstance(i, pg.InfiniteLine)]
    assert len(guide) == 1 and guide[0].value() == pytest.approx(-3.0)  # log10(1e-3)
    lo, hi = plot.getViewBox().viewRange()[1]
    assert lo <= -3 <= hi


def test_clear_empties_the_panel(grads):
    grads.append_steps(batch(1, 50))
    grads.set_diagnostics(diagnostics(10))
    grads.clear()
    grads.redraw()
    assert grads.findChild(QComboBox, "histogramParam").count() == 0
    assert grads.findChild(QListWidget, "layerList").count() == 0
    assert n_points(panel_plot(grads, "Gradient norm, all").listDataItems()[0]) == 0


def test_gradients_panel_exports_a_png(grads, tmp_path):
    grads.append_steps(batch(1, 200))
    grads.set_diagnostics(diagnostics(100))
    path = tmp_path / "grads.png"
    grads.export_png(path)
    assert path.stat().st_size > 0 and not_one_colour(path)


def test_another_model_starts_the_panel_over(grads):
    grads.set_diagnostics(diagnostics(10))
    other = Diagnostics(20, grad_norms={"table.weight": 0.5}, update_ratios={"table.weight": 1e-3},
                        histograms={"table.weight": Histogram(np.ones(64, np.float32), -1.0, 1.0)})
    grads.set_diagnostics(other)  # e.g. a bigram model after a GPT
    grads.redraw()
    layers = grads.findChild(QListWidget, "layerList")
    assert [layers.item(i).text() for i in range(layers.count())] == ["embeddings"]
    combo = grads.findChild(QComboBox, "histogramParam")
    assert [combo.itemText(i) for i in range(combo.count())] == ["table.weight"]


def test_ratio_axis_labels_read_as_powers_of_ten(grads):
    axis = panel_plot(grads, "Update : data").getAxis("left")
    labels = axis.logTickStrings([-3.0, np.log10(2e-3), np.log10(3e-3), np.log10(5e-4)], 1, 1)
    assert labels == ["10⁻³", "2·10⁻³", "", "5·10⁻⁴"]


def test_a_palette_change_recolours_the_axes(loss_plot, grads):
    """FollowsPalette: a new palette (light to dark) restyles the plots at once."""
    for w, plot in ((loss_plot, loss_items(loss_plot)[0]), (grads, panel_plot(grads, "Gradient norm, all"))):
        palette = w.palette()
        palette.setColor(QPalette.ColorRole.Base, QColor("#101010"))
        palette.setColor(QPalette.ColorRole.Text, QColor("#eeeeee"))
        assert plot.getAxis("left").pen().color().name() != "#eeeeee"
        w.setPalette(palette)
        assert plot.getAxis("left").pen().color().name() == "#eeeeee"


def test_axes_drawn_from_their_cache_look_as_drawn_afresh(qtbot):
    """prepare_plot caches each axis (grid lines included) as a pixmap: after data, range,
    size and colour changes, the plot must look exactly as one drawn without the cache."""
    from PySide6.QtWidgets import QGraphicsItem

    from gptviz.gui.plot_style import apply_palette, prepare_plot

    views = []
    for cached in (True, False):
        view = pg.PlotWidget()
        prepare_plot(view.getPlotItem())
        if not cached:
            for side in ("left", "bottom", "right", "top"):
                view.getPlotItem().getAxis(side).setCacheMode(QGraphicsItem.CacheMode.NoCache)
        view.resize(400, 300)
        view.show()
        qtbot.addWidget(view)
        qtbot.waitExposed(view)
        views.append(view)
    assert views[0].getPlotItem().getAxis("left").cacheMode() == QGraphicsItem.CacheMode.DeviceCoordinateCache

    def both(change):
        for view in views:
            change(view)
        qtbot.wait(50)
        a, b = (v.grab().toImage() for v in views)
        assert a == b

    x = np.arange(100, dtype=np.float64)
    both(lambda v: v.getPlotItem().plot(x, np.sin(x / 10)))
    both(lambda v: v.getPlotItem().setXRange(0, 400, padding=0))
    both(lambda v: v.getPlotItem().setYRange(-3, 3, padding=0))
    both(lambda v: v.resize(520, 380))  # the grid lines reach the new plot area
    both(lambda v: v.resize(300, 420))
    dark = QPalette()
    dark.setColor(QPalette.ColorRole.Base, QColor("#202020"))
    dark.setColor(QPalette.ColorRole.Text, QColor("#e0e0e0"))

    def restyle(view):
        view.setPalette(dark)
        apply_palette(view, [view], [view.getPlotItem()])

    both(restyle)
    both(lambda v: v.getPlotItem().setLogMode(y=True))


def test_the_whole_run_range_starts_wide_and_grows_now_and_then():
    from gptviz.gui.plot_style import WHOLE_RUN_LEAST, whole_run

    x = None
    changes = 0
    for last in range(1, 1001):
        new = whole_run(x, 1.0, float(last))
        assert new[0] <= 1.0 and last <= new[1]
        changes += new != x
        x = new
        if last <= WHOLE_RUN_LEAST:
            assert x[1] - 1.0 == pytest.approx(1.25 * WHOLE_RUN_LEAST)  # from the first step
    assert changes <= 12  # 1000 steps: the first range, then a 1.25x growth now and then


def test_a_new_run_of_the_same_model_reuses_the_gradient_curves(grads):
    grads.set_diagnostics(diagnostics(10))
    grads.redraw()
    layer, ratio = panel_plot(grads, "Gradient norm per layer"), panel_plot(grads, "Update : data")
    before = layer.listDataItems() + ratio.listDataItems()
    layers = grads.findChild(QListWidget, "layerList")
    layers.item(0).setCheckState(Qt.CheckState.Unchecked)  # one layer hidden in the last run
    assert not before[0].isVisible()
    grads.clear()
    grads.redraw()
    assert all(n_points(c) == 0 for c in before) and layers.count() == 0
    grads.set_diagnostics(diagnostics(20))  # the new run's first diagnostics: the same parameters
    grads.redraw()
    after = layer.listDataItems() + ratio.listDataItems()
    assert len(after) == len(before) and all(a is b for a, b in zip(after, before))
    assert all(n_points(c) == 1 for c in after)  # only the new run's step
    assert before[0].isVisible() and layers.item(0).checkState() == Qt.CheckState.Checked
    assert grads.findChild(QComboBox, "histogramParam").count() == len(PARAMS)


def test_a_new_run_of_the_same_model_reuses_the_activation_curves(qtbot):
    from gptviz.activations import ActivationStats
    from gptviz.gui.activations_view import ActivationsView

    def report(step):
        hist = Histogram(np.full(64, 1 / 64, np.float32), -1.0, 1.0)
        return Diagnostics(step, activations={
            "blocks.0.mlp": ActivationStats("mlp", hist, 40.0, 5.0, 0.1, 1.0),
            "blocks.0.attn": ActivationStats("attn", hist, 10.0, np.nan, 0.0, 1.0)})

    view = ActivationsView()
    qtbot.addWidget(view)
    view.resize(900, 600)
    view.show()
    view.set_diagnostics(report(10))
    view.set_diagnostics(report(20))
    view.redraw()
    plots = view.plots()
    before = {name: plot.listDataItems() for name, plot in plots.items()}
    assert sum(n_points(c) for items in before.values() for c in items) > 0
    view.clear()
    view.redraw()
    assert all(n_points(c) == 0 for items in before.values() for c in items)
    assert view.latest() == (0, {}) and len(view.series("blocks.0.mlp")[0]) == 0
    view.set_diagnostics(report(10))
    view.redraw()
    for name, plot in plots.items():
        assert all(a is b for a, b in zip(plot.listDataItems(), before[name], strict=True))
    assert list(view.series("blocks.0.mlp")[0]) == [10.0]
    assert n_points(plots["mlp_saturated_dead"].listDataItems()[0]) == 1
