"""Collect garbage only on the GUI thread, and never walk the objects that live as long as the app.

If Python's cyclic garbage collector happens to run on the training thread, it may
destroy Qt objects (a closed window's widgets, say) there; their destructors then wait
for locks the GUI thread holds while it waits for the GIL, and the app hangs. pyqtgraph's
GarbageCollector turns automatic collection off and collects from a GUI-thread timer.

That timer runs a full collection every ~100 s while training allocates. A full collection
walks every tracked object — ~345k once torch, Qt, pyqtgraph and the window exist — and
took 175–190 ms here, holding the GIL: training stalled and the window froze for that
long. `freeze_startup_objects()`, called once the window is built, moves everything alive
then (modules, classes, the window itself) out of the collector's sight with gc.freeze();
a full collection then took 30–55 ms, most of it modules torch imports on a run's first
step. Frozen objects are still freed by reference counting; only cycles among them would
never be collected, and what exists at start-up lives until the app exits anyway.
"""

from __future__ import annotations

import gc

_collector = None


def collect_on_gui_thread(interval: float = 1.0) -> None:
    """Idempotent; call from the GUI thread before starting any Python worker thread."""
    global _collector
    if _collector is None:
        from pyqtgraph.util.garbage_collector import GarbageCollector
        _collector = GarbageCollector(interval=interval)


def freeze_startup_objects() -> int:
    """Leave every object alive now out of later collections (the application's start-up,
    after building its window). Returns how many are frozen. (No collection first: that
    would add ~180 ms to start-up for the little garbage there is.)"""
    gc.freeze()
    return gc.get_freeze_count()
