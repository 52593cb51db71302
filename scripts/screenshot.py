"""Regenerate docs/screenshot.png: the window part-way through training, offscreen.

    QT_QPA_PLATFORM=offscreen python scripts/screenshot.py [--corpus PATH] [--steps 300]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT / ".." / "shared" / "data" / "tinyshakespeare.txt"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--corpus", default=str(SHARED))
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--out", default=str(ROOT / "docs" / "screenshot.png"))
    args = ap.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    scratch = tempfile.mkdtemp(prefix="gptviz-shot-")
    os.environ["GPTVIZ_SETTINGS_FILE"] = str(Path(scratch) / "settings.ini")
    os.environ["GPTVIZ_RUNS_DIR"] = str(Path(scratch) / "runs")

    from PySide6.QtWidgets import QApplication

    from gptviz.gui import build_main_window

    window = build_main_window(["--corpus", args.corpus, "--preset", "default"])
    window.resize(1500, 900)
    window.show()
    app = QApplication.instance()
    deadline = time.monotonic() + 60
    while window.corpus is None and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)
    window.samples.findChild(object, "sampleEvery").setValue(100)
    window.start()
    deadline = time.monotonic() + 600
    while window.last_step < args.steps and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)
    window.toggle_pause()
    end = time.monotonic() + 3  # let the last sample and redraws land
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)
    window.grab().save(args.out)
    print(f"wrote {args.out} at step {window.last_step}")
    window.ask_save_on_close = lambda: None
    window.unsaved = False
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
