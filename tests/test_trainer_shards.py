"""A step's batch split across threads (batch_shards.py): the same step as the unsplit one up
to float rounding, the same run every time, and the same guarantees (diagnostics, stops)."""

import threading
from contextlib import contextmanager

import pytest
import torch

from gptviz import batch_shards, optim, shard_grads
from gptviz.config import preset
from gptviz.openmp import one_thread
from gptviz.optim import Muon
from gptviz.trainer import StepInterrupted, Trainer


def tiny(**changes):
    return preset("tiny", **changes)


@contextmanager
def shards(monkeypatch, n):
    """Steps in the block split their batches into n shards (or fewer sequences)."""
    with monkeypatch.context() as m:
        m.setattr(batch_shards, "shard_count", lambda batch_size, flops, threads=None: min(n, batch_size))
        yield


def params_of(t: Trainer) -> list[torch.Tensor]:
    return [p.detach().clone() for p in t.model.parameters()]


@pytest.mark.parametrize("changes", [
    dict(batch_size=8),
    dict(batch_size=5),  # shards of 3 and 2 sequences: each weighted by its share
    dict(batch_size=4, grad_accum=2),
    dict(batch_size=6, optimizer="muon"),
])
def test_a_sharded_step_is_the_unsplit_step_up_to_rounding(small_corpus, monkeypatch, changes):
    whole, split = Trainer(tiny(**changes), small_corpus), Trainer(tiny(**changes), small_corpus)
    for _ in range(3):
        with shards(monkeypatch, 1):
            a = whole.step()
        with shards(monkeypatch, 2):
            b = split.step()
        assert b.loss == pytest.approx(a.loss, rel=1e-5)
        assert b.grad_norm == pytest.approx(a.grad_norm, rel=1e-4)
    for p, q in zip(params_of(whole), params_of(split)):
        torch.testing.assert_close(q, p, rtol=1e-4, atol=1e-5)
    assert torch.equal(whole.batch_rng.get_state(), split.batch_rng.get_state())  # the same batches


def test_sharded_runs_are_the_same_every_time(small_corpus, monkeypatch):
    def run():
        t = Trainer(tiny(batch_size=7, optimizer="muon"), small_corpus)
        with shards(monkeypatch, 3):
            losses = [t.step().loss for _ in range(8)]
        return losses, params_of(t)

    (a, pa), (b, pb) = run(), run()
    assert a == b
    assert all(torch.equal(p, q) for p, q in zip(pa, pb))


@pytest.mark.parametrize("changes", [dict(batch_size=8), dict(batch_size=6, optimizer="muon")])
def test_each_thread_adds_up_and_updates_its_own_part_of_the_parameters(small_corpus, monkeypatch, changes):
    """The same run as adding every gradient up and updating every parameter on the calling
    thread (norms from get_total_norm, AdamW's own step), bit for bit."""
    threads = {"sum": {}, "update": {}}  # parameter's position -> the thread that did it
    add_up, update = shard_grads._add_up, optim.AdamW._update

    def spy_add_up(grads, own, part, params, norms):
        threads["sum"].update(dict.fromkeys(part, threading.get_ident()))
        return add_up(grads, own, part, params, norms)

    def spy_update(self, jobs, scale):
        position = {id(p): k for k, p in enumerate(t.model.parameters())}
        threads["update"].update({position[id(p)]: threading.get_ident() for _, ps in jobs for p in ps})
        return update(self, jobs, scale)

    t, reference = Trainer(tiny(**changes), small_corpus), Trainer(tiny(**changes), small_corpus)
    with shards(monkeypatch, 2):
        with monkeypatch.context() as m:
            m.setattr(shard_grads, "_add_up", spy_add_up)
            m.setattr(optim.AdamW, "_update", spy_update)
            ours = [t.step() for _ in range(3)]
        with monkeypatch.context() as m:  # the gradients' norms and AdamW on the calling thread
            run = shard_grads.run
            m.setattr(shard_grads, "run", lambda *a, **k: (run(*a, **k)[0], None))
            m.setattr(optim.AdamW, "_splittable", lambda self: False)
            theirs = [reference.step() for _ in range(3)]
    assert [(m.loss, m.grad_norm) for m in ours] == [(m.loss, m.grad_norm) for m in theirs]
    assert all(torch.equal(p, q) for p, q in zip(params_of(t), params_of(reference)))
    assert len(threads["sum"]) == len(list(t.model.parameters()))
    assert len(set(threads["sum"].values())) == 2
    assert threads["update"] == {k: threads["sum"][k] for k in threads["update"]}  # (Muon's: any)
    assert len(set(threads["update"].values())) == 2


