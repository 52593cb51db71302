"""The window's garbage-collection policy: GUI thread only, start-up objects frozen."""

import gc
import time
import weakref

from gptviz.gui.gc_policy import freeze_startup_objects


class Node:
    pass


def test_frozen_start_up_objects_leave_later_garbage_collectable_and_collections_short():
    built_at_start_up = Node()
    cost = []
    try:
        for freeze in (False, True):
            if freeze:
                assert freeze_startup_objects() == gc.get_freeze_count() > 0
            t0 = time.perf_counter()
            gc.collect()
            cost.append(time.perf_counter() - t0)
        assert not any(o is built_at_start_up for o in gc.get_objects())  # out of the collector's walk
        cycle = Node()
        cycle.me = cycle  # garbage made later, in a cycle: still found
        ref = weakref.ref(cycle)
        del cycle
        gc.collect()
        assert ref() is None
        assert cost[1] < cost[0]  # every object of this test session was walked before freezing
    finally:
        gc.unfreeze()
