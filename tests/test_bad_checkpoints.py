"""Bad checkpoints: damaged, hostile, foreign or mismatched files give a CheckpointError
saying what is wrong, never another exception, never a run of their code, and never a
checkpoint that loads with different contents. (A plain truncation, one bit flip, the
`exec` pickle, foreign/future files, another vocabulary and another model shape are in
test_checkpoint.py.)

FLIP_POSITIONS sets how many byte positions the bit-flip sweep tries (default 300 plus
every header field); FLIP_POSITIONS=all tries every byte of the file.
"""

import os
import pickle
import random
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
from gptviz.content_digest import content_digest
from gptviz.corpus import Corpus
from gptviz.trainer import Trainer

CORPUS = Corpus("abcdefghij\n" * 300, name="abc.txt")


@pytest.fixture(scope="module")
def original(tmp_path_factory):
    """A small but complete checkpoint (bigram: every record kind, few bytes)."""
    trainer = Trainer(preset("tiny", model="bigram"), CORPUS)
    trainer.step()
    path = save_checkpoint(tmp_path_factory.mktemp("ckpt"), trainer)
    return path.read_bytes(), load_checkpoint(path)


def same(a, b) -> bool:
    if isinstance(a, torch.Tensor):
        return (isinstance(b, torch.Tensor) and a.dtype == b.dtype and a.shape == b.shape
                and torch.equal(a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def header_positions(data: bytes, path) -> list[int]:
    """Every byte of the zip's structure: local headers (names, sizes, CRCs, flags,
    compression methods, the padding field's header but not its filler), the central
    directory and its end record."""
    positions = []
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            name_len = int.from_bytes(data[info.header_offset + 26:info.header_offset + 28], "little")
            positions += range(info.header_offset, info.header_offset + 30 + name_len + 4)
        positions += range(z.start_dir, len(data))
    return positions


def test_every_bit_flip_is_refused_or_loads_the_same_checkpoint(original, tmp_path):
    """Each record has a CRC-32, checked before torch reads it; a flip anywhere either
    gives a CheckpointError or (in bytes that carry no meaning: padding, the local
    copies of sizes and CRCs) loads exactly the original."""
    data, reference = original
    path = tmp_path / FILENAME
    path.write_bytes(data)
    rng = random.Random(8)
    setting = os.environ.get("FLIP_POSITIONS", "300")
    if setting == "all":
        positions = range(len(data))
    else:
        positions = sorted(set(header_positions(data, path))
                           | set(rng.sample(range(len(data)), int(setting))))
    outcomes = {"refused": 0, "identical": 0}
    for pos in positions:
        damaged = bytearray(data)
        damaged[pos] ^= 1 << rng.randrange(8)
        path.write_bytes(damaged)
        try:
            ckpt = load_checkpoint(path)
        except CheckpointError as e:
            assert str(path) in str(e)
            outcomes["refused"] += 1
            continue
        assert same(ckpt.state, reference.state), f"flip at byte {pos} changed the contents"
        assert (ckpt.config, ckpt.chars, ckpt.step) == (reference.config, reference.chars, reference.step)
        outcomes["identical"] += 1
    print(f"{len(positions)} flips of {len(data)} bytes: {outcomes}")
    assert outcomes["refused"] > 0.5 * len(positions)  # the flips do land on meaning


def test_a_flipped_compression_method_is_a_checkpoint_error(original, tmp_path):
    """A regression: stored (0) flipped to deflate (8) made zlib raise its own error."""
    data, _ = original
    path = tmp_path / FILENAME
    path.write_bytes(data)
    with zipfile.ZipFile(path) as z:
        entry, count = z.start_dir, len(z.infolist())
    offsets = []  # each central directory entry's method field (the one zipfile reads)
    for _ in range(count):
        assert data[entry:entry + 4] == b"PK\x01\x02"
        offsets.append(entry + 10)
        entry += 46 + sum(int.from_bytes(data[entry + i:entry + i + 2], "little") for i in (28, 30, 32))
    for offset in offsets:
        damaged = bytearray(data)
        damaged[offset] ^= 0x08
        path.write_bytes(damaged)
        with pytest.raises(CheckpointError):
            load_checkpoint(path)


def test_every_truncation_is_refused(original, tmp_path):
    data, _ = original
    path = tmp_path / FILENAME
    lengths = sorted({0, 1, 4, 21, 22, len(data) - 22, len(data) - 1}
                     | set(range(0, len(data), max(1, len(data) // 60))))
    for n in lengths:
        path.write_bytes(data[:n])
        with pytest.raises(CheckpointError, match="not a readable checkpoint"):
            load_checkpoint(path)


# -- hostile pickles: refused, and their code never runs -----------------------------------

class RunsCommand:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class WritesFile:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


@pytest.mark.parametrize("how", ["torch zip, top level", "torch zip, inside the state",
                                 "torch zip, in place of a tensor", "legacy torch format",
                                 "plain pickle", "opens a file"])
def test_a_pickle_that_would_run_code_is_refused_and_never_run(tmp_path, how):
    marker = tmp_path / "PWNED"
    path = tmp_path / FILENAME
    evil = WritesFile(marker) if how == "opens a file" else RunsCommand(marker)
    good = {"format": "gptviz-checkpoint", "version": 1, "config": preset("tiny").to_dict(),
            "chars": "ab", "step": 1, "corpus_name": "x",
            "state": {"model": {"w": torch.zeros(2)}, "optimizers": [], "step": 1,
                      "batch_rng": torch.zeros(1), "dropout_rng": torch.zeros(1)}}
    if how == "torch zip, top level":
        torch.save(evil, path)
    elif how in ("torch zip, inside the state", "opens a file"):
        good["state"]["optimizers"] = [{"state": evil}]
        torch.save(good, path)
    elif how == "torch zip, in place of a tensor":
        good["state"]["model"]["w"] = evil
        torch.save(good, path)
    elif how == "legacy torch format":
        torch.save(good | {"extra": evil}, path, _use_new_zipfile_serialization=False)
    else:
        path.write_bytes(pickle.dumps(good | {"extra": evil}))
    with pytest.raises(CheckpointError, match="refused|not a readable checkpoint") as e:
        load_checkpoint(path)
    assert str(path) in str(e.value)
    assert not marker.exists()


# -- well-formed files with the wrong contents ---------------------------------------------

@pytest.fixture
def saved(tmp_path):
    trainer = Trainer(preset("tiny", model="bigram"), CORPUS)
    trainer.step()
    return save_checkpoint(tmp_path, trainer)


def rewrite(path, change, digest=True):
    """Change the saved payload; with digest, store the digest of the new contents (a
    well-formed file with wrong contents), else keep the old one (an edited file)."""
    payload = torch.load(path, weights_only=True)
    old = payload.pop("sha256")
    change(payload)
    payload["sha256"] = content_digest(payload) if digest else old
    torch.save(payload, path)


@pytest.mark.parametrize("change, match", [
    (lambda p: p["config"].update(n_embd=30, n_head=4), "inconsistent.*divisible by n_head"),
    (lambda p: p["config"].update(lr=float("nan")), "inconsistent.*lr must be a finite number"),
    (lambda p: p["config"].update(warp=9), "inconsistent.*unknown setting"),
    (lambda p: p.update(config=[1, 2]), "inconsistent"),
    (lambda p: p.update(chars="ba"), "inconsistent.*sorted"),
    (lambda p: p.update(chars=""), "inconsistent.*empty"),
    (lambda p: p.update(chars=torch.zeros(3)), "inconsistent"),
    (lambda p: p.update(state=[1, 2]), "inconsistent"),
    (lambda p: p["state"].pop("batch_rng"), "inconsistent.*batch_rng"),
    (lambda p: p.update(version=2), "version 2 is newer than this gptviz understands"),
    (lambda p: p.update(version="1"), "version '1'"),
    (lambda p: p.update(format="other"), "not a gptviz checkpoint"),
])
def test_wrong_contents(saved, change, match):
    rewrite(saved, change)
    with pytest.raises(CheckpointError, match=match):
        load_checkpoint(saved)


def test_contents_changed_after_saving_are_refused(saved):
    rewrite(saved, lambda p: p["state"]["model"]["table.weight"].mul_(1.001), digest=False)
    with pytest.raises(CheckpointError, match="corrupted: what was read does not match the SHA-256"):
        load_checkpoint(saved)


def test_checkpoints_saved_before_the_digest_still_load(saved):
    payload = torch.load(saved, weights_only=True)
    del payload["sha256"]
    torch.save(payload, saved)
    assert load_checkpoint(saved).step == 1


def test_a_flipped_directory_flag_is_refused(original, tmp_path):
    """A regression: this flip passes every CRC, and torch's reader then takes the record
    for a folder and hands back stale memory in its place (seen: the pickle of a checkpoint
    loaded earlier, which carries its own valid digest). Every record so marked is refused."""
    data, reference = original
    path = tmp_path / FILENAME
    path.write_bytes(data)
    with zipfile.ZipFile(path) as z:
        entry, infos = z.start_dir, z.infolist()
    caught = 0
    for info in infos:
        assert data[entry:entry + 4] == b"PK\x01\x02"
        damaged = bytearray(data)
        damaged[entry + 38] ^= 0x10  # external attributes: MS-DOS "directory"
        path.write_bytes(damaged)
        try:
            ckpt = load_checkpoint(path)
        except CheckpointError:
            caught += 1
        else:
            assert same(ckpt.state, reference.state), info.filename
        entry += 46 + sum(int.from_bytes(data[entry + i:entry + i + 2], "little") for i in (28, 30, 32))
    assert caught == len(infos)


def test_weights_for_another_vocabulary_size(saved):
    """A sorted vocabulary whose size does not match the weights: refused on use."""
    rewrite(saved, lambda p: p.update(chars="abcdefghijklmnop"))
    ckpt = load_checkpoint(saved)
    with pytest.raises(CheckpointError, match="weights do not fit the model"):
        load_model(ckpt)
    corpus = Corpus("abcdefghijklmnop" * 200, name="wider.txt")
    with pytest.raises(CheckpointError, match="state does not fit the model"):
        restore_trainer(ckpt, corpus)


def test_another_corpus_vocabulary_names_both(saved):
    with pytest.raises(CheckpointError, match=r"vocabulary \(11 characters, from abc\.txt\) differs "
                                              r"from the corpus xyz\.txt"):
        restore_trainer(load_checkpoint(saved), Corpus("xyz\n" * 900, name="xyz.txt"))


def test_directories(tmp_path):
    run = tmp_path / "run"
    (run / FILENAME).mkdir(parents=True)  # a directory where the checkpoint should be
    with pytest.raises(CheckpointError, match="is a directory"):
        load_checkpoint(run)
    empty = tmp_path / "empty_run"
    empty.mkdir()
    (empty / "metrics.jsonl").write_text("")
    with pytest.raises(CheckpointError, match=rf"empty_run/{FILENAME}: no such checkpoint"):
        load_checkpoint(empty)


def test_a_refused_checkpoint_is_left_as_it_was(saved):
    data = bytearray(saved.read_bytes())
    data[len(data) // 2] ^= 0x10
    saved.write_bytes(data)
    with pytest.raises(CheckpointError):
        load_checkpoint(saved)
    assert saved.read_bytes() == data
