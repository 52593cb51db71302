import threading
import time

import pytest
import torch

from gptviz import batch_shards
from gptviz.batch_shards import MAX_SHARDS, MIN_SHARD_FLOPS, run, shard_count
from gptviz.openmp import openmp_runtime

needs_openmp = pytest.mark.skipif(openmp_runtime() is None, reason="torch's OpenMP runtime not found")


class Interrupted(Exception):
    pass


@needs_openmp
def test_one_shard_per_thread_at_least_one_sequence_and_enough_work_each():
    plenty = 100 * MIN_SHARD_FLOPS
    assert shard_count(12, plenty, threads=2) == 2
    assert shard_count(3, plenty, threads=16) == 3
    assert shard_count(64, plenty, threads=64) == MAX_SHARDS
    assert shard_count(12, plenty, threads=1) == 1  # nothing to share
    assert shard_count(1, plenty, threads=2) == 1  # one sequence cannot be split
    assert shard_count(12, 3 * MIN_SHARD_FLOPS, threads=8) == 3
    assert shard_count(12, 1.9 * MIN_SHARD_FLOPS, threads=2) == 1  # too little work to share


def test_no_split_where_the_thread_count_cannot_be_set_per_thread(monkeypatch):
    monkeypatch.setattr(batch_shards, "openmp_runtime", lambda: None)
    assert shard_count(12, 100 * MIN_SHARD_FLOPS, threads=2) == 1


@needs_openmp
def test_shards_run_at_once_one_torch_thread_each_results_in_order():
    started = threading.Barrier(3, timeout=10)  # every shard running at the same time

    def work(i):
        started.wait()
        return i, threading.get_ident(), torch.get_num_threads()

    caller = threading.get_ident()
    before = torch.get_num_threads()
    results = run(work, 3)
    assert [i for i, _, _ in results] == [0, 1, 2]
    assert results[0][1] == caller  # shard 0 on the calling thread, the others elsewhere
    assert len({ident for _, ident, _ in results}) == 3
    assert all(threads == 1 for _, _, threads in results)
    assert torch.get_num_threads() == before  # the caller's own count is back


def test_one_shard_runs_on_the_caller_unchanged():
    assert run(lambda i: (i, threading.get_ident()), 1) == [(0, threading.get_ident())]


@needs_openmp
def test_a_failure_is_raised_after_every_shard_finished_and_breakage_beats_interruption():
    finished = []

    def work(i):
        if i == 0:
            raise Interrupted
        time.sleep(0.05)
        finished.append(i)
        if i == 2:
            raise ValueError("shard 2 broke")
        return i

    with pytest.raises(ValueError, match="shard 2 broke"):
        run(work, 3, yields=(Interrupted,))
    assert sorted(finished) == [1, 2]  # nobody was left running

    def interrupted(i):
        raise Interrupted(i)

    with pytest.raises(Interrupted) as caught:
        run(interrupted, 2, yields=(Interrupted,))
    assert caught.value.args == (0,)  # the first, in shard order

    class Gone(Exception):  # a shard that stopped because another failed
        pass

    def one_interrupted(i):
        raise Interrupted(i) if i == 2 else Gone(i)

    with pytest.raises(Interrupted) as caught:  # an earlier `yields` type says more
        run(one_interrupted, 3, yields=(Interrupted, Gone))
    assert caught.value.args == (2,)


@needs_openmp
def test_shard_i_runs_on_the_same_helper_every_time():
    first = run(lambda i: threading.get_ident(), 3)
    assert len(set(first)) == 3
    assert run(lambda i: threading.get_ident(), 2) == first[:2]
    assert run(lambda i: threading.get_ident(), 3) == first


@needs_openmp
def test_map_parts_cuts_consecutive_parts_of_about_equal_weight():
    items = [10, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]  # total 20: the heavy first item is a part alone
    parts = batch_shards.map_parts(lambda part: (list(part), threading.get_ident()), items, 2,
                                   weight=lambda item: item)
    assert [part for part, _ in parts] == [[10], [1] * 10]
    assert len({ident for _, ident in parts}) == 2  # on two threads
    assert [x for part, _ in batch_shards.map_parts(lambda p: (p, 0), list(range(7)), 3) for x in part] \
        == list(range(7))  # every item once, in order
    assert len(batch_shards.map_parts(lambda p: p, list(range(7)), 3)) == 3
    assert batch_shards.map_parts(lambda p: p, [], 4) == [[]]


def test_share_out_does_every_item_once_costliest_first_and_a_held_up_thread_takes_fewer():
    done, threads = [], {}
    lock = threading.Lock()
    held = threading.Event()

    def work(item):
        with lock:
            done.append(item)
            threads.setdefault(threading.get_ident(), []).append(item)
        if item == 100 and not held.is_set():  # the costliest item holds its thread up
            held.set()
            time.sleep(0.5)

    items = [1, 100, 3, 2, 5, 4, 7, 6]
    batch_shards.share_out(work, items, 2, cost=lambda item: item)
    assert sorted(done) == sorted(items)  # each once
    assert len(threads) == 2
    slow = next(t for t, its in threads.items() if 100 in its)
    fast = next(t for t in threads if t != slow)
    assert threads[slow] == [100]  # held up: the other thread did all the rest meanwhile,
    assert threads[fast] == [7, 6, 5, 4, 3, 2, 1]  # the costliest first
    batch_shards.share_out(work, [], 2)  # nothing to do: fine
    lone = []
    batch_shards.share_out(lone.append, [3, 1, 2], 1, cost=lambda item: item)
    assert lone == [3, 2, 1]