def test_a_step_that_fails_after_a_part_was_added_up_leaves_no_gradients(small_corpus, monkeypatch):
    t, reference = Trainer(tiny(), small_corpus), Trainer(tiny(), small_corpus)
    add_up = shard_grads._add_up

    def failing(grads, own, part, params, norms):
        if own == 1:
            raise MemoryError("no memory for shard 1's sum")
        return add_up(grads, own, part, params, norms)  # shard 0's part is added up

    with shards(monkeypatch, 2):
        with monkeypatch.context() as m:
            m.setattr(shard_grads, "_add_up", failing)
            with pytest.raises(MemoryError):
                t.step()
        assert all(p.grad is None for p in t.model.parameters()) and t.step_count == 0
        t.batch_rng.set_state(reference.batch_rng.get_state())  # (the failed step drew a batch)
        assert t.step().loss == reference.step().loss
    assert all(torch.equal(p, q) for p, q in zip(params_of(t), params_of(reference)))


def on_a_new_thread(work):
    """work() on a thread started now: torch's default thread count (this one's may have
    been set to 1, as the window does on its GUI thread)."""
    result = []
    thread = threading.Thread(target=lambda: result.append(work()))
    thread.start()
    thread.join()
    return result[0]


def test_only_steps_that_can_be_split_are(small_corpus, monkeypatch):
    if on_a_new_thread(torch.get_num_threads) < 2:
        pytest.skip("one torch thread: nothing to split across")
    t = Trainer(tiny(), small_corpus)
    dropout = Trainer(tiny(dropout=0.1), small_corpus)  # one random stream for the masks
    unsplit = Trainer(tiny(), small_corpus, split_batches=False)

    def decisions():
        with monkeypatch.context() as m:
            tight = (t._shards(t.model), t._eval_shards())  # `tiny`: too little work per shard
            m.setattr(batch_shards, "MIN_SHARD_FLOPS", 1.0)
            loose = (t._shards(t.model), t._eval_shards(), dropout._shards(dropout.model),
                     dropout._eval_shards(), unsplit._shards(unsplit.model))
            with one_thread():  # the calling thread's torch threads decide
                alone = (t._shards(t.model), t._eval_shards())
        return tight, loose, alone

    tight, loose, alone = on_a_new_thread(decisions)
    assert tight == (1, 1)
    assert loose == (2, 2, 1, 2, 1)  # one shard per torch thread; dropout: evaluation only
    assert alone == (1, 1)


def test_side_work_between_split_steps_runs_on_one_torch_thread(small_corpus, monkeypatch):
    t = Trainer(tiny(), small_corpus)

    def threads_in_side_work():
        with t.side_work():
            return torch.get_num_threads()

    default = on_a_new_thread(torch.get_num_threads)
    assert on_a_new_thread(threads_in_side_work) == default  # `tiny` steps are not split
    monkeypatch.setattr(batch_shards, "MIN_SHARD_FLOPS", 1.0)
    assert on_a_new_thread(threads_in_side_work) == (1 if default > 1 else default)


def test_the_shards_run_on_threads_with_one_torch_thread_each(small_corpus, monkeypatch):
    t = Trainer(tiny(), small_corpus)
    seen = []
    t.model.register_forward_pre_hook(
        lambda module, args: seen.append((threading.get_ident(), torch.get_num_threads(), len(args[0]))))
    before = torch.get_num_threads()
    with shards(monkeypatch, 2):
        t.step()
    assert len({ident for ident, _, _ in seen}) == 2
    assert [(threads, n) for _, threads, n in seen] == [(1, 4), (1, 4)]
    assert torch.get_num_threads() == before


