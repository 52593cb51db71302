"""Demo steps run on a thread that ends, alone, and hand back their result or their exception."""

import os
import sys
import threading

import pytest
import torch

from gptviz.gui.demo_widgets.short_thread import on_short_thread, openmp_runtime


def test_the_work_runs_on_another_thread_that_ends():
    here = threading.get_ident()
    assert on_short_thread(threading.get_ident) != here
    assert not any(t.name == "gptviz-demo-step" for t in threading.enumerate())


def test_its_exception_is_raised_in_the_caller():
    with pytest.raises(ZeroDivisionError):
        on_short_thread(lambda: 1 / 0)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds torch's OpenMP library on Linux")
def test_torch_runs_on_one_thread_there_and_the_caller_keeps_its_threads():
    threads = torch.get_num_threads()
    assert openmp_runtime() is not None
    assert on_short_thread(torch.get_num_threads) == 1
    assert torch.get_num_threads() == threads

    def tasks() -> int:
        return len(os.listdir("/proc/self/task"))

    def work() -> tuple[int, int]:
        before = tasks()
        torch.tanh(torch.randn(100_000)) @ torch.ones(100_000)   # big enough for a thread team
        torch.randn(256, 64) @ torch.randn(64, 64)
        return before, tasks()

    before, after = on_short_thread(work)
    assert after == before                                      # no OpenMP team was started
