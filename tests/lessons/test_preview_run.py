"""A real short run of the tiny preset, as the training demo's Run button does."""

import torch

from gptviz.corpus import Corpus
from gptviz.default_corpus import cached_path
from gptviz.lessons.preview_run import preview_corpus, preview_run


def test_a_short_run_measures_every_step_and_samples_along_the_way(small_corpus):
    reports = []
    torch.manual_seed(0)
    before = torch.get_rng_state()
    run = preview_run(small_corpus, steps=20, sample_every=10, sample_chars=15, report_every=5,
                      on_progress=reports.append)
    assert torch.equal(torch.get_rng_state(), before)
    assert run.steps == list(range(1, 21))
    assert len(run.losses) == len(run.lrs) == len(run.grad_norms) == 20
    assert [s for s, _ in run.samples] == [0, 10, 20] and all(len(t) == 15 for _, t in run.samples)
    assert [r.steps[-1] for r in reports] == [5, 10, 15, 20]
    assert reports[0].losses == run.losses[:5]         # copies, not the list that kept growing
    assert run.losses[-1] < run.losses[0] and run.clip == 1.0 and run.vocab_size == small_corpus.vocab_size


def test_it_stops_when_asked(small_corpus):
    run = preview_run(small_corpus, steps=50, sample_chars=5, should_stop=lambda: True)
    assert run.steps == [] and [s for s, _ in run.samples] == [0]


def test_the_preview_uses_a_cached_tiny_shakespeare_and_never_downloads(shakespeare_path):
    assert not cached_path().exists()                    # tests get an empty cache folder
    assert "soliloquy" in preview_corpus().name
    cached_path().parent.mkdir(parents=True, exist_ok=True)
    cached_path().write_bytes(shakespeare_path.read_bytes())
    corpus = preview_corpus()
    assert isinstance(corpus, Corpus) and corpus.vocab_size == 65 and "tinyshakespeare" in corpus.name
    cached_path().write_text("not the real file")       # a copy that fails the checksum is ignored
    assert "soliloquy" in preview_corpus().name
