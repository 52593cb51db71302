"""Checkpoints: everything needed to resume a run exactly, in a file that cannot run code.

A checkpoint holds the model, the optimizers, the config, the vocabulary, the step and
the random-number state. It is written to a temporary file beside the target and
renamed over it only when complete, so a crash mid-save leaves the old one intact. It
is read with ``torch.load(weights_only=True)``, which refuses anything but tensors and
plain containers, after a CRC check of every record; what was read must then match the
SHA-256 of the contents saved with them (checkpoints from before it have none).
"""

from __future__ import annotations

import glob
import io
import os
import pickle
import struct
import tempfile
import time
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import torch

from .config import TrainConfig
from .content_digest import content_digest
from .corpus import Corpus
from .devices import resolve_device
from .model import ConfigError
from .tokenizer import CharTokenizer, TokenizerError
from .trainer import Trainer

FORMAT = "gptviz-checkpoint"
VERSION = 1
FILENAME = "checkpoint.pt"
DIGEST = "sha256"  # of the rest of the payload (content_digest.py)
STALE_SECONDS = 600  # a temp file this old beside the checkpoint is a killed save's
_DOS_DIR = 0x10  # the MS-DOS "directory" bit of a zip record's external attributes


class CheckpointError(ValueError):
    """A checkpoint that cannot be used, with the file and the reason."""


@dataclass
class Checkpoint:
    path: Path
    config: TrainConfig
    chars: str  # the vocabulary, sorted characters
    step: int
    state: dict  # Trainer.state_dict()
    corpus_name: str

    def check_corpus(self, corpus: Corpus) -> None:
        if corpus.tokenizer.chars != self.chars:
            ours, theirs = set(self.chars), set(corpus.tokenizer.chars)
            diff = sorted(ours ^ theirs)
            shown = ", ".join(repr(c) for c in diff[:8])
            raise CheckpointError(
                f"{self.path}: the checkpoint's vocabulary ({len(self.chars)} characters, from "
                f"{self.corpus_name}) differs from the corpus {corpus.name} "
                f"({len(corpus.tokenizer.chars)} characters); differing: {shown}"
            )

    def check_config(self, config: TrainConfig) -> None:
        """Resuming is only allowed with the same model shape and optimizer."""
        shape_keys = ("model", "n_layer", "n_head", "n_embd", "block_size", "bias", "rope",
                      "qk_norm", "activation", "optimizer")
        ours, theirs = self.config.to_dict(), config.to_dict()
        diff = [f"{k}: checkpoint {ours[k]!r}, requested {theirs[k]!r}"
                for k in shape_keys if ours[k] != theirs[k]]
        if diff:
            raise CheckpointError(f"{self.path}: settings differ from the checkpoint's: "
                                  + "; ".join(diff))


def checkpoint_path(path: str | os.PathLike) -> Path:
    """A run directory or a checkpoint file → the checkpoint file."""
    p = Path(path)
    return p / FILENAME if p.is_dir() else p


def save_checkpoint(path: str | os.PathLike, trainer: Trainer, state: dict | None = None) -> Path:
    """Write the trainer's checkpoint atomically. state: its state_dict() if already taken
    (in a multi-process run every rank takes it, a collective call, and rank 0 saves it)."""
    path = checkpoint_path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "config": trainer.config.to_dict(),
        "chars": trainer.corpus.tokenizer.chars,
        "corpus_name": trainer.corpus.name,
        "step": trainer.step_count,
        "state": trainer.state_dict() if state is None else state,
    }
    payload[DIGEST] = content_digest(payload)  # checked on loading, over what was read
    fd, tmp_name = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    _remove_stale_temps(path)
    return path


