"""The window's samples, kept in its run directory's samples.jsonl (samplelog.py), as
`gptviz train` keeps its own: every sample the worker finishes (or a Step cuts short).

The worker sends each finished sample as one row (TrainingWorker.sampleRecorded); it is
appended here, on the GUI thread, to the run directory the window logs into. A sample
drawn from a checkpoint opened but not resumed is appended too; the log is trimmed to
the checkpoint's step when training resumes (run_control.open_log), as the metrics are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..samplelog import append_sample

if TYPE_CHECKING:
    from .main_window import MainWindow


def record(window: MainWindow, row: dict) -> None:
    if window.run_dir is None:
        return
    try:
        append_sample(window.run_dir, row)
    except OSError as e:
        window.show_error(f"Could not keep the sample in {window.run_dir}: {e}")