def test_diagnostics_of_a_sharded_step_are_those_of_the_whole_batch(small_corpus, monkeypatch):
    whole, split = Trainer(tiny(), small_corpus), Trainer(tiny(), small_corpus)
    with shards(monkeypatch, 1):
        a = whole.step(diagnostics=True)
    with shards(monkeypatch, 2):
        b = split.step(diagnostics=True)
    assert list(b.activations) == list(a.activations) == [
        "blocks.0.attn", "blocks.0.mlp", "blocks.1.attn", "blocks.1.mlp"]
    for site, x in a.activations.items():
        y = b.activations[site]
        assert (y.saturated, y.mean, y.std) == pytest.approx((x.saturated, x.mean, x.std), rel=1e-4, abs=1e-6)
        torch.testing.assert_close(torch.from_numpy(y.histogram.counts),
                                   torch.from_numpy(x.histogram.counts), rtol=0, atol=2e-3)
        if site.endswith("mlp"):
            assert y.dead == x.dead
    for name, norm in a.grad_norms.items():
        assert b.grad_norms[name] == pytest.approx(norm, rel=1e-4, abs=1e-7)
    # histograms and update ratios, computed on both threads, keep the parameters' order
    assert list(b.histograms) == list(a.histograms) == [n for n, _ in split.named]
    assert list(b.update_ratios) == list(a.update_ratios)
    for name, ratio in a.update_ratios.items():
        assert b.update_ratios[name] == pytest.approx(ratio, rel=1e-3)
    for name, h in a.histograms.items():
        assert b.histograms[name].counts.sum() == h.counts.sum()


def test_an_interrupted_sharded_step_changes_nothing(small_corpus, monkeypatch):
    plain, stopped = (Trainer(tiny(optimizer="muon"), small_corpus) for _ in range(2))
    calls = []
    with shards(monkeypatch, 2):
        for t in (plain, stopped):
            t.step()
        before = params_of(stopped)
        with pytest.raises(StepInterrupted):
            stopped.step(should_stop=lambda: calls.append(1) or len(calls) > 30)  # inside backward
        assert stopped.step_count == 1
        assert all(torch.equal(p, q) for p, q in zip(params_of(stopped), before))
        assert all(p.grad is None for p in stopped.model.parameters())
        assert [plain.step().loss for _ in range(3)] == [stopped.step().loss for _ in range(3)]


def test_muon_shares_its_matrices_between_threads_with_the_same_result():
    torch.manual_seed(0)
    shapes = [(24, 8), (8, 8), (32, 8), (8, 32), (16, 8)]
    weights = [torch.nn.Parameter(torch.randn(*s)) for s in shapes]
    twins = [torch.nn.Parameter(w.detach().clone()) for w in weights]
    one, two = Muon(weights, lr=0.1), Muon(twins, lr=0.1)
    for _ in range(2):
        grads = [torch.randn(*s) for s in shapes]
        for w, v, g in zip(weights, twins, grads):
            w.grad, v.grad = g.clone(), g.clone()
        with one_thread():
            one.step()
        two.step(shards=2)
    for w, v in zip(weights, twins):
        torch.testing.assert_close(v, w, rtol=1e-6, atol=1e-6)


def test_evaluation_is_split_too_even_with_dropout(small_corpus, monkeypatch):
    seen = []
    whole = Trainer(tiny(dropout=0.1), small_corpus, split_batches=False)
    split = Trainer(tiny(dropout=0.1), small_corpus)
    split.model.register_forward_pre_hook(lambda module, args: seen.append(len(args[0])))
    with shards(monkeypatch, 2):
        a, b = whole.estimate_loss(3), split.estimate_loss(3)
    assert seen == [4] * 12  # 3 batches of each split, in 2 shards of 4 (eval mode: no masks)
    assert (b.train_loss, b.val_loss) == pytest.approx((a.train_loss, a.val_loss), rel=1e-5)


def test_a_split_evaluation_stops_inside_its_shards(small_corpus, monkeypatch):
    t = Trainer(tiny(), small_corpus)
    asked = []

    def stop() -> bool:  # "yes" from the 41st question on: inside the second batch (33 a batch)
        asked.append(threading.get_ident())
        return len(asked) > 40

    with shards(monkeypatch, 2):
        assert t.estimate_loss(50, should_stop=stop) is None
    assert len(set(asked)) >= 2  # shard 0 and a helper asked (any helper of the pool)
    assert len(asked) <= 42  # and each stopped at its first "yes"
    assert t.model.training