def _remove_stale_temps(path: Path) -> None:
    """Delete temp files an earlier save left when its process was killed mid-write. Only
    ones older than STALE_SECONDS: a run directory has one writer, but a save under way in
    another process (a user's mistake) keeps its file."""
    now = time.time()
    for leftover in path.parent.glob(f"{glob.escape(path.name)}.*.tmp"):
        try:
            if now - leftover.stat().st_mtime > STALE_SECONDS:
                leftover.unlink()
        except OSError:  # gone already, or not ours to delete: it is never read anyway
            pass


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> Checkpoint:
    """Read and check a checkpoint. Its tensors are loaded onto map_location (the CPU by
    default, so a checkpoint written on a GPU loads on a machine without one); a Trainer
    or model built from it moves them to its own device."""
    path = checkpoint_path(path)
    if not path.exists():
        raise CheckpointError(f"{path}: no such checkpoint")
    if path.is_dir():
        raise CheckpointError(f"{path}: is a directory without a {FILENAME}")
    try:
        # Read once: the checks and torch see the same bytes, even if the file is replaced.
        data = io.BytesIO(path.read_bytes())
        with zipfile.ZipFile(data) as archive:  # torch's format is a zip with CRC-32 per record
            damaged = archive.testzip()
            folders = [i.filename for i in archive.infolist() if i.is_dir() or i.external_attr & _DOS_DIR]
        if damaged is not None:
            raise CheckpointError(f"{path}: corrupted: record {damaged!r} fails its CRC check")
        if folders:  # torch never writes one; its reader then hands back stale memory for it
            raise CheckpointError(f"{path}: corrupted: record {folders[0]!r} is marked as a folder")
        data.seek(0)
        payload = torch.load(data, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        raise CheckpointError(f"{path}: refused: it holds objects other than tensors and "
                              f"plain data, which could run code ({str(e).splitlines()[0]})") from e
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError, KeyError, IndexError,
            OverflowError, zlib.error, struct.error) as e:  # zlib: a flipped compression method
        raise CheckpointError(f"{path}: not a readable checkpoint (truncated or corrupted?): "
                              f"{str(e).splitlines()[0] if str(e) else type(e).__name__}") from e
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a gptviz checkpoint")
    version = payload.get("version")
    if not isinstance(version, int) or version > VERSION:
        raise CheckpointError(f"{path}: checkpoint format version {version!r} is newer than this "
                              f"gptviz understands ({VERSION}); upgrade gptviz")
    stored = payload.pop(DIGEST, None)  # absent in checkpoints saved before it was added
    if stored is not None and stored != content_digest(payload):
        raise CheckpointError(f"{path}: corrupted: what was read does not match the SHA-256 "
                              f"saved with it")
    try:
        config = TrainConfig.from_dict(payload["config"])
        ckpt = Checkpoint(path=path, config=config, chars=str(payload["chars"]),
                          step=int(payload["step"]), state=payload["state"],
                          corpus_name=str(payload.get("corpus_name", "?")))
        for key in ("model", "optimizers", "step", "batch_rng", "dropout_rng"):
            ckpt.state[key]
        CharTokenizer(payload["chars"] if isinstance(payload["chars"], str) else "")
    except (KeyError, TypeError, ConfigError, TokenizerError) as e:
        raise CheckpointError(f"{path}: incomplete or inconsistent checkpoint ({e})") from e
    return ckpt


def restore_trainer(ckpt: Checkpoint, corpus: Corpus, config: TrainConfig | None = None,
                    device: str = "cpu", **trainer_options) -> Trainer:
    """A Trainer in exactly the checkpoint's state, on any device and any number of
    processes (trainer_options: Trainer's autocast, compile, launch).

    config may change the run's length and schedule (e.g. a larger max_iters) but not the
    model's shape or optimizer; by default it is the checkpoint's own.
    """
    ckpt.check_corpus(corpus)
    config = config or ckpt.config
    ckpt.check_config(config)
    trainer = Trainer(config, corpus, device=device, **trainer_options)
    try:
        trainer.load_state_dict(ckpt.state)
    except (RuntimeError, KeyError, ValueError, TypeError) as e:
        raise CheckpointError(f"{ckpt.path}: state does not fit the model ({str(e).splitlines()[0]})") from e
    return trainer


def load_model(ckpt: Checkpoint, device: str | torch.device = "cpu"):
    """The checkpoint's model (in eval mode, on device) and tokenizer, for sampling without
    a corpus."""
    from .model import build_model
    from .tokenizer import CharTokenizer

    tokenizer = CharTokenizer(ckpt.chars)
    model = build_model(ckpt.config.model_config(tokenizer.vocab_size), ckpt.config.model)
    try:
        model.load_state_dict(ckpt.state["model"])
    except RuntimeError as e:
        raise CheckpointError(f"{ckpt.path}: weights do not fit the model ({str(e).splitlines()[0]})") from e
    return model.to(resolve_device(device)).eval(), tokenizer
