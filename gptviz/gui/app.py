"""Start-up: parse the same options as `gptviz train`, build the window, run Qt."""

from __future__ import annotations

import argparse
import os
import sys

from ..cli import add_config_options, config_from_args, explicit_settings
from ..config import TrainConfig, preset
from ..model import ConfigError


def parse_window_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="gptviz", description="Open the gptviz window.")
    add_config_options(parser)
    return parser.parse_args(argv)


def initial_config(args: argparse.Namespace) -> TrainConfig:
    """Options given on the command line win; otherwise the settings of the last session."""
    if args.preset or explicit_settings(args):
        return config_from_args(args)
    from .settings_store import app_settings, load_json
    remembered = load_json(app_settings(), "training/config")
    if isinstance(remembered, dict):
        try:
            return TrainConfig.from_dict(remembered)
        except (ConfigError, TypeError):
            pass
    return preset("default")


# Qt's raster painter hands every fill of more than ~96 spans (a vertical line is one span per
# pixel row: grid lines, frames) to a pool of helper threads in pieces of 64 spans and waits for
# them. With training on every core, each hand-off waits for a core: 200 faint vertical lines
# on an 800x600 image took 18.5 ms with the pool and 1.6 ms without (quiet machine, 2 cores),
# and the window's 100k-step redraw 15.7 ms and 10.4 ms. Qt reads this when it first needs the
# pool, so it is set before anything is painted; a value the user set is kept.
NO_PAINT_THREADS = ("QT_NO_GUI_THREADPOOL", "1")


def ensure_app():
    os.environ.setdefault(*NO_PAINT_THREADS)
    from PySide6.QtWidgets import QApplication
    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1])
        app.setApplicationName("gptviz")
        app.setOrganizationName("gptviz")
    from .gc_policy import collect_on_gui_thread
    collect_on_gui_thread()
    from ..openmp import alone
    alone()   # torch on the GUI thread (explorer, demos) must not start an OpenMP team
    return app


def build_main_window(argv: list[str]):
    """The main window configured by argv (unshown). Raises ConfigError on a bad option."""
    args = parse_window_args(argv)
    config = initial_config(args)
    ensure_app()
    import pyqtgraph as pg
    pg.setConfigOptions(antialias=False)
    from .main_window import MainWindow
    corpus = args.corpus
    if corpus is None:  # the text file of the last session, if there was one
        from .settings_store import app_settings
        remembered = app_settings().value("training/corpus")
        corpus = str(remembered) if remembered else None
    return MainWindow(config, corpus)


def run_app(argv: list[str], demo: str | None = None, step: int = 0) -> int:
    app = ensure_app()
    window = build_main_window(argv)
    from .gc_policy import freeze_startup_objects
    freeze_startup_objects()  # full collections while training then skip ~300k objects
    if demo is not None:
        window.show_demo(demo, step)
    window.show()
    return app.exec()
