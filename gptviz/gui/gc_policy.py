"""Collect garbage only on the GUI thread.

If Python's cyclic garbage collector happens to run on the training thread, it may
destroy Qt objects (a closed window's widgets, say) there; their destructors then wait
for locks the GUI thread holds while it waits for the GIL, and the app hangs. pyqtgraph's
GarbageCollector turns automatic collection off and collects from a GUI-thread timer.
"""

from __future__ import annotations

_collector = None


def collect_on_gui_thread(interval: float = 1.0) -> None:
    """Idempotent; call from the GUI thread before starting any Python worker thread."""
    global _collector
    if _collector is None:
        from pyqtgraph.util.garbage_collector import GarbageCollector
        _collector = GarbageCollector(interval=interval)
