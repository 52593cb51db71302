import pickle
import zipfile

import pytest
import torch

from gptviz.checkpoint import (
    FILENAME,
    CheckpointError,
    load_checkpoint,
    load_model,
    restore_trainer,
    save_checkpoint,
)
from gptviz.config import preset
from gptviz.corpus import Corpus
from gptviz.sampler import Sampler
from gptviz.trainer import Trainer


@pytest.fixture
def saved(tmp_path, small_corpus):
    trainer = Trainer(preset("tiny", dropout=0.1, optimizer="muon"), small_corpus)
    for _ in range(5):
        trainer.step()
    save_checkpoint(tmp_path, trainer)
    return tmp_path / FILENAME, trainer


@pytest.mark.parametrize("optimizer", ["adamw", "muon"])
def test_resume_continues_the_loss_curve_exactly(tmp_path, small_corpus, optimizer):
    config = preset("tiny", dropout=0.1, optimizer=optimizer)
    straight = Trainer(config, small_corpus)
    expected = [straight.step().loss for _ in range(12)]

    first = Trainer(config, small_corpus)
    losses = [first.step().loss for _ in range(6)]
    save_checkpoint(tmp_path, first)
    first_elapsed = first.elapsed
    del first
    torch.manual_seed(999)  # whatever happened in between must not matter
    resumed = restore_trainer(load_checkpoint(tmp_path), small_corpus)
    assert resumed.step_count == 6
    assert resumed.elapsed == first_elapsed  # the run's clock goes on from the checkpoint
    losses += [resumed.step().loss for _ in range(6)]
    assert losses == expected


def test_checkpoint_holds_everything(saved):
    path, trainer = saved
    ckpt = load_checkpoint(path.parent)  # a run directory works too
    assert ckpt.step == 5 and ckpt.config == trainer.config
    assert ckpt.chars == trainer.corpus.tokenizer.chars
    assert set(ckpt.state) == {"model", "optimizers", "step", "batch_rng", "dropout_rng", "elapsed"}
    assert ckpt.state["elapsed"] == trainer.elapsed > 0  # the run's clock (metrics' `time`) resumes


def test_checkpoints_from_before_the_run_clock_still_load(saved, small_corpus):
    path, _ = saved
    ckpt = load_checkpoint(path)
    del ckpt.state["elapsed"]
    resumed = restore_trainer(ckpt, small_corpus)
    assert resumed.elapsed == 0.0 and resumed.step().time > 0


def test_sampling_from_a_checkpoint_without_a_corpus(saved):
    path, trainer = saved
    model, tokenizer = load_model(load_checkpoint(path))
    a = Sampler(model, tokenizer).sample("The", max_new_tokens=40, seed=3)
    b = Sampler(trainer.model, trainer.corpus.tokenizer).sample("The", max_new_tokens=40, seed=3)
    assert a == b


def test_save_is_atomic_when_writing_fails(saved, monkeypatch):
    path, trainer = saved
    before = path.read_bytes()
    trainer.step()

    def broken_save(obj, f):
        f.write(b"partial")
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError):
        save_checkpoint(path, trainer)
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == [FILENAME]


def test_truncated_checkpoint(saved):
    path, _ = saved
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        load_checkpoint(path)


def test_bit_flipped_checkpoint(saved):
    path, _ = saved
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:  # flip a byte inside the stored data records
        info = max(z.infolist(), key=lambda i: i.file_size)
        offset = info.header_offset + 30 + len(info.filename) + len(info.extra) + 8
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError):
        load_checkpoint(path)


def test_garbage_and_missing_and_directory(tmp_path):
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"\x00\x01not a checkpoint at all" * 10)
    with pytest.raises(CheckpointError, match="junk.pt: not a readable checkpoint"):
        load_checkpoint(junk)
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "missing.pt")
    (tmp_path / "empty_run").mkdir()
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "empty_run")


class Evil:
    def __reduce__(self):
        return (exec, ("import pathlib; pathlib.Path('PWNED').write_text('x')",))


def test_a_pickle_that_would_run_code_is_refused_and_not_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "evil.pt"
    torch.save({"format": "gptviz-checkpoint", "version": 1, "payload": Evil()}, path)
    with pytest.raises(CheckpointError, match="refused"):
        load_checkpoint(path)
    assert not (tmp_path / "PWNED").exists()
    raw = tmp_path / "raw.pkl"
    raw.write_bytes(pickle.dumps(Evil()))
    with pytest.raises(CheckpointError):
        load_checkpoint(raw)
    assert not (tmp_path / "PWNED").exists()


def test_foreign_and_future_checkpoints(tmp_path):
    path = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(3)}, path)
    with pytest.raises(CheckpointError, match="not a gptviz checkpoint"):
        load_checkpoint(path)
    torch.save({"format": "gptviz-checkpoint", "version": 99}, path)
    with pytest.raises(CheckpointError, match="version 99 is newer"):
        load_checkpoint(path)
    torch.save({"format": "gptviz-checkpoint", "version": 1, "config": {"n_layer": 2}}, path)
    with pytest.raises(CheckpointError, match="incomplete"):
        load_checkpoint(path)


def test_other_vocabulary_is_refused(saved):
    path, _ = saved
    other = Corpus("completely different text with other letters: ZQXJ 123 " * 200, name="other.txt")
    with pytest.raises(CheckpointError, match=r"vocabulary .* differs from the corpus other\.txt"):
        restore_trainer(load_checkpoint(path), other)


def test_other_model_shape_is_refused(saved, small_corpus):
    path, trainer = saved
    ckpt = load_checkpoint(path)
    with pytest.raises(CheckpointError, match="n_layer: checkpoint 2, requested 3"):
        restore_trainer(ckpt, small_corpus, trainer.config.replace(n_layer=3))
    longer = restore_trainer(ckpt, small_corpus, trainer.config.replace(max_iters=500))
    assert longer.config.max_iters == 500 and longer.step_count == 5


def test_weights_that_do_not_fit_the_config(saved, small_corpus):
    path, trainer = saved
    payload = torch.load(path, weights_only=True)
    payload["state"]["model"]["wte.weight"] = torch.zeros(3, 3)
    del payload["sha256"]  # as written by a gptviz before the digest (else: "corrupted")
    torch.save(payload, path)
    with pytest.raises(CheckpointError, match="does not fit|do not fit"):
        restore_trainer(load_checkpoint(path), small_corpus)
